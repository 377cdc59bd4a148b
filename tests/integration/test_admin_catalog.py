"""Administering the class dictionary and the filing standards (services.catalog_admin)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, insert, select, update

from cityloop.adapters.db.models import T
from cityloop.bootstrap import Container
from cityloop.domain.audit import Change
from cityloop.domain.case import Urgency
from cityloop.domain.codes import ClassKind, Edition
from cityloop.domain.errors import PermissionDeniedError, ValidationError
from cityloop.domain.sla.units import TimeLimit, TimeUnit, parse_time_limit
from cityloop.services import catalog_admin as svc
from tests.conftest import _reset_postgres, at
from tests.support.city import City

NOW = at("2026-11-26 10:00")
# Reference tables a test of administration may change (PostgreSQL keeps them across tests).
REFERENCE = ("categories", "filing_standards", "disposal_limits", "calendars")


@pytest.fixture
def reference_kept(engine: Engine) -> Iterator[None]:
    """On PostgreSQL the reference tables outlive a test: put them back as they were.

    (SQLite tests each work on a copy of the seeded template, so nothing is needed there.)
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        saved = {
            name: [dict(r._mapping) for r in conn.execute(select(T[name]))] for name in REFERENCE
        }
    yield
    _reset_postgres(engine)  # cases and other users of the reference rows go first
    with engine.begin() as conn:
        for name in ("disposal_limits", "filing_standards", "categories"):
            conn.execute(delete(T[name]))
        for name in ("categories", "filing_standards", "disposal_limits"):
            conn.execute(insert(T[name]), saved[name])
        calendars = T["calendars"]
        for row in saved["calendars"]:
            conn.execute(update(calendars).where(calendars.c.id == row["id"]).values(**row))


pytestmark = pytest.mark.usefixtures("reference_kept")


def audit_rows(container: Container, entity: str) -> list[Any]:
    log = T["audit_log"]
    with container.engine.connect() as conn:
        return list(conn.execute(select(log).where(log.c.entity == entity).order_by(log.c.id)))


def matter(container: Container, code: str) -> Any:
    with container.uow(readonly=True) as uow:
        found = uow.catalog.category_by_code(Edition.CURRENT, ClassKind.MATTER, code)
    assert found is not None
    return found


def test_the_class_list_filters_by_kind_major_text_and_use(
    container: Container, city: City
) -> None:
    admin = city.actor("admin")
    page = svc.find_classes(
        container.uow(), svc.ClassQuery(kind=ClassKind.MATTER, text="井盖"), actor=admin
    )
    assert page.total == len(page.items) > 5
    assert all(c.kind is ClassKind.MATTER and "井盖" in c.name for c in page.items)
    counts = [page.standard_counts[c.id] for c in page.items if c.id in page.standard_counts]
    assert counts and all(0 < active <= total for active, total in counts)
    majors = svc.find_classes(
        container.uow(), svc.ClassQuery(kind=ClassKind.COMPONENT, major_code="02"), actor=admin
    )
    assert majors.items and {c.major_code for c in majors.items} == {"02"}
    local = svc.find_classes(container.uow(), svc.ClassQuery(local=True), actor=admin)
    assert local.items and all(c.local for c in local.items)
    assert any(c.code == "01999" and c.kind is ClassKind.COMPONENT for c in local.items)
    legacy = svc.find_classes(
        container.uow(), svc.ClassQuery(edition=Edition.LEGACY, kind=ClassKind.EVENT), actor=admin
    )
    assert legacy.total > 0 and all(c.edition is Edition.LEGACY for c in legacy.items)
    paged = svc.find_classes(container.uow(), svc.ClassQuery(page=2), actor=admin)
    first = svc.find_classes(container.uow(), svc.ClassQuery(), actor=admin)
    assert len(first.items) == svc.PAGE_SIZE and paged.items[0].code > first.items[-1].code
    with pytest.raises(PermissionDeniedError):
        svc.find_classes(container.uow(), svc.ClassQuery(), actor=city.actor("dispatcher"))


def test_editing_a_class_is_recorded_with_before_and_after(
    container: Container, city: City
) -> None:
    admin = city.actor("admin")
    before = matter(container, "06010")
    after = svc.update_class(
        container.uow(),
        before.id,
        name="  暴露垃圾（含  散落垃圾） ",
        active=False,
        self_handling_allowed=True,
        actor=admin,
        now=NOW,
    )
    assert after.name == "暴露垃圾（含 散落垃圾）" and not after.active
    stored = matter(container, "06010")
    assert stored == after
    [entry] = audit_rows(container, "category")
    assert entry.change == Change.UPDATE.value and entry.entity_key == "matter:06010"
    assert entry.before["name"] == before.name and entry.after["active"] is False
    assert entry.user_name == "admin"
    # A save that changes nothing writes nothing.
    svc.update_class(
        container.uow(),
        before.id,
        name=after.name,
        active=False,
        self_handling_allowed=True,
        actor=admin,
        now=NOW,
    )
    assert len(audit_rows(container, "category")) == 1


def test_bad_class_edits_change_nothing(container: Container, city: City) -> None:
    admin = city.actor("admin")
    before = matter(container, "06010")
    with pytest.raises(ValidationError) as err:
        svc.update_class(
            container.uow(),
            before.id,
            name="   ",
            active=True,
            self_handling_allowed=False,
            actor=admin,
            now=NOW,
        )
    assert err.value.code == "field_required"
    with container.uow(readonly=True) as uow:
        component = uow.catalog.category_by_code(Edition.CURRENT, ClassKind.COMPONENT, "01001")
    assert component is not None
    with pytest.raises(ValidationError) as err:
        svc.update_class(
            container.uow(),
            component.id,
            name="供水井盖",
            active=True,
            self_handling_allowed=True,
            actor=admin,
            now=NOW,
        )
    assert err.value.code == "self_handling_matter_only"
    with pytest.raises(PermissionDeniedError):
        svc.update_class(
            container.uow(),
            before.id,
            name="x",
            active=True,
            self_handling_allowed=False,
            actor=city.actor("shift_lead"),
            now=NOW,
        )
    assert matter(container, "06010") == before
    assert audit_rows(container, "category") == []


def test_a_local_component_class_takes_the_next_free_code_and_brings_its_matter(
    container: Container, city: City
) -> None:
    with container.uow(readonly=True) as uow:
        taken = uow.catalog.category_codes(Edition.CURRENT, ClassKind.COMPONENT, "01")
        taken |= uow.catalog.category_codes(Edition.CURRENT, ClassKind.MATTER, "01")
    expected = next(f"01{n:03d}" for n in range(999, 0, -1) if f"01{n:03d}" not in taken)
    created = svc.add_local_class(
        container.uow(),
        kind="component",
        major_code="01",
        name="充电桩",
        actor=city.actor("admin"),
        now=NOW,
    )
    assert created.code == expected and created.local and created.kind is ClassKind.COMPONENT
    anomaly = matter(container, expected)
    assert anomaly.name == "充电桩异常" and anomaly.component_code == expected and anomaly.local
    assert anomaly.major_name.endswith("类")  # the matter major's name, not the component's
    assert [r.change for r in audit_rows(container, "category")] == ["create", "create"]
    second = svc.add_local_class(
        container.uow(),
        kind="matter",
        major_code="06",
        name="共享单车乱停放",
        actor=city.actor("admin"),
        now=NOW,
    )
    assert second.code.startswith("06") and second.kind is ClassKind.MATTER and second.local


@pytest.mark.parametrize(
    ("kind", "major", "name", "code"),
    [
        ("component", "07", "广告牌", "major_class_unknown"),  # components stop at 05
        ("event", "01", "x", "local_class_current_only"),
        ("gadget", "01", "x", "class_kind_invalid"),
        ("matter", "06", "", "field_required"),
        ("matter", "06", "长" * 99, "field_too_long"),
    ],
)
def test_a_bad_local_class_is_refused(
    container: Container, city: City, kind: str, major: str, name: str, code: str
) -> None:
    with container.uow(readonly=True) as uow:
        before = uow.catalog.find_categories(local=True)[1]
    with pytest.raises(ValidationError) as err:
        svc.add_local_class(
            container.uow(),
            kind=kind,
            major_code=major,
            name=name,
            actor=city.actor("admin"),
            now=NOW,
        )
    assert err.value.code == code
    with container.uow(readonly=True) as uow:
        assert uow.catalog.find_categories(local=True)[1] == before


def test_next_local_code_counts_down_from_999() -> None:
    assert svc.next_local_code(set(), "06") == "06999"
    assert svc.next_local_code({"06999", "06998"}, "06") == "06997"
    assert svc.next_local_code({f"06{n:03d}" for n in range(1, 1000)}, "06") is None


def draft(**changes: Any) -> svc.StandardDraft:
    values: dict[str, Any] = {
        "condition": "机动车道上有散落垃圾",
        "normal_limit": parse_time_limit("2工作时"),
        "urgent_limit": parse_time_limit("1紧急工作时"),
        "closing_condition": "清理干净",
        "supervising_body": "区城市管理委员会",
        "responsible_body": "区环卫中心",
        "legal_basis": "《城市市容和环境卫生管理条例》",
        "legal_clause": "第三十二条",
        "collection_notes": "拍全景和近景",
    }
    values.update(changes)
    return svc.StandardDraft(**values)


def test_rows_of_filing_standard_are_added_edited_and_deactivated(
    container: Container, city: City
) -> None:
    admin = city.actor("admin")
    cls = matter(container, "06010")
    created = svc.add_standard(container.uow(), cls.id, draft(), actor=admin, now=NOW)
    detail = svc.class_detail(container.uow(), cls.id, actor=admin)
    row = next(s for s in detail.standards if s.id == created.id)
    assert row.limits == {
        Urgency.NORMAL: TimeLimit(Decimal(2), TimeUnit.WORK_HOUR),
        Urgency.URGENT: TimeLimit(Decimal(1), TimeUnit.URGENT_WORK_HOUR),
    }
    assert detail.extras[created.id]["legal_clause"] == "第三十二条"
    assert detail.standards[-1].id == created.id  # appended after the seeded rows
    edited = svc.update_standard(
        container.uow(),
        created.id,
        draft(normal_limit=parse_time_limit("1.5工作日"), urgent_limit=None, legal_clause=""),
        actor=admin,
        now=NOW,
    )
    assert edited.limits == {Urgency.NORMAL: parse_time_limit("1.5工作日")}
    with container.uow(readonly=True) as uow:
        stored = uow.catalog.standard(created.id)
        extras = uow.catalog.standard_extras([created.id])[created.id]
    assert stored == edited and extras["legal_clause"] == ""
    svc.set_standard_active(container.uow(), created.id, False, actor=admin, now=NOW)
    with container.uow(readonly=True) as uow:
        stored = uow.catalog.standard(created.id)
    assert stored is not None and not stored.active
    log = audit_rows(container, "filing_standard")
    assert [r.change for r in log] == ["create", "update", "update"]
    assert log[1].before["limits"] == {"normal": "2工作时", "urgent": "1紧急工作时"}
    assert log[1].after["limits"] == {"normal": "1.5工作日"}
    assert log[2].after == {"active": False}


def test_standards_belong_to_current_matter_classes_and_need_a_condition(
    container: Container, city: City
) -> None:
    admin = city.actor("admin")
    with container.uow(readonly=True) as uow:
        component = uow.catalog.category_by_code(Edition.CURRENT, ClassKind.COMPONENT, "01001")
        legacy = uow.catalog.find_categories(edition=Edition.LEGACY, limit=1)[0][0]
    assert component is not None
    for category_id in (component.id, legacy.id):
        with pytest.raises(ValidationError) as err:
            svc.add_standard(container.uow(), category_id, draft(), actor=admin, now=NOW)
        assert err.value.code == "standards_matter_only"
    cls = matter(container, "06010")
    with pytest.raises(ValidationError) as err:
        svc.add_standard(container.uow(), cls.id, draft(condition=" "), actor=admin, now=NOW)
    assert err.value.code == "field_required"
    with pytest.raises(ValidationError) as err:
        svc.add_standard(
            container.uow(),
            cls.id,
            draft(normal_limit=TimeLimit(Decimal("0.125"), TimeUnit.HOUR)),
            actor=admin,
            now=NOW,
        )
    assert err.value.code == "time_limit_precision"
    assert audit_rows(container, "filing_standard") == []


def table(container: Container, city: City) -> list[dict[str, Any]]:
    return svc.export_standards(container.uow(), actor=city.actor("admin"))


def test_the_standards_table_exports_every_row_with_its_limits(
    container: Container, city: City
) -> None:
    lines = table(container, city)
    with container.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(T["filing_standards"])).scalar()
    assert len(lines) == count > 500
    assert [key for key, _ in svc.COLUMNS] == list(lines[0])
    first = lines[0]
    assert first["class_code"] == "01001" and first["class_name"] == "供水井盖异常"
    assert first["normal_limit"] == "2紧急工作时" and first["active"] is True
    codes = [line["class_code"] for line in lines]
    assert codes == sorted(codes)


def test_importing_the_table_updates_adds_and_leaves_the_rest(
    container: Container, city: City
) -> None:
    lines = table(container, city)
    changed = dict(lines[3], condition=lines[3]["condition"] + "（含夜间）", urgent_limit="")
    new = {key: "" for key, _ in svc.COLUMNS} | {
        "class_code": 6010,  # as a spreadsheet stores a number: the leading zero is gone
        "condition": "集贸市场周边垃圾堆积",
        "normal_limit": "4工作时",
        "active": "是",
    }
    rows = [(n + 2, line) for n, line in enumerate(lines)]
    rows[3] = (5, changed)
    rows.append((len(rows) + 2, new))
    summary = svc.import_standards(container.uow(), rows, actor=city.actor("admin"), now=NOW)
    assert summary == svc.ImportSummary(added=1, updated=1, unchanged=len(lines) - 1)
    after = table(container, city)
    assert len(after) == len(lines) + 1
    row = next(line for line in after if line["id"] == changed["id"])
    assert row["condition"].endswith("（含夜间）") and row["urgent_limit"] == ""
    added = next(line for line in after if line["condition"] == "集贸市场周边垃圾堆积")
    assert added["class_code"] == "06010" and added["normal_limit"] == "4工作时"
    untouched = [line for line in after if line["id"] not in (changed["id"], added["id"])]
    assert untouched == [line for line in lines if line["id"] != changed["id"]]
    log = audit_rows(container, "filing_standard")
    assert sorted(r.change for r in log) == ["create", "import", "update"]


def test_an_import_with_bad_rows_reports_each_and_changes_nothing(
    container: Container, city: City
) -> None:
    lines = table(container, city)
    good = dict(lines[0], condition="改过的立案条件")
    rows = [
        (2, good),
        (3, dict(lines[1], normal_limit="两天")),
        (4, dict(lines[2], class_code="99001", id="")),
        (5, dict(lines[3], id=lines[0]["id"])),
        (6, dict(lines[4], active="maybe", condition="")),
        (7, dict(lines[5], id=999_999)),
    ]
    with pytest.raises(svc.RowsRejectedError) as err:
        svc.import_standards(container.uow(), rows, actor=city.actor("admin"), now=NOW)
    found = {(p.row, p.error.code) for p in err.value.problems}
    assert found == {
        (3, "time_limit_malformed"),
        (4, "unknown_category"),
        (5, "standard_id_repeated"),
        (6, "flag_invalid"),
        (7, "standard_not_found"),
    }
    assert err.value.params["count"] == len(err.value.problems)
    assert table(container, city) == lines
    assert audit_rows(container, "filing_standard") == []


def test_an_import_needs_rows_and_the_required_columns(container: Container, city: City) -> None:
    admin = city.actor("admin")
    with pytest.raises(ValidationError) as err:
        svc.import_standards(container.uow(), [], actor=admin, now=NOW)
    assert err.value.code == "import_empty"
    with pytest.raises(ValidationError) as err:
        svc.import_standards(
            container.uow(), [(2, {"class_code": "06010", "condition": "x"})], actor=admin, now=NOW
        )
    assert err.value.code == "import_column_missing"
    assert err.value.params["column"] == "Disposal limit (normal)"
    with pytest.raises(PermissionDeniedError):
        svc.import_standards(container.uow(), [], actor=city.actor("leader"), now=NOW)


def test_a_new_disposal_limit_leaves_filed_cases_deadlines(
    container: Container, city: City
) -> None:
    """Rewriting a standard's limit never moves a deadline already set."""
    from cityloop.domain.case import Source
    from cityloop.services.cases import NewReport, accept_case, file_case, report_case

    lon, lat = city.point("110101001001001")
    operator, lead = city.actor("operator"), city.actor("shift_lead")
    outcome = report_case(
        container.uow(),
        NewReport(source=Source.HOTLINE_12345, description="垃圾", category_code="06010",
                  lon=lon, lat=lat),
        actor=operator,
        now=NOW,
    )  # fmt: skip
    case = outcome.case
    case = accept_case(container.uow(), case.id, actor=operator, now=NOW, version=case.version).case
    cls = matter(container, "06010")
    standard = svc.class_detail(container.uow(), cls.id, actor=city.actor("admin")).standards[0]
    filed = file_case(
        container.uow(), case.id, actor=lead, now=NOW, version=case.version, standard_id=standard.id
    ).case
    assert filed.disposal_limit == standard.limits[Urgency.NORMAL]
    svc.update_standard(
        container.uow(),
        standard.id,
        draft(condition=standard.condition, normal_limit=parse_time_limit("10工作日")),
        actor=city.actor("admin"),
        now=NOW,
    )
    with container.uow(readonly=True) as uow:
        again = uow.cases.get(case.id)
    assert again is not None
    assert again.disposal_limit == filed.disposal_limit
    assert again.disposal_deadline == filed.disposal_deadline
