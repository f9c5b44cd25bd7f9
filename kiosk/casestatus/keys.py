"""The region's status keys, from the region directory in use (docs/region-directory.md).

The entry that serves the event's region answers — the same walk as a route's lookup (own,
city, province, exchange): whoever the kiosk sends a region's packages to speaks for that
region's cases. A key counts when its id is the event's, the event's time is inside its
validity and it is not revoked (in the directory or the separate revocation list).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kiosk.routing.directory import RegionDirectory
from kiosk.routing.directory_format import RegionKey
from kiosk.routing.lookup import RegionDirectoryLookup


class DirectoryStatusKeys:
    def __init__(self, directory: Callable[[], RegionDirectoryLookup | None]) -> None:
        self.directory = directory          # asked per event: a directory update is followed

    def key(self, region: str, key_id: str, at: datetime) -> RegionKey | None:
        directory = self.directory()
        if not isinstance(directory, RegionDirectory):
            return None                     # no signed directory: nothing to verify with
        found = directory.entry_for(region)
        if found is None:
            return None
        for key in found[1].status_keys:
            if key.key_id == key_id and key.not_before <= at < key.not_after and \
                    key_id not in directory.revoked:
                return key
        return None
