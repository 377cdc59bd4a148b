"""The working-calendar page: a year view, days clicked through htmx, the week, importing."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from cityloop.adapters.db.models import T
from tests.integration.test_admin_catalog import reference_kept
from tests.web.conftest import Browser, Web

__all__ = ["reference_kept"]
pytestmark = pytest.mark.usefixtures("reference_kept")
HX = {"HX-Request": "true"}


def kind_of(web: Web, day: date) -> str:
    with web.container.uow(readonly=True) as uow:
        return uow.sla.calendar().day_kind(day)


def cell(html: str, day: str) -> str:
    match = re.search(rf'<button[^>]*value="{day}"[^>]*>', html)
    assert match, f"no cell for {day}"
    return match.group(0)


def english(web: Web) -> Browser:
    browser = web.sign_in("admin")
    browser.get("/lang/en?next=/admin")
    return browser


def test_the_year_view_colours_every_day(web: Web) -> None:
    assert web.sign_in("operator").get("/admin/calendar").status_code == 403
    admin = web.sign_in("admin")
    html = admin.get("/admin/calendar?year=2026").text
    assert len(re.findall(r'<button type="submit" name="day"', html)) == 365
    assert "ck-holiday" in cell(html, "2026-10-01") and "国庆" in cell(html, "2026-10-01")
    assert "ck-makeup" in cell(html, "2026-02-14")
    assert "ck-rest" in cell(html, "2026-11-28") and "ck-workday" in cell(html, "2026-11-27")
    assert "today" in cell(html, "2026-11-23")  # the test clock's day
    assert 'data-count="holiday">33<' in html
    this_year = admin.get("/admin/calendar").text
    assert "工作日历 2026" in this_year or "Working calendar 2026" in this_year
    leap = admin.get("/admin/calendar?year=2028").text
    assert len(re.findall(r'name="day" value="2028-', leap)) == 366
    assert 'action="/admin/calendar/confirm"' in leap  # 2028 is not entered
    assert admin.get("/admin/calendar?year=1800").status_code == 422


def test_clicking_a_day_cycles_it_and_returns_the_cell(web: Web) -> None:
    admin = web.sign_in("admin")
    kinds = []
    for _ in range(3):
        response = admin.post("/admin/calendar/day", {"day": "2027-01-02"}, headers=HX)
        assert response.status_code == 200
        button = cell(response.text, "2027-01-02")
        kinds.append(re.search(r"ck-(\w+)", button).group(1))  # type: ignore[union-attr]
        assert kind_of(web, date(2027, 1, 2)) == kinds[-1]
        assert 'id="cal-counts" hx-swap-oob="true"' in response.text
        assert response.text.count('name="day"') == 1  # just the one cell
        assert 'id="cal-status" hx-swap-oob="true"' in response.text
    assert kinds == ["holiday", "makeup", "rest"]
    monday = admin.post("/admin/calendar/day", {"day": "2027-01-04"}, headers=HX)
    assert "ck-holiday" in monday.text and 'data-count="holiday">1<' in monday.text
    back = admin.post("/admin/calendar/day", {"day": "2027-01-04"}, headers=HX)
    assert "ck-workday" in back.text  # a weekday has no make-up state
    log = T["audit_log"]
    with web.container.engine.connect() as conn:
        keys = [
            r.entity_key for r in conn.execute(select(log).where(log.c.entity == "calendar_day"))
        ]
    assert keys == ["2027-01-02"] * 3 + ["2027-01-04"] * 2


def test_a_day_click_without_javascript_or_token(web: Web) -> None:
    admin = web.sign_in("admin")
    plain = admin.post("/admin/calendar/day", {"day": "2027-05-03"})
    assert plain.status_code == 303 and plain.headers["location"] == "/admin/calendar?year=2027"
    assert kind_of(web, date(2027, 5, 3)) == "holiday"
    forged = admin.client.post("/admin/calendar/day", data={"day": "2027-05-04"}, headers=HX)
    assert forged.status_code == 403
    assert admin.post("/admin/calendar/day", {"day": "someday"}).status_code == 422
    assert kind_of(web, date(2027, 5, 4)) == "workday"


def csv_file(text: str) -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("holidays.csv", text.encode("utf-8"), "text/csv")}


def test_importing_a_year_from_csv_and_xlsx(web: Web) -> None:
    admin = english(web)
    text = (
        "date,kind,name\n"
        "2027-01-01,holiday,元旦\n2027-02-06,holiday,春节\n2027-02-20,workday,春节\n"
        "2026-12-31,holiday,去年\n"
    )
    response = admin.post("/admin/calendar/import", {"year": "2027"}, files=csv_file(text))
    assert response.status_code == 303
    page = admin.get(response.headers["location"]).text
    assert "Imported 2027: 2 holidays and 1 make-up working days (1 rows of other years" in page
    assert "ck-makeup" in cell(page, "2027-02-20") and "ck-holiday" in cell(page, "2027-01-01")
    assert "is entered" in page
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["日期", "类型", "名称"])
    sheet.append([date(2027, 10, 1), "休", "国庆节"])
    data = io.BytesIO()
    book.save(data)
    xlsx = admin.post(
        "/admin/calendar/import",
        {"year": "2027"},
        files={"file": ("2027.xlsx", data.getvalue(), "application/octet-stream")},
    )
    assert xlsx.status_code == 303 and "holidays=1" in xlsx.headers["location"]
    assert kind_of(web, date(2027, 10, 1)) == "holiday"
    assert kind_of(web, date(2027, 1, 1)) == "workday"  # the year was replaced


def test_a_bad_year_file_lists_its_rows_and_changes_nothing(web: Web) -> None:
    admin = web.sign_in("admin")
    text = "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-30,holiday,\n2027-01-02,vacation,\n"
    zh = admin.post("/admin/calendar/import", {"year": "2027"}, files=csv_file(text))
    assert zh.status_code == 422
    assert "不是有效的日期类型" in zh.text  # day_kind_invalid, in Chinese
    assert re.findall(r'<td class="num">(\d+)</td>', zh.text) == ["3", "4"]
    admin.get("/lang/en?next=/admin")
    en = admin.post("/admin/calendar/import", {"year": "2027"}, files=csv_file(text))
    assert "2027-02-30 is not a date" in en.text and "vacation is not a kind of day" in en.text
    only_2027 = "date,kind,name\n2027-01-01,holiday,元旦\n"
    empty = admin.post("/admin/calendar/import", {"year": "2028"}, files=csv_file(only_2027))
    assert empty.status_code == 422 and "The file has no day of 2028" in empty.text
    assert kind_of(web, date(2027, 1, 1)) == "workday"
    with web.container.uow(readonly=True) as uow:
        assert not uow.sla.calendar().covers_year(2027)


def test_the_working_week_form(web: Web) -> None:
    admin = english(web)
    page = admin.get("/admin/calendar?year=2026").text
    assert 'name="w0" value="08:00-12:00, 14:00-18:00"' in page and 'name="w5" value=""' in page
    values = {f"w{d}": "08:30-12:00，13:30-17:30" for d in range(5)}
    values |= {"w5": "", "w6": "", "makeup": "", "hours": "7.5", "year": "2026"}
    response = admin.post("/admin/calendar/week", values)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/calendar?year=2026&done=week"
    with web.container.uow(readonly=True) as uow:
        calendar = uow.sla.calendar()
    assert calendar.hours_per_workday == Decimal("7.5")
    assert [str(w) for w in calendar.week[0]] == ["08:30-12:00", "13:30-17:30"]
    assert "The working week is saved" in admin.get(response.headers["location"]).text
    bad = admin.post("/admin/calendar/week", values | {"w2": "9-17", "hours": "x"})
    assert bad.status_code == 422
    assert "Cannot read the working window 9-17" in bad.text and "x is not a number" in bad.text
    assert 'name="w2" value="9-17"' in bad.text
    overlap = admin.post("/admin/calendar/week", values | {"w1": "08:00-12:00 11:00-13:00"})
    assert overlap.status_code == 422 and "overlap" in overlap.text
    with web.container.uow(readonly=True) as uow:
        assert uow.sla.calendar().week == calendar.week


def test_confirming_a_year(web: Web) -> None:
    admin = english(web)
    response = admin.post("/admin/calendar/confirm", {"year": "2028"})
    assert response.status_code == 303
    page = admin.get(response.headers["location"]).text
    assert "Year 2028 is confirmed as entered." in page
    assert "The holiday notice of 2028 is entered." in page
    assert admin.post("/admin/calendar/confirm", {"year": "20x8"}).status_code == 422
