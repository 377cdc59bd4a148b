"""How the pages write a length of time: calendar time in days and hours, time on the working
clock in working hours (a working day is not 24 hours, so "1天16小时" of working time would
read as a deadline tomorrow when it is five working days away)."""

from __future__ import annotations

from cityloop.domain.sla.units import Clock
from cityloop.entrypoints.web.templating import duration

MINUTE = 60_000_000
HOUR = 60 * MINUTE


def test_calendar_time_in_days_hours_and_minutes() -> None:
    assert duration(40 * HOUR, "zh_CN") == "1天16小时"
    assert duration(40 * HOUR, "en") == "1d 16h"
    assert duration(2 * HOUR + 5 * MINUTE, "zh_CN", Clock.CONTINUOUS) == "2小时5分"
    assert duration(12 * MINUTE, "en") == "12m"
    assert duration(0, "zh_CN") == "0分"
    assert duration(None, "zh_CN") == ""


def test_working_time_in_working_hours_never_in_days() -> None:
    assert duration(40 * HOUR, "zh_CN", Clock.WORKING) == "40工作时"
    assert duration(20 * HOUR + 13 * MINUTE, "zh_CN", Clock.WORKING) == "20工作时13分"
    assert duration(20 * HOUR + 13 * MINUTE, "en", Clock.WORKING) == "20 working h 13m"
    assert duration(25 * MINUTE, "zh_CN", Clock.WORKING) == "25分"
    assert duration(-(3 * HOUR), "zh_CN", Clock.WORKING) == "3工作时"  # overdue: the words say so
