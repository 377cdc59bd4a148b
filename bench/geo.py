"""Geocoding and base-data figures, each with a baseline measured in the same run.

1. Batch point → unit-grid lookup: 1,000,000 random points over the 东城区 layer (about 4,300
   grids of 10,000 m², 169 synthetic communities) through the locator's vectorised path,
   against floor division on a regular 100 m lattice with numpy (the arithmetic limit,
   perf-limits.md §1). Target ≥ 1,000,000 points/s.
2. Single-point lookup through the service (``services.geocoding.locate_point`` with a
   fresh unit of work per call, as a request handler does), against one pure-Python floor
   division per call. Target p99 < 1 ms.
3. Forward geocoding over a synthetic 100,000-address register of 东城区 (full texts, texts
   without district and street, a typo in the road name, POI names and aliases, unknown door
   numbers), against an exact-text dictionary lookup (the floor) and a brute-force rapidfuzz
   scan of every address text (what a naive matcher does). Target p99 < 20 ms. Reverse
   geocoding latency too.
4. The case map layer over 1,000,000 synthetic cases: random boxes from city-wide (clusters)
   to a few streets (points, read by id), and per-grid counts, against ``SELECT count(*)``
   of the same box in SQL (no aggregation at all). Target p99 < 100 ms.

Everything runs in a temporary SQLite database. Latencies print p50 (the median) and p99;
rates are the median of three runs.

Run: ``.venv/bin/python bench/geo.py`` (about five minutes; ``--quick`` for a smaller run)
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from rapidfuzz import fuzz, process
from shapely.geometry import shape
from sqlalchemy import select, text

from cityloop.adapters.db.engine import make_engine
from cityloop.adapters.db.migrate import upgrade
from cityloop.adapters.db.models import T
from cityloop.adapters.db.seed import seed_reference
from cityloop.adapters.files import LocalFileStore
from cityloop.adapters.geo import registry
from cityloop.adapters.geo.crs import transform
from cityloop.adapters.geo.demo_addresses import StreetInfo, generate_demo_addresses
from cityloop.adapters.geo.grids import (
    assign_to_parents,
    generate_cells,
    number_cells,
    partition_into_communities,
)
from cityloop.adapters.geo.locator import GridLayerLocator
from cityloop.adapters.passwords import Argon2Passwords
from cityloop.bootstrap import Container
from cityloop.config import Settings
from cityloop.domain.address import AddressKind, door_text
from cityloop.domain.regions import RegionLevel
from cityloop.domain.roles import SYSTEM_ACTOR
from cityloop.services import org
from cityloop.services.base_data import load_addresses
from cityloop.services.geocoding import geocode, locate_point, reverse_geocode
from cityloop.services.org import NewRegion
from cityloop.services.queries.map_layers import case_layer
from cityloop.services.queries.map_model import BBox, CaseLayerMode

ROOT = Path(__file__).resolve().parents[1]
BOUNDARY = ROOT / "tests" / "data" / "dongcheng_110101.wgs84.geojson"
DISTRICT = "110101"
STREETS = [  # GB/T 2260-style codes and names of 东城区's 街道 (NBS 2023)
    ("001", "东华门街道", 10), ("002", "景山街道", 8), ("003", "交道口街道", 7),
    ("004", "安定门街道", 9), ("005", "北新桥街道", 10), ("006", "东四街道", 6),
    ("007", "朝阳门街道", 9), ("008", "建国门街道", 9), ("009", "东直门街道", 10),
    ("010", "和平里街道", 20), ("011", "前门街道", 3), ("012", "崇文门外街道", 11),
    ("013", "东花市街道", 8), ("014", "龙潭街道", 10), ("015", "体育馆路街道", 8),
    ("016", "天坛街道", 11), ("017", "永定门外街道", 20),
]  # fmt: skip
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
RUNS = 3


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f} ms"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:8.1f} µs"


def spread(values: Sequence[float]) -> str:
    return f"p50 {ms(percentile(values, 50))}   p99 {ms(percentile(values, 99))}"


def box_params(bbox: BBox) -> dict[str, float]:
    return {"w": bbox.west, "e": bbox.east, "s": bbox.south, "n": bbox.north}


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def timed(fn: Callable[[], Any], runs: int = RUNS) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def latencies(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[float]:
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - start)
    return out


# -- setting up ----------------------------------------------------------------------------------
@dataclass
class City:
    container: Container
    boundary: Any
    grids: int
    seconds: float
    streets: list[StreetInfo]
    epsg: int


def build_city(workdir: Path) -> City:
    engine = make_engine(f"sqlite:///{workdir / 'bench.db'}")
    upgrade(engine)
    seed_reference(engine)
    settings = Settings(var_dir=workdir / "var")
    container = Container(
        settings=settings,
        engine=engine,
        locator=GridLayerLocator(engine),
        files=LocalFileStore(settings.attachments_dir),
        passwords=Argon2Passwords(fast=True),
    )
    boundary = shape(json.loads(BOUNDARY.read_text(encoding="utf-8"))["features"][0]["geometry"])
    start = time.perf_counter()
    layer = generate_cells(boundary)
    streets = [(f"{DISTRICT}{code}", name) for code, name, _ in STREETS]
    weights = {f"{DISTRICT}{code}": n for code, _, n in STREETS}
    street_parts = partition_into_communities(
        boundary, streets, 1, cells=layer.cells, weights=weights
    )
    communities = []
    for part in street_parts:
        n = weights[part.code]
        mine = [(f"{part.code}{i:03d}", f"{part.name[:-2]}{i}社区") for i in range(1, n + 1)]
        communities += partition_into_communities(part.geometry, mine, 1, cells=part.cells)
    assignment = assign_to_parents(layer.cells, {p.code: p.geometry for p in communities})
    records = number_cells(assignment.by_parent)
    t_layer = time.perf_counter() - start

    def region(
        level: RegionLevel, code: str, name: str, parent: str | None, geom: Any
    ) -> NewRegion:
        centre = geom.representative_point()
        return NewRegion(level, code, name, parent, shapely.to_wkb(geom), None,
                         (centre.x, centre.y), valid_from=NOW.date())  # fmt: skip

    batch = [region(RegionLevel.DISTRICT, DISTRICT, "东城区", None, boundary)]
    batch += [
        region(RegionLevel.STREET, p.code, p.name, DISTRICT, p.geometry) for p in street_parts
    ]
    batch += [
        region(RegionLevel.COMMUNITY, p.code, p.name, p.code[:9], p.geometry) for p in communities
    ]
    batch += [region(RegionLevel.GRID, r.code, f"网格{r.code[-3:]}", r.parent_code, r.geometry)
              for r in records]  # fmt: skip
    org.create_regions(container.uow(), batch, actor=SYSTEM_ACTOR, now=NOW)
    container.locator.reload()
    infos = [
        StreetInfo(p.code, p.name, p.geometry) for p in sorted(street_parts, key=lambda p: p.code)
    ]
    return City(container, boundary, len(records), t_layer, infos, layer.epsg)


# -- 1 and 2: the locator --------------------------------------------------------------------------
def bench_lookup(container: Container, layer_epsg: int, n_points: int, n_single: int) -> None:
    locator = container.locator
    assert isinstance(locator, GridLayerLocator)
    hits = locator.hits
    extent = locator.bounds()
    assert extent is not None
    minx, miny, maxx, maxy = extent
    rng = np.random.default_rng(20261123)
    lon = rng.uniform(minx, maxx, n_points)
    lat = rng.uniform(miny, maxy, n_points)
    t_locator, found = timed(lambda: locator.lookup(lon, lat))
    x_m, y_m = transform(lon, lat, "EPSG:4490", f"EPSG:{layer_epsg}")
    side = 100.0
    x0, y0 = np.floor(x_m.min() / side) * side, np.floor(y_m.min() / side) * side
    ncols = int(np.ceil((x_m.max() - x0) / side)) + 1

    def floor_division() -> Any:
        return ((y_m - y0) // side).astype(np.int64) * ncols + ((x_m - x0) // side).astype(np.int64)

    t_base, _ = timed(floor_division)
    inside = int(np.count_nonzero(found >= 0))
    rate, base_rate = n_points / t_locator, n_points / t_base
    print(f"\n1. Batch point → grid lookup: {n_points:,} points, {len(hits):,} grids"
          f" ({inside:,} points inside a grid), median of {RUNS} runs")  # fmt: skip
    print(f"   locator.lookup (CellLookup)            {rate:>14,.0f} points/s  ({t_locator:.3f} s)")
    print(
        f"   baseline: 100 m lattice floor division {base_rate:>14,.0f} points/s  ({t_base:.3f} s)"
    )
    print(f"   ratio locator / baseline: {rate / base_rate:.3f}"
          f"   target ≥ 1,000,000 points/s: {verdict(rate >= 1_000_000)}")  # fmt: skip

    inside_idx = np.flatnonzero(found >= 0)[:n_single]
    points = list(zip(lon[inside_idx].tolist(), lat[inside_idx].tolist(), strict=True))
    check = [locate_point(container.uow(readonly=True), x, y).grid_code for x, y in points[:2000]]
    assert check == [hits[i].grid_code for i in found[inside_idx[:2000]].tolist()]
    service = latencies(lambda p: locate_point(container.uow(readonly=True), *p), points)
    offsets = zip(x_m[inside_idx].tolist(), y_m[inside_idx].tolist(), strict=True)
    xs = [(x - float(x0), y - float(y0)) for x, y in offsets]
    arithmetic = latencies(lambda p: int(p[1] // side) * ncols + int(p[0] // side), xs)
    p50, p99 = percentile(service, 50), percentile(service, 99)
    print(f"\n2. Single-point lookup through the service, {len(points):,} calls")
    print(f"   locate_point (new unit of work per call)  p50 {us(p50)}   p99 {us(p99)}")
    print(f"   baseline: pure-Python floor division      p50 {us(percentile(arithmetic, 50))}"
          f"   p99 {us(percentile(arithmetic, 99))}")  # fmt: skip
    print(f"   ratio p50 service / baseline: {p50 / percentile(arithmetic, 50):.0f}x"
          f"   target p99 < 1 ms: {verdict(p99 < 0.001)}")  # fmt: skip


# -- 3: geocoding ---------------------------------------------------------------------------------
HOMOPHONES = dict(
    zip(
        "街里门东西南北路巷胡同平和安定华条中花坛市口桥",
        "接理们冬希难背露像湖铜评合按订化调钟华谈是扣乔",
        strict=True,
    )
)


def typo(name: str, rng: random.Random) -> str:
    """One character replaced by a homophone, as a hotline operator's IME slips."""
    places = [i for i, ch in enumerate(name) if ch in HOMOPHONES] or [0]
    i = rng.choice(places)
    return name[:i] + HOMOPHONES.get(name[i], "乙") + name[i + 1 :]


def bench_geocoding(
    container: Container,
    boundary: Any,
    infos: list[StreetInfo],
    n_addresses: int,
    n_queries: int,
) -> None:
    start = time.perf_counter()
    register = generate_demo_addresses(
        boundary, infos, 2026, district_code=DISTRICT, target_count=n_addresses
    )
    t_generate = time.perf_counter() - start
    start = time.perf_counter()
    loaded = load_addresses(
        container.uow(), register, actor=SYSTEM_ACTOR, now=NOW, skip_outside=True
    )
    t_load = time.perf_counter() - start
    start = time.perf_counter()
    index = registry.geocoder_for(container.engine).index()
    t_index = time.perf_counter() - start
    items = index.items
    streets = {code: name for code, name, _ in STREETS}
    rng = random.Random(7)
    buildings = [a for a in items if a.kind is AddressKind.BUILDING]
    doors = [a for a in items if a.kind is AddressKind.DOOR]
    pois = [a for a in items if a.kind is AddressKind.POI]
    queries: list[tuple[str, str, str]] = []  # (kind, text, expected code)
    for _ in range(n_queries // 5):
        b = rng.choice(buildings)
        street = streets[(b.street_code or "")[6:]] if b.street_code else ""
        queries.append(("full", f"北京市东城区{street}{b.label}", b.code))
        d = rng.choice(doors)
        queries.append(("no levels", d.label, d.code))
        d = rng.choice(doors)
        queries.append(("typo", typo(d.road, rng) + door_text(d.door, d.compound), d.code))
        p = rng.choice(pois)
        queries.append(("poi", rng.choice([p.name, *p.aliases]), p.code))
        d = rng.choice(doors)
        queries.append(
            (
                "unknown door",
                f"{d.road}{int(''.join(c for c in d.door if c.isdigit())) + 1000}号",
                "",
            )
        )
    rng.shuffle(queries)

    def run(q: tuple[str, str, str]) -> Any:
        return geocode(container.uow(readonly=True), q[1], actor=SYSTEM_ACTOR, limit=5)

    for q in queries[:50]:
        run(q)  # warm up
    times: dict[str, list[float]] = {}
    hits: Counter[str] = Counter()
    all_times = []
    for q in queries:
        start = time.perf_counter()
        found = run(q)
        elapsed = time.perf_counter() - start
        all_times.append(elapsed)
        times.setdefault(q[0], []).append(elapsed)
        top = found[0] if found else None
        right = top is not None and (
            top.approximate if not q[2] else top.address is not None and top.address.code == q[2]
        )
        hits[q[0]] += int(right)
    full_texts = {index.regions[DISTRICT].name + a.label: a.code for a in items}
    exact = latencies(lambda q: full_texts.get(q[1]), queries)
    texts = list(full_texts)
    sample = queries[: max(20, len(queries) // 50)]
    brute = latencies(lambda q: process.extractOne(q[1], texts, scorer=fuzz.WRatio), sample)
    p50, p99 = percentile(all_times, 50), percentile(all_times, 99)
    print(f"\n3. Forward geocoding over a synthetic register of {loaded:,} addresses"
          f" ({len(queries):,} queries)")  # fmt: skip
    print(
        f"   register: generated {t_generate:.1f} s, loaded {t_load:.1f} s, indexed {t_index:.1f} s"
    )
    print(f"   geocode (all queries)         p50 {ms(p50)}   p99 {ms(p99)}")
    for kind, values in times.items():
        share = hits[kind] / len(values)
        print(f"     {kind:<14} top-1 right {share:6.1%}  p50 {ms(percentile(values, 50))}"
              f"   p99 {ms(percentile(values, 99))}")  # fmt: skip
    print(f"   baseline: exact-text dict     {spread(exact)}")
    print(f"   baseline: brute-force WRatio  {spread(brute)}"
          f"  ({len(sample)} queries)")  # fmt: skip
    print(f"   ratio brute force / geocode (p50): {percentile(brute, 50) / p50:.0f}x"
          f"   target p99 < 20 ms: {verdict(p99 < 0.020)}")  # fmt: skip
    points = [
        (a.lon + rng.uniform(-3e-4, 3e-4), a.lat + rng.uniform(-3e-4, 3e-4))
        for a in rng.sample(items, 2000)
    ]
    rev = latencies(
        lambda p: reverse_geocode(container.uow(readonly=True), *p, actor=SYSTEM_ACTOR), points
    )
    print(f"   reverse geocoding             {spread(rev)}")


# -- 4: the case layer ----------------------------------------------------------------------------
def bench_case_layer(container: Container, n_cases: int, n_queries: int) -> None:
    engine = container.engine
    with engine.connect() as conn:
        grid_rows = conn.execute(
            select(T["regions"].c.id, T["regions"].c.code, T["regions"].c.centroid_lon,
                   T["regions"].c.centroid_lat).where(T["regions"].c.level == "grid")
        ).all()  # fmt: skip
        categories = [
            r.id
            for r in conn.execute(
                select(T["categories"].c.id).where(T["categories"].c.kind == "matter")
            )
        ]
    rng = np.random.default_rng(1)
    pick = rng.integers(0, len(grid_rows), n_cases)
    lon = np.array([r.centroid_lon for r in grid_rows])[pick] + rng.normal(0, 3e-4, n_cases)
    lat = np.array([r.centroid_lat for r in grid_rows])[pick] + rng.normal(0, 3e-4, n_cases)
    states = np.array(["closed", "handling", "pending_dispatch", "reported", "checking"])
    state = states[rng.choice(5, n_cases, p=[0.8, 0.08, 0.04, 0.04, 0.04])]
    category = np.array(categories)[rng.integers(0, min(60, len(categories)), n_cases)]
    start_us = int(
        (datetime(2025, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1e6
    )
    reported = start_us + rng.integers(0, 700 * 86_400_000_000, n_cases)
    ids = [r.id for r in grid_rows]
    codes = [r.code for r in grid_rows]
    start = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        given = ["number", "state", "reported_at", "lon", "lat", "street_code", "community_code",
                 "grid_id", "grid_code", "category_id"]  # fmt: skip
        fixed = {"version": 1, "source": "inspector", "district_code": DISTRICT}
        for column in T["cases"].columns:  # every other NOT NULL column takes its default
            if not column.nullable and column.name not in (*given, *fixed, "id"):
                value = column.default.arg if column.default is not None else ""
                fixed[column.name] = int(value) if isinstance(value, bool) else value
        names = given + list(fixed)
        sql = (
            f"INSERT INTO cases ({', '.join(names)}) VALUES"
            f" ({', '.join('?' for _ in given)}, {', '.join(repr(v) for v in fixed.values())})"
        )
        cur.execute("PRAGMA cache_size=-400000")  # 400 MB: the indexes stay in memory
        cur.execute("PRAGMA synchronous=OFF")  # a throw-away database
        cur.execute("BEGIN")
        grid_code = np.array(codes, dtype=object)[pick]
        columns = (
            [f"B{i:010d}" for i in range(n_cases)],
            state.tolist(),
            reported.tolist(),
            lon.tolist(),
            lat.tolist(),
            [c[:9] for c in grid_code],
            [c[:12] for c in grid_code],
            np.array(ids)[pick].tolist(),
            grid_code.tolist(),
            category.tolist(),
        )
        rows = list(zip(*columns, strict=True))
        for s in range(0, n_cases, 100_000):
            cur.executemany(sql, rows[s : s + 100_000])
        cur.execute("COMMIT")
    finally:
        raw.close()
    t_insert = time.perf_counter() - start
    start = time.perf_counter()
    registry.map_layers_for(engine).case_columns.columns()
    t_load = time.perf_counter() - start

    qrng = random.Random(3)
    minx, maxx = float(lon.min()), float(lon.max())
    miny, maxy = float(lat.min()), float(lat.max())
    requests = []
    for i in range(n_queries):
        zoom = qrng.choice([12, 13, 14, 15, 16, 17])
        width = 360.0 / 2**zoom * 5  # about a 1280-pixel-wide screen
        height = width * 0.6
        cx, cy = qrng.uniform(minx, maxx), qrng.uniform(miny, maxy)
        bbox = BBox(cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
        mode = CaseLayerMode.GRIDS if i % 5 == 4 else CaseLayerMode.AUTO
        states_filter = ("handling", "pending_dispatch") if i % 3 == 1 else ()
        requests.append((bbox, zoom, mode, states_filter))

    modes: Counter[str] = Counter()

    def query(r: Any) -> Any:
        layer = case_layer(
            container.uow(readonly=True),
            actor=SYSTEM_ACTOR,
            bbox=r[0],
            zoom=r[1],
            mode=r[2],
            states=r[3],
        )
        modes[layer.mode.value] += 1
        return layer

    for r in requests[:10]:
        query(r)
    modes.clear()
    layer_times = latencies(query, requests)
    with engine.connect() as conn:
        count_sql = text(
            "SELECT count(*) FROM cases WHERE lon BETWEEN :w AND :e AND lat BETWEEN :s AND :n"
        )
        sql_times = latencies(
            lambda r: conn.execute(count_sql, box_params(r[0])).scalar(),
            requests[: max(10, len(requests) // 4)],
        )  # fmt: skip
    p50, p99 = percentile(layer_times, 50), percentile(layer_times, 99)
    print(f"\n4. Case map layer over {n_cases:,} cases ({len(requests)} boxes, zoom 12–17;"
          f" answered as {dict(modes)})")  # fmt: skip
    print(f"   cases inserted in {t_insert:.1f} s; map columns loaded in {t_load:.1f} s"
          " (once per process)")  # fmt: skip
    print(f"   case_layer                       p50 {ms(p50)}   p99 {ms(p99)}")
    print(f"   baseline: SQL count(*) of the box  p50 {ms(percentile(sql_times, 50))}"
          f"   p99 {ms(percentile(sql_times, 99))}")  # fmt: skip
    print(f"   ratio SQL count / case_layer (p50): {percentile(sql_times, 50) / p50:.1f}x"
          f"   target p99 < 100 ms: {verdict(p99 < 0.100)}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke test)")
    args = parser.parse_args(argv)
    n_points, n_single = (100_000, 2_000) if args.quick else (1_000_000, 10_000)
    n_addresses, n_queries = (10_000, 500) if args.quick else (100_000, 2_000)
    n_cases, n_boxes = (100_000, 100) if args.quick else (1_000_000, 300)
    print(f"bench/geo.py — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]},"
          f" shapely {shapely.__version__}, numpy {np.__version__}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        city = build_city(Path(tmp))
        print(f"demo layer: {city.grids:,} grids of 10,000 m² in 169 synthetic communities,"
              f" built in {city.seconds:.1f} s")  # fmt: skip
        bench_lookup(city.container, city.epsg, n_points, n_single)
        bench_geocoding(city.container, city.boundary, city.streets, n_addresses, n_queries)
        bench_case_layer(city.container, n_cases, n_boxes)
        city.container.dispose()


if __name__ == "__main__":
    main()
