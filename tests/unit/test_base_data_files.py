"""Base-data files (adapters/io/tables.py): formats, coordinate systems, bad records."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import shapely
from shapely.geometry import Point, box

from cityloop.adapters.geo.crs import transform
from cityloop.adapters.io.tables import detect_format, read_table, write_table
from cityloop.domain.base_data import Entity, ExportRow, FileFormat
from cityloop.domain.errors import DomainError
from cityloop.domain.geo import wgs84_to_gcj02

LON, LAT = 116.4172, 39.9511
X, Y = transform(LON, LAT, "EPSG:4326", "EPSG:4548")


def first_point(table: object) -> tuple[float, float]:
    record = table.records[0]  # type: ignore[attr-defined]
    point = shapely.from_wkb(record.geometry)
    return point.x, point.y


def test_csv_with_projected_and_offset_coordinates_per_row() -> None:
    gx, gy = wgs84_to_gcj02(LON, LAT)
    text = (
        "管理部件标识码,部件名称,X,Y,坐标系,颜色\n"
        f"11010101037000001,路灯,{X:.3f},{Y:.3f},EPSG:4548,红\n"
        f"11010101037000002,路灯,{gx:.9f},{gy:.9f},GCJ-02,绿\n"
        f"11010101037000003,路灯,{LON},{LAT},,蓝\n"
    )
    table = read_table(text.encode("gb18030"), Entity.COMPONENTS, filename="普查.csv")
    assert table.ignored == ("颜色",)
    assert table.columns == ("object_code", "name", "lon", "lat", "crs")
    assert [r.row for r in table.records] == [2, 3, 4]
    for record in table.records:
        point = shapely.from_wkb(record.geometry)
        assert abs(point.x - LON) < 1e-7 and abs(point.y - LAT) < 1e-7
    assert table.records[0].values["object_code"] == "11010101037000001"


def test_a_file_level_crs_applies_to_rows_without_their_own() -> None:
    text = f"code,x,y\nA-1,{X},{Y}\n"
    table = read_table(text.encode(), Entity.ADDRESSES, "csv", crs="EPSG:4548")
    lon, lat = first_point(table)
    assert abs(lon - LON) < 1e-7 and abs(lat - LAT) < 1e-7


def test_bad_coordinates_are_problems_of_their_row() -> None:
    text = "code,lon,lat,wkt\nA,abc,39.9,\nB,116.4,,\nC,,,POINT(1\nD,116.4,39.9,\nE,,,\n"
    table = read_table(text.encode(), Entity.ADDRESSES, FileFormat.CSV)
    codes = [r.problem.code if r.problem else None for r in table.records]
    assert codes == ["coordinate_not_a_number", "position_incomplete", "wkt_invalid", None, None]
    assert table.records[3].geometry_type == "Point" and table.records[4].geometry is None


def test_geojson_with_the_legacy_crs_member() -> None:
    document = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4548"}},
        "features": [
            {"type": "Feature", "properties": {"GLBJBSM": "1"},
             "geometry": {"type": "Point", "coordinates": [X, Y]}},
            {"type": "Feature", "properties": {},
             "geometry": {"type": "Polygon", "coordinates": 7}},
        ],
    }  # fmt: skip
    table = read_table(json.dumps(document).encode(), Entity.COMPONENTS, "geojson")
    lon, lat = first_point(table)
    assert abs(lon - LON) < 1e-7 and abs(lat - LAT) < 1e-7
    assert table.records[1].problem is not None
    assert table.records[1].problem.code == "geometry_unreadable"


def test_a_shapefile_in_a_gauss_kruger_zone_reads_back_in_wgs84() -> None:
    rows = [
        ExportRow({"code": "110101001001001", "name": "网格001"},
                  shapely.to_wkb(box(LON, LAT, LON + 0.001, LAT + 0.001))),
    ]  # fmt: skip
    data = write_table(Entity.GRIDS, FileFormat.SHAPEFILE, rows, crs="EPSG:4548")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == [f"grids.{e}" for e in ("cpg", "dbf", "prj", "shp", "shx")]
        assert "Gauss_Kruger" in zf.read("grids.prj").decode()
    table = read_table(data, Entity.GRIDS, filename="grids.zip")
    back = shapely.from_wkb(table.records[0].geometry)
    assert shapely.equals_exact(
        shapely.normalize(back), shapely.normalize(box(LON, LAT, LON + 0.001, LAT + 0.001)), 1e-8
    )
    values = table.records[0].values
    assert (values["code"], values["name"], values["area_m2"]) == ("110101001001001", "网格001", "")


def test_a_shapefile_with_several_kinds_of_shape_keeps_them_all() -> None:
    rows = [
        ExportRow({"object_code": "1"}, shapely.to_wkb(Point(LON, LAT))),
        ExportRow({"object_code": "2"}, shapely.to_wkb(box(LON, LAT, LON + 1e-4, LAT + 1e-4))),
        ExportRow({"object_code": "3"}, None),
    ]
    data = write_table(Entity.COMPONENTS, "shp", rows)
    table = read_table(data, Entity.COMPONENTS, "shp")
    assert [(r.values["object_code"], r.geometry_type) for r in table.records] == [
        ("1", "Point"),
        ("3", None),
        ("2", "Polygon"),
    ]
    assert [r.row for r in table.records] == [1, 2, 3]


def test_xlsx_and_geojson_output_in_another_system() -> None:
    rows = [
        ExportRow({"code": "A-1", "kind": "poi", "name": "小学"}, shapely.to_wkb(Point(LON, LAT)))
    ]
    sheet = read_table(write_table(Entity.ADDRESSES, "xlsx", rows, crs="GCJ-02"), Entity.ADDRESSES)
    lon, lat = first_point(sheet)  # the crs column written with the rows brings them back
    assert abs(lon - LON) < 1e-7 and abs(lat - LAT) < 1e-7
    document = json.loads(write_table(Entity.ADDRESSES, "geojson", rows, crs="EPSG:4548"))
    assert document["crs"]["properties"]["name"] == "EPSG:4548"
    x, y = document["features"][0]["geometry"]["coordinates"]
    assert abs(x - X) < 1e-3 and abs(y - Y) < 1e-3
    plain = json.loads(write_table(Entity.ADDRESSES, "geojson", rows))
    assert "crs" not in plain


@pytest.mark.parametrize(
    ("data", "fmt", "code"),
    [
        (b"", "csv", "file_empty"),
        (b"not a zip", "shp", "shapefile_not_zipped"),
        (b"{nope", "geojson", "geojson_invalid"),
        (b'{"type": "Topology"}', "geojson", "geojson_invalid"),
        (b"not a workbook", "xlsx", "xlsx_unreadable"),
    ],
)
def test_unreadable_files_are_refused(data: bytes, fmt: str, code: str) -> None:
    with pytest.raises(DomainError) as caught:
        read_table(data, Entity.GRIDS, fmt)
    assert caught.value.code == code


def test_a_zip_without_a_shapefile_and_an_unknown_crs_are_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("readme.txt", "x")
    with pytest.raises(DomainError) as caught:
        read_table(out.getvalue(), Entity.GRIDS, "shp")
    assert caught.value.code == "shapefile_missing_part"
    with pytest.raises(DomainError) as unknown:
        read_table(b"code,lon,lat\n", Entity.GRIDS, "csv", crs="EPSG:9999")
    assert unknown.value.code == "crs_unknown"


def test_formats_are_recognised_by_name_and_content() -> None:
    shp = write_table(Entity.GRIDS, "shp", [])
    xlsx = write_table(Entity.GRIDS, "xlsx", [])
    assert detect_format("x.geojson", b"") is FileFormat.GEOJSON
    assert detect_format("upload", shp) is FileFormat.SHAPEFILE
    assert detect_format("upload", xlsx) is FileFormat.XLSX
    assert detect_format("upload", b' \n{"type":"FeatureCollection"}') is FileFormat.GEOJSON
    assert detect_format("upload", b"code,name\n") is FileFormat.CSV
