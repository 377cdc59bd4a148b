"""Setting up the organisation and base data: departments, users, grids, dispatch rules.

Used by the demo city and by administration (应用维护). Only administrators (or the system,
for the demo loader) may call these. Every change to departments, users and dispatch rules is
recorded in the change log (:mod:`cityloop.services.audit`) in its own transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from cityloop.domain.audit import Change
from cityloop.domain.codes import ClassKind, Edition, parse_component_code
from cityloop.domain.components import Component
from cityloop.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from cityloop.domain.org import Department, DepartmentKind, RoleGrant, User
from cityloop.domain.regions import Region, RegionLevel, check_nesting
from cityloop.domain.roles import Actor, Role
from cityloop.domain.routing import DispatchRule, competent_department, propose_departments
from cityloop.services import audit
from cityloop.services.ports import UnitOfWork
from cityloop.services.users import (
    check_district,
    check_grant,
    check_password,
    check_phone,
    user_record,
)

_USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")
_CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")
MAX_LEVEL = 3
MAX_PRIORITY = 1000


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
    dept_kind = _department_kind(kind)
    _check_level(level)
    credit_code = _credit_code(credit_code)
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
        # The demo loader (the system) sets up departments before the regions exist.
        if actor.role is not Role.SYSTEM:
            check_district(uow, district_code)
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
        audit.record(
            uow,
            actor,
            now,
            entity="department",
            key=created.code,
            change=Change.CREATE,
            after=department_record(uow, created),
            summary=created.name,
        )
        uow.commit()
    return created


def _named(department: Department | None) -> str | None:
    return f"{department.code} {department.name}" if department else None


def department_record(uow: UnitOfWork, department: Department) -> dict[str, Any]:
    """What the change log keeps of a department: its fields, the parent by code and name."""
    parent = uow.org.department(department.parent_id) if department.parent_id else None
    return {
        "code": department.code,
        "name": department.name,
        "kind": department.kind.value,
        "level": department.level,
        "parent": _named(parent),
        "district_code": department.district_code,
        "credit_code": department.credit_code,
        "active": department.active,
    }


def rule_record(uow: UnitOfWork, rule: DispatchRule) -> dict[str, Any]:
    """What the change log keeps of a dispatch rule: names, not only ids."""
    category = uow.catalog.category(rule.category_id) if rule.category_id else None
    standard = uow.catalog.standard(rule.filing_standard_id) if rule.filing_standard_id else None
    if category is None and standard is not None:
        category = uow.catalog.category(standard.category_id)
    return {
        "department": _named(uow.org.department(rule.department_id)),
        "class": category.label if category else None,
        "filing_standard": standard.condition if standard else None,
        "district_code": rule.district_code,
        "street_code": rule.street_code,
        "priority": rule.priority,
    }


def _department_kind(kind: DepartmentKind | str) -> DepartmentKind:
    try:
        return DepartmentKind(kind)
    except ValueError as exc:
        raise ValidationError(
            "department_kind_invalid", "{kind} is not a kind of department", kind=str(kind)
        ) from exc


def _check_level(level: int) -> None:
    if not 0 <= level <= MAX_LEVEL:
        raise ValidationError(
            "department_level_invalid",
            "A department's level is 0 (city) to {max} (third-level unit)",
            max=MAX_LEVEL,
        )


def _credit_code(credit_code: str | None) -> str | None:
    credit_code = (credit_code or "").strip().upper() or None
    if credit_code is not None and not _CREDIT_CODE.fullmatch(credit_code):
        raise ValidationError(
            "credit_code_invalid",
            "A unified social credit code has 18 characters (digits and capitals)",
        )
    return credit_code


def _department(uow: UnitOfWork, department_id: int) -> Department:
    found = uow.org.department(department_id)
    if found is None:
        raise NotFoundError(
            "department_not_found", "Department {id} does not exist", id=department_id
        )
    return found


def department_detail(
    uow: UnitOfWork, department_id: int, *, actor: Actor
) -> tuple[Department, int]:
    """A department and how many unfinished cases it holds."""
    _admin(actor)
    with uow:
        department = _department(uow, department_id)
        return department, uow.org.open_cases(department_id).get(department_id, 0)


def update_department(
    uow: UnitOfWork,
    department_id: int,
    *,
    actor: Actor,
    now: datetime,
    name: str,
    kind: DepartmentKind | str,
    level: int,
    parent_id: int | None,
    district_code: str | None,
    credit_code: str | None,
) -> Department:
    """Change a department's name, kind, level, parent, district and credit code (its code
    stays: cases, rules and exchanged data refer to it). A department cannot sit under itself
    or under one of its own sub-units."""
    _admin(actor)
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError(
            "department_name_invalid", "A department needs a name of at most 100 characters"
        )
    dept_kind = _department_kind(kind)
    _check_level(level)
    credit_code = _credit_code(credit_code)
    with uow:
        before = _department(uow, department_id)
        if parent_id is not None:
            by_id = {d.id: d for d in uow.org.departments()}
            if parent_id not in by_id:
                raise ValidationError(
                    "department_parent_unknown",
                    "Parent department {id} does not exist",
                    id=parent_id,
                )
            ancestor: int | None = parent_id
            while ancestor is not None:
                if ancestor == department_id:
                    raise ValidationError(
                        "department_parent_cycle",
                        "{name} cannot be placed under itself or one of its own units",
                        name=before.name,
                    )
                ancestor = by_id[ancestor].parent_id if ancestor in by_id else None
        check_district(uow, district_code)
        after = replace(
            before,
            name=name,
            kind=dept_kind,
            level=level,
            parent_id=parent_id,
            district_code=district_code,
            credit_code=credit_code,
        )
        if after != before:
            uow.org.update_department(after)
            audit.record(
                uow,
                actor,
                now,
                entity="department",
                key=before.code,
                change=Change.UPDATE,
                before=department_record(uow, before),
                after=department_record(uow, after),
                summary=after.name,
            )
            uow.commit()
    return after


def set_department_active(
    uow: UnitOfWork, department_id: int, active: bool, *, actor: Actor, now: datetime
) -> Department:
    """Deactivate (撤销) or reactivate a department. One that holds unfinished cases cannot
    be deactivated: they would have nobody to handle them."""
    _admin(actor)
    with uow:
        before = _department(uow, department_id)
        if before.active == active:
            return before
        if not active:
            held = uow.org.open_cases(department_id).get(department_id, 0)
            if held:
                raise ConflictError(
                    "department_has_open_cases",
                    "{name} holds {count} unfinished cases; it can be deactivated once they"
                    " are closed or sent to another department",
                    name=before.name,
                    count=held,
                )
        after = replace(before, active=active)
        uow.org.update_department(after)
        audit.record(
            uow,
            actor,
            now,
            entity="department",
            key=before.code,
            change=Change.UPDATE,
            before={"active": before.active},
            after={"active": active},
            summary=before.name,
        )
        uow.commit()
    return after


KIND_ORDER = list(DepartmentKind)


def department_tree(departments: Sequence[Department]) -> list[tuple[Department, int]]:
    """Departments in tree order (parents before their units; siblings by kind, then code),
    each with its depth. A department whose parent is missing counts as a root."""
    ids = {d.id for d in departments}
    children: dict[int | None, list[Department]] = {}
    for dept in departments:
        parent = dept.parent_id if dept.parent_id in ids else None
        children.setdefault(parent, []).append(dept)
    for group in children.values():
        group.sort(key=lambda d: (KIND_ORDER.index(d.kind), d.district_code or "", d.code))
    result: list[tuple[Department, int]] = []
    seen: set[int] = set()

    def walk(parent: int | None, depth: int) -> None:
        for dept in children.get(parent, []):
            if dept.id in seen:
                continue
            seen.add(dept.id)
            result.append((dept, depth))
            walk(dept.id, depth + 1)

    walk(None, 0)
    # A cycle written around the services would leave rows unvisited: show them as roots.
    result.extend((d, 0) for d in departments if d.id not in seen)
    return result


@dataclass(frozen=True, slots=True)
class DepartmentRow:
    department: Department
    depth: int
    open_cases: int


def list_departments(uow: UnitOfWork, *, actor: Actor) -> list[DepartmentRow]:
    """Every department, active or not, in tree order with its unfinished cases."""
    _admin(actor)
    with uow:
        departments = uow.org.departments()
        held = uow.org.open_cases()
    return [DepartmentRow(d, depth, held.get(d.id, 0)) for d, depth in department_tree(departments)]


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
    check_password(password)
    if not grants:
        raise ValidationError("user_without_role", "A user needs at least one role")
    display_name, phone = display_name.strip(), check_phone(phone)
    if len(display_name) > 100:
        raise ValidationError("display_name_too_long", "A display name has at most 100 characters")
    with uow:
        if uow.org.user_by_username(username) is not None:
            raise ConflictError(
                "username_taken", "User name {username} is already used", username=username
            )
        for grant in grants:
            check_grant(uow, grant)
        user = uow.org.add_user(
            User(
                id=0,
                username=username,
                display_name=display_name or username,
                grants=tuple(grants),
                phone=phone,
            ),
            uow.passwords.hash(password),
        )
        audit.record(
            uow,
            actor,
            now,
            entity="user",
            key=user.username,
            change=Change.CREATE,
            after=user_record(uow, user),
            summary=user.display_name,
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
        before = uow.org.inspector_grid_codes(user_id)
        uow.org.set_inspector_grids(user_id, ids)
        after = uow.org.inspector_grid_codes(user_id)
        if after != before:
            audit.record(
                uow,
                actor,
                now,
                entity="user",
                key=user.username,
                change=Change.UPDATE,
                before={"grids": before},
                after={"grids": after},
                summary=user.display_name,
            )
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
    if not 0 <= rule.priority <= MAX_PRIORITY:
        raise ValidationError(
            "rule_priority_invalid", "A rule's priority is 0 to {max}", max=MAX_PRIORITY
        )
    with uow:
        department = uow.org.department(rule.department_id)
        if department is None:
            raise ValidationError(
                "department_unknown", "Department {id} does not exist", id=rule.department_id
            )
        if not department.can_handle:
            raise ValidationError(
                "department_cannot_handle_rule",
                "{name} does not handle cases (a centre, or deactivated)",
                name=department.name,
            )
        _check_rule_subject(uow, rule)
        check_district(uow, rule.district_code)
        if rule.street_code is not None:
            street = uow.regions.by_code(rule.street_code)
            if street is None or street.level is not RegionLevel.STREET:
                raise ValidationError(
                    "street_unknown", "Street {code} does not exist", code=rule.street_code
                )
            if rule.district_code and not rule.street_code.startswith(rule.district_code):
                raise ValidationError(
                    "street_outside_district",
                    "Street {street} is not in district {district}",
                    street=rule.street_code,
                    district=rule.district_code,
                )
        created = uow.catalog.add_dispatch_rule(rule)
        audit.record(
            uow,
            actor,
            now,
            entity="dispatch_rule",
            key=created.id,
            change=Change.CREATE,
            after=rule_record(uow, created),
            summary=department.name,
        )
        uow.commit()
    return created


def _check_rule_subject(uow: UnitOfWork, rule: DispatchRule) -> None:
    category = None
    if rule.category_id is not None:
        category = uow.catalog.category(rule.category_id)
        if category is None:
            raise ValidationError(
                "category_unknown", "Class {id} does not exist", id=rule.category_id
            )
    if rule.filing_standard_id is not None:
        standard = uow.catalog.standard(rule.filing_standard_id)
        if standard is None:
            raise ValidationError(
                "standard_unknown",
                "Filing standard {id} does not exist",
                id=rule.filing_standard_id,
            )
        if category is not None and standard.category_id != category.id:
            raise ValidationError(
                "standard_of_other_class",
                "Filing standard {id} belongs to another class than {code}",
                id=standard.id,
                code=category.code,
            )


def remove_dispatch_rule(
    uow: UnitOfWork, rule_id: int, *, actor: Actor, now: datetime
) -> DispatchRule:
    """Delete a dispatch rule (cases already dispatched keep their department)."""
    _admin(actor)
    with uow:
        rule = uow.org.dispatch_rule(rule_id)
        if rule is None:
            raise NotFoundError("rule_not_found", "Dispatch rule {id} does not exist", id=rule_id)
        uow.org.remove_dispatch_rule(rule_id)
        department = uow.org.department(rule.department_id)
        audit.record(
            uow,
            actor,
            now,
            entity="dispatch_rule",
            key=rule.id,
            change=Change.DELETE,
            before=rule_record(uow, rule),
            summary=department.name if department else "",
        )
        uow.commit()
    return rule


@dataclass(frozen=True, slots=True)
class RuleRow:
    rule: DispatchRule
    class_code: str
    class_name: str
    condition: str  # of the filing standard, when the rule names one


def list_dispatch_rules(
    uow: UnitOfWork,
    *,
    actor: Actor,
    department_id: int | None = None,
    text: str = "",
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[RuleRow], int]:
    """One page of dispatch rules (by class, then place), and how many match."""
    _admin(actor)
    if page < 1 or not 1 <= page_size <= audit.MAX_PAGE:
        raise ValidationError(
            "page_invalid", "Pages start at 1 and hold 1 to {max} rows", max=audit.MAX_PAGE
        )
    with uow:
        rows, total = uow.org.dispatch_rule_list(
            department_id=department_id,
            text=text.strip(),
            offset=(page - 1) * page_size,
            limit=page_size,
        )
    return [RuleRow(*row) for row in rows], total


@dataclass(frozen=True, slots=True)
class DispatchPreview:
    """What the dispatcher would be proposed for a case of a class in a unit grid."""

    grid: Region
    street_code: str
    rules: tuple[DispatchRule, ...]  # the rules that match, the winning one first
    competent_id: int | None  # the department the rules name
    territorial_id: int | None  # the street office of the place
    proposals: tuple[int, ...]  # the order the dispatcher sees (no component named)


def preview_dispatch(
    uow: UnitOfWork,
    *,
    actor: Actor,
    now: datetime,
    category_id: int,
    grid_code: str,
    filing_standard_id: int | None = None,
) -> DispatchPreview:
    """The department proposal (派遣建议) for a case of this class (and filing standard) in
    this unit grid, computed as :func:`cityloop.services.cases.proposals_for` does for a case
    that names no component: territorial body first, then the rules' department."""
    _admin(actor)
    grid_code = grid_code.strip()
    with uow:
        category = uow.catalog.category(category_id)
        if category is None:
            raise ValidationError("category_unknown", "Class {id} does not exist", id=category_id)
        grid = uow.regions.by_code(grid_code, on=now.date())
        if grid is None or grid.level is not RegionLevel.GRID:
            raise ValidationError(
                "unknown_grid", "Unit grid {code} does not exist", code=grid_code or "—"
            )
        district_code, street_code = grid.code[:6], grid.code[:9]
        street = uow.regions.by_code(street_code, on=now.date())
        rules = uow.catalog.dispatch_rules(
            filing_standard_id=filing_standard_id, category_id=category.id
        )
    matching = sorted(
        (
            r
            for r in rules
            if r.matches(filing_standard_id, category.id, district_code, street_code)
            and (r.filing_standard_id is not None or r.category_id is not None)
        ),
        key=DispatchRule.specificity,
        reverse=True,
    )
    competent = competent_department(
        rules,
        filing_standard_id=filing_standard_id,
        category_id=category.id,
        district_code=district_code,
        street_code=street_code,
    )
    territorial = street.department_id if street else None
    proposals = propose_departments(
        is_component=False,
        owner_id=None,
        maintainer_id=None,
        competent_id=competent,
        territorial_id=territorial,
    )
    return DispatchPreview(
        grid, street_code, tuple(matching), competent, territorial, tuple(proposals)
    )


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
