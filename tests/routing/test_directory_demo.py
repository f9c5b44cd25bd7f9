"""The demo fleet's region directory (assets/demo/regions/directory.toml): it builds with the
operator's tool, routes the ten demo regions to themselves and everyone else to the national
exchange — and a package sealed by that answer opens with the exchange's key only."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fleetops.directory_table import build_document
from kiosk.routing.directory import RegionDirectory
from kiosk.routing.directory_format import parse_directory
from kiosk.routing.lookup import RegionRoute
from kiosk.transfer.envelope import SealError, SealWriter, open_sealed, read_header
from kiosk.transfer.keys import DeviceKeys, load

ROOT = Path(__file__).resolve().parents[2]
REGIONS = ROOT / "assets" / "demo" / "regions"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=["x25519-chacha20", "sm2-sm4"])
def demo(request: pytest.FixtureRequest) -> RegionDirectory:
    raw = build_document(REGIONS / "directory.toml", fleet="demo-sichuan", version=1)
    return RegionDirectory(parse_directory(raw), request.param)


def test_demo_regions_route_to_themselves(demo: RegionDirectory) -> None:
    for code in ("110101", "150100", "150102", "150203", "500000", "500103", "510107",
                 "510800", "510802", "510824"):
        route = demo.lookup(code, "hukou", NOW)
        assert isinstance(route, RegionRoute) and route.fallback == "own", route
        own = load(REGIONS / f"region-{code}-{demo.suite}.pub")
        assert route.recipient.public_key == own.public


def test_others_go_to_their_city_province_or_the_exchange(demo: RegionDirectory) -> None:
    served = {code: demo.lookup(code, "hukou", NOW) for code in
              ("510812", "500104", "370602", "150121")}
    assert {c: getattr(r, "served_by", r) for c, r in served.items()} == {
        "510812": "510800", "500104": "500000", "370602": "exchange:national",
        "150121": "150100"}


def test_a_package_for_an_exchange_region_opens_with_the_exchange_key_only(
        demo: RegionDirectory, tmp_path: Path) -> None:
    route = demo.lookup("370602", "hukou", NOW)          # 烟台市芝罘区: no entry of its own
    assert isinstance(route, RegionRoute)
    signer = DeviceKeys(tmp_path / "keys", "510802-0001").signer(demo.suite)
    sealed = io.BytesIO()
    with SealWriter(sealed, signer, route.recipient, str(uuid.uuid4())) as writer:
        writer.write(b"application package")
    opened = []
    for owner in ("000000", "510802"):
        source = io.BytesIO(sealed.getvalue())
        header, raw = read_header(source)
        assert header.recipient == "370602"              # the handling region, named
        private = load(REGIONS / f"region-{owner}-{demo.suite}.key").private
        assert private is not None
        out = io.BytesIO()
        try:
            open_sealed(source, out, header, raw, private, signer.public_key)
            opened.append((owner, out.getvalue()))
        except SealError:
            opened.append((owner, None))
    assert opened == [("000000", b"application package"), ("510802", None)]
