"""A synthetic standard-address register for a demo district. **Not real addresses.**

No open data set gives the roads, door numbers and POIs of a Chinese district (the real
register belongs to the city's 民政 / 公安 / 规划 offices). For the demo city and the benchmarks
this module draws a plausible one inside a real district boundary, deterministically from a
seed:

- roads on a jittered lattice inside each street (街道), named from the street's name — for
  和平里街道: 和平里北街, 和平里南街, 和平里东街, 和平里西街, 和平里中街, 和平里三条, 和平里西二巷
  … — and, for some short ones, made-up 胡同 names;
- doors every few tens of metres along both sides of each road, odd numbers on the north or
  west side, even on the other, counted from the west or north end; about a third of them are
  courtyards (…号院) holding numbered buildings (…号楼);
- POIs at some doors: one school, park, clinic … per street, and shops with made-up names.

Every entry is marked ``synthetic`` with the source ``cityloop synthetic demo register``, and
the codes say so (``110101R0001``, ``…D0001``, ``…B01``, ``110101P00001``). Positions are
WGS84; streets and communities without polygons are derived with
:func:`~cityloop.adapters.geo.grids.partition_into_communities` (synthetic too).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import shapely
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from cityloop.adapters.geo.crs import project_array, project_to_metres
from cityloop.adapters.geo.grids import partition_into_communities
from cityloop.domain.address import AddressKind, StandardAddress

SOURCE = "cityloop synthetic demo register"
MIN_ROAD_M = 120.0
DOOR_OFFSET_M = 12.0
COMPOUND_SHARE = 0.35
POI_SHARE = 0.06
BUILDINGS_PER_COMPOUND = (2, 9)

_SYLLABLES = (
    "福顺康宁惠民金鼎永和华联同仁天福鸿运安泰吉祥瑞丰百合春晖和兴德胜"
    "广源恒昌新华明德光华文昌兴隆庆丰东升长青宝华嘉禾益民双井万福"
)
_HUTONG_WORDS = (
    "帽儿", "菊儿", "拐棒", "烟袋", "豆腐", "炒豆", "棉花", "油坊", "酒醋", "细管",
    "板桥", "北锣", "南锣", "石雀", "大佛", "香饵", "府学", "箭厂", "钱粮", "方家",
    "史家", "内务", "礼士", "演乐", "本司", "前鼓", "后鼓", "东棉", "西棉", "船板",
)  # fmt: skip
_UNIQUE_POIS = (
    ("学校", "小学", ("{stem}小",)),
    ("学校", "中学", ()),
    ("学校", "幼儿园", ()),
    ("医疗", "社区卫生服务中心", ("{stem}卫生服务中心",)),
    ("政府机构", "派出所", ()),
    ("生活服务", "邮政所", ()),
    ("公园", "公园", ("{stem}园",)),
    ("购物", "菜市场", ()),
    ("文化", "图书馆", ()),
)
_SHOPS = (
    ("购物", "便利店"),
    ("购物", "超市"),
    ("餐饮", "餐厅"),
    ("餐饮", "饺子馆"),
    ("医疗", "药店"),
    ("文化", "书店"),
    ("生活服务", "洗衣店"),
    ("生活服务", "理发店"),
)


@dataclass(frozen=True, slots=True)
class CommunityInfo:
    code: str
    name: str
    geometry: BaseGeometry | None = None  # WGS84


@dataclass(frozen=True, slots=True)
class StreetInfo:
    code: str
    name: str
    geometry: BaseGeometry | None = None  # WGS84
    communities: Sequence[CommunityInfo] = field(default_factory=tuple)


def _stem(street_name: str) -> str:
    for suffix in ("街道办事处", "街道", "地区", "镇", "乡"):
        if street_name.endswith(suffix) and len(street_name) > len(suffix) + 1:
            return street_name[: -len(suffix)]
    return street_name


_NUMERALS = "一二三四五六七八九十"


def _ordinal(n: int) -> str:
    if n <= 10:
        return _NUMERALS[n - 1]
    return "十" + _NUMERALS[n - 11] if n < 20 else str(n)


class _Names:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def take(self, wanted: str) -> str | None:
        if wanted in self.used:
            return None
        self.used.add(wanted)
        return wanted

    def hutong(self) -> str:
        for _ in range(200):
            word = self.rng.choice(_HUTONG_WORDS)
            suffix = self.rng.choice(("胡同", "胡同", "胡同", "巷", "夹道"))
            name = f"{word}{suffix}"
            if name not in self.used:
                self.used.add(name)
                return name
        for n in range(1, 10_000):  # the pool ran out: number them
            name = f"{self.rng.choice(_HUTONG_WORDS)}{_ordinal(n % 19 + 1)}巷{n}"
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("no road name left")  # pragma: no cover

    def shop(self, kind: str) -> str:
        for _ in range(200):
            name = "".join(self.rng.sample(_SYLLABLES, 2)) + kind
            if name not in self.used:
                self.used.add(name)
                return name
        n = 2
        while f"{name}{n}店" in self.used:
            n += 1
        self.used.add(f"{name}{n}店")
        return f"{name}{n}店"


def _road_names(
    stem: str, horizontal: int, vertical: int, names: _Names
) -> tuple[list[str], list[str]]:
    """Names of a street's east–west roads (north → south) and north–south roads (west → east)."""
    rows = []
    for k in range(horizontal):
        if k == 0:
            wanted = f"{stem}北街"
        elif k == horizontal - 1:
            wanted = f"{stem}南街"
        elif k == horizontal // 2:
            wanted = f"{stem}中街"
        else:
            wanted = f"{stem}{_ordinal(k + 1)}条"
        rows.append(names.take(wanted) or names.hutong())
    cols = []
    for k in range(vertical):
        if k == 0:
            wanted = f"{stem}西街"
        elif k == vertical - 1:
            wanted = f"{stem}东街"
        elif k == vertical // 2:
            wanted = f"{stem}中路"
        else:
            side = "西" if k < vertical / 2 else "东"
            wanted = f"{stem}{side}{_ordinal(min(k, vertical - 1 - k) + 1)}巷"
        cols.append(names.take(wanted) or names.hutong())
    return rows, cols


def _lines(
    poly: BaseGeometry, spacing: float, rng: random.Random
) -> tuple[list[list[LineString]], list[list[LineString]]]:
    """Jittered lattice lines clipped to ``poly`` (metres): east–west ones north → south,
    running west → east; north–south ones west → east, running north → south."""
    minx, miny, maxx, maxy = poly.bounds
    rows: list[list[LineString]] = []
    y = maxy - spacing / 2
    while y > miny:
        yy = y + rng.uniform(-0.15, 0.15) * spacing
        rows.append(_pieces(poly, LineString([(minx - 1, yy), (maxx + 1, yy)])))
        y -= spacing
    cols: list[list[LineString]] = []
    x = minx + spacing / 2
    while x < maxx:
        xx = x + rng.uniform(-0.15, 0.15) * spacing
        cols.append(_pieces(poly, LineString([(xx, maxy + 1), (xx, miny - 1)])))
        x += spacing
    return [r for r in rows if r], [c for c in cols if c]


def _pieces(poly: BaseGeometry, line: LineString) -> list[LineString]:
    cut = shapely.intersection(line, poly)
    parts = [p for p in shapely.get_parts(cut).tolist() if p.geom_type == "LineString"]
    parts = [p for p in parts if p.length >= MIN_ROAD_M]
    start = np.array(line.coords[0])
    # keep the direction of the original line (west → east, north → south)
    fixed = []
    for p in parts:
        a, b = np.array(p.coords[0]), np.array(p.coords[-1])
        fixed.append(
            p
            if np.linalg.norm(a - start) <= np.linalg.norm(b - start)
            else LineString(p.coords[::-1])
        )
    return sorted(fixed, key=lambda p: float(np.linalg.norm(np.array(p.coords[0]) - start)))


@dataclass
class _Draft:
    code: str
    kind: AddressKind
    x: float
    y: float
    road: str = ""
    door: str = ""
    compound: bool = False
    building: str = ""
    name: str = ""
    poi_type: str = ""
    aliases: tuple[str, ...] = ()
    street_code: str | None = None
    line: BaseGeometry | None = None


def _street_polygons(
    boundary: BaseGeometry, streets: Sequence[StreetInfo], seed: int
) -> dict[str, BaseGeometry]:
    polygons = {s.code: s.geometry for s in streets if s.geometry is not None}
    missing = [s for s in streets if s.geometry is None]
    if missing:
        weights = {s.code: float(max(1, len(s.communities))) for s in missing}
        free = boundary
        if polygons:
            free = shapely.difference(boundary, shapely.union_all(list(polygons.values())))
        parts = partition_into_communities(
            free, [(s.code, s.name) for s in missing], seed, weights=weights
        )
        polygons.update({p.code: p.geometry for p in parts})
    return polygons


def generate_demo_addresses(
    boundary_wgs84: BaseGeometry,
    streets: Sequence[StreetInfo],
    seed: int,
    *,
    district_code: str,
    road_spacing_m: float = 220.0,
    door_spacing_m: float = 35.0,
    target_count: int | None = None,
    valid_from: date | None = None,
) -> list[StandardAddress]:
    """A synthetic address register of a district (see the module docstring).

    ``streets`` name the district's 街道 (with their polygons and communities when known).
    ``target_count`` scales the door spacing (and, if that is not enough, the road spacing)
    so that the register holds about that many entries (within a few per cent). The same
    inputs and seed give the same register.
    """
    if not streets:
        raise ValueError("generate_demo_addresses needs at least one street")
    boundary = shapely.make_valid(boundary_wgs84)
    boundary_m, epsg = project_to_metres(boundary)
    polygons = _street_polygons(boundary, sorted(streets, key=lambda s: s.code), seed)
    ordered = sorted(streets, key=lambda s: s.code)
    metric = project_array(np.array([polygons[s.code] for s in ordered], dtype=object), epsg)
    clipped = [shapely.intersection(shapely.make_valid(m), boundary_m) for m in metric.tolist()]
    if target_count is not None:
        per_m = (
            2 / door_spacing_m * (1 + COMPOUND_SHARE * sum(BUILDINGS_PER_COMPOUND) / 2 + POI_SHARE)
        )
        area = sum(float(c.area) for c in clipped)
        length = 2 * area / road_spacing_m
        estimate = length * per_m
        factor = estimate / target_count
        door_spacing_m = door_spacing_m * factor
        if door_spacing_m < 12.0:
            road_spacing_m *= door_spacing_m / 12.0
            door_spacing_m = 12.0
        door_spacing_m = min(door_spacing_m, 400.0)
    result = _generate(ordered, clipped, seed, district_code, road_spacing_m, door_spacing_m)
    if (
        target_count is not None
        and result
        and abs(len(result) - target_count) > 0.02 * target_count
    ):
        # the estimate was off (boundary effects): correct the door spacing once
        door_spacing_m = max(8.0, door_spacing_m * len(result) / target_count)
        result = _generate(ordered, clipped, seed, district_code, road_spacing_m, door_spacing_m)
    return _finish(result, streets, epsg, district_code, valid_from)


def _generate(
    ordered: Sequence[StreetInfo],
    clipped: Sequence[BaseGeometry],
    seed: int,
    district_code: str,
    road_spacing_m: float,
    door_spacing_m: float,
) -> list[_Draft]:
    drafts: list[_Draft] = []
    names = _Names(random.Random(f"{seed}:names"))
    road_no = poi_no = 0
    for street, poly in zip(ordered, clipped, strict=True):
        if poly.is_empty:
            continue
        rng = random.Random(f"{seed}:{street.code}")
        stem = _stem(street.name)
        rows, cols = _lines(poly, road_spacing_m, rng)
        row_names, col_names = _road_names(stem, len(rows), len(cols), names)
        roads: list[tuple[str, LineString, bool]] = []
        for pieces, name in [
            *zip(rows, row_names, strict=True),
            *zip(cols, col_names, strict=True),
        ]:
            horizontal = abs(pieces[0].coords[-1][0] - pieces[0].coords[0][0]) > abs(
                pieces[0].coords[-1][1] - pieces[0].coords[0][1]
            )
            for i, piece in enumerate(pieces):
                label = name if i == 0 else names.hutong()
                if i == 0 and piece.length < 400 and rng.random() < 0.3:
                    label = names.hutong()
                roads.append((label, piece, horizontal))
        street_drafts: list[_Draft] = []
        shapely.prepare(poly)
        unique = list(_UNIQUE_POIS)
        rng.shuffle(unique)
        for name, line, _horizontal in roads:
            road_no += 1
            road_code = f"{district_code}R{road_no:04d}"
            mid = line.interpolate(0.5, normalized=True)
            street_drafts.append(
                _Draft(
                    road_code,
                    AddressKind.ROAD,
                    mid.x,
                    mid.y,
                    road=name,
                    street_code=street.code,
                    line=line,
                )
            )
            odd, even = 1, 2
            position = door_spacing_m * rng.uniform(0.3, 0.7)
            door_no = 0
            side = 1
            while position < line.length - 5:
                a = line.interpolate(position)
                b = line.interpolate(min(position + 1.0, line.length))
                dx, dy = b.x - a.x, b.y - a.y
                norm = math.hypot(dx, dy) or 1.0
                # left of the direction of travel: north of a west → east road, east of …
                left = (-dy / norm, dx / norm)
                number = odd if side > 0 else even
                sign = 1 if side > 0 else -1
                px = a.x + sign * left[0] * DOOR_OFFSET_M
                py = a.y + sign * left[1] * DOOR_OFFSET_M
                if side > 0:
                    odd += 2
                else:
                    even += 2
                side = -side
                if side > 0:
                    position += door_spacing_m * rng.uniform(0.8, 1.2)
                if not shapely.intersects_xy(poly, px, py):
                    continue
                door_no += 1
                door_code = f"{road_code}D{door_no:04d}"
                compound = rng.random() < COMPOUND_SHARE
                street_drafts.append(
                    _Draft(
                        door_code,
                        AddressKind.DOOR,
                        px,
                        py,
                        road=name,
                        door=str(number),
                        compound=compound,
                        street_code=street.code,
                    )
                )
                if compound:
                    count = rng.randint(*BUILDINGS_PER_COMPOUND)
                    for k in range(1, count + 1):
                        depth = rng.uniform(25.0, 80.0)
                        along = rng.uniform(-25.0, 25.0)
                        bx = px + sign * left[0] * depth + dx / norm * along
                        by = py + sign * left[1] * depth + dy / norm * along
                        if shapely.intersects_xy(poly, bx, by):
                            street_drafts.append(
                                _Draft(
                                    f"{door_code}B{k:02d}",
                                    AddressKind.BUILDING,
                                    bx,
                                    by,
                                    road=name,
                                    door=str(number),
                                    compound=True,
                                    building=str(k),
                                    street_code=street.code,
                                )
                            )
                if rng.random() < POI_SHARE:
                    poi_no += 1
                    if unique:
                        poi_type, kind, alias_forms = unique.pop()
                        poi_name = names.take(f"{stem}{kind}") or names.shop(kind)
                        aliases = tuple(a.format(stem=stem) for a in alias_forms)
                    else:
                        poi_type, kind = rng.choice(_SHOPS)
                        poi_name = names.shop(kind)
                        aliases = ()
                    qx, qy = px + dx / norm * 5.0, py + dy / norm * 5.0
                    if not shapely.intersects_xy(poly, qx, qy):
                        qx, qy = px, py
                    street_drafts.append(
                        _Draft(
                            f"{district_code}P{poi_no:05d}",
                            AddressKind.POI,
                            qx,
                            qy,
                            road=name,
                            door=str(number),
                            compound=compound,
                            name=poi_name,
                            poi_type=poi_type,
                            aliases=aliases,
                            street_code=street.code,
                        )
                    )
        drafts += street_drafts
    return drafts


def _finish(
    drafts: Sequence[_Draft],
    streets: Sequence[StreetInfo],
    epsg: int,
    district_code: str,
    valid_from: date | None,
) -> list[StandardAddress]:
    if not drafts:
        return []
    points = shapely.points([d.x for d in drafts], [d.y for d in drafts])
    lonlat = shapely.get_coordinates(project_array(points, epsg, inverse=True))
    lines = {i: d.line for i, d in enumerate(drafts) if d.line is not None}
    line_wgs = (
        dict(
            zip(
                lines,
                project_array(
                    np.array(list(lines.values()), dtype=object), epsg, inverse=True
                ).tolist(),
                strict=True,
            )
        )
        if lines
        else {}
    )
    communities = [c for s in streets for c in s.communities if c.geometry is not None]
    community_of: list[str | None] = [None] * len(drafts)
    if communities:
        tree = shapely.STRtree([c.geometry for c in communities])
        wgs_points = shapely.points(lonlat[:, 0], lonlat[:, 1])
        hits = tree.query(wgs_points, predicate="intersects")
        for point_i, comm_i in sorted(
            zip(hits[0].tolist(), hits[1].tolist(), strict=True), reverse=True
        ):
            community_of[point_i] = communities[comm_i].code  # lowest index wins
    result = []
    for i, d in enumerate(drafts):
        line = line_wgs.get(i)
        result.append(
            StandardAddress(
                id=0,
                code=d.code,
                kind=d.kind,
                district_code=district_code,
                lon=round(float(lonlat[i, 0]), 7),
                lat=round(float(lonlat[i, 1]), 7),
                road=d.road,
                door=d.door,
                compound=d.compound,
                building=d.building,
                name=d.name
                if d.kind is AddressKind.POI
                else (d.road if d.kind is AddressKind.ROAD else ""),
                poi_type=d.poi_type,
                street_code=d.street_code,
                community_code=community_of[i],
                aliases=d.aliases,
                synthetic=True,
                source=SOURCE,
                valid_from=valid_from,
                geometry_wkb=shapely.to_wkb(shapely.set_precision(line, 1e-7))
                if line is not None
                else None,
            )
        )
    return result
