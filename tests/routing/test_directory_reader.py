"""Reading a directory or revocation list: every fault a typed bilingual DirectoryError that
names the field, never a traceback; bounded in size and counts. Fuzzed with hypothesis."""

from __future__ import annotations

import json
from typing import Any

import pytest
from directory_docs import document, entry, key
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.routing.directory_format import (
    MAX_DOCUMENT_BYTES,
    MAX_REGIONS,
    REVOCATIONS_FORMAT,
    DirectoryError,
    parse_directory,
    parse_revocations,
)

GOOD_KEY, _ = key("510802")


def _doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(document({"510802": entry("广元市利州区", [GOOD_KEY])}))
    doc.update(changes)
    return doc


def _entry(**changes: Any) -> dict[str, Any]:
    return {**entry("广元市利州区", [GOOD_KEY]), **changes}


def _refused(doc: Any, where: str) -> DirectoryError:
    raw = doc if isinstance(doc, bytes) else json.dumps(doc, ensure_ascii=False).encode()
    with pytest.raises(DirectoryError) as caught:
        parse_directory(raw)
    error = caught.value
    assert where in error.en, (error.zh, error.en)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error.zh)
    return error


def test_a_good_document_reads() -> None:
    directory = parse_directory(json.dumps(_doc()).encode())
    assert directory.version == 1 and list(directory.regions) == ["510802"]


@pytest.mark.parametrize(("change", "where"), [
    ({"format": "something-else"}, "format"),
    ({"schema": 2}, "schema"),
    ({"version": 0}, "version"),
    ({"version": "3"}, "version"),
    ({"fleet": ""}, "fleet"),
    ({"issued": "2026-12-01T08:00:00"}, "issued"),          # no zone
    ({"extra": 1}, "extra"),
    ({"regions": {"51080": _entry()}}, "regions.'51080'"),
    ({"regions": {"510802": _entry(transport="ftp")}}, "regions.510802.transport"),
    ({"regions": {"510802": _entry(transport="tus")}}, "regions.510802.endpoint"),
    ({"regions": {"510802": _entry(endpoint="https://x")}}, "regions.510802.endpoint"),
    ({"regions": {"510802": _entry(phone="call me")}}, "regions.510802.phone"),
    ({"regions": {"510802": _entry(name="a\nb")}}, "regions.510802.name"),
    ({"regions": {"510802": _entry(name="长" * 201)}}, "regions.510802.name"),
    ({"regions": {"510802": _entry(departments={"hukou": "x"})}}, "departments"),
    ({"regions": {"510802": _entry(departments={"": "x", "Hu-kou": "y"})}}, "departments"),
    ({"regions": {"510802": _entry(keys=[{**GOOD_KEY, "public": "00" * 31}])}}, "public"),
    ({"regions": {"510802": _entry(keys=[{**GOOD_KEY, "key_id": "0" * 16}])}}, "key_id"),
    ({"regions": {"510802": _entry(keys=[{**GOOD_KEY, "suite": "rsa"}])}}, "suite"),
    ({"regions": {"510802": _entry(keys=[{**GOOD_KEY, "not_after": "2025-01-01T00:00:00Z"}])}},
     "keys[0]"),
    ({"regions": {"510802": _entry(keys=[GOOD_KEY, GOOD_KEY])}}, "keys"),
    ({"regions": {"510802": _entry(keys=[GOOD_KEY] * 9)}}, "keys"),
    ({"regions": {"510802": _entry(provinces=["51"])}}, "provinces"),   # exchanges only
    ({"exchanges": {"Nat ional": _entry()}}, "exchanges"),
    ({"exchanges": {"national": _entry(provinces=["5"])}}, "provinces"),
    ({"revoked": [{"key_id": "xyz", "since": "2026-01-01T00:00:00Z"}]}, "revoked[0].key_id"),
])
def test_faults_name_their_field(change: dict[str, Any], where: str) -> None:
    _refused(_doc(**change), where)


def test_newer_schema_has_its_own_code() -> None:
    assert _refused(_doc(schema=2), "schema").code == "newer_schema"


def test_size_and_count_bounds() -> None:
    _refused(b" " * (MAX_DOCUMENT_BYTES + 1), "larger than")
    regions = {str(100000 + i): _entry() for i in range(MAX_REGIONS + 1)}
    _refused(_doc(regions=regions), "regions")
    _refused(b'{"a":' * 5000 + b"1" + b"}" * 5000, "JSON")
    _refused(b'{"format": 1, "format": 2}', "JSON")


def test_revocation_list_reads_and_refuses() -> None:
    good = {"format": REVOCATIONS_FORMAT, "schema": 1, "fleet": "f", "version": 2,
            "issued": "2026-12-07T08:00:00+08:00",
            "revoked": [{"key_id": GOOD_KEY["key_id"], "since": "2026-12-07T08:00:00+08:00",
                         "reason": "私钥泄露"}]}
    assert parse_revocations(json.dumps(good).encode()).revoked[0].reason == "私钥泄露"
    with pytest.raises(DirectoryError):
        parse_revocations(json.dumps({**good, "format": "tongban-region-directory"}).encode())
    with pytest.raises(DirectoryError):
        parse_revocations(json.dumps(_doc()).encode())


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4), max_leaves=20)
_fields = st.sampled_from(["format", "schema", "fleet", "version", "issued", "regions",
                           "exchanges", "revoked"])


def _mutate(doc: Any, path: list[int], value: Any) -> Any:
    """Replace one node of ``doc`` chosen by ``path`` with ``value``."""
    if not path or not isinstance(doc, dict | list) or not doc:
        return value
    keys = list(doc) if isinstance(doc, dict) else list(range(len(doc)))
    chosen = keys[path[0] % len(keys)]
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[chosen] = _mutate(doc[chosen], path[1:], value)   # type: ignore[index]
    return copy


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.lists(st.integers(0, 20), max_size=6), value=_json)
def test_fuzz_mutated_documents_read_or_refuse(path: list[int], value: Any) -> None:
    raw = json.dumps(_mutate(_doc(), path, value)).encode()
    try:
        parse_directory(raw)
    except DirectoryError as exc:
        assert exc.zh and exc.en and len(exc.en) < 600


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400) | st.dictionaries(_fields, _json, max_size=8).map(
    lambda d: json.dumps(d).encode()))
def test_fuzz_arbitrary_bytes_read_or_refuse(raw: bytes) -> None:
    for parse in (parse_directory, parse_revocations):
        try:
            parse(raw)
        except DirectoryError as exc:
            assert exc.zh and exc.en
