"""Setting up the organisation and base data: departments, users, grids, dispatch rules.

Used by the demo city and by administration (应用维护). Only administrators (or the system,
for the demo loader) may call these.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

from cityloop.domain.codes import ClassKind, Edition, parse_component_code
from cityloop.domain.components import Component, ComponentStatus
from cityloop.domain.errors import ConflictError, PermissionDeniedError, ValidationError
from cityloop.domain.org import Department, DepartmentKind, RoleGrant, User
from cityloop.domain.regions import Region, RegionLevel, check_nesting
from cityloop.domain.roles import Actor, Role
from cityloop.domain.routing import DispatchRule
from cityloop.services.ports import UnitOfWork

_USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")
MIN_PASSWORD = 8


def _admin(actor: Actor) -> None:
    if actor.role not in (Role.ADMIN, Role.SYSTEM):
        raise PermissionDeniedError(
            "admin_only_org", "Only an administrator may change the organisation"
        )


def create_department(
    uow: UnitOfWork,
    *,
    actor: Actor,
    now: datetime,
    code: str,
    name: str,
    kind: DepartmentKind | str,
    level: int = 1,
    parent_id: int | None = None,
    district_code: str | None = None,
    credit_code: str | None = None,
) -> Department:
    _admin(actor)
    code, name = code.strip(), name.strip()
    if not code or not name or len(code) > 32 or len(name) > 100:
        raise ValidationError(
            "department_fields_invalid",
            "A department needs a code (at most 32 characters) and a name (at most 100)",
        )
    try:
        dept_kind = DepartmentKind(kind)
    except ValueError as exc:
        raise ValidationError(
            "department_kind_invalid", "{kind} is not a kind of department", kind=str(kind)
        ) from exc
    if credit_code is not None and not re.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{18}", credit_code):
        raise ValidationError(
            "credit_code_invalid",
            "A unified social credit code has 18 characters (digits and capitals)",
        )
    with uow:
        if uow.org.department_by_code(code) is not None:
            raise ConflictError(
                "department_code_taken", "Department code {code} is already used", code=code
            )
        if parent_id is not None and uow.org.department(parent_id) is None:
            raise ValidationError(
                "department_parent_unknown",
                "Parent department {id} does not exist",
                id=parent_id,
            )
        created = uow.org.add_department(
            Department(
                id=0,
                code=code,
                name=name,
                kind=dept_kind,
                level=level,
                parent_id=parent_id,
                district_code=district_code,
                credit_code=credit_code,
            )
        )
        uow.commit()
    return created


def create_user(
    uow: UnitOfWork,
    *,
    actor: Actor,
    now: datetime,
    username: str,
    display_name: str,
    password: str,
    grants: Sequence[RoleGrant],
    phone: str = "",
) -> User:
    _admin(actor)
    if not _USERNAME.match(username):
        raise ValidationError(
            "username_invalid",
            "A user name has 3 to 64 letters, digits, dots, dashes or underscores",
        )
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            "password_too_short",
            "A password needs at least {min} characters",
            min=MIN_PASSWORD,
        )
    if not grants:
        raise ValidationError("user_without_role", "A user needs at least one role")
    with uow:
        if uow.org.user_by_username(username) is not None:
            raise ConflictError(
                "username_taken", "User name {username} is already used", username=username
            )
        for grant in grants:
            if grant.role is Role.HANDLER and grant.department_id is None:
                raise ValidationError(
                    "handler_needs_department", "A department role needs its department"
                )
            if grant.department_id is not None and uow.org.department(grant.department_id) is None:
                raise ValidationError(
                    "department_unknown",
                    "Department {id} does not exist",
                    id=grant.department_id,
                )
        user = uow.org.add_user(
            User(
                id=0,
                username=username,
                display_name=display_name.strip() or username,
                grants=tuple(grants),
                phone=phone,
            ),
            uow.passwords.hash(password),
        )
        uow.commit()
    return user


def assign_grids(
    uow: UnitOfWork, user_id: int, grid_codes: Sequence[str], *, actor: Actor, now: datetime
) -> list[int]:
    """Set an inspector's responsible grids (责任网格)."""
    _admin(actor)
    with uow:
        user = uow.org.user(user_id)
        if user is None or not any(g.role is Role.INSPECTOR for g in user.grants):
            raise ValidationError(
                "not_an_inspector",
                "User {id} is not an active inspector for this district",
                id=user_id,
            )
        ids = []
        for code in grid_codes:
            region = uow.regions.by_code(code)
            if region is None or region.level is not RegionLevel.GRID:
                raise ValidationError("unknown_grid", "Unit grid {code} does not exist", code=code)
            ids.append(region.id)
        uow.org.set_inspector_grids(user_id, ids)
        uow.commit()
    return ids


def create_region(
    uow: UnitOfWork,
    *,
    actor: Actor,
    now: datetime,
    level: RegionLevel,
    code: str,
    name: str,
    parent_code: str | None = None,
    geometry_wkb: bytes | None = None,
    area_m2: float | None = None,
    centroid: tuple[float, float] | None = None,
    department_id: int | None = None,
    valid_from: date | None = None,
) -> Region:
    _admin(actor)
    check_nesting(level, code, parent_code)
    with uow:
        parent_id = None
        if parent_code is not None:
            parent = uow.regions.by_code(parent_code)
            if parent is None:
                raise ValidationError(
                    "region_parent_unknown",
                    "Parent region {code} does not exist",
                    code=parent_code,
                )
            parent_id = parent.id
        if uow.regions.by_code(code) is not None:
            raise ConflictError("region_code_taken", "Region {code} already exists", code=code)
        region = uow.regions.add(
            Region(
                id=0,
                level=level,
                code=code,
                name=name,
                parent_id=parent_id,
                department_id=department_id,
                area_m2=area_m2,
                centroid=centroid,
                valid_from=valid_from or now.date(),
            ),
            geometry_wkb=geometry_wkb,
        )
        uow.commit()
    return region


def add_dispatch_rule(
    uow: UnitOfWork, rule: DispatchRule, *, actor: Actor, now: datetime
) -> DispatchRule:
    _admin(actor)
    if rule.filing_standard_id is None and rule.category_id is None:
        raise ValidationError(
            "rule_without_subject", "A dispatch rule names a filing standard or a class"
        )
    with uow:
        if uow.org.department(rule.department_id) is None:
            raise ValidationError(
                "department_unknown", "Department {id} does not exist", id=rule.department_id
            )
        created = uow.catalog.add_dispatch_rule(rule)
        uow.commit()
    return created


def create_component(
    uow: UnitOfWork, component: Component, *, actor: Actor, now: datetime
) -> Component:
    """Register a component (部件) of a GB/T 47678.5 component class at its position."""
    _admin(actor)
    code = parse_component_code(component.object_code)
    with uow:
        category = uow.catalog.category_by_code(
            Edition.CURRENT, ClassKind.COMPONENT, code.class_code.value
        )
        if category is None:
            raise ValidationError(
                "unknown_category",
                "Class code {code} is not in the class dictionary",
                code=code.class_code.value,
            )
        if uow.components.by_code(code.value) is not None:
            raise ConflictError(
                "component_code_taken", "Component {code} already exists", code=code.value
            )
        hit = uow.locator.locate(component.lon, component.lat)
        created = uow.components.add(
            Component(
                id=0,
                object_code=code.value,
                category_id=category.id,
                class_code=category.code,
                name=component.name or category.name,
                lon=component.lon,
                lat=component.lat,
                grid_id=hit.grid_id if hit else None,
                supervisor_id=component.supervisor_id,
                owner_id=component.owner_id,
                maintainer_id=component.maintainer_id,
                status=ComponentStatus(component.status),
                initial_date=component.initial_date or now.date(),
            )
        )
        uow.commit()
    return created
