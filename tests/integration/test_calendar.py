"""The working calendar is data an administrator edits; the engine follows at once."""

from __future__ import annotations

from datetime import date

import pytest

from cityloop.bootstrap import Container
from cityloop.domain.errors import PermissionDeniedError, ValidationError
from cityloop.domain.sla.units import parse_time_limit
from cityloop.services.calendar import confirm_year, set_day
from tests.conftest import at
from tests.support.city import City


def deadline(container: Container, start: str, limit: str) -> object:
    with container.uow(readonly=True) as uow:
        return uow.sla.clocks().deadline(at(start), parse_time_limit(limit))


def test_an_administrator_enters_next_years_holidays(container: Container, city: City) -> None:
    admin = city.actor("admin")
    now = at("2026-11-26 10:00")
    assert deadline(container, "2026-12-31 17:00", "2工作时") == at("2027-01-01 09:00")
    with container.uow(readonly=True) as uow:
        assert not uow.sla.calendar().covers_year(2027)
    set_day(container.uow(), date(2027, 1, 1), "holiday", name="元旦", actor=admin, now=now)
    assert deadline(container, "2026-12-31 17:00", "2工作时") == at("2027-01-04 09:00")
    set_day(container.uow(), date(2027, 1, 2), "workday", name="元旦调休", actor=admin, now=now)
    assert deadline(container, "2026-12-31 17:00", "2工作时") == at("2027-01-02 09:00")
    set_day(container.uow(), date(2027, 1, 2), None, actor=admin, now=now)
    assert deadline(container, "2026-12-31 17:00", "2工作时") == at("2027-01-04 09:00")
    with container.uow(readonly=True) as uow:
        calendar = uow.sla.calendar()
        assert calendar.covers_year(2027)
        assert calendar.day_kind(date(2027, 1, 1)) == "holiday"
    confirm_year(container.uow(), 2028, actor=admin, now=now)
    with container.uow(readonly=True) as uow:
        assert uow.sla.calendar().covers_year(2028)


def test_only_administrators_edit_the_calendar(container: Container, city: City) -> None:
    now = at("2026-11-26 10:00")
    with pytest.raises(PermissionDeniedError) as err:
        set_day(
            container.uow(), date(2027, 1, 1), "holiday", actor=city.actor("dispatcher"), now=now
        )
    assert err.value.code == "admin_only"
    with pytest.raises(ValidationError) as err:
        set_day(container.uow(), date(2027, 1, 1), "vacation", actor=city.actor("admin"), now=now)
    assert err.value.code == "day_kind_invalid"
    with container.uow(readonly=True) as uow:
        assert uow.sla.calendar().day_kind(date(2027, 1, 1)) == "workday"


def test_stage_limits_and_policy_are_data(container: Container, city: City) -> None:
    from cityloop.domain.sla.stages import Stage

    with container.uow() as uow:
        uow.sla.set_stage_limit(Stage.ACCEPT, parse_time_limit("10分钟"))
        uow.sla.set_policy_value("max_extensions", 1)
        uow.sla.set_policy_value("refusal_window", "4工作时")
        uow.commit()
    with container.uow(readonly=True) as uow:
        policy = uow.sla.policy()
    assert policy.stage_limit(Stage.ACCEPT) == parse_time_limit("10分钟")
    assert policy.max_extensions == 1
    assert policy.refusal_window == parse_time_limit("4工作时")
