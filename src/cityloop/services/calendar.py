"""Administering the working calendar (工作日历): holidays and make-up working days.

The seeded statutory calendar ends with 2026; each year an administrator enters the State
Council's notice. Deadlines already set are not recomputed by such a change (a deadline is
fixed when its clock starts), which keeps every recorded decision explainable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from cityloop.domain.audit import Change
from cityloop.domain.errors import DomainError, Msg, PermissionDeniedError, ValidationError
from cityloop.domain.roles import Actor, Role
from cityloop.domain.sla.calendar import DayKind, WorkCalendar, WorkWindow
from cityloop.services import audit
from cityloop.services.catalog_admin import RowProblem, RowsRejectedError, cell_text
from cityloop.services.ports import UnitOfWork

MAX_NAME = 50
FIRST_YEAR, LAST_YEAR = 1990, 2200


def _admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise PermissionDeniedError(
            "admin_only", "Only an administrator may change the working calendar"
        )


def _kind(kind: DayKind | str | None) -> DayKind | None:
    try:
        return DayKind(kind) if kind is not None else None
    except ValueError as exc:
        raise ValidationError(
            "day_kind_invalid",
            "{kind} is not a kind of day; use holiday or workday",
            kind=str(kind),
        ) from exc


def _check_name(name: str) -> str:
    if len(name) > MAX_NAME:
        raise ValidationError("day_name_too_long", "A holiday name has at most 50 characters")
    return name.strip()


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError("year_invalid", "Year {year} is out of range", year=year)


def _override(uow: UnitOfWork, day: date) -> tuple[DayKind, str] | None:
    for when, kind, name in uow.sla.overrides_between(day, day):
        if when == day:
            return kind, name
    return None


def _day_record(value: tuple[DayKind, str] | None) -> dict[str, Any]:
    if value is None:
        return {"kind": None}
    return {"kind": value[0].value, "name": value[1]}


def _write_day(
    uow: UnitOfWork, day: date, kind: DayKind | None, name: str, *, actor: Actor, now: datetime
) -> None:
    before = _override(uow, day)
    uow.sla.set_override(day, kind, name)
    after = (kind, name) if kind is not None else None
    audit.record(
        uow,
        actor,
        now,
        entity="calendar_day",
        key=day.isoformat(),
        change=Change.UPDATE,
        before=_day_record(before),
        after=_day_record(after),
        summary=f"{day.isoformat()}: {before[0].value if before else 'normal'}"
        f" → {kind.value if kind else 'normal'}",
    )


def set_day(
    uow: UnitOfWork,
    day: date,
    kind: DayKind | str | None,
    *,
    name: str = "",
    actor: Actor,
    now: datetime,
) -> None:
    """Make ``day`` a holiday, a make-up working day, or (``None``) an ordinary day again."""
    _admin(actor)
    parsed = _kind(kind)
    clean = _check_name(name)
    _check_year(day.year)
    with uow:
        _write_day(uow, day, parsed, clean, actor=actor, now=now)
        uow.commit()


def next_kind(calendar: WorkCalendar, day: date) -> DayKind | None:
    """The next state of a day clicked in the year view: ordinary → holiday → make-up working
    day → ordinary. A day that is a working day by the week skips the make-up state (it is a
    working day already)."""
    current = calendar.overrides.get(day)
    if current is None:
        return DayKind.HOLIDAY
    if current is DayKind.HOLIDAY and not calendar.week[day.weekday()]:
        return DayKind.WORKDAY
    return None


def cycle_day(uow: UnitOfWork, day: date, *, actor: Actor, now: datetime) -> DayKind | None:
    """Move ``day`` to its :func:`next_kind` (a holiday's name is kept for its make-up day)."""
    _admin(actor)
    _check_year(day.year)
    with uow:
        kind = next_kind(uow.sla.calendar(), day)
        before = _override(uow, day)
        name = before[1] if before is not None and kind is not None else ""
        _write_day(uow, day, kind, name, actor=actor, now=now)
        uow.commit()
    return kind


def confirm_year(uow: UnitOfWork, year: int, *, actor: Actor, now: datetime) -> None:
    """Record that ``year``'s holiday notice is entered (silences the missing-year warning)."""
    _admin(actor)
    _check_year(year)
    with uow:
        uow.sla.mark_year_known(year)
        audit.record(
            uow,
            actor,
            now,
            entity="calendar_year",
            key=year,
            change=Change.UPDATE,
            after={"confirmed": True},
            summary=f"{year}: holiday notice confirmed",
        )
        uow.commit()


# -- the year view ---


@dataclass(frozen=True, slots=True)
class YearDays:
    """A year of the working calendar as the administrator sees it."""

    year: int
    kinds: dict[date, str]  # every day: workday, rest, holiday or makeup
    names: dict[date, str]  # holiday names of overridden days
    known: bool  # the year's holiday notice is entered (or confirmed to need none)
    calendar: WorkCalendar
    custom_makeup: bool  # make-up days have windows of their own

    def count(self, kind: str) -> int:
        return sum(1 for k in self.kinds.values() if k == kind)


def year_days(uow: UnitOfWork, year: int, *, actor: Actor) -> YearDays:
    _admin(actor)
    _check_year(year)
    first, last = date(year, 1, 1), date(year, 12, 31)
    with uow:
        calendar = uow.sla.calendar()
        names = {day: name for day, _, name in uow.sla.overrides_between(first, last)}
        custom = uow.sla.custom_makeup_windows()
    kinds = {}
    day = first
    while day <= last:
        kinds[day] = calendar.day_kind(day)
        day += timedelta(days=1)
    return YearDays(year, kinds, names, calendar.covers_year(year), calendar, custom)


# -- the working week ---


def set_work_week(
    uow: UnitOfWork,
    *,
    week: Mapping[int, Sequence[WorkWindow]],
    makeup_windows: Sequence[WorkWindow] | None,
    hours_per_workday: Decimal,
    actor: Actor,
    now: datetime,
) -> WorkCalendar:
    """Set the weekly working windows (Monday = 0), the windows of make-up working days
    (None: a weekday's) and the hours of one working day (工作日 = that many 工作时).

    Deadlines already set keep their instants; stages started later count in the new hours.
    """
    _admin(actor)
    if hours_per_workday != hours_per_workday.quantize(Decimal("0.01")):
        raise ValidationError(
            "hours_per_workday_precision", "Hours of a working day have at most two decimals"
        )
    with uow:
        current = uow.sla.calendar()
        updated = WorkCalendar(
            tz=current.tz,
            week={d: tuple(week.get(d, ())) for d in range(7)},
            makeup_windows=makeup_windows,
            hours_per_workday=hours_per_workday,
        )
        before = _week_record(current, uow.sla.custom_makeup_windows())
        after = _week_record(updated, makeup_windows is not None)
        if before == after:
            return current
        uow.sla.set_week(updated, custom_makeup=makeup_windows is not None)
        audit.record(
            uow,
            actor,
            now,
            entity="calendar_week",
            key="default",
            change=Change.UPDATE,
            before=before,
            after=after,
            summary=f"working week: {after['hours_per_workday']} h per working day",
        )
        uow.commit()
    return updated


def _week_record(calendar: WorkCalendar, custom_makeup: bool) -> dict[str, Any]:
    return {
        "week": {str(d): [str(w) for w in calendar.week[d]] for d in range(7)},
        "makeup_windows": [str(w) for w in calendar.makeup_windows] if custom_makeup else None,
        "hours_per_workday": str(calendar.hours_per_workday.normalize()),
    }


# -- importing a year ---

# Spellings of a day's kind in an imported file (the seed file writes makeup_workday).
_KINDS: dict[str, DayKind] = {
    "holiday": DayKind.HOLIDAY,
    "休": DayKind.HOLIDAY,
    "假": DayKind.HOLIDAY,
    "放假": DayKind.HOLIDAY,
    "节假日": DayKind.HOLIDAY,
    "法定节假日": DayKind.HOLIDAY,
    "workday": DayKind.WORKDAY,
    "makeup": DayKind.WORKDAY,
    "makeup_workday": DayKind.WORKDAY,
    "班": DayKind.WORKDAY,
    "上班": DayKind.WORKDAY,
    "补班": DayKind.WORKDAY,
    "调休上班": DayKind.WORKDAY,
}
# Column names: key → accepted headers.
CALENDAR_COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("date", "日期"),
    "kind": ("kind", "类型"),
    "name": ("name", "holiday_zh", "名称", "节日"),
}


@dataclass(frozen=True, slots=True)
class YearImport:
    year: int
    holidays: int
    workdays: int
    other_years: int  # rows of other years, left out


def _column(line: Mapping[str, Any], key: str) -> Any:
    lowered = {str(k).strip().lower(): v for k, v in line.items()}
    for header in CALENDAR_COLUMNS[key]:
        value = lowered.get(header)
        if value is not None and cell_text(value) != "":
            return value
    return None


def parse_day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value).replace("/", "-").replace(".", "-")
    try:
        y, m, d = (int(part) for part in text.split("-"))
        return date(y, m, d)
    except ValueError as exc:
        raise ValidationError(
            "day_invalid", "{value} is not a date; write it as 2027-01-01", value=text
        ) from exc


def parse_day_kind(value: Any) -> DayKind:
    text = cell_text(value).lower()
    kind = _KINDS.get(text)
    if kind is None:
        raise ValidationError(
            "day_kind_invalid",
            "{kind} is not a kind of day; use holiday or workday",
            kind=text,
        )
    return kind


def import_year(
    uow: UnitOfWork,
    year: int,
    rows: Sequence[tuple[int, Mapping[str, Any]]],
    *,
    actor: Actor,
    now: datetime,
) -> YearImport:
    """Replace ``year``'s holidays and make-up working days by the file's (``rows``: line
    number, values by header ``date``, ``kind``, ``name``), and mark the year entered.

    Rows of other years are left out (the shipped file covers 2004–2026). Any bad row of the
    year raises :class:`RowsRejectedError` and nothing changes.
    """
    _admin(actor)
    _check_year(year)
    if not rows:
        raise ValidationError("import_empty", "The file has no rows to import")
    present = {str(k).strip().lower() for _, line in rows for k in line}
    for key in ("date", "kind"):
        if not present & set(CALENDAR_COLUMNS[key]):
            raise ValidationError(
                "import_column_missing", "The file has no column {column}", column=key
            )
    problems: list[RowProblem] = []
    days: dict[date, tuple[DayKind, str]] = {}
    first_row: dict[date, int] = {}
    other = 0
    for row, line in rows:
        try:
            day = parse_day(_column(line, "date"))
        except DomainError as exc:
            problems.append(RowProblem(row, Msg("Date"), exc))
            continue
        if day.year != year:
            other += 1
            continue
        try:
            kind = parse_day_kind(_column(line, "kind"))
        except DomainError as exc:
            problems.append(RowProblem(row, Msg("Kind of day"), exc))
            continue
        try:
            name = _check_name(cell_text(_column(line, "name")))
        except DomainError as exc:
            problems.append(RowProblem(row, Msg("Name"), exc))
            continue
        if day in days:
            problems.append(
                RowProblem(
                    row,
                    Msg("Date"),
                    ValidationError(
                        "day_repeated",
                        "{day} appears again (first in row {row})",
                        day=day.isoformat(),
                        row=first_row[day],
                    ),
                )
            )
            continue
        days[day] = (kind, name)
        first_row[day] = row
    if problems:
        raise RowsRejectedError(problems)
    if not days:
        raise ValidationError("import_year_empty", "The file has no day of {year}", year=year)
    first, last = date(year, 1, 1), date(year, 12, 31)
    entries = [(day, kind, name) for day, (kind, name) in sorted(days.items())]
    with uow:
        before = uow.sla.overrides_between(first, last)
        uow.sla.replace_overrides(first, last, entries)
        result = YearImport(
            year=year,
            holidays=sum(1 for _, k, _ in entries if k is DayKind.HOLIDAY),
            workdays=sum(1 for _, k, _ in entries if k is DayKind.WORKDAY),
            other_years=other,
        )
        audit.record(
            uow,
            actor,
            now,
            entity="calendar_year",
            key=year,
            change=Change.IMPORT,
            before={d.isoformat(): [k.value, n] for d, k, n in before},
            after={d.isoformat(): [k.value, n] for d, k, n in entries},
            summary=f"{year}: {result.holidays} holidays, {result.workdays} make-up working days",
        )
        uow.commit()
    return result
