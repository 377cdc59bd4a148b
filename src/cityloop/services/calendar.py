"""Administering the working calendar (工作日历): holidays and make-up working days.

The seeded statutory calendar ends with 2026; each year an administrator enters the State
Council's notice. Deadlines already set are not recomputed by such a change (a deadline is
fixed when its clock starts), which keeps every recorded decision explainable.
"""

from __future__ import annotations

from datetime import date, datetime

from cityloop.domain.errors import PermissionDeniedError, ValidationError
from cityloop.domain.roles import Actor, Role
from cityloop.domain.sla.calendar import DayKind
from cityloop.services.ports import UnitOfWork


def _admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise PermissionDeniedError(
            "admin_only", "Only an administrator may change the working calendar"
        )


def set_day(
    uow: UnitOfWork,
    day: date,
    kind: DayKind | str | None,
    *,
    name: str = "",
    actor: Actor,
    now: datetime,
) -> None:
    """Make ``day`` a holiday, a make-up working day, or (``None``) an ordinary day again."""
    _admin(actor)
    parsed: DayKind | None
    try:
        parsed = DayKind(kind) if kind is not None else None
    except ValueError as exc:
        raise ValidationError(
            "day_kind_invalid",
            "{kind} is not a kind of day; use holiday or workday",
            kind=str(kind),
        ) from exc
    if len(name) > 50:
        raise ValidationError("day_name_too_long", "A holiday name has at most 50 characters")
    with uow:
        uow.sla.set_override(day, parsed, name.strip())
        uow.commit()


def confirm_year(uow: UnitOfWork, year: int, *, actor: Actor, now: datetime) -> None:
    """Record that ``year``'s holiday notice is entered (silences the missing-year warning)."""
    _admin(actor)
    if not 1990 <= year <= 2200:
        raise ValidationError("year_invalid", "Year {year} is out of range", year=year)
    with uow:
        uow.sla.mark_year_known(year)
        uow.commit()
