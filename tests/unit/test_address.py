"""Address text rules (standards.md §4): normalising, house numbers, aliases, 方位描述."""

from __future__ import annotations

import struct
from datetime import date

import pytest
import shapely

from cityloop.domain.address import (
    AddressKind,
    StandardAddress,
    bearing,
    check_address,
    chinese_number,
    house_numbers,
    normalize_text,
    parse_building,
    parse_door,
    parse_kind,
    region_aliases,
    relative_description,
    rounded_distance,
)
from cityloop.domain.base_data import (
    Entity,
    canonical_field,
    parse_date,
    parse_format,
    parse_status,
    point_wkb,
    text_value,
)
from cityloop.domain.components import ComponentStatus
from cityloop.domain.errors import ValidationError


@pytest.mark.parametrize(
    ("text", "value"),
    [("一", 1), ("十", 10), ("十一", 11), ("二十", 20), ("二十三", 23), ("一百零五", 105),
     ("三〇二", 302), ("两千", 2000), ("一百", 100)],
)  # fmt: skip
def test_chinese_numerals(text: str, value: int) -> None:
    assert chinese_number(text) == value


def test_a_non_numeral_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        chinese_number("十a")
    assert caught.value.code == "chinese_number_invalid"


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("和平里东街 十一号院 三号楼", "和平里东街11号院3号楼"),
        ("和平里东街１１号院（东门）", "和平里东街11号院东门"),
        ("东四十条甲22号", "东四十条甲22号"),  # 十 in a place name stays
        ("三里河路二单元三〇一室", "三里河路2单元301室"),
        ("11—3号", "11-3号"),
    ],
)
def test_normalising_free_text(text: str, normal: str) -> None:
    assert normalize_text(text) == normal


def test_house_numbers_split_place_and_numbers() -> None:
    parts = house_numbers("和平里东街11号院3号楼2单元")
    assert (parts.door, parts.compound, parts.building, parts.rest) == ("11", True, "3", "2单元")
    assert "和平里东街11号院3号楼2单元"[: parts.start] == "和平里东街"
    assert house_numbers("东四十条甲22号").door == "甲22"
    assert house_numbers("某小区3栋").building == "3" and house_numbers("某小区3栋").door == ""
    assert house_numbers("和平里东街11号楼").door == ""  # 11号楼 is a building, not a door
    assert house_numbers("和平里东街").empty and house_numbers("和平里东街").start == -1


def test_register_fields_are_read_as_written() -> None:
    assert parse_door("11号院") == ("11", True)
    assert parse_door("甲11号") == ("甲11", False)
    assert parse_door(7) == ("7", False)
    assert parse_building("3号楼") == "3" and parse_building("3栋") == "3"
    assert parse_building("A座") == "A座"
    assert parse_kind("门牌") is AddressKind.DOOR and parse_kind("POI") is AddressKind.POI
    with pytest.raises(ValidationError):
        parse_kind("小区")


def test_region_aliases() -> None:
    assert region_aliases("和平里街道") == ("和平里",)
    assert region_aliases("多福巷社区居委会") == ("多福巷社区", "多福巷")
    assert region_aliases("东城区") == ("东城",)
    assert region_aliases("前门") == ()


def test_labels_and_required_fields() -> None:
    building = StandardAddress(
        1, "A-1", AddressKind.BUILDING, "110101", 116.4, 39.9,
        road="和平里东街", door="11", compound=True, building="3",
    )  # fmt: skip
    assert building.label == "和平里东街11号院3号楼"
    door = StandardAddress(2, "A-2", AddressKind.DOOR, "110101", 116.4, 39.9, road="X路", door="5")
    assert door.label == "X路5号"
    check_address(building)
    with pytest.raises(ValidationError) as caught:
        check_address(StandardAddress(3, "A 3", AddressKind.POI, "110101", 0, 0, name="x"))
    assert caught.value.code == "address_code_invalid"
    with pytest.raises(ValidationError) as caught:
        check_address(
            StandardAddress(4, "A-4", AddressKind.BUILDING, "110101", 0, 0, road="r", door="1")
        )
    assert caught.value.code == "address_building_missing"


@pytest.mark.parametrize(
    ("east", "north", "text"),
    [
        (20, 0, "X东侧约20米"), (0, 18, "X北侧约20米"), (-14, -14, "X西南侧约20米"),
        (150, 10, "X东侧约150米"), (0, -1234, "X南侧约1.2公里"), (3, 2, "X附近"),
        (30, 25, "X东北侧约40米"),
    ],
)  # fmt: skip
def test_direction_and_distance_descriptions(east: float, north: float, text: str) -> None:
    assert relative_description("X", east, north) == text


def test_bearing_sectors_and_rounding() -> None:
    assert bearing(10, 0).code == "E" and bearing(10, 4).code == "E"  # 21.8° is still east
    assert bearing(10, 5).code == "NE"  # 26.6°
    assert bearing(-10, 0.1).code == "W" and bearing(0, -10).word == "南"
    assert rounded_distance(2) == "约5米" and rounded_distance(94) == "约95米"
    assert rounded_distance(996) == "约1000米"


def test_import_field_names_values_and_formats() -> None:
    assert canonical_field(Entity.COMPONENTS, "GLBJBSM") == "object_code"
    assert canonical_field(Entity.COMPONENTS, "ObjID") == "object_code"
    assert canonical_field(Entity.COMPONENTS, "管理部件标识码") == "object_code"
    assert canonical_field(Entity.COMPONENTS, " supervisor_name ") == "supervisor_name"
    assert canonical_field(Entity.GRIDS, "网格编码") == "code"
    assert canonical_field(Entity.ADDRESSES, "门牌号") == "door"
    assert canonical_field(Entity.ADDRESSES, "经度") == "lon"
    assert canonical_field(Entity.GRIDS, "colour") is None
    assert parse_status("破损") is ComponentStatus.DAMAGED
    assert (
        parse_status("lost") is ComponentStatus.LOST and parse_status("") is ComponentStatus.INTACT
    )
    assert parse_date("20240315") == parse_date("2024-03-15") == parse_date("2024/3/15")
    assert parse_date(20240315.0) == date(2024, 3, 15) and parse_date("") is None
    with pytest.raises(ValidationError):
        parse_date("2024-02-30")
    assert text_value(110101.0) == "110101" and text_value(None) == ""
    assert parse_format("SHAPEFILE").value == "shp" and parse_format(".json").value == "geojson"
    with pytest.raises(ValidationError):
        parse_format("kml")


def test_point_wkb_is_standard_wkb() -> None:
    data = point_wkb(116.4, 39.9)
    assert shapely.from_wkb(data).equals(shapely.Point(116.4, 39.9))
    assert struct.unpack("<BI", data[:5]) == (1, 1)
