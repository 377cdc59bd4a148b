"""Departments, users, role grants and inspectors' responsible grids."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from cityloop.adapters.db.models import T
from cityloop.domain.org import Department, DepartmentKind, RoleGrant, User
from cityloop.domain.roles import Role

departments = T["departments"]
users = T["users"]
user_roles = T["user_roles"]
inspector_grids = T["inspector_grids"]


def department_from_row(row: Any) -> Department:
    return Department(
        id=row.id,
        code=row.code,
        name=row.name,
        kind=DepartmentKind(row.kind),
        level=row.level,
        parent_id=row.parent_id,
        district_code=row.district_code,
        credit_code=row.credit_code,
        active=row.active,
    )


class SqlOrgRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def department(self, department_id: int) -> Department | None:
        row = self.conn.execute(
            select(departments).where(departments.c.id == department_id)
        ).first()
        return department_from_row(row) if row else None

    def district_centre(self, district_code: str) -> Department | None:
        row = self.conn.execute(
            select(departments)
            .where(
                departments.c.kind == DepartmentKind.CENTRE.value,
                departments.c.district_code == district_code,
                departments.c.active.is_(True),
            )
            .order_by(departments.c.level, departments.c.id)
        ).first()
        return department_from_row(row) if row else None

    def user(self, user_id: int) -> User | None:
        row = self.conn.execute(select(users).where(users.c.id == user_id)).first()
        if row is None:
            return None
        grants = tuple(
            RoleGrant(Role(g.role), g.district_code, g.department_id)
            for g in self.conn.execute(
                select(user_roles).where(user_roles.c.user_id == user_id).order_by(user_roles.c.id)
            )
        )
        return User(
            id=row.id,
            username=row.username,
            display_name=row.display_name,
            grants=grants,
            phone=row.phone,
            active=row.active,
            locale=row.locale,
        )

    def inspectors_for_grid(self, grid_id: int) -> list[int]:
        rows = self.conn.execute(
            select(inspector_grids.c.user_id)
            .join(users, users.c.id == inspector_grids.c.user_id)
            .where(inspector_grids.c.region_id == grid_id, users.c.active.is_(True))
            .order_by(inspector_grids.c.user_id)
        )
        return [r.user_id for r in rows]
