"""Organisation: departments (部门), users and their role grants.

Reference: ``standards.md`` §5.2. Departments form a tree (city → district → department →
sub-unit); centres are departments too (监督中心, 指挥中心, 区分中心), which is how two-level
dispatch knows the district centre. Levels follow eGova's 1st/2nd/3rd-level units (§7.4).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cityloop.domain.roles import Role


class DepartmentKind(enum.StrEnum):
    CENTRE = "centre"  # 监督中心 / 指挥中心 / 区分中心
    AGENCY = "agency"  # 职能部门 (城管委, 园林局, 水务局 …)
    STREET_OFFICE = "street_office"  # 街道办事处 (属地)
    COMPANY = "company"  # 公用事业单位 (water, gas, power, telecom)
    UNIT = "unit"  # 二级/三级处置单位


@dataclass(frozen=True, slots=True)
class Department:
    id: int
    code: str
    name: str
    kind: DepartmentKind
    level: int = 1
    parent_id: int | None = None
    district_code: str | None = None
    credit_code: str | None = None  # 统一社会信用代码 (18)
    active: bool = True

    @property
    def can_handle(self) -> bool:
        """Whether cases may be dispatched to it (centres do not dispose)."""
        return self.active and self.kind is not DepartmentKind.CENTRE


@dataclass(frozen=True, slots=True)
class RoleGrant:
    role: Role
    district_code: str | None = None
    department_id: int | None = None


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    grants: tuple[RoleGrant, ...] = ()
    phone: str = ""
    active: bool = True
    locale: str = "zh_CN"
