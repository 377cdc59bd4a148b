"""The section's start page, the ranking of every kind of subject, a subject's page (its
composite explained, its trend and rank) and the cases behind any number (standards.md §7)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cityloop.domain.errors import DomainError, Msg, NotFoundError, ValidationError
from cityloop.domain.evaluation import indicators as ind
from cityloop.domain.evaluation.scheme import DEFAULT_CLASS, TABLE_LABELS, Transform
from cityloop.domain.evaluation.scoring import rank_values, round_score
from cityloop.domain.evaluation.subjects import (
    KIND_LABELS,
    REGION_KINDS,
    Subject,
    SubjectKind,
    parse_kind,
)
from cityloop.domain.regions import RegionLevel
from cityloop.entrypoints.api.routes.evaluation import centre_body
from cityloop.entrypoints.web.context import Page
from cityloop.entrypoints.web.routes.evaluation.centre import centre_from, frozen_of, hotspots_from
from cityloop.entrypoints.web.routes.evaluation.common import (
    GRADE_NAMES,
    TRANSFORMS,
    PageDep,
    Selection,
    export_links,
    grade_colours,
    load,
    number,
    page_base,
    show,
    source_label,
)
from cityloop.services.queries import evaluation as q
from cityloop.services.queries import lookups

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100
CHART_ROWS = 30
DRILL_PAGE = 50

# -- the start page ---


@dataclass
class KindSummary:
    kind: SubjectKind
    subjects: int = 0
    ranked: int = 0
    grades: Counter[str] = field(default_factory=Counter)
    best: list[q.Row] = field(default_factory=list)


@dataclass
class Overview:
    reports: dict[SubjectKind, q.Report]
    summaries: dict[SubjectKind, KindSummary]
    centre: dict[str, Any]
    hot_grids: list[tuple[str, str, int]]
    hot_classes: list[tuple[str, str, int]]


def overview(p: Page, sel: Selection) -> Overview:
    reports, centre, spots = q.all_reports(
        p.container.uow(readonly=True), actor=p.actor, kinds=list(SubjectKind),
        period=sel.period, now=p.now, district=sel.district,
    )  # fmt: skip
    summaries = {}
    for rep in reports:
        s = KindSummary(rep.kind, subjects=len(rep.rows))
        for row in rep.rows:
            if row.score.grade:
                s.grades[row.score.grade] += 1
        s.ranked = sum(s.grades.values())
        s.best = [r for r in rep.rows[:3] if r.rank is not None]
        summaries[rep.kind] = s
    frozen = frozen_of(p, sel) if reports[0].frozen_at is not None else None
    if frozen is not None and {"centre", "hotspots"} <= set(frozen.extras):
        centre = centre_from(p, sel, frozen)  # what was stored, as on the centre's page
        spots = hotspots_from(p, sel, frozen, 5)
    h = spots.hotspots
    grids = [(g, spots.grid_names.get(g, g), n) for g, n, _ in h.grids[:5]]
    classes = [
        (spots.categories.get(c, ("", ""))[0], spots.categories.get(c, ("", ""))[1], n)
        for c, n in h.categories[:5]
    ]
    return Overview(
        {r.kind: r for r in reports}, summaries, centre_body(centre, p.locale), grids, classes
    )


@router.get("/evaluation", response_class=HTMLResponse)
async def start(p: PageDep, request: Request) -> HTMLResponse:
    sel, found, error, status = await load(p, request, lambda s: overview(p, s))
    ctx = page_base(p, sel, "/evaluation", "start", error=error, data=found)
    if found is not None and sel is not None:
        first = next(iter(found.reports.values()))
        colours = grade_colours(first.scheme)
        kinds = [k for k in SubjectKind if k is not SubjectKind.CENTRE]
        ctx.update(
            report=first,
            centre_report=found.reports[SubjectKind.CENTRE],
            colours=colours,
            exports=export_links(p, sel, "all"),
            charts={
                "grades": {
                    "type": "grades",
                    "categories": [p.t(KIND_LABELS[k]) for k in kinds],
                    "series": [
                        {
                            "name": g,
                            "colour": colours.get(g, "#999"),
                            "values": [found.summaries[k].grades.get(g, 0) for k in kinds],
                        }
                        for g in GRADE_NAMES
                    ],
                    "links": [f"/evaluation/{k.value}?{sel.query()}" for k in kinds],
                }
            },
        )
    return p.render("evaluation/index.html", status=status, **ctx)


# -- rankings ---


@dataclass
class Ranking:
    report: q.Report
    rows: list[tuple[q.Row, int | None]]  # the page's rows with the rank shown
    total: int
    page: int
    pages: int
    sort: ind.Indicator | None
    parents: list[tuple[str, list[tuple[str, str]]]]  # (group label, [(code, name)])


def _parents(
    p: Page, kind: SubjectKind, district: str | None
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The regions a region ranking can be narrowed to (one or two levels up)."""
    levels = {
        SubjectKind.STREET: [RegionLevel.DISTRICT],
        SubjectKind.COMMUNITY: [RegionLevel.DISTRICT, RegionLevel.STREET],
        SubjectKind.GRID: [RegionLevel.STREET, RegionLevel.COMMUNITY],
    }.get(kind, [])
    names = {RegionLevel.DISTRICT: Msg("Districts"), RegionLevel.STREET: Msg("Streets"),
             RegionLevel.COMMUNITY: Msg("Communities")}  # fmt: skip
    out = []
    with p.container.uow(readonly=True) as uow:
        for level in levels:
            found = sorted(
                (r.code, r.name) for r in uow.regions.of_level(level)
                if district is None or r.code.startswith(district)
            )  # fmt: skip
            if level is RegionLevel.DISTRICT and len(found) <= 1:
                continue
            out.append((p.t(names[level]), found))
    return out


def ranking(
    p: Page, sel: Selection, kind: SubjectKind, *, level: int | None, parent: str | None,
    sort: str, page_no: int,
) -> Ranking:  # fmt: skip
    chosen = ind.check_shown(kind, sort) if sort else None
    if parent is not None and (not parent.isdigit() or len(parent) not in (6, 9, 12)):
        raise ValidationError("region_code_invalid", "{value} is not a region code", value=parent)
    rep = q.report(
        p.container.uow(readonly=True), actor=p.actor, kind=kind, period=sel.period, now=p.now,
        district=sel.district, level=level, parent=parent,
    )  # fmt: skip
    total = len(rep.rows)
    pages = max(1, -(-total // PAGE_SIZE))
    page_no = min(page_no, pages)
    start = (page_no - 1) * PAGE_SIZE
    if chosen is None:
        rows = [(r, r.rank) for r in rep.rows[start : start + PAGE_SIZE]]
    else:
        everything = list(rep.rows[0:total])
        ranks = rank_values(
            [r.values.get(chosen.id) for r in everything], chosen.better is not ind.Better.LOWER
        )
        ordered = sorted(
            zip(everything, ranks, strict=True),
            key=lambda x: (x[1] is None, x[1] or 0, x[0].subject.key),
        )
        rows = ordered[start : start + PAGE_SIZE]
    return Ranking(rep, rows, total, page_no, pages, chosen, _parents(p, kind, sel.district))


def _int(value: str | None, what: Msg, low: int, high: int) -> int | None:
    if value in (None, ""):
        return None
    assert value is not None
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValidationError("number_invalid", "{field}: {value} is not allowed", field=what,
                              value=value)  # fmt: skip
    return int(value)


def ranking_chart(p: Page, found: Ranking, sel: Selection) -> dict[str, Any]:
    """The page's subjects that have a value, best first (at most ``CHART_ROWS``)."""
    sort = found.sort

    def value(row: q.Row) -> float | None:
        if sort is None:
            return number(row.score.value)
        v = row.values.get(sort.id)
        scale = 100 if sort.unit is ind.Unit.RATE else 1
        return number(Fraction(v) * scale) if v is not None else None

    valued = [(r, value(r)) for r, _ in found.rows]
    shown = [(r, v) for r, v in valued if v is not None][:CHART_ROWS]
    unit = "score" if sort is None else "percent" if sort.unit is ind.Unit.RATE else "value"
    return {
        "type": "ranking",
        "title": p.t(sort.label) if sort else p.t("Score"),
        "unit": unit,
        "names": [p.t(str(r.subject.name)) for r, _ in shown],
        "values": [v for _, v in shown],
        "colours": [
            (r.score.colour or "#9aa5b1") if sort is None else "#1769c4" for r, _ in shown
        ],
        "grades": [r.score.grade for r, _ in shown],
        "links": [f"/evaluation/{r.kind.value}/{r.subject.key}?{sel.query()}" for r, _ in shown],
        "bands": [[b.grade, float(b.minimum), b.colour] for b in found.report.scheme.grades]
        if sort is None else [],
        "colourMap": grade_colours(found.report.scheme),
    }  # fmt: skip


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
                value=show(value, indicator.unit),
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


@router.get("/evaluation/{kind}", response_class=HTMLResponse)
async def ranking_page(
    p: PageDep, request: Request, kind: str, level: str = "", parent: str = "", sort: str = "",
    page: str = "1",
) -> HTMLResponse:  # fmt: skip
    def work(sel: Selection) -> Ranking:
        chosen = parse_kind(kind)
        if chosen is SubjectKind.CENTRE:
            raise NotFoundError("not_found", "Nothing is at this address")
        return ranking(
            p, sel, chosen, level=_int(level, Msg("Level"), 1, 9), parent=parent or None,
            sort=sort, page_no=_int(page, Msg("Page"), 1, 1_000_000) or 1,
        )  # fmt: skip

    sel, found, error, status = await load(p, request, work)
    subject_kind = _kind_or_none(kind)
    ctx = page_base(
        p, sel, f"/evaluation/{kind}", kind, error=error, data=found, kind=subject_kind,
        level=level, parent=parent, sort=sort,
    )  # fmt: skip
    if subject_kind is None and not error:
        ctx["error"], status = p.t("Nothing is at this address"), 404
    if found is not None and sel is not None:
        ctx.update(
            report=found.report,
            exports=export_links(p, sel, kind),
            charts={"ranking": ranking_chart(p, found, sel)},
        )
    return p.render("evaluation/ranking.html", status=status, **ctx)


def _kind_or_none(text: str) -> SubjectKind | None:
    try:
        return parse_kind(text)
    except DomainError:
        return None


@router.get("/evaluation/{kind}/{key}", response_class=HTMLResponse)
async def subject(p: PageDep, request: Request, kind: str, key: str) -> HTMLResponse:
    sel, found, error, status = await load(
        p, request, lambda s: subject_page(p, s, parse_kind(kind), key)
    )
    subject_kind = _kind_or_none(kind)
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
                          _int(page, Msg("Page"), 1, 1_000_000) or 1)  # fmt: skip

    sel, found, error, status = await load(p, request, work)
    ctx = page_base(
        p, sel, f"/evaluation/{kind}/{key}/drill/{indicator}", kind, error=error, data=found,
        kind=_kind_or_none(kind), key=key, part=part,
        source_label=lambda value: source_label(value, p.locale),
    )  # fmt: skip
    return p.render("evaluation/drill.html", status=status, **ctx)
