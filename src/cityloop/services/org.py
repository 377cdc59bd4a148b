"""Setting up the organisation and base data: departments, users, grids, dispatch rules.

Used by the demo city and by administration (应用维护). Only administrators (or the system,
for the demo loader) may call these.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from cityloop.domain.codes import ClassKind, Edition, parse_component_code
from cityloop.domain.components import Component
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


@dataclass(frozen=True, slots=True)
class NewRegion:
    level: RegionLevel
    code: str
    name: str
    parent_code: str | None = None
    geometry_wkb: bytes | None = None
    area_m2: float | None = None
    centroid: tuple[float, float] | None = None
    department_id: int | None = None
    valid_from: date | None = None
    layer_version: int = 1  # grids: the unit-grid layer version


def create_regions(
    uow: UnitOfWork, regions: Sequence[NewRegion], *, actor: Actor, now: datetime
) -> list[Region]:
    """Add regions in one transaction (all or nothing); a parent may come earlier in the
    same batch. Codes must nest in their parent's code and must not exist yet."""
    _admin(actor)
    for item in regions:
        check_nesting(item.level, item.code, item.parent_code)
    with uow:
        created = insert_regions(uow, regions, now=now)
        uow.commit()
    return created


def insert_regions(uow: UnitOfWork, regions: Sequence[NewRegion], *, now: datetime) -> list[Region]:
    """The writing part of :func:`create_regions`, inside the caller's transaction (the caller
    checks permission and nesting, and commits). A code is taken when a region of that code
    is valid on the new region's start date (a closed one is history, not a clash)."""
    created: list[Region] = []
    ids: dict[str, int] = {}
    for item in regions:
        parent_id = None
        if item.parent_code is not None:
            parent_id = ids.get(item.parent_code)
            if parent_id is None:
                parent = uow.regions.by_code(item.parent_code)
                if parent is None:
                    raise ValidationError(
                        "region_parent_unknown",
                        "Parent region {code} does not exist",
                        code=item.parent_code,
                    )
                parent_id = parent.id
        valid_from = item.valid_from or now.date()
        if item.code in ids or uow.regions.by_code(item.code, on=valid_from) is not None:
            raise ConflictError("region_code_taken", "Region {code} already exists", code=item.code)
        region = uow.regions.add(
            Region(
                id=0,
                level=item.level,
                code=item.code,
                name=item.name,
                parent_id=parent_id,
                department_id=item.department_id,
                area_m2=item.area_m2,
                centroid=item.centroid,
                valid_from=valid_from,
                layer_version=item.layer_version,
            ),
            geometry_wkb=item.geometry_wkb,
        )
        ids[item.code] = region.id
        created.append(region)
    return created


def create_region(uow: UnitOfWork, region: NewRegion, *, actor: Actor, now: datetime) -> Region:
    return create_regions(uow, [region], actor=actor, now=now)[0]


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


def create_components(
    uow: UnitOfWork, components: Sequence[Component], *, actor: Actor, now: datetime
) -> list[Component]:
    """Register components (部件) of GB/T 47678.5 component classes at their positions, in one
    transaction; each is located in its unit grid."""
    _admin(actor)
    with uow:
        created = insert_components(uow, components, now=now)
        uow.commit()
    return created


def insert_components(
    uow: UnitOfWork, components: Sequence[Component], *, now: datetime
) -> list[Component]:
    """The writing part of :func:`create_components`, inside the caller's transaction (the
    caller checks permission and commits)."""
    codes = [parse_component_code(c.object_code) for c in components]
    created: list[Component] = []
    seen: set[str] = set()
    classes: dict[str, int] = {}
    for component, code in zip(components, codes, strict=True):
        class_code = code.class_code.value
        if class_code not in classes:
            category = uow.catalog.category_by_code(
                Edition.CURRENT, ClassKind.COMPONENT, class_code
            )
            if category is None:
                raise ValidationError(
                    "unknown_category",
                    "Class code {code} is not in the class dictionary",
                    code=class_code,
                )
            classes[class_code] = category.id
        if code.value in seen or uow.components.by_code(code.value) is not None:
            raise ConflictError(
                "component_code_taken", "Component {code} already exists", code=code.value
            )
        seen.add(code.value)
        hit = uow.locator.locate(component.lon, component.lat)
        created.append(
            uow.components.add(
                replace(
                    component,
                    id=0,
                    object_code=code.value,
                    category_id=classes[class_code],
                    class_code=class_code,
                    grid_id=hit.grid_id if hit else None,
                    initial_date=component.initial_date or now.date(),
                )
            )
        )
    return created


def create_component(
    uow: UnitOfWork, component: Component, *, actor: Actor, now: datetime
) -> Component:
    return create_components(uow, [component], actor=actor, now=now)[0]
