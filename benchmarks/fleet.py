"""Fleet configuration: what a poll costs on the wire and in time, against plain GETs.

    .venv/bin/python benchmarks/fleet.py [--out FILE.json] [--repeat N]

Bytes are what the kiosk received: bodies (the 404 page of the root probe included) and
response headers.
- no_change_poll: a kiosk's check when nothing was published (TUF refresh: the root probe
  and a conditional GET of timestamp.json answered 304) vs one plain GET of timestamp.json.
- update_1mb: a check that finds a new ~1 MB bundle (timestamp, snapshot, targets, bundle,
  verified) vs one plain GET of the same bundle file.
- update_1mb_delegated: the same for a kiosk whose city signs its bundles (TUF delegation:
  one more metadata file, the city's), the city publishing and the province's timer job
  listing it; vs the same plain GET.
- heartbeat: the retained status document's size (kiosk.fleet.status.sample_status).
The broker under 1,000 kiosks is benchmarks/fleet_broker.py.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fleetops.delegation import (  # noqa: E402
    delegate,
    new_city_key,
    read_public_key,
    role_name,
)
from fleetops.repo import KeyStore, Repository  # noqa: E402
from kiosk.fleet.bundle import new_bundle  # noqa: E402
from kiosk.fleet.client import ConfigClient  # noqa: E402
from kiosk.fleet.status import offline_status, sample_status  # noqa: E402
from rigs.static_site import StaticSite  # noqa: E402

KIOSK, CITY_KIOSK, CITY = "510802-0001", "510107-0001", "510100"


def _bundle(version: int, size: int, kiosk: str = KIOSK) -> object:
    rng = random.Random(version)
    # a catalogue-like text that does not compress to nothing
    words = ["户籍", "证明", "社保", "转移", "医保", "material", "necessity", "situation"]
    text = "\n".join(" ".join(rng.choice(words) for _ in range(12)) for _ in range(size // 60))
    # and an image-like file that does not compress at all: ~1 MB on the wire in total
    logo = rng.randbytes(size - size // 10)
    return new_bundle("bench", kiosk, version, ["defaults"],
                      {"settings.toml": b"schema_version = 1\n",
                       "catalogue.yaml": text.encode()[: size // 2], "logo.png": logo})


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def run(repeat: int) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    try:
        repo = Repository(tmp / "public", KeyStore(tmp / "keys"))
        root = repo.init()
        repo.publish([_bundle(1, 1_000_000)], version=1)   # type: ignore[list-item]
        with StaticSite(repo.folder) as site, httpx.Client() as plain:
            client = ConfigClient(fleet="bench", kiosk_id=KIOSK, repository=site.url, root=root,
                                  state_dir=tmp / "kiosk")
            client.check(None)
            poll_ms, poll_bytes, poll_requests, get_ms = [], [], [], []
            traffic = client.fetcher.traffic
            for _ in range(repeat):
                traffic.reset()
                start = time.perf_counter()
                assert client.check(1) is None
                poll_ms.append(_ms(start))
                poll_bytes.append(traffic.bytes_in + traffic.header_bytes_in)
                poll_requests.append(traffic.requests)
                start = time.perf_counter()
                plain.get(site.url + "metadata/timestamp.json").raise_for_status()
                get_ms.append(_ms(start))

            def province(version: int) -> object:
                bundle = _bundle(version, 1_000_000)
                repo.publish([bundle], version=version)  # type: ignore[list-item]
                return bundle
            update = _updates(repeat, repo, client, plain, site.url, KIOSK, province)
            client.close()

            city_repo = Repository(repo.folder, KeyStore(tmp / "city-keys"))
            public = new_city_key(city_repo.keys, CITY)

            def city(version: int) -> object:
                bundle = _bundle(version, 1_000_000, CITY_KIOSK)
                city_repo.publish_delegated(role_name(CITY), [bundle],  # type: ignore[list-item]
                                            version=version)
                repo.refresh_timestamp()             # the province's timer lists it
                return bundle
            city(repo.bundle_version() + 1)
            delegate(repo, CITY, read_public_key(public), [CITY_KIOSK])
            client = ConfigClient(fleet="bench", kiosk_id=CITY_KIOSK, repository=site.url,
                                  root=root, state_dir=tmp / "city-kiosk")
            client.check(None)
            delegated = _updates(repeat, repo, client, plain, site.url, CITY_KIOSK, city)
            client.close()
        status = json.dumps(sample_status(KIOSK), ensure_ascii=False,
                            separators=(",", ":")).encode()
        offline = json.dumps(offline_status(KIOSK), separators=(",", ":")).encode()
        med = statistics.median
        return {
            "no_change_poll": {
                "requests": med(poll_requests), "bytes_in": med(poll_bytes),
                "ms": round(med(poll_ms), 2), "baseline_plain_get_ms": round(med(get_ms), 2),
                "ratio": round(med(poll_ms) / med(get_ms), 2)},
            "update_1mb": update,
            "update_1mb_delegated": delegated,
            "heartbeat": {"status_bytes": len(status), "offline_will_bytes": len(offline)},
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _updates(repeat: int, repo: Repository, client: ConfigClient, plain: httpx.Client,
             url: str, kiosk: str, publish: Callable[[int], object]) -> dict[str, object]:
    """``repeat`` rounds of: publish a new ~1 MB bundle, the kiosk's check that takes it,
    then one plain GET of the same file (the baseline)."""
    update_ms, update_bytes, bundle_get_ms, bundle_size = [], [], [], 0
    traffic = client.fetcher.traffic
    for _ in range(repeat):
        version = repo.bundle_version() + 1
        bundle_size = len(publish(version).to_bytes())  # type: ignore[attr-defined]
        traffic.reset()
        start = time.perf_counter()
        got = client.check(version - 1)
        update_ms.append(_ms(start))
        assert got is not None and got.version == version
        update_bytes.append(traffic.bytes_in + traffic.header_bytes_in)
        name = max((repo.targets_dir / "kiosks" / kiosk).glob("*.zip"),
                   key=lambda p: p.stat().st_mtime_ns).name
        start = time.perf_counter()
        plain.get(f"{url}targets/kiosks/{kiosk}/{name}").raise_for_status()
        bundle_get_ms.append(_ms(start))
    med = statistics.median
    return {"bundle_bytes": bundle_size, "bytes_in": med(update_bytes),
            "bytes_over_bundle": round(med(update_bytes) / bundle_size, 3),
            "ms": round(med(update_ms), 2),
            "baseline_plain_get_ms": round(med(bundle_get_ms), 2),
            "ratio": round(med(update_ms) / med(bundle_get_ms), 2)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=9)
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    text = json.dumps(run(args.repeat), ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
