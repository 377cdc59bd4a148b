"""A small test city: two districts, three streets, four communities, five unit grids.

Built straight into the tables (base-data services come with the geocoding issue). Unit grids
are 0.001° squares near 东华门, 东城区; grid 5 lies in 西城区 for scope tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import shapely
from shapely.geometry import box
from sqlalchemy import Engine, insert, select

from cityloop.adapters.db.models import T
from cityloop.domain.org import DepartmentKind
from cityloop.domain.roles import Actor, Role

DONGCHENG, XICHENG = "110101", "110102"

# code → (lon0, lat0) of a 0.001° square
GRIDS = {
    "110101001001001": (116.400, 39.911),
    "110101001001002": (116.401, 39.911),
    "110101001002001": (116.400, 39.910),
    "110101002001001": (116.401, 39.910),
    "110102001001001": (116.390, 39.910),
}


def centre_of(grid_code: str) -> tuple[float, float]:
    lon, lat = GRIDS[grid_code]
    return lon + 0.0005, lat + 0.0005


@dataclass
class City:
    regions: dict[str, int] = field(default_factory=dict)  # code → id
    departments: dict[str, int] = field(default_factory=dict)  # key → id
    users: dict[str, int] = field(default_factory=dict)  # username → id
    grants: dict[str, tuple[Role, str | None, int | None]] = field(default_factory=dict)
    grids_of: dict[str, list[int]] = field(default_factory=dict)
    component_code: str = "11010101001000001"
    component_id: int = 0
    category_ids: dict[str, int] = field(default_factory=dict)  # matter code → id

    def actor(self, username: str) -> Actor:
        role, district, department = self.grants[username]
        return Actor(
            user_id=self.users[username],
            role=role,
            district_code=district,
            department_id=department,
            name=username,
            grid_ids=frozenset(self.grids_of.get(username, [])),
        )

    def point(self, grid_code: str) -> tuple[float, float]:
        return centre_of(grid_code)


def _add(conn: Any, table: str, **values: Any) -> int:
    result = conn.execute(insert(T[table]).values(**values))
    return int(result.inserted_primary_key[0])


PASSWORD = "pass-1234"
_HASH: list[str] = []


def password_hash() -> str:
    """One fast argon2 hash of PASSWORD shared by every test user."""
    if not _HASH:
        from cityloop.adapters.passwords import Argon2Passwords

        _HASH.append(Argon2Passwords(fast=True).hash(PASSWORD))
    return _HASH[0]


def build_city(engine: Engine) -> City:
    city = City()
    with engine.begin() as conn:
        cats = T["categories"]
        for row in conn.execute(
            select(cats.c.id, cats.c.code).where(
                cats.c.edition == "GB/T 47678.5-2026", cats.c.kind == "matter"
            )
        ):
            city.category_ids[row.code] = row.id

        d = city.departments
        d["city_centre"] = _add(
            conn,
            "departments",
            code="C000",
            name="市城市管理监督指挥中心",
            kind=DepartmentKind.CENTRE,
            level=0,
        )
        d["dc_centre"] = _add(
            conn,
            "departments",
            code="C101",
            name="东城区城市管理指挥中心",
            kind=DepartmentKind.CENTRE,
            level=1,
            district_code=DONGCHENG,
            parent_id=d["city_centre"],
        )
        d["xc_centre"] = _add(
            conn,
            "departments",
            code="C102",
            name="西城区城市管理指挥中心",
            kind=DepartmentKind.CENTRE,
            level=1,
            district_code=XICHENG,
            parent_id=d["city_centre"],
        )
        d["cgw"] = _add(
            conn,
            "departments",
            code="D101-CGW",
            name="东城区城市管理委员会",
            kind=DepartmentKind.AGENCY,
            district_code=DONGCHENG,
        )
        d["yllh"] = _add(
            conn,
            "departments",
            code="D101-YL",
            name="东城区园林绿化局",
            kind=DepartmentKind.AGENCY,
            district_code=DONGCHENG,
        )
        d["water"] = _add(
            conn, "departments", code="U-WATER", name="自来水集团", kind=DepartmentKind.COMPANY
        )
        d["dhm"] = _add(
            conn,
            "departments",
            code="S101001",
            name="东华门街道办事处",
            kind=DepartmentKind.STREET_OFFICE,
            district_code=DONGCHENG,
        )
        d["js"] = _add(
            conn,
            "departments",
            code="S101002",
            name="景山街道办事处",
            kind=DepartmentKind.STREET_OFFICE,
            district_code=DONGCHENG,
        )
        d["xc_cgw"] = _add(
            conn,
            "departments",
            code="D102-CGW",
            name="西城区城市管理委员会",
            kind=DepartmentKind.AGENCY,
            district_code=XICHENG,
        )
        d["inactive"] = _add(
            conn,
            "departments",
            code="D-OLD",
            name="已撤销单位",
            kind=DepartmentKind.AGENCY,
            active=False,
        )

        r = city.regions
        since = date(2020, 1, 1)
        r[DONGCHENG] = _add(
            conn, "regions", level="district", code=DONGCHENG, name="东城区", valid_from=since
        )
        r[XICHENG] = _add(
            conn, "regions", level="district", code=XICHENG, name="西城区", valid_from=since
        )
        for code, name, parent, dept in (
            ("110101001", "东华门街道", DONGCHENG, d["dhm"]),
            ("110101002", "景山街道", DONGCHENG, d["js"]),
            ("110102001", "西长安街街道", XICHENG, None),
        ):
            r[code] = _add(
                conn,
                "regions",
                level="street",
                code=code,
                name=name,
                parent_id=r[parent],
                department_id=dept,
                valid_from=since,
            )
        for code, name in (
            ("110101001001", "多福巷社区"),
            ("110101001002", "银闸社区"),
            ("110101002001", "隆福寺社区"),
            ("110102001001", "西交民巷社区"),
        ):
            r[code] = _add(
                conn,
                "regions",
                level="community",
                code=code,
                name=name,
                parent_id=r[code[:9]],
                valid_from=since,
            )
        for code, (lon, lat) in GRIDS.items():
            geom = box(lon, lat, lon + 0.001, lat + 0.001)
            r[code] = _add(
                conn,
                "regions",
                level="grid",
                code=code,
                name=f"网格{code[-3:]}",
                parent_id=r[code[:12]],
                geometry=shapely.to_wkb(geom),
                area_m2=9500.0,
                centroid_lon=lon + 0.0005,
                centroid_lat=lat + 0.0005,
                valid_from=since,
            )

        def user(
            name: str,
            role: Role,
            district: str | None = None,
            department: str | None = None,
            grids: tuple[str, ...] = (),
        ) -> None:
            uid = _add(
                conn, "users", username=name, display_name=name, password_hash=password_hash()
            )
            dept_id = d[department] if department else None
            _add(
                conn,
                "user_roles",
                user_id=uid,
                role=role.value,
                district_code=district,
                department_id=dept_id,
            )
            for grid in grids:
                conn.execute(insert(T["inspector_grids"]).values(user_id=uid, region_id=r[grid]))
            city.users[name] = uid
            city.grants[name] = (role, district, dept_id)
            city.grids_of[name] = [r[g] for g in grids]

        user(
            "inspector1",
            Role.INSPECTOR,
            DONGCHENG,
            grids=("110101001001001", "110101001001002", "110101001002001"),
        )
        user("inspector2", Role.INSPECTOR, DONGCHENG, grids=("110101002001001",))
        user("inspector_xc", Role.INSPECTOR, XICHENG, grids=("110102001001001",))
        user("operator", Role.OPERATOR)
        user("operator_xc", Role.OPERATOR, XICHENG)
        user("shift_lead", Role.SHIFT_LEAD)
        user("dispatcher", Role.DISPATCHER)
        user("dispatcher_dc", Role.DISPATCHER, DONGCHENG)
        user("handler_cgw", Role.HANDLER, DONGCHENG, "cgw")
        user("handler_water", Role.HANDLER, None, "water")
        user("handler_dhm", Role.HANDLER, DONGCHENG, "dhm")
        user("handler_xc", Role.HANDLER, XICHENG, "xc_cgw")
        user("leader", Role.LEADER)
        user("admin", Role.ADMIN)
        user("citizen", Role.CITIZEN)
        user("sensor", Role.SYSTEM)

        comp_cat = conn.execute(
            select(cats.c.id).where(
                cats.c.edition == "GB/T 47678.5-2026",
                cats.c.kind == "component",
                cats.c.code == "01001",
            )
        ).scalar_one()
        lon, lat = centre_of("110101001001001")
        city.component_id = _add(
            conn,
            "components",
            object_code=city.component_code,
            category_id=comp_cat,
            class_code="01001",
            name="供水井盖",
            lon=lon + 0.0001,
            lat=lat,
            grid_id=r["110101001001001"],
            owner_id=d["water"],
            maintainer_id=d["water"],
            status="intact",
        )
        # 暴露垃圾 (06010) is the city management committee's business.
        _add(
            conn,
            "dispatch_rules",
            department_id=d["cgw"],
            category_id=city.category_ids["06010"],
            district_code=DONGCHENG,
        )
    return city
