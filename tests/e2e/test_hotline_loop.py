"""A hotline call walks the whole loop through the pages, as the people would click it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cityloop.domain.case import CaseState
from tests.e2e.conftest import Server
from tests.support.photos import photo


def case_number(url: str) -> str:
    match = re.search(r"/cases/(\d+)", url)
    assert match, url
    return match.group(1)


def standard_id(server: Server, code: str) -> int:
    with server.container.uow(readonly=True) as uow:
        category = uow.catalog.category_by_code(*_matter(code))
        assert category is not None
        return uow.catalog.standards_for(category.id)[0].id


def _matter(code: str) -> tuple[Any, Any, str]:
    from cityloop.domain.codes import ClassKind, Edition

    return Edition.CURRENT, ClassKind.MATTER, code


def open_from_queue(person: Any, number: str) -> None:
    person.open("/work", "queue")
    person.page.click(f"tr[data-number='{number}'] a")
    person.page.wait_for_load_state("networkidle")
    person.shot(f"case-{number}")


def test_a_hotline_report_through_the_whole_loop(
    server: Server, people: Any, tmp_path: Path
) -> None:
    # 1. The operator takes the call and registers it.
    operator = people("operator")
    operator.sign_in()
    operator.page.click("nav.side a[href='/report']")
    operator.page.wait_for_load_state("networkidle")
    operator.page.fill("#r-class", "bllj")
    operator.page.wait_for_selector(".suggest li[data-value='06010']")
    operator.shot("class-typeahead")
    operator.page.keyboard.press("ArrowDown")
    operator.page.keyboard.press("Enter")
    operator.page.fill("#r-description", "小区门口垃圾堆了三天，气味很大")
    operator.page.fill("#r-name", "王先生")
    operator.page.fill("#r-phone", "13812345678")
    box = operator.page.locator("#map").bounding_box()
    assert box is not None
    operator.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    operator.page.wait_for_function("document.getElementById('r-lat').value !== ''")
    operator.page.wait_for_load_state("networkidle")
    operator.shot("report-filled")
    operator.page.click("#report-form button[type=submit]:not([name])")
    operator.page.wait_for_load_state("networkidle")
    operator.shot("registered")
    number = case_number(operator.page.url)
    case = server.case(number)
    assert case.state is CaseState.REPORTED and case.grid_code == "110101001001001"
    assert case.reporter_phone == "13812345678"

    # 2. She sends it to the grid's inspector for verification.
    operator.act("request_verify")
    assert server.case(number).state is CaseState.VERIFYING

    # 3. The inspector confirms it on site (the field app comes later: through the API).
    verified = server.api.act(number, "complete_verify", "inspector1", result="confirmed")
    assert verified.status_code == 200, verified.text

    # 4. The operator accepts the verified report from her queue.
    open_from_queue(operator, number)
    operator.act("accept")
    assert server.case(number).state is CaseState.PENDING_FILING

    # 5. The shift lead files it against the filing standard of its class.
    lead = people("shift_lead")
    lead.sign_in()
    open_from_queue(lead, number)
    lead.act("file", standard_id=standard_id(server, "06010"))
    assert server.case(number).state is CaseState.PENDING_DISPATCH

    # 6. The dispatcher sends it to the city management committee.
    dispatcher = people("dispatcher")
    dispatcher.sign_in()
    open_from_queue(dispatcher, number)
    dispatcher.act("dispatch", department_id=server.city.departments["cgw"], comment="请尽快清理")
    assert server.case(number).state is CaseState.DISPATCHED

    # 7. The department signs for it, cleans up and reports back with a photo.
    handler = people("handler_cgw")
    handler.sign_in()
    open_from_queue(handler, number)
    handler.act("sign")
    evidence = tmp_path / "after.jpg"
    evidence.write_bytes(photo())
    handler.act("feedback", comment="已清理完毕", photos=str(evidence))
    assert server.case(number).state is CaseState.HANDLED

    # 8. The operator asks the inspector to check; the inspector passes it.
    open_from_queue(operator, number)
    operator.act("request_check")
    checked = server.api.act(number, "pass_check", "inspector1")
    assert checked.status_code == 200, checked.text

    # 9. The shift lead closes it.
    open_from_queue(lead, number)
    lead.act("close")
    closed = server.case(number)
    assert closed.state is CaseState.CLOSED and closed.close_type is not None

    # 10. The operator calls the citizen back (回访).
    operator.open_case(number)
    operator.act("callback", satisfaction=5, comment="市民表示满意")
    assert server.case(number).satisfaction == 5
    assert "/work?done=" in operator.page.url  # the case has left her queue
    operator.open_case(number)
    timeline = operator.page.locator("table.timeline tbody tr")
    assert timeline.count() >= 12
    assert operator.page.locator("img[data-full]").count() >= 1
