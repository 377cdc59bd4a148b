"""The pages run a fixed number of SQL statements, however many rows they show (no N+1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from cityloop.adapters.db.repositories import sla
from cityloop.domain.case import CaseState
from tests.support.flow import Flow
from tests.support.states import drive
from tests.web.conftest import Browser, Web


@pytest.fixture(autouse=True)
def steady_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Caches that re-check the database once a second would add a statement at random."""
    monkeypatch.setattr(sla, "RECHECK_SECONDS", 3600.0)


@contextmanager
def counting(web: Web) -> Iterator[list[int]]:
    count = [0]

    def tick(*_args: object) -> None:
        count[0] += 1

    event.listen(web.container.engine, "before_cursor_execute", tick)
    try:
        yield count
    finally:
        event.remove(web.container.engine, "before_cursor_execute", tick)


def statements(web: Web, browser: Browser, path: str) -> int:
    web.app.state.token_cache.ttl = 3600.0  # a token is checked once, not every few seconds
    browser.get(path)  # warm the caches (calendar, policy, tokens)
    with counting(web) as count:
        assert browser.get(path).status_code == 200
    return count[0]


def test_the_queue_costs_the_same_for_2_or_12_cases(web: Web) -> None:
    flow = Flow(web.container, web.city)
    browser = web.sign_in("dispatcher")
    for _ in range(2):
        drive(flow, CaseState.PENDING_DISPATCH, web.clock.now)
    few = statements(web, browser, "/work"), statements(web, browser, "/work/rows")
    for _ in range(10):
        drive(flow, CaseState.PENDING_DISPATCH, web.clock.now)
    many = statements(web, browser, "/work"), statements(web, browser, "/work/rows")
    assert few == many
    assert many[0] <= 10


def test_search_costs_the_same_for_2_or_12_cases(web: Web) -> None:
    flow = Flow(web.container, web.city)
    browser = web.sign_in("operator")
    for _ in range(2):
        flow.report(web.clock.now)
    few = statements(web, browser, "/search?q=垃圾")
    for _ in range(10):
        flow.report(web.clock.now)
    assert statements(web, browser, "/search?q=垃圾") == few <= 14


def test_the_case_page_costs_the_same_for_a_short_or_long_history(web: Web) -> None:
    flow = Flow(web.container, web.city)
    browser = web.sign_in("dispatcher")
    short = drive(flow, CaseState.HANDLING, web.clock.now)
    long = drive(flow, CaseState.HANDLING, web.clock.now)
    for _ in range(6):
        web.api.act(long.number, "remind", "dispatcher")
    assert statements(web, browser, f"/cases/{short.number}") == statements(
        web, browser, f"/cases/{long.number}"
    )
    assert statements(web, browser, f"/cases/{long.number}") <= 20
