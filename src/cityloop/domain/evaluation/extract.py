"""Fold one case's timeline and tasks into its evaluation facts.

The timeline is the audit trail written by the single write path: one event per move, with
the stage deadline in force *after* it. So the deadline a move had to meet is the one the
previous event left in force: a move is *in time* when it happens at or before it
(standards.md §6.2; a stage without a limit is always in time).

Disposal rounds follow standards.md §5.4: a dispatch (派遣) or a rework (返工) opens a round for
one department; extension (延期) moves its deadline; suspension (挂账) stops the clock — a
case already overdue when suspended stays overdue, otherwise it cannot become overdue while
suspended — and resumption lays the deadline out again; feedback (处理反馈) ends the round
handled, in time unless the write path found it overdue; refusal (拒签) and an approved return
(回退) end it without disposal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo

from cityloop.domain.case import Case, CaseEvent, CloseType, Source, Task, TaskState
from cityloop.domain.evaluation.facts import (
    CaseFacts,
    CaseRecord,
    ChangeKind,
    DeadlineChange,
    IntakeKind,
    RoundEnd,
    RoundFacts,
    TaskFacts,
)
from cityloop.domain.roles import Role
from cityloop.domain.sla.clock import to_us

_INTAKE = {"accept": IntakeKind.ACCEPT, "reject": IntakeKind.REJECT, "merge": IntakeKind.MERGE}


def seconds(instant: datetime | None) -> int | None:
    """Whole seconds since the epoch, rounded down."""
    return None if instant is None else to_us(instant) // 1_000_000


def _by(event: CaseEvent, role: Role) -> int | None:
    return event.actor_id if event.actor_role == role.value else None


@dataclass
class _Round:
    facts: RoundFacts
    deadline: datetime | None  # in force now (exact)
    paused: bool = False
    changes: list[DeadlineChange] = field(default_factory=list)


def extract(
    case: Case, events: Sequence[CaseEvent], tasks: Sequence[Task], tz: tzinfo
) -> CaseRecord:
    """The facts of ``case`` from its ``events`` (any order) and ``tasks``."""
    reported = case.reported_at.astimezone(tz)
    facts = CaseFacts(
        case_id=case.id,
        reported_at=seconds(case.reported_at) or 0,
        source=case.source,
        reporter_id=case.reporter_user_id if case.source is Source.INSPECTOR else None,
        category_id=case.category_id,
        grid_code=case.grid_code,
        hour_of_week=reported.weekday() * 24 + reported.hour,
        satisfaction=case.satisfaction,
    )
    fields: dict[str, object] = {}
    rounds: list[_Round] = []
    current: _Round | None = None
    requests: dict[int, tuple[int | None, bool]] = {}
    in_force: datetime | None = None  # the stage deadline left by the previous event

    for event in sorted(events, key=lambda e: (e.seq, e.id or 0)):
        action, at = event.action, event.at
        in_time = in_force is None or at <= in_force
        t = seconds(at)
        details = event.details or {}
        if action == "report_self_handled":
            fields["self_handled"] = True
        elif action in _INTAKE and "intake_at" not in fields:
            fields.update(
                intake_at=t,
                intake_by=_by(event, Role.OPERATOR),
                intake_kind=_INTAKE[action],
                intake_in_time=in_time,
            )
            if action != "accept":
                fields["invalid_at"] = t
        elif action in ("reject", "merge"):
            fields["invalid_at"] = t
        elif action == "approve_self_handling":
            fields.update(valid_at=t, closed_at=t, close_type=CloseType.NORMAL)
        elif action == "file":
            fields.update(
                filed_at=t, filed_by=_by(event, Role.SHIFT_LEAD), filed_in_time=in_time, valid_at=t
            )
        elif action in ("void", "approve_void"):
            fields["invalid_at"] = t
        elif action in ("dispatch", "rework"):
            department = details.get("department", event.department_id)
            rework = action == "rework"
            current = _Round(
                RoundFacts(
                    case_id=case.id,
                    number=len(rounds) + 1,
                    department_id=int(str(department)) if department is not None else 0,
                    started_at=t or 0,
                    rework=rework,
                    dispatched_by=None if rework else _by(event, Role.DISPATCHER),
                    dispatched_in_time=False if rework else in_time,
                    deadline=seconds(event.stage_deadline),
                ),
                event.stage_deadline,
            )
            rounds.append(current)
        elif current is not None and action == "approve_extension":
            current.deadline = event.stage_deadline
            current.changes.append(
                DeadlineChange(t or 0, seconds(event.stage_deadline), ChangeKind.EXTENSION)
            )
            if current.facts.extended_at is None:
                current.facts = replace(current.facts, extended_at=t)
        elif current is not None and action == "approve_suspension":
            overdue = current.deadline is not None and at > current.deadline
            current.paused = not overdue
            current.changes.append(
                DeadlineChange(
                    t or 0,
                    seconds(current.deadline) if overdue else None,
                    ChangeKind.SUSPENSION,
                )
            )
        elif current is not None and action == "resume":
            current.deadline, current.paused = event.stage_deadline, False
            current.changes.append(
                DeadlineChange(t or 0, seconds(event.stage_deadline), ChangeKind.RESUMPTION)
            )
        elif current is not None and action == "feedback":
            flag = details.get("overdue")
            overdue = (
                bool(flag)
                if flag is not None
                else current.deadline is not None and at > current.deadline
            )
            current.facts = replace(current.facts, handled_at=t, handled_in_time=not overdue)
        elif current is not None and action in ("refuse", "approve_return"):
            end = RoundEnd.REFUSED if action == "refuse" else RoundEnd.RETURNED
            current.facts = replace(current.facts, ended_at=t, end=end)
            current = None
        elif current is not None and action in ("pass_check", "fail_check"):
            current.facts = replace(
                current.facts, checked_at=t, check_passed=action == "pass_check"
            )
        elif action == "close":
            fields.update(
                closed_at=t,
                closed_by=_by(event, Role.SHIFT_LEAD),
                closed_in_time=in_time,
                close_type=_close_type(details.get("close_type"), case.close_type),
                closed_department=(
                    current.facts.department_id if current is not None else event.department_id
                ),
            )
        elif action == "callback":
            level = details.get("satisfaction", case.satisfaction)
            fields.update(callback_at=t, satisfaction=int(str(level)) if level else None)
        elif action in ("request_verify", "request_check"):
            task = details.get("task")
            if task is not None:
                requests[int(str(task))] = (_by(event, Role.OPERATOR), in_time)
        in_force = event.stage_deadline

    facts = replace(facts, **fields)  # type: ignore[arg-type]
    round_facts = tuple(replace(r.facts, changes=tuple(r.changes)) for r in rounds)
    task_facts = tuple(_task(task, requests.get(task.id)) for task in tasks)
    return CaseRecord(facts, round_facts, tuple(sorted(task_facts, key=lambda f: f.task_id)))


def _close_type(value: object, fallback: CloseType | None) -> CloseType | None:
    try:
        return CloseType(str(value)) if value is not None else fallback
    except ValueError:
        return fallback


def _task(task: Task, request: tuple[int | None, bool] | None) -> TaskFacts:
    finished = task.completed_at if task.state is not TaskState.OPEN else None
    done = task.state is TaskState.DONE and finished is not None
    in_time = done and (
        task.deadline is None or (finished is not None and finished <= task.deadline)
    )
    return TaskFacts(
        task_id=task.id,
        case_id=task.case_id,
        kind=task.kind,
        assignee_id=task.assignee_id,
        created_at=seconds(task.created_at) or 0,
        deadline=seconds(task.deadline),
        completed_at=seconds(finished),
        cancelled=task.state is TaskState.CANCELLED,
        done_in_time=in_time,
        requested_by=request[0] if request else None,
        requested_in_time=request[1] if request else False,
    )
