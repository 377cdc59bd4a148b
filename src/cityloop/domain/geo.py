"""Coordinate reference systems and the transforms between them, in pure Python.

Reference: ``standards.md`` §2 (grids are drawn in CGCS2000) and §4 (geocoding). Everything
here works on plain floats, one point at a time; the adapter ``cityloop.adapters.geo.crs``
chains these with pyproj and has vectorised (numpy) twins of the formulas.

Systems in use in Chinese city management:

- **WGS84** (EPSG:4326): GPS receivers, OpenStreetMap, GeoJSON. Our storage system.
- **CGCS2000** (EPSG:4490): the national geodetic system, mandatory for official surveying
  and for grid data (GB/T 30428, GB/T 47678). We treat it as *equal to WGS84*: the two
  ellipsoids (GRS80 and WGS84) differ by 0.1 mm in the semi-minor axis, and the frames differ
  only by the plate motion since CGCS2000's epoch 2000.0 (a few centimetres per year), so the
  difference stays well below a metre — below the accuracy of a phone's GPS and of the
  ±0.5 m class-A component positions (``standards.md`` §3.3). PROJ itself uses a no-op
  ("ballpark") between them.
- **GCJ-02** ("火星坐标"): the offset system every map licensed in China must use (AMap,
  Tencent, Apple in China). The offset is a public, obfuscating polynomial-plus-sines
  function of the WGS84 position, computed on the Krasovsky ellipsoid; it moves points by
  roughly 100–700 m. It is defined only inside a bounding box around China: outside it every
  implementation returns the point unchanged, and so do we.
- **BD-09**: Baidu's further offset on top of GCJ-02 (a small rotation and shift in polar
  coordinates). Like GCJ-02 it applies only inside China's box; outside we pass through.
- **Web Mercator** (EPSG:3857): the projection of web map tiles (Leaflet's default), metres
  on a sphere of radius 6,378,137 m.
- **CGCS2000 3-degree Gauss–Krüger zones** (EPSG:4534–4554, central meridians 75°E–135°E):
  the metric projection for areas, distances and the 100 m × 100 m unit-grid lattice. False
  easting 500,000 m, scale 1, no zone prefix in the easting. Projection itself is done by
  pyproj in the adapter; here is only the zone arithmetic.

The inverse transforms (GCJ-02 → WGS84, BD-09 → GCJ-02) have no closed form: we iterate the
forward formula (fixed-point on the residual), which converges by a factor of about 1e-3 per
step, to below 1e-12° (about 0.1 µm) — far below the 1e-7° of published test vectors and the
0.5 m of class-A positions. The one-step inverse found in many libraries is off by up to
about 1.5 m and must not be used for round trips.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from cityloop.domain.errors import ValidationError


class Crs(enum.StrEnum):
    """The coordinate systems cityloop converts between (Gauss–Krüger zones: see
    :class:`GaussKrugerZone`)."""

    WGS84 = "EPSG:4326"
    CGCS2000 = "EPSG:4490"  # treated as WGS84 (see the module docstring)
    GCJ02 = "GCJ-02"
    BD09 = "BD-09"
    WEB_MERCATOR = "EPSG:3857"

    @property
    def geographic(self) -> bool:
        """True for longitude/latitude systems in degrees, False for projected metres."""
        return self is not Crs.WEB_MERCATOR


GK_FIRST_EPSG = 4534  # CGCS2000 / 3-degree Gauss-Kruger CM 75E
GK_LAST_EPSG = 4554  # CGCS2000 / 3-degree Gauss-Kruger CM 135E
GK_FIRST_MERIDIAN = 75
GK_ZONE_WIDTH = 3
GK_FALSE_EASTING = 500_000.0


@dataclass(frozen=True, slots=True)
class GaussKrugerZone:
    """A CGCS2000 3-degree Gauss–Krüger zone without zone prefix (EPSG:4534–4554).

    Transverse Mercator on the CGCS2000 ellipsoid, scale factor 1 on the central meridian,
    false easting 500,000 m, false northing 0. The zone number is ``central_meridian / 3``
    (39 for 117°E); the EPSG codes 4513–4533 are the same zones with that number prefixed to
    the easting, which we do not use.
    """

    epsg: int
    central_meridian: int  # degrees east

    @property
    def code(self) -> str:
        return f"EPSG:{self.epsg}"

    @property
    def zone_number(self) -> int:
        return self.central_meridian // GK_ZONE_WIDTH

    @property
    def west(self) -> float:
        """Western edge of the zone (degrees east)."""
        return self.central_meridian - GK_ZONE_WIDTH / 2

    @property
    def east(self) -> float:
        """Eastern edge of the zone (degrees east)."""
        return self.central_meridian + GK_ZONE_WIDTH / 2

    @property
    def geographic(self) -> bool:
        return False


CrsRef = Crs | GaussKrugerZone

_ALIASES = {
    "WGS84": Crs.WGS84,
    "EPSG4326": Crs.WGS84,
    "4326": Crs.WGS84,
    "CGCS2000": Crs.CGCS2000,
    "EPSG4490": Crs.CGCS2000,
    "4490": Crs.CGCS2000,
    "GCJ02": Crs.GCJ02,
    "BD09": Crs.BD09,
    "BD09LL": Crs.BD09,
    "WEBMERCATOR": Crs.WEB_MERCATOR,
    "EPSG3857": Crs.WEB_MERCATOR,
    "3857": Crs.WEB_MERCATOR,
}
_EXPECTED = "EPSG:4326 (WGS84), EPSG:4490 (CGCS2000), GCJ-02, BD-09, EPSG:3857, EPSG:4534–4554"


def gauss_kruger_zone(epsg: int) -> GaussKrugerZone:
    """The 3-degree zone with EPSG code ``epsg`` (4534 → CM 75°E … 4554 → CM 135°E)."""
    if not GK_FIRST_EPSG <= epsg <= GK_LAST_EPSG:
        raise _unknown(f"EPSG:{epsg}")
    return GaussKrugerZone(epsg, GK_FIRST_MERIDIAN + GK_ZONE_WIDTH * (epsg - GK_FIRST_EPSG))


def gauss_kruger_zone_for(lon: float) -> GaussKrugerZone:
    """The 3-degree zone a longitude falls in: central meridian = 3 × round(lon / 3).

    A longitude exactly on a zone edge (e.g. 118.5°E) goes to the eastern zone. Longitudes
    outside 73.5°E–136.5°E (the zones EPSG defines for China) are refused.
    """
    if not math.isfinite(lon):
        raise _out_of_range(lon, math.nan, "CGCS2000 3-degree Gauss–Krüger")
    number = math.floor(lon / GK_ZONE_WIDTH + 0.5)
    epsg = GK_FIRST_EPSG + number - GK_FIRST_MERIDIAN // GK_ZONE_WIDTH
    if not GK_FIRST_EPSG <= epsg <= GK_LAST_EPSG:
        raise ValidationError(
            "crs_gk_out_of_range",
            "Longitude {lon} is outside the CGCS2000 3-degree Gauss–Krüger zones"
            " (73.5°E to 136.5°E)",
            lon=lon,
        )
    return gauss_kruger_zone(epsg)


def parse_crs(text: object) -> CrsRef:
    """Parse a coordinate system name: an EPSG code (``"EPSG:4548"``, ``"4326"``) or a name
    (``"WGS84"``, ``"CGCS2000"``, ``"GCJ-02"``, ``"BD-09"``, ``"web mercator"``).

    Case, spaces, ``-`` and ``_`` are ignored. Gauss–Krüger zones are accepted as
    EPSG:4534–4554 and returned as :class:`GaussKrugerZone`; anything else raises
    ``crs_unknown``.
    """
    if isinstance(text, Crs | GaussKrugerZone):
        return text
    if not isinstance(text, str):
        raise _unknown(repr(text))
    key = "".join(ch for ch in text.upper() if ch not in " -_:")
    if key in _ALIASES:
        return _ALIASES[key]
    digits = key.removeprefix("EPSG")
    if digits.isascii() and digits.isdigit():
        epsg = int(digits)
        if GK_FIRST_EPSG <= epsg <= GK_LAST_EPSG:
            return gauss_kruger_zone(epsg)
    raise _unknown(text)


def _unknown(text: str) -> ValidationError:
    return ValidationError(
        "crs_unknown",
        "Unknown coordinate reference system {crs}; use one of {expected}",
        crs=text,
        expected=_EXPECTED,
    )


def _out_of_range(x: float, y: float, crs: str) -> ValidationError:
    return ValidationError(
        "coordinate_out_of_range",
        "Coordinate ({x}, {y}) is outside the valid range of {crs}",
        x=x,
        y=y,
        crs=crs,
    )


def check_lon_lat(lon: float, lat: float) -> None:
    """Refuse a longitude/latitude that is not finite or outside ±180° / ±90°."""
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise _out_of_range(lon, lat, "longitude/latitude")


# --- GCJ-02 ------------------------------------------------------------------------------
# Constants of the public GCJ-02 formula: the Krasovsky 1940 ellipsoid's semi-major axis and
# first eccentricity squared, and the bounding box outside which the offset is not applied.
KRASOVSKY_A = 6_378_245.0
KRASOVSKY_EE = 0.00669342162296594323
GCJ_BOX_WEST, GCJ_BOX_EAST = 72.004, 137.8347
GCJ_BOX_SOUTH, GCJ_BOX_NORTH = 0.8293, 55.8271
INVERSE_TOLERANCE_DEG = 1e-12
INVERSE_MAX_STEPS = 30


def in_gcj_box(lon: float, lat: float) -> bool:
    """Whether GCJ-02 (and BD-09) offsets apply: the rectangle 72.004–137.8347°E,
    0.8293–55.8271°N used by every public implementation. It is a box, not China's border:
    it also covers parts of neighbouring countries, which get the offset too."""
    return GCJ_BOX_WEST <= lon <= GCJ_BOX_EAST and GCJ_BOX_SOUTH <= lat <= GCJ_BOX_NORTH


def _gcj_shift_lat(x: float, y: float) -> float:
    # x, y: degrees east of 105°E and north of 35°N. The result is a pseudo-distance in metres.
    s = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    s += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    s += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    s += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return s


def _gcj_shift_lon(x: float, y: float) -> float:
    s = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    s += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    s += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    s += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return s


def gcj02_offset(lon: float, lat: float) -> tuple[float, float]:
    """The GCJ-02 offset (Δlon, Δlat) in degrees at a WGS84 point, ignoring the box.

    The two pseudo-distances in metres are turned into degrees with the meridian and
    parallel radii of curvature of the Krasovsky ellipsoid at the point's latitude.
    """
    x, y = lon - 105.0, lat - 35.0
    d_lat = _gcj_shift_lat(x, y)
    d_lon = _gcj_shift_lon(x, y)
    rad_lat = lat / 180.0 * math.pi
    w = 1.0 - KRASOVSKY_EE * math.sin(rad_lat) ** 2
    sqrt_w = math.sqrt(w)
    meridian_radius = KRASOVSKY_A * (1.0 - KRASOVSKY_EE) / (w * sqrt_w)
    normal_radius = KRASOVSKY_A / sqrt_w
    d_lat = d_lat * 180.0 / (meridian_radius * math.pi)
    d_lon = d_lon * 180.0 / (normal_radius * math.cos(rad_lat) * math.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 → GCJ-02: add :func:`gcj02_offset`; unchanged outside :func:`in_gcj_box`."""
    if not in_gcj_box(lon, lat):
        return lon, lat
    d_lon, d_lat = gcj02_offset(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 → WGS84, the exact inverse of :func:`wgs84_to_gcj02` to within 1e-12°.

    Start from ``g − offset(g)`` and repeatedly correct by the forward residual
    ``w ← w − (forward(w) − g)``. The offset's slope is below about 0.005, so each step
    shrinks the error a few hundred times; three to five steps reach the tolerance.
    Unchanged outside the box (a point whose WGS84 position is within ~0.01° of the box edge
    may not round-trip; no Chinese city is there).
    """
    if not in_gcj_box(lon, lat):
        return lon, lat
    d_lon, d_lat = gcj02_offset(lon, lat)
    w_lon, w_lat = lon - d_lon, lat - d_lat
    for _ in range(INVERSE_MAX_STEPS):
        d_lon, d_lat = gcj02_offset(w_lon, w_lat)
        r_lon, r_lat = w_lon + d_lon - lon, w_lat + d_lat - lat
        w_lon, w_lat = w_lon - r_lon, w_lat - r_lat
        if abs(r_lon) < INVERSE_TOLERANCE_DEG and abs(r_lat) < INVERSE_TOLERANCE_DEG:
            break
    return w_lon, w_lat


# --- BD-09 -------------------------------------------------------------------------------
BD_X_PI = math.pi * 3000.0 / 180.0
BD_SHIFT_LON, BD_SHIFT_LAT = 0.0065, 0.006


def _bd_forward(lon: float, lat: float) -> tuple[float, float]:
    radius = math.hypot(lon, lat) + 0.00002 * math.sin(lat * BD_X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * BD_X_PI)
    return radius * math.cos(theta) + BD_SHIFT_LON, radius * math.sin(theta) + BD_SHIFT_LAT


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 → BD-09: in polar coordinates about (0°, 0°) add 2e-5·sin(3000·lat) to the
    radius and 3e-6·cos(3000·lon) to the angle (both arguments in radians of the degree
    value), then shift by (+0.0065°, +0.006°). Unchanged outside the box."""
    if not in_gcj_box(lon, lat):
        return lon, lat
    return _bd_forward(lon, lat)


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 → GCJ-02, exact to 1e-12°: the usual closed-form approximation (undo the shift,
    subtract the perturbations evaluated at the BD-09 point), then fixed-point correction
    with the forward formula as in :func:`gcj02_to_wgs84`."""
    if not in_gcj_box(lon, lat):
        return lon, lat
    x, y = lon - BD_SHIFT_LON, lat - BD_SHIFT_LAT
    radius = math.hypot(x, y) - 0.00002 * math.sin(y * BD_X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * BD_X_PI)
    g_lon, g_lat = radius * math.cos(theta), radius * math.sin(theta)
    for _ in range(INVERSE_MAX_STEPS):
        f_lon, f_lat = _bd_forward(g_lon, g_lat)
        r_lon, r_lat = f_lon - lon, f_lat - lat
        g_lon, g_lat = g_lon - r_lon, g_lat - r_lat
        if abs(r_lon) < INVERSE_TOLERANCE_DEG and abs(r_lat) < INVERSE_TOLERANCE_DEG:
            break
    return g_lon, g_lat


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 → GCJ-02 → BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 → GCJ-02 → WGS84, both steps exact inverses."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


# --- Web Mercator ------------------------------------------------------------------------
WEB_MERCATOR_RADIUS = 6_378_137.0
WEB_MERCATOR_MAX_LAT = 85.05112877980659  # where the projected world is a square


def wgs84_to_web_mercator(lon: float, lat: float) -> tuple[float, float]:
    """EPSG:3857: x = R·λ, y = R·ln tan(π/4 + φ/2) on a sphere of R = 6,378,137 m.

    Latitudes beyond ±85.0511° (outside the square tile world) are refused.
    """
    check_lon_lat(lon, lat)
    if abs(lat) > WEB_MERCATOR_MAX_LAT:
        raise _out_of_range(lon, lat, Crs.WEB_MERCATOR.value)
    x = WEB_MERCATOR_RADIUS * math.radians(lon)
    y = WEB_MERCATOR_RADIUS * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return x, y


def web_mercator_to_wgs84(x: float, y: float) -> tuple[float, float]:
    """Inverse of :func:`wgs84_to_web_mercator`: λ = x/R, φ = 2·atan(e^(y/R)) − π/2."""
    if not (math.isfinite(x) and math.isfinite(y)):
        raise _out_of_range(x, y, Crs.WEB_MERCATOR.value)
    lon = math.degrees(x / WEB_MERCATOR_RADIUS)
    lat = math.degrees(2.0 * math.atan(math.exp(y / WEB_MERCATOR_RADIUS)) - math.pi / 2)
    return lon, lat


# --- chaining ----------------------------------------------------------------------------
def to_wgs84(x: float, y: float, crs: Crs) -> tuple[float, float]:
    """Any of the :class:`Crs` systems → WGS84 longitude/latitude."""
    if crs is Crs.WGS84 or crs is Crs.CGCS2000:
        return x, y
    if crs is Crs.GCJ02:
        return gcj02_to_wgs84(x, y)
    if crs is Crs.BD09:
        return bd09_to_wgs84(x, y)
    return web_mercator_to_wgs84(x, y)


def from_wgs84(lon: float, lat: float, crs: Crs) -> tuple[float, float]:
    """WGS84 longitude/latitude → any of the :class:`Crs` systems."""
    if crs is Crs.WGS84 or crs is Crs.CGCS2000:
        return lon, lat
    if crs is Crs.GCJ02:
        return wgs84_to_gcj02(lon, lat)
    if crs is Crs.BD09:
        return wgs84_to_bd09(lon, lat)
    return wgs84_to_web_mercator(lon, lat)


def convert(x: float, y: float, from_crs: Crs, to_crs: Crs) -> tuple[float, float]:
    """Convert one point between two :class:`Crs` systems through WGS84 (Gauss–Krüger needs
    pyproj: use ``cityloop.adapters.geo.crs.transform``)."""
    if from_crs is to_crs:
        return x, y
    return from_wgs84(*to_wgs84(x, y, from_crs), to_crs)
