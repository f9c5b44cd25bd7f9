"""Where the intake finds completed uploads: the seam between the tus server's storage and
the one verify / decrypt / dedupe / record path in :mod:`.receive`.

A source lists the uploads that are complete and not yet ``done``, and hands each over as a
local regular file for the time it is taken in. The tus file store (:mod:`.store`) lists a
folder and hands over the file where it lies; object storage (:mod:`.objstore`) lists a
bucket and fetches the object into a private scratch file first. Nothing else differs, so
duplicates, refusals, crash safety and the records are the same whichever source it is.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kiosk.errors import KioskError
from kiosk.transfer.envelope import MAX_PLAINTEXT_BYTES

# The largest sealed package worth fetching: the decrypt limit plus the envelope around it —
# 20 bytes of record framing and tag per 64 KiB record (under 1/1024) and a header and
# signature record of a few KiB (under 1 MiB). A larger upload could never open; it is
# passed over before a byte of it is read or fetched.
MAX_PACKAGE_BYTES = MAX_PLAINTEXT_BYTES + MAX_PLAINTEXT_BYTES // 1024 + (1 << 20)


class StoreError(KioskError):
    """The upload store cannot be read (missing folder, unreachable or refusing bucket)."""

    code = "bad_store"


@dataclass(frozen=True)
class Upload:
    source: str            # its name in the region's ``uploads`` table, the same every pass
    size: int              # bytes, as the store lists them
    path: Path | None = None     # the file store: the file itself
    key: str = ""                # object storage: the object's key …
    etag: str = ""               # … and the version listed (a fetch gets exactly that)


# Told of something in the store that is not taken and not recorded (a hostile name, an
# oversize upload): the store's name for it, shown safely, and why.
PassedOver = Callable[[str, KioskError], None]


class UploadSource(Protocol):
    def completed(self, done: Collection[str], passed_over: PassedOver) -> Iterable[Upload]:
        """Every completed upload whose ``source`` is not in ``done``, in a stable order."""
        ...

    def fetched(self, upload: Upload, scratch: Path) -> AbstractContextManager[Path | None]:
        """``upload`` as a local regular file while the context lasts (a fetched copy is
        made under ``scratch`` as ``.fetching-*`` and removed after), or None when it is gone
        or changed since it was listed: the next pass sees it again."""
        ...


def too_big(upload: Upload, limit: int) -> StoreError:
    return StoreError(f"上传的申请包过大（{upload.size} 字节，上限 {limit}），不予接收",
                      f"The upload is too large ({upload.size} bytes, the limit is {limit}): "
                      "not taken", code="too_big")
