"""The light of a case's current stage (standards.md §6.2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from cityloop.domain.case import Case, CaseState, Source
from cityloop.domain.policy import DEFAULT_POLICY
from cityloop.domain.sla import Clocks, Light, parse_time_limit
from cityloop.domain.sla.stages import Stage
from cityloop.domain.sla.status import stage_status, yellow_at
from tests.conftest import at
from tests.support.calendar import statutory_calendar

CLOCKS = Clocks(statutory_calendar())
H = 3_600_000_000


def handling(start: str, limit: str) -> Case:
    lim = parse_time_limit(limit)
    begin = at(start)
    return Case(
        id=1,
        number="1",
        version=1,
        state=CaseState.HANDLING,
        source=Source.INSPECTOR,
        reported_at=begin,
        stage=Stage.DISPOSE.value,
        stage_started_at=begin,
        stage_deadline=CLOCKS.deadline(begin, lim),
        disposal_limit=lim,
        disposal_deadline=CLOCKS.deadline(begin, lim),
    )


def test_disposal_light_goes_green_yellow_red_on_working_time() -> None:
    case = handling("2026-11-23 08:00", "10工作时")  # deadline Tue 10:00
    assert case.stage_deadline == at("2026-11-24 10:00")
    status = stage_status(case, at("2026-11-23 15:00"), CLOCKS, DEFAULT_POLICY)
    assert status is not None
    assert (status.allowed_us, status.used_us, status.light) == (10 * H, 5 * H, Light.GREEN)
    status = stage_status(case, at("2026-11-24 08:00"), CLOCKS, DEFAULT_POLICY)
    assert status is not None
    assert (status.used_us, status.light) == (8 * H, Light.YELLOW)
    status = stage_status(case, at("2026-11-24 10:00"), CLOCKS, DEFAULT_POLICY)
    assert status is not None
    assert (status.remaining_us, status.light, status.overdue) == (0, Light.YELLOW, False)
    status = stage_status(case, at("2026-11-24 10:01"), CLOCKS, DEFAULT_POLICY)
    assert status is not None
    assert status.light is Light.RED and status.overdue


def test_a_suspended_case_keeps_its_clock_and_a_resumed_one_excludes_the_pause() -> None:
    case = handling("2026-11-23 08:00", "10工作时")
    suspended = replace(case, state=CaseState.SUSPENDED, suspended_at=at("2026-11-23 10:00"))
    later = stage_status(suspended, at("2026-12-20 10:00"), CLOCKS, DEFAULT_POLICY)
    assert later is not None
    assert (later.used_us, later.light, later.paused) == (2 * H, Light.GREEN, True)
    # Resumed a week later with 8 h left: the deadline is re-laid, the pause excluded.
    resumed_at = at("2026-11-30 08:00")
    resumed = replace(
        case,
        disposal_deadline=CLOCKS.shift(resumed_at, 8 * H, case.disposal_limit.clock),  # type: ignore[union-attr]
        disposal_paused_us=CLOCKS.elapsed(
            at("2026-11-23 10:00"), resumed_at, case.disposal_limit.clock
        ),  # type: ignore[union-attr]
    )
    resumed = replace(resumed, stage_deadline=resumed.disposal_deadline)
    status = stage_status(resumed, at("2026-11-30 12:00"), CLOCKS, DEFAULT_POLICY)
    assert status is not None
    assert status.allowed_us == 10 * H
    assert status.used_us == 6 * H and status.remaining_us == 4 * H


def test_other_stages_use_their_stage_limit_and_clock() -> None:
    begin = at("2026-11-23 22:00")
    case = Case(
        id=1,
        number="1",
        version=1,
        state=CaseState.REPORTED,
        source=Source.HOTLINE_12345,
        reported_at=begin,
        stage=Stage.ACCEPT.value,
        stage_started_at=begin,
        stage_deadline=begin + timedelta(minutes=15),
    )
    status = stage_status(case, begin + timedelta(minutes=13), CLOCKS, DEFAULT_POLICY)
    assert status is not None
    assert status.light is Light.YELLOW and status.clock.value == "continuous"
    assert stage_status(replace(case, stage=None), begin, CLOCKS, DEFAULT_POLICY) is None


def test_yellow_instant_is_where_the_light_turns() -> None:
    case = handling("2026-11-23 08:00", "10工作时")
    assert case.stage_deadline is not None and case.disposal_limit is not None
    instant = yellow_at(
        case.stage_started_at,
        case.stage_deadline,  # type: ignore[arg-type]
        case.disposal_limit.clock,
        CLOCKS,
        DEFAULT_POLICY,
    )
    assert instant == at("2026-11-23 18:00")  # 8 of 10 working hours used, end of Monday
    before = stage_status(case, instant - timedelta(microseconds=1), CLOCKS, DEFAULT_POLICY)
    after = stage_status(case, instant, CLOCKS, DEFAULT_POLICY)
    assert before is not None and after is not None
    assert (before.light, after.light) == (Light.GREEN, Light.YELLOW)
