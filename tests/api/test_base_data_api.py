"""Base-data and geocoding endpoints: permissions, import reports, exports, crs everywhere."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import shapely
from shapely.geometry import Point

from cityloop.adapters.io.tables import write_table
from cityloop.domain.base_data import Entity, ExportRow
from cityloop.domain.geo import wgs84_to_bd09, wgs84_to_gcj02
from tests.api.conftest import Api
from tests.support.city import GRIDS, centre_of
from tests.support.geo import build_register, door_position


def address_file(*rows: tuple[str, str, str, float, float]) -> bytes:
    return write_table(
        Entity.ADDRESSES,
        "csv",
        [
            ExportRow({"code": code, "kind": "door", "road": road, "door": door},
                      shapely.to_wkb(Point(lon, lat)))
            for code, road, door, lon, lat in rows
        ],
    )  # fmt: skip


GOOD = ("YZ-D1", "银闸胡同", "1", *centre_of("110101001002001"))


@pytest.mark.parametrize("user", ["operator", "inspector1", "leader", "dispatcher", "citizen"])
def test_only_administrators_may_import(api: Api, user: str) -> None:
    response = api.post(
        "/base-data/addresses/import",
        user,
        content=address_file(GOOD),
        headers={"X-Filename": "a.csv"},
    )
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "admin_only_base_data"
    assert api.get("/base-data/addresses/export?format=csv", "admin").text.count("\n") == 1


def test_an_administrator_imports_a_file_body_or_a_multipart_upload(api: Api) -> None:
    raw = api.post(
        "/base-data/addresses/import", "admin", content=address_file(GOOD),
        headers={"X-Filename": "a.csv"},
    )  # fmt: skip
    assert raw.status_code == 200, raw.text
    assert raw.json()["applied"] and raw.json()["created"] == 1
    second = ("YZ-D3", "银闸胡同", "3", *centre_of("110101001002001"))
    multi = api.post(
        "/base-data/addresses/import",
        "admin",
        files={"file": ("addresses.csv", address_file(second), "text/csv")},
    )
    assert multi.status_code == 200 and multi.json()["created"] == 1
    exported = api.get("/base-data/addresses/export?format=geojson", "admin")
    assert exported.headers["content-type"].startswith("application/geo+json")
    codes = [f["properties"]["code"] for f in exported.json()["features"]]
    assert codes == ["YZ-D1", "YZ-D3"]
    with api.container.uow(readonly=True) as uow:
        entries, total = uow.audit.entries(entity="base_data")
    assert total == 2  # every applied import is in the change log, whoever sends it
    assert {(e.change.value, e.entity_key, e.user_name) for e in entries} == {
        ("import", "addresses", "admin")
    }


def test_a_rejected_import_names_every_row_and_reason_in_the_callers_language(api: Api) -> None:
    body = address_file(
        GOOD,
        ("YZ-D1", "银闸胡同", "2", *centre_of("110101001002001")),  # duplicate code
        ("YZ-D5", "银闸胡同", "5", 116.0, 39.0),  # outside every grid
    )
    zh = api.post("/base-data/addresses/import?format=csv", "admin", content=body)
    assert zh.status_code == 422
    data = zh.json()
    assert (
        data["code"] == "import_rejected" and data["message"] == "文件有 2 处问题，未导入任何数据"
    )
    problems = data["details"]["problems"]
    assert [(p["row"], p["field"], p["code"]) for p in problems] == [
        (3, "code", "duplicate_in_file"),
        (4, "geometry", "point_outside_city"),
    ]
    assert problems[0]["message"] == "YZ-D1 在文件中出现多次（首次在第 2 行）"
    en = api.post(
        "/base-data/addresses/import?format=csv", "admin", content=body,
        headers={"Accept-Language": "en"},
    )  # fmt: skip
    assert en.json()["details"]["problems"][0]["message"] == (
        "YZ-D1 appears more than once in the file (first in row 2)"
    )
    assert api.get("/base-data/addresses/export?format=csv", "admin").text.count("\n") == 1


def test_a_dry_run_reports_without_writing(api: Api) -> None:
    response = api.post(
        "/base-data/addresses/import?format=csv&dry_run=true", "admin", content=address_file(GOOD)
    )
    assert response.status_code == 200 and response.json()["dry_run"]
    assert not response.json()["applied"]
    assert api.get("/base-data/addresses/export?format=csv", "admin").text.count("\n") == 1
    with api.container.uow(readonly=True) as uow:
        assert uow.audit.entries(entity="base_data")[1] == 0  # a dry run changes nothing


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("geojson", "application/geo+json"), ("csv", "text/csv"),
     ("xlsx", "application/vnd.openxmlformats"), ("shp", "application/zip")],
)  # fmt: skip
def test_exports_in_every_format(api: Api, fmt: str, content_type: str) -> None:
    response = api.get(f"/base-data/grids/export?format={fmt}", "leader")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(content_type)
    assert response.headers["content-disposition"].startswith('attachment; filename="grids.')
    if fmt == "shp":
        assert "grids.shp" in zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert api.get(f"/base-data/grids/export?format={fmt}", "citizen").status_code == 403


def test_grid_layer_endpoints(api: Api) -> None:
    layers = api.get("/base-data/grid-layers", "admin").json()
    assert [(layer["version"], layer["current"], layer["grid_count"]) for layer in layers] == [
        (1, True, 5)
    ]
    exported = api.get("/base-data/grids/export?format=geojson", "admin").content
    imported = api.post(
        "/base-data/grids/import?format=geojson&valid_from=2026-11-01", "admin", content=exported
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["layer_version"] == 2
    diff = api.get("/base-data/grid-layers/compare?old=1&new=2", "admin").json()
    assert diff["unchanged"] == 5 and diff["changed"] == []
    assert api.get("/base-data/grid-layers/check?version=2", "admin").json() == []
    refused = api.post(
        "/base-data/grid-layers/generate", "operator", json={"district_code": "110101"}
    )
    assert refused.status_code == 403
    missing = api.post("/base-data/grid-layers/generate", "admin", json={"district_code": "110101"})
    assert missing.status_code == 422 and missing.json()["code"] == "district_without_boundary"


def test_locate_and_report_accept_any_crs(api: Api) -> None:
    lon, lat = centre_of("110101001001002")
    gx, gy = wgs84_to_gcj02(lon, lat)
    located = api.get(f"/regions/locate?lon={gx}&lat={gy}&crs=GCJ-02", "operator").json()
    assert located["grid"]["code"] == "110101001001002"
    bx, by = wgs84_to_bd09(lon, lat)
    number = api.report(lon=bx, lat=by, crs="BD-09")["number"]
    case = api.get(f"/cases/{number}", "inspector1").json()
    assert case["grid_code"] == "110101001001002"
    assert abs(case["lon"] - lon) < 1e-9 and abs(case["lat"] - lat) < 1e-9
    bad = api.post(
        "/cases", "inspector1",
        json={"source": "inspector", "description": "x", "category_code": "06010",
              "lon": lon, "lat": lat, "crs": "EPSG:1234"},
    )  # fmt: skip
    assert bad.status_code == 422 and bad.json()["code"] == "crs_unknown"
    outside = api.get("/regions/locate?lon=500000&lat=4000000&crs=EPSG:4548", "operator")
    assert outside.status_code == 422 and outside.json()["code"] == "point_outside_city"


def test_geocoding_endpoints(api: Api) -> None:
    build_register(api.container)
    found = api.get("/geocode", "operator", params={"q": "东城区和平里街道和平里东街11号院3号楼"})
    assert found.status_code == 200, found.text
    best = found.json()["candidates"][0]
    assert best["level"] == "building" and best["score"] == 100.0
    assert best["address"]["code"] == "HPL-D11-B3" and best["crs"] == "EPSG:4326"
    in_gcj = api.get(
        "/geocode", "operator", params={"q": "和平里东街11号院3号楼", "crs": "GCJ-02"}
    ).json()["candidates"][0]
    assert (in_gcj["x"], in_gcj["y"]) == pytest.approx(
        wgs84_to_gcj02(best["x"], best["y"]), abs=1e-7
    )
    lon, lat = door_position(11)
    gx, gy = wgs84_to_gcj02(lon + 0.000117, lat)
    reverse = api.get("/geocode/reverse", "inspector1", params={"x": gx, "y": gy, "crs": "GCJ-02"})
    data = reverse.json()
    assert data["description"] == "和平里东街11号院东侧约10米"
    assert data["grid"]["grid_code"] == "110101010001002" and data["grid"]["layer_version"] == 1
    assert data["direction"] == "E"
    assert api.get("/geocode", "operator", params={"q": ""}).status_code == 422
    nothing = api.get("/geocode/reverse", "operator", params={"x": 100.0, "y": 30.0}).json()
    assert nothing["address"] is None and nothing["grid"] is None


def test_the_openapi_document_lists_the_new_endpoints(api: Api) -> None:
    paths = api.client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/base-data/{entity}/import", "/api/v1/geocode", "/api/v1/map/cases"):
        assert path in paths
    assert json.dumps(paths["/api/v1/base-data/{entity}/import"]["post"]["responses"])
    assert GRIDS
