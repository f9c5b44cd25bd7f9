"""Key files: the kiosk's device keys are made once, private to the kiosk's user, and never
regenerated; a damaged or mismatched key file, or a region key of the wrong kind, is refused
with a bilingual error."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from kiosk.transfer.keys import (
    FORMAT,
    DeviceKeys,
    KeyFileError,
    generate,
    load,
    recipient,
    write_private,
    write_public,
)
from kiosk.transfer.suites import SUITE_NAMES, Role

KIOSK_ID = "510802-0001"


def _refused(path: Path) -> KeyFileError:
    with pytest.raises(KeyFileError) as info:
        load(path)
    assert info.value.zh and info.value.en and str(path) in info.value.en
    return info.value


@pytest.mark.parametrize("suite_name", SUITE_NAMES)
def test_device_key_is_made_once_and_kept_private(suite_name: str, tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    keys = DeviceKeys(folder, KIOSK_ID)
    assert not keys.path(suite_name).exists()
    first = keys.key(suite_name)
    path = keys.path(suite_name)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0
    assert (first.owner, first.role, first.suite) == (KIOSK_ID, Role.SIGN, suite_name)
    written = path.read_bytes()
    again = DeviceKeys(folder, KIOSK_ID).key(suite_name)      # a second start
    assert (again.public, again.private) == (first.public, first.private)
    assert path.read_bytes() == written
    signer = DeviceKeys(folder, KIOSK_ID).signer(suite_name)
    assert (signer.public_key, signer.key_id, signer.kiosk_id) == (
        first.public, first.key_id, KIOSK_ID)
    assert signer.suite.name == suite_name
    other = DeviceKeys(tmp_path / "elsewhere", KIOSK_ID).key(suite_name)
    assert other.public != first.public                        # really generated, not fixed


def test_device_keys_cover_every_suite(tmp_path: Path) -> None:
    keys = DeviceKeys(tmp_path, KIOSK_ID).all()
    assert [k.suite for k in keys] == list(SUITE_NAMES)
    assert len({k.key_id for k in keys}) == len(SUITE_NAMES)


def test_device_key_file_holding_a_public_key_is_refused(tmp_path: Path) -> None:
    keys = DeviceKeys(tmp_path, KIOSK_ID)
    write_public(keys.path("x25519-chacha20"), generate(KIOSK_ID, Role.SIGN, "x25519-chacha20"))
    with pytest.raises(KeyFileError) as info:
        keys.key("x25519-chacha20")
    assert info.value.zh and info.value.en


@pytest.mark.parametrize("suite_name", SUITE_NAMES)
def test_written_key_loads_back(suite_name: str, tmp_path: Path) -> None:
    key = generate("500103", Role.ENCRYPT, suite_name)
    write_private(tmp_path / "r.key", key)
    write_public(tmp_path / "r.pub", key)
    assert load(tmp_path / "r.key") == key
    public = load(tmp_path / "r.pub")
    assert public.private is None and public.public == key.public
    assert public.key_id == key.key_id


def test_write_private_never_overwrites(tmp_path: Path) -> None:
    first = generate("500103", Role.ENCRYPT, "x25519-chacha20")
    write_private(tmp_path / "r.key", first)
    with pytest.raises(KeyFileError) as info:
        write_private(tmp_path / "r.key", generate("500103", Role.ENCRYPT, "x25519-chacha20"))
    assert info.value.code == "key_exists" and info.value.zh and info.value.en
    assert load(tmp_path / "r.key") == first


def test_missing_and_corrupt_files_are_refused(tmp_path: Path) -> None:
    assert _refused(tmp_path / "absent.key").code == "bad_key"
    corrupt = tmp_path / "corrupt.key"
    for content in ("{not json", "", "[]", "null", "\x00\xff garbage"):
        corrupt.write_text(content, encoding="latin-1")
        assert _refused(corrupt).code == "bad_key"


@pytest.mark.parametrize("suite_name", SUITE_NAMES)
def test_damaged_records_are_refused(suite_name: str, tmp_path: Path) -> None:
    key = generate(KIOSK_ID, Role.SIGN, suite_name)
    other = generate(KIOSK_ID, Role.SIGN, suite_name)
    assert other.private is not None
    good = key.private_record()
    damaged = {
        "halves_mismatch": good | {"private": other.private.hex()},
        "public_swapped": good | {"public": other.public.hex()},
        "format": good | {"format": "tongban-kiosk key v2"},
        "no_format": {k: v for k, v in good.items() if k != "format"},
        "suite": good | {"suite": "rsa-aes"},
        "role": good | {"role": "admin"},
        "key_id": good | {"key_id": other.key_id},
        "public_hex": good | {"public": "zz" + good["public"][2:]},
        "private_hex": good | {"private": good["private"][:-1]},
        "no_public": {k: v for k, v in good.items() if k != "public"},
    }
    path = tmp_path / "damaged.key"
    path.write_text(json.dumps(good))
    assert load(path) == key                                  # the control
    for why, record in damaged.items():
        path.write_text(json.dumps(record))
        assert _refused(path).code == "bad_key", why
    assert good["format"] == FORMAT


@pytest.mark.parametrize("suite_name", SUITE_NAMES)
def test_recipient_takes_only_the_routed_regions_key_of_the_suite(
        suite_name: str, tmp_path: Path) -> None:
    other_suite = next(s for s in SUITE_NAMES if s != suite_name)
    files = {
        "right": generate("500103", Role.ENCRYPT, suite_name),
        "wrong_suite": generate("500103", Role.ENCRYPT, other_suite),
        "wrong_role": generate("500103", Role.SIGN, suite_name),
        "other_region": generate("110101", Role.ENCRYPT, suite_name),
    }
    for name, key in files.items():
        write_public(tmp_path / f"{name}.pub", key)
    routed = recipient(tmp_path / "right.pub", "500103", suite_name)
    assert (routed.region, routed.public_key) == ("500103", files["right"].public)
    for name in ("wrong_suite", "wrong_role", "other_region"):
        with pytest.raises(KeyFileError) as info:
            recipient(tmp_path / f"{name}.pub", "500103", suite_name)
        assert info.value.zh and info.value.en and info.value.code == "bad_key", name


@pytest.mark.parametrize("suite_name", SUITE_NAMES)
def test_exported_public_key_holds_no_private_half(suite_name: str, tmp_path: Path) -> None:
    key = DeviceKeys(tmp_path / "keys", KIOSK_ID).key(suite_name)
    assert key.private is not None
    write_public(tmp_path / "export.pub", key)
    text = (tmp_path / "export.pub").read_text()
    record = json.loads(text)
    assert "private" not in record and key.private.hex() not in text
    assert record["key_id"] == key.key_id and record["public"] == key.public.hex()
    assert record["owner"] == KIOSK_ID and record["role"] == "sign"


def test_record_without_owner_is_refused(tmp_path: Path) -> None:
    record = generate(KIOSK_ID, Role.SIGN, "x25519-chacha20").private_record()
    del record["owner"]
    (tmp_path / "no-owner.key").write_text(json.dumps(record))
    assert _refused(tmp_path / "no-owner.key").code == "bad_key"


@pytest.mark.parametrize("suite_name", SUITE_NAMES)
def test_malformed_public_key_is_refused_when_routed(suite_name: str, tmp_path: Path) -> None:
    record = generate("500103", Role.ENCRYPT, suite_name).public_record()
    record["public"] = record["public"][:-2]            # one byte short
    del record["key_id"]
    (tmp_path / "short.pub").write_text(json.dumps(record))
    with pytest.raises(KeyFileError) as info:
        recipient(tmp_path / "short.pub", "500103", suite_name)
    assert info.value.zh and info.value.en


def test_sm2_signatures_out_of_range_are_refused_not_crashed() -> None:
    """r or s of 0 or ≥ n: a forged signature must fail as one, not crash gmssl's maths."""
    from kiosk.transfer.suites import _N, CryptoError, suite
    national = suite("sm2-sm4")
    private, public = national.new_keypair(Role.SIGN)
    good = national.sign(private, b"m")
    n = _N.to_bytes(32, "big")
    for forged in (good[:32] + bytes(32), bytes(32) + good[32:], good[:32] + n, n + good[32:]):
        with pytest.raises(CryptoError):
            national.verify(public, b"m", forged)
    national.verify(public, b"m", good)
