"""The unit of work: one connection, one transaction, the repositories bound to it."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, Engine

from cityloop.adapters.db.engine import (
    begin_writer,
    close_writer,
    is_sqlite,
    shares_writer,
    write_lock,
)
from cityloop.adapters.db.group import Batch, WriteGroup, current_batch
from cityloop.adapters.db.queries import SqlCaseQueries
from cityloop.adapters.db.repositories.base_data import SqlBaseDataRepository
from cityloop.adapters.db.repositories.cases import SqlCaseRepository
from cityloop.adapters.db.repositories.catalog import SqlCatalogRepository
from cityloop.adapters.db.repositories.evaluation import SqlEvaluationRepository
from cityloop.adapters.db.repositories.flags import SqlFlagRepository
from cityloop.adapters.db.repositories.org import SqlOrgRepository
from cityloop.adapters.db.repositories.regions import SqlComponentRepository, SqlRegionRepository
from cityloop.adapters.db.repositories.sla import SlaCache, SqlSlaRepository
from cityloop.adapters.db.repositories.tasks import SqlAttachmentRepository, SqlTaskRepository
from cityloop.adapters.db.repositories.tokens import SqlTokenRepository
from cityloop.adapters.db.repositories.workbench import SqlAuditRepository, SqlSavedFilterRepository
from cityloop.adapters.geo.case_layer import SqlMapLayers
from cityloop.adapters.geo.geocoder import AddressMatcher
from cityloop.adapters.geo.registry import geocoder_for, map_layers_for
from cityloop.adapters.geo.spatial import SPATIAL
from cityloop.services.ports import CaseNotice, FileStore, GridLocator, PasswordHasher


class SqlUnitOfWork:
    """``with uow:`` opens a transaction; ``commit()`` ends it; leaving without commit rolls
    back. The same object can be entered again for the next transaction.

    On SQLite a writing unit of work holds the process's writer lock and begins with
    ``BEGIN IMMEDIATE``; ``readonly=True`` skips both. Inside ``group.grouped_writes`` (the
    API's writes on the event loop) it joins the shared round of group commit instead: its
    work runs in a savepoint, and the round commits for all its units (group.py).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        locator: GridLocator,
        files: FileStore,
        passwords: PasswordHasher,
        sla_cache: SlaCache,
        readonly: bool = False,
        notices: Callable[[CaseNotice], None] | None = None,
    ) -> None:
        self.engine = engine
        self.locator = locator
        self.files = files
        self.passwords = passwords
        self._sla_cache = sla_cache
        self.readonly = readonly
        self._conn: Connection | None = None
        self._driver: Any = None  # the DB-API connection of the shared SQLite writer
        self._callbacks: list[Callable[[], None]] = []
        self._notices = notices
        self._lock = None if readonly else write_lock(engine)
        self._sqlite = is_sqlite(engine)
        self._shared = shares_writer(engine)
        self._group: WriteGroup | None = None  # the round this unit joined, if it did
        self._savepoint = False  # whether this unit's savepoint in the round is open
        # Base data (issue 4): geometry work; the long-lived geocoding and map indexes are
        # looked up when a use case needs them (most units of work never do).
        self.spatial = SPATIAL

    @property
    def geocoder(self) -> AddressMatcher:
        return geocoder_for(self.engine)

    @property
    def map_layers(self) -> SqlMapLayers:
        return map_layers_for(self.engine)

    def __enter__(self) -> Self:
        if self._conn is not None:
            raise RuntimeError("unit of work already in a transaction")
        lock = self._lock
        if lock is not None and self._shared:
            batch = current_batch()
            if batch is not None:
                return self._join(batch)
            group = WriteGroup.of(self.engine)
            if group.owned_here():  # a round of this thread holds the lock: end it first
                group.commit()
        if lock is not None:
            lock.acquire()
        try:
            if lock is not None and self._shared:
                conn = begin_writer(self.engine)
                self._driver = conn.connection.driver_connection
            else:
                conn = self.engine.connect()
                if self._sqlite:
                    conn = conn.execution_options(
                        sqlite_begin="DEFERRED" if self.readonly else "IMMEDIATE"
                    )
                conn.begin()
                self._driver = None
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        return self._bind(conn)

    def _join(self, batch: Batch) -> Self:
        group = WriteGroup.of(self.engine)
        conn, self._driver, joined = group.join(batch.loop)
        batch.joined(joined)
        self._group, self._savepoint = group, True
        return self._bind(conn)

    def _bind(self, conn: Connection) -> Self:
        self._conn = conn
        self._callbacks = []
        self._committed = False
        self.cases = SqlCaseRepository(conn)
        self.tasks = SqlTaskRepository(conn)
        self.attachments = SqlAttachmentRepository(conn)
        self.catalog = SqlCatalogRepository(conn)
        self.org = SqlOrgRepository(conn)
        self.regions = SqlRegionRepository(conn)
        self.components = SqlComponentRepository(conn)
        self.sla = SqlSlaRepository(conn, self._sla_cache)
        self.tokens = SqlTokenRepository(conn)
        self.flags = SqlFlagRepository(conn)
        self.base_data = SqlBaseDataRepository(conn)
        self.queries = SqlCaseQueries(conn)
        self.evaluation = SqlEvaluationRepository(conn)
        self.audit = SqlAuditRepository(conn)
        self.saved_filters = SqlSavedFilterRepository(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        self._conn = None
        group, self._group = self._group, None
        if group is not None:
            self._leave(group, committed=exc_type is None and self._committed)
            return
        try:
            if conn is not None:
                shared = self._lock is not None and self._shared
                try:
                    if conn.in_transaction():
                        conn.rollback()
                    if shared and self._driver is not None and self._driver.in_transaction:
                        self._driver.rollback()
                except BaseException:
                    if shared:
                        close_writer(self.engine)  # a fresh one for the next transaction
                    raise
                if not shared:
                    conn.close()
        finally:
            if self._lock is not None:
                self._lock.release()
        callbacks, self._callbacks = self._callbacks, []
        if exc_type is None and self._committed:
            for callback in callbacks:
                callback()

    def _leave(self, group: WriteGroup, *, committed: bool) -> None:
        """End this unit's part of the round; its callbacks run after the round's COMMIT."""
        callbacks, self._callbacks = self._callbacks, []
        savepoint, self._savepoint = self._savepoint, False
        group.leave(self._driver, savepoint=savepoint, callbacks=callbacks if committed else [])

    _committed = False

    @property
    def connection(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("unit of work is not in a transaction")
        return self._conn

    def commit(self) -> None:
        conn = self.connection
        if self._group is not None:
            # The unit's work stays in the round; anything after this runs in a new savepoint.
            self._group.release(self._driver)
            self._group.begin_unit(self._driver)
            self._committed = True
            return
        if self._driver is None or conn.in_transaction():
            conn.commit()  # commits the driver's transaction too
        else:
            self._driver.commit()
        self._committed = True

    def rollback(self) -> None:
        conn = self.connection
        if self._group is not None:
            self._group.rollback_unit(self._driver)
            self._committed = False
            return
        if conn.in_transaction():
            conn.rollback()
        if self._driver is not None and self._driver.in_transaction:
            self._driver.rollback()
        self._committed = False

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def publish(self, notice: CaseNotice) -> None:
        if self._notices is not None:
            sink = self._notices
            self._callbacks.append(lambda: sink(notice))
