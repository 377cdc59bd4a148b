"""Base-data import and export through the services: every format and entity both ways,
precise reports of bad rows with nothing written, grid layer versions and the grid tools.

standards.md §2 (grids), §3.5 (component census attributes), §4 (addresses).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import shapely
from shapely.geometry import Point, box
from sqlalchemy import func, select

from cityloop.adapters.db.models import T
from cityloop.adapters.geo.crs import unproject
from cityloop.adapters.io.tables import read_table, write_table
from cityloop.bootstrap import Container
from cityloop.domain.base_data import Entity, ExportRow, FileFormat
from cityloop.domain.case import Source
from cityloop.domain.errors import PermissionDeniedError
from cityloop.domain.regions import RegionLevel
from cityloop.domain.roles import Actor, Role
from cityloop.services import base_data as svc
from cityloop.services.cases import NewReport, report_case
from tests.conftest import at
from tests.support.city import GRIDS, City

NOW = at("2026-11-23 09:00")
FORMATS = [FileFormat.GEOJSON, FileFormat.CSV, FileFormat.XLSX, FileFormat.SHAPEFILE]


def admin(city: City) -> Actor:
    return city.actor("admin")


def run_import(
    container: Container,
    city: City,
    entity: Entity,
    rows: list[ExportRow],
    fmt: FileFormat = FileFormat.GEOJSON,
    *,
    actor: Actor | None = None,
    **options: Any,
) -> Any:
    data = write_table(entity, fmt, rows)
    table = read_table(data, entity, fmt)
    return svc.import_table(
        container.uow(),
        entity,
        table,
        actor=actor or admin(city),
        now=NOW,
        options=svc.ImportOptions(**options),
    )


def count(container: Container, table: str) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(T[table])).scalar() or 0)


def grid_rows(shift: dict[str, float] | None = None) -> list[ExportRow]:
    rows = []
    for code, (lon, lat) in sorted(GRIDS.items()):
        dx = (shift or {}).get(code, 0.0)
        rows.append(
            ExportRow(
                {"code": code, "name": f"网格{code[-3:]}"},
                shapely.to_wkb(box(lon + dx, lat, lon + dx + 0.001, lat + 0.001)),
            )
        )
    return rows


def component_rows() -> list[ExportRow]:
    lon, lat = GRIDS["110101001001002"]
    return [
        ExportRow(
            {
                "object_code": "11010101037000001",
                "class_code": "01037",
                "name": "路灯",
                "supervisor_code": "11110101MB0000000A",
                "supervisor_name": "东城区城市管理委员会",
                "owner_name": "北京市路灯管理中心",
                "maintainer_name": "东城区城市管理委员会",
                "status": "破损",
                "initial_date": "20240315",
                "change_date": "20251101",
                "data_source": "实测",
                "note": "杆体倾斜",
                "photos": "a.jpg;b.jpg",
            },
            shapely.to_wkb(Point(lon + 0.0003, lat + 0.0004)),
        ),
        ExportRow(
            {
                "object_code": "11010104013000001",
                "class_code": "04013",
                "name": "绿地",
                "supervisor_name": "东城区园林绿化局",
                "status": "完好",
                "initial_date": "20230101",
            },
            shapely.to_wkb(box(lon + 0.0001, lat + 0.0001, lon + 0.0004, lat + 0.0003)),
        ),
    ]


def address_rows() -> list[ExportRow]:
    lon, lat = GRIDS["110101001002001"]
    return [
        ExportRow(
            {"code": "YZ-R1", "kind": "road", "road": "银闸胡同", "name": "银闸胡同"},
            shapely.to_wkb(shapely.LineString([(lon, lat + 0.0005), (lon + 0.0009, lat + 0.0005)])),
        ),
        ExportRow(
            {"code": "YZ-D7", "kind": "门牌", "road": "银闸胡同", "door": "7号院"},
            shapely.to_wkb(Point(lon + 0.0004, lat + 0.0006)),
        ),
        ExportRow(
            {"code": "YZ-D7-B2", "kind": "building", "road": "银闸胡同", "door": "7号院",
             "building": "2号楼"},
            shapely.to_wkb(Point(lon + 0.0004, lat + 0.0008)),
        ),
        ExportRow(
            {"code": "YZ-P1", "kind": "poi", "name": "银闸便利店", "poi_type": "购物",
             "aliases": "银闸小卖部|银闸店", "synthetic": "1", "source": "测试"},
            shapely.to_wkb(Point(lon + 0.0002, lat + 0.0004)),
        ),
    ]  # fmt: skip


def same(values: dict[str, str], exported: dict[str, str]) -> None:
    for key, value in values.items():
        assert exported[key] == value, key


GEO_COLUMNS = {"lon", "lat", "wkt", "crs"}


# -- round trips ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_grid_layer_round_trip_gives_the_same_layer_as_a_new_version(
    container: Container, city: City, fmt: FileFormat
) -> None:
    before = svc.export_rows(container.uow(), Entity.GRIDS, actor=admin(city))
    report = run_import(container, city, Entity.GRIDS, before, fmt, valid_from=date(2026, 11, 1))
    assert report.problems == () and report.applied and report.layer_version == 2
    assert report.summary["changes"] == {"added": 0, "removed": 0, "changed": 0, "renamed": 0}
    after = svc.export_rows(container.uow(), Entity.GRIDS, actor=admin(city), version=2)
    assert [r.values["code"] for r in after] == [r.values["code"] for r in before]
    for old, new in zip(before, after, strict=True):
        assert shapely.equals_exact(  # a Shapefile turns rings clockwise: compare normalised
            shapely.normalize(shapely.from_wkb(old.geometry)),
            shapely.normalize(shapely.from_wkb(new.geometry)),
            tolerance=1e-9,
        )
        assert new.values["valid_from"] == "2026-11-01"


@pytest.mark.parametrize("fmt", FORMATS)
def test_component_census_round_trip(container: Container, city: City, fmt: FileFormat) -> None:
    rows = component_rows()
    report = run_import(container, city, Entity.COMPONENTS, rows, fmt)
    assert report.problems == () and report.applied and report.created == 2
    exported = {
        r.values["object_code"]: r
        for r in svc.export_rows(container.uow(), Entity.COMPONENTS, actor=admin(city))
    }
    lamp = exported["11010101037000001"]
    same(dict(rows[0].values), dict(lamp.values))
    assert lamp.values["grid_code"] == "110101001001002"
    assert lamp.values["street_name"] == "东华门街道"
    green = exported["11010104013000001"]
    assert shapely.from_wkb(green.geometry).geom_type == "Polygon"
    # the core record links the department the census names, when it exists
    with container.uow() as uow:
        stored = uow.components.by_code("11010101037000001")
    assert stored is not None and stored.supervisor_id == city.departments["cgw"]
    assert stored.status.value == "damaged" and stored.initial_date == date(2024, 3, 15)
    # and the export reads back unchanged in the same format
    again = read_table(write_table(Entity.COMPONENTS, fmt, [lamp]), Entity.COMPONENTS, fmt)
    assert {
        k: str(v or "") for k, v in again.records[0].values.items() if k not in GEO_COLUMNS
    } == {k: v for k, v in lamp.values.items() if k in again.columns}


@pytest.mark.parametrize("fmt", FORMATS)
def test_address_register_round_trip(container: Container, city: City, fmt: FileFormat) -> None:
    rows = address_rows()
    report = run_import(container, city, Entity.ADDRESSES, rows, fmt)
    assert report.problems == () and report.created == 4
    exported = {
        r.values["code"]: r
        for r in svc.export_rows(container.uow(), Entity.ADDRESSES, actor=admin(city))
    }
    assert exported["YZ-D7"].values["kind"] == "door"
    assert exported["YZ-D7"].values["door"] == "7号院"
    assert exported["YZ-D7-B2"].values["building"] == "2"
    assert exported["YZ-P1"].values["aliases"] == "银闸小卖部|银闸店"
    assert exported["YZ-P1"].values["synthetic"] == "1"
    assert exported["YZ-R1"].values["community_code"] == "110101001002"
    assert shapely.from_wkb(exported["YZ-R1"].geometry).geom_type == "LineString"
    again = read_table(
        write_table(Entity.ADDRESSES, fmt, list(exported.values())), Entity.ADDRESSES, fmt
    )
    assert [r.values["code"] for r in again.records] == sorted(exported)


@pytest.mark.parametrize("fmt", FORMATS)
def test_regions_round_trip_adds_and_updates(
    container: Container, city: City, fmt: FileFormat
) -> None:
    outline = box(116.400, 39.910, 116.402, 39.912)
    rows = [
        ExportRow({"level": "community", "code": "110101001003", "name": "新社区"},
                  shapely.to_wkb(box(116.403, 39.910, 116.404, 39.911))),
        ExportRow({"level": "街道", "code": "110101003", "name": "交道口街道"}),
        ExportRow({"level": "community", "code": "110101001001", "name": "多福巷社区"},
                  shapely.to_wkb(outline)),
    ]  # fmt: skip
    report = run_import(container, city, Entity.REGIONS, rows, fmt)
    assert report.problems == () and report.summary == {"new": 2, "updated": 1}
    exported = {
        r.values["code"]: r
        for r in svc.export_rows(container.uow(), Entity.REGIONS, actor=admin(city))
    }
    assert exported["110101003"].values["level"] == "street"
    assert exported["110101001003"].values["parent_code"] == "110101001"
    assert shapely.equals_exact(
        shapely.normalize(shapely.from_wkb(exported["110101001001"].geometry)),
        shapely.normalize(outline),
        tolerance=1e-9,
    )


# -- bad rows ------------------------------------------------------------------------------------
def test_every_bad_component_row_is_reported_and_nothing_is_written(
    container: Container, city: City
) -> None:
    good = component_rows()[0]
    lon, lat = GRIDS["110102001001001"]

    def row(**changes: Any) -> ExportRow:
        geometry = changes.pop("geometry", good.geometry)
        return ExportRow({**good.values, **changes}, geometry)

    rows = [
        good,  # row 2 of the CSV
        row(object_code="1101010103700000X"),  # bad code
        row(object_code="11010199999000001", class_code=""),  # class not in the dictionary
        row(object_code="11010101037000002",
            geometry=shapely.to_wkb(Point(lon + 0.0005, lat + 0.0005))),  # in 西城区
        row(object_code="11010101037000003", geometry=shapely.to_wkb(Point(116.0, 39.0))),
        row(),  # duplicate id
        row(object_code="11010101037000004", supervisor_code="", supervisor_name=""),
        row(object_code="11010101037000005", status="不知道", initial_date="2024-13-45"),
        row(object_code="11010101037000006",
            geometry=shapely.to_wkb(shapely.GeometryCollection([Point(116.4015, 39.9115)]))),
    ]  # fmt: skip
    before = count(container, "components")
    report = run_import(container, city, Entity.COMPONENTS, rows, FileFormat.CSV)
    assert not report.applied
    assert [(p.row, p.field, p.code) for p in report.problems] == [
        (3, "object_code", "component_code_not_digits"),
        (4, "class_code", "unknown_category"),
        (5, "geometry", "component_outside_district"),
        (6, "geometry", "point_outside_city"),
        (7, "object_code", "duplicate_in_file"),
        (8, "supervisor_name", "component_supervisor_missing"),
        (9, "initial_date", "date_invalid"),
        (9, "status", "component_status_invalid"),
        (10, "geometry", "geometry_type_wrong"),
    ]
    assert report.problems[4].error.params["first"] == 2
    assert count(container, "components") == before
    assert count(container, "component_attributes") == 0


def test_bad_grid_rows_leave_the_layer_untouched(container: Container, city: City) -> None:
    rows = grid_rows()
    lon, lat = GRIDS["110101001001001"]
    rows[1] = ExportRow(dict(rows[1].values), shapely.to_wkb(Point(lon, lat)))  # not a polygon
    rows.append(ExportRow({"code": "11010100100100"}, rows[0].geometry))  # legacy length
    rows.append(
        ExportRow({"code": "110101001009001"}, shapely.to_wkb(box(116.403, 39.91, 116.404, 39.911)))
    )
    rows.append(
        ExportRow(
            {"code": "110101001001009"},
            shapely.to_wkb(box(lon + 0.0005, lat, lon + 0.0015, lat + 0.001)),
        )
    )
    rows.append(ExportRow({"code": "110101001001001"}, rows[0].geometry))  # duplicate
    before = count(container, "regions")
    report = run_import(container, city, Entity.GRIDS, rows, FileFormat.GEOJSON,
                        valid_from=date(2026, 11, 1))  # fmt: skip
    assert not report.applied
    assert [(p.row, p.field, p.code) for p in report.problems] == [
        (2, "geometry", "geometry_type_wrong"),
        (6, "code", "grid_code_length"),
        (7, "code", "grid_community_unknown"),
        (8, "geometry", "grid_overlap"),
        (9, "code", "duplicate_in_file"),
    ]
    overlap = report.problems[3].error
    assert overlap.params["other"] == "110101001001001" and overlap.params["other_row"] == 1
    assert count(container, "regions") == before
    assert count(container, "grid_layers") == 0
    hit = container.locator.locate(lon + 0.0005, lat + 0.0005)
    assert hit is not None and hit.layer_version == 1


def test_bad_address_rows(container: Container, city: City) -> None:
    rows = address_rows()
    lon, lat = GRIDS["110101001002001"]
    rows += [
        ExportRow({"code": "YZ-D9", "kind": "door", "road": "银闸胡同", "door": "9"},
                  shapely.to_wkb(shapely.LineString([(lon, lat), (lon + 0.0001, lat)]))),
        ExportRow({"code": "YZ-D8", "kind": "door", "road": "银闸胡同"},
                  shapely.to_wkb(Point(lon + 0.0001, lat + 0.0001))),
        ExportRow({"code": "YZ-D10", "kind": "门牌", "road": "银闸胡同", "door": "10",
                   "district_code": "110102"}, shapely.to_wkb(Point(lon + 0.0002, lat + 0.0001))),
        ExportRow({"code": "YZ-D7", "kind": "小区"}, shapely.to_wkb(Point(lon, lat))),
    ]  # fmt: skip
    report = run_import(container, city, Entity.ADDRESSES, rows, FileFormat.XLSX)
    assert [(p.row, p.field, p.code) for p in report.problems] == [
        (6, "geometry", "geometry_type_wrong"),
        (7, "door", "address_door_missing"),
        (8, "district_code", "outside_district"),
        (9, "code", "duplicate_in_file"),
        (9, "kind", "address_kind_invalid"),
    ]
    assert count(container, "addresses") == 0


def test_only_administrators_import_and_district_admins_only_their_district(
    container: Container, city: City
) -> None:
    with pytest.raises(PermissionDeniedError) as refused:
        run_import(container, city, Entity.ADDRESSES, address_rows(), actor=city.actor("operator"))
    assert refused.value.code == "admin_only_base_data"
    district_admin = Actor(user_id=city.users["admin"], role=Role.ADMIN, district_code="110102")
    report = run_import(container, city, Entity.ADDRESSES, address_rows(), actor=district_admin)
    assert {p.code for p in report.problems} == {"outside_scope_row"}
    assert len(report.problems) == 4 and count(container, "addresses") == 0
    only = run_import(container, city, Entity.ADDRESSES, address_rows(), district_code="110102")
    assert {p.code for p in only.problems} == {"outside_district"}


def test_a_dry_run_checks_and_writes_nothing(container: Container, city: City) -> None:
    report = run_import(
        container, city, Entity.GRIDS, grid_rows({"110101001001002": 0.0002}),
        valid_from=date(2026, 11, 1), dry_run=True,
    )  # fmt: skip
    assert report.dry_run and not report.applied and report.problems == ()
    assert report.summary["changes"]["changed"] == 1
    assert count(container, "grid_layers") == 0


# -- grid layer versions -------------------------------------------------------------------------
def _report(container: Container, city: City, lon: float, lat: float) -> Any:
    return report_case(
        container.uow(),
        NewReport(source=Source.INSPECTOR, description="暴露垃圾", category_code="06010",
                  lon=lon, lat=lat),
        actor=city.actor("inspector1"),
        now=NOW,
    )  # fmt: skip


def test_a_new_layer_version_keeps_old_cases_on_their_layer(
    container: Container, city: City
) -> None:
    lon, lat = GRIDS["110101001001002"]
    point = (lon + 0.0009, lat + 0.0005)
    old_case = _report(container, city, *point).case
    rows = grid_rows({"110101001001002": 0.0002})  # the grid moves 17 m east
    rows[0] = ExportRow({"code": "110101001001003", "name": "新网格"}, rows[0].geometry)  # rename
    report = run_import(container, city, Entity.GRIDS, rows, valid_from=date(2026, 11, 1))
    assert report.applied and report.layer_version == 2
    assert report.summary["closed"] == 5 and report.summary["inspector_grids_moved"] == 5

    with container.uow() as uow:
        old_grid = uow.regions.get(old_case.grid_id or 0)
        case_after = uow.cases.get(old_case.id)
        inspector = uow.org.inspector_grids(city.users["inspector1"])
        component = uow.components.get(city.component_id)
    assert case_after is not None and case_after.grid_id == old_case.grid_id
    assert old_grid is not None and old_grid.layer_version == 1
    assert old_grid.valid_to == date(2026, 11, 1)
    new_hit = container.locator.locate(*point)
    assert new_hit is not None and new_hit.layer_version == 2
    assert new_hit.grid_code == "110101001001002" and new_hit.grid_id != old_case.grid_id
    new_case = _report(container, city, *point).case
    assert new_case.grid_id == new_hit.grid_id
    # inspectors follow their grids to the new layer, a renamed grid included
    with container.uow() as uow:
        codes = sorted(r.code for r in (uow.regions.get(i) for i in inspector) if r)
    assert codes == ["110101001001002", "110101001001003", "110101001002001"]
    assert component is not None and component.grid_id is not None
    with container.uow() as uow:
        grid = uow.regions.get(component.grid_id)
    assert grid is not None and grid.code == "110101001001003" and grid.layer_version == 2

    diff = svc.compare_grid_layers(container.uow(), 1, 2, actor=admin(city))
    assert diff.changed == ("110101001001002",)
    assert diff.renamed == (("110101001001001", "110101001001003"),)
    assert diff.added == () and diff.removed == () and diff.unchanged == 3
    layers = svc.grid_layers(container.uow(), actor=admin(city))
    assert [(layer.version, layer.current, layer.grid_count) for layer in layers] == [
        (1, False, 5),
        (2, True, 5),
    ]


def test_a_new_layer_must_start_after_the_current_one(container: Container, city: City) -> None:
    report = run_import(container, city, Entity.GRIDS, grid_rows(), valid_from=date(2020, 1, 1))
    assert [(p.row, p.code) for p in report.problems] == [(0, "layer_valid_from_too_early")]
    assert report.problems[0].error.params["date"] == "2020-01-01"


# -- grid tools ------------------------------------------------------------------------------------
EPSG = 4548
X0, Y0 = 447_000.0, 4_420_000.0


def gk(x0: float, y0: float, x1: float, y1: float) -> Any:
    return unproject(box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1), EPSG)


def test_generate_check_and_apply_a_district_layer(container: Container, city: City) -> None:
    rows = [
        ExportRow({"level": "district", "code": "110101", "name": "东城区"},
                  shapely.to_wkb(gk(0, 0, 500, 300))),
        ExportRow({"level": "community", "code": "110101001001", "name": "多福巷社区"},
                  shapely.to_wkb(gk(0, 0, 300, 300))),
        ExportRow({"level": "community", "code": "110101001002", "name": "银闸社区"},
                  shapely.to_wkb(gk(300, 0, 500, 300))),
    ]  # fmt: skip
    assert run_import(container, city, Entity.REGIONS, rows).applied
    generated, report = svc.generate_grid_layer(
        container.uow(), "110101", actor=admin(city), now=NOW
    )
    assert report is None and len(generated.grids) == 15 and generated.epsg == EPSG
    codes = [g.code for g in generated.grids]
    assert codes[:3] == ["110101001001001", "110101001001002", "110101001001003"]
    assert sum(c.startswith("110101001001") for c in codes) == 9
    assert all(abs(g.area_m2 - 10_000) < 0.5 for g in generated.grids)
    assert generated.uncovered_m2 < 1

    generated, report = svc.generate_grid_layer(
        container.uow(), "110101", actor=admin(city), now=NOW, apply=True,
        valid_from=date(2026, 11, 1),
    )  # fmt: skip
    assert report is not None and report.applied and report.created == 15
    assert report.summary["closed"] == 4  # the test city's 东城区 grids; 西城区 keeps its own
    assert (
        svc.check_grid_layer(
            container.uow(), actor=admin(city), version=report.layer_version, district_code="110101"
        )
        == []
    )
    hit = container.locator.locate(*shapely.get_coordinates(gk(10, 10, 20, 20).centroid)[0])
    assert hit is not None and hit.grid_code == "110101001001007"  # south-west cell: row 3, col 1


def test_checking_a_layer_reports_grids_outside_their_community(
    container: Container, city: City
) -> None:
    rows = [
        ExportRow({"level": "community", "code": "110101001001", "name": "多福巷社区"},
                  shapely.to_wkb(box(116.400, 39.911, 116.401, 39.912))),
    ]  # fmt: skip
    run_import(container, city, Entity.REGIONS, rows)
    findings = svc.check_grid_layer(container.uow(), actor=admin(city))
    assert [(f.kind.value, f.codes) for f in findings] == [
        ("outside_parent", ("110101001001002", "110101001001")),
    ]


def test_generation_needs_boundaries(container: Container, city: City) -> None:
    from cityloop.domain.errors import ValidationError

    with pytest.raises(ValidationError) as missing:
        svc.generate_grid_layer(container.uow(), "110101", actor=admin(city), now=NOW)
    assert missing.value.code == "district_without_boundary"
    with pytest.raises(PermissionDeniedError):
        svc.generate_grid_layer(container.uow(), "110101", actor=city.actor("leader"), now=NOW)


def test_regions_are_linked_to_their_parents(container: Container, city: City) -> None:
    rows = [ExportRow({"level": "community", "code": "110101009001", "name": "孤儿社区"})]
    report = run_import(container, city, Entity.REGIONS, rows)
    assert [(p.row, p.field, p.code) for p in report.problems] == [
        (1, "parent_code", "region_parent_unknown")
    ]
    with container.uow() as uow:
        assert uow.regions.by_code("110101009001") is None
        assert [r.code for r in uow.regions.of_level(RegionLevel.STREET)][:2] == [
            "110101001",
            "110101002",
        ]
