"""Departments, users, role grants and inspectors' responsible grids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select

from cityloop.adapters.db.models import T, new_id
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


_DEPARTMENT = select(departments).where(departments.c.id == bindparam("p_id"))
_USER = select(users).where(users.c.id == bindparam("p_id"))
_GRANTS = (
    select(user_roles).where(user_roles.c.user_id == bindparam("p_id")).order_by(user_roles.c.id)
)
_INSPECTORS = (
    select(inspector_grids.c.user_id)
    .join(users, users.c.id == inspector_grids.c.user_id)
    .where(inspector_grids.c.region_id == bindparam("p_id"), users.c.active.is_(True))
    .order_by(inspector_grids.c.user_id)
)


class SqlOrgRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def department(self, department_id: int) -> Department | None:
        row = self.conn.execute(_DEPARTMENT, {"p_id": department_id}).first()
        return department_from_row(row) if row else None

    def department_by_code(self, code: str) -> Department | None:
        row = self.conn.execute(select(departments).where(departments.c.code == code)).first()
        return department_from_row(row) if row else None

    def departments(self) -> list[Department]:
        rows = self.conn.execute(
            select(departments).order_by(departments.c.level, departments.c.code)
        )
        return [department_from_row(r) for r in rows]

    def add_department(self, department: Department) -> Department:
        row_id = new_id(
            self.conn.execute(
                insert(departments).values(
                    code=department.code,
                    name=department.name,
                    kind=department.kind.value,
                    level=department.level,
                    parent_id=department.parent_id,
                    district_code=department.district_code,
                    credit_code=department.credit_code,
                    active=department.active,
                )
            )
        )
        return replace(department, id=row_id)

    def user_by_username(self, username: str) -> tuple[User, str] | None:
        row = self.conn.execute(
            select(users.c.id, users.c.password_hash).where(users.c.username == username)
        ).first()
        if row is None:
            return None
        user = self.user(row.id)
        assert user is not None
        return user, row.password_hash

    def users(self) -> list[User]:
        ids = [r.id for r in self.conn.execute(select(users.c.id).order_by(users.c.username))]
        return [u for u in (self.user(i) for i in ids) if u is not None]

    def add_user(self, user: User, password_hash: str) -> User:
        row_id = new_id(
            self.conn.execute(
                insert(users).values(
                    username=user.username,
                    display_name=user.display_name,
                    password_hash=password_hash,
                    phone=user.phone,
                    active=user.active,
                    locale=user.locale,
                )
            )
        )
        for grant in user.grants:
            self.conn.execute(
                insert(user_roles).values(
                    user_id=row_id,
                    role=grant.role.value,
                    district_code=grant.district_code,
                    department_id=grant.department_id,
                )
            )
        return replace(user, id=row_id)

    def set_inspector_grids(self, user_id: int, region_ids: Sequence[int]) -> None:
        self.conn.execute(delete(inspector_grids).where(inspector_grids.c.user_id == user_id))
        if region_ids:
            self.conn.execute(
                insert(inspector_grids),
                [{"user_id": user_id, "region_id": r} for r in dict.fromkeys(region_ids)],
            )

    def inspector_grids(self, user_id: int) -> list[int]:
        rows = self.conn.execute(
            select(inspector_grids.c.region_id).where(inspector_grids.c.user_id == user_id)
        )
        return sorted(r.region_id for r in rows)

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
        row = self.conn.execute(_USER, {"p_id": user_id}).first()
        if row is None:
            return None
        grants = tuple(
            RoleGrant(Role(g.role), g.district_code, g.department_id)
            for g in self.conn.execute(_GRANTS, {"p_id": user_id})
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
        return [r.user_id for r in self.conn.execute(_INSPECTORS, {"p_id": grid_id})]
