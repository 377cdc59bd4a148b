"""The case workflow: states, actions and the declarative transition table.

Reference: ``standards.md`` §5.1–5.6 (the seven-step loop of GB/T 30428 and its branches).
Every move a case can make is one row ``(state, action) → (next state, roles, guards)``. The
table generates ``docs/case-lifecycle.md``, the buttons a user sees and a test of every
(state, action, role) cell. A move not in the table is refused with ``transition_not_allowed``;
a role not in the row with ``role_not_allowed``; a failing guard with the guard's own code.

Approvals (作废, 回退, 延期, 挂账) are request states: the requester moves the case into
``*_requested``, the approver approves (onward) or rejects (back). 督办 (supervise), 催办
(remind) and 回访 (call-back) are flags: they record an event but keep the state.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cityloop.domain.case import Case, CaseState, CloseType, Source
from cityloop.domain.errors import (
    ConflictError,
    DomainError,
    PermissionDeniedError,
    TransitionNotAllowedError,
)
from cityloop.domain.policy import DEFAULT_POLICY, Policy
from cityloop.domain.roles import Actor, Role
from cityloop.domain.sla.stages import Stage

S = CaseState
R = Role


class Action(enum.StrEnum):
    REPORT = "report"  # 上报 / 登记
    REPORT_SELF_HANDLED = "report_self_handled"  # 自处理上报
    APPROVE_SELF_HANDLING = "approve_self_handling"  # 自处理审核通过
    REJECT_SELF_HANDLING = "reject_self_handling"  # 自处理审核不通过
    ACCEPT = "accept"  # 受理
    REQUEST_VERIFY = "request_verify"  # 发核实
    COMPLETE_VERIFY = "complete_verify"  # 核实反馈
    REJECT = "reject"  # 不予立案 / 不予受理
    MERGE = "merge"  # 合并 (重复案件)
    VOID = "void"  # 作废
    REQUEST_VOID = "request_void"  # 申请作废
    APPROVE_VOID = "approve_void"  # 批准作废
    REJECT_VOID = "reject_void"  # 驳回作废
    FILE = "file"  # 立案
    DISPATCH = "dispatch"  # 派遣
    DISPATCH_TO_DISTRICT = "dispatch_to_district"  # 派至区中心 (二级派遣)
    SEND_BACK = "send_back"  # 退回市中心
    SIGN = "sign"  # 签收
    REFUSE = "refuse"  # 拒签
    FEEDBACK = "feedback"  # 处理反馈
    REQUEST_RETURN = "request_return"  # 申请回退
    APPROVE_RETURN = "approve_return"  # 批准回退
    REJECT_RETURN = "reject_return"  # 驳回回退
    REQUEST_EXTENSION = "request_extension"  # 申请延期
    APPROVE_EXTENSION = "approve_extension"  # 批准延期
    REJECT_EXTENSION = "reject_extension"  # 驳回延期
    REQUEST_SUSPENSION = "request_suspension"  # 申请挂账
    APPROVE_SUSPENSION = "approve_suspension"  # 批准挂账
    REJECT_SUSPENSION = "reject_suspension"  # 驳回挂账
    RESUME = "resume"  # 挂账恢复
    REQUEST_CHECK = "request_check"  # 发核查
    PASS_CHECK = "pass_check"  # 核查通过
    FAIL_CHECK = "fail_check"  # 核查不通过
    REWORK = "rework"  # 返工
    CLOSE = "close"  # 结案
    SUPERVISE = "supervise"  # 督办
    REMIND = "remind"  # 催办
    CALLBACK = "callback"  # 回访


class Target(enum.StrEnum):
    """Next states that depend on the case rather than on the row."""

    SAME = "same"  # a flag: the state does not change
    RESUME = "resume"  # back to the state before the request (case.resume_state)
    DISPATCH_QUEUE = "dispatch_queue"  # back to whoever dispatched: city or district queue


NextState = CaseState | Target


@dataclass(frozen=True, slots=True)
class GuardContext:
    """What a guard may look at. ``params`` are the action's fields, already validated."""

    case: Case | None
    actor: Actor
    now: datetime
    policy: Policy = DEFAULT_POLICY
    task_assignee_id: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Guard:
    """A named condition on a transition. ``check`` returns ``None`` or the refusal."""

    name: str
    description: str
    check: Callable[[GuardContext], DomainError | None]

    def __call__(self, ctx: GuardContext) -> DomainError | None:
        return self.check(ctx)


def _case(ctx: GuardContext) -> Case:
    assert ctx.case is not None, "guard used on an intake row"
    return ctx.case


# -- guards ---

# Which role may register a report from which source (§5.3).
SOURCE_ROLES: Mapping[Source, frozenset[Role]] = {
    Source.INSPECTOR: frozenset({R.INSPECTOR}),
    Source.HOTLINE_12345: frozenset({R.OPERATOR}),
    Source.HOTLINE_12319: frozenset({R.OPERATOR}),
    Source.PUBLIC: frozenset({R.CITIZEN, R.OPERATOR}),
    Source.MEDIA: frozenset({R.OPERATOR}),
    Source.LEADER: frozenset({R.LEADER, R.OPERATOR}),
    Source.SENSOR: frozenset({R.SYSTEM}),
    Source.VIDEO: frozenset({R.SYSTEM, R.OPERATOR}),
}


def _source_matches_role(ctx: GuardContext) -> DomainError | None:
    source = ctx.params.get("source")
    if source is None or ctx.actor.role not in SOURCE_ROLES.get(Source(source), frozenset()):
        return PermissionDeniedError(
            "source_not_allowed",
            "Role {role} may not register reports from source {source}",
            role=ctx.actor.role.value,
            source=str(source),
        )
    return None


def _self_handling_allowed(ctx: GuardContext) -> DomainError | None:
    if not ctx.params.get("self_handling_allowed"):
        return ConflictError(
            "self_handling_not_allowed",
            "This class of problem may not be handled by the inspector on the spot",
        )
    return None


def _is_task_assignee(ctx: GuardContext) -> DomainError | None:
    if ctx.task_assignee_id is None or ctx.task_assignee_id != ctx.actor.user_id:
        return PermissionDeniedError(
            "not_task_assignee", "Only the inspector the task was given to may complete it"
        )
    return None


def _is_case_department(ctx: GuardContext) -> DomainError | None:
    case = _case(ctx)
    if ctx.actor.department_id is None or ctx.actor.department_id != case.department_id:
        return PermissionDeniedError(
            "not_case_department", "Only the department the case was dispatched to may do this"
        )
    return None


def _within_refusal_window(ctx: GuardContext) -> DomainError | None:
    case = _case(ctx)
    if case.refuse_until is not None and ctx.now > case.refuse_until:
        return ConflictError(
            "refusal_window_passed",
            "The time to refuse this case ended at {until}; sign for it or ask for a return",
            until=case.refuse_until.isoformat(),
        )
    return None


def _extensions_left(ctx: GuardContext) -> DomainError | None:
    case = _case(ctx)
    if case.extension_count >= ctx.policy.max_extensions:
        return ConflictError(
            "extension_limit_reached",
            "This case already had {count} extensions; at most {max} are allowed",
            count=case.extension_count,
            max=ctx.policy.max_extensions,
        )
    return None


def _not_overdue(ctx: GuardContext) -> DomainError | None:
    case = _case(ctx)
    if case.overdue_at(ctx.now):
        return ConflictError(
            "case_overdue",
            "The case is past its disposal deadline ({deadline}); an extension can only be"
            " asked for before that",
            deadline=case.disposal_deadline.isoformat() if case.disposal_deadline else "",
        )
    return None


def _city_level_actor(ctx: GuardContext) -> DomainError | None:
    if ctx.actor.district_code is not None:
        return PermissionDeniedError(
            "city_level_only", "Only the city centre may send a case to a district centre"
        )
    if _case(ctx).district_code is None:
        return ConflictError("case_without_district", "The case has no district to send it to")
    return None


def _district_level_actor(ctx: GuardContext) -> DomainError | None:
    case = _case(ctx)
    if ctx.actor.district_code is None or ctx.actor.district_code != case.district_code:
        return PermissionDeniedError(
            "district_level_only",
            "Only the district centre of {district} may do this",
            district=case.district_code or "",
        )
    return None


def _not_supervised(ctx: GuardContext) -> DomainError | None:
    if _case(ctx).supervised:
        return ConflictError("already_supervised", "The case is already under supervision")
    return None


def _awaiting_callback(ctx: GuardContext) -> DomainError | None:
    case = _case(ctx)
    if not case.source.public_facing:
        return ConflictError(
            "callback_not_applicable", "Only cases reported by the public get a call-back"
        )
    if case.satisfaction is not None:
        return ConflictError("callback_done", "The call-back for this case is already recorded")
    return None


def _exceptional_close(ctx: GuardContext) -> DomainError | None:
    close_type = ctx.params.get("close_type")
    if close_type not in (CloseType.ERROR, CloseType.SPECIAL):
        return ConflictError(
            "close_type_needs_passed_check",
            "A case whose check failed can only be closed as an error or special close",
        )
    return None


def _not_self(ctx: GuardContext) -> DomainError | None:
    target = ctx.params.get("target_case_id")
    if target is not None and target == _case(ctx).id:
        return ConflictError("merge_into_self", "A case cannot be merged into itself")
    return None


G_SOURCE = Guard(
    "source_matches_role", "the source is one the role may register", _source_matches_role
)
G_SELF_HANDLING = Guard(
    "self_handling_allowed", "the class allows self-handling (自处理)", _self_handling_allowed
)
G_ASSIGNEE = Guard(
    "is_task_assignee", "the actor is the inspector of the open task", _is_task_assignee
)
G_DEPARTMENT = Guard(
    "is_case_department", "the actor works for the case's department", _is_case_department
)
G_REFUSAL_WINDOW = Guard(
    "within_refusal_window", "still inside the refusal window (拒签时限)", _within_refusal_window
)
G_EXTENSIONS_LEFT = Guard(
    "extensions_left", "fewer than the maximum extensions (2) so far", _extensions_left
)
G_NOT_OVERDUE = Guard("not_overdue", "the disposal deadline has not passed", _not_overdue)
G_CITY = Guard(
    "city_level_actor", "a city-level dispatcher, and the case has a district", _city_level_actor
)
G_DISTRICT = Guard(
    "district_level_actor", "a dispatcher of the case's district centre", _district_level_actor
)
G_NOT_SUPERVISED = Guard("not_supervised", "not yet under supervision", _not_supervised)
G_CALLBACK = Guard(
    "awaiting_callback", "a public report without a call-back yet", _awaiting_callback
)
G_EXCEPTIONAL_CLOSE = Guard(
    "exceptional_close", "close type 差错 (error) or 特殊 (special)", _exceptional_close
)
G_NOT_SELF = Guard("not_self", "the original is another case", _not_self)

ALL_GUARDS = (
    G_SOURCE, G_SELF_HANDLING, G_ASSIGNEE, G_DEPARTMENT, G_REFUSAL_WINDOW, G_EXTENSIONS_LEFT,
    G_NOT_OVERDUE, G_CITY, G_DISTRICT, G_NOT_SUPERVISED, G_CALLBACK, G_EXCEPTIONAL_CLOSE,
    G_NOT_SELF,
)  # fmt: skip


# -- the table ---


@dataclass(frozen=True, slots=True)
class Transition:
    state: CaseState | None  # None: intake, the case does not exist yet
    action: Action
    target: NextState
    roles: frozenset[Role]
    guards: tuple[Guard, ...] = ()

    def resolve(self, case: Case | None) -> CaseState:
        """The concrete next state for ``case``."""
        if isinstance(self.target, CaseState):
            return self.target
        assert case is not None
        if self.target is Target.SAME:
            return case.state
        if self.target is Target.RESUME:
            if case.resume_state is None:
                raise ConflictError(
                    "no_resume_state", "The case has no state to return to after the request"
                )
            return case.resume_state
        return S.PENDING_SUB_DISPATCH if case.sub_dispatched else S.PENDING_DISPATCH


def _t(
    states: CaseState | Iterable[CaseState] | None,
    action: Action,
    target: NextState,
    roles: Iterable[Role],
    *guards: Guard,
) -> list[Transition]:
    if states is None or isinstance(states, CaseState):
        states_list: list[CaseState | None] = [states]
    else:
        states_list = list(states)
    return [Transition(s, action, target, frozenset(roles), tuple(guards)) for s in states_list]


A = Action
BEFORE_FILING = (S.REPORTED, S.VERIFIED)
AWAITING_DISPATCH = (S.PENDING_DISPATCH, S.PENDING_SUB_DISPATCH)
FILED_OPEN = (
    S.PENDING_DISPATCH, S.PENDING_SUB_DISPATCH, S.DISPATCHED, S.HANDLING, S.RETURN_REQUESTED,
    S.EXTENSION_REQUESTED, S.SUSPENSION_REQUESTED, S.SUSPENDED, S.HANDLED, S.CHECKING,
    S.CHECK_FAILED, S.PENDING_CLOSE,
)  # fmt: skip

TRANSITIONS: tuple[Transition, ...] = tuple(
    # 1 信息收集 — intake from every source, and inspector self-handling (自处理)
    _t(None, A.REPORT, S.REPORTED,
       [R.INSPECTOR, R.OPERATOR, R.CITIZEN, R.LEADER, R.SYSTEM], G_SOURCE)
    + _t(None, A.REPORT_SELF_HANDLED, S.SELF_HANDLED, [R.INSPECTOR], G_SELF_HANDLING)
    + _t(S.SELF_HANDLED, A.APPROVE_SELF_HANDLING, S.CLOSED, [R.OPERATOR, R.SHIFT_LEAD])
    + _t(S.SELF_HANDLED, A.REJECT_SELF_HANDLING, S.REPORTED, [R.OPERATOR, R.SHIFT_LEAD])
    # 受理 and 核实 (verify before filing)
    + _t(BEFORE_FILING, A.ACCEPT, S.PENDING_FILING, [R.OPERATOR])
    + _t(BEFORE_FILING, A.REQUEST_VERIFY, S.VERIFYING, [R.OPERATOR])
    + _t(S.VERIFYING, A.COMPLETE_VERIFY, S.VERIFIED, [R.INSPECTOR], G_ASSIGNEE)
    + _t(BEFORE_FILING, A.REJECT, S.REJECTED, [R.OPERATOR, R.SHIFT_LEAD])
    + _t((*BEFORE_FILING, S.PENDING_FILING), A.MERGE, S.MERGED,
         [R.OPERATOR, R.SHIFT_LEAD], G_NOT_SELF)
    # 2 案卷建立 — file (立案), reject (不予立案), void (作废, shift-lead approval)
    + _t(S.PENDING_FILING, A.FILE, S.PENDING_DISPATCH, [R.SHIFT_LEAD])
    + _t(S.PENDING_FILING, A.REJECT, S.REJECTED, [R.SHIFT_LEAD])
    + _t((*BEFORE_FILING, S.PENDING_FILING, *AWAITING_DISPATCH), A.VOID, S.VOIDED,
         [R.SHIFT_LEAD])
    + _t((*BEFORE_FILING, S.PENDING_FILING), A.REQUEST_VOID, S.VOID_REQUESTED, [R.OPERATOR])
    + _t(AWAITING_DISPATCH, A.REQUEST_VOID, S.VOID_REQUESTED, [R.DISPATCHER])
    + _t(S.VOID_REQUESTED, A.APPROVE_VOID, S.VOIDED, [R.SHIFT_LEAD])
    + _t(S.VOID_REQUESTED, A.REJECT_VOID, Target.RESUME, [R.SHIFT_LEAD])
    # 3 任务派遣 — dispatch, two-level dispatch (市 → 区 → 部门)
    + _t(S.PENDING_DISPATCH, A.DISPATCH, S.DISPATCHED, [R.DISPATCHER])
    + _t(S.PENDING_DISPATCH, A.DISPATCH_TO_DISTRICT, S.PENDING_SUB_DISPATCH, [R.DISPATCHER],
         G_CITY)
    + _t(S.PENDING_SUB_DISPATCH, A.DISPATCH, S.DISPATCHED, [R.DISPATCHER], G_DISTRICT)
    + _t(S.PENDING_SUB_DISPATCH, A.SEND_BACK, S.PENDING_DISPATCH, [R.DISPATCHER], G_DISTRICT)
    # 4 任务处理 — sign or refuse (拒签) within the window; handle
    + _t(S.DISPATCHED, A.SIGN, S.HANDLING, [R.HANDLER], G_DEPARTMENT)
    + _t(S.DISPATCHED, A.REFUSE, Target.DISPATCH_QUEUE, [R.HANDLER], G_DEPARTMENT,
         G_REFUSAL_WINDOW)
    # return (回退), extension (延期), suspension (挂账): asked by the department,
    # approved by the dispatcher
    + _t(S.HANDLING, A.REQUEST_RETURN, S.RETURN_REQUESTED, [R.HANDLER], G_DEPARTMENT)
    + _t(S.RETURN_REQUESTED, A.APPROVE_RETURN, Target.DISPATCH_QUEUE, [R.DISPATCHER])
    + _t(S.RETURN_REQUESTED, A.REJECT_RETURN, S.HANDLING, [R.DISPATCHER])
    + _t(S.HANDLING, A.REQUEST_EXTENSION, S.EXTENSION_REQUESTED, [R.HANDLER], G_DEPARTMENT,
         G_EXTENSIONS_LEFT, G_NOT_OVERDUE)
    + _t(S.EXTENSION_REQUESTED, A.APPROVE_EXTENSION, S.HANDLING, [R.DISPATCHER],
         G_EXTENSIONS_LEFT)
    + _t(S.EXTENSION_REQUESTED, A.REJECT_EXTENSION, S.HANDLING, [R.DISPATCHER])
    + _t(S.HANDLING, A.REQUEST_SUSPENSION, S.SUSPENSION_REQUESTED, [R.HANDLER], G_DEPARTMENT)
    + _t(S.SUSPENSION_REQUESTED, A.APPROVE_SUSPENSION, S.SUSPENDED, [R.DISPATCHER])
    + _t(S.SUSPENSION_REQUESTED, A.REJECT_SUSPENSION, S.HANDLING, [R.DISPATCHER])
    + _t(S.SUSPENDED, A.RESUME, S.HANDLING, [R.DISPATCHER, R.SYSTEM])
    # 5 处理反馈 — feedback with evidence
    + _t(S.HANDLING, A.FEEDBACK, S.HANDLED, [R.HANDLER], G_DEPARTMENT)
    # 6 核查结案 — check task, then close or rework (返工, same department)
    + _t(S.HANDLED, A.REQUEST_CHECK, S.CHECKING, [R.OPERATOR])
    + _t(S.CHECKING, A.PASS_CHECK, S.PENDING_CLOSE, [R.INSPECTOR], G_ASSIGNEE)
    + _t(S.CHECKING, A.FAIL_CHECK, S.CHECK_FAILED, [R.INSPECTOR], G_ASSIGNEE)
    + _t(S.CHECK_FAILED, A.REWORK, S.DISPATCHED, [R.SHIFT_LEAD, R.DISPATCHER])
    + _t(S.PENDING_CLOSE, A.CLOSE, S.CLOSED, [R.SHIFT_LEAD])
    + _t(S.CHECK_FAILED, A.CLOSE, S.CLOSED, [R.SHIFT_LEAD], G_EXCEPTIONAL_CLOSE)
    # flags, orthogonal to the state: 督办, 催办, 回访
    + _t(FILED_OPEN, A.SUPERVISE, Target.SAME, [R.LEADER, R.DISPATCHER, R.SHIFT_LEAD],
         G_NOT_SUPERVISED)
    + _t((S.DISPATCHED, S.HANDLING), A.REMIND, Target.SAME,
         [R.DISPATCHER, R.OPERATOR, R.LEADER])
    + _t(S.CLOSED, A.CALLBACK, Target.SAME, [R.OPERATOR], G_CALLBACK)
)  # fmt: skip

_BY_KEY: dict[tuple[CaseState | None, Action], Transition] = {}
for _row in TRANSITIONS:
    _key = (_row.state, _row.action)
    if _key in _BY_KEY:  # pragma: no cover - a table error, caught at import
        raise RuntimeError(f"duplicate transition {_key}")
    _BY_KEY[_key] = _row


def find(state: CaseState | None, action: Action) -> Transition | None:
    return _BY_KEY.get((state, action))


def actions_from(state: CaseState | None) -> list[Transition]:
    return [row for row in TRANSITIONS if row.state == state]


# Which stage (环节) a state belongs to: its clock and light. States absent here have no
# stage clock (terminal states, pending approvals of a void).
STAGE_OF: Mapping[CaseState, Stage] = {
    S.REPORTED: Stage.ACCEPT,
    S.VERIFIED: Stage.ACCEPT,
    S.SELF_HANDLED: Stage.ACCEPT,
    S.VERIFYING: Stage.VERIFY,
    S.PENDING_FILING: Stage.FILE,
    S.PENDING_DISPATCH: Stage.DISPATCH,
    S.PENDING_SUB_DISPATCH: Stage.DISPATCH,
    S.DISPATCHED: Stage.DISPOSE,
    S.HANDLING: Stage.DISPOSE,
    S.RETURN_REQUESTED: Stage.DISPOSE,
    S.EXTENSION_REQUESTED: Stage.DISPOSE,
    S.SUSPENSION_REQUESTED: Stage.DISPOSE,
    S.SUSPENDED: Stage.DISPOSE,
    S.HANDLED: Stage.CHECK,
    S.CHECKING: Stage.CHECK,
    S.CHECK_FAILED: Stage.CLOSE,
    S.PENDING_CLOSE: Stage.CLOSE,
}


# Work queues (待办): the states in which a role is the one expected to move the case on.
# Side moves a role may also make (an operator may ask to void a case awaiting filing) do not
# put the case in that role's queue. Inspectors work from their tasks; leaders and citizens
# have no queue.
QUEUES: Mapping[Role, tuple[CaseState, ...]] = {
    R.OPERATOR: (S.REPORTED, S.VERIFIED, S.SELF_HANDLED, S.HANDLED),
    R.SHIFT_LEAD: (S.PENDING_FILING, S.VOID_REQUESTED, S.CHECK_FAILED, S.PENDING_CLOSE),
    R.DISPATCHER: (
        S.PENDING_DISPATCH, S.PENDING_SUB_DISPATCH, S.RETURN_REQUESTED, S.EXTENSION_REQUESTED,
        S.SUSPENSION_REQUESTED, S.SUSPENDED, S.CHECK_FAILED,
    ),
    R.HANDLER: (S.DISPATCHED, S.HANDLING),
}  # fmt: skip


def queue_states(actor: Actor) -> tuple[CaseState, ...]:
    """The states of ``actor``'s work queue; a city-level dispatcher does not wait on cases
    handed to a district centre."""
    states = QUEUES.get(actor.role, ())
    if actor.role is R.DISPATCHER and actor.district_code is None:
        states = tuple(s for s in states if s is not S.PENDING_SUB_DISPATCH)
    return states


def check(ctx: GuardContext, action: Action) -> tuple[Transition, CaseState]:
    """Find the row for the case's state and ``action`` and run its role and guard checks.

    Returns the row and the concrete next state, or raises the refusal.
    """
    state = ctx.case.state if ctx.case is not None else None
    row = find(state, action)
    if row is None:
        raise TransitionNotAllowedError(
            state.value if state is not None else "new", action.value, ctx.actor.role.value
        )
    if ctx.actor.role not in row.roles:
        raise PermissionDeniedError(
            "role_not_allowed",
            "Role {role} may not {action} a case in state {state}",
            role=ctx.actor.role.value,
            action=action.value,
            state=state.value if state is not None else "new",
        )
    for guard in row.guards:
        failure = guard(ctx)
        if failure is not None:
            raise failure
    return row, row.resolve(ctx.case)


def available(ctx: GuardContext) -> list[Action]:
    """The actions ``ctx.actor`` may take on ``ctx.case`` now (the buttons to show)."""
    state = ctx.case.state if ctx.case is not None else None
    result = []
    for row in actions_from(state):
        if ctx.actor.role not in row.roles:
            continue
        if all(guard(ctx) is None for guard in row.guards if guard.name not in _INPUT_GUARDS):
            result.append(row.action)
    return result


# Guards that judge the action's input rather than the case; a button is shown regardless.
_INPUT_GUARDS = frozenset({G_SOURCE.name, G_SELF_HANDLING.name, G_EXCEPTIONAL_CLOSE.name,
                           G_NOT_SELF.name})  # fmt: skip


def visible(case: Case, actor: Actor) -> bool:
    """Whether ``actor`` may know that ``case`` exists (otherwise: not found).

    District-scoped users see only their district; department staff only the cases their
    department holds now; citizens only their own reports.
    """
    if not actor.covers_district(case.district_code):
        return False
    if actor.role is Role.CITIZEN:
        return actor.user_id is not None and case.reporter_user_id == actor.user_id
    if actor.role is Role.HANDLER:
        return actor.department_id is not None and case.department_id == actor.department_id
    return True
