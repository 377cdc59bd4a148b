"""What the map pages ask for and get back (no SQL, no geometry library here).

A map asks for a bounding box at a zoom level. Regions and grids come back as GeoJSON
simplified for that zoom; components and cases come back as points while the box holds at
most a few thousand, and aggregated above that: counts per screen cell (clusters) or per unit
grid (a choropleth).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cityloop.domain.errors import ValidationError

MAX_ZOOM = 22
DEFAULT_POINT_LIMIT = 3000
MAX_POINT_LIMIT = 10_000
CLUSTER_CELL_PX = 64  # a cluster cell is this many screen pixels wide at the request's zoom


@dataclass(frozen=True, slots=True)
class BBox:
    """A WGS84 box: west, south, east, north (degrees)."""

    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        values = (self.west, self.south, self.east, self.north)
        if not all(math.isfinite(v) for v in values) or not (
            -180 <= self.west < self.east <= 180 and -90 <= self.south < self.north <= 90
        ):
            raise ValidationError(
                "bbox_invalid",
                "A bounding box is west,south,east,north in degrees with west < east and"
                " south < north; got {bbox}",
                bbox=",".join(f"{v:g}" for v in values),
            )

    @classmethod
    def parse(cls, text: str) -> BBox:
        parts = [p.strip() for p in text.split(",")]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            values = []
        if len(values) != 4:
            raise ValidationError(
                "bbox_invalid",
                "A bounding box is west,south,east,north in degrees with west < east and"
                " south < north; got {bbox}",
                bbox=text,
            )
        return cls(*values)


def cell_size_deg(zoom: int, px: int = CLUSTER_CELL_PX) -> float:
    """Width in degrees of ``px`` screen pixels at a web-map zoom level (256-px tiles)."""
    return 360.0 / (256.0 * 2.0 ** max(0, min(zoom, MAX_ZOOM))) * px


def simplify_tolerance_deg(zoom: int) -> float:
    """Half a screen pixel at ``zoom``: what a simplified outline may move without showing."""
    return cell_size_deg(zoom, 1) / 2


class CaseLayerMode(enum.StrEnum):
    AUTO = "auto"  # points up to the limit, clusters above it
    POINTS = "points"
    CLUSTERS = "clusters"
    GRIDS = "grids"  # counts per unit grid (choropleth)


@dataclass(frozen=True, slots=True)
class CaseLayerQuery:
    """A case layer request. The scope fields come from the actor, as in a case search."""

    bbox: BBox
    zoom: int
    mode: CaseLayerMode = CaseLayerMode.AUTO
    limit: int = DEFAULT_POINT_LIMIT
    states: tuple[str, ...] = ()
    category_ids: tuple[int, ...] = ()
    sources: tuple[str, ...] = ()
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    district_code: str | None = None  # scope
    department_id: int | None = None  # scope (a handler's department)
    reporter_user_id: int | None = None  # scope (a citizen's own reports)


@dataclass(frozen=True, slots=True)
class CasePoint:
    id: int
    number: str
    lon: float
    lat: float
    state: str
    category_code: str | None
    urgency: str
    reported_at: datetime
    grid_code: str | None


@dataclass(frozen=True, slots=True)
class Cluster:
    """Cases counted in one cluster cell: their number and mean position."""

    lon: float
    lat: float
    count: int


@dataclass(frozen=True, slots=True)
class GridCount:
    grid_id: int
    grid_code: str
    count: int


@dataclass(frozen=True, slots=True)
class CaseLayer:
    mode: CaseLayerMode  # what was returned: points, clusters or grids (never auto)
    total: int  # matching cases in the box
    points: tuple[CasePoint, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    grids: tuple[GridCount, ...] = ()
    cell_deg: float | None = None


@dataclass(frozen=True, slots=True)
class ComponentPoint:
    id: int
    object_code: str
    class_code: str
    name: str
    lon: float
    lat: float
    status: str
    grid_code: str | None


@dataclass(frozen=True, slots=True)
class ComponentLayer:
    total: int
    points: tuple[ComponentPoint, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    cell_deg: float | None = None


FeatureCollection = dict[str, Any]
