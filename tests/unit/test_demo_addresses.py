"""The synthetic demo address register (adapters/geo/demo_addresses.py)."""

from __future__ import annotations

from collections import Counter

import shapely
from shapely.geometry import box

from cityloop.adapters.geo.crs import unproject
from cityloop.adapters.geo.demo_addresses import (
    SOURCE,
    CommunityInfo,
    StreetInfo,
    generate_demo_addresses,
)
from cityloop.domain.address import AddressKind, check_address

EPSG = 4548
X0, Y0 = 447_000.0, 4_420_000.0


def gk(x0: float, y0: float, x1: float, y1: float) -> shapely.Geometry:
    return unproject(box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1), EPSG)


BOUNDARY = gk(0, 0, 1200, 800)
STREETS = [
    StreetInfo(
        "110101010",
        "和平里街道",
        gk(0, 0, 700, 800),
        (CommunityInfo("110101010001", "和平东街社区", gk(0, 0, 700, 400)),),
    ),
    StreetInfo("110101011", "前门街道"),  # no polygon: derived from what is left
]


def test_the_register_is_synthetic_complete_and_deterministic() -> None:
    first = generate_demo_addresses(BOUNDARY, STREETS, 7, district_code="110101")
    again = generate_demo_addresses(BOUNDARY, STREETS, 7, district_code="110101")
    other = generate_demo_addresses(BOUNDARY, STREETS, 8, district_code="110101")
    assert first == again and first != other
    assert all(a.synthetic and a.source == SOURCE for a in first)
    assert len({a.code for a in first}) == len(first)
    kinds = Counter(a.kind for a in first)
    assert kinds[AddressKind.ROAD] >= 6 and kinds[AddressKind.DOOR] > 100
    assert kinds[AddressKind.BUILDING] > kinds[AddressKind.DOOR] // 2
    for address in first:
        check_address(address)
        assert BOUNDARY.covers(shapely.Point(address.lon, address.lat))


def test_roads_are_named_after_their_street_and_doors_alternate_sides() -> None:
    register = generate_demo_addresses(BOUNDARY, STREETS, 7, district_code="110101")
    roads = {a.road for a in register if a.kind is AddressKind.ROAD}
    assert {"和平里北街", "和平里南街", "和平里西街", "和平里东街"} <= roads
    assert any(r.startswith("前门") for r in roads)
    doors = [a for a in register if a.kind is AddressKind.DOOR and a.road == "和平里北街"]
    numbers = sorted(int(d.door) for d in doors)
    assert numbers[:2] == [1, 2] and len(numbers) == len(set(numbers))
    odd = [d.lat for d in doors if int(d.door) % 2]
    even = [d.lat for d in doors if not int(d.door) % 2]
    assert min(odd) > max(even)  # odd numbers on the north side of an east-west road
    in_community = {a.community_code for a in register if a.street_code == "110101010"}
    assert "110101010001" in in_community


def test_a_target_count_scales_the_register() -> None:
    small = generate_demo_addresses(BOUNDARY, STREETS, 7, district_code="110101", target_count=300)
    large = generate_demo_addresses(BOUNDARY, STREETS, 7, district_code="110101", target_count=3000)
    assert 150 <= len(small) <= 600
    assert 2000 <= len(large) <= 4500
