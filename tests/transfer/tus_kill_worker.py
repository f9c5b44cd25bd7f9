"""Uploads one file with the kiosk's tus client and persists (url, offset) after each PATCH as
the outbox does, until test_tus_link.py kills it with SIGKILL.

    python tus_kill_worker.py ENDPOINT FILE STATE.jsonl METADATA_JSON
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from kiosk.transfer.tus import TusClient, TusOptions


def main() -> int:
    endpoint, file, state, metadata = sys.argv[1:5]
    with open(state, "a", encoding="utf-8") as out:
        def progress(url: str, offset: int) -> None:
            out.write(json.dumps({"url": url, "offset": offset}) + "\n")
            out.flush()
            os.fsync(out.fileno())

        client = TusClient(endpoint, TusOptions(chunk_size=256 * 1024, read_timeout_s=10))
        client.upload(Path(file), json.loads(metadata), "", progress)
    return 0


if __name__ == "__main__":
    sys.exit(main())
