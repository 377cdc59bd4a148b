"""Tables of base data and geocoding (grid layers, addresses …), on the shared ``Base``.

- ``grid_layers``: one row per version of the unit-grid layer. The grids themselves are rows of
  ``regions`` (level ``grid``) carrying ``layer_version``; a new version closes the grids it
  replaces (``valid_to``) and adds new rows, so a case's ``grid_id`` keeps pointing at the grid,
  and hence the layer version, it was located on.
- ``component_attributes``: the GB/T 47678.5 census attributes a component has beyond the core
  ``components`` row (department codes and names as the census gives them, data source, note,
  photos, a line or polygon shape).
- ``addresses``: the standard address register (道路/街巷, 地片, 门牌, 楼牌, 兴趣点).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cityloop.adapters.db.models import Base


class GridLayerRow(Base):
    __tablename__ = "grid_layers"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    valid_from: Mapped[date] = mapped_column(Date)
    district_codes: Mapped[str] = mapped_column(String(200))  # comma-separated 6-digit codes
    grid_count: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ComponentAttributesRow(Base):
    __tablename__ = "component_attributes"
    component_id: Mapped[int] = mapped_column(
        ForeignKey("components.id", ondelete="CASCADE"), primary_key=True
    )
    supervisor_code: Mapped[str] = mapped_column(String(18), default="")
    supervisor_name: Mapped[str] = mapped_column(String(100), default="")
    owner_code: Mapped[str] = mapped_column(String(18), default="")
    owner_name: Mapped[str] = mapped_column(String(100), default="")
    maintainer_code: Mapped[str] = mapped_column(String(18), default="")
    maintainer_name: Mapped[str] = mapped_column(String(100), default="")
    data_source: Mapped[str] = mapped_column(String(30), default="")
    note: Mapped[str] = mapped_column(String(1000), default="")
    photos: Mapped[dict[str, Any] | None]  # {"files": [...]}
    geometry: Mapped[bytes | None] = mapped_column(LargeBinary)  # WKB when not a point


class AddressRow(Base):
    __tablename__ = "addresses"
    __table_args__ = (
        UniqueConstraint("code", "valid_from"),
        Index("ix_addresses_road_door", "road", "door"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    street_code: Mapped[str | None] = mapped_column(String(9))
    community_code: Mapped[str | None] = mapped_column(String(12))
    grid_code: Mapped[str | None] = mapped_column(String(15))
    road: Mapped[str] = mapped_column(String(100), default="")
    door: Mapped[str] = mapped_column(String(20), default="")
    compound: Mapped[bool] = mapped_column(Boolean, default=False)
    building: Mapped[str] = mapped_column(String(20), default="")
    name: Mapped[str] = mapped_column(String(100), default="")
    poi_type: Mapped[str] = mapped_column(String(50), default="")
    aliases: Mapped[str] = mapped_column(String(1000), default="")  # "|"-separated
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    geometry: Mapped[bytes | None] = mapped_column(LargeBinary)  # a road's line, an area
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(100), default="")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
