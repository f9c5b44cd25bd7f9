"""The application package: a versioned JSON manifest, one PDF per material, the receipt
and the transfer slip, in one ZIP (stored, not compressed: PDFs and JPEGs do not shrink).

The manifest is :class:`kiosk.manifest.Manifest` (DESIGN §7), which the tests check against
``schemas/package-manifest.schema.json``; a package another machine made is read with
:func:`unpack_package`, under the rules of :mod:`kiosk.untrusted`.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, cast

from kiosk.manifest import (
    MANIFEST_VERSION,
    DocumentEntry,
    Header,
    Manifest,
    MaterialEntry,
    OriginalOrCopy,
    Seal,
    Times,
    parse_manifest,
)
from kiosk.untrusted import (
    Limits,
    Untrusted,
    check_distinct,
    check_name,
    copy_member,
    open_zip,
    read_member,
)

SCHEMA_PATH = Path(__file__).with_name("schemas") / "package-manifest.schema.json"
MANIFEST_FILE = "manifest.json"
MAX_MANIFEST_BYTES = 4 << 20
# what a region opens at most: a big application is a few hundred pages, some 100 MB
LIMITS = Limits(files=1000, total_bytes=1 << 30)
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
    original_checked: bool = False     # 原件核验 by hall staff: evidence grade B
    category: str = "申请材料"          # or 代办委托书 (the agent's 委托书, staff mode)


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
            name=m.name, category=m.category,
            # a str from the catalogue's enum: the model checks it is one of three at run time
            original_or_copy=cast(OriginalOrCopy, m.original_or_copy),
            pages=m.pages, deferred=m.deferred,
            # C: scanned at a kiosk, the original still to be checked; B: staff checked it
            evidence_grade="D" if m.deferred else "B" if m.original_checked else "C")
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
        schema_version=MANIFEST_VERSION, package_id=package_id,
        **header.model_dump(exclude_none=True),        # an absent optional is never null
        materials=entries, documents=documents,
        times=Times(received_at=received_at.isoformat(timespec="seconds"),
                    transfer_deadline=deadline.isoformat(timespec="seconds")),
        seal=seal)
    files[MANIFEST_FILE] = manifest.to_json()
    _zip(out, files)
    return manifest


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _zip(out: IO[bytes], files: dict[str, bytes]) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            archive.writestr(info, files.pop(name))   # pop: drop each file once written


def unpack_package(source: IO[bytes], folder: Path, limits: Limits = LIMITS
                   ) -> tuple[dict[str, Any], Manifest]:
    """Check a package another machine made and write the files its manifest lists into
    ``folder`` (new and empty), each checked against its sha256; else Untrusted, and
    ``folder`` holds rubbish the caller removes. Every name is untrusted; a file the manifest
    does not list is never written; memory holds one chunk, never a file."""
    with open_zip(source, limits) as archive:
        members = {info.filename: info for info in archive.infolist()}
        if MANIFEST_FILE not in members:
            raise Untrusted("申请包缺少清单", "the package has no manifest.json",
                            code="invalid_manifest")
        data, manifest = parse_manifest(read_member(archive, members.pop(MANIFEST_FILE),
                                                    MAX_MANIFEST_BYTES))
        listed = listed_files(manifest)
        _check_listing(set(members), set(listed))
        for name, sha256 in listed.items():
            _unpack_one(archive, members[name], folder / name, sha256)
    return data, manifest


def listed_files(manifest: Manifest) -> dict[str, str]:
    """Every file the manifest lists, and its sha256; the names checked as untrusted."""
    listed: dict[str, str] = {}
    for m in manifest.materials:
        if (m.file is None) != (m.sha256 is None):
            raise Untrusted(f"清单中第 {m.sequence} 项材料的文件与校验值不成对",
                            f"manifest material {m.sequence}: a file without its sha256 "
                            "or a sha256 without its file", code="invalid_manifest")
        if m.file is not None and m.sha256 is not None:
            listed[check_name(m.file)] = m.sha256
    for d in manifest.documents:
        listed[check_name(d.file)] = d.sha256
    check_distinct([MANIFEST_FILE, *listed])      # also: no file listed twice
    return listed


def _check_listing(present: set[str], listed: set[str]) -> None:
    if unlisted := sorted(present - listed):
        raise Untrusted("申请包含有清单未列出的文件",
                        f"files not listed in the manifest: {', '.join(unlisted[:5])}",
                        code="unlisted_file")
    if missing := sorted(listed - present):
        raise Untrusted("申请包缺少清单列出的文件",
                        f"files listed in the manifest are missing: {', '.join(missing[:5])}",
                        code="missing_file")


def _unpack_one(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path,
                sha256: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with open(path, "xb") as out:          # x: a name can never reach a file already there
        def write(chunk: bytes) -> None:
            digest.update(chunk)
            out.write(chunk)
        copy_member(archive, info, write)
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != sha256:
        raise Untrusted(f"文件与清单的校验值不符：{info.filename}",
                        f"{info.filename}: sha256 does not match the manifest",
                        code="hash_mismatch")
