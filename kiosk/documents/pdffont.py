"""The PDF font of one document, cut from a font parsed once per process.

fpdf2's ``add_font`` parses the whole 16 MB CJK font for every document and its output step
runs fontTools' subsetter over it (about 1 s per receipt, nine times the cost of drawing the
same text with Pillow). Here the font is parsed once per process (``font_source``: metrics,
cmap, the CFF byte layout). Each document gets a fresh fpdf2 font that shares those read-only
parts, and ``Producer`` embeds it as fpdf2 embeds a CID-keyed CFF font (Type0 over
CIDFontType0, FontFile3 CIDFontType0C, ToUnicode so text can be searched and copied), with
outlines cut by ``CffSource.cut`` from the glyphs the document really used.

Privacy: the cache holds font data only. What depends on a document's text (its subset map,
the widths table fpdf2 may add to, its cut font) is made per document and dropped with it.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.fonts import Glyph, SubsetMap, TTFFont
from fpdf.output import (
    CIDSystemInfo,
    OutputProducer,
    PDFFont,
    PDFFontStream,
    _build_cmap_blocks,
    _cid_font_widths,
)
from fpdf.syntax import Name, PDFArray, PDFContentStream, PDFString, Raw

from kiosk.documents.cff import CffSource

CMAP = ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo\n"
        "<</Registry ({registry})\n/Ordering ({ordering})\n/Supplement {supplement}\n>> def\n"
        "/CMapName /{name} def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\n"
        "endcodespacerange\n{blocks}endcmap\nCMapName currentdict /CMap defineresource pop\n"
        "end\nend")


@dataclass(frozen=True)
class FontSource:
    """One font file, parsed once: what every document's PDF font shares (read-only)."""

    template: TTFFont
    cff: CffSource
    ros: tuple[str, str, int]


@lru_cache(maxsize=2)
def font_source(path: Path) -> FontSource:
    template = TTFFont(FPDF(), path, "template", "")
    if not (template.is_cff and template.is_cid_keyed and template.cff_ros):
        raise ValueError(f"{path.name}: 不是 CID 字体 / not a CID-keyed CFF font")
    source = FontSource(template, CffSource.from_font(template.ttfont), template.cff_ros)
    # fpdf2 reads the parsed font only to embed it (Producer does that from the cut) or to
    # shape text (not used): let go of ~20 MB of tables and the open file
    template.ttfont.close()
    template.ttfont = TTFont()
    return source


class DocumentFont(TTFFont):
    """An fpdf2 font for one document: shared metrics, its own subset map."""

    __slots__ = ("source",)
    source: FontSource

    @classmethod
    def for_document(cls, source: FontSource, family: str, index: int) -> DocumentFont:
        font = cls.__new__(cls)
        template = source.template
        for slot in TTFFont.__slots__:
            if hasattr(template, slot):
                setattr(font, slot, getattr(template, slot))
        font.source, font.i, font.fontkey = source, index, family
        # per document: fpdf2 adds to these as it writes (the width of a character the font
        # lacks, the subset map); shared, they would keep one citizen's characters for the next
        font.cw = defaultdict(lambda: template.desc.missing_width, template.cw)
        font.missing_glyphs, font.biggest_size_pt = [], 0
        font.desc = copy.copy(template.desc)
        font.subset = SubsetMap(font)
        return font


def add_document_font(pdf: FPDF, family: str, path: Path) -> None:
    """``pdf.add_font(family, "", path)`` without parsing the font again; write the PDF
    with ``pdf.output(output_producer_class=Producer)``."""
    pdf.fonts[family] = DocumentFont.for_document(font_source(path), family, len(pdf.fonts) + 1)
    pdf._set_min_pdf_version("1.6")    # as add_font does for a CID-keyed CFF font


def forget_document_text() -> None:
    """Empty fpdf2's memo of which characters its fonts were asked for (kept on the class,
    across documents, until a PDF is written): called whether or not the PDF was written."""
    SubsetMap.pick.cache_clear()
    SubsetMap.get_glyph.cache_clear()


class Producer(OutputProducer):
    """fpdf2's writer, embedding ``DocumentFont``s from their cut outlines."""

    def _add_fonts(self, *args: Any) -> dict[int, Any]:
        fonts = self.fpdf.fonts
        everything = dict(fonts)
        ours = {key: f for key, f in fonts.items() if isinstance(f, DocumentFont)}
        for key in ours:            # fpdf2 embeds the others as usual
            del fonts[key]
        try:
            objects: dict[int, Any] = super()._add_fonts(*args)
        finally:
            fonts.clear()
            fonts.update(everything)
        for font in ours.values():
            objects[font.i] = self._embed(font)
        return objects

    def _embed(self, font: DocumentFont) -> PDFFont:
        name = f"MPDFAA+{font.name}"
        used = [(glyph, code) for glyph, code in font.subset.items() if glyph is not None]
        cids = {code: _cid(glyph) for glyph, code in used}
        type0 = PDFFont(subtype="Type0", base_font=name, encoding="Identity-H")
        self._add_pdf_obj(type0, "fonts")
        widths = {cids[code]: glyph.glyph_width for glyph, code in used}
        cid_font = PDFFont(subtype="CIDFontType0", base_font=name,
                           d_w=font.desc.missing_width, w=_cid_font_widths(widths))
        self._add_pdf_obj(cid_font, "fonts")
        type0.descendant_fonts = PDFArray([cid_font])
        type0.to_unicode = self._stream(_to_unicode(used))
        type0.encoding = self._encoding(font.source.ros, cids)  # type: ignore[assignment]
        info = CIDSystemInfo()
        registry, ordering, supplement = font.source.ros
        info.registry = PDFString(registry, encrypt=True)
        info.ordering = PDFString(ordering, encrypt=True)
        info.supplement = supplement
        self._add_pdf_obj(info, "fonts")
        cid_font.c_i_d_system_info = info
        font.desc.font_name = Name(name)
        self._add_pdf_obj(font.desc, "fonts")
        cid_font.font_descriptor = font.desc
        outlines = PDFFontStream(font.source.cff.cut(
            g.glyph_id for g, _ in used if g.glyph_name.startswith("cid")))
        outlines.subtype = Name("CIDFontType0C")   # type: ignore[attr-defined]
        self._add_pdf_obj(outlines, "fonts")
        font.desc.font_file3 = outlines              # type: ignore[attr-defined]
        return type0

    def _stream(self, text: str) -> PDFContentStream:
        stream = PDFContentStream(text.encode("latin-1"))
        self._add_pdf_obj(stream, "fonts")
        return stream

    def _encoding(self, ros: tuple[str, str, int], cids: dict[int, int]) -> PDFContentStream:
        registry, ordering, supplement = ros
        name = f"{registry}-{ordering}-UCS"
        lines = [f"<{code:04X}> {cid}\n" for code, cid in sorted(cids.items())]
        stream = self._stream(CMAP.format(registry=registry, ordering=ordering,
                                          supplement=supplement, name=name,
                                          blocks=_build_cmap_blocks(lines, "cidchar")))
        stream.type = Name("CMap")                                       # type: ignore[attr-defined]
        stream.c_map_name = Name(name)                                   # type: ignore[attr-defined]
        stream.c_i_d_system_info = Raw(                                  # type: ignore[attr-defined]
            f"<< /Registry ({registry}) /Ordering ({ordering}) /Supplement {supplement} >>")
        return stream


def _cid(glyph: Glyph) -> int:
    name = glyph.glyph_name
    return int(name[3:]) if name.startswith("cid") and name[3:].isdigit() else 0


def _to_unicode(used: list[tuple[Glyph, int]]) -> str:
    """Which text each code stands for: what makes the PDF searchable and copyable."""
    lines = []
    for glyph, code in used:
        if isinstance(glyph.unicode, tuple) and glyph.unicode and glyph.unicode != (0,):
            text = "".join(chr(u) for u in glyph.unicode).encode("utf-16-be").hex().upper()
            lines.append(f"<{code:04X}> <{text}>\n")
    return CMAP.format(registry="Adobe", ordering="UCS", supplement=0,
                       name="Adobe-Identity-UCS", blocks=_build_cmap_blocks(lines, "bfchar"))
