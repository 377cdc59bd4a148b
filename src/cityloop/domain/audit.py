"""The change log of administrator data (应用维护留痕): who changed what, when, from what to
what. Every administrative change writes one entry in the same transaction as the change."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class Change(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    IMPORT = "import"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    user_id: int | None
    user_name: str
    entity: str  # e.g. "category", "filing_standard", "stage_limit", "calendar_day", "user"
    entity_key: str  # the changed thing's code or id
    change: Change
    summary: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class SavedFilter:
    """A named search of one user (常用查询), kept as its query string."""

    id: int | None
    user_id: int
    name: str
    query: str
    created_at: datetime
