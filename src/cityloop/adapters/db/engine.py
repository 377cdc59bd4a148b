"""Engines for SQLite (embedded default) and PostgreSQL (production).

SQLite runs in WAL mode with ``synchronous=NORMAL``, foreign keys on and a busy timeout
(ADR 0004: NORMAL under WAL loses no committed transaction when the application crashes; an
operating-system crash or power loss can lose the last ones, never the database's integrity).
Write transactions begin with ``BEGIN IMMEDIATE`` so that a transaction that reads before it
writes takes the write lock up front instead of failing to upgrade later ("database is
locked"); inside one process writers are serialised by a lock (SQLite has one writer —
perf-limits.md §"What the measurements imply", 1) and share one long-lived connection. WAL
checkpoints (copying the log into the database file, with its fsync) run in a background
thread instead of inside a writer's COMMIT. Read-only work uses a deferred BEGIN on pooled
connections and runs beside the writer thanks to WAL.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
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
    """The in-process writer lock of a SQLite database (None for PostgreSQL): one per
    database file, shared by every engine of the process that opens it."""
    found = engine.__dict__.get("_cityloop_write_lock", False)
    if found is not False:
        return found  # type: ignore[no-any-return]
    lock = None
    if is_sqlite(engine):
        with _LOCKS_GUARD:
            lock = _WRITE_LOCKS.setdefault(str(engine.url), threading.Lock())
    engine.__dict__["_cityloop_write_lock"] = lock
    return lock


# The writer connection checkpoints by itself only if the background thread falls far behind
# (40 MB of log); the thread copies the log into the database every CHECKPOINT_SECONDS and
# has it start over once it holds RESTART_FRAMES pages (8 MB).
WRITER_AUTOCHECKPOINT_PAGES = 10_000
CHECKPOINT_SECONDS = 0.25
RESTART_FRAMES = 2_000
_WRITER = "_cityloop_writer"


def shares_writer(engine: Engine) -> bool:
    """Whether write transactions on ``engine`` use :func:`writer_connection` (SQLite files)."""
    return bool(engine.__dict__.get("_cityloop_shares_writer"))


def writer_connection(engine: Engine) -> Connection:
    """The long-lived write connection of a SQLite file database, made on first use.

    Call it with the database's :func:`write_lock` held: the lock is what makes sharing one
    connection safe. Keeping it open saves the pool's checkout and return on every write
    transaction; it is replaced if an error left it closed or invalidated, and closed when
    the engine is disposed.
    """
    conn: Connection | None = engine.__dict__.get(_WRITER)
    if conn is None or conn.closed or conn.invalidated:
        conn = engine.connect().execution_options(sqlite_begin="IMMEDIATE")
        driver = conn.connection.driver_connection
        driver.execute(f"PRAGMA wal_autocheckpoint={WRITER_AUTOCHECKPOINT_PAGES}")  # type: ignore[union-attr]
        engine.__dict__[_WRITER] = conn
        _Checkpointer.start(engine)
    return conn


def begin_writer(engine: Engine) -> Connection:
    """Begin a write transaction (``BEGIN IMMEDIATE``) on the shared writer connection; call it
    with the database's :func:`write_lock` held.

    The BEGIN goes to the driver: SQLAlchemy's transaction, if a statement through it needs
    one, joins this one (the begin hook sees it open). A transaction left open by use outside
    a unit of work is rolled back first, never carried on."""
    conn = writer_connection(engine)
    driver = conn.connection.driver_connection
    if conn.in_transaction():
        conn.rollback()
    if driver.in_transaction:  # type: ignore[union-attr]
        driver.rollback()  # type: ignore[union-attr]
    driver.execute(_BEGIN["IMMEDIATE"])  # type: ignore[union-attr]
    return conn


def close_writer(engine: Engine) -> None:
    """Close the write connection (the next write transaction makes a new one)."""
    conn: Connection | None = engine.__dict__.pop(_WRITER, None)
    if conn is not None and not conn.closed:
        with contextlib.suppress(Exception):  # disposing: nothing to do with a broken one
            conn.close()


class _Checkpointer:
    """Copies the write-ahead log into the database file from a background thread.

    Every few tenths of a second it runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its own
    connection: the copy and its fsync happen beside the writers' transactions (a passive
    checkpoint neither waits for nor blocks a writer or a reader). Under sustained writes the
    log would still grow, because SQLite starts it over only when a write transaction begins
    on a completely copied log; so once the log holds RESTART_FRAMES pages, the checkpointer
    copies the last few pages (the bulk is done) while this process's writers wait on their
    lock, and the next write transaction starts the log over. Stops when the engine is
    disposed or collected.
    """

    def __init__(self, database: str, lock: threading.Lock | None) -> None:
        self.database = database
        self.lock = lock
        self.stop = threading.Event()

    @classmethod
    def start(cls, engine: Engine) -> None:
        if engine.__dict__.get("_cityloop_checkpointer") is not None:
            return
        checkpointer = cls(engine.url.database or "", write_lock(engine))
        engine.__dict__["_cityloop_checkpointer"] = checkpointer
        weakref.finalize(engine, checkpointer.stop.set)
        threading.Thread(target=checkpointer.run, name="sqlite-checkpoint", daemon=True).start()

    def run(self) -> None:
        try:
            # mode=rw: never create a database that was removed meanwhile
            conn = sqlite3.connect(
                f"file:{Path(self.database).as_posix()}?mode=rw",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error:
            return
        try:
            while not self.stop.wait(CHECKPOINT_SECONDS):
                try:
                    self.checkpoint(conn)
                except sqlite3.Error:
                    continue  # the file is gone, or locked by another program: next tick
        finally:
            conn.close()

    def checkpoint(self, conn: sqlite3.Connection) -> None:
        _busy, frames, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames >= RESTART_FRAMES and self.lock is not None:
            with self.lock:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()


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
            driver = conn.connection.driver_connection
            if driver.in_transaction:  # the shared writer's unit of work began it already
                return
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            driver.execute(_BEGIN[mode])

        if parsed.database not in (None, "", ":memory:"):
            engine.__dict__["_cityloop_shares_writer"] = True

            @event.listens_for(engine, "engine_disposed")
            def _on_dispose(_conn: Any) -> None:
                close_writer(engine)
                checkpointer = engine.__dict__.pop("_cityloop_checkpointer", None)
                if checkpointer is not None:
                    checkpointer.stop.set()

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, **kwargs)
