"""Evaluation reports as the caller may see them: indicators, scores, grades and ranks of
every subject of a kind for a period, a subject's trend, the cases behind any number, the
centre's statistics and the hot spots (standards.md §7).

Who may read: leaders, administrators and the centre's staff (operators, shift leads,
dispatchers). A district-scoped reader sees its district only: every number is then counted
over that district's cases. A frozen (published) month is read from what was stored when it
was frozen, never recomputed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import overload

from cityloop.domain.case import CaseEvent
from cityloop.domain.errors import Msg, NotFoundError, PermissionDeniedError, ValidationError
from cityloop.domain.evaluation import indicators as ind
from cityloop.domain.evaluation import scheme as schemes
from cityloop.domain.evaluation import scoring
from cityloop.domain.evaluation.extract import seconds
from cityloop.domain.evaluation.periods import Period, PeriodKind
from cityloop.domain.evaluation.records import (
    CaseLine,
    Directory,
    FrozenReport,
    SchemeRecord,
    SchemeStatus,
)
from cityloop.domain.evaluation.results import Assembled, CentreStats, CountTable, Hotspots, Item
from cityloop.domain.evaluation.rules import BASE_COUNTS, Context, Window
from cityloop.domain.evaluation.scheme import DEFAULT_SCHEME, Scheme
from cityloop.domain.evaluation.subjects import (
    CITY,
    REGION_KINDS,
    Family,
    Subject,
    SubjectKind,
)
from cityloop.domain.roles import Actor, Role
from cityloop.services.ports import FactSource, UnitOfWork

READERS = frozenset({Role.LEADER, Role.ADMIN, Role.OPERATOR, Role.SHIFT_LEAD, Role.DISPATCHER})
WHOLE_CITY = Msg("Whole city")
MAX_PAGE = 500
TREND_PERIODS = 12


# -- who may read what ---


def reader_scope(actor: Actor, district: str | None = None) -> str | None:
    """The district the caller's evaluation is restricted to (``None``: the whole city)."""
    if actor.role not in READERS and actor.role is not Role.SYSTEM:
        raise PermissionDeniedError(
            "evaluation_forbidden",
            "Only leaders, administrators and centre staff may read evaluations",
        )
    if district is not None and (len(district) != 6 or not district.isdigit()):
        raise ValidationError(
            "district_invalid", "{district} is not a district code", district=district
        )
    if actor.district_code is not None:
        if district not in (None, actor.district_code):
            raise PermissionDeniedError(
                "evaluation_outside_scope",
                "You may only see the evaluation of district {district}",
                district=actor.district_code,
            )
        return actor.district_code
    return district


# -- schemes ---


def scheme_of(record: SchemeRecord) -> Scheme:
    return schemes.from_json(
        record.body,
        version=record.version,
        name=record.name,
        effective_from=record.effective_from or date(2000, 1, 1),
    )


def scheme_for(uow: UnitOfWork, day: date) -> Scheme:
    """The published scheme that applies on ``day`` (the default one if none is stored)."""
    published = [
        r
        for r in uow.evaluation.schemes()
        if r.status is SchemeStatus.PUBLISHED
        and r.effective_from is not None
        and r.effective_from <= day
    ]
    if not published:
        return DEFAULT_SCHEME
    best = max(published, key=lambda r: (r.effective_from or date.min, r.version))
    return scheme_of(best)


def scheme_version(uow: UnitOfWork, version: int) -> Scheme:
    record = uow.evaluation.scheme(version)
    if record is None:
        if version == DEFAULT_SCHEME.version:
            return DEFAULT_SCHEME
        raise NotFoundError(
            "scheme_not_found", "Scoring scheme version {version} does not exist", version=version
        )
    return scheme_of(record)


def list_schemes(uow: UnitOfWork, *, actor: Actor) -> list[SchemeRecord]:
    reader_scope(actor)
    with uow:
        stored = uow.evaluation.schemes()
    if not any(r.version == DEFAULT_SCHEME.version for r in stored):
        stored.insert(0, default_record())
    return stored


def default_record(now: datetime | None = None) -> SchemeRecord:
    return SchemeRecord(
        version=DEFAULT_SCHEME.version,
        name=DEFAULT_SCHEME.name,
        status=SchemeStatus.PUBLISHED,
        body=schemes.to_json(DEFAULT_SCHEME),
        created_at=now or datetime(2000, 1, 1, tzinfo=UTC),
        effective_from=DEFAULT_SCHEME.effective_from,
    )


# -- the time frame ---


@dataclass(frozen=True, slots=True)
class Frame:
    period: Period
    start: datetime
    end: datetime
    as_of: datetime
    tz: tzinfo

    @property
    def window(self) -> Window:
        return Window(seconds(self.start) or 0, seconds(self.end) or 0, seconds(self.as_of) or 0)

    @property
    def complete(self) -> bool:
        return self.as_of >= self.end


def frame(period: Period, tz: tzinfo, now: datetime) -> Frame:
    start, end = period.bounds(tz)
    if start > now:
        raise ValidationError(
            "period_in_future", "The period {period} has not begun yet", period=period.key
        )
    return Frame(period, start, end, min(end, now), tz)


# -- subjects ---


def context(directory: Directory, district: str | None) -> Context:
    evaluated = {d.id: d for d in directory.departments if not d.centre}
    parents = {
        d.id: (d.parent_id if d.parent_id in evaluated else None) for d in evaluated.values()
    }
    return Context(parents, directory.inspector_grids, district)


def _in(code: str, district: str | None) -> bool:
    return district is None or code.startswith(district)


def subjects(directory: Directory, kind: SubjectKind, district: str | None) -> dict[str, Subject]:
    """The register's subjects of ``kind`` inside the scope, by key."""
    out: dict[str, Subject] = {}
    if kind.family is Family.POST:
        role = kind.role.value if kind.role else ""
        for person in directory.people.get(role, []):
            if district is None or any(d in (None, district) for d in person.districts):
                out[str(person.id)] = Subject(kind, str(person.id), person.name)
    elif kind is SubjectKind.DEPARTMENT:
        for d in directory.departments:
            if d.centre or not d.active:
                continue
            if district is None or d.district_code in (None, district):
                parent = str(d.parent_id) if d.parent_id else None
                out[str(d.id)] = Subject(kind, str(d.id), d.name, parent, d.level)
    elif kind in REGION_KINDS:
        size = kind.code_length
        up = {SubjectKind.STREET: 6, SubjectKind.COMMUNITY: 9, SubjectKind.GRID: 12}.get(kind)
        for region in directory.regions.get(kind.value, []):
            code = region.code
            if len(code) == size and (district is None or code.startswith(district)):
                out[code] = Subject(kind, code, region.name, code[:up] if up else None)
    else:
        key = district or CITY
        name = WHOLE_CITY
        if district is not None:
            for region in directory.regions.get("district", []):
                if region.code == district:
                    name = Msg(region.name)
        out[key] = Subject(kind, key, name)
    return out


def register_totals(directory: Directory) -> dict[str, dict[str, tuple[int, int]]]:
    """Unit grids and area (m², whole) under every region, by level; the whole city under
    ``centre`` → ``city``."""
    levels: dict[str, dict[str, list[int]]] = {kind.value: {} for kind in REGION_KINDS}
    city = [0, 0]
    for grid in directory.regions.get("grid", []):
        code, area = grid.code, round(grid.area_m2 or 0)
        city[0] += 1
        city[1] += area
        for kind in REGION_KINDS:
            key = code[: kind.code_length]
            found = levels[kind.value].get(key)
            if found is None:
                levels[kind.value][key] = [1, area]
            else:
                found[0] += 1
                found[1] += area
    out = {level: {k: (n, a) for k, (n, a) in found.items()} for level, found in levels.items()}
    out[SubjectKind.CENTRE.value] = {CITY: (city[0], city[1])}
    return out


def register_counts(
    directory: Directory,
    kind: SubjectKind,
    district: str | None,
    totals: Mapping[str, Mapping[str, tuple[int, int]]] | None = None,
) -> dict[str, dict[str, int]]:
    """Grids and area of every region of ``kind`` — or of the whole scope for the centre."""
    if kind not in REGION_KINDS and kind is not SubjectKind.CENTRE:
        return {}
    totals = totals if totals is not None else register_totals(directory)
    if kind is SubjectKind.CENTRE:
        if district is None:
            n, area = totals[kind.value][CITY]
        else:
            n, area = totals[SubjectKind.DISTRICT.value].get(district, (0, 0))
        return {district or CITY: {"grids": n, "area_m2": area}}
    return {
        code: {"grids": n, "area_m2": area}
        for code, (n, area) in totals[kind.value].items()
        if district is None or code.startswith(district)
    }


# -- reports ---


class Row:
    """One subject's line of a report."""

    __slots__ = ("_columns", "_counts", "_index", "_values", "kind", "rank", "score", "subject")

    def __init__(
        self,
        subject: Subject,
        counts: dict[str, int] | None,
        score: scoring.Score,
        rank: int | None = None,
        columns: Mapping[str, Sequence[int]] | None = None,
        index: int = 0,
    ) -> None:
        self.subject = subject
        self.kind = subject.kind
        self._counts = counts
        self._columns = columns
        self._index = index
        self.score = score
        self.rank = rank
        self._values: dict[str, int | Fraction | None] | None = None

    @property
    def counts(self) -> dict[str, int]:
        """The base and register counts (read from the report's columns on first use)."""
        if self._counts is None:
            cols = self._columns or {}
            self._counts = {name: int(values[self._index]) for name, values in cols.items()}
        return self._counts

    @property
    def values(self) -> dict[str, int | Fraction | None]:
        if self._values is None:
            self._values = ind.values(self.kind, self.counts)
        return self._values


class RowList(Sequence[Row]):
    """A report's rows, best first, made on first access (a report of every unit grid holds
    tens of thousands of them and a page usually shows a few)."""

    def __init__(self, subjects: Sequence[Subject], done: Assembled) -> None:
        self._subjects = subjects
        self._done = done
        self._made: dict[int, Row] = {}
        self._position: dict[str, int] | None = None

    def _row(self, i: int) -> Row:
        row = self._made.get(i)
        if row is None:
            done = self._done
            row = self._made[i] = Row(
                self._subjects[i], None, scoring.Score(*done.scores[i]), done.ranks[i],
                done.columns, i,
            )  # fmt: skip
        return row

    def __len__(self) -> int:
        return len(self._done.order)

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        order = self._done.order
        if isinstance(index, slice):
            return [self._row(order[i]) for i in range(*index.indices(len(order)))]
        return self._row(order[index])

    def find(self, key: str) -> Row | None:
        if self._position is None:
            self._position = {s.key: i for i, s in enumerate(self._subjects)}
        i = self._position.get(key)
        return self._row(i) if i is not None else None

    @property
    def ranked(self) -> int:
        return sum(1 for r in self._done.ranks if r is not None)


@dataclass(frozen=True, slots=True)
class Report:
    kind: SubjectKind
    frame: Frame
    scope: str | None  # district code, None for the whole city
    scheme: Scheme
    rows: Sequence[Row]
    frozen_at: datetime | None = None

    @property
    def indicators(self) -> tuple[ind.Indicator, ...]:
        return ind.shown(self.kind)

    def row(self, key: str) -> Row | None:
        if isinstance(self.rows, RowList):
            return self.rows.find(key)
        return next((r for r in self.rows if r.subject.key == key), None)

    @property
    def ranked(self) -> int:
        """How many subjects have a rank."""
        if isinstance(self.rows, RowList):
            return self.rows.ranked
        return sum(1 for r in self.rows if r.rank is not None)


def _score_rows(
    facts: FactSource,
    kind: SubjectKind,
    keyed: Mapping[str, Subject],
    table: CountTable,
    register: Mapping[str, Mapping[str, int]],
    scheme: Scheme,
    period: Period,
    district: str | None,
    static: tuple[list[str], list[Subject], dict[str, list[int]]] | None = None,
) -> RowList:
    keys, subjects, extra = static or _static(kind, keyed, register)
    missing = [key for key in table.keys if key not in keyed]
    if missing:
        keys = [*keys, *missing]
        subjects = [*subjects, *(Subject(kind, key, key) for key in missing)]
        extra = {name: [*values, *([0] * len(missing))] for name, values in extra.items()}
    if scheme.region_classes:
        regional = kind in REGION_KINDS
        classes: list[str | None] = [
            scheme.region_class(key if regional else district) for key in keys
        ]
    else:
        classes = [scheme.default_region_class] * len(keys)
    done = facts.assemble(kind, keys, table, extra, scheme, period.month_factor, classes)
    return RowList(subjects, done)


def _static(
    kind: SubjectKind, keyed: Mapping[str, Subject], register: Mapping[str, Mapping[str, int]]
) -> tuple[list[str], list[Subject], dict[str, list[int]]]:
    """What does not depend on the period: subject keys, subjects, register columns."""
    keys = list(keyed)
    extra: dict[str, list[int]] = {}
    if kind in REGION_KINDS or kind is SubjectKind.CENTRE:
        for name in ("grids", "area_m2"):
            extra[name] = [register.get(key, {}).get(name, 0) for key in keys]
    return keys, [keyed[key] for key in keys], extra


def explain(row: Row, scheme: Scheme, period: Period, district: str | None) -> scoring.Score:
    """The exact score of one row with its parts (the points of every component)."""
    region = row.subject.key if row.kind in REGION_KINDS else district
    values = {c.indicator: row.values.get(c.indicator) for c in scheme.components[row.kind]}
    return scoring.score(row.kind, values, scheme, period.month_factor, scheme.region_class(region))


def _base_names(kind: SubjectKind) -> tuple[str, ...]:
    extra = ("grids", "area_m2") if kind in REGION_KINDS or kind is SubjectKind.CENTRE else ()
    return (*BASE_COUNTS[kind], *extra)


def _rank(rows: list[Row]) -> None:
    for row, rank in zip(rows, scoring.ranks([r.score.value for r in rows]), strict=True):
        row.rank = rank
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.subject.parent or "", r.subject.key))


def compute(
    facts: FactSource,
    directory: Directory,
    scheme: Scheme,
    kind: SubjectKind,
    fr: Frame,
    district: str | None,
    totals: Mapping[str, Mapping[str, tuple[int, int]]] | None = None,
    ctx: Context | None = None,
) -> Sequence[Row]:
    """Every subject's counts, score, grade and rank, computed from the facts."""
    ctx = ctx or context(directory, district)
    table = facts.table(kind, fr.window, ctx)
    cached = directory.cache.get(("subjects", kind, district))
    if cached is None:
        keyed = subjects(directory, kind, district)
        register = register_counts(directory, kind, district, totals)
        cached = directory.cache[("subjects", kind, district)] = (
            keyed, register, _static(kind, keyed, register)
        )  # fmt: skip
    keyed, register, static = cached
    return _score_rows(
        facts, kind, keyed, table, register, scheme, fr.period, district, static
    )  # fmt: skip


def from_frozen(report: FrozenReport, kind: SubjectKind, scheme: Scheme) -> list[Row]:
    rows = []
    for line in report.lines:
        if line.kind != kind.value:
            continue
        subject = Subject(kind, line.key, line.name, line.parent)
        if kind is SubjectKind.CENTRE and line.key == CITY:
            subject = Subject(kind, line.key, WHOLE_CITY)
        band = scheme.grade(line.score)
        score = scoring.Score(line.score, line.grade, band.colour if band else None, ())
        rows.append(Row(subject, dict(line.counts), score, line.rank))
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.subject.key))
    return rows


@dataclass
class Session:
    """What one read needs, fetched once: the facts, the register, the time zone."""

    uow: UnitOfWork
    facts: FactSource
    directory: Directory
    tz: tzinfo
    schemes: dict[int, Scheme] = field(default_factory=dict)
    frozen: dict[tuple[str, str], FrozenReport | None] = field(default_factory=dict)
    _totals: dict[str, dict[str, tuple[int, int]]] | None = None
    _contexts: dict[str | None, Context] = field(default_factory=dict)

    def context(self, district: str | None) -> Context:
        """One context per scope, so that the engine reuses its work across kinds."""
        if district not in self._contexts:
            key = ("context", district)
            found = self.directory.cache.get(key)
            if found is None:
                found = self.directory.cache[key] = context(self.directory, district)
            self._contexts[district] = found
        return self._contexts[district]

    @property
    def totals(self) -> dict[str, dict[str, tuple[int, int]]]:
        if self._totals is None:
            found = self.directory.cache.get("totals")
            if found is None:
                found = self.directory.cache["totals"] = register_totals(self.directory)
            self._totals = found
        return self._totals


def open_session(uow: UnitOfWork) -> Session:
    """Load the facts and the register (inside ``with uow``)."""
    return Session(uow, uow.evaluation.facts(), uow.evaluation.directory(), uow.sla.calendar().tz)


def report_in(
    session: Session, kind: SubjectKind, period: Period, district: str | None, now: datetime
) -> Report:
    fr = frame(period, session.tz, now)
    scope = district or CITY
    frozen = None
    if period.kind is PeriodKind.MONTH:
        token = (period.key, scope)
        if token not in session.frozen:
            session.frozen[token] = session.uow.evaluation.frozen(period.key, scope)
        frozen = session.frozen[token]
    if frozen is not None:
        scheme = _scheme_cached(session, frozen.scheme_version)
        fr = Frame(period, fr.start, fr.end, frozen.as_of, fr.tz)
        return Report(kind, fr, district, scheme, from_frozen(frozen, kind, scheme),
                      frozen.frozen_at)  # fmt: skip
    scheme = scheme_for(session.uow, period.start)
    rows = compute(
        session.facts, session.directory, scheme, kind, fr, district, session.totals,
        session.context(district),
    )  # fmt: skip
    return Report(kind, fr, district, scheme, rows)


def _scheme_cached(session: Session, version: int) -> Scheme:
    if version not in session.schemes:
        session.schemes[version] = scheme_version(session.uow, version)
    return session.schemes[version]


def report(
    uow: UnitOfWork,
    *,
    actor: Actor,
    kind: SubjectKind,
    period: Period,
    now: datetime,
    district: str | None = None,
    level: int | None = None,
    parent: str | None = None,
) -> Report:
    """The report of every subject of ``kind`` for ``period`` (ranked, best first).

    ``level`` keeps departments of one level (1, 2, 3: rolled up over their sub-units);
    ``parent`` keeps regions inside one region (the streets of a district).
    """
    scope = reader_scope(actor, district)
    with uow:
        session = open_session(uow)
        result = report_in(session, kind, period, scope, now)
    rows: Sequence[Row] = result.rows
    if level is not None:
        rows = [r for r in rows if r.subject.level == level]
        _rank(rows)
    if parent is not None:
        rows = [r for r in rows if r.subject.key.startswith(parent) and r.subject.key != parent]
        _rank(rows)
    return Report(result.kind, result.frame, result.scope, result.scheme, rows, result.frozen_at)


# -- one subject: its line, its trend ---


@dataclass(frozen=True, slots=True)
class TrendPoint:
    period: Period
    score: Decimal | None
    grade: str | None
    rank: int | None
    ranked: int  # how many subjects were ranked
    values: dict[str, int | Fraction | None]


@dataclass(frozen=True, slots=True)
class SubjectView:
    report: Report
    row: Row
    trend: list[TrendPoint]


def subject(
    uow: UnitOfWork,
    *,
    actor: Actor,
    kind: SubjectKind,
    key: str,
    period: Period,
    now: datetime,
    district: str | None = None,
    periods: int = TREND_PERIODS,
) -> SubjectView:
    """A subject's line, score breakdown and rank, with its trend over the last periods."""
    scope = reader_scope(actor, district)
    periods = max(1, min(periods, 36))
    with uow:
        session = open_session(uow)
        current = report_in(session, kind, period, scope, now)
        found_row = current.row(key)
        if found_row is None:
            raise NotFoundError(
                "subject_not_found", "There is no {kind} {key} to evaluate", kind=kind.value,
                key=key,
            )  # fmt: skip
        exact = explain(found_row, current.scheme, period, scope)
        row = Row(
            found_row.subject,
            found_row.counts,
            scoring.Score(found_row.score.value, found_row.score.grade, found_row.score.colour,
                          exact.parts),
            found_row.rank,
        )  # fmt: skip
        trend = []
        for p in period.last(periods):
            if p.bounds(session.tz)[0] > now:
                continue
            rep = current if p == period else report_in(session, kind, p, scope, now)
            found = rep.row(key)
            ranked = rep.ranked
            if found is None:
                trend.append(TrendPoint(p, None, None, None, ranked, {}))
            else:
                trend.append(
                    TrendPoint(p, found.score.value, found.score.grade, found.rank, ranked,
                               found.values)
                )  # fmt: skip
    return SubjectView(current, row, trend)


# -- drill-down: the items behind a number ---


@dataclass(frozen=True, slots=True)
class DrillItem:
    item: Item
    case: CaseLine | None
    events: list[CaseEvent]


@dataclass(frozen=True, slots=True)
class Drill:
    kind: SubjectKind
    key: str
    indicator: ind.Indicator
    part: str  # which count is listed
    frame: Frame
    total: int
    page: int
    page_size: int
    items: list[DrillItem]
    numerator: str | None = None
    denominator: str | None = None


def _items_of(
    facts: FactSource, kind: SubjectKind, key: str, name: str, window: Window, ctx: Context
) -> list[Item]:
    indicator = ind.BY_ID.get(name)
    if indicator is None or indicator.items is ind.ItemKind.NONE or name == "area_m2":
        return []
    if indicator.numerator is None:
        return facts.items(kind, key, name, window, ctx)
    top = _items_of(facts, kind, key, indicator.numerator, window, ctx)
    if indicator.minus is not None:
        drop = Counter(_items_of(facts, kind, key, indicator.minus, window, ctx))
        kept = []
        for item in top:
            if drop[item] > 0:
                drop[item] -= 1
            else:
                kept.append(item)
        return kept
    if indicator.plus is not None:
        return top + _items_of(facts, kind, key, indicator.plus, window, ctx)
    return top


def drill(
    uow: UnitOfWork,
    *,
    actor: Actor,
    kind: SubjectKind,
    key: str,
    indicator: str,
    period: Period,
    now: datetime,
    district: str | None = None,
    part: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Drill:
    """The cases (rounds, tasks) behind one number of one subject, with their timeline lines.

    For a rate, ``part`` chooses its numerator (default) or its denominator.
    """
    scope = reader_scope(actor, district)
    chosen = ind.check_shown(kind, indicator)
    name = chosen.id
    if chosen.unit is not ind.Unit.COUNT:
        if part not in (None, "numerator", "denominator"):
            raise ValidationError("drill_part_invalid", "A rate's part is numerator or denominator")
        name = (chosen.denominator if part == "denominator" else chosen.numerator) or name
    page = max(page, 1)
    page_size = max(1, min(page_size, MAX_PAGE))
    with uow:
        session = open_session(uow)
        fr = frame(period, session.tz, now)
        frozen = (
            uow.evaluation.frozen(period.key, scope or CITY)
            if period.kind is PeriodKind.MONTH
            else None
        )
        if frozen is not None:
            fr = Frame(period, fr.start, fr.end, frozen.as_of, fr.tz)
        ctx = context(session.directory, scope)
        found = _items_of(session.facts, kind, key, name, fr.window, ctx)
        found.sort(key=lambda i: (i.case_id, i.round or 0, i.task_id or 0))
        shown = found[(page - 1) * page_size : page * page_size]
        ids = [i.case_id for i in shown]
        lines = uow.evaluation.case_lines(ids)
        actions = ind.BY_ID[name].actions or chosen.actions
        timelines = uow.evaluation.timelines(ids, actions)
    items = [DrillItem(i, lines.get(i.case_id), timelines.get(i.case_id, [])) for i in shown]
    return Drill(
        kind, key, chosen, name, fr, len(found), page, page_size, items,
        chosen.numerator if chosen.unit is not ind.Unit.COUNT else None,
        chosen.denominator if chosen.unit is not ind.Unit.COUNT else None,
    )  # fmt: skip


# -- the centre and hot spots ---


@dataclass(frozen=True, slots=True)
class CentreView:
    frame: Frame
    scope: str | None
    days: list[date]
    stats: CentreStats


def centre_in(session: Session, period: Period, district: str | None, now: datetime) -> CentreView:
    fr = frame(period, session.tz, now)
    days = [period.start + timedelta(days=i) for i in range(period.days)]
    starts = [
        seconds(datetime.combine(d, datetime.min.time(), tzinfo=session.tz)) or 0
        for d in [*days, period.end]
    ]
    ctx = context(session.directory, district)
    return CentreView(fr, district, days, session.facts.centre(fr.window, ctx, starts))


def centre(
    uow: UnitOfWork, *, actor: Actor, period: Period, now: datetime, district: str | None = None
) -> CentreView:
    """Throughput per step and day, source mix, time per stage, satisfaction (§7.6)."""
    scope = reader_scope(actor, district)
    with uow:
        return centre_in(open_session(uow), period, scope, now)


@dataclass(frozen=True, slots=True)
class HotspotView:
    frame: Frame
    scope: str | None
    hotspots: Hotspots
    grid_names: dict[str, str]
    categories: dict[int, tuple[str, str]]


def hotspots_in(
    session: Session, period: Period, district: str | None, now: datetime, limit: int
) -> HotspotView:
    fr = frame(period, session.tz, now)
    ctx = context(session.directory, district)
    spots = session.facts.hotspots(fr.window, ctx, max(1, min(limit, 100)))
    names = {r.code: r.name for r in session.directory.regions.get("grid", [])}
    ids = [c for c, _ in spots.categories] + [c for _, c, _ in spots.repeats]
    cats = session.uow.evaluation.category_names(ids)
    return HotspotView(fr, district, spots, names, cats)


def hotspots(
    uow: UnitOfWork,
    *,
    actor: Actor,
    period: Period,
    now: datetime,
    district: str | None = None,
    limit: int = 10,
) -> HotspotView:
    """高发网格, 高发问题, 高发时段 (hour × weekday) and repeat problems at one place."""
    scope = reader_scope(actor, district)
    with uow:
        return hotspots_in(open_session(uow), period, scope, now, limit)


def reports_in(
    session: Session, kinds: Iterable[SubjectKind], period: Period, district: str | None,
    now: datetime,
) -> list[Report]:  # fmt: skip
    return [report_in(session, kind, period, district, now) for kind in kinds]


def all_reports(
    uow: UnitOfWork,
    *,
    actor: Actor,
    kinds: Sequence[SubjectKind],
    period: Period,
    now: datetime,
    district: str | None = None,
) -> tuple[list[Report], CentreView, HotspotView]:
    """Several kinds at once, with the centre statistics and hot spots (for exports)."""
    scope = reader_scope(actor, district)
    with uow:
        session = open_session(uow)
        found = reports_in(session, kinds, period, scope, now)
        return (
            found,
            centre_in(session, period, scope, now),
            hotspots_in(session, period, scope, now, 10),
        )


def frozen_reports(uow: UnitOfWork, *, actor: Actor) -> list[FrozenReport]:
    scope = reader_scope(actor)
    with uow:
        found = uow.evaluation.frozen_reports()
    return [r for r in found if scope is None or r.scope == scope]
