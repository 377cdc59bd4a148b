"""Map layers for the pages: regions and grids, components, cases — as the caller may see them.

Scope follows the case search (``services/queries/cases.py``): a district user sees its
district only, department staff their department's cases, a citizen its own reports. Above
``limit`` matching points a layer is aggregated on the server (clusters per screen cell, or
counts per unit grid for a choropleth), so a map over a million cases stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cityloop.domain.case import CaseState, Source
from cityloop.domain.codes import ClassKind, Edition
from cityloop.domain.errors import ValidationError
from cityloop.domain.regions import RegionLevel
from cityloop.domain.roles import Actor, Role
from cityloop.services.ports import UnitOfWork
from cityloop.services.queries.map_model import (
    MAX_POINT_LIMIT,
    MAX_ZOOM,
    BBox,
    CaseLayer,
    CaseLayerMode,
    CaseLayerQuery,
    ComponentLayer,
    FeatureCollection,
)


def _zoom(zoom: int) -> int:
    if not 0 <= zoom <= MAX_ZOOM:
        raise ValidationError(
            "zoom_invalid", "The zoom level is 0 to {max}; got {zoom}", max=MAX_ZOOM, zoom=zoom
        )
    return zoom


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_POINT_LIMIT:
        raise ValidationError(
            "map_limit_invalid",
            "A layer returns 1 to {max} points before it is aggregated",
            max=MAX_POINT_LIMIT,
        )
    return limit


def region_layer(
    uow: UnitOfWork,
    level: RegionLevel,
    *,
    actor: Actor,
    zoom: int,
    bbox: BBox | None = None,
    version: int | None = None,
) -> FeatureCollection:
    """District, street, community or grid outlines, simplified for ``zoom`` (a grid layer
    version when given, else the current layer)."""
    return uow.map_layers.regions(
        level,
        zoom=_zoom(zoom),
        bbox=bbox,
        version=version,
        district_code=actor.district_code,
    )


def component_layer(
    uow: UnitOfWork,
    *,
    actor: Actor,
    bbox: BBox,
    zoom: int,
    class_codes: Sequence[str] = (),
    limit: int = 3000,
) -> ComponentLayer:
    return uow.map_layers.components(
        bbox,
        zoom=_zoom(zoom),
        class_codes=tuple(class_codes),
        limit=_limit(limit),
        district_code=actor.district_code,
    )


def case_layer(
    uow: UnitOfWork,
    *,
    actor: Actor,
    bbox: BBox,
    zoom: int,
    mode: CaseLayerMode = CaseLayerMode.AUTO,
    limit: int = 3000,
    states: Sequence[str] = (),
    category_codes: Sequence[str] = (),
    sources: Sequence[str] = (),
    reported_from: datetime | None = None,
    reported_to: datetime | None = None,
) -> CaseLayer:
    """Cases in a box, filtered; points up to ``limit``, else clusters (``mode=auto``), or
    counts per unit grid (``mode=grids``)."""
    known_states = {s.value for s in CaseState}
    for state in states:
        if state not in known_states:
            raise ValidationError("state_invalid", "{value} is not a case state", value=state)
    known_sources = {s.value for s in Source}
    for source in sources:
        if source not in known_sources:
            raise ValidationError("source_invalid", "{value} is not a case source", value=source)
    for when in (reported_from, reported_to):
        if when is not None and when.tzinfo is None:
            raise ValidationError(
                "naive_datetime",
                "Time {value} has no time zone; times must be aware",
                value=when.isoformat(),
            )
    category_ids: list[int] = []
    if category_codes:
        with uow:
            for code in category_codes:
                category = uow.catalog.category_by_code(Edition.CURRENT, ClassKind.MATTER, code)
                if category is None:
                    raise ValidationError(
                        "unknown_category",
                        "Class code {code} is not in the class dictionary",
                        code=code,
                    )
                category_ids.append(category.id)
    query = CaseLayerQuery(
        bbox=bbox,
        zoom=_zoom(zoom),
        mode=mode,
        limit=_limit(limit),
        states=tuple(states),
        category_ids=tuple(category_ids),
        sources=tuple(sources),
        reported_from=reported_from,
        reported_to=reported_to,
        district_code=actor.district_code,
        department_id=actor.department_id if actor.role is Role.HANDLER else None,
        reporter_user_id=actor.user_id if actor.role is Role.CITIZEN else None,
    )
    return uow.map_layers.cases(query)
