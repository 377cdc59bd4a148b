"""Plain spreadsheets (XLSX) for lists and administrator tables: one header row, then values.

Used by the search export (a centre's report columns) and by the import/export of
administrator tables (filing standards, calendar years). Base-data layers with geometry have
their own reader and writer in :mod:`cityloop.adapters.io.tables`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from cityloop.domain.errors import ValidationError

MAX_ROWS = 200_000


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # Excel has no time zones: the caller localises
    if value is None or isinstance(value, str | int | float | date):
        return value
    return str(value)


def write_sheet(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "Sheet1"
) -> bytes:
    """An XLSX file with a bold, frozen header row and columns wide enough to read."""
    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31] or "Sheet1"
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [max(6, len(str(h)) * 2) for h in headers]
    for row in rows:
        values = [_cell(v) for v in row]
        sheet.append(values)
        for i, value in enumerate(values[: len(widths)]):
            if isinstance(value, datetime):
                sheet.cell(row=sheet.max_row, column=i + 1).number_format = "yyyy-mm-dd hh:mm"
                widths[i] = max(widths[i], 17)
            elif value is not None:
                widths[i] = min(
                    60,
                    max(
                        widths[i],
                        len(str(value)) * 2 if isinstance(value, str) else len(str(value)) + 2,
                    ),
                )
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_sheet(data: bytes, *, sheet: str | None = None) -> list[dict[str, Any]]:
    """The rows of an XLSX file as ``{header: value}``; blank rows are skipped."""
    return [row for _, row in read_numbered_sheet(data, sheet=sheet)]


def read_numbered_sheet(
    data: bytes, *, sheet: str | None = None
) -> list[tuple[int, dict[str, Any]]]:
    """:func:`read_sheet` with each row's number in the sheet (the header is row 1), for
    messages that point at a row."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
        raise ValidationError("xlsx_invalid", "The file is not an Excel (XLSX) workbook") from exc
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
    except KeyError as exc:
        raise ValidationError(
            "xlsx_sheet_missing", "The workbook has no sheet {name}", name=sheet or ""
        ) from exc
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise ValidationError("xlsx_empty", "The workbook has no header row")
    names = [str(h).strip() if h is not None else "" for h in header]
    result = []
    for number, values in enumerate(rows, start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        result.append((number, {n: v for n, v in zip(names, values, strict=False) if n}))
        if len(result) > MAX_ROWS:
            raise ValidationError(
                "xlsx_too_many_rows", "The workbook has more than {max} rows", max=MAX_ROWS
            )
    book.close()
    return result
