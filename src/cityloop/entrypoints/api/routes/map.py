"""Map layers for the pages, as GeoJSON, and the base-map settings.

Boxes and answers are WGS84 unless ``crs`` names another system (GCJ-02 to overlay Chinese web
tiles, CGCS2000 Gauss–Krüger metres …). The default base map is drawn from the city's own data
(district, street, community and grid outlines from ``/map/regions``), so a map works on an
intranet with no internet. Online tiles — 天地图 WMTS (needs the city's key) or any XYZ URL —
are optional settings (``CITYLOOP_MAP_TIANDITU_KEY``, ``CITYLOOP_MAP_XYZ_URL``,
``CITYLOOP_MAP_XYZ_CRS``); a client over GCJ-02 tiles asks for ``crs=GCJ-02``.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any

import numpy as np
import shapely
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic_settings import BaseSettings, SettingsConfigDict
from shapely.geometry import mapping, shape

from cityloop.adapters.geo.crs import transform
from cityloop.domain.errors import ValidationError
from cityloop.domain.geo import Crs, parse_crs
from cityloop.domain.regions import RegionLevel
from cityloop.entrypoints.api.deps import ActorDep, ContainerDep
from cityloop.entrypoints.api.routes.geocoding import to_wgs84
from cityloop.entrypoints.api.schemas import API
from cityloop.services.queries import map_layers as q
from cityloop.services.queries.map_model import (
    DEFAULT_POINT_LIMIT,
    MAX_POINT_LIMIT,
    MAX_ZOOM,
    BBox,
    CaseLayer,
    CaseLayerMode,
)

router = APIRouter(prefix=f"{API}/map", tags=["map"])

BBoxQuery = Annotated[
    str,
    Query(
        description="west,south,east,north in WGS84 degrees", examples=["116.38,39.90,116.44,39.95"]
    ),
]
ZoomQuery = Annotated[int, Query(ge=0, le=MAX_ZOOM)]
LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_POINT_LIMIT, description="points returned before aggregating")
]


class MapSettings(BaseSettings):
    """Base-map settings (environment ``CITYLOOP_MAP_*``); all optional."""

    model_config = SettingsConfigDict(env_prefix="CITYLOOP_MAP_", env_file=".env", extra="ignore")

    tianditu_key: str = ""
    xyz_url: str = ""  # e.g. an intranet tile server: https://tiles.example/{z}/{x}/{y}.png
    xyz_crs: str = "GCJ-02"
    xyz_attribution: str = ""
    centre_lon: float = 116.4165
    centre_lat: float = 39.9288
    zoom: int = 13


@lru_cache(maxsize=1)
def map_settings() -> MapSettings:
    return MapSettings()


@router.get("/settings", summary="Base maps: the local one (default) and optional online tiles")
def settings(actor: ActorDep) -> dict[str, Any]:
    conf = map_settings()
    layers: list[dict[str, Any]] = [
        {
            "id": "local",
            "kind": "geojson",
            "crs": "EPSG:4326",
            "url": "/api/v1/map/regions?level={level}&zoom={z}&bbox={bbox}",
            "levels": [level.value for level in RegionLevel],
            "online": False,
        }
    ]
    if conf.tianditu_key:
        for name, layer in (("tianditu-vec", "vec"), ("tianditu-cva", "cva")):
            layers.append(
                {
                    "id": name,
                    "kind": "wmts",
                    "crs": "EPSG:4490",
                    "url": f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS"
                    f"&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default"
                    "&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
                    f"&tk={conf.tianditu_key}",
                    "subdomains": "01234567",
                    "attribution": "天地图",
                    "online": True,
                }
            )
    if conf.xyz_url:
        layers.append(
            {
                "id": "xyz",
                "kind": "xyz",
                "crs": conf.xyz_crs,
                "url": conf.xyz_url,
                "attribution": conf.xyz_attribution,
                "online": True,
            }
        )
    return {
        "default": "local",
        "centre": [conf.centre_lon, conf.centre_lat],
        "zoom": conf.zoom,
        "point_limit": DEFAULT_POINT_LIMIT,
        "layers": layers,
    }


CrsQuery = Annotated[
    str,
    Query(
        max_length=20,
        description="system of the box and of the answer's coordinates (GCJ-02 to overlay"
        " Chinese web tiles; default WGS84)",
    ),
]


def _wgs84_box(text: str, crs: str) -> BBox:
    """A box given in ``crs`` as the WGS84 box that holds its four corners."""
    box = BBox.parse(text)
    if parse_crs(crs) in (Crs.WGS84, Crs.CGCS2000):
        return box
    corners = [to_wgs84(x, y, crs) for x in (box.west, box.east) for y in (box.south, box.north)]
    lons, lats = [c[0] for c in corners], [c[1] for c in corners]
    return BBox(min(lons), min(lats), max(lons), max(lats))


def _bbox(text: str | None, crs: str = "EPSG:4326") -> BBox | None:
    return _wgs84_box(text, crs) if text else None


def _in_crs(body: dict[str, Any], crs: str) -> dict[str, Any]:
    """Move every feature of a collection from WGS84 to ``crs`` (and say so)."""
    ref = parse_crs(crs)
    if ref in (Crs.WGS84, Crs.CGCS2000):
        return body
    digits = 8 if ref.geographic else 3

    def move(x: Any, y: Any) -> tuple[Any, Any]:
        out_x, out_y = transform(x, y, Crs.WGS84, ref)
        return np.round(out_x, digits), np.round(out_y, digits)

    for feature in body["features"]:
        if feature.get("geometry"):
            moved = shapely.transform(shape(feature["geometry"]), move, interleaved=False)
            feature["geometry"] = mapping(moved)
    body["crs"] = {"type": "name", "properties": {"name": crs}}
    return body


def _level(text: str) -> RegionLevel:
    try:
        return RegionLevel(text)
    except ValueError as exc:
        raise ValidationError(
            "region_level_invalid",
            "{value} is not a region level; use district, street or community",
            value=text,
        ) from exc


@router.get("/regions", summary="District, street, community or grid outlines (GeoJSON)")
def regions(
    actor: ActorDep,
    container: ContainerDep,
    zoom: ZoomQuery,
    level: str = "grid",
    bbox: BBoxQuery | None = None,
    version: Annotated[int | None, Query(ge=1, description="grid layer version")] = None,
    crs: CrsQuery = "EPSG:4326",
) -> JSONResponse:
    collection = q.region_layer(
        container.uow(readonly=True),
        _level(level),
        actor=actor,
        zoom=zoom,
        bbox=_bbox(bbox, crs),
        version=version,
    )
    return JSONResponse(_in_crs(collection, crs))


def _clusters(layer: Any) -> list[dict[str, Any]]:
    return [
        {
            "type": "Feature",
            "properties": {"cluster": True, "count": c.count},
            "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
        }
        for c in layer.clusters
    ]


@router.get("/components", summary="Components in a box: points, or clusters above the limit")
def components(
    actor: ActorDep,
    container: ContainerDep,
    bbox: BBoxQuery,
    zoom: ZoomQuery,
    class_code: Annotated[list[str] | None, Query(alias="class")] = None,
    limit: LimitQuery = DEFAULT_POINT_LIMIT,
    crs: CrsQuery = "EPSG:4326",
) -> JSONResponse:
    layer = q.component_layer(
        container.uow(readonly=True),
        actor=actor,
        bbox=_wgs84_box(bbox, crs),
        zoom=zoom,
        class_codes=class_code or (),
        limit=limit,
    )
    features = [
        {
            "type": "Feature",
            "properties": {
                "id": p.id,
                "object_code": p.object_code,
                "class_code": p.class_code,
                "name": p.name,
                "status": p.status,
                "grid_code": p.grid_code,
            },
            "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
        }
        for p in layer.points
    ] + _clusters(layer)
    return JSONResponse(
        _in_crs(
            {
                "type": "FeatureCollection",
                "mode": "clusters" if layer.clusters else "points",
                "total": layer.total,
                "cell_deg": layer.cell_deg,
                "features": features,
            },
            crs,
        )
    )


def case_layer_out(layer: CaseLayer) -> dict[str, Any]:
    features = [
        {
            "type": "Feature",
            "properties": {
                "id": p.id,
                "number": p.number,
                "state": p.state,
                "category": p.category_code,
                "urgency": p.urgency,
                "reported_at": p.reported_at.isoformat(),
                "grid_code": p.grid_code,
            },
            "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
        }
        for p in layer.points
    ] + _clusters(layer)
    body: dict[str, Any] = {
        "type": "FeatureCollection",
        "mode": layer.mode.value,
        "total": layer.total,
        "cell_deg": layer.cell_deg,
        "features": features,
    }
    if layer.mode is CaseLayerMode.GRIDS:
        body["grids"] = [
            {"grid_id": g.grid_id, "grid_code": g.grid_code, "count": g.count} for g in layer.grids
        ]
    return body


@router.get(
    "/cases",
    summary="Cases in a box: points up to the limit, else clusters, or counts per grid",
)
def cases(
    actor: ActorDep,
    container: ContainerDep,
    bbox: BBoxQuery,
    zoom: ZoomQuery,
    mode: Annotated[str, Query(pattern="^(auto|points|clusters|grids)$")] = "auto",
    limit: LimitQuery = DEFAULT_POINT_LIMIT,
    state: Annotated[list[str] | None, Query()] = None,
    category: Annotated[list[str] | None, Query(description="matter class codes")] = None,
    source: Annotated[list[str] | None, Query()] = None,
    reported_from: datetime | None = None,
    reported_to: datetime | None = None,
    crs: CrsQuery = "EPSG:4326",
) -> JSONResponse:
    layer = q.case_layer(
        container.uow(readonly=True),
        actor=actor,
        bbox=_wgs84_box(bbox, crs),
        zoom=zoom,
        mode=CaseLayerMode(mode),
        limit=limit,
        states=state or (),
        category_codes=category or (),
        sources=source or (),
        reported_from=reported_from,
        reported_to=reported_to,
    )
    return JSONResponse(_in_crs(case_layer_out(layer), crs))
