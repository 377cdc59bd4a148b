"""Write a :class:`~cityloop.adapters.evaluation.document.Document` as a PDF (1.7) whose
Chinese text renders anywhere: the CJK font is embedded (a CFF subset, ``FontFile3`` /
``CIDFontType0C``) as a Type 0 font with ``Identity-H`` encoding, and a ``ToUnicode`` map makes
the text searchable and extractable. A4 landscape; tables break across pages and repeat
their header row.

Written by hand because no PDF library is installed here; see docs/evaluation.md.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field

from cityloop.adapters.evaluation.cff import Cff
from cityloop.adapters.evaluation.document import Cell, Document, Table
from cityloop.adapters.evaluation.fonts import Font, find_font, load_font

PAGE_W, PAGE_H = 841.89, 595.28  # A4 landscape, points
MARGIN = 36.0
TITLE, HEADING, BODY, SMALL = 15.0, 11.0, 8.5, 7.0
LINE_COLOUR = "0.7 0.7 0.7"


def _rgb(colour: str) -> str:
    c = colour.lstrip("#")
    r, g, b = (int(c[i : i + 2], 16) / 255 for i in (0, 2, 4))
    # A light tint of the grade colour keeps the number readable on it.
    return " ".join(f"{0.65 + 0.35 * v:.3f}" for v in (r, g, b))


@dataclass
class _Page:
    ops: list[str] = field(default_factory=list)


class _Writer:
    def __init__(self, font: Font) -> None:
        self.font = font
        self.pages: list[_Page] = []
        self.used: set[int] = set()
        self.chars: dict[int, str] = {}  # glyph → the character it was drawn for
        self.y = 0.0
        self.new_page()

    # -- primitives ---

    def new_page(self) -> None:
        self.pages.append(_Page())
        self.y = PAGE_H - MARGIN

    @property
    def ops(self) -> list[str]:
        return self.pages[-1].ops

    def encode(self, text: str) -> str:
        gids = []
        for ch in text:
            gid = self.font.glyph(ch)
            self.chars.setdefault(gid, ch)
            gids.append(gid)
        self.used.update(gids)
        return "".join(f"{g:04X}" for g in gids)

    def text(self, x: float, y: float, text: str, size: float, grey: float = 0.0) -> None:
        if not text:
            return
        self.ops.append(
            f"BT {grey:.2f} g /F1 {size:.2f} Tf {x:.2f} {y:.2f} Td <{self.encode(text)}> Tj ET"
        )

    def width(self, text: str, size: float) -> float:
        return self.font.text_width(text, size)

    def fit(self, text: str, size: float, room: float) -> str:
        if self.width(text, size) <= room:
            return text
        while text and self.width(text + "…", size) > room:
            text = text[:-1]
        return text + "…"

    def wrap(self, text: str, size: float, room: float) -> list[str]:
        """Break at spaces where there are any (English), else between characters (CJK)."""
        lines: list[str] = []
        current = ""
        tokens = text.split(" ") if " " in text else list(text)
        joiner = " " if " " in text else ""
        for token in tokens:
            trial = f"{current}{joiner}{token}" if current else token
            if self.width(trial, size) <= room or not current:
                current = trial
            else:
                lines.append(current)
                current = token
        if current:
            lines.append(current)
        return lines or [""]

    def need(self, height: float) -> bool:
        """Start a new page if ``height`` does not fit; True if it did."""
        if self.y - height < MARGIN + 14:
            self.new_page()
            return True
        return False

    # -- blocks ---

    def paragraph(self, text: str, size: float, gap: float = 4.0, grey: float = 0.0) -> None:
        for line in self.wrap(text, size, PAGE_W - 2 * MARGIN):
            self.need(size + gap)
            self.y -= size + gap
            self.text(MARGIN, self.y, line, size, grey)

    def _widths(self, table: Table, size: float) -> list[float]:
        """Each column as wide as its widest cell, and its header's longest word (a CJK
        header may wrap after four characters)."""
        out = []
        for index, header in enumerate(table.columns):
            tokens = header.split(" ") if " " in header else [header[:4]]
            head = max(self.width(t, SMALL) for t in tokens) if tokens else 0.0
            cells = [self.width(row[index].text(), size) for row in table.rows]
            out.append(max([head, *cells]) + 6)
        return out

    def table(self, table: Table) -> None:
        room = PAGE_W - 2 * MARGIN
        size = BODY
        widths = self._widths(table, size)
        if sum(widths) > room:  # shrink the type, down to a legible minimum
            size = max(5.5, size * room / sum(widths))
            widths = self._widths(table, size)
        total = sum(widths)
        widths = [w * room / total for w in widths]  # fill the line (or squeeze, truncating)
        row_h = size + 4.5
        header = [self.wrap(c, SMALL, w - 4) for c, w in zip(table.columns, widths, strict=True)]
        header_h = max(len(h) for h in header) * (SMALL + 1.5) + 5

        def draw_header() -> None:
            self.need(header_h + row_h)
            top = self.y
            self.rect(MARGIN, top - header_h, room, header_h, "0.93 0.93 0.93")
            x = MARGIN
            for lines, w in zip(header, widths, strict=True):
                for i, line in enumerate(lines):
                    self.text(x + 2, top - (i + 1) * (SMALL + 1.5), line, SMALL)
                x += w
            self.y = top - header_h

        draw_header()
        for row in table.rows:
            if self.need(row_h):
                draw_header()
            top = self.y
            x = MARGIN
            for cell, w in zip(row, widths, strict=True):
                self.cell(cell, x, top, w, size, row_h)
                x += w
            self.ops.append(
                f"{LINE_COLOUR} RG 0.4 w {MARGIN:.2f} {top - row_h:.2f} m "
                f"{MARGIN + room:.2f} {top - row_h:.2f} l S"
            )
            self.y = top - row_h

    def cell(self, cell: Cell, x: float, top: float, w: float, size: float, h: float) -> None:
        if cell.fill:
            self.rect(x, top - h, w, h, _rgb(cell.fill))
        text = self.fit(cell.text(), size, w - 4)
        base = top - h + (h - size) / 2 + 1
        if cell.kind == "text":
            self.text(x + 2, base, text, size)
        else:
            self.text(x + w - 2 - self.width(text, size), base, text, size)

    def rect(self, x: float, y: float, w: float, h: float, rgb: str) -> None:
        self.ops.append(f"{rgb} rg {x:.2f} {y:.2f} {w:.2f} {h:.2f} re f")


def _stream(body: bytes, extra: str = "") -> bytes:
    packed = zlib.compress(body, 6)
    head = f"<< /Length {len(packed)} /Filter /FlateDecode{extra} >>\nstream\n".encode()
    return head + packed + b"\nendstream"


def _to_unicode(chars: dict[int, str]) -> bytes:
    """Each glyph maps back to the character the text drew it for (glyphs shared by, e.g.,
    门 U+95E8 and the radical ⻔ U+2ED4 must give back the one that was written)."""
    pairs = [(g, ch) for g, ch in sorted(chars.items()) if g]
    lines = [
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
        "1 begincodespacerange <0000> <FFFF> endcodespacerange",
    ]
    for start in range(0, len(pairs), 100):
        chunk = pairs[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        for gid, ch in chunk:
            lines.append(f"<{gid:04X}> <{ch.encode('utf-16-be').hex().upper()}>")
        lines.append("endbfchar")
    lines += ["endcmap CMapName currentdict /CMap defineresource pop end end"]
    return "\n".join(lines).encode("ascii")


def _pdf_string(text: str) -> str:
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def write_pdf(document: Document, font_path: str | None = None) -> bytes:
    """The PDF of ``document`` (raises ``FontError`` without a CJK CFF font)."""
    font = load_font(find_font(font_path))
    w = _Writer(font)
    w.paragraph(document.title, TITLE, gap=6)
    for line in document.lines:
        w.paragraph(line, BODY, gap=4, grey=0.25)
    for section in document.sections:
        w.y -= 8
        w.need(HEADING + 40)
        w.paragraph(section.title, HEADING, gap=6)
        for line in section.lines:
            w.paragraph(line, BODY, gap=3, grey=0.25)
        if section.table is not None:
            w.y -= 4
            w.table(section.table)
    total = len(w.pages)
    for number, page in enumerate(w.pages, start=1):
        footer = f"{document.footer}  {number} / {total}".strip()
        w.pages[number - 1] = page
        w.pages[number - 1].ops.append(
            f"BT 0.45 g /F1 {SMALL:.2f} Tf {MARGIN:.2f} {MARGIN - 14:.2f} Td "
            f"<{w.encode(footer)}> Tj ET"
        )

    subset = Cff(font.cff).subset(w.used)
    digest = hashlib.sha256(",".join(map(str, sorted(w.used))).encode()).digest()
    name = "".join(chr(65 + b % 26) for b in digest[:6]) + "+" + font.name
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in at the end
    pages_obj = add(b"")
    font_file = add(_stream(subset, " /Subtype /CIDFontType0C"))
    x0, y0, x1, y1 = (round(v * 1000 / font.units_per_em) for v in font.bbox)
    descriptor = add(
        (
            f"<< /Type /FontDescriptor /FontName /{name} /Flags 4 "
            f"/FontBBox [{x0} {y0} {x1} {y1}] /ItalicAngle 0 "
            f"/Ascent {round(font.ascent * 1000 / font.units_per_em)} "
            f"/Descent {round(font.descent * 1000 / font.units_per_em)} "
            f"/CapHeight {round(font.cap_height * 1000 / font.units_per_em)} /StemV 80 "
            f"/FontFile3 {font_file} 0 R >>"
        ).encode()
    )
    widths = " ".join(f"{g} [{font.width(g)}]" for g in sorted(w.used))
    cid_font = add(
        (
            f"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /{name} "
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
            f"/FontDescriptor {descriptor} 0 R /DW 1000 /W [{widths}] >>"
        ).encode()
    )
    to_unicode = add(_stream(_to_unicode(w.chars)))
    type0 = add(
        (
            f"<< /Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H "
            f"/DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>"
        ).encode()
    )
    page_ids = []
    for page in w.pages:
        content = add(_stream("\n".join(page.ops).encode("ascii")))
        page_ids.append(
            add(
                (
                    f"<< /Type /Page /Parent {pages_obj} 0 R "
                    f"/MediaBox [0 0 {PAGE_W:.2f} {PAGE_H:.2f}] "
                    f"/Resources << /Font << /F1 {type0} 0 R >> >> /Contents {content} 0 R >>"
                ).encode()
            )
        )
    kids = " ".join(f"{p} 0 R" for p in page_ids)
    objects[pages_obj - 1] = f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode()
    lang = "zh-CN" if document.language.startswith("zh") else "en"
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_obj} 0 R /Lang ({lang}) >>".encode()
    info = add(f"<< /Title {_pdf_string(document.title)} /Producer (cityloop) >>".encode())

    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R /Info {info} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)
