"""Administration pages: classes and filing standards, the standards table as XLSX."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from cityloop.adapters.db.models import T
from cityloop.adapters.io.sheets import read_sheet
from cityloop.domain.codes import ClassKind, Edition
from cityloop.entrypoints.i18n import gettext
from cityloop.services import catalog_admin as svc
from tests.integration.test_admin_catalog import reference_kept
from tests.web.conftest import Browser, Web

__all__ = ["reference_kept"]
pytestmark = pytest.mark.usefixtures("reference_kept")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def category(web: Web, code: str, kind: ClassKind = ClassKind.MATTER) -> Any:
    with web.container.uow(readonly=True) as uow:
        found = uow.catalog.category_by_code(Edition.CURRENT, kind, code)
    assert found is not None
    return found


def audit_count(web: Web, entity: str) -> int:
    log = T["audit_log"]
    with web.container.engine.connect() as conn:
        return len(list(conn.execute(select(log.c.id).where(log.c.entity == entity))))


def english(web: Web) -> Browser:
    browser = web.sign_in("admin")
    browser.get("/lang/en?next=/admin")
    return browser


def test_only_an_administrator_sees_the_class_pages(web: Web) -> None:
    assert web.sign_in("dispatcher").get("/admin/classes").status_code == 403
    operator = web.sign_in("operator")
    response = operator.post("/admin/classes", {"kind": "matter", "major": "06", "name": "x"})
    assert response.status_code == 403
    page = web.sign_in("admin").get("/admin/classes")
    assert page.status_code == 200 and "01001" in page.text and "供水井盖" in page.text


def test_the_class_list_filters_by_text_kind_and_major(web: Web) -> None:
    admin = web.sign_in("admin")
    html = admin.get("/admin/classes?kind=matter&q=井盖").text
    assert "供水井盖异常" in html and "暴露垃圾" not in html and ">供水井盖<" not in html
    html = admin.get("/admin/classes?kind=component&major=03").text
    codes = set(re.findall(r'href="/admin/classes/\d+">(\d{5})<', html))
    assert codes and all(c.startswith("03") for c in codes)
    html = admin.get("/admin/classes?edition=legacy&kind=event").text
    legacy = re.findall(r'href="/admin/classes/\d+">(\d+)<', html)
    assert legacy and all(len(code) == 4 for code in legacy)  # GB/T 30428.2 codes
    assert admin.get("/admin/classes?kind=gadget").status_code == 422
    second = admin.get("/admin/classes?page=2").text
    assert "›" in second and "‹" in second


def test_editing_a_class_saves_and_shows_a_notice(web: Web) -> None:
    admin = english(web)
    cls = category(web, "06010")
    response = admin.post(
        f"/admin/classes/{cls.id}", {"name": "暴露垃圾（含散落）", "self_handling_allowed": "1"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/classes/{cls.id}?done=saved"
    page = admin.get(response.headers["location"]).text
    assert "Saved." in page and 'value="暴露垃圾（含散落）"' in page
    stored = category(web, "06010")
    assert stored.name == "暴露垃圾（含散落）" and not stored.active  # "active" was unticked
    assert stored.self_handling_allowed
    assert audit_count(web, "category") == 1


def test_a_bad_class_edit_keeps_what_was_typed_and_changes_nothing(web: Web) -> None:
    admin = web.sign_in("admin")
    cls = category(web, "06010")
    response = admin.post(f"/admin/classes/{cls.id}", {"name": "   ", "active": "1"})
    assert response.status_code == 422
    assert 'role="alert"' in response.text
    assert "Class name" in response.text or "分类名称" in response.text
    no_token = admin.client.post(f"/admin/classes/{cls.id}", data={"name": "改名", "active": "1"})
    assert no_token.status_code == 403
    assert category(web, "06010") == cls and audit_count(web, "category") == 0


def test_adding_a_local_class_leads_to_its_page(web: Web) -> None:
    admin = english(web)
    response = admin.post(
        "/admin/classes", {"kind": "component", "major": "03", "name": "智能垃圾箱"}
    )
    assert response.status_code == 303
    target = response.headers["location"]
    assert target.endswith("?done=added")
    page = admin.get(target).text
    code = re.search(r"<h1>(\d{5}) 智能垃圾箱</h1>", page)
    assert code and code.group(1).startswith("03")
    assert "智能垃圾箱异常" in page  # its anomaly matter, linked
    wrong = admin.post("/admin/classes", {"kind": "component", "major": "08", "name": "x"})
    assert wrong.status_code == 422 and "There is no major class 08" in wrong.text
    assert 'value="x"' in wrong.text  # the typed name is kept


def standard_form(**changes: str) -> dict[str, str]:
    values = {
        "condition": "绿化带内有成堆垃圾",
        "closing_condition": "清运完毕",
        "normal_amount": "1",
        "normal_unit": "work_day",
        "urgent_amount": "",
        "urgent_unit": "urgent_work_hour",
        "supervising_body": "区城管委",
        "responsible_body": "街道办事处",
        "legal_basis": "",
        "legal_clause": "",
        "collection_notes": "",
        "active": "1",
    }
    values.update(changes)
    return values


def test_rows_of_filing_standard_from_the_class_page(web: Web) -> None:
    admin = english(web)
    cls = category(web, "06010")
    bad = admin.post(f"/admin/classes/{cls.id}/standards", standard_form(normal_amount="abc"))
    assert bad.status_code == 422 and "abc is not a positive number" in bad.text
    assert "绿化带内有成堆垃圾" in bad.text  # kept
    missing = admin.post(f"/admin/classes/{cls.id}/standards", standard_form(normal_amount=""))
    assert missing.status_code == 422
    assert "Disposal limit (normal) is required" in missing.text
    response = admin.post(f"/admin/classes/{cls.id}/standards", standard_form())
    assert response.status_code == 303
    page = admin.get(f"/admin/classes/{cls.id}").text
    assert "绿化带内有成堆垃圾" in page and "1 working days" in page
    with web.container.uow(readonly=True) as uow:
        row = uow.catalog.standards_for(cls.id)[-1]
    assert row.condition == "绿化带内有成堆垃圾" and str(row.limits["normal"]) == "1工作日"
    edit = admin.get(f"/admin/standards/{row.id}").text
    assert 'value="1"' in edit and "清运完毕" in edit
    saved = admin.post(
        f"/admin/standards/{row.id}",
        standard_form(normal_amount="2", normal_unit="work_hour", urgent_amount="1"),
    )
    assert saved.status_code == 303 and saved.headers["location"].startswith(
        f"/admin/classes/{cls.id}?done=standard_saved"
    )
    off = admin.post(f"/admin/standards/{row.id}/active", {"active": "0"})
    assert off.status_code == 303 and "done=deactivated" in off.headers["location"]
    with web.container.uow(readonly=True) as uow:
        stored = uow.catalog.standard(row.id)
    assert stored is not None and not stored.active
    assert (
        str(stored.limits["normal"]) == "2工作时" and str(stored.limits["urgent"]) == "1紧急工作时"
    )
    assert audit_count(web, "filing_standard") == 3
    assert admin.get("/admin/standards/999999").status_code == 404


def export(browser: Browser) -> bytes:
    response = browser.get("/admin/standards/export.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert "filing-standards-2026" in response.headers["content-disposition"]
    return response.content


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(browser: Browser, data: bytes, name: str = "standards.xlsx") -> Any:
    return browser.post("/admin/standards/import", files={"file": (name, data, XLSX)})


def test_the_exported_table_imports_back_unchanged_and_with_changes(web: Web) -> None:
    admin = web.sign_in("admin")
    data = export(admin)
    rows = read_sheet(data)
    assert list(rows[0]) == [gettext(h, "zh_CN") for _, h in svc.COLUMNS]
    assert list(rows[0])[3] == "立案条件"
    with web.container.uow(readonly=True) as uow:
        total = len(uow.catalog.all_standards())
    assert len(rows) == total
    same = upload(admin, data)
    assert same.status_code == 303
    assert same.headers["location"] == f"/admin/standards?added=0&updated=0&same={total}"
    # Change one condition, add one row; the English headers work as well.
    headers = [h for _, h in svc.COLUMNS]
    first = rows[0]
    values = list(first.values())
    values[3] = str(values[3]) + "（夜间）"
    new = ["", "06010", "", "早市散场后遗留垃圾", "", "3工作时", "", "", "", "", "", "", "是"]
    response = upload(admin, workbook([headers, values, new]))
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/standards?added=1&updated=1&same=0"
    page = admin.get(response.headers["location"]).text
    notice = "Imported: {added} rows added, {updated} changed, {same} unchanged."
    assert gettext(notice, "zh_CN").format(added=1, updated=1, same=0) in page
    with web.container.uow(readonly=True) as uow:
        changed = uow.catalog.standard(int(values[0]))
        rows_06010 = uow.catalog.standards_for(category(web, "06010").id)
    assert changed is not None and changed.condition.endswith("（夜间）")
    assert any(s.condition == "早市散场后遗留垃圾" for s in rows_06010)


def test_a_bad_table_is_refused_row_by_row_in_the_page_language(web: Web) -> None:
    admin = web.sign_in("admin")
    with web.container.uow(readonly=True) as uow:
        before = uow.catalog.all_standards()
    headers = [h for _, h in svc.COLUMNS]
    good = ["", "06010", "", "好的一行", "", "2工作时", "", "", "", "", "", "", "是"]
    bad_limit = ["", "06010", "", "坏的时限", "", "两天", "", "", "", "", "", "", "是"]
    bad_class = ["", "99001", "", "坏的分类", "", "2工作时", "", "", "", "", "", "", "是"]
    data = workbook([headers, good, [], bad_limit, bad_class])
    zh = upload(admin, data)
    assert zh.status_code == 422
    assert "无法识别时限 两天" in zh.text  # the problem, in Chinese
    rows = re.findall(r'<td class="num">(\d+)</td>', zh.text)
    assert rows == ["4", "5"]  # sheet rows, the blank row 3 counted
    admin.get("/lang/en?next=/admin")
    en = upload(admin, data)
    assert en.status_code == 422
    assert "Cannot read the time limit 两天" in en.text
    assert "Class code 99001 is not in the class dictionary" in en.text
    assert "Nothing was imported" in en.text
    with web.container.uow(readonly=True) as uow:
        rows_06010 = uow.catalog.standards_for(category(web, "06010").id)
    assert not any(s.condition == "好的一行" for s in rows_06010)
    with web.container.uow(readonly=True) as uow:
        assert uow.catalog.all_standards() == before
    assert audit_count(web, "filing_standard") == 0


def test_a_file_that_is_not_a_table_is_refused(web: Web) -> None:
    admin = english(web)
    none = admin.post("/admin/standards/import", files={"file": ("", b"", XLSX)})
    assert none.status_code == 422 and "Choose a file to import" in none.text
    junk = upload(admin, b"PK\x03\x04 not really a zip")
    assert junk.status_code == 422 and "not an Excel (XLSX) workbook" in junk.text
    no_column = upload(admin, workbook([["Class code", "Filing condition"], ["06010", "x"]]))
    assert no_column.status_code == 422
    assert "The file has no column Disposal limit (normal)" in no_column.text
    csv = "\ufeffclass_code,立案条件,Disposal limit (normal)\n06010,来自CSV的一行,2工作时\n"
    ok = upload(admin, csv.encode(), "standards.csv")
    assert ok.status_code == 303
    assert ok.headers["location"] == "/admin/standards?added=1&updated=0&same=0"
