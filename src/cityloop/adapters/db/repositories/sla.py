"""The working calendar, stage limits and policy values, cached across transactions.

Building a calendar's clock index costs milliseconds, so the built objects are shared by every
unit of work of a process and rebuilt only when the ``sla`` revision counter moves (any change
to calendar overrides, windows, stage limits or policy bumps it, from any process).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, insert, select, update

from cityloop.adapters.db.models import T, new_id
from cityloop.domain.policy import DEFAULT_POLICY, Policy, policy_from_values
from cityloop.domain.sla.calendar import DEFAULT_WEEK, DayKind, WorkCalendar, parse_window
from cityloop.domain.sla.clock import Clocks
from cityloop.domain.sla.stages import Stage
from cityloop.domain.sla.units import TimeLimit, TimeUnit

calendars = T["calendars"]
overrides = T["calendar_overrides"]
years = T["calendar_years"]
stage_limits = T["stage_limits"]
policies = T["policies"]
revisions = T["revisions"]

REVISION = "sla"
RECHECK_SECONDS = 1.0
DEFAULT_CALENDAR = "default"
DEFAULT_TIMEZONE = "Asia/Shanghai"


_REVISION = select(revisions.c.value).where(revisions.c.name == REVISION)


@dataclass
class SlaCache:
    """Shared by the units of work of one process (one per engine)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    revision: int | None = None
    calendar: WorkCalendar | None = None
    clocks: Clocks | None = None
    policy: Policy = DEFAULT_POLICY
    checked_at: float = 0.0


def week_to_json(week: dict[int, Any]) -> dict[str, list[str]]:
    return {str(day): [str(w) for w in windows] for day, windows in week.items()}


def bump_revision(conn: Connection) -> None:
    result = conn.execute(
        update(revisions).where(revisions.c.name == REVISION).values(value=revisions.c.value + 1)
    )
    if result.rowcount == 0:
        conn.execute(insert(revisions).values(name=REVISION, value=1))


class SqlSlaRepository:
    def __init__(self, conn: Connection, cache: SlaCache) -> None:
        self.conn = conn
        self.cache = cache
        self._checked = False

    # -- reading ---

    def _fresh(self) -> SlaCache:
        if self._checked and self.cache.calendar is not None:
            return self.cache
        # Another process's change is noticed within a second; this process's own changes
        # reset the check (set_* below), so they apply at once.
        if (
            self.cache.calendar is not None
            and time.monotonic() - self.cache.checked_at < RECHECK_SECONDS
        ):
            self._checked = True
            return self.cache
        revision = self.conn.execute(_REVISION).scalar()
        revision = int(revision or 0)
        with self.cache.lock:
            if self.cache.revision != revision or self.cache.calendar is None:
                calendar = self._load_calendar(revision)
                self.cache.calendar = calendar
                self.cache.clocks = Clocks(calendar)
                self.cache.policy = self._load_policy()
                self.cache.revision = revision
            self.cache.checked_at = time.monotonic()
        self._checked = True
        return self.cache

    def _calendar_row(self) -> Any:
        return self.conn.execute(
            select(calendars).where(calendars.c.name == DEFAULT_CALENDAR)
        ).first()

    def _load_calendar(self, revision: int) -> WorkCalendar:
        row = self._calendar_row()
        if row is None:
            return WorkCalendar(tz=ZoneInfo(DEFAULT_TIMEZONE), revision=revision)
        week = {int(day): [parse_window(w) for w in windows] for day, windows in row.week.items()}
        makeup = (
            [parse_window(w) for w in row.makeup_windows.get("windows", [])]
            if row.makeup_windows
            else None
        )
        days = {
            r.day: DayKind(r.kind)
            for r in self.conn.execute(
                select(overrides.c.day, overrides.c.kind).where(overrides.c.calendar_id == row.id)
            )
        }
        known = [
            r.year
            for r in self.conn.execute(select(years.c.year).where(years.c.calendar_id == row.id))
        ]
        return WorkCalendar(
            tz=ZoneInfo(row.timezone),
            week=week,
            overrides=days,
            makeup_windows=makeup,
            hours_per_workday=Decimal(row.hours_per_workday),
            known_years=known,
            revision=revision,
        )

    def _load_policy(self) -> Policy:
        limits = {
            Stage(r.stage): TimeLimit(Decimal(r.amount), TimeUnit(r.unit))
            for r in self.conn.execute(select(stage_limits))
        }
        values = {r.key: r.value.get("value") for r in self.conn.execute(select(policies))}
        return policy_from_values(values, limits)

    def calendar(self) -> WorkCalendar:
        calendar = self._fresh().calendar
        assert calendar is not None
        return calendar

    def clocks(self) -> Clocks:
        clocks = self._fresh().clocks
        assert clocks is not None
        return clocks

    def policy(self) -> Policy:
        return self._fresh().policy

    # -- administrator changes ---

    def _calendar_id(self) -> int:
        row = self._calendar_row()
        if row is not None:
            return int(row.id)
        result = self.conn.execute(
            insert(calendars).values(
                name=DEFAULT_CALENDAR,
                timezone=DEFAULT_TIMEZONE,
                hours_per_workday=Decimal(8),
                week=week_to_json(dict(DEFAULT_WEEK)),
                makeup_windows=None,
            )
        )
        return new_id(result)

    def set_override(self, day: date, kind: DayKind | None, name: str) -> None:
        calendar_id = self._calendar_id()
        self.conn.execute(
            delete(overrides).where(overrides.c.calendar_id == calendar_id, overrides.c.day == day)
        )
        if kind is not None:
            self.conn.execute(
                insert(overrides).values(
                    calendar_id=calendar_id, day=day, kind=kind.value, name=name
                )
            )
        self._mark_year(calendar_id, day.year)
        bump_revision(self.conn)
        self._checked = False
        self.cache.checked_at = 0.0

    def _mark_year(self, calendar_id: int, year: int) -> None:
        exists = self.conn.execute(
            select(years.c.year).where(years.c.calendar_id == calendar_id, years.c.year == year)
        ).first()
        if exists is None:
            self.conn.execute(insert(years).values(calendar_id=calendar_id, year=year))

    def mark_year_known(self, year: int) -> None:
        self._mark_year(self._calendar_id(), year)
        bump_revision(self.conn)
        self._checked = False
        self.cache.checked_at = 0.0

    def set_stage_limit(self, stage: Stage, limit: TimeLimit) -> None:
        self.conn.execute(delete(stage_limits).where(stage_limits.c.stage == stage.value))
        self.conn.execute(
            insert(stage_limits).values(
                stage=stage.value, amount=limit.amount, unit=limit.unit.value
            )
        )
        bump_revision(self.conn)
        self._checked = False
        self.cache.checked_at = 0.0

    def set_policy_value(self, key: str, value: Any) -> None:
        stored = {r.key: r.value.get("value") for r in self.conn.execute(select(policies))}
        stored[key] = value
        policy_from_values(stored)  # refuse what would not load
        self.conn.execute(delete(policies).where(policies.c.key == key))
        self.conn.execute(insert(policies).values(key=key, value={"value": value}))
        bump_revision(self.conn)
        self._checked = False
        self.cache.checked_at = 0.0

    def _changed(self) -> None:
        """Make every process (this one at once) rebuild the cached calendar and policy."""
        bump_revision(self.conn)
        self._checked = False
        self.cache.checked_at = 0.0

    def overrides_between(self, first: date, last: date) -> list[tuple[date, DayKind, str]]:
        """The overridden days from ``first`` to ``last`` (inclusive) with their names."""
        row = self._calendar_row()
        if row is None:
            return []
        rows = self.conn.execute(
            select(overrides.c.day, overrides.c.kind, overrides.c.name)
            .where(
                overrides.c.calendar_id == row.id,
                overrides.c.day >= first,
                overrides.c.day <= last,
            )
            .order_by(overrides.c.day)
        )
        return [(r.day, DayKind(r.kind), str(r.name or "")) for r in rows]

    def replace_overrides(
        self, first: date, last: date, days: Sequence[tuple[date, DayKind, str]]
    ) -> None:
        """Replace every override from ``first`` to ``last`` by ``days`` (an imported year)."""
        calendar_id = self._calendar_id()
        self.conn.execute(
            delete(overrides).where(
                overrides.c.calendar_id == calendar_id,
                overrides.c.day >= first,
                overrides.c.day <= last,
            )
        )
        for day, kind, name in days:
            self.conn.execute(
                insert(overrides).values(
                    calendar_id=calendar_id, day=day, kind=kind.value, name=name
                )
            )
        for year in range(first.year, last.year + 1):
            self._mark_year(calendar_id, year)
        self._changed()

    def set_week(self, calendar: WorkCalendar, *, custom_makeup: bool) -> None:
        """Store ``calendar``'s weekly working windows and hours of one working day, and its
        make-up days' windows when ``custom_makeup`` (else they follow a weekday's)."""
        calendar_id = self._calendar_id()
        self.conn.execute(
            update(calendars)
            .where(calendars.c.id == calendar_id)
            .values(
                week=week_to_json(dict(calendar.week)),
                makeup_windows=(
                    {"windows": [str(w) for w in calendar.makeup_windows]}
                    if custom_makeup
                    else None
                ),
                hours_per_workday=calendar.hours_per_workday,
            )
        )
        self._changed()

    def custom_makeup_windows(self) -> bool:
        """Whether make-up working days have windows of their own (else a weekday's)."""
        row = self._calendar_row()
        return row is not None and row.makeup_windows is not None
