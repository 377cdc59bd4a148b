"""Stored evaluation data: scheme versions, frozen reports, and the register of subjects."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from cityloop.domain.case import CaseState


class SchemeStatus(enum.StrEnum):
    DRAFT = "draft"  # 草稿: editable, not used
    PUBLISHED = "published"  # 已发布: frozen, used from its effective date


@dataclass(frozen=True, slots=True)
class SchemeRecord:
    version: int
    name: str
    status: SchemeStatus
    body: dict[str, Any]
    created_at: datetime
    effective_from: date | None = None
    note: str = ""
    created_by: int | None = None
    published_at: datetime | None = None
    published_by: int | None = None


@dataclass(frozen=True, slots=True)
class FrozenLine:
    kind: str
    key: str
    name: str
    parent: str | None
    counts: dict[str, int]
    score: Decimal | None
    grade: str | None
    rank: int | None


@dataclass(frozen=True, slots=True)
class FrozenReport:
    """A published month: the results as computed at freezing time, never changed again."""

    period: str
    scope: str
    scheme_version: int
    as_of: datetime
    frozen_at: datetime
    frozen_by: int | None
    extras: dict[str, Any] = field(default_factory=dict)
    lines: tuple[FrozenLine, ...] = ()


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    name: str
    districts: tuple[str | None, ...]  # the districts of the person's grants of this role


@dataclass(frozen=True, slots=True)
class DepartmentEntry:
    id: int
    name: str
    level: int
    parent_id: int | None
    district_code: str | None
    centre: bool
    active: bool = True


@dataclass(frozen=True, slots=True)
class RegionEntry:
    code: str
    name: str
    area_m2: float | None


@dataclass(frozen=True, slots=True)
class Directory:
    """Who and what can be evaluated, with names."""

    people: dict[str, list[Person]]  # role → holders
    departments: list[DepartmentEntry]
    regions: dict[str, list[RegionEntry]]  # level → current regions, by code
    inspector_grids: dict[str, tuple[int, ...]]  # grid code → inspectors responsible
    cache: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class CaseLine:
    """A case as a drill-down list shows it."""

    id: int
    number: str
    state: CaseState
    source: str
    reported_at: datetime
    category_code: str | None
    category_name: str | None
    address: str
    grid_code: str | None
    department_id: int | None
    department_name: str | None
    filed_at: datetime | None
    closed_at: datetime | None
    disposal_deadline: datetime | None
