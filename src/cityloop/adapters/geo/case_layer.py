"""Map layers over the database (``MapLayers`` port): regions, components and cases.

- **Regions and grids**: GeoJSON with outlines simplified to half a screen pixel at the
  requested zoom (cached per level, zoom, layer version and data revision), cut to the box.
- **Components**: a bounding-box query; above the point limit, counts per cluster cell
  (SQL ``GROUP BY`` on the cell index).
- **Cases**: a million cases must answer in well under 100 ms, so the map does not scan the
  ``cases`` table per request. :class:`CaseColumns` keeps the columns the map filters on
  (position, state, class, source, report time, district, department, reporter, grid) as numpy
  arrays, loaded once and kept fresh incrementally: every change to a case writes a
  ``case_events`` row (DESIGN.md rule 1), so the cases named by events newer than the last
  seen (with an overlap, for transactions that commit out of id order) are read again, at most
  once per ``check_every`` seconds; everything is reloaded every ``full_every`` seconds and
  whenever the event ids go backwards (a rebuilt database). A query is then a vectorised mask;
  up to the point limit the matching cases are read by id, above it they are counted per
  cluster cell or per unit grid.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import mapping
from sqlalchemy import BigInteger, Engine, Integer, cast, func, select, type_coerce

from cityloop.adapters.db.models import T
from cityloop.adapters.db.repositories.base_data import read_revision
from cityloop.domain.case import CaseState
from cityloop.domain.regions import RegionLevel
from cityloop.services.queries.map_model import (
    BBox,
    CaseLayer,
    CaseLayerMode,
    CaseLayerQuery,
    CasePoint,
    Cluster,
    ComponentLayer,
    ComponentPoint,
    FeatureCollection,
    GridCount,
    cell_size_deg,
    simplify_tolerance_deg,
)

cases = T["cases"]
events = T["case_events"]
regions = T["regions"]
components = T["components"]
categories = T["categories"]

EVENT_OVERLAP = 1000
MAX_CLUSTER_CELLS = 250_000
FETCH_CHUNK = 500
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(value: datetime) -> int:
    delta = value.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass
class _Columns:
    ids: NDArray[np.int64]
    number: NDArray[np.bytes_]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    state: NDArray[np.int16]
    category: NDArray[np.int64]
    source: NDArray[np.int16]
    urgency: NDArray[np.int16]
    reported: NDArray[np.int64]
    district: NDArray[np.int16]
    department: NDArray[np.int64]
    reporter: NDArray[np.int64]
    grid: NDArray[np.int64]
    fx: NDArray[np.int32]  # fine cluster cell (see FINE_LEVEL)
    fy: NDArray[np.int32]

    @classmethod
    def empty(cls) -> _Columns:
        def z(dtype: Any) -> Any:
            return np.zeros(0, dtype=dtype)

        return cls(
            z(np.int64), z(NUMBER_DTYPE), z(np.float64), z(np.float64), z(np.int16), z(np.int64),
            z(np.int16), z(np.int16), z(np.int64), z(np.int16), z(np.int64), z(np.int64),
            z(np.int64), z(np.int32), z(np.int32),
        )  # fmt: skip

    def append(self, other: _Columns) -> _Columns:
        return _Columns(
            **{
                name: np.concatenate([getattr(self, name), getattr(other, name)])
                for name in self.__dataclass_fields__
            }
        )


NUMBER_DTYPE = np.dtype("S32")  # case numbers are ASCII, at most 24 characters


class _Codes:
    """Small-integer codes for text columns (states, sources, districts)."""

    def __init__(self, initial: Sequence[str] = ()) -> None:
        self.values: list[str] = list(initial)
        self.index = {v: i for i, v in enumerate(self.values)}

    def code(self, value: str | None) -> int:
        if value is None:
            return -1
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.values)
            self.values.append(value)
        return found


class CaseColumns:
    """The in-memory case columns of one database (see the module docstring)."""

    def __init__(
        self, engine: Engine, *, check_every: float = 1.0, full_every: float = 3600.0
    ) -> None:
        self.engine = engine
        self.check_every = check_every
        self.full_every = full_every
        self._lock = threading.Lock()
        self.states = _Codes([s.value for s in CaseState])
        self.sources = _Codes()
        self.urgencies = _Codes()
        self.districts = _Codes()
        self.category_codes: dict[int, str] = {}
        self.cols: _Columns | None = None
        self.event_mark = 0
        self.case_mark = 0
        self._checked = 0.0
        self._loaded = 0.0

    # -- loading ---
    def _select(self) -> Any:
        reported: Any
        if self.engine.dialect.name == "postgresql":
            reported = cast(func.extract("epoch", cases.c.reported_at) * 1_000_000, BigInteger)
        else:
            reported = type_coerce(cases.c.reported_at, BigInteger)
        return select(
            cases.c.id,
            cases.c.number,
            cases.c.lon,
            cases.c.lat,
            cases.c.state,
            cases.c.category_id,
            cases.c.source,
            cases.c.urgency,
            reported.label("reported"),
            cases.c.district_code,
            cases.c.department_id,
            cases.c.reporter_user_id,
            cases.c.grid_id,
        ).where(cases.c.lon.is_not(None), cases.c.lat.is_not(None))

    def _columns(self, rows: Sequence[Any]) -> _Columns:
        if not rows:
            return _Columns.empty()
        (ids, number, lon, lat, state, cat, source, urgency, rep, district, dept, reporter,
         grid) = zip(*rows, strict=True)  # fmt: skip

        def ints(values: Sequence[Any]) -> NDArray[np.int64]:
            return np.array([-1 if v is None else v for v in values], dtype=np.int64)

        def coded(codes: _Codes, values: Sequence[Any]) -> NDArray[np.int16]:
            index = codes.index
            found = [index.get(v, -2) if v is not None else -1 for v in values]
            if -2 in found:  # a value not seen before: give it a code
                found = [codes.code(v) for v in values]
            return np.array(found, dtype=np.int16)

        lons = np.array(lon, dtype=np.float64)
        lats = np.array(lat, dtype=np.float64)
        return _Columns(
            ids=np.array(ids, dtype=np.int64),
            number=np.array([n.encode() for n in number], dtype=NUMBER_DTYPE),
            lon=lons,
            lat=lats,
            fx=_fine(lons, -180.0),
            fy=_fine(lats, -90.0),
            state=coded(self.states, state),
            category=ints(cat),
            source=coded(self.sources, source),
            urgency=coded(self.urgencies, urgency),
            reported=ints(rep),
            district=coded(self.districts, district),
            department=ints(dept),
            reporter=ints(reporter),
            grid=ints(grid),
        )

    def _full(self) -> None:
        with self.engine.connect() as conn:
            event_mark = conn.execute(select(func.max(events.c.id))).scalar() or 0
            rows = conn.execute(self._select().order_by(cases.c.id)).all()
            self.category_codes = {
                r.id: r.code for r in conn.execute(select(categories.c.id, categories.c.code))
            }
        cols = self._columns(rows)
        self.cols = cols
        self.event_mark = int(event_mark)
        self.case_mark = int(cols.ids[-1]) if len(cols.ids) else 0
        self._loaded = self._checked = time.monotonic()

    def _incremental(self) -> None:
        assert self.cols is not None
        rows: list[Any] | None = None  # None: the database was rebuilt under us
        with self.engine.connect() as conn:
            event_mark = int(conn.execute(select(func.max(events.c.id))).scalar() or 0)
            case_mark = int(conn.execute(select(func.max(cases.c.id))).scalar() or 0)
            if event_mark >= self.event_mark and case_mark >= self.case_mark:
                changed: set[int] = set()
                if event_mark > self.event_mark:
                    changed.update(
                        conn.execute(
                            select(events.c.case_id)
                            .where(events.c.id > self.event_mark - EVENT_OVERLAP)
                            .distinct()
                        ).scalars()
                    )
                if case_mark > self.case_mark:
                    changed.update(
                        conn.execute(
                            select(cases.c.id).where(cases.c.id > self.case_mark)
                        ).scalars()
                    )
                ordered = sorted(changed)
                fetched: list[Any] = []
                for i in range(0, len(ordered), FETCH_CHUNK):
                    chunk = ordered[i : i + FETCH_CHUNK]
                    fetched += conn.execute(self._select().where(cases.c.id.in_(chunk))).all()
                rows = fetched
        if rows is None:
            self._full()
            return
        self._checked = time.monotonic()
        self.event_mark, self.case_mark = (
            max(self.event_mark, event_mark),
            max(self.case_mark, case_mark),
        )
        if not rows:
            return
        fresh = self._columns(sorted(rows, key=lambda r: r[0]))
        cols = self.cols
        pos = np.searchsorted(cols.ids, fresh.ids)
        known = (
            (pos < len(cols.ids)) & (cols.ids[np.minimum(pos, len(cols.ids) - 1)] == fresh.ids)
            if len(cols.ids)
            else np.zeros(len(fresh.ids), bool)
        )
        for name in cols.__dataclass_fields__:
            getattr(cols, name)[pos[known]] = getattr(fresh, name)[known]
        if np.any(~known):
            extra = _Columns(**{n: getattr(fresh, n)[~known] for n in cols.__dataclass_fields__})
            merged = cols.append(extra)
            order = np.argsort(merged.ids, kind="stable")
            self.cols = _Columns(
                **{n: getattr(merged, n)[order] for n in cols.__dataclass_fields__}
            )

    def columns(self) -> _Columns:
        now = time.monotonic()
        if self.cols is not None and now - self._checked <= self.check_every:
            return self.cols
        with self._lock:
            now = time.monotonic()
            if self.cols is None or now - self._loaded > self.full_every:
                self._full()
            elif now - self._checked > self.check_every:
                self._incremental()
            assert self.cols is not None
            return self.cols

    # -- querying ---
    def mask(self, q: CaseLayerQuery) -> tuple[_Columns, NDArray[np.bool_]]:
        cols = self.columns()
        b = q.bbox
        m = (
            (cols.lon >= b.west)
            & (cols.lon <= b.east)
            & (cols.lat >= b.south)
            & (cols.lat <= b.north)
        )
        # Coded columns filter through a lookup table (one gather instead of np.isin's sort).
        if q.states:
            states = _table([self.states.index.get(s, -1) for s in q.states])
            m &= np.take(states, cols.state, mode="clip")
        if q.category_ids:
            m &= np.take(_table(q.category_ids), cols.category, mode="clip")
        if q.sources:
            sources = _table([self.sources.index.get(s, -1) for s in q.sources])
            m &= np.take(sources, cols.source, mode="clip")
        if q.reported_from is not None:
            m &= cols.reported >= _micros(q.reported_from)
        if q.reported_to is not None:
            m &= cols.reported < _micros(q.reported_to)
        if q.district_code is not None:
            m &= cols.district == self.districts.index.get(q.district_code, -2)
        if q.department_id is not None:
            m &= cols.department == q.department_id
        if q.reporter_user_id is not None:
            m &= cols.reporter == q.reporter_user_id
        return cols, m


def _table(codes: Sequence[int]) -> NDArray[np.bool_]:
    """A boolean lookup table true at ``codes`` (negative codes: none), for
    ``np.take(table, column, mode="clip")``: larger values clip to the last slot, which is
    false; -1 (none) clips to 0, which no id uses (coded texts are never none)."""
    wanted = [c for c in codes if c >= 0]
    table = np.zeros(max(wanted, default=0) + 2, dtype=bool)
    table[wanted] = True
    table[-1] = False  # -1 indexes the last slot: keep it false
    return table


FINE_LEVEL = 24
"""Cluster cells are aligned on the world (not on the request's box), so clusters do not jump
while the map pans: the cell of zoom z is 360° / 2**(z + 2) wide (64 screen pixels), and a case's
cell at any zoom up to this level is its fine cell index shifted right."""


def _fine(values: NDArray[np.float64], origin: float) -> NDArray[np.int32]:
    scale = 2.0 ** (FINE_LEVEL + 2) / 360.0
    return np.floor((values - origin) * scale).astype(np.int32)


def _cluster(
    cols: _Columns, mask: NDArray[np.bool_], bbox: BBox, zoom: int
) -> tuple[list[Cluster], float]:
    level = max(0, min(zoom, FINE_LEVEL))
    shift = FINE_LEVEL - level
    x0 = int(_fine(np.array([bbox.west]), -180.0)[0])
    y0 = int(_fine(np.array([bbox.south]), -90.0)[0])
    x1 = int(_fine(np.array([bbox.east]), -180.0)[0])
    y1 = int(_fine(np.array([bbox.north]), -90.0)[0])
    while ((x1 >> shift) - (x0 >> shift) + 1) * (
        (y1 >> shift) - (y0 >> shift) + 1
    ) > MAX_CLUSTER_CELLS:
        shift += 1
    nx = (x1 >> shift) - (x0 >> shift) + 1
    ny = (y1 >> shift) - (y0 >> shift) + 1
    size = nx * ny
    if np.count_nonzero(mask) * 4 > len(mask):
        # Most rows match (a city-wide view): work on whole columns, no copies; rows that do
        # not match go to an extra last bucket.
        fx, fy, lon, lat = cols.fx, cols.fy, cols.lon, cols.lat
        key = ((fx >> shift) - (x0 >> shift)) * ny
        key += (fy >> shift) - (y0 >> shift)
        key[~mask] = size
    else:
        fx, fy, lon, lat = cols.fx[mask], cols.fy[mask], cols.lon[mask], cols.lat[mask]
        key = ((fx >> shift) - (x0 >> shift)) * ny
        key += (fy >> shift) - (y0 >> shift)
    counts = np.bincount(key, minlength=size + 1)[:size]
    sum_lon = np.bincount(key, weights=lon, minlength=size + 1)
    sum_lat = np.bincount(key, weights=lat, minlength=size + 1)
    cells = np.flatnonzero(counts)
    clusters = [
        Cluster(
            round(float(sum_lon[k] / counts[k]), 7),
            round(float(sum_lat[k] / counts[k]), 7),
            int(counts[k]),
        )
        for k in cells.tolist()
    ]
    return clusters, 360.0 / 2.0 ** (FINE_LEVEL + 2 - shift)


class SqlMapLayers:
    """The map layers of one database (long-lived: holds caches and the case columns)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.case_columns = CaseColumns(engine)
        self._codes: dict[int, str] = {}
        self._regions: dict[tuple[Any, ...], tuple[list[dict[str, Any]], NDArray[np.float64]]] = {}
        self._lock = threading.Lock()

    # -- regions ---
    def regions(
        self,
        level: RegionLevel,
        *,
        zoom: int,
        bbox: BBox | None = None,
        version: int | None = None,
        district_code: str | None = None,
    ) -> FeatureCollection:
        tolerance = simplify_tolerance_deg(zoom)
        with self.engine.connect() as conn:
            revision = (read_revision(conn, "grids"), read_revision(conn, "regions"))
            key = (level, zoom, version, revision)
            cached = self._regions.get(key)
            if cached is None:
                stmt = select(
                    regions.c.code,
                    regions.c.name,
                    regions.c.area_m2,
                    regions.c.layer_version,
                    regions.c.geometry,
                ).where(regions.c.level == level.value, regions.c.geometry.is_not(None))
                if level is RegionLevel.GRID and version is not None:
                    stmt = stmt.where(regions.c.layer_version == version)
                else:
                    stmt = stmt.where(regions.c.valid_to.is_(None))
                rows = conn.execute(stmt.order_by(regions.c.code)).all()
                cached = self._build_regions(level, rows, tolerance)
                with self._lock:
                    if len(self._regions) > 64:
                        self._regions.clear()
                    self._regions[key] = cached
        features, bounds = cached
        keep = np.ones(len(features), dtype=bool)
        if bbox is not None and len(features):
            keep = (
                (bounds[:, 0] <= bbox.east)
                & (bounds[:, 2] >= bbox.west)
                & (bounds[:, 1] <= bbox.north)
                & (bounds[:, 3] >= bbox.south)
            )
        chosen = [
            f
            for f, k in zip(features, keep.tolist(), strict=True)
            if k and (district_code is None or f["properties"]["code"].startswith(district_code))
        ]
        return {"type": "FeatureCollection", "features": chosen}

    @staticmethod
    def _build_regions(
        level: RegionLevel, rows: Sequence[Any], tolerance: float
    ) -> tuple[list[dict[str, Any]], NDArray[np.float64]]:
        if not rows:
            return [], np.zeros((0, 4))
        geoms = shapely.from_wkb([r.geometry for r in rows])
        simple = shapely.simplify(geoms, tolerance, preserve_topology=True)
        simple = shapely.transform(simple, lambda c: np.round(c, 7))
        bounds = shapely.bounds(geoms)
        features = []
        for r, g in zip(rows, simple.tolist(), strict=True):
            props: dict[str, Any] = {"code": r.code, "name": r.name, "level": level.value}
            if level is RegionLevel.GRID:
                props.update(layer_version=r.layer_version, area_m2=r.area_m2)
            features.append({"type": "Feature", "properties": props, "geometry": mapping(g)})
        return features, bounds

    # -- components ---
    def components(
        self,
        bbox: BBox,
        *,
        zoom: int,
        class_codes: Sequence[str] = (),
        limit: int,
        district_code: str | None = None,
    ) -> ComponentLayer:
        where: list[Any] = [
            components.c.lon.between(bbox.west, bbox.east),
            components.c.lat.between(bbox.south, bbox.north),
        ]
        if class_codes:
            where.append(components.c.class_code.in_(list(class_codes)))
        if district_code:
            where.append(func.substr(components.c.object_code, 1, 6) == district_code)
        with self.engine.connect() as conn:
            total = int(
                conn.execute(select(func.count()).select_from(components).where(*where)).scalar()
                or 0
            )
            if total <= limit:
                rows = conn.execute(
                    select(
                        components.c.id,
                        components.c.object_code,
                        components.c.class_code,
                        components.c.name,
                        components.c.lon,
                        components.c.lat,
                        components.c.status,
                        regions.c.code.label("grid_code"),
                    )
                    .outerjoin(regions, regions.c.id == components.c.grid_id)
                    .where(*where)
                    .order_by(components.c.object_code)
                ).all()
                return ComponentLayer(
                    total,
                    points=tuple(
                        ComponentPoint(
                            r.id,
                            r.object_code,
                            r.class_code,
                            r.name,
                            r.lon,
                            r.lat,
                            r.status,
                            r.grid_code,
                        )
                        for r in rows
                    ),
                )
            cell = cell_size_deg(zoom)
            while (
                math.ceil((bbox.east - bbox.west) / cell)
                * math.ceil((bbox.north - bbox.south) / cell)
                > MAX_CLUSTER_CELLS
            ):
                cell *= 2
            cx = cast((components.c.lon - bbox.west) / cell, Integer).label("cx")
            cy = cast((components.c.lat - bbox.south) / cell, Integer).label("cy")
            rows = conn.execute(
                select(cx, cy, func.count(), func.avg(components.c.lon), func.avg(components.c.lat))
                .where(*where)
                .group_by(cx, cy)
            ).all()
        clusters = tuple(
            Cluster(round(float(r[3]), 7), round(float(r[4]), 7), int(r[2]))
            for r in sorted(rows, key=lambda r: (r[0], r[1]))
        )
        return ComponentLayer(total, clusters=clusters, cell_deg=cell)

    # -- cases ---
    def cases(self, query: CaseLayerQuery) -> CaseLayer:
        cols, mask = self.case_columns.mask(query)
        total = int(np.count_nonzero(mask))
        mode = query.mode
        if mode is CaseLayerMode.AUTO:
            mode = CaseLayerMode.POINTS if total <= query.limit else CaseLayerMode.CLUSTERS
        if mode is CaseLayerMode.POINTS:
            return CaseLayer(mode, total, points=tuple(self._case_points(cols, mask, query.limit)))
        if mode is CaseLayerMode.GRIDS:
            # dense: no copy of the matching rows; region ids start at 1, 0 is "not counted"
            grid = np.where(mask, cols.grid, 0) if total * 4 > len(mask) else cols.grid[mask]
            grid = np.maximum(grid, 0)  # no grid (-1) is not counted either
            counts = np.bincount(grid) if len(grid) else np.zeros(1, np.int64)
            counts[0] = 0
            ids = np.flatnonzero(counts).tolist()
            codes = self._grid_codes(ids)
            return CaseLayer(
                mode,
                total,
                grids=tuple(GridCount(i, codes.get(i, ""), int(counts[i])) for i in ids),
            )
        clusters, cell = _cluster(cols, mask, query.bbox, query.zoom)
        return CaseLayer(mode, total, clusters=tuple(clusters), cell_deg=cell)

    def _grid_codes(self, ids: Sequence[int]) -> dict[int, str]:
        """Codes of grid rows by id; a row's code never changes, so they are kept."""
        missing = [i for i in ids if i not in self._codes]
        if missing:
            with self.engine.connect() as conn:
                for start in range(0, len(missing), FETCH_CHUNK):
                    chunk = missing[start : start + FETCH_CHUNK]
                    rows = conn.execute(
                        select(regions.c.id, regions.c.code).where(regions.c.id.in_(chunk))
                    )
                    self._codes.update({r.id: r.code for r in rows})
        return {i: self._codes[i] for i in ids if i in self._codes}

    def _case_points(self, cols: _Columns, mask: NDArray[np.bool_], limit: int) -> list[CasePoint]:
        """The matching cases straight from the columns (no query but the grid codes)."""
        rows = np.flatnonzero(mask)[:limit]
        grid = cols.grid[rows]
        codes = self._grid_codes(np.unique(grid[grid >= 0]).tolist())
        category_codes = self.case_columns.category_codes
        states = self.case_columns.states.values
        urgencies = self.case_columns.urgencies.values
        return [
            CasePoint(
                id=int(cols.ids[i]),
                number=cols.number[i].decode(),
                lon=float(cols.lon[i]),
                lat=float(cols.lat[i]),
                state=states[cols.state[i]],
                category_code=category_codes.get(int(cols.category[i])),
                urgency=urgencies[cols.urgency[i]] if cols.urgency[i] >= 0 else "normal",
                reported_at=_EPOCH + timedelta(microseconds=int(cols.reported[i])),
                grid_code=codes.get(int(cols.grid[i])),
            )
            for i in rows.tolist()
        ]
