"""The geometry work of the base-data services, with shapely (the ``SpatialOps`` port).

Geometries travel as WGS84 (= CGCS2000) WKB; areas and lengths are measured in the CGCS2000
3-degree Gauss–Krüger zone of the data (:mod:`cityloop.adapters.geo.crs`). The grid tools of
:mod:`cityloop.adapters.geo.grids` do the real work; this module only converts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from cityloop.adapters.geo.crs import gk_zone_for, project_array, project_to_metres
from cityloop.adapters.geo.grids import (
    CellLookup,
    GridRecord,
    check_layer,
    compare_layers,
    generate_cells,
    number_cells,
)
from cityloop.domain.base_data import (
    FindingKind,
    GeneratedGrids,
    GridDraft,
    GridShape,
    LayerFinding,
    ShapeInfo,
)


def _load(data: bytes | None) -> BaseGeometry | None:
    if data is None:
        return None
    try:
        geom = shapely.from_wkb(data)
    except shapely.errors.ShapelyError:
        return None
    return geom if isinstance(geom, BaseGeometry) else None


def _zone(geoms: Sequence[BaseGeometry]) -> int:
    minx, _, maxx, _ = shapely.total_bounds(np.array(geoms, dtype=object)).tolist()
    return gk_zone_for((minx + maxx) / 2)


class ShapelySpatialOps:
    """Stateless; one instance serves every unit of work."""

    def describe(self, geometries: Sequence[bytes | None]) -> list[ShapeInfo]:
        loaded = [_load(g) for g in geometries]
        present = [g for g in loaded if g is not None and not g.is_empty]
        if not present:
            return [ShapeInfo("" if g is None else g.geom_type, True, False) for g in loaded]
        epsg = _zone(present)
        metric = project_array(np.array(present, dtype=object), epsg)
        by_id = {id(g): m for g, m in zip(present, metric.tolist(), strict=True)}
        result = []
        for geom in loaded:
            if geom is None:
                result.append(ShapeInfo("", True, False, "unreadable"))
                continue
            if geom.is_empty:
                result.append(ShapeInfo(geom.geom_type, True, False, "empty"))
                continue
            valid = bool(geom.is_valid)
            metres = by_id[id(geom)]
            centroid = geom.centroid
            inner = geom.representative_point() if valid else centroid
            result.append(
                ShapeInfo(
                    geometry_type=geom.geom_type,
                    empty=False,
                    valid=valid,
                    reason="" if valid else shapely.is_valid_reason(geom),
                    area_m2=float(metres.area),
                    length_m=float(metres.length),
                    centroid=(float(centroid.x), float(centroid.y)),
                    inner_point=(float(inner.x), float(inner.y)),
                )
            )
        return result

    def outside_area(self, geometries: Sequence[bytes], container: bytes) -> list[float]:
        if not geometries:
            return []
        outer = shapely.make_valid(shapely.from_wkb(container))
        geoms = shapely.from_wkb(list(geometries))
        epsg = _zone([outer])
        outer_m = project_to_metres(outer, epsg)[0]
        geoms_m = project_array(geoms, epsg)
        outside = shapely.area(shapely.difference(geoms_m, outer_m, grid_size=1e-3))
        return [float(a) for a in outside.tolist()]

    def points_inside(self, points: Sequence[tuple[float, float]], container: bytes) -> list[bool]:
        if not points:
            return []
        outer = shapely.make_valid(shapely.from_wkb(container))
        shapely.prepare(outer)
        xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        inside = shapely.intersects_xy(outer, xy[:, 0], xy[:, 1])
        return [bool(v) for v in np.atleast_1d(inside).tolist()]

    def assign_points(
        self, points: Sequence[tuple[float, float]], polygons: Sequence[bytes]
    ) -> list[int]:
        if not points:
            return []
        if not polygons:
            return [-1] * len(points)
        xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        lookup = CellLookup(shapely.from_wkb(list(polygons)))
        return [int(i) for i in lookup.lookup(xy[:, 0], xy[:, 1]).tolist()]

    def check_grids(
        self,
        grids: Sequence[GridShape],
        parents: Mapping[str, bytes],
        *,
        coverage: bytes | None = None,
        tolerance_m2: float = 1.0,
        min_area_m2: float | None = None,
    ) -> list[LayerFinding]:
        records = [GridRecord(g.code, shapely.from_wkb(g.geometry), g.parent_code) for g in grids]
        parent_geoms = (
            {code: shapely.make_valid(shapely.from_wkb(wkb)) for code, wkb in parents.items()}
            if parents
            else None
        )
        findings = check_layer(
            records,
            parent_geoms,
            coverage=shapely.make_valid(shapely.from_wkb(coverage)) if coverage else None,
            tolerance_m2=tolerance_m2,
            min_area_m2=min_area_m2,
        )
        return [
            LayerFinding(FindingKind(f.kind.value), tuple(f.codes), f.detail, f.area_m2)
            for f in findings
        ]

    def compare_grids(
        self, old: Sequence[GridShape], new: Sequence[GridShape], *, tolerance_m2: float = 1.0
    ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...]]:
        diff = compare_layers(
            [GridRecord(g.code, shapely.from_wkb(g.geometry)) for g in old],
            [GridRecord(g.code, shapely.from_wkb(g.geometry)) for g in new],
            tolerance_m2=tolerance_m2,
        )
        return diff.added, diff.removed, diff.changed, diff.renamed

    def generate_grids(
        self,
        boundary: bytes,
        communities: Mapping[str, bytes],
        *,
        cell_area_m2: float,
        min_area_m2: float | None,
    ) -> GeneratedGrids:
        """Cut each community (clipped to the district boundary) into cells of the zone's
        lattice and number them inside it: grids nest in their community by construction,
        and cells of neighbouring communities line up on the same lattice."""
        outer = shapely.make_valid(shapely.from_wkb(boundary))
        epsg = _zone([outer])
        cells_by_parent = {}
        merged = 0
        kept: list[tuple[str, int]] = []
        for code in sorted(communities):
            area = shapely.intersection(
                shapely.make_valid(shapely.from_wkb(communities[code])), outer
            )
            if area.is_empty or area.area == 0:
                continue
            try:
                layer = generate_cells(
                    area, cell_area_m2=cell_area_m2, min_area_m2=min_area_m2, epsg=epsg
                )
            except ValueError:
                continue
            cells_by_parent[code] = list(layer.cells)
            merged += layer.merged_slivers
            kept_ids = {id(c) for c in layer.kept_slivers}
            kept += [(code, i) for i, c in enumerate(layer.cells) if id(c) in kept_ids]
        records = number_cells(cells_by_parent)
        drafts = []
        kept_codes = []
        position: dict[int, str] = {}
        for record in records:
            cell = record.cell
            assert cell is not None
            position[id(cell)] = record.code
            centroid = record.geometry.centroid
            drafts.append(
                GridDraft(
                    code=record.code,
                    parent_code=record.parent_code or record.code[:12],
                    geometry=shapely.to_wkb(record.geometry),
                    area_m2=round(cell.area_m2, 2),
                    centroid=(round(centroid.x, 7), round(centroid.y, 7)),
                )
            )
        for code, i in kept:
            kept_codes.append(position[id(cells_by_parent[code][i])])
        covered = (
            shapely.union_all([shapely.from_wkb(wkb) for wkb in communities.values()])
            if communities
            else None
        )
        orphan_area = 0.0
        if covered is not None:
            outer_m = project_to_metres(outer, epsg)[0]
            covered_m = project_to_metres(shapely.make_valid(covered), epsg)[0]
            orphan_area = float(shapely.difference(outer_m, covered_m, grid_size=1e-3).area)
        cell_area = float(cell_area_m2)
        return GeneratedGrids(
            grids=tuple(drafts),
            epsg=epsg,
            cell_area_m2=cell_area,
            min_area_m2=0.2 * cell_area if min_area_m2 is None else float(min_area_m2),
            merged_slivers=merged,
            kept_slivers=tuple(sorted(kept_codes)),
            uncovered_m2=round(orphan_area, 1),
        )


SPATIAL = ShapelySpatialOps()
