"""Administration pages: the change log — newest first, by subject, paged, with a diff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cityloop.domain.audit import AuditEntry, Change
from cityloop.domain.org import DepartmentKind
from cityloop.entrypoints.web.routes.admin.audit import diff
from cityloop.services import org
from tests.support.city import DONGCHENG
from tests.web.conftest import Web

AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def body_rows(html: str) -> str:
    start = html.index("<tbody>")
    return html[start : html.index("</tbody>", start)]


def test_only_administrators_read_the_change_log(web: Web) -> None:
    assert web.sign_in("leader").get("/admin/audit").status_code == 403
    assert web.sign_in("admin").get("/admin/audit").status_code == 200


def test_changes_show_newest_first_with_who_when_and_a_diff(web: Web) -> None:
    admin = web.sign_in("admin", lang="en")
    yl = web.city.departments["yllh"]
    admin.post(
        f"/admin/departments/{yl}",
        {
            "name": "东城区园林绿化局（新）",
            "kind": "agency",
            "level": "2",
            "district_code": DONGCHENG,
        },
    )
    web.clock.advance(minutes=5)
    admin.post(f"/admin/users/{web.city.users['leader']}/grants", {"role": "dispatcher"})
    html = admin.get("/admin/audit").text
    rows = body_rows(html)
    # Newest first: the role grant (09:05, Beijing time), then the department (09:00).
    assert rows.index("2026-11-23 09:05:00") < rows.index("2026-11-23 09:00:00")
    assert rows.count("<td>admin</td>") == 2
    department = rows[rows.index("2026-11-23 09:00:00") :]
    assert "<del>东城区园林绿化局</del> → <ins>东城区园林绿化局（新）</ins>" in department
    assert "<del>1</del> → <ins>2</ins>" in department  # the level
    assert "Kind" not in department and "Code" not in department  # unchanged fields stay out
    user = rows[: rows.index("2026-11-23 09:00:00")]
    assert "<del>leader</del> → <ins>leader; dispatcher</ins>" in user
    assert "Roles and scopes" in user and "Changed" in user


def test_the_log_filters_by_subject_and_pages(web: Web) -> None:
    admin = web.sign_in("admin", lang="en")
    actor = web.city.actor("admin")
    for n in range(53):
        org.create_department(
            web.container.uow(),
            actor=actor,
            now=web.clock.now + timedelta(seconds=n),
            code=f"T{n:03d}",
            name=f"测试单位{n:03d}",
            kind=DepartmentKind.UNIT,
        )
    admin.post(f"/admin/users/{web.city.users['leader']}/grants", {"role": "dispatcher"})
    first = admin.get("/admin/audit?entity=department").text
    assert "54 changes" not in first and "53 changes" in first
    assert "Page 1 of 2" in first and "测试单位052" in first and "测试单位002" not in first
    assert "leader" not in body_rows(first)
    second = admin.get("/admin/audit?entity=department&page=2").text
    assert "测试单位002" in second and "测试单位000" in second and "测试单位052" not in second
    assert 'href="/admin/audit?entity=department"' in second  # back to newer changes
    users = admin.get("/admin/audit?entity=user").text
    assert "1 changes" in users and "测试单位" not in body_rows(users)
    created = body_rows(first)
    assert "<ins>测试单位052</ins>" in created and "<del>" not in created  # a creation
    assert admin.get("/admin/audit?entity=Robert');--").status_code == 422


def test_the_diff_of_each_kind_of_change() -> None:
    update = AuditEntry(
        at=AT,
        user_id=1,
        user_name="admin",
        entity="user",
        entity_key="x",
        change=Change.UPDATE,
        before={"id": 3, "phone": "", "active": True, "roles": ["operator"]},
        after={"id": 3, "phone": "138", "active": False, "roles": ["operator"]},
    )
    assert [(c.field, c.before, c.after) for c in diff(update, "yes", "no")] == [
        ("phone", "—", "138"),
        ("active", "yes", "no"),
    ]
    deleted = AuditEntry(
        at=AT,
        user_id=1,
        user_name="admin",
        entity="dispatch_rule",
        entity_key="7",
        change=Change.DELETE,
        before={"id": 7, "department_id": 4, "street_code": None},
    )
    assert [(c.field, c.before, c.after) for c in diff(deleted)] == [
        ("department_id", "4", None),
        ("street_code", "—", None),
    ]
