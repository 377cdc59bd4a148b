"""A small address register on the test city, for the geocoding and map tests.

Adds 和平里街道 (110101010) with one community and two 0.002° × 0.001° grids north of the
test city, and loads a register through the service:

- 和平里东街 runs west → east along 39.9505°N; door n lies at 116.4100 + 0.0002·n °E, odd
  numbers 0.00015° north of the road, even ones 0.00015° south (odd doors are 34 m apart);
  11号 is a courtyard (11号院) with buildings 1–4 28 m north of its door; 甲11号 exists too;
- 和平里西街 (a road without doors), 和平里小学 (alias 和平里小) at 5号;
- 多福巷 in 东华门街道 (the test city's grids), doors 1–4.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import shapely
from shapely.geometry import LineString, box

from cityloop.adapters.geo import registry
from cityloop.bootstrap import Container
from cityloop.domain.address import AddressKind, StandardAddress
from cityloop.domain.regions import RegionLevel
from cityloop.domain.roles import SYSTEM_ACTOR
from cityloop.services import org
from cityloop.services.base_data import load_addresses
from cityloop.services.org import NewRegion

HPL_STREET, HPL_COMMUNITY = "110101010", "110101010001"
HPL_GRIDS = {"110101010001001": (116.410, 39.950), "110101010001002": (116.412, 39.950)}
ROAD_LAT = 39.9505
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def door_position(n: int) -> tuple[float, float]:
    lon = round(116.4100 + 0.0002 * n, 7)
    return lon, ROAD_LAT + (0.00015 if n % 2 else -0.00015)


@dataclass
class Register:
    addresses: list[StandardAddress]

    def code_of(self, label: str) -> str:
        return next(a.code for a in self.addresses if a.label == label)


def _address(code: str, kind: AddressKind, lon: float, lat: float, **kw: object) -> StandardAddress:
    return StandardAddress(
        id=0, code=code, kind=kind, district_code="110101", lon=lon, lat=lat, **kw
    )  # type: ignore[arg-type]


def register_addresses() -> list[StandardAddress]:
    items = [
        _address(
            "HPL-R1",
            AddressKind.ROAD,
            116.4120,
            ROAD_LAT,
            road="和平里东街",
            name="和平里东街",
            geometry_wkb=shapely.to_wkb(LineString([(116.4101, ROAD_LAT), (116.4135, ROAD_LAT)])),
        ),
        _address(
            "HPL-R2", AddressKind.ROAD, 116.4102, 39.9507, road="和平里西街", name="和平里西街"
        ),
    ]
    for n in range(1, 17):
        lon, lat = door_position(n)
        items.append(
            _address(
                f"HPL-D{n:02d}",
                AddressKind.DOOR,
                lon,
                lat,
                road="和平里东街",
                door=str(n),
                compound=n == 11,
            )
        )
    lon, lat = door_position(11)
    items.append(
        _address("HPL-D11A", AddressKind.DOOR, lon - 0.00004, lat, road="和平里东街", door="甲11")
    )
    for b in range(1, 5):
        items.append(
            _address(
                f"HPL-D11-B{b}",
                AddressKind.BUILDING,
                lon - 0.00015 + 0.0001 * b,
                lat + 0.00025,
                road="和平里东街",
                door="11",
                compound=True,
                building=str(b),
            )
        )
    lon, lat = door_position(5)
    items.append(
        _address(
            "HPL-P1",
            AddressKind.POI,
            lon,
            lat + 0.00003,
            name="和平里小学",
            poi_type="学校",
            aliases=("和平里小",),
        )
    )
    for n in range(1, 5):
        items.append(
            _address(
                f"DFX-D{n}",
                AddressKind.DOOR,
                116.4003 + 0.0003 * n,
                39.9115 + (0.0002 if n % 2 else -0.0002),
                road="多福巷",
                door=str(n),
            )
        )
    return items


def build_register(container: Container) -> Register:
    """The 和平里 regions and grids, then the register (see the module docstring)."""
    registry.forget(container.engine)
    since = date(2020, 1, 1)
    org.create_regions(
        container.uow(),
        [
            NewRegion(RegionLevel.STREET, HPL_STREET, "和平里街道", "110101", valid_from=since),
            NewRegion(
                RegionLevel.COMMUNITY, HPL_COMMUNITY, "和平东街社区", HPL_STREET, valid_from=since
            ),
            *(
                NewRegion(
                    RegionLevel.GRID,
                    code,
                    f"网格{code[-3:]}",
                    HPL_COMMUNITY,
                    geometry_wkb=shapely.to_wkb(box(lon, lat, lon + 0.002, lat + 0.001)),
                    area_m2=19_000.0,
                    centroid=(lon + 0.001, lat + 0.0005),
                    valid_from=since,
                )
                for code, (lon, lat) in HPL_GRIDS.items()
            ),
        ],
        actor=SYSTEM_ACTOR,
        now=NOW,
    )
    container.locator.reload()
    items = register_addresses()
    load_addresses(container.uow(), items, actor=SYSTEM_ACTOR, now=NOW)
    return Register(items)
