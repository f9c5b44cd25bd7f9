"""Fixtures shared across the suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drivers.identity.emrtd.rig import PcscRig


@pytest.fixture(scope="session")
def pcsc_rig() -> Iterator[PcscRig]:
    """The real PC/SC stack: pcscd in the foreground with vsmartcard-vpcd as its reader,
    stopped by PID at the end of the run. Emulated chips connect to ``rig.port``. It fails
    (does not skip) where pcscd cannot start: the README's set-up installs it."""
    with PcscRig() as rig:
        yield rig
