"""Administration (应用维护): the working calendar (工作日历).

A year view of twelve month grids; a click on a day cycles it ordinary → holiday → make-up
working day → ordinary (htmx swaps the one cell; without JavaScript the form posts and the page
comes back). Below: the weekly working windows and hours of a working day, importing a year's
holiday notice (CSV or XLSX: ``date,kind,name``), and confirming a year.
"""

from __future__ import annotations

import calendar as cal
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from cityloop.domain.errors import DomainError, Msg, ValidationError
from cityloop.domain.sla.calendar import WorkWindow, parse_window
from cityloop.entrypoints.web.context import Page
from cityloop.entrypoints.web.routes.admin import AdminDep
from cityloop.entrypoints.web.routes.admin.catalog import problem_lines, read_table, read_upload
from cityloop.services import calendar as svc
from cityloop.services.catalog_admin import RowsRejectedError

router = APIRouter(prefix="/admin", include_in_schema=False)

WEEKDAYS = (
    Msg("Monday"),
    Msg("Tuesday"),
    Msg("Wednesday"),
    Msg("Thursday"),
    Msg("Friday"),
    Msg("Saturday"),
    Msg("Sunday"),
)
WEEKDAYS_SHORT = (
    Msg("Mo"),
    Msg("Tu"),
    Msg("We"),
    Msg("Th"),
    Msg("Fr"),
    Msg("Sa"),
    Msg("Su"),
)
MONTHS = (
    Msg("January"),
    Msg("February"),
    Msg("March"),
    Msg("April"),
    Msg("May"),
    Msg("June"),
    Msg("July"),
    Msg("August"),
    Msg("September"),
    Msg("October"),
    Msg("November"),
    Msg("December"),
)
# What each kind of day is called in the legend and the cells' titles.
KINDS = {
    "workday": Msg("Working day"),
    "rest": Msg("Weekend"),
    "holiday": Msg("Holiday"),
    "makeup": Msg("Make-up working day"),
}
_SEPARATORS = re.compile(r"[,;，；、\s]+")


def _this_year(p: Page) -> int:
    return p.now.astimezone(p.tz).year


def month_grid(year: int, month: int) -> list[list[date | None]]:
    """The weeks of a month, Monday first; days of other months are None."""
    weeks = cal.Calendar(firstweekday=0).monthdatescalendar(year, month)
    return [[d if d.month == month else None for d in week] for week in weeks]


def week_values(days: svc.YearDays) -> dict[str, str]:
    calendar = days.calendar
    values = {f"w{d}": ", ".join(str(w) for w in calendar.week[d]) for d in range(7)}
    values["makeup"] = (
        ", ".join(str(w) for w in calendar.makeup_windows) if days.custom_makeup else ""
    )
    values["hours"] = f"{calendar.hours_per_workday.normalize():f}"
    return values


def _page(
    p: Page,
    year: int,
    *,
    notice: str = "",
    week: dict[str, str] | None = None,
    week_errors: dict[str, str] | None = None,
    week_error: str = "",
    import_error: str = "",
    problems: list[tuple[int, str, str]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    days = svc.year_days(p.container.uow(readonly=True), year, actor=p.actor)
    return p.render(
        "admin/calendar.html",
        status=status,
        year=year,
        days=days,
        months=[(MONTHS[m - 1], month_grid(year, m)) for m in range(1, 13)],
        weekdays=WEEKDAYS,
        weekdays_short=WEEKDAYS_SHORT,
        kinds=KINDS,
        today=p.now.astimezone(p.tz).date(),
        notice=notice,
        week=week or week_values(days),
        week_errors=week_errors or {},
        week_error=week_error,
        import_error=import_error,
        problems=problems or [],
        tz_name=str(days.calendar.tz),
    )


def _notice(p: Page, done: str, args: dict[str, int]) -> str:
    if done == "week":
        return p.t("The working week is saved. Deadlines already set stay as they are.")
    if done == "confirmed":
        return p.t("Year {year} is confirmed as entered.", year=args.get("year", ""))
    if done == "imported":
        return p.t(
            "Imported {year}: {holidays} holidays and {workdays} make-up working days"
            " ({other} rows of other years left out).",
            year=args.get("year", ""),
            holidays=args.get("holidays", 0),
            workdays=args.get("workdays", 0),
            other=args.get("other", 0),
        )
    if done == "unchanged":
        return p.t("Nothing changed.")
    return ""


@router.get("/calendar", response_class=HTMLResponse)
async def calendar_page(
    p: AdminDep,
    year: Annotated[int | None, Query(ge=svc.FIRST_YEAR, le=svc.LAST_YEAR)] = None,
    done: str = "",
    holidays: int = 0,
    workdays: int = 0,
    other: int = 0,
) -> HTMLResponse:
    chosen = year or _this_year(p)
    counts = {"year": chosen, "holidays": holidays, "workdays": workdays, "other": other}
    notice = _notice(p, done, counts)
    return await run_in_threadpool(_page, p, chosen, notice=notice)


def _back(year: int, **args: Any) -> RedirectResponse:
    query = urlencode({"year": year, **args})
    return RedirectResponse(f"/admin/calendar?{query}", status_code=303)


@router.post("/calendar/day")
async def cycle_day(p: AdminDep, request: Request) -> Response:
    """Move a day to its next kind; an htmx request gets the new cell (and the counts)."""
    form = await request.form()
    p.check_csrf(str(form.get("_csrf", "")))
    raw = str(form.get("day", ""))
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationError(
            "day_invalid", "{value} is not a date; write it as 2027-01-01", value=raw
        ) from exc
    await run_in_threadpool(svc.cycle_day, p.container.uow(), day, actor=p.actor, now=p.now)
    if not request.headers.get("hx-request"):
        return _back(day.year)
    days = await run_in_threadpool(
        svc.year_days, p.container.uow(readonly=True), day.year, actor=p.actor
    )
    return p.render(
        "admin/calendar_day.html",
        day=day,
        days=days,
        kinds=KINDS,
        today=p.now.astimezone(p.tz).date(),
        oob=True,
    )


def parse_windows(text: str) -> list[WorkWindow]:
    """``08:00-12:00, 14:00-18:00`` → windows (commas, semicolons or spaces between)."""
    return [parse_window(part) for part in _SEPARATORS.split(text.strip()) if part]


def parse_week(
    values: dict[str, str],
) -> tuple[
    tuple[dict[int, list[WorkWindow]], list[WorkWindow] | None, Decimal] | None,
    dict[str, DomainError],
]:
    """The week, the make-up windows and the hours from the form, or each field's error."""
    errors: dict[str, DomainError] = {}
    week: dict[int, list[WorkWindow]] = {}
    for d in range(7):
        try:
            week[d] = parse_windows(values.get(f"w{d}", ""))
        except DomainError as exc:
            errors[f"w{d}"] = exc
    makeup: list[WorkWindow] | None = None
    try:
        makeup = parse_windows(values.get("makeup", "")) or None
    except DomainError as exc:
        errors["makeup"] = exc
    hours = Decimal(0)
    try:
        hours = Decimal(values.get("hours", "").strip())
        if not hours.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        errors["hours"] = ValidationError(
            "number_invalid", "{value} is not a number", value=values.get("hours", "")
        )
    if errors:
        return None, errors
    return (week, makeup, hours), {}


@router.post("/calendar/week")
async def save_week(p: AdminDep, request: Request) -> Response:
    form = await request.form()
    p.check_csrf(str(form.get("_csrf", "")))
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "_csrf"}
    year = _year(values.get("year", ""), p)
    parsed, errors = parse_week(values)
    if parsed is None:
        return await run_in_threadpool(
            _page,
            p,
            year,
            week=values,
            week_errors={k: p.message(e) for k, e in errors.items()},
            week_error=p.t("Some fields are missing or invalid"),
            status=422,
        )
    week, makeup, hours = parsed
    try:
        await run_in_threadpool(
            svc.set_work_week,
            p.container.uow(),
            week=week,
            makeup_windows=makeup,
            hours_per_workday=hours,
            actor=p.actor,
            now=p.now,
        )
    except DomainError as exc:
        return await run_in_threadpool(
            _page, p, year, week=values, week_error=p.message(exc), status=422
        )
    return _back(year, done="week")


def _year(raw: str, p: Page) -> int:
    try:
        year = int(raw)
    except ValueError:
        return _this_year(p)
    return year if svc.FIRST_YEAR <= year <= svc.LAST_YEAR else _this_year(p)


@router.post("/calendar/import")
async def import_year(p: AdminDep, request: Request) -> Response:
    fields, upload = await read_upload(request, p)
    year = _year(fields.get("year", ""), p)
    try:
        rows = await read_table(upload)
        result = await run_in_threadpool(
            svc.import_year, p.container.uow(), year, rows, actor=p.actor, now=p.now
        )
    except RowsRejectedError as exc:
        return await run_in_threadpool(
            _page,
            p,
            year,
            import_error=p.message(exc),
            problems=problem_lines(p, exc.problems),
            status=422,
        )
    except DomainError as exc:
        return await run_in_threadpool(_page, p, year, import_error=p.message(exc), status=422)
    return _back(
        year,
        done="imported",
        holidays=result.holidays,
        workdays=result.workdays,
        other=result.other_years,
    )


@router.post("/calendar/confirm")
async def confirm_year(p: AdminDep, request: Request) -> Response:
    form = await request.form()
    p.check_csrf(str(form.get("_csrf", "")))
    raw = str(form.get("year", ""))
    if not raw.isdigit():
        raise ValidationError("year_invalid", "Year {year} is out of range", year=raw)
    year = int(raw)
    await run_in_threadpool(svc.confirm_year, p.container.uow(), year, actor=p.actor, now=p.now)
    return _back(year, done="confirmed")
