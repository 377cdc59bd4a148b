"""Bring a fresh case into any state of the workflow, through the services."""

from __future__ import annotations

from datetime import datetime, timedelta

from cityloop.domain.case import Case, CaseState, Source
from cityloop.services import cases as svc
from tests.support.flow import PHOTO, Flow


def drive(flow: Flow, state: CaseState, when: datetime) -> Case:
    """A new case in ``state``: reported by a citizen (so that call-backs apply) in grid 1,
    handled by the city management committee (城管委)."""
    s = CaseState
    if state is s.SELF_HANDLED:
        return flow.report(when, code="07001", self_handled=True).case
    case = flow.report(when, by="citizen", source=Source.PUBLIC).case
    if state is s.REPORTED:
        return case
    if state in (s.VERIFYING, s.VERIFIED):
        case = flow.act(svc.request_verify, case, "operator", when).case
        if state is s.VERIFYING:
            return case
        task = flow.task(case.id)
        return svc.complete_task(
            flow.uow, task.id, actor=flow.city.actor("inspector1"), now=when, result="confirmed"
        ).case
    if state in (s.REJECTED, s.MERGED):
        if state is s.REJECTED:
            return flow.act(svc.reject_case, case, "operator", when, reason="重复").case
        original = flow.report(when).case
        return flow.act(svc.merge_case, case, "operator", when, into_case_id=original.id).case
    case = flow.act(svc.accept_case, case, "operator", when).case
    if state is s.PENDING_FILING:
        return case
    if state in (s.VOID_REQUESTED, s.VOIDED):
        case = flow.act(svc.request_void, case, "operator", when, reason="无效").case
        if state is s.VOID_REQUESTED:
            return case
        return flow.act(svc.approve_void, case, "shift_lead", when).case
    standard = flow.standard("06010")
    case = flow.act(svc.file_case, case, "shift_lead", when, standard_id=standard.id).case
    if state is s.PENDING_DISPATCH:
        return case
    if state is s.PENDING_SUB_DISPATCH:
        return flow.act(svc.dispatch_to_district, case, "dispatcher", when).case
    case = flow.act(
        svc.dispatch_case, case, "dispatcher", when, department_id=flow.city.departments["cgw"]
    ).case
    if state is s.DISPATCHED:
        return case
    case = flow.act(svc.sign_case, case, "handler_cgw", when).case
    if state is s.HANDLING:
        return case
    requests = {
        s.RETURN_REQUESTED: (svc.request_return, {"reason": "非本单位职责"}),
        s.EXTENSION_REQUESTED: (svc.request_extension, {"reason": "需要协调"}),
        s.SUSPENSION_REQUESTED: (
            svc.request_suspension,
            {"reason": "资金未到位", "until": when + timedelta(days=30)},
        ),
        s.SUSPENDED: (
            svc.request_suspension,
            {"reason": "资金未到位", "until": when + timedelta(days=30)},
        ),
    }
    if state in requests:
        fn, fields = requests[state]
        case = flow.act(fn, case, "handler_cgw", when, **fields).case
        if state is s.SUSPENDED:
            case = flow.act(svc.approve_suspension, case, "dispatcher", when).case
        return case
    case = flow.act(
        svc.feedback_case, case, "handler_cgw", when, comment="已处理", attachments=[PHOTO]
    ).case
    if state is s.HANDLED:
        return case
    case = flow.act(svc.request_check, case, "operator", when).case
    if state is s.CHECKING:
        return case
    task = flow.task(case.id)
    passed = state in (s.PENDING_CLOSE, s.CLOSED)
    case = svc.complete_task(
        flow.uow,
        task.id,
        actor=flow.city.actor("inspector1"),
        now=when,
        result="passed" if passed else "failed",
    ).case
    if state in (s.PENDING_CLOSE, s.CHECK_FAILED):
        return case
    assert state is s.CLOSED
    return flow.act(svc.close_case, case, "shift_lead", when).case
