"""The handling region's side: a sealed package opens byte for byte with the right keys, and
any change to it — a flipped bit, a cut, an extra byte, records swapped, a forged signer —
is refused with a bilingual error before anything is unpacked."""

from __future__ import annotations

import json
import random
import struct
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from intake.opening import open_package
from kiosk.package import SCHEMA_PATH
from kiosk.transfer.envelope import MAGIC, Recipient, SealError, SealWriter, Signer
from kiosk.transfer.keys import KeyFileError, Registry

SUITES = ("x25519-chacha20", "sm2-sm4")
OTHER = dict(zip(SUITES, reversed(SUITES), strict=True))
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
CODES = {"not_a_package", "tampered", "wrong_key", "unknown_kiosk", "bad_signature"}
MiB = 1 << 20
Fixture = Callable[..., Any]          # the factories of conftest.py


def _records(blob: bytes) -> tuple[int, list[tuple[int, int]]]:
    """The end of the header, and each record as (offset of its length field, end)."""
    assert blob.startswith(MAGIC)
    at = len(MAGIC) + 4 + struct.unpack(">I", blob[len(MAGIC):len(MAGIC) + 4])[0]
    header_end, records = at, []
    while at < len(blob):
        length = struct.unpack(">I", blob[at:at + 4])[0]
        records.append((at, at + 4 + length))
        at += 4 + length
    assert at == len(blob)
    return header_end, records


def _refused(sealed: Path, blob: bytes, region_key: Path, registry: Registry,
             out: Path) -> SealError | KeyFileError:
    """Open ``blob``: it must fail with a bilingual error and leave nothing in ``out``."""
    sealed.write_bytes(blob)
    with pytest.raises((SealError, KeyFileError)) as info:
        open_package(sealed, region_key, registry, out)
    error = info.value
    assert error.zh and error.en and error.code in CODES, error
    assert list(out.iterdir()) == [], "something was written before verification"
    return error


@pytest.mark.parametrize("suite_name", SUITES)
@pytest.mark.parametrize("pages", [1, 10, 50])
def test_package_opens_byte_identical(pages: int, suite_name: str, tmp_path: Path,
                                      make_keys: Fixture, make_package: Fixture,
                                      seal_to_file: Fixture) -> None:
    keys = make_keys(suite_name)
    built = make_package(pages, pages, signer=keys.signer)
    sealed = seal_to_file(built.data, keys.signer, keys.recipient, built.package_id,
                          tmp_path / "package.tbk")
    name = built.manifest["applicant"]["name"].encode()
    assert name in built.data and name not in sealed.read_bytes()     # not in the clear
    opened = open_package(sealed, keys.region_key, keys.registry, tmp_path / "out")
    assert (opened.package_id, opened.kiosk_id, opened.suite) == (
        built.package_id, keys.kiosk.owner, suite_name)
    assert opened.manifest == built.manifest
    VALIDATOR.validate(opened.manifest)
    assert sum(m["pages"] for m in opened.manifest["materials"]) == pages
    unpacked = {p.relative_to(opened.folder).as_posix(): p.read_bytes()
                for p in opened.folder.rglob("*") if p.is_file()}
    assert json.loads(unpacked.pop("manifest.json")) == built.manifest
    assert unpacked.keys() == built.inputs.keys() == set(opened.files)
    for name, data in built.inputs.items():
        assert unpacked[name] == data, name
    assert [p.name for p in (tmp_path / "out").iterdir()] == [built.package_id]


@pytest.mark.parametrize("suite_name", SUITES)
def test_a_flipped_bit_anywhere_is_refused(suite_name: str, tmp_path: Path,
                                           make_keys: Fixture, make_package: Fixture,
                                           seal_to_file: Fixture) -> None:
    keys = make_keys(suite_name)
    built = make_package(1, 7, signer=keys.signer)
    blob = seal_to_file(built.data, keys.signer, keys.recipient, built.package_id,
                        tmp_path / "good.tbk").read_bytes()
    header_end, records = _records(blob)
    assert len(records) >= 3
    rng = random.Random(f"flip-{suite_name}")
    positions = {(p, 1 << (p % 8)) for p in range(header_end)}     # magic, length, header
    for start, end in records:
        for p in [*range(start, start + 4 + 16), *range(end - 16, end)]:
            positions.add((p, 1 << (p % 8)))
    positions |= {(rng.randrange(len(blob)), 1 << rng.randrange(8)) for _ in range(300)}
    registry, out, codes = keys.registry, tmp_path / "out", set()
    for position, bit in sorted(positions):
        flipped = bytearray(blob)
        flipped[position] ^= bit
        codes.add(_refused(tmp_path / "bad.tbk", bytes(flipped), keys.region_key, registry,
                           out).code)
    # every check on the way was reached: header parse, recipient key, registry, records
    assert {"not_a_package", "wrong_key", "unknown_kiosk", "tampered"} <= codes
    # the control: the untouched file opens
    assert open_package(tmp_path / "good.tbk", keys.region_key, registry, out).files


@pytest.mark.parametrize("suite_name", SUITES)
def test_cut_extended_or_reordered_files_are_refused(suite_name: str, tmp_path: Path,
                                                     make_keys: Fixture,
                                                     make_package: Fixture,
                                                     seal_to_file: Fixture) -> None:
    keys = make_keys(suite_name)
    built = make_package(1, 8, signer=keys.signer)
    blob = seal_to_file(built.data, keys.signer, keys.recipient, built.package_id,
                        tmp_path / "good.tbk").read_bytes()
    header_end, records = _records(blob)
    (first, first_end), (second, second_end) = records[0], records[1]
    last, final = records[-2], records[-1]
    registry, out, bad = keys.registry, tmp_path / "out", tmp_path / "bad.tbk"

    def refused(data: bytes) -> str:
        return _refused(bad, data, keys.region_key, registry, out).code

    cuts = [0, 5, len(MAGIC) + 2, header_end // 2, header_end, header_end + 2,
            (first + first_end) // 2, first_end, second_end, final[0], len(blob) - 1]
    for cut in cuts:
        refused(blob[:cut])
    assert refused(blob[:final[0]]) == "tampered"              # just the signature removed
    assert refused(blob[:last[0]] + blob[final[0]:]) == "tampered"   # the last data record
    for tail in (b"\x00", b"\x00" * 4, blob[final[0]:], blob[first:first_end]):
        assert refused(blob + tail) == "tampered"
    swapped = (blob[:first] + blob[second:second_end] + blob[first:first_end]
               + blob[second_end:])
    assert len(swapped) == len(blob) and refused(swapped) == "tampered"
    signature_first = blob[:last[0]] + blob[final[0]:] + blob[last[0]:last[1]]
    assert refused(signature_first) == "tampered"


@pytest.mark.parametrize("suite_name", SUITES)
def test_wrong_region_key_or_unregistered_kiosk(suite_name: str, tmp_path: Path,
                                                make_keys: Fixture, make_package: Fixture,
                                                seal_to_file: Fixture) -> None:
    keys = make_keys(suite_name)
    built = make_package(1, 9, signer=keys.signer)
    sealed = seal_to_file(built.data, keys.signer, keys.recipient, built.package_id,
                          tmp_path / "package.tbk")
    out = tmp_path / "out"
    for wrong in (make_keys(suite_name, region="110101"), make_keys(OTHER[suite_name]),
                  make_keys(suite_name)):     # another region; the other suite; a new key
        with pytest.raises(SealError) as info:
            open_package(sealed, wrong.region_key, keys.registry, out)
        assert info.value.code == "wrong_key" and info.value.zh and info.value.en
    with pytest.raises(KeyFileError) as bad_key:          # the public half cannot decrypt
        open_package(sealed, keys.region_pub, keys.registry, out)
    assert bad_key.value.code == "bad_key" and bad_key.value.zh and bad_key.value.en
    strangers = make_keys(suite_name, kiosk_id="510802-0002")
    for registry in (Registry([]), strangers.registry):
        with pytest.raises(KeyFileError) as unknown:
            open_package(sealed, keys.region_key, registry, out)
        assert unknown.value.code == "unknown_kiosk" and unknown.value.zh and unknown.value.en
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("suite_name", SUITES)
def test_another_key_cannot_speak_for_the_registered_kiosk(
        suite_name: str, tmp_path: Path, make_keys: Fixture, make_package: Fixture,
        seal_to_file: Fixture) -> None:
    registered = make_keys(suite_name)
    intruder = make_keys(suite_name)                   # same kiosk id, another key pair
    assert intruder.kiosk.owner == registered.kiosk.owner
    assert intruder.kiosk.key_id != registered.kiosk.key_id
    out, bad = tmp_path / "out", tmp_path / "bad.tbk"

    # signed and labelled with its own key: not registered
    own = make_package(1, 10, signer=intruder.signer)
    blob = seal_to_file(own.data, intruder.signer, registered.recipient, own.package_id,
                        tmp_path / "own.tbk").read_bytes()
    assert _refused(bad, blob, registered.region_key, registered.registry,
                    out).code == "unknown_kiosk"

    # the same file with the header edited to name the registered key: the header is every
    # record's associated data, so the records no longer authenticate
    header_end, _ = _records(blob)
    assert blob.count(intruder.kiosk.key_id.encode(), 0, header_end) == 1
    edited = blob.replace(intruder.kiosk.key_id.encode(), registered.kiosk.key_id.encode(), 1)
    assert _refused(bad, edited, registered.region_key, registered.registry,
                    out).code == "tampered"

    # sealed from scratch claiming the registered key (header and manifest alike), signed
    # with the intruder's private key: only the signature can tell, and it does
    assert intruder.kiosk.private is not None
    forger = Signer(registered.kiosk.owner, registered.signer.suite, intruder.kiosk.private,
                    registered.kiosk.public)
    forged = make_package(1, 11, signer=forger)
    blob = seal_to_file(forged.data, forger, registered.recipient, forged.package_id,
                        tmp_path / "forged.tbk").read_bytes()
    assert _refused(bad, blob, registered.region_key, registered.registry,
                    out).code == "bad_signature"


def _sealing_peak(path: Path, size: int, signer: Signer, recipient: Recipient) -> int:
    rng = random.Random(size)
    tracemalloc.start()
    try:
        with open(path, "wb") as out, SealWriter(out, signer, recipient,
                                                 str(uuid.uuid4())) as writer:
            for _ in range(size // MiB):
                writer.write(rng.randbytes(MiB))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert path.stat().st_size > size
    return peak


@pytest.mark.parametrize("suite_name", SUITES)
def test_sealing_memory_does_not_grow_with_the_package(
        suite_name: str, tmp_path: Path, make_keys: Fixture,
        record_property: Callable[..., None]
) -> None:
    keys = make_keys(suite_name)
    small = _sealing_peak(tmp_path / "small.tbk", 5 * MiB, keys.signer, keys.recipient)
    large = _sealing_peak(tmp_path / "large.tbk", 40 * MiB, keys.signer, keys.recipient)
    record_property("peak_5MB", small)
    record_property("peak_40MB", large)
    print(f"{suite_name}: tracemalloc peak 5 MB → {small} B, 40 MB → {large} B")
    assert large < 2 * small and large < 8 * MiB
