"""Point → unit grid → community → street → district, with a shapely STRtree.

Good enough for the core: the grid polygons of the current layer are loaded once and indexed;
a point on a shared edge resolves to the grid with the lowest code, so the answer never
depends on load order.
"""

from __future__ import annotations

import threading
from datetime import date

import shapely
from shapely import STRtree
from sqlalchemy import Engine, or_, select

from cityloop.adapters.db.models import T
from cityloop.domain.regions import GridHit, RegionLevel

regions = T["regions"]


class StrTreeLocator:
    def __init__(self, engine: Engine, *, on: date | None = None) -> None:
        self.engine = engine
        self.on = on
        self._lock = threading.Lock()
        self._tree: STRtree | None = None
        self._hits: list[GridHit] = []

    def reload(self) -> None:
        """Rebuild the index from the grid layer (after base data changed)."""
        stmt = select(regions.c.id, regions.c.code, regions.c.geometry).where(
            regions.c.level == RegionLevel.GRID.value, regions.c.geometry.is_not(None)
        )
        if self.on is not None:
            stmt = stmt.where(
                regions.c.valid_from <= self.on,
                or_(regions.c.valid_to.is_(None), regions.c.valid_to > self.on),
            )
        else:
            stmt = stmt.where(regions.c.valid_to.is_(None))
        with self.engine.connect() as conn:
            rows = sorted(conn.execute(stmt), key=lambda r: r.code)
        geoms = [shapely.from_wkb(r.geometry) for r in rows]
        hits = [
            GridHit(
                grid_id=r.id,
                grid_code=r.code,
                community_code=r.code[:12],
                street_code=r.code[:9],
                district_code=r.code[:6],
            )
            for r in rows
        ]
        tree = STRtree(geoms) if geoms else None
        with self._lock:
            self._tree, self._hits = tree, hits

    def locate(self, lon: float, lat: float) -> GridHit | None:
        if self._tree is None:
            self.reload()
        tree, hits = self._tree, self._hits
        if tree is None:
            return None
        found = tree.query(shapely.Point(lon, lat), predicate="intersects")
        if len(found) == 0:
            return None
        return hits[int(min(found))]
