"""Engines for SQLite (embedded default) and PostgreSQL (production).

SQLite runs in WAL mode with ``synchronous=NORMAL``, foreign keys on and a busy timeout.
Write transactions begin with ``BEGIN IMMEDIATE`` so that a transaction that reads before it
writes takes the write lock up front instead of failing to upgrade later ("database is
locked"); inside one process writers are serialised by a lock (SQLite has one writer —
perf-limits.md §"What the measurements imply", 1). Read-only work uses a deferred BEGIN and
runs beside the writer thanks to WAL.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

_WRITE_LOCKS: dict[str, threading.Lock] = {}
_BEGIN = {mode: f"BEGIN {mode}" for mode in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")}
_LOCKS_GUARD = threading.Lock()


def normalise_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def write_lock(engine: Engine) -> threading.Lock | None:
    """The in-process writer lock of a SQLite database (None for PostgreSQL)."""
    if not is_sqlite(engine):
        return None
    key = str(engine.url)
    with _LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.Lock())


def make_engine(url: str, *, echo: bool = False, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            # Every unit of work ends with COMMIT or ROLLBACK itself: no reset on return.
            pool_reset_on_return=None,
            **({"poolclass": NullPool} if parsed.database in (None, "", ":memory:") else {}),
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # On the driver's connection: a statement through SQLAlchemy's execution path
            # costs more than the BEGIN itself, and every unit of work runs one.
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.connection.driver_connection.execute(_BEGIN[mode])

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, **kwargs)
