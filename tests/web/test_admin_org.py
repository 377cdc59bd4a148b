"""Administration pages: departments, users with roles and scopes, dispatch rules."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from cityloop.adapters.db.models import T
from cityloop.adapters.db.repositories import sla
from cityloop.domain.audit import Change
from cityloop.domain.org import RoleGrant
from cityloop.domain.roles import SYSTEM_ACTOR, Role
from cityloop.domain.routing import DispatchRule
from cityloop.services import org
from tests.support.city import DONGCHENG, PASSWORD
from tests.support.flow import Flow
from tests.web.conftest import Browser, Web


def rows(web: Web, table: str, **where: Any) -> list[Any]:
    t = T[table]
    stmt = (
        select(t)
        .where(*(t.c[k] == v for k, v in where.items()))
        .order_by(t.c[t.primary_key.columns.keys()[0]])
    )
    with web.container.engine.connect() as conn:
        return list(conn.execute(stmt))


def count(web: Web, table: str) -> int:
    with web.container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(T[table])).scalar_one())


def log(web: Web, entity: str) -> list[Any]:
    return rows(web, "audit_log", entity=entity)


def preview_of(html: str) -> str:
    """The proposal block of the dispatch-rules page."""
    return html[html.index('class="ab-preview"') : html.index('id="add-rule"')]


def sign_in_ok(web: Web, username: str, password: str) -> bool:
    client = TestClient(web.app, follow_redirects=False)
    response = client.post("/login", data={"username": username, "password": password})
    return response.status_code == 303


@pytest.mark.parametrize(
    "path", ["/admin/departments", "/admin/users", "/admin/dispatch-rules", "/admin/users/1"]
)
def test_only_administrators_see_the_pages(web: Web, path: str) -> None:
    assert web.sign_in("dispatcher").get(path).status_code == 403
    assert web.sign_in("admin").get(path).status_code == 200


def test_departments_show_as_a_tree_with_kinds_and_open_cases(web: Web) -> None:
    Flow(web.container, web.city).dispatched(web.clock.now)
    html = web.sign_in("admin", lang="en").get("/admin/departments").text
    city, district = html.index("市城市管理监督指挥中心"), html.index("东城区城市管理指挥中心")
    assert city < district  # the district centre sits under the city centre
    assert 'style="--depth: 1"' in html[district - 200 : district]
    assert "Street office" in html and "Deactivated" in html  # 已撤销单位
    cgw = html.index("东城区城市管理委员会")
    assert '<td class="num">1</td>' in html[cgw : cgw + 600]  # the dispatched case
    only_streets = web.sign_in("admin").get("/admin/departments?kind=street_office").text
    assert "东华门街道办事处" in only_streets and "东城区园林绿化局" not in only_streets


def test_creating_a_department_records_it_and_bad_input_changes_nothing(web: Web) -> None:
    admin = web.sign_in("admin", lang="en")
    before = count(web, "departments")
    taken = admin.post(
        "/admin/departments", {"code": "D101-CGW", "name": "重复", "kind": "agency", "level": "1"}
    )
    assert taken.status_code == 409
    assert "Department code D101-CGW is already used" in taken.text
    assert 'value="重复"' in taken.text  # what was typed is kept
    bad_district = admin.post(
        "/admin/departments",
        {"code": "D101-SW", "name": "东城区水务局", "kind": "agency", "district_code": "110199"},
    )
    assert bad_district.status_code == 422 and "District 110199 does not exist" in bad_district.text
    assert count(web, "departments") == before and log(web, "department") == []

    made = admin.post(
        "/admin/departments",
        {
            "code": "D101-SW",
            "name": "东城区水务局",
            "kind": "agency",
            "level": "1",
            "parent_id": "",
            "district_code": DONGCHENG,
            "credit_code": "11110101mb1234567x",
        },
    )
    assert made.status_code == 303
    (row,) = rows(web, "departments", code="D101-SW")
    assert made.headers["location"] == f"/admin/departments/{row.id}?done=created"
    assert (row.name, row.district_code, row.credit_code) == (
        "东城区水务局",
        DONGCHENG,
        "11110101MB1234567X",
    )
    (entry,) = log(web, "department")
    assert entry.change == Change.CREATE.value and entry.entity_key == "D101-SW"
    assert entry.user_name == "admin" and entry.after["name"] == "东城区水务局"
    assert "Created." in admin.get(made.headers["location"]).text


def test_editing_a_department_keeps_its_code_and_refuses_a_cycle(web: Web) -> None:
    admin = web.sign_in("admin", lang="en")
    city_centre, dc_centre = web.city.departments["city_centre"], web.city.departments["dc_centre"]
    page = admin.get(f"/admin/departments/{city_centre}").text
    # A department cannot be placed under itself or its own units: they are not offered.
    parent_select = page[
        page.index('name="parent_id"') : page.index("</select>", page.index('name="parent_id"'))
    ]
    assert (
        f'value="{dc_centre}"' not in parent_select
        and f'value="{city_centre}"' not in parent_select
    )
    cycle = admin.post(
        f"/admin/departments/{city_centre}",
        {"name": "市中心", "kind": "centre", "level": "0", "parent_id": str(dc_centre)},
    )
    assert cycle.status_code == 422 and "cannot be placed under itself" in cycle.text
    assert rows(web, "departments", id=city_centre)[0].name == "市城市管理监督指挥中心"

    saved = admin.post(
        f"/admin/departments/{dc_centre}",
        {"name": "东城区城市运行管理服务中心", "kind": "centre", "level": "1",
         "parent_id": str(city_centre), "district_code": DONGCHENG, "code": "HACK"},
    )  # fmt: skip
    assert saved.status_code == 303
    row = rows(web, "departments", id=dc_centre)[0]
    assert (row.name, row.code) == ("东城区城市运行管理服务中心", "C101")
    (entry,) = log(web, "department")
    assert entry.change == Change.UPDATE.value
    assert entry.before["name"] == "东城区城市管理指挥中心"
    assert entry.after["name"] == "东城区城市运行管理服务中心"


def test_a_department_holding_open_cases_cannot_be_deactivated(web: Web) -> None:
    Flow(web.container, web.city).dispatched(web.clock.now)
    admin = web.sign_in("admin", lang="en")
    cgw = web.city.departments["cgw"]
    refused = admin.post(f"/admin/departments/{cgw}/active", {"active": "0"})
    assert refused.status_code == 409
    assert "东城区城市管理委员会 holds 1 unfinished cases" in refused.text
    assert rows(web, "departments", id=cgw)[0].active is True
    assert log(web, "department") == []

    yl = web.city.departments["yllh"]
    assert admin.post(f"/admin/departments/{yl}/active", {"active": "0"}).status_code == 303
    assert rows(web, "departments", id=yl)[0].active is False
    assert "Reactivate" in admin.get(f"/admin/departments/{yl}").text
    assert admin.post(f"/admin/departments/{yl}/active", {"active": "1"}).status_code == 303
    assert rows(web, "departments", id=yl)[0].active is True
    assert [e.after for e in log(web, "department")] == [{"active": False}, {"active": True}]


def test_forms_without_the_token_are_refused(web: Web) -> None:
    admin = web.sign_in("admin")
    response = admin.client.post(
        "/admin/departments", data={"code": "X1", "name": "x", "kind": "agency"}
    )
    assert response.status_code == 403 and count(web, "departments") == len(web.city.departments)


def test_users_are_found_by_text_and_role_with_their_grants(web: Web) -> None:
    admin = web.sign_in("admin", lang="en")
    html = admin.get("/admin/users?q=handler").text
    assert "handler_cgw" in html and "handler_water" in html and "operator_xc" not in html
    assert "东城区城市管理委员会" in html  # the department of the grant
    inspectors = admin.get("/admin/users?role=inspector").text
    assert "inspector_xc" in inspectors and "handler_cgw" not in inspectors
    assert "3 users" in inspectors


def test_creating_a_user_validates_the_grant_and_hashes_the_password(web: Web) -> None:
    admin = web.sign_in("admin", lang="en")
    form = {
        "username": "handler_sw",
        "display_name": "水务局张三",
        "phone": "13800000000",
        "password": "s3cret-pass",
        "password2": "s3cret-pass",
        "role": "handler",
        "district_code": DONGCHENG,
    }
    no_dept = admin.post("/admin/users", form)
    assert no_dept.status_code == 422 and "A department role needs its department" in no_dept.text
    assert 'value="水务局张三"' in no_dept.text and "s3cret-pass" not in no_dept.text
    bad_district = admin.post(
        "/admin/users", {**form, "role": "operator", "district_code": "110188"}
    )
    assert bad_district.status_code == 422 and "District 110188 does not exist" in bad_district.text
    differ = admin.post("/admin/users", {**form, "password2": "other-pass"})
    assert differ.status_code == 422 and "The two passwords differ" in differ.text
    assert rows(web, "users", username="handler_sw") == [] and log(web, "user") == []

    made = admin.post("/admin/users", {**form, "department_id": str(web.city.departments["cgw"])})
    assert made.status_code == 303
    (user,) = rows(web, "users", username="handler_sw")
    assert user.password_hash.startswith("$argon2") and "s3cret-pass" not in user.password_hash
    (grant,) = rows(web, "user_roles", user_id=user.id)
    assert (grant.role, grant.district_code, grant.department_id) == (
        "handler",
        DONGCHENG,
        web.city.departments["cgw"],
    )
    assert sign_in_ok(web, "handler_sw", "s3cret-pass")
    (entry,) = log(web, "user")
    assert entry.change == "create" and entry.after["roles"] == [
        "handler 110101 D101-CGW 东城区城市管理委员会"
    ]
    assert "password" not in str(entry.after)


def test_deactivating_a_user_revokes_their_tokens(web: Web) -> None:
    headers = web.api.login("operator")
    assert web.api.client.get("/api/v1/departments", headers=headers).status_code == 200
    admin = web.sign_in("admin", lang="en")
    uid = web.city.users["operator"]
    response = admin.post(
        f"/admin/users/{uid}", {"profile": "1", "display_name": "受理员甲", "phone": ""}
    )
    assert response.status_code == 303
    row = rows(web, "users", id=uid)[0]
    assert (row.display_name, row.active) == ("受理员甲", False)
    assert all(t.revoked_at is not None for t in rows(web, "api_tokens", user_id=uid))
    web.app.state.token_cache = type(web.app.state.token_cache)()
    assert web.api.client.get("/api/v1/departments", headers=headers).status_code == 401
    assert not sign_in_ok(web, "operator", PASSWORD)
    (entry,) = log(web, "user")
    assert entry.before == {"display_name": "operator", "phone": "", "active": True}
    assert entry.after == {"display_name": "受理员甲", "phone": "", "active": False}


def test_an_administrator_cannot_deactivate_themselves(web: Web) -> None:
    admin = web.sign_in("admin", lang="en")
    uid = web.city.users["admin"]
    response = admin.post(f"/admin/users/{uid}", {"profile": "1", "display_name": "admin"})
    assert response.status_code == 422 and "You cannot deactivate your own account" in response.text
    assert rows(web, "users", id=uid)[0].active is True


def test_role_grants_are_added_and_removed_with_their_scope_checked(web: Web) -> None:
    admin = web.sign_in("admin", lang="en")
    uid = web.city.users["dispatcher"]
    headers = web.api.login("dispatcher")
    unknown = admin.post(
        f"/admin/users/{uid}/grants", {"role": "shift_lead", "district_code": "110177"}
    )
    assert unknown.status_code == 422 and "District 110177 does not exist" in unknown.text
    dept_for_operator = admin.post(
        f"/admin/users/{uid}/grants",
        {"role": "operator", "department_id": str(web.city.departments["cgw"])},
    )
    assert dept_for_operator.status_code == 422
    assert "Only a department role is given a department" in dept_for_operator.text
    assert len(rows(web, "user_roles", user_id=uid)) == 1

    added = admin.post(
        f"/admin/users/{uid}/grants", {"role": "shift_lead", "district_code": DONGCHENG}
    )
    assert added.status_code == 303
    assert [(g.role, g.district_code) for g in rows(web, "user_roles", user_id=uid)] == [
        ("dispatcher", None),
        ("shift_lead", DONGCHENG),
    ]
    again = admin.post(
        f"/admin/users/{uid}/grants", {"role": "shift_lead", "district_code": DONGCHENG}
    )
    assert again.status_code == 409

    removed = admin.post(f"/admin/users/{uid}/grants/remove", {"role": "dispatcher"})
    assert removed.status_code == 303
    assert [g.role for g in rows(web, "user_roles", user_id=uid)] == ["shift_lead"]
    web.app.state.token_cache = type(web.app.state.token_cache)()
    assert web.api.client.get("/api/v1/departments", headers=headers).status_code == 401
    last = admin.post(
        f"/admin/users/{uid}/grants/remove", {"role": "shift_lead", "district_code": DONGCHENG}
    )
    assert last.status_code == 422 and "A user needs at least one role" in last.text
    entries = log(web, "user")
    assert [e.after["roles"] for e in entries] == [
        ["dispatcher", "shift_lead 110101"],
        ["shift_lead 110101"],
    ]


def test_a_password_reset_takes_effect_and_signs_the_user_out(web: Web) -> None:
    admin = web.sign_in("admin", lang="en")
    uid = web.city.users["leader"]
    short = admin.post(f"/admin/users/{uid}/password", {"password": "abc", "password2": "abc"})
    assert short.status_code == 422 and "at least 8 characters" in short.text
    assert sign_in_ok(web, "leader", PASSWORD)
    done = admin.post(
        f"/admin/users/{uid}/password", {"password": "new-pass-99", "password2": "new-pass-99"}
    )
    assert done.status_code == 303
    assert not sign_in_ok(web, "leader", PASSWORD)
    assert sign_in_ok(web, "leader", "new-pass-99")
    (entry,) = log(web, "user")
    assert entry.after == {"password_reset": True} and "new-pass" not in str(entry.after)


def test_an_inspectors_grids_are_assigned_by_code(web: Web) -> None:
    admin = web.sign_in("admin", lang="en")
    uid = web.city.users["inspector2"]
    page = admin.get(f"/admin/users/{uid}").text
    assert "110101002001001" in page and "Responsible grids" in page
    unknown = admin.post(f"/admin/users/{uid}/grids", {"grids": "110101002001001\n110101999999999"})
    assert unknown.status_code == 422 and "Unit grid 110101999999999 does not exist" in unknown.text
    assert len(rows(web, "inspector_grids", user_id=uid)) == 1
    saved = admin.post(f"/admin/users/{uid}/grids", {"grids": "110101002001001, 110101001002001"})
    assert saved.status_code == 303
    regions = {r.id: r.code for r in rows(web, "regions")}
    assert sorted(regions[g.region_id] for g in rows(web, "inspector_grids", user_id=uid)) == [
        "110101001002001",
        "110101002001001",
    ]
    (entry,) = log(web, "user")
    assert entry.before == {"grids": ["110101002001001"]}
    assert entry.after == {"grids": ["110101001002001", "110101002001001"]}
    no_inspector = admin.get(f"/admin/users/{web.city.users['operator']}").text
    assert 'name="grids"' not in no_inspector


def test_dispatch_rules_are_listed_added_previewed_and_deleted(web: Web) -> None:
    admin = web.sign_in("admin", lang="en")
    garbage = web.city.category_ids["06010"]
    listing = admin.get("/admin/dispatch-rules").text
    assert "06010" in listing and "东城区城市管理委员会" in listing and "1 rules" in listing

    preview = admin.get(f"/admin/dispatch-rules?preview=1&class_id={garbage}&grid=110101001001001")
    assert preview.status_code == 200
    shown = preview_of(preview.text)
    # An event goes first to the street office of the place, then to the rules' department.
    assert shown.index("东华门街道办事处") < shown.index("东城区城市管理委员会")
    with web.container.uow(readonly=True) as uow:
        rows_of_class = [x for x in uow.catalog.standards_for(garbage) if x.active]
    # Cases are dispatched once filed: the proposal is shown for each row of the class.
    assert shown.count('class="ab-proposal"') == len(rows_of_class) > 0
    one = admin.get(
        f"/admin/dispatch-rules?preview=1&class_id={garbage}&grid=110101001001001"
        f"&standard={rows_of_class[0].id}"
    )
    assert preview_of(one.text).count('class="ab-proposal"') == 1
    outside = admin.get(f"/admin/dispatch-rules?preview=1&class_id={garbage}&grid=110102001001001")
    assert "东城区城市管理委员会" not in preview_of(outside.text)
    assert "No department would be proposed" in preview_of(outside.text)
    unknown = admin.get(f"/admin/dispatch-rules?preview=1&class_id={garbage}&grid=1101")
    assert unknown.status_code == 422 and "Unit grid 1101 does not exist" in unknown.text

    water = web.city.departments["water"]
    bad = admin.post(
        "/admin/dispatch-rules",
        {"category_id": str(garbage), "department_id": str(water), "street_code": "110101777"},
    )
    assert bad.status_code == 422 and "Street 110101777 does not exist" in bad.text
    centre = admin.post(
        "/admin/dispatch-rules",
        {"category_id": str(garbage), "department_id": str(web.city.departments["dc_centre"])},
    )
    assert centre.status_code == 422 and "does not handle cases" in centre.text
    assert count(web, "dispatch_rules") == 1

    added = admin.post(
        "/admin/dispatch-rules",
        {"category_id": str(garbage), "department_id": str(water), "district_code": DONGCHENG,
         "street_code": "110101001", "priority": "50"},
    )  # fmt: skip
    assert added.status_code == 303
    preview = admin.get(f"/admin/dispatch-rules?preview=1&class_id={garbage}&grid=110101001001001")
    shown = preview_of(preview.text)
    assert "Matching rules: 2" in shown
    # The street rule is more specific than the district one: it wins.
    assert shown.index("自来水集团") < shown.index("东城区城市管理委员会")
    (rule,) = rows(web, "dispatch_rules", street_code="110101001")
    deleted = admin.post(f"/admin/dispatch-rules/{rule.id}/delete")
    assert deleted.status_code == 303 and count(web, "dispatch_rules") == 1
    assert [(e.change, e.entity_key) for e in log(web, "dispatch_rule")] == [
        ("create", str(rule.id)),
        ("delete", str(rule.id)),
    ]
    # The log names what the rule was about, not only ids.
    assert log(web, "dispatch_rule")[1].before == {
        "department": "U-WATER 自来水集团",
        "class": "06010 暴露垃圾",
        "filing_standard": None,
        "district_code": DONGCHENG,
        "street_code": "110101001",
        "priority": 50,
    }


def test_the_standards_of_a_class_come_as_options(web: Web) -> None:
    admin = web.sign_in("admin")
    garbage = web.city.category_ids["06010"]
    html = admin.get(f"/admin/dispatch-rules/standards?category_id={garbage}").text
    with web.container.uow(readonly=True) as uow:
        standards = [s for s in uow.catalog.standards_for(garbage) if s.active]
    assert standards and html.count("<option") == len(standards) + 1
    assert f'value="{standards[0].id}"' in html


def test_the_system_actor_still_sets_up_a_city(web: Web) -> None:
    """The demo loader creates departments before the regions exist, as the system."""
    made = org.create_department(
        web.container.uow(),
        actor=SYSTEM_ACTOR,
        now=web.clock.now,
        code="NEW-1",
        name="新区中心",
        kind="centre",
        district_code="110119",
    )
    assert made.district_code == "110119"
    (entry,) = log(web, "department")
    assert entry.user_id is None and entry.user_name == "system"


def count_statements(web: Web, browser: Browser, path: str) -> int:
    browser.get(path)  # warm the caches (calendar, policy, tokens)
    seen = [0]

    def tick(*_args: object) -> None:
        seen[0] += 1

    event.listen(web.container.engine, "before_cursor_execute", tick)
    try:
        assert browser.get(path).status_code == 200
    finally:
        event.remove(web.container.engine, "before_cursor_execute", tick)
    return seen[0]


def test_the_lists_cost_the_same_for_few_or_many_rows(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sla, "RECHECK_SECONDS", 3600.0)
    web.app.state.token_cache.ttl = 3600.0
    admin = web.sign_in("admin")
    paths = ["/admin/users", "/admin/departments", "/admin/dispatch-rules", "/admin/audit"]
    few = [count_statements(web, admin, path) for path in paths]
    actor, now = web.city.actor("admin"), web.clock.now
    for n in range(10):
        dept = org.create_department(
            web.container.uow(), actor=actor, now=now, code=f"N{n}", name=f"新单位{n}",
            kind="agency", district_code=DONGCHENG,
        )  # fmt: skip
        org.create_user(
            web.container.uow(), actor=actor, now=now, username=f"staff{n}",
            display_name=f"人员{n}", password="long-enough-1",
            grants=[RoleGrant(Role.HANDLER, DONGCHENG, dept.id), RoleGrant(Role.LEADER)],
        )  # fmt: skip
        org.add_dispatch_rule(
            web.container.uow(),
            DispatchRule(0, dept.id, category_id=web.city.category_ids["06001"], priority=n),
            actor=actor,
            now=now,
        )
    assert [count_statements(web, admin, path) for path in paths] == few
    assert max(few) <= 12
