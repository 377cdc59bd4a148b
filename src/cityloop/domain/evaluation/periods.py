"""Evaluation periods (考核周期): day, week, month, quarter, year and custom ranges.

A period is a half-open range of local calendar days ``[start, end)`` in the city's time zone;
its instants run from local midnight of ``start`` to local midnight of ``end``. Keys are the
texts a user types: ``2026-11-23``, ``2026-W48`` (ISO week), ``2026-11``, ``2026-Q4``,
``2026`` and ``2026-11-01..2026-11-15`` (both days included).

Step tables of standards.md §7.3–7.5 are given per month; :attr:`Period.month_factor` scales a
count of any other period to a month (a month counts as one, whatever its length; a quarter as
three; other periods by days over the mean month of 365.2425 / 12 days).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from fractions import Fraction

from cityloop.domain.errors import ValidationError

MEAN_MONTH_DAYS = Fraction(3652425, 120000)  # 365.2425 / 12 = 30.436875
MAX_CUSTOM_DAYS = 3 * 366


class PeriodKind(enum.StrEnum):
    DAY = "day"  # 日
    WEEK = "week"  # 周
    MONTH = "month"  # 月
    QUARTER = "quarter"  # 季度
    YEAR = "year"  # 年
    CUSTOM = "custom"  # 自定义


@dataclass(frozen=True, slots=True)
class Period:
    kind: PeriodKind
    start: date  # first day
    end: date  # the day after the last day

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def key(self) -> str:
        s = self.start
        if self.kind is PeriodKind.DAY:
            return s.isoformat()
        if self.kind is PeriodKind.WEEK:
            year, week, _ = s.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind is PeriodKind.MONTH:
            return f"{s.year}-{s.month:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{s.year}-Q{(s.month - 1) // 3 + 1}"
        if self.kind is PeriodKind.YEAR:
            return f"{s.year}"
        return f"{s.isoformat()}..{(self.end - timedelta(days=1)).isoformat()}"

    @property
    def month_factor(self) -> Fraction:
        """What a count of this period is multiplied by to compare it with a monthly step."""
        if self.kind is PeriodKind.MONTH:
            return Fraction(1)
        if self.kind is PeriodKind.QUARTER:
            return Fraction(1, 3)
        if self.kind is PeriodKind.YEAR:
            return Fraction(1, 12)
        return MEAN_MONTH_DAYS / self.days

    def shift(self, n: int) -> Period:
        """The period ``n`` steps later (earlier when negative) of the same kind."""
        if n == 0:
            return self
        if self.kind in (PeriodKind.DAY, PeriodKind.WEEK, PeriodKind.CUSTOM):
            step = timedelta(days=self.days * n)
            return Period(self.kind, self.start + step, self.end + step)
        months = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[self.kind]
        return Period(
            self.kind,
            _add_months(self.start, months * n),
            _add_months(self.start, months * (n + 1)),
        )

    def previous(self) -> Period:
        return self.shift(-1)

    def last(self, n: int) -> list[Period]:
        """The ``n`` periods ending with this one, oldest first (a trend's x axis)."""
        return [self.shift(i - n + 1) for i in range(n)]

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """The period's first instant and the instant after it, as aware datetimes."""
        return (
            datetime.combine(self.start, time(0), tzinfo=tz),
            datetime.combine(self.end, time(0), tzinfo=tz),
        )

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    def __str__(self) -> str:
        return self.key


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def day(d: date) -> Period:
    return Period(PeriodKind.DAY, d, d + timedelta(days=1))


def week_of(d: date) -> Period:
    monday = d - timedelta(days=d.weekday())
    return Period(PeriodKind.WEEK, monday, monday + timedelta(days=7))


def month_of(d: date) -> Period:
    first = d.replace(day=1)
    return Period(PeriodKind.MONTH, first, _add_months(first, 1))


def quarter_of(d: date) -> Period:
    first = date(d.year, (d.month - 1) // 3 * 3 + 1, 1)
    return Period(PeriodKind.QUARTER, first, _add_months(first, 3))


def year_of(d: date) -> Period:
    return Period(PeriodKind.YEAR, date(d.year, 1, 1), date(d.year + 1, 1, 1))


def custom(first: date, last: date) -> Period:
    """A custom period from ``first`` to ``last``, both days included."""
    if last < first:
        raise ValidationError(
            "period_reversed",
            "A period cannot end ({last}) before it starts ({first})",
            first=first.isoformat(),
            last=last.isoformat(),
        )
    end = last + timedelta(days=1)
    if (end - first).days > MAX_CUSTOM_DAYS:
        raise ValidationError(
            "period_too_long",
            "A custom period may span at most {days} days",
            days=MAX_CUSTOM_DAYS,
        )
    return Period(PeriodKind.CUSTOM, first, end)


def of_kind(kind: PeriodKind, d: date) -> Period:
    """The period of ``kind`` containing day ``d`` (a custom kind gives the day itself)."""
    makers = {
        PeriodKind.DAY: day,
        PeriodKind.WEEK: week_of,
        PeriodKind.MONTH: month_of,
        PeriodKind.QUARTER: quarter_of,
        PeriodKind.YEAR: year_of,
        PeriodKind.CUSTOM: day,
    }
    return makers[kind](d)


def previous_month(instant: datetime, tz: tzinfo) -> Period:
    """The last complete month before ``instant`` in time zone ``tz``."""
    return month_of(instant.astimezone(tz).date()).previous()


_PATTERNS: list[tuple[re.Pattern[str], PeriodKind]] = [
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})\.\.(\d{4})-(\d{2})-(\d{2})$"), PeriodKind.CUSTOM),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), PeriodKind.DAY),
    (re.compile(r"^(\d{4})-W(\d{2})$"), PeriodKind.WEEK),
    (re.compile(r"^(\d{4})-Q([1-4])$"), PeriodKind.QUARTER),
    (re.compile(r"^(\d{4})-(\d{2})$"), PeriodKind.MONTH),
    (re.compile(r"^(\d{4})$"), PeriodKind.YEAR),
]


def parse_period(text: str) -> Period:
    """A period from its key: ``2026-11-23``, ``2026-W48``, ``2026-11``, ``2026-Q4``, ``2026``
    or ``2026-11-01..2026-11-15``."""
    value = (text or "").strip().upper()
    for pattern, kind in _PATTERNS:
        match = pattern.match(value)
        if match is None:
            continue
        n = [int(g) for g in match.groups()]
        try:
            if kind is PeriodKind.CUSTOM:
                return custom(date(n[0], n[1], n[2]), date(n[3], n[4], n[5]))
            if kind is PeriodKind.DAY:
                return day(date(n[0], n[1], n[2]))
            if kind is PeriodKind.WEEK:
                return week_of(date.fromisocalendar(n[0], n[1], 1))
            if kind is PeriodKind.QUARTER:
                return quarter_of(date(n[0], (n[1] - 1) * 3 + 1, 1))
            if kind is PeriodKind.MONTH:
                return month_of(date(n[0], n[1], 1))
            return year_of(date(n[0], 1, 1))
        except ValueError:
            break
    raise ValidationError(
        "period_invalid",
        "Cannot read the period {text}; write e.g. 2026-11, 2026-Q4, 2026-W48, 2026,"
        " 2026-11-23 or 2026-11-01..2026-11-15",
        text=text,
    )
