"""Map layers: regions by zoom and box, components and cases by box with server-side
aggregation above the point limit, scoped like the case search; base-map settings."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from cityloop.adapters.db.models import T
from cityloop.adapters.geo import registry
from cityloop.entrypoints.api.routes.map import map_settings
from tests.api.conftest import Api
from tests.conftest import at
from tests.support.city import GRIDS, centre_of

BOX = "116.385,39.905,116.405,39.915"


@pytest.fixture
def fresh(api: Api) -> Api:
    """A map index with no cache between requests (production refreshes once a second)."""
    registry.forget(api.container.engine)
    registry.map_layers_for(api.container.engine).case_columns.check_every = 0.0
    return api


def cases(api: Api, user: str = "leader", **params: Any) -> Any:
    response = api.get("/map/cases", user, params={"bbox": BOX, "zoom": 16, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_grid_outlines_by_zoom_box_and_district(fresh: Api) -> None:
    layer = fresh.get("/map/regions", "leader", params={"level": "grid", "zoom": 16}).json()
    assert layer["type"] == "FeatureCollection"
    assert sorted(f["properties"]["code"] for f in layer["features"]) == sorted(GRIDS)
    first = layer["features"][0]
    assert first["geometry"]["type"] == "Polygon" and first["properties"]["layer_version"] == 1
    east = fresh.get(
        "/map/regions",
        "leader",
        params={"level": "grid", "zoom": 16, "bbox": "116.3995,39.9,116.41,39.92"},
    ).json()
    assert len(east["features"]) == 4  # 西城区's grid at 116.390 is outside the box
    district = fresh.get("/map/regions", "operator_xc", params={"zoom": 16}).json()
    assert [f["properties"]["code"] for f in district["features"]] == ["110102001001001"]
    far = fresh.get("/map/regions", "leader", params={"level": "grid", "zoom": 3}).json()
    assert len(far["features"]) == 5  # simplified, still there
    assert (
        fresh.get("/map/regions", "leader", params={"level": "city", "zoom": 3}).status_code == 422
    )
    bad = fresh.get("/map/regions", "leader", params={"zoom": 3, "bbox": "1,2,3"})
    assert bad.status_code == 422 and bad.json()["code"] == "bbox_invalid"


def test_cases_switch_from_points_to_clusters_and_grid_counts(fresh: Api) -> None:
    numbers = [fresh.report(grid=g)["number"] for g in GRIDS if g.startswith("110101")]
    numbers.append(fresh.report(grid="110101001001001")["number"])
    points = cases(fresh)
    assert points["mode"] == "points" and points["total"] == 5
    assert sorted(f["properties"]["number"] for f in points["features"]) == sorted(numbers)
    assert points["features"][0]["properties"]["category"] == "06010"
    clusters = cases(fresh, limit=3)
    assert clusters["mode"] == "clusters" and clusters["total"] == 5
    assert sum(f["properties"]["count"] for f in clusters["features"]) == 5
    assert all(f["properties"]["cluster"] for f in clusters["features"])
    grids = cases(fresh, mode="grids")
    counts = {g["grid_code"]: g["count"] for g in grids["grids"]}
    assert counts == {
        "110101001001001": 2,
        "110101001001002": 1,
        "110101001002001": 1,
        "110101002001001": 1,
    }
    narrow = cases(fresh, bbox="116.4,39.911,116.4009,39.9119")
    assert narrow["total"] == 2


def test_case_layer_filters_and_scope(fresh: Api) -> None:
    first = fresh.report(grid="110101001001001")["number"]
    fresh.report(grid="110101002001001", category_code="06012")
    fresh.report(user="inspector_xc", grid="110102001001001")
    assert cases(fresh)["total"] == 3
    assert cases(fresh, category="06012")["total"] == 1
    assert cases(fresh, state="reported")["total"] == 3
    assert cases(fresh, source="public")["total"] == 0
    assert cases(fresh, user="operator_xc")["total"] == 1  # a district user: its district
    assert cases(fresh, user="handler_cgw")["total"] == 0  # department staff: its cases
    assert fresh.act(first, "accept", "operator").status_code == 200
    assert cases(fresh, state="reported")["total"] == 2  # the index followed the change
    later = (fresh.clock.now + timedelta(hours=1)).isoformat()
    assert cases(fresh, reported_from=later)["total"] == 0
    bad = fresh.get("/map/cases", "leader", params={"bbox": BOX, "zoom": 16, "state": "nope"})
    assert bad.status_code == 422 and bad.json()["code"] == "state_invalid"


def test_many_cases_are_aggregated_on_the_server(fresh: Api) -> None:
    rng = random.Random(1)
    grid_ids = {code: fresh.city.regions[code] for code in GRIDS}
    rows = []
    for i in range(20_000):
        code = rng.choice(sorted(GRIDS))
        lon, lat = GRIDS[code]
        rows.append(
            {
                "number": f"M{i:07d}",
                "version": 1,
                "state": "handling" if i % 2 else "closed",
                "source": "inspector",
                "reported_at": at("2026-10-01 08:00") + timedelta(minutes=i),
                "lon": lon + rng.random() * 0.001,
                "lat": lat + rng.random() * 0.001,
                "district_code": code[:6],
                "grid_id": grid_ids[code],
                "grid_code": code,
            }
        )
    with fresh.container.engine.begin() as conn:
        conn.execute(insert(T["cases"]), rows)
    layer = cases(fresh, zoom=14)
    assert layer["mode"] == "clusters" and layer["total"] == 20_000
    assert sum(f["properties"]["count"] for f in layer["features"]) == 20_000
    open_only = cases(fresh, zoom=14, state="handling", mode="grids")
    assert sum(g["count"] for g in open_only["grids"]) == 10_000
    dongcheng = cases(fresh, user="dispatcher_dc", zoom=14)
    with fresh.container.engine.connect() as conn:
        expected = len(
            conn.execute(
                select(T["cases"].c.id).where(T["cases"].c.district_code == "110101")
            ).all()
        )
    assert dongcheng["total"] == expected


def test_components_by_box(fresh: Api) -> None:
    layer = fresh.get("/map/components", "inspector1", params={"bbox": BOX, "zoom": 17}).json()
    assert layer["mode"] == "points" and layer["total"] == 1
    props = layer["features"][0]["properties"]
    assert props["object_code"] == fresh.city.component_code
    assert props["grid_code"] == "110101001001001"
    none = fresh.get(
        "/map/components", "inspector1", params={"bbox": BOX, "zoom": 17, "class": "01037"}
    ).json()
    assert none["total"] == 0
    lon, lat = centre_of("110101001001001")
    with fresh.container.engine.begin() as conn:
        category = conn.execute(
            select(T["components"].c.category_id).where(
                T["components"].c.id == fresh.city.component_id
            )
        ).scalar_one()
        conn.execute(
            insert(T["components"]),
            [
                {"object_code": f"1101010100100000{n}", "category_id": category,
                 "class_code": "01001", "name": "供水井盖", "lon": lon - 0.0002 * n, "lat": lat}
                for n in range(2, 5)
            ],
        )  # fmt: skip
    clustered = fresh.get(
        "/map/components", "inspector1", params={"bbox": BOX, "zoom": 12, "limit": 2}
    ).json()
    assert clustered["mode"] == "clusters" and clustered["total"] == 4
    assert sum(f["properties"]["count"] for f in clustered["features"]) == 4
    assert all(f["properties"]["cluster"] for f in clustered["features"])


def test_base_map_settings_default_to_local_data(
    fresh: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    map_settings.cache_clear()
    settings = fresh.get("/map/settings", "citizen").json()
    assert settings["default"] == "local"
    assert [layer["id"] for layer in settings["layers"]] == ["local"]
    assert not any(layer["online"] for layer in settings["layers"])
    monkeypatch.setenv("CITYLOOP_MAP_XYZ_URL", "https://tiles.example/{z}/{x}/{y}.png")
    monkeypatch.setenv("CITYLOOP_MAP_TIANDITU_KEY", "k")
    map_settings.cache_clear()
    online = fresh.get("/map/settings", "citizen").json()
    assert [layer["id"] for layer in online["layers"]] == [
        "local",
        "tianditu-vec",
        "tianditu-cva",
        "xyz",
    ]
    assert online["default"] == "local"
    map_settings.cache_clear()


def test_boxes_and_answers_in_gcj02(fresh: Api) -> None:
    from cityloop.domain.geo import wgs84_to_gcj02

    lon, lat = centre_of("110101001001002")
    fresh.report(grid="110101001001002")
    west, south = wgs84_to_gcj02(116.385, 39.905)
    east, north = wgs84_to_gcj02(116.405, 39.915)
    layer = cases(fresh, bbox=f"{west},{south},{east},{north}", crs="GCJ-02")
    assert layer["total"] == 1 and layer["crs"]["properties"]["name"] == "GCJ-02"
    x, y = layer["features"][0]["geometry"]["coordinates"]
    assert (x, y) == pytest.approx(wgs84_to_gcj02(lon, lat), abs=1e-7)
    grids = fresh.get(
        "/map/regions", "leader", params={"zoom": 18, "crs": "GCJ-02", "level": "grid"}
    ).json()
    first = grids["features"][0]
    x0, y0 = GRIDS[first["properties"]["code"]]
    corners = [wgs84_to_gcj02(x0 + dx, y0 + dy) for dx in (0, 0.001) for dy in (0, 0.001)]
    for x, y in first["geometry"]["coordinates"][0]:
        assert min(abs(x - cx) + abs(y - cy) for cx, cy in corners) < 1e-7
