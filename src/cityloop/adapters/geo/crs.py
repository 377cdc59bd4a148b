"""Coordinate transforms over numpy arrays and shapely geometries.

The rules are in :mod:`cityloop.domain.geo` (pure Python, one point at a time). This module
has numpy twins of the GCJ-02 and BD-09 formulas for speed (a test checks they agree with
the domain to 1e-12°) and uses pyproj for Web Mercator and the CGCS2000 3-degree
Gauss–Krüger zones. Every path goes through WGS84 longitude/latitude, which equals CGCS2000
at our accuracy (see the domain module): pyproj transformers are built from EPSG:4490.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, TypeVar, overload

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from cityloop.domain.geo import (
    BD_SHIFT_LAT,
    BD_SHIFT_LON,
    BD_X_PI,
    GCJ_BOX_EAST,
    GCJ_BOX_NORTH,
    GCJ_BOX_SOUTH,
    GCJ_BOX_WEST,
    INVERSE_MAX_STEPS,
    INVERSE_TOLERANCE_DEG,
    KRASOVSKY_A,
    KRASOVSKY_EE,
    Crs,
    CrsRef,
    GaussKrugerZone,
    gauss_kruger_zone,
    gauss_kruger_zone_for,
    parse_crs,
)

Floats = NDArray[np.float64]
G = TypeVar("G", bound=BaseGeometry)


@lru_cache(maxsize=64)
def _transformer(source: str, target: str) -> Transformer:
    # pyproj ≥ 3.1 transformers are thread-safe (one PROJ object per thread inside), so
    # one cached instance per pair serves every worker thread.
    return Transformer.from_crs(source, target, always_xy=True)


def gk_zone_for(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss–Krüger zone of a longitude (116.4 → 4548)."""
    return gauss_kruger_zone_for(lon).epsg


# --- numpy twins of the domain formulas -----------------------------------------------------
def _in_box(lon: Floats, lat: Floats) -> NDArray[np.bool_]:
    return (
        (lon >= GCJ_BOX_WEST)
        & (lon <= GCJ_BOX_EAST)
        & (lat >= GCJ_BOX_SOUTH)
        & (lat <= GCJ_BOX_NORTH)
    )


def _gcj_offset(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    pi = math.pi
    x, y = lon - 105.0, lat - 35.0
    sx = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx
    d_lat += common
    d_lat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx
    d_lon += common
    d_lon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * pi
    w = 1.0 - KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_w = np.sqrt(w)
    d_lat = d_lat * 180.0 / (KRASOVSKY_A * (1.0 - KRASOVSKY_EE) / (w * sqrt_w) * pi)
    d_lon = d_lon * 180.0 / (KRASOVSKY_A / sqrt_w * np.cos(rad_lat) * pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """Vectorised :func:`cityloop.domain.geo.wgs84_to_gcj02`."""
    inside = _in_box(lon, lat)
    d_lon, d_lat = _gcj_offset(lon, lat)
    return np.where(inside, lon + d_lon, lon), np.where(inside, lat + d_lat, lat)


def gcj02_to_wgs84(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """Vectorised :func:`cityloop.domain.geo.gcj02_to_wgs84` (same iteration and tolerance)."""
    inside = _in_box(lon, lat)
    d_lon, d_lat = _gcj_offset(lon, lat)
    w_lon, w_lat = lon - d_lon, lat - d_lat
    for _ in range(INVERSE_MAX_STEPS):
        d_lon, d_lat = _gcj_offset(w_lon, w_lat)
        r_lon, r_lat = w_lon + d_lon - lon, w_lat + d_lat - lat
        w_lon, w_lat = w_lon - r_lon, w_lat - r_lat
        residual = np.maximum(np.abs(r_lon), np.abs(r_lat))
        if not np.any(residual[inside] >= INVERSE_TOLERANCE_DEG):
            break
    return np.where(inside, w_lon, lon), np.where(inside, w_lat, lat)


def _bd_forward(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    radius = np.hypot(lon, lat) + 0.00002 * np.sin(lat * BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * BD_X_PI)
    return radius * np.cos(theta) + BD_SHIFT_LON, radius * np.sin(theta) + BD_SHIFT_LAT


def gcj02_to_bd09(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """Vectorised :func:`cityloop.domain.geo.gcj02_to_bd09`."""
    inside = _in_box(lon, lat)
    b_lon, b_lat = _bd_forward(lon, lat)
    return np.where(inside, b_lon, lon), np.where(inside, b_lat, lat)


def bd09_to_gcj02(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """Vectorised :func:`cityloop.domain.geo.bd09_to_gcj02`."""
    inside = _in_box(lon, lat)
    x, y = lon - BD_SHIFT_LON, lat - BD_SHIFT_LAT
    radius = np.hypot(x, y) - 0.00002 * np.sin(y * BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * BD_X_PI)
    g_lon, g_lat = radius * np.cos(theta), radius * np.sin(theta)
    for _ in range(INVERSE_MAX_STEPS):
        f_lon, f_lat = _bd_forward(g_lon, g_lat)
        r_lon, r_lat = f_lon - lon, f_lat - lat
        g_lon, g_lat = g_lon - r_lon, g_lat - r_lat
        residual = np.maximum(np.abs(r_lon), np.abs(r_lat))
        if not np.any(residual[inside] >= INVERSE_TOLERANCE_DEG):
            break
    return np.where(inside, g_lon, lon), np.where(inside, g_lat, lat)


# --- the one entry point -------------------------------------------------------------------
def _as_ref(crs: CrsRef | str | int) -> CrsRef:
    return parse_crs(f"EPSG:{crs}" if isinstance(crs, int) else crs)


_GEOGRAPHIC_HUB: frozenset[CrsRef] = frozenset({Crs.WGS84, Crs.CGCS2000})


def _pyproj_native(crs: CrsRef) -> bool:
    return crs is not Crs.GCJ02 and crs is not Crs.BD09


def _pyproj_code(crs: CrsRef) -> str:
    """The pyproj name of a system; WGS84 is handed to pyproj as CGCS2000 (equal for us)."""
    if isinstance(crs, GaussKrugerZone):
        return crs.code
    return Crs.CGCS2000.value if crs is Crs.WGS84 else crs.value


def _to_lonlat(x: Floats, y: Floats, crs: CrsRef) -> tuple[Floats, Floats]:
    if crs is Crs.WGS84 or crs is Crs.CGCS2000:
        return x, y
    if crs is Crs.GCJ02:
        return gcj02_to_wgs84(x, y)
    if crs is Crs.BD09:
        return gcj02_to_wgs84(*bd09_to_gcj02(x, y))
    lon, lat = _transformer(_pyproj_code(crs), Crs.CGCS2000.value).transform(x, y)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _from_lonlat(lon: Floats, lat: Floats, crs: CrsRef) -> tuple[Floats, Floats]:
    if crs is Crs.WGS84 or crs is Crs.CGCS2000:
        return lon, lat
    if crs is Crs.GCJ02:
        return wgs84_to_gcj02(lon, lat)
    if crs is Crs.BD09:
        return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    x, y = _transformer(Crs.CGCS2000.value, _pyproj_code(crs)).transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


@overload
def transform(
    xs: float, ys: float, from_crs: CrsRef | str | int, to_crs: CrsRef | str | int
) -> tuple[float, float]: ...
@overload
def transform(
    xs: ArrayLike, ys: ArrayLike, from_crs: CrsRef | str | int, to_crs: CrsRef | str | int
) -> tuple[Floats, Floats]: ...
def transform(xs: Any, ys: Any, from_crs: Any, to_crs: Any) -> Any:
    """Transform coordinates between any two systems of :mod:`cityloop.domain.geo`.

    ``xs``/``ys`` are longitudes/latitudes for geographic systems and eastings/northings in
    metres for projected ones (always x first, like ``always_xy=True``). Scalars in give
    floats out; arrays give float64 arrays of the same shape. Systems are
    :class:`~cityloop.domain.geo.Crs` members, Gauss–Krüger zones, or anything
    :func:`~cityloop.domain.geo.parse_crs` accepts (``"EPSG:4548"``, ``"GCJ-02"``, 4548).
    Points outside China's GCJ box pass GCJ-02/BD-09 steps unchanged.
    """
    source, target = _as_ref(from_crs), _as_ref(to_crs)
    scalar = np.ndim(xs) == 0 and np.ndim(ys) == 0
    x = np.asarray(xs, dtype=np.float64)
    y = np.asarray(ys, dtype=np.float64)
    if source == target or {source, target} <= _GEOGRAPHIC_HUB:
        out_x, out_y = x.copy(), y.copy()
    elif _pyproj_native(source) and _pyproj_native(target):
        # No GCJ-02/BD-09 leg: one pyproj call (GK ↔ GK, GK ↔ Web Mercator, WGS84 → GK …).
        out_x, out_y = _transformer(_pyproj_code(source), _pyproj_code(target)).transform(x, y)
    else:
        out_x, out_y = _from_lonlat(*_to_lonlat(x, y, source), target)
    if scalar:
        return float(out_x), float(out_y)
    return np.asarray(out_x, dtype=np.float64), np.asarray(out_y, dtype=np.float64)


# --- shapely geometries --------------------------------------------------------------------
def _apply(geom: G, source: str, target: str) -> G:
    tr = _transformer(source, target)

    def move(x: Floats, y: Floats) -> tuple[Floats, Floats]:
        out_x, out_y = tr.transform(x, y)
        return np.asarray(out_x), np.asarray(out_y)

    result: G = shapely.transform(geom, move, interleaved=False)
    return result


def project_to_metres(geom: G, epsg: int | None = None) -> tuple[G, int]:
    """A WGS84 (= CGCS2000) geometry in its CGCS2000 3-degree Gauss–Krüger zone, in metres.

    The zone is the one of the centre of the geometry's bounding box unless ``epsg`` is
    given (a layer spanning two zones must use one). Returns the geometry and the zone's
    EPSG code. Vertices are transformed; edges stay straight lines, which over a 100 m cell
    edge bends the true line by well under a millimetre.
    """
    if epsg is None:
        minx, _, maxx, _ = shapely.bounds(geom).tolist()
        epsg = gk_zone_for((minx + maxx) / 2)
    zone = gauss_kruger_zone(epsg)
    return _apply(geom, Crs.CGCS2000.value, zone.code), epsg


def unproject(geom: G, epsg: int) -> G:
    """A geometry in Gauss–Krüger zone ``epsg`` (metres) back to WGS84 longitude/latitude."""
    return _apply(geom, gauss_kruger_zone(epsg).code, Crs.CGCS2000.value)


def project_array(
    geoms: NDArray[np.object_], epsg: int, *, inverse: bool = False
) -> NDArray[np.object_]:
    """:func:`project_to_metres` (or :func:`unproject` with ``inverse``) for a whole array of
    geometries in one pyproj call."""
    zone = gauss_kruger_zone(epsg).code
    source, target = (zone, Crs.CGCS2000.value) if inverse else (Crs.CGCS2000.value, zone)
    tr = _transformer(source, target)

    def move(x: Floats, y: Floats) -> tuple[Floats, Floats]:
        out_x, out_y = tr.transform(x, y)
        return np.asarray(out_x), np.asarray(out_y)

    result: NDArray[np.object_] = shapely.transform(geoms, move, interleaved=False)
    return result
