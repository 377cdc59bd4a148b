"""The transition table, cell by cell: every (state, action, role), allowed and refused.

The table is the specification; these tests check that ``workflow.check`` enforces exactly the
table (each row's roles, each missing row refused with ``transition_not_allowed``), that every
guard refuses what it should, and that the table covers the branches of standards.md §5.4–5.6.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

import pytest

from cityloop.domain import workflow
from cityloop.domain.case import Case, CaseState, CloseType, Source
from cityloop.domain.errors import (
    ConflictError,
    PermissionDeniedError,
    TransitionNotAllowedError,
)
from cityloop.domain.roles import Actor, Role
from cityloop.domain.workflow import SOURCE_ROLES, Action, GuardContext, Target
from tests.conftest import at

NOW = at("2026-11-24 10:00")
STATES: list[CaseState | None] = [None, *CaseState]


def favourable_case(state: CaseState) -> Case:
    """A case in ``state`` on which every case-dependent guard passes."""
    return Case(
        id=7,
        number="2026112400007",
        version=3,
        state=state,
        source=Source.PUBLIC,
        reported_at=NOW - timedelta(hours=2),
        district_code="110101",
        department_id=40,
        resume_state=CaseState.PENDING_FILING,
        refuse_until=NOW + timedelta(hours=1),
        disposal_deadline=NOW + timedelta(days=1),
        reporter_user_id=1,
    )


def favourable_context(state: CaseState | None, role: Role, action: Action) -> GuardContext:
    case = favourable_case(state) if state is not None else None
    row = workflow.find(state, action)
    district: str | None = None
    if row is not None and workflow.G_DISTRICT in row.guards:
        district = "110101"
    sources = [s for s, roles in SOURCE_ROLES.items() if role in roles] or [Source.PUBLIC]
    actor = Actor(user_id=1, role=role, district_code=district, department_id=40)
    return GuardContext(
        case=case,
        actor=actor,
        now=NOW,
        task_assignee_id=1,
        params={
            "source": sources[0],
            "self_handling_allowed": True,
            "close_type": CloseType.SPECIAL,
            "target_case_id": 99,
        },
    )


@pytest.mark.parametrize(
    ("state", "action"),
    list(itertools.product(STATES, Action)),
    ids=lambda v: getattr(v, "value", "new"),
)
def test_every_cell_of_the_table(state: CaseState | None, action: Action) -> None:
    row = workflow.find(state, action)
    for role in Role:
        ctx = favourable_context(state, role, action)
        if row is None:
            with pytest.raises(TransitionNotAllowedError) as refused:
                workflow.check(ctx, action)
            assert refused.value.code == "transition_not_allowed"
            assert refused.value.params["state"] == (state.value if state else "new")
            assert action not in workflow.available(ctx)
        elif role not in row.roles:
            with pytest.raises(PermissionDeniedError) as denied:
                workflow.check(ctx, action)
            assert denied.value.code == "role_not_allowed"
            assert action not in workflow.available(ctx)
        else:
            found, next_state = workflow.check(ctx, action)
            assert found is row
            if row.target is Target.SAME:
                assert next_state is state
            elif row.target is Target.RESUME:
                assert next_state is CaseState.PENDING_FILING
            elif row.target is Target.DISPATCH_QUEUE:
                assert next_state is CaseState.PENDING_DISPATCH
            else:
                assert next_state is row.target
            if state is not None:
                assert action in workflow.available(ctx)


def test_terminal_states_allow_only_the_call_back() -> None:
    for state in CaseState:
        if state.terminal:
            actions = {row.action for row in workflow.actions_from(state)}
            assert actions <= {Action.CALLBACK}
            assert (actions == {Action.CALLBACK}) == (state is CaseState.CLOSED)


def test_every_state_is_reachable_and_every_open_state_has_a_way_out() -> None:
    reachable: set[CaseState] = set()
    frontier: list[CaseState | None] = [None]
    while frontier:
        current = frontier.pop()
        for row in workflow.actions_from(current):
            targets = (
                [row.target]
                if isinstance(row.target, CaseState)
                else [CaseState.PENDING_DISPATCH, CaseState.PENDING_SUB_DISPATCH]
                if row.target is Target.DISPATCH_QUEUE
                else []
            )
            for target in targets:
                if target not in reachable:
                    reachable.add(target)
                    frontier.append(target)
    assert reachable == set(CaseState)
    for state in CaseState:
        if not state.terminal:
            assert any(row.target is not Target.SAME for row in workflow.actions_from(state)), state


def test_every_non_terminal_state_has_a_stage_or_is_an_approval() -> None:
    for state in CaseState:
        if not state.terminal and state is not CaseState.VOID_REQUESTED:
            assert state in workflow.STAGE_OF


def test_the_branches_of_the_standard_are_in_the_table() -> None:
    """standards.md §5.4–5.6: every named operation has its row with the right roles."""
    s, a, r = CaseState, Action, Role
    expect = [
        (None, a.REPORT, {r.INSPECTOR, r.OPERATOR, r.CITIZEN, r.LEADER, r.SYSTEM}),
        (s.REPORTED, a.REQUEST_VERIFY, {r.OPERATOR}),
        (s.VERIFYING, a.COMPLETE_VERIFY, {r.INSPECTOR}),
        (s.PENDING_FILING, a.FILE, {r.SHIFT_LEAD}),
        (s.PENDING_FILING, a.REJECT, {r.SHIFT_LEAD}),
        (s.VOID_REQUESTED, a.APPROVE_VOID, {r.SHIFT_LEAD}),
        (s.PENDING_DISPATCH, a.DISPATCH, {r.DISPATCHER}),
        (s.PENDING_DISPATCH, a.DISPATCH_TO_DISTRICT, {r.DISPATCHER}),
        (s.PENDING_SUB_DISPATCH, a.DISPATCH, {r.DISPATCHER}),
        (s.DISPATCHED, a.REFUSE, {r.HANDLER}),
        (s.HANDLING, a.FEEDBACK, {r.HANDLER}),
        (s.RETURN_REQUESTED, a.APPROVE_RETURN, {r.DISPATCHER}),
        (s.EXTENSION_REQUESTED, a.APPROVE_EXTENSION, {r.DISPATCHER}),
        (s.SUSPENSION_REQUESTED, a.APPROVE_SUSPENSION, {r.DISPATCHER}),
        (s.SUSPENDED, a.RESUME, {r.DISPATCHER, r.SYSTEM}),
        (s.HANDLED, a.REQUEST_CHECK, {r.OPERATOR}),
        (s.CHECKING, a.PASS_CHECK, {r.INSPECTOR}),
        (s.CHECK_FAILED, a.REWORK, {r.SHIFT_LEAD, r.DISPATCHER}),
        (s.PENDING_CLOSE, a.CLOSE, {r.SHIFT_LEAD}),
        (None, a.REPORT_SELF_HANDLED, {r.INSPECTOR}),
        (s.SELF_HANDLED, a.APPROVE_SELF_HANDLING, {r.OPERATOR, r.SHIFT_LEAD}),
        (s.REPORTED, a.MERGE, {r.OPERATOR, r.SHIFT_LEAD}),
    ]
    for state, action, roles in expect:
        row = workflow.find(state, action)
        assert row is not None, (state, action)
        assert row.roles == roles, (state, action)
    # 督办 and 催办 are flags: they never change the state.
    for row in workflow.TRANSITIONS:
        if row.action in (Action.SUPERVISE, Action.REMIND, Action.CALLBACK):
            assert row.target is Target.SAME


# -- guards, one by one ---


def ctx_for(state: CaseState | None, role: Role, action: Action, **changes: object) -> GuardContext:
    ctx = favourable_context(state, role, action)
    case_changes = {k[5:]: v for k, v in changes.items() if k.startswith("case_")}
    other = {k: v for k, v in changes.items() if not k.startswith("case_")}
    if ctx.case is not None and case_changes:
        ctx = replace(ctx, case=replace(ctx.case, **case_changes))
    return replace(ctx, **other)


def refused(ctx: GuardContext, action: Action) -> str:
    with pytest.raises((ConflictError, PermissionDeniedError)) as err:
        workflow.check(ctx, action)
    return err.value.code


def test_source_guard_matches_roles_to_sources() -> None:
    for source, roles in SOURCE_ROLES.items():
        for role in (Role.INSPECTOR, Role.OPERATOR, Role.CITIZEN, Role.LEADER, Role.SYSTEM):
            ctx = ctx_for(None, role, Action.REPORT, params={"source": source})
            if role in roles:
                workflow.check(ctx, Action.REPORT)
            else:
                assert refused(ctx, Action.REPORT) == "source_not_allowed"


def test_self_handling_needs_an_allowed_class() -> None:
    ctx = ctx_for(
        None, Role.INSPECTOR, Action.REPORT_SELF_HANDLED, params={"self_handling_allowed": False}
    )
    assert refused(ctx, Action.REPORT_SELF_HANDLED) == "self_handling_not_allowed"


def test_only_the_task_assignee_answers_a_task() -> None:
    for state, action in (
        (CaseState.VERIFYING, Action.COMPLETE_VERIFY),
        (CaseState.CHECKING, Action.PASS_CHECK),
        (CaseState.CHECKING, Action.FAIL_CHECK),
    ):
        ctx = ctx_for(state, Role.INSPECTOR, action, task_assignee_id=2)
        assert refused(ctx, action) == "not_task_assignee"


def test_only_the_case_department_acts_on_it() -> None:
    for state, action in (
        (CaseState.DISPATCHED, Action.SIGN),
        (CaseState.HANDLING, Action.FEEDBACK),
        (CaseState.HANDLING, Action.REQUEST_EXTENSION),
    ):
        ctx = ctx_for(state, Role.HANDLER, action, case_department_id=41)
        assert refused(ctx, action) == "not_case_department"
        assert action not in workflow.available(ctx)


def test_refusal_only_within_the_window() -> None:
    ctx = ctx_for(
        CaseState.DISPATCHED,
        Role.HANDLER,
        Action.REFUSE,
        case_refuse_until=NOW - timedelta(seconds=1),
    )
    assert refused(ctx, Action.REFUSE) == "refusal_window_passed"
    assert Action.REFUSE not in workflow.available(ctx)
    assert Action.SIGN in workflow.available(ctx)


def test_extension_at_most_twice_and_only_before_overdue() -> None:
    ctx = ctx_for(
        CaseState.HANDLING, Role.HANDLER, Action.REQUEST_EXTENSION, case_extension_count=2
    )
    assert refused(ctx, Action.REQUEST_EXTENSION) == "extension_limit_reached"
    ctx = ctx_for(
        CaseState.HANDLING,
        Role.HANDLER,
        Action.REQUEST_EXTENSION,
        case_disposal_deadline=NOW - timedelta(minutes=1),
    )
    assert refused(ctx, Action.REQUEST_EXTENSION) == "case_overdue"
    ctx = ctx_for(
        CaseState.EXTENSION_REQUESTED,
        Role.DISPATCHER,
        Action.APPROVE_EXTENSION,
        case_extension_count=2,
    )
    assert refused(ctx, Action.APPROVE_EXTENSION) == "extension_limit_reached"


def test_two_level_dispatch_guards() -> None:
    district = ctx_for(
        CaseState.PENDING_DISPATCH,
        Role.DISPATCHER,
        Action.DISPATCH_TO_DISTRICT,
        actor=Actor(1, Role.DISPATCHER, district_code="110101"),
    )
    assert refused(district, Action.DISPATCH_TO_DISTRICT) == "city_level_only"
    no_district = ctx_for(
        CaseState.PENDING_DISPATCH,
        Role.DISPATCHER,
        Action.DISPATCH_TO_DISTRICT,
        case_district_code=None,
    )
    assert refused(no_district, Action.DISPATCH_TO_DISTRICT) == "case_without_district"
    city = ctx_for(
        CaseState.PENDING_SUB_DISPATCH,
        Role.DISPATCHER,
        Action.DISPATCH,
        actor=Actor(1, Role.DISPATCHER),
    )
    assert refused(city, Action.DISPATCH) == "district_level_only"
    other = ctx_for(
        CaseState.PENDING_SUB_DISPATCH,
        Role.DISPATCHER,
        Action.DISPATCH,
        actor=Actor(1, Role.DISPATCHER, district_code="110102"),
    )
    assert refused(other, Action.DISPATCH) == "district_level_only"


def test_refusal_returns_to_the_queue_it_came_from() -> None:
    ctx = ctx_for(CaseState.DISPATCHED, Role.HANDLER, Action.REFUSE, case_sub_dispatched=True)
    assert workflow.check(ctx, Action.REFUSE)[1] is CaseState.PENDING_SUB_DISPATCH
    ctx = ctx_for(CaseState.RETURN_REQUESTED, Role.DISPATCHER, Action.APPROVE_RETURN)
    assert workflow.check(ctx, Action.APPROVE_RETURN)[1] is CaseState.PENDING_DISPATCH


def test_rejecting_a_void_request_resumes_the_previous_state() -> None:
    ctx = ctx_for(
        CaseState.VOID_REQUESTED,
        Role.SHIFT_LEAD,
        Action.REJECT_VOID,
        case_resume_state=CaseState.PENDING_DISPATCH,
    )
    assert workflow.check(ctx, Action.REJECT_VOID)[1] is CaseState.PENDING_DISPATCH
    ctx = ctx_for(
        CaseState.VOID_REQUESTED, Role.SHIFT_LEAD, Action.REJECT_VOID, case_resume_state=None
    )
    assert refused(ctx, Action.REJECT_VOID) == "no_resume_state"


def test_supervision_once_and_call_back_only_for_public_reports() -> None:
    ctx = ctx_for(CaseState.HANDLING, Role.LEADER, Action.SUPERVISE, case_supervised=True)
    assert refused(ctx, Action.SUPERVISE) == "already_supervised"
    ctx = ctx_for(CaseState.CLOSED, Role.OPERATOR, Action.CALLBACK, case_source=Source.INSPECTOR)
    assert refused(ctx, Action.CALLBACK) == "callback_not_applicable"
    ctx = ctx_for(CaseState.CLOSED, Role.OPERATOR, Action.CALLBACK, case_satisfaction=2)
    assert refused(ctx, Action.CALLBACK) == "callback_done"


def test_a_failed_check_closes_only_as_error_or_special() -> None:
    for close_type in (None, CloseType.NORMAL, CloseType.OVERDUE):
        ctx = ctx_for(
            CaseState.CHECK_FAILED, Role.SHIFT_LEAD, Action.CLOSE, params={"close_type": close_type}
        )
        assert refused(ctx, Action.CLOSE) == "close_type_needs_passed_check"
    ctx = ctx_for(
        CaseState.CHECK_FAILED,
        Role.SHIFT_LEAD,
        Action.CLOSE,
        params={"close_type": CloseType.ERROR},
    )
    assert workflow.check(ctx, Action.CLOSE)[1] is CaseState.CLOSED


def test_a_case_cannot_be_merged_into_itself() -> None:
    ctx = ctx_for(CaseState.REPORTED, Role.OPERATOR, Action.MERGE, params={"target_case_id": 7})
    assert refused(ctx, Action.MERGE) == "merge_into_self"


# -- visibility ---


def test_visibility_by_scope() -> None:
    case = favourable_case(CaseState.HANDLING)
    assert workflow.visible(case, Actor(1, Role.OPERATOR))
    assert workflow.visible(case, Actor(1, Role.OPERATOR, district_code="110101"))
    assert not workflow.visible(case, Actor(1, Role.OPERATOR, district_code="110102"))
    assert workflow.visible(case, Actor(1, Role.HANDLER, department_id=40))
    assert not workflow.visible(case, Actor(1, Role.HANDLER, department_id=41))
    assert workflow.visible(case, Actor(1, Role.CITIZEN))  # the reporter
    assert not workflow.visible(case, Actor(2, Role.CITIZEN))


def test_every_queue_state_is_one_the_role_can_move_on() -> None:
    for role, states in workflow.QUEUES.items():
        for state in states:
            assert any(
                role in row.roles and row.target is not Target.SAME
                for row in workflow.actions_from(state)
            ), (role, state)
    city = workflow.queue_states(Actor(1, Role.DISPATCHER))
    district = workflow.queue_states(Actor(1, Role.DISPATCHER, district_code="110101"))
    assert CaseState.PENDING_SUB_DISPATCH in district
    assert CaseState.PENDING_SUB_DISPATCH not in city
    assert workflow.queue_states(Actor(1, Role.LEADER)) == ()
