"""Regions: district (区), street (街道), community (社区) and unit grid (单元网格).

Reference: ``standards.md`` §2. Codes nest: a street code (9) starts with its district code
(6), a community code (12) with its street's, a grid code (15) with its community's. Each region
has validity dates, so a redrawn grid keeps its history.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from cityloop.domain.errors import Msg, ValidationError


class RegionLevel(enum.StrEnum):
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"


CODE_LENGTH = {
    RegionLevel.DISTRICT: 6,
    RegionLevel.STREET: 9,
    RegionLevel.COMMUNITY: 12,
    RegionLevel.GRID: 15,
}
LEVEL_NAMES = {
    RegionLevel.DISTRICT: Msg("district"),
    RegionLevel.STREET: Msg("street"),
    RegionLevel.COMMUNITY: Msg("community"),
    RegionLevel.GRID: Msg("unit grid"),
}
PARENT_LEVEL = {
    RegionLevel.STREET: RegionLevel.DISTRICT,
    RegionLevel.COMMUNITY: RegionLevel.STREET,
    RegionLevel.GRID: RegionLevel.COMMUNITY,
}


@dataclass(frozen=True, slots=True)
class Region:
    id: int
    level: RegionLevel
    code: str
    name: str
    parent_id: int | None = None
    department_id: int | None = None  # the territorial body (街道办 for a street)
    area_m2: float | None = None
    centroid: tuple[float, float] | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    layer_version: int = 1  # grids: the version of the unit-grid layer the row belongs to


def check_nesting(level: RegionLevel, code: str, parent_code: str | None) -> None:
    """A region's code must have its level's length and start with its parent's code."""
    if len(code) != CODE_LENGTH[level] or not code.isdigit():
        raise ValidationError(
            "region_code_length",
            "A {level} code has {expected} digits; got {code}",
            level=LEVEL_NAMES[level],
            expected=CODE_LENGTH[level],
            code=code,
        )
    if level is RegionLevel.DISTRICT:
        return
    if parent_code is None or not code.startswith(parent_code):
        raise ValidationError(
            "region_code_nesting",
            "{level} code {code} must start with its parent's code {parent}",
            level=LEVEL_NAMES[level],
            code=code,
            parent=parent_code or "",
        )


@dataclass(frozen=True, slots=True)
class GridHit:
    """Where a point falls: its unit grid and the regions above it."""

    grid_id: int
    grid_code: str
    community_code: str
    street_code: str
    district_code: str
    layer_version: int = 1  # the grid layer version the point was located on
