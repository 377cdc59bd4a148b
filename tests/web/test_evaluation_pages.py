"""The evaluation pages on the hand-built November (tests/support/evaluation_fixture.py,
hand-computed values in the docstring of tests/integration/test_evaluation_fixture.py):
rankings and subject pages show the service's numbers, every number links to exactly the
cases behind it, the centre and hot spots, a district reader sees its district only, bad
addresses are refused inside the page, frozen months are read from storage, and English.

Pages are read at 5 December 2026 12:00 (the clock of the test), November given explicitly.
"""

from __future__ import annotations

import html as htmllib
import json
import re
from typing import Any

import pytest
from sqlalchemy import select, update

from cityloop.adapters.db.models import T
from cityloop.domain.evaluation import indicators as ind
from cityloop.domain.evaluation.periods import parse_period
from cityloop.domain.evaluation.subjects import SubjectKind
from cityloop.domain.org import RoleGrant
from cityloop.domain.roles import Role
from cityloop.domain.sla.stages import Stage
from cityloop.entrypoints.presentation import label
from cityloop.entrypoints.presentation import show_value as show
from cityloop.services import evaluation as ev
from cityloop.services import org
from cityloop.services.queries import evaluation as q
from tests.conftest import at
from tests.support.city import PASSWORD
from tests.support.evaluation_fixture import G1, G2, G3, G4, G5, Month, december, november
from tests.support.fonts import cjk_font
from tests.web.conftest import Browser, Web

NOV = "period=2026-11"
NOW = at("2026-12-05 12:00")


@pytest.fixture
def month(web: Web) -> Month:
    m = november(web.container, web.city)
    december(m)
    web.clock.now = NOW
    return m


def service_report(web: Web, kind: SubjectKind, user: str = "leader", **kw: Any) -> q.Report:
    ev.refresh_facts(web.container.uow(readonly=True), web.container.uow(), now=NOW)
    return q.report(web.container.uow(readonly=True), actor=web.city.actor(user), kind=kind,
                    period=parse_period("2026-11"), now=NOW, **kw)  # fmt: skip


def text(fragment: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def table_rows(page: str) -> dict[str, dict[str, str]]:
    """Each ranking row (by subject key): rank, score, grade and every indicator's text."""
    rows = {}
    for key, body in re.findall(r'<tr data-key="([^"]+)"[^>]*>(.*?)</tr>', page, re.S):
        cells = {"rank": text(re.search(r'class="num ev-rank">(.*?)</td>', body, re.S)[1])}
        cells["score"] = text(re.search(r"<td[^>]*data-score>(.*?)</td>", body, re.S)[1])
        cells["grade"] = text(re.search(r"<td[^>]*data-grade>(.*?)</td>", body, re.S)[1])
        for name, value in re.findall(r'data-indicator="([^"]+)"[^>]*>(.*?)</(?:a|span)>', body):
            cells[name] = text(value)
        rows[key] = cells
    return rows


def charts(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page,
                      re.S)  # fmt: skip
    assert found, "no chart data in the page"
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def numbers(page: str) -> list[str]:
    """The case numbers a drill-down lists, in order."""
    return re.findall(r'<tr data-number="([^"]*)">', page)


def ok(browser: Browser, path: str) -> str:
    response = browser.get(path)
    assert response.status_code == 200, response.text[:2000]
    return response.text


# -- rankings ---


def test_rankings_show_the_services_numbers_with_links_to_the_cases(web: Web, month: Month) -> None:
    cgw = str(web.city.departments["cgw"])
    browser = web.sign_in("leader")
    page = ok(browser, f"/evaluation/department?{NOV}")
    rows = table_rows(page)
    expected = service_report(web, SubjectKind.DEPARTMENT)
    assert set(rows) == {r.subject.key for r in expected.rows}
    for row in expected.rows:
        shown = rows[row.subject.key]
        assert shown["score"] == (str(row.score.value) if row.score.value is not None else "—")
        assert shown["grade"] == (row.score.grade or "—")
        assert shown["rank"] == (str(row.rank) if row.rank is not None else "—")
        for i in expected.indicators:
            assert shown[i.id] == show(row.values[i.id], i.unit), (row.subject.key, i.id)
    # The hand-computed line of 城管委 (level 1, with its unit): 86.79 B, third.
    assert (rows[cgw]["score"], rows[cgw]["grade"], rows[cgw]["rank"]) == ("86.79", "B", "3")
    assert rows[cgw]["on_time_rate"] == "78.57%" and rows[cgw]["close_due"] == "12"
    assert rows[cgw]["rework_rate"] == "14.29%" and rows[cgw]["due"] == "14"
    # Every number links to its drill-down; the chart ranks the scored subjects best first.
    assert f'href="/evaluation/department/{cgw}/drill/on_time_rate?{NOV}"' in page
    assert f'href="/evaluation/department/{cgw}/drill/overdue_open?{NOV}"' in page
    chart = charts(page)["ranking"]
    scored = [r for r in expected.rows if r.score.value is not None]
    assert chart["values"] == [float(r.score.value) for r in scored]  # type: ignore[arg-type]
    assert chart["colours"][0] == scored[0].score.colour == "#2e7d32"
    # Exports of this report, in the page's language, through the API with the session.
    link = f"/api/v1/evaluation/exports/department.xlsx?{NOV}&amp;lang=zh_CN"
    assert link in page
    xlsx = browser.get(htmllib.unescape(link))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert f"/api/v1/evaluation/exports/department.pdf?{NOV}&amp;lang=zh_CN" in page


def test_ranking_by_level_region_and_any_indicator(web: Web, month: Month) -> None:
    browser = web.sign_in("leader")
    unit = str(web.city.departments["unit"])
    level2 = table_rows(ok(browser, f"/evaluation/department?{NOV}&level=2"))
    assert list(level2) == [unit] and level2[unit]["rank"] == "1"
    assert level2[unit]["score"] == "70.00" and level2[unit]["grade"] == "C"
    street = table_rows(ok(browser, f"/evaluation/grid?{NOV}&parent=110101001"))
    assert set(street) == {G1, G2, G3}
    assert [(k, r["score"]) for k, r in street.items()] == [
        (G1, "82.00"), (G2, "81.67"), (G3, "71.33"),
    ]  # fmt: skip
    by_filed = ok(browser, f"/evaluation/grid?{NOV}&sort=filed")
    ranked = [(k, r["rank"]) for k, r in table_rows(by_filed).items()][:3]
    assert ranked == [(G1, "1"), (G4, "1"), (G2, "3")]
    assert charts(by_filed)["ranking"]["values"][:3] == [6, 6, 4]


def test_the_start_page_sums_up_every_kind(web: Web, month: Month) -> None:
    page = ok(web.sign_in("leader"), f"/evaluation?{NOV}")
    chart = charts(page)["grades"]
    by_grade = {s["name"]: s["values"] for s in chart["series"]}
    kinds = [k for k in SubjectKind if k is not SubjectKind.CENTRE]
    for i, kind in enumerate(kinds):
        rows = service_report(web, kind).rows
        for grade in "ABCDE":
            assert by_grade[grade][i] == sum(1 for r in rows if r.score.grade == grade), kind
    # Departments: dhm and xc 100 A, cgw 86.79 B, water and unit 70 C.
    dept = kinds.index(SubjectKind.DEPARTMENT)
    assert [by_grade[g][dept] for g in "ABCDE"] == [2, 1, 2, 0, 0]
    assert "79.41" in page  # the centre's score: the whole city
    assert 'href="/api/v1/evaluation/exports/all.pdf?period=2026-11&amp;lang=zh_CN"' in page


# -- one subject ---


def test_subject_page_explains_the_score_with_trend_and_rank(web: Web, month: Month) -> None:
    cgw = str(web.city.departments["cgw"])
    page = ok(web.sign_in("leader", lang="en"), f"/evaluation/department/{cgw}?{NOV}")
    assert re.search(r"data-score>.*?86\.79", page, re.S)
    assert re.search(r"data-rank>\s*3 of 5\s*<", page)
    parts = re.findall(r'<tr class="[^"]*" data-component="([^"]+)">(.*?)</tr>', page, re.S)
    assert [name for name, _ in parts] == ["assigned", "close_rate", "on_time_rate", "rework_rate"]
    cells = {name: [text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]
             for name, body in parts}  # fmt: skip
    # (value, points, weight, adds): 13 assigned → ≤ 50 → 100; 11/12; 11/14; 1 − 2/14.
    assert cells["assigned"][1] == "13" and cells["assigned"][3:] == ["100.00", "10%", "10.00"]
    assert cells["close_rate"][1] == "91.67%" and cells["close_rate"][3:] == [
        "91.67",
        "30%",
        "27.50",
    ]
    assert cells["on_time_rate"][3:] == ["78.57", "30%", "23.57"]
    assert cells["rework_rate"][1] == "14.29%" and cells["rework_rate"][3:] == [
        "85.71",
        "30%",
        "25.71",
    ]
    assert "≤ 50 → 100" in cells["assigned"][2] and 'class="ev-step hit">≤ 50 → 100' in page
    assert re.search(r"= <strong>86\.79</strong>", page)
    trend = charts(page)["trend"]
    assert len(trend["periods"]) == 12 and trend["periods"][-2:] == ["2026-10", "2026-11"]
    assert trend["scores"][-2:] == [None, 86.79] and trend["ranks"][-1] == 3
    assert f'href="/evaluation/department/{cgw}/drill/close_rate?{NOV}"' in page
    # Each definition names the standard it follows, never a file the user does not have.
    assert "<td>GB/T 30428.4, department evaluation</td>" in page
    assert "standards.md" not in page
    # December: 100 (every round of December in time).
    dec = charts(ok(web.sign_in("leader", lang="en"),
                    f"/evaluation/department/{cgw}?period=2026-12"))["trend"]  # fmt: skip
    assert dec["scores"][-2:] == [86.79, 100.0]


# -- the cases behind a number ---


def test_drill_down_lists_exactly_the_cases_behind_a_number(web: Web, month: Month) -> None:
    cgw = str(web.city.departments["cgw"])
    c = {label: case.number for label, case in month.cases.items()}
    browser = web.sign_in("leader")
    overdue = ok(browser, f"/evaluation/department/{cgw}/drill/overdue_open?{NOV}")
    assert numbers(overdue) == [c["C09"]]
    assert f'<a href="/cases/{c["C09"]}">{c["C09"]}</a>' in overdue
    # 应处置数 of 城管委 with its unit: 11 own rounds + C06's three rounds.
    due = ok(browser, f"/evaluation/department/{cgw}/drill/on_time_rate?{NOV}&part=denominator")
    listed = numbers(due)
    assert 'data-total="14"' in due and len(listed) == 14
    own = ["C01", "C03", "C04", "C05", "C07", "C09", "C10", "C19", "C20", "C26", "C27"]
    assert sorted(listed) == sorted([c[x] for x in own] + [c["C06"]] * 3)
    assert re.search(r'data-part="numerator">.*?<b class="num">11</b>', due, re.S)
    assert re.search(r'data-part="denominator">.*?<b class="num">14</b>', due, re.S)
    on_time = numbers(ok(browser, f"/evaluation/department/{cgw}/drill/on_time_rate?{NOV}"))
    assert len(on_time) == 11 and c["C09"] not in on_time and c["C20"] not in on_time
    filed = numbers(ok(browser, f"/evaluation/grid/{G1}/drill/filed?{NOV}"))
    assert sorted(filed) == sorted(c[x] for x in ("C01", "C04", "C07", "C10", "C19", "C27"))
    # The number on the ranking page is the length of the list.
    grid_row = table_rows(ok(browser, f"/evaluation/grid?{NOV}"))[G1]
    assert grid_row["filed"] == str(len(filed)) == "6"
    # A page number that is not one is refused in the page.
    assert browser.get(f"/evaluation/grid/{G1}/drill/filed?{NOV}&page=x").status_code == 422


# -- the centre and hot spots ---


def test_centre_and_hot_spots(web: Web, month: Month) -> None:
    browser = web.sign_in("leader")
    page = ok(browser, f"/evaluation/centre?{NOV}")
    totals = dict(re.findall(r'data-step="(\w+)">(\d+)<', page))
    assert (totals["reported"], totals["filed"], totals["closed"]) == ("26", "21", "17")
    assert re.search(r'data-stage="accept"><td>受理</td><td class="num">21</td>', page)
    sat = [int(n) for n in re.findall(r'data-level="\d"><td>[^<]+</td><td class="num">(\d+)', page)]
    assert sat == [1, 1, 1, 1, 0]
    drawn = charts(page)
    assert set(drawn) == {"throughput", "sources", "stages", "satisfaction"}
    steps = {s["name"]: sum(s["values"]) for s in drawn["throughput"]["series"]}
    assert steps["上报"] == 26 and len(drawn["throughput"]["x"]) == 30
    assert drawn["stages"]["series"][1]["values"][0] == 0.5  # p90 of acceptance: 30 min
    assert [i["value"] for i in drawn["satisfaction"]["items"]] == [1, 1, 1, 1, 0]

    spots = ok(browser, f"/evaluation/hotspots?{NOV}")
    hot_row = r'<tr data-grid="(\d+)"><td class="num">\d+</td>.*?drill/filed\?[^"]*">(\d+)<'
    grids = re.findall(hot_row, spots, re.S)
    assert [n for _, n in grids][:3] == ["6", "6", "4"]
    assert {g for g, _ in grids} == {G1, G2, G3, G4, G5}
    hours = charts(spots)["hours"]
    assert [9, 1, 2] in hours["cells"] and hours["days"][0] == "星期一"
    first = month.cases["C01"].number
    assert re.search(rf'<td class="num">6</td>\s*<td class="wrap">.*?{first}', spots, re.S)
    points = json.loads(re.search(r'id="hot-map-data">(.*?)</script>', spots, re.S)[1])
    assert {p["code"] for p in points} == {G1, G2, G3, G4, G5}
    assert all(isinstance(p["lon"], float) and isinstance(p["lat"], float) for p in points)


# -- who sees what ---


def test_a_district_reader_sees_its_district_only(web: Web, month: Month) -> None:
    org.create_user(
        web.container.uow(), actor=web.city.actor("admin"), now=NOW, username="leader_dc",
        display_name="东城区领导", password=PASSWORD,
        grants=[RoleGrant(Role.LEADER, district_code="110101")],
    )  # fmt: skip
    browser = web.sign_in("leader_dc")
    grids = table_rows(ok(browser, f"/evaluation/grid?{NOV}"))
    assert set(grids) == {G1, G2, G3, G4}  # not 西城's G5
    districts = table_rows(ok(browser, f"/evaluation/district?{NOV}"))
    assert list(districts) == ["110101"] and districts["110101"]["score"] == "78.13"
    start = ok(browser, f"/evaluation?{NOV}")
    assert 'id="ev-district"' not in start  # no scope to choose
    assert "78.13" in start and "79.41" not in start  # 东城's centre, not the city's
    other = browser.get(f"/evaluation/grid?{NOV}&district=110102")
    assert other.status_code == 403
    assert "110101" in other.text and G5 not in other.text and 'class="error"' in other.text
    assert browser.get(f"/evaluation/grid/{G5}?{NOV}").status_code == 404
    assert browser.get(f"/evaluation/centre?{NOV}&district=110102").status_code == 403
    # A city-wide leader may choose 西城.
    xc = table_rows(ok(web.sign_in("leader"), f"/evaluation/grid?{NOV}&district=110102"))
    assert set(xc) == {G5}
    for user in ("handler_cgw", "inspector1", "citizen"):
        assert web.sign_in(user).get(f"/evaluation?{NOV}").status_code == 403, user


def test_english_labels(web: Web, month: Month) -> None:
    en = ok(web.sign_in("leader", lang="en"), f"/evaluation/department?{NOV}")
    for word in ("On-time disposal rate", "Rework rate", "Departments", "Score", "Grade"):
        assert f">{word}<" in en, word
    assert ">按期处置率<" not in en and ">综合指标值<" not in en  # (the formulas keep the terms)
    zh = ok(web.sign_in("admin"), f"/evaluation/department?{NOV}")  # (signed in in Chinese)
    assert ">按期处置率<" in zh and ">综合指标值<" in zh and ">专业部门<" in zh
    assert "On-time disposal rate" not in zh
    centre = ok(web.sign_in("leader"), f"/evaluation/centre?{NOV}")
    assert ">Throughput per day<" in centre and "Very satisfied" in centre
    assert f'data-stage="accept"><td>{label(Stage.ACCEPT, "en")}</td>' in centre


# -- bad addresses ---


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/evaluation/department?period=2026-13", 422, "无法识别周期 2026-13"),
        ("/evaluation/planet?period=2026-11", 422, "planet"),
        ("/evaluation/department?period=2027-01", 422, "2027-01"),
        (f"/evaluation/department?{NOV}&level=x", 422, "x"),
        (f"/evaluation/department?{NOV}&sort=nonsense", 404, "nonsense"),
        (f"/evaluation/grid?{NOV}&parent=abc", 422, "abc"),
        (f"/evaluation/department/999999?{NOV}", 404, "999999"),
        (f"/evaluation/grid/{G1}/drill/nonsense?{NOV}", 404, "nonsense"),
        ("/evaluation/hotspots?pk=custom&from=2026-11-01", 422, ""),
        ("/evaluation?pk=fortnight&fortnight=1", 422, "fortnight"),
        ("/evaluation/schemes/99", 404, "99"),
        (f"/evaluation/street?{NOV}&district=999999", 422, "999999"),
        (f"/evaluation/street?{NOV}&district=12", 422, "12 不是区级行政区划代码"),
    ],
)
def test_bad_addresses_are_refused_in_the_page(
    web: Web, month: Month, path: str, status: int, message: str
) -> None:
    response = web.sign_in("leader").get(path)
    assert response.status_code == status, response.text[:500]
    page = response.text
    alert = re.search(r'class="error" role="alert">(.*?)</div>', page, re.S)
    assert alert and message in text(alert.group(1)), page[:3000]
    assert 'class="ev-tabs"' in page  # the section's frame is still there


def test_other_periods(web: Web, month: Month) -> None:
    browser = web.sign_in("leader", lang="en")
    custom = ok(browser, "/evaluation/grid?pk=custom&from=2026-11-01&to=2026-11-15&month=x")
    assert "2026-11-01 – 2026-11-15" in custom
    rows = table_rows(custom)
    expected = q.report(web.container.uow(readonly=True), actor=web.city.actor("leader"),
                        kind=SubjectKind.GRID, period=parse_period("2026-11-01..2026-11-15"),
                        now=NOW)  # fmt: skip
    for row in expected.rows:
        assert rows[row.subject.key]["filed"] == show(row.values["filed"], ind.Unit.COUNT)
    assert "Q4 2026" in ok(browser, "/evaluation/centre?period=2026-Q4")
    assert "Year 2026" in ok(browser, "/evaluation/hotspots?pk=year&year=2026")
    previous = ok(browser, f"/evaluation/grid?{NOV}")
    assert 'href="/evaluation/grid?period=2026-10" rel="prev"' in previous
    assert 'href="/evaluation/grid?period=2026-12" rel="next"' in previous


# -- frozen months and schemes ---


def test_an_administrator_freezes_a_month_and_its_pages_say_so(web: Web, month: Month) -> None:
    leader = web.sign_in("leader")
    before = ok(leader, f"/evaluation/district?{NOV}")
    assert 'data-frozen="0"' in before
    frozen_page = ok(leader, "/evaluation/frozen")
    assert 'action="/evaluation/freeze"' not in frozen_page  # only administrators freeze
    refused = leader.post("/evaluation/freeze", {"month": "2026-11"})
    assert refused.status_code == 403 and 'class="error"' in refused.text

    admin = web.sign_in("admin")
    form = ok(admin, "/evaluation/frozen")
    assert 'action="/evaluation/freeze"' in form and 'value="2026-11"' in form
    assert admin.client.post("/evaluation/freeze", data={"month": "2026-11"}).status_code == 403
    early = admin.post("/evaluation/freeze", {"month": "2026-12"})
    assert early.status_code == 409 and "2026-12" in early.text
    done = admin.post("/evaluation/freeze", {"month": "2026-11"})
    assert done.status_code == 303
    assert done.headers["location"] == "/evaluation/frozen?done=2026-11&count=3"
    listed = ok(admin, done.headers["location"])
    assert re.findall(r'data-period="2026-11" data-scope="(\w+)"', listed) == [
        "city", "110101", "110102",
    ]  # fmt: skip
    again = admin.post("/evaluation/freeze", {"month": "2026-11"})
    assert again.headers["location"].endswith("count=0")

    # The frozen month's pages read what was stored (altered here to prove it) and say so.
    with web.container.engine.begin() as conn:
        report_id = conn.execute(
            select(T["eval_reports"].c.id).where(T["eval_reports"].c.period == "2026-11",
                                                 T["eval_reports"].c.scope == "city")
        ).scalar_one()  # fmt: skip
        rows = T["eval_report_rows"]
        conn.execute(
            update(rows)
            .where(rows.c.report_id == report_id, rows.c.kind == "district",
                   rows.c.key == "110101")
            .values(score=12.34)
        )  # fmt: skip
        extras = conn.execute(
            select(T["eval_reports"].c.extras).where(T["eval_reports"].c.id == report_id)
        ).scalar_one()
        extras = dict(extras)
        extras["centre"] = {**extras["centre"],
                            "throughput": {**extras["centre"]["throughput"],
                                           "reported": [0] * 29 + [999]}}  # fmt: skip
        conn.execute(
            update(T["eval_reports"]).where(T["eval_reports"].c.id == report_id)
            .values(extras=extras)
        )  # fmt: skip
    after = ok(leader, f"/evaluation/district?{NOV}")
    assert 'data-frozen="1"' in after
    assert table_rows(after)["110101"]["score"] == "12.34"
    centre = ok(leader, f"/evaluation/centre?{NOV}")
    assert 'data-frozen="1"' in centre
    assert dict(re.findall(r'data-step="(\w+)">(\d+)<', centre))["reported"] == "999"
    start = ok(leader, f"/evaluation?{NOV}")
    assert 'data-frozen="1"' in start and '<dt>上报</dt><dd class="num">999</dd>' in start
    # A month that is not frozen is computed (December).
    assert 'data-frozen="0"' in ok(leader, "/evaluation/district?period=2026-12")


def test_scheme_versions_are_listed_read_only(web: Web, month: Month) -> None:
    browser = web.sign_in("leader")
    listed = ok(browser, "/evaluation/schemes")
    assert 'data-version="1"' in listed
    page = ok(browser, "/evaluation/schemes/1")
    rows = re.findall(r'<tr data-kind="district">(.*?)</tr>', page, re.S)
    weights = [text(re.findall(r'<td class="num">(.*?)</td>', r, re.S)[0]) for r in rows]
    assert weights == ["10%", "20%", "30%", "40%"]  # §7.5 with the corrected last weight
    assert "≥ 90" in page and "≥ 2001 → 100" in page


def test_pdf_export_link_works_with_the_page_session(web: Web, month: Month) -> None:
    cjk_font()  # the PDF embeds it
    browser = web.sign_in("leader")
    page = ok(browser, f"/evaluation?{NOV}")
    link = re.search(r'href="(/api/v1/evaluation/exports/all\.pdf\?[^"]+)"', page)
    assert link
    response = browser.get(htmllib.unescape(link.group(1)))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
