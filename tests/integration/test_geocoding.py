"""Forward and reverse geocoding on a small register (tests/support/geo.py), standards.md §4."""

from __future__ import annotations

import math

import pytest

from cityloop.bootstrap import Container
from cityloop.domain.address import MatchLevel
from cityloop.domain.errors import ValidationError
from cityloop.domain.roles import Actor, Role
from cityloop.services.geocoding import geocode, locate_point, reverse_geocode
from tests.support.city import City
from tests.support.geo import ROAD_LAT, Register, build_register, door_position

ADMIN = Actor(user_id=None, role=Role.ADMIN, name="t")


@pytest.fixture
def register(container: Container, city: City) -> Register:
    return build_register(container)


def top(container: Container, text: str, **kw: object) -> list:  # type: ignore[type-arg]
    return geocode(container.uow(readonly=True), text, actor=ADMIN, **kw)  # type: ignore[arg-type]


def test_a_full_standard_address_finds_the_building(
    container: Container, register: Register
) -> None:
    found = top(container, "东城区和平里街道和平里东街11号院3号楼")
    best = found[0]
    assert best.level is MatchLevel.BUILDING and best.score == 100.0
    assert best.address is not None and best.address.code == "HPL-D11-B3"
    assert best.text == "东城区和平里街道和平里东街11号院3号楼"
    assert not best.approximate
    assert (best.lon, best.lat) == (best.address.lon, best.address.lat)


@pytest.mark.parametrize(
    "text",
    [
        "和平里东街11号院3号楼",  # no district, no street
        "北京市东城区和平里东街11号院3号楼",  # city prefix, no street
        "和平里东街 十一号院 三号楼",  # spaces, Chinese numerals
        "和平里东街１１号院３号楼",  # full-width digits
    ],
)
def test_missing_levels_and_variants_find_the_same_building(
    container: Container, register: Register, text: str
) -> None:
    best = top(container, text)[0]
    assert best.address is not None and best.address.code == "HPL-D11-B3"
    assert best.score == 100.0


def test_a_typo_in_the_road_name_still_ranks_the_building_first(
    container: Container, register: Register
) -> None:
    best = top(container, "东城区和平里东接11号院3号楼")[0]
    assert best.address is not None and best.address.code == "HPL-D11-B3"
    assert 70.0 <= best.score < 100.0


def test_a_poi_by_name_and_by_alias(container: Container, register: Register) -> None:
    by_name = top(container, "和平里小学")[0]
    by_alias = top(container, "东城区和平里小")[0]
    for found in (by_name, by_alias):
        assert found.level is MatchLevel.POI and found.address is not None
        assert found.address.code == "HPL-P1"
    assert by_name.text == "东城区和平里街道和平里小学"


def test_door_with_prefix_and_a_courtyard(container: Container, register: Register) -> None:
    jia = top(container, "和平里东街甲11号")[0]
    assert jia.address is not None and jia.address.code == "HPL-D11A"
    yard = top(container, "和平里东街11号院")[0]
    assert yard.level is MatchLevel.DOOR and yard.address is not None
    assert yard.address.code == "HPL-D11" and yard.text.endswith("和平里东街11号院")


def test_an_unknown_door_number_takes_the_nearest_on_the_same_side(
    container: Container, register: Register
) -> None:
    best = top(container, "和平里东街21号")[0]
    assert best.level is MatchLevel.DOOR and best.approximate
    assert best.address is not None and best.address.door == "15"  # odd side, nearest
    assert "和平里东街15号" in best.note
    assert best.score < 100


def test_an_unknown_building_falls_back_to_its_courtyard(
    container: Container, register: Register
) -> None:
    best = top(container, "和平里东街11号院9号楼")[0]
    assert best.level is MatchLevel.DOOR and best.approximate
    assert best.address is not None and best.address.code == "HPL-D11"
    assert "9号楼" in best.note


def test_a_wrong_street_lowers_the_score_but_does_not_hide_the_match(
    container: Container, register: Register
) -> None:
    right = top(container, "和平里街道和平里东街11号")[0]
    wrong = top(container, "东华门街道和平里东街11号")[0]
    assert right.address == wrong.address and right.address is not None
    assert right.score == 100.0 and wrong.score < right.score


def test_only_a_region_gives_its_centre(container: Container, register: Register) -> None:
    best = top(container, "和平里街道")[0]
    assert best.level is MatchLevel.STREET and best.region_code == "110101010"
    assert best.approximate and best.address is None
    road = top(container, "和平里西街")[0]
    assert road.level is MatchLevel.ROAD and road.address is not None
    assert road.address.code == "HPL-R2"


def test_candidates_are_ranked_and_limited(container: Container, register: Register) -> None:
    found = top(container, "和平里东街", limit=3)
    assert 1 <= len(found) <= 3
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    assert top(container, "完全不存在的某某大厦") == []
    only_xicheng = top(container, "和平里东街11号院3号楼", district_code="110102")
    assert only_xicheng == []


def test_bad_requests_are_refused(container: Container, register: Register) -> None:
    with pytest.raises(ValidationError) as empty:
        top(container, "   ")
    assert empty.value.code == "geocode_text_empty"
    with pytest.raises(ValidationError) as many:
        top(container, "和平里", limit=50)
    assert many.value.code == "geocode_limit_invalid"


def _east(lon: float, lat: float, metres: float) -> tuple[float, float]:
    return lon + metres / (111_320 * math.cos(math.radians(lat))), lat


def test_reverse_geocoding_describes_the_point_from_the_nearest_address(
    container: Container, register: Register
) -> None:
    lon, lat = _east(*door_position(11), 10.0)
    place = reverse_geocode(container.uow(readonly=True), lon, lat, actor=ADMIN)
    assert place.match is not None
    assert place.match.address.code == "HPL-D11"
    assert place.match.description == "和平里东街11号院东侧约10米"
    assert place.match.text == "东城区和平里街道和平里东街11号院"
    assert place.match.bearing.code == "E" and abs(place.match.bearing.distance_m - 10) < 0.5
    assert place.hit is not None and place.hit.grid_code == "110101010001002"


def test_reverse_geocoding_near_a_poi_and_far_from_everything(
    container: Container, register: Register
) -> None:
    lon, lat = door_position(5)
    near = reverse_geocode(container.uow(readonly=True), lon, lat + 0.00003, actor=ADMIN)
    assert near.match is not None and near.match.description == "和平里小学附近"
    south = reverse_geocode(container.uow(readonly=True), 116.4122, ROAD_LAT - 0.0006, actor=ADMIN)
    assert south.match is not None and south.match.bearing.word in ("南", "西南", "东南")
    far = reverse_geocode(container.uow(readonly=True), 116.30, 39.80, actor=ADMIN)
    assert far.match is None and far.hit is None


def test_locate_point_through_the_service(container: Container, register: Register) -> None:
    hit = locate_point(container.uow(readonly=True), 116.4115, 39.9505)
    assert hit.grid_code == "110101010001001" and hit.layer_version == 1
    with pytest.raises(ValidationError) as outside:
        locate_point(container.uow(readonly=True), 116.0, 39.0)
    assert outside.value.code == "point_outside_city"
