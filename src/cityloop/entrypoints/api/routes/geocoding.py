"""Geocoding: address text → ranked positions; a position → its grid and nearest address.

Every position in and out is in the caller's ``crs`` (default WGS84; CGCS2000, GCJ-02 — what
phones with Chinese map SDKs report —, BD-09, Web Mercator and the CGCS2000 3-degree
Gauss–Krüger zones EPSG:4534–4554 are accepted).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from cityloop.adapters.geo.crs import transform
from cityloop.domain.address import GeocodeCandidate, StandardAddress
from cityloop.domain.errors import ValidationError
from cityloop.domain.geo import Crs, parse_crs
from cityloop.domain.regions import GridHit
from cityloop.entrypoints.api.deps import ActorDep, ContainerDep
from cityloop.entrypoints.api.schemas import API
from cityloop.services import geocoding as svc

router = APIRouter(prefix=f"{API}/geocode", tags=["geocoding"])

CrsQuery = Annotated[
    str,
    Query(
        max_length=20,
        description="Coordinate system of positions: EPSG:4326 (WGS84), EPSG:4490 (CGCS2000),"
        " GCJ-02, BD-09, EPSG:3857, EPSG:4534–4554 (Gauss–Krüger)",
    ),
]


def to_wgs84(x: float, y: float, crs: str) -> tuple[float, float]:
    """A position in ``crs`` → WGS84 longitude/latitude (refusing one that does not convert)."""
    ref = parse_crs(crs)
    if ref is Crs.WGS84 or ref is Crs.CGCS2000:
        lon, lat = x, y
    else:
        lon, lat = transform(x, y, ref, Crs.WGS84)
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError(
            "coordinate_out_of_range",
            "Coordinate ({x}, {y}) is outside the valid range of {crs}",
            x=x,
            y=y,
            crs=crs,
        )
    return lon, lat


def position_to_wgs84(
    x: float | None, y: float | None, crs: str
) -> tuple[float | None, float | None]:
    """:func:`to_wgs84` for an optional position (both None, or both given)."""
    if x is None or y is None:
        return x, y
    return to_wgs84(x, y, crs)


def from_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    ref = parse_crs(crs)
    if ref is Crs.WGS84 or ref is Crs.CGCS2000:
        return lon, lat
    x, y = transform(lon, lat, Crs.WGS84, ref)
    digits = 8 if ref.geographic else 3
    return round(x, digits), round(y, digits)


class GridOut(BaseModel):
    grid_id: int
    grid_code: str
    community_code: str
    street_code: str
    district_code: str
    layer_version: int


def grid_out(hit: GridHit | None) -> GridOut | None:
    if hit is None:
        return None
    return GridOut(
        grid_id=hit.grid_id,
        grid_code=hit.grid_code,
        community_code=hit.community_code,
        street_code=hit.street_code,
        district_code=hit.district_code,
        layer_version=hit.layer_version,
    )


class AddressOut(BaseModel):
    code: str
    kind: str
    label: str
    road: str
    door: str
    building: str
    name: str
    poi_type: str
    district_code: str
    street_code: str | None
    community_code: str | None
    grid_code: str | None
    synthetic: bool


def address_out(a: StandardAddress) -> AddressOut:
    return AddressOut(
        code=a.code,
        kind=a.kind.value,
        label=a.label,
        road=a.road,
        door=a.door,
        building=a.building,
        name=a.name,
        poi_type=a.poi_type,
        district_code=a.district_code,
        street_code=a.street_code,
        community_code=a.community_code,
        grid_code=a.grid_code,
        synthetic=a.synthetic,
    )


class CandidateOut(BaseModel):
    level: str
    score: float
    x: float
    y: float
    crs: str
    text: str
    address: AddressOut | None
    region_code: str | None
    district_code: str | None
    street_code: str | None
    community_code: str | None
    approximate: bool
    note: str


class GeocodeOut(BaseModel):
    query: str
    candidates: list[CandidateOut]


class ReverseOut(BaseModel):
    x: float
    y: float
    crs: str
    grid: GridOut | None
    address: AddressOut | None
    text: str | None
    description: str | None
    direction: str | None
    distance_m: float | None


def candidate_out(c: GeocodeCandidate, crs: str) -> CandidateOut:
    x, y = from_wgs84(c.lon, c.lat, crs)
    return CandidateOut(
        level=c.level.value,
        score=c.score,
        x=x,
        y=y,
        crs=crs,
        text=c.text,
        address=address_out(c.address) if c.address else None,
        region_code=c.region_code,
        district_code=c.district_code,
        street_code=c.street_code,
        community_code=c.community_code,
        approximate=c.approximate,
        note=c.note,
    )


@router.get("", response_model=GeocodeOut, summary="Forward geocoding: address text → positions")
def geocode(
    actor: ActorDep,
    container: ContainerDep,
    q: Annotated[str, Query(max_length=200, examples=["东城区和平里街道和平里东街11号院3号楼"])],
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    crs: CrsQuery = "EPSG:4326",
) -> GeocodeOut:
    parse_crs(crs)
    found = svc.geocode(
        container.uow(readonly=True), q, actor=actor, limit=limit, district_code=district
    )
    return GeocodeOut(query=q, candidates=[candidate_out(c, crs) for c in found])


@router.get(
    "/reverse",
    response_model=ReverseOut,
    summary="Reverse geocoding: a position → grid, nearest address and 方位描述",
)
def reverse(
    actor: ActorDep,
    container: ContainerDep,
    x: Annotated[float, Query(description="longitude, or easting in metres")],
    y: Annotated[float, Query(description="latitude, or northing in metres")],
    crs: CrsQuery = "EPSG:4326",
    max_distance: Annotated[float, Query(gt=0, le=5000)] = 500.0,
) -> ReverseOut:
    lon, lat = to_wgs84(x, y, crs)
    place = svc.reverse_geocode(
        container.uow(readonly=True), lon, lat, actor=actor, max_distance_m=max_distance
    )
    match = place.match
    extra: dict[str, Any] = {"address": None, "text": None, "description": None}
    if match is not None:
        extra = {
            "address": address_out(match.address),
            "text": match.text,
            "description": match.description,
            "direction": match.bearing.code or None,
            "distance_m": round(match.bearing.distance_m, 1),
        }
    return ReverseOut(
        x=x,
        y=y,
        crs=crs,
        grid=grid_out(place.hit),
        **{"direction": None, "distance_m": None, **extra},
    )
