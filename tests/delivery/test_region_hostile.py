"""``kiosk region open`` against packages a compromised kiosk signed: the signature checks, so
everything inside is hostile. Each case runs the real CLI in a subprocess with its address
space capped at 1 GiB, must end with exit status 2 and one bilingual line (no traceback),
and a walk of the file system around ``--out`` must show nothing written outside it.

A registered kiosk's key signs whatever we craft here: the header (any JSON), the zip (built
byte by byte, so names, sizes and counts can lie) and the manifest.
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
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zipcraft import Member, bomb, raw_zip

from kiosk.delivery.envelope import _SIGNED, MAGIC, RECORD_SIZE, _nonce
from kiosk.delivery.keys import Registry
from kiosk.delivery.region import open_package
from kiosk.delivery.suites import suite
from kiosk.errors import BilingualError
from kiosk.package import SCHEMA_PATH

SUITE = "x25519-chacha20"
KIOSK_ID, REGION = "510802-0001", "500103"
ADDRESS_SPACE = 1 << 30          # the CLI must refuse a bomb without ever holding it
CJK = re.compile(r"[\u4e00-\u9fff]")
VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


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


@pytest.fixture
def rig(tmp_path: Path, make_keys: Fixture, make_package: Fixture) -> Rig:
    keys = make_keys(SUITE, kiosk_id=KIOSK_ID, region=REGION)
    return Rig(tmp_path, keys, make_package(1, 41, signer=keys.signer))


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
        [sys.executable, "-m", "kiosk", "region", "open", str(package),
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


# --- the control ------------------------------------------------------------------------------


def test_a_valid_package_opens_inside_out_only(rig: Rig) -> None:
    package = rig.seal(rig.built.data)
    before = walk(rig.root)
    done = region_open(rig, package, rig.out)
    assert done.returncode == 0, done.stderr
    assert changed_outside(before, walk(rig.root), rig.root, rig.out) == []
    folder = rig.out / rig.built.package_id
    assert json.loads(done.stdout)["folder"] == str(folder)
    assert sorted(os.listdir(rig.out)) == [rig.built.package_id]      # no scratch left
    assert {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} == \
        {*rig.built.inputs, "manifest.json"}


def test_opening_again_replaces_the_folder_whole(rig: Rig) -> None:
    package = rig.seal(rig.built.data)
    folder = rig.out / rig.built.package_id
    assert region_open(rig, package, rig.out).returncode == 0
    (folder / "note-by-a-clerk.txt").write_text("stale")
    assert region_open(rig, package, rig.out).returncode == 0
    assert sorted(os.listdir(rig.out)) == [rig.built.package_id]
    assert not (folder / "note-by-a-clerk.txt").exists()
    assert (folder / "receipt.pdf").read_bytes() == rig.built.inputs["receipt.pdf"]


# --- the name the kiosk chose for the package -------------------------------------------------


@pytest.mark.parametrize("package_id", ["../x", "../../escaped", "..", ".", "a/b", "",
                                        "ABS", "0" * 5000, "\u202e../x", "x\x00y", "c:x"])
def test_a_package_id_that_is_not_a_uuid_is_refused(rig: Rig, package_id: str) -> None:
    """The manifest agrees with the header, so only the header's own rules can refuse it."""
    if package_id == "ABS":
        package_id = str(rig.root / "escaped")          # absolute, and inside the walk
    manifest = {**rig.manifest(), "package_id": package_id}
    package = rig.seal_zip(rig.entries(), manifest, package_id=package_id)
    assert_refused(rig, package, r"not a valid application package.*package_id")
    assert not (rig.root / "escaped").exists() and not (rig.root / "region" / "x").exists()


@pytest.mark.parametrize(("field", "value"), [
    ("package_id", 123), ("package_id", ["x"]), ("package_id", None), ("kiosk_id", 510802),
    ("kiosk_id", "510802-0001/../.."), ("key_id", {"a": 1}), ("suite", "rot13"),
    ("recipient", "../500103"), ("recipient", 500103), ("nonce_prefix", "00" * 8),
    ("wrapped", "zz"), ("package_id", DROP), ("extra_field", "x"),
], ids=lambda v: repr(v)[:20])
def test_header_fields_of_the_wrong_type_or_shape_are_refused(rig: Rig, field: str,
                                                              value: Any) -> None:
    manifest = rig.manifest()
    if field == "package_id" and value is not DROP:
        manifest["package_id"] = str(value) if value is not None else "None"
    package = rig.seal_zip(rig.entries(), manifest, **{field: value})
    assert_refused(rig, package, r"not a valid application package")


def test_a_header_that_is_not_an_object_is_refused(rig: Rig) -> None:
    raw = b'["suite", "package_id"]'
    rig.package.parent.mkdir(parents=True)
    rig.package.write_bytes(MAGIC + struct.pack(">I", len(raw)) + raw)
    assert_refused(rig, rig.package, r"not a valid application package")


def test_a_deeply_nested_header_is_refused(rig: Rig) -> None:
    raw = b"[" * 16000 + b"]" * 16000
    rig.package.parent.mkdir(parents=True)
    rig.package.write_bytes(MAGIC + struct.pack(">I", len(raw)) + raw)
    assert_refused(rig, rig.package, r"not a valid application package")


# --- what is inside -------------------------------------------------------------------------


def test_not_a_zip(rig: Rig) -> None:
    assert_refused(rig, rig.seal(b"#!/bin/sh\necho not a zip\n" * 100), r"zip")


def test_a_truncated_zip(rig: Rig) -> None:
    assert_refused(rig, rig.seal(rig.built.data[:len(rig.built.data) // 2]), r"zip")


def test_a_zip_with_a_comment_or_prefix(rig: Rig) -> None:
    members = [Member.stored(n, d) for n, d in sorted(rig.entries().items())]
    assert_refused(rig, rig.seal(raw_zip(members, comment=b"hello")), r"zip")


def test_a_zip_bomb_is_refused_by_its_declared_size(rig: Rig) -> None:
    """2 GiB of zeros in 2 MB: twice the address space the CLI is given."""
    entries = rig.entries()
    target = next(n for n in entries if n.startswith("materials/"))
    del entries[target]
    package = rig.seal_zip(entries, extra=[bomb(target, 2048)])
    assert rig.package.stat().st_size < 4 << 20
    assert_refused(rig, package, r"more than \d+ bytes")


def test_a_zip_bomb_that_lies_about_its_size_is_refused(rig: Rig) -> None:
    """It declares 1 MiB and holds 2 GiB: never more than the declared size is read."""
    entries = rig.entries()
    target = next(n for n in entries if n.startswith("materials/"))
    del entries[target]
    package = rig.seal_zip(entries, extra=[bomb(target, 2048, declared_mib=1)])
    assert_refused(rig, package, r"damaged|sha256|crc")


def test_members_that_add_up_to_a_bomb_are_refused(rig: Rig) -> None:
    """Three members of 400 MiB each: under the limit one by one, over it together."""
    members = [bomb(f"materials/{i:02d}-m.pdf", 400) for i in range(1, 4)]
    assert_refused(rig, rig.seal_zip(rig.entries(), extra=members), r"more than \d+ bytes")


def test_too_many_files(rig: Rig) -> None:
    extra = [Member.stored(f"materials/{i:05d}.pdf", b"") for i in range(5000)]
    assert_refused(rig, rig.seal_zip(rig.entries(), extra=extra), r"more than \d+ files")


def test_an_unlisted_file_is_refused_and_not_written(rig: Rig) -> None:
    script = b"#!/bin/sh\nrm -rf ~\n"
    package = rig.seal_zip({**rig.entries(), "run-me.sh": script})
    assert_refused(rig, package, r"not listed.*run-me\.sh")
    assert not any(p.name == "run-me.sh" for p in rig.root.rglob("*"))


@pytest.mark.parametrize("materials", ["oops", 5, None, {"file": "x"}, ["oops"]])
def test_materials_that_are_not_a_list_of_materials(rig: Rig, materials: Any) -> None:
    manifest = {**rig.manifest(), "materials": materials}
    assert_refused(rig, rig.seal_zip(rig.entries(), manifest), r"manifest.*materials")


@pytest.mark.parametrize("name", ["../../escaped.pdf", "/etc/cron.d/x", "materials/../../x",
                                  "a\\..\\..\\x", "materials//x.pdf", "./receipt2.pdf",
                                  "con.pdf", "x.pdf.", "a:b.pdf", "x" * 300 + ".pdf",
                                  "/".join("d" * 12) + "/x.pdf", "tab\t.pdf"])
def test_a_listed_file_with_an_unsafe_name_is_refused(rig: Rig, name: str) -> None:
    """Listed in the manifest with the right hash: the name alone is the refusal."""
    data = b"%PDF-1.4 evil"
    manifest = rig.manifest()
    manifest["documents"].append({"kind": "receipt", "file": name,
                                  "sha256": hashlib.sha256(data).hexdigest()})
    package = rig.seal_zip({**rig.entries(), name: data}, manifest)
    assert_refused(rig, package, r"unsafe path")


def test_duplicate_members_are_refused(rig: Rig) -> None:
    """Two entries of one name: which would a reader take? Neither."""
    entries = rig.entries()
    evil = Member.stored("receipt.pdf", b"%PDF-1.4 the other receipt")
    assert_refused(rig, rig.seal_zip(entries, extra=[evil]), r"more than once|duplicate")


def test_names_that_differ_only_in_case_are_refused(rig: Rig) -> None:
    data = b"%PDF-1.4 shadow"
    manifest = rig.manifest()
    manifest["documents"].append({"kind": "receipt", "file": "RECEIPT.pdf",
                                  "sha256": hashlib.sha256(data).hexdigest()})
    package = rig.seal_zip({**rig.entries(), "RECEIPT.pdf": data}, manifest)
    assert_refused(rig, package, r"more than once|duplicate")


def test_a_file_hash_that_does_not_match_is_refused(rig: Rig) -> None:
    entries = rig.entries()
    entries["receipt.pdf"] = b"%PDF-1.4 swapped after the manifest was made"
    assert_refused(rig, rig.seal_zip(entries), r"sha256")


def test_a_listed_file_that_is_missing_is_refused(rig: Rig) -> None:
    entries = rig.entries()
    del entries["receipt.pdf"]
    assert_refused(rig, rig.seal_zip(entries), r"missing.*receipt\.pdf")


@pytest.mark.parametrize("manifest", [b"{not json", b"[]", b'"x"', b"\xff\xfe",
                                      b'{"package_id": 1, "package_id": 2}', b"NaN",
                                      b"[" * 100000 + b"]" * 100000])
def test_a_manifest_that_is_not_a_json_object(rig: Rig, manifest: bytes) -> None:
    assert_refused(rig, rig.seal_zip({**rig.entries(), "manifest.json": manifest}),
                   r"manifest")


def test_a_manifest_kiosk_id_other_than_the_signer(rig: Rig) -> None:
    manifest = {**rig.manifest(), "kiosk_id": "510802-0009"}
    assert_refused(rig, rig.seal_zip(rig.entries(), manifest), r"envelope|kiosk")


# --- the command line's own arguments ---------------------------------------------------------


def test_out_is_a_file(rig: Rig) -> None:
    package = rig.seal(rig.built.data)
    out = rig.root / "region" / "out-file"
    out.parent.mkdir(parents=True)
    out.write_text("I am a file\n")
    assert_refused(rig, package, r"output folder", out=out)
    assert out.read_text() == "I am a file\n"


def test_out_under_a_file(rig: Rig) -> None:
    package = rig.seal(rig.built.data)
    blocker = rig.root / "region" / "blocker"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("x")
    assert_refused(rig, package, r"output folder", out=blocker / "out")


def test_missing_package(rig: Rig) -> None:
    assert_refused(rig, rig.root / "inbox" / "nothing.tbk", r"no such package.*nothing\.tbk")


def test_a_directory_as_the_package(rig: Rig) -> None:
    (rig.root / "inbox").mkdir()
    assert_refused(rig, rig.root / "inbox", r"not a regular file")


def test_dev_zero_as_the_package(rig: Rig) -> None:
    assert_refused(rig, Path("/dev/zero"), r"not a regular file")


def test_a_pipe_as_the_package(rig: Rig) -> None:
    """No writer will ever come: opening it must not wait for one."""
    (rig.root / "inbox").mkdir()
    os.mkfifo(rig.root / "inbox" / "pipe.tbk")
    assert_refused(rig, rig.root / "inbox" / "pipe.tbk", r"not a regular file")


def test_an_empty_package(rig: Rig) -> None:
    rig.package.parent.mkdir(parents=True)
    rig.package.write_bytes(b"")
    assert_refused(rig, rig.package, r"not a valid application package")


# --- the scratch copy is bounded too ------------------------------------------------------------


def test_the_decrypted_copy_is_bounded(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """A signed package larger than the limit stops while decrypting, scratch removed."""
    monkeypatch.setattr("kiosk.delivery.region.MAX_PLAINTEXT_BYTES", 3 * RECORD_SIZE)
    package = rig.seal(os.urandom(5 * RECORD_SIZE))
    with pytest.raises(BilingualError) as info:
        open_package(package, rig.keys.region_key, rig.keys.registry, rig.out)
    assert info.value.code == "too_large" and CJK.search(info.value.zh)
    assert os.listdir(rig.out) == []


# --- fuzz: header and manifest mutations, in process -----------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 10**6) | st.floats(allow_nan=False)
    | st.text(max_size=12) | st.sampled_from(["../x", "/abs", "..", "a/../../b", "1.0", "C",
                                              "receipt.pdf", "x25519-chacha20", KIOSK_ID]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=6)
_FUZZ = settings(max_examples=50, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value, as a path of keys and indexes."""
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*at, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*at, i))
    return found


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(doc))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy


def _open_in_process(rig: Rig, package: Path) -> Any:
    """Open ``package`` into a fresh --out: the opened package, or the bilingual refusal.
    Anything else escapes and fails the test. The walk is checked either way."""
    rig.out.parent.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(dir=rig.out.parent)) / "out"
    before = walk(rig.root)
    try:
        result: Any = open_package(package, rig.keys.region_key,
                                   Registry.from_path(rig.keys.kiosk_pub), out)
    except BilingualError as exc:
        assert exc.zh and exc.en and CJK.search(exc.zh)
        assert os.listdir(out) == [], "a refusal left something in --out"
        result = exc
    assert changed_outside(before, walk(rig.root), rig.root, out) == []
    return result


@_FUZZ
@given(data=st.data())
def test_fuzz_header_fields(rig: Rig, data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(["suite", "package_id", "kiosk_id", "key_id",
                                       "recipient", "recipient_key_id", "nonce_prefix",
                                       "wrapped", "other"]))
    value = data.draw(_JSON | st.just(DROP))
    manifest = rig.manifest()
    if field == "package_id" and isinstance(value, str):
        manifest["package_id"] = value                 # the kiosk keeps them consistent
    package = rig.seal_zip(rig.entries(), manifest, **{field: value})
    result = _open_in_process(rig, package)
    if not isinstance(result, BilingualError):
        # only a change that changed nothing opens: every field has one valid value here
        valid = {"suite": SUITE, "package_id": rig.built.package_id, "kiosk_id": KIOSK_ID,
                 "recipient": REGION, "key_id": rig.keys.kiosk.key_id,
                 "recipient_key_id": rig.keys.region.key_id}
        assert (field == "other" and value is DROP) or valid.get(field) == value, (field, value)
        assert result.folder == result.folder.parent / rig.built.package_id


@_FUZZ
@given(data=st.data())
def test_fuzz_manifest(rig: Rig, data: st.DataObject) -> None:
    original = rig.manifest()
    path = data.draw(st.sampled_from(_paths(original)))
    manifest = _replace(original, path, data.draw(_JSON))
    entries = {**rig.entries(), "manifest.json": json.dumps(manifest).encode()}
    result = _open_in_process(rig, rig.seal_zip(entries))
    if not isinstance(result, BilingualError):
        # whatever opens is a manifest the schema accepts, with every file it lists
        VALIDATOR.validate(result.manifest)
        assert result.manifest == manifest
        for name in result.files:
            assert (result.folder / name).resolve().is_relative_to(result.folder.resolve())


@_FUZZ
@given(name=st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)
       | st.sampled_from(["../x", "a/../../x", "/x", "a//b", "a/./b", "..\\x", "x/"]))
def test_fuzz_member_names(rig: Rig, name: str) -> None:
    """A name listed with its right hash either stays inside the folder or is refused."""
    data = b"%PDF-1.4 fuzz"
    manifest = rig.manifest()
    manifest["documents"].append({"kind": "receipt", "file": name,
                                  "sha256": hashlib.sha256(data).hexdigest()})
    entries = rig.entries()
    if name in entries:
        return
    result = _open_in_process(rig, rig.seal_zip({**entries, name: data}, manifest))
    if not isinstance(result, BilingualError):
        written = result.folder / name
        assert written.read_bytes() == data
        assert written.resolve().is_relative_to(result.folder.resolve())
