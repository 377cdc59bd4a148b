"""Users, their role grants and passwords (用户、角色与范围): administration only.

A role grant names a role and its scope (the whole city, one district, or for department
staff their department); a user holds at least one. Deactivating a user, taking away a role or
resetting a password revokes the user's tokens, so every session signs in again. Each change
is recorded in the change log (:mod:`cityloop.services.audit`) in its own transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from cityloop.domain.audit import Change
from cityloop.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from cityloop.domain.org import Department, RoleGrant, User
from cityloop.domain.regions import RegionLevel
from cityloop.domain.roles import Actor, Role
from cityloop.services import audit
from cityloop.services.ports import UnitOfWork

MIN_PASSWORD = 8
MAX_PASSWORD = 128


def _admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise PermissionDeniedError("admin_only", "Only an administrator may do this")


def check_district(uow: UnitOfWork, district_code: str | None) -> None:
    """A district code must name a district the city has (inside an open unit of work)."""
    if district_code is None:
        return
    region = uow.regions.by_code(district_code)
    if region is None or region.level is not RegionLevel.DISTRICT:
        raise ValidationError(
            "district_unknown", "District {code} does not exist", code=district_code
        )


def grant_text(grant: RoleGrant, departments: dict[int, Department]) -> str:
    """A role grant as the change log shows it: role, district, department."""
    parts = [grant.role.value]
    if grant.district_code:
        parts.append(grant.district_code)
    if grant.department_id is not None:
        dept = departments.get(grant.department_id)
        parts.append(f"{dept.code} {dept.name}" if dept else f"#{grant.department_id}")
    return " ".join(parts)


def user_record(uow: UnitOfWork, user: User) -> dict[str, Any]:
    """What the change log keeps of a user (never the password)."""
    ids = {g.department_id for g in user.grants if g.department_id is not None}
    departments = {i: d for i in ids if (d := uow.org.department(i)) is not None}
    return {
        "username": user.username,
        "display_name": user.display_name,
        "phone": user.phone,
        "active": user.active,
        "roles": [grant_text(g, departments) for g in user.grants],
    }


def check_grant(uow: UnitOfWork, grant: RoleGrant) -> None:
    """A role grant's scope must exist: a department role names an active department, and
    a district is one of the city's (inside an open unit of work)."""
    if grant.role is Role.HANDLER and grant.department_id is None:
        raise ValidationError("handler_needs_department", "A department role needs its department")
    if grant.role is not Role.HANDLER and grant.department_id is not None:
        raise ValidationError(
            "department_only_for_handlers", "Only a department role is given a department"
        )
    check_district(uow, grant.district_code)
    if grant.department_id is None:
        return
    department = uow.org.department(grant.department_id)
    if department is None:
        raise ValidationError(
            "department_unknown", "Department {id} does not exist", id=grant.department_id
        )
    if not department.active:
        raise ValidationError("department_inactive", "{name} is deactivated", name=department.name)
    if department.district_code and grant.district_code not in (None, department.district_code):
        raise ValidationError(
            "grant_district_mismatch",
            "{name} works in district {district}, not in {other}",
            name=department.name,
            district=department.district_code,
            other=grant.district_code,
        )


_PHONE = re.compile(r"[0-9+\- ]{0,32}")


def check_phone(phone: str) -> str:
    phone = phone.strip()
    if not _PHONE.fullmatch(phone):
        raise ValidationError(
            "phone_invalid", "A phone number has at most 32 digits, spaces, dashes or +"
        )
    return phone


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            "password_too_short",
            "A password needs at least {min} characters",
            min=MIN_PASSWORD,
        )
    if len(password) > MAX_PASSWORD:
        raise ValidationError(
            "password_too_long", "A password has at most {max} characters", max=MAX_PASSWORD
        )


def _user(uow: UnitOfWork, user_id: int) -> User:
    user = uow.org.user(user_id)
    if user is None:
        raise NotFoundError("user_not_found", "User {id} does not exist", id=user_id)
    return user


def _log(
    uow: UnitOfWork,
    actor: Actor,
    now: datetime,
    user: User,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    audit.record(
        uow,
        actor,
        now,
        entity="user",
        key=user.username,
        change=Change.UPDATE,
        before=before,
        after=after,
        summary=user.display_name,
    )


def find_users(
    uow: UnitOfWork,
    *,
    actor: Actor,
    text: str = "",
    role: Role | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[User], int]:
    """One page of users whose user name, display name or phone contains ``text`` (holding
    ``role`` when given), by user name; and how many match."""
    _admin(actor)
    if page < 1 or not 1 <= page_size <= audit.MAX_PAGE:
        raise ValidationError(
            "page_invalid", "Pages start at 1 and hold 1 to {max} rows", max=audit.MAX_PAGE
        )
    with uow:
        return uow.org.find_users(
            text=text.strip()[:100],
            role=role.value if role else None,
            offset=(page - 1) * page_size,
            limit=page_size,
        )


@dataclass(frozen=True, slots=True)
class UserDetail:
    user: User
    grid_codes: tuple[str, ...]  # an inspector's responsible grids


def user_detail(uow: UnitOfWork, user_id: int, *, actor: Actor) -> UserDetail:
    _admin(actor)
    with uow:
        user = _user(uow, user_id)
        return UserDetail(user, tuple(uow.org.inspector_grid_codes(user_id)))


def update_user(
    uow: UnitOfWork,
    user_id: int,
    *,
    actor: Actor,
    now: datetime,
    display_name: str,
    phone: str,
    active: bool,
) -> User:
    """Change a user's display name, phone and whether the account may sign in. A
    deactivated user's tokens are revoked at once; administrators cannot lock themselves out."""
    _admin(actor)
    display_name, phone = display_name.strip(), check_phone(phone)
    if not display_name or len(display_name) > 100:
        raise ValidationError("display_name_invalid", "A display name has 1 to 100 characters")
    if not active and user_id == actor.user_id:
        raise ValidationError("cannot_deactivate_self", "You cannot deactivate your own account")
    with uow:
        before = _user(uow, user_id)
        after = replace(before, display_name=display_name, phone=phone, active=active)
        if after == before:
            return before
        uow.org.update_user(user_id, display_name=display_name, phone=phone, active=active)
        if not active:
            uow.tokens.revoke_user(user_id, now)
        fields = ("display_name", "phone", "active")
        _log(
            uow,
            actor,
            now,
            after,
            {f: getattr(before, f) for f in fields},
            {f: getattr(after, f) for f in fields},
        )
        uow.commit()
    return after


def add_grant(
    uow: UnitOfWork, user_id: int, grant: RoleGrant, *, actor: Actor, now: datetime
) -> User:
    """Give a user one more role (with its scope)."""
    _admin(actor)
    with uow:
        before = _user(uow, user_id)
        if grant in before.grants:
            raise ConflictError("grant_exists", "The user already holds this role with this scope")
        check_grant(uow, grant)
        uow.org.add_grant(user_id, grant)
        after = _user(uow, user_id)
        _log(
            uow,
            actor,
            now,
            after,
            {"roles": user_record(uow, before)["roles"]},
            {"roles": user_record(uow, after)["roles"]},
        )
        uow.commit()
    return after


def remove_grant(
    uow: UnitOfWork, user_id: int, grant: RoleGrant, *, actor: Actor, now: datetime
) -> User:
    """Take a role away (the user's tokens are revoked: they sign in again with the roles
    left). The last role cannot be taken, nor an administrator's own administrator role."""
    _admin(actor)
    with uow:
        before = _user(uow, user_id)
        if grant not in before.grants:
            raise NotFoundError("grant_not_found", "The user does not hold this role")
        if len(before.grants) == 1:
            raise ValidationError("user_without_role", "A user needs at least one role")
        if user_id == actor.user_id and grant.role is Role.ADMIN:
            raise ValidationError(
                "cannot_remove_own_admin", "You cannot take away your own administrator role"
            )
        uow.org.remove_grant(user_id, grant)
        uow.tokens.revoke_user(user_id, now)
        after = _user(uow, user_id)
        _log(
            uow,
            actor,
            now,
            after,
            {"roles": user_record(uow, before)["roles"]},
            {"roles": user_record(uow, after)["roles"]},
        )
        uow.commit()
    return after


def reset_password(
    uow: UnitOfWork, user_id: int, password: str, *, actor: Actor, now: datetime
) -> User:
    """Set a new password (Argon2-hashed) and sign the user out everywhere."""
    _admin(actor)
    check_password(password)
    with uow:
        user = _user(uow, user_id)
        uow.org.set_password(user_id, uow.passwords.hash(password))
        uow.tokens.revoke_user(user_id, now)
        audit.record(
            uow,
            actor,
            now,
            entity="user",
            key=user.username,
            change=Change.UPDATE,
            after={"password_reset": True},
            summary=user.display_name,
        )
        uow.commit()
    return user
