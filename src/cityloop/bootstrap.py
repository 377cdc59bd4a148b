"""Composition root: the one place that picks the real adapters and wires them together."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from cityloop.adapters.broker import Broker
from cityloop.adapters.db.engine import is_sqlite, make_engine
from cityloop.adapters.db.repositories.sla import SlaCache
from cityloop.adapters.db.uow import SqlUnitOfWork
from cityloop.adapters.files import LocalFileStore
from cityloop.adapters.geo.locator import StrTreeLocator
from cityloop.adapters.passwords import Argon2Passwords
from cityloop.config import Settings, get_settings


@dataclass
class Container:
    """Long-lived objects of one process."""

    settings: Settings
    engine: Engine
    locator: StrTreeLocator
    files: LocalFileStore
    # Uploaded photos are cleaned and stored in these threads (api/body.py), not in the
    # general thread pool: one thread at a time leaves the event loop more of the interpreter.
    photo_threads: ThreadPoolExecutor
    passwords: Argon2Passwords = field(default_factory=Argon2Passwords)
    sla_cache: SlaCache = field(default_factory=SlaCache)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    broker: Broker = field(default_factory=Broker)

    def uow(self, *, readonly: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            self.engine,
            locator=self.locator,
            files=self.files,
            passwords=self.passwords,
            sla_cache=self.sla_cache,
            readonly=readonly,
            notices=self.broker.publish,
        )

    @property
    def inline_writes(self) -> bool:
        """Whether write transactions may run on the event loop (SQLite's single writer)."""
        return self.settings.inline_writes and is_sqlite(self.engine)

    def dispose(self) -> None:
        self.photo_threads.shutdown(wait=True)
        self.engine.dispose()


def build(settings: Settings | None = None, *, database_url: str | None = None) -> Container:
    settings = settings or get_settings()
    engine = make_engine(database_url or settings.effective_database_url)
    return Container(
        settings=settings,
        engine=engine,
        locator=StrTreeLocator(engine),
        files=LocalFileStore(settings.attachments_dir),
        photo_threads=photo_threads(settings),
        broker=Broker(settings.redis_url or None),
    )


def photo_threads(settings: Settings) -> ThreadPoolExecutor:
    """The threads that clean and store uploaded photos (started on the first photo)."""
    return ThreadPoolExecutor(settings.photo_threads, thread_name_prefix="photos")
