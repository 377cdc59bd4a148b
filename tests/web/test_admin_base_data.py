"""Administration pages: base data — layers, imports with their report, check, compare."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import Point, box
from sqlalchemy import select

from cityloop.adapters.db.models import T
from cityloop.adapters.io.tables import write_table
from cityloop.domain.base_data import Entity, ExportRow
from tests.support.city import GRIDS, centre_of
from tests.web.conftest import Web


def grid_file(extra: dict[str, tuple[float, float]] | None = None) -> bytes:
    """The test city's 东城区 grids (unchanged), and ``extra`` new ones, as GeoJSON."""
    cells = {c: xy for c, xy in GRIDS.items() if c.startswith("110101")} | (extra or {})
    return write_table(
        Entity.GRIDS,
        "geojson",
        [
            ExportRow({"code": code, "name": f"网格{code[-3:]}"},
                      shapely.to_wkb(box(lon, lat, lon + 0.001, lat + 0.001)))
            for code, (lon, lat) in cells.items()
        ],
    )  # fmt: skip


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


def audit_rows(web: Web) -> list[Any]:
    audit = T["audit_log"]
    with web.container.engine.connect() as conn:
        return list(conn.execute(select(audit).order_by(audit.c.id)))


def addresses(web: Web) -> list[str]:
    table = T["addresses"]
    with web.container.engine.connect() as conn:
        return [r.code for r in conn.execute(select(table.c.code).order_by(table.c.code))]


DOOR = ("YZ-D1", "银闸胡同", "1", *centre_of("110101001002001"))


def test_only_administrators_use_the_base_data_pages(web: Web) -> None:
    leader = web.sign_in("leader")
    assert leader.get("/admin/base-data").status_code == 403
    refused = leader.post(
        "/admin/base-data/import",
        {"entity": "addresses"},
        files={"file": ("a.csv", address_file(DOOR), "text/csv")},
    )
    assert refused.status_code == 403 and addresses(web) == []


def test_the_page_lists_layers_and_offers_every_export(web: Web) -> None:
    html = web.sign_in("admin", lang="en").get("/admin/base-data").text
    assert "Unit grid layer versions" in html
    for entity in ("grids", "regions", "components", "addresses"):
        for fmt in ("geojson", "csv", "xlsx", "shp"):
            assert f'href="/api/v1/base-data/{entity}/export?format={fmt}"' in html
    # The links are the API's downloads, which take the page's session.
    admin = web.sign_in("admin")
    exported = admin.get("/api/v1/base-data/grids/export?format=geojson")
    assert exported.status_code == 200
    assert len(exported.json()["features"]) == len(GRIDS)


def test_a_rejected_import_shows_every_problem_and_writes_nothing(web: Web) -> None:
    admin = web.sign_in("admin", lang="en")
    body = address_file(
        DOOR,
        ("YZ-D1", "银闸胡同", "2", *centre_of("110101001002001")),  # duplicate code
        ("YZ-D5", "银闸胡同", "5", 116.0, 39.0),  # outside every grid
    )
    response = admin.post(
        "/admin/base-data/import",
        {"entity": "addresses"},
        files={"file": ("doors.csv", body, "text/csv")},
    )
    assert response.status_code == 422
    html = response.text
    assert "The file has 2 problems; nothing was imported" in html
    assert "YZ-D1 appears more than once in the file (first in row 2)" in html
    assert "is outside every unit grid of the city" in html
    problems = html[html.index('class="dense ab-problems"') :]
    assert problems.index('<td class="num">3</td>') < problems.index('<td class="num">4</td>')
    assert addresses(web) == [] and audit_rows(web) == []
    assert 'value="addresses" selected' in html  # the form keeps the choice


def test_an_applied_import_is_reported_and_logged_once(web: Web) -> None:
    admin = web.sign_in("admin", lang="en")
    dry = admin.post(
        "/admin/base-data/import",
        {"entity": "addresses", "dry_run": "1"},
        files={"file": ("doors.csv", address_file(DOOR), "text/csv")},
    )
    assert dry.status_code == 200 and "Checked only: nothing was written" in dry.text
    assert addresses(web) == [] and audit_rows(web) == []

    done = admin.post(
        "/admin/base-data/import",
        {"entity": "addresses"},
        files={"file": ("doors.csv", address_file(DOOR), "text/csv")},
    )
    assert done.status_code == 200
    assert "Imported" in done.text and "1 rows read" in done.text
    assert addresses(web) == ["YZ-D1"]
    (entry,) = audit_rows(web)
    assert (entry.entity, entry.entity_key, entry.change) == ("base_data", "addresses", "import")
    assert entry.user_name == "admin" and entry.summary == "doors.csv · 1"
    assert entry.after["rows"] == 1 and entry.after["file"] == "doors.csv"


def test_a_file_we_cannot_read_is_refused_in_the_page(web: Web) -> None:
    admin = web.sign_in("admin", lang="en")
    response = admin.post(
        "/admin/base-data/import",
        {"entity": "grids", "format": "xlsx"},
        files={"file": ("grids.xlsx", b"not a workbook", "application/octet-stream")},
    )
    assert response.status_code == 422 and 'class="error"' in response.text
    missing = admin.post("/admin/base-data/import", {"entity": "grids"})
    assert missing.status_code == 422 and "Choose a file to import" in missing.text
    assert audit_rows(web) == []


def test_a_grid_import_makes_a_new_layer_version_to_check_and_compare(web: Web) -> None:
    admin = web.sign_in("admin", lang="en")
    new_cell = {"110101001001003": (116.402, 39.911)}
    response = admin.post(
        "/admin/base-data/import",
        {"entity": "grids", "valid_from": "2026-12-01"},
        files={"file": ("dongcheng.geojson", grid_file(new_cell), "application/geo+json")},
    )
    assert response.status_code == 200, response.text
    assert "grid layer version 2" in response.text
    (entry,) = audit_rows(web)
    assert entry.entity == "base_data" and entry.after["rows"] == 5
    assert entry.after["valid_from"] == "2026-12-01"

    page = admin.get("/admin/base-data").text
    layers = page[page.index("Unit grid layer versions") : page.index("Compare version")]
    assert layers.index('<td class="num">2') < layers.index('<td class="num">1')  # newest first

    compared = admin.get("/admin/base-data/compare?old=1&new=2")
    assert compared.status_code == 200
    assert "1 added, 0 removed, 0 redrawn, 0 renumbered, 4 unchanged" in compared.text
    assert "110101001001003" in compared.text
    unknown = admin.get("/admin/base-data/compare?old=1&new=9")
    assert unknown.status_code == 422 and "Grid layer version 9 has no grids" in unknown.text

    clean = admin.get("/admin/base-data/check?version=2").text
    assert "Layer check · version 2" in clean and "No problem found" in clean
    small = admin.get("/admin/base-data/check?version=2&district=110101&min_area=20000").text
    section = small[small.index('id="check"') : small.index("Unit grid layer versions")]
    assert "5 findings" in section and section.count("<td>Small cell</td>") == 5
    assert "110101001001003" in section and "110102001001001" not in section
