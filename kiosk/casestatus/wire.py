"""Where status events travel between a handling region and the receiving kiosk (both ends).

MQTT 5: one retained-free QoS 1 message per event on the receiving kiosk's topic; the kiosk
holds a persistent session (clean start off, a session expiry) so events sent while it was
off arrive when it reconnects. HTTPS pull feed, for halls without a broker: the region serves
each kiosk's events in publication order as JSON Lines (one wire event per line);
``?from=N`` skips the first N lines, the reply's ``X-Feed-Next`` says where the next pull
starts, and its ``ETag`` (``"<kiosk>-<next>"``) lets ``If-None-Match`` answer 304 when
nothing is new.
"""

from __future__ import annotations

FEED_NEXT_HEADER = "X-Feed-Next"
FEED_MEDIA_TYPE = "application/x-ndjson"
MAX_FEED_LINES = 500          # per reply: a kiosk a week behind pulls a few times


def status_root(fleet: str) -> str:
    """The ``root`` both ends give :func:`status_topic`: a subtree of its own. The fleet's
    root (``tongban/<fleet>``) would put status events on ``tongban/<fleet>/kiosk/<id>/status``,
    where the heartbeat keeps the kiosk's retained health status (kiosk/fleet/heartbeat.py)."""
    return f"tongban/{fleet}/case-status"


def status_topic(root: str, kiosk_id: str) -> str:
    return f"{root}/kiosk/{kiosk_id}/status"


def feed_path(kiosk_id: str) -> str:
    return f"/status-feed/{kiosk_id}"


def feed_etag(kiosk_id: str, next_line: int) -> str:
    return f'"{kiosk_id}-{next_line}"'
