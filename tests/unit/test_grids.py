"""Unit-grid tools (adapters.geo.grids) on synthetic squares and the real 东城区 boundary.

standards.md §2: ~10,000 m² cells, nested in communities, numbered 001… west → east then
north → south, no gaps or overlaps. Boundary: tests/data/dongcheng_110101.wgs84.geojson.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, box, shape
from shapely.geometry.base import BaseGeometry

from cityloop.adapters.geo.crs import project_to_metres, unproject
from cityloop.adapters.geo.grids import (
    Cell,
    CellLookup,
    Finding,
    FindingKind,
    GridRecord,
    Part,
    assign_to_parents,
    cells_from_polygons,
    check_layer,
    compare_layers,
    generate_cells,
    number_cells,
    numbering_key,
    partition_into_communities,
)
from cityloop.domain.codes import parse_grid_code
from cityloop.domain.errors import ValidationError

DATA = Path(__file__).resolve().parents[1] / "data"
EPSG = 4548  # CGCS2000 3-degree Gauss–Krüger CM 117E: Beijing
X0, Y0 = 447_000.0, 4_420_000.0  # a lattice corner inside 东城区


def gk(x0: float, y0: float, x1: float, y1: float) -> BaseGeometry:
    """A rectangle given in zone metres (relative to X0, Y0), as WGS84."""
    return unproject(box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1), EPSG)


def areas(cells: Sequence[Cell]) -> list[float]:
    return sorted(round(c.area_m2, 2) for c in cells)


# --- generate_cells: synthetic ---------------------------------------------------------------
def test_a_lattice_aligned_rectangle_gives_whole_cells() -> None:
    layer = generate_cells(gk(0, 0, 500, 300))
    assert layer.epsg == EPSG and layer.side_m == 100.0 and layer.min_area_m2 == 2000.0
    assert len(layer.cells) == 15
    assert areas(layer.cells) == [10_000.0] * 15
    assert layer.merged_slivers == 0 and layer.kept_slivers == ()
    # numbering order: north row first, west to east
    rows = [c.row for c in layer.cells]
    assert rows == sorted(rows, reverse=True)
    assert [c.col for c in layer.cells[:5]] == sorted(c.col for c in layer.cells[:5])
    first = layer.cells[0].geometry_m.bounds
    assert first == pytest.approx((X0, Y0 + 200, X0 + 100, Y0 + 300), abs=1e-3)
    # the WGS84 cell is the metric one unprojected
    assert shapely.equals_exact(
        unproject(layer.cells[0].geometry_m, EPSG), layer.cells[0].geometry, tolerance=1e-12
    )


def test_a_thin_column_of_slivers_merges_into_its_western_neighbours() -> None:
    layer = generate_cells(gk(0, 0, 515, 300))
    assert len(layer.cells) == 15
    assert layer.merged_slivers == 3
    assert areas(layer.cells) == [10_000.0] * 12 + [11_500.0] * 3
    for cell in layer.cells:
        assert cell.geometry_m.geom_type == "Polygon"
        if cell.area_m2 > 10_000:
            assert cell.geometry_m.bounds[2] == pytest.approx(X0 + 515, abs=1e-3)


def test_min_area_is_configurable() -> None:
    layer = generate_cells(gk(0, 0, 515, 300), min_area_m2=1000)
    assert len(layer.cells) == 18
    assert areas(layer.cells)[:3] == [1500.0] * 3
    assert layer.merged_slivers == 0


def test_a_sliver_goes_to_the_neighbour_with_the_longest_common_edge() -> None:
    # Two whole squares in row 0, a whole square north-west, and a 30 m × 60 m sliver north-east
    # that shares 60 m with the north-west square and only 30 m with the square below it.
    boundary = shapely.union_all([gk(0, 0, 200, 100), gk(0, 100, 100, 200), gk(100, 100, 130, 160)])
    layer = generate_cells(boundary)
    assert len(layer.cells) == 3
    by_place = {(c.row - int(Y0 // 100), c.col - int(X0 // 100)): c.area_m2 for c in layer.cells}
    assert by_place == pytest.approx({(1, 0): 11_800.0, (0, 0): 10_000.0, (0, 1): 10_000.0})


def test_slivers_cascade_until_none_is_left() -> None:
    # a corner strip: north row 10 m high, east column 15 m wide, a 15 m × 10 m corner piece
    layer = generate_cells(gk(0, 0, 215, 310))
    assert len(layer.cells) == 6
    assert layer.merged_slivers == 6
    assert areas(layer.cells) == [10_000.0, 10_000.0, 11_000.0, 11_500.0, 11_500.0, 12_650.0]
    assert sum(c.area_m2 for c in layer.cells) == pytest.approx(215 * 310, abs=1e-3)


def test_slivers_that_only_touch_each_other_merge_and_an_island_is_kept_and_reported() -> None:
    # A 10 m × 10 m island centred on a lattice corner: four 25 m² slivers merging into one,
    # which then has no neighbour; plus a normal block elsewhere.
    island = gk(995, 995, 1005, 1005)
    layer = generate_cells(MultiPolygon([gk(0, 0, 200, 100), island]))
    assert layer.merged_slivers == 3
    assert len(layer.kept_slivers) == 1
    kept = layer.kept_slivers[0]
    assert kept.area_m2 == pytest.approx(100.0, abs=1e-3)
    assert kept in layer.cells
    assert len(layer.cells) == 3
    assert [c for c in layer.cells if c.area_m2 < layer.min_area_m2] == [kept]


def test_cell_size_follows_the_requested_area() -> None:
    layer = generate_cells(gk(0, 0, 500, 300), cell_area_m2=2_500)
    assert layer.side_m == 50.0
    assert len(layer.cells) == 60
    assert areas(layer.cells) == [2_500.0] * 60


@pytest.mark.parametrize(("area", "minimum"), [(0, None), (-5, None), (10_000, 10_000), (100, -1)])
def test_bad_sizes_are_refused(area: float, minimum: float | None) -> None:
    with pytest.raises(ValueError, match="must be"):
        generate_cells(gk(0, 0, 100, 100), cell_area_m2=area, min_area_m2=minimum)


# --- numbering -------------------------------------------------------------------------------
COMMUNITY = "110101001001"


def test_numbering_goes_west_to_east_then_north_to_south() -> None:
    layer = generate_cells(gk(0, 0, 300, 200))
    records = number_cells({COMMUNITY: list(reversed(layer.cells))})
    assert [r.code[-3:] for r in records] == ["001", "002", "003", "004", "005", "006"]
    centres = [r.geometry.centroid for r in records]
    # 001–003 are the northern row, west to east; 004–006 the southern row
    assert centres[0].x < centres[1].x < centres[2].x
    assert centres[3].x < centres[4].x < centres[5].x
    assert min(c.y for c in centres[:3]) > max(c.y for c in centres[3:])
    assert all(r.parent_code == COMMUNITY and r.code.startswith(COMMUNITY) for r in records)
    assert all(r.cell is not None for r in records)


def test_rows_are_lattice_bands_not_centroid_heights() -> None:
    # Irregular cells: B is east of A in the same 100 m band although its point is 60 m higher;
    # C is in the band below, west of both, so it comes after them.
    polys = [
        gk(100, 110, 150, 130),  # B: band 1, east
        gk(0, 150, 50, 190),  # A: band 1, west, higher point
        gk(-200, 20, -150, 90),  # C: band 0, far west
    ]
    cells = cells_from_polygons(polys, epsg=EPSG)
    records = number_cells({COMMUNITY: cells})
    by_poly = {id(r.cell): r.code[-3:] for r in records}
    assert [by_poly[id(c)] for c in cells] == ["002", "001", "003"]
    assert [numbering_key(c)[0] for c in cells] == [-(int(Y0 // 100) + 1)] * 2 + [-int(Y0 // 100)]


def test_more_than_999_cells_in_a_community_is_refused() -> None:
    cells = generate_cells(gk(0, 0, 1000, 1000), cell_area_m2=1000).cells
    assert len(cells) > 999
    with pytest.raises(ValidationError) as err:
        number_cells({COMMUNITY: cells})
    assert err.value.code == "grid_sequence_overflow"
    assert err.value.params == {"community": COMMUNITY, "count": len(cells)}
    assert len(number_cells({COMMUNITY: cells[:999]})) == 999


def test_a_malformed_parent_code_is_refused() -> None:
    cells = generate_cells(gk(0, 0, 100, 100)).cells
    with pytest.raises(ValidationError) as err:
        number_cells({"11010100100": cells})
    assert err.value.code == "community_code_length"


# --- assign_to_parents -----------------------------------------------------------------------
def test_cells_go_to_the_parent_holding_their_representative_point() -> None:
    parents = {"110101001002": gk(0, 0, 130, 100), "110101001001": gk(130, 0, 400, 100)}
    cells = cells_from_polygons(
        [
            gk(0, 0, 100, 100),  # all in …002
            gk(100, 0, 200, 100),  # 30 % in …002, 70 % in …001 → …001
            gk(500, 0, 600, 100),  # in neither: orphan
        ],
        epsg=EPSG,
    )
    result = assign_to_parents(cells, parents)
    assert list(result.by_parent) == ["110101001001", "110101001002"]
    assert result.by_parent["110101001002"] == [cells[0]]
    assert result.by_parent["110101001001"] == [cells[1]]
    assert result.orphans == [cells[2]]


def test_a_cell_in_two_parents_goes_to_the_larger_overlap_then_the_lowest_code() -> None:
    cells = cells_from_polygons([gk(0, 0, 100, 100)], epsg=EPSG)
    # overlapping parents both hold the representative point: the larger overlap wins …
    bigger = {"110101001001": gk(0, 0, 60, 100), "110101001002": gk(0, 0, 100, 100)}
    assert assign_to_parents(cells, bigger).by_parent["110101001002"] == cells
    # … and equal overlaps go to the lowest code, whatever the order of the mapping
    for codes in (["110101001002", "110101001001"], ["110101001001", "110101001002"]):
        same = {code: gk(-10, -10, 110, 110) for code in codes}
        result = assign_to_parents(cells, same)
        assert result.by_parent == {"110101001001": cells, "110101001002": []}


# --- partition_into_communities --------------------------------------------------------------
FOUR = [
    ("110101001004", "丁"),
    ("110101001001", "甲"),
    ("110101001003", "丙"),
    ("110101001002", "乙"),
]


def _connected(part: Part) -> bool:
    return bool(shapely.union_all([c.geometry_m for c in part.cells]).geom_type == "Polygon")


def test_a_square_splits_into_four_equal_contiguous_parts() -> None:
    boundary = gk(0, 0, 1000, 1000)
    parts = partition_into_communities(boundary, FOUR, seed=1)
    assert [p.code for p in parts] == sorted(c for c, _ in FOUR)
    assert [p.name for p in parts] == ["甲", "乙", "丙", "丁"]
    assert sorted(len(p.cells) for p in parts) == [25, 25, 25, 25]
    assert all(p.geometry.geom_type == "Polygon" and _connected(p) for p in parts)
    total = shapely.union_all([project_to_metres(p.geometry, EPSG)[0] for p in parts])
    assert total.area == pytest.approx(1_000_000, abs=1e-3)
    assert sum(p.area_m2 for p in parts) == pytest.approx(1_000_000, abs=1e-3)
    # the lowest code is in the north-west quarter
    first, centre = parts[0].geometry.centroid, boundary.centroid
    assert first.x < centre.x and first.y > centre.y


def test_partition_is_deterministic_for_a_seed_and_varies_with_it() -> None:
    boundary = gk(0, 0, 1500, 900)

    def shapes(seed: int) -> list[bytes]:
        return [
            shapely.to_wkb(p.geometry) for p in partition_into_communities(boundary, FOUR, seed)
        ]

    assert shapes(3) == shapes(3)
    assert shapes(3) == [
        shapely.to_wkb(p.geometry) for p in partition_into_communities(boundary, FOUR[::-1], 3)
    ]
    assert len({tuple(shapes(s)) for s in range(6)}) > 1


def test_weights_make_parts_proportional() -> None:
    parts = partition_into_communities(
        gk(0, 0, 1000, 1000), FOUR[:2], seed=2, weights={"110101001004": 3, "110101001001": 1}
    )
    by_code = {p.code: p.area_m2 for p in parts}
    assert by_code["110101001004"] == pytest.approx(750_000, rel=0.05)
    assert by_code["110101001001"] == pytest.approx(250_000, rel=0.15)


def test_a_part_cut_in_two_by_a_concave_boundary_is_made_contiguous() -> None:
    # A U open to the north: the sweep from the north gives the first part the tops of both
    # arms, which are not connected; one arm top must move to the other part.
    u_shape = shapely.union_all([gk(0, 0, 500, 150), gk(0, 150, 150, 900), gk(350, 150, 500, 900)])
    for seed in range(4):
        parts = partition_into_communities(u_shape, FOUR[:2], seed)
        assert len(parts) == 2
        assert all(p.geometry.geom_type == "Polygon" and _connected(p) for p in parts)
        assert sum(p.area_m2 for p in parts) == pytest.approx(300_000, abs=1e-3)


def test_partition_refuses_more_parts_than_cells_and_no_parts() -> None:
    with pytest.raises(ValueError, match="only 1 cells"):
        partition_into_communities(gk(0, 0, 100, 100), FOUR, seed=0)
    with pytest.raises(ValueError, match="at least one"):
        partition_into_communities(gk(0, 0, 100, 100), [], seed=0)


# --- check_layer and compare_layers: synthetic -----------------------------------------------
def _small_layer() -> tuple[list[GridRecord], dict[str, BaseGeometry]]:
    parents = {COMMUNITY: gk(0, 0, 300, 200)}
    assignment = assign_to_parents(generate_cells(gk(0, 0, 300, 200)).cells, parents)
    return number_cells(assignment.by_parent), parents


def test_a_clean_layer_has_no_findings() -> None:
    records, parents = _small_layer()
    assert check_layer(records, parents, coverage=parents[COMMUNITY], min_area_m2=2000) == []
    assert check_layer(records) == []


def test_check_layer_reports_every_kind_of_problem() -> None:
    records, parents = _small_layer()  # 001–003 north row, 004–006 south row, west to east
    broken = [
        records[0],
        replace(records[1], code=records[0].code),  # duplicate code
        replace(records[2], code="11010100100100X"),  # malformed
        replace(records[3], code="110101001002004"),  # not nested in 110101001001
        # records[4] left out: a 10,000 m² gap
        records[5],
        GridRecord(f"{COMMUNITY}007", gk(250, 100, 350, 200), COMMUNITY),  # overlaps, sticks out
        GridRecord(
            f"{COMMUNITY}008",
            Polygon([(116.0, 39.0), (116.001, 39.001), (116.001, 39.0), (116.0, 39.001)]),
            COMMUNITY,
        ),  # self-intersecting bow tie
        GridRecord("110101001009001", gk(0, 0, 10, 10), "110101001009"),  # unknown parent, tiny
    ]
    findings = check_layer(broken, parents, min_area_m2=2000, tolerance_m2=1.0)
    by_kind: dict[FindingKind, list[Finding]] = {}
    for finding in findings:
        by_kind.setdefault(finding.kind, []).append(finding)
    assert [f.codes for f in by_kind.pop(FindingKind.DUPLICATE_CODE)] == [(records[0].code,)]
    assert [f.codes for f in by_kind.pop(FindingKind.MALFORMED_CODE)] == [("11010100100100X",)]
    assert [f.codes for f in by_kind.pop(FindingKind.NOT_NESTED)] == [
        ("110101001002004", COMMUNITY)
    ]
    assert [f.codes for f in by_kind.pop(FindingKind.INVALID_GEOMETRY)] == [(f"{COMMUNITY}008",)]
    assert [f.codes for f in by_kind.pop(FindingKind.UNKNOWN_PARENT)] == [
        ("110101001009001", "110101001009")
    ]
    (outside,) = by_kind.pop(FindingKind.OUTSIDE_PARENT)
    assert outside.codes == (f"{COMMUNITY}007", COMMUNITY)
    assert outside.area_m2 == pytest.approx(5_000, rel=1e-6)
    (small,) = by_kind.pop(FindingKind.SMALL_CELL)
    assert small.codes == ("110101001009001",) and small.area_m2 == pytest.approx(100, rel=1e-6)
    overlaps = {f.codes: f.area_m2 for f in by_kind.pop(FindingKind.OVERLAP)}
    assert overlaps == pytest.approx(
        {
            (f"{COMMUNITY}007", "11010100100100X"): 5_000,
            ("110101001002004", "110101001009001"): 100,
        },
        rel=1e-6,
    )
    (gap,) = by_kind.pop(FindingKind.GAP)
    assert gap.area_m2 == pytest.approx(10_000, rel=1e-6)
    assert set(gap.codes) == {
        records[0].code,  # the duplicate above the gap
        "110101001002004",
        records[5].code,
        "11010100100100X",  # touches the gap's corner
    }
    assert "m² in no grid near" in gap.detail
    assert by_kind == {}


def test_gaps_are_measured_against_the_coverage_or_the_parents() -> None:
    records, parents = _small_layer()
    rest = records[1:]
    assert [f.kind for f in check_layer(rest, parents)] == [FindingKind.GAP]
    assert [f.kind for f in check_layer(rest, coverage=gk(0, 0, 300, 200))] == [FindingKind.GAP]
    # without either, a missing corner cell is not a gap (the layer just ends there) …
    assert check_layer(rest) == []
    # … but a hole inside the layer is
    nine = generate_cells(gk(0, 0, 300, 300)).cells
    three = assign_to_parents(nine, {COMMUNITY: gk(0, 0, 300, 300)}).by_parent
    ring = [r for r in number_cells(three) if r.code != f"{COMMUNITY}005"]
    (gap,) = check_layer(ring)
    assert gap.kind is FindingKind.GAP and gap.area_m2 == pytest.approx(10_000, rel=1e-6)
    assert len(gap.codes) == 8
    # a sub-tolerance sliver is not reported
    nibbled = [*records[1:], replace(records[0], geometry=gk(0.005, 100, 100, 200))]
    assert check_layer(nibbled, parents, tolerance_m2=1.0) == []
    assert [f.kind for f in check_layer(nibbled, parents, tolerance_m2=0.1)] == [FindingKind.GAP]


def test_compare_layers_finds_added_removed_changed_and_renamed() -> None:
    old, _ = _small_layer()
    assert compare_layers(old, old).unchanged
    assert compare_layers(old, list(reversed(old))).unchanged
    new = [
        old[0],
        replace(old[1], geometry=gk(100, 100, 210, 200)),  # changed: 10 m wider
        replace(old[2], code=f"{COMMUNITY}009"),  # renamed: same geometry
        # old[3] removed
        old[4],
        replace(old[5], geometry=gk(200, 0, 300, 100.0004)),  # within tolerance: unchanged
        GridRecord(f"{COMMUNITY}010", gk(300, 0, 400, 100), COMMUNITY),  # added
    ]
    diff = compare_layers(old, new)
    assert diff.added == (f"{COMMUNITY}010",)
    assert diff.removed == (old[3].code,)
    assert diff.changed == (old[1].code,)
    assert diff.renamed == ((old[2].code, f"{COMMUNITY}009"),)
    assert not diff.unchanged
    assert compare_layers([], []).unchanged


# --- the real district: 东城区 -----------------------------------------------------------------
@dataclass(frozen=True)
class District:
    boundary: BaseGeometry
    layer_cells: tuple[Cell, ...]
    kept: tuple[Cell, ...]
    min_area: float
    streets: list[Part]
    communities: list[Part]
    records: list[GridRecord]
    orphans: int


def _load_boundary() -> BaseGeometry:
    text = (DATA / "dongcheng_110101.wgs84.geojson").read_text(encoding="utf-8")
    return shape(json.loads(text)["features"][0]["geometry"])


def _build(seed: int = 2026) -> District:
    boundary = _load_boundary()
    layer = generate_cells(boundary)
    communities = _dongcheng_communities()
    per_street = Counter(code[:9] for code, _ in communities)
    streets = partition_into_communities(
        boundary,
        [(code, code) for code in sorted(per_street)],
        seed,
        cells=layer.cells,
        weights=per_street,
    )
    parts: list[Part] = []
    for street in streets:
        mine = [c for c in communities if c[0].startswith(street.code)]
        parts += partition_into_communities(street.geometry, mine, seed, cells=street.cells)
    assignment = assign_to_parents(layer.cells, {p.code: p.geometry for p in parts})
    records = number_cells(assignment.by_parent)
    return District(
        boundary,
        layer.cells,
        layer.kept_slivers,
        layer.min_area_m2,
        streets,
        parts,
        records,
        len(assignment.orphans),
    )


def _dongcheng_communities() -> list[tuple[str, str]]:
    """169 community codes with 东城区's real number of 社区 per 街道 (NBS 2023 codes, from
    the shared admin-division data); the 3-digit community parts are renumbered 001… here."""
    counts = {
        "001": 10, "002": 8, "003": 7, "004": 9, "005": 10, "006": 6, "007": 9, "008": 9,
        "009": 10, "010": 20, "011": 3, "012": 11, "013": 8, "014": 10, "015": 8, "016": 11,
        "017": 20,
    }  # fmt: skip
    return [
        (f"110101{street}{n:03d}", f"社区 {street}-{n}")
        for street, count in counts.items()
        for n in range(1, count + 1)
    ]


@pytest.fixture(scope="module")
def district() -> District:
    return _build()


def test_dongcheng_has_about_four_thousand_cells_of_ten_thousand_square_metres(
    district: District,
) -> None:
    cells = district.layer_cells
    assert 4_000 <= len(cells) <= 4_700
    mean = sum(c.area_m2 for c in cells) / len(cells)
    assert mean == pytest.approx(10_000, rel=0.05)
    assert all(c.geometry.geom_type == "Polygon" and c.geometry.is_valid for c in cells)
    assert all(c.epsg == EPSG for c in cells)


def test_dongcheng_cells_cover_the_boundary_area(district: District) -> None:
    total = sum(c.area_m2 for c in district.layer_cells)
    planar = project_to_metres(district.boundary, EPSG)[0].area
    geodesic = abs(Geod(ellps="GRS80").geometry_area_perimeter(district.boundary)[0])
    assert total == pytest.approx(planar, rel=1e-6)
    assert total == pytest.approx(geodesic, rel=1e-3)
    assert geodesic == pytest.approx(42.02e6, rel=1e-3)  # the README's 42.02 km²


def test_dongcheng_cells_respect_the_minimum_area(district: District) -> None:
    small = [c for c in district.layer_cells if c.area_m2 < district.min_area]
    assert small == list(district.kept)
    assert max(c.area_m2 for c in district.layer_cells) < 2 * 10_000


def test_dongcheng_layer_passes_every_check(district: District) -> None:
    parents = {p.code: p.geometry for p in district.communities}
    findings = check_layer(
        district.records, parents, coverage=district.boundary, min_area_m2=district.min_area
    )
    assert findings == []
    assert district.orphans == 0
    assert len(district.records) == len(district.layer_cells)


def test_dongcheng_codes_are_valid_and_nested(district: District) -> None:
    codes = [r.code for r in district.records]
    assert len(set(codes)) == len(codes)
    for record in district.records:
        code = parse_grid_code(record.code, allow_legacy=False)
        assert code.community_code == record.parent_code
    used = {r.parent_code for r in district.records}
    assert used == {p.code for p in district.communities}


def test_dongcheng_numbering_is_west_to_east_then_north_to_south(district: District) -> None:
    by_parent: dict[str, list[GridRecord]] = {}
    for record in district.records:
        by_parent.setdefault(record.code[:12], []).append(record)
    for records in by_parent.values():
        assert [int(r.code[-3:]) for r in records] == list(range(1, len(records) + 1))
        for before, after in itertools.pairwise(records):
            a, b = before.cell, after.cell
            assert a is not None and b is not None
            assert a.row >= b.row  # never back north
            if a.row == b.row:
                assert a.anchor_x < b.anchor_x  # west to east along a row


def test_dongcheng_communities_are_contiguous_nested_and_similar_in_size(
    district: District,
) -> None:
    assert len(district.streets) == 17 and len(district.communities) == 169
    assert all(p.geometry.geom_type == "Polygon" for p in district.streets)
    assert all(p.geometry.geom_type == "Polygon" for p in district.communities)
    sizes = np.array([p.area_m2 for p in district.communities])
    assert sizes.min() > 0.9 * sizes.mean() and sizes.max() < 1.1 * sizes.mean()
    streets = {s.code: s for s in district.streets}
    for community in district.communities:
        street = streets[community.code[:9]]
        inside = shapely.difference(
            project_to_metres(community.geometry, EPSG)[0],
            project_to_metres(street.geometry, EPSG)[0],
        )
        assert inside.area < 1.0
    # partition and assignment agree on every cell
    assigned = {id(r.cell): r.parent_code for r in district.records}
    for community in district.communities:
        assert {assigned[id(c)] for c in community.cells} == {community.code}


def test_dongcheng_generation_is_deterministic(district: District) -> None:
    again = generate_cells(district.boundary)
    assert [shapely.to_wkb(c.geometry) for c in again.cells] == [
        shapely.to_wkb(c.geometry) for c in district.layer_cells
    ]
    rebuilt = _build()
    assert [(r.code, shapely.to_wkb(r.geometry)) for r in rebuilt.records] == [
        (r.code, shapely.to_wkb(r.geometry)) for r in district.records
    ]
    assert compare_layers(district.records, rebuilt.records).unchanged


def test_dongcheng_lookup_agrees_with_the_strtree(district: District) -> None:
    geoms = np.array([r.geometry for r in district.records], dtype=object)
    index = CellLookup(geoms)
    tree = shapely.STRtree(geoms)
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    lon = rng.uniform(minx - 0.001, maxx + 0.001, 20_000)
    lat = rng.uniform(miny - 0.001, maxy + 0.001, 20_000)
    # plus points exactly on cell vertices, shared by two to four cells
    vertices = shapely.get_coordinates(geoms[:300])
    lon = np.concatenate([lon, vertices[:, 0]])
    lat = np.concatenate([lat, vertices[:, 1]])
    expected = np.full(len(lon), -1)
    point_i, cell_i = tree.query(shapely.points(lon, lat), predicate="intersects")
    for p, c in zip(point_i.tolist(), cell_i.tolist(), strict=True):
        expected[p] = c if expected[p] == -1 else min(expected[p], c)
    found = index.lookup(lon, lat)
    assert np.array_equal(found, expected)
    assert (found >= 0).sum() > 10_000 and (found == -1).sum() > 1_000
    assert index.lookup([200.0, np.nan], [39.9, 39.9]).tolist() == [-1, -1]


def test_dongcheng_partition_changes_with_the_seed(district: District) -> None:
    communities = _dongcheng_communities()[:10]
    street = district.streets[0]
    one = partition_into_communities(street.geometry, communities, 1, cells=street.cells)
    two = partition_into_communities(street.geometry, communities, 2, cells=street.cells)
    assert [shapely.to_wkb(p.geometry) for p in one] != [shapely.to_wkb(p.geometry) for p in two]
    assert sorted(id(c) for p in one for c in p.cells) == sorted(
        id(c) for p in two for c in p.cells
    )
