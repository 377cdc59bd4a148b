"""Whether this installation holds the synthetic demo city (pages then say so)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cityloop.domain.errors import PermissionDeniedError
from cityloop.domain.roles import Actor, Role
from cityloop.services.ports import UnitOfWork

DEMO_FLAG = "demo"


def mark_demo(uow: UnitOfWork, *, seed: int, actor: Actor, now: datetime) -> None:
    if actor.role not in (Role.SYSTEM, Role.ADMIN):
        raise PermissionDeniedError(
            "admin_only_org", "Only an administrator may change the organisation"
        )
    with uow:
        uow.flags.set(DEMO_FLAG, {"seed": seed, "loaded_at": now.isoformat()})
        uow.commit()


def demo_marker(uow: UnitOfWork) -> dict[str, Any] | None:
    with uow:
        return uow.flags.get(DEMO_FLAG)


def demo_logins(uow: UnitOfWork) -> list[tuple[Role, str, str]]:
    """One demo user of each role (role, user name, display name), for the sign-in page and
    the logins printed by ``make run``. Only call when the demo city is loaded."""
    with uow:
        users = uow.org.users()
    chosen: dict[Role, tuple[Role, str, str]] = {}
    for user in users:
        if not user.active or not user.grants:
            continue
        role = user.grants[0].role
        if role is Role.SYSTEM or role in chosen:
            continue
        chosen[role] = (role, user.username, user.display_name)
    return [chosen[r] for r in Role if r in chosen]
