"""Standard addresses (标准地址) and the text rules of geocoding (地理编码).

Reference: ``standards.md`` §4. GB/T 37149-2018 Annex B (built on GB/T 30428.3) ranks the parts
of a place name from coarse to fine: 1 province, 2 city, 3 county-level district, 4 乡镇/街道,
5 村/社区, 6 道路/街巷, 7 地片/区片, 8 门牌号, 9 楼牌号, 10 兴趣点 (POI). A standard address is
``(1)(2)(3)(4|5|6)(7) 8|9`` — a door or building on a road — or ``… 10 (方位)`` — a POI with a
direction-and-distance description (the CJ/T 215 方位描述, "和平里东街11号院东侧约20米").

Levels 1–5 are the regions (:mod:`cityloop.domain.regions`); this module holds levels 6–10 as
:class:`StandardAddress` records, and the pure text rules: normalising free text, reading
house numbers (Chinese numerals included), composing an address's label and describing a
point relative to an address.
"""

from __future__ import annotations

import enum
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from cityloop.domain.errors import Msg, ValidationError


class AddressKind(enum.StrEnum):
    """The place types of a standard address register (GB/T 30428.3 / 运管服 地理编码)."""

    ROAD = "road"  # 道路、街巷 (level 6)
    AREA = "area"  # 地片、区片 (level 7)
    DOOR = "door"  # 门牌 (level 8)
    BUILDING = "building"  # 楼牌 (level 9)
    POI = "poi"  # 兴趣点 (level 10)


KIND_LEVEL = {
    AddressKind.ROAD: 6,
    AddressKind.AREA: 7,
    AddressKind.DOOR: 8,
    AddressKind.BUILDING: 9,
    AddressKind.POI: 10,
}
KIND_NAMES = {
    AddressKind.ROAD: Msg("road"),
    AddressKind.AREA: Msg("area"),
    AddressKind.DOOR: Msg("door number"),
    AddressKind.BUILDING: Msg("building number"),
    AddressKind.POI: Msg("point of interest"),
}
_KIND_WORDS = {
    "道路": AddressKind.ROAD,
    "街巷": AddressKind.ROAD,
    "街路巷": AddressKind.ROAD,
    "地片": AddressKind.AREA,
    "区片": AddressKind.AREA,
    "门牌": AddressKind.DOOR,
    "门楼牌": AddressKind.DOOR,
    "门牌号": AddressKind.DOOR,
    "楼牌": AddressKind.BUILDING,
    "楼牌号": AddressKind.BUILDING,
    "兴趣点": AddressKind.POI,
}

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,39}$")
MAX_NAME = 100
MAX_ALIASES = 10


def parse_kind(text: object) -> AddressKind:
    """An address kind from its code (``door``) or its Chinese name (``门牌``)."""
    value = str(text or "").strip()
    if value.lower() in {k.value for k in AddressKind}:
        return AddressKind(value.lower())
    if value in _KIND_WORDS:
        return _KIND_WORDS[value]
    raise ValidationError(
        "address_kind_invalid",
        "{value} is not a kind of address; use road, area, door, building or poi",
        value=value,
    )


@dataclass(frozen=True, slots=True)
class StandardAddress:
    """One place of the address register, at levels 6–10.

    ``door`` is the door number as written without 号 (``"11"``, ``"甲11"``, ``"11-1"``);
    ``compound`` marks a 院 (courtyard: "11号院"); ``building`` is the number of a building in
    it without 号楼 (``"3"``). ``name`` is the POI's or area's name (for a road, the road's).
    Position is WGS84/CGCS2000; a road or area may carry its line or polygon as WKB.
    """

    id: int
    code: str
    kind: AddressKind
    district_code: str
    lon: float
    lat: float
    road: str = ""
    door: str = ""
    compound: bool = False
    building: str = ""
    name: str = ""
    poi_type: str = ""
    street_code: str | None = None
    community_code: str | None = None
    grid_code: str | None = None
    aliases: tuple[str, ...] = ()
    synthetic: bool = False
    source: str = ""
    valid_from: date | None = None
    valid_to: date | None = None
    geometry_wkb: bytes | None = None

    @property
    def label(self) -> str:
        """The address below the regions: "和平里东街11号院3号楼", or the POI's name."""
        return address_label(
            self.kind,
            road=self.road,
            door=self.door,
            compound=self.compound,
            building=self.building,
            name=self.name,
        )


def door_text(door: str, compound: bool = False) -> str:
    """ "11" → "11号", or "11号院" for a courtyard."""
    return f"{door}号院" if compound else f"{door}号"


def building_text(building: str) -> str:
    """ "3" → "3号楼" (a building numbered with letters stays as given: "A座")."""
    return f"{building}号楼" if building[-1:].isdigit() else building


def address_label(
    kind: AddressKind,
    *,
    road: str = "",
    door: str = "",
    compound: bool = False,
    building: str = "",
    name: str = "",
) -> str:
    if kind is AddressKind.POI or kind is AddressKind.AREA:
        return name
    if kind is AddressKind.ROAD:
        return road or name
    text = road + (door_text(door, compound) if door else "")
    if kind is AddressKind.BUILDING:
        text += building_text(building)
    return text


def check_address(address: StandardAddress) -> None:
    """The fields a kind of address needs (GB/T 37149 Annex B patterns)."""
    if not CODE_PATTERN.match(address.code):
        raise ValidationError(
            "address_code_invalid",
            "Address code {code} must have 1 to 40 letters, digits, '-' or '_'",
            code=address.code,
        )
    kind = address.kind
    if kind in (AddressKind.DOOR, AddressKind.BUILDING, AddressKind.ROAD) and not address.road:
        raise ValidationError(
            "address_road_missing",
            "A {kind} needs the name of its road or lane",
            kind=KIND_NAMES[kind],
        )
    if kind in (AddressKind.DOOR, AddressKind.BUILDING) and not address.door:
        raise ValidationError(
            "address_door_missing", "A {kind} needs its door number", kind=KIND_NAMES[kind]
        )
    if kind is AddressKind.BUILDING and not address.building:
        raise ValidationError("address_building_missing", "A building address needs its number")
    if kind in (AddressKind.POI, AddressKind.AREA) and not address.name:
        raise ValidationError(
            "address_name_missing", "A {kind} needs its name", kind=KIND_NAMES[kind]
        )
    for text in (address.road, address.name, address.poi_type, *address.aliases):
        if len(text) > MAX_NAME:
            raise ValidationError(
                "address_name_too_long",
                "Name {name} is longer than {limit} characters",
                name=text[:20] + "…",
                limit=MAX_NAME,
            )
    if len(address.aliases) > MAX_ALIASES:
        raise ValidationError(
            "address_too_many_aliases",
            "An address has at most {limit} aliases",
            limit=MAX_ALIASES,
        )


# --- normalising free text ------------------------------------------------------------------
_CN_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUMBER = "〇零一二两三四五六七八九十百千"
# A Chinese numeral is read as a number only before these counters, so that place names with
# numerals in them (三里河, 东四十条, 二环) keep their characters.
_COUNTERS = "号|号院|号楼|栋|幢|座|单元|层|楼|室|户"
_CN_BEFORE_COUNTER = re.compile(rf"([{_CN_NUMBER}]+)(?=(?:{_COUNTERS}))")
_DROP = re.compile(r"[\s,，。、;；:：!！?？()（）\[\]【】\"'“”‘’《》<>·/\\|]+")
_DASH = re.compile(r"[‐‑‒–—―－~～]")


def chinese_number(text: str) -> int:
    """Read a Chinese numeral: "十一" → 11, "二十" → 20, "一百零五" → 105, "三〇二" → 302.

    Digit strings without units ("三〇二") are read digit by digit, as door and room numbers
    are spoken.
    """
    if not text or any(ch not in _CN_DIGITS and ch not in _CN_UNITS for ch in text):
        raise ValidationError(
            "chinese_number_invalid", "{text} is not a Chinese numeral", text=text
        )
    if not any(ch in _CN_UNITS for ch in text):
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, digit = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            total += (digit or 1) * _CN_UNITS[ch]
            digit = 0
    return total + digit


def normalize_text(text: str) -> str:
    """Free address text → a canonical form for matching.

    Full-width letters and digits become ASCII (NFKC), spaces and punctuation go, dashes become
    ``-``, Chinese numerals before a counter (号, 号楼, 栋, 单元, 室 …) become digits:
    "和平里东街 十一号院 三号楼" → "和平里东街11号院3号楼".
    """
    value = unicodedata.normalize("NFKC", text or "")
    value = _DASH.sub("-", value)
    value = _DROP.sub("", value)
    return _CN_BEFORE_COUNTER.sub(lambda m: str(chinese_number(m.group(1))), value)


@dataclass(frozen=True, slots=True)
class HouseNumbers:
    """The numbered tail of an address text and where it starts.

    ``start`` is the index in the normalised text where the first number begins: the text
    before it names the places (regions, road or POI). ``door``/``building`` are ``""`` when
    absent; ``rest`` is what follows the building (unit, floor, room — kept, not matched).
    """

    door: str = ""
    compound: bool = False
    building: str = ""
    rest: str = ""
    start: int = -1

    @property
    def empty(self) -> bool:
        return not self.door and not self.building


_DOOR = re.compile(r"([甲乙丙丁戊]?\d+(?:-\d+)?)号(?!楼)(院)?")
_BUILDING = re.compile(r"([A-Za-z]?\d+[A-Za-z]?|[A-Za-z])(?:号楼|栋|幢|号座|座|楼)")


def house_numbers(normalized: str) -> HouseNumbers:
    """Find the door number ("11号", "甲11号", "11号院") and the building number ("3号楼",
    "3栋", "A座") in normalised text. The building is looked for after the door (or anywhere
    when there is no door: "某小区3号楼")."""
    door = _DOOR.search(normalized)
    after = door.end() if door else 0
    building = _BUILDING.search(normalized, after)
    if door is None and building is None:
        return HouseNumbers()
    start = door.start() if door else building.start() if building else -1
    end = building.end() if building else door.end() if door else len(normalized)
    return HouseNumbers(
        door=door.group(1) if door else "",
        compound=bool(door and door.group(2)),
        building=building.group(1) if building else "",
        rest=normalized[end:],
        start=start,
    )


def door_number(door: str) -> int | None:
    """The leading integer of a door number, for "nearest door" reasoning ("甲11" → 11)."""
    found = re.search(r"\d+", door)
    return int(found.group()) if found else None


def parse_door(text: object) -> tuple[str, bool]:
    """A door number field as written in a register: "11号院" → ("11", True), "甲11号" →
    ("甲11", False), "11" → ("11", False)."""
    value = normalize_text(str(text or ""))
    compound = value.endswith("号院") or value.endswith("院")
    value = value.removesuffix("院").removesuffix("号")
    return value, compound


def parse_building(text: object) -> str:
    """A building number field: "3号楼" → "3", "3栋" → "3", "A座" → "A座" (kept as written)."""
    value = normalize_text(str(text or ""))
    for suffix in ("号楼", "栋", "幢", "楼"):
        if value.endswith(suffix) and value[: -len(suffix)]:
            return value[: -len(suffix)]
    return value


# --- region name aliases ----------------------------------------------------------------------
_REGION_SUFFIXES = ("社区居委会", "居委会", "居民委员会", "村委会", "街道办事处", "办事处")
_SHORT_SUFFIXES = ("街道", "社区", "地区", "区", "镇", "乡", "村")


def region_aliases(name: str) -> tuple[str, ...]:
    """Other ways people write a region's name: "和平里街道" → ("和平里",), "多福巷社区居委会" →
    ("多福巷社区", "多福巷"), "东城区" → ("东城",). Aliases shorter than two characters are
    dropped (a single character matches too much)."""
    names: list[str] = []
    base = name
    for suffix in _REGION_SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix):
            base = base[: -len(suffix)]
            if suffix in ("社区居委会", "居委会", "居民委员会"):
                base += "社区" if not base.endswith("社区") else ""
            elif suffix == "村委会":
                base += "村"
            elif suffix == "街道办事处":
                base += "街道"
            names.append(base)
            break
    for suffix in _SHORT_SUFFIXES:
        if base.endswith(suffix) and len(base) - len(suffix) >= 2:
            names.append(base[: -len(suffix)])
            break
    return tuple(dict.fromkeys(n for n in names if n != name and len(n) >= 2))


# --- direction and distance (方位描述) ----------------------------------------------------------
DIRECTIONS = ("东", "东北", "北", "西北", "西", "西南", "南", "东南")
DIRECTION_CODES = ("E", "NE", "N", "NW", "W", "SW", "S", "SE")
NEAR_M = 5.0


@dataclass(frozen=True, slots=True)
class Bearing:
    """Where a point lies seen from a place: compass sector (8 of 45°) and distance."""

    code: str  # E, NE, N … ("" when within NEAR_M)
    word: str  # 东, 东北, 北 …
    distance_m: float


def bearing(east_m: float, north_m: float) -> Bearing:
    """The 45° sector of the offset (east, north) in metres, counter-clockwise from east."""
    distance = math.hypot(east_m, north_m)
    if distance < NEAR_M:
        return Bearing("", "", distance)
    angle = math.degrees(math.atan2(north_m, east_m)) % 360.0
    sector = int(((angle + 22.5) % 360.0) // 45.0)
    return Bearing(DIRECTION_CODES[sector], DIRECTIONS[sector], distance)


def rounded_distance(metres: float) -> str:
    """How far, as a person says it: "约20米" (to 5 m below 100 m, 10 m below 1 km), "约1.2公里"."""
    if metres < 100:
        value = max(5, round(metres / 5.0) * 5)
        return f"约{value}米"
    if metres < 1000:
        return f"约{round(metres / 10.0) * 10}米"
    return f"约{metres / 1000:.1f}公里"


def relative_description(place: str, east_m: float, north_m: float) -> str:
    """The 方位描述 of a point: "和平里东街11号院东侧约20米"; "和平里东街11号院附近" within
    :data:`NEAR_M` metres."""
    where = bearing(east_m, north_m)
    if not where.code:
        return f"{place}附近"
    return f"{place}{where.word}侧{rounded_distance(where.distance_m)}"


# --- geocoding results --------------------------------------------------------------------------
class MatchLevel(enum.StrEnum):
    """How precisely a text was matched, finest first."""

    BUILDING = "building"
    DOOR = "door"
    POI = "poi"
    AREA = "area"
    ROAD = "road"
    COMMUNITY = "community"
    STREET = "street"
    DISTRICT = "district"


LEVEL_RANK = {level: rank for rank, level in enumerate(MatchLevel)}


@dataclass(frozen=True, slots=True)
class GeocodeCandidate:
    """One answer of forward geocoding, with a score from 0 to 100.

    ``address`` is the register entry matched (None when only a region matched, then
    ``region_code`` names it). ``approximate`` marks a position taken from a neighbouring
    door on the same road, from the road, or from a region's centre; ``note`` says which.
    """

    level: MatchLevel
    score: float
    lon: float
    lat: float
    text: str
    address: StandardAddress | None = None
    region_code: str | None = None
    district_code: str | None = None
    street_code: str | None = None
    community_code: str | None = None
    approximate: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class ReverseMatch:
    """The nearest register entry to a point, its full text and the point's 方位描述."""

    address: StandardAddress
    text: str
    description: str
    bearing: Bearing


# --- sound-alike characters ---------------------------------------------------------------------
# Addresses typed through a pinyin input method go wrong by picking a character of the same
# sound: 和平里冬街 for 和平里东街, 后鼓像 for 后鼓巷. Each group below holds characters that sound
# alike (same syllable, any tone) and are common in road and place names; folding both the text
# and the names onto the group's first character lets a matcher see through such slips. It is
# used to rank candidates, never to decide alone.
_SOUND_GROUPS = (
    "东冬栋董懂洞动", "西希息溪锡习席喜细", "南难男楠", "北背贝杯悲", "中钟忠终种众",
    "街接节界阶解结杰", "路露鹿陆录璐", "巷像向项象相", "里理李礼丽立力历", "门们闷",
    "胡湖户虎护糊", "同铜通童桐", "条调跳", "桥乔侨", "口扣", "坛谈弹潭檀", "安按岸案",
    "定订丁顶", "平评瓶屏萍", "和合河荷何", "华化花话", "市是事室世", "道到倒", "大打达",
    "新心欣辛", "兴星行形", "福富府复副", "宁凝", "康抗", "德得", "顺舜", "园元原圆源",
    "场厂长", "湾弯", "营赢迎", "庄装", "家佳加嘉", "光广", "建健见", "朝潮", "阳杨扬洋",
)  # fmt: skip
_SOUND = {ch: group[0] for group in _SOUND_GROUPS for ch in group}


def fold_sounds(text: str) -> str:
    """Replace every character by the first of its sound-alike group (others unchanged):
    fold_sounds("和平里冬街") == fold_sounds("和平里东街")."""
    return "".join(_SOUND.get(ch, ch) for ch in text)
