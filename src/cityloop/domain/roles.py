"""Roles (岗位) and the actor that performs an action.

Reference: ``standards.md`` §5.2; DESIGN.md "Who uses it". A user holds one or more roles, each
scoped to the whole city, to one district (二级指挥: a district user sees only its district) or,
for department staff, to one department.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    INSPECTOR = "inspector"  # 监督员 / 信息采集员
    OPERATOR = "operator"  # 受理员 / 坐席员
    SHIFT_LEAD = "shift_lead"  # 值班长
    DISPATCHER = "dispatcher"  # 派遣员
    HANDLER = "handler"  # 专业部门 / 处置单位
    LEADER = "leader"  # 领导 / 指挥长
    ADMIN = "admin"  # 系统管理员
    CITIZEN = "citizen"  # 市民 / 公众
    SYSTEM = "system"  # 系统 (sensor and video integrations, scheduled jobs)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, in which role, within which scope.

    ``district_code`` limits the actor to one district (6-digit admin code); ``None`` means the
    whole city. ``department_id`` is set for handlers (the department they work for).
    """

    user_id: int | None
    role: Role
    district_code: str | None = None
    department_id: int | None = None
    name: str = ""
    grid_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def city_wide(self) -> bool:
        return self.district_code is None

    def covers_district(self, district_code: str | None) -> bool:
        """True when a case in ``district_code`` is inside the actor's scope."""
        return self.district_code is None or self.district_code == district_code


SYSTEM_ACTOR = Actor(user_id=None, role=Role.SYSTEM, name="system")
