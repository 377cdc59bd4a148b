"""Recording administrative changes (应用维护留痕) and reading them back.

Every service that changes administrator data calls :func:`record` inside its transaction,
so a change and its log entry are committed together or not at all.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from cityloop.domain.audit import AuditEntry, Change
from cityloop.domain.errors import PermissionDeniedError, ValidationError
from cityloop.domain.roles import Actor, Role
from cityloop.services.ports import UnitOfWork

MAX_PAGE = 200


def snapshot(value: Any) -> Any:
    """A JSON-ready copy of a record (dataclasses, enums, dates and decimals flattened)."""
    if is_dataclass(value) and not isinstance(value, type):
        return snapshot(asdict(value))
    if isinstance(value, dict):
        return {str(k): snapshot(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [snapshot(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def record(
    uow: UnitOfWork,
    actor: Actor,
    now: datetime,
    *,
    entity: str,
    key: object,
    change: Change,
    before: Any = None,
    after: Any = None,
    summary: str = "",
) -> None:
    """Log one change; call inside the transaction that makes it."""
    uow.audit.record(
        AuditEntry(
            at=now,
            user_id=actor.user_id,
            user_name=actor.name,
            entity=entity,
            entity_key=str(key),
            change=change,
            summary=summary,
            before=snapshot(before) if before is not None else None,
            after=snapshot(after) if after is not None else None,
        )
    )


def entries(
    uow: UnitOfWork,
    actor: Actor,
    *,
    entity: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[AuditEntry], int]:
    """The change log, newest first (administrators only)."""
    if actor.role is not Role.ADMIN:
        raise PermissionDeniedError("admin_only", "Only an administrator may do this")
    if page < 1 or not 1 <= page_size <= MAX_PAGE:
        raise ValidationError(
            "page_invalid", "Pages start at 1 and hold 1 to {max} cases", max=MAX_PAGE
        )
    with uow:
        return uow.audit.entries(entity=entity, offset=(page - 1) * page_size, limit=page_size)
