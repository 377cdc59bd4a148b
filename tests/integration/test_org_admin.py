"""Administration services of the organisation: departments, users and grants, dispatch
rules — each change recorded in the change log in its own transaction, refusals change nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from cityloop.adapters.db.models import T
from cityloop.bootstrap import Container
from cityloop.domain.audit import Change
from cityloop.domain.case import CaseState
from cityloop.domain.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from cityloop.domain.org import Department, DepartmentKind, RoleGrant
from cityloop.domain.roles import Role
from cityloop.domain.routing import DispatchRule
from cityloop.services import cases as cases_svc
from cityloop.services import org, users
from cityloop.services.auth import actor_for_token, issue_token
from tests.conftest import at
from tests.support.city import DONGCHENG, PASSWORD, City
from tests.support.flow import PHOTO, Flow

NOW = at("2026-11-23 09:00")


@pytest.fixture
def flow(container: Container, city: City) -> Flow:
    return Flow(container, city)


def audit_log(container: Container) -> list[Any]:
    table = T["audit_log"]
    with container.engine.connect() as conn:
        return list(conn.execute(select(table).order_by(table.c.id)))


def table_count(container: Container, name: str) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(T[name])).scalar_one())


def department(container: Container, department_id: int) -> Department:
    with container.uow(readonly=True) as uow:
        found = uow.org.department(department_id)
    assert found is not None
    return found


CALLS: dict[str, Callable[[Container, City, Any], Any]] = {
    "update_department": lambda c, city, a: org.update_department(
        c.uow(), city.departments["cgw"], actor=a, now=NOW, name="x", kind="agency",
        level=1, parent_id=None, district_code=None, credit_code=None,
    ),
    "set_department_active": lambda c, city, a: org.set_department_active(
        c.uow(), city.departments["yllh"], False, actor=a, now=NOW
    ),
    "list_departments": lambda c, city, a: org.list_departments(c.uow(), actor=a),
    "find_users": lambda c, city, a: users.find_users(c.uow(), actor=a),
    "update_user": lambda c, city, a: users.update_user(
        c.uow(), city.users["leader"], actor=a, now=NOW, display_name="x", phone="", active=True
    ),
    "add_grant": lambda c, city, a: users.add_grant(
        c.uow(), city.users["leader"], RoleGrant(Role.ADMIN), actor=a, now=NOW
    ),
    "reset_password": lambda c, city, a: users.reset_password(
        c.uow(), city.users["leader"], "long-enough-1", actor=a, now=NOW
    ),
    "remove_dispatch_rule": lambda c, city, a: org.remove_dispatch_rule(
        c.uow(), 1, actor=a, now=NOW
    ),
    "preview_dispatch": lambda c, city, a: org.preview_dispatch(
        c.uow(), actor=a, now=NOW, category_id=city.category_ids["06010"],
        grid_code="110101001001001",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CALLS))
def test_only_an_administrator_may_administer(container: Container, city: City, name: str) -> None:
    for user in ("dispatcher", "leader", "handler_cgw"):
        with pytest.raises(PermissionDeniedError):
            CALLS[name](container, city, city.actor(user))
    assert audit_log(container) == []
    CALLS[name](container, city, city.actor("admin"))  # the administrator may


def test_a_department_change_and_its_log_entry_are_one_transaction(
    container: Container, city: City
) -> None:
    admin = city.actor("admin")
    yl = city.departments["yllh"]
    with pytest.raises(ValidationError) as caught:
        org.update_department(
            container.uow(), yl, actor=admin, now=NOW, name="园林局", kind="agency", level=1,
            parent_id=None, district_code=DONGCHENG, credit_code="123",
        )  # fmt: skip
    assert caught.value.code == "credit_code_invalid"
    with pytest.raises(ValidationError) as caught:
        org.update_department(
            container.uow(), yl, actor=admin, now=NOW, name="园林局", kind="agency", level=9,
            parent_id=None, district_code=DONGCHENG, credit_code=None,
        )  # fmt: skip
    assert caught.value.code == "department_level_invalid"
    assert department(container, yl).name == "东城区园林绿化局" and audit_log(container) == []

    same = department(container, yl)
    org.update_department(
        container.uow(), yl, actor=admin, now=NOW, name=same.name, kind=same.kind,
        level=same.level, parent_id=None, district_code=DONGCHENG, credit_code=None,
    )  # fmt: skip
    assert audit_log(container) == []  # nothing changed, nothing to record

    moved = org.update_department(
        container.uow(), yl, actor=admin, now=NOW, name="东城区园林绿化局", kind="unit",
        level=2, parent_id=city.departments["cgw"], district_code=DONGCHENG, credit_code=None,
    )  # fmt: skip
    assert moved == department(container, yl)
    assert (moved.kind, moved.level, moved.parent_id) == (
        DepartmentKind.UNIT,
        2,
        city.departments["cgw"],
    )
    (entry,) = audit_log(container)
    assert (entry.entity, entry.entity_key, entry.change) == ("department", "D101-YL", "update")
    assert entry.before["kind"] == "agency" and entry.after["kind"] == "unit"
    assert (entry.before["parent"], entry.after["parent"]) == (
        None,
        "D101-CGW 东城区城市管理委员会",
    )
    assert entry.user_id == city.users["admin"] and entry.at is not None
    # Now under 城管委: 城管委 cannot move under its own unit.
    with pytest.raises(ValidationError) as caught:
        org.update_department(
            container.uow(), city.departments["cgw"], actor=admin, now=NOW, name="城管委",
            kind="agency", level=1, parent_id=yl, district_code=DONGCHENG, credit_code=None,
        )  # fmt: skip
    assert caught.value.code == "department_parent_cycle"


def test_only_unfinished_cases_keep_a_department_active(
    container: Container, city: City, flow: Flow
) -> None:
    admin = city.actor("admin")
    cgw = city.departments["cgw"]
    case = flow.handled(NOW)
    assert org.list_departments(container.uow(), actor=admin)[0].department.code == "C000"
    held = {
        r.department.id: r.open_cases for r in org.list_departments(container.uow(), actor=admin)
    }
    assert held[cgw] == 1 and held[city.departments["yllh"]] == 0
    with pytest.raises(ConflictError) as caught:
        org.set_department_active(container.uow(), cgw, False, actor=admin, now=NOW)
    assert caught.value.code == "department_has_open_cases" and caught.value.params["count"] == 1
    assert department(container, cgw).active and audit_log(container) == []

    # Checked and closed: the case no longer holds the department.
    later = NOW + timedelta(minutes=10)
    case = flow.act(cases_svc.request_check, case, "operator", later).case
    task = flow.task(case.id)
    case = cases_svc.complete_task(
        container.uow(), task.id, actor=city.actor("inspector1"), now=later,
        result="passed", comment="已清理", attachments=[PHOTO],
    ).case  # fmt: skip
    case = flow.act(cases_svc.close_case, case, "shift_lead", later).case
    assert case.state is CaseState.CLOSED
    off = org.set_department_active(container.uow(), cgw, False, actor=admin, now=later)
    assert off.active is False and department(container, cgw).active is False
    # A deactivated department is given no one's role and no dispatch rule.
    with pytest.raises(ValidationError) as caught:
        users.add_grant(
            container.uow(), city.users["leader"], RoleGrant(Role.HANDLER, None, cgw),
            actor=admin, now=later,
        )  # fmt: skip
    assert caught.value.code == "department_inactive"
    with pytest.raises(ValidationError):
        org.add_dispatch_rule(
            container.uow(), DispatchRule(0, cgw, category_id=city.category_ids["06010"]),
            actor=admin, now=later,
        )  # fmt: skip
    assert [e.after for e in audit_log(container)] == [{"active": False}]


def test_the_department_tree_puts_units_under_their_parents() -> None:
    d = [
        Department(5, "S1", "街道", DepartmentKind.STREET_OFFICE),
        Department(2, "A2", "局二", DepartmentKind.AGENCY, parent_id=1),
        Department(1, "C1", "中心", DepartmentKind.CENTRE),
        Department(3, "U3", "科", DepartmentKind.UNIT, parent_id=2),
        Department(4, "A1", "局一", DepartmentKind.AGENCY, parent_id=1),
        Department(6, "X", "孤儿", DepartmentKind.AGENCY, parent_id=99),
        Department(7, "Y", "环甲", DepartmentKind.AGENCY, parent_id=8),
        Department(8, "Z", "环乙", DepartmentKind.AGENCY, parent_id=7),
    ]
    tree = [(x.code, depth) for x, depth in org.department_tree(d)]
    assert tree == [
        ("C1", 0), ("A1", 1), ("A2", 1), ("U3", 2), ("X", 0), ("S1", 0), ("Y", 0), ("Z", 0),
    ]  # fmt: skip


def test_creating_records_the_change_for_every_actor(container: Container, city: City) -> None:
    admin = city.actor("admin")
    made = org.create_department(
        container.uow(), actor=admin, now=NOW, code="D101-SW", name="东城区水务局",
        kind="agency", district_code=DONGCHENG,
    )  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        org.create_department(
            container.uow(), actor=admin, now=NOW, code="D9", name="新区局", kind="agency",
            district_code="110119",
        )  # fmt: skip
    assert caught.value.code == "district_unknown"
    user = org.create_user(
        container.uow(), actor=admin, now=NOW, username="inspector3", display_name="监督员丙",
        password="long-enough-1", grants=[RoleGrant(Role.INSPECTOR, DONGCHENG)],
    )  # fmt: skip
    org.assign_grids(
        container.uow(), user.id, ["110101002001001"], actor=admin, now=NOW + timedelta(seconds=1)
    )
    org.assign_grids(container.uow(), user.id, ["110101002001001"], actor=admin, now=NOW)
    rule = org.add_dispatch_rule(
        container.uow(),
        DispatchRule(0, made.id, category_id=city.category_ids["06001"], district_code=DONGCHENG),
        actor=admin,
        now=NOW,
    )
    entries = [(e.entity, e.entity_key, e.change) for e in audit_log(container)]
    assert entries == [
        ("department", "D101-SW", Change.CREATE.value),
        ("user", "inspector3", Change.CREATE.value),
        ("user", "inspector3", Change.UPDATE.value),  # the grids; the same grids again: no entry
        ("dispatch_rule", str(rule.id), Change.CREATE.value),
    ]
    assert audit_log(container)[1].after["roles"] == ["inspector 110101"]
    assert audit_log(container)[2].after == {"grids": ["110101002001001"]}


def test_a_dispatch_rule_must_name_things_that_exist(container: Container, city: City) -> None:
    admin = city.actor("admin")
    cgw, garbage = city.departments["cgw"], city.category_ids["06010"]
    standard = Flow(container, city).standard("06001")
    cases = {
        "category_unknown": DispatchRule(0, cgw, category_id=999_999),
        "standard_unknown": DispatchRule(0, cgw, filing_standard_id=999_999),
        "standard_of_other_class": DispatchRule(
            0, cgw, category_id=garbage, filing_standard_id=standard.id
        ),
        "district_unknown": DispatchRule(0, cgw, category_id=garbage, district_code="110177"),
        "street_outside_district": DispatchRule(
            0, cgw, category_id=garbage, district_code="110102", street_code="110101001"
        ),
        "rule_priority_invalid": DispatchRule(0, cgw, category_id=garbage, priority=-1),
    }
    for code, rule in cases.items():
        with pytest.raises(ValidationError) as caught:
            org.add_dispatch_rule(container.uow(), rule, actor=admin, now=NOW)
        assert caught.value.code == code
    assert table_count(container, "dispatch_rules") == 1 and audit_log(container) == []
    with pytest.raises(NotFoundError):
        org.remove_dispatch_rule(container.uow(), 999_999, actor=admin, now=NOW)


def test_the_preview_proposes_what_the_dispatcher_would_see(
    container: Container, city: City, flow: Flow
) -> None:
    admin = city.actor("admin")
    garbage = city.category_ids["06010"]
    standard = flow.standard("06010")
    org.add_dispatch_rule(
        container.uow(),
        DispatchRule(0, city.departments["water"], filing_standard_id=standard.id),
        actor=admin,
        now=NOW,
    )

    def preview(grid: str, standard_id: int | None = None) -> org.DispatchPreview:
        return org.preview_dispatch(
            container.uow(), actor=admin, now=NOW, category_id=garbage, grid_code=grid,
            filing_standard_id=standard_id,
        )  # fmt: skip

    by_class = preview("110101001001001")
    assert by_class.competent_id == city.departments["cgw"]
    assert by_class.proposals == (city.departments["dhm"], city.departments["cgw"])
    # With the standard row named, the city-wide standard rule beats the district class rule.
    by_standard = preview("110101001001001", standard.id)
    assert [r.department_id for r in by_standard.rules] == [
        city.departments["water"],
        city.departments["cgw"],
    ]
    assert by_standard.proposals == (city.departments["dhm"], city.departments["water"])
    # The same as the dispatcher gets for a real case there.
    case = flow.filed(NOW)
    assert cases_svc.proposed_departments(
        container.uow(), case.id, actor=city.actor("dispatcher")
    ) == list(preview("110101001001001", case.filing_standard_id).proposals)
    with pytest.raises(ValidationError):
        preview("110101001001")  # a community, not a grid


def test_user_changes_revoke_tokens_and_guard_the_administrator(
    container: Container, city: City
) -> None:
    admin = city.actor("admin")
    token = issue_token(container.uow(), "operator", PASSWORD, now=NOW).token
    uid = city.users["operator"]
    users.update_user(
        container.uow(), uid, actor=admin, now=NOW, display_name="受理员", phone="010-1234",
        active=True,
    )  # fmt: skip
    actor, _ = actor_for_token(container.uow(readonly=True), token, now=NOW)
    assert actor.name == "受理员"  # a profile change keeps the session
    with pytest.raises(ValidationError) as caught:
        users.update_user(
            container.uow(), uid, actor=admin, now=NOW, display_name="受理员", phone="abc",
            active=True,
        )  # fmt: skip
    assert caught.value.code == "phone_invalid"
    users.update_user(
        container.uow(), uid, actor=admin, now=NOW, display_name="受理员", phone="", active=False
    )
    with pytest.raises(AuthenticationError) as revoked:
        actor_for_token(container.uow(readonly=True), token, now=NOW)
    assert revoked.value.code == "token_revoked"

    me = city.users["admin"]
    with pytest.raises(ValidationError) as caught:
        users.update_user(
            container.uow(), me, actor=admin, now=NOW, display_name="admin", phone="", active=False
        )
    assert caught.value.code == "cannot_deactivate_self"
    users.add_grant(container.uow(), me, RoleGrant(Role.LEADER), actor=admin, now=NOW)
    with pytest.raises(ValidationError) as caught:
        users.remove_grant(container.uow(), me, RoleGrant(Role.ADMIN), actor=admin, now=NOW)
    assert caught.value.code == "cannot_remove_own_admin"
    with pytest.raises(NotFoundError):
        users.remove_grant(container.uow(), me, RoleGrant(Role.CITIZEN), actor=admin, now=NOW)
    kept = users.remove_grant(container.uow(), me, RoleGrant(Role.LEADER), actor=admin, now=NOW)
    assert kept.grants == (RoleGrant(Role.ADMIN),)
    changes = [(e.entity_key, e.before, e.after) for e in audit_log(container)]
    assert changes[-2:] == [
        ("admin", {"roles": ["admin"]}, {"roles": ["admin", "leader"]}),
        ("admin", {"roles": ["admin", "leader"]}, {"roles": ["admin"]}),
    ]


def test_users_are_found_a_page_at_a_time(container: Container, city: City) -> None:
    admin = city.actor("admin")
    found, total = users.find_users(container.uow(), actor=admin, text="in", page_size=2)
    assert total == 4  # inspector1, inspector2, inspector_xc, admin
    assert [u.username for u in found] == ["admin", "inspector1"]
    second, _ = users.find_users(container.uow(), actor=admin, text="in", page=2, page_size=2)
    assert [u.username for u in second] == ["inspector2", "inspector_xc"]
    handlers, total = users.find_users(container.uow(), actor=admin, role=Role.HANDLER)
    assert total == 4 and all(u.grants[0].department_id for u in handlers)
    with pytest.raises(ValidationError):
        users.find_users(container.uow(), actor=admin, page=0)
