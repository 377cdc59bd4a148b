"""What the read side asks storage for, and what it gets back (no SQL here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cityloop.domain.case import Case

SORT_FIELDS = ("urgency", "reported_at", "number", "stage_deadline", "updated_at", "state")


@dataclass(frozen=True, slots=True)
class CaseCriteria:
    """A case search. The scope fields come from the actor and are always applied."""

    now: datetime
    district_code: str | None = None
    department_id: int | None = None
    reporter_user_id: int | None = None
    task_assignee_id: int | None = None
    states: tuple[str, ...] = ()
    category_codes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    grid_code: str | None = None
    street_code: str | None = None
    community_code: str | None = None
    filter_department_id: int | None = None
    light: str | None = None
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    text: str = ""
    supervised: bool | None = None
    reworked: bool | None = None
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north
    sort: tuple[tuple[str, bool], ...] = (("urgency", False),)
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True, slots=True)
class CaseSummary:
    case: Case
    category_code: str | None = None
    category_name: str | None = None
    department_name: str | None = None
    street_name: str | None = None
