"""Fleet management: signed layered configuration (TUF) and health over MQTT.

Operator side: ``layers`` (the tree and its merge), ``bundle`` (one immutable file per
kiosk), ``repo`` (TUF metadata, keys, publishing). Kiosk side: ``fetch`` and ``client``
(conditional polling through python-tuf's ngclient), ``store`` (versions, current,
last-known-good), ``agent`` (poll, stage, apply between sessions, roll back), ``status`` and
``heartbeat`` (MQTT 5: retained status, last will, config pointer, signed commands);
``calls`` and ``staffcall`` (the citizen's call for hall staff, docs/hall-calls.md).
See docs/fleet.md.
"""
