"""Group commit for SQLite's shared writer: the write transactions an event loop runs one
after another share one ``BEGIN IMMEDIATE … COMMIT``.

SQLite commits by appending every page a transaction changed to the write-ahead log; the
units of work of one busy moment change the same pages (the tail of the timeline table, the
same index pages), and their ``BEGIN``/``COMMIT`` pair and its page writes cost more than
their statements. Inside :func:`grouped_writes` a writing unit of work on the shared writer
joins the round open on it (or opens one): its work runs between ``SAVEPOINT`` and
``RELEASE`` (a failed unit rolls back to its savepoint alone), and the round commits once,
from the event loop, after the units that were ready at the same moment have run.

Nothing is acknowledged before it is committed: :meth:`Batch.durable` waits for the round's
``COMMIT`` (and raises its error if it failed) and the units' after-commit callbacks run only
after it. A writing unit of work outside :func:`grouped_writes` on the loop's thread commits
the open round first; another thread waits for the round on the writer lock as for any
writer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine

from cityloop.adapters.db.engine import begin_writer, close_writer, write_lock

_SAVEPOINT = "cityloop_unit"


class CommitFailed(RuntimeError):
    """The shared transaction a unit of work joined could not commit: its work is lost, and
    must not be acknowledged."""


@dataclass(eq=False)
class _Round:
    """One shared transaction: who waits for its COMMIT and what runs after it."""

    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    callbacks: list[Callable[[], None]] = field(default_factory=list)
    done: bool = False
    error: BaseException | None = None


class WriteGroup:
    """The open round of one SQLite database's shared writer (one per engine)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        lock = write_lock(engine)
        if lock is None:
            raise ValueError("group commit is for SQLite's shared writer")
        self._lock = lock
        self._round: _Round | None = None
        self._conn: Connection | None = None
        self._owner: int | None = None  # the thread (event loop) that holds the lock
        self._units = 0  # units of work open in the round

    @classmethod
    def of(cls, engine: Engine) -> WriteGroup:
        found = engine.__dict__.get("_cityloop_write_group")
        if found is None:
            found = engine.__dict__.setdefault("_cityloop_write_group", cls(engine))
        return found  # type: ignore[no-any-return]

    def owned_here(self) -> bool:
        return self._round is not None and self._owner == threading.get_ident()

    def join(self, loop: asyncio.AbstractEventLoop) -> tuple[Connection, Any, _Round]:
        """Begin a unit of work in the open round, opening one (and scheduling its commit on
        ``loop``) if none is; the writer connection, its driver connection and the round.
        A round another thread (another event loop) holds is waited for on the lock."""
        if not self.owned_here():
            self._lock.acquire()
            try:
                conn = begin_writer(self.engine)
            except BaseException:
                self._lock.release()
                raise
            self._conn, self._owner, self._round = conn, threading.get_ident(), _Round()
            loop.call_soon(self.commit)
        writer, current = self._conn, self._round
        assert writer is not None
        assert current is not None
        if self._units:
            raise RuntimeError("a unit of work is already open in this write transaction")
        driver = writer.connection.driver_connection
        self.begin_unit(driver)
        self._units += 1
        return writer, driver, current

    # -- a unit's savepoint (the driver connection of the writer) ---

    @staticmethod
    def begin_unit(driver: Any) -> None:
        driver.execute(f"SAVEPOINT {_SAVEPOINT}")

    @staticmethod
    def release(driver: Any) -> None:
        """Keep what the unit did in the round (it committed)."""
        driver.execute(f"RELEASE {_SAVEPOINT}")

    @staticmethod
    def rollback_unit(driver: Any) -> None:
        """Undo what the unit did; its savepoint stays open."""
        driver.execute(f"ROLLBACK TO {_SAVEPOINT}")

    def leave(self, driver: Any, *, savepoint: bool, callbacks: list[Callable[[], None]]) -> None:
        """End a unit of work: undo its open savepoint; ``callbacks`` run after the round's
        COMMIT."""
        self._units -= 1
        if savepoint:
            try:
                self.rollback_unit(driver)
                self.release(driver)
            except BaseException:
                self.drop()
                raise
        if self._round is not None:
            self._round.callbacks.extend(callbacks)

    def commit(self) -> None:
        """Commit the open round (nothing if none is), release the writer, wake its units."""
        current, conn = self._round, self._conn
        if current is None or conn is None:
            return
        if self._units:
            raise RuntimeError("a unit of work is still open in the write transaction")
        self._round, self._conn, self._owner = None, None, None
        try:
            driver = conn.connection.driver_connection
            if conn.in_transaction():
                conn.commit()  # SQLAlchemy's transaction (a statement began one) and the driver's
            elif driver.in_transaction:  # type: ignore[union-attr]
                driver.commit()  # type: ignore[union-attr]
        except BaseException as exc:
            current.error = exc
            try:
                if conn.in_transaction():
                    conn.rollback()
                driver = conn.connection.driver_connection
                if driver.in_transaction:  # type: ignore[union-attr]
                    driver.rollback()  # type: ignore[union-attr]
            except BaseException:
                close_writer(self.engine)  # a fresh one for the next transaction
        finally:
            self._lock.release()
            current.done = True
        _wake(current)
        if current.error is None:
            for callback in current.callbacks:
                callback()

    def drop(self) -> None:
        """Roll back the open round (a unit's rollback of the savepoint itself failed)."""
        current = self._round
        if current is None:
            return
        current.error = RuntimeError("the shared write transaction was rolled back")
        self._round, self._conn, self._owner = None, None, None
        close_writer(self.engine)
        self._lock.release()
        current.done = True
        _wake(current)


def _wake(current: _Round) -> None:
    for waiter in current.waiters:
        if not waiter.done():
            waiter.set_result(None)


@dataclass(eq=False)
class Batch:
    """The units of work of one :func:`grouped_writes` block: which rounds they joined."""

    loop: asyncio.AbstractEventLoop
    rounds: list[_Round] = field(default_factory=list)

    def joined(self, current: _Round) -> None:
        if not self.rounds or self.rounds[-1] is not current:
            self.rounds.append(current)

    async def durable(self) -> None:
        """Wait until every round the block's units joined has committed; raise the error of
        one that failed."""
        for current in self.rounds:
            if not current.done:
                waiter = self.loop.create_future()
                current.waiters.append(waiter)
                await waiter
            if current.error is not None:
                raise CommitFailed("the write transaction could not commit") from current.error


_BATCH: ContextVar[Batch | None] = ContextVar("cityloop_write_batch", default=None)


def current_batch() -> Batch | None:
    return _BATCH.get()


@contextmanager
def grouped_writes() -> Iterator[Batch]:
    """Let the writing units of work of the block join the shared round; await the batch's
    :meth:`Batch.durable` before answering. Call it on a running event loop."""
    batch = Batch(asyncio.get_running_loop())
    token = _BATCH.set(batch)
    try:
        yield batch
    finally:
        _BATCH.reset(token)
