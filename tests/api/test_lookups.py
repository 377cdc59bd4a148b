"""Lookups, the OpenAPI document and the offline docs page."""

from __future__ import annotations

import re

from tests.api.conftest import Api


def test_classes_and_standards(api: Api) -> None:
    found = api.get("/classes", "operator", params={"q": "井盖", "kind": "matter"}).json()
    assert {c["code"] for c in found} >= {"01001", "01002", "01023"}
    assert all(c["kind"] == "matter" for c in found)
    legacy = api.get(
        "/classes",
        "operator",
        params={"edition": "GB/T 30428.2-2013", "kind": "event", "q": "0102"},
    ).json()
    assert [c["name"] for c in legacy] == ["暴露垃圾"]
    standards = api.get("/classes/01001/standards", "shift_lead").json()
    assert standards["category"]["name"] == "供水井盖异常"
    conditions = [s["condition"] for s in standards["standards"]]
    assert conditions[0].startswith("缺失、移位、开裂")
    assert standards["standards"][0]["limits"][0] == {
        "urgency": "normal",
        "amount": "2",
        "unit": "urgent_work_hour",
        "text": "2紧急工作时",
    }
    assert api.get("/classes/99999/standards", "shift_lead").status_code == 404
    assert api.get("/classes", "operator", params={"kind": "thing"}).status_code == 422


def test_departments_by_scope(api: Api) -> None:
    everyone = {d["code"] for d in api.get("/departments", "dispatcher").json()}
    assert {"D101-CGW", "D102-CGW", "U-WATER"} <= everyone
    assert "D-OLD" not in everyone  # inactive
    district = {d["code"] for d in api.get("/departments", "dispatcher_dc").json()}
    assert "D101-CGW" in district and "U-WATER" in district and "D102-CGW" not in district


def test_regions_by_point_and_code(api: Api) -> None:
    lon, lat = api.city.point("110101002001001")
    place = api.get("/regions/locate", "operator", params={"lon": lon, "lat": lat}).json()
    assert place["grid"]["code"] == "110101002001001"
    assert place["street"]["name"] == "景山街道" and place["district"]["name"] == "东城区"
    outside = api.get("/regions/locate", "operator", params={"lon": 100, "lat": 30})
    assert outside.status_code == 422 and outside.json()["code"] == "point_outside_city"
    region = api.get("/regions/110101001", "operator").json()
    assert region["name"] == "东华门街道"
    assert [p["code"] for p in region["parents"]] == ["110101"]
    assert [c["code"] for c in region["children"]] == ["110101001001", "110101001002"]
    assert api.get("/regions/110101009", "operator").status_code == 404
    bad = api.get("/regions/11010100100100X", "operator")
    assert bad.status_code == 422 and bad.json()["code"] == "grid_code_not_digits"


def test_calendar_and_deadline_preview(api: Api) -> None:
    year = api.get("/calendar", "operator", params={"year": 2026}).json()
    assert year["covered"] and year["hours_per_workday"] == "8"
    days = {d["date"]: d["kind"] for d in year["days"]}
    assert days["2026-10-01"] == "holiday" and days["2026-10-10"] == "workday"
    assert year["week"]["0"] == ["08:00-12:00", "14:00-18:00"] and year["week"]["6"] == []
    assert api.get("/calendar", "operator", params={"year": 2027}).json()["covered"] is False
    preview = api.get(
        "/sla/deadline",
        "operator",
        params={"start": "2026-09-30T16:00:00+08:00", "limit": "4工作时"},
    ).json()
    assert preview["deadline"] == "2026-10-08T02:00:00Z"  # 10:00 in Beijing
    assert preview["unit_label"] == "工作时" and preview["uncovered_years"] == []
    late = api.get(
        "/sla/deadline",
        "operator",
        params={"start": "2026-12-31T17:00:00+08:00", "limit": "2工作时"},
    ).json()
    assert late["uncovered_years"] == [2027]
    bad = api.get(
        "/sla/deadline",
        "operator",
        params={"start": "2026-12-31T17:00:00+08:00", "limit": "2 weeks"},
    )
    assert bad.status_code == 422 and bad.json()["code"] == "time_unit_unknown"


def test_openapi_and_the_docs_page_work_offline(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").json()
    paths = set(spec["paths"])
    assert {
        "/api/v1/auth/token",
        "/api/v1/cases",
        "/api/v1/cases/{number}",
        "/api/v1/cases/{number}/actions/{action}",
        "/api/v1/tasks",
        "/api/v1/sla/deadline",
    } <= paths
    intake = spec["paths"]["/api/v1/cases"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(intake)
    page = api.client.get("/api/v1/docs").text
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page)
    assert assets and all(a.startswith("/") for a in assets), assets
    for asset in assets:
        assert api.client.get(asset).status_code == 200, asset
    assert api.client.get("/").status_code == 200
