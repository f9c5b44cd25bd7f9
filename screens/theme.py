"""Sizes, colours and fonts for the kiosk, in two flavours: standard and 长辈版 (older users).

Sizes are in physical millimetres at the panel's stated dpi (``ui.screen_dpi``), because the
rules we follow are physical: touch targets at least 15 mm, text readable at arm's length.
长辈版: text ×1.5, line spacing ≥ 1.3, fewer items per page, higher contrast.
"""

from __future__ import annotations

from dataclasses import dataclass

MM_PER_INCH = 25.4
MIN_TARGET_MM = 15.0

RGBA = tuple[float, float, float, float]


def rgb(hex_colour: str, alpha: float = 1.0) -> RGBA:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, alpha)


@dataclass(frozen=True)
class Palette:
    background: RGBA
    surface: RGBA
    text: RGBA
    muted: RGBA
    primary: RGBA          # main action (blue: the government-service colour)
    on_primary: RGBA
    secondary: RGBA        # other actions
    on_secondary: RGBA
    ok: RGBA               # always paired with a ✓ and a word, never colour alone
    problem: RGBA          # always paired with a × and a word
    warning: RGBA
    outline: RGBA
    disabled: RGBA


STANDARD = Palette(
    background=rgb("F3F6FA"), surface=rgb("FFFFFF"), text=rgb("1A1F29"), muted=rgb("4F5B6B"),
    primary=rgb("1456B8"), on_primary=rgb("FFFFFF"), secondary=rgb("E3EAF5"),
    on_secondary=rgb("0E3C80"), ok=rgb("1D7A3A"), problem=rgb("B3261E"), warning=rgb("8A5A00"),
    outline=rgb("9AA8BA"), disabled=rgb("C9D1DC"),
)
# 长辈版: near-black on white, darker actions, thicker outlines (contrast ≥ 7:1 for body text).
ELDER = Palette(
    background=rgb("FFFFFF"), surface=rgb("FFFFFF"), text=rgb("000000"), muted=rgb("2B2B2B"),
    primary=rgb("0B3D91"), on_primary=rgb("FFFFFF"), secondary=rgb("FFF2B3"),
    on_secondary=rgb("000000"), ok=rgb("0F5A27"), problem=rgb("8E1510"), warning=rgb("6B4500"),
    outline=rgb("000000"), disabled=rgb("BDBDBD"),
)


@dataclass(frozen=True)
class Theme:
    dpi: float
    elder: bool = False
    landscape: bool = False

    @property
    def palette(self) -> Palette:
        return ELDER if self.elder else STANDARD

    @property
    def scale(self) -> float:
        return 1.5 if self.elder else 1.0

    @property
    def line_height(self) -> float:
        return 1.4 if self.elder else 1.3

    @property
    def show_second_language(self) -> bool:
        """长辈版 hides the second language: fewer words on the screen to read."""
        return not self.elder

    def mm(self, millimetres: float) -> float:
        return millimetres * self.dpi / MM_PER_INCH

    def font(self, points: float) -> float:
        """Font size in pixels for a size in typographic points, scaled for 长辈版."""
        return points * self.dpi / 72 * self.scale

    @property
    def target(self) -> float:
        """Smallest touch target side in pixels (15 mm; 18 mm in 长辈版)."""
        return self.mm(18.0 if self.elder else MIN_TARGET_MM)

    @property
    def gap(self) -> float:
        return self.mm(3.0)

    @property
    def pad(self) -> float:
        return self.mm(6.0)

    def per_page(self, standard: int) -> int:
        """Items per page: fewer for older users (no scrolling, bigger rows)."""
        return max(2, standard // 2) if self.elder else standard

    # named text sizes (points)
    @property
    def title(self) -> float:
        return self.font(28)

    @property
    def body(self) -> float:
        return self.font(18)

    @property
    def small(self) -> float:
        return self.font(13)

    @property
    def button(self) -> float:
        return self.font(20)
