"""What the kiosk process sets about itself before it touches any personal data.

A core dump holds whatever the process held: the session key of the sealed scratch pages
(kiosk/tempstore.py), decrypted page images, the identity read from the card. A native crash
(OpenCV, SDL, a vendor's photo library) with dumps enabled would write all of it to disk in
the clear, beyond the reach of the session wipe. So: no core file (RLIMIT_CORE 0, hard limit
too, so nothing in the process can raise it again), and not dumpable (PR_SET_DUMPABLE 0: no
core even through a piping core_pattern such as systemd-coredump, and no ptrace attach or
/proc/<pid>/mem read by another process of the same user). The umask makes every file the
process creates owner-only (see also fsutil.owner_only_dir), where nobody else should read
them. docs/privacy.md says how an installation backs this up outside the process.
"""

from __future__ import annotations

import ctypes
import logging
import os
import resource
import sys

log = logging.getLogger(__name__)
PR_GET_DUMPABLE = 3          # <linux/prctl.h>
PR_SET_DUMPABLE = 4
UMASK = 0o077


def harden_process(*, owner_only_files: bool = True) -> None:
    """No core dumps and not dumpable; with ``owner_only_files``, umask 077. Idempotent;
    call at process start, before any personal data is read."""
    if owner_only_files:
        os.umask(UMASK)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            # the rlimit above still stops a core file; say so rather than stop the kiosk
            log.warning("prctl(PR_SET_DUMPABLE) failed: %s", os.strerror(ctypes.get_errno()))

