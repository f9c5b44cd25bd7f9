"""The face matcher on image files and on a CSV of pairs (``kiosk face verify``).

Files are named from outside: read as regular files within a size bound
(drivers/fileio.read_bounded), then decoded within the picture bounds (drivers/face/image).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from drivers.errors import BilingualError
from drivers.face import FaceMatch, FaceMatcher
from drivers.face.image import Rgb, load_rgb
from drivers.fileio import FileRefused, read_bounded, shown

MAX_IMAGE_BYTES = 32 << 20      # a 40-megapixel JPEG; a chip's photo is tens of kilobytes
MAX_PAIRS_BYTES = 8 << 20       # about 100,000 lines of two paths
MAX_PAIRS = 100_000


class PairsRefused(BilingualError):
    code = "bad_pairs"


def read_face_image(path: Path, *, side: str = "") -> Rgb:
    return load_rgb(read_bounded(path, MAX_IMAGE_BYTES), side=side)


def compare_files(matcher: FaceMatcher, document: Path, live: Path) -> FaceMatch:
    return matcher.compare(read_face_image(document, side="document"),
                           read_face_image(live, side="live"))


def read_pairs(path: Path) -> Iterator[tuple[Path, Path]]:
    """(document, live) per row of a CSV with the columns ``document`` and ``live``; relative
    names are taken from the CSV's own folder. PairsRefused for a file that is not such a CSV
    (checked before the first pair is given, so nothing is half done)."""
    text = _text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip() for c in reader.fieldnames or []]
    if "document" not in columns or "live" not in columns:
        raise PairsRefused(f"{shown(path)}：第一行须有 document 和 live 两列",
                           f"{shown(path)}: the first line must name the columns "
                           "document and live")
    reader.fieldnames = columns
    rows = list(_rows(reader, path))
    base = path.parent
    return iter([(base / d, base / v) for d, v in rows])


def _text(path: Path) -> str:
    data = read_bounded(path, MAX_PAIRS_BYTES)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused(f"不是 UTF-8 文本：{shown(path)}",
                          f"Not UTF-8 text: {shown(path)}", code="not_text") from None


def _rows(reader: csv.DictReader[str], path: Path) -> Iterator[tuple[str, str]]:
    try:
        for n, row in enumerate(reader, start=2):
            if n - 1 > MAX_PAIRS:
                raise PairsRefused(f"{shown(path)}：超过 {MAX_PAIRS} 对",
                                   f"{shown(path)}: more than {MAX_PAIRS} pairs")
            document, live = (row.get("document") or "").strip(), (row.get("live") or "").strip()
            if not document or not live:
                raise PairsRefused(f"{shown(path)} 第 {n} 行：缺少 document 或 live",
                                   f"{shown(path)} line {n}: document or live is missing")
            yield document, live
    except csv.Error as exc:
        raise PairsRefused(f"{shown(path)}：CSV 格式错误（{exc}）",
                           f"{shown(path)}: not a valid CSV ({exc})") from None
