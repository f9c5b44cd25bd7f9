"""``kiosk-region open`` against packages a compromised kiosk signed: the signature checks, so
everything inside is hostile. Each case runs the real CLI in a subprocess with its address
space capped at 1 GiB, must end with exit status 2 and one bilingual line (no traceback),
and a walk of the file system around ``--out`` must show nothing written outside it (see
hostile_rig.py for how the packages are made).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path
from typing import Any

import pytest
from hostile_rig import (
    CJK,
    DROP,
    Fixture,
    Rig,
    assert_refused,
    changed_outside,
    make_rig,
    region_open,
    walk,
)
from zipcraft import Member, bomb, raw_zip

from intake.opening import open_package
from kiosk.errors import BilingualError
from kiosk.transfer.envelope import MAGIC, RECORD_SIZE


@pytest.fixture
def rig(tmp_path: Path, make_keys: Fixture, make_package: Fixture) -> Rig:
    return make_rig(tmp_path, make_keys, make_package)


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
    raw = b"[" * 8000 + b"]" * 8000             # under the 16 KiB header limit
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
    monkeypatch.setattr("intake.opening.MAX_PLAINTEXT_BYTES", 3 * RECORD_SIZE)
    package = rig.seal(os.urandom(5 * RECORD_SIZE))
    with pytest.raises(BilingualError) as info:
        open_package(package, rig.keys.region_key, rig.keys.registry, rig.out)
    assert info.value.code == "too_large" and CJK.search(info.value.zh)
    assert os.listdir(rig.out) == []
