"""Coordinate systems and transforms (domain.geo, adapters.geo.crs); standards.md §2, §4.

Reference values: tests/data/coordinate_test_vectors.csv (see tests/data/README.md).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer
from shapely.geometry import Polygon

from cityloop.adapters.geo import crs as acrs
from cityloop.domain import geo
from cityloop.domain.errors import ValidationError

VECTORS = Path(__file__).resolve().parents[1] / "data" / "coordinate_test_vectors.csv"
ROWS = list(csv.DictReader(VECTORS.open(encoding="utf-8")))
IDS = [row["adcode"] for row in ROWS]
DEG = 1e-7  # tolerance of the published vectors (they have 7 decimals)
GEOD = Geod(ellps="WGS84")


def f(row: dict[str, str], key: str) -> float:
    return float(row[key])


def metres_between(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def test_the_vectors_file_has_all_twenty_districts() -> None:
    assert len(ROWS) == 20
    assert len(set(IDS)) == 20


# --- every row of the test vectors -----------------------------------------------------------
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_wgs84_to_gcj02_matches_the_vector(row: dict[str, str]) -> None:
    lon, lat = geo.wgs84_to_gcj02(f(row, "wgs84_lon"), f(row, "wgs84_lat"))
    assert lon == pytest.approx(f(row, "gcj02_lon"), abs=DEG)
    assert lat == pytest.approx(f(row, "gcj02_lat"), abs=DEG)
    # the offset is real: hundreds of metres, not a pass-through
    assert metres_between(lon, lat, f(row, "wgs84_lon"), f(row, "wgs84_lat")) > 50


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_wgs84_to_bd09_matches_the_vector(row: dict[str, str]) -> None:
    lon, lat = geo.wgs84_to_bd09(f(row, "wgs84_lon"), f(row, "wgs84_lat"))
    assert lon == pytest.approx(f(row, "bd09_lon"), abs=DEG)
    assert lat == pytest.approx(f(row, "bd09_lat"), abs=DEG)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_gcj02_inverse_returns_the_wgs84_input(row: dict[str, str]) -> None:
    lon, lat = geo.gcj02_to_wgs84(f(row, "gcj02_lon"), f(row, "gcj02_lat"))
    assert lon == pytest.approx(f(row, "wgs84_lon"), abs=DEG)
    assert lat == pytest.approx(f(row, "wgs84_lat"), abs=DEG)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_bd09_to_wgs84_returns_the_input(row: dict[str, str]) -> None:
    lon, lat = geo.bd09_to_wgs84(f(row, "bd09_lon"), f(row, "bd09_lat"))
    assert lon == pytest.approx(f(row, "wgs84_lon"), abs=DEG)
    assert lat == pytest.approx(f(row, "wgs84_lat"), abs=DEG)
    # and the round trip through our own forward transform is exact
    w_lon, w_lat = f(row, "wgs84_lon"), f(row, "wgs84_lat")
    back = geo.bd09_to_wgs84(*geo.wgs84_to_bd09(w_lon, w_lat))
    assert back == pytest.approx((w_lon, w_lat), abs=1e-11)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_gauss_kruger_matches_the_vector_within_a_millimetre(row: dict[str, str]) -> None:
    epsg = int(row["gk_epsg"])
    assert acrs.gk_zone_for(f(row, "wgs84_lon")) == epsg
    x, y = acrs.transform(f(row, "wgs84_lon"), f(row, "wgs84_lat"), geo.Crs.WGS84, epsg)
    assert x == pytest.approx(f(row, "gk_x"), abs=1e-3)
    assert y == pytest.approx(f(row, "gk_y"), abs=1e-3)
    lon, lat = acrs.transform(x, y, f"EPSG:{epsg}", geo.Crs.CGCS2000)
    assert (lon, lat) == pytest.approx((f(row, "wgs84_lon"), f(row, "wgs84_lat")), abs=1e-9)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_gauss_kruger_from_gcj02_and_bd09_goes_through_wgs84(row: dict[str, str]) -> None:
    epsg = int(row["gk_epsg"])
    for system, lon_key, lat_key in (
        ("GCJ-02", "gcj02_lon", "gcj02_lat"),
        ("BD-09", "bd09_lon", "bd09_lat"),
    ):
        x, y = acrs.transform(f(row, lon_key), f(row, lat_key), system, epsg)
        # 1e-7° of input rounding is about 1 cm
        assert x == pytest.approx(f(row, "gk_x"), abs=0.02)
        assert y == pytest.approx(f(row, "gk_y"), abs=0.02)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_web_mercator_round_trip_and_agreement_with_pyproj(row: dict[str, str]) -> None:
    lon, lat = f(row, "wgs84_lon"), f(row, "wgs84_lat")
    x, y = geo.wgs84_to_web_mercator(lon, lat)
    px, py = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(lon, lat)
    assert (x, y) == pytest.approx((px, py), abs=1e-6)
    assert geo.web_mercator_to_wgs84(x, y) == pytest.approx((lon, lat), abs=1e-12)
    ax, ay = acrs.transform(lon, lat, "WGS84", "EPSG:3857")
    assert (ax, ay) == pytest.approx((x, y), abs=1e-6)
    assert acrs.transform(ax, ay, geo.Crs.WEB_MERCATOR, geo.Crs.WGS84) == pytest.approx(
        (lon, lat), abs=1e-12
    )


def test_vectorised_transforms_equal_the_domain_on_every_vector() -> None:
    lon = np.array([f(r, "wgs84_lon") for r in ROWS])
    lat = np.array([f(r, "wgs84_lat") for r in ROWS])
    glon, glat = acrs.transform(lon, lat, "WGS84", "GCJ-02")
    blon, blat = acrs.transform(lon, lat, "WGS84", "BD-09")
    wlon, wlat = acrs.transform(glon, glat, "GCJ-02", "WGS84")
    for i in range(len(ROWS)):
        assert (glon[i], glat[i]) == pytest.approx(geo.wgs84_to_gcj02(lon[i], lat[i]), abs=1e-12)
        assert (blon[i], blat[i]) == pytest.approx(geo.wgs84_to_bd09(lon[i], lat[i]), abs=1e-12)
        assert (wlon[i], wlat[i]) == pytest.approx(geo.gcj02_to_wgs84(glon[i], glat[i]), abs=1e-12)
    assert np.max(np.abs(wlon - lon)) < 1e-11
    assert np.max(np.abs(wlat - lat)) < 1e-11


def test_all_gauss_kruger_vectors_in_one_array_call_per_zone() -> None:
    for epsg in sorted({int(r["gk_epsg"]) for r in ROWS}):
        rows = [r for r in ROWS if int(r["gk_epsg"]) == epsg]
        x, y = acrs.transform(
            np.array([f(r, "wgs84_lon") for r in rows]),
            np.array([f(r, "wgs84_lat") for r in rows]),
            4490,
            epsg,
        )
        assert np.max(np.abs(x - np.array([f(r, "gk_x") for r in rows]))) < 1e-3
        assert np.max(np.abs(y - np.array([f(r, "gk_y") for r in rows]))) < 1e-3


# --- outside China ---------------------------------------------------------------------------
OUTSIDE = [(2.3522, 48.8566), (-74.006, 40.7128), (139.6917, 35.6895), (151.2093, -33.8688)]


@pytest.mark.parametrize(("lon", "lat"), OUTSIDE)
def test_points_outside_the_gcj_box_pass_through_unchanged(lon: float, lat: float) -> None:
    assert not geo.in_gcj_box(lon, lat)
    for fn in (
        geo.wgs84_to_gcj02,
        geo.gcj02_to_wgs84,
        geo.gcj02_to_bd09,
        geo.bd09_to_gcj02,
        geo.wgs84_to_bd09,
        geo.bd09_to_wgs84,
    ):
        assert fn(lon, lat) == (lon, lat)
    x, y = acrs.transform(np.array([lon]), np.array([lat]), "WGS84", "BD-09")
    assert (x[0], y[0]) == (lon, lat)


def test_the_gcj_box_is_a_box_not_the_border() -> None:
    # Bangkok lies inside the rectangle, so it gets an offset like every implementation gives.
    assert geo.in_gcj_box(100.5018, 13.7563)
    assert geo.wgs84_to_gcj02(100.5018, 13.7563) != (100.5018, 13.7563)
    assert geo.in_gcj_box(72.004, 0.8293) and geo.in_gcj_box(137.8347, 55.8271)
    assert not geo.in_gcj_box(72.0039, 30) and not geo.in_gcj_box(110, 55.8272)


# --- systems and errors ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("EPSG:4326", geo.Crs.WGS84),
        ("wgs84", geo.Crs.WGS84),
        ("WGS 84", geo.Crs.WGS84),
        ("4326", geo.Crs.WGS84),
        ("EPSG:4490", geo.Crs.CGCS2000),
        ("cgcs2000", geo.Crs.CGCS2000),
        ("GCJ-02", geo.Crs.GCJ02),
        ("gcj02", geo.Crs.GCJ02),
        ("BD-09", geo.Crs.BD09),
        ("bd09ll", geo.Crs.BD09),
        ("EPSG:3857", geo.Crs.WEB_MERCATOR),
        ("Web Mercator", geo.Crs.WEB_MERCATOR),
        (geo.Crs.GCJ02, geo.Crs.GCJ02),
    ],
)
def test_parse_crs_names(text: object, expected: geo.Crs) -> None:
    assert geo.parse_crs(text) is expected


@pytest.mark.parametrize(
    ("text", "epsg", "meridian", "zone"),
    [
        ("EPSG:4548", 4548, 117, 39),
        ("epsg:4534", 4534, 75, 25),
        ("EPSG:4554", 4554, 135, 45),
        ("4549", 4549, 120, 40),
        ("EPSG:4544", 4544, 105, 35),
        ("EPSG:4547", 4547, 114, 38),
    ],
)
def test_parse_crs_gauss_kruger_zones(text: str, epsg: int, meridian: int, zone: int) -> None:
    parsed = geo.parse_crs(text)
    assert parsed == geo.GaussKrugerZone(epsg, meridian)
    assert isinstance(parsed, geo.GaussKrugerZone)
    assert parsed.code == f"EPSG:{epsg}"
    assert parsed.zone_number == zone
    assert (parsed.west, parsed.east) == (meridian - 1.5, meridian + 1.5)
    assert not parsed.geographic


def test_pyproj_agrees_on_the_central_meridians() -> None:
    for epsg in range(geo.GK_FIRST_EPSG, geo.GK_LAST_EPSG + 1):
        zone = geo.gauss_kruger_zone(epsg)
        # on the central meridian the easting is exactly the false easting
        x, _ = acrs.transform(float(zone.central_meridian), 30.0, "WGS84", epsg)
        assert x == pytest.approx(geo.GK_FALSE_EASTING, abs=1e-6)


@pytest.mark.parametrize(
    "text", ["EPSG:4527", "EPSG:4533", "EPSG:4555", "EPSG:2385", "EPSG:", "mars", "", "GCJ-03"]
)
def test_unknown_crs_is_refused_with_a_stable_code(text: str) -> None:
    with pytest.raises(ValidationError) as err:
        geo.parse_crs(text)
    assert err.value.code == "crs_unknown"
    assert err.value.params["crs"] == text
    assert text in str(err.value) and "EPSG:4534–4554" in str(err.value)


def test_non_text_crs_is_refused() -> None:
    with pytest.raises(ValidationError) as err:
        geo.parse_crs(3.5)
    assert err.value.code == "crs_unknown"
    with pytest.raises(ValidationError):
        acrs.transform(1.0, 2.0, "WGS84", "EPSG:9999")


@pytest.mark.parametrize(
    ("lon", "epsg"),
    [
        (116.4, 4548),
        (120.2, 4549),
        (105.6, 4544),
        (112.8, 4547),
        (118.5, 4549),
        (118.4999, 4548),
        (73.5, 4534),
        (136.4999, 4554),
        (75.0, 4534),
        (135.0, 4554),
    ],
)
def test_gk_zone_for_longitude(lon: float, epsg: int) -> None:
    assert acrs.gk_zone_for(lon) == epsg
    zone = geo.gauss_kruger_zone_for(lon)
    assert zone.west <= lon < zone.east


@pytest.mark.parametrize("lon", [73.4999, 136.5, 10.0, -116.4, math.nan])
def test_gk_zone_outside_china_is_refused(lon: float) -> None:
    with pytest.raises(ValidationError) as err:
        acrs.gk_zone_for(lon)
    assert err.value.code in {"crs_gk_out_of_range", "coordinate_out_of_range"}
    if not math.isnan(lon):
        assert err.value.code == "crs_gk_out_of_range"


def test_web_mercator_refuses_polar_latitudes_and_bad_input() -> None:
    for lon, lat in ((0.0, 85.1), (0.0, -89.0), (181.0, 0.0), (math.inf, 0.0)):
        with pytest.raises(ValidationError) as err:
            geo.wgs84_to_web_mercator(lon, lat)
        assert err.value.code == "coordinate_out_of_range"
    with pytest.raises(ValidationError):
        geo.web_mercator_to_wgs84(math.nan, 0.0)
    assert geo.wgs84_to_web_mercator(0.0, 85.05)[1] < 20_037_508.35


def test_crs_values_are_stable() -> None:
    assert [c.value for c in geo.Crs] == [
        "EPSG:4326",
        "EPSG:4490",
        "GCJ-02",
        "BD-09",
        "EPSG:3857",
    ]
    assert geo.Crs.WGS84.geographic and not geo.Crs.WEB_MERCATOR.geographic


def test_cgcs2000_equals_wgs84() -> None:
    assert geo.convert(116.4, 39.9, geo.Crs.WGS84, geo.Crs.CGCS2000) == (116.4, 39.9)
    assert acrs.transform(116.4, 39.9, "EPSG:4490", "EPSG:4326") == (116.4, 39.9)


def test_domain_convert_chains_through_wgs84() -> None:
    g = geo.wgs84_to_gcj02(116.4, 39.9)
    b = geo.convert(*g, geo.Crs.GCJ02, geo.Crs.BD09)
    assert b == pytest.approx(geo.wgs84_to_bd09(116.4, 39.9), abs=1e-11)
    m = geo.convert(*b, geo.Crs.BD09, geo.Crs.WEB_MERCATOR)
    assert m == pytest.approx(geo.wgs84_to_web_mercator(116.4, 39.9), abs=1e-4)
    assert geo.convert(*m, geo.Crs.WEB_MERCATOR, geo.Crs.GCJ02) == pytest.approx(g, abs=1e-11)


# --- the adapter's transform -----------------------------------------------------------------
def test_transform_keeps_scalars_scalar_and_arrays_shaped() -> None:
    x, y = acrs.transform(116.4, 39.9, "WGS84", "GCJ-02")
    assert isinstance(x, float) and isinstance(y, float)
    xs, ys = acrs.transform(np.full((2, 3), 116.4), np.full((2, 3), 39.9), "WGS84", 4548)
    assert xs.shape == ys.shape == (2, 3)
    assert xs.dtype == np.float64
    same_x, _ = acrs.transform(xs, ys, 4548, "EPSG:4548")
    assert same_x is not xs and np.array_equal(same_x, xs)


def test_transform_between_two_zones_equals_the_chain_through_lon_lat() -> None:
    x48, y48 = acrs.transform(118.3, 31.0, "WGS84", 4548)
    direct = acrs.transform(x48, y48, 4548, 4549)
    chained = acrs.transform(*acrs.transform(x48, y48, 4548, "WGS84"), "WGS84", 4549)
    assert direct == pytest.approx(chained, abs=1e-6)
    via_gcj = acrs.transform(*acrs.transform(x48, y48, 4548, "GCJ-02"), "GCJ-02", 4549)
    assert via_gcj == pytest.approx(direct, abs=1e-5)


def test_project_to_metres_and_back() -> None:
    square = Polygon([(116.40, 39.90), (116.41, 39.90), (116.41, 39.91), (116.40, 39.91)])
    metric, epsg = acrs.project_to_metres(square)
    assert epsg == 4548
    # 0.01° × 0.01° at 39.9°N: about 853 m × 1,110 m
    assert metric.area == pytest.approx(abs(GEOD.geometry_area_perimeter(square)[0]), rel=1e-4)
    back = acrs.unproject(metric, epsg)
    assert shapely.equals_exact(back, square, tolerance=1e-10)
    # a forced zone is honoured
    _, forced = acrs.project_to_metres(square, 4549)
    assert forced == 4549
    moved = acrs.project_array(np.array([square, square], dtype=object), 4548)
    assert shapely.equals_exact(moved[1], metric, tolerance=1e-9)


# --- properties over China's box -------------------------------------------------------------
MARGIN = 0.05  # the inverse is exact only where the WGS84 point is also inside the box
china_lon = st.floats(geo.GCJ_BOX_WEST + MARGIN, geo.GCJ_BOX_EAST - MARGIN)
china_lat = st.floats(geo.GCJ_BOX_SOUTH + MARGIN, geo.GCJ_BOX_NORTH - MARGIN)


@settings(max_examples=400, deadline=None)
@given(china_lon, china_lat)
def test_gcj02_inverse_is_exact_everywhere_in_china(lon: float, lat: float) -> None:
    g_lon, g_lat = geo.wgs84_to_gcj02(lon, lat)
    w_lon, w_lat = geo.gcj02_to_wgs84(g_lon, g_lat)
    assert metres_between(lon, lat, w_lon, w_lat) < 0.5
    assert abs(w_lon - lon) < 1e-9 and abs(w_lat - lat) < 1e-9
    # a GCJ-02 point taken as given also comes back
    back = geo.wgs84_to_gcj02(*geo.gcj02_to_wgs84(lon, lat))
    assert metres_between(lon, lat, *back) < 0.5


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_bd09_round_trip_everywhere_in_china(lon: float, lat: float) -> None:
    w_lon, w_lat = geo.bd09_to_wgs84(*geo.wgs84_to_bd09(lon, lat))
    assert metres_between(lon, lat, w_lon, w_lat) < 0.5
    assert abs(w_lon - lon) < 1e-9 and abs(w_lat - lat) < 1e-9


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-180, 180),
    st.floats(-geo.WEB_MERCATOR_MAX_LAT, geo.WEB_MERCATOR_MAX_LAT),
)
def test_web_mercator_round_trip_anywhere(lon: float, lat: float) -> None:
    back = geo.web_mercator_to_wgs84(*geo.wgs84_to_web_mercator(lon, lat))
    assert back == pytest.approx((lon, lat), abs=1e-9)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=40))
def test_vectorised_inverse_equals_the_domain(points: list[tuple[float, float]]) -> None:
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    w_lon, w_lat = acrs.transform(lon, lat, "GCJ-02", "WGS84")
    b_lon, b_lat = acrs.transform(lon, lat, "BD-09", "WGS84")
    for i, (x, y) in enumerate(points):
        assert (w_lon[i], w_lat[i]) == pytest.approx(geo.gcj02_to_wgs84(x, y), abs=1e-12)
        assert (b_lon[i], b_lat[i]) == pytest.approx(geo.bd09_to_wgs84(x, y), abs=1e-12)
