"""Pure parts of the evaluation: periods, schemes as data, scoring, grades, ranks, the fast
scorer (equal to the exact one), fact extraction from a timeline, and the monthly schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityloop.domain.case import Case, CaseEvent, CaseState, CloseType, Source
from cityloop.domain.errors import ValidationError
from cityloop.domain.evaluation import indicators as ind
from cityloop.domain.evaluation import scoring
from cityloop.domain.evaluation.extract import extract, seconds
from cityloop.domain.evaluation.facts import ChangeKind, IntakeKind, RoundEnd
from cityloop.domain.evaluation.periods import (
    PeriodKind,
    parse_period,
    previous_month,
)
from cityloop.domain.evaluation.rules import BASE_COUNTS
from cityloop.domain.evaluation.scheme import DEFAULT_SCHEME, from_json, to_json
from cityloop.domain.evaluation.subjects import SubjectKind

TZ = ZoneInfo("Asia/Shanghai")


# -- periods ---


@pytest.mark.parametrize(
    ("text", "kind", "start", "end", "key"),
    [
        ("2026-11", PeriodKind.MONTH, date(2026, 11, 1), date(2026, 12, 1), "2026-11"),
        ("2026-q4", PeriodKind.QUARTER, date(2026, 10, 1), date(2027, 1, 1), "2026-Q4"),
        ("2026-W48", PeriodKind.WEEK, date(2026, 11, 23), date(2026, 11, 30), "2026-W48"),
        ("2026", PeriodKind.YEAR, date(2026, 1, 1), date(2027, 1, 1), "2026"),
        ("2026-02-28", PeriodKind.DAY, date(2026, 2, 28), date(2026, 3, 1), "2026-02-28"),
        ("2026-11-01..2026-11-15", PeriodKind.CUSTOM, date(2026, 11, 1), date(2026, 11, 16),
         "2026-11-01..2026-11-15"),
    ],
)  # fmt: skip
def test_periods_parse_and_print(text: str, kind: PeriodKind, start: date, end: date, key: str):
    p = parse_period(text)
    assert (p.kind, p.start, p.end, p.key) == (kind, start, end, key)
    assert parse_period(p.key) == p


def test_period_arithmetic() -> None:
    nov = parse_period("2026-11")
    assert [p.key for p in nov.last(3)] == ["2026-09", "2026-10", "2026-11"]
    assert nov.shift(2).key == "2027-01"
    assert parse_period("2026-Q1").previous().key == "2025-Q4"
    assert parse_period("2026-11-30").shift(1).key == "2026-12-01"
    assert parse_period("2026-11-01..2026-11-10").shift(1).key == "2026-11-11..2026-11-20"
    start, end = nov.bounds(TZ)
    assert start.astimezone(UTC) == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert end - start == timedelta(days=30)
    assert nov.month_factor == 1 and parse_period("2026").month_factor == Fraction(1, 12)
    assert parse_period("2026-Q4").month_factor == Fraction(1, 3)
    assert parse_period("2026-11-23").month_factor == Fraction(48699, 1600)  # 30.436875 days
    assert previous_month(datetime(2026, 11, 30, 16, 30, tzinfo=UTC), TZ).key == "2026-11"
    for bad in ("2026-13", "26-11", "2026-W54", "2026-11-10..2026-11-01", "2020-01-01..2026-01-01"):
        with pytest.raises(ValidationError):
            parse_period(bad)


# -- schemes ---


def test_the_default_scheme_is_standards_section_7_with_the_corrected_region_weights() -> None:
    comps = {c.indicator: (c.weight, c.transform.value) for c in
             DEFAULT_SCHEME.components[SubjectKind.STREET]}  # fmt: skip
    assert comps == {
        "public_rate": (10, "inverse_rate"),
        "filed_per_grid": (20, "step"),
        "region_close_rate": (30, "rate"),  # not inverted (S4's bug)
        "on_time_close_rate": (40, "rate"),  # 40 %, not S4's 10 %
    }
    for kind in SubjectKind:
        assert sum(c.weight for c in DEFAULT_SCHEME.components[kind]) == 100
    table = DEFAULT_SCHEME.tables["intake_points"]
    assert [table.points(Fraction(v)) for v in (2001, 2000, 1201, 501, 301, 101, 100)] == [
        100, 90, 90, 75, 60, 40, 0,
    ]  # fmt: skip
    region = DEFAULT_SCHEME.tables["region_filed_points"]
    assert [region.points(Fraction(v), "1") for v in (0, 2, 3, 5, 7, 9)] == [100, 90, 75, 60, 40, 0]
    assert [region.points(Fraction(v), "2") for v in (0, 3, 4, 6, 8, 10)] == [
        100, 90, 75, 60, 40, 0,
    ]  # fmt: skip
    dept = DEFAULT_SCHEME.tables["department_filed_points"]
    assert [dept.points(Fraction(v)) for v in (50, 51, 100, 200, 500, 1000, 1001)] == [
        100, 90, 90, 75, 60, 40, 0,
    ]  # fmt: skip
    assert [DEFAULT_SCHEME.grade(Decimal(v)).grade for v in ("90", "89.99", "75", "60", "40",
                                                              "39.99")] == list("ABBCDE")  # type: ignore[union-attr]  # fmt: skip


def test_schemes_round_trip_through_json_and_refuse_bad_bodies() -> None:
    body = to_json(DEFAULT_SCHEME)
    again = from_json(body, version=1, name=DEFAULT_SCHEME.name, effective_from=date(2000, 1, 1))
    assert again == DEFAULT_SCHEME
    cases = [
        (lambda b: b["components"]["grid"].pop(), "add up to 60"),
        (lambda b: b["components"]["grid"][0].update(indicator="reported"), "not evaluated"),
        (lambda b: b["components"]["grid"][1].update(table="nope"), "does not exist"),
        (lambda b: b["components"]["grid"][0].update(transform="step", table="intake_points"),
         "is a rate"),
        (lambda b: b["grades"].reverse(), "highest minimum down"),
        (lambda b: b["tables"]["intake_points"]["classes"]["default"][0].__setitem__(0, "~"),
         "unknown operator"),
        (lambda b: b.update(region_classes={"1101": "1"}), "not a region code"),
    ]  # fmt: skip
    for change, message in cases:
        broken = to_json(DEFAULT_SCHEME)
        change(broken)
        with pytest.raises(ValidationError, match=message):
            from_json(broken, version=2, name="x", effective_from=date(2027, 1, 1))


def test_region_classes_apply_to_regions_below() -> None:
    body = to_json(DEFAULT_SCHEME)
    body["region_classes"] = {"110101001": "1"}
    scheme = from_json(body, version=2, name="x", effective_from=date(2027, 1, 1))
    assert scheme.region_class("110101001001001") == "1"
    assert scheme.region_class("110101002001001") == "2"


# -- scoring ---


def test_rounding_grades_and_ranks() -> None:
    assert scoring.round_score(Fraction(8995, 100)) == Decimal("89.95")
    assert scoring.round_score(Fraction(89995, 1000)) == Decimal("90.00")  # half up
    assert scoring.ranks([Decimal(90), None, Decimal(95), Decimal(90)]) == [2, None, 1, 2]
    assert scoring.rank_values([3, None, 1, 3], higher_is_better=False) == [2, None, 1, 2]


def test_an_undefined_rate_is_left_out_and_no_rate_means_no_score() -> None:
    values = {"valid_report_rate": Fraction(1), "miss_rate": None, "verify_in_time_rate": None,
              "check_in_time_rate": Fraction(1, 2)}  # fmt: skip
    s = scoring.score(SubjectKind.INSPECTOR, values, DEFAULT_SCHEME, Fraction(1))
    assert s.value == Decimal("83.33")  # (40·100 + 20·50) / 60
    assert [p.points for p in s.parts] == [100, None, None, 50]
    dept = {"assigned": 0, "close_rate": None, "on_time_rate": None, "rework_rate": None}
    assert scoring.score(SubjectKind.DEPARTMENT, dept, DEFAULT_SCHEME, Fraction(1)).value is None


counts = st.integers(0, 40)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(list(SubjectKind)),
    data=st.data(),
    factor=st.sampled_from([Fraction(1), Fraction(1, 12), Fraction(1, 3), Fraction(487, 16)]),
    region_class=st.sampled_from([None, "1", "2"]),
)
def test_the_fast_scorer_equals_the_exact_score(
    kind: SubjectKind, data: st.DataObject, factor: Fraction, region_class: str | None
) -> None:
    names = (*BASE_COUNTS[kind], "grids", "area_m2")
    row = {name: data.draw(counts, label=name) for name in names}
    values = ind.values(kind, row)
    exact = scoring.score(kind, values, DEFAULT_SCHEME, factor, region_class)
    fast = scoring.Scorer(kind, DEFAULT_SCHEME, factor)(row, region_class)
    assert fast == (exact.value, exact.grade, exact.colour)


def test_derived_counts_feed_rates() -> None:
    row = {"filed": 21, "voided": 1, "closed": 17, "closed_in_time": 15, "filed_in_time": 20}
    values = ind.values(SubjectKind.SHIFT_LEAD, row)
    assert values["accurate_filed"] == 20
    assert values["accurate_file_rate"] == Fraction(20, 21)
    dept = ind.values(SubjectKind.DEPARTMENT, {"closed": 11, "overdue_open": 1, "due": 14,
                                                "handled_on_time": 11})  # fmt: skip
    assert (dept["close_due"], dept["close_rate"], dept["handled_overdue"]) == (
        12, Fraction(11, 12), 3,
    )  # fmt: skip


# -- extraction ---


def _event(seq: int, action: str, at: datetime, deadline: datetime | None, role: str = "x",
           actor: int = 9, **details: object) -> CaseEvent:  # fmt: skip
    return CaseEvent(
        case_id=1, seq=seq, action=action, at=at, actor_id=actor, actor_role=role,
        from_state=None, to_state=CaseState.HANDLING, details=dict(details) or None,
        stage_deadline=deadline, department_id=details.get("department"),  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_timeline_folds_into_facts() -> None:
    t0 = datetime(2026, 11, 10, 9, 0, tzinfo=TZ)

    def m(minutes: int) -> datetime:
        return t0 + timedelta(minutes=minutes)

    case = Case(id=1, number="n", version=1, state=CaseState.CLOSED, source=Source.INSPECTOR,
                reported_at=t0, reporter_user_id=5, grid_code="110101001001001",
                close_type=CloseType.NORMAL)  # fmt: skip
    events = [
        _event(1, "report", t0, m(15), "inspector", 5),
        _event(2, "accept", m(20), m(50), "operator", 6),  # late: the limit ended at 09:15
        _event(3, "file", m(30), m(45), "shift_lead", 7),
        _event(4, "dispatch", m(40), m(280), "dispatcher", 8, department=11),
        _event(5, "refuse", m(50), m(65), "handler", 20),
        _event(6, "dispatch", m(70), m(310), "dispatcher", 8, department=12),
        _event(7, "approve_extension", m(300), m(550), "dispatcher", 8),
        _event(8, "approve_suspension", m(310), m(550), "dispatcher", 8),
        _event(9, "resume", m(400), m(640), "dispatcher", 8),
        _event(10, "feedback", m(600), m(630), "handler", 21, overdue=False),
        _event(11, "pass_check", m(620), m(650), "inspector", 5),
        _event(12, "close", m(640), None, "shift_lead", 7, close_type="normal"),
    ]
    record = extract(case, list(reversed(events)), [], TZ)
    c = record.case
    assert (c.reporter_id, c.hour_of_week) == (5, 24 + 9)  # Tuesday 09h
    assert (c.intake_kind, c.intake_by, c.intake_in_time) == (IntakeKind.ACCEPT, 6, False)
    assert (c.filed_by, c.filed_in_time, c.valid_at) == (7, True, seconds(m(30)))
    assert (c.closed_by, c.closed_in_time, c.closed_department) == (7, True, 12)
    first, second = record.rounds
    assert (first.department_id, first.end, first.dispatched_in_time) == (11, RoundEnd.REFUSED,
                                                                          True)  # fmt: skip
    assert (second.number, second.department_id, second.handled_in_time) == (2, 12, True)
    assert [(ch.kind, ch.deadline) for ch in second.changes] == [
        (ChangeKind.EXTENSION, seconds(m(550))),
        (ChangeKind.SUSPENSION, None),  # not overdue when suspended: the clock stops
        (ChangeKind.RESUMPTION, seconds(m(640))),
    ]
    assert second.deadline_at(seconds(m(350)) or 0) is None
    assert second.deadline_at(seconds(m(401)) or 0) == seconds(m(640))
    assert (second.checked_at, second.check_passed) == (seconds(m(620)), True)


def test_the_monthly_job_runs_at_half_past_midnight_on_the_first_in_the_city_zone() -> None:
    from cityloop.adapters.jobs import first_of_month_0030

    due = first_of_month_0030(TZ)
    assert due(datetime(2026, 11, 30, 16, 30))  # naive UTC = 1 December 00:30 in Shanghai
    assert not due(datetime(2026, 12, 1, 0, 30))
    assert not due(datetime(2026, 11, 30, 16, 31))
