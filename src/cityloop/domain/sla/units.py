"""Time-limit units (时限单位) and time limits.

Reference: ``standards.md`` §6.2. Two clocks exist:

- the *working* clock counts only the calendar's working windows: 工作时 (working hour) and
  工作日 (working day = one day's working hours, default 8, configurable);
- the *continuous* clock counts every second, nights, weekends and holidays included:
  紧急工作时 (urgent working hour), 紧急工作日 (urgent working day = 24 h), 自然日/天 (natural
  day), 小时 (hour), 分钟 (minute).

City tables sometimes write 天 for 工作日 and 小时 for 工作时 (运城 does); such a table is
normalised when imported, never here: 天 here is a natural day and 小时 an hour.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from cityloop.domain.errors import ValidationError


class Clock(enum.StrEnum):
    WORKING = "working"
    CONTINUOUS = "continuous"


class TimeUnit(enum.StrEnum):
    URGENT_WORK_HOUR = "urgent_work_hour"  # 紧急工作时
    URGENT_WORK_DAY = "urgent_work_day"  # 紧急工作日
    WORK_HOUR = "work_hour"  # 工作时
    WORK_DAY = "work_day"  # 工作日
    NATURAL_DAY = "natural_day"  # 自然日 / 天
    HOUR = "hour"  # 小时
    MINUTE = "minute"  # 分钟

    @property
    def clock(self) -> Clock:
        if self in (TimeUnit.WORK_HOUR, TimeUnit.WORK_DAY):
            return Clock.WORKING
        return Clock.CONTINUOUS

    @property
    def chinese(self) -> str:
        return _CHINESE[self]


_CHINESE = {
    TimeUnit.URGENT_WORK_HOUR: "紧急工作时",
    TimeUnit.URGENT_WORK_DAY: "紧急工作日",
    TimeUnit.WORK_HOUR: "工作时",
    TimeUnit.WORK_DAY: "工作日",
    TimeUnit.NATURAL_DAY: "自然日",
    TimeUnit.HOUR: "小时",
    TimeUnit.MINUTE: "分钟",
}

# Accepted spellings, longest first so that 紧急工作时 wins over 工作时.
_SPELLINGS: dict[str, TimeUnit] = {
    "紧急工作小时": TimeUnit.URGENT_WORK_HOUR,
    "紧急工作时": TimeUnit.URGENT_WORK_HOUR,
    "紧急工作日": TimeUnit.URGENT_WORK_DAY,
    "工作小时": TimeUnit.WORK_HOUR,
    "工作时": TimeUnit.WORK_HOUR,
    "工作日": TimeUnit.WORK_DAY,
    "工作天": TimeUnit.WORK_DAY,
    "自然日": TimeUnit.NATURAL_DAY,
    "天": TimeUnit.NATURAL_DAY,
    "日": TimeUnit.NATURAL_DAY,
    "小时": TimeUnit.HOUR,
    "分钟": TimeUnit.MINUTE,
}

_SECONDS = {
    TimeUnit.URGENT_WORK_HOUR: 3600,
    TimeUnit.URGENT_WORK_DAY: 86400,
    TimeUnit.WORK_HOUR: 3600,
    TimeUnit.NATURAL_DAY: 86400,
    TimeUnit.HOUR: 3600,
    TimeUnit.MINUTE: 60,
}


def parse_unit(text: str) -> TimeUnit:
    """A unit from its identifier (``work_day``) or its Chinese name (``工作日``)."""
    value = text.strip()
    try:
        return TimeUnit(value)
    except ValueError:
        pass
    unit = _SPELLINGS.get(value)
    if unit is None:
        raise ValidationError(
            "time_unit_unknown",
            "Unknown time-limit unit {unit}; use one of {known}",
            unit=value,
            known=", ".join(_CHINESE.values()),
        )
    return unit


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """An amount of a unit, e.g. 4 工作时. The amount is positive and may be fractional."""

    amount: Decimal
    unit: TimeUnit

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", Decimal(str(self.amount)))
        if not self.amount.is_finite() or self.amount <= 0:
            raise ValidationError(
                "time_limit_not_positive",
                "A time limit must be a positive amount, got {amount}",
                amount=str(self.amount),
            )

    @property
    def clock(self) -> Clock:
        return self.unit.clock

    def microseconds(self, hours_per_workday: Decimal) -> int:
        """Length on its own clock: working microseconds or real microseconds."""
        if self.unit is TimeUnit.WORK_DAY:
            seconds = self.amount * hours_per_workday * 3600
        else:
            seconds = self.amount * _SECONDS[self.unit]
        return int((seconds * 1_000_000).to_integral_value())

    def scaled(self, factor: int) -> TimeLimit:
        return TimeLimit(self.amount * factor, self.unit)

    def __str__(self) -> str:
        amount = self.amount.normalize()
        text = f"{amount:f}"
        return f"{text}{self.unit.chinese}"


_LIMIT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(\S+?)\s*$")


def parse_time_limit(text: str) -> TimeLimit:
    """Parse ``4工作时``, ``2 紧急工作日``, ``15天``, ``30 minute``."""
    match = _LIMIT_RE.match(text)
    if match is None:
        raise ValidationError(
            "time_limit_malformed",
            "Cannot read the time limit {text}; write an amount and a unit, e.g. 4工作时",
            text=text,
        )
    try:
        amount = Decimal(match.group(1))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
        raise ValidationError(
            "time_limit_malformed",
            "Cannot read the time limit {text}; write an amount and a unit, e.g. 4工作时",
            text=text,
        ) from exc
    return TimeLimit(amount, parse_unit(match.group(2)))
