"""Clocks that turn instants into positions, so that limits become arithmetic.

A clock maps an aware instant ``t`` to a position ``W(t)`` in microseconds: the continuous clock
counts every microsecond; the working clock counts only microseconds inside the working
calendar's windows. ``W`` is non-decreasing, so

- ``deadline(start, limit) = W⁻¹(W(start) + limit)``: the earliest instant at which the limit is
  used up. A start outside working time starts counting at the next window; a deadline that
  falls exactly at a window's end is that end (12:00, not 14:00).
- ``elapsed(a, b) = W(b) − W(a)`` minus the part of any paused (挂账) interval inside ``[a, b]``.

Reference: ``standards.md`` §6.2, §6.4. Arithmetic is exact (integer microseconds).
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from cityloop.domain.errors import ValidationError
from cityloop.domain.sla.calendar import MINUTES_PER_DAY, WorkCalendar
from cityloop.domain.sla.units import Clock, TimeLimit

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_BLOCK_DAYS = 400


def to_us(instant: datetime) -> int:
    """Microseconds since the Unix epoch of an aware instant."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValidationError(
            "naive_datetime",
            "Time {value} has no time zone; times must be aware",
            value=instant.isoformat(),
        )
    return (instant - EPOCH) // _US


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


class TimeClock(Protocol):
    kind: Clock

    def position(self, instant: datetime) -> int: ...

    def instant(self, position: int) -> datetime: ...


class ContinuousClock:
    """Every microsecond counts (紧急工作时, 紧急工作日, 自然日, 小时, 分钟)."""

    kind = Clock.CONTINUOUS

    def position(self, instant: datetime) -> int:
        return to_us(instant)

    def instant(self, position: int) -> datetime:
        return from_us(position)


class WorkingClock:
    """Only the calendar's working windows count (工作时, 工作日).

    Day totals are indexed lazily in blocks around a fixed anchor day, so positions stay
    comparable however far the index grows in either direction.
    """

    kind = Clock.WORKING

    def __init__(self, calendar: WorkCalendar, anchor: date | None = None) -> None:
        self.calendar = calendar
        if anchor is None:
            anchor = (
                date(max(calendar.known_years), 1, 1) if calendar.known_years else date(2026, 1, 1)
            )
        self._anchor = anchor.toordinal()
        self._lock = threading.Lock()
        # (first ordinal, cumulative position at each day's start, at each day's end, spans)
        self._index: tuple[int, list[int], list[int], list[tuple[tuple[int, int], ...]]] = (
            self._anchor,
            [0],
            [0],
            [()],
        )
        self._index = self._build(self._anchor, self._anchor + _BLOCK_DAYS, 0)

    # -- index ---

    def _spans(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        day = date.fromordinal(ordinal)
        tz = self.calendar.tz
        spans = []
        for window in self.calendar.windows_on(day):
            start = to_us(datetime.combine(day, _time(window.start), tzinfo=tz))
            if window.end == MINUTES_PER_DAY:
                end_dt = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
            else:
                end_dt = datetime.combine(day, _time(window.end), tzinfo=tz)
            end = to_us(end_dt)
            if end > start:
                spans.append((start, end))
        return tuple(spans)

    def _build(
        self, first: int, stop: int, start_position: int
    ) -> tuple[int, list[int], list[int], list[tuple[tuple[int, int], ...]]]:
        starts: list[int] = []
        ends: list[int] = []
        spans: list[tuple[tuple[int, int], ...]] = []
        position = start_position
        for ordinal in range(first, stop):
            day_spans = self._spans(ordinal)
            starts.append(position)
            position += sum(e - s for s, e in day_spans)
            ends.append(position)
            spans.append(day_spans)
        return first, starts, ends, spans

    def _extend_to(self, ordinal: int) -> None:
        with self._lock:
            first, starts, ends, spans = self._index
            last = first + len(starts)  # exclusive
            if first <= ordinal < last:
                return
            if ordinal >= last:
                stop = max(ordinal + 1, last + _BLOCK_DAYS)
                _, s2, e2, sp2 = self._build(last, stop, ends[-1])
                self._index = (first, starts + s2, ends + e2, spans + sp2)
            else:
                new_first = min(ordinal, first - _BLOCK_DAYS)
                # Build the earlier block relative to 0, then shift so it ends at starts[0].
                _, s2, e2, sp2 = self._build(new_first, first, 0)
                shift = starts[0] - e2[-1]
                self._index = (
                    new_first,
                    [v + shift for v in s2] + starts,
                    [v + shift for v in e2] + ends,
                    sp2 + spans,
                )

    def _day(self, ordinal: int) -> tuple[int, tuple[tuple[int, int], ...]]:
        first, starts, _, spans = self._index
        if not (first <= ordinal < first + len(starts)):
            self._extend_to(ordinal)
            first, starts, _, spans = self._index
        return starts[ordinal - first], spans[ordinal - first]

    # -- clock ---

    def position(self, instant: datetime) -> int:
        us = to_us(instant)
        day = instant.astimezone(self.calendar.tz).date()
        position, spans = self._day(day.toordinal())
        for start, end in spans:
            if us <= start:
                break
            position += min(us, end) - start
        return position

    def instant(self, position: int) -> datetime:
        while True:
            first, starts, ends, spans = self._index
            if position <= starts[0]:
                self._extend_to(first - 1)
                continue
            n = bisect_left(ends, position)
            if n == len(ends):
                self._extend_to(first + len(ends))
                continue
            remaining = position - starts[n]
            for start, end in spans[n]:
                if remaining <= end - start:
                    return from_us(start + remaining)
                remaining -= end - start
            raise AssertionError("working index inconsistent")  # pragma: no cover


def _time(minute: int) -> time:
    return time(minute // 60, minute % 60)


class Clocks:
    """The two clocks of one calendar, chosen by a limit's unit."""

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self.continuous = ContinuousClock()
        self.working = WorkingClock(calendar)

    def for_limit(self, limit: TimeLimit) -> TimeClock:
        return self.working if limit.clock is Clock.WORKING else self.continuous

    def of(self, kind: Clock) -> TimeClock:
        return self.working if kind is Clock.WORKING else self.continuous

    def limit_us(self, limit: TimeLimit) -> int:
        return limit.microseconds(self.calendar.hours_per_workday)

    # -- the operations of §6.4 ---

    def deadline(self, start: datetime, limit: TimeLimit) -> datetime:
        """The instant at which ``limit`` counted from ``start`` is used up."""
        clock = self.for_limit(limit)
        return clock.instant(clock.position(start) + self.limit_us(limit))

    def shift(self, start: datetime, amount_us: int, kind: Clock) -> datetime:
        """The instant ``amount_us`` of clock time after ``start`` (before it, if negative).

        Used when a suspension ends: the remaining time (negative if the case was already
        overdue) is laid out again from the moment of resumption.
        """
        clock = self.of(kind)
        return clock.instant(clock.position(start) + amount_us)

    def elapsed(
        self,
        start: datetime,
        end: datetime,
        kind: Clock,
        pauses: Iterable[tuple[datetime, datetime | None]] = (),
    ) -> int:
        """Clock time from ``start`` to ``end``, minus paused intervals (挂账), never negative.

        An open pause (end ``None``) runs to ``end``.
        """
        clock = self.of(kind)
        if end <= start:
            return 0
        total = clock.position(end) - clock.position(start)
        for pause_start, pause_end in pauses:
            lo = max(pause_start, start)
            hi = min(pause_end if pause_end is not None else end, end)
            if hi > lo:
                total -= clock.position(hi) - clock.position(lo)
        return max(total, 0)

    def remaining(self, now: datetime, deadline: datetime, kind: Clock) -> int:
        """Clock time left until ``deadline`` (negative once overdue)."""
        clock = self.of(kind)
        return clock.position(deadline) - clock.position(now)
