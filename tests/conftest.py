"""Shared fixtures: databases on SQLite and (when configured, always in CI) PostgreSQL.

- SQLite: one migrated and seeded template file per session, copied for every test.
- PostgreSQL (``CITYLOOP_TEST_DATABASE_URL``): one schema per session, migrated and seeded once;
  every test starts from truncated case/organisation tables and default policies.
  In CI (``CI=true``) a missing or unreachable server fails the PostgreSQL tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text

from cityloop.adapters.db.engine import make_engine
from cityloop.adapters.db.migrate import upgrade
from cityloop.adapters.db.seed import seed_reference
from cityloop.bootstrap import Container
from tests.support.city import City, build_city
from tests.support.containers import make_container

TZ = ZoneInfo("Asia/Shanghai")
PG_URL = os.environ.get("CITYLOOP_TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"

BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL or IN_CI else [])

# Tables holding reference data seeded once per session; everything else is reset per test.
REFERENCE_TABLES = {
    "alembic_version",
    "categories",
    "category_mappings",
    "filing_standards",
    "disposal_limits",
    "calendars",
    "calendar_overrides",
    "calendar_years",
}


def at(text_time: str) -> datetime:
    """An aware instant from a local (Asia/Shanghai) ``YYYY-MM-DD HH:MM[:SS]``."""
    return datetime.fromisoformat(text_time).replace(tzinfo=TZ)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    seed_reference(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    if not PG_URL:
        pytest.fail("CI=true but CITYLOOP_TEST_DATABASE_URL is not set")
    schema = f"cl_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} is unreachable: {exc}")
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(engine)
    seed_reference(engine)
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _reset_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        names = [
            r[0]
            for r in conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
        ]
        mutable = [n for n in names if n not in REFERENCE_TABLES]
        conn.execute(text(f"TRUNCATE {', '.join(mutable)} RESTART IDENTITY CASCADE"))
        conn.execute(text("DELETE FROM calendar_overrides WHERE day >= '2027-01-01'"))
        conn.execute(text("DELETE FROM calendar_years WHERE year >= 2027"))
        conn.execute(
            text(
                "INSERT INTO stage_limits (stage, amount, unit) VALUES "
                "('accept', 15, 'minute'), ('verify', 30, 'minute'), ('file', 30, 'minute'),"
                " ('dispatch', 15, 'minute'), ('check', 30, 'minute'), ('close', 30, 'minute')"
            )
        )
        conn.execute(text("INSERT INTO revisions (name, value) VALUES ('sla', 1)"))


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        path = tmp_path / "cityloop.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
    else:
        eng = request.getfixturevalue("pg_engine")
        _reset_postgres(eng)
        yield eng


@pytest.fixture
def container(engine: Engine, tmp_path: Path) -> Container:
    return make_container(engine, tmp_path / "var")


@pytest.fixture
def city(container: Container) -> City:
    built = build_city(container.engine)
    container.locator.reload()
    return built
