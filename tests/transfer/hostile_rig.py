"""Crafting hostile packages for ``kiosk-region open`` and watching what it does: a
registered kiosk's key signs whatever is crafted here — the header (any JSON), the zip
(built byte by byte, so names, sizes and counts can lie) and the manifest. The CLI runs in a
subprocess with its address space capped at 1 GiB, and a walk of the file system around
``--out`` shows whatever was written. Used by test_region_hostile.py and test_region_fuzz.py.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import resource
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zipcraft import Member, raw_zip

from kiosk.transfer.envelope import _SIGNED, MAGIC, RECORD_SIZE, _nonce
from kiosk.transfer.suites import suite

SUITE = "x25519-chacha20"
KIOSK_ID, REGION = "510802-0001", "500103"
ADDRESS_SPACE = 1 << 30          # the CLI must refuse a bomb without ever holding it
CJK = re.compile(r"[\u4e00-\u9fff]")


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP = _Drop()                   # a header field to leave out
Fixture = Callable[..., Any]


# --- crafting: a raw zip, a signed envelope ---------------------------------------------------


@dataclass(frozen=True)
class Rig:
    """A registered kiosk's key, a region's key, a valid package, and the folders around."""

    root: Path                   # everything the walk covers
    keys: Any                    # conftest.KeySet
    built: Any                   # conftest.Built: a valid package

    @property
    def out(self) -> Path:
        return self.root / "region" / "out"

    @property
    def package(self) -> Path:
        return self.root / "inbox" / "package.tbk"

    def entries(self) -> dict[str, bytes]:
        with zipfile.ZipFile(io.BytesIO(self.built.data)) as zf:
            return {name: zf.read(name) for name in zf.namelist()}

    def manifest(self) -> dict[str, Any]:
        return json.loads(json.dumps(self.built.manifest))

    def seal(self, plaintext: bytes, **header: Any) -> Path:
        """``plaintext`` sealed and signed with the registered kiosk's key, under a header of
        the valid fields updated with ``header`` (any JSON; DROP leaves a field out)."""
        s, kiosk = suite(SUITE), self.keys.kiosk
        data_key, wrapped = s.wrap(self.keys.region.public)
        prefix = os.urandom(7)
        fields: dict[str, Any] = {
            "suite": SUITE, "package_id": self.built.package_id, "kiosk_id": kiosk.owner,
            "key_id": kiosk.key_id, "recipient": self.keys.region.owner,
            "recipient_key_id": self.keys.region.key_id, "wrapped": wrapped.hex(),
            "nonce_prefix": prefix.hex()}
        fields.update(header)
        raw = json.dumps({k: v for k, v in fields.items() if v is not DROP},
                         sort_keys=True, separators=(",", ":")).encode()
        aead, hasher = s.aead(data_key), s.hasher()
        hasher.update(raw)
        chunks = [plaintext[i:i + RECORD_SIZE] for i in range(0, len(plaintext), RECORD_SIZE)]
        self.package.parent.mkdir(parents=True, exist_ok=True)
        with open(self.package, "wb") as out:
            out.write(MAGIC + struct.pack(">I", len(raw)) + raw)
            for counter, chunk in enumerate(chunks):
                hasher.update(chunk)
                sealed = aead.encrypt(_nonce(prefix, counter, False), chunk, raw)
                out.write(struct.pack(">I", len(sealed)) + sealed)
            signature = s.sign(kiosk.private, _SIGNED + hasher.digest())
            sealed = aead.encrypt(_nonce(prefix, len(chunks), True), signature, raw)
            out.write(struct.pack(">I", len(sealed)) + sealed)
        return self.package

    def seal_zip(self, entries: dict[str, bytes], manifest: dict[str, Any] | None = None,
                 extra: Sequence[Member] = (), **header: Any) -> Path:
        """The package as ``entries`` (manifest.json from ``manifest`` when given)."""
        if manifest is not None:
            entries = {**entries, "manifest.json": json.dumps(manifest).encode()}
        members = [Member.stored(n, d) for n, d in sorted(entries.items())]
        return self.seal(raw_zip([*members, *extra]), **header)


def make_rig(root: Path, make_keys: Fixture, make_package: Fixture) -> Rig:
    keys = make_keys(SUITE, kiosk_id=KIOSK_ID, region=REGION)
    return Rig(root, keys, make_package(1, 41, signer=keys.signer))


def walk(root: Path) -> dict[str, tuple[str, str]]:
    """Every path under ``root``: its kind and, for a regular file, the sha256 of its
    content (a pipe is never read)."""
    seen: dict[str, tuple[str, str]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            seen[os.path.relpath(os.path.join(folder, name), root)] = ("dir", "")
        for name in files:
            path = Path(folder, name)
            kind = "file" if path.is_file() and not path.is_symlink() else "other"
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if kind == "file" else ""
            seen[os.path.relpath(path, root)] = (kind, digest)
    return seen


def changed_outside(before: dict[str, Any], after: dict[str, Any], root: Path,
                    out: Path) -> list[str]:
    """Paths added, removed or changed outside ``out`` (making ``out`` and the folders above
    it is allowed: that is what --out asks for)."""
    inside = os.path.relpath(out, root)
    made = {str(Path(inside).parents[i]) for i in range(len(Path(inside).parts) - 1)}
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    return sorted(p for p in changed if p != inside and not p.startswith(inside + os.sep)
                  and not (p in made and p not in before and after[p] == ("dir", "")))


def _under(seen: dict[str, Any], root: Path, out: Path) -> dict[str, Any]:
    inside = os.path.relpath(out, root) + os.sep
    return {p: v for p, v in seen.items() if p.startswith(inside)}


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def region_open(rig: Rig, package: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intake", "open", str(package),
         "--key", str(rig.keys.region_key), "--kiosks", str(rig.keys.kiosk_pub),
         "--out", str(out)],
        capture_output=True, text=True, timeout=300, preexec_fn=_cap_memory, check=False)


def assert_refused(rig: Rig, package: Path, needle: str, out: Path | None = None) -> str:
    """The CLI refuses ``package``: status 2, one bilingual message naming ``needle``, no
    traceback, nothing written outside ``out`` and nothing left inside it."""
    out = out or rig.out
    before = walk(rig.root)
    done = region_open(rig, package, out)
    after = walk(rig.root)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stdout == "" and CJK.search(done.stderr) and " / " in done.stderr, done.stderr
    assert re.search(needle, done.stderr, re.I), (needle, done.stderr)
    assert changed_outside(before, after, rig.root, out) == []
    assert _under(before, rig.root, out) == _under(after, rig.root, out), "--out changed"
    return done.stderr
