"""The container a test builds around its own database: files under ``var_dir``, fast
password hashing, a fresh grid locator and time-limit cache."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import Engine

from cityloop.adapters.db.engine import make_engine
from cityloop.adapters.db.repositories.sla import SlaCache
from cityloop.adapters.files import LocalFileStore
from cityloop.adapters.geo.locator import StrTreeLocator
from cityloop.adapters.passwords import Argon2Passwords
from cityloop.bootstrap import Container, photo_threads
from cityloop.config import Settings
from tests.support.city import City, build_city


def make_container(engine: Engine, var_dir: Path) -> Container:
    settings = Settings(var_dir=var_dir)
    return Container(
        settings=settings,
        engine=engine,
        locator=StrTreeLocator(engine),
        files=LocalFileStore(settings.attachments_dir),
        photo_threads=photo_threads(settings),
        passwords=Argon2Passwords(fast=True),
        sla_cache=SlaCache(),
    )


def sqlite_city(template: Path, directory: Path) -> tuple[Container, City]:
    """The test city in a fresh copy of the session's SQLite template, under ``directory``
    (for tests that need SQLite itself: its writer, its file)."""
    path = directory / "cityloop.db"
    shutil.copyfile(template, path)
    engine = make_engine(f"sqlite:///{path}")
    container = make_container(engine, directory / "var")
    city = build_city(engine)
    container.locator.reload()
    return container, city
