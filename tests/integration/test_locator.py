"""The grid locator: shared edges, outside points, batch = single, layer versions.

standards.md §2: a point belongs to exactly one unit grid; on an edge shared by several grids
the lowest code wins (deterministic), a point in no grid has none.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import shapely
from shapely.geometry import box

from cityloop.adapters.geo.locator import GridLayerLocator
from cityloop.bootstrap import Container
from tests.support.city import GRIDS, City


def brute_force(lon: float, lat: float) -> str | None:
    """The rule, spelled out: the lowest code among the grids the point touches."""
    point = shapely.Point(lon, lat)
    codes = sorted(
        code for code, (x, y) in GRIDS.items() if box(x, y, x + 0.001, y + 0.001).intersects(point)
    )
    return codes[0] if codes else None


def test_a_point_inside_a_grid_names_the_whole_chain(container: Container, city: City) -> None:
    hit = container.locator.locate(116.4005, 39.9115)
    assert hit is not None
    assert (hit.grid_code, hit.community_code, hit.street_code, hit.district_code) == (
        "110101001001001",
        "110101001001",
        "110101001",
        "110101",
    )
    assert hit.grid_id == city.regions["110101001001001"] and hit.layer_version == 1


def test_shared_edges_and_corners_go_to_the_lowest_code(container: Container, city: City) -> None:
    on_edge = container.locator.locate(116.401, 39.9115)  # between …001001001 and …001001002
    corner = container.locator.locate(116.401, 39.911)  # four grids meet
    lower_edge = container.locator.locate(116.4015, 39.911)  # …001001002 above, …002001001 below
    assert on_edge is not None and on_edge.grid_code == "110101001001001"
    assert corner is not None and corner.grid_code == "110101001001001"
    assert lower_edge is not None and lower_edge.grid_code == "110101001001002"


def test_points_outside_every_grid_have_none(container: Container, city: City) -> None:
    assert container.locator.locate(116.0, 39.0) is None
    assert container.locator.locate(116.395, 39.9105) is None  # between the two districts
    assert container.locator.locate(float("nan"), 39.91) is None
    assert container.locator.locate_many([(116.0, 39.0), (116.4005, 39.9115)])[0] is None


def test_batch_equals_single_equals_the_rule(container: Container, city: City) -> None:
    rng = np.random.default_rng(4)
    lons = rng.uniform(116.389, 116.403, 3000)
    lats = rng.uniform(39.909, 39.913, 3000)
    # every grid corner and edge midpoint too
    extra = [
        (x + dx, y + dy)
        for x, y in GRIDS.values()
        for dx in (0.0, 0.0005, 0.001)
        for dy in (0.0, 0.0005, 0.001)
    ]
    points = [*zip(lons.tolist(), lats.tolist(), strict=True), *extra]
    batch = container.locator.locate_many(points)
    single = [container.locator.locate(x, y) for x, y in points]
    assert batch == single
    assert [h.grid_code if h else None for h in batch] == [brute_force(x, y) for x, y in points]
    assert sum(h is not None for h in batch) > 250  # about 9 % of the box is grids


def test_a_second_process_sees_a_new_layer_by_its_revision(
    container: Container, city: City
) -> None:
    other = GridLayerLocator(container.engine, check_every=0.0)
    assert other.locate(116.4005, 39.9115) is not None
    with container.uow() as uow:
        uow.base_data.close_regions([city.regions["110101001001001"]], date(2026, 1, 1))
        uow.base_data.bump_revision("grids")
        uow.commit()
    hit = other.locate(116.4005, 39.9115)
    assert hit is None  # the grid was closed; no other grid holds the point
