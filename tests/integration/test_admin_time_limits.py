"""Stage time limits, lights and clock rules (services.time_limits): a change never moves a
deadline already set, and the next case follows it without a restart."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from cityloop.adapters.db.models import T
from cityloop.bootstrap import Container
from cityloop.domain.case import Source
from cityloop.domain.errors import PermissionDeniedError, ValidationError
from cityloop.domain.sla.stages import Stage
from cityloop.domain.sla.units import parse_time_limit
from cityloop.services import time_limits as svc
from cityloop.services.cases import NewReport, report_case
from tests.conftest import at
from tests.support.city import City

NOW = at("2026-11-23 09:00")  # a Monday


def settings(container: Container, city: City) -> svc.TimeLimitSettings:
    return svc.current_settings(container.uow(), actor=city.actor("admin"))


def report(container: Container, city: City, when: Any) -> Any:
    lon, lat = city.point("110101001001001")
    return report_case(
        container.uow(),
        NewReport(Source.HOTLINE_12345, "路边有暴露垃圾", "06010", lon=lon, lat=lat),
        actor=city.actor("operator"),
        now=when,
    ).case


def audit_rows(container: Container) -> list[Any]:
    log = T["audit_log"]
    with container.engine.connect() as conn:
        return list(conn.execute(select(log).order_by(log.c.id)))


def test_the_defaults_are_shown(container: Container, city: City) -> None:
    current = settings(container, city)
    assert current == svc.DEFAULTS
    assert set(current.stage_limits) == set(svc.STAGES) and Stage.DISPOSE not in svc.STAGES
    assert current.stage_limits[Stage.ACCEPT] == parse_time_limit("15分钟")
    assert (current.yellow, current.red) == (Decimal("0.8"), Decimal("1.0"))


def test_a_new_stage_limit_applies_to_new_cases_only(container: Container, city: City) -> None:
    early = report(container, city, NOW)
    assert early.stage == "accept" and early.stage_deadline == NOW + timedelta(minutes=15)
    limits = dict(settings(container, city).stage_limits)
    limits[Stage.ACCEPT] = parse_time_limit("45分钟")
    changed = svc.save_settings(
        container.uow(),
        replace(settings(container, city), stage_limits=limits),
        actor=city.actor("admin"),
        now=NOW + timedelta(minutes=5),
    )
    assert changed == ["accept"]
    with container.uow(readonly=True) as uow:
        kept = uow.cases.get(early.id)
    assert kept is not None
    assert kept.stage_deadline == NOW + timedelta(minutes=15)  # set when its stage began
    assert kept.stage_yellow_at == early.stage_yellow_at
    later = report(container, city, NOW + timedelta(minutes=5))
    assert later.stage_deadline == NOW + timedelta(minutes=50)  # the new 45 minutes
    [entry] = audit_rows(container)
    assert (entry.entity, entry.entity_key) == ("stage_limit", "accept")
    assert entry.before == {"value": "15分钟"} and entry.after == {"value": "45分钟"}


def test_thresholds_and_rules_are_stored_in_any_order(container: Container, city: City) -> None:
    admin = city.actor("admin")
    base = settings(container, city)
    # Down: the new red lies below the stored yellow.
    svc.save_settings(
        container.uow(),
        replace(base, yellow=Decimal("0.5"), red=Decimal("0.6")),
        actor=admin,
        now=NOW,
    )
    assert (settings(container, city).yellow, settings(container, city).red) == (
        Decimal("0.5"),
        Decimal("0.6"),
    )
    # Up: the new yellow lies above the stored red.
    changed = svc.save_settings(
        container.uow(),
        replace(
            base,
            yellow=Decimal("0.9"),
            red=Decimal("1.2"),
            refusal_window=parse_time_limit("4工作时"),
            numbers={"max_extensions": 1, "max_suspension_months": 6},
        ),
        actor=admin,
        now=NOW,
    )
    assert set(changed) == {
        "light_yellow",
        "light_red",
        "refusal_window",
        "max_extensions",
        "max_suspension_months",
    }
    with container.uow(readonly=True) as uow:
        policy = uow.sla.policy()
    assert (policy.lights.yellow, policy.lights.red) == (Decimal("0.9"), Decimal("1.2"))
    assert policy.refusal_window == parse_time_limit("4工作时")
    assert (policy.max_extensions, policy.max_suspension_months) == (1, 6)
    assert policy.feedback_min_attachments == 1
    # Saving the same again changes nothing and logs nothing.
    count = len(audit_rows(container))
    assert svc.save_settings(container.uow(), settings(container, city), actor=admin, now=NOW) == []
    assert len(audit_rows(container)) == count


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"yellow": Decimal("0")}, "light_yellow_out_of_range"),
        ({"yellow": Decimal("1.1"), "red": Decimal("1.2")}, "light_yellow_out_of_range"),
        ({"yellow": Decimal("0.9"), "red": Decimal("0.8")}, "light_red_out_of_range"),
        ({"red": Decimal("3.5")}, "light_red_out_of_range"),
        ({"numbers": {"max_extensions": 11}}, "setting_out_of_range"),
        ({"numbers": {"max_suspension_months": 0}}, "setting_out_of_range"),
        ({"numbers": {"sleep": 1}}, "policy_key_unknown"),
        ({"refusal_window": parse_time_limit("0.005小时")}, "time_limit_precision"),
        ({"stage_limits": {Stage.DISPOSE: parse_time_limit("2工作日")}}, "stage_without_limit"),
        (
            {"stage_limits": {Stage.CHECK: parse_time_limit("123456789分钟")}},
            "time_limit_precision",
        ),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(
    container: Container, city: City, changes: dict[str, Any], code: str
) -> None:
    before = settings(container, city)
    with pytest.raises(ValidationError) as err:
        svc.save_settings(
            container.uow(), replace(before, **changes), actor=city.actor("admin"), now=NOW
        )
    assert err.value.code == code
    assert settings(container, city) == before
    assert audit_rows(container) == []


def test_only_an_administrator_reads_or_changes_limits(container: Container, city: City) -> None:
    with pytest.raises(PermissionDeniedError):
        svc.current_settings(container.uow(), actor=city.actor("dispatcher"))
    with pytest.raises(PermissionDeniedError):
        svc.save_settings(container.uow(), svc.DEFAULTS, actor=city.actor("leader"), now=NOW)
