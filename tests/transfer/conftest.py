"""Fixtures shared by the delivery tests: realistic packages (scanned-looking JPEG pages in
PDFs, a schema-shaped manifest with a fictional applicant), key pairs on disk, and sealing."""

from __future__ import annotations

import io
import random
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from kiosk.caseno import case_number
from kiosk.documents.render import images_to_pdf
from kiosk.manifest import Header, Seal
from kiosk.package import MaterialFile, build_package
from kiosk.transfer.envelope import Recipient, SealWriter, Signer
from kiosk.transfer.keys import KeyFile, Registry, generate, write_private, write_public
from kiosk.transfer.suites import SUITE_NAMES, Role, suite

KIOSK_ID = "510802-0001"
REGION = "500103"
# fictional: no such person, and 990101 is no GB/T 2260 division
APPLICANT_NAME = "柯梦澄"
APPLICANT_ID = "990101200001010012"
APPLICANT_PHONE = "19900000417"
_TEXT = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "


@cache
def page_jpeg(seed: int) -> tuple[bytes, int, int, int]:
    """One scanned-looking page (35-50 KB): paper, a noisy photo block, lines of text.
    Cached for the session: the same seed is the same page."""
    rng, r = np.random.default_rng(seed), random.Random(seed)
    width, height = 560, 792
    pixels = np.full((height, width), 240, np.uint8)
    block = r.randint(40, 200)
    pixels[100:100 + block, 60:500] = np.clip(
        rng.normal(150, 25, (block, 440)), 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels).convert("RGB")
    draw = ImageDraw.Draw(image)
    for y in range(120 + block, height - 40, 26):
        draw.text((40, y), "".join(r.choice(_TEXT) for _ in range(r.randint(10, 60))),
                  fill=(30, 30, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=50)
    return out.getvalue(), width, height, 72


@cache
def _pdf(page_seeds: tuple[int, ...]) -> bytes:
    return images_to_pdf([page_jpeg(s) for s in page_seeds])


@dataclass(frozen=True)
class Built:
    """A package as build_package made it, and everything that went into it."""

    package_id: str
    data: bytes                      # the package ZIP
    manifest: dict[str, Any]
    inputs: dict[str, bytes]         # every file put in, by its name in the manifest
    kwargs: dict[str, Any]           # write_package's arguments, to stream it again


def package_id_for(seed: int) -> str:
    return str(uuid.UUID(int=random.Random(seed).getrandbits(128), version=4))


def _header(rng: random.Random, kiosk_id: str, regions: tuple[str, ...]) -> Header:
    """As kiosk.submission.manifest_header makes it."""
    digits = "".join(str(rng.randint(0, 9)) for _ in range(11))
    return Header.model_validate({
        "case_number": f"{kiosk_id}-250304-{digits[:4]}-{digits[4]}",
        "kiosk_id": kiosk_id,
        "sender": {"org_code": "11510802MB1234567X", "department": "广元市利州区政务服务中心",
                   "region_code": kiosk_id[:6]},
        "receivers": [{"region_code": code, "region_name": "重庆市渝中区",
                       "department": "重庆市公安局渝中区分局", "org_code": "11500103MB0000000Y",
                       "transfer_number": "XT" + "".join(str(rng.randint(0, 9))
                                                         for _ in range(28))}
                      for code in regions],
        "matter": {"code": "GA-HJZM-001", "name": "户籍类证明开具", "mode": "全程网办",
                   "scope": "跨省通办", "case_type": "承诺件",
                   "situation": {"code": "kinship", "name": "亲属关系证明"}},
        "applicant": {"card_type": "resident", "name": APPLICANT_NAME, "name_en": "",
                      "id_number": APPLICANT_ID, "document_number": "", "nationality": "",
                      "phone": APPLICANT_PHONE, "address": "虚构省示例市测试路1号",
                      "postcode": "", "email": "", "verified_by": "id_card_read"},
        "delivery": {"method": "窗口自取", "address": "虚构省示例市测试路1号"},
        "commitments": [{"requirement_id": "r-deferred", "text": "承诺补交原件"}],
    })


def _build(pages: int, seed: int, signer: Signer, package_id: str | None = None,
           regions: tuple[str, ...] = (REGION,)) -> Built:
    rng = random.Random(seed)
    package_id = package_id or package_id_for(seed)
    page_seeds = [seed * 1000 + i for i in range(pages)]
    materials: list[MaterialFile] = []
    while page_seeds:                         # materials of 1 to 4 pages
        count = rng.randint(1, 4)
        take, page_seeds = page_seeds[:count], page_seeds[count:]
        seq = len(materials) + 1
        materials.append(MaterialFile(seq, f"r{seq}", f"m{seq}", f"材料{seq}", "复印件",
                                      len(take), _pdf(tuple(take))))
    seq = len(materials) + 1                  # a 容缺 item, deferred by commitment
    materials.append(MaterialFile(seq, "r-deferred", f"m{seq}", "原件（容缺）", "原件", 0, None,
                                  deferred=True))
    receipt = _pdf((seed * 1000 + 900,))
    slips = {code: _pdf((seed * 1000 + 901 + i,)) for i, code in enumerate(regions)}
    kwargs: dict[str, Any] = {
        "package_id": package_id, "header": _header(rng, signer.kiosk_id, regions),
        "materials": materials, "receipt_pdf": receipt, "slip_pdfs": slips,
        "received_at": datetime(2025, 3, 4, 10, 30, tzinfo=timezone(timedelta(hours=8))),
        "deadline_hours": 2,
        "seal": Seal(suite=signer.suite.name, kiosk_id=signer.kiosk_id,
                     key_id=signer.key_id)}
    data, manifest = build_package(**kwargs)
    pdfs = {m.sequence: m.pdf for m in materials}
    inputs = {e["file"]: pdfs[e["sequence"]] for e in manifest["materials"] if "file" in e}
    for doc in manifest["documents"]:
        inputs[doc["file"]] = receipt if doc["kind"] == "receipt" else slips[doc["region"]]
    return Built(package_id, data, manifest, inputs, kwargs)


@pytest.fixture
def make_package() -> Callable[..., Built]:
    """``make_package(pages, seed, signer=..., package_id=None, regions=(REGION,))``: a
    realistic package whose ``seal`` names ``signer``. Same pages and seed, same content."""
    return _build


@dataclass(frozen=True)
class KeySet:
    """A kiosk's signing key and a region's key of one suite, as files on disk."""

    suite: str
    kiosk: KeyFile
    region: KeyFile
    kiosk_key: Path                  # private (the kiosk's)
    kiosk_pub: Path                  # exported, for the region's registry
    region_key: Path                 # private (the region's)
    region_pub: Path                 # for the kiosk's routing

    @property
    def signer(self) -> Signer:
        assert self.kiosk.private is not None
        return Signer(self.kiosk.owner, suite(self.suite), self.kiosk.private, self.kiosk.public)

    @property
    def recipient(self) -> Recipient:
        return Recipient(self.region.owner, self.region.public)

    @property
    def registry(self) -> Registry:
        return Registry.from_path(self.kiosk_pub)


@pytest.fixture
def make_keys(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., KeySet]:
    """``make_keys(suite, kiosk_id=KIOSK_ID, region=REGION)``: fresh keys, written out."""
    def make(suite_name: str, kiosk_id: str = KIOSK_ID, region: str = REGION) -> KeySet:
        assert suite_name in SUITE_NAMES
        folder = tmp_path_factory.mktemp("keys")
        kiosk = generate(kiosk_id, Role.SIGN, suite_name)
        region_key = generate(region, Role.ENCRYPT, suite_name)
        paths = KeySet(suite_name, kiosk, region_key, folder / "kiosk.key",
                       folder / "kiosk.pub", folder / f"region-{region}.key",
                       folder / f"region-{region}.pub")
        write_private(paths.kiosk_key, kiosk)
        write_public(paths.kiosk_pub, kiosk)
        write_private(paths.region_key, region_key)
        write_public(paths.region_pub, region_key)
        return paths
    return make


def _seal_to_file(package: bytes, signer: Signer, recipient: Recipient, package_id: str,
                  path: Path, piece: int = 100_000) -> Path:
    """Seal ``package`` into ``path``, fed in pieces that straddle record boundaries."""
    with open(path, "wb") as out, SealWriter(out, signer, recipient, package_id) as writer:
        for start in range(0, len(package), piece):
            writer.write(package[start:start + piece])
    return path


@pytest.fixture
def seal_to_file() -> Callable[..., Path]:
    """``seal_to_file(package_bytes, signer, recipient, package_id, path)``."""
    return _seal_to_file


@pytest.fixture
def applicant() -> dict[str, str]:
    """The fictional applicant every package built here carries."""
    return {"name": APPLICANT_NAME, "id_number": APPLICANT_ID, "phone": APPLICANT_PHONE}


def _allocated_numbers(ledger_db: Path, kiosk_id: str) -> list[str]:
    """Every case number the ledger's counters gave out: 1..value of each ``case:<day>``."""
    with closing(sqlite3.connect(ledger_db)) as conn:
        counters = conn.execute("SELECT key, value FROM counters "
                                "WHERE key LIKE 'case:%'").fetchall()
    return [case_number(kiosk_id, date.fromisoformat(key.removeprefix("case:")), seq)
            for key, value in counters for seq in range(1, value + 1)]


@pytest.fixture(scope="session")
def allocated_numbers() -> Callable[[Path, str], list[str]]:
    """``allocated_numbers(ledger_db, kiosk_id)``: what an auditor checks the ledger against
    (every number given out must have its row)."""
    return _allocated_numbers


@pytest.fixture(scope="session")
def s3_server() -> Iterator[Any]:
    """A real S3 API on 127.0.0.1 (rigs/s3_rig.py: moto's server in a thread), one for the
    session; each test makes its own bucket."""
    from rigs.s3_rig import S3Server, moto_available

    if not moto_available():
        pytest.skip("needs moto[server] and boto3 (the dev extra): pip install -e .[dev]")
    server = S3Server().start()
    try:
        yield server
    finally:
        server.stop()
