"""Working-time arithmetic (standards.md §6.2, §6.4): units, calendar, deadlines, lights."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityloop.domain.errors import ValidationError
from cityloop.domain.sla import (
    Clock,
    Clocks,
    DayKind,
    Light,
    LightThresholds,
    TimeLimit,
    TimeUnit,
    WorkCalendar,
    light,
    parse_time_limit,
    parse_unit,
    parse_window,
)
from cityloop.domain.sla.calendar import WorkWindow
from tests.conftest import at
from tests.support.calendar import TZ, statutory_calendar

H = 3_600_000_000  # one hour in microseconds


def limit(text: str) -> TimeLimit:
    return parse_time_limit(text)


@pytest.fixture(scope="module")
def clocks() -> Clocks:
    return Clocks(statutory_calendar())


# -- units ---


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("紧急工作时", TimeUnit.URGENT_WORK_HOUR),
        ("紧急工作日", TimeUnit.URGENT_WORK_DAY),
        ("工作时", TimeUnit.WORK_HOUR),
        ("工作日", TimeUnit.WORK_DAY),
        ("自然日", TimeUnit.NATURAL_DAY),
        ("天", TimeUnit.NATURAL_DAY),
        ("小时", TimeUnit.HOUR),
        ("分钟", TimeUnit.MINUTE),
        ("work_day", TimeUnit.WORK_DAY),
    ],
)
def test_units_parse_from_chinese_and_identifiers(text: str, unit: TimeUnit) -> None:
    assert parse_unit(text) is unit


def test_unit_clocks() -> None:
    working = {u for u in TimeUnit if u.clock is Clock.WORKING}
    assert working == {TimeUnit.WORK_HOUR, TimeUnit.WORK_DAY}


def test_time_limit_parsing_and_errors() -> None:
    assert limit("4工作时") == TimeLimit(Decimal(4), TimeUnit.WORK_HOUR)
    assert limit("2 紧急工作日") == TimeLimit(Decimal(2), TimeUnit.URGENT_WORK_DAY)
    assert limit("0.5工作日").amount == Decimal("0.5")
    assert str(limit("15工作日")) == "15工作日"
    for bad, code in (
        ("四工作时", "time_limit_malformed"),
        ("4周", "time_unit_unknown"),
        ("0工作时", "time_limit_not_positive"),
    ):
        with pytest.raises(ValidationError) as err:
            parse_time_limit(bad)
        assert err.value.code == code


def test_work_day_length_follows_hours_per_workday() -> None:
    day = limit("1工作日")
    assert day.microseconds(Decimal(8)) == 8 * H
    assert day.microseconds(Decimal(6)) == 6 * H
    assert limit("1紧急工作日").microseconds(Decimal(8)) == 24 * H


# -- calendar ---


def test_day_kinds_around_national_day_2026() -> None:
    cal = statutory_calendar()
    assert cal.day_kind(date(2026, 9, 30)) == "workday"
    assert cal.day_kind(date(2026, 10, 1)) == "holiday"
    assert cal.day_kind(date(2026, 10, 7)) == "holiday"
    assert cal.day_kind(date(2026, 10, 8)) == "workday"
    assert cal.day_kind(date(2026, 10, 10)) == "makeup"  # Saturday worked
    assert cal.day_kind(date(2026, 10, 11)) == "rest"
    assert cal.windows_on(date(2026, 10, 10)) == cal.windows_on(date(2026, 10, 12))
    assert cal.windows_on(date(2026, 10, 3)) == ()
    assert cal.covers_year(2026) and not cal.covers_year(2027)


def test_windows_are_validated() -> None:
    assert parse_window("08:00-12:00") == WorkWindow(480, 720)
    assert parse_window("14:00–24:00").end == 1440
    for bad, code in (
        ("8-12", "work_window_malformed"),
        ("12:00-08:00", "work_window_invalid"),
        ("08:70-09:00", "work_window_malformed"),
    ):
        with pytest.raises(ValidationError) as err:
            parse_window(bad)
        assert err.value.code == code
    with pytest.raises(ValidationError) as err:
        WorkCalendar(tz=TZ, week={0: [parse_window("08:00-12:00"), parse_window("11:00-13:00")]})
    assert err.value.code == "work_windows_overlap"
    with pytest.raises(ValidationError) as err:
        WorkCalendar(tz=TZ, week={d: [] for d in range(7)})
    assert err.value.code == "work_week_empty"


def test_with_overrides_makes_an_edited_copy() -> None:
    cal = statutory_calendar()
    edited = cal.with_overrides({date(2027, 1, 1): DayKind.HOLIDAY, date(2026, 10, 10): None})
    assert edited.day_kind(date(2027, 1, 1)) == "holiday"
    assert edited.day_kind(date(2026, 10, 10)) == "rest"
    assert edited.covers_year(2027)
    assert cal.day_kind(date(2027, 1, 1)) == "workday"  # the original is unchanged
    assert edited.revision == cal.revision + 1


# -- deadlines ---


def test_four_working_hours_from_the_last_working_day_before_national_day(clocks: Clocks) -> None:
    """16:00 on Wed 2026-09-30: 2 h that day, the holiday 10-01..10-07 skipped, 2 h on 10-08."""
    assert clocks.deadline(at("2026-09-30 16:00"), limit("4工作时")) == at("2026-10-08 10:00")


@pytest.mark.parametrize(
    ("start", "text", "expected"),
    [
        ("2026-11-23 10:00", "2工作时", "2026-11-23 12:00"),  # ends at the window's end
        ("2026-11-23 10:00", "3工作时", "2026-11-23 15:00"),  # lunch skipped
        ("2026-11-23 12:30", "1工作时", "2026-11-23 15:00"),  # starts at the next window
        ("2026-11-27 20:00", "1工作时", "2026-11-30 09:00"),  # Friday night → Monday
        ("2026-11-28 10:00", "1工作时", "2026-11-30 09:00"),  # Saturday → Monday
        ("2026-11-23 10:00", "1工作日", "2026-11-24 10:00"),  # 1 工作日 = 8 工作时
        ("2026-11-23 10:00", "5工作日", "2026-11-30 10:00"),
        ("2026-10-09 16:00", "4工作时", "2026-10-10 10:00"),  # make-up Saturday counts
        ("2025-12-31 17:00", "2工作时", "2026-01-04 09:00"),  # 元旦, then a make-up Sunday
        ("2026-02-13 17:00", "2工作时", "2026-02-14 09:00"),  # make-up Saturday before 春节
        ("2026-02-14 17:00", "2工作时", "2026-02-24 09:00"),  # across 春节 2-15..2-23
        ("2026-11-23 23:00", "2紧急工作时", "2026-11-24 01:00"),  # continuous
        ("2026-09-30 16:00", "1紧急工作日", "2026-10-01 16:00"),
        ("2026-09-30 16:00", "2自然日", "2026-10-02 16:00"),
        ("2026-09-30 16:00", "3小时", "2026-09-30 19:00"),
        ("2026-09-30 16:00", "30分钟", "2026-09-30 16:30"),
    ],
)
def test_deadlines(clocks: Clocks, start: str, text: str, expected: str) -> None:
    assert clocks.deadline(at(start), limit(text)) == at(expected)


def test_deadline_across_a_year_without_a_notice_uses_the_weekday_rule(clocks: Clocks) -> None:
    """2027's holidays are not loaded: 2027-01-01 (a Friday) counts as a working day, and the
    calendar says so, so callers can warn."""
    assert clocks.deadline(at("2026-12-31 17:00"), limit("2工作时")) == at("2027-01-01 09:00")
    assert not clocks.calendar.covers_year(2027)
    edited = Clocks(statutory_calendar().with_overrides({date(2027, 1, 1): DayKind.HOLIDAY}))
    assert edited.deadline(at("2026-12-31 17:00"), limit("2工作时")) == at("2027-01-04 09:00")


def test_configurable_windows_and_day_length() -> None:
    six_hour = WorkCalendar(
        tz=TZ,
        week={d: [parse_window("08:30-12:00"), parse_window("14:00-17:30")] for d in range(5)},
        hours_per_workday=Decimal(6),
    )
    clocks = Clocks(six_hour)
    assert clocks.deadline(at("2026-11-23 08:30"), limit("1工作日")) == at("2026-11-23 16:30")
    assert clocks.deadline(at("2026-11-23 17:00"), limit("1工作时")) == at("2026-11-24 09:00")


def test_far_past_and_future_extend_the_index(clocks: Clocks) -> None:
    assert clocks.deadline(at("2004-10-08 17:00"), limit("2工作时")) == at("2004-10-09 09:00")
    assert clocks.deadline(at("2045-06-05 17:00"), limit("2工作时")) == at("2045-06-06 09:00")


def test_naive_datetimes_are_refused(clocks: Clocks) -> None:
    with pytest.raises(ValidationError) as err:
        clocks.deadline(datetime(2026, 11, 23, 10, 0), limit("1工作时"))
    assert err.value.code == "naive_datetime"


def test_time_zone_of_the_start_does_not_matter(clocks: Clocks) -> None:
    start = at("2026-11-23 10:00")
    assert clocks.deadline(start.astimezone(UTC), limit("3工作时")) == at("2026-11-23 15:00")


# -- elapsed, remaining, suspension ---


def test_elapsed_excludes_nights_weekends_holidays_and_pauses(clocks: Clocks) -> None:
    start, end = at("2026-09-30 16:00"), at("2026-10-08 10:00")
    assert clocks.elapsed(start, end, Clock.WORKING) == 4 * H
    assert clocks.elapsed(start, end, Clock.CONTINUOUS) == int(
        (end - start) / timedelta(microseconds=1)
    )
    pause = (at("2026-09-30 17:00"), at("2026-10-08 09:00"))
    assert clocks.elapsed(start, end, Clock.WORKING, [pause]) == 2 * H
    open_pause = (at("2026-10-08 09:30"), None)
    assert clocks.elapsed(start, end, Clock.WORKING, [open_pause]) == int(3.5 * H)
    assert clocks.elapsed(end, start, Clock.WORKING) == 0


def test_remaining_is_negative_once_overdue(clocks: Clocks) -> None:
    deadline = at("2026-11-23 12:00")
    assert clocks.remaining(at("2026-11-23 11:00"), deadline, Clock.WORKING) == H
    assert clocks.remaining(at("2026-11-23 15:00"), deadline, Clock.WORKING) == -H
    resumed = clocks.shift(at("2026-11-24 08:00"), -H, Clock.WORKING)
    assert resumed == at("2026-11-23 17:00")


# -- properties ---

instants = st.datetimes(
    min_value=datetime(2004, 1, 2),
    max_value=datetime(2027, 12, 30),
).map(lambda d: d.replace(tzinfo=TZ))
working_limits = st.builds(
    TimeLimit,
    st.integers(min_value=1, max_value=400).map(lambda q: Decimal(q) / 4),
    st.sampled_from([TimeUnit.WORK_HOUR, TimeUnit.WORK_DAY]),
)
any_limits = st.builds(
    TimeLimit,
    st.integers(min_value=1, max_value=200).map(lambda q: Decimal(q) / 2),
    st.sampled_from(list(TimeUnit)),
)
PROPS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPS
@given(start=instants, lim=any_limits)
def test_deadline_is_after_the_start_and_consumes_exactly_the_limit(
    clocks: Clocks, start: datetime, lim: TimeLimit
) -> None:
    deadline = clocks.deadline(start, lim)
    assert deadline > start
    assert clocks.elapsed(start, deadline, lim.clock) == clocks.limit_us(lim)


@PROPS
@given(a=instants, b=instants, lim=any_limits)
def test_deadline_is_monotonic_in_the_start(
    clocks: Clocks, a: datetime, b: datetime, lim: TimeLimit
) -> None:
    early, late = min(a, b), max(a, b)
    assert clocks.deadline(early, lim) <= clocks.deadline(late, lim)


@PROPS
@given(start=instants, first=working_limits, second=working_limits)
def test_deadline_is_monotonic_and_additive_in_the_amount(
    clocks: Clocks, start: datetime, first: TimeLimit, second: TimeLimit
) -> None:
    hours = [x.microseconds(Decimal(8)) / H for x in (first, second)]
    a = TimeLimit(Decimal(str(hours[0])), TimeUnit.WORK_HOUR)
    b = TimeLimit(Decimal(str(hours[1])), TimeUnit.WORK_HOUR)
    total = TimeLimit(a.amount + b.amount, TimeUnit.WORK_HOUR)
    small, large = sorted([a, b], key=lambda x: x.amount)
    assert clocks.deadline(start, small) <= clocks.deadline(start, large)
    assert clocks.deadline(clocks.deadline(start, a), b) == clocks.deadline(start, total)


@PROPS
@given(start=instants, lim=working_limits)
def test_working_deadlines_fall_inside_a_working_window(
    clocks: Clocks, start: datetime, lim: TimeLimit
) -> None:
    deadline = clocks.deadline(start, lim).astimezone(TZ)
    minute = deadline.hour * 60 + deadline.minute + deadline.second / 60
    windows = clocks.calendar.windows_on(deadline.date())
    assert any(w.start < minute <= w.end for w in windows)


@PROPS
@given(
    start=instants, span=st.integers(1, 2000), cut=st.integers(0, 2000), length=st.integers(1, 500)
)
def test_a_pause_removes_exactly_its_own_working_time(
    clocks: Clocks, start: datetime, span: int, cut: int, length: int
) -> None:
    end = start + timedelta(hours=span)
    pause_start = start + timedelta(hours=cut % span)
    pause_end = pause_start + timedelta(hours=length)
    full = clocks.elapsed(start, end, Clock.WORKING)
    paused = clocks.elapsed(start, end, Clock.WORKING, [(pause_start, pause_end)])
    inside = clocks.elapsed(pause_start, min(pause_end, end), Clock.WORKING)
    assert paused == full - inside


# -- lights ---


def test_lights_at_80_and_100_percent() -> None:
    assert light(79, 100) is Light.GREEN
    assert light(80, 100) is Light.YELLOW
    assert light(100, 100) is Light.YELLOW  # at the deadline, not yet overdue
    assert light(101, 100) is Light.RED
    custom = LightThresholds(Decimal("0.5"), Decimal("0.9"))
    assert light(50, 100, custom) is Light.YELLOW
    assert light(91, 100, custom) is Light.RED
    with pytest.raises(ValidationError) as err:
        LightThresholds(Decimal("1.2"), Decimal("1.0"))
    assert err.value.code == "light_thresholds_invalid"
