"""The schema: typed declarative models, one set for SQLite and PostgreSQL.

The repositories read and write through these tables with SQLAlchemy Core (the ORM's per-row
cost is the most expensive part of a write path, perf-limits.md §3); the models are the
single definition Alembic migrates from.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cityloop.adapters.db.types import JsonType, UtcDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JsonType,
    }


# -- organisation ---


class DepartmentRow(Base):
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column(Integer, default=1)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    district_code: Mapped[str | None] = mapped_column(String(6))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(8), default="zh_CN")
    created_at: Mapped[datetime | None]


class UserRoleRow(Base):
    __tablename__ = "user_roles"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    district_code: Mapped[str | None] = mapped_column(String(6))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))


class ApiTokenRow(Base):
    """Bearer tokens: stored as a SHA-256 digest; they expire and can be revoked."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    district_code: Mapped[str | None] = mapped_column(String(6))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class InspectorGridRow(Base):
    """The unit grids an inspector is responsible for (责任网格)."""

    __tablename__ = "inspector_grids"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), primary_key=True, index=True)


# -- regions and components ---


class RegionRow(Base):
    __tablename__ = "regions"
    __table_args__ = (UniqueConstraint("code", "valid_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(16), index=True)
    code: Mapped[str] = mapped_column(String(15), index=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    geometry: Mapped[bytes | None] = mapped_column(LargeBinary)  # WKB, WGS84 / CGCS2000
    area_m2: Mapped[float | None] = mapped_column(Float)
    centroid_lon: Mapped[float | None] = mapped_column(Float)
    centroid_lat: Mapped[float | None] = mapped_column(Float)
    layer_version: Mapped[int] = mapped_column(Integer, default=1)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class ComponentRow(Base):
    __tablename__ = "components"
    id: Mapped[int] = mapped_column(primary_key=True)
    object_code: Mapped[str] = mapped_column(String(17), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    class_code: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    maintainer_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    status: Mapped[str] = mapped_column(String(16), default="intact")
    initial_date: Mapped[date | None] = mapped_column(Date)
    change_date: Mapped[date | None] = mapped_column(Date)


# -- catalog: classes, filing standards, dispatch rules ---


class CategoryRow(Base):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("edition", "kind", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100))
    major_code: Mapped[str] = mapped_column(String(2))
    major_name: Mapped[str] = mapped_column(String(50))
    component_code: Mapped[str | None] = mapped_column(String(8))
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    self_handling_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    keywords: Mapped[str] = mapped_column(String(500), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class CategoryMappingRow(Base):
    """Legacy (GB/T 30428.2-2013) class → GB/T 47678.5-2026 class, reviewed by hand."""

    __tablename__ = "category_mappings"
    __table_args__ = (UniqueConstraint("legacy_kind", "legacy_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    legacy_kind: Mapped[str] = mapped_column(String(16))
    legacy_code: Mapped[str] = mapped_column(String(8))
    legacy_name: Mapped[str] = mapped_column(String(100))
    target_kind: Mapped[str | None] = mapped_column(String(16))
    target_code: Mapped[str | None] = mapped_column(String(8))
    relation: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    note: Mapped[str] = mapped_column(Text, default="")


class FilingStandardRow(Base):
    __tablename__ = "filing_standards"
    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    condition: Mapped[str] = mapped_column(Text)
    closing_condition: Mapped[str] = mapped_column(Text, default="")
    supervising_body: Mapped[str] = mapped_column(Text, default="")
    responsible_body: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    legal_clause: Mapped[str] = mapped_column(Text, default="")
    collection_notes: Mapped[str] = mapped_column(Text, default="")
    limit_text: Mapped[str] = mapped_column(String(50), default="")
    source: Mapped[str] = mapped_column(String(100), default="")
    source_row: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class DisposalLimitRow(Base):
    __tablename__ = "disposal_limits"
    __table_args__ = (UniqueConstraint("standard_id", "urgency"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(
        ForeignKey("filing_standards.id", ondelete="CASCADE"), index=True
    )
    urgency: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit: Mapped[str] = mapped_column(String(24))


class DispatchRuleRow(Base):
    __tablename__ = "dispatch_rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    filing_standard_id: Mapped[int | None] = mapped_column(ForeignKey("filing_standards.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    district_code: Mapped[str | None] = mapped_column(String(6))
    street_code: Mapped[str | None] = mapped_column(String(9))
    priority: Mapped[int] = mapped_column(Integer, default=100)


# -- working time and policy ---


class CalendarRow(Base):
    __tablename__ = "calendars"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    hours_per_workday: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal(8))
    week: Mapped[dict[str, Any]] = mapped_column(JsonType)
    makeup_windows: Mapped[dict[str, Any] | None] = mapped_column(JsonType)


class CalendarOverrideRow(Base):
    __tablename__ = "calendar_overrides"
    __table_args__ = (UniqueConstraint("calendar_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(50), default="")


class CalendarYearRow(Base):
    """A year whose holiday notice is loaded (or confirmed to need no override)."""

    __tablename__ = "calendar_years"
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("calendars.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)


class StageLimitRow(Base):
    __tablename__ = "stage_limits"
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit: Mapped[str] = mapped_column(String(24))


class PolicyRow(Base):
    __tablename__ = "policies"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JsonType)


class RevisionRow(Base):
    """Counters bumped when cached administrator data changes (calendar, limits, policy)."""

    __tablename__ = "revisions"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class FlagRow(Base):
    """Facts about the installation itself (e.g. that it holds the synthetic demo city)."""

    __tablename__ = "flags"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JsonType)


class CounterRow(Base):
    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


# -- cases ---


class CaseRow(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_state_deadline", "state", "stage_deadline"),
        Index("ix_cases_department_state", "department_id", "state"),
        Index("ix_cases_district_state", "district_code", "state"),
        Index("ix_cases_suspend_until", "state", "suspend_until"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(String(16))
    reported_at: Mapped[datetime] = mapped_column(index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(256), default="")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    district_code: Mapped[str | None] = mapped_column(String(6))
    street_code: Mapped[str | None] = mapped_column(String(9))
    community_code: Mapped[str | None] = mapped_column(String(12))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(15))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    component_id: Mapped[int | None] = mapped_column(ForeignKey("components.id"))
    filing_standard_id: Mapped[int | None] = mapped_column(ForeignKey("filing_standards.id"))
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    reporter_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reporter_name: Mapped[str] = mapped_column(String(50), default="")
    reporter_phone: Mapped[str] = mapped_column(String(32), default="")
    self_handled: Mapped[bool] = mapped_column(Boolean, default=False)
    resume_state: Mapped[str | None] = mapped_column(String(24))
    stage: Mapped[str | None] = mapped_column(String(16))
    stage_started_at: Mapped[datetime | None]
    stage_deadline: Mapped[datetime | None]
    stage_yellow_at: Mapped[datetime | None]
    proposed_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    sub_dispatched: Mapped[bool] = mapped_column(Boolean, default=False)
    refuse_until: Mapped[datetime | None]
    disposal_limit_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    disposal_limit_unit: Mapped[str | None] = mapped_column(String(24))
    disposal_deadline: Mapped[datetime | None]
    suspended_at: Mapped[datetime | None]
    suspend_until: Mapped[datetime | None]
    suspended_remaining_us: Mapped[int | None] = mapped_column(BigInteger)
    disposal_paused_us: Mapped[int] = mapped_column(BigInteger, default=0)
    accepted_at: Mapped[datetime | None]
    filed_at: Mapped[datetime | None]
    first_dispatched_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    signed_at: Mapped[datetime | None]
    handled_at: Mapped[datetime | None]
    handled_overdue: Mapped[bool | None] = mapped_column(Boolean)
    checked_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    verify_result: Mapped[str | None] = mapped_column(String(16))
    check_result: Mapped[str | None] = mapped_column(String(16))
    extension_count: Mapped[int] = mapped_column(Integer, default=0)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    refusal_count: Mapped[int] = mapped_column(Integer, default=0)
    remind_count: Mapped[int] = mapped_column(Integer, default=0)
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    close_type: Mapped[str | None] = mapped_column(String(16))
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    event_seq: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(250), unique=True)
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime | None]


class CaseEventRow(Base):
    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    comment: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    stage: Mapped[str | None] = mapped_column(String(16))
    stage_deadline: Mapped[datetime | None]
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))


class CasePauseRow(Base):
    """Suspended (挂账) intervals: the disposal clock does not run inside them."""

    __tablename__ = "case_pauses"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    start: Mapped[datetime]
    end: Mapped[datetime | None]


class TaskRow(Base):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_assignee_state", "assignee_id", "state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    created_at: Mapped[datetime]
    deadline: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), default="open")
    completed_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")


class AttachmentRow(Base):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"))
    stage: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    thumbnail_path: Mapped[str | None] = mapped_column(String(300))
    exif_lon: Mapped[float | None] = mapped_column(Float)
    exif_lat: Mapped[float | None] = mapped_column(Float)


# Tables of other subsystems live in their own modules on the same Base.
from cityloop.adapters.db import (  # noqa: E402
    models_base_data,
    models_evaluation,
    models_workbench,
)

__all__ = [
    "Base",
    "T",
    "metadata",
    "models_base_data",
    "models_evaluation",
    "models_workbench",
    "new_id",
]

metadata = Base.metadata
T = {table.name: table for table in metadata.sorted_tables}


def new_id(result: Any) -> int:
    """The primary key of the row an INSERT just created."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
