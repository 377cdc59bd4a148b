"""The section's start page, the ranking of every kind of subject, a subject's page (its
composite explained, its trend and rank) and the cases behind any number (standards.md §7)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cityloop.domain.errors import Msg, NotFoundError, ValidationError
from cityloop.domain.evaluation import indicators as ind
from cityloop.domain.evaluation.scoring import rank_values
from cityloop.domain.evaluation.subjects import (
    KIND_LABELS,
    SubjectKind,
    parse_kind,
)
from cityloop.domain.regions import RegionLevel
from cityloop.entrypoints.api.routes.evaluation import centre_body
from cityloop.entrypoints.web.context import Page
from cityloop.entrypoints.web.routes.evaluation.centre import centre_from, frozen_of, hotspots_from
from cityloop.entrypoints.web.routes.evaluation.common import (
    GRADE_NAMES,
    PageDep,
    Selection,
    export_links,
    grade_colours,
    int_param,
    kind_or_none,
    load,
    number,
    page_base,
)
from cityloop.services.queries import evaluation as q

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
            p, sel, chosen, level=int_param(level, Msg("Level"), 1, 9), parent=parent or None,
            sort=sort, page_no=int_param(page, Msg("Page"), 1, 1_000_000) or 1,
        )  # fmt: skip

    sel, found, error, status = await load(p, request, work)
    subject_kind = kind_or_none(kind)
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
