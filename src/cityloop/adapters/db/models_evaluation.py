"""Tables of the comprehensive evaluation (schemes, frozen results …), on the shared ``Base``.

- ``eval_fact_blocks``: the compact evaluation facts, columnar, one row per fact table and
  block of case ids (``adapters/evaluation/columns.py`` describes the layout);
- ``eval_state``: how far the facts are brought up to date (the last case event folded in);
- ``eval_schemes``: versioned scoring schemes (weights, step tables, grades);
- ``eval_reports`` / ``eval_report_rows``: frozen (published) results of a month and scope,
  with the scheme version they were scored with; they are written once and never changed.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cityloop.adapters.db.models import Base
from cityloop.adapters.db.types import JsonType


class EvalFactBlockRow(Base):
    __tablename__ = "eval_fact_blocks"
    table_name: Mapped[str] = mapped_column(String(16), primary_key=True)
    block_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class EvalStateRow(Base):
    __tablename__ = "eval_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    format: Mapped[int] = mapped_column(Integer)
    generation: Mapped[str] = mapped_column(String(32))  # new whenever the state is created
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_event_at: Mapped[datetime | None]
    blocks_version: Mapped[int] = mapped_column(BigInteger, default=0)
    refreshed_at: Mapped[datetime | None]


class EvalSchemeRow(Base):
    __tablename__ = "eval_schemes"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # draft | published
    effective_from: Mapped[date | None] = mapped_column(Date)
    body: Mapped[dict[str, Any]] = mapped_column(JsonType)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class EvalReportRow(Base):
    __tablename__ = "eval_reports"
    __table_args__ = (UniqueConstraint("period", "scope"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(16))  # "city" or a district code
    scheme_version: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[datetime]
    frozen_at: Mapped[datetime]
    frozen_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    extras: Mapped[dict[str, Any]] = mapped_column(JsonType)


class EvalReportLineRow(Base):
    __tablename__ = "eval_report_rows"
    __table_args__ = (Index("ix_eval_report_rows_report_kind", "report_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("eval_reports.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    parent: Mapped[str | None] = mapped_column(String(32))
    counts: Mapped[dict[str, Any]] = mapped_column(JsonType)
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    grade: Mapped[str | None] = mapped_column(String(4))
    rank: Mapped[int | None] = mapped_column(Integer)
