"""The signed region directory's lookup: own entry, city, province, exchange; key validity,
revocation and rotation; and no silent fall-through past a region that has its own entry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from directory_docs import SUITE, document, entry, key

from kiosk.routing.directory import RegionDirectory
from kiosk.routing.directory_format import Revocation, parse_directory
from kiosk.routing.lookup import RegionRoute, RegionUnavailable
from kiosk.transfer.envelope import Recipient

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
COUNTY, CITY, PROVINCE = "510802", "510800", "510000"


def _directory(raw: bytes, suite: str = SUITE, **kw: object) -> RegionDirectory:
    return RegionDirectory(parse_directory(raw), suite, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def keys() -> dict[str, tuple[dict[str, object], object]]:
    return {code: key(code) for code in (COUNTY, CITY, PROVINCE, "national", "sichuan")}


def _full(keys: dict, **exchanges: object) -> RegionDirectory:  # type: ignore[type-arg]
    regions = {COUNTY: entry("广元市利州区", [keys[COUNTY][0]], departments={
                   "": "利州区政务服务中心", "hukou": "广元市公安局利州区分局户政科"}),
               CITY: entry("广元市", [keys[CITY][0]], phone="0839-3000000"),
               "500000": entry("重庆市", [key("500000")[0]])}
    return _directory(document(regions, exchanges or None))


def _route(answer: RegionRoute | RegionUnavailable) -> RegionRoute:
    assert isinstance(answer, RegionRoute), answer
    return answer


def test_own_entry_answers_with_its_department_per_category(keys: dict) -> None:  # type: ignore[type-arg]
    directory = _full(keys)
    route = _route(directory.lookup(COUNTY, "hukou", NOW))
    assert (route.served_by, route.fallback) == (COUNTY, "own")
    assert route.department == "广元市公安局利州区分局户政科"
    assert route.key_id == keys[COUNTY][1].key_id
    assert route.recipient == Recipient(COUNTY, keys[COUNTY][1].public)
    assert route.phone == "0816-3260000" and route.transport == "directory"
    # a category without its own department: the entry's default
    assert _route(directory.lookup(COUNTY, "shebao", NOW)).department == "利州区政务服务中心"


def test_county_without_entry_falls_back_to_its_city(keys: dict) -> None:  # type: ignore[type-arg]
    route = _route(_full(keys).lookup("510812", "hukou", NOW))     # 朝天区: no entry
    assert (route.region, route.served_by, route.fallback) == ("510812", CITY, "city")
    assert route.department == "广元市政务服务中心" and route.phone == "0839-3000000"
    # sealed to the city's key, but the header still names the applicant's county
    assert route.recipient == Recipient("510812", keys[CITY][1].public)


def test_falls_back_to_the_province(keys: dict) -> None:  # type: ignore[type-arg]
    route = _route(_full(keys).lookup("500103", "hukou", NOW))     # 渝中区 → 重庆市
    assert (route.served_by, route.fallback) == ("500000", "province")


def test_exchange_route_provincial_before_national(keys: dict) -> None:  # type: ignore[type-arg]
    exchanges = {"national": entry("全国一体化政务服务平台", [keys["national"][0]],
                                   phone="12345"),
                 "sichuan": entry("四川省政务数据交换平台", [keys["sichuan"][0]],
                                  provinces=["51"])}
    directory = _full(keys, **exchanges)
    inner = _route(directory.lookup("510104", "hukou", NOW))       # 成都锦江区: no entry
    assert (inner.served_by, inner.fallback) == ("exchange:sichuan", "exchange")
    assert inner.recipient == Recipient("510104", keys["sichuan"][1].public)
    far = _route(directory.lookup("230102", "hukou", NOW))         # 哈尔滨: nothing at all
    assert (far.served_by, far.phone) == ("exchange:national", "12345")


def test_no_entry_and_no_exchange_is_no_route(keys: dict) -> None:  # type: ignore[type-arg]
    answer = _full(keys).lookup("230102", "hukou", NOW)
    assert isinstance(answer, RegionUnavailable)
    assert (answer.reason, answer.phone, answer.region) == ("no_route", "", "230102")
    assert "230102" in answer.zh and "230102" in answer.en
    for odd in ("", "51080", "5108021", "../../x", "000000"):
        assert _full(keys).lookup(odd, "hukou", NOW).reason == "no_route"  # type: ignore[union-attr]


def test_expired_key_makes_the_region_unavailable_not_its_city(keys: dict) -> None:  # type: ignore[type-arg]
    expired, _ = key(COUNTY, valid=("2025-01-01T00:00:00+08:00", "2026-06-30T00:00:00+08:00"))
    directory = _directory(document({COUNTY: entry("广元市利州区", [expired]),
                                     CITY: entry("广元市", [keys[CITY][0]])}))
    answer = directory.lookup(COUNTY, "hukou", NOW)
    assert isinstance(answer, RegionUnavailable), "must not silently go to the city"
    assert answer.reason == "no_valid_key" and answer.phone == "0816-3260000"
    assert "广元市利州区" in answer.zh and "0816-3260000" in answer.zh
    assert "no receiving key valid now" in answer.en
    # a key not yet started is no better
    early, _ = key(COUNTY, valid=("2027-01-01T00:00:00+08:00", "2028-01-01T00:00:00+08:00"))
    later = _directory(document({COUNTY: entry("广元市利州区", [early])}))
    assert later.lookup(COUNTY, "x", NOW).reason == "no_valid_key"  # type: ignore[union-attr]
    assert isinstance(later.lookup(COUNTY, "x", datetime(2027, 3, 1, tzinfo=UTC)), RegionRoute)


def test_revoked_key_in_the_document_and_published_apart(keys: dict) -> None:  # type: ignore[type-arg]
    doc, made = keys[COUNTY]
    revoked = [{"key_id": made.key_id, "since": "2026-12-01T00:00:00+08:00",
                "reason": "私钥泄露"}]
    directory = _directory(document({COUNTY: entry("广元市利州区", [doc])}, revoked=revoked))
    answer = directory.lookup(COUNTY, "hukou", NOW)
    assert isinstance(answer, RegionUnavailable)
    assert answer.reason == "revoked" and answer.phone == "0816-3260000"
    assert "吊销" in answer.zh and "revoked" in answer.en
    apart = _directory(document({COUNTY: entry("广元市利州区", [doc])}),
                       revoked=[Revocation(made.key_id, NOW, "")])
    assert apart.lookup(COUNTY, "hukou", NOW).reason == "revoked"  # type: ignore[union-attr]


def test_rotation_uses_the_newest_valid_key() -> None:
    old, old_key = key(COUNTY, valid=("2026-01-01T00:00:00+08:00", "2027-01-31T00:00:00+08:00"))
    new, new_key = key(COUNTY, valid=("2026-12-01T00:00:00+08:00", "2028-01-01T00:00:00+08:00"))
    directory = _directory(document({COUNTY: entry("广元市利州区", [new, old])}))
    before = _route(directory.lookup(COUNTY, "hukou", datetime(2026, 11, 1, tzinfo=UTC)))
    during = _route(directory.lookup(COUNTY, "hukou", NOW))
    after = _route(directory.lookup(COUNTY, "hukou", datetime(2027, 6, 1, tzinfo=UTC)))
    assert before.key_id == old_key.key_id
    assert during.key_id == new_key.key_id == after.key_id
    # the new key revoked during the overlap: the old one, still valid, carries on
    revoked = [{"key_id": new_key.key_id, "since": "2026-12-05T00:00:00+08:00", "reason": ""}]
    fallback = _directory(document({COUNTY: entry("广元市利州区", [new, old])},
                                   revoked=revoked))
    assert _route(fallback.lookup(COUNTY, "hukou", NOW)).key_id == old_key.key_id


def test_keys_of_the_kiosks_suite_only() -> None:
    sm2, sm2_key = key(COUNTY, suite="sm2-sm4")
    x25519, _ = key(COUNTY)
    raw = document({COUNTY: entry("广元市利州区", [x25519, sm2])})
    assert _route(_directory(raw, "sm2-sm4").lookup(COUNTY, "a", NOW)).key_id == sm2_key.key_id
    only_sm2 = _directory(document({COUNTY: entry("广元市利州区", [sm2])}))
    assert only_sm2.lookup(COUNTY, "a", NOW).reason == "no_valid_key"  # type: ignore[union-attr]


def test_a_naive_time_is_local_time(keys: dict) -> None:  # type: ignore[type-arg]
    assert isinstance(_full(keys).lookup(COUNTY, "hukou", datetime(2026, 12, 7, 10)),
                      RegionRoute)


def test_tus_route_carries_its_endpoint() -> None:
    doc, _ = key(COUNTY)
    directory = _directory(document({COUNTY: entry(
        "广元市利州区", [doc], transport="tus", endpoint="https://gw.example.cn/lz/files")}))
    route = _route(directory.lookup(COUNTY, "hukou", NOW))
    assert (route.transport, route.endpoint) == ("tus", "https://gw.example.cn/lz/files")
