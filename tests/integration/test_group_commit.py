"""Group commit on SQLite's shared writer (adapters/db/group.py): the writes of one moment on
the event loop share one COMMIT, each is answered only after it, a failed one takes only its
own changes back, and a failed COMMIT is acknowledged to nobody."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Coroutine, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cityloop.adapters.db.engine import write_lock, writer_connection
from cityloop.adapters.db.group import CommitFailed, grouped_writes
from cityloop.domain.case import Case, CaseState
from cityloop.domain.errors import CaseChangedError
from cityloop.entrypoints.api import errors
from cityloop.entrypoints.api.deps import write
from cityloop.services import cases as svc
from tests.conftest import at
from tests.support.containers import sqlite_city
from tests.support.flow import Flow

T0 = at("2026-11-23 10:00")
T = TypeVar("T")


@pytest.fixture
def flow(sqlite_template: Path, tmp_path: Path) -> Iterator[Flow]:
    container, city = sqlite_city(sqlite_template, tmp_path)
    yield Flow(container, city)
    container.dispose()


def run(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``scenario`` on an event loop of its own thread, as the server runs requests (the
    browser tests keep a loop running on the test thread)."""
    results: list[T] = []
    errors: list[BaseException] = []

    def main() -> None:
        try:
            results.append(asyncio.run(scenario()))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=main)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


def committed_state(engine: Engine, case_id: int) -> str:
    """The case's state as another connection sees it: only what was committed."""
    with sqlite3.connect(str(engine.url.database)) as other:
        row = other.execute("SELECT state FROM cases WHERE id = ?", (case_id,)).fetchone()
    return str(row[0])


class Commits:
    """Counts the COMMIT statements the shared writer runs."""

    def __init__(self, engine: Engine) -> None:
        with write_lock(engine):  # type: ignore[union-attr]
            self.driver = writer_connection(engine).connection.driver_connection
        self.count = 0
        self.driver.set_trace_callback(self._trace)  # type: ignore[union-attr]

    def _trace(self, statement: str) -> None:
        if statement.strip().upper() == "COMMIT":
            self.count += 1


def dispatch_now(flow: Flow, case: Case, *, version: int | None = None) -> svc.Outcome:
    """Dispatch ``case`` to 城管委 as the dispatcher, in the calling context."""
    return svc.dispatch_case(
        flow.uow,
        case.id,
        actor=flow.city.actor("dispatcher"),
        now=T0,
        version=case.version if version is None else version,
        department_id=flow.city.departments["cgw"],
    )


async def dispatch(flow: Flow, case: Case, *, version: int | None = None) -> svc.Outcome:
    """The same through the API's write path (grouped on the event loop)."""
    return await write(flow.container, dispatch_now, flow, case, version=version)


def test_the_writes_of_one_moment_share_one_commit_and_are_answered_after_it(flow: Flow) -> None:
    cases = [flow.filed(T0 + timedelta(minutes=i)) for i in range(4)]
    engine = flow.container.engine
    commits = Commits(engine)

    async def one(case: Case) -> str:
        outcome = await dispatch(flow, case)
        # answered: what it answers is committed, as another connection sees it
        assert committed_state(engine, case.id) == outcome.case.state.value
        return str(outcome.case.state.value)

    async def scenario() -> list[str]:
        return await asyncio.gather(*(one(c) for c in cases))

    assert run(scenario) == [CaseState.DISPATCHED.value] * 4
    assert commits.count == 1
    for case in cases:
        assert [e.action for e in flow.events(case.id)].count("dispatch") == 1


def test_a_refused_write_takes_back_only_its_own_changes(flow: Flow) -> None:
    first, stale, third = (flow.filed(T0 + timedelta(minutes=i)) for i in range(3))
    before = flow.snapshot()

    async def scenario() -> list[Any]:
        return await asyncio.gather(
            dispatch(flow, first),
            dispatch(flow, stale, version=stale.version - 1),
            dispatch(flow, third),
            return_exceptions=True,
        )

    done, refused, also_done = run(scenario)
    assert isinstance(refused, CaseChangedError)
    assert done.case.state is also_done.case.state is CaseState.DISPATCHED
    assert flow.get(stale.id).version == stale.version
    assert [e.action for e in flow.events(stale.id)][-1] == "file"
    after = flow.snapshot()
    assert after["counts"]["case_events"] == before["counts"]["case_events"] + 2


def dangling_grant(uow: Any) -> None:
    """A unit of work whose change can only fail at COMMIT (a deferred foreign key)."""
    with uow:
        uow.connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        uow.connection.exec_driver_sql(
            "INSERT INTO inspector_grids (user_id, region_id) VALUES (999999, 999999)"
        )
        uow.commit()


def test_a_failed_commit_is_acknowledged_to_nobody_and_the_writer_goes_on(flow: Flow) -> None:
    case = flow.filed(T0)
    notices: list[str] = []

    def noted(uow: Any) -> None:
        with uow:
            uow.after_commit(lambda: notices.append("sent"))
            uow.commit()

    async def scenario() -> list[Any]:
        return await asyncio.gather(
            dispatch(flow, case),
            write(flow.container, dangling_grant, flow.uow),
            write(flow.container, noted, flow.uow),
            return_exceptions=True,
        )

    results = run(scenario)
    assert all(isinstance(r, CommitFailed) for r in results), results
    assert isinstance(results[0].__cause__, Exception)
    assert "FOREIGN KEY" in str(results[0].__cause__)
    assert notices == []  # nothing committed, so nothing announced
    assert committed_state(flow.container.engine, case.id) == CaseState.PENDING_DISPATCH.value
    assert flow.get(case.id).version == case.version

    async def again() -> Any:
        return await dispatch(flow, case)

    assert run(again).case.state is CaseState.DISPATCHED


def test_after_commit_callbacks_run_once_the_round_is_committed(flow: Flow) -> None:
    case = flow.filed(T0)
    engine = flow.container.engine
    seen: list[str] = []

    def noted(uow: Any) -> None:
        with uow:
            uow.after_commit(lambda: seen.append(committed_state(engine, case.id)))
            uow.commit()

    async def scenario() -> None:
        with grouped_writes() as batch:
            dispatch_now(flow, case)
            noted(flow.uow)
        assert seen == []  # the round is still open
        await batch.durable()

    run(scenario)
    assert seen == [CaseState.DISPATCHED.value]


def test_a_write_outside_the_group_on_the_loop_commits_the_round_first(flow: Flow) -> None:
    first, second = flow.filed(T0), flow.filed(T0 + timedelta(minutes=1))
    engine = flow.container.engine

    async def scenario() -> None:
        with grouped_writes() as batch:
            dispatch_now(flow, first)
        assert committed_state(engine, first.id) == CaseState.PENDING_DISPATCH.value
        # not in a grouped block: it must neither wait for the lock its own round holds
        # (a deadlock) nor leave the round open
        outcome = dispatch_now(flow, second)
        assert outcome.case.state is CaseState.DISPATCHED
        assert committed_state(engine, first.id) == CaseState.DISPATCHED.value
        assert committed_state(engine, second.id) == CaseState.DISPATCHED.value
        await batch.durable()

    run(scenario)


def test_a_writer_in_another_thread_waits_for_the_round(flow: Flow) -> None:
    first, second = flow.filed(T0), flow.filed(T0 + timedelta(minutes=1))
    engine = flow.container.engine
    finished = threading.Event()

    def other_thread() -> None:
        dispatch_now(flow, second)
        finished.set()

    async def scenario() -> None:
        with grouped_writes() as batch:
            dispatch_now(flow, first)
        thread = threading.Thread(target=other_thread)
        thread.start()
        # the round holds the writer until the loop commits it (the loop is held here)
        assert not finished.wait(0.3)
        await batch.durable()
        assert await asyncio.to_thread(finished.wait, 10)
        thread.join()

    run(scenario)
    assert committed_state(engine, first.id) == CaseState.DISPATCHED.value
    assert committed_state(engine, second.id) == CaseState.DISPATCHED.value


def test_a_change_that_was_not_saved_is_answered_503_in_the_callers_language() -> None:
    app = FastAPI()
    errors.install(app)

    @app.post("/api/v1/things")
    async def failing() -> None:
        raise CommitFailed("the write transaction could not commit")

    client = TestClient(app)
    zh = client.post("/api/v1/things")
    assert zh.status_code == 503
    assert zh.headers["retry-after"] == "1"
    assert zh.json() == {
        "code": "not_saved",
        "message": "保存失败，本次操作未生效，请重试",
        "details": {},
    }
    en = client.post("/api/v1/things", headers={"Accept-Language": "en"})
    assert en.json()["message"] == (
        "The change could not be saved and nothing of it was kept; please try again"
    )
