"""The columnar engine counts exactly what the plain rules of the domain count.

Random fact sets (hypothesis) are evaluated both ways for every subject kind, with and without
a district scope, for windows that cut through the facts; counts, drill-downs and the
partition properties (streets add up to their district) must agree.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityloop.adapters.evaluation.engine import Engine, FactArrays
from cityloop.domain.case import CloseType, Source, TaskKind
from cityloop.domain.evaluation import indicators, rules
from cityloop.domain.evaluation.facts import (
    CaseFacts,
    CaseRecord,
    ChangeKind,
    DeadlineChange,
    IntakeKind,
    RoundEnd,
    RoundFacts,
    TaskFacts,
)
from cityloop.domain.evaluation.results import Item
from cityloop.domain.evaluation.rules import Context, Window
from cityloop.domain.evaluation.subjects import REGION_KINDS, SubjectKind, region_parent

T0 = 1_780_000_000  # 2026-05
GRIDS = ("110101001001001", "110101001001002", "110101002001001", "110102001001001")
DEPARTMENTS = (11, 12, 13, 14)
PARENTS = {11: None, 12: 11, 13: 12, 14: None}
INSPECTOR_GRIDS = {GRIDS[0]: (1, 2), GRIDS[1]: (1,), GRIDS[3]: (3,)}
USERS = (1, 2, 3)

times = st.integers(T0, T0 + 100)
maybe_time = st.one_of(times, times, times, st.none())
maybe_user = st.one_of(st.sampled_from(USERS), st.sampled_from(USERS), st.none())


@st.composite
def records(draw: st.DrawFn, case_id: int) -> CaseRecord:
    # Cases of later zone-map blocks happen later, so that a window skips whole blocks.
    base = T0 + 30 * (case_id // 4096)
    times = st.integers(base, base + 100)
    maybe_time = st.one_of(times, times, times, st.none())
    reported = draw(times)
    case = CaseFacts(
        case_id=case_id,
        reported_at=reported,
        source=draw(st.one_of(st.just(Source.INSPECTOR), st.sampled_from(list(Source)))),
        reporter_id=draw(maybe_user),
        self_handled=draw(st.booleans()),
        category_id=draw(st.sampled_from([0, 5, 6])) or None,
        grid_code=draw(st.sampled_from(GRIDS)),
        hour_of_week=draw(st.integers(0, 167)),
        intake_at=draw(maybe_time),
        intake_by=draw(maybe_user),
        intake_kind=draw(st.none() | st.sampled_from(list(IntakeKind))),
        intake_in_time=draw(st.booleans()),
        filed_at=draw(maybe_time),
        filed_by=draw(maybe_user),
        filed_in_time=draw(st.booleans()),
        valid_at=draw(maybe_time),
        invalid_at=draw(st.one_of(st.none(), st.none(), times)),
        closed_at=draw(maybe_time),
        closed_by=draw(maybe_user),
        closed_in_time=draw(st.booleans()),
        close_type=draw(st.one_of(st.sampled_from(list(CloseType)), st.just(CloseType.NORMAL))),
        closed_department=draw(st.none() | st.sampled_from(DEPARTMENTS)),
        callback_at=draw(maybe_time),
        satisfaction=draw(st.none() | st.integers(1, 5)),
    )
    rounds = []
    start = reported
    for number in range(1, draw(st.integers(0, 3)) + 1):
        start = start + draw(st.integers(0, 10))
        changes = []
        at = start
        for _ in range(draw(st.integers(0, 3))):
            at += draw(st.integers(0, 10))
            changes.append(
                DeadlineChange(at, draw(st.none() | times), draw(st.sampled_from(list(ChangeKind))))
            )
        end = draw(st.none() | st.sampled_from(list(RoundEnd)))
        rounds.append(
            RoundFacts(
                case_id=case_id,
                number=number,
                department_id=draw(st.sampled_from(DEPARTMENTS)),
                started_at=start,
                rework=number > 1 and draw(st.booleans()),
                dispatched_by=draw(maybe_user),
                dispatched_in_time=draw(st.booleans()),
                deadline=draw(st.none() | times),
                changes=tuple(changes),
                extended_at=draw(maybe_time),
                handled_at=draw(maybe_time),
                handled_in_time=draw(st.booleans()),
                ended_at=draw(times) if end else None,
                end=end,
                checked_at=draw(maybe_time),
                check_passed=draw(st.none() | st.booleans()),
            )
        )
    tasks = []
    for n in range(draw(st.integers(0, 2))):
        completed = draw(maybe_time)
        tasks.append(
            TaskFacts(
                task_id=case_id * 10 + n,
                case_id=case_id,
                kind=draw(st.sampled_from(list(TaskKind))),
                assignee_id=draw(st.sampled_from(USERS)),
                created_at=draw(times),
                deadline=draw(maybe_time),
                completed_at=completed,
                cancelled=completed is not None and draw(st.booleans()),
                done_in_time=completed is not None and draw(st.booleans()),
                requested_by=draw(maybe_user),
                requested_in_time=draw(st.booleans()),
            )
        )
    return CaseRecord(case, tuple(rounds), tuple(tasks))


@st.composite
def fact_sets(draw: st.DrawFn) -> list[CaseRecord]:
    n = draw(st.integers(0, 16))
    # ids spread over several zone-map blocks (4,096 case ids each)
    step = draw(st.sampled_from([1, 1500, 5000]))
    return [draw(records(i * step + 1)) for i in range(n)]


@st.composite
def windows(draw: st.DrawFn) -> Window:
    start = draw(st.integers(T0 - 5, T0 + 200))
    end = start + draw(st.integers(1, 100))
    as_of = draw(st.sampled_from([end, end - 1, start + 1]))
    return Window(start, end, max(as_of, start + 1))


def _item_set(items: list[Item]) -> Counter[tuple[int, int | None, int | None]]:
    return Counter((i.case_id, i.round, i.task_id) for i in items)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=fact_sets(), window=windows(), district=st.sampled_from([None, "110101", "110102"]))
def test_engine_counts_what_the_rules_count(
    facts: list[CaseRecord], window: Window, district: str | None
) -> None:
    ctx = Context(PARENTS, INSPECTOR_GRIDS, district)
    engine = Engine(FactArrays.from_records(facts))
    for kind in SubjectKind:
        expected = rules.evaluate(facts, kind, window, ctx)
        got = engine.counts(kind, window, ctx)
        assert got == expected, kind
        # Every count's drill-down lists as many items as the count says.
        for key, row in expected.items():
            for name, value in row.items():
                if name == "satisfaction_points":
                    continue
                items = engine.items(kind, key, name, window, ctx)
                assert len(items) == value, (kind, key, name)


@settings(max_examples=80, deadline=None)
@given(facts=fact_sets(), window=windows())
def test_regions_partition_and_rates_are_proportions(
    facts: list[CaseRecord], window: Window
) -> None:
    ctx = Context(PARENTS, INSPECTOR_GRIDS, None)
    engine = Engine(FactArrays.from_records(facts))
    by_kind = {kind: engine.counts(kind, window, ctx) for kind in REGION_KINDS}
    centre = engine.counts(SubjectKind.CENTRE, window, ctx).get("city", {})
    for child, parent in (
        (SubjectKind.GRID, SubjectKind.COMMUNITY),
        (SubjectKind.COMMUNITY, SubjectKind.STREET),
        (SubjectKind.STREET, SubjectKind.DISTRICT),
    ):
        sums: dict[str, Counter[str]] = {}
        for code, row in by_kind[child].items():
            sums.setdefault(region_parent(child, code) or "", Counter()).update(row)
        for code, row in by_kind[parent].items():
            assert {k: v for k, v in row.items() if v} == dict(+sums.get(code, Counter()))
    total: Counter[str] = Counter()
    for row in by_kind[SubjectKind.DISTRICT].values():
        total.update(row)
    for name in rules.BASE_COUNTS[SubjectKind.DISTRICT]:
        assert total[name] == centre.get(name, 0), name
    for kind in SubjectKind:
        for row in engine.counts(kind, window, ctx).values():
            for indicator in indicators.shown(kind):
                if indicator.unit is indicators.Unit.RATE:
                    value = indicator.value(row)
                    assert value is None or Fraction(0) <= value <= 1, (kind, indicator.id)
