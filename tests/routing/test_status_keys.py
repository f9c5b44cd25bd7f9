"""Region status keys in the directory: each entry may carry ``status_keys`` (the region's
signing keys for case status events), read strictly like ``keys`` but as signing keys, and
built from the operator's table from real key files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from directory_docs import ALWAYS, document, entry, key

from fleetops.directory_table import TableError, build_document
from kiosk.paths import REPO
from kiosk.routing.directory_format import DirectoryError, parse_directory
from kiosk.transfer.keys import generate, write_public
from kiosk.transfer.suites import SUITE_NAMES, Role

GOOD_KEY, _ = key("510802")


def status_key(owner: str, suite: str) -> dict[str, Any]:
    made = generate(owner, Role.SIGN, suite)
    return {"suite": suite, "key_id": made.key_id, "public": made.public.hex(),
            "not_before": ALWAYS[0], "not_after": ALWAYS[1]}


@pytest.mark.parametrize("suite", SUITE_NAMES)
def test_status_keys_are_read_as_signing_keys(suite: str) -> None:
    signing = status_key("510802", suite)
    raw = document({"510802": entry("广元市利州区", [GOOD_KEY], status_keys=[signing])})
    found = parse_directory(raw).regions["510802"].status_keys
    assert [k.key_id for k in found] == [signing["key_id"]]
    assert found[0].suite == suite


def test_an_entry_without_status_keys_has_none() -> None:
    raw = document({"510802": entry("广元市利州区", [GOOD_KEY])})
    assert parse_directory(raw).regions["510802"].status_keys == ()


def test_a_status_key_with_a_wrong_id_is_refused() -> None:
    signing = status_key("510802", "x25519-chacha20") | {"key_id": "0" * 16}
    raw = document({"510802": entry("广元市利州区", [GOOD_KEY], status_keys=[signing])})
    with pytest.raises(DirectoryError) as caught:
        parse_directory(raw)
    assert "regions.510802.status_keys[0].key_id" in caught.value.en


def test_too_many_status_keys_are_refused() -> None:
    many = [status_key("510802", "x25519-chacha20") for _ in range(9)]
    raw = document({"510802": entry("广元市利州区", [GOOD_KEY], status_keys=many)})
    with pytest.raises(DirectoryError) as caught:
        parse_directory(raw)
    assert "status_keys" in caught.value.en


def _table(folder: Path, status_file: str) -> Path:
    enc = generate("510802", Role.ENCRYPT, "x25519-chacha20")
    write_public(folder / "enc.pub", enc)
    window = {"not_before": datetime(2026, 1, 1, tzinfo=UTC),
              "not_after": datetime(2030, 1, 1, tzinfo=UTC)}
    path = folder / "regions.toml"
    path.write_text(tomli_w.dumps({"region": [{
        "code": "510802", "name": "广元市利州区", "transport": "directory",
        "department": "利州区政务服务中心", "keys": [{"file": "enc.pub", **window}],
        "status_keys": [{"file": status_file, **window}]}]}), encoding="utf-8")
    return path


def test_the_table_builds_status_keys_from_signing_key_files(tmp_path: Path) -> None:
    signing = generate("510802", Role.SIGN, "sm2-sm4")
    write_public(tmp_path / "status.pub", signing)
    raw = build_document(_table(tmp_path, "status.pub"), fleet="demo", version=1)
    built = json.loads(raw)["regions"]["510802"]["status_keys"]
    assert [k["key_id"] for k in built] == [signing.key_id]


def test_the_table_refuses_an_encryption_key_as_a_status_key(tmp_path: Path) -> None:
    with pytest.raises(TableError) as caught:
        build_document(_table(tmp_path, "enc.pub"), fleet="demo", version=1)
    assert "status_keys[0]" in caught.value.en and "signing" in caught.value.en


def test_the_table_refuses_another_regions_status_key(tmp_path: Path) -> None:
    write_public(tmp_path / "other.pub", generate("510824", Role.SIGN, "x25519-chacha20"))
    with pytest.raises(TableError) as caught:
        build_document(_table(tmp_path, "other.pub"), fleet="demo", version=1)
    assert "510824" in caught.value.en


def test_every_demo_region_has_a_status_key_of_each_suite() -> None:
    raw = (REPO / "assets" / "demo" / "regions" / "directory.json").read_bytes()
    directory = parse_directory(raw)
    for entry_ in (*directory.regions.values(), *directory.exchanges.values()):
        assert sorted(k.suite for k in entry_.status_keys) == sorted(SUITE_NAMES), entry_.code
