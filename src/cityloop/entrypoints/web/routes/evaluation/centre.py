"""The centre as a whole (监督指挥中心, standards.md §7.6) and the hot spots: throughput per
day, where reports come from, time per stage, satisfaction; 高发网格, 高发问题, 高发时段
(weekday × hour) and the same problem again at the same place.

A frozen month shows the statistics stored when it was frozen, never recomputed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cityloop.domain.evaluation.periods import PeriodKind
from cityloop.domain.evaluation.records import FrozenReport
from cityloop.domain.evaluation.results import CentreStats, Hotspots, StageTime
from cityloop.domain.evaluation.subjects import CITY, SubjectKind
from cityloop.entrypoints.api.routes.evaluation import centre_body, hotspots_body
from cityloop.entrypoints.web.context import Page
from cityloop.entrypoints.web.routes.evaluation.common import (
    PageDep,
    Selection,
    export_links,
    grade_colours,
    load,
    number,
    page_base,
)
from cityloop.services.queries import evaluation as q

router = APIRouter(include_in_schema=False)
HOT_LIMIT = 10
# What the centre page shows first, as cards (every one links to its cases).
CARDS = (
    "reported", "valid_report_rate", "filed", "dispatched", "on_time_rate",
    "region_close_rate", "on_time_close_rate", "satisfaction_rate",
)  # fmt: skip
SATISFACTION_COLOURS = ["#2e7d32", "#66bb6a", "#9ccc65", "#ef6c00", "#c62828"]


def frozen_of(p: Page, sel: Selection) -> FrozenReport | None:
    """The stored report of a frozen month in the caller's scope, if there is one."""
    if sel.period.kind is not PeriodKind.MONTH:
        return None
    scope = sel.district or CITY
    for found in q.frozen_reports(p.container.uow(readonly=True), actor=p.actor):
        if found.period == sel.key and found.scope == scope:
            return found
    return None


def _frame(p: Page, sel: Selection, frozen: FrozenReport) -> q.Frame:
    fr = q.frame(sel.period, p.tz, p.now)
    return q.Frame(sel.period, fr.start, fr.end, frozen.as_of, fr.tz)


def centre_from(p: Page, sel: Selection, frozen: FrozenReport) -> q.CentreView:
    c = frozen.extras["centre"]
    stats = CentreStats(
        throughput={k: [int(n) for n in v] for k, v in c["throughput"].items()},
        sources={k: (int(v[0]), int(v[1])) for k, v in c["sources"].items()},
        stages={k: StageTime(int(s["count"]), s["mean"], s["p90"]) for k, s in c["stages"].items()},
        satisfaction={int(k): int(v) for k, v in c["satisfaction"].items()},
    )
    days = [date.fromisoformat(d) for d in c["days"]]
    return q.CentreView(_frame(p, sel, frozen), sel.district, days, stats)


def hotspots_from(p: Page, sel: Selection, frozen: FrozenReport, limit: int) -> q.HotspotView:
    h = frozen.extras["hotspots"]
    spots = Hotspots(
        grids=[(str(g), int(f), int(c)) for g, f, c in h["grids"]][:limit],
        categories=[(int(c), int(n)) for c, n in h["categories"]][:limit],
        hour_of_week=[int(n) for n in h["hour_of_week"]],
        repeats=[(str(g), int(c), [int(i) for i in ids]) for g, c, ids in h["repeats"]][:limit],
    )
    codes = {g for g, _, _ in spots.grids} | {g for g, _, _ in spots.repeats}
    ids = [c for c, _ in spots.categories] + [c for _, c, _ in spots.repeats]
    with p.container.uow(readonly=True) as uow:
        names = {}
        for code in codes:
            region = uow.regions.by_code(code)
            names[code] = region.name if region else code
        categories = uow.evaluation.category_names(ids)
    return q.HotspotView(_frame(p, sel, frozen), sel.district, spots, names, categories)


# -- the centre ---


@dataclass
class CentrePage:
    report: q.Report
    row: q.Row | None
    body: dict[str, Any]
    frozen: bool


def centre_page(p: Page, sel: Selection) -> CentrePage:
    rep = q.report(p.container.uow(readonly=True), actor=p.actor, kind=SubjectKind.CENTRE,
                   period=sel.period, now=p.now, district=sel.district)  # fmt: skip
    frozen = frozen_of(p, sel) if rep.frozen_at is not None else None
    if frozen is not None and "centre" in frozen.extras:
        view = centre_from(p, sel, frozen)
    else:
        view = q.centre(p.container.uow(readonly=True), actor=p.actor, period=sel.period,
                        now=p.now, district=sel.district)  # fmt: skip
    row = rep.rows[0] if rep.rows else None
    return CentrePage(rep, row, centre_body(view, p.locale), frozen is not None)


def centre_charts(p: Page, body: dict[str, Any], frame: q.Frame) -> dict[str, Any]:
    # A period still running is drawn up to today, not with the empty days to come.
    last = frame.as_of.astimezone(frame.tz).date().isoformat()
    shown = sum(1 for d in body["days"] if frame.complete or d <= last)
    return {
        "throughput": {
            "type": "lines",
            "x": [d[5:] for d in body["days"][:shown]],
            "series": [
                {"name": t["label"], "values": t["per_day"][:shown]} for t in body["throughput"]
            ],
        },
        "sources": {
            "type": "pie",
            "items": [{"name": s["label"], "value": s["reports"]} for s in body["sources"]],
        },
        "stages": {
            "type": "stages",
            "names": [s["label"] for s in body["stages"]],
            "series": [
                {
                    "name": p.t("Mean (hours)"),
                    "values": [number(_hours(s["mean_seconds"])) for s in body["stages"]],
                },
                {
                    "name": p.t("90th percentile (hours)"),
                    "values": [number(_hours(s["p90_seconds"])) for s in body["stages"]],
                },
            ],
        },
        "satisfaction": {
            "type": "pie",
            "items": [
                {"name": s["label"], "value": s["count"], "colour": SATISFACTION_COLOURS[i]}
                for i, s in enumerate(body["satisfaction"])
            ],
        },
    }


def _hours(seconds: float | None) -> float | None:
    return seconds / 3600 if seconds is not None else None


@router.get("/evaluation/centre", response_class=HTMLResponse)
async def centre(p: PageDep, request: Request) -> HTMLResponse:
    sel, found, error, status = await load(p, request, lambda s: centre_page(p, s))
    ctx = page_base(p, sel, "/evaluation/centre", "centre", error=error, data=found,
                    kind=SubjectKind.CENTRE, cards=CARDS, hours=_hours)  # fmt: skip
    if found is not None and sel is not None:
        ctx.update(
            report=found.report,
            colours=grade_colours(found.report.scheme),
            exports=export_links(p, sel, "all"),
            charts=centre_charts(p, found.body, found.report.frame),
        )
    return p.render("evaluation/centre.html", status=status, **ctx)


# -- hot spots ---


@dataclass
class HotspotPage:
    body: dict[str, Any]
    frozen_at: Any
    as_of: Any
    centroids: dict[str, tuple[float, float]]
    numbers: dict[str, str]  # case number → itself (the repeats' links)


def hotspot_page(p: Page, sel: Selection, limit: int) -> HotspotPage:
    frozen = frozen_of(p, sel)
    if frozen is not None and "hotspots" in frozen.extras:
        view = hotspots_from(p, sel, frozen, limit)
    else:
        view = q.hotspots(p.container.uow(readonly=True), actor=p.actor, period=sel.period,
                          now=p.now, district=sel.district, limit=limit)  # fmt: skip
    ids = [i for _, _, found in view.hotspots.repeats for i in found]
    centroids: dict[str, tuple[float, float]] = {}
    with p.container.uow(readonly=True) as uow:
        numbers = {k: v.number for k, v in uow.evaluation.case_lines(ids).items()}
        for code, _, _ in view.hotspots.grids:
            region = uow.regions.by_code(code)
            if region is not None and region.centroid is not None:
                centroids[code] = region.centroid
    body = hotspots_body(view, p.locale, numbers)
    return HotspotPage(body, frozen.frozen_at if frozen else None, view.frame.as_of, centroids, {})


def hotspot_charts(p: Page, found: HotspotPage) -> dict[str, Any]:
    body = found.body
    matrix = body["hours"]["matrix"]
    cells = [[h, d, n] for d, row in enumerate(matrix) for h, n in enumerate(row)]
    return {
        "classes": {
            "type": "bars",
            "names": [f"{c['name']}" for c in body["categories"]],
            "values": [c["filed"] for c in body["categories"]],
            "title": p.t("Cases filed"),
        },
        "hours": {
            "type": "heatmap",
            "hours": [f"{h:02d}" for h in range(24)],
            "days": body["hours"]["weekdays"],
            "cells": cells,
            "max": max((n for _, _, n in cells), default=0),
            "title": p.t("Cases filed"),
        },
    }


def hot_map(found: HotspotPage) -> list[dict[str, Any]]:
    out = []
    for g in found.body["grids"]:
        point = found.centroids.get(g["code"])
        if point is not None:
            out.append({"code": g["code"], "name": g["name"], "filed": g["filed"],
                        "lon": point[0], "lat": point[1]})  # fmt: skip
    return out


@router.get("/evaluation/hotspots", response_class=HTMLResponse)
async def hotspots(p: PageDep, request: Request) -> HTMLResponse:
    sel, found, error, status = await load(p, request, lambda s: hotspot_page(p, s, HOT_LIMIT))
    ctx = page_base(p, sel, "/evaluation/hotspots", "hotspots", error=error, data=found)
    if found is not None and sel is not None:
        ctx.update(exports=export_links(p, sel, "all"), charts=hotspot_charts(p, found),
                   hot_map=hot_map(found))  # fmt: skip
    return p.render("evaluation/hotspots.html", status=status, **ctx)
