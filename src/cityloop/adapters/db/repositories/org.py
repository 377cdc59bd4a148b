"""Departments, users, role grants and inspectors' responsible grids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, bindparam, delete, exists, func, insert, or_, select, update

from cityloop.adapters.db.fast import FastStatement
from cityloop.adapters.db.models import T, new_id
from cityloop.domain.case import TERMINAL_STATES
from cityloop.domain.org import Department, DepartmentKind, RoleGrant, User
from cityloop.domain.roles import Role
from cityloop.domain.routing import DispatchRule

departments = T["departments"]
users = T["users"]
user_roles = T["user_roles"]
inspector_grids = T["inspector_grids"]
cases = T["cases"]
regions = T["regions"]
rules = T["dispatch_rules"]
categories = T["categories"]
standards = T["filing_standards"]


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


_DEPARTMENT = FastStatement(select(departments).where(departments.c.id == bindparam("p_id")))
_USER = select(users).where(users.c.id == bindparam("p_id"))
_GRANTS = (
    select(user_roles).where(user_roles.c.user_id == bindparam("p_id")).order_by(user_roles.c.id)
)
_INSPECTORS = FastStatement(
    select(inspector_grids.c.user_id)
    .join(users, users.c.id == inspector_grids.c.user_id)
    .where(inspector_grids.c.region_id == bindparam("p_id"), users.c.active.is_(True))
    .order_by(inspector_grids.c.user_id)
)


class SqlOrgRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def department(self, department_id: int) -> Department | None:
        row = _DEPARTMENT.first(self.conn, {"p_id": department_id})
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
        return [r.user_id for r in _INSPECTORS.run(self.conn, {"p_id": grid_id})]

    # -- administration (应用维护) ---

    def update_department(self, department: Department) -> None:
        self.conn.execute(
            update(departments)
            .where(departments.c.id == department.id)
            .values(
                name=department.name,
                kind=department.kind.value,
                level=department.level,
                parent_id=department.parent_id,
                district_code=department.district_code,
                credit_code=department.credit_code,
                active=department.active,
            )
        )

    def open_cases(self, department_id: int | None = None) -> dict[int, int]:
        stmt = (
            select(cases.c.department_id, func.count())
            .where(
                cases.c.department_id.is_not(None),
                cases.c.state.not_in([s.value for s in TERMINAL_STATES]),
            )
            .group_by(cases.c.department_id)
        )
        if department_id is not None:
            stmt = stmt.where(cases.c.department_id == department_id)
        return {int(r[0]): int(r[1]) for r in self.conn.execute(stmt)}

    def find_users(
        self, *, text: str = "", role: str | None = None, offset: int = 0, limit: int = 50
    ) -> tuple[list[User], int]:
        where = []
        if text:
            like = f"%{text}%"
            where.append(
                or_(
                    users.c.username.like(like),
                    users.c.display_name.like(like),
                    users.c.phone.like(like),
                )
            )
        if role is not None:
            where.append(
                exists().where(user_roles.c.user_id == users.c.id, user_roles.c.role == str(role))
            )
        total = self.conn.execute(select(func.count()).select_from(users).where(*where)).scalar()
        rows = list(
            self.conn.execute(
                select(users).where(*where).order_by(users.c.username).offset(offset).limit(limit)
            )
        )
        grants: dict[int, list[RoleGrant]] = {r.id: [] for r in rows}
        if rows:
            for g in self.conn.execute(
                select(user_roles)
                .where(user_roles.c.user_id.in_(list(grants)))
                .order_by(user_roles.c.id)
            ):
                grants[g.user_id].append(RoleGrant(Role(g.role), g.district_code, g.department_id))
        found = [
            User(
                id=r.id,
                username=r.username,
                display_name=r.display_name,
                grants=tuple(grants[r.id]),
                phone=r.phone,
                active=r.active,
                locale=r.locale,
            )
            for r in rows
        ]
        return found, int(total or 0)

    def update_user(self, user_id: int, *, display_name: str, phone: str, active: bool) -> None:
        self.conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(display_name=display_name, phone=phone, active=active)
        )

    def set_password(self, user_id: int, password_hash: str) -> None:
        self.conn.execute(
            update(users).where(users.c.id == user_id).values(password_hash=password_hash)
        )

    def add_grant(self, user_id: int, grant: RoleGrant) -> None:
        self.conn.execute(
            insert(user_roles).values(
                user_id=user_id,
                role=grant.role.value,
                district_code=grant.district_code,
                department_id=grant.department_id,
            )
        )

    def remove_grant(self, user_id: int, grant: RoleGrant) -> bool:
        result = self.conn.execute(
            delete(user_roles).where(
                user_roles.c.user_id == user_id,
                user_roles.c.role == grant.role.value,
                user_roles.c.district_code.is_(None)
                if grant.district_code is None
                else user_roles.c.district_code == grant.district_code,
                user_roles.c.department_id.is_(None)
                if grant.department_id is None
                else user_roles.c.department_id == grant.department_id,
            )
        )
        return bool(result.rowcount)

    def inspector_grid_codes(self, user_id: int) -> list[str]:
        rows = self.conn.execute(
            select(regions.c.code)
            .join(inspector_grids, inspector_grids.c.region_id == regions.c.id)
            .where(inspector_grids.c.user_id == user_id)
            .order_by(regions.c.code)
        )
        return [r.code for r in rows]

    def dispatch_rule(self, rule_id: int) -> DispatchRule | None:
        row = self.conn.execute(select(rules).where(rules.c.id == rule_id)).first()
        return _rule(row) if row else None

    def dispatch_rule_list(
        self,
        *,
        department_id: int | None = None,
        text: str = "",
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[tuple[DispatchRule, str, str, str]], int]:
        subject = rules.outerjoin(standards, standards.c.id == rules.c.filing_standard_id).join(
            categories,
            categories.c.id == func.coalesce(rules.c.category_id, standards.c.category_id),
            isouter=True,
        )
        where = []
        if department_id is not None:
            where.append(rules.c.department_id == department_id)
        if text:
            like = f"%{text}%"
            where.append(
                or_(
                    categories.c.code.like(like),
                    categories.c.name.like(like),
                    standards.c.condition.like(like),
                )
            )
        total = self.conn.execute(select(func.count()).select_from(subject).where(*where)).scalar()
        rows = self.conn.execute(
            select(
                rules,
                categories.c.code.label("class_code"),
                categories.c.name.label("class_name"),
                standards.c.condition.label("condition"),
            )
            .select_from(subject)
            .where(*where)
            .order_by(categories.c.code, rules.c.district_code, rules.c.priority, rules.c.id)
            .offset(offset)
            .limit(limit)
        )
        return [
            (_rule(r), r.class_code or "", r.class_name or "", r.condition or "") for r in rows
        ], int(total or 0)

    def remove_dispatch_rule(self, rule_id: int) -> bool:
        return bool(self.conn.execute(delete(rules).where(rules.c.id == rule_id)).rowcount)


def _rule(row: Any) -> DispatchRule:
    return DispatchRule(
        id=row.id,
        department_id=row.department_id,
        filing_standard_id=row.filing_standard_id,
        category_id=row.category_id,
        district_code=row.district_code,
        street_code=row.street_code,
        priority=row.priority,
    )
