"""Read an OpenType font with CFF outlines (e.g. Noto Sans CJK, Debian's fonts-noto-cjk):
the character map, advance widths, metrics and the CFF table, from an ``.otf`` or ``.ttc``.

Only what the PDF writer needs; no outside library (none is installed for fonts).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/local/share/fonts/NotoSansCJKsc-Regular.otf",
    "/System/Library/Fonts/PingFang.ttc",
)
PREFERRED_NAMES = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC")


class FontError(Exception):
    pass


@dataclass(frozen=True)
class Font:
    name: str  # PostScript name
    units_per_em: int
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int
    cmap: dict[int, int]  # code point → glyph id
    advances: tuple[int, ...]  # per glyph id
    cff: bytes

    def glyph(self, char: str) -> int:
        return self.cmap.get(ord(char), 0)

    def width(self, gid: int) -> int:
        """Advance in 1/1000 em."""
        adv = self.advances[gid] if gid < len(self.advances) else self.advances[-1]
        return round(adv * 1000 / self.units_per_em)

    def text_width(self, text: str, size: float) -> float:
        return sum(self.width(self.glyph(ch)) for ch in text) * size / 1000


def _tables(data: bytes, offset: int) -> dict[str, tuple[int, int]]:
    (count,) = struct.unpack_from(">H", data, offset + 4)
    out = {}
    for i in range(count):
        tag, _, start, length = struct.unpack_from(">4sIII", data, offset + 12 + 16 * i)
        out[tag.decode("latin-1")] = (start, length)
    return out


def _names(data: bytes, table: tuple[int, int]) -> dict[int, str]:
    start, _ = table
    _, count, strings = struct.unpack_from(">HHH", data, start)
    out: dict[int, str] = {}
    for i in range(count):
        pid, eid, _, nid, length, off = struct.unpack_from(">6H", data, start + 6 + 12 * i)
        raw = data[start + strings + off : start + strings + off + length]
        if pid == 3 and eid in (1, 10):
            out.setdefault(nid, raw.decode("utf-16-be", "replace"))
        elif pid == 1 and eid == 0:
            out.setdefault(nid, raw.decode("latin-1"))
    return out


def _cmap(data: bytes, table: tuple[int, int]) -> dict[int, int]:
    start, _ = table
    _, count = struct.unpack_from(">HH", data, start)
    best: tuple[int, int] | None = None
    for i in range(count):
        pid, eid, off = struct.unpack_from(">HHI", data, start + 4 + 8 * i)
        fmt = struct.unpack_from(">H", data, start + off)[0]
        rank = {(3, 10, 12): 0, (0, 4, 12): 1, (3, 1, 4): 2, (0, 3, 4): 3}.get((pid, eid, fmt))
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, start + off)
    if best is None:
        raise FontError("no Unicode character map")
    base = best[1]
    fmt = struct.unpack_from(">H", data, base)[0]
    out: dict[int, int] = {}
    if fmt == 12:
        (groups,) = struct.unpack_from(">I", data, base + 12)
        for g in range(groups):
            first, last, gid = struct.unpack_from(">III", data, base + 16 + 12 * g)
            for code in range(first, last + 1):
                out[code] = gid + code - first
        return out
    segs = struct.unpack_from(">H", data, base + 6)[0] // 2
    ends = struct.unpack_from(f">{segs}H", data, base + 14)
    starts = struct.unpack_from(f">{segs}H", data, base + 16 + 2 * segs)
    deltas = struct.unpack_from(f">{segs}h", data, base + 16 + 4 * segs)
    ranges_at = base + 16 + 6 * segs
    offsets = struct.unpack_from(f">{segs}H", data, ranges_at)
    for s in range(segs):
        for code in range(starts[s], ends[s] + 1):
            if code == 0xFFFF:
                continue
            if offsets[s] == 0:
                gid = (code + deltas[s]) & 0xFFFF
            else:
                at = ranges_at + 2 * s + offsets[s] + 2 * (code - starts[s])
                gid = struct.unpack_from(">H", data, at)[0]
                gid = (gid + deltas[s]) & 0xFFFF if gid else 0
            if gid:
                out[code] = gid
    return out


def _load(data: bytes, offset: int) -> Font:
    tables = _tables(data, offset)
    if "CFF " not in tables:
        raise FontError("the font has TrueType outlines; a CFF (OpenType/CFF) font is needed")
    head = tables["head"][0]
    upm = struct.unpack_from(">H", data, head + 18)[0]
    bbox = struct.unpack_from(">4h", data, head + 36)
    hhea = tables["hhea"][0]
    ascent, descent = struct.unpack_from(">hh", data, hhea + 4)
    metrics = struct.unpack_from(">H", data, hhea + 34)[0]
    hmtx = tables["hmtx"][0]
    glyphs = struct.unpack_from(">H", data, tables["maxp"][0] + 4)[0]
    advances = [struct.unpack_from(">H", data, hmtx + 4 * i)[0] for i in range(metrics)]
    advances += [advances[-1]] * (glyphs - metrics)
    cap = ascent
    if "OS/2" in tables:
        os2 = tables["OS/2"][0]
        version = struct.unpack_from(">H", data, os2)[0]
        if version >= 2:
            cap = struct.unpack_from(">h", data, os2 + 88)[0]
    names = _names(data, tables["name"])
    cff_at, cff_len = tables["CFF "]
    return Font(
        name=(names.get(6) or names.get(4) or "CJKFont").replace(" ", ""),
        units_per_em=upm,
        bbox=(bbox[0], bbox[1], bbox[2], bbox[3]),
        ascent=ascent,
        descent=descent,
        cap_height=cap,
        cmap=_cmap(data, tables["cmap"]),
        advances=tuple(advances),
        cff=data[cff_at : cff_at + cff_len],
    )


def _family(data: bytes, offset: int) -> str:
    return _names(data, _tables(data, offset)["name"]).get(1, "")


@lru_cache(maxsize=4)
def load_font(path: str) -> Font:
    data = Path(path).read_bytes()
    if data[:4] == b"ttcf":
        (count,) = struct.unpack_from(">I", data, 8)
        offsets = struct.unpack_from(f">{count}I", data, 12)
        families = [_family(data, o) for o in offsets]
        for wanted in PREFERRED_NAMES:
            if wanted in families:
                return _load(data, offsets[families.index(wanted)])
        return _load(data, offsets[0])
    return _load(data, 0)


def find_font(path: str | None = None) -> str:
    """``path`` if given, else the first CJK font found in the usual places."""
    for candidate in ([path] if path else []) + list(CANDIDATES):
        if candidate and Path(candidate).is_file():
            return candidate
    raise FontError("no CJK font with CFF outlines found (install fonts-noto-cjk)")
