"""The application package: a versioned JSON manifest, one PDF per material, the receipt
and the transfer slip, in one ZIP (stored, not compressed: PDFs and JPEGs do not shrink).

The manifest is :class:`kiosk.manifest.Manifest` (DESIGN §7), which the tests check against
``schemas/package-manifest.schema.json``.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from kiosk.manifest import DocumentEntry, Header, Manifest, MaterialEntry, Seal, Times

SCHEMA_PATH = Path(__file__).with_name("schemas") / "package-manifest.schema.json"
# a fixed timestamp inside the ZIP keeps the same content byte-identical
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class MaterialFile:
    sequence: int
    requirement_id: str
    material_id: str
    name: str
    original_or_copy: str
    pages: int
    pdf: bytes | None          # None for a 容缺 item deferred by commitment
    deferred: bool = False


def build_package(**kwargs: Any) -> tuple[bytes, dict[str, Any]]:
    """The package in memory (tests, tools); the kiosk streams it with :func:`write_package`."""
    out = io.BytesIO()
    manifest = write_package(out, **kwargs)
    return out.getvalue(), manifest.model_dump(mode="json", exclude_none=True)


def write_package(out: IO[bytes], *, package_id: str, header: Header,
                  materials: list[MaterialFile], receipt_pdf: bytes, slip_pdfs: dict[str, bytes],
                  received_at: datetime, deadline_hours: float, seal: Seal) -> Manifest:
    """Zip the package into ``out`` (which may be a sealing stream: nothing is kept whole in
    memory but one file at a time). ``header`` comes from the application; this adds files,
    hashes and times. ``seal`` names the suite, kiosk id and key id it will be signed with."""
    files: dict[str, bytes] = {}
    entries = []
    for m in materials:
        entry = MaterialEntry(
            sequence=m.sequence, requirement_id=m.requirement_id, material_id=m.material_id,
            name=m.name, category="申请材料", original_or_copy=m.original_or_copy,
            pages=m.pages, deferred=m.deferred,
            # evidence grade C: scanned at a kiosk; a window still checks the original
            evidence_grade="D" if m.deferred else "C")
        if m.pdf is not None:
            name = f"materials/{m.sequence:02d}-{m.material_id}.pdf"
            files[name] = m.pdf
            entry = entry.model_copy(update={"file": name, "format": "application/pdf",
                                             "sha256": _sha(m.pdf)})
        entries.append(entry)
    documents = [DocumentEntry(kind="receipt", file="receipt.pdf", sha256=_sha(receipt_pdf))]
    files["receipt.pdf"] = receipt_pdf
    for region, pdf in sorted(slip_pdfs.items()):
        name = f"transfer-slip-{region}.pdf"
        files[name] = pdf
        documents.append(DocumentEntry(kind="transfer_slip", region=region, file=name,
                                       sha256=_sha(pdf)))
    deadline = received_at + timedelta(hours=deadline_hours)
    manifest = Manifest(
        package_id=package_id, **header.model_dump(), materials=tuple(entries),
        documents=tuple(documents),
        times=Times(received_at=received_at.isoformat(timespec="seconds"),
                    transfer_deadline=deadline.isoformat(timespec="seconds")),
        seal=seal)
    files["manifest.json"] = manifest.to_json()
    _zip(out, files)
    return manifest


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _zip(out: IO[bytes], files: dict[str, bytes]) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            archive.writestr(info, files.pop(name))   # pop: drop each file once written


def read_package(source: bytes | IO[bytes] | Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Open a package and check every file against the manifest's sha256."""
    with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(files.pop("manifest.json"))
    listed = [*manifest["materials"], *manifest["documents"]]
    for item in listed:
        if "file" in item and _sha(files.get(item["file"], b"")) != item["sha256"]:
            raise ValueError(f"{item['file']}: sha256 does not match the manifest")
    return manifest, files
