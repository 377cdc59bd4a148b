"""Regions (district → street → community → grid) and components."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import Connection, bindparam, insert, or_, select

from cityloop.adapters.db.fast import FastStatement
from cityloop.adapters.db.models import T, new_id
from cityloop.domain.components import Component, ComponentStatus
from cityloop.domain.regions import Region, RegionLevel

regions = T["regions"]
components = T["components"]


def region_from_row(row: Any) -> Region:
    return Region(
        id=row.id,
        level=RegionLevel(row.level),
        code=row.code,
        name=row.name,
        parent_id=row.parent_id,
        department_id=row.department_id,
        area_m2=row.area_m2,
        centroid=(row.centroid_lon, row.centroid_lat)
        if row.centroid_lon is not None and row.centroid_lat is not None
        else None,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        layer_version=row.layer_version,
    )


_COLUMNS = [c for c in regions.c if c.name != "geometry"]


_REGION = select(*_COLUMNS).where(regions.c.id == bindparam("p_id"))
_REGION_BY_CODE = FastStatement(
    select(*_COLUMNS)
    .where(regions.c.code == bindparam("p_code"))
    .order_by(regions.c.valid_from.desc())
)
_COMPONENT = select(components).where(components.c.id == bindparam("p_id"))
_COMPONENT_BY_CODE = select(components).where(components.c.object_code == bindparam("p_code"))


class SqlRegionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, region_id: int) -> Region | None:
        row = self.conn.execute(_REGION, {"p_id": region_id}).first()
        return region_from_row(row) if row else None

    def add(self, region: Region, *, geometry_wkb: bytes | None = None) -> Region:
        row_id = new_id(
            self.conn.execute(
                insert(regions).values(
                    level=region.level.value,
                    code=region.code,
                    name=region.name,
                    parent_id=region.parent_id,
                    department_id=region.department_id,
                    geometry=geometry_wkb,
                    area_m2=region.area_m2,
                    centroid_lon=region.centroid[0] if region.centroid else None,
                    centroid_lat=region.centroid[1] if region.centroid else None,
                    valid_from=region.valid_from,
                    valid_to=region.valid_to,
                    layer_version=region.layer_version,
                )
            )
        )
        return replace(region, id=row_id)

    def by_code(self, code: str, on: date | None = None) -> Region | None:
        if on is None:
            latest = _REGION_BY_CODE.first(self.conn, {"p_code": code})
            return region_from_row(latest) if latest else None
        stmt = select(*_COLUMNS).where(
            regions.c.code == code,
            regions.c.valid_from <= on,
            or_(regions.c.valid_to.is_(None), regions.c.valid_to > on),
        )
        row = self.conn.execute(stmt.order_by(regions.c.valid_from.desc())).first()
        return region_from_row(row) if row else None

    def children(self, region_id: int) -> list[Region]:
        rows = self.conn.execute(
            select(*_COLUMNS).where(regions.c.parent_id == region_id).order_by(regions.c.code)
        )
        return [region_from_row(r) for r in rows]

    def of_level(self, level: RegionLevel) -> list[Region]:
        rows = self.conn.execute(
            select(*_COLUMNS).where(regions.c.level == level.value).order_by(regions.c.code)
        )
        return [region_from_row(r) for r in rows]


def component_from_row(row: Any) -> Component:
    return Component(
        id=row.id,
        object_code=row.object_code,
        category_id=row.category_id,
        class_code=row.class_code,
        name=row.name,
        lon=row.lon,
        lat=row.lat,
        grid_id=row.grid_id,
        supervisor_id=row.supervisor_id,
        owner_id=row.owner_id,
        maintainer_id=row.maintainer_id,
        status=ComponentStatus(row.status),
        initial_date=row.initial_date,
        change_date=row.change_date,
    )


class SqlComponentRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def by_code(self, object_code: str) -> Component | None:
        row = self.conn.execute(_COMPONENT_BY_CODE, {"p_code": object_code}).first()
        return component_from_row(row) if row else None

    def add(self, component: Component) -> Component:
        row_id = new_id(
            self.conn.execute(
                insert(components).values(
                    object_code=component.object_code,
                    category_id=component.category_id,
                    class_code=component.class_code,
                    name=component.name,
                    lon=component.lon,
                    lat=component.lat,
                    grid_id=component.grid_id,
                    supervisor_id=component.supervisor_id,
                    owner_id=component.owner_id,
                    maintainer_id=component.maintainer_id,
                    status=component.status.value,
                    initial_date=component.initial_date,
                    change_date=component.change_date,
                )
            )
        )
        return replace(component, id=row_id)

    def get(self, component_id: int) -> Component | None:
        row = self.conn.execute(_COMPONENT, {"p_id": component_id}).first()
        return component_from_row(row) if row else None
