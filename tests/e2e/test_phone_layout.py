"""On a phone's width (390 CSS pixels) the pages fit the screen: the navigation is a row under
the top bar, the page itself never scrolls sideways, and a case can still be opened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cityloop.domain.case import CaseState
from tests.e2e.conftest import Server
from tests.support.flow import Flow
from tests.support.states import drive

PHONE = {"width": 390, "height": 844}


def _fits(page: Any) -> None:
    """Nothing but a wide table (which scrolls sideways in its panel) or a map runs past the
    right edge of the screen."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"
    beyond = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
          .filter(e => !e.closest('table, .leaflet-container'))
          .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
          .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''))"""
    )
    assert beyond == [], beyond


def _a_case_waiting_and_the_dispatcher_on_a_phone(server: Server, people: Any) -> Any:
    flow = Flow(server.container, server.city)
    case = drive(flow, CaseState.PENDING_DISPATCH, datetime.now(UTC) - timedelta(minutes=10))
    dispatcher = people("dispatcher", **PHONE)
    dispatcher.sign_in()
    return case, dispatcher


def test_pages_fit_a_phone_and_the_navigation_sits_above_the_page(
    server: Server, people: Any
) -> None:
    case, dispatcher = _a_case_waiting_and_the_dispatcher_on_a_phone(server, people)
    page = dispatcher.page
    nav = page.locator("nav.side").bounding_box()
    main = page.locator("main").bounding_box()
    assert nav is not None and main is not None
    assert nav["y"] + nav["height"] <= main["y"] + 1  # a row above, not a column beside
    assert main["width"] >= PHONE["width"] - 2  # the page has the whole width
    _fits(page)
    for path, name in [("/search", "search"), (f"/cases/{case.number}", "case")]:
        dispatcher.open(path, name)
        _fits(page)
    # The queue's row still opens the case from the phone.
    dispatcher.open("/work", "queue")
    page.locator(f"#queue-rows tr[data-number='{case.number}'] a").first.click()
    page.wait_for_url(f"**/cases/{case.number}")
    assert page.locator(".case-head .number").inner_text() == case.number


def test_the_desk_layout_keeps_the_navigation_beside_the_page(server: Server, people: Any) -> None:
    dispatcher = people("dispatcher")
    dispatcher.sign_in()
    nav = dispatcher.page.locator("nav.side").bounding_box()
    main = dispatcher.page.locator("main").bounding_box()
    assert nav is not None and main is not None
    assert nav["x"] + nav["width"] <= main["x"] + 1
    assert abs(nav["y"] - main["y"]) <= 1


def test_the_leaders_and_the_administrators_pages_fit_a_phone(server: Server, people: Any) -> None:
    leader = people("leader", **PHONE)
    leader.sign_in()
    for path in ["/evaluation", "/evaluation/hotspots", "/evaluation/department"]:
        leader.open(path, path.strip("/").replace("/", "-"))
        _fits(leader.page)
    admin = people("admin", **PHONE)
    admin.sign_in()
    for path in ["/admin", "/admin/calendar", "/admin/users", "/admin/dispatch-rules"]:
        admin.open(path, path.strip("/").replace("/", "-"))
        _fits(admin.page)


def test_case_lists_read_as_cards_on_a_phone_and_as_tables_at_the_desk(
    server: Server, people: Any
) -> None:
    case, phone = _a_case_waiting_and_the_dispatcher_on_a_phone(server, people)
    phone.open("/work", "queue-cards")
    page = phone.page
    assert page.locator("table.cases thead").is_hidden()
    assert page.locator(".hint.keys").is_hidden()  # no keyboard on a phone
    row = page.locator(f"#queue-rows tr[data-number='{case.number}']")

    def box(selector: str) -> Any:
        found = row.locator(selector).bounding_box()
        assert found is not None, selector
        return found

    card, number, state, left, place = (
        row.bounding_box(),
        box("td.c-number"),
        box("td.c-state"),
        box("td.c-left"),
        box("td.place"),
    )
    assert card is not None and card["width"] >= PHONE["width"] - 60 and card["height"] < 160
    # number, state and time left on the first line; the place below, across the card
    assert abs(number["y"] - state["y"]) < 12 and abs(number["y"] - left["y"]) < 12
    assert place["y"] >= number["y"] + number["height"] - 1 and place["width"] > 250
    _fits(page)
    desk = people("shift_lead")
    desk.sign_in()
    desk.open("/search", "search-table")
    assert desk.page.locator("table.cases thead").is_visible()
    assert (
        desk.page.locator("table.cases tbody tr").first.evaluate("e => getComputedStyle(e).display")
        == "table-row"
    )


def test_on_a_phone_the_case_page_puts_what_i_can_do_right_after_the_problem(
    server: Server, people: Any
) -> None:
    flow = Flow(server.container, server.city)
    case = drive(flow, CaseState.CHECKING, datetime.now(UTC) - timedelta(minutes=10))

    def tops(person: Any) -> dict[str, Any]:
        person.open(f"/cases/{case.number}", "case")
        found = {}
        for name in ("c-facts", "action-box", "c-clock", "c-photos", "c-map", "c-timeline"):
            found[name] = person.page.locator(f".case-layout .{name}").bounding_box()
            assert found[name] is not None, name
        return found

    phone = people("inspector1", **PHONE)
    phone.sign_in()
    boxes = tops(phone)
    order = sorted(boxes, key=lambda name: boxes[name]["y"])
    assert order == ["c-facts", "action-box", "c-clock", "c-photos", "c-map", "c-timeline"]
    assert phone.page.locator(".action-box [data-action=pass_check]").is_visible()
    _fits(phone.page)
    desk = people("inspector1")
    desk.sign_in()
    boxes = tops(desk)  # at the desk: the actions in the column beside the problem
    assert boxes["action-box"]["x"] > boxes["c-facts"]["x"] + boxes["c-facts"]["width"] - 1
    assert abs(boxes["action-box"]["y"] - boxes["c-facts"]["y"]) < 2
