"""The working calendar (工作日历): weekly working windows plus per-date overrides.

Reference: ``standards.md`` §6.2 and §6.4. A date is a working day when it is a weekday with
windows and not a holiday, or when it is a make-up working day (调休上班: a Saturday or Sunday
worked in exchange for a holiday). China's make-up days are why "weekends off" logic is wrong.

Default windows are 08:00–12:00 and 14:00–18:00, Monday to Friday (运城's table); a make-up
working day uses the make-up windows (by default Monday's). Overrides come from the statutory
holiday notices (seeded 2004–2026) and are edited by an administrator for later years; a year
without overrides falls back to the weekday rule, which callers can detect with
:meth:`WorkCalendar.covers_year`.
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from decimal import Decimal

from cityloop.domain.errors import ValidationError

MINUTES_PER_DAY = 24 * 60


class DayKind(enum.StrEnum):
    """What an override makes of a date."""

    HOLIDAY = "holiday"  # 法定节假日 (incl. swapped rest days): no work
    WORKDAY = "workday"  # 调休上班 (make-up working day)


@dataclass(frozen=True, slots=True, order=True)
class WorkWindow:
    """A working window inside one day, in minutes after local midnight (end may be 1440)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.start < self.end <= MINUTES_PER_DAY):
            raise ValidationError(
                "work_window_invalid",
                "A working window must start before it ends, within one day; got {window}",
                window=f"{_fmt(self.start)}-{_fmt(self.end)}",
            )

    @property
    def minutes(self) -> int:
        return self.end - self.start

    def __str__(self) -> str:
        return f"{_fmt(self.start)}-{_fmt(self.end)}"


def _fmt(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


_WINDOW_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~]\s*(\d{1,2}):(\d{2})\s*$")


def parse_window(text: str) -> WorkWindow:
    """``"08:00-12:00"`` → a window. ``24:00`` is accepted as an end."""
    match = _WINDOW_RE.match(text)
    if match is None:
        raise ValidationError(
            "work_window_malformed",
            "Cannot read the working window {text}; write it as 08:00-12:00",
            text=text,
        )
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if m1 >= 60 or m2 >= 60 or h1 > 24 or h2 > 24:
        raise ValidationError(
            "work_window_malformed",
            "Cannot read the working window {text}; write it as 08:00-12:00",
            text=text,
        )
    return WorkWindow(h1 * 60 + m1, h2 * 60 + m2)


def normalise_windows(windows: Iterable[WorkWindow]) -> tuple[WorkWindow, ...]:
    """Sort windows and refuse overlaps."""
    ordered = tuple(sorted(windows))
    for earlier, later in itertools.pairwise(ordered):
        if later.start < earlier.end:
            raise ValidationError(
                "work_windows_overlap",
                "Working windows {first} and {second} overlap",
                first=str(earlier),
                second=str(later),
            )
    return ordered


DEFAULT_WINDOWS = (WorkWindow(8 * 60, 12 * 60), WorkWindow(14 * 60, 18 * 60))
DEFAULT_WEEK: Mapping[int, tuple[WorkWindow, ...]] = {
    0: DEFAULT_WINDOWS,
    1: DEFAULT_WINDOWS,
    2: DEFAULT_WINDOWS,
    3: DEFAULT_WINDOWS,
    4: DEFAULT_WINDOWS,
    5: (),
    6: (),
}


class WorkCalendar:
    """Weekly windows (Monday = 0) plus date overrides, in a time zone.

    Immutable after construction; build a new one when an administrator changes it.
    """

    def __init__(
        self,
        *,
        tz: tzinfo,
        week: Mapping[int, Sequence[WorkWindow]] = DEFAULT_WEEK,
        overrides: Mapping[date, DayKind] | None = None,
        makeup_windows: Sequence[WorkWindow] | None = None,
        hours_per_workday: Decimal = Decimal(8),
        known_years: Iterable[int] = (),
        revision: int = 0,
    ) -> None:
        if set(week) - set(range(7)):
            raise ValidationError(
                "work_week_invalid", "Weekdays are numbered 0 (Monday) to 6 (Sunday)"
            )
        self.tz = tz
        self.week = {d: normalise_windows(week.get(d, ())) for d in range(7)}
        if not any(self.week.values()):
            raise ValidationError(
                "work_week_empty", "The working week has no working window at all"
            )
        self.makeup_windows = normalise_windows(
            makeup_windows if makeup_windows is not None else self._first_working_windows()
        )
        if hours_per_workday <= 0 or hours_per_workday > 24:
            raise ValidationError(
                "hours_per_workday_invalid",
                "One working day must be between 0 and 24 hours, got {hours}",
                hours=str(hours_per_workday),
            )
        self.hours_per_workday = Decimal(hours_per_workday)
        self.overrides: Mapping[date, DayKind] = dict(overrides or {})
        years = set(known_years) | {d.year for d in self.overrides}
        self.known_years = frozenset(years)
        self.revision = revision

    def _first_working_windows(self) -> tuple[WorkWindow, ...]:
        for day in range(7):
            if self.week[day]:
                return self.week[day]
        return ()  # pragma: no cover - excluded by the constructor

    def day_kind(self, day: date) -> str:
        """``workday``, ``rest`` (ordinary weekend), ``holiday`` or ``makeup`` (调休上班)."""
        override = self.overrides.get(day)
        if override is DayKind.HOLIDAY:
            return "holiday"
        if override is DayKind.WORKDAY:
            return "makeup"
        return "workday" if self.week[day.weekday()] else "rest"

    def is_workday(self, day: date) -> bool:
        return self.day_kind(day) in ("workday", "makeup")

    def windows_on(self, day: date) -> tuple[WorkWindow, ...]:
        kind = self.day_kind(day)
        if kind == "holiday" or kind == "rest":
            return ()
        if kind == "makeup":
            return self.makeup_windows
        return self.week[day.weekday()]

    def covers_year(self, year: int) -> bool:
        """True when the holiday notice for ``year`` has been loaded (or confirmed empty)."""
        return year in self.known_years

    def with_overrides(self, changes: Mapping[date, DayKind | None]) -> WorkCalendar:
        """A copy with some overrides set (a kind) or removed (``None``)."""
        merged = dict(self.overrides)
        for day, kind in changes.items():
            if kind is None:
                merged.pop(day, None)
            else:
                merged[day] = kind
        return WorkCalendar(
            tz=self.tz,
            week=self.week,
            overrides=merged,
            makeup_windows=self.makeup_windows,
            hours_per_workday=self.hours_per_workday,
            known_years=self.known_years | {d.year for d in changes},
            revision=self.revision + 1,
        )
