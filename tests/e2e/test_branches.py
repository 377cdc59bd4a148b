"""The loop's branches through the pages: return, extension, suspension, rework, voiding, a
stale form, and the English switch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cityloop.domain.case import Case, CaseState
from tests.e2e.conftest import Server
from tests.support.flow import Flow
from tests.support.states import drive


def now() -> datetime:
    return datetime.now(UTC)


def case_in(server: Server, state: CaseState) -> Case:
    return drive(Flow(server.container, server.city), state, now() - timedelta(minutes=5))


def test_return_requested_by_the_department_and_approved(server: Server, people: Any) -> None:
    case = case_in(server, CaseState.HANDLING)
    handler = people("handler_cgw")
    handler.sign_in()
    handler.open_case(case.number)
    handler.act("request_return", reason="该路段属于园林部门养护")
    assert server.case(case.number).state is CaseState.RETURN_REQUESTED
    dispatcher = people("dispatcher")
    dispatcher.sign_in()
    dispatcher.open("/work?state=return_requested", "returns")
    dispatcher.page.click(f"tr[data-number='{case.number}'] a")
    dispatcher.page.wait_for_load_state("networkidle")
    dispatcher.act("approve_return")
    back = server.case(case.number)
    assert back.state is CaseState.PENDING_DISPATCH and back.return_count == 1


def test_extension_requested_and_approved(server: Server, people: Any) -> None:
    case = case_in(server, CaseState.HANDLING)
    before = server.case(case.number).disposal_deadline
    handler = people("handler_cgw")
    handler.sign_in()
    handler.open_case(case.number)
    handler.act("request_extension", reason="需要协调管线单位")
    dispatcher = people("dispatcher")
    dispatcher.sign_in()
    dispatcher.open_case(case.number)
    dispatcher.act("approve_extension")
    after = server.case(case.number)
    assert after.state is CaseState.HANDLING and after.extension_count == 1
    assert before is not None and after.disposal_deadline is not None
    assert after.disposal_deadline > before


def test_suspension_until_a_date_and_approved(server: Server, people: Any) -> None:
    case = case_in(server, CaseState.HANDLING)
    until = (now() + timedelta(days=30)).astimezone().date().isoformat()
    handler = people("handler_cgw")
    handler.sign_in()
    handler.open_case(case.number)
    handler.act("request_suspension", reason="资金未到位", until=until)
    assert server.case(case.number).state is CaseState.SUSPENSION_REQUESTED
    dispatcher = people("dispatcher")
    dispatcher.sign_in()
    dispatcher.open_case(case.number)
    dispatcher.act("approve_suspension")
    suspended = server.case(case.number)
    assert suspended.state is CaseState.SUSPENDED and suspended.suspend_until is not None
    assert "已暂停" in dispatcher.page.content() or "挂账" in dispatcher.page.content()


def test_rework_after_a_failed_check(server: Server, people: Any) -> None:
    case = case_in(server, CaseState.CHECK_FAILED)
    dispatcher = people("dispatcher")
    dispatcher.sign_in()
    dispatcher.open("/work?state=check_failed", "check-failed")
    dispatcher.page.click(f"tr[data-number='{case.number}'] a")
    dispatcher.page.wait_for_load_state("networkidle")
    dispatcher.act("rework", reason="现场仍有垃圾，请返工")
    again = server.case(case.number)
    assert again.state is CaseState.DISPATCHED and again.rework_count == 1  # to be signed again
    handler = people("handler_cgw")
    handler.sign_in()
    handler.open("/work?reworked=1", "rework-queue")
    assert handler.page.locator(f"tr[data-number='{case.number}']").count() == 1


def test_void_requested_and_approved_by_the_shift_lead(server: Server, people: Any) -> None:
    case = case_in(server, CaseState.PENDING_FILING)
    operator = people("operator")
    operator.sign_in()
    operator.open_case(case.number)
    operator.act("request_void", reason="重复登记")
    assert server.case(case.number).state is CaseState.VOID_REQUESTED
    lead = people("shift_lead")
    lead.sign_in()
    lead.open("/work?state=void_requested", "void-requests")
    lead.page.click(f"tr[data-number='{case.number}'] a")
    lead.page.wait_for_load_state("networkidle")
    lead.act("approve_void")
    assert server.case(case.number).state is CaseState.VOIDED


def test_a_stale_form_keeps_the_text_and_submits_after_reload(server: Server, people: Any) -> None:
    case = case_in(server, CaseState.HANDLING)
    first = people("handler_cgw")
    first.sign_in()
    first.open_case(case.number)
    first.page.click(".action-box a[data-action='request_extension']")
    first.page.wait_for_selector("#f-reason")
    first.page.fill("#f-reason", "等待燃气公司配合施工")
    first.shot("typing")
    # Meanwhile the dispatcher reminds the department (a new version of the case).
    dispatcher = people("dispatcher")
    dispatcher.sign_in()
    dispatcher.open_case(case.number)
    dispatcher.act("remind", comment="请加快处置")
    first.page.click("#action-form button[type=submit]")
    first.page.wait_for_load_state("networkidle")
    first.shot("stale")
    assert "其他人已处理了此案件" in first.page.content()
    assert first.page.input_value("#f-reason") == "等待燃气公司配合施工"
    assert server.case(case.number).state is CaseState.HANDLING
    first.page.click("#action-form button[type=submit]")
    first.page.wait_for_load_state("networkidle")
    first.shot("resubmitted")
    assert server.case(case.number).state is CaseState.EXTENSION_REQUESTED


def test_the_english_switch_translates_every_page(server: Server, people: Any) -> None:
    case = case_in(server, CaseState.PENDING_DISPATCH)
    dispatcher = people("dispatcher")
    dispatcher.sign_in()
    assert "我的待办" in dispatcher.page.content()
    dispatcher.page.click("header a[lang=en]")
    dispatcher.page.wait_for_load_state("networkidle")
    dispatcher.shot("english-queue")
    html = dispatcher.page.content()
    assert "My work" in html and "Awaiting dispatch" in html and "我的待办" not in html
    dispatcher.open_case(case.number)
    page = dispatcher.page.content()
    assert "What I can do" in page and "Timeline" in page and "时间线" not in page
    dispatcher.open("/search", "english-search")
    assert "Export to Excel" in dispatcher.page.content()
    dispatcher.page.click("header a[lang=zh-CN]")
    dispatcher.page.wait_for_load_state("networkidle")
    assert "我的待办" in dispatcher.page.content()


def test_pages_fit_a_full_hd_screen_too(server: Server, people: Any) -> None:
    case = case_in(server, CaseState.PENDING_DISPATCH)
    dispatcher = people("dispatcher", width=1920, height=1080)
    dispatcher.sign_in()
    dispatcher.open_case(case.number)
    width = dispatcher.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1920
    small = people("operator", width=1366, height=768)
    small.sign_in()
    small.open("/report", "report-1366")
    assert small.page.evaluate("document.documentElement.scrollWidth") <= 1366
