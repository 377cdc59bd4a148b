"""Bad input changes nothing; concurrent writers and retries lose nothing and double nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from cityloop.bootstrap import Container
from cityloop.domain.case import CaseState, Source
from cityloop.domain.errors import (
    CaseChangedError,
    ConflictError,
    DomainError,
    PermissionDeniedError,
    TransitionNotAllowedError,
    ValidationError,
)
from cityloop.services import cases as svc
from cityloop.services.cases import NewReport
from tests.conftest import at
from tests.support.city import City
from tests.support.flow import GARBAGE, PHOTO, Flow

T0 = at("2026-11-23 10:00")


@pytest.fixture
def flow(container: Container, city: City) -> Flow:
    return Flow(container, city)


def unchanged(flow: Flow, attempt: Callable[[], Any], error: type[DomainError], code: str) -> None:
    """``attempt`` fails with ``code`` and leaves every table exactly as it was."""
    before = flow.snapshot()
    with pytest.raises(error) as err:
        attempt()
    assert err.value.code == code
    assert flow.snapshot() == before


def test_bad_reports_are_refused_and_leave_nothing_behind(flow: Flow) -> None:
    flow.report(T0)  # something in the tables already
    lon, lat = flow.city.point("110101001001001")

    def report(**fields: Any) -> Callable[[], Any]:
        body: dict[str, Any] = {
            "source": Source.INSPECTOR,
            "description": "垃圾",
            "category_code": GARBAGE,
            "lon": lon,
            "lat": lat,
            "attachments": [PHOTO],
        }
        body.update(fields)
        by = body.pop("by", "inspector1")
        return lambda: svc.report_case(
            flow.uow, NewReport(**body), actor=flow.city.actor(by), now=T0
        )

    unchanged(flow, report(category_code="06500"), ValidationError, "unknown_category")
    unchanged(flow, report(category_code="6010"), ValidationError, "class_code_length")
    unchanged(flow, report(category_code="0601O"), ValidationError, "class_code_not_digits")
    unchanged(
        flow,
        report(lon=None, lat=None, grid_code="11010100100109"),
        ValidationError,
        "unknown_grid",
    )
    unchanged(
        flow,
        report(lon=None, lat=None, grid_code="1101010010010011"),
        ValidationError,
        "grid_code_length",
    )
    unchanged(
        flow,
        report(lon=None, lat=None, grid_code="11010100100A001"),
        ValidationError,
        "grid_code_not_digits",
    )
    unchanged(flow, report(lon=116.30, lat=39.90), ValidationError, "point_outside_city")
    unchanged(flow, report(lon=190.0, lat=39.90), ValidationError, "position_invalid")
    unchanged(flow, report(lon=116.40, lat=None), ValidationError, "position_incomplete")
    unchanged(flow, report(lon=None, lat=None), ValidationError, "position_required")
    unchanged(
        flow, report(component_code="110101010010000019"), ValidationError, "component_code_length"
    )
    unchanged(
        flow,
        report(category_code="01001", component_code="11010101001000999"),
        ValidationError,
        "unknown_component",
    )
    unchanged(flow, report(description="长" * 2001), ValidationError, "description_too_long")
    unchanged(flow, report(by="citizen"), PermissionDeniedError, "source_not_allowed")
    unchanged(flow, report(by="handler_cgw"), PermissionDeniedError, "role_not_allowed")
    from cityloop.services.cases import NewAttachment

    unchanged(
        flow,
        report(attachments=[NewAttachment("x.jpg", "image/jpeg", b"")]),
        ValidationError,
        "attachment_empty",
    )


def test_bad_actions_are_refused_and_change_nothing(flow: Flow) -> None:
    case = flow.handling(T0)
    standard = flow.standard(GARBAGE)
    act = flow.act

    # wrong state: a case being handled cannot be filed
    unchanged(
        flow,
        lambda: act(svc.file_case, case, "shift_lead", T0, standard_id=standard.id),
        TransitionNotAllowedError,
        "transition_not_allowed",
    )
    # wrong role: an operator cannot approve an extension (and there is no request anyway)
    unchanged(
        flow,
        lambda: act(svc.feedback_case, case, "operator", T0, comment="x", attachments=[PHOTO]),
        PermissionDeniedError,
        "role_not_allowed",
    )
    # stale version
    unchanged(
        flow,
        lambda: act(
            svc.request_return, case, "handler_cgw", T0, reason="x", version=case.version - 1
        ),
        CaseChangedError,
        "case_changed",
    )
    # missing reason
    unchanged(
        flow,
        lambda: act(svc.request_return, case, "handler_cgw", T0, reason=" "),
        ValidationError,
        "reason_required",
    )
    # another department
    unchanged(
        flow,
        lambda: act(svc.feedback_case, case, "handler_water", T0, comment="x", attachments=[PHOTO]),
        DomainError,
        "case_not_found",
    )
    # unknown case
    unchanged(
        flow,
        lambda: svc.sign_case(
            flow.uow, 987654, actor=flow.city.actor("handler_cgw"), now=T0, version=None
        ),
        DomainError,
        "case_not_found",
    )
    # a suspension end more than a year ahead
    unchanged(
        flow,
        lambda: act(
            svc.request_suspension,
            case,
            "handler_cgw",
            T0,
            reason="x",
            until=T0 + timedelta(days=367),
        ),
        ValidationError,
        "suspension_until_invalid",
    )
    assert flow.get(case.id).state is CaseState.HANDLING


def test_a_stale_version_loses_and_the_winner_is_kept(flow: Flow) -> None:
    case = flow.filed(T0)
    seen = case.version
    done = flow.act(
        svc.dispatch_case,
        case,
        "dispatcher",
        T0,
        department_id=flow.city.departments["cgw"],
        version=seen,
    ).case
    with pytest.raises(CaseChangedError) as err:
        flow.act(
            svc.dispatch_case,
            case,
            "dispatcher",
            T0,
            department_id=flow.city.departments["yllh"],
            version=seen,
        )
    assert err.value.params["expected"] == seen and err.value.params["actual"] == seen + 1
    assert err.value.kind == "conflict"
    stored = flow.get(case.id)
    assert stored.department_id == flow.city.departments["cgw"] == done.department_id
    assert [e.action for e in flow.events(case.id)].count("dispatch") == 1


def test_concurrent_actions_on_one_case_exactly_one_wins(flow: Flow) -> None:
    """Two dispatchers press "dispatch" on the same version at the same moment."""
    for round_ in range(4):
        case = flow.filed(T0 + timedelta(minutes=round_))
        barrier = threading.Barrier(2)
        results: list[object] = []

        def dispatch(
            department: str,
            case_id: int = case.id,
            version: int = case.version,
            barrier: threading.Barrier = barrier,
            results: list[object] = results,
        ) -> None:
            barrier.wait()
            try:
                results.append(
                    svc.dispatch_case(
                        flow.container.uow(),
                        case_id,
                        actor=flow.city.actor("dispatcher"),
                        now=T0,
                        version=version,
                        department_id=flow.city.departments[department],
                    )
                )
            except DomainError as exc:
                results.append(exc)

        threads = [threading.Thread(target=dispatch, args=(d,)) for d in ("cgw", "yllh")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wins = [r for r in results if isinstance(r, svc.Outcome)]
        losses = [r for r in results if isinstance(r, DomainError)]
        assert len(wins) == 1 and len(losses) == 1
        assert losses[0].code == "case_changed"
        stored = flow.get(case.id)
        assert stored.department_id == wins[0].case.department_id
        assert stored.version == case.version + 1
        assert [e.action for e in flow.events(case.id)].count("dispatch") == 1


def test_the_same_report_twice_gives_the_same_case(flow: Flow) -> None:
    first = flow.report(T0, key="phone-42-0001")
    again = flow.report(T0 + timedelta(seconds=5), key="phone-42-0001")
    assert again.replayed and not first.replayed
    assert again.case.id == first.case.id and again.case.number == first.case.number
    assert flow.snapshot()["counts"]["cases"] == 1
    assert len(flow.events(first.case.id)) == 1
    # Another user's identical key is another report.
    other = flow.report(T0, key="phone-42-0001", by="inspector2", grid="110101002001001")
    assert other.case.id != first.case.id
    # The same key with a different report is refused and changes nothing.
    before = flow.snapshot()
    with pytest.raises(ConflictError) as err:
        flow.report(T0, key="phone-42-0001", description="不同的描述")
    assert err.value.code == "idempotency_key_reused"
    assert flow.snapshot() == before


def test_concurrent_retries_of_one_report_create_one_case(flow: Flow) -> None:
    barrier = threading.Barrier(4)
    outcomes: list[svc.Outcome] = []
    errors: list[BaseException] = []

    def send() -> None:
        barrier.wait()
        try:
            outcomes.append(flow.report(T0, key="flaky-network-7"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({o.case.id for o in outcomes}) == 1
    assert sum(1 for o in outcomes if not o.replayed) == 1
    assert flow.snapshot()["counts"]["cases"] == 1
