"""Installation flags (key → JSON value)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select

from cityloop.adapters.db.models import T

flags = T["flags"]


class SqlFlagRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, key: str) -> dict[str, Any] | None:
        value = self.conn.execute(select(flags.c.value).where(flags.c.key == key)).scalar()
        return dict(value) if value is not None else None

    def set(self, key: str, value: dict[str, Any]) -> None:
        self.conn.execute(delete(flags).where(flags.c.key == key))
        self.conn.execute(insert(flags).values(key=key, value=value))
