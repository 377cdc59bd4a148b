"""Write a :class:`~cityloop.adapters.evaluation.document.Document` as an XLSX workbook.

One sheet per section (title and notes above the table); numbers stay numbers (rates with a
percent format) so offices can compute with them; grade colours fill the score cells.
"""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from cityloop.adapters.evaluation.document import Cell, Document

_FORMATS = {"rate": "0.00%", "ratio": "0.00", "score": "0.00", "count": "0"}
_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(text: str, taken: set[str]) -> str:
    base = _BAD.sub(" ", text).strip()[:28] or "Sheet"
    title, n = base, 2
    while title in taken:
        title = f"{base[:25]} {n}"
        n += 1
    taken.add(title)
    return title


def _value(cell: Cell) -> str | int | float | None:
    if cell.value is None:
        return "—"
    return cell.value


def write_xlsx(document: Document) -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    taken: set[str] = set()
    bold = Font(bold=True)
    for section in document.sections:
        sheet = book.create_sheet(_sheet_title(section.title, taken))
        sheet.append([document.title])
        sheet["A1"].font = Font(bold=True, size=14)
        for line in document.lines:
            sheet.append([line])
        sheet.append([section.title])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True, size=12)
        for line in section.lines:
            sheet.append([line])
        if section.table is None:
            continue
        sheet.append([])
        sheet.append(section.table.columns)
        header_row = sheet.max_row
        for col in range(1, len(section.table.columns) + 1):
            cell = sheet.cell(row=header_row, column=col)
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.fill = PatternFill("solid", fgColor="EEEEEE")
        for row in section.table.rows:
            sheet.append([_value(c) for c in row])
            r = sheet.max_row
            for col, source in enumerate(row, start=1):
                target = sheet.cell(row=r, column=col)
                if source.kind in _FORMATS and source.value is not None:
                    target.number_format = _FORMATS[source.kind]
                if source.fill:
                    target.fill = PatternFill("solid", fgColor=source.fill.lstrip("#").upper())
                    target.font = Font(color="FFFFFF", bold=True)
        sheet.freeze_panes = sheet.cell(row=header_row + 1, column=2)
        sheet.column_dimensions["A"].width = 28
        for col in range(2, len(section.table.columns) + 1):
            sheet.column_dimensions[get_column_letter(col)].width = 13
    if not book.sheetnames:
        book.create_sheet("Report").append([document.title])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
