"""The working calendar as administrator data (services.calendar): clicking days, the working
week, importing a year; every change logged, bad input changing nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from cityloop.adapters.db.models import T
from cityloop.bootstrap import Container
from cityloop.domain.errors import PermissionDeniedError, ValidationError
from cityloop.domain.sla.calendar import DayKind, WorkWindow, parse_window
from cityloop.domain.sla.units import parse_time_limit
from cityloop.services import calendar as svc
from cityloop.services.catalog_admin import RowsRejectedError
from tests.conftest import at
from tests.integration.test_admin_catalog import reference_kept
from tests.support.city import City

__all__ = ["reference_kept"]
pytestmark = pytest.mark.usefixtures("reference_kept")
NOW = at("2026-11-26 10:00")


def kind_of(container: Container, day: date) -> str:
    with container.uow(readonly=True) as uow:
        return uow.sla.calendar().day_kind(day)


def audit_rows(container: Container, entity: str) -> list[Any]:
    log = T["audit_log"]
    with container.engine.connect() as conn:
        return list(conn.execute(select(log).where(log.c.entity == entity).order_by(log.c.id)))


def test_a_clicked_weekend_day_cycles_through_holiday_and_make_up_day(
    container: Container, city: City
) -> None:
    admin = city.actor("admin")
    saturday = date(2027, 1, 2)
    assert kind_of(container, saturday) == "rest"
    seen = []
    for _ in range(3):
        svc.cycle_day(container.uow(), saturday, actor=admin, now=NOW)
        seen.append(kind_of(container, saturday))
    assert seen == ["holiday", "makeup", "rest"]
    log = audit_rows(container, "calendar_day")
    assert [(r.before["kind"], r.after["kind"]) for r in log] == [
        (None, "holiday"),
        ("holiday", "workday"),
        ("workday", None),
    ]
    assert {r.entity_key for r in log} == {"2027-01-02"}


def test_a_clicked_weekday_skips_the_make_up_state_and_keeps_a_holiday_name(
    container: Container, city: City
) -> None:
    admin = city.actor("admin")
    monday = date(2027, 1, 4)
    assert svc.cycle_day(container.uow(), monday, actor=admin, now=NOW) is DayKind.HOLIDAY
    assert svc.cycle_day(container.uow(), monday, actor=admin, now=NOW) is None
    assert kind_of(container, monday) == "workday"
    svc.set_day(container.uow(), date(2027, 2, 6), "holiday", name="春节", actor=admin, now=NOW)
    svc.cycle_day(container.uow(), date(2027, 2, 6), actor=admin, now=NOW)  # a Saturday
    days = svc.year_days(container.uow(), 2027, actor=admin)
    assert days.kinds[date(2027, 2, 6)] == "makeup" and days.names[date(2027, 2, 6)] == "春节"


def test_the_year_view_counts_days_and_knows_entered_years(
    container: Container, city: City
) -> None:
    admin = city.actor("admin")
    days = svc.year_days(container.uow(), 2026, actor=admin)
    assert days.known and len(days.kinds) == 365
    assert days.kinds[date(2026, 10, 1)] == "holiday" and days.names[date(2026, 10, 1)]
    assert days.kinds[date(2026, 2, 14)] == "makeup"  # a Saturday worked for 春节
    assert sum(days.count(k) for k in ("workday", "rest", "holiday", "makeup")) == 365
    future = svc.year_days(container.uow(), 2027, actor=admin)
    assert not future.known and future.count("holiday") == 0
    svc.confirm_year(container.uow(), 2027, actor=admin, now=NOW)
    assert svc.year_days(container.uow(), 2027, actor=admin).known
    assert [r.entity_key for r in audit_rows(container, "calendar_year")] == ["2027"]
    with pytest.raises(ValidationError):
        svc.year_days(container.uow(), 1800, actor=admin)
    with pytest.raises(PermissionDeniedError):
        svc.year_days(container.uow(), 2026, actor=city.actor("operator"))


def test_the_working_week_and_hours_change_new_deadlines(container: Container, city: City) -> None:
    admin = city.actor("admin")
    start = at("2026-11-27 17:00")  # a Friday
    with container.uow(readonly=True) as uow:
        assert uow.sla.clocks().deadline(start, parse_time_limit("2工作时")) == at(
            "2026-11-30 09:00"
        )
    morning = [parse_window("09:00-12:00")]
    week: dict[int, list[WorkWindow]] = {d: [parse_window("08:00-12:00")] for d in range(5)}
    week[5] = morning  # Saturday mornings are worked
    svc.set_work_week(
        container.uow(),
        week=week,
        makeup_windows=[parse_window("08:30-12:00")],
        hours_per_workday=Decimal("4"),
        actor=admin,
        now=NOW,
    )
    with container.uow(readonly=True) as uow:
        calendar = uow.sla.calendar()
        clocks = uow.sla.clocks()
        assert uow.sla.custom_makeup_windows()
    assert calendar.hours_per_workday == Decimal(4)
    assert calendar.week[5] == tuple(morning) and calendar.week[6] == ()
    assert calendar.makeup_windows == (parse_window("08:30-12:00"),)
    # Friday 17:00 is outside the new windows: two working hours run Saturday 09:00-11:00.
    assert clocks.deadline(start, parse_time_limit("2工作时")) == at("2026-11-28 11:00")
    # One working day is now 4 working hours: Saturday's 3, then Monday 08:00-09:00.
    assert clocks.deadline(start, parse_time_limit("1工作日")) == at("2026-11-30 09:00")
    [entry] = audit_rows(container, "calendar_week")
    assert entry.before["hours_per_workday"] == "8" and entry.after["hours_per_workday"] == "4"
    assert entry.after["week"]["5"] == ["09:00-12:00"]


@pytest.mark.parametrize(
    ("week", "hours", "code"),
    [
        ({d: [] for d in range(7)}, Decimal(8), "work_week_empty"),
        ({0: [WorkWindow(480, 720), WorkWindow(600, 800)]}, Decimal(8), "work_windows_overlap"),
        ({0: [WorkWindow(480, 720)]}, Decimal(0), "hours_per_workday_invalid"),
        ({0: [WorkWindow(480, 720)]}, Decimal("7.333"), "hours_per_workday_precision"),
    ],
)
def test_a_bad_working_week_is_refused(
    container: Container, city: City, week: dict[int, list[WorkWindow]], hours: Decimal, code: str
) -> None:
    with container.uow(readonly=True) as uow:
        before = uow.sla.calendar().week
    with pytest.raises(ValidationError) as err:
        svc.set_work_week(
            container.uow(),
            week=week,
            makeup_windows=None,
            hours_per_workday=hours,
            actor=city.actor("admin"),
            now=NOW,
        )
    assert err.value.code == code
    with container.uow(readonly=True) as uow:
        assert uow.sla.calendar().week == before
    assert audit_rows(container, "calendar_week") == []


def rows(*lines: tuple[str, str, str]) -> list[tuple[int, dict[str, Any]]]:
    return [(n + 2, {"date": d, "kind": k, "name": name}) for n, (d, k, name) in enumerate(lines)]


def test_importing_a_year_replaces_its_days_and_marks_it_entered(
    container: Container, city: City
) -> None:
    admin = city.actor("admin")
    svc.set_day(container.uow(), date(2027, 3, 1), "holiday", name="手工", actor=admin, now=NOW)
    result = svc.import_year(
        container.uow(),
        2027,
        [
            *rows(
                ("2027-01-01", "holiday", "元旦"),
                ("2027/2/6", "休", "春节"),
                ("2027-02-20", "makeup_workday", "春节"),
                ("2026-12-31", "holiday", "去年"),
            ),
            (6, {"日期": date(2027, 10, 1), "类型": "holiday", "名称": "国庆节"}),
        ],
        actor=admin,
        now=NOW,
    )
    assert result == svc.YearImport(year=2027, holidays=3, workdays=1, other_years=1)
    days = svc.year_days(container.uow(), 2027, actor=admin)
    assert days.known
    assert days.kinds[date(2027, 1, 1)] == "holiday" and days.names[date(2027, 1, 1)] == "元旦"
    assert days.kinds[date(2027, 2, 20)] == "makeup"
    assert days.kinds[date(2027, 10, 1)] == "holiday"
    assert days.kinds[date(2027, 3, 1)] == "workday"  # replaced by the file's days
    assert kind_of(container, date(2026, 12, 31)) == "workday"  # another year: left out
    [entry] = [r for r in audit_rows(container, "calendar_year") if r.change == "import"]
    assert entry.before == {"2027-03-01": ["holiday", "手工"]}
    assert entry.after["2027-02-20"] == ["workday", "春节"]


def test_a_year_file_with_bad_rows_changes_nothing(container: Container, city: City) -> None:
    admin = city.actor("admin")
    with pytest.raises(RowsRejectedError) as err:
        svc.import_year(
            container.uow(),
            2027,
            rows(
                ("2027-01-01", "holiday", "元旦"),
                ("2027-13-01", "holiday", ""),
                ("2027-01-02", "vacation", ""),
                ("2027-01-01", "holiday", "again"),
                ("2027-01-03", "holiday", "名" * 51),
            ),
            actor=admin,
            now=NOW,
        )
    assert [(p.row, p.error.code) for p in err.value.problems] == [
        (3, "day_invalid"),
        (4, "day_kind_invalid"),
        (5, "day_repeated"),
        (6, "day_name_too_long"),
    ]
    assert kind_of(container, date(2027, 1, 1)) == "workday"
    assert audit_rows(container, "calendar_year") == []
    with pytest.raises(ValidationError) as empty:
        svc.import_year(
            container.uow(), 2028, rows(("2027-01-01", "holiday", "")), actor=admin, now=NOW
        )
    assert empty.value.code == "import_year_empty"
    with pytest.raises(ValidationError) as missing:
        svc.import_year(container.uow(), 2027, [(2, {"day": "2027-01-01"})], actor=admin, now=NOW)
    assert missing.value.code == "import_column_missing"
    with container.uow(readonly=True) as uow:
        assert not uow.sla.calendar().covers_year(2028)


def test_the_shipped_holiday_file_imports_as_is(container: Container, city: City) -> None:
    """The seed file's format (date,weekday,kind,holiday_en,holiday_zh,in_lieu) is accepted."""
    from cityloop.adapters.db.seed import read_csv

    lines = [
        (n + 2, line)
        for n, line in enumerate(read_csv("calendar", "cn_public_holidays_2004_2026.csv"))
    ]
    admin = city.actor("admin")
    before = svc.year_days(container.uow(), 2026, actor=admin)
    result = svc.import_year(container.uow(), 2026, lines, actor=admin, now=NOW)
    after = svc.year_days(container.uow(), 2026, actor=admin)
    assert (result.holidays, result.workdays) == (before.count("holiday"), before.count("makeup"))
    assert result.holidays > 20 and result.workdays > 3
    assert after.kinds == before.kinds and after.names == before.names
    assert result.other_years == len(lines) - result.holidays - result.workdays


def test_only_administrators_click_days(container: Container, city: City) -> None:
    with pytest.raises(PermissionDeniedError):
        svc.cycle_day(container.uow(), date(2027, 1, 2), actor=city.actor("operator"), now=NOW)
    with pytest.raises(PermissionDeniedError):
        svc.import_year(container.uow(), 2027, [], actor=city.actor("leader"), now=NOW)
    assert kind_of(container, date(2027, 1, 2)) == "rest"
    assert audit_rows(container, "calendar_day") == []
