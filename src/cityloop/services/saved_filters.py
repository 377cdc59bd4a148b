"""Saved filters (常用查询): a user keeps searches under a name."""

from __future__ import annotations

from datetime import datetime

from cityloop.domain.audit import SavedFilter
from cityloop.domain.errors import NotFoundError, ValidationError
from cityloop.domain.roles import Actor
from cityloop.services.ports import UnitOfWork

MAX_FILTERS = 50
MAX_NAME = 64


def mine(uow: UnitOfWork, actor: Actor) -> list[SavedFilter]:
    if actor.user_id is None:
        return []
    with uow:
        return uow.saved_filters.for_user(actor.user_id)


def save(uow: UnitOfWork, actor: Actor, name: str, query: str, *, now: datetime) -> SavedFilter:
    """Keep ``query`` under ``name`` (replacing the user's filter of that name)."""
    name = name.strip()
    if not name:
        raise ValidationError("filter_name_empty", "Give the search a name")
    if len(name) > MAX_NAME:
        raise ValidationError(
            "filter_name_too_long", "A name has at most {max} characters", max=MAX_NAME
        )
    if len(query) > 2000 or "\n" in query:
        raise ValidationError("filter_query_invalid", "This search cannot be saved")
    if actor.user_id is None:
        raise ValidationError("filter_no_user", "Only a signed-in user can save searches")
    with uow:
        existing = uow.saved_filters.for_user(actor.user_id)
        if len(existing) >= MAX_FILTERS and all(f.name != name for f in existing):
            raise ValidationError(
                "too_many_filters",
                "You have {max} saved searches; delete one first",
                max=MAX_FILTERS,
            )
        kept = uow.saved_filters.save(SavedFilter(None, actor.user_id, name, query, now))
        uow.commit()
    return kept


def delete(uow: UnitOfWork, actor: Actor, filter_id: int) -> None:
    with uow:
        if actor.user_id is None or not uow.saved_filters.delete(actor.user_id, filter_id):
            raise NotFoundError("filter_not_found", "Saved search {id} was not found", id=filter_id)
        uow.commit()
