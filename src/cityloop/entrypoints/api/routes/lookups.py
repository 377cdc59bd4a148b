"""Reference lookups every client needs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from cityloop.domain.codes import ClassKind, Edition
from cityloop.domain.regions import Region
from cityloop.entrypoints.api import schemas as out
from cityloop.entrypoints.api.deps import CtxDep
from cityloop.entrypoints.api.routes.cases import _enum
from cityloop.entrypoints.api.routes.geocoding import to_wgs84
from cityloop.entrypoints.presentation import label
from cityloop.services.queries import lookups as q

router = APIRouter(prefix=out.API, tags=["lookups"])


class DepartmentOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    level: int
    parent_id: int | None
    district_code: str | None


class RegionOut(BaseModel):
    id: int
    level: str
    code: str
    name: str
    parent_id: int | None
    area_m2: float | None
    centroid: tuple[float, float] | None


class RegionDetailOut(RegionOut):
    parents: list[RegionOut]
    children: list[RegionOut]


class PlaceOut(BaseModel):
    grid: RegionOut | None
    community: RegionOut | None
    street: RegionOut | None
    district: RegionOut | None


class ClassStandardsOut(BaseModel):
    category: out.CategoryOut
    standards: list[out.StandardOut]


class CalendarDayOut(BaseModel):
    date: date
    kind: str


class CalendarOut(BaseModel):
    year: int
    covered: bool
    timezone: str
    hours_per_workday: str
    week: dict[str, list[str]]
    makeup_windows: list[str]
    days: list[CalendarDayOut]


class DeadlineOut(BaseModel):
    start: datetime
    limit: str
    unit: str
    unit_label: str
    clock: str
    deadline: datetime
    uncovered_years: list[int]


def _region(r: Region) -> RegionOut:
    return RegionOut(
        id=r.id,
        level=r.level.value,
        code=r.code,
        name=r.name,
        parent_id=r.parent_id,
        area_m2=r.area_m2,
        centroid=r.centroid,
    )


@router.get("/classes", response_model=list[out.CategoryOut], summary="Class dictionary")
def list_classes(
    c: CtxDep,
    edition: str | None = None,
    kind: str | None = None,
    q_text: Annotated[str, Query(alias="q", max_length=50)] = "",
) -> list[out.CategoryOut]:
    container = c.container
    rows = q.classes(
        container.uow(readonly=True),
        edition=_enum(Edition, edition, "edition") if edition else None,
        kind=_enum(ClassKind, kind, "kind") if kind else None,
        text=q_text,
    )
    return [
        out.CategoryOut(
            id=c.id,
            code=c.code,
            name=c.name,
            kind=c.kind.value,
            edition=c.edition.value,
            major_code=c.major_code,
            major_name=c.major_name,
            component_code=c.component_code,
            local=c.local,
            self_handling_allowed=c.self_handling_allowed,
        )
        for c in rows
    ]


@router.get(
    "/classes/{code}/standards",
    response_model=ClassStandardsOut,
    summary="Filing standards (立案条件, 处置时限, 结案条件) of a matter class",
)
def class_standards(
    c: CtxDep,
    code: str,
) -> ClassStandardsOut:
    locale, container = c.locale, c.container
    category, standards = q.standards_of(container.uow(readonly=True), code)
    return ClassStandardsOut(
        category=out.CategoryOut(
            id=category.id,
            code=category.code,
            name=category.name,
            kind=category.kind.value,
            edition=category.edition.value,
            major_code=category.major_code,
            major_name=category.major_name,
            component_code=category.component_code,
            local=category.local,
            self_handling_allowed=category.self_handling_allowed,
        ),
        standards=[out.standard_out(s, locale) for s in standards],
    )


@router.get("/departments", response_model=list[DepartmentOut], summary="Departments")
def list_departments(c: CtxDep) -> list[DepartmentOut]:
    actor, container = c.actor, c.container
    return [
        DepartmentOut(
            id=d.id,
            code=d.code,
            name=d.name,
            kind=d.kind.value,
            level=d.level,
            parent_id=d.parent_id,
            district_code=d.district_code,
        )
        for d in q.departments(container.uow(readonly=True), actor)
    ]


@router.get(
    "/regions/locate",
    response_model=PlaceOut,
    summary="Unit grid, community, street and district of a point",
)
def locate(
    c: CtxDep,
    lon: Annotated[float, Query(description="longitude, or easting in metres")],
    lat: Annotated[float, Query(description="latitude, or northing in metres")],
    crs: Annotated[str, Query(max_length=20)] = "EPSG:4326",
) -> PlaceOut:
    container = c.container
    place = q.locate(container.uow(readonly=True), *to_wgs84(lon, lat, crs))
    return PlaceOut(
        grid=_region(place.grid) if place.grid else None,
        community=_region(place.community) if place.community else None,
        street=_region(place.street) if place.street else None,
        district=_region(place.district) if place.district else None,
    )


@router.get("/regions/{code}", response_model=RegionDetailOut, summary="A region by code")
def region(
    c: CtxDep,
    code: str,
) -> RegionDetailOut:
    container = c.container
    found, parents, children = q.region(container.uow(readonly=True), code)
    return RegionDetailOut(
        **_region(found).model_dump(),
        parents=[_region(p) for p in parents],
        children=[_region(c) for c in children],
    )


@router.get("/calendar", response_model=CalendarOut, summary="The working calendar of a year")
def calendar(
    c: CtxDep,
    year: Annotated[int, Query(ge=1990, le=2200)],
) -> CalendarOut:
    container = c.container
    result = q.calendar_year(container.uow(readonly=True), year)
    cal = result.calendar
    return CalendarOut(
        year=result.year,
        covered=result.covered,
        timezone=str(cal.tz),
        hours_per_workday=f"{cal.hours_per_workday.normalize():f}",
        week={str(d): [str(w) for w in windows] for d, windows in cal.week.items()},
        makeup_windows=[str(w) for w in cal.makeup_windows],
        days=[CalendarDayOut(date=d, kind=k) for d, k in result.days],
    )


@router.get(
    "/sla/deadline",
    response_model=DeadlineOut,
    summary="Preview a deadline: a start plus a limit such as 4工作时",
)
def deadline(
    c: CtxDep,
    start: datetime,
    limit: Annotated[str, Query(max_length=30, examples=["4工作时"])],
) -> DeadlineOut:
    locale, container = c.locale, c.container
    preview = q.deadline_preview(container.uow(readonly=True), start, limit)
    return DeadlineOut(
        start=preview.start,
        limit=str(preview.limit),
        unit=preview.limit.unit.value,
        unit_label=label(preview.limit.unit, locale),
        clock=preview.clock.value,
        deadline=preview.deadline,
        uncovered_years=preview.uncovered_years,
    )
