"""The stage time limits page: a change applies to new stages, never to deadlines already set."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from cityloop.adapters.db.models import T
from cityloop.domain.sla.stages import Stage
from cityloop.domain.sla.units import parse_time_limit
from cityloop.entrypoints.web.routes.admin.time_limits import form_values
from cityloop.services.time_limits import DEFAULTS
from tests.conftest import at
from tests.web.conftest import Web


def form(**changes: str) -> dict[str, str]:
    values = form_values(DEFAULTS)
    values.update(changes)
    return values


def stored_case(web: Web, number: str) -> Any:
    with web.container.uow(readonly=True) as uow:
        case = uow.cases.get_by_number(number)
    assert case is not None
    return case


def policy(web: Web) -> Any:
    with web.container.uow(readonly=True) as uow:
        return uow.sla.policy()


def test_the_page_shows_every_stage_limit_and_the_thresholds(web: Web) -> None:
    assert web.sign_in("shift_lead").get("/admin/time-limits").status_code == 403
    html = web.sign_in("admin").get("/admin/time-limits").text
    for stage in ("accept", "verify", "file", "dispatch", "check", "close"):
        assert f'name="{stage}_amount"' in html
    assert 'name="dispose_amount"' not in html  # disposal limits come from the standards
    assert 'name="accept_amount" value="15"' in html and 'name="yellow" value="80"' in html
    assert 'name="red" value="100"' in html and 'value="minute" selected' in html


def test_a_changed_limit_keeps_set_deadlines_and_applies_to_new_cases(web: Web) -> None:
    """The rule of issue 5: a change to a time limit never alters deadlines already set."""
    first = web.api.report()
    before = stored_case(web, first["number"])
    assert before.stage == "accept"
    assert before.stage_deadline == at("2026-11-23 09:15")  # 15 minutes
    web.clock.advance(minutes=5)
    admin = web.sign_in("admin")
    response = admin.post("/admin/time-limits", form(accept_amount="2", accept_unit="hour"))
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/time-limits?saved=1"
    after = stored_case(web, first["number"])
    assert after.stage_deadline == before.stage_deadline
    assert after.stage_yellow_at == before.stage_yellow_at
    assert after.version == before.version
    # No restart: the very next report gets the new limit.
    second = stored_case(web, web.api.report()["number"])
    assert second.stage_deadline == at("2026-11-23 11:05")
    # And the case page still counts the first case against its own deadline.
    page = web.sign_in("operator").get(f"/cases/{first['number']}").text
    assert "10分" in page  # 09:15 − 09:05 left
    log = T["audit_log"]
    with web.container.engine.connect() as conn:
        entry = conn.execute(select(log).where(log.c.entity == "stage_limit")).one()
    assert entry.entity_key == "accept" and entry.after == {"value": "2小时"}
    assert entry.user_name == "admin"


def test_thresholds_and_rules_are_saved(web: Web) -> None:
    admin = web.sign_in("admin")
    response = admin.post(
        "/admin/time-limits",
        form(yellow="70", red="110", refusal_amount="4", refusal_unit="work_hour",
             max_extensions="3"),
    )  # fmt: skip
    assert response.headers["location"] == "/admin/time-limits?saved=4"
    current = policy(web)
    assert (current.lights.yellow, current.lights.red) == (Decimal("0.7"), Decimal("1.1"))
    assert current.refusal_window == parse_time_limit("4工作时")
    assert current.max_extensions == 3
    admin.get("/lang/en?next=/admin")
    page = admin.get(response.headers["location"]).text
    assert "Saved 4 changes" in page and 'name="yellow" value="70"' in page
    again = admin.post("/admin/time-limits", form(yellow="70", red="110", refusal_amount="4",
                       refusal_unit="work_hour", max_extensions="3"))  # fmt: skip
    assert again.headers["location"] == "/admin/time-limits?saved=0"
    assert "Nothing changed." in admin.get(again.headers["location"]).text


def test_bad_values_are_shown_at_their_fields_and_nothing_changes(web: Web) -> None:
    admin = web.sign_in("admin")
    admin.get("/lang/en?next=/admin")
    response = admin.post(
        "/admin/time-limits",
        form(verify_amount="-5", check_unit="fortnight", max_extensions="two"),
    )
    assert response.status_code == 422
    html = response.text
    assert "A time limit must be a positive amount, got -5" in html
    assert "Unknown time-limit unit fortnight" in html
    assert "two is not a whole number" in html
    assert 'name="verify_amount" value="-5"' in html  # what was typed stays
    red = admin.post("/admin/time-limits", form(yellow="90", red="80"))
    assert red.status_code == 422
    assert '<div class="field-error">The red light starts between the yellow threshold (90 %)' in (
        red.text
    )  # at the red field, not only above the form
    months = admin.post("/admin/time-limits", form(max_suspension_months="40"))
    assert months.status_code == 422
    assert "Longest suspension (months) must lie between 1 and 36" in months.text
    assert months.text.count("must lie between 1 and 36") == 2  # above the form and at its field
    assert policy(web).stage_limit(Stage.VERIFY) == parse_time_limit("30分钟")
    assert (policy(web).lights.yellow, policy(web).max_suspension_months) == (Decimal("0.8"), 12)
    no_token = admin.client.post("/admin/time-limits", data=form(accept_amount="1"))
    assert no_token.status_code == 403
    assert policy(web).stage_limit(Stage.ACCEPT) == parse_time_limit("15分钟")
