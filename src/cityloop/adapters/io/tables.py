"""Read and write base-data tables: GeoJSON, CSV, XLSX and zipped ESRI Shapefile.

Reading gives a :class:`~cityloop.domain.base_data.SourceTable`: every record's values under
our field names (:data:`~cityloop.domain.base_data.FIELDS` maps the standard's abbreviations,
legacy and Chinese headers) and its geometry as WGS84 WKB, converted from the file's coordinate
system. The coordinate system comes from, in order: a ``crs`` column of the row (CSV, XLSX),
the file itself (a Shapefile's ``.prj``, a GeoJSON ``crs`` member), the caller's ``crs``, else
WGS84. Anything :func:`cityloop.domain.geo.parse_crs` knows works, GCJ-02 and BD-09 included;
a Shapefile may also carry any projection PROJ knows (Xi'an 1980, zone-prefixed
Gauss–Krüger …). A problem with one record (coordinates that are not numbers, a WKT that does
not parse) is attached to that record; a problem with the file (not a zip, no header) is
raised.

Writing takes rows of text values plus a WKB geometry and produces the same formats: GeoJSON
in WGS84 (RFC 7946) unless asked otherwise; CSV (UTF-8 with BOM, for Excel) and XLSX with
``lon``/``lat`` columns for points and ``wkt`` for other shapes; a zipped Shapefile with the
short (GB/T 47678 abbreviation) column names, a ``.prj`` and a ``.cpg``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any

import numpy as np
import shapefile
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from cityloop.adapters.geo.crs import transform
from cityloop.domain.base_data import (
    FIELDS,
    FORMAT_SUFFIXES,
    Entity,
    ExportRow,
    FileFormat,
    SourceRecord,
    SourceTable,
    canonical_field,
    parse_format,
)
from cityloop.domain.errors import DomainError, UnsupportedMediaError, ValidationError
from cityloop.domain.geo import Crs, CrsRef, parse_crs

GEO_FIELDS = ("lon", "lat", "wkt", "crs")
MAX_ROWS = 500_000

Mover = Callable[[Any, Any], tuple[Any, Any]]


# --- coordinate systems ------------------------------------------------------------------------
@lru_cache(maxsize=32)
def _proj_mover(wkt_or_code: str) -> Mover:
    source = CRS.from_user_input(wkt_or_code)
    tr = Transformer.from_crs(source, CRS.from_epsg(4490), always_xy=True)

    def move(x: Any, y: Any) -> tuple[Any, Any]:
        out_x, out_y = tr.transform(x, y)
        return np.asarray(out_x, dtype=np.float64), np.asarray(out_y, dtype=np.float64)

    return move


def _ref_mover(ref: CrsRef) -> Mover | None:
    if ref in (Crs.WGS84, Crs.CGCS2000):
        return None

    def move(x: Any, y: Any) -> tuple[Any, Any]:
        return transform(x, y, ref, Crs.WGS84)

    return move


def crs_mover(text: str | None) -> Mover | None:
    """A function moving coordinates of ``text``'s system to WGS84 (None: already WGS84)."""
    if not text:
        return None
    return _ref_mover(parse_crs(text))


def _prj_mover(wkt: str) -> Mover | None:
    """The mover of a Shapefile's ``.prj``: a system we know by its EPSG code, or PROJ's."""
    try:
        crs = CRS.from_wkt(wkt)
    except Exception as exc:  # pyproj raises CRSError and friends
        raise ValidationError(
            "prj_unreadable", "The .prj file does not describe a coordinate system"
        ) from exc
    epsg = crs.to_epsg(min_confidence=70)
    if epsg is not None:
        try:
            return _ref_mover(parse_crs(f"EPSG:{epsg}"))
        except ValidationError:
            pass
    if crs.is_geographic and crs.datum is not None and "2000" in crs.datum.name:
        return None
    return _proj_mover(wkt)


def _move(geom: BaseGeometry, mover: Mover | None) -> BaseGeometry:
    if mover is None:
        return geom

    def apply(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[Any, Any]:
        return mover(x, y)

    moved: BaseGeometry = shapely.transform(geom, apply, interleaved=False)
    return moved


def _finite(geom: BaseGeometry) -> bool:
    coords = shapely.get_coordinates(geom)
    return bool(np.all(np.isfinite(coords)))


# --- reading -----------------------------------------------------------------------------------
def detect_format(filename: str, data: bytes) -> FileFormat:
    """The format of an upload: from its name's suffix, else from its first bytes."""
    suffix = PurePosixPath(filename or "").suffix.lower()
    if suffix in FORMAT_SUFFIXES:
        return FORMAT_SUFFIXES[suffix]
    head = data[:8]
    if head.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [n.lower() for n in zf.namelist()]
        if any(n.endswith(".shp") for n in names):
            return FileFormat.SHAPEFILE
        return FileFormat.XLSX
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return FileFormat.GEOJSON
    return FileFormat.CSV


@dataclass
class _Builder:
    entity: Entity
    mover: Mover | None

    def columns(self, headers: Sequence[str]) -> tuple[dict[int, str], list[str]]:
        mapping_: dict[int, str] = {}
        ignored: list[str] = []
        for i, header in enumerate(headers):
            name = canonical_field(self.entity, str(header or ""))
            if name is None or name in mapping_.values():
                if str(header or "").strip():
                    ignored.append(str(header))
                continue
            mapping_[i] = name
        return mapping_, ignored

    def record(self, row: int, values: dict[str, Any], geom: BaseGeometry | None) -> SourceRecord:
        """Values of a tabular row → a record: geometry from ``wkt`` or ``lon``/``lat``."""
        try:
            mover = crs_mover(_text(values.get("crs"))) if values.get("crs") else self.mover
            if geom is None:
                geom = _tabular_geometry(values)
            if geom is not None:
                geom = _move(geom, mover)
                if not _finite(geom):
                    raise ValidationError(
                        "coordinate_transform_failed",
                        "The coordinates cannot be converted to WGS84",
                    )
        except DomainError as err:
            return SourceRecord(row, values, problem=err)
        if geom is None:
            return SourceRecord(row, values)
        return SourceRecord(row, values, shapely.to_wkb(geom), geom.geom_type)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(value: Any, name: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        result = float(value)
    else:
        try:
            result = float(_text(value).replace("，", "."))
        except ValueError:
            result = math.nan
    if not math.isfinite(result):
        raise ValidationError(
            "coordinate_not_a_number",
            "{field} {value} is not a number",
            field=name,
            value=_text(value),
        )
    return result


def _tabular_geometry(values: Mapping[str, Any]) -> BaseGeometry | None:
    wkt = _text(values.get("wkt"))
    if wkt:
        try:
            geom = shapely.from_wkt(wkt)
        except shapely.errors.ShapelyError as exc:
            raise ValidationError(
                "wkt_invalid", "The geometry is not valid WKT: {value}", value=wkt[:60]
            ) from exc
        return geom if isinstance(geom, BaseGeometry) else None
    lon, lat = values.get("lon"), values.get("lat")
    if _text(lon) == "" and _text(lat) == "":
        return None
    if _text(lon) == "" or _text(lat) == "":
        raise ValidationError("position_incomplete", "A position needs both longitude and latitude")
    return shapely.Point(_number(lon, "lon"), _number(lat, "lat"))


def _decode_text(data: bytes) -> str:
    """CSV bytes → text: UTF-8 (with or without BOM), else GB18030 (Excel on Chinese Windows
    saves CSV in the ANSI code page)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def read_csv(data: bytes, builder: _Builder) -> SourceTable:
    text = _decode_text(data)
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header:
        raise ValidationError("file_empty", "The file has no header row")
    columns, ignored = builder.columns(header)
    records = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        values = {name: cells[i] if i < len(cells) else "" for i, name in columns.items()}
        records.append(builder.record(line, values, None))
        _check_size(len(records))
    return SourceTable(tuple(records), tuple(columns.values()), tuple(ignored))


def read_xlsx(data: bytes, builder: _Builder, sheet: str | None = None) -> SourceTable:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile and XML errors of many kinds
        raise UnsupportedMediaError(
            "xlsx_unreadable", "The file is not an Excel workbook (.xlsx)"
        ) from exc
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if not header or not any(h is not None for h in header):
            raise ValidationError("file_empty", "The file has no header row")
        columns, ignored = builder.columns([_text(h) for h in header])
        records = []
        for number, cells in enumerate(rows, start=2):
            if not any(c is not None and _text(c) for c in cells):
                continue
            values = {name: cells[i] if i < len(cells) else None for i, name in columns.items()}
            records.append(builder.record(number, values, None))
            _check_size(len(records))
    finally:
        book.close()
    return SourceTable(tuple(records), tuple(columns.values()), tuple(ignored))


def _legacy_crs(document: Mapping[str, Any]) -> str | None:
    member = document.get("crs")
    if isinstance(member, dict):
        name = (member.get("properties") or {}).get("name")
        if isinstance(name, str):
            # "urn:ogc:def:crs:EPSG::4548" or "EPSG:4548"
            return "EPSG:" + name.rsplit(":", 1)[-1] if "EPSG" in name.upper() else name
    return None


def read_geojson(data: bytes, builder: _Builder) -> SourceTable:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("geojson_invalid", "The file is not valid GeoJSON") from exc
    if isinstance(document, dict) and document.get("type") == "Feature":
        features = [document]
    elif isinstance(document, dict) and isinstance(document.get("features"), list):
        features = document["features"]
    else:
        raise ValidationError(
            "geojson_invalid", "The file is not a GeoJSON Feature or FeatureCollection"
        )
    file_crs = _legacy_crs(document) if isinstance(document, dict) else None
    if file_crs and builder.mover is None:
        builder = _Builder(builder.entity, crs_mover(file_crs))
    headers: list[str] = []
    for feature in features:
        props = feature.get("properties") if isinstance(feature, dict) else None
        for key in props or {}:
            if key not in headers:
                headers.append(key)
    columns, ignored = builder.columns(headers)
    by_header = {headers[i]: name for i, name in columns.items()}
    records = []
    for number, feature in enumerate(features, start=1):
        props = (feature.get("properties") if isinstance(feature, dict) else None) or {}
        values = {name: props.get(header) for header, name in by_header.items()}
        raw = feature.get("geometry") if isinstance(feature, dict) else None
        geom = None
        if raw:
            try:
                geom = shape(raw)
            except Exception:  # shapely raises several types on malformed GeoJSON
                records.append(
                    SourceRecord(
                        number,
                        values,
                        problem=ValidationError(
                            "geometry_unreadable", "The geometry of this feature is malformed"
                        ),
                    )
                )
                continue
        records.append(builder.record(number, values, geom))
        _check_size(len(records))
    return SourceTable(tuple(records), tuple(columns.values()), tuple(ignored))


def read_shapefile(data: bytes, builder: _Builder) -> SourceTable:
    """Every Shapefile in the zip (in name order; records are numbered on across them)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise UnsupportedMediaError(
            "shapefile_not_zipped", "Send a Shapefile as one .zip holding .shp, .shx and .dbf"
        ) from exc
    layers: list[dict[str, bytes]] = []
    with archive:
        names = {n.lower(): n for n in archive.namelist() if not n.startswith("__MACOSX")}
        stems = [n[: -len(".shp")] for n in sorted(names) if n.endswith(".shp")]
        if not stems:
            raise ValidationError("shapefile_missing_part", "The zip holds no .shp file")
        for stem in stems:
            parts: dict[str, bytes] = {}
            for ext in ("shp", "shx", "dbf", "prj", "cpg"):
                key = f"{stem}.{ext}"
                if key in names:
                    parts[ext] = archive.read(names[key])
            for ext in ("shx", "dbf"):
                if ext not in parts:
                    raise ValidationError(
                        "shapefile_missing_part", "The zip holds no .{part} file", part=ext
                    )
            layers.append(parts)
    records: list[SourceRecord] = []
    columns: dict[str, None] = {}
    ignored: dict[str, None] = {}
    for parts in layers:
        layer_builder = builder
        if "prj" in parts and builder.mover is None:
            layer_builder = _Builder(builder.entity, _prj_mover(_decode_text(parts["prj"])))
        encoding = _decode_text(parts["cpg"]).strip() if "cpg" in parts else "utf-8"
        encoding = {"65001": "utf-8", "936": "gbk"}.get(encoding, encoding) or "utf-8"
        try:
            table = _read_shp(parts, layer_builder, encoding, len(records))
        except UnicodeDecodeError:
            table = _read_shp(parts, layer_builder, "gb18030", len(records))
        records += table.records
        columns.update(dict.fromkeys(table.columns))
        ignored.update(dict.fromkeys(table.ignored))
        _check_size(len(records))
    return SourceTable(tuple(records), tuple(columns), tuple(ignored))


def _read_shp(
    parts: Mapping[str, bytes], builder: _Builder, encoding: str, first: int = 0
) -> SourceTable:
    try:
        reader = shapefile.Reader(
            shp=io.BytesIO(parts["shp"]),
            shx=io.BytesIO(parts["shx"]),
            dbf=io.BytesIO(parts["dbf"]),
            encoding=encoding,
        )
    except shapefile.ShapefileException as exc:
        raise ValidationError("shapefile_unreadable", "The Shapefile cannot be read") from exc
    with reader:
        headers = [f[0] for f in reader.fields[1:]]
        columns, ignored = builder.columns(headers)
        records = []
        for number, item in enumerate(reader.iterShapeRecords(), start=first + 1):
            cells = list(item.record)
            values = {name: cells[i] if i < len(cells) else None for i, name in columns.items()}
            geom = None
            if item.shape.shapeType != shapefile.NULL:
                geom = shape(item.shape.__geo_interface__)
            records.append(builder.record(number, values, geom))
            _check_size(len(records))
    return SourceTable(tuple(records), tuple(columns.values()), tuple(ignored))


def _check_size(count: int) -> None:
    if count > MAX_ROWS:
        raise ValidationError(
            "file_too_many_rows",
            "The file has more than {limit} records; split it",
            limit=MAX_ROWS,
        )


def read_table(
    data: bytes,
    entity: Entity,
    fmt: FileFormat | str | None = None,
    *,
    filename: str = "",
    crs: str | None = None,
    sheet: str | None = None,
) -> SourceTable:
    """Read an import file (format from ``fmt``, else the name's suffix, else the content)."""
    if not data:
        raise ValidationError("file_empty", "The file is empty")
    file_format = parse_format(fmt) if fmt else detect_format(filename, data)
    builder = _Builder(entity, crs_mover(crs) if crs else None)
    if file_format is FileFormat.CSV:
        return read_csv(data, builder)
    if file_format is FileFormat.XLSX:
        return read_xlsx(data, builder, sheet)
    if file_format is FileFormat.GEOJSON:
        return read_geojson(data, builder)
    return read_shapefile(data, builder)


# --- writing -----------------------------------------------------------------------------------
CONTENT_TYPES = {
    FileFormat.GEOJSON: "application/geo+json",
    FileFormat.CSV: "text/csv; charset=utf-8",
    FileFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileFormat.SHAPEFILE: "application/zip",
}
SUFFIXES = {
    FileFormat.GEOJSON: ".geojson",
    FileFormat.CSV: ".csv",
    FileFormat.XLSX: ".xlsx",
    FileFormat.SHAPEFILE: ".zip",
}


def export_columns(entity: Entity) -> list[str]:
    """The value columns of an entity, in the standard's order (geometry columns apart)."""
    return [f.name for f in FIELDS[entity] if f.name not in GEO_FIELDS]


def _out_mover(crs: str | None) -> tuple[CrsRef, Mover | None]:
    ref = parse_crs(crs) if crs else Crs.WGS84
    if ref in (Crs.WGS84, Crs.CGCS2000):
        return ref, None

    def move(x: Any, y: Any) -> tuple[Any, Any]:
        return transform(x, y, Crs.WGS84, ref)

    return ref, move


def _crs_name(ref: CrsRef) -> str:
    return ref.code if not isinstance(ref, Crs) else ref.value


def _geoms(rows: Sequence[ExportRow], mover: Mover | None) -> list[BaseGeometry | None]:
    return [_move(shapely.from_wkb(r.geometry), mover) if r.geometry else None for r in rows]


def _tabular(
    entity: Entity, rows: Sequence[ExportRow], crs: str | None
) -> tuple[list[str], list[list[Any]]]:
    ref, mover = _out_mover(crs)
    columns = export_columns(entity)
    geoms = _geoms(rows, mover)
    points_only = all(g is None or g.geom_type == "Point" for g in geoms)
    header = columns + (["lon", "lat"] if points_only else ["wkt"]) + ["crs"]
    digits = 7 if getattr(ref, "geographic", True) else 3
    body = []
    for row, geom in zip(rows, geoms, strict=True):
        cells: list[Any] = [row.values.get(c, "") for c in columns]
        if points_only:
            cells += [f"{geom.x:.{digits}f}", f"{geom.y:.{digits}f}"] if geom else ["", ""]
        else:
            cells.append(shapely.to_wkt(geom, rounding_precision=digits) if geom else "")
        cells.append(_crs_name(ref) if geom else "")
        body.append(cells)
    return header, body


def write_csv(entity: Entity, rows: Sequence[ExportRow], crs: str | None = None) -> bytes:
    header, body = _tabular(entity, rows, crs)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(body)
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(entity: Entity, rows: Sequence[ExportRow], crs: str | None = None) -> bytes:
    import openpyxl

    header, body = _tabular(entity, rows, crs)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(entity.value)
    sheet.append(header)
    for cells in body:
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_geojson(entity: Entity, rows: Sequence[ExportRow], crs: str | None = None) -> bytes:
    ref, mover = _out_mover(crs)
    features = [
        {
            "type": "Feature",
            "properties": {c: row.values.get(c, "") for c in export_columns(entity)},
            "geometry": mapping(geom) if geom is not None else None,
        }
        for row, geom in zip(rows, _geoms(rows, mover), strict=True)
    ]
    document: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if mover is not None:  # not RFC 7946 any more: say which system (the pre-2016 member)
        document["crs"] = {"type": "name", "properties": {"name": _crs_name(ref)}}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_SHAPE_TYPES = {
    "Point": shapefile.POINT,
    "MultiPoint": shapefile.MULTIPOINT,
    "LineString": shapefile.POLYLINE,
    "MultiLineString": shapefile.POLYLINE,
    "Polygon": shapefile.POLYGON,
    "MultiPolygon": shapefile.POLYGON,
}


_KIND_SUFFIX = {
    shapefile.POINT: "points",
    shapefile.MULTIPOINT: "multipoints",
    shapefile.POLYLINE: "lines",
    shapefile.POLYGON: "polygons",
}


def write_shapefile(
    entity: Entity, rows: Sequence[ExportRow], crs: str | None = None, *, name: str | None = None
) -> bytes:
    """A zipped Shapefile. A Shapefile holds one kind of shape, so rows of another kind go to
    a second Shapefile in the same zip (``<name>_lines``, ``<name>_polygons`` …); rows without
    a geometry are null shapes of the first. :func:`read_table` reads them all back."""
    ref, mover = _out_mover(crs)
    stem = name or entity.value
    geoms = _geoms(rows, mover)
    kinds = [_SHAPE_TYPES.get(g.geom_type) if g is not None else None for g in geoms]
    order = list(dict.fromkeys(k for k in kinds if k is not None)) or [shapefile.POINT]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, kind in enumerate(order):
            members = [
                (rows[i], geoms[i])
                for i, k in enumerate(kinds)
                if k == kind or (n == 0 and k is None)
            ]
            file_stem = stem if n == 0 else f"{stem}_{_KIND_SUFFIX[kind]}"
            _write_shp(archive, file_stem, entity, kind, members, ref)
    return out.getvalue()


def _prj(ref: CrsRef) -> str:
    code = 4490 if ref in (Crs.WGS84, Crs.CGCS2000) else None
    if isinstance(ref, Crs) and ref is Crs.WEB_MERCATOR:
        code = 3857
    elif not isinstance(ref, Crs):
        code = ref.epsg
    if code is None:  # GCJ-02, BD-09: no EPSG definition exists; say WGS84 and warn in name
        code = 4326
    return str(CRS.from_epsg(code).to_wkt("WKT1_ESRI"))


def _write_shp(
    archive: zipfile.ZipFile,
    stem: str,
    entity: Entity,
    shape_type: int,
    items: Iterable[tuple[ExportRow, BaseGeometry | None]],
    ref: CrsRef,
) -> None:
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    specs = [f for f in FIELDS[entity] if f.name not in GEO_FIELDS]
    rows = list(items)
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shape_type, encoding="utf-8") as w:
        for spec in specs:
            width = max([1, *(len(r.values.get(spec.name, "").encode()) for r, _ in rows)])
            w.field(spec.short, "C", size=min(254, width))
        for row, geom in rows:
            if geom is None:
                w.null()
            else:
                w.shape(json.loads(shapely.to_geojson(geom)))  # lists, as pyshp wants
            w.record(*[row.values.get(spec.name, "") for spec in specs])
    archive.writestr(f"{stem}.shp", shp.getvalue())
    archive.writestr(f"{stem}.shx", shx.getvalue())
    archive.writestr(f"{stem}.dbf", dbf.getvalue())
    archive.writestr(f"{stem}.prj", _prj(ref))
    archive.writestr(f"{stem}.cpg", "UTF-8")


def write_table(
    entity: Entity, fmt: FileFormat | str, rows: Sequence[ExportRow], *, crs: str | None = None
) -> bytes:
    file_format = parse_format(fmt)
    if file_format is FileFormat.CSV:
        return write_csv(entity, rows, crs)
    if file_format is FileFormat.XLSX:
        return write_xlsx(entity, rows, crs)
    if file_format is FileFormat.GEOJSON:
        return write_geojson(entity, rows, crs)
    return write_shapefile(entity, rows, crs)


def cell_text(value: Any) -> str:
    """A stored value as export text: dates as ISO, None as ""."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)
