"""The demo city's base data: 北京市东城区 with real street and community codes, synthetic
community polygons, 100 m unit grids, departments, users for every role, components and
dispatch rules. Everything goes through the services, as an administrator would do it.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from cityloop.adapters.geo.crs import project_to_metres
from cityloop.adapters.geo.grids import (
    Part,
    assign_to_parents,
    generate_cells,
    number_cells,
    partition_into_communities,
)
from cityloop.bootstrap import Container
from cityloop.domain.codes import ClassKind, Edition
from cityloop.domain.components import Component
from cityloop.domain.org import DepartmentKind, RoleGrant
from cityloop.domain.regions import RegionLevel
from cityloop.domain.roles import SYSTEM_ACTOR, Actor, Role
from cityloop.domain.routing import DispatchRule
from cityloop.services import org
from cityloop.services.org import NewRegion

DISTRICT = "110101"
DISTRICT_NAME = "东城区"
PASSWORD = "cityloop-demo"


def _data(name: str) -> str:
    return (resources.files("cityloop") / "data" / "demo" / name).read_text(encoding="utf-8")


def boundary() -> BaseGeometry:
    return shape(json.loads(_data("dongcheng_110101.wgs84.geojson"))["features"][0]["geometry"])


def streets() -> list[tuple[str, str]]:
    return [
        (r["town_code"], r["town_name"])
        for r in csv.DictReader(io.StringIO(_data("streets_110101.csv")))
    ]


def communities() -> list[tuple[str, str]]:
    rows = csv.DictReader(io.StringIO(_data("communities_110101.csv")))
    return [(r["village_code"], r["village_name"].removesuffix("居委会")) for r in rows]


# -- departments ---

# key, code, name, kind; agencies and companies of a district as 东城区 has them.
AGENCIES = [
    ("cgw", "D-CGW", "东城区城市管理委员会", DepartmentKind.AGENCY),
    ("zfj", "D-ZFJ", "东城区城市管理综合行政执法局", DepartmentKind.AGENCY),
    ("yl", "D-YL", "东城区园林绿化局", DepartmentKind.AGENCY),
    ("sw", "D-SW", "东城区水务局", DepartmentKind.AGENCY),
    ("zjw", "D-ZJW", "东城区住房和城乡建设委员会", DepartmentKind.AGENCY),
    ("jt", "D-JT", "北京市公安局公安交通管理局东城交通支队", DepartmentKind.AGENCY),
    ("sj", "D-SJ", "东城区市场监督管理局", DepartmentKind.AGENCY),
    ("hb", "D-HB", "北京市生态环境局东城分局", DepartmentKind.AGENCY),
    ("water", "U-WATER", "北京市自来水集团东城供水分公司", DepartmentKind.COMPANY),
    ("drain", "U-DRAIN", "北京城市排水集团东城分公司", DepartmentKind.COMPANY),
    ("gas", "U-GAS", "北京市燃气集团东城分公司", DepartmentKind.COMPANY),
    ("heat", "U-HEAT", "北京市热力集团东城分公司", DepartmentKind.COMPANY),
    ("power", "U-POWER", "国网北京市电力公司东城供电公司", DepartmentKind.COMPANY),
    ("telecom", "U-TEL", "东城区通信运营商联合办公室", DepartmentKind.COMPANY),
    ("road", "U-ROAD", "东城区道路养护中心", DepartmentKind.UNIT),
]

# Which department a filing standard's responsible body (运城's wording) maps to, by keyword,
# tried in order; the major class decides when no keyword matches.
KEYWORDS = [
    (("节约用水", "供水", "自来水"), "water"),
    (("排水", "污水", "雨水"), "drain"),
    (("燃气",), "gas"),
    (("热力", "供热"), "heat"),
    (("电力", "供电", "国网"), "power"),
    (("通信", "通讯", "联通", "移动", "电信", "广电", "铁塔"), "telecom"),
    (("园林", "绿化", "古树"), "yl"),
    (("交警", "交通", "公交", "公安"), "jt"),
    (("水务", "河道", "水利"), "sw"),
    (("住建", "建设", "房管", "住房"), "zjw"),
    (("执法",), "zfj"),
    (("市场监管", "市场监督"), "sj"),
    (("环境", "生态", "环保"), "hb"),
    (("市容", "环卫", "城市管理", "城管"), "cgw"),
]
MAJOR_DEFAULT = {
    "01": "cgw", "02": "jt", "03": "cgw", "04": "yl", "05": "zjw",
    "06": "cgw", "07": "zfj", "08": "zjw", "09": "zfj", "10": "cgw",
}  # fmt: skip


def department_for_body(body: str, major: str) -> str:
    for words, key in KEYWORDS:
        if any(w in body for w in words):
            return key
    return MAJOR_DEFAULT.get(major, "cgw")


# -- components ---

# class code → (how many, owner key)
COMPONENTS = {
    "01001": (420, "water"),  # 供水井盖
    "01002": (380, "drain"),  # 污水井盖
    "01003": (360, "drain"),  # 雨水井盖
    "01004": (300, "drain"),  # 雨水箅子
    "01005": (160, "power"),  # 电力井盖
    "01007": (180, "telecom"),  # 通信井盖
    "01011": (120, "gas"),  # 燃气井盖
    "01037": (520, "road"),  # 路灯
    "03005": (380, "cgw"),  # 垃圾箱
    "04002": (450, "yl"),  # 行道树
    "02010": (220, "jt"),  # 交通标志牌及标线
    "02004": (90, "jt"),  # 公交站设施
    "03001": (60, "cgw"),  # 公共厕所
}


@dataclass
class DemoCity:
    """Ids the history simulation needs."""

    departments: dict[str, int] = field(default_factory=dict)
    street_offices: dict[str, int] = field(default_factory=dict)  # street code → department
    users: dict[str, tuple[int, Role, str | None, int | None]] = field(default_factory=dict)
    inspectors_by_street: dict[str, list[str]] = field(default_factory=dict)
    grids: list[tuple[str, float, float]] = field(default_factory=list)  # code, lon, lat
    components: list[tuple[str, str, float, float]] = field(default_factory=list)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # user, role, scope

    def actor(self, username: str) -> Actor:
        uid, role, district, department = self.users[username]
        return Actor(
            user_id=uid, role=role, district_code=district, department_id=department, name=username
        )


def build_regions(
    container: Container, seed: int, now: datetime, street_offices: dict[str, int]
) -> list[tuple[str, float, float]]:
    """District → 17 streets → 169 communities (synthetic polygons) → unit grids; each street's
    office is its territorial body (事件先属地)."""
    area = boundary()
    layer = generate_cells(area)
    comms = communities()
    per_street = Counter(code[:9] for code, _ in comms)
    names = dict(streets())
    street_parts = partition_into_communities(
        area,
        [(code, names[code]) for code in sorted(per_street)],
        seed,
        cells=layer.cells,
        weights=per_street,
    )
    community_parts: list[Part] = []
    for street in street_parts:
        mine = [c for c in comms if c[0].startswith(street.code)]
        community_parts += partition_into_communities(
            street.geometry, mine, seed, cells=street.cells
        )
    assignment = assign_to_parents(layer.cells, {p.code: p.geometry for p in community_parts})
    records = number_cells(assignment.by_parent)

    def region(
        level: RegionLevel, code: str, name: str, parent: str | None, geom: BaseGeometry
    ) -> NewRegion:
        centre = geom.representative_point()
        return NewRegion(
            level=level,
            code=code,
            name=name,
            parent_code=parent,
            department_id=street_offices.get(code) if level is RegionLevel.STREET else None,
            geometry_wkb=shapely.to_wkb(geom),
            area_m2=round(project_to_metres(geom)[0].area, 1),
            centroid=(round(centre.x, 7), round(centre.y, 7)),
            valid_from=now.date().replace(month=1, day=1),
        )

    batch = [region(RegionLevel.DISTRICT, DISTRICT, DISTRICT_NAME, None, area)]
    batch += [
        region(RegionLevel.STREET, p.code, p.name, DISTRICT, p.geometry)
        for p in sorted(street_parts, key=lambda p: p.code)
    ]
    batch += [
        region(RegionLevel.COMMUNITY, p.code, p.name, p.code[:9], p.geometry)
        for p in sorted(community_parts, key=lambda p: p.code)
    ]
    grids = []
    for record in records:
        parent_name = next(p.name for p in community_parts if p.code == record.parent_code)
        batch.append(
            region(
                RegionLevel.GRID,
                record.code,
                f"{parent_name}{record.code[-3:]}号网格",
                record.parent_code,
                record.geometry,
            )
        )
        point = record.geometry.representative_point()
        grids.append((record.code, point.x, point.y))
    org.create_regions(container.uow(), batch, actor=SYSTEM_ACTOR, now=now)
    container.locator.reload()
    return grids


def build_departments(container: Container, now: datetime, city: DemoCity) -> None:
    make = org.create_department
    top = make(
        container.uow(),
        actor=SYSTEM_ACTOR,
        now=now,
        code="C-DC",
        name="东城区城市管理监督指挥中心",
        kind=DepartmentKind.CENTRE,
        level=0,
    )
    city.departments["centre"] = top.id
    sub = make(
        container.uow(),
        actor=SYSTEM_ACTOR,
        now=now,
        code="C-DC-2",
        name="东城区城市管理二级指挥分中心",
        kind=DepartmentKind.CENTRE,
        level=1,
        parent_id=top.id,
        district_code=DISTRICT,
    )
    city.departments["sub_centre"] = sub.id
    for key, code, name, kind in AGENCIES:
        dept = make(
            container.uow(),
            actor=SYSTEM_ACTOR,
            now=now,
            code=code,
            name=name,
            kind=kind,
            level=1,
            district_code=DISTRICT,
        )
        city.departments[key] = dept.id
    for street_code, street_name in streets():
        dept = make(
            container.uow(),
            actor=SYSTEM_ACTOR,
            now=now,
            code=f"S{street_code}",
            name=f"{street_name}办事处",
            kind=DepartmentKind.STREET_OFFICE,
            level=1,
            district_code=DISTRICT,
        )
        city.street_offices[street_code] = dept.id


def build_users(
    container: Container, now: datetime, city: DemoCity, grids: Sequence[tuple[str, float, float]]
) -> None:
    def user(
        name: str,
        display: str,
        role: Role,
        *,
        district: str | None = None,
        department: int | None = None,
        scope: str = "",
        phone: str = "",
    ) -> None:
        created = org.create_user(
            container.uow(),
            actor=SYSTEM_ACTOR,
            now=now,
            username=name,
            display_name=display,
            password=PASSWORD,
            grants=[RoleGrant(role, district, department)],
            phone=phone,
        )
        city.users[name] = (created.id, role, district, department)
        city.logins.append((name, role.value, scope or display))

    user("admin", "系统管理员", Role.ADMIN)
    user("leader", "王局长", Role.LEADER)
    for i, name in enumerate(("张敏", "李娜", "赵静"), 1):
        user(f"operator{i}", f"受理员{name}", Role.OPERATOR)
    for i, name in enumerate(("陈刚", "周强"), 1):
        user(f"shiftlead{i}", f"值班长{name}", Role.SHIFT_LEAD)
    user("dispatcher1", "派遣员孙磊", Role.DISPATCHER)
    user("dispatcher2", "派遣员吴涛", Role.DISPATCHER)
    user(
        "dispatcher_dc",
        "二级分中心派遣员郑洁",
        Role.DISPATCHER,
        district=DISTRICT,
        scope="二级分中心 / district centre",
    )
    for key, _code, name, _kind in AGENCIES:
        user(
            f"dept_{key}",
            f"{name}",
            Role.HANDLER,
            district=DISTRICT,
            department=city.departments[key],
            scope=name,
        )
    for street_code, street_name in streets():
        user(
            f"street_{street_code[-3:]}",
            f"{street_name}办事处",
            Role.HANDLER,
            district=DISTRICT,
            department=city.street_offices[street_code],
            scope=f"{street_name}办事处",
        )
    # Citizens report under their own name and phone (history.py reads them from here).
    user("citizen1", "市民刘先生", Role.CITIZEN, phone="13910001001")
    user("citizen2", "市民何女士", Role.CITIZEN, phone="13910001002")
    user("sensor", "物联感知平台", Role.SYSTEM, scope="IoT / video")
    # Two inspectors per street, each responsible for half of the street's grids.
    by_street: dict[str, list[str]] = {}
    for code, _lon, _lat in grids:
        by_street.setdefault(code[:9], []).append(code)
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
    for n, (street_code, street_name) in enumerate(streets()):
        names = []
        codes = sorted(by_street.get(street_code, []))
        half = (len(codes) + 1) // 2
        for k, part in enumerate((codes[:half], codes[half:])):
            name = f"inspector{street_code[-3:]}{'ab'[k]}"
            surname = surnames[(2 * n + k) % len(surnames)]
            user(
                name,
                f"监督员{surname}{'伟芳'[k]}",
                Role.INSPECTOR,
                district=DISTRICT,
                scope=f"{street_name} {len(part)} 个网格",
            )
            org.assign_grids(
                container.uow(), city.users[name][0], part, actor=SYSTEM_ACTOR, now=now
            )
            names.append(name)
        city.inspectors_by_street[street_code] = names


def build_components(
    container: Container,
    now: datetime,
    city: DemoCity,
    grids: Sequence[tuple[str, float, float]],
    rng: random.Random,
) -> None:
    area = boundary()
    shapely.prepare(area)
    minx, miny, maxx, maxy = area.bounds
    batch = []
    for class_code, (count, owner) in COMPONENTS.items():
        made = 0
        while made < count:
            lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if not shapely.contains_xy(area, lon, lat):
                continue
            made += 1
            code = f"{DISTRICT}{class_code}{made:06d}"
            owner_id = city.departments[owner]
            batch.append(
                Component(
                    id=0,
                    object_code=code,
                    category_id=0,
                    class_code=class_code,
                    name="",
                    lon=round(lon, 7),
                    lat=round(lat, 7),
                    owner_id=owner_id,
                    maintainer_id=owner_id,
                    supervisor_id=city.departments["cgw"],
                )
            )
            city.components.append((code, class_code, round(lon, 7), round(lat, 7)))
    org.create_components(container.uow(), batch, actor=SYSTEM_ACTOR, now=now)


def build_dispatch_rules(container: Container, now: datetime, city: DemoCity) -> int:
    """Map each filing standard's responsible body to a 东城区 department."""
    with container.uow(readonly=True) as uow:
        standards = uow.catalog.standard_rows()
        majors = {
            c.id: c.major_code
            for c in uow.catalog.categories(edition=Edition.CURRENT, kind=ClassKind.MATTER)
        }
    count = 0
    for standard in standards:
        key = department_for_body(
            standard.responsible_body + standard.supervising_body,
            majors.get(standard.category_id, "06"),
        )
        org.add_dispatch_rule(
            container.uow(),
            DispatchRule(
                id=0,
                department_id=city.departments[key],
                filing_standard_id=standard.id,
                district_code=DISTRICT,
            ),
            actor=SYSTEM_ACTOR,
            now=now,
        )
        count += 1
    return count
