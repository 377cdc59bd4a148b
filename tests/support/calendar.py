"""The statutory calendar 2004–2026 as a pure WorkCalendar (from the shipped seed file)."""

from __future__ import annotations

import csv
import io
from datetime import date
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

from cityloop.domain.sla.calendar import DayKind, WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")


@lru_cache(maxsize=1)
def statutory_calendar() -> WorkCalendar:
    ref = resources.files("cityloop") / "data" / "calendar" / "cn_public_holidays_2004_2026.csv"
    rows = csv.DictReader(io.StringIO(ref.read_text(encoding="utf-8")))
    overrides = {
        date.fromisoformat(r["date"]): DayKind.HOLIDAY
        if r["kind"] == "holiday"
        else DayKind.WORKDAY
        for r in rows
    }
    return WorkCalendar(tz=TZ, overrides=overrides, known_years=range(2004, 2027))
