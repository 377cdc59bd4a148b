"""Geocoding (地理编码): place text → positions, a position → its grid and nearest address.

Reference: ``standards.md`` §4.3. Positions here are WGS84/CGCS2000 longitude and latitude;
the entry points convert from the caller's ``crs`` (GCJ-02 from phones with Chinese map SDKs,
BD-09, Gauss–Krüger metres …) before calling, and back for answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cityloop.domain.address import GeocodeCandidate, ReverseMatch
from cityloop.domain.errors import ValidationError
from cityloop.domain.regions import GridHit
from cityloop.domain.roles import Actor
from cityloop.services.ports import UnitOfWork

MAX_TEXT = 200
MAX_CANDIDATES = 20
MAX_REVERSE_DISTANCE_M = 5000.0


def _check_position(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError(
            "position_invalid",
            "Longitude {lon} / latitude {lat} is not a position on Earth",
            lon=lon,
            lat=lat,
        )


def locate_point(uow: UnitOfWork, lon: float, lat: float) -> GridHit:
    """The unit grid (and community, street, district, layer version) a point lies in."""
    _check_position(lon, lat)
    hit = uow.locator.locate(lon, lat)
    if hit is None:
        raise ValidationError(
            "point_outside_city",
            "The position {lon}, {lat} is outside every unit grid of the city",
            lon=lon,
            lat=lat,
        )
    return hit


def geocode(
    uow: UnitOfWork,
    text: str,
    *,
    actor: Actor,
    limit: int = 5,
    district_code: str | None = None,
) -> list[GeocodeCandidate]:
    """Ranked candidates for a free-text address ("东城区和平里街道和平里东街11号院3号楼"),
    best first; tolerant of missing levels, typos and aliases. Empty when nothing matches."""
    value = (text or "").strip()
    if not value:
        raise ValidationError("geocode_text_empty", "Give an address or place name to look up")
    if len(value) > MAX_TEXT:
        raise ValidationError(
            "geocode_text_too_long",
            "An address to look up has at most {limit} characters",
            limit=MAX_TEXT,
        )
    if not 1 <= limit <= MAX_CANDIDATES:
        raise ValidationError(
            "geocode_limit_invalid",
            "Ask for 1 to {max} candidates",
            max=MAX_CANDIDATES,
        )
    return uow.geocoder.forward(value, limit=limit, district_code=district_code)


@dataclass(frozen=True, slots=True)
class ReversePlace:
    """Where a point is: its grid (None outside every grid) and the nearest address with the
    point's 方位描述 (None when no address is within the distance)."""

    lon: float
    lat: float
    hit: GridHit | None
    match: ReverseMatch | None


def reverse_geocode(
    uow: UnitOfWork,
    lon: float,
    lat: float,
    *,
    actor: Actor,
    max_distance_m: float = 500.0,
) -> ReversePlace:
    """The nearest standard address to a point and the point's description relative to it
    ("和平里东街11号院东侧约20米"), with the unit grid the point lies in."""
    _check_position(lon, lat)
    if not 0 < max_distance_m <= MAX_REVERSE_DISTANCE_M:
        raise ValidationError(
            "reverse_distance_invalid",
            "The search distance is 1 to {max} metres",
            max=int(MAX_REVERSE_DISTANCE_M),
        )
    return ReversePlace(
        lon,
        lat,
        uow.locator.locate(lon, lat),
        uow.geocoder.reverse(lon, lat, max_distance_m=max_distance_m),
    )
