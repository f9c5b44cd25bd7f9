"""A fleet bundle read under the same rules as a region's package (kiosk/untrusted.py): TUF
says who made it, not that it is harmless — an operator's key can leak too. Zip bombs,
too many files, names one file system takes for another, duplicate entries and loosely
typed manifests are refused with a FleetError before anything is unpacked, and
``Bundle.write_to`` never writes outside its folder whoever built the bundle."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
from zipcraft import Member, bomb, raw_zip

from kiosk.fleet.bundle import MANIFEST, Bundle, read_bundle
from kiosk.fleet.errors import FleetError

FLEET, KIOSK = "demo-sichuan", "510802-0001"
CJK = re.compile(r"[\u4e00-\u9fff]")
MiB = 1 << 20


def _files() -> dict[str, bytes]:
    return {"settings.toml": b'schema_version = 1\n[kiosk]\nid = "510802-0001"\n',
            "catalogue.yaml": "schema_version: 1\nmatters: []\n# 事项\n".encode(),
            "keys/region-510800-x25519-chacha20.pub": b'{"owner": "510800"}\n'}


def _manifest(contents: dict[str, bytes], **changes: Any) -> dict[str, Any]:
    manifest = Bundle(FLEET, KIOSK, 3, "2025-03-04T08:00:00+00:00", ("defaults",),
                      contents).manifest()
    manifest.update(changes)
    return manifest


def _bundle(files: dict[str, bytes], manifest: dict[str, Any] | bytes | None = None,
            extra: list[Member] | None = None, *, comment: bytes = b"") -> bytes:
    """A bundle zip written byte by byte: its manifest lists ``files`` unless given."""
    if manifest is None:
        manifest = _manifest(files)
    raw = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    members = [Member.stored(MANIFEST, raw),
               *(Member.stored(n, d) for n, d in sorted(files.items())), *(extra or [])]
    return raw_zip(members, comment=comment)


def _refused(data: bytes, needle: str, code: str = "not_a_bundle") -> FleetError:
    with pytest.raises(FleetError) as info:
        read_bundle(data, kiosk=KIOSK, fleet=FLEET)
    err = info.value
    assert err.code == code and CJK.search(err.zh), (err.code, err.zh)
    assert re.search(needle, err.en, re.I), (needle, err.en)
    return err


def test_the_crafted_bundle_is_read_when_nothing_is_wrong() -> None:
    """The control: what the helpers here make opens, so each refusal below is the change."""
    bundle = read_bundle(_bundle(_files()), kiosk=KIOSK, fleet=FLEET)
    assert bundle.files == _files() and bundle.version == 3


def test_a_zip_bomb_is_refused_by_its_declared_size_in_bounded_memory() -> None:
    """300 MiB of zeros in 300 KB, listed with its right hash: over the unpacked limit."""
    files = _files()
    member = bomb("logo.png", 300)
    manifest = _manifest(files)
    manifest["files"]["logo.png"] = hashlib.sha256(bytes(300 * MiB)).hexdigest()
    data = _bundle(files, manifest, [member])
    assert len(data) < MiB
    tracemalloc.start()
    try:
        _refused(data, r"more than \d+ bytes")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * MiB, peak


def test_a_member_that_lies_about_its_size_is_read_no_further() -> None:
    files = _files()
    data = _bundle(files, extra=[bomb("logo.png", 300, declared_mib=1)])
    _refused(data, r"damaged")


def test_too_many_files() -> None:
    files = {**_files(), **{f"img/{i:05d}.png": b"" for i in range(1500)}}
    _refused(_bundle(files), r"more than \d+ files")


@pytest.mark.parametrize("name", ["a:b.toml", "con.toml", "nul", "x.toml.", " lead.toml",
                                  "tab\t.toml", "bidi\u202e.toml", "zero\u200b.toml",
                                  "x" * 300, "/".join("d" * 12) + "/x.toml"])
def test_names_a_file_system_would_not_keep_are_refused(name: str) -> None:
    """Listed with the right hash: the name alone is the refusal."""
    files = {**_files(), name: b"payload\n"}
    _refused(_bundle(files), r"unsafe path")


def test_a_name_cut_at_nul_is_refused() -> None:
    """zipfile cuts 'evil.toml\\0.png' to 'evil.toml': the name as stored is checked."""
    files = _files()
    manifest = _manifest({**files, "evil.toml": b"x = 1\n"})
    _refused(_bundle(files, manifest, [Member.stored("evil.toml\x00.png", b"x = 1\n")]),
             r"unsafe path")


@pytest.mark.parametrize("twin", ["Settings.toml", "SETTINGS.TOML"])
def test_names_that_differ_only_in_case_are_refused(twin: str) -> None:
    files = {**_files(), twin: b"schema_version = 1\n"}
    _refused(_bundle(files), r"more than once")


def test_a_name_that_is_also_a_folder_is_refused() -> None:
    files = {**_files(), "keys": b"I would be a folder\n"}
    _refused(_bundle(files), r"folder that is also a file|more than once")


def test_duplicate_entries_are_refused() -> None:
    """Two entries named settings.toml: zipfile would hand out the last. Neither is taken."""
    files = _files()
    other = Member.stored("settings.toml", b'schema_version = 1\n[kiosk]\nid = "x"\n')
    _refused(_bundle(files, extra=[other]), r"more than once")


def test_a_zip_with_a_comment_is_refused() -> None:
    _refused(_bundle(_files(), comment=b"appended"), r"not a valid zip")


def test_data_prepended_to_the_zip_is_refused() -> None:
    _refused(b"MZ" + b"\x00" * 64 + _bundle(_files()), r"not a valid zip")


@pytest.mark.parametrize("change", [
    {"version": True}, {"version": 2.0}, {"layers": [1, 2]}, {"layers": "defaults"},
    {"fleet": None}, {"fleet": ["demo-sichuan"]}, {"kiosk": 510802}, {"created": 5},
    {"files": {"settings.toml": 5}}, {"layers": ["x" * 1000]},
], ids=lambda c: repr(c)[:30])
def test_manifest_fields_of_the_wrong_type_are_refused(change: dict[str, Any]) -> None:
    files = _files()
    manifest = _manifest(files, **change)
    if change.get("files"):
        files = {"settings.toml": files["settings.toml"]}
    _refused(_bundle(files, manifest), r"bundle\.json")


@pytest.mark.parametrize("raw", [
    b'{"format": 1, "kiosk": "510802-0009", "kiosk": "510802-0001"}', b"[" * 50000,
    b'{"format": NaN}'], ids=["duplicate-key", "deep", "nan"])
def test_a_manifest_that_is_not_strict_json_is_refused(raw: bytes) -> None:
    _refused(_bundle(_files(), raw), r"not valid JSON")


def test_a_manifest_too_large_is_refused() -> None:
    manifest = _manifest(_files(), created="x" * (5 * MiB))
    _refused(_bundle(_files(), manifest), r"more than \d+ bytes")


@pytest.mark.parametrize("name", ["../escaped.toml", "/tmp/escaped.toml", "a/../../x",
                                  "keys\\..\\x"])
def test_write_to_never_writes_outside_its_folder(tmp_path: Path, name: str) -> None:
    """A Bundle made in memory (the operator's build) is checked again as it is written."""
    folder = tmp_path / "stage" / "bundle"
    folder.mkdir(parents=True)
    if name.startswith("/tmp/"):
        name = str(tmp_path / "escaped.toml")
    before = sorted(os.walk(tmp_path))
    with pytest.raises(FleetError) as info:
        Bundle(FLEET, KIOSK, 1, "", (), {**_files(), name: b"x"}).write_to(folder)
    assert "unsafe path" in info.value.en and CJK.search(info.value.zh)
    assert sorted(os.walk(tmp_path)) == before


def test_what_to_bytes_makes_still_reads() -> None:
    """The writer's zips (deflated, no comment) pass the end-record rules."""
    made = Bundle(FLEET, KIOSK, 4, "2025-03-04T08:00:00+00:00", ("defaults", "province"),
                  {**_files(), "logo.png": bytes(range(256)) * 64})
    data = made.to_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_DEFLATED}
    assert read_bundle(data, kiosk=KIOSK, fleet=FLEET) == made
