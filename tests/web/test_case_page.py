"""The case page: facts, timeline, photos, and the action forms with their errors."""

from __future__ import annotations

import re
from datetime import timedelta

from cityloop.domain.case import CaseState, Source
from cityloop.domain.roles import SYSTEM_ACTOR
from cityloop.services import cases as svc
from tests.support.flow import Flow
from tests.support.photos import photo
from tests.support.states import drive
from tests.web.conftest import Web


def version_in(html: str) -> int:
    match = re.search(r'name="version" value="(\d+)"', html)
    assert match, "no version field"
    return int(match.group(1))


def test_the_page_shows_everything_about_the_case(web: Web) -> None:
    flow = Flow(web.container, web.city)
    case = drive(flow, CaseState.HANDLED, web.clock.now)
    html = web.sign_in("operator").get(f"/cases/{case.number}").text
    assert case.number in html and "暴露垃圾" in html
    assert "已反馈，待核查" in html
    assert 'data-grid="110101001001001"' in html  # the map with the case's grid
    assert "上报" in html and "处置后" in html  # photos grouped by stage
    assert html.count(f"/api/v1/cases/{case.number}/attachments/") >= 2
    assert ("时间线" in html and "城管委" in html) or "cgw" in html
    assert 'data-action="request_check"' in html  # what the operator may do now


def test_a_suspension_that_ended_by_schedule_says_so_in_the_reader_s_language(web: Web) -> None:
    flow = Flow(web.container, web.city)
    case = drive(flow, CaseState.SUSPENDED, web.clock.now)
    assert case.suspend_until is not None
    resumed = svc.resume_due_suspensions(
        web.container.uow(), actor=SYSTEM_ACTOR, now=case.suspend_until + timedelta(hours=1)
    )
    assert [r.case.id for r in resumed] == [case.id]
    operator = web.sign_in("operator")
    html = operator.get(f"/cases/{case.number}").text
    assert "挂账期满，自动恢复" in html
    assert "<td>系统</td>" in html and ">system<" not in html  # the actor: no person, its role
    html = web.sign_in("shift_lead", lang="en").get(f"/cases/{case.number}").text
    assert "The suspension ended as planned" in html and "挂账期满" not in html
    assert "<td>System</td>" in html
    other = drive(flow, CaseState.HANDLING, web.clock.now)  # no such line without the job
    assert "挂账期满" not in operator.get(f"/cases/{other.number}").text


def test_reporter_phone_is_masked_for_roles_that_do_not_call_back(web: Web) -> None:
    flow = Flow(web.container, web.city)
    case = flow.report(
        web.clock.now,
        by="operator",
        source=Source.HOTLINE_12345,
        reporter_name="王先生",
        reporter_phone="13812345678",
    ).case
    assert "13812345678" in web.sign_in("operator").get(f"/cases/{case.number}").text
    flow.act(svc.accept_case, case, "operator", web.clock.now)
    html = web.sign_in("dispatcher").get(f"/cases/{case.number}").text
    assert "13812345678" not in html and "138****5678" in html


def test_filing_through_the_form_with_the_standard_of_the_class(web: Web) -> None:
    flow = Flow(web.container, web.city)
    case = drive(flow, CaseState.PENDING_FILING, web.clock.now)
    lead = web.sign_in("shift_lead")
    form = lead.get(f"/cases/{case.number}/form/file", headers={"HX-Request": "true"}).text
    standard = flow.standard("06010")
    assert f'value="{standard.id}"' in form and standard.condition in form
    response = lead.post(
        f"/cases/{case.number}/act/file",
        {"version": version_in(form), "standard_id": standard.id, "urgency": "normal"},
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/work?done=")
    assert flow.get(case.id).state is CaseState.PENDING_DISPATCH


def test_dispatch_proposes_the_responsible_department_first(web: Web) -> None:
    flow = Flow(web.container, web.city)
    case = drive(flow, CaseState.PENDING_DISPATCH, web.clock.now)
    browser = web.sign_in("dispatcher")
    form = browser.get(f"/cases/{case.number}?act=dispatch").text
    proposed = svc.proposed_departments(flow.uow, case.id, actor=web.city.actor("dispatcher"))
    assert web.city.departments["cgw"] in proposed  # 事件先属地、后主管: street office, then 城管委
    options = [int(v) for v in re.findall(r'<option value="(\d+)"', form)]
    assert options[: len(proposed)] == proposed
    assert re.search(rf'<option value="{proposed[0]}" selected', form)
    chosen = web.city.departments["cgw"]
    response = browser.post(
        f"/cases/{case.number}/act/dispatch",
        {"version": version_in(form), "department_id": chosen, "comment": "请尽快处理"},
    )
    assert response.status_code == 303
    assert flow.get(case.id).department_id == chosen


def test_a_missing_required_field_is_explained_and_nothing_changes(web: Web) -> None:
    flow = Flow(web.container, web.city)
    case = drive(flow, CaseState.HANDLING, web.clock.now)
    browser = web.sign_in("handler_cgw")
    page = browser.get(f"/cases/{case.number}?act=request_return").text
    response = browser.post(
        f"/cases/{case.number}/act/request_return", {"version": version_in(page), "reason": ""}
    )
    assert response.status_code == 422
    assert "此项必填" in response.text or "required" in response.text
    assert flow.get(case.id).state is CaseState.HANDLING


def test_a_stale_form_says_so_and_keeps_what_was_typed(web: Web) -> None:
    flow = Flow(web.container, web.city)
    case = drive(flow, CaseState.HANDLING, web.clock.now)
    browser = web.sign_in("handler_cgw")
    page = browser.get(f"/cases/{case.number}?act=request_extension").text
    old_version = version_in(page)
    # meanwhile the city centre supervises the case (a new version)
    supervised = web.api.act(case.number, "supervise", "dispatcher", comment="请加快")
    assert supervised.status_code == 200, supervised.text
    response = browser.post(
        f"/cases/{case.number}/act/request_extension",
        {"version": old_version, "reason": "需要协调管线单位"},
    )
    assert response.status_code == 409
    assert "需要协调管线单位" in response.text  # nothing lost
    assert version_in(response.text) == old_version + 1  # the form now carries the new version
    assert flow.get(case.id).state is CaseState.HANDLING
    again = browser.post(
        f"/cases/{case.number}/act/request_extension",
        {"version": version_in(response.text), "reason": "需要协调管线单位"},
    )
    assert again.status_code == 303
    assert flow.get(case.id).state is CaseState.EXTENSION_REQUESTED


def test_an_action_that_is_no_longer_possible_shows_the_new_state(web: Web) -> None:
    flow = Flow(web.container, web.city)
    case = drive(flow, CaseState.PENDING_DISPATCH, web.clock.now)
    browser = web.sign_in("dispatcher")
    web.api.act(case.number, "dispatch", "dispatcher", department_id=web.city.departments["cgw"])
    gone = browser.get(f"/cases/{case.number}/form/dispatch", headers={"HX-Request": "true"})
    assert gone.status_code == 409 and "待签收" in gone.text


def test_feedback_with_photos_through_the_form(web: Web) -> None:
    flow = Flow(web.container, web.city)
    case = drive(flow, CaseState.HANDLING, web.clock.now)
    browser = web.sign_in("handler_cgw")
    page = browser.get(f"/cases/{case.number}?act=feedback").text
    assert 'type="file"' in page
    response = browser.client.post(
        f"/cases/{case.number}/act/feedback",
        data={"_csrf": browser.csrf(), "version": version_in(page), "comment": "已清理"},
        files=[("photos", ("after.jpg", photo(), "image/jpeg"))],
    )
    assert response.status_code == 303, response.text
    stored = flow.get(case.id)
    assert stored.state is CaseState.HANDLED
    html = browser.get(f"/cases/{case.number}").text
    assert "处置后" in html


def test_someone_elses_change_is_announced_on_the_page(web: Web) -> None:
    flow = Flow(web.container, web.city)
    case = drive(flow, CaseState.HANDLING, web.clock.now)
    browser = web.sign_in("handler_cgw")
    assert browser.get(f"/cases/{case.number}/fresh?version={case.version}").text == ""
    web.api.act(case.number, "remind", "dispatcher")
    banner = browser.get(f"/cases/{case.number}/fresh?version={case.version}").text
    assert "刚刚" in banner or "just" in banner


def test_unknown_or_hidden_cases_are_not_found_pages(web: Web) -> None:
    flow = Flow(web.container, web.city)
    browser = web.sign_in("handler_water")
    missing = browser.get("/cases/2099010100001")
    assert missing.status_code == 404 and "<html" in missing.text
    case = drive(flow, CaseState.HANDLING, web.clock.now)  # held by 城管委, not 水务
    assert browser.get(f"/cases/{case.number}").status_code == 404


def test_forms_are_refused_without_the_session_token(web: Web) -> None:
    flow = Flow(web.container, web.city)
    case = drive(flow, CaseState.HANDLING, web.clock.now)
    browser = web.sign_in("handler_cgw")
    response = browser.client.post(
        f"/cases/{case.number}/act/request_return", data={"version": case.version, "reason": "x"}
    )
    assert response.status_code == 403
    assert flow.get(case.id).state is CaseState.HANDLING


def test_the_clock_panel_says_overdue_in_words_as_the_queue_does(web: Web) -> None:
    flow = Flow(web.container, web.city)
    case = drive(flow, CaseState.PENDING_DISPATCH, web.clock.now - timedelta(days=3))
    html = web.sign_in("dispatcher").get(f"/cases/{case.number}").text
    left = re.search(r"<dt>剩余</dt><dd class=\"overdue\">(.*?)</dd>", html)
    assert left is not None, "no overdue time left in the clock panel"
    assert "已超时" in left.group(1) and "−" not in left.group(1)


def test_the_way_back_from_a_case_is_the_role_s_own_start_page(web: Web) -> None:
    flow = Flow(web.container, web.city)
    case = drive(flow, CaseState.CHECKING, web.clock.now)

    def back(user: str) -> tuple[str, str]:
        html = web.sign_in(user).get(f"/cases/{case.number}").text
        found = re.search(r'<a class="back" href="([^"]+)">← ([^<]+)</a>', html)
        assert found, user
        return found.group(1), found.group(2)

    assert back("inspector1") == ("/work", "我的任务")  # the inspector's word, as in its menu
    assert back("operator") == ("/work", "我的待办")
    assert back("leader") == ("/evaluation", "综合评价")  # a leader has no queue


def test_a_working_day_limit_is_counted_in_working_hours_not_in_days(web: Web) -> None:
    flow = Flow(web.container, web.city)
    case = drive(flow, CaseState.HANDLING, web.clock.now)
    html = web.sign_in("handler_cgw").get(f"/cases/{case.number}").text
    allowed = re.search(r"<dt>限时</dt><dd>([^<]*)</dd>", html)
    assert allowed is not None and "工作时" in allowed.group(1) and "天" not in allowed.group(1)


def test_a_citizen_reads_the_timeline_by_role_and_department(web: Web) -> None:
    flow = Flow(web.container, web.city)
    other = flow.report(web.clock.now, by="inspector1").case
    mine = flow.report(web.clock.now, by="citizen", source=Source.PUBLIC, reporter_name="刘先生")
    flow.act(svc.accept_case, mine.case, "operator", web.clock.now)
    html = web.sign_in("citizen").get(f"/cases/{mine.case.number}").text
    assert "<td>受理员</td>" in html  # the operator, by role
    assert "<td>operator<br>" not in html
    assert "<td>citizen<br>" in html  # the citizen themself, by name
    staff = web.sign_in("operator").get(f"/cases/{mine.case.number}").text
    assert "<td>operator<br>" in staff
    # someone else's report stays out of the citizen's reach
    assert web.sign_in("citizen").get(f"/cases/{other.number}").status_code == 404
