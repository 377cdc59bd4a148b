"""The change log and saved filters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from cityloop.adapters.db.models import T, new_id
from cityloop.domain.audit import AuditEntry, Change, SavedFilter

audit = T["audit_log"]
saved = T["saved_filters"]


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        user_id=row.user_id,
        user_name=row.user_name,
        entity=row.entity,
        entity_key=row.entity_key,
        change=Change(row.change),
        summary=row.summary,
        before=row.before,
        after=row.after,
    )


class SqlAuditRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def record(self, entry: AuditEntry) -> None:
        self.conn.execute(
            insert(audit).values(
                at=entry.at,
                user_id=entry.user_id,
                user_name=entry.user_name[:64],
                entity=entry.entity,
                entity_key=entry.entity_key[:64],
                change=entry.change.value,
                summary=entry.summary[:200],
                before=entry.before,
                after=entry.after,
            )
        )

    def entries(
        self, *, entity: str | None = None, offset: int = 0, limit: int = 100
    ) -> tuple[list[AuditEntry], int]:
        where = [audit.c.entity == entity] if entity else []
        total = self.conn.execute(select(func.count()).select_from(audit).where(*where)).scalar()
        rows = self.conn.execute(
            select(audit).where(*where).order_by(audit.c.id.desc()).offset(offset).limit(limit)
        )
        return [_entry(r) for r in rows], int(total or 0)


class SqlSavedFilterRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def for_user(self, user_id: int) -> list[SavedFilter]:
        rows = self.conn.execute(
            select(saved).where(saved.c.user_id == user_id).order_by(saved.c.name)
        )
        return [SavedFilter(r.id, r.user_id, r.name, r.query, r.created_at) for r in rows]

    def save(self, item: SavedFilter) -> SavedFilter:
        existing = self.conn.execute(
            select(saved.c.id).where(saved.c.user_id == item.user_id, saved.c.name == item.name)
        ).scalar()
        if existing is not None:
            self.conn.execute(update(saved).where(saved.c.id == existing).values(query=item.query))
            return SavedFilter(existing, item.user_id, item.name, item.query, item.created_at)
        result = self.conn.execute(
            insert(saved).values(
                user_id=item.user_id, name=item.name, query=item.query, created_at=item.created_at
            )
        )
        return SavedFilter(new_id(result), item.user_id, item.name, item.query, item.created_at)

    def delete(self, user_id: int, filter_id: int) -> bool:
        result = self.conn.execute(
            delete(saved).where(saved.c.id == filter_id, saved.c.user_id == user_id)
        )
        return bool(result.rowcount)
