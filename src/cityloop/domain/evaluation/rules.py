"""Indicator rules: which facts count, for whom, in which period (standards.md §7).

Counting conventions (written down in docs/evaluation.md and tested):

- **As of the period's end.** A period ``[start, end)`` is evaluated as the facts stood at its
  end (``as_of``; the current instant for a period still running). Nothing that happened later
  changes a past period, so re-running it gives the same numbers.
- **Acts count when they happen.** A report, an intake decision, a filing, a dispatch, a
  closing or a call-back counts in the period of its time, for the person who did it; whether
  it was *in time* was decided when it happened, against the stage deadline then in force
  (§6.2). Later outcomes (a filing voided, a dispatch refused) count if known by ``as_of``.
- **Obligations count when they settle.** A verify or check task, and a disposal round of a
  department, settle when they are done in time, or else at the moment their deadline passes;
  they count once, in the period they settle in. A suspended round (挂账) whose clock is
  stopped does not settle until it runs again. A round refused (拒签) or returned (回退) before
  ``as_of`` is no obligation at all; it counts only as a refusal or a return.
- **Backlogs are snapshots.** "Overdue and still open" counts what was open and past its
  deadline at ``as_of``, however long ago it fell due.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from cityloop.domain.case import CloseType, Source, TaskKind
from cityloop.domain.evaluation.facts import (
    CaseFacts,
    CaseRecord,
    ChangeKind,
    RoundEnd,
    RoundFacts,
    TaskFacts,
)
from cityloop.domain.evaluation.subjects import CITY, REGION_KINDS, SubjectKind, region_of

# eGova's call-back points per satisfaction option 1..5 (standards.md §5.4).
SATISFACTION_POINTS = {1: 100, 2: 80, 3: 50, 4: 0, 5: -100}
SATISFIED_LEVELS = frozenset({1, 2, 3})  # 非常满意, 满意, 基本满意


@dataclass(frozen=True, slots=True)
class Window:
    """A period in epoch seconds, and the instant its facts are taken at."""

    start: int
    end: int
    as_of: int

    def has(self, t: int | None) -> bool:
        """``t`` lies in the period and is known by ``as_of``."""
        return t is not None and self.start <= t < self.end and t < self.as_of

    def known(self, t: int | None) -> bool:
        return t is not None and t < self.as_of


@dataclass(frozen=True, slots=True)
class Context:
    """What attribution needs besides the facts."""

    department_parent: Mapping[int, int | None] = field(default_factory=dict)
    inspector_grids: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    district: str | None = None  # the scope: only cases of this district count

    def in_scope(self, grid_code: str | None) -> bool:
        return self.district is None or (grid_code or "").startswith(self.district)

    def department_chain(self, department_id: int) -> list[int]:
        """The department and every evaluated department above it (for roll-up by level)."""
        chain, seen = [department_id], {department_id}
        parent = self.department_parent.get(department_id)
        while parent is not None and parent not in seen and parent in self.department_parent:
            chain.append(parent)
            seen.add(parent)
            parent = self.department_parent.get(parent)
        return chain


# -- shared notions ---


def round_cancelled(r: RoundFacts, w: Window) -> bool:
    """A round refused (拒签) or returned (回退) by ``as_of``: never an obligation."""
    return r.end is not None and w.known(r.ended_at)


def round_handled(r: RoundFacts, w: Window) -> bool:
    return w.known(r.handled_at)


def round_settled_at(r: RoundFacts, w: Window) -> int | None:
    """When a round's result was known: its feedback if in time, else its deadline then in
    force (``None`` while paused or without a deadline)."""
    if r.handled_in_time and w.known(r.handled_at):
        return r.handled_at
    return r.deadline_at(w.as_of)


def round_overdue_open(r: RoundFacts, w: Window) -> bool:
    """Started, neither handled nor ended, and past its deadline in force at ``as_of``."""
    if not w.known(r.started_at) or round_handled(r, w) or round_cancelled(r, w):
        return False
    deadline = r.deadline_at(w.as_of)
    return deadline is not None and deadline < w.as_of


def task_settled_at(t: TaskFacts, w: Window) -> int | None:
    if t.done_in_time and w.known(t.completed_at):
        return t.completed_at
    return t.deadline


def task_due(t: TaskFacts, w: Window) -> bool:
    cancelled = t.cancelled and w.known(t.completed_at)
    return not cancelled and w.has(task_settled_at(t, w))


def valid_as_of(c: CaseFacts, w: Window) -> bool:
    return w.known(c.valid_at) and not w.known(c.invalid_at)


def public(c: CaseFacts) -> bool:
    """A report from the public (监督举报): hotlines 12345/12319, public reports, media."""
    return c.source.public_facing


# -- posts: inspector (监督员), §7.3 ---


def reported(c: CaseFacts, w: Window) -> bool:
    """上报数: reports the inspector made in the period (source 监督员上报, §7.2)."""
    return c.source is Source.INSPECTOR and w.has(c.reported_at)


def valid_reported(c: CaseFacts, w: Window) -> bool:
    """有效上报数: of 上报数, reports filed (立案) — or handled on the spot with the centre's
    approval (自处理) — and not voided (作废), as of the period's end (§7.2, eGova)."""
    return reported(c, w) and valid_as_of(c, w)


def verify_due(t: TaskFacts, w: Window) -> bool:
    """应核实数: verify tasks (核实) of the inspector that settled in the period (§7.2)."""
    return t.kind is TaskKind.VERIFY and task_due(t, w)


def verified_in_time(t: TaskFacts, w: Window) -> bool:
    """按时核实数: of 应核实数, answered by the task's deadline (§7.2; limit §6.2)."""
    return verify_due(t, w) and t.done_in_time


def check_due(t: TaskFacts, w: Window) -> bool:
    """应核查数: check tasks (核查) of the inspector that settled in the period (§7.2)."""
    return t.kind is TaskKind.CHECK and task_due(t, w)


def checked_in_time(t: TaskFacts, w: Window) -> bool:
    """按时核查数: of 应核查数, answered by the task's deadline (§7.2)."""
    return check_due(t, w) and t.done_in_time


def grid_filed(c: CaseFacts, w: Window) -> bool:
    """责任网格立案数: cases filed in the period in the inspector's responsible grids — the
    base of 漏报率 (§7.3: 漏报率 = 漏报数 / 立案数)."""
    return w.has(c.filed_at)


def missed(c: CaseFacts, w: Window) -> bool:
    """漏报数: of 责任网格立案数, problems first reported by the public (监督举报) — the
    inspector of the grid missed them (§7.2)."""
    return grid_filed(c, w) and public(c)


# -- posts: operator (受理员), §7.3 ---


def intake(c: CaseFacts, w: Window) -> bool:
    """受理数: intake decisions (受理, 不予受理, 合并) the operator made in the period (§7.2)."""
    return c.intake_by is not None and w.has(c.intake_at)


def intake_in_time(c: CaseFacts, w: Window) -> bool:
    """按时受理数: of 受理数, decided within the acceptance stage limit (受理 15 min, §6.2)."""
    return intake(c, w) and c.intake_in_time


def verify_sent(t: TaskFacts, w: Window) -> bool:
    """发核实数 (应发核实数): verify tasks the operator sent in the period (§7.3)."""
    return t.kind is TaskKind.VERIFY and t.requested_by is not None and w.has(t.created_at)


def verify_sent_in_time(t: TaskFacts, w: Window) -> bool:
    """按时发核实数: of 发核实数, sent within the stage limit in force (§7.3, §6.2)."""
    return verify_sent(t, w) and t.requested_in_time


def check_sent(t: TaskFacts, w: Window) -> bool:
    """发核查数 (应发核查数): check tasks the operator sent in the period (§7.3)."""
    return t.kind is TaskKind.CHECK and t.requested_by is not None and w.has(t.created_at)


def check_sent_in_time(t: TaskFacts, w: Window) -> bool:
    """按时发核查数: of 发核查数, sent within the check stage limit after the feedback."""
    return check_sent(t, w) and t.requested_in_time


# -- posts: shift lead (值班长), §7.3 ---


def filed(c: CaseFacts, w: Window) -> bool:
    """立案数: cases filed (立案) in the period (§7.2)."""
    return w.has(c.filed_at)


def filed_in_time(c: CaseFacts, w: Window) -> bool:
    """按时立案数: of 立案数, filed within the filing stage limit (§7.3, §6.2)."""
    return filed(c, w) and c.filed_in_time


def voided(c: CaseFacts, w: Window) -> bool:
    """作废数: of 立案数, cases voided (作废) by the period's end; 准确立案数 = 立案数 − 作废数."""
    return filed(c, w) and w.known(c.invalid_at)


def closed(c: CaseFacts, w: Window) -> bool:
    """结案数: filed cases closed (结案) in the period (§7.2)."""
    return c.filed_at is not None and w.has(c.closed_at)


def closed_in_time(c: CaseFacts, w: Window) -> bool:
    """按时结案数: of the shift lead's 结案数, closed within the closing stage limit (§7.3)."""
    return closed(c, w) and c.closed_in_time


# -- posts: dispatcher (派遣员), §7.3 ---


def dispatched(r: RoundFacts, w: Window) -> bool:
    """派遣数 (= 应派遣数): dispatches (派遣) made in the period; reworks are not dispatches."""
    return not r.rework and w.has(r.started_at)


def dispatched_in_time(r: RoundFacts, w: Window) -> bool:
    """按时派遣数: of 派遣数, made within the dispatch stage limit (派遣 15 min, §6.2)."""
    return dispatched(r, w) and r.dispatched_in_time


def accurate_dispatched(r: RoundFacts, w: Window) -> bool:
    """准确派遣数: of 派遣数, dispatches the department kept — not refused (拒签) and not
    returned (回退) by the period's end (§7.2: 应派遣数 − wrong dispatches)."""
    return dispatched(r, w) and not round_cancelled(r, w)


# -- departments (专业部门), §7.4 ---


def assigned(r: RoundFacts, w: Window) -> bool:
    """立案数 of a department (受派案件数): cases dispatched to it in the period and kept
    (not refused or returned by the period's end) — the count its 立案数分值 is read from."""
    return dispatched(r, w) and not round_cancelled(r, w)


def due(r: RoundFacts, w: Window) -> bool:
    """应处置数: disposal rounds (a dispatch or a rework) of the department that settled in the
    period: handled in time, or fell overdue (§7.4; rounds refused or returned excluded)."""
    return not round_cancelled(r, w) and w.has(round_settled_at(r, w))


def handled(r: RoundFacts, w: Window) -> bool:
    """处置数: of 应处置数, rounds the department reported back on (处理反馈) by the period's
    end (§7.4: 处置率 = 处置数 / 应处置数)."""
    return due(r, w) and round_handled(r, w)


def handled_on_time(r: RoundFacts, w: Window) -> bool:
    """按期处置数: of 应处置数, rounds handled by their deadline in force (§7.4)."""
    return due(r, w) and r.handled_in_time and round_handled(r, w)


def rework(r: RoundFacts, w: Window) -> bool:
    """返工数: of 应处置数, rounds that are reworks after a failed check (返工, §7.2)."""
    return due(r, w) and r.rework


def extended(r: RoundFacts, w: Window) -> bool:
    """延期数: of 应处置数, rounds with an extension (延期) approved by the period's end."""
    return due(r, w) and w.known(r.extended_at)


def suspended(r: RoundFacts, w: Window) -> int:
    """挂账数: suspensions (挂账) approved in the period (§7.2; a count of approvals)."""
    return sum(1 for c in r.changes if c.kind is ChangeKind.SUSPENSION and w.has(c.at))


def returned(r: RoundFacts, w: Window) -> bool:
    """回退数: returns (回退) approved in the period (§7.2)."""
    return r.end is RoundEnd.RETURNED and w.has(r.ended_at)


def refused(r: RoundFacts, w: Window) -> bool:
    """拒签数: dispatches the department refused (拒签) in the period (§5.4)."""
    return r.end is RoundEnd.REFUSED and w.has(r.ended_at)


def overdue_open(r: RoundFacts, w: Window) -> bool:
    """超期未处置数: rounds still open and past their deadline at the period's end — a
    snapshot of the backlog (§7.2 超期待处置数); 应结案数 = 结案数 + 超期未处置数 (§7.4)."""
    return round_overdue_open(r, w)


def department_closed(c: CaseFacts, w: Window) -> bool:
    """结案数 of a department: cases closed in the period whose last round was its (§7.4)."""
    return closed(c, w) and c.closed_department is not None


# -- regions (区域), §7.5 ---


def public_filed(c: CaseFacts, w: Window) -> bool:
    """监督举报数 (监督举报核实数): of 立案数, problems reported by the public (§7.5)."""
    return filed(c, w) and public(c)


def closed_on_time(c: CaseFacts, w: Window) -> bool:
    """按期结案数: of 结案数, cases closed as 正常结案 — handled within their limit (§5.4)."""
    return closed(c, w) and c.close_type is CloseType.NORMAL


def overdue_unclosed(record: CaseRecord, w: Window) -> bool:
    """超期未结案数: filed cases not closed or voided at the period's end whose current round
    is overdue — still open past its deadline, or handled late and not yet closed; a snapshot.
    应结案数 = 结案数 + 超期未结案数 (§7.5, S4)."""
    c = record.case
    if not w.known(c.filed_at) or w.known(c.closed_at) or w.known(c.invalid_at):
        return False
    latest = [r for r in record.rounds if w.known(r.started_at)]
    if not latest:
        return False
    r = latest[-1]
    if round_cancelled(r, w):
        return False
    if round_handled(r, w):
        return not r.handled_in_time
    return round_overdue_open(r, w)


# -- the centre (§7.6) ---


def callback(c: CaseFacts, w: Window) -> bool:
    """回访数: call-backs (回访) recorded in the period."""
    return w.has(c.callback_at) and c.satisfaction is not None


def satisfied(c: CaseFacts, w: Window) -> bool:
    """满意数: of 回访数, rated 非常满意, 满意 or 基本满意."""
    return callback(c, w) and c.satisfaction in SATISFIED_LEVELS


def satisfaction_points(c: CaseFacts, w: Window) -> int:
    """满意度分值: eGova's points per option, 100 / 80 / 50 / 0 / −100 (§5.4), summed."""
    if not callback(c, w) or c.satisfaction is None:
        return 0
    return SATISFACTION_POINTS.get(c.satisfaction, 0)


def report_any(c: CaseFacts, w: Window) -> bool:
    """上报数 of the centre: reports from every source in the period (§7.6)."""
    return w.has(c.reported_at)


def valid_any(c: CaseFacts, w: Window) -> bool:
    """有效上报数 of the centre: of its 上报数, valid as of the period's end."""
    return report_any(c, w) and valid_as_of(c, w)


# -- the table: base counts of each kind, and whom each item counts for ---

CaseRule = Callable[[CaseFacts, Window], bool | int]
RoundRule = Callable[[RoundFacts, Window], bool | int]
TaskRule = Callable[[TaskFacts, Window], bool | int]
RecordRule = Callable[[CaseRecord, Window], bool | int]

INSPECTOR_CASE: dict[str, CaseRule] = {"reported": reported, "valid_reported": valid_reported}
INSPECTOR_TASK: dict[str, TaskRule] = {
    "verify_due": verify_due,
    "verified_in_time": verified_in_time,
    "check_due": check_due,
    "checked_in_time": checked_in_time,
}
INSPECTOR_GRID: dict[str, CaseRule] = {"grid_filed": grid_filed, "missed": missed}
OPERATOR_CASE: dict[str, CaseRule] = {"intake": intake, "intake_in_time": intake_in_time}
OPERATOR_TASK: dict[str, TaskRule] = {
    "verify_sent": verify_sent,
    "verify_sent_in_time": verify_sent_in_time,
    "check_sent": check_sent,
    "check_sent_in_time": check_sent_in_time,
}
SHIFT_LEAD_FILED: dict[str, CaseRule] = {
    "filed": filed,
    "filed_in_time": filed_in_time,
    "voided": voided,
}
SHIFT_LEAD_CLOSED: dict[str, CaseRule] = {"closed": closed, "closed_in_time": closed_in_time}
DISPATCHER_ROUND: dict[str, RoundRule] = {
    "dispatched": dispatched,
    "dispatched_in_time": dispatched_in_time,
    "accurate_dispatched": accurate_dispatched,
}
DEPARTMENT_ROUND: dict[str, RoundRule] = {
    "assigned": assigned,
    "due": due,
    "handled": handled,
    "handled_on_time": handled_on_time,
    "rework": rework,
    "extended": extended,
    "suspended": suspended,
    "returned": returned,
    "refused": refused,
    "overdue_open": overdue_open,
}
DEPARTMENT_CASE: dict[str, CaseRule] = {"closed": department_closed}
REGION_CASE: dict[str, CaseRule] = {
    "filed": filed,
    "public_filed": public_filed,
    "closed": closed,
    "closed_on_time": closed_on_time,
}
REGION_RECORD: dict[str, RecordRule] = {"overdue_unclosed": overdue_unclosed}
CENTRE_CASE: dict[str, CaseRule] = {
    **REGION_CASE,
    "reported": report_any,
    "valid_reported": valid_any,
    "callbacks": callback,
    "satisfied": satisfied,
    "satisfaction_points": satisfaction_points,
}
CENTRE_ROUND: dict[str, RoundRule] = {
    "dispatched": dispatched,
    "due": due,
    "handled_on_time": handled_on_time,
}

BASE_COUNTS: Mapping[SubjectKind, tuple[str, ...]] = {
    SubjectKind.INSPECTOR: (*INSPECTOR_CASE, *INSPECTOR_TASK, *INSPECTOR_GRID),
    SubjectKind.OPERATOR: (*OPERATOR_CASE, *OPERATOR_TASK),
    SubjectKind.SHIFT_LEAD: (*SHIFT_LEAD_FILED, *SHIFT_LEAD_CLOSED),
    SubjectKind.DISPATCHER: tuple(DISPATCHER_ROUND),
    SubjectKind.DEPARTMENT: (*DEPARTMENT_ROUND, *DEPARTMENT_CASE),
    **{kind: (*REGION_CASE, *REGION_RECORD) for kind in REGION_KINDS},
    SubjectKind.CENTRE: (*CENTRE_CASE, *REGION_RECORD, *CENTRE_ROUND),
}

Counts = dict[str, dict[str, int]]


def _add(counts: Counts, kind: SubjectKind, key: str, name: str, value: bool | int) -> None:
    if value:
        row = counts.setdefault(key, dict.fromkeys(BASE_COUNTS[kind], 0))
        row[name] += int(value)


def evaluate(records: Iterable[CaseRecord], kind: SubjectKind, w: Window, ctx: Context) -> Counts:
    """The base counts of every subject of ``kind`` with any activity, item by item.

    This is the definition the columnar engine is tested against; it is plain and slow.
    """
    counts: Counts = {}

    def add(
        key: str | int | None, rules: Mapping[str, Callable[..., bool | int]], item: object
    ) -> None:
        if key is None:
            return
        for name, rule in rules.items():
            _add(counts, kind, str(key), name, rule(item, w))

    for record in records:
        c = record.case
        if not ctx.in_scope(c.grid_code):
            continue
        if kind is SubjectKind.INSPECTOR:
            add(c.reporter_id, INSPECTOR_CASE, c)
            for t in record.tasks:
                add(t.assignee_id, INSPECTOR_TASK, t)
            for inspector in ctx.inspector_grids.get(c.grid_code or "", ()):
                add(inspector, INSPECTOR_GRID, c)
        elif kind is SubjectKind.OPERATOR:
            add(c.intake_by, OPERATOR_CASE, c)
            for t in record.tasks:
                add(t.requested_by, OPERATOR_TASK, t)
        elif kind is SubjectKind.SHIFT_LEAD:
            add(c.filed_by, SHIFT_LEAD_FILED, c)
            add(c.closed_by, SHIFT_LEAD_CLOSED, c)
        elif kind is SubjectKind.DISPATCHER:
            for r in record.rounds:
                add(r.dispatched_by, DISPATCHER_ROUND, r)
        elif kind is SubjectKind.DEPARTMENT:
            for r in record.rounds:
                for department in ctx.department_chain(r.department_id):
                    add(department, DEPARTMENT_ROUND, r)
            if c.closed_department is not None:
                for department in ctx.department_chain(c.closed_department):
                    add(department, DEPARTMENT_CASE, c)
        elif kind in REGION_KINDS:
            if c.grid_code:
                key = region_of(kind, c.grid_code)
                add(key, REGION_CASE, c)
                add(key, REGION_RECORD, record)
        else:
            key = ctx.district or CITY
            add(key, CENTRE_CASE, c)
            add(key, REGION_RECORD, record)
            for r in record.rounds:
                add(key, CENTRE_ROUND, r)
    return counts
