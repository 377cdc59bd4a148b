"""A leader reads the evaluation of the hand-built November in a real browser: the charts are
drawn (a canvas inside every chart container), the hot-spot map shows the top grids, and a
number opens the cases behind it, down to the case page. Screenshots at 1366×768 and
1920×1080 go to test-artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

from tests.conftest import at
from tests.e2e.conftest import Server
from tests.support.evaluation_fixture import december, november

NOV = "period=2026-11"


def test_a_leader_reads_rankings_charts_and_the_cases_behind_a_number(
    server: Server, people: Any
) -> None:
    # The server's clock stands on 5 December, after the month and its December steps.
    server.api.clock.now = at("2026-12-05 12:00")
    server.container.clock = server.api.clock
    month = november(server.container, server.city)
    december(month)
    cgw = server.city.departments["cgw"]
    pages = [
        (f"/evaluation?{NOV}", "start", ["grades"]),
        (f"/evaluation/department?{NOV}", "departments", ["ranking"]),
        (f"/evaluation/department/{cgw}?{NOV}", "subject", ["trend"]),
        (
            f"/evaluation/centre?{NOV}",
            "centre",
            ["throughput", "sources", "stages", "satisfaction"],
        ),
        (f"/evaluation/hotspots?{NOV}", "hotspots", ["classes", "hours"]),
    ]
    for width, height in ((1366, 768), (1920, 1080)):
        leader = people("leader", width=width, height=height)
        leader.sign_in()
        page = leader.page
        for path, name, charts in pages:
            page.goto(server.url + path)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(400)  # the charts' short animation
            leader.shot(f"{name}-{width}")
            for chart in charts:
                box = page.locator(f'.chart[data-chart="{chart}"]')
                assert box.get_attribute("data-drawn") == "1", (name, chart)
                assert box.locator("canvas").count() >= 1, (name, chart)
                size = box.locator("canvas").first.bounding_box()
                assert size is not None and size["width"] > 200 and size["height"] > 150
        # The hot-spot map: one circle per top grid, over the grids' outlines.
        assert page.locator("#hot-map[data-drawn='1']").count() == 1
        assert page.locator("#hot-map path.leaflet-interactive").count() >= 5

    # A number opens its cases, and a case opens its page.
    page.goto(f"{server.url}/evaluation/department?{NOV}")
    page.click(f"tr[data-key='{cgw}'] a[data-indicator='overdue_open']")
    page.wait_for_load_state("networkidle")
    leader.shot("drill-overdue-open")
    assert "/drill/overdue_open" in page.url
    number = month.cases["C09"].number
    assert page.locator("table.ev-drill tr[data-number]").count() == 1
    page.click(f"a[href='/cases/{number}']")
    page.wait_for_load_state("networkidle")
    leader.shot("case-behind-the-number")
    assert page.url.endswith(f"/cases/{number}")
