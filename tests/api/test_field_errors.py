"""The field messages of a 422 speak the caller's language, with the limits filled in."""

from __future__ import annotations

from cityloop.entrypoints.api.errors import field_message
from tests.api.conftest import Api


def test_each_kind_of_field_error_reads_in_both_languages(api: Api) -> None:
    report = api.report()
    number, version = report["number"], report["version"]
    dispatch = f"/cases/{number}/actions/dispatch"
    lon, lat = api.city.point("110101001001001")
    intake = {"source": "inspector", "category_code": "06010", "lon": lon, "lat": lat}
    cases = [
        (dispatch, {"version": version}, "department_id", "此项必填", "This field is required"),
        (
            dispatch,
            {"version": "one", "department_id": 1},
            "version",
            "应为整数",
            "Must be a whole number",
        ),
        (
            "/cases",
            {**intake, "description": "垃" * 2001},
            "description",
            "最多 2000 个字符",
            "May have at most 2000 characters",
        ),
    ]
    for path, body, field, zh, en in cases:
        for lang, expected in (("zh-CN", zh), ("en", en)):
            response = api.post(path, "inspector1" if path == "/cases" else "dispatcher",
                                json=body, headers={"Accept-Language": lang})  # fmt: skip
            assert response.status_code == 422, response.text
            fields = response.json()["details"]["fields"]
            assert {"field": field, "message": expected} == {
                k: fields[0][k] for k in ("field", "message")
            }, fields
    # nothing changed
    assert api.get(f"/cases/{number}", "dispatcher").json()["version"] == version


def test_an_error_type_without_a_message_of_ours_keeps_the_validators_text() -> None:
    error = {"type": "uuid_parsing", "msg": "Input should be a valid UUID", "ctx": {}}
    assert field_message(error, "zh_CN") == "Input should be a valid UUID"
    bounds = {"type": "greater_than_equal", "msg": "…", "ctx": {"ge": 1}}
    assert field_message(bounds, "zh_CN") == "不能小于 1"
    assert field_message(bounds, "en") == "Must be at least 1"
