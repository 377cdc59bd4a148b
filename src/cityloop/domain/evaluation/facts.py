"""Compact evaluation facts (考核事实): what the indicators are counted from.

Every case's timeline (``case_events``) and tasks are folded into three kinds of record:

- :class:`CaseFacts`, one per case: intake, filing, validity, closing, call-back and where and
  when the problem was reported;
- :class:`RoundFacts`, one per disposal round (处置轮次): a dispatch (派遣) or a rework (返工) of
  the case to one department, until that department reports back (处理反馈), refuses (拒签) or
  has a return approved (回退); with the deadline in force and every change to it;
- :class:`TaskFacts`, one per verify (核实) or check (核查) task.

Times are whole seconds since the Unix epoch (UTC), rounded down. Every *in time* flag is
decided exactly (to the microsecond) when the fact is extracted; afterwards times only place
facts in periods, whose bounds are whole seconds, so rounding down changes nothing.
``None`` means "did not happen".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from cityloop.domain.case import CloseType, Source, TaskKind

PAUSED = None  # a deadline that is not running (挂账: the clock stands still)


class IntakeKind(enum.IntEnum):
    """The operator's intake decision (受理): into filing, turned away, or a duplicate."""

    ACCEPT = 1  # 受理
    REJECT = 2  # 不予受理
    MERGE = 3  # 合并


class RoundEnd(enum.IntEnum):
    """How a disposal round ended without a feedback."""

    REFUSED = 1  # 拒签
    RETURNED = 2  # 回退 (approved)


class ChangeKind(enum.IntEnum):
    EXTENSION = 1  # 延期 approved: the deadline moves on
    SUSPENSION = 2  # 挂账 approved: the clock stops
    RESUMPTION = 3  # 挂账恢复: the clock runs again with what was left


@dataclass(frozen=True, slots=True)
class DeadlineChange:
    """From ``at`` on, the round's deadline is ``deadline`` (``None``: paused, not running)."""

    at: int
    deadline: int | None
    kind: ChangeKind


@dataclass(frozen=True, slots=True)
class CaseFacts:
    case_id: int
    reported_at: int
    source: Source
    reporter_id: int | None = None  # the inspector, for an inspector's report
    self_handled: bool = False  # reported as handled on the spot (自处理)
    category_id: int | None = None
    grid_code: str | None = None  # 15 digits; community, street and district are its prefixes
    hour_of_week: int = 0  # local weekday × 24 + hour of the report (Monday 00h = 0)
    intake_at: int | None = None  # the intake decision (受理 / 不予受理 / 合并)
    intake_by: int | None = None  # the operator who made it (None if not an operator)
    intake_kind: IntakeKind | None = None
    intake_in_time: bool = False
    filed_at: int | None = None  # 立案
    filed_by: int | None = None
    filed_in_time: bool = False
    valid_at: int | None = None  # became a valid report: filed, or self-handling approved
    invalid_at: int | None = None  # rejected, merged or voided (作废)
    closed_at: int | None = None  # 结案 (also a self-handling approval)
    closed_by: int | None = None  # the shift lead of a close act
    closed_in_time: bool = False
    close_type: CloseType | None = None
    closed_department: int | None = None  # the department of the round the case closed on
    callback_at: int | None = None  # 回访
    satisfaction: int | None = None  # 1 very satisfied … 5 very dissatisfied

    @property
    def accepted_at(self) -> int | None:
        return self.intake_at if self.intake_kind is IntakeKind.ACCEPT else None


@dataclass(frozen=True, slots=True)
class RoundFacts:
    case_id: int
    number: int  # 1, 2, … within the case
    department_id: int
    started_at: int
    rework: bool = False  # started by a rework (返工) rather than a dispatch
    dispatched_by: int | None = None  # the dispatcher of a dispatch round
    dispatched_in_time: bool = False
    deadline: int | None = None  # at the start
    changes: tuple[DeadlineChange, ...] = field(default=())
    extended_at: int | None = None  # the first approved extension
    handled_at: int | None = None  # 处理反馈
    handled_in_time: bool = False
    ended_at: int | None = None
    end: RoundEnd | None = None
    checked_at: int | None = None  # 核查 answered
    check_passed: bool | None = None

    def deadline_at(self, as_of: int) -> int | None:
        """The deadline in force at ``as_of`` (``None``: paused or none)."""
        deadline = self.deadline
        for change in self.changes:
            if change.at < as_of:
                deadline = change.deadline
        return deadline


@dataclass(frozen=True, slots=True)
class TaskFacts:
    task_id: int
    case_id: int
    kind: TaskKind
    assignee_id: int
    created_at: int
    deadline: int | None = None
    completed_at: int | None = None
    cancelled: bool = False  # ``completed_at`` is then when it was cancelled
    done_in_time: bool = False
    requested_by: int | None = None  # the operator who sent it (发核实 / 发核查)
    requested_in_time: bool = False


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """All facts of one case."""

    case: CaseFacts
    rounds: tuple[RoundFacts, ...] = ()
    tasks: tuple[TaskFacts, ...] = ()
