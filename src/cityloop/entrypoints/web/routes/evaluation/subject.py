"""A subject's page (its composite explained with weights and step tables, its trend over
the last periods and its rank) and the cases behind any number (standards.md §7)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cityloop.domain.errors import Msg, NotFoundError
from cityloop.domain.evaluation import indicators as ind
from cityloop.domain.evaluation.scheme import DEFAULT_CLASS, TABLE_LABELS, Transform
from cityloop.domain.evaluation.scoring import round_score
from cityloop.domain.evaluation.subjects import REGION_KINDS, Subject, SubjectKind, parse_kind
from cityloop.entrypoints.presentation import show_value
from cityloop.entrypoints.web.context import Page
from cityloop.entrypoints.web.routes.evaluation.common import (
    TRANSFORMS,
    PageDep,
    Selection,
    export_links,
    grade_colours,
    int_param,
    kind_or_none,
    load,
    number,
    page_base,
    source_label,
)
from cityloop.services.queries import evaluation as q
from cityloop.services.queries import lookups

router = APIRouter(include_in_schema=False)
DRILL_PAGE = 50


# -- one subject ---


@dataclass
class PartView:
    indicator: ind.Indicator
    value: str
    transform: str
    weight: str
    points: str | None
    contribution: str | None
    compared: str | None  # a step table's count per month
    steps: list[tuple[str, int, bool]]  # (condition, points, applied)
    otherwise: int | None
    table: str | None


@dataclass
class SubjectPage:
    view: q.SubjectView
    parts: list[PartView]
    used_weight: str
    total: str | None
    ranked: int
    region_class: str | None


def _plain(value: Fraction) -> str:
    """36 for a whole number, 12.33 otherwise."""
    return str(value.numerator) if value.denominator == 1 else str(round_score(value))


def _op_text(op: str, bound: Fraction) -> str:
    text = {"<": "<", "<=": "≤", "==": "=", ">=": "≥", ">": ">"}[op]
    return f"{text} {_plain(bound)}"


def explain_parts(p: Page, view: q.SubjectView) -> SubjectPage:
    """Each component of the composite: its value, how it is turned into points, its weight
    and what it adds; the step table used, with the step that applied."""
    row, rep = view.row, view.report
    scheme, period = rep.scheme, rep.frame.period
    region = row.subject.key if row.kind in REGION_KINDS else rep.scope
    region_class = scheme.region_class(region)
    parts = []
    used = Fraction(0)
    total = Fraction(0)
    for part in row.score.parts:
        c = part.component
        indicator = ind.BY_ID[c.indicator]
        value = row.values.get(c.indicator)
        steps: list[tuple[str, int, bool]] = []
        compared = None
        otherwise = None
        if c.transform is Transform.STEP and c.table:
            table = scheme.tables[c.table]
            found = table.classes.get(region_class or DEFAULT_CLASS) or next(
                iter(table.classes.values())
            )
            per_month = Fraction(value) * period.month_factor if value is not None else None
            applied = False
            for step in found:
                hit = per_month is not None and not applied and step.op.test(per_month, step.bound)
                applied = applied or hit
                steps.append((_op_text(step.op.value, step.bound), step.points, hit))
            otherwise = table.otherwise
            compared = _plain(per_month) if per_month is not None else None
        if part.points is not None:
            used += Fraction(c.weight)
            total += Fraction(c.weight) * part.points
        parts.append(
            PartView(
                indicator=indicator,
                value=show_value(value, indicator.unit),
                transform=p.t(TRANSFORMS[c.transform]),
                weight=f"{c.weight.normalize():f}%",
                points=str(round_score(part.points)) if part.points is not None else None,
                contribution=(
                    str(round_score(Fraction(c.weight) * part.points / 100))
                    if part.points is not None
                    else None
                ),
                compared=compared,
                steps=steps,
                otherwise=otherwise,
                table=p.t(TABLE_LABELS.get(c.table, c.table)) if c.table else None,
            )
        )
    exact = str(round_score(total / used)) if used else None
    ranked = rep.ranked if not isinstance(rep.rows, list) else sum(
        1 for r in rep.rows if r.rank is not None
    )  # fmt: skip
    return SubjectPage(
        view, parts, f"{used.numerator if used.denominator == 1 else float(used)}%", exact,
        ranked, region_class,
    )  # fmt: skip


def subject_page(p: Page, sel: Selection, kind: SubjectKind, key: str) -> SubjectPage:
    view = q.subject(
        p.container.uow(readonly=True), actor=p.actor, kind=kind, key=key, period=sel.period,
        now=p.now, district=sel.district,
    )  # fmt: skip
    return explain_parts(p, view)


def trend_chart(p: Page, found: SubjectPage, sel: Selection) -> dict[str, Any]:
    scheme = found.view.report.scheme
    colours = grade_colours(scheme)
    trend = found.view.trend
    kind, key = found.view.row.kind.value, found.view.row.subject.key
    return {
        "type": "trend",
        "periods": [t.period.key for t in trend],
        "scores": [number(t.score) for t in trend],
        "grades": [t.grade for t in trend],
        "ranks": [t.rank for t in trend],
        "ranked": [t.ranked for t in trend],
        "colourMap": colours,
        "bands": [[b.grade, float(b.minimum), b.colour] for b in scheme.grades],
        "links": [f"/evaluation/{kind}/{key}?{sel.at(t.period).query()}" for t in trend],
        "labels": {"score": p.t("Score"), "rank": p.t("Rank")},
    }


# -- the cases behind a number ---


@dataclass
class DrillPage:
    drill: q.Drill
    subject: Subject
    parts: list[tuple[str, str, int]]  # (part, label, total) of a rate
    departments: dict[int, str]
    pages: int


def drill_page(
    p: Page, sel: Selection, kind: SubjectKind, key: str, indicator: str, part: str | None,
    page_no: int,
) -> DrillPage:  # fmt: skip
    def run(which: str | None, number_: int, size: int) -> q.Drill:
        return q.drill(
            p.container.uow(readonly=True), actor=p.actor, kind=kind, key=key,
            indicator=indicator, period=sel.period, now=p.now, district=sel.district,
            part=which, page=number_, page_size=size,
        )  # fmt: skip

    found = run(part, page_no, DRILL_PAGE)
    uow = p.container.uow(readonly=True)
    with uow:
        directory = uow.evaluation.directory()
    subject = q.subjects(directory, kind, sel.district).get(key)
    if subject is None:
        raise NotFoundError(
            "subject_not_found", "There is no {kind} {key} to evaluate", kind=kind.value, key=key
        )
    parts: list[tuple[str, str, int]] = []
    chosen = found.indicator
    if chosen.unit is not ind.Unit.COUNT:
        for which, name in (("numerator", chosen.numerator), ("denominator", chosen.denominator)):
            if name is None:
                continue
            total = found.total if found.part == name else run(which, 1, 1).total
            parts.append((which, p.t(ind.BY_ID[name].label), total))
    names = {d.id: d.name for d in lookups.departments(p.container.uow(readonly=True), p.actor)}
    pages = max(1, -(-found.total // DRILL_PAGE))
    return DrillPage(found, subject, parts, names, pages)


# -- routes ---


@router.get("/evaluation/{kind}/{key}", response_class=HTMLResponse)
async def subject(p: PageDep, request: Request, kind: str, key: str) -> HTMLResponse:
    sel, found, error, status = await load(
        p, request, lambda s: subject_page(p, s, parse_kind(kind), key)
    )
    subject_kind = kind_or_none(kind)
    ctx = page_base(p, sel, f"/evaluation/{kind}/{key}", kind, error=error, data=found,
                    kind=subject_kind, key=key)  # fmt: skip
    if found is not None and sel is not None:
        ctx.update(
            report=found.view.report,
            exports=export_links(p, sel, kind),
            charts={"trend": trend_chart(p, found, sel)},
        )
    return p.render("evaluation/subject.html", status=status, **ctx)


@router.get("/evaluation/{kind}/{key}/drill/{indicator}", response_class=HTMLResponse)
async def drill(
    p: PageDep, request: Request, kind: str, key: str, indicator: str, part: str = "",
    page: str = "1",
) -> HTMLResponse:  # fmt: skip
    def work(sel: Selection) -> DrillPage:
        return drill_page(p, sel, parse_kind(kind), key, indicator, part or None,
                          int_param(page, Msg("Page"), 1, 1_000_000) or 1)  # fmt: skip

    sel, found, error, status = await load(p, request, work)
    ctx = page_base(
        p, sel, f"/evaluation/{kind}/{key}/drill/{indicator}", kind, error=error, data=found,
        kind=kind_or_none(kind), key=key, part=part,
        source_label=lambda value: source_label(value, p.locale),
    )  # fmt: skip
    return p.render("evaluation/drill.html", status=status, **ctx)
