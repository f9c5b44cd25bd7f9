"""Which subroutines a Type 2 charstring calls (Adobe TN #5177), without drawing it.

A cut font keeps only the subroutines its glyphs call, so a receipt embeds tens of kilobytes
of outlines rather than megabytes of shared subroutines. The walk follows the operand stack
just far enough to know each call's number and each hint mask's length; anything it does not
expect (arithmetic operators, which CJK fonts from Adobe's tools do not use) raises
``Unexpected`` and the caller keeps every subroutine instead.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

CALLSUBR, RETURN, ENDCHAR, CALLGSUBR = 10, 11, 14, 29
STEMS = {1, 3, 18, 23}                     # hstem, vstem, hstemhm, vstemhm
MASKS = {19, 20}                           # hintmask, cntrmask
MAX_DEPTH = 10                             # TN #5177: subroutine nesting limit


class Unexpected(ValueError):
    """A charstring this walk does not follow."""


def bias(count: int) -> int:
    return 107 if count < 1240 else 1131 if count < 33900 else 32768


@dataclass
class Calls:
    """Subroutine numbers (unbiased) that a set of glyphs reaches."""

    gsubrs: Sequence[bytes]
    lsubrs: Sequence[bytes]
    global_used: set[int] = field(default_factory=set)
    local_used: set[int] = field(default_factory=set)

    def glyph(self, charstring: bytes) -> None:
        _Walk(self).run(charstring, 0)


class _Walk:
    """One glyph's walk: its operand stack and stem count cross subroutine calls."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.stack: list[float] = []
        self.stems = 0

    def run(self, code: bytes, depth: int) -> bool:
        """Walk ``code``; True when the glyph ended (endchar) inside it."""
        if depth > MAX_DEPTH:
            raise Unexpected("subroutines nested too deep")
        pos = 0
        while pos < len(code):
            b0 = code[pos]
            if b0 >= 32 or b0 == 28:
                pos = self._number(code, pos)
                continue
            pos += 1
            if b0 == RETURN:
                return False
            if b0 == ENDCHAR:
                return True
            if b0 in (CALLSUBR, CALLGSUBR):
                if self._call(b0 == CALLGSUBR, depth):
                    return True
            elif b0 in STEMS:
                self.stems += len(self.stack) // 2
                self.stack.clear()
            elif b0 in MASKS:
                self.stems += len(self.stack) // 2        # an implied vstem before the mask
                self.stack.clear()
                pos += (self.stems + 7) // 8
            elif b0 == 12:
                if code[pos] not in (34, 35, 36, 37):     # hflex, flex, hflex1, flex1
                    raise Unexpected(f"operator 12 {code[pos]}")
                pos += 1
                self.stack.clear()
            else:
                self.stack.clear()                        # a path operator
        return False

    def _number(self, code: bytes, pos: int) -> int:
        b0 = code[pos]
        if b0 == 28:
            self.stack.append(struct.unpack(">h", code[pos + 1:pos + 3])[0])
            return pos + 3
        if b0 <= 246:
            self.stack.append(b0 - 139)
            return pos + 1
        if b0 <= 250:
            self.stack.append((b0 - 247) * 256 + code[pos + 1] + 108)
            return pos + 2
        if b0 <= 254:
            self.stack.append(-(b0 - 251) * 256 - code[pos + 1] - 108)
            return pos + 2
        self.stack.append(struct.unpack(">i", code[pos + 1:pos + 5])[0] / 65536)
        return pos + 5

    def _call(self, is_global: bool, depth: int) -> bool:
        if not self.stack:
            raise Unexpected("a subroutine call without a number")
        subrs = self.calls.gsubrs if is_global else self.calls.lsubrs
        number = self.stack.pop()
        index = int(number) + bias(len(subrs))
        if index != number + bias(len(subrs)) or not 0 <= index < len(subrs):
            raise Unexpected(f"subroutine {number} out of range")
        (self.calls.global_used if is_global else self.calls.local_used).add(index)
        return self.run(subrs[index], depth + 1)
