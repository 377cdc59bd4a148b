"""Reference lookups: classes and filing standards, departments, regions, calendar, deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from cityloop.domain.codes import ClassKind, Edition, parse_grid_code
from cityloop.domain.errors import NotFoundError, ValidationError
from cityloop.domain.org import Department
from cityloop.domain.regions import GridHit, Region
from cityloop.domain.roles import Actor
from cityloop.domain.sla.calendar import WorkCalendar
from cityloop.domain.sla.units import Clock, TimeLimit, parse_time_limit
from cityloop.domain.taxonomy import Category, FilingStandard
from cityloop.services.ports import UnitOfWork


def classes(
    uow: UnitOfWork, *, edition: Edition | None, kind: ClassKind | None, text: str = ""
) -> list[Category]:
    with uow:
        return uow.catalog.categories(edition=edition, kind=kind, text=text.strip()[:50])


def standards_of(uow: UnitOfWork, code: str) -> tuple[Category, list[FilingStandard]]:
    """The filing standards of a current-edition matter class (or a component's anomaly)."""
    with uow:
        category = uow.catalog.category_by_code(Edition.CURRENT, ClassKind.MATTER, code)
        if category is None:
            raise NotFoundError(
                "unknown_category",
                "Class code {code} is not in the class dictionary",
                code=code,
            )
        return category, [s for s in uow.catalog.standards_for(category.id) if s.active]


def departments(uow: UnitOfWork, actor: Actor) -> list[Department]:
    """Active departments the caller may deal with (a district user: its own and city-wide)."""
    with uow:
        result = [d for d in uow.org.departments() if d.active]
    if actor.district_code is not None:
        result = [d for d in result if d.district_code in (None, actor.district_code)]
    return result


@dataclass(frozen=True, slots=True)
class Place:
    hit: GridHit
    grid: Region | None
    community: Region | None
    street: Region | None
    district: Region | None


def locate(uow: UnitOfWork, lon: float, lat: float) -> Place:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError(
            "position_invalid",
            "Longitude {lon} / latitude {lat} is not a position on Earth",
            lon=lon,
            lat=lat,
        )
    hit = uow.locator.locate(lon, lat)
    if hit is None:
        raise ValidationError(
            "point_outside_city",
            "The position {lon}, {lat} is outside every unit grid of the city",
            lon=lon,
            lat=lat,
        )
    with uow:
        return Place(
            hit=hit,
            grid=uow.regions.get(hit.grid_id),
            community=uow.regions.by_code(hit.community_code),
            street=uow.regions.by_code(hit.street_code),
            district=uow.regions.by_code(hit.district_code),
        )


def region(uow: UnitOfWork, code: str) -> tuple[Region, list[Region], list[Region]]:
    """A region, its parents (nearest first) and its children."""
    if len(code) == 15:
        parse_grid_code(code)
    with uow:
        found = uow.regions.by_code(code)
        if found is None:
            raise NotFoundError("region_not_found", "Region {code} does not exist", code=code)
        parents = []
        current = found
        while current.parent_id is not None:
            parent = uow.regions.get(current.parent_id)
            if parent is None:
                break
            parents.append(parent)
            current = parent
        return found, parents, uow.regions.children(found.id)


@dataclass(frozen=True, slots=True)
class CalendarYear:
    year: int
    covered: bool
    calendar: WorkCalendar
    days: list[tuple[date, str]]  # every non-ordinary day: holiday or make-up working day


def calendar_year(uow: UnitOfWork, year: int) -> CalendarYear:
    if not 1990 <= year <= 2200:
        raise ValidationError("year_invalid", "Year {year} is out of range", year=year)
    with uow:
        calendar = uow.sla.calendar()
    days = sorted(
        (day, "holiday" if kind.value == "holiday" else "workday")
        for day, kind in calendar.overrides.items()
        if day.year == year
    )
    return CalendarYear(year, calendar.covers_year(year), calendar, days)


@dataclass(frozen=True, slots=True)
class DeadlinePreview:
    start: datetime
    limit: TimeLimit
    deadline: datetime
    clock: Clock
    uncovered_years: list[int]


def deadline_preview(uow: UnitOfWork, start: datetime, limit_text: str) -> DeadlinePreview:
    """What deadline a limit counted from ``start`` gives, and which years lack a notice."""
    if start.tzinfo is None:
        raise ValidationError(
            "naive_datetime",
            "Time {value} has no time zone; times must be aware",
            value=start.isoformat(),
        )
    limit = parse_time_limit(limit_text)
    with uow:
        clocks = uow.sla.clocks()
    deadline = clocks.deadline(start, limit)
    tz = clocks.calendar.tz
    years = range(start.astimezone(tz).year, deadline.astimezone(tz).year + 1)
    uncovered = [y for y in years if not clocks.calendar.covers_year(y)]
    return DeadlinePreview(start, limit, deadline, limit.clock, uncovered)
