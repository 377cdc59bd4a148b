"""Migrations and reference data, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text

from cityloop.adapters import files as files_module
from cityloop.adapters.db.engine import make_engine
from cityloop.adapters.db.migrate import current, downgrade, upgrade
from cityloop.adapters.db.models import T, metadata
from cityloop.adapters.db.seed import seed_reference
from tests.conftest import BACKENDS, PG_URL


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    if not PG_URL:
        pytest.fail("CI=true but CITYLOOP_TEST_DATABASE_URL is not set")
    schema = f"cl_mig_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_migrations_build_exactly_the_models_and_roll_back(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    assert current(empty_engine) is not None
    with empty_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, metadata) == []
    downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    upgrade(empty_engine)
    assert set(metadata.tables) <= set(inspect(empty_engine).get_table_names())


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_reference_data_is_complete_and_seeding_twice_adds_nothing(engine: Engine) -> None:
    again = seed_reference(engine)  # the fixture's database is seeded already
    assert (again.categories, again.mappings, again.standards, again.calendar_days) == (0, 0, 0, 0)
    cats, standards, limits = T["categories"], T["filing_standards"], T["disposal_limits"]
    with engine.connect() as conn:
        kinds = Counter(
            (r.edition, r.kind, r.local)
            for r in conn.execute(select(cats.c.edition, cats.c.kind, cats.c.local))
        )
        assert kinds[("GB/T 47678.5-2026", "component", False)] == 153
        assert kinds[("GB/T 47678.5-2026", "matter", False)] == 250
        assert kinds[("GB/T 30428.2-2013", "component", False)] == 85
        assert kinds[("GB/T 30428.2-2013", "component", True)] == 27
        assert kinds[("GB/T 30428.2-2013", "event", False)] == 54
        # 运城's local classes: 17 components (each with its anomaly matter) + 27 matters
        assert kinds[("GB/T 47678.5-2026", "component", True)] == 17
        assert kinds[("GB/T 47678.5-2026", "matter", True)] == 17 + 27
        assert conn.execute(select(standards.c.id)).all().__len__() == 519
        units = Counter(
            r.unit for r in conn.execute(select(limits.c.unit).where(limits.c.urgency == "normal"))
        )
        # standards.md / taxonomy README: 天 read as 工作日, 小时 as 工作时
        assert units == {
            "work_day": 412,
            "work_hour": 61,
            "urgent_work_hour": 42,
            "urgent_work_day": 4,
        }
        every_class_has_standards = conn.execute(
            text(
                "SELECT count(*) FROM filing_standards fs JOIN categories c"
                " ON c.id = fs.category_id WHERE c.kind <> 'matter'"
            )
        ).scalar_one()
        assert every_class_has_standards == 0
        overrides = conn.execute(text("SELECT count(*) FROM calendar_overrides")).scalar_one()
        years = conn.execute(
            text("SELECT min(year), max(year), count(*) FROM calendar_years")
        ).one()
        assert overrides == 771 and tuple(years) == (2004, 2026, 23)
        mapping = conn.execute(
            text("SELECT target_kind, count(*) FROM category_mappings GROUP BY target_kind")
        ).all()
        assert {k for k, _n in mapping} <= {"component", "matter", None}


def test_standards_keep_the_legal_basis_where_the_earlier_table_has_it(engine: Engine) -> None:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT fs.legal_basis, fs.collection_notes, fs.limit_text FROM filing_standards fs"
                " JOIN categories c ON c.id = fs.category_id"
                " WHERE c.code = '01001' AND c.kind = 'matter' ORDER BY fs.sort_order"
            )
        ).first()
    assert row is not None
    assert "城市道路管理条例" in row.legal_basis
    assert "井盖" in row.collection_notes
    assert row.limit_text == "2紧急工作时"


def test_pg_url_is_set_in_ci() -> None:
    if os.environ.get("CI", "").lower() == "true":
        assert PG_URL, "CI must point the tests at PostgreSQL"
        assert "postgresql" in BACKENDS


def test_only_files_that_can_be_made_again_skip_the_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        flushed.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(files_module.os, "fsync", fsync)
    store = files_module.LocalFileStore(tmp_path)
    photo = store.store(b"a photo", suffix=".jpg")
    assert len(flushed) == 1
    thumb = store.store(b"its thumbnail", suffix=".jpg", durable=False)
    assert len(flushed) == 1
    assert store.read(photo.path) == b"a photo"
    assert store.read_intact(thumb.path) == b"its thumbnail"
    assert store.store(b"a photo", suffix=".jpg") == photo  # there already: nothing written
    assert len(flushed) == 1
