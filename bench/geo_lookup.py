"""Batch point → unit-grid lookup rate on the generated 东城区 layer.

Prints, for 1,000,000 random points over the layer's bounding box (WGS84), the median of
three runs of:

- ``strtree``: ``STRtree.query(points, predicate="intersects")`` in one vectorised call,
  reduced to the lowest cell index per point (the locator's rule), including building the
  point geometries from the coordinates;
- ``binned``: :class:`cityloop.adapters.geo.grids.CellLookup` (a bin raster answers points
  in the interior of one cell; ``shapely.intersects_xy`` tests the rest against their
  bin's few candidates), straight from coordinate arrays;
- ``baseline``: floor division on a regular 100 m lattice in metres with numpy (the same
  points, projected to the Gauss–Krüger zone beforehand), i.e. the cost of the arithmetic
  alone when no cell is clipped or merged;

and the ratios. It also checks that ``strtree`` and ``binned`` give identical answers.

Run: ``.venv/bin/python bench/geo_lookup.py [points]``
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import shape

from cityloop.adapters.geo.crs import transform
from cityloop.adapters.geo.grids import CellLookup, generate_cells

ROOT = Path(__file__).resolve().parents[1]
BOUNDARY = ROOT / "tests" / "data" / "dongcheng_110101.wgs84.geojson"
RUNS = 3


def timed(fn: Callable[[], NDArray[np.int64]]) -> tuple[float, NDArray[np.int64]]:
    """Median wall time of RUNS calls, and the last result."""
    times = []
    result = np.zeros(0, dtype=np.int64)
    for _ in range(RUNS):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(n_points: int = 1_000_000) -> None:
    feature = json.loads(BOUNDARY.read_text(encoding="utf-8"))["features"][0]
    boundary = shape(feature["geometry"])

    start = time.perf_counter()
    layer = generate_cells(boundary)
    t_generate = time.perf_counter() - start
    geoms = np.array([c.geometry for c in layer.cells], dtype=object)

    rng = np.random.default_rng(20260701)
    minx, miny, maxx, maxy = shapely.total_bounds(geoms).tolist()
    lon = rng.uniform(minx, maxx, n_points)
    lat = rng.uniform(miny, maxy, n_points)

    start = time.perf_counter()
    tree = shapely.STRtree(geoms)
    shapely.prepare(geoms)
    t_tree = time.perf_counter() - start

    def strtree_lookup() -> NDArray[np.int64]:
        points = shapely.points(lon, lat)
        point_i, cell_i = tree.query(points, predicate="intersects")
        found = np.full(n_points, -1, dtype=np.int64)
        # query() returns pairs sorted by point; take the lowest cell index per point.
        order = np.lexsort((cell_i, point_i))
        first_points, first = np.unique(point_i[order], return_index=True)
        found[first_points] = cell_i[order][first]
        return found

    start = time.perf_counter()
    index = CellLookup(geoms)
    t_index = time.perf_counter() - start

    def binned_lookup() -> NDArray[np.int64]:
        return index.lookup(lon, lat)

    # Baseline: a full 100 m lattice over the same box, cell id = row * ncols + col.
    x_m, y_m = transform(lon, lat, "EPSG:4490", f"EPSG:{layer.epsg}")
    side = layer.side_m
    x0 = np.floor(x_m.min() / side) * side
    y0 = np.floor(y_m.min() / side) * side
    ncols = int(np.ceil((x_m.max() - x0) / side)) + 1
    nrows = int(np.ceil((y_m.max() - y0) / side)) + 1
    lattice_ids = np.arange(ncols * nrows, dtype=np.int64)

    def baseline_lookup() -> NDArray[np.int64]:
        col = ((x_m - x0) // side).astype(np.int64)
        row = ((y_m - y0) // side).astype(np.int64)
        found: NDArray[np.int64] = lattice_ids[row * ncols + col]
        return found

    t_strtree, by_tree = timed(strtree_lookup)
    t_binned, by_bins = timed(binned_lookup)
    t_base, _ = timed(baseline_lookup)
    mismatches = int(np.count_nonzero(by_tree != by_bins))
    inside = int(np.count_nonzero(by_bins >= 0))

    def rate(seconds: float) -> float:
        return n_points / seconds

    stats = index.stats()
    print(f"layer: 东城区 110101, {len(geoms)} cells in EPSG:{layer.epsg}", end="")
    print(f", generated in {t_generate:.2f} s")
    print(f"points: {n_points:,} uniform over the layer's bounding box, {inside:,} inside a cell")
    print(f"index build: STRtree+prepare {t_tree:.3f} s; CellLookup {t_index:.3f} s", end="")
    print(f" ({stats['bins']:,} bins, {stats['tested_bins']:,} need exact tests)")
    print(f"median of {RUNS} runs:")
    rows = [
        ("strtree", "STRtree.query(points, 'intersects')", t_strtree),
        ("binned", "CellLookup.lookup", t_binned),
        ("baseline", "100 m lattice floor division", t_base),
    ]
    for name, what, seconds in rows:
        print(f"  {name:<9}{what:<38}{rate(seconds):>14,.0f} points/s ({seconds:.3f} s)")
    print(f"ratio binned / baseline: {t_base / t_binned:.3f}")
    print(f"ratio strtree / baseline: {t_base / t_strtree:.3f}")
    print(f"ratio binned / strtree: {t_strtree / t_binned:.1f}x")
    print(f"answers identical (strtree vs binned): {mismatches == 0} ({mismatches} differ)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
