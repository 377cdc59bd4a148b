"""Work queues: per role, most urgent first, quick filters, counts, live refresh parts."""

from __future__ import annotations

import re

from cityloop.domain.case import CaseState, Source
from cityloop.domain.roles import Actor, Role
from cityloop.entrypoints.web.routes.events import concerns
from cityloop.services.ports import CaseNotice
from tests.support.flow import Flow
from tests.support.states import drive
from tests.web.conftest import Web


def numbers(html: str) -> list[str]:
    return re.findall(r'data-number="(\d+)"', html)


def test_each_role_sees_its_queue(web: Web) -> None:
    flow = Flow(web.container, web.city)
    now = web.clock.now
    reported = drive(flow, CaseState.REPORTED, now)
    pending_filing = drive(flow, CaseState.PENDING_FILING, now)
    pending_dispatch = drive(flow, CaseState.PENDING_DISPATCH, now)
    dispatched = drive(flow, CaseState.DISPATCHED, now)
    queues = {
        "operator": reported,
        "shift_lead": pending_filing,
        "dispatcher": pending_dispatch,
        "handler_cgw": dispatched,
    }
    for user, case in queues.items():
        shown = numbers(web.sign_in(user).get("/work").text)
        assert shown == [case.number], (user, shown)


def test_most_urgent_first_with_lights_and_counts(web: Web) -> None:
    flow = Flow(web.container, web.city)
    first = drive(flow, CaseState.PENDING_DISPATCH, web.clock.now)
    web.clock.advance(hours=1)
    second = drive(flow, CaseState.PENDING_DISPATCH, web.clock.now)
    web.clock.advance(hours=3)  # the first case's dispatch limit is nearer
    browser = web.sign_in("dispatcher")
    html = browser.get("/work").text
    assert numbers(html) == [first.number, second.number]
    assert "待派遣 <b>2</b>" in html
    assert browser.get("/work/count").text == "2"
    red = browser.get("/work?light=red").text
    green = browser.get("/work?light=green").text
    assert (
        len(numbers(red))
        + len(numbers(green))
        + len(numbers(browser.get("/work?light=yellow").text))
        == 2
    )


def test_quick_filters_narrow_the_queue(web: Web) -> None:
    flow = Flow(web.container, web.city)
    now = web.clock.now
    waiting = drive(flow, CaseState.PENDING_DISPATCH, now)
    returned = drive(flow, CaseState.RETURN_REQUESTED, now)
    browser = web.sign_in("dispatcher")
    assert numbers(browser.get("/work?state=return_requested").text) == [returned.number]
    assert numbers(browser.get(f"/work?q={waiting.number}").text) == [waiting.number]
    assert numbers(browser.get("/work?supervised=1").text) == []
    # a state outside my queue is ignored rather than leaking other cases
    assert set(numbers(browser.get("/work?state=closed").text)) == {
        waiting.number,
        returned.number,
    }


def test_department_rework_filter(web: Web) -> None:
    flow = Flow(web.container, web.city)
    fresh = drive(flow, CaseState.HANDLING, web.clock.now)
    failed = drive(flow, CaseState.CHECK_FAILED, web.clock.now)
    web.api.act(failed.number, "rework", "dispatcher", reason="未清理干净")
    browser = web.sign_in("handler_cgw")
    assert set(numbers(browser.get("/work").text)) == {fresh.number, failed.number}
    assert numbers(browser.get("/work?reworked=1").text) == [failed.number]


def test_district_scope_hides_other_districts(web: Web) -> None:
    flow = Flow(web.container, web.city)
    east = flow.report(web.clock.now, by="citizen", source=Source.PUBLIC).case
    west = flow.report(web.clock.now, by="inspector_xc", grid="110102001001001").case
    assert numbers(web.sign_in("operator_xc").get("/work").text) == [west.number]
    assert set(numbers(web.sign_in("operator").get("/work").text)) == {east.number, west.number}


def test_inspector_sees_open_tasks(web: Web) -> None:
    flow = Flow(web.container, web.city)
    verifying = drive(flow, CaseState.VERIFYING, web.clock.now)
    html = web.sign_in("inspector1").get("/work").text
    assert numbers(html) == [verifying.number]
    assert "核实" in html


def test_rows_fragment_refreshes_counts_out_of_band(web: Web) -> None:
    flow = Flow(web.container, web.city)
    browser = web.sign_in("operator")
    assert numbers(browser.get("/work/rows", headers={"HX-Request": "true"}).text) == []
    case = drive(flow, CaseState.REPORTED, web.clock.now)
    rows = browser.get("/work/rows", headers={"HX-Request": "true"}).text
    assert numbers(rows) == [case.number]
    assert 'id="queue-chips" hx-swap-oob="true"' in rows
    assert 'id="queue-pager" hx-swap-oob="true"' in rows


def test_roles_without_a_queue_land_on_their_first_page(web: Web) -> None:
    response = web.sign_in("admin").get("/work")
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    assert web.sign_in("citizen").get("/work").headers["location"] == "/search"


def test_live_notices_reach_only_those_concerned() -> None:
    notice = CaseNotice(
        number="1",
        state="dispatched",
        action="dispatch",
        district_code="110101",
        department_id=7,
    )
    assert concerns(Actor(1, Role.DISPATCHER), notice)
    assert concerns(Actor(1, Role.OPERATOR, district_code="110101"), notice)
    assert not concerns(Actor(1, Role.OPERATOR, district_code="110102"), notice)
    assert concerns(Actor(1, Role.HANDLER, department_id=7), notice)
    assert not concerns(Actor(1, Role.HANDLER, department_id=8), notice)
    assert not concerns(Actor(1, Role.CITIZEN), notice)
    assert concerns(
        Actor(5, Role.INSPECTOR),
        CaseNotice("1", "verifying", "request_verify", "110101", None, assignee_id=5),
    )
    assert not concerns(
        Actor(6, Role.INSPECTOR),
        CaseNotice("1", "verifying", "request_verify", "110101", None, assignee_id=5),
    )
