"""Base data: grid-layer versions, component census attributes, the standard address register."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from cityloop.adapters.db.models import T
from cityloop.adapters.db.repositories.regions import component_from_row, region_from_row
from cityloop.domain.address import AddressKind, StandardAddress
from cityloop.domain.base_data import ComponentCensus, GridLayer, GridShape
from cityloop.domain.regions import Region, RegionLevel

regions = T["regions"]
components = T["components"]
categories = T["categories"]
grid_layers = T["grid_layers"]
attributes = T["component_attributes"]
addresses = T["addresses"]
inspector_grids = T["inspector_grids"]
revisions = T["revisions"]

_REGION_COLUMNS = [c for c in regions.c if c.name != "geometry"]
CHUNK = 500


def _chunks(items: Sequence[Any], size: int = CHUNK) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def address_from_row(row: Any) -> StandardAddress:
    return StandardAddress(
        id=row.id,
        code=row.code,
        kind=AddressKind(row.kind),
        district_code=row.district_code,
        lon=row.lon,
        lat=row.lat,
        road=row.road,
        door=row.door,
        compound=row.compound,
        building=row.building,
        name=row.name,
        poi_type=row.poi_type,
        street_code=row.street_code,
        community_code=row.community_code,
        grid_code=row.grid_code,
        aliases=tuple(a for a in row.aliases.split("|") if a),
        synthetic=row.synthetic,
        source=row.source,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        geometry_wkb=row.geometry,
    )


def _current_grids() -> Any:
    return and_(regions.c.level == RegionLevel.GRID.value, regions.c.valid_to.is_(None))


class SqlBaseDataRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- grid layers ---
    def layers(self) -> list[GridLayer]:
        stored = {r.version: r for r in self.conn.execute(select(grid_layers))}
        counts = self.conn.execute(
            select(
                regions.c.layer_version,
                func.count(),
                func.min(regions.c.valid_from),
                func.count(regions.c.valid_to),
            )
            .where(regions.c.level == RegionLevel.GRID.value)
            .group_by(regions.c.layer_version)
        ).all()
        found = {v: (n, start, closed) for v, n, start, closed in counts}
        result = []
        for version in sorted(stored.keys() | found.keys()):
            n, start, closed = found.get(version, (0, None, 0))
            row = stored.get(version)
            result.append(
                GridLayer(
                    version=version,
                    valid_from=row.valid_from if row else start,
                    district_codes=tuple(c for c in row.district_codes.split(",") if c)
                    if row
                    else (),
                    grid_count=row.grid_count if row else n,
                    source=row.source if row else "",
                    note=row.note if row else "",
                    created_at=row.created_at if row else None,
                    created_by=row.created_by if row else None,
                    current=n > closed,
                )
            )
        return result

    def add_layer(self, layer: GridLayer) -> None:
        self.conn.execute(
            insert(grid_layers).values(
                version=layer.version,
                valid_from=layer.valid_from,
                district_codes=",".join(layer.district_codes),
                grid_count=layer.grid_count,
                source=layer.source[:100],
                note=layer.note[:500],
                created_at=layer.created_at,
                created_by=layer.created_by,
            )
        )

    def next_layer_version(self) -> int:
        top = self.conn.execute(select(func.max(grid_layers.c.version))).scalar()
        grids = self.conn.execute(
            select(func.max(regions.c.layer_version)).where(
                regions.c.level == RegionLevel.GRID.value
            )
        ).scalar()
        return max(top or 0, grids or 0) + 1

    def current_grids(self, district_codes: Sequence[str]) -> list[Region]:
        stmt = select(*_REGION_COLUMNS).where(_current_grids())
        if district_codes:
            stmt = stmt.where(func.substr(regions.c.code, 1, 6).in_(list(district_codes)))
        return [region_from_row(r) for r in self.conn.execute(stmt.order_by(regions.c.code))]

    def _grid_stmt(self, version: int | None) -> Any:
        stmt = select(*_REGION_COLUMNS, regions.c.geometry)
        if version is None:
            return stmt.where(_current_grids())
        return stmt.where(
            regions.c.level == RegionLevel.GRID.value, regions.c.layer_version == version
        )

    def grid_shapes(
        self, *, version: int | None = None, district_codes: Sequence[str] = ()
    ) -> list[GridShape]:
        stmt = self._grid_stmt(version).where(regions.c.geometry.is_not(None))
        if district_codes:
            stmt = stmt.where(func.substr(regions.c.code, 1, 6).in_(list(district_codes)))
        return [
            GridShape(r.code, r.geometry, r.code[:12])
            for r in self.conn.execute(stmt.order_by(regions.c.code))
        ]

    def grid_rows(self, *, version: int | None = None) -> list[tuple[Region, bytes | None]]:
        rows = self.conn.execute(self._grid_stmt(version).order_by(regions.c.code))
        return [(region_from_row(r), r.geometry) for r in rows]

    def region_geometries(self, codes: Sequence[str]) -> dict[str, bytes]:
        result: dict[str, bytes] = {}
        for chunk in _chunks(list(dict.fromkeys(codes))):
            rows = self.conn.execute(
                select(regions.c.code, regions.c.geometry)
                .where(
                    regions.c.code.in_(list(chunk)),
                    regions.c.valid_to.is_(None),
                    regions.c.geometry.is_not(None),
                )
                .order_by(regions.c.valid_from)
            )
            for row in rows:
                result[row.code] = row.geometry
        return result

    def regions_of_level(self, level: RegionLevel) -> list[tuple[Region, bytes | None]]:
        rows = self.conn.execute(
            select(*_REGION_COLUMNS, regions.c.geometry)
            .where(regions.c.level == level.value, regions.c.valid_to.is_(None))
            .order_by(regions.c.code)
        )
        return [(region_from_row(r), r.geometry) for r in rows]

    def close_regions(self, region_ids: Sequence[int], valid_to: date) -> None:
        for chunk in _chunks(list(region_ids)):
            self.conn.execute(
                update(regions).where(regions.c.id.in_(list(chunk))).values(valid_to=valid_to)
            )

    def update_region(
        self,
        region_id: int,
        *,
        name: str,
        geometry_wkb: bytes | None,
        area_m2: float | None,
        centroid: tuple[float, float] | None,
    ) -> None:
        values: dict[str, Any] = {"name": name}
        if geometry_wkb is not None:
            values.update(
                geometry=geometry_wkb,
                area_m2=area_m2,
                centroid_lon=centroid[0] if centroid else None,
                centroid_lat=centroid[1] if centroid else None,
            )
        self.conn.execute(update(regions).where(regions.c.id == region_id).values(**values))

    def move_inspector_grids(self, moves: Mapping[int, int]) -> int:
        if not moves:
            return 0
        rows = self.conn.execute(
            select(inspector_grids.c.user_id, inspector_grids.c.region_id).where(
                inspector_grids.c.region_id.in_(list(moves))
            )
        ).all()
        if rows:
            self.conn.execute(
                update(inspector_grids)
                .where(
                    inspector_grids.c.user_id == bindparam("b_user"),
                    inspector_grids.c.region_id == bindparam("b_old"),
                )
                .values(region_id=bindparam("b_new")),
                [{"b_user": u, "b_old": r, "b_new": moves[r]} for u, r in rows],
            )
        return len(rows)

    def component_positions(self, district_codes: Sequence[str]) -> list[tuple[int, float, float]]:
        stmt = select(components.c.id, components.c.lon, components.c.lat).outerjoin(
            regions, regions.c.id == components.c.grid_id
        )
        if district_codes:
            stmt = stmt.where(
                or_(
                    components.c.grid_id.is_(None),
                    func.substr(regions.c.code, 1, 6).in_(list(district_codes)),
                )
            )
        return [(r.id, r.lon, r.lat) for r in self.conn.execute(stmt.order_by(components.c.id))]

    def set_component_grids(self, grid_of: Mapping[int, int | None]) -> None:
        if grid_of:
            self.conn.execute(
                update(components)
                .where(components.c.id == bindparam("b_id"))
                .values(grid_id=bindparam("b_grid")),
                [{"b_id": k, "b_grid": v} for k, v in grid_of.items()],
            )

    # -- components ---
    def add_component_attributes(self, records: Sequence[ComponentCensus]) -> None:
        rows = [
            {
                "component_id": r.component.id,
                "supervisor_code": r.supervisor_code,
                "supervisor_name": r.supervisor_name,
                "owner_code": r.owner_code,
                "owner_name": r.owner_name,
                "maintainer_code": r.maintainer_code,
                "maintainer_name": r.maintainer_name,
                "data_source": r.data_source,
                "note": r.note,
                "photos": {"files": list(r.photos)} if r.photos else None,
                "geometry": r.geometry,
            }
            for r in records
        ]
        for chunk in _chunks(rows):
            self.conn.execute(insert(attributes), list(chunk))

    def component_census(
        self, *, district_codes: Sequence[str] = (), class_codes: Sequence[str] = ()
    ) -> list[ComponentCensus]:
        stmt = (
            select(
                components,
                attributes.c.supervisor_code,
                attributes.c.supervisor_name,
                attributes.c.owner_code,
                attributes.c.owner_name,
                attributes.c.maintainer_code,
                attributes.c.maintainer_name,
                attributes.c.data_source,
                attributes.c.note,
                attributes.c.photos,
                attributes.c.geometry.label("shape"),
                regions.c.code.label("grid_code"),
                categories.c.name.label("class_name"),
            )
            .outerjoin(attributes, attributes.c.component_id == components.c.id)
            .outerjoin(regions, regions.c.id == components.c.grid_id)
            .outerjoin(categories, categories.c.id == components.c.category_id)
        )
        if district_codes:
            stmt = stmt.where(func.substr(components.c.object_code, 1, 6).in_(list(district_codes)))
        if class_codes:
            stmt = stmt.where(components.c.class_code.in_(list(class_codes)))
        result = []
        for row in self.conn.execute(stmt.order_by(components.c.object_code)):
            photos = row.photos.get("files", []) if isinstance(row.photos, dict) else []
            grid = row.grid_code
            result.append(
                ComponentCensus(
                    component=component_from_row(row),
                    supervisor_code=row.supervisor_code or "",
                    supervisor_name=row.supervisor_name or "",
                    owner_code=row.owner_code or "",
                    owner_name=row.owner_name or "",
                    maintainer_code=row.maintainer_code or "",
                    maintainer_name=row.maintainer_name or "",
                    data_source=row.data_source or "",
                    note=row.note or "",
                    photos=tuple(str(p) for p in photos),
                    geometry=row.shape,
                    grid_code=grid,
                    class_name=row.class_name or "",
                    street_code=grid[:9] if grid else None,
                    community_code=grid[:12] if grid else None,
                )
            )
        return result

    # -- addresses ---
    def add_addresses(self, items: Sequence[StandardAddress]) -> int:
        rows = [
            {
                "code": a.code,
                "kind": a.kind.value,
                "district_code": a.district_code,
                "street_code": a.street_code,
                "community_code": a.community_code,
                "grid_code": a.grid_code,
                "road": a.road,
                "door": a.door,
                "compound": a.compound,
                "building": a.building,
                "name": a.name,
                "poi_type": a.poi_type,
                "aliases": "|".join(a.aliases),
                "lon": a.lon,
                "lat": a.lat,
                "geometry": a.geometry_wkb,
                "synthetic": a.synthetic,
                "source": a.source,
                "valid_from": a.valid_from,
                "valid_to": a.valid_to,
            }
            for a in items
        ]
        for chunk in _chunks(rows, 2000):
            self.conn.execute(insert(addresses), list(chunk))
        return len(rows)

    def addresses(
        self, *, district_codes: Sequence[str] = (), kinds: Sequence[AddressKind] = ()
    ) -> list[StandardAddress]:
        stmt = select(addresses).where(addresses.c.valid_to.is_(None))
        if district_codes:
            stmt = stmt.where(addresses.c.district_code.in_(list(district_codes)))
        if kinds:
            stmt = stmt.where(addresses.c.kind.in_([k.value for k in kinds]))
        return [address_from_row(r) for r in self.conn.execute(stmt.order_by(addresses.c.code))]

    def address_codes_in_use(self, codes: Sequence[str]) -> set[str]:
        taken: set[str] = set()
        for chunk in _chunks(list(dict.fromkeys(codes))):
            taken.update(
                self.conn.execute(
                    select(addresses.c.code).where(
                        addresses.c.code.in_(list(chunk)), addresses.c.valid_to.is_(None)
                    )
                ).scalars()
            )
        return taken

    def bump_revision(self, name: str) -> None:
        """A random token rather than a counter: a database rebuilt from scratch (or a test
        schema truncated) can never repeat a revision a process has cached."""
        token = secrets.randbits(62)
        changed = self.conn.execute(
            update(revisions).where(revisions.c.name == name).values(value=token)
        ).rowcount
        if not changed:
            self.conn.execute(insert(revisions).values(name=name, value=token))


def read_revision(conn: Connection, name: str) -> int:
    """The current token of a revision (0 when never bumped)."""
    value = conn.execute(select(revisions.c.value).where(revisions.c.name == name)).scalar()
    return int(value or 0)
