"""Base data (基础数据资源): what is imported and exported, and how a bad row is reported.

Reference: ``standards.md`` §2.4 (data per grid), §3.3/§3.5 (component census attributes of
GB/T 47678.5 Table 2 and their legacy names), §4 (standard addresses). A city's GIS office hands
over layers as GeoJSON, CSV, XLSX or zipped ESRI Shapefiles; their column names follow the
standard's pinyin abbreviations (``GLBJBSM`` …), a legacy system's (``ObjID`` …), Chinese
(``管理部件标识码``) or ours (``object_code``). :data:`FIELDS` maps them all to our names.

An import is checked row by row before anything is written; every problem names the row,
the field and the reason (a :class:`~cityloop.domain.errors.DomainError` with its stable code
and translatable template). Nothing is written unless every row passes.
"""

from __future__ import annotations

import enum
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cityloop.domain.components import Component, ComponentStatus
from cityloop.domain.errors import DomainError, ValidationError


class Entity(enum.StrEnum):
    """What an import or export file holds."""

    GRIDS = "grids"  # 单元网格 (one layer version)
    REGIONS = "regions"  # 区, 街道, 社区 boundaries
    COMPONENTS = "components"  # 部件 (census records)
    ADDRESSES = "addresses"  # 标准地址 (roads, doors, buildings, POIs)


class FileFormat(enum.StrEnum):
    GEOJSON = "geojson"
    CSV = "csv"
    XLSX = "xlsx"
    SHAPEFILE = "shp"  # zipped: .shp + .shx + .dbf (+ .prj, .cpg)


FORMAT_SUFFIXES = {
    ".geojson": FileFormat.GEOJSON,
    ".json": FileFormat.GEOJSON,
    ".csv": FileFormat.CSV,
    ".txt": FileFormat.CSV,
    ".xlsx": FileFormat.XLSX,
    ".zip": FileFormat.SHAPEFILE,
    ".shp": FileFormat.SHAPEFILE,
}


def parse_format(text: object) -> FileFormat:
    value = str(text or "").strip().lower().lstrip(".")
    aliases = {"json": "geojson", "shapefile": "shp", "zip": "shp", "excel": "xlsx"}
    try:
        return FileFormat(aliases.get(value, value))
    except ValueError as exc:
        raise ValidationError(
            "file_format_invalid",
            "{value} is not a file format we read; use geojson, csv, xlsx or shp (zipped)",
            value=value,
        ) from exc


def parse_entity(text: object) -> Entity:
    try:
        return Entity(str(text or "").strip().lower())
    except ValueError as exc:
        raise ValidationError(
            "entity_invalid",
            "{value} is not a kind of base data; use grids, regions, components or addresses",
            value=str(text),
        ) from exc


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A column: our name, the short name written to a Shapefile (dBASE allows 10
    characters), and the other names accepted on import (compared case-insensitively)."""

    name: str
    short: str
    aliases: tuple[str, ...] = ()


_COMMON_GEO = (
    FieldSpec("lon", "LON", ("longitude", "lng", "x", "经度", "point_x", "pointx", "坐标x")),
    FieldSpec("lat", "LAT", ("latitude", "y", "纬度", "point_y", "pointy", "坐标y")),
    FieldSpec("wkt", "WKT", ("geometry", "geom", "shape", "几何", "空间信息")),
    FieldSpec("crs", "CRS", ("坐标系", "srid", "epsg")),
)

FIELDS: Mapping[Entity, tuple[FieldSpec, ...]] = {
    Entity.GRIDS: (
        FieldSpec(
            "code",
            "WGBSM",
            (
                "grid_code",
                "szdywgbsm",
                "dywgbsm",
                "bgid",
                "网格编码",
                "网格代码",
                "单元网格标识码",
                "单元网格代码",
            ),
        ),
        FieldSpec("name", "WGMC", ("grid_name", "网格名称", "名称")),
        FieldSpec(
            "community_code", "SZSQDM", ("parent_code", "szsqdm", "社区代码", "所在社区代码")
        ),
        FieldSpec("area_m2", "AREA", ("area", "面积", "mj")),
        FieldSpec("valid_from", "QYRQ", ("启用日期", "initial_date", "qyrq")),
        *_COMMON_GEO,
    ),
    Entity.REGIONS: (
        FieldSpec("level", "LEVEL", ("级别", "层级", "type")),
        FieldSpec("code", "CODE", ("区划代码", "代码", "编码", "adcode")),
        FieldSpec("name", "NAME", ("名称", "区划名称")),
        FieldSpec("parent_code", "PCODE", ("上级代码", "parent")),
        FieldSpec("valid_from", "QYRQ", ("启用日期", "qyrq")),
        *_COMMON_GEO,
    ),
    Entity.COMPONENTS: (
        FieldSpec(
            "object_code",
            "GLBJBSM",
            ("glbjbsm", "objid", "管理部件标识码", "部件标识码", "部件编码", "bjbm"),
        ),
        FieldSpec("class_code", "FLDM", ("class", "fldm", "分类代码", "小类代码", "类别代码")),
        FieldSpec("name", "GLBJMC", ("glbjmc", "objname", "管理部件名称", "部件名称")),
        FieldSpec("supervisor_code", "ZGBMDM", ("zgbmdm", "deptcode1", "主管部门代码")),
        FieldSpec("supervisor_name", "ZGBMMC", ("zgbmmc", "deptname1", "主管部门名称", "主管部门")),
        FieldSpec("owner_code", "QSDWDM", ("qsdwdm", "deptcode2", "权属单位代码")),
        FieldSpec("owner_name", "QSDWMC", ("qsdwmc", "deptname2", "权属单位名称", "权属单位")),
        FieldSpec("maintainer_code", "YHDWDM", ("yhdwdm", "deptcode3", "养护单位代码")),
        FieldSpec("maintainer_name", "YHDWMC", ("yhdwmc", "deptname3", "养护单位名称", "养护单位")),
        FieldSpec(
            "grid_code",
            "SZDYWGBSM",
            ("szdywgbsm", "bgid", "所在单元网格标识码", "网格编码", "单元网格"),
        ),
        FieldSpec("status", "GLBJZT", ("glbjzt", "objstate", "管理部件状态", "部件状态", "状态")),
        FieldSpec("initial_date", "CSRQ", ("csrq", "ordate", "初始日期")),
        FieldSpec("change_date", "BGRQ", ("bgrq", "chdate", "变更日期")),
        FieldSpec("data_source", "SJLY", ("sjly", "datasource", "数据来源")),
        FieldSpec("note", "BZ", ("bz", "备注", "remark")),
        FieldSpec("street_code", "SZJDDM", ("szjddm", "所在街道代码")),
        FieldSpec("street_name", "SZJDMC", ("szjdmc", "所在街道名称")),
        FieldSpec("community_code", "SZSQDM", ("szsqdm", "所在社区代码")),
        FieldSpec("community_name", "SZSQMC", ("szsqmc", "所在社区名称")),
        FieldSpec("photos", "ZP", ("photo", "照片", "zp")),
        *_COMMON_GEO,
    ),
    Entity.ADDRESSES: (
        FieldSpec("code", "DZBM", ("address_code", "地址编码", "地址代码", "dzbm")),
        FieldSpec("kind", "LX", ("type", "类型", "地址类型", "lx")),
        FieldSpec("district_code", "QXDM", ("区县代码", "区代码", "qxdm")),
        FieldSpec("street_code", "JDDM", ("街道代码", "jddm", "szjddm")),
        FieldSpec("community_code", "SQDM", ("社区代码", "sqdm", "szsqdm")),
        FieldSpec("road", "JXMC", ("道路", "街巷", "街路巷", "道路名称", "jxmc", "street")),
        FieldSpec("door", "MPH", ("门牌号", "门牌", "mph", "house_number")),
        FieldSpec("building", "LPH", ("楼牌号", "楼号", "lph")),
        FieldSpec("name", "MC", ("poi_name", "名称", "兴趣点名称", "mc")),
        FieldSpec("poi_type", "POILX", ("poi类型", "兴趣点类型", "category")),
        FieldSpec("aliases", "BM", ("alias", "别名", "bm")),
        FieldSpec("grid_code", "WGBSM", ("网格编码", "szdywgbsm")),
        FieldSpec("synthetic", "XN", ("虚拟", "xn")),
        FieldSpec("source", "SJLY", ("数据来源", "sjly")),
        FieldSpec("valid_from", "QYRQ", ("启用日期", "qyrq")),
        *_COMMON_GEO,
    ),
}


def _key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.strip().lower())


def canonical_field(entity: Entity, header: str) -> str | None:
    """Our name for a column header of ``entity`` (None for a column we do not know)."""
    wanted = _key(header)
    for spec in FIELDS[entity]:
        if wanted in (_key(spec.name), _key(spec.short), *(_key(a) for a in spec.aliases)):
            return spec.name
    return None


# --- parsed values ---------------------------------------------------------------------------
STATUS_WORDS = {
    "完好": ComponentStatus.INTACT,
    "正常": ComponentStatus.INTACT,
    "破损": ComponentStatus.DAMAGED,
    "损坏": ComponentStatus.DAMAGED,
    "丢失": ComponentStatus.LOST,
    "缺失": ComponentStatus.LOST,
    "废弃": ComponentStatus.ABANDONED,
    "移除": ComponentStatus.REMOVED,
    "拆除": ComponentStatus.REMOVED,
}
STATUS_TEXT = {
    ComponentStatus.INTACT: "完好",
    ComponentStatus.DAMAGED: "破损",
    ComponentStatus.LOST: "丢失",
    ComponentStatus.ABANDONED: "废弃",
    ComponentStatus.REMOVED: "移除",
}


def parse_status(value: object) -> ComponentStatus:
    """A component status from GB/T 47678.5's words (完好/破损/丢失/废弃/移除) or our codes."""
    text = str(value or "").strip()
    if not text:
        return ComponentStatus.INTACT
    if text in STATUS_WORDS:
        return STATUS_WORDS[text]
    try:
        return ComponentStatus(text.lower())
    except ValueError as exc:
        raise ValidationError(
            "component_status_invalid",
            "{value} is not a component status; use 完好, 破损, 丢失, 废弃 or 移除",
            value=text,
        ) from exc


def parse_date(value: object) -> date | None:
    """A date as GB/T 47678 writes it (``YYYYMMDD``), ISO (``YYYY-MM-DD``), ``YYYY/MM/DD`` or
    a spreadsheet date; empty → None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if re.fullmatch(r"\d{8}(\.0)?", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:8]}"
    text = text.replace("/", "-").replace(".", "-")
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?", text)
    try:
        if match is None:
            raise ValueError(text)
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as exc:
        raise ValidationError(
            "date_invalid",
            "{value} is not a date; write YYYYMMDD or YYYY-MM-DD",
            value=str(value),
        ) from exc


def parse_flag(value: object) -> bool:
    text = str(value or "").strip().lower()
    return text in {"1", "true", "yes", "y", "是", "t"}


def text_value(value: object) -> str:
    """A cell as text: numbers without a spurious ``.0`` (spreadsheets store codes as floats)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- records read from a file -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record of an import file, as read: values under our field names, the geometry as
    WGS84 WKB (already converted from the file's coordinate system) and its type, or the
    reason the reader could not make a geometry.

    ``row`` is what a person finds in the file: the line of a CSV or the row of a sheet
    (the header is row 1, the first record row 2); the feature (1, 2, …) of GeoJSON and
    Shapefile.
    """

    row: int
    values: Mapping[str, Any]
    geometry: bytes | None = None
    geometry_type: str | None = None
    problem: DomainError | None = None


@dataclass(frozen=True, slots=True)
class SourceTable:
    records: tuple[SourceRecord, ...]
    columns: tuple[str, ...]  # our names of the columns found
    ignored: tuple[str, ...] = ()  # headers we do not know


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One record to write: text values under our field names and a WGS84 WKB geometry."""

    values: Mapping[str, str]
    geometry: bytes | None = None


@dataclass(frozen=True, slots=True)
class RowProblem:
    """What is wrong with one row (``row`` 0: the file as a whole) and in which field."""

    row: int
    field: str
    error: DomainError

    @property
    def code(self) -> str:
        return self.error.code


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The outcome of an import: applied (every row valid, all written in one transaction) or
    not (nothing written); ``problems`` block it, ``warnings`` do not."""

    entity: Entity
    rows: int
    applied: bool
    dry_run: bool = False
    created: int = 0
    layer_version: int | None = None
    problems: tuple[RowProblem, ...] = ()
    warnings: tuple[RowProblem, ...] = ()
    summary: Mapping[str, Any] = field(default_factory=dict)


# --- geometry facts and grid-layer tools ---------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ShapeInfo:
    """What the geometry adapter says about a WKB geometry."""

    geometry_type: str  # "Point", "Polygon", "MultiPolygon", "LineString", … ("" if unreadable)
    empty: bool
    valid: bool
    reason: str = ""  # why it is not valid
    area_m2: float = 0.0
    length_m: float = 0.0
    centroid: tuple[float, float] | None = None
    inner_point: tuple[float, float] | None = None  # a point guaranteed on the geometry

    @property
    def areal(self) -> bool:
        return self.geometry_type in ("Polygon", "MultiPolygon")

    @property
    def punctual(self) -> bool:
        return self.geometry_type in ("Point", "MultiPoint")

    @property
    def linear(self) -> bool:
        return self.geometry_type in ("LineString", "MultiLineString")


@dataclass(frozen=True, slots=True)
class GridShape:
    """A unit grid for the layer tools: code, WGS84 WKB and its community's code."""

    code: str
    geometry: bytes
    parent_code: str | None = None


@dataclass(frozen=True, slots=True)
class GridDraft:
    """A generated unit grid, numbered (GB/T 30428.1), not yet stored."""

    code: str
    parent_code: str
    geometry: bytes
    area_m2: float
    centroid: tuple[float, float]


@dataclass(frozen=True, slots=True)
class GeneratedGrids:
    grids: tuple[GridDraft, ...]
    epsg: int
    cell_area_m2: float
    min_area_m2: float
    merged_slivers: int
    kept_slivers: tuple[str, ...]  # codes of cells under the minimum that could not merge
    uncovered_m2: float  # area of the district in no community (no grids made there)


class FindingKind(enum.StrEnum):
    """Problems a grid layer check reports (stable identifiers)."""

    MALFORMED_CODE = "malformed_code"
    DUPLICATE_CODE = "duplicate_code"
    NOT_NESTED = "not_nested"
    UNKNOWN_PARENT = "unknown_parent"
    OUTSIDE_PARENT = "outside_parent"
    INVALID_GEOMETRY = "invalid_geometry"
    SMALL_CELL = "small_cell"
    OVERLAP = "overlap"
    GAP = "gap"


@dataclass(frozen=True, slots=True)
class LayerFinding:
    kind: FindingKind
    codes: tuple[str, ...]
    detail: str
    area_m2: float | None = None


@dataclass(frozen=True, slots=True)
class LayerChanges:
    """Two versions of a grid layer compared: codes added, removed, changed in shape, and
    renamed (same shape, new code)."""

    old_version: int
    new_version: int
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    renamed: tuple[tuple[str, str], ...]
    unchanged: int


@dataclass(frozen=True, slots=True)
class GridLayer:
    """One version of the unit-grid layer: from when it is valid, which districts it drew."""

    version: int
    valid_from: date
    district_codes: tuple[str, ...]
    grid_count: int
    source: str = ""
    note: str = ""
    created_at: datetime | None = None
    created_by: int | None = None
    current: bool = False


@dataclass(frozen=True, slots=True)
class ComponentCensus:
    """A component with the census attributes of GB/T 47678.5 Table 2 beyond the core record.

    Department codes (统一社会信用代码) and names are kept as the census gives them; the
    core record links the departments that exist in the system (``supervisor_id`` …).
    ``geometry`` holds a line or polygon component's shape (the core record has its
    representative point). The last four fields are filled when reading, for export.
    """

    component: Component
    supervisor_code: str = ""
    supervisor_name: str = ""
    owner_code: str = ""
    owner_name: str = ""
    maintainer_code: str = ""
    maintainer_name: str = ""
    data_source: str = ""
    note: str = ""
    photos: tuple[str, ...] = ()
    geometry: bytes | None = None
    grid_code: str | None = None
    class_name: str = ""
    street_code: str | None = None
    community_code: str | None = None


def point_wkb(lon: float, lat: float) -> bytes:
    """The WKB of a 2-D point (little-endian, type 1): 21 bytes, no geometry library needed."""
    return struct.pack("<BIdd", 1, 1, lon, lat)
