"""Comprehensive evaluation (综合评价): reports, scores and ranks of every kind of subject for
any period, a subject's trend, the cases behind every number, centre statistics, hot spots,
scoring schemes, freezing, and exports to XLSX and PDF (standards.md §7).

Periods are written ``2026-11``, ``2026-Q4``, ``2026-W48``, ``2026``, ``2026-11-23`` or
``2026-11-01..2026-11-15``. Leaders, administrators and centre staff read; administrators
edit schemes and freeze months; a district-scoped reader sees its district only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from cityloop.adapters.evaluation.document import Cell, Document, Section, Table
from cityloop.adapters.evaluation.fonts import FontError
from cityloop.adapters.evaluation.pdf import write_pdf
from cityloop.adapters.evaluation.xlsx import write_xlsx
from cityloop.bootstrap import Container
from cityloop.domain.case import CaseEvent, Source
from cityloop.domain.errors import ConflictError, Msg, NotFoundError, ValidationError
from cityloop.domain.evaluation import indicators as ind
from cityloop.domain.evaluation.periods import Period, parse_period
from cityloop.domain.evaluation.records import SchemeRecord
from cityloop.domain.evaluation.results import STAGES, STEPS
from cityloop.domain.evaluation.scoring import rank_values
from cityloop.domain.evaluation.subjects import KIND_LABELS, SubjectKind, parse_kind
from cityloop.domain.roles import Actor
from cityloop.domain.sla.stages import Stage
from cityloop.domain.workflow import Action
from cityloop.entrypoints.api.deps import ActorDep, ContainerDep, LocaleDep, NowDep
from cityloop.entrypoints.api.schemas import API
from cityloop.entrypoints.i18n import gettext, normalise
from cityloop.entrypoints.presentation import indicator_basis, indicator_formula, label
from cityloop.services import evaluation as svc
from cityloop.services.queries import evaluation as q

router = APIRouter(prefix=f"{API}/evaluation", tags=["evaluation"])
BASE = "/api/v1/evaluation"

STEP_LABELS = {
    "reported": Msg("Reported"),
    "accepted": Msg("Accepted"),
    "filed": Msg("Filed"),
    "dispatched": Msg("Dispatched"),
    "handled": Msg("Handled"),
    "checked": Msg("Checked"),
    "closed": Msg("Closed"),
}
STAGE_MSGS = {
    "accept": Stage.ACCEPT,
    "file": Stage.FILE,
    "dispatch": Stage.DISPATCH,
    "dispose": Stage.DISPOSE,
    "check": Stage.CHECK,
    "close": Stage.CLOSE,
}
WHOLE_LOOP = Msg("Whole loop (report to close)")
WEEKDAYS = (
    Msg("Monday"), Msg("Tuesday"), Msg("Wednesday"), Msg("Thursday"), Msg("Friday"),
    Msg("Saturday"), Msg("Sunday"),
)  # fmt: skip
SATISFACTION_LEVELS = {
    1: Msg("Very satisfied"),
    2: Msg("Satisfied"),
    3: Msg("Basically satisfied"),
    4: Msg("Dissatisfied"),
    5: Msg("Very dissatisfied"),
}
T_REPORT = Msg("Comprehensive evaluation")
T_SCOPE = Msg("Scope")
T_PERIOD = Msg("Period")
T_AS_OF = Msg("As of")
T_SCHEME = Msg("Scoring scheme")
T_FROZEN = Msg("Frozen (published) at")
T_LIVE = Msg("Not frozen: computed from the case records as of the period's end")
T_SUBJECT = Msg("Subject")
T_SCORE = Msg("Score")
T_GRADE = Msg("Grade")
T_RANK = Msg("Rank")
T_DEFINITIONS = Msg("Indicator definitions")
T_INDICATOR = Msg("Indicator")
T_FORMULA = Msg("Formula")
T_REFERENCE = Msg("Reference")
T_CENTRE = Msg("Centre statistics")
T_THROUGHPUT = Msg("Throughput per day")
T_STAGES = Msg("Time per stage")
T_COUNT = Msg("Count")
T_MEAN = Msg("Mean (hours)")
T_P90 = Msg("90th percentile (hours)")
T_SOURCES = Msg("Sources")
T_REPORTS = Msg("Reports")
T_FILED = Msg("Cases filed")
T_HOTSPOTS = Msg("Hot spots")
T_HOT_GRIDS = Msg("Unit grids with most cases")
T_HOT_CLASSES = Msg("Most frequent problems")
T_HOT_HOURS = Msg("Cases by weekday and hour")
T_REPEATS = Msg("Repeat problems at the same place")
T_CLOSED = Msg("Cases closed")
T_CASES = Msg("Cases")
T_DATE = Msg("Date")
T_CLASS = Msg("Class of problem")
T_WEEKDAY = Msg("Weekday")
T_SATISFACTION = Msg("Call-backs by satisfaction")
T_FOOTER = Msg("cityloop digital city management")


def _t(text: str, locale: str) -> str:
    return gettext(text, locale)


def _period(text: str) -> Period:
    return parse_period(text)


def _kind(text: str) -> SubjectKind:
    return parse_kind(text)


def _json(value: Any) -> Any:
    if isinstance(value, Fraction):
        return round(float(value), 6)
    if isinstance(value, Decimal):
        return float(value)
    return value


def _refresh(container: Container, actor: Actor, when: datetime, district: str | None) -> None:
    q.reader_scope(actor, district)  # refuse before doing any work
    svc.refresh_facts(container.uow(readonly=True), container.uow(), now=when)


def _subject_name(row: q.Row, locale: str) -> str:
    return _t(str(row.subject.name), locale)


# -- response bodies ---


class IndicatorOut(BaseModel):
    id: str
    term: str
    label: str
    unit: str
    better: str
    formula: str
    reference: str
    numerator: str | None = None
    denominator: str | None = None
    items: str
    kinds: list[str]


class KindOut(BaseModel):
    kind: str
    family: str
    label: str
    indicators: list[str]


class PeriodOut(BaseModel):
    key: str
    kind: str
    start: date
    end: date = Field(description="the day after the last day")
    as_of: datetime
    complete: bool


class ComponentOut(BaseModel):
    indicator: str
    label: str
    weight: float
    transform: str
    table: str | None
    points: float | None


class SubjectOut(BaseModel):
    key: str
    name: str
    parent: str | None = None
    level: int | None = None


class RowOut(BaseModel):
    subject: SubjectOut
    values: dict[str, Any]
    counts: dict[str, int]
    score: float | None
    grade: str | None
    colour: str | None
    rank: int | None
    url: str


class ReportOut(BaseModel):
    kind: str
    kind_label: str
    period: PeriodOut
    scope: str
    scheme_version: int
    scheme_name: str
    frozen_at: datetime | None
    indicators: list[IndicatorOut]
    drill: str = Field(description="URL template of the cases behind a number")
    total: int = Field(description="subjects in the report (rows may show a page of them)")
    rows: list[RowOut]


class TrendOut(BaseModel):
    period: str
    score: float | None
    grade: str | None
    rank: int | None
    ranked: int
    values: dict[str, Any]


class SubjectReportOut(BaseModel):
    report: ReportOut
    row: RowOut
    components: list[ComponentOut]
    ranked: int
    trend: list[TrendOut]


class EventOut(BaseModel):
    seq: int
    action: str
    label: str
    at: datetime
    actor_role: str
    from_state: str | None
    to_state: str
    department_id: int | None


class DrillItemOut(BaseModel):
    case_id: int
    number: str | None
    state: str | None
    state_label: str | None
    category: str | None
    address: str | None
    reported_at: datetime | None
    department: str | None
    round: int | None
    round_department_id: int | None
    task_id: int | None
    events: list[EventOut]
    url: str | None


class DrillOut(BaseModel):
    kind: str
    key: str
    indicator: IndicatorOut
    part: str
    numerator: str | None
    denominator: str | None
    period: PeriodOut
    total: int
    page: int
    page_size: int
    items: list[DrillItemOut]


class SchemeOut(BaseModel):
    version: int
    name: str
    status: str
    effective_from: date | None
    created_at: datetime
    published_at: datetime | None
    note: str
    body: dict[str, Any] | None = None


class SchemeIn(BaseModel):
    name: str | None = None
    body: dict[str, Any] | None = Field(
        default=None, description="weights, step tables, grades (as GET /schemes/{version})"
    )
    based_on: int | None = Field(default=None, description="copy this version")
    note: str | None = None


class PublishIn(BaseModel):
    effective_from: date


class FreezeIn(BaseModel):
    period: str = Field(examples=["2026-11"])


class FrozenOut(BaseModel):
    period: str
    scope: str
    scheme_version: int
    as_of: datetime
    frozen_at: datetime


# -- builders ---


def indicator_out(i: ind.Indicator, locale: str) -> IndicatorOut:
    return IndicatorOut(
        id=i.id,
        term=i.term,
        label=_t(i.label, locale),
        unit=i.unit.value,
        better=i.better.value,
        formula=indicator_formula(i, locale),
        reference=indicator_basis(i, locale),
        numerator=i.numerator if i.unit is not ind.Unit.COUNT else None,
        denominator=i.denominator,
        items=i.items.value,
        kinds=[k.value for k in SubjectKind if i.id in ind.SHOWN[k]],
    )


def period_out(fr: q.Frame) -> PeriodOut:
    return PeriodOut(
        key=fr.period.key,
        kind=fr.period.kind.value,
        start=fr.period.start,
        end=fr.period.end,
        as_of=fr.as_of.astimezone(UTC),
        complete=fr.complete,
    )


def _row_out(row: q.Row, report: q.Report, locale: str) -> RowOut:
    s = row.subject
    return RowOut(
        subject=SubjectOut(
            key=s.key, name=_subject_name(row, locale), parent=s.parent, level=s.level
        ),
        values={k: _json(v) for k, v in row.values.items()},
        counts=dict(row.counts),
        score=_json(row.score.value),
        grade=row.score.grade,
        colour=row.score.colour,
        rank=row.rank,
        url=f"{BASE}/reports/{report.kind.value}/{s.key}?period={report.frame.period.key}",
    )


def report_out(
    report: q.Report, locale: str, offset: int = 0, limit: int | None = None
) -> ReportOut:
    key = report.frame.period.key
    stop = len(report.rows) if limit is None else offset + limit
    shown = report.rows[offset:stop]
    return ReportOut(
        kind=report.kind.value,
        kind_label=_t(KIND_LABELS[report.kind], locale),
        period=period_out(report.frame),
        scope=report.scope or "city",
        scheme_version=report.scheme.version,
        scheme_name=report.scheme.name,
        frozen_at=report.frozen_at,
        indicators=[indicator_out(i, locale) for i in report.indicators],
        drill=f"{BASE}/reports/{report.kind.value}/{{key}}/drill/{{indicator}}?period={key}",
        total=len(report.rows),
        rows=[_row_out(r, report, locale) for r in shown],
    )


def _events(events: Sequence[CaseEvent], locale: str) -> list[EventOut]:
    out = []
    for e in events:
        try:
            text = label(Action(e.action), locale)
        except ValueError:
            text = e.action
        out.append(
            EventOut(
                seq=e.seq,
                action=e.action,
                label=text,
                at=e.at,
                actor_role=e.actor_role,
                from_state=e.from_state.value if e.from_state else None,
                to_state=e.to_state.value,
                department_id=e.department_id,
            )
        )
    return out


# -- reading ---


@router.get("/kinds", response_model=list[KindOut], summary="Kinds of evaluated subject")
def kinds(actor: ActorDep, locale: LocaleDep) -> list[KindOut]:
    q.reader_scope(actor)
    return [
        KindOut(
            kind=k.value,
            family=k.family.value,
            label=_t(KIND_LABELS[k], locale),
            indicators=list(ind.SHOWN[k]),
        )
        for k in SubjectKind
    ]


@router.get("/indicators", response_model=list[IndicatorOut], summary="Indicator definitions")
def indicators(actor: ActorDep, locale: LocaleDep, kind: str | None = None) -> list[IndicatorOut]:
    q.reader_scope(actor)
    chosen = ind.shown(_kind(kind)) if kind else ind.CATALOGUE
    return [indicator_out(i, locale) for i in chosen]


@router.get(
    "/reports/{kind}",
    response_model=ReportOut,
    summary="Indicators, scores, grades and ranks of every subject of a kind",
)
def report(
    kind: str,
    actor: ActorDep,
    when: NowDep,
    locale: LocaleDep,
    container: ContainerDep,
    period: Annotated[str, Query(examples=["2026-11"])],
    district: str | None = None,
    level: Annotated[int | None, Query(description="departments of one level")] = None,
    parent: Annotated[str | None, Query(description="regions inside one region")] = None,
    offset: Annotated[int, Query(ge=0, description="rows to skip (best first)")] = 0,
    limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> ReportOut:
    chosen, p = _kind(kind), _period(period)
    _refresh(container, actor, when, district)
    result = q.report(container.uow(readonly=True), actor=actor, kind=chosen, period=p,
                      now=when, district=district, level=level, parent=parent)  # fmt: skip
    return report_out(result, locale, offset, limit)


@router.get(
    "/rankings/{kind}",
    response_model=ReportOut,
    summary="Subjects ranked by their score or by any indicator",
)
def ranking(
    kind: str,
    actor: ActorDep,
    when: NowDep,
    locale: LocaleDep,
    container: ContainerDep,
    period: str,
    indicator: str = "score",
    district: str | None = None,
    level: int | None = None,
    parent: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> ReportOut:
    chosen, p = _kind(kind), _period(period)
    _refresh(container, actor, when, district)
    result = q.report(container.uow(readonly=True), actor=actor, kind=chosen, period=p,
                      now=when, district=district, level=level, parent=parent)  # fmt: skip
    body = report_out(result, locale)
    if indicator != "score":
        by = ind.check_shown(chosen, indicator)
        values = [r.values.get(indicator) for r in result.rows]
        ranks = rank_values(values, by.better is not ind.Better.LOWER)
        for row, rank in zip(body.rows, ranks, strict=True):
            row.rank = rank
        body.rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.subject.key))
    body.rows = body.rows[:limit]
    return body


@router.get(
    "/reports/{kind}/{key}",
    response_model=SubjectReportOut,
    summary="One subject: its line, score breakdown, rank and trend",
)
def subject(
    kind: str,
    key: str,
    actor: ActorDep,
    when: NowDep,
    locale: LocaleDep,
    container: ContainerDep,
    period: str,
    district: str | None = None,
    periods: Annotated[int, Query(ge=1, le=36)] = 12,
) -> SubjectReportOut:
    chosen, p = _kind(kind), _period(period)
    _refresh(container, actor, when, district)
    view = q.subject(container.uow(readonly=True), actor=actor, kind=chosen, key=key, period=p,
                     now=when, district=district, periods=periods)  # fmt: skip
    rep = view.report
    single = q.Report(rep.kind, rep.frame, rep.scope, rep.scheme, [view.row], rep.frozen_at)
    return SubjectReportOut(
        report=report_out(single, locale),
        row=_row_out(view.row, rep, locale),
        components=[
            ComponentOut(
                indicator=part.component.indicator,
                label=_t(ind.BY_ID[part.component.indicator].label, locale),
                weight=float(part.component.weight),
                transform=part.component.transform.value,
                table=part.component.table,
                points=_json(part.points),
            )
            for part in view.row.score.parts
        ],
        ranked=sum(1 for r in rep.rows if r.rank is not None),
        trend=[
            TrendOut(
                period=t.period.key,
                score=_json(t.score),
                grade=t.grade,
                rank=t.rank,
                ranked=t.ranked,
                values={k: _json(v) for k, v in t.values.items()},
            )
            for t in view.trend
        ],
    )


@router.get("/trends/{kind}/{key}", response_model=list[TrendOut], summary="A subject's trend")
def trend(
    kind: str,
    key: str,
    actor: ActorDep,
    when: NowDep,
    locale: LocaleDep,
    container: ContainerDep,
    period: str,
    district: str | None = None,
    periods: Annotated[int, Query(ge=1, le=36)] = 12,
) -> list[TrendOut]:
    return subject(kind, key, actor, when, locale, container, period, district, periods).trend


@router.get(
    "/reports/{kind}/{key}/drill/{indicator}",
    response_model=DrillOut,
    summary="The cases (disposal rounds, tasks) behind one number, with their timeline lines",
)
def drill(
    kind: str,
    key: str,
    indicator: str,
    actor: ActorDep,
    when: NowDep,
    locale: LocaleDep,
    container: ContainerDep,
    period: str,
    district: str | None = None,
    part: Annotated[str | None, Query(description="numerator or denominator")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DrillOut:
    chosen, p = _kind(kind), _period(period)
    _refresh(container, actor, when, district)
    result = q.drill(container.uow(readonly=True), actor=actor, kind=chosen, key=key,
                     indicator=indicator, period=p, now=when, district=district, part=part,
                     page=page, page_size=page_size)  # fmt: skip
    items = []
    for it in result.items:
        case = it.case
        items.append(
            DrillItemOut(
                case_id=it.item.case_id,
                number=case.number if case else None,
                state=case.state.value if case else None,
                state_label=label(case.state, locale) if case else None,
                category=f"{case.category_code} {case.category_name}" if case else None,
                address=case.address if case else None,
                reported_at=case.reported_at if case else None,
                department=case.department_name if case else None,
                round=it.item.round,
                round_department_id=it.item.department_id,
                task_id=it.item.task_id,
                events=_events(it.events, locale),
                url=f"/api/v1/cases/{case.number}" if case else None,
            )
        )
    return DrillOut(
        kind=chosen.value,
        key=key,
        indicator=indicator_out(result.indicator, locale),
        part=result.part,
        numerator=result.numerator,
        denominator=result.denominator,
        period=period_out(result.frame),
        total=result.total,
        page=result.page,
        page_size=result.page_size,
        items=items,
    )


def _hours(seconds: float | None) -> float | None:
    return round(seconds / 3600, 3) if seconds is not None else None


def _source_label(value: str, locale: str) -> str:
    try:
        return label(Source(value), locale)
    except ValueError:
        return value


def centre_body(view: q.CentreView, locale: str) -> dict[str, Any]:
    stats = view.stats
    return {
        "period": period_out(view.frame).model_dump(mode="json"),
        "scope": view.scope or "city",
        "days": [d.isoformat() for d in view.days],
        "throughput": [
            {
                "step": s,
                "label": _t(STEP_LABELS[s], locale),
                "per_day": stats.throughput[s],
                "total": sum(stats.throughput[s]),
            }
            for s in STEPS
        ],
        "sources": [
            {"source": s, "label": _source_label(s, locale), "reports": r, "filed": f}
            for s, (r, f) in sorted(stats.sources.items(), key=lambda x: -x[1][0])
        ],
        "stages": [
            {
                "stage": s,
                "label": label(STAGE_MSGS[s], locale)
                if s in STAGE_MSGS
                else _t(WHOLE_LOOP, locale),
                "count": stats.stages[s].count,
                "mean_seconds": stats.stages[s].mean,
                "p90_seconds": stats.stages[s].p90,
            }
            for s in STAGES
        ],
        "satisfaction": [
            {"level": level, "label": _t(SATISFACTION_LEVELS[level], locale), "count": n}
            for level, n in stats.satisfaction.items()
        ],
    }


@router.get("/centre", summary="Throughput per day, source mix, time per stage, satisfaction")
def centre(
    actor: ActorDep,
    when: NowDep,
    locale: LocaleDep,
    container: ContainerDep,
    period: str,
    district: str | None = None,
) -> dict[str, Any]:
    p = _period(period)
    _refresh(container, actor, when, district)
    view = q.centre(container.uow(readonly=True), actor=actor, period=p, now=when,
                    district=district)  # fmt: skip
    return centre_body(view, locale)


def hotspots_body(view: q.HotspotView, locale: str, numbers: dict[int, str]) -> dict[str, Any]:
    spots = view.hotspots
    cats = view.categories
    return {
        "period": period_out(view.frame).model_dump(mode="json"),
        "scope": view.scope or "city",
        "grids": [
            {"code": g, "name": view.grid_names.get(g, g), "filed": f, "closed": c}
            for g, f, c in spots.grids
        ],
        "categories": [
            {
                "id": c,
                "code": cats.get(c, ("", ""))[0],
                "name": cats.get(c, ("", ""))[1],
                "filed": n,
            }
            for c, n in spots.categories
        ],
        "hours": {
            "weekdays": [_t(d, locale) for d in WEEKDAYS],
            "matrix": [spots.hour_of_week[d * 24 : d * 24 + 24] for d in range(7)],
        },
        "repeats": [
            {
                "grid": g,
                "grid_name": view.grid_names.get(g, g),
                "category_id": c,
                "category": " ".join(cats.get(c, ("", ""))),
                "count": len(ids),
                "cases": [numbers.get(i, str(i)) for i in ids],
            }
            for g, c, ids in spots.repeats
        ],
    }


def _numbers(container: Container, view: q.HotspotView) -> dict[int, str]:
    ids = [i for _, _, found in view.hotspots.repeats for i in found]
    with container.uow(readonly=True) as uow:
        return {k: v.number for k, v in uow.evaluation.case_lines(ids).items()}


@router.get("/hotspots", summary="高发网格, 高发问题, 高发时段 (weekday × hour), repeat problems")
def hotspots(
    actor: ActorDep,
    when: NowDep,
    locale: LocaleDep,
    container: ContainerDep,
    period: str,
    district: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    p = _period(period)
    _refresh(container, actor, when, district)
    view = q.hotspots(container.uow(readonly=True), actor=actor, period=p, now=when,
                      district=district, limit=limit)  # fmt: skip
    return hotspots_body(view, locale, _numbers(container, view))


# -- schemes and freezing ---


def scheme_out(record: SchemeRecord, with_body: bool = True) -> SchemeOut:
    return SchemeOut(
        version=record.version,
        name=record.name,
        status=record.status.value,
        effective_from=record.effective_from,
        created_at=record.created_at,
        published_at=record.published_at,
        note=record.note,
        body=record.body if with_body else None,
    )


@router.get("/schemes", response_model=list[SchemeOut], summary="Scoring scheme versions")
def schemes(actor: ActorDep, container: ContainerDep) -> list[SchemeOut]:
    return [scheme_out(r, False) for r in q.list_schemes(container.uow(readonly=True), actor=actor)]


@router.get("/schemes/{version}", response_model=SchemeOut, summary="One scheme version")
def scheme(version: int, actor: ActorDep, container: ContainerDep) -> SchemeOut:
    for record in q.list_schemes(container.uow(readonly=True), actor=actor):
        if record.version == version:
            return scheme_out(record)
    raise NotFoundError(
        "scheme_not_found", "Scoring scheme version {version} does not exist", version=version
    )


@router.post("/schemes", response_model=SchemeOut, status_code=201, summary="New draft version")
def create_scheme(
    actor: ActorDep, when: NowDep, container: ContainerDep, data: Annotated[SchemeIn, Body()]
) -> SchemeOut:
    record = svc.create_scheme(container.uow(), actor=actor, now=when, name=data.name,
                               body=data.body, based_on=data.based_on,
                               note=data.note or "")  # fmt: skip
    return scheme_out(record)


@router.put("/schemes/{version}", response_model=SchemeOut, summary="Edit a draft")
def update_scheme(
    version: int, actor: ActorDep, container: ContainerDep, data: Annotated[SchemeIn, Body()]
) -> SchemeOut:
    record = svc.update_scheme(container.uow(), version, actor=actor, body=data.body,
                               name=data.name, note=data.note)  # fmt: skip
    return scheme_out(record)


@router.post("/schemes/{version}/publish", response_model=SchemeOut, summary="Publish a draft")
def publish_scheme(
    version: int,
    actor: ActorDep,
    when: NowDep,
    container: ContainerDep,
    data: Annotated[PublishIn, Body()],
) -> SchemeOut:
    record = svc.publish_scheme(container.uow(), version, actor=actor, now=when,
                                effective_from=data.effective_from)  # fmt: skip
    return scheme_out(record)


def frozen_out(r: Any) -> FrozenOut:
    return FrozenOut(period=r.period, scope=r.scope, scheme_version=r.scheme_version,
                     as_of=r.as_of, frozen_at=r.frozen_at)  # fmt: skip


@router.post("/freeze", response_model=list[FrozenOut], summary="Freeze (publish) a month")
def freeze(
    actor: ActorDep, when: NowDep, container: ContainerDep, data: Annotated[FreezeIn, Body()]
) -> list[FrozenOut]:
    done = svc.freeze_month(container.uow(readonly=True), container.uow(), actor=actor,
                            period=_period(data.period), now=when)  # fmt: skip
    return [frozen_out(r) for r in done]


@router.get("/frozen", response_model=list[FrozenOut], summary="Frozen (published) reports")
def frozen(actor: ActorDep, container: ContainerDep) -> list[FrozenOut]:
    return [frozen_out(r) for r in q.frozen_reports(container.uow(readonly=True), actor=actor)]


# -- exports ---


def _cell(value: Any, unit: ind.Unit) -> Cell:
    if isinstance(value, Fraction):
        value = float(value)
    kind = {"count": "count", "rate": "rate", "ratio": "ratio"}[unit.value]
    return Cell(value, kind)


def report_section(report: q.Report, locale: str) -> Section:
    shown = report.indicators
    columns = [
        _t(T_SUBJECT, locale),
        *[f"{_t(i.label, locale)}" for i in shown],
        _t(T_SCORE, locale),
        _t(T_GRADE, locale),
        _t(T_RANK, locale),
    ]
    rows = []
    for row in report.rows:
        score = row.score
        rows.append(
            [
                Cell(_subject_name(row, locale)),
                *[_cell(row.values.get(i.id), i.unit) for i in shown],
                Cell(
                    float(score.value) if score.value is not None else None, "score", score.colour
                ),
                Cell(score.grade, "text", score.colour),
                Cell(row.rank, "count"),
            ]
        )
    lines = []
    if report.frozen_at is not None:
        lines.append(f"{_t(T_FROZEN, locale)}: {report.frozen_at.isoformat()}")
    else:
        lines.append(_t(T_LIVE, locale))
    return Section(_t(KIND_LABELS[report.kind], locale), lines, Table(columns, rows, 3.0))


def build_document(
    reports: Sequence[q.Report],
    locale: str,
    *,
    centre: q.CentreView | None = None,
    spots: q.HotspotView | None = None,
    numbers: dict[int, str] | None = None,
) -> Document:
    first = reports[0]
    fr = first.frame
    scope = first.scope or _t(q.WHOLE_CITY, locale)
    title_kind = _t(KIND_LABELS[first.kind], locale) if len(reports) == 1 else ""
    title = " · ".join(x for x in (_t(T_REPORT, locale), title_kind, fr.period.key) if x)
    last = fr.period.end - timedelta(days=1)
    lines = [
        f"{_t(T_PERIOD, locale)}: {fr.period.start.isoformat()} – {last.isoformat()}",
        f"{_t(T_SCOPE, locale)}: {scope}",
        f"{_t(T_AS_OF, locale)}: {fr.as_of.astimezone(fr.tz).strftime('%Y-%m-%d %H:%M')}",
        f"{_t(T_SCHEME, locale)}: v{first.scheme.version} {first.scheme.name}",
    ]
    sections = [report_section(r, locale) for r in reports]
    if centre is not None:
        body = centre_body(centre, locale)
        days = body["days"]
        rows = [[Cell(d)] + [Cell(t["per_day"][i], "count") for t in body["throughput"]]
                for i, d in enumerate(days)]  # fmt: skip
        sections.append(
            Section(f"{_t(T_CENTRE, locale)} — {_t(T_THROUGHPUT, locale)}", [],
                    Table([_t(T_DATE, locale), *[t["label"] for t in body["throughput"]]], rows,
                          1.5))
        )  # fmt: skip
        stage_rows = [
            [Cell(s["label"]), Cell(s["count"], "count"),
             Cell(_hours(s["mean_seconds"]), "ratio"), Cell(_hours(s["p90_seconds"]), "ratio")]
            for s in body["stages"]
        ]  # fmt: skip
        source_rows = [
            [Cell(s["label"]), Cell(s["reports"], "count"), Cell(s["filed"], "count")]
            for s in body["sources"]
        ]
        sat_rows = [[Cell(s["label"]), Cell(s["count"], "count")] for s in body["satisfaction"]]
        sections += [
            Section(f"{_t(T_CENTRE, locale)} — {_t(T_STAGES, locale)}", [],
                    Table([_t(T_STAGES, locale), _t(T_COUNT, locale), _t(T_MEAN, locale),
                           _t(T_P90, locale)], stage_rows, 2.0)),
            Section(f"{_t(T_CENTRE, locale)} — {_t(T_SOURCES, locale)}", [],
                    Table([_t(T_SOURCES, locale), _t(T_REPORTS, locale), _t(T_FILED, locale)],
                          source_rows, 2.0)),
            Section(f"{_t(T_CENTRE, locale)} — {_t(T_SATISFACTION, locale)}", [],
                    Table([_t(T_SATISFACTION, locale), _t(T_COUNT, locale)], sat_rows, 2.0)),
        ]  # fmt: skip
    if spots is not None:
        hs = hotspots_body(spots, locale, numbers or {})
        sections += [
            Section(f"{_t(T_HOTSPOTS, locale)} — {_t(T_HOT_GRIDS, locale)}", [],
                    Table([_t(T_SUBJECT, locale), _t(T_FILED, locale), _t(T_CLOSED, locale)],
                          [[Cell(f"{g['code']} {g['name']}"), Cell(g["filed"], "count"),
                            Cell(g["closed"], "count")] for g in hs["grids"]], 3.0)),
            Section(f"{_t(T_HOTSPOTS, locale)} — {_t(T_HOT_CLASSES, locale)}", [],
                    Table([_t(T_CLASS, locale), _t(T_FILED, locale)],
                          [[Cell(f"{c['code']} {c['name']}"), Cell(c["filed"], "count")]
                           for c in hs["categories"]], 3.0)),
            Section(f"{_t(T_HOTSPOTS, locale)} — {_t(T_HOT_HOURS, locale)}", [],
                    Table([_t(T_WEEKDAY, locale), *[f"{h:02d}" for h in range(24)]],
                          [[Cell(day), *[Cell(n, "count") for n in counts]]
                           for day, counts in zip(hs["hours"]["weekdays"],
                                                  hs["hours"]["matrix"], strict=True)], 2.5)),
            Section(f"{_t(T_HOTSPOTS, locale)} — {_t(T_REPEATS, locale)}", [],
                    Table([_t(T_SUBJECT, locale), _t(T_CLASS, locale), _t(T_COUNT, locale),
                           _t(T_CASES, locale)],
                          [[Cell(f"{r['grid']} {r['grid_name']}"), Cell(r["category"]),
                            Cell(r["count"], "count"), Cell(", ".join(r["cases"]))]
                           for r in hs["repeats"]], 1.5)),
        ]  # fmt: skip
    shown: dict[str, ind.Indicator] = {}
    for r in reports:
        for i in r.indicators:
            shown.setdefault(i.id, i)
    sections.append(
        Section(
            _t(T_DEFINITIONS, locale),
            [],
            Table(
                [_t(T_INDICATOR, locale), "中文", _t(T_FORMULA, locale), _t(T_REFERENCE, locale)],
                [
                    [
                        Cell(_t(i.label, locale)),
                        Cell(i.term),
                        Cell(indicator_formula(i, locale)),
                        Cell(indicator_basis(i, locale)),
                    ]
                    for i in shown.values()
                ],
                1.2,
            ),
        )
    )
    return Document(title, lines, sections, locale, _t(T_FOOTER, locale))


def export_bytes(document: Document, fmt: str) -> tuple[bytes, str]:
    if fmt == "xlsx":
        return (
            write_xlsx(document),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    try:
        return write_pdf(document), "application/pdf"
    except FontError as exc:
        raise ConflictError(
            "pdf_font_missing",
            "No Chinese font to embed in the PDF was found on the server ({reason})",
            reason=str(exc),
        ) from exc


def export(
    container: Container,
    actor: Actor,
    when: datetime,
    *,
    kind: str,
    period: str,
    fmt: str,
    locale: str,
    district: str | None = None,
) -> tuple[bytes, str, str]:
    """(file, media type, file name) of one report, or of every report with ``kind=all``."""
    if fmt not in ("xlsx", "pdf"):
        raise ValidationError(
            "export_format_invalid", "Exports are xlsx or pdf, not {format}", format=fmt
        )
    p = _period(period)
    chosen = list(SubjectKind) if kind == "all" else [_kind(kind)]
    _refresh(container, actor, when, district)
    reports, centre_view, spots = q.all_reports(container.uow(readonly=True), actor=actor,
                                                kinds=chosen, period=p, now=when,
                                                district=district)  # fmt: skip
    everything = kind == "all"
    document = build_document(
        reports, locale,
        centre=centre_view if everything else None,
        spots=spots if everything else None,
        numbers=_numbers(container, spots) if everything else None,
    )  # fmt: skip
    data, media = export_bytes(document, fmt)
    lang = "zh" if locale.startswith("zh") else "en"
    name = f"evaluation-{kind}-{p.key}-{reports[0].scope or 'city'}-{lang}.{fmt}"
    return data, media, name.replace("..", "_")


@router.get(
    "/exports/{kind}.{fmt}",
    summary="Export a report (or kind=all: every report, the centre and hot spots)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "application/vnd.openxmlformats-"
                                 "officedocument.spreadsheetml.sheet": {}}}},
)  # fmt: skip
def export_file(
    kind: str,
    fmt: str,
    actor: ActorDep,
    when: NowDep,
    locale: LocaleDep,
    container: ContainerDep,
    period: str,
    district: str | None = None,
    lang: Annotated[str | None, Query(description="zh_CN or en; default Accept-Language")] = None,
) -> Response:
    chosen_locale = normalise(lang) if lang else locale
    data, media, name = export(container, actor, when, kind=kind, period=period, fmt=fmt,
                               locale=chosen_locale, district=district)  # fmt: skip
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
