"""Unit-grid (万米单元网格) tools on shapely geometries: generate, group, number, check, compare.

Reference: ``standards.md`` §2. A unit grid is about 10,000 m², belongs to exactly one
community (属地管理), the layer covers the area without gaps or overlaps (无缝拼接), and the
15-digit code is the community's 12-digit code plus a 3-digit sequence numbered inside the
community from 001, west → east, then north → south (GB/T 30428.1, via DB11/T 2157).

All metric work happens in the boundary's CGCS2000 3-degree Gauss–Krüger zone
(:func:`cityloop.adapters.geo.crs.gk_zone_for`); inputs and outputs are WGS84 lon/lat
(= CGCS2000 at our accuracy). Nothing here touches the database.

Real unit grids follow streets, walls and rivers; without such data we cut a square lattice
(which is what the "万米" cell size means) and clip it to the boundary. The lattice is the
zone's own: lines at whole multiples of the cell side from the zone origin, so two layers
made in the same zone line up.
"""

from __future__ import annotations

import enum
import heapq
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely import STRtree
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from cityloop.adapters.geo.crs import gk_zone_for, project_array, project_to_metres
from cityloop.domain.codes import parse_community_code, parse_grid_code
from cityloop.domain.errors import ValidationError

SNAP_M = 1e-4
"""Precision (metres) of the overlay operations that build cells: snap-rounding to 0.1 mm
makes neighbouring cells share bit-identical vertices, so unions and shared edges are clean."""
CHECK_SNAP_M = 1e-3
"""Precision (metres) of the overlays in :func:`check_layer` and :func:`compare_layers`."""
MIN_SHARED_EDGE_M = 1e-3
"""Two cells are neighbours when their common boundary is longer than this (1 mm); cells
touching at a corner only are not."""
MAX_SEQUENCE = 999


# --- cells ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, eq=False)
class Cell:
    """One unit-grid cell, before it has a code.

    ``row``/``col`` place the cell on the zone's lattice of side ``side_m``:
    ``row = floor(anchor_y / side)`` (a northing band; larger is further north) and
    ``col = floor(anchor_x / side)``. The *anchor* is the centroid of the lattice piece the
    cell grew from (a clipped lattice square, before any slivers were merged into it) — or,
    for polygons imported with :func:`cells_from_polygons`, their representative point.
    """

    geometry: BaseGeometry  # WGS84 lon/lat
    geometry_m: BaseGeometry  # metres in Gauss–Krüger zone ``epsg``
    epsg: int
    area_m2: float
    anchor_x: float
    anchor_y: float
    row: int
    col: int


@dataclass(frozen=True, slots=True)
class CellLayer:
    """The result of :func:`generate_cells`.

    ``kept_slivers`` are cells below ``min_area_m2`` that could not be merged because no
    other cell shares an edge with them (an island of the boundary smaller than the limit);
    they are in ``cells`` too, and reported here for a person to decide.
    """

    cells: tuple[Cell, ...]
    epsg: int
    side_m: float
    min_area_m2: float
    kept_slivers: tuple[Cell, ...]
    merged_slivers: int


@dataclass(slots=True)
class _Piece:
    geom: BaseGeometry
    area: float
    row: int
    col: int
    anchor: tuple[float, float]
    squares: set[tuple[int, int]]
    version: int = 0
    alive: bool = True


def _polygons(geom: BaseGeometry) -> list[BaseGeometry]:
    """The polygons of an overlay result (lines and points of a collection are dropped)."""
    return [
        part
        for part in shapely.get_parts(geom).tolist()
        if part.geom_type == "Polygon" and not part.is_empty and part.area > 0
    ]


def _shared_lengths(geom: BaseGeometry, others: Sequence[BaseGeometry]) -> NDArray[np.float64]:
    if not others:
        return np.zeros(0)
    common = shapely.intersection(
        shapely.boundary(geom), shapely.boundary(np.array(others, dtype=object)), grid_size=SNAP_M
    )
    lengths: NDArray[np.float64] = shapely.length(common)
    return lengths


def generate_cells(
    boundary_wgs84: BaseGeometry,
    *,
    cell_area_m2: float = 10_000.0,
    min_area_m2: float | None = None,
    epsg: int | None = None,
) -> CellLayer:
    """Cut a boundary into square unit grids of ``cell_area_m2`` (side √area) on the lattice
    of its Gauss–Krüger zone, clipped to the boundary (``standards.md`` §2.1–2.2).

    Slivers — clipped pieces smaller than ``min_area_m2`` (default 20 % of the cell area) —
    are merged into the neighbour that shares the longest edge with them, smallest sliver
    first, until none is left (a merged piece still below the limit is a sliver again). Ties
    go to the larger neighbour, then to the north-western one. A sliver that shares no edge
    with any other piece is kept and listed in :attr:`CellLayer.kept_slivers`. A lattice
    square that the boundary cuts into several separate pieces gives several cells.

    Cells come back in numbering order (north → south, west → east) with their planar area
    in the zone, which differs from the ellipsoidal area by at most 0.04 % inside a 3° zone
    (a scale factor below 1.0002 at 1.5° from the central meridian).
    """
    if not cell_area_m2 > 0:
        raise ValueError(f"cell_area_m2 must be positive, got {cell_area_m2}")
    min_area = 0.2 * cell_area_m2 if min_area_m2 is None else float(min_area_m2)
    if not 0 <= min_area < cell_area_m2:
        raise ValueError(f"min_area_m2 must be in [0, {cell_area_m2}), got {min_area_m2}")
    side = math.sqrt(cell_area_m2)
    boundary_m, epsg = project_to_metres(boundary_wgs84, epsg)
    # Repair, snap to the overlay precision and keep only the areal parts (make_valid and
    # snapping can leave lines or points of collapsed slivers in a collection).
    snapped = shapely.set_precision(shapely.make_valid(boundary_m), SNAP_M)
    boundary_m = shapely.union_all(_polygons(snapped), grid_size=SNAP_M)
    if boundary_m.is_empty:
        raise ValueError("the boundary has no area")
    shapely.prepare(boundary_m)
    minx, miny, maxx, maxy = boundary_m.bounds
    cols = np.arange(math.floor(minx / side), math.ceil(maxx / side))
    rows = np.arange(math.floor(miny / side), math.ceil(maxy / side))
    col_grid, row_grid = np.meshgrid(cols, rows)
    col_ids, row_ids = col_grid.ravel(), row_grid.ravel()
    boxes = shapely.box(col_ids * side, row_ids * side, (col_ids + 1) * side, (row_ids + 1) * side)
    touching = shapely.intersects(boundary_m, boxes)
    boxes, col_ids, row_ids = boxes[touching], col_ids[touching], row_ids[touching]
    inside = shapely.contains_properly(boundary_m, boxes)
    clipped = boxes.copy()
    clipped[~inside] = shapely.intersection(boxes[~inside], boundary_m, grid_size=SNAP_M)

    pieces: list[_Piece] = []
    by_square: dict[tuple[int, int], set[int]] = defaultdict(set)
    for geom, r, c in zip(clipped.tolist(), row_ids.tolist(), col_ids.tolist(), strict=True):
        for part in _polygons(geom):
            centroid = part.centroid
            by_square[(r, c)].add(len(pieces))
            pieces.append(_Piece(part, part.area, r, c, (centroid.x, centroid.y), {(r, c)}))

    merged, kept = _merge_slivers(pieces, by_square, min_area)
    alive = sorted(
        (p for p in pieces if p.alive), key=lambda p: (-p.row, p.anchor[0], -p.anchor[1])
    )
    geoms_m = np.array([p.geom for p in alive], dtype=object)
    geoms = project_array(geoms_m, epsg, inverse=True) if len(alive) else geoms_m
    cells = [
        Cell(g, p.geom, epsg, float(p.area), p.anchor[0], p.anchor[1], p.row, p.col)
        for g, p in zip(geoms.tolist(), alive, strict=True)
    ]
    kept_ids = {id(p) for p in kept}
    kept_cells = tuple(c for c, p in zip(cells, alive, strict=True) if id(p) in kept_ids)
    return CellLayer(tuple(cells), epsg, side, min_area, kept_cells, merged)


def _merge_slivers(
    pieces: list[_Piece], by_square: dict[tuple[int, int], set[int]], min_area: float
) -> tuple[int, list[_Piece]]:
    """Merge every sliver into its longest-edge neighbour; returns (merges, kept slivers)."""
    heap = [(p.area, p.row, p.col, i, p.version) for i, p in enumerate(pieces) if p.area < min_area]
    heapq.heapify(heap)
    merges = 0
    kept: list[_Piece] = []
    while heap:
        _, _, _, i, version = heapq.heappop(heap)
        sliver = pieces[i]
        if not sliver.alive or sliver.version != version or sliver.area >= min_area:
            continue
        near = sorted(
            {
                j
                for (r, c) in sliver.squares
                for dr in (-1, 0, 1)
                for dc in (-1, 0, 1)
                for j in by_square.get((r + dr, c + dc), ())
                if j != i and pieces[j].alive
            }
        )
        lengths = _shared_lengths(sliver.geom, [pieces[j].geom for j in near])
        options = [
            (-round(float(length), 6), -pieces[j].area, -pieces[j].row, pieces[j].col, j)
            for j, length in zip(near, lengths.tolist(), strict=True)
            if length > MIN_SHARED_EDGE_M
        ]
        if not options:
            kept.append(sliver)
            continue
        host_i = min(options)[-1]
        host = pieces[host_i]
        union = shapely.union(host.geom, sliver.geom, grid_size=SNAP_M)
        parts = _polygons(union)
        host.geom = parts[0] if len(parts) == 1 else union
        host.area = float(host.geom.area)
        host.version += 1
        for square in sliver.squares:
            by_square[square].discard(i)
            by_square[square].add(host_i)
        host.squares |= sliver.squares
        sliver.alive = False
        merges += 1
        if host.area < min_area:
            heapq.heappush(heap, (host.area, host.row, host.col, host_i, host.version))
    return merges, kept


def cells_from_polygons(
    polygons_wgs84: Iterable[BaseGeometry], *, side_m: float = 100.0, epsg: int | None = None
) -> list[Cell]:
    """Wrap existing grid polygons (e.g. an imported layer) as :class:`Cell` objects.

    Rows and columns are ``side_m`` bands of the zone's lattice holding each polygon's
    representative point (a point guaranteed inside it).
    """
    geoms = np.array(list(polygons_wgs84), dtype=object)
    if len(geoms) == 0:
        return []
    if epsg is None:
        minx, _, maxx, _ = shapely.total_bounds(geoms).tolist()
        epsg = gk_zone_for((minx + maxx) / 2)
    geoms_m = project_array(geoms, epsg)
    anchors = shapely.get_coordinates(shapely.point_on_surface(geoms_m))
    return [
        Cell(g, gm, epsg, float(gm.area), x, y, math.floor(y / side_m), math.floor(x / side_m))
        for g, gm, (x, y) in zip(geoms.tolist(), geoms_m.tolist(), anchors.tolist(), strict=True)
    ]


# --- parents -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Assignment:
    """Cells per parent code (every parent present, in code order) and cells in none."""

    by_parent: dict[str, list[Cell]]
    orphans: list[Cell]


def assign_to_parents(cells: Sequence[Cell], parents: Mapping[str, BaseGeometry]) -> Assignment:
    """Give each cell to one parent polygon (a grid belongs to exactly one community,
    ``standards.md`` §2.2).

    The parent is the one strictly containing the cell's representative point; when no
    parent or more than one does (the point on a parent's edge, or overlapping parents),
    the parent with the largest overlap with the cell wins, ties to the lowest code. A cell
    overlapping no parent is an orphan. Cells keep their input order inside each parent.
    """
    codes = sorted(parents)
    by_parent: dict[str, list[Cell]] = {code: [] for code in codes}
    if not cells or not codes:
        return Assignment(by_parent, list(cells))
    parent_geoms = np.array([parents[code] for code in codes], dtype=object)
    tree = STRtree(parent_geoms)
    cell_geoms = np.array([c.geometry for c in cells], dtype=object)
    points = shapely.point_on_surface(cell_geoms)
    hits: dict[int, list[int]] = defaultdict(list)
    for cell_i, parent_i in tree.query(points, predicate="within").T.tolist():
        hits[cell_i].append(parent_i)
    orphans: list[Cell] = []
    for i, cell in enumerate(cells):
        found = hits.get(i, [])
        if len(found) == 1:
            by_parent[codes[found[0]]].append(cell)
            continue
        candidates = sorted(tree.query(cell.geometry, predicate="intersects").tolist())
        overlap = shapely.area(shapely.intersection(cell.geometry, parent_geoms[candidates]))
        largest = float(overlap.max()) if len(candidates) else 0.0
        if largest > 0:
            # equal shares (to 1e-9, the precision of areas in degrees²) go to the lowest code
            best = min(
                c for c, a in zip(candidates, overlap.tolist(), strict=True) if a >= largest * TIE
            )
            by_parent[codes[best]].append(cell)
        else:
            orphans.append(cell)
    return Assignment(by_parent, orphans)


TIE = 1 - 1e-9


@dataclass(frozen=True, slots=True)
class Part:
    """A derived parent polygon (a synthetic community or street) and the cells it holds."""

    code: str
    name: str
    geometry: BaseGeometry  # WGS84
    area_m2: float
    cells: tuple[Cell, ...]


def _adjacency(cells: Sequence[Cell]) -> dict[int, dict[int, float]]:
    """Edge-sharing neighbours of each cell, with the length of the shared edge in metres."""
    geoms = np.array([c.geometry_m for c in cells], dtype=object)
    tree = STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(geoms[left]), shapely.boundary(geoms[right]))
    )
    graph: dict[int, dict[int, float]] = {i: {} for i in range(len(cells))}
    for a, b, length in zip(left.tolist(), right.tolist(), shared.tolist(), strict=True):
        if length > MIN_SHARED_EDGE_M:
            graph[a][b] = graph[b][a] = length
    return graph


def partition_into_communities(
    boundary_wgs84: BaseGeometry,
    communities: Sequence[tuple[str, str]],
    seed: int,
    *,
    cells: Sequence[Cell] | None = None,
    cell_area_m2: float = 10_000.0,
    weights: Mapping[str, float] | None = None,
) -> list[Part]:
    """Split an area into ``len(communities)`` contiguous parts of roughly equal area.

    **Synthetic.** We have no community (社区) or street (街道) polygons (see
    ``data/boundaries/README.md``): this derives a *plausible* partition so that demo and
    test grids can nest in communities. It is not the real administrative geography and
    must be replaced by official boundaries in a deployment.

    Method: the building blocks are unit cells — ``cells`` whose representative point lies
    in the boundary, or a fresh :func:`generate_cells` lattice — so every part is a union of
    whole cells and the cells nest in their part exactly. Communities are sorted by code and
    the cells are split by recursive weighted bisection: a group of *k* labels is cut with a
    straight sweep line so that the first ⌊k/2⌋ labels get their share of the area. The
    sweep runs across the group's longer extent (west → east, or north → south, so low
    codes land in the north-west), tilted by a random angle of at most ±20° drawn from
    ``random.Random(seed)``. A bisection of a concave area can leave a part in pieces; each
    piece but the largest then moves to the neighbouring part it shares the longest border
    with, until every part is one edge-connected piece (pieces of a boundary with islands
    stay where they are). Finally border cells move, one at a time, from parts above their
    target area to neighbouring parts below it, as long as that brings the areas closer to
    the targets and leaves the giving part connected. Same inputs and seed → same partition.

    ``weights`` (code → relative area, 1 for a code not in it) makes some parts larger: split a
    district into streets weighted by their number of communities, then each street into
    its communities, and the communities come out of similar size district-wide.
    """
    labels = sorted(communities)
    if cells is None:
        pool = list(generate_cells(boundary_wgs84, cell_area_m2=cell_area_m2).cells)
    else:
        region = shapely.make_valid(boundary_wgs84)
        shapely.prepare(region)
        points = shapely.point_on_surface(np.array([c.geometry for c in cells], dtype=object))
        pool = [
            c for c, inside in zip(cells, shapely.covers(region, points), strict=True) if inside
        ]
    if not labels:
        raise ValueError("partition_into_communities needs at least one community")
    if len(pool) < len(labels):
        raise ValueError(f"{len(labels)} communities but only {len(pool)} cells in the boundary")
    xs = np.array([c.anchor_x for c in pool])
    ys = np.array([c.anchor_y for c in pool])
    areas = np.array([c.area_m2 for c in pool])
    share = np.array([1.0 if weights is None else float(weights.get(c, 1.0)) for c, _ in labels])
    if not np.all(share > 0):
        raise ValueError("partition weights must be positive")
    rng = random.Random(seed)

    def bisect(idx: NDArray[np.int64], first: int, k: int) -> list[NDArray[np.int64]]:
        if k == 1:
            return [idx]
        k_first = k // 2
        span_x, span_y = np.ptp(xs[idx]), np.ptp(ys[idx])
        angle = (0.0 if span_x >= span_y else -math.pi / 2) + rng.uniform(-0.35, 0.35)
        sweep = xs[idx] * math.cos(angle) + ys[idx] * math.sin(angle)
        order = idx[np.lexsort((-ys[idx], xs[idx], sweep))]
        cumulative = np.cumsum(areas[order])
        mine = share[first : first + k]
        target = cumulative[-1] * mine[:k_first].sum() / mine.sum()
        cut = int(np.searchsorted(cumulative, target)) + 1
        if cut > 1 and target - cumulative[cut - 2] < cumulative[cut - 1] - target:
            cut -= 1  # the cell that crosses the target goes to the side it fits better
        cut = min(max(cut, k_first), len(order) - (k - k_first))
        return bisect(order[:cut], first, k_first) + bisect(
            order[cut:], first + k_first, k - k_first
        )

    groups = bisect(np.arange(len(pool)), 0, len(labels))
    owner = np.empty(len(pool), dtype=np.int64)
    for g, idx in enumerate(groups):
        owner[idx] = g
    graph = _adjacency(pool)
    _make_contiguous(owner, graph, areas, len(labels))
    _rebalance(owner, graph, areas, share / share.sum() * areas.sum())

    parts: list[Part] = []
    members: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(owner.tolist()):
        members[g].append(i)
    epsg = pool[0].epsg
    unions = np.array(
        [shapely.union_all([pool[i].geometry_m for i in members[g]]) for g in range(len(labels))],
        dtype=object,
    )
    for (code, name), geom, g in zip(
        labels, project_array(unions, epsg, inverse=True).tolist(), range(len(labels)), strict=True
    ):
        held = tuple(pool[i] for i in members[g])
        parts.append(Part(code, name, geom, float(sum(c.area_m2 for c in held)), held))
    return parts


def _components(nodes: list[int], graph: dict[int, dict[int, float]]) -> list[list[int]]:
    inside = set(nodes)
    seen: set[int] = set()
    result: list[list[int]] = []
    for start in nodes:
        if start in seen:
            continue
        seen.add(start)
        stack, comp = [start], []
        while stack:
            n = stack.pop()
            comp.append(n)
            for m in graph[n]:
                if m in inside and m not in seen:
                    seen.add(m)
                    stack.append(m)
        result.append(sorted(comp))
    return result


def _make_contiguous(
    owner: NDArray[np.int64],
    graph: dict[int, dict[int, float]],
    areas: NDArray[np.float64],
    n_groups: int,
    max_passes: int = 50,
) -> None:
    """Move every stray piece of a group to the neighbouring group it borders most."""
    for _ in range(max_passes):
        moved = False
        for g in range(n_groups):
            nodes = np.flatnonzero(owner == g).tolist()
            comps = _components(nodes, graph)
            if len(comps) < 2:
                continue
            comps.sort(key=lambda comp: (-float(areas[comp].sum()), comp[0]))
            for comp in comps[1:]:
                border: dict[int, float] = defaultdict(float)
                for n in comp:
                    for m, length in graph[n].items():
                        if owner[m] != g:
                            border[int(owner[m])] += length
                if border:
                    target = min(border, key=lambda h: (-round(border[h], 6), h))
                    owner[comp] = target
                    moved = True
        if not moved:
            return


def _stays_connected(
    owner: NDArray[np.int64], graph: dict[int, dict[int, float]], cell: int
) -> bool:
    """Whether the cell's group is still edge-connected without it."""
    g = owner[cell]
    rest = [m for m in graph[cell] if owner[m] == g]
    if not rest:
        return False  # the cell is the whole group (or an island of it)
    size = int(np.count_nonzero(owner == g)) - 1
    seen, stack = {cell, rest[0]}, [rest[0]]
    while stack:
        n = stack.pop()
        for m in graph[n]:
            if m not in seen and owner[m] == g:
                seen.add(m)
                stack.append(m)
    return len(seen) - 1 == size


def _rebalance(
    owner: NDArray[np.int64],
    graph: dict[int, dict[int, float]],
    areas: NDArray[np.float64],
    targets: NDArray[np.float64],
) -> None:
    """Hand border cells from parts above their target area to neighbouring parts below it.

    Greedy local search: each step makes the move that most reduces the sum of squared
    relative deviations from the targets and keeps the giving part connected; it stops when
    no move helps. Every step strictly lowers that sum, so it ends.
    """
    totals = np.bincount(owner, weights=areas, minlength=len(targets))
    for _ in range(len(owner)):
        ratio = totals / targets
        moves: list[tuple[float, int, int]] = []
        for cell, neighbours in graph.items():
            g = int(owner[cell])
            for h in {int(owner[m]) for m in neighbours} - {g}:
                if ratio[g] <= ratio[h]:
                    continue
                a = areas[cell]
                before = (ratio[g] - 1) ** 2 + (ratio[h] - 1) ** 2
                after = ((totals[g] - a) / targets[g] - 1) ** 2 + (
                    (totals[h] + a) / targets[h] - 1
                ) ** 2
                if before - after > 1e-12:
                    moves.append((after - before, cell, h))
        moves.sort()
        for _, cell, h in moves:
            if _stays_connected(owner, graph, cell):
                g = int(owner[cell])
                totals[g] -= areas[cell]
                totals[h] += areas[cell]
                owner[cell] = h
                break
        else:
            return


# --- numbering -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GridRecord:
    """A coded unit grid: its 15-digit code, WGS84 geometry and (12-digit) parent code."""

    code: str
    geometry: BaseGeometry
    parent_code: str | None = None
    cell: Cell | None = field(default=None, compare=False)


def numbering_key(cell: Cell) -> tuple[int, float, float]:
    """Sort key of GB/T 30428.1 numbering: rows north → south, then west → east.

    A row is one lattice band (``cell.row``, the northing band holding the cell's anchor);
    inside a row cells go by the anchor's easting, then (for two pieces of one lattice
    square) north before south.
    """
    return -cell.row, cell.anchor_x, -cell.anchor_y


def number_cells(cells_by_parent: Mapping[str, Sequence[Cell]]) -> list[GridRecord]:
    """Give every cell its 15-digit grid code: parent community code + sequence 001…999.

    Inside each community, cells are numbered west → east along a row, rows from north to
    south (``standards.md`` §2.3, GB/T 30428.1 via DB11/T 2157); see :func:`numbering_key`
    for how rows are formed. A community with more than 999 cells cannot be numbered with a
    3-digit sequence and is refused (``grid_sequence_overflow``), as is a malformed parent
    code. Records come back in parent-code order, then sequence order.
    """
    records: list[GridRecord] = []
    for parent in sorted(cells_by_parent):
        code = parse_community_code(parent)
        cells = sorted(cells_by_parent[parent], key=numbering_key)
        if len(cells) > MAX_SEQUENCE:
            raise ValidationError(
                "grid_sequence_overflow",
                "Community {community} has {count} unit grids; a 3-digit grid sequence allows"
                " at most 999",
                community=code,
                count=len(cells),
            )
        records.extend(
            GridRecord(f"{code}{n:03d}", c.geometry, code, c) for n, c in enumerate(cells, 1)
        )
    return records


# --- checking ------------------------------------------------------------------------------
class FindingKind(enum.StrEnum):
    """Kinds of :class:`Finding` (stable identifiers, usable as message keys)."""

    MALFORMED_CODE = "malformed_code"
    DUPLICATE_CODE = "duplicate_code"
    NOT_NESTED = "not_nested"
    UNKNOWN_PARENT = "unknown_parent"
    OUTSIDE_PARENT = "outside_parent"
    INVALID_GEOMETRY = "invalid_geometry"
    SMALL_CELL = "small_cell"
    OVERLAP = "overlap"
    GAP = "gap"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in a grid layer: what kind, which codes, an English detail for the report
    and, for areal problems, the area in m²."""

    kind: FindingKind
    codes: tuple[str, ...]
    detail: str
    area_m2: float | None = None


def _layer_epsg(geoms: NDArray[np.object_]) -> int:
    minx, _, maxx, _ = shapely.total_bounds(geoms).tolist()
    return gk_zone_for((minx + maxx) / 2)


def check_layer(
    grids: Sequence[GridRecord],
    parents: Mapping[str, BaseGeometry] | None = None,
    *,
    coverage: BaseGeometry | None = None,
    tolerance_m2: float = 1.0,
    min_area_m2: float | None = None,
) -> list[Finding]:
    """Check a grid layer against ``standards.md`` §2.2–2.3; returns findings, never raises.

    - ``malformed_code``: a grid code that :func:`parse_grid_code` refuses (15 digits
      required; legacy 14-digit codes must be converted first), or a malformed parent code;
    - ``duplicate_code``: a code used more than once;
    - ``not_nested``: the grid code does not start with its parent's 12-digit code;
    - ``unknown_parent`` / ``outside_parent`` (only with ``parents``): the parent polygon is
      missing, or more than ``tolerance_m2`` of the grid lies outside it;
    - ``invalid_geometry``: empty, not polygonal, or not valid (left out of the areal checks);
    - ``small_cell`` (only with ``min_area_m2``): a grid smaller than that;
    - ``overlap``: two grids sharing more than ``tolerance_m2``;
    - ``gap``: a piece of the covered area larger than ``tolerance_m2`` in no grid. The
      covered area is ``coverage`` if given, else the union of ``parents``, else the union of
      the grids with its holes filled.

    Areas are measured in the layer's Gauss–Krüger zone. Findings come in the order above,
    each kind sorted by code.
    """
    findings: list[Finding] = []
    codes = [g.code for g in grids]
    for g in grids:
        try:
            parse_grid_code(g.code, allow_legacy=False)
        except ValidationError as err:
            findings.append(Finding(FindingKind.MALFORMED_CODE, (str(g.code),), err.render()))
        if g.parent_code is not None:
            try:
                parse_community_code(g.parent_code)
            except ValidationError as err:
                findings.append(
                    Finding(
                        FindingKind.MALFORMED_CODE, (str(g.code), str(g.parent_code)), err.render()
                    )
                )
    for code, count in sorted(Counter(codes).items()):
        if count > 1:
            findings.append(
                Finding(FindingKind.DUPLICATE_CODE, (code,), f"code {code} is used {count} times")
            )
    for g in sorted(grids, key=lambda g: g.code):
        if g.parent_code is not None and not g.code.startswith(g.parent_code):
            findings.append(
                Finding(
                    FindingKind.NOT_NESTED,
                    (g.code, g.parent_code),
                    f"grid {g.code} does not start with its parent's code {g.parent_code}",
                )
            )

    ok = [
        g
        for g in grids
        if isinstance(g.geometry, BaseGeometry)
        and not g.geometry.is_empty
        and g.geometry.geom_type in ("Polygon", "MultiPolygon")
        and g.geometry.is_valid
    ]
    ok_ids = {id(g) for g in ok}
    for g in sorted(grids, key=lambda g: g.code):
        if id(g) not in ok_ids:
            findings.append(
                Finding(
                    FindingKind.INVALID_GEOMETRY,
                    (g.code,),
                    f"grid {g.code} geometry is empty, not a polygon or not valid",
                )
            )
    if not ok:
        return findings
    ok.sort(key=lambda g: g.code)
    geoms = np.array([g.geometry for g in ok], dtype=object)
    epsg = _layer_epsg(geoms)
    geoms_m = project_array(geoms, epsg)
    areas = shapely.area(geoms_m)
    ok_codes = [g.code for g in ok]

    parents_m: dict[str, BaseGeometry] = {}
    if parents is not None:
        names = sorted(parents)
        projected = project_array(np.array([parents[n] for n in names], dtype=object), epsg)
        parents_m = dict(zip(names, projected.tolist(), strict=True))
        findings.extend(_check_parents(ok, geoms_m, parents_m, tolerance_m2))
    if min_area_m2 is not None:
        for code, area in zip(ok_codes, areas.tolist(), strict=True):
            if area < min_area_m2:
                findings.append(
                    Finding(
                        FindingKind.SMALL_CELL,
                        (code,),
                        f"grid {code} has {area:.1f} m², less than {min_area_m2:.0f} m²",
                        area,
                    )
                )

    tree = STRtree(geoms_m)
    left, right = tree.query(geoms_m, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    # Only pairs whose interiors meet can overlap; the overlay runs for those alone.
    inner = shapely.relate_pattern(geoms_m[left], geoms_m[right], "T********")
    left, right = left[inner], right[inner]
    shared = shapely.area(
        shapely.intersection(geoms_m[left], geoms_m[right], grid_size=CHECK_SNAP_M)
    )
    overlaps = False
    for a, b, area in sorted(
        zip(left.tolist(), right.tolist(), shared.tolist(), strict=True),
        key=lambda t: (ok_codes[t[0]], ok_codes[t[1]]),
    ):
        if area > tolerance_m2:
            overlaps = True
            findings.append(
                Finding(
                    FindingKind.OVERLAP,
                    (ok_codes[a], ok_codes[b]),
                    f"grids {ok_codes[a]} and {ok_codes[b]} overlap by {area:.1f} m²",
                    area,
                )
            )

    # Without overlaps the grids are a coverage, whose union is a fast edge-matching job.
    covered = shapely.union_all(geoms_m) if overlaps else shapely.coverage_union_all(geoms_m)
    if coverage is not None:
        target = project_to_metres(coverage, epsg)[0]
    elif parents_m:
        target = shapely.union_all(list(parents_m.values()))
    else:
        target = shapely.union_all([Polygon(p.exterior) for p in _polygons(covered)])
    holes = shapely.difference(target, covered, grid_size=CHECK_SNAP_M)
    gaps = [p for p in _polygons(holes) if p.area > tolerance_m2]
    gap_findings: list[Finding] = []
    for gap in gaps:
        near = sorted(ok_codes[i] for i in tree.query(gap, predicate="dwithin", distance=0.01))
        point = project_array(
            np.array([gap.representative_point()], dtype=object), epsg, inverse=True
        )[0]
        gap_findings.append(
            Finding(
                FindingKind.GAP,
                tuple(near),
                f"{gap.area:.1f} m² in no grid near ({point.x:.6f}, {point.y:.6f})",
                float(gap.area),
            )
        )
    findings.extend(sorted(gap_findings, key=lambda f: (f.codes, f.detail)))
    return findings


def _check_parents(
    grids: Sequence[GridRecord],
    geoms_m: NDArray[np.object_],
    parents_m: Mapping[str, BaseGeometry],
    tolerance_m2: float,
) -> list[Finding]:
    findings: list[Finding] = []
    known: list[int] = []
    for i, g in enumerate(grids):
        parent = g.parent_code if g.parent_code is not None else g.code[:12]
        if parent in parents_m:
            known.append(i)
        else:
            findings.append(
                Finding(
                    FindingKind.UNKNOWN_PARENT,
                    (g.code, parent),
                    f"grid {g.code}: parent {parent} has no polygon",
                )
            )
    parent_of = [grids[i].parent_code or grids[i].code[:12] for i in known]
    parent_geoms = np.array([parents_m[p] for p in parent_of], dtype=object)
    outside = shapely.area(shapely.difference(geoms_m[known], parent_geoms))
    for i, parent, area in zip(known, parent_of, outside.tolist(), strict=True):
        if area > tolerance_m2:
            code = grids[i].code
            findings.append(
                Finding(
                    FindingKind.OUTSIDE_PARENT,
                    (code, parent),
                    f"{area:.1f} m² of grid {code} lies outside its parent {parent}",
                    area,
                )
            )
    return findings


# --- comparing -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LayerDiff:
    """What changed between two versions of a grid layer (codes sorted).

    ``renamed`` pairs (old code, new code) whose geometry is the same; those codes are not in
    ``added``/``removed``. ``changed`` codes exist in both with different geometry.
    """

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    renamed: tuple[tuple[str, str], ...]

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.changed or self.renamed)


def compare_layers(
    old: Sequence[GridRecord], new: Sequence[GridRecord], *, tolerance_m2: float = 1.0
) -> LayerDiff:
    """Compare two grid layers by code and geometry (``standards.md`` §2.2 相对稳定: changes
    are recorded, so a redrawn layer must say what moved).

    Two geometries are "the same" when their symmetric difference is at most
    ``tolerance_m2`` (measured in the Gauss–Krüger zone). A code only in ``old`` whose
    geometry is the same as that of a code only in ``new`` is a rename (each new code
    matches at most one old code, the closest; ties to the lowest code). If a code occurs
    twice in a layer, its first record counts.
    """
    old_by: dict[str, BaseGeometry] = {}
    new_by: dict[str, BaseGeometry] = {}
    for rec in old:
        old_by.setdefault(rec.code, rec.geometry)
    for rec in new:
        new_by.setdefault(rec.code, rec.geometry)
    every = np.array([*old_by.values(), *new_by.values()], dtype=object)
    if len(every) == 0:
        return LayerDiff((), (), (), ())
    epsg = _layer_epsg(every)

    def metres(by: dict[str, BaseGeometry], keys: list[str]) -> NDArray[np.object_]:
        return project_array(np.array([by[k] for k in keys], dtype=object), epsg)

    common = sorted(old_by.keys() & new_by.keys())
    changed: list[str] = []
    if common:
        old_m, new_m = metres(old_by, common), metres(new_by, common)
        # Identical vertices need no overlay; the rest are measured.
        differ = np.flatnonzero(~shapely.equals_exact(old_m, new_m, tolerance=1e-6))
        diff = shapely.area(
            shapely.symmetric_difference(old_m[differ], new_m[differ], grid_size=CHECK_SNAP_M)
        )
        changed = [
            common[i]
            for i, d in zip(differ.tolist(), diff.tolist(), strict=True)
            if d > tolerance_m2
        ]
    gone = sorted(old_by.keys() - new_by.keys())
    fresh = sorted(new_by.keys() - old_by.keys())
    renamed: list[tuple[str, str]] = []
    if gone and fresh:
        fresh_m = metres(new_by, fresh)
        tree = STRtree(fresh_m)
        taken: set[int] = set()
        for code, geom in zip(gone, metres(old_by, gone).tolist(), strict=True):
            candidates = [
                j for j in tree.query(geom, predicate="intersects").tolist() if j not in taken
            ]
            if not candidates:
                continue
            diff = shapely.area(
                shapely.symmetric_difference(geom, fresh_m[candidates], grid_size=CHECK_SNAP_M)
            )
            best_diff, best = min(zip(diff.tolist(), candidates, strict=True))
            if best_diff <= tolerance_m2:
                taken.add(best)
                renamed.append((code, fresh[best]))
    renamed_old = {a for a, _ in renamed}
    renamed_new = {b for _, b in renamed}
    return LayerDiff(
        added=tuple(c for c in fresh if c not in renamed_new),
        removed=tuple(c for c in gone if c not in renamed_old),
        changed=tuple(changed),
        renamed=tuple(renamed),
    )


# --- point lookup --------------------------------------------------------------------------
class CellLookup:
    """Batch point → polygon lookup for a grid layer: a bin raster over exact tests.

    Same answer as ``min(STRtree(geoms).query(point, predicate="intersects"))`` — the
    polygon with the lowest index that the point touches (order the layer by code and
    this is the locator's rule: a point on a shared edge goes to the lowest code), or -1.

    The layer's bounding box is divided into bins (by default 1/6 of the median polygon's
    width and height). At build time each bin records the polygons that intersect it; a bin
    lying in the interior of a single polygon answers directly, and only points in bins that
    a polygon edge crosses are tested exactly (``shapely.intersects_xy`` on prepared
    polygons) against that bin's few candidates. For a 100 m lattice layer, bins of about
    17 m leave roughly a third of the points inside the layer to test.
    """

    def __init__(self, geoms: ArrayLike, *, bins_per_cell: int = 6) -> None:
        self.geoms: NDArray[np.object_] = np.asarray(geoms, dtype=object)
        shapely.prepare(self.geoms)
        n = len(self.geoms)
        bounds = shapely.bounds(self.geoms)
        minx, miny = bounds[:, 0].min(), bounds[:, 1].min()
        maxx, maxy = bounds[:, 2].max(), bounds[:, 3].max()
        self.dx = float(np.median(bounds[:, 2] - bounds[:, 0])) / bins_per_cell
        self.dy = float(np.median(bounds[:, 3] - bounds[:, 1])) / bins_per_cell
        self.x0, self.y0 = float(minx), float(miny)
        self.nx = math.floor((maxx - minx) / self.dx) + 1
        self.ny = math.floor((maxy - miny) / self.dy) + 1
        pad = 1e-9  # bins are tested slightly enlarged, against rounding in the bin index
        pair_geom: list[NDArray[np.int64]] = []
        pair_bin: list[NDArray[np.int64]] = []
        pair_inner: list[NDArray[np.bool_]] = []
        ix0 = np.floor((bounds[:, 0] - self.x0) / self.dx).astype(np.int64)
        ix1 = np.floor((bounds[:, 2] - self.x0) / self.dx).astype(np.int64)
        iy0 = np.floor((bounds[:, 1] - self.y0) / self.dy).astype(np.int64)
        iy1 = np.floor((bounds[:, 3] - self.y0) / self.dy).astype(np.int64)
        for start in range(0, n, 512):
            stop = min(start + 512, n)
            g_parts, ix_parts, iy_parts = [], [], []
            for g in range(start, stop):
                ixs, iys = np.meshgrid(
                    np.arange(ix0[g], min(ix1[g], self.nx - 1) + 1),
                    np.arange(iy0[g], min(iy1[g], self.ny - 1) + 1),
                )
                g_parts.append(np.full(ixs.size, g, dtype=np.int64))
                ix_parts.append(ixs.ravel())
                iy_parts.append(iys.ravel())
            gi, bx, by = np.concatenate(g_parts), np.concatenate(ix_parts), np.concatenate(iy_parts)
            boxes = shapely.box(
                self.x0 + bx * self.dx - pad,
                self.y0 + by * self.dy - pad,
                self.x0 + (bx + 1) * self.dx + pad,
                self.y0 + (by + 1) * self.dy + pad,
            )
            hit = shapely.intersects(self.geoms[gi], boxes)
            inner = shapely.contains_properly(self.geoms[gi[hit]], boxes[hit])
            pair_geom.append(gi[hit])
            pair_bin.append((by * self.nx + bx)[hit])
            pair_inner.append(inner)
        geom_of = np.concatenate(pair_geom) if pair_geom else np.zeros(0, np.int64)
        bin_of = np.concatenate(pair_bin) if pair_bin else np.zeros(0, np.int64)
        inner_of = np.concatenate(pair_inner) if pair_inner else np.zeros(0, bool)
        n_bins = self.nx * self.ny
        count = np.bincount(bin_of, minlength=n_bins)
        # state: polygon index for bins inside exactly one polygon, -1 empty, -2 test needed
        self.state = np.where(count == 0, -1, -2).astype(np.int64)
        sole = inner_of & (count[bin_of] == 1)
        self.state[bin_of[sole]] = geom_of[sole]
        order = np.lexsort((geom_of, bin_of))
        self.candidates = geom_of[order]
        self.indptr = np.zeros(n_bins + 1, dtype=np.int64)
        np.cumsum(count, out=self.indptr[1:])
        self.tested_bins = int(np.count_nonzero(self.state == -2))

    def lookup(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.int64]:
        """Index of the polygon each point falls in (lowest index on shared edges), or -1."""
        x = np.asarray(lon, dtype=np.float64).ravel()
        y = np.asarray(lat, dtype=np.float64).ravel()
        fx = np.floor((x - self.x0) / self.dx)
        fy = np.floor((y - self.y0) / self.dy)
        valid = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        bins = np.where(valid, fy * self.nx + fx, 0).astype(np.int64)
        result = np.where(valid, self.state[bins], -1)
        todo = np.flatnonzero(result == -2)
        if len(todo) == 0:
            return result
        result[todo] = -1
        starts = self.indptr[bins[todo]]
        counts = self.indptr[bins[todo] + 1] - starts
        point_of = np.repeat(np.arange(len(todo)), counts)
        offsets = np.arange(len(point_of)) - np.repeat(np.cumsum(counts) - counts, counts)
        cand = self.candidates[np.repeat(starts, counts) + offsets]
        hit = shapely.intersects_xy(self.geoms[cand], x[todo][point_of], y[todo][point_of])
        hit_points, first = np.unique(point_of[hit], return_index=True)
        result[todo[hit_points]] = cand[hit][first]
        return result

    def stats(self) -> dict[str, Any]:
        """Bin counts, for reports and benchmarks."""
        return {
            "bins": self.nx * self.ny,
            "tested_bins": self.tested_bins,
            "bin_size_deg": (self.dx, self.dy),
        }
