"""What every evaluation page shares: the period and scope chosen, the section's tabs, how
values are written, and the facts brought up to date before reading (standards.md §7).

A period travels in the address as its key (``period=2026-11``, ``2026-Q4``, ``2026``,
``2026-W48``, ``2026-11-23``, ``2026-11-01..2026-11-15``); the period form sends its parts
(``pk`` and the field of that kind), which are read into the same key. No period means the
current month in the city's time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from cityloop.domain.case import Source
from cityloop.domain.errors import DomainError, Msg, ValidationError
from cityloop.domain.evaluation import indicators as ind
from cityloop.domain.evaluation.periods import (
    Period,
    PeriodKind,
    month_of,
    parse_period,
    quarter_of,
    year_of,
)
from cityloop.domain.evaluation.scheme import Scheme, Transform
from cityloop.domain.evaluation.subjects import KIND_LABELS, Family, SubjectKind, parse_kind
from cityloop.domain.regions import RegionLevel
from cityloop.entrypoints.api.errors import STATUS
from cityloop.entrypoints.presentation import label, show_value
from cityloop.entrypoints.web.context import Page, page
from cityloop.services import evaluation as svc
from cityloop.services.queries import evaluation as q

PageDep = Annotated[Page, Depends(page)]
T = TypeVar("T")

PERIOD_KINDS: list[tuple[str, Msg]] = [
    ("month", Msg("Month")),
    ("quarter", Msg("Quarter")),
    ("year", Msg("Year")),
    ("week", Msg("Week")),
    ("day", Msg("Day")),
    ("custom", Msg("Custom range")),
]
FAMILIES: list[tuple[Family, Msg, tuple[SubjectKind, ...]]] = [
    (Family.POST, Msg("Post evaluation"), (SubjectKind.INSPECTOR, SubjectKind.OPERATOR,
                                 SubjectKind.SHIFT_LEAD, SubjectKind.DISPATCHER)),
    (Family.DEPARTMENT, Msg("Department evaluation"), (SubjectKind.DEPARTMENT,)),
    (Family.REGION, Msg("Region evaluation"), (SubjectKind.DISTRICT, SubjectKind.STREET,
                                     SubjectKind.COMMUNITY, SubjectKind.GRID)),
    (Family.CENTRE, Msg("Centre statistics"), (SubjectKind.CENTRE,)),
]  # fmt: skip
GRADE_NAMES = ("A", "B", "C", "D", "E")


@dataclass(frozen=True, slots=True)
class Selection:
    """The period and the district a page shows (``district`` None: the caller's whole scope)."""

    period: Period
    district: str | None

    @property
    def key(self) -> str:
        return self.period.key

    def query(self, **extra: Any) -> str:
        pairs: list[tuple[str, str]] = [("period", self.period.key)]
        if self.district:
            pairs.append(("district", self.district))
        pairs += [(k, str(v)) for k, v in extra.items() if v not in (None, "", False)]
        return urlencode(pairs)

    def moved(self, n: int) -> Selection:
        return Selection(self.period.shift(n), self.district)

    def at(self, period: Period) -> Selection:
        return Selection(period, self.district)


def _date(text: str, what: Msg) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            "date_invalid", "{field}: {value} is not a date", field=what, value=text
        ) from None


def period_key(params: Mapping[str, str]) -> str | None:
    """The period key from the address: ``period``, or the period form's parts."""
    key = (params.get("period") or "").strip()
    if key:
        return key
    kind = params.get("pk", "")
    if not kind:
        return None
    value = (params.get(kind) or "").strip()
    if kind == "custom":
        first = (params.get("from") or "").strip()
        last = (params.get("to") or "").strip()
        if not first or not last:
            raise ValidationError(
                "period_custom_incomplete", "A custom period needs its first and last day"
            )
        return f"{_date(first, Msg('From')).isoformat()}..{_date(last, Msg('To')).isoformat()}"
    if kind not in {k for k, _ in PERIOD_KINDS}:
        raise ValidationError("period_kind_invalid", "{value} is not a kind of period", value=kind)
    if not value:
        raise ValidationError("period_missing", "Choose the period to evaluate")
    return value


def selection_of(p: Page, request: Request) -> Selection:
    """The selection from the address; a district user always gets its district."""
    params = request.query_params
    key = period_key(params)
    today = p.now.astimezone(p.tz).date()
    period = parse_period(key) if key else month_of(today)
    district = (params.get("district") or "").strip() or None
    scope = q.reader_scope(p.actor, district)
    city_wide = p.actor.district_code is None
    if district is not None and city_wide and district not in {c for c, _ in districts(p)}:
        raise ValidationError(
            "district_unknown", "There is no district {district}", district=district
        )
    return Selection(period, scope)


def current(p: Page) -> Selection:
    return Selection(month_of(p.now.astimezone(p.tz).date()), p.actor.district_code)


def refresh(p: Page, district: str | None) -> None:
    """Fold new case events into the facts before reading (cheap when nothing is new)."""
    q.reader_scope(p.actor, district)  # refuse before doing any work
    svc.refresh_facts(p.container.uow(readonly=True), p.container.uow(), now=p.now)


async def load(p: Page, request: Request, work: Callable[[Selection], T]) -> tuple[
    Selection | None, T | None, str, int
]:  # fmt: skip
    """Read the selection, refresh the facts and run ``work`` off the event loop.

    Returns (selection, result, error message, status); a domain error (a bad period, a
    district outside the caller's scope) becomes a message shown in the page."""
    try:
        sel = selection_of(p, request)
    except DomainError as exc:
        return None, None, p.message(exc), STATUS.get(exc.kind, 400)

    def run() -> T:
        refresh(p, sel.district)
        return work(sel)

    try:
        return sel, await run_in_threadpool(run), "", 200
    except DomainError as exc:
        return sel, None, p.message(exc), STATUS.get(exc.kind, 400)


# -- the period and scope form, the tabs ---


def districts(p: Page) -> list[tuple[str, str]]:
    with p.container.uow(readonly=True) as uow:
        found = uow.regions.of_level(RegionLevel.DISTRICT)
    return sorted((r.code, r.name) for r in found)


def presets(p: Page, sel: Selection | None) -> list[tuple[str, str, bool]]:
    """Quick choices: (label, period key, chosen)."""
    today = p.now.astimezone(p.tz).date()
    month, quarter, year = month_of(today), quarter_of(today), year_of(today)
    chosen = sel.key if sel else ""
    out = [
        (p.t("This month"), month.key),
        (p.t("Last month"), month.previous().key),
        (p.t("This quarter"), quarter.key),
        (p.t("Last quarter"), quarter.previous().key),
        (p.t("This year"), year.key),
        (p.t("Last year"), year.previous().key),
    ]
    return [(text, key, key == chosen) for text, key in out]


def form_values(p: Page, sel: Selection | None) -> dict[str, str]:
    """The period form's fields, filled from the selection (or from today)."""
    today = p.now.astimezone(p.tz).date()
    period = sel.period if sel else month_of(today)
    start, last = period.start, period.end.toordinal() - 1
    values = {
        "pk": period.kind.value,
        "month": month_of(start).key,
        "quarter": quarter_of(start).key,
        "year": str(start.year),
        "week": f"{start.isocalendar()[0]}-W{start.isocalendar()[1]:02d}",
        "day": start.isoformat(),
        "from": start.isoformat(),
        "to": date.fromordinal(last).isoformat(),
    }
    return values


def quarters(p: Page) -> list[str]:
    """Quarter keys offered in the form: the current one and the eleven before it."""
    this = quarter_of(p.now.astimezone(p.tz).date())
    return [this.shift(-i).key for i in range(12)]


def years(p: Page) -> list[str]:
    this = p.now.astimezone(p.tz).year
    return [str(this - i) for i in range(6)]


def frame_context(p: Page, sel: Selection | None, *, path: str, tab: str) -> dict[str, Any]:
    """What the section's frame (tabs, period form, scope) needs."""
    today = p.now.astimezone(p.tz).date()
    can_next = bool(sel) and sel is not None and sel.period.shift(1).start <= today
    return {
        "sel": sel,
        "path": path,
        "tab": tab,
        "families": FAMILIES,
        "kind_labels": KIND_LABELS,
        "period_kinds": PERIOD_KINDS,
        "presets": presets(p, sel),
        "form": form_values(p, sel),
        "quarters": quarters(p),
        "years": years(p),
        "districts": districts(p) if p.actor.district_code is None else [],
        "can_next": can_next,
        "period_label": period_label(p, sel.period) if sel else "",
        "is_admin": p.actor.role.value == "admin",
    }


def period_label(p: Page, period: Period) -> str:
    """2026年11月 / November 2026 and so on, with the days of a custom range."""
    s, last = period.start, date.fromordinal(period.end.toordinal() - 1)
    kind = period.kind
    if kind is PeriodKind.MONTH:
        return p.t("{year}-{month}", year=s.year, month=f"{s.month:02d}")
    if kind is PeriodKind.QUARTER:
        return p.t("Q{quarter} {year}", quarter=(s.month - 1) // 3 + 1, year=s.year)
    if kind is PeriodKind.YEAR:
        return p.t("Year {year}", year=s.year)
    if kind is PeriodKind.WEEK:
        iso = s.isocalendar()
        return p.t(
            "Week {week} of {year} ({first} – {last})", week=iso[1], year=iso[0],
            first=s.isoformat(), last=last.isoformat(),
        )  # fmt: skip
    if kind is PeriodKind.DAY:
        return s.isoformat()
    return f"{s.isoformat()} – {last.isoformat()}"


# -- values ---


def number(value: float | Decimal | Fraction | None) -> float | None:
    """A value for a chart (JSON)."""
    if value is None:
        return None
    return round(float(value), 4)


def grade_colours(scheme: Scheme) -> dict[str, str]:
    return {band.grade: band.colour for band in scheme.grades}


def export_links(p: Page, sel: Selection, kind: str) -> list[tuple[str, str]]:
    """(label, address) of the XLSX and PDF exports of ``kind`` (or ``all``) in the page's
    language, from the API (which accepts the page's session for reading)."""
    query = sel.query(lang=p.locale)
    return [
        ("XLSX", f"/api/v1/evaluation/exports/{kind}.xlsx?{query}"),
        ("PDF", f"/api/v1/evaluation/exports/{kind}.pdf?{query}"),
    ]


# -- what every page's template gets ---


TRANSFORMS = {
    Transform.RATE: Msg("100 × rate"),
    Transform.INVERSE_RATE: Msg("100 × (1 − rate)"),
    Transform.STEP: Msg("step table"),
}


def drill_url(kind: SubjectKind, key: str, indicator: str, sel: Selection, **extra: Any) -> str:
    return f"/evaluation/{kind.value}/{key}/drill/{indicator}?{sel.query(**extra)}"


def has_items(indicator: ind.Indicator) -> bool:
    """Whether a list of cases stands behind the indicator (not the grids or area of a
    region, which come from the register)."""
    return indicator.items is not ind.ItemKind.NONE


def page_base(p: Page, sel: Selection | None, path: str, tab: str, **more: Any) -> dict[str, Any]:
    return {**frame_context(p, sel, path=path, tab=tab), "show": show_value, "drill_url": drill_url,
            "has_items": has_items, "colours_of": grade_colours,
            "indicator_label": indicator_label, **more}  # fmt: skip


def source_label(value: str, locale: str) -> str:
    try:
        return label(Source(value), locale)
    except ValueError:
        return value


def indicator_label(name: str) -> str:
    found = ind.BY_ID.get(name)
    return found.label if found is not None else name


def int_param(value: str | None, what: Msg, low: int, high: int) -> int | None:
    """A whole number from the address (``None`` if empty); anything else is refused."""
    if value in (None, ""):
        return None
    assert value is not None
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValidationError("number_invalid", "{field}: {value} is not allowed", field=what,
                              value=value)  # fmt: skip
    return int(value)


def kind_or_none(text: str) -> SubjectKind | None:
    try:
        return parse_kind(text)
    except DomainError:
        return None
