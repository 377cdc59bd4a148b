"""Working time: units, calendar, clocks, stage limits and lights (standards.md §6)."""

from cityloop.domain.sla.calendar import DayKind, WorkCalendar, WorkWindow, parse_window
from cityloop.domain.sla.clock import Clocks, from_us, to_us
from cityloop.domain.sla.lights import Light, LightThresholds, light
from cityloop.domain.sla.stages import Stage
from cityloop.domain.sla.units import Clock, TimeLimit, TimeUnit, parse_time_limit, parse_unit

__all__ = [
    "Clock",
    "Clocks",
    "DayKind",
    "Light",
    "LightThresholds",
    "Stage",
    "TimeLimit",
    "TimeUnit",
    "WorkCalendar",
    "WorkWindow",
    "from_us",
    "light",
    "parse_time_limit",
    "parse_unit",
    "parse_window",
    "to_us",
]
