"""POST /api/v1/cases: JSON and multipart, photos, idempotency, and every refusal."""

from __future__ import annotations

import io
import json
import threading
from typing import Any

import pytest
from PIL import Image
from pydantic import ValidationError as PydanticValidationError

from cityloop.bootstrap import photo_threads
from cityloop.config import Settings
from cityloop.entrypoints.api import body as api_body
from tests.api.conftest import Api
from tests.support.photos import photo


def test_json_report_creates_a_case(api: Api) -> None:
    lon, lat = api.city.point("110101002001001")
    response = api.post(
        "/cases",
        "inspector2",
        json={
            "source": "inspector",
            "description": "井盖缺失",
            "category_code": "01001",
            "lon": lon,
            "lat": lat,
            "address": "隆福寺街 12 号东侧",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == body["url"] == f"/api/v1/cases/{body['number']}"
    assert body["state"] == {"value": "reported", "label": "待受理"}
    assert body["version"] == 1 and body["event"]["action"] == "report"
    assert body["stage"]["stage"] == "accept" and body["stage"]["light"] == "green"
    detail = api.get(body["url"][7:], "operator").json()
    assert detail["grid_code"] == "110101002001001"
    assert detail["street_name"] == "景山街道"
    assert detail["category"]["name"] == "供水井盖异常"


def _multipart(data: dict[str, object], *files: tuple[str, bytes, str]) -> dict[str, object]:
    return {
        "data": {"data": json.dumps(data, ensure_ascii=False)},
        "files": [("photos", f) for f in files],
    }


def test_multipart_photos_are_cleaned_thumbnailed_and_locate_the_report(api: Api) -> None:
    lon, lat = api.city.point("110101001002001")
    jpeg = photo("JPEG", gps=(lon, lat))
    parts = _multipart(
        {"source": "inspector", "description": "暴露垃圾", "category_code": "06010"},
        ("现场.jpg", jpeg, "image/jpeg"),
        ("second.png", photo("PNG"), "image/png"),
        ("phone.heic", photo("HEIF"), "image/heic"),
    )
    response = api.post("/cases", "inspector1", **parts)
    assert response.status_code == 201, response.text
    body = response.json()
    # No position was sent: the photo's EXIF position placed the report.
    detail = api.get(body["url"][7:], "operator").json()
    assert detail["grid_code"] == "110101001002001"
    kinds = [(a["filename"], a["content_type"]) for a in detail["attachments"]]
    assert kinds == [
        ("现场.jpg", "image/jpeg"),
        ("second.png", "image/png"),
        ("phone.jpg", "image/jpeg"),
    ]  # HEIC converted to JPEG
    first = detail["attachments"][0]
    stored = api.get(first["url"][7:], "operator")
    assert stored.status_code == 200 and stored.headers["content-type"] == "image/jpeg"
    cleaned = Image.open(io.BytesIO(stored.content))
    assert dict(cleaned.getexif()) == {}  # position and camera make stripped
    thumb = api.get(first["thumbnail_url"][7:], "operator")
    assert thumb.status_code == 200
    assert max(Image.open(io.BytesIO(thumb.content)).size) == 320


def test_photos_are_prepared_in_the_containers_photo_thread(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not on the event loop, and not in the general thread pool: in the container's photo
    threads, of which there is one unless set otherwise (ADR 0005)."""
    assert Settings().photo_threads == 1
    with pytest.raises(PydanticValidationError):
        Settings(photo_threads=0)
    assert photo_threads(Settings(photo_threads=3))._max_workers == 3
    seen: list[tuple[str, int]] = []
    real = api_body._prepare

    def prepare(*args: Any) -> Any:
        seen.append((threading.current_thread().name, threading.get_ident()))
        return real(*args)

    monkeypatch.setattr(api_body, "_prepare", prepare)
    lon, lat = api.city.point("110101001002001")
    for n in range(2):
        parts = _multipart(
            {
                "source": "inspector",
                "description": "暴露垃圾",
                "category_code": "06010",
                "lon": lon,
                "lat": lat,
            },
            *[(f"p{i}.jpg", photo("JPEG", size=(64 + i, 48 + n)), "image/jpeg") for i in range(3)],
        )
        response = api.post("/cases", "inspector1", **parts)
        assert response.status_code == 201, response.text
    assert len(seen) == 6
    # The one photo thread of the container, neither the event loop nor AnyIO's pool.
    assert {name.split("_")[0] for name, _ in seen} == {"photos"}
    assert len({ident for _, ident in seen}) == 1


def test_a_thumbnail_lost_or_cut_short_is_made_again_from_the_photo(api: Api) -> None:
    """Thumbnails are not flushed to disk (they can be made again): after a power loss one may
    be missing or short, and the page still shows it."""
    lon, lat = api.city.point("110101001001001")
    parts = _multipart(
        {"source": "inspector", "description": "暴露垃圾", "category_code": "06010"},
        ("现场.jpg", photo("JPEG", gps=(lon, lat)), "image/jpeg"),
    )
    body = api.post("/cases", "inspector1", **parts).json()
    (attachment,) = body["attachments"]
    files = api.container.files
    with api.container.uow(readonly=True) as uow:
        case = uow.cases.get_by_number(body["number"])
        assert case is not None
        (row,) = uow.attachments.for_case(case.id)
    target = files.root / str(row.thumbnail_path)
    original = target.read_bytes()
    for damage in ("cut short", "lost"):
        if damage == "cut short":
            target.write_bytes(original[: len(original) // 2])
        else:
            target.unlink()
        thumb = api.get(attachment["thumbnail_url"][7:], "operator")
        assert thumb.status_code == 200, damage
        assert thumb.headers["content-type"] == "image/jpeg"
        assert max(Image.open(io.BytesIO(thumb.content)).size) == 320
    # storing the same thumbnail again (the same upload) repairs a file cut short
    target.write_bytes(original[:10])
    assert files.read_intact(str(row.thumbnail_path)) is None
    assert files.store(original, suffix=".jpg", durable=False).path == row.thumbnail_path
    assert target.read_bytes() == original
    assert files.read_intact(str(row.thumbnail_path)) == original


def test_the_type_is_sniffed_not_trusted(api: Api) -> None:
    lon, lat = api.city.point("110101001001001")
    data = {
        "source": "inspector",
        "description": "x",
        "category_code": "06010",
        "lon": lon,
        "lat": lat,
    }
    fake = api.post(
        "/cases",
        "inspector1",
        **_multipart(data, ("evil.jpg", b"MZ\x90\x00 not an image", "image/jpeg")),
    )
    assert fake.status_code == 415
    assert fake.json()["code"] == "unsupported_media_type"
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    refused = api.post(
        "/cases", "inspector1", **_multipart(data, ("a.jpg", gif.getvalue(), "image/jpeg"))
    )
    assert refused.status_code == 415
    broken = api.post(
        "/cases", "inspector1", **_multipart(data, ("b.jpg", photo("JPEG")[:200], "image/jpeg"))
    )
    assert broken.status_code == 415 and broken.json()["code"] == "image_unreadable"
    assert api.get("/cases", "operator").json()["total"] == 0


def test_size_limits_give_413(api: Api) -> None:
    api.container.settings.max_upload_mb = 0.01
    lon, lat = api.city.point("110101001001001")
    data = {
        "source": "inspector",
        "description": "x",
        "category_code": "06010",
        "lon": lon,
        "lat": lat,
    }
    big = photo("PNG", size=(400, 400), noise=True)
    assert len(big) > 0.01 * 1_048_576
    response = api.post("/cases", "inspector1", **_multipart(data, ("big.png", big, "image/png")))
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"
    api.container.settings.max_request_mb = 0.001
    response = api.post("/cases", "inspector1", **_multipart(data, ("big.png", big, "image/png")))
    assert response.status_code == 413 and response.json()["code"] == "request_too_large"


def test_idempotency_key_replays_the_same_case(api: Api) -> None:
    lon, lat = api.city.point("110101001001001")
    body = {
        "source": "inspector",
        "description": "暴露垃圾",
        "category_code": "06010",
        "lon": lon,
        "lat": lat,
    }
    first = api.post("/cases", "inspector1", json=body, headers={"Idempotency-Key": "abc-1"})
    again = api.post("/cases", "inspector1", json=body, headers={"Idempotency-Key": "abc-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["number"] == first.json()["number"]
    changed = api.post(
        "/cases",
        "inspector1",
        json={**body, "description": "别的"},
        headers={"Idempotency-Key": "abc-1"},
    )
    assert changed.status_code == 409 and changed.json()["code"] == "idempotency_key_reused"
    assert api.get("/cases", "operator").json()["total"] == 1


def test_bad_reports_get_422_with_a_localized_message(api: Api) -> None:
    lon, lat = api.city.point("110101001001001")
    base = {
        "source": "inspector",
        "description": "x",
        "category_code": "06010",
        "lon": lon,
        "lat": lat,
    }
    cases = [
        ({**base, "category_code": "99999"}, "unknown_category"),
        ({**base, "source": "pigeon"}, "source_invalid"),
        ({**base, "lon": 100.0, "lat": 30.0}, "point_outside_city"),
        ({**base, "lon": None, "lat": None, "grid_code": "1101010010010"}, "grid_code_length"),
        ({**base, "description": ""}, "description_required"),
        ({k: v for k, v in base.items() if k != "category_code"}, "validation_error"),
        ({**base, "color": "red"}, "validation_error"),
    ]
    for body, code in cases:
        response = api.post("/cases", "inspector1", json=body, headers={"Accept-Language": "en"})
        assert response.status_code == 422, (code, response.text)
        assert response.json()["code"] == code
        assert response.json()["message"]
    missing = api.post("/cases", "inspector1", json=cases[5][0]).json()
    assert missing["details"]["fields"][0]["field"] == "category_code"
    assert missing["details"]["fields"][0]["message"] == "此项必填"
    assert missing["message"] == "请求中有字段缺失或无效"
    extra = api.post("/cases", "inspector1", json=cases[6][0], headers={"Accept-Language": "en"})
    assert extra.json()["details"]["fields"] == [
        {"field": "color", "message": "Is not a field of this request", "type": "extra_forbidden"}
    ]
    text = api.post("/cases", "inspector1", content=b"x=1", headers={"Content-Type": "text/plain"})
    assert text.status_code == 415 and text.json()["code"] == "content_type_unsupported"
    bad_json = api.post(
        "/cases", "inspector1", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status_code == 422 and bad_json.json()["code"] == "json_invalid"
    role = api.post("/cases", "handler_cgw", json=base)
    assert role.status_code == 403 and role.json()["code"] == "role_not_allowed"
    assert api.get("/cases", "operator").json()["total"] == 0
