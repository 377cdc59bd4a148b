"""The queue refreshes itself when a case arrives (server-sent events), keeps the selection,
and is usable from the keyboard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cityloop.domain.case import CaseState
from cityloop.services import cases as svc
from tests.e2e.conftest import Server
from tests.support.flow import Flow
from tests.support.states import drive


def test_a_new_case_appears_without_reload_and_keys_open_it(server: Server, people: Any) -> None:
    flow = Flow(server.container, server.city)
    first = drive(flow, CaseState.PENDING_DISPATCH, datetime.now(UTC) - timedelta(minutes=10))
    dispatcher = people("dispatcher")
    dispatcher.sign_in()
    page = dispatcher.page
    assert page.locator("#queue-rows tr[data-number]").count() == 1
    page.keyboard.press("j")  # select the first row
    assert page.locator(f"tr.selected[data-number='{first.number}']").count() == 1
    page.evaluate("window.__marker = 'still the same page'")
    # The shift lead files another case: it enters the dispatcher's queue.
    second = drive(flow, CaseState.PENDING_FILING, datetime.now(UTC) - timedelta(minutes=5))
    standard = flow.standard("06010")
    flow.act(svc.file_case, second, "shift_lead", datetime.now(UTC), standard_id=standard.id)
    page.wait_for_selector(f"#queue-rows tr[data-number='{second.number}']", timeout=10_000)
    dispatcher.shot("live-refresh")
    assert page.evaluate("window.__marker") == "still the same page"  # no reload
    assert page.locator(f"tr.selected[data-number='{first.number}']").count() == 1
    assert page.locator("#nav-count").inner_text().strip() == "2"
    # Keyboard: move down to the new case and open it with Enter.
    row = page.locator("#queue-rows tr[data-number]").nth(1)
    target = row.get_attribute("data-number")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/cases/{target}")
    page.wait_for_load_state("networkidle")
    dispatcher.shot("opened-by-keyboard")
    assert target in page.url
