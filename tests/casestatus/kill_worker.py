"""Applies the events of a file, in the file's order, to a ledger (tests/casestatus/
test_kill.py kills it with SIGKILL at random moments and runs it again).

    python kill_worker.py FOLDER NOW_ISO
FOLDER holds ledger.sqlite, directory.json and events.jsonl."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from kiosk.casestatus.keys import DirectoryStatusKeys
from kiosk.casestatus.receiver import Receiver
from kiosk.casestatus.store import StatusStore
from kiosk.routing.directory import RegionDirectory
from kiosk.routing.directory_format import parse_directory


class _Alerts:
    def alert(self, code: str, detail: dict[str, str]) -> None:
        if detail.get("reason") != "duplicate":
            print(code, detail.get("reason"), file=sys.stderr)


def main() -> int:
    folder, now = Path(sys.argv[1]), datetime.fromisoformat(sys.argv[2])
    directory = RegionDirectory(parse_directory((folder / "directory.json").read_bytes()),
                                "x25519-chacha20")
    store = StatusStore(folder / "ledger.sqlite")
    receiver = Receiver(store, DirectoryStatusKeys(lambda: directory), _Alerts(),
                        now=lambda: now)
    for line in (folder / "events.jsonl").read_bytes().splitlines():
        receiver.apply(line)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
