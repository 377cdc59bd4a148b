"""Who is evaluated (评价对象): posts, departments, regions and the centre as a whole.

Reference: standards.md §7.1 — 区域评价 (district, street, community, grid), 部门评价 (departments,
by level) and 岗位评价 (inspector, operator, shift lead, dispatcher), plus the centre (§7.6).
A subject is named by its kind and a key: a user id for posts, a department id, a region code,
and ``city`` or a district code for the centre.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cityloop.domain.errors import Msg, ValidationError
from cityloop.domain.roles import Role


class Family(enum.StrEnum):
    POST = "post"  # 岗位评价
    DEPARTMENT = "department"  # 部门评价
    REGION = "region"  # 区域评价
    CENTRE = "centre"  # 中心统计


class SubjectKind(enum.StrEnum):
    INSPECTOR = "inspector"  # 监督员
    OPERATOR = "operator"  # 受理员
    SHIFT_LEAD = "shift_lead"  # 值班长
    DISPATCHER = "dispatcher"  # 派遣员
    DEPARTMENT = "department"  # 专业部门
    DISTRICT = "district"  # 区
    STREET = "street"  # 街道
    COMMUNITY = "community"  # 社区
    GRID = "grid"  # 单元网格
    CENTRE = "centre"  # 监督指挥中心 (the whole scope)

    @property
    def family(self) -> Family:
        return _FAMILY[self]

    @property
    def role(self) -> Role | None:
        """The role whose holders are the subjects of a post kind."""
        return _ROLES.get(self)

    @property
    def code_length(self) -> int | None:
        """The length of a region code of this kind (GB/T 30428 nesting, §2.3)."""
        return _CODE_LENGTH.get(self)


_FAMILY = {
    SubjectKind.INSPECTOR: Family.POST,
    SubjectKind.OPERATOR: Family.POST,
    SubjectKind.SHIFT_LEAD: Family.POST,
    SubjectKind.DISPATCHER: Family.POST,
    SubjectKind.DEPARTMENT: Family.DEPARTMENT,
    SubjectKind.DISTRICT: Family.REGION,
    SubjectKind.STREET: Family.REGION,
    SubjectKind.COMMUNITY: Family.REGION,
    SubjectKind.GRID: Family.REGION,
    SubjectKind.CENTRE: Family.CENTRE,
}
_ROLES = {
    SubjectKind.INSPECTOR: Role.INSPECTOR,
    SubjectKind.OPERATOR: Role.OPERATOR,
    SubjectKind.SHIFT_LEAD: Role.SHIFT_LEAD,
    SubjectKind.DISPATCHER: Role.DISPATCHER,
}
_CODE_LENGTH = {
    SubjectKind.DISTRICT: 6,
    SubjectKind.STREET: 9,
    SubjectKind.COMMUNITY: 12,
    SubjectKind.GRID: 15,
}
REGION_KINDS = (SubjectKind.DISTRICT, SubjectKind.STREET, SubjectKind.COMMUNITY, SubjectKind.GRID)
POST_KINDS = (
    SubjectKind.INSPECTOR,
    SubjectKind.OPERATOR,
    SubjectKind.SHIFT_LEAD,
    SubjectKind.DISPATCHER,
)

KIND_LABELS = {
    SubjectKind.INSPECTOR: Msg("Inspectors"),
    SubjectKind.OPERATOR: Msg("Operators"),
    SubjectKind.SHIFT_LEAD: Msg("Shift leads"),
    SubjectKind.DISPATCHER: Msg("Dispatchers"),
    SubjectKind.DEPARTMENT: Msg("Departments"),
    SubjectKind.DISTRICT: Msg("Districts"),
    SubjectKind.STREET: Msg("Streets"),
    SubjectKind.COMMUNITY: Msg("Communities"),
    SubjectKind.GRID: Msg("Unit grids"),
    SubjectKind.CENTRE: Msg("Centre as a whole"),
}

CITY = "city"  # the key of the centre subject when the scope is the whole city


def parse_kind(text: str) -> SubjectKind:
    try:
        return SubjectKind(text)
    except ValueError:
        raise ValidationError(
            "subject_kind_invalid",
            "{value} is not a kind of evaluated subject; use one of {known}",
            value=text,
            known=", ".join(k.value for k in SubjectKind),
        ) from None


@dataclass(frozen=True, slots=True)
class Subject:
    """One evaluated subject: its kind, key and display name (with its parent, if any)."""

    kind: SubjectKind
    key: str
    name: str
    parent: str | None = None  # parent region code, parent department id
    level: int | None = None  # department level (1, 2, 3)


def region_parent(kind: SubjectKind, code: str) -> str | None:
    """The code of the region one level up (a street's district, a grid's community)."""
    lengths = {
        SubjectKind.STREET: 6,
        SubjectKind.COMMUNITY: 9,
        SubjectKind.GRID: 12,
    }
    size = lengths.get(kind)
    return code[:size] if size is not None else None


def region_of(kind: SubjectKind, grid_code: str) -> str:
    """The code of the ``kind`` region that a 15-digit grid code lies in (codes nest, §2.3)."""
    size = _CODE_LENGTH[kind]
    return grid_code[:size]
