"""The closed loop and every branch, through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from cityloop.bootstrap import Container
from cityloop.domain.case import CaseState, CloseType, Source, TaskKind, TaskState, Urgency
from cityloop.domain.codes import ClassKind, Edition
from cityloop.domain.errors import ConflictError, DomainError, PermissionDeniedError
from cityloop.domain.roles import SYSTEM_ACTOR
from cityloop.domain.sla.clock import Clocks
from cityloop.domain.sla.status import stage_status
from cityloop.domain.sla.units import parse_time_limit
from cityloop.services import cases as svc
from cityloop.services.cases import NewReport
from tests.conftest import at
from tests.support.city import City
from tests.support.flow import GARBAGE, ILLEGAL_BUILDING, PHOTO, WATER_COVER, Flow


@pytest.fixture
def flow(container: Container, city: City) -> Flow:
    return Flow(container, city)


def clocks_of(flow: Flow) -> Clocks:
    with flow.container.uow(readonly=True) as uow:
        return uow.sla.clocks()


# -- the whole loop ---


def test_inspector_report_travels_the_whole_loop(flow: Flow) -> None:
    t0 = at("2026-11-23 09:00")  # Monday
    out = flow.report(t0)
    case = out.case
    assert case.state is CaseState.REPORTED
    assert case.number == "2026112300001"
    assert (case.grid_code, case.community_code, case.street_code, case.district_code) == (
        "110101001001001",
        "110101001001",
        "110101001",
        "110101",
    )
    assert case.stage == "accept"
    assert case.stage_deadline == t0 + timedelta(minutes=15)
    assert out.attachments[0].stage == "report"
    stored = flow.container.settings.attachments_dir / out.attachments[0].path
    assert stored.read_bytes().startswith(b"\xff\xd8")

    case = flow.act(svc.accept_case, case, "operator", t0 + timedelta(minutes=5)).case
    assert case.state is CaseState.PENDING_FILING and case.stage == "file"

    standard = flow.standard(GARBAGE)
    limit = standard.limit(Urgency.NORMAL)
    t_file = t0 + timedelta(minutes=10)
    case = flow.act(svc.file_case, case, "shift_lead", t_file, standard_id=standard.id).case
    assert case.state is CaseState.PENDING_DISPATCH
    assert case.disposal_limit == limit
    # 事件先属地、后属主: the street office of 东华门 first, then the city-management committee.
    assert svc.proposed_departments(flow.uow, case.id, actor=flow.city.actor("dispatcher")) == [
        flow.city.departments["dhm"],
        flow.city.departments["cgw"],
    ]
    assert case.proposed_department_id == flow.city.departments["dhm"]

    t_dispatch = t0 + timedelta(minutes=20)
    case = flow.act(
        svc.dispatch_case,
        case,
        "dispatcher",
        t_dispatch,
        department_id=flow.city.departments["cgw"],
    ).case
    assert case.state is CaseState.DISPATCHED
    clocks = clocks_of(flow)
    assert case.disposal_deadline == clocks.deadline(t_dispatch, limit)
    assert case.stage == "dispose" and case.stage_deadline == case.disposal_deadline
    assert case.refuse_until == min(
        case.disposal_deadline, clocks.deadline(t_dispatch, parse_time_limit("1工作日"))
    )

    case = flow.act(svc.sign_case, case, "handler_cgw", t0 + timedelta(minutes=30)).case
    assert case.state is CaseState.HANDLING
    t_fb = t0 + timedelta(hours=1)
    out = flow.act(
        svc.feedback_case, case, "handler_cgw", t_fb, comment="已清理完毕", attachments=[PHOTO]
    )
    case = out.case
    assert case.state is CaseState.HANDLED and case.handled_overdue is False
    assert out.attachments[0].stage == "feedback"

    out = flow.act(svc.request_check, case, "operator", t_fb + timedelta(minutes=5))
    assert out.task is not None and out.task.kind is TaskKind.CHECK
    assert out.task.assignee_id == flow.city.users["inspector1"]
    assert out.task.deadline == t_fb + timedelta(minutes=35)
    case = out.case
    assert case.state is CaseState.CHECKING

    out = svc.complete_task(
        flow.uow,
        out.task.id,
        actor=flow.city.actor("inspector1"),
        now=t_fb + timedelta(minutes=20),
        result="passed",
        comment="现场已清理",
        attachments=[PHOTO],
    )
    case = out.case
    assert case.state is CaseState.PENDING_CLOSE and case.check_result == "passed"
    assert out.task is not None and out.task.state is TaskState.DONE
    assert flow.task(case.id) is None

    t_close = t_fb + timedelta(minutes=30)
    case = flow.act(svc.close_case, case, "shift_lead", t_close).case
    assert case.state is CaseState.CLOSED
    assert case.close_type is CloseType.NORMAL and case.closed_at == t_close
    assert case.stage is None

    events = flow.events(case.id)
    assert [e.action for e in events] == [
        "report",
        "accept",
        "file",
        "dispatch",
        "sign",
        "feedback",
        "request_check",
        "pass_check",
        "close",
    ]
    assert [e.seq for e in events] == list(range(1, 10))
    assert events[3].stage_deadline == case.disposal_deadline
    assert events[3].department_id == flow.city.departments["cgw"]
    assert events[0].from_state is None and events[-1].to_state is CaseState.CLOSED
    assert case.version == 9


def test_hotline_report_is_verified_by_the_grid_inspector(flow: Flow) -> None:
    t0 = at("2026-11-23 21:30")
    case = flow.report(
        t0,
        by="operator",
        source=Source.HOTLINE_12345,
        grid="110101002001001",
        reporter_name="张先生",
        reporter_phone="13800000000",
    ).case
    assert case.reporter_phone == "13800000000" and case.source is Source.HOTLINE_12345
    out = flow.act(svc.request_verify, case, "operator", t0 + timedelta(minutes=3))
    assert out.case.state is CaseState.VERIFYING and out.case.stage == "verify"
    assert out.task is not None and out.task.kind is TaskKind.VERIFY
    assert out.task.assignee_id == flow.city.users["inspector2"]  # grid 4's inspector
    # Only the task's inspector may answer.
    with pytest.raises(DomainError) as err:
        svc.complete_task(
            flow.uow,
            out.task.id,
            actor=flow.city.actor("inspector1"),
            now=t0 + timedelta(minutes=10),
            result="confirmed",
        )
    assert err.value.code == "task_not_found"
    with pytest.raises(DomainError) as err:
        svc.complete_task(
            flow.uow,
            out.task.id,
            actor=flow.city.actor("inspector2"),
            now=t0 + timedelta(minutes=10),
            result="maybe",
        )
    assert err.value.code == "verify_result_invalid"
    done = svc.complete_task(
        flow.uow,
        out.task.id,
        actor=flow.city.actor("inspector2"),
        now=t0 + timedelta(minutes=20),
        result="confirmed",
    )
    assert done.case.state is CaseState.VERIFIED and done.case.verify_result == "confirmed"
    assert done.case.stage == "accept"
    with pytest.raises(ConflictError) as err:
        svc.complete_task(
            flow.uow,
            out.task.id,
            actor=flow.city.actor("inspector2"),
            now=t0 + timedelta(minutes=21),
            result="confirmed",
        )
    assert err.value.code == "task_closed"
    case = flow.act(svc.accept_case, done.case, "operator", t0 + timedelta(minutes=25)).case
    assert case.state is CaseState.PENDING_FILING


def test_verify_needs_an_inspector_for_the_grid_or_a_chosen_one(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    case = flow.report(
        t0, by="operator_xc", source=Source.HOTLINE_12319, grid="110102001001001"
    ).case
    with flow.container.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM inspector_grids")
    with pytest.raises(ConflictError) as err:
        flow.act(svc.request_verify, case, "operator_xc", t0)
    assert err.value.code == "no_inspector_for_grid"
    with pytest.raises(DomainError) as err:
        flow.act(
            svc.request_verify, case, "operator_xc", t0, inspector_id=flow.city.users["inspector1"]
        )  # a 东城 inspector
    assert err.value.code == "not_an_inspector"
    out = flow.act(
        svc.request_verify, case, "operator_xc", t0, inspector_id=flow.city.users["inspector_xc"]
    )
    assert out.task is not None and out.task.assignee_id == flow.city.users["inspector_xc"]


# -- filing branches ---


def test_reject_void_and_void_approval(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    rejected = flow.report(t0).case
    rejected = flow.act(svc.reject_case, rejected, "operator", t0, reason="不属于城管范围").case
    assert rejected.state is CaseState.REJECTED and rejected.stage is None

    voided = flow.report(t0).case
    voided = flow.act(svc.void_case, voided, "shift_lead", t0, reason="测试数据").case
    assert voided.state is CaseState.VOIDED

    asked = flow.filed(t0)
    asked = flow.act(svc.request_void, asked, "dispatcher", t0, reason="重复上报").case
    assert (
        asked.state is CaseState.VOID_REQUESTED and asked.resume_state is CaseState.PENDING_DISPATCH
    )
    kept = flow.act(
        svc.reject_void, asked, "shift_lead", t0 + timedelta(minutes=5), reason="不是重复"
    ).case
    assert kept.state is CaseState.PENDING_DISPATCH and kept.resume_state is None
    assert kept.stage == "dispatch" and kept.stage_started_at == t0 + timedelta(minutes=5)
    asked = flow.act(svc.request_void, kept, "dispatcher", t0, reason="重复上报").case
    gone = flow.act(svc.approve_void, asked, "shift_lead", t0).case
    assert gone.state is CaseState.VOIDED
    with pytest.raises(PermissionDeniedError) as err:
        flow.act(svc.void_case, flow.report(t0).case, "operator", t0, reason="x")
    assert err.value.code == "role_not_allowed"


def test_merge_a_duplicate_into_its_original(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    original = flow.filed(t0)
    duplicate = flow.report(t0 + timedelta(minutes=10), by="citizen", source=Source.PUBLIC).case
    merged = flow.act(
        svc.merge_case, duplicate, "operator", t0 + timedelta(minutes=12), into_case_id=original.id
    ).case
    assert merged.state is CaseState.MERGED and merged.merged_into_id == original.id
    assert flow.get(original.id).version == original.version  # the original is undisturbed
    lines = flow.events(original.id)
    assert lines[-1].action == "merged_in" and lines[-1].details == {"duplicate": duplicate.number}
    other = flow.report(t0).case
    closed = flow.act(svc.reject_case, flow.report(t0).case, "operator", t0, reason="x").case
    with pytest.raises(ConflictError) as err:
        flow.act(svc.merge_case, other, "operator", t0, into_case_id=closed.id)
    assert err.value.code == "merge_target_closed"
    with pytest.raises(ConflictError) as err:
        flow.act(svc.merge_case, other, "operator", t0, into_case_id=other.id)
    assert err.value.code == "merge_into_self"
    xicheng = flow.report(t0, by="inspector_xc", grid="110102001001001").case
    with pytest.raises(ConflictError) as err:
        flow.act(svc.merge_case, other, "operator", t0, into_case_id=xicheng.id)
    assert err.value.code == "merge_other_district"


def test_filing_checks_the_standard_and_may_correct_the_class(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    case = flow.report(t0).case
    case = flow.act(svc.accept_case, case, "operator", t0).case
    wrong = flow.standard(ILLEGAL_BUILDING)
    with pytest.raises(DomainError) as err:
        flow.act(svc.file_case, case, "shift_lead", t0, standard_id=wrong.id)
    assert err.value.code == "standard_class_mismatch"
    with pytest.raises(DomainError) as err:
        flow.act(svc.file_case, case, "shift_lead", t0, standard_id=999999)
    assert err.value.code == "unknown_standard"
    with pytest.raises(DomainError) as err:
        flow.act(svc.file_case, case, "shift_lead", t0, standard_id=wrong.id, urgency="asap")
    assert err.value.code == "urgency_invalid"
    urgent = flow.act(
        svc.file_case,
        case,
        "shift_lead",
        t0,
        standard_id=wrong.id,
        category_id=flow.city.category_ids[ILLEGAL_BUILDING],
        urgency=Urgency.URGENT,
    ).case
    assert urgent.category_id == flow.city.category_ids[ILLEGAL_BUILDING]
    assert urgent.urgency is Urgency.URGENT
    normal_limit = wrong.limit(Urgency.NORMAL)
    assert urgent.disposal_limit == wrong.limit(Urgency.URGENT)
    assert urgent.disposal_limit.amount == normal_limit.amount
    assert urgent.disposal_limit.clock.value == "continuous"


# -- dispatch branches ---


def test_two_level_dispatch_refusal_and_send_back(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    case = flow.filed(t0)
    case = flow.act(svc.dispatch_to_district, case, "dispatcher", t0).case
    assert case.state is CaseState.PENDING_SUB_DISPATCH and case.sub_dispatched
    with pytest.raises(PermissionDeniedError) as err:
        flow.act(
            svc.dispatch_case, case, "dispatcher", t0, department_id=flow.city.departments["cgw"]
        )
    assert err.value.code == "district_level_only"
    with pytest.raises(DomainError) as err:
        flow.act(
            svc.dispatch_case,
            case,
            "dispatcher_dc",
            t0,
            department_id=flow.city.departments["xc_cgw"],
        )
    assert err.value.code == "department_other_district"
    for bad in ("dc_centre", "inactive"):
        with pytest.raises(DomainError) as err:
            flow.act(
                svc.dispatch_case,
                case,
                "dispatcher_dc",
                t0,
                department_id=flow.city.departments[bad],
            )
        assert err.value.code == "department_cannot_handle"
    case = flow.act(
        svc.dispatch_case,
        case,
        "dispatcher_dc",
        t0 + timedelta(minutes=5),
        department_id=flow.city.departments["dhm"],
    ).case
    assert case.state is CaseState.DISPATCHED and case.department_id == flow.city.departments["dhm"]
    case = flow.act(
        svc.refuse_case, case, "handler_dhm", t0 + timedelta(hours=1), reason="不属于本街道"
    ).case
    assert case.state is CaseState.PENDING_SUB_DISPATCH  # back to the district centre
    assert case.department_id is None and case.disposal_deadline is None
    assert case.refusal_count == 1
    case = flow.act(
        svc.send_back, case, "dispatcher_dc", t0 + timedelta(hours=2), reason="非本区事权"
    ).case
    assert case.state is CaseState.PENDING_DISPATCH and not case.sub_dispatched


def test_refusal_is_possible_only_within_its_window(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    case = flow.dispatched(t0)
    assert case.refuse_until is not None
    with pytest.raises(ConflictError) as err:
        flow.act(
            svc.refuse_case,
            case,
            "handler_cgw",
            case.refuse_until + timedelta(seconds=1),
            reason="晚了",
        )
    assert err.value.code == "refusal_window_passed"
    with pytest.raises(DomainError) as err:
        flow.act(svc.sign_case, case, "handler_water", t0)
    assert err.value.code == "case_not_found"  # another department never sees it


def test_return_needs_dispatcher_approval_and_redoes_the_dispatch(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    case = flow.handling(t0)
    case = flow.act(svc.request_return, case, "handler_cgw", t0, reason="应由园林局处理").case
    assert case.state is CaseState.RETURN_REQUESTED
    kept = flow.act(svc.reject_return, case, "dispatcher", t0, reason="职责清楚").case
    assert kept.state is CaseState.HANDLING and kept.department_id == case.department_id
    case = flow.act(svc.request_return, kept, "handler_cgw", t0, reason="应由园林局处理").case
    back = flow.act(svc.approve_return, case, "dispatcher", t0 + timedelta(minutes=5)).case
    assert back.state is CaseState.PENDING_DISPATCH
    assert (back.department_id, back.disposal_deadline, back.return_count) == (None, None, 1)
    again = flow.act(
        svc.dispatch_case,
        back,
        "dispatcher",
        t0 + timedelta(minutes=10),
        department_id=flow.city.departments["yllh"],
    ).case
    assert again.first_dispatched_at == t0 and again.dispatched_at == t0 + timedelta(minutes=10)


# -- extension and suspension ---


def test_extension_adds_the_original_limit_at_most_twice(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    case = flow.handling(t0)
    limit = case.disposal_limit
    assert limit is not None and case.disposal_deadline is not None
    clocks = clocks_of(flow)
    for round_ in (1, 2):
        before = case.disposal_deadline
        assert before is not None
        case = flow.act(svc.request_extension, case, "handler_cgw", t0, reason="需要协调").case
        assert case.state is CaseState.EXTENSION_REQUESTED
        case = flow.act(svc.approve_extension, case, "dispatcher", t0).case
        assert case.state is CaseState.HANDLING and case.extension_count == round_
        assert case.disposal_deadline == clocks.deadline(before, limit)
        assert case.stage_deadline == case.disposal_deadline
    with pytest.raises(ConflictError) as err:
        flow.act(svc.request_extension, case, "handler_cgw", t0, reason="还要")
    assert err.value.code == "extension_limit_reached"


def test_rejected_extensions_do_not_count_and_overdue_cases_cannot_ask(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    case = flow.handling(t0)
    case = flow.act(svc.request_extension, case, "handler_cgw", t0, reason="需要协调").case
    case = flow.act(svc.reject_extension, case, "dispatcher", t0, reason="时间足够").case
    assert case.extension_count == 0 and case.state is CaseState.HANDLING
    assert case.disposal_deadline is not None
    late = case.disposal_deadline + timedelta(minutes=1)
    with pytest.raises(ConflictError) as err:
        flow.act(svc.request_extension, case, "handler_cgw", late, reason="晚了")
    assert err.value.code == "case_overdue"


def test_suspension_pauses_the_clock_until_resumed(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")  # Monday
    case = flow.handling(t0)
    deadline = case.disposal_deadline
    assert deadline is not None and case.disposal_limit is not None
    with pytest.raises(DomainError) as err:
        flow.act(
            svc.request_suspension,
            case,
            "handler_cgw",
            t0,
            reason="资金未到位",
            until=t0 + timedelta(days=400),
        )
    assert err.value.code == "suspension_until_invalid"
    with pytest.raises(DomainError) as err:
        flow.act(
            svc.request_suspension,
            case,
            "handler_cgw",
            t0,
            reason="资金未到位",
            until=t0 - timedelta(days=1),
        )
    assert err.value.code == "suspension_until_invalid"
    until = at("2026-12-07 08:00")
    case = flow.act(
        svc.request_suspension, case, "handler_cgw", t0, reason="资金未到位", until=until
    ).case
    assert case.state is CaseState.SUSPENSION_REQUESTED and case.suspend_until == until
    t_susp = at("2026-11-23 11:00")
    case = flow.act(svc.approve_suspension, case, "dispatcher", t_susp).case
    assert case.state is CaseState.SUSPENDED and case.suspended_at == t_susp
    clocks = clocks_of(flow)
    remaining = clocks.remaining(t_susp, deadline, case.disposal_limit.clock)
    assert case.suspended_remaining_us == remaining
    assert not case.overdue_at(deadline + timedelta(days=3))  # the clock stands still

    t_resume = at("2026-11-30 09:00")  # a week later, by hand
    case = flow.act(svc.resume_case, case, "dispatcher", t_resume).case
    assert case.state is CaseState.HANDLING and case.suspended_at is None
    assert case.disposal_deadline == clocks.shift(t_resume, remaining, case.disposal_limit.clock)
    with flow.container.uow(readonly=True) as uow:
        assert uow.cases.pauses(case.id) == [(t_susp, t_resume)]
    with flow.container.uow(readonly=True) as uow:
        status = stage_status(case, t_resume, clocks, uow.sla.policy())
    assert status is not None
    assert status.allowed_us == clocks.limit_us(case.disposal_limit)
    assert status.used_us == clocks.elapsed(t0, t_susp, case.disposal_limit.clock)
    # Elapsed disposal time excludes the suspension: exactly the limit is available.
    assert clocks.elapsed(
        t0, case.disposal_deadline, case.disposal_limit.clock, [(t_susp, t_resume)]
    ) == clocks.limit_us(case.disposal_limit)


def test_suspension_resumes_by_itself_at_the_chosen_date(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    case = flow.handling(t0)
    until = at("2026-12-01 08:00")
    case = flow.act(
        svc.request_suspension, case, "handler_cgw", t0, reason="等待审批", until=until
    ).case
    case = flow.act(svc.approve_suspension, case, "dispatcher", t0).case
    other = flow.handling(t0)
    other = flow.act(
        svc.request_suspension,
        other,
        "handler_cgw",
        t0,
        reason="季节原因",
        until=at("2027-03-01 08:00"),
    ).case
    other = flow.act(svc.approve_suspension, other, "dispatcher", t0).case
    assert (
        svc.resume_due_suspensions(flow.uow, actor=SYSTEM_ACTOR, now=at("2026-11-30 08:00")) == []
    )
    resumed = svc.resume_due_suspensions(flow.uow, actor=SYSTEM_ACTOR, now=at("2026-12-01 09:30"))
    assert [r.case.id for r in resumed] == [case.id]
    assert resumed[0].event.at == until and resumed[0].event.actor_role == "system"
    # the job says so in the event's details, not in words in the comment (a person's field)
    assert resumed[0].event.details is not None and resumed[0].event.details["scheduled"] is True
    assert resumed[0].event.comment == ""
    assert flow.get(case.id).state is CaseState.HANDLING
    assert flow.get(other.id).state is CaseState.SUSPENDED
    rejected = flow.handling(t0)
    rejected = flow.act(
        svc.request_suspension, rejected, "handler_cgw", t0, reason="x", until=until
    ).case
    rejected = flow.act(svc.reject_suspension, rejected, "dispatcher", t0, reason="不批准").case
    assert rejected.state is CaseState.HANDLING and rejected.suspend_until is None


# -- check, rework, close ---


def test_failed_check_leads_to_counted_rework_by_the_same_department(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    case = flow.checking(t0)
    task = flow.task(case.id)
    out = svc.complete_task(
        flow.uow,
        task.id,
        actor=flow.city.actor("inspector1"),
        now=t0 + timedelta(minutes=30),
        result="failed",
        comment="仍有垃圾",
    )
    case = out.case
    assert case.state is CaseState.CHECK_FAILED and case.stage == "close"
    with pytest.raises(ConflictError) as err:
        flow.act(svc.close_case, case, "shift_lead", t0 + timedelta(minutes=40))
    assert err.value.code == "close_type_needs_passed_check"
    t_rework = t0 + timedelta(minutes=45)
    case = flow.act(svc.rework_case, case, "shift_lead", t_rework, reason="清理不彻底").case
    assert case.state is CaseState.DISPATCHED and case.rework_count == 1
    assert case.department_id == flow.city.departments["cgw"]
    assert case.disposal_limit is not None
    assert case.disposal_deadline == clocks_of(flow).deadline(t_rework, case.disposal_limit)
    with pytest.raises(ConflictError) as err:  # no refusing one's own rework
        flow.act(svc.refuse_case, case, "handler_cgw", t_rework + timedelta(minutes=1), reason="x")
    assert err.value.code == "refusal_window_passed"
    case = flow.act(svc.sign_case, case, "handler_cgw", t_rework).case
    case = flow.act(
        svc.feedback_case, case, "handler_cgw", t_rework, comment="再次清理", attachments=[PHOTO]
    ).case
    assert case.check_result is None
    case = flow.act(svc.request_check, case, "operator", t_rework).case
    task = flow.task(case.id)
    case = svc.complete_task(
        flow.uow, task.id, actor=flow.city.actor("inspector1"), now=t_rework, result="failed"
    ).case
    case = flow.act(
        svc.close_case, case, "shift_lead", t_rework, close_type="special", comment="无法彻底解决"
    ).case
    assert case.state is CaseState.CLOSED and case.close_type is CloseType.SPECIAL


def test_overdue_feedback_closes_as_overdue(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    case = flow.handling(t0)
    assert case.disposal_deadline is not None
    late = case.disposal_deadline + timedelta(hours=1)
    case = flow.act(
        svc.feedback_case, case, "handler_cgw", late, comment="已处理", attachments=[PHOTO]
    ).case
    assert case.handled_overdue is True
    case = flow.act(svc.request_check, case, "operator", late).case
    case = svc.complete_task(
        flow.uow,
        flow.task(case.id).id,
        actor=flow.city.actor("inspector1"),
        now=late,
        result="passed",
    ).case
    with pytest.raises(DomainError) as err:
        flow.act(svc.close_case, case, "shift_lead", late, close_type="normal")
    assert err.value.code == "close_type_mismatch"
    closed = flow.act(svc.close_case, case, "shift_lead", late).case
    assert closed.close_type is CloseType.OVERDUE


def test_feedback_needs_evidence(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    case = flow.handling(t0)
    with pytest.raises(DomainError) as err:
        flow.act(svc.feedback_case, case, "handler_cgw", t0, comment="已处理")
    assert err.value.code == "evidence_required"
    with pytest.raises(DomainError) as err:
        flow.act(svc.feedback_case, case, "handler_cgw", t0, comment="  ", attachments=[PHOTO])
    assert err.value.code == "comment_required"


# -- self-handling, flags, call-back ---


def test_inspector_self_handling_is_reviewed_by_the_centre(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    case = flow.report(t0, code="07001", self_handled=True, description="小广告已清除").case
    assert case.state is CaseState.SELF_HANDLED and case.self_handled
    case = flow.act(svc.approve_self_handling, case, "operator", t0 + timedelta(minutes=5)).case
    assert case.state is CaseState.CLOSED and case.close_type is CloseType.NORMAL
    again = flow.report(t0, code="07001", self_handled=True, description="小广告").case
    again = flow.act(svc.reject_self_handling, again, "operator", t0, reason="照片不清楚").case
    assert again.state is CaseState.REPORTED and not again.self_handled
    with pytest.raises(ConflictError) as err:
        flow.report(t0, code=ILLEGAL_BUILDING, self_handled=True)
    assert err.value.code == "self_handling_not_allowed"


def test_supervise_remind_and_call_back_are_flags(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    case = flow.dispatched(t0, by="operator", source=Source.HOTLINE_12345)
    case = flow.act(svc.supervise_case, case, "leader", t0, comment="尽快处理").case
    assert case.supervised and case.state is CaseState.DISPATCHED
    with pytest.raises(ConflictError):
        flow.act(svc.supervise_case, case, "leader", t0, comment="again")
    case = flow.act(svc.remind_case, case, "operator", t0).case
    case = flow.act(svc.remind_case, case, "dispatcher", t0).case
    assert case.remind_count == 2 and case.state is CaseState.DISPATCHED
    case = flow.act(svc.sign_case, case, "handler_cgw", t0).case
    case = flow.act(
        svc.feedback_case, case, "handler_cgw", t0, comment="ok", attachments=[PHOTO]
    ).case
    case = flow.act(svc.request_check, case, "operator", t0).case
    case = svc.complete_task(
        flow.uow,
        flow.task(case.id).id,
        actor=flow.city.actor("inspector1"),
        now=t0,
        result="passed",
    ).case
    case = flow.act(svc.close_case, case, "shift_lead", t0).case
    with pytest.raises(DomainError) as err:
        flow.act(svc.callback_case, case, "operator", t0, satisfaction=9)
    assert err.value.code == "satisfaction_invalid"
    case = flow.act(svc.callback_case, case, "operator", t0, satisfaction=2, comment="满意").case
    assert case.satisfaction == 2 and case.state is CaseState.CLOSED


# -- intake details ---


def test_component_report_goes_to_the_owner_first(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    case = flow.report(
        t0, code=WATER_COVER, component_code=flow.city.component_code, lon=None, lat=None
    ).case
    assert case.component_id == flow.city.component_id
    assert case.grid_code == "110101001001001"  # from the component's recorded position
    case = flow.act(svc.accept_case, case, "operator", t0).case
    standard = flow.standard(WATER_COVER)
    case = flow.act(svc.file_case, case, "shift_lead", t0, standard_id=standard.id).case
    assert svc.proposed_departments(flow.uow, case.id, actor=flow.city.actor("dispatcher")) == [
        flow.city.departments["water"],
        flow.city.departments["dhm"],
    ]
    with pytest.raises(DomainError) as err:
        flow.report(t0, code="01002", component_code=flow.city.component_code)
    assert err.value.code == "component_class_mismatch"


def test_legacy_codes_are_mapped_to_the_current_edition(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    case = flow.report(t0, code="0101", edition=Edition.LEGACY, kind=ClassKind.COMPONENT).case
    with flow.container.uow(readonly=True) as uow:
        category = uow.catalog.category(case.category_id or 0)
    assert category is not None
    assert (category.edition, category.kind, category.code, category.name) == (
        Edition.CURRENT,
        ClassKind.MATTER,
        "01001",
        "供水井盖异常",
    )
    event = flow.report(t0, code="0102", edition=Edition.LEGACY, kind=ClassKind.EVENT).case
    with flow.container.uow(readonly=True) as uow:
        category = uow.catalog.category(event.category_id or 0)
    assert category is not None and category.code == "06010"  # 暴露垃圾
    with pytest.raises(DomainError) as err:
        flow.report(t0, code="0502", edition=Edition.LEGACY, kind=ClassKind.COMPONENT)
    assert err.value.code == "legacy_class_unmapped"  # 人防工事 has no 47678.5 class


def test_a_grid_code_can_stand_for_the_position(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    case = flow.report(t0, lon=None, lat=None, grid_code="110101002001001").case
    assert case.grid_code == "110101002001001"
    legacy = flow.report(t0, lon=None, lat=None, grid_code="11010100200101").case
    assert legacy.grid_code == "110101002001001"
    with pytest.raises(DomainError) as err:
        flow.report(t0, grid_code="110101002001001")  # the point lies in grid 1
    assert err.value.code == "grid_mismatch"


def test_case_numbers_count_per_local_day(flow: Flow) -> None:
    first = flow.report(at("2026-11-23 23:59")).case
    second = flow.report(at("2026-11-24 00:01")).case  # 16:01 UTC the day before
    third = flow.report(at("2026-11-24 08:00")).case
    assert [first.number, second.number, third.number] == [
        "2026112300001",
        "2026112400001",
        "2026112400002",
    ]


def test_district_users_never_learn_of_other_districts_cases(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    case = flow.report(t0).case
    with pytest.raises(DomainError) as err:
        flow.act(svc.accept_case, case, "operator_xc", t0)
    assert err.value.code == "case_not_found"
    assert err.value.kind == "not_found"
    with pytest.raises(PermissionDeniedError) as err:
        flow.report(t0, by="operator_xc", source=Source.HOTLINE_12345)
    assert err.value.code == "outside_scope"


def test_files_are_checksummed_and_shared(flow: Flow, tmp_path: Path) -> None:
    t0 = at("2026-11-23 10:00")
    a = flow.report(t0).attachments[0]
    b = flow.report(t0).attachments[0]
    assert a.sha256 == b.sha256 and a.path == b.path and a.id != b.id
    data = (flow.container.settings.attachments_dir / a.path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == a.sha256 and a.size == len(data)


def test_report_requires_description_and_checks_contact(flow: Flow) -> None:
    t0 = at("2026-11-23 10:00")
    with pytest.raises(DomainError) as err:
        svc.report_case(
            flow.uow,
            NewReport(
                source=Source.INSPECTOR,
                description=" ",
                category_code=GARBAGE,
                lon=116.4005,
                lat=39.9115,
            ),
            actor=flow.city.actor("inspector1"),
            now=t0,
        )
    assert err.value.code == "description_required"
    with pytest.raises(DomainError) as err:
        flow.report(t0, by="operator", source=Source.HOTLINE_12345, reporter_phone="call me")
    assert err.value.code == "phone_invalid"


def test_files_the_transport_stored_already_are_not_written_again(flow: Flow) -> None:
    """The API stores a photo and its thumbnail beside the event loop; the action records
    those entries and writes nothing itself."""
    t0 = at("2026-11-23 10:00")
    case = flow.handling(t0)
    files = flow.container.files
    photo = files.store(b"\xff\xd8\xff\xe0 cleaned photo", suffix=".jpg")
    thumb = files.store(b"\xff\xd8\xff\xe0 its thumbnail", suffix=".jpg")
    before = sorted(p for p in files.root.rglob("*") if p.is_file())
    ready = replace(PHOTO, stored=photo, thumbnail=b"thumb", thumbnail_stored=thumb)
    out = flow.act(
        svc.feedback_case,
        case,
        "handler_cgw",
        t0 + timedelta(hours=1),
        comment="已清理",
        attachments=[ready],
    )
    (attachment,) = out.attachments
    assert (attachment.path, attachment.sha256, attachment.size) == (
        photo.path,
        photo.sha256,
        photo.size,
    )
    assert attachment.thumbnail_path == thumb.path
    assert sorted(p for p in files.root.rglob("*") if p.is_file()) == before
