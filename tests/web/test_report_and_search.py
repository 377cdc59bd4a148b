"""Registering a report (class typeahead, place, duplicates, merge) and searching cases."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from cityloop.domain.case import CaseState, Source
from cityloop.services import cases as svc
from cityloop.services.queries.model import CaseCriteria
from tests.support.flow import Flow
from tests.support.photos import photo
from tests.web.conftest import Web


def report_form(web: Web, **fields: str) -> dict[str, str]:
    lon, lat = web.city.point("110101001001001")
    data = {
        "source": "hotline_12345",
        "urgency": "normal",
        "category_code": "06010",
        "category_text": "暴露垃圾（06010）",
        "description": "小区门口垃圾堆放三天了",
        "address": "东华门大街1号",
        "lon": f"{lon:.6f}",
        "lat": f"{lat:.6f}",
        "reporter_name": "李女士",
        "reporter_phone": "13900001111",
    }
    data.update(fields)
    return data


def test_class_typeahead_matches_pinyin_initials_chinese_and_codes(web: Web) -> None:
    browser = web.sign_in("operator")
    by_initials = browser.get("/report/classes?q=jg").text
    assert "井盖" in by_initials
    first = re.findall(r'data-text="([^"]+)"', by_initials)[0]
    assert first.startswith("井盖") or "井盖" in first
    assert "暴露垃圾" in browser.get("/report/classes?q=bllj").text
    assert "暴露垃圾" in browser.get("/report/classes?q=暴露").text
    assert 'data-value="06010"' in browser.get("/report/classes?q=0601").text
    assert browser.get("/report/classes?q=zzzzqqq").text.strip() == ""


def test_an_operator_registers_a_hotline_call(web: Web) -> None:
    browser = web.sign_in("operator")
    form = browser.get("/report").text
    assert "12345" in form and 'name="category_code"' in form
    response = browser.client.post(
        "/report",
        data={"_csrf": browser.csrf(), **report_form(web)},
        files=[("photos", ("scene.jpg", photo(), "image/jpeg"))],
    )
    assert response.status_code == 303, response.text
    number = re.match(r"/cases/(\d+)\?registered=1", response.headers["location"])
    assert number
    flow = Flow(web.container, web.city)
    with web.container.uow(readonly=True) as uow:
        case = uow.cases.get_by_number(number.group(1))
    assert case is not None
    assert case.source is Source.HOTLINE_12345 and case.state is CaseState.REPORTED
    assert case.grid_code == "110101001001001" and case.reporter_phone == "13900001111"
    page = browser.get(response.headers["location"]).text
    assert "已登记为案件" in page
    assert flow.get(case.id).reporter_name == "李女士"


def test_a_report_without_class_or_place_is_explained_and_nothing_is_stored(web: Web) -> None:
    browser = web.sign_in("operator")
    missing_class = browser.post("/report", report_form(web, category_code=""))
    assert missing_class.status_code == 422
    assert "请从列表中选择问题类别" in missing_class.text
    assert "小区门口垃圾堆放三天了" in missing_class.text  # what was typed is kept
    missing_place = browser.post("/report", report_form(web, lon="", lat="", address=""))
    assert missing_place.status_code == 422 and "地图上点击" in missing_place.text
    with web.container.uow(readonly=True) as uow:
        assert uow.queries.count_by_state(CaseCriteria(now=web.clock.now)) == {}


def test_only_operators_register(web: Web) -> None:
    assert web.sign_in("dispatcher").get("/report").status_code == 403
    assert web.sign_in("dispatcher").post("/report", report_form(web)).status_code == 403


def test_nearby_open_cases_of_the_same_class_are_offered_and_merged_into(web: Web) -> None:
    flow = Flow(web.container, web.city)
    original = flow.report(web.clock.now).case  # 暴露垃圾 in grid 1
    far = flow.report(web.clock.now, grid="110101002001001").case  # about 100 m away
    other_class = flow.report(web.clock.now, code="06001").case
    browser = web.sign_in("operator")
    lon, lat = web.city.point("110101001001001")
    found = browser.get(f"/report/duplicates?category_code=06010&lon={lon}&lat={lat}").text
    assert original.number in found and "合并到此案" in found
    assert far.number not in found and other_class.number not in found
    response = browser.post("/report", report_form(web, merge_into=original.number))
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/cases/{original.number}?merged=")
    duplicate = response.headers["location"].rsplit("=", 1)[1]
    with web.container.uow(readonly=True) as uow:
        merged = uow.cases.get_by_number(duplicate)
    assert merged is not None and merged.state is CaseState.MERGED
    assert merged.merged_into_id == original.id


def test_a_closed_case_is_not_a_duplicate(web: Web) -> None:
    flow = Flow(web.container, web.city)
    case = flow.report(web.clock.now).case
    flow.act(svc.reject_case, case, "operator", web.clock.now, reason="不属于城管")
    lon, lat = web.city.point("110101001001001")
    found = (
        web.sign_in("operator")
        .get(f"/report/duplicates?category_code=06010&lon={lon}&lat={lat}")
        .text
    )
    assert case.number not in found


def test_search_by_fields_and_export_with_milestones(web: Web) -> None:
    flow = Flow(web.container, web.city)
    garbage = flow.filed(web.clock.now)
    building = flow.report(web.clock.now, code="06001", description="违章搭建棚子").case
    browser = web.sign_in("dispatcher")
    by_class = browser.get("/search?category=06001").text
    assert building.number in by_class and garbage.number not in by_class
    by_text = browser.get("/search?q=棚子").text
    assert building.number in by_text and garbage.number not in by_text
    by_state = browser.get("/search?state=pending_dispatch").text
    assert garbage.number in by_state and building.number not in by_state
    bad = browser.get("/search?reported_from=2026-13-45")
    assert bad.status_code == 422 and "不是日期" in bad.text
    export = browser.get("/search/export.xlsx?state=pending_dispatch")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert "案件号" in header and "立案" in header and "上报" in header
    assert [r[0] for r in rows[1:]] == [garbage.number]
    filed_at = rows[1][header.index("立案")]
    assert filed_at is not None and filed_at.strftime("%Y-%m-%d") == "2026-11-23"


def test_saved_filters_are_mine_and_can_be_deleted(web: Web) -> None:
    browser = web.sign_in("dispatcher")
    saved = browser.post("/search/saved", {"name": "待派遣", "query": "state=pending_dispatch"})
    assert saved.status_code == 303
    page = browser.get("/search").text
    assert 'href="/search?state=pending_dispatch"' in page and "待派遣" in page
    other = web.sign_in("dispatcher_dc").get("/search").text
    assert 'href="/search?state=pending_dispatch"' not in other
    filter_id = re.search(r"/search/saved/(\d+)/delete", page)
    assert filter_id
    assert (
        web.sign_in("dispatcher_dc").post(f"/search/saved/{filter_id.group(1)}/delete").status_code
        == 404
    )
    assert browser.post(f"/search/saved/{filter_id.group(1)}/delete").status_code == 303
    assert 'href="/search?state=pending_dispatch"' not in browser.get("/search").text
    empty = browser.post("/search/saved", {"name": " ", "query": "q=x"})
    assert empty.status_code == 422


def test_a_citizen_searches_only_their_own_reports(web: Web) -> None:
    flow = Flow(web.container, web.city)
    mine = flow.report(web.clock.now, by="citizen", source=Source.PUBLIC).case
    theirs = flow.report(web.clock.now).case
    html = web.sign_in("citizen").get("/search").text
    assert mine.number in html and theirs.number not in html


def test_each_role_s_pages_are_titled_with_its_own_menu_word(web: Web) -> None:
    def title(user: str, path: str) -> str:
        found = re.search(r"<title>([^<·]+)", web.sign_in(user).get(path).text)
        assert found, (user, path)
        return found.group(1).strip()

    assert title("citizen", "/search") == "我的上报"
    assert title("operator", "/search") == "案件查询"
    assert title("inspector1", "/work") == "我的任务"
    assert title("dispatcher", "/work") == "我的待办"
