"""The case (案卷) and the vocabularies it is described with.

Reference: ``standards.md`` §5.3 (sources), §5.5–5.6 (states), §5.4 (close types, branches).
Naming follows the standard-derived systems: 核实 (verify) happens before filing, 核查 (check)
after disposal (§5.1 naming warning).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from cityloop.domain.sla.units import TimeLimit


class CaseState(enum.StrEnum):
    REPORTED = "reported"  # 待受理
    VERIFYING = "verifying"  # 核实中
    VERIFIED = "verified"  # 已核实(待受理)
    SELF_HANDLED = "self_handled"  # 自处理待审核
    PENDING_FILING = "pending_filing"  # 待立案
    VOID_REQUESTED = "void_requested"  # 作废待审批
    PENDING_DISPATCH = "pending_dispatch"  # 待派遣
    PENDING_SUB_DISPATCH = "pending_sub_dispatch"  # 待二级派遣
    DISPATCHED = "dispatched"  # 待签收
    HANDLING = "handling"  # 处置中
    RETURN_REQUESTED = "return_requested"  # 回退待审批
    EXTENSION_REQUESTED = "extension_requested"  # 延期待审批
    SUSPENSION_REQUESTED = "suspension_requested"  # 挂账待审批
    SUSPENDED = "suspended"  # 挂账中
    HANDLED = "handled"  # 已反馈(待核查)
    CHECKING = "checking"  # 核查中
    CHECK_FAILED = "check_failed"  # 核查未通过
    PENDING_CLOSE = "pending_close"  # 待结案
    CLOSED = "closed"  # 已结案
    REJECTED = "rejected"  # 不予立案
    VOIDED = "voided"  # 已作废
    MERGED = "merged"  # 已合并

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset(
    {CaseState.CLOSED, CaseState.REJECTED, CaseState.VOIDED, CaseState.MERGED}
)

# States in which a department holds the case and its disposal clock runs (or is paused).
DISPOSAL_STATES = frozenset(
    {
        CaseState.DISPATCHED,
        CaseState.HANDLING,
        CaseState.RETURN_REQUESTED,
        CaseState.EXTENSION_REQUESTED,
        CaseState.SUSPENSION_REQUESTED,
        CaseState.SUSPENDED,
    }
)


class Source(enum.StrEnum):
    """Where a report came from (案件来源), §5.3."""

    INSPECTOR = "inspector"  # 监督员上报
    HOTLINE_12345 = "hotline_12345"  # 12345 热线
    HOTLINE_12319 = "hotline_12319"  # 12319 城建热线
    PUBLIC = "public"  # 公众举报 (app, web, walk-in)
    MEDIA = "media"  # 媒体曝光
    LEADER = "leader"  # 领导交办
    SENSOR = "sensor"  # 物联感知
    VIDEO = "video"  # 视频发现

    @property
    def public_facing(self) -> bool:
        """A member of the public stands behind it: the case gets a call-back (回访)."""
        return self in (Source.HOTLINE_12345, Source.HOTLINE_12319, Source.PUBLIC, Source.MEDIA)


class Urgency(enum.StrEnum):
    NORMAL = "normal"  # 一般
    URGENT = "urgent"  # 紧急


class CloseType(enum.StrEnum):
    """结案类型 (eGova archive types, §5.4)."""

    NORMAL = "normal"  # 正常结案
    OVERDUE = "overdue"  # 超时结案
    ERROR = "error"  # 差错结案
    SPECIAL = "special"  # 特殊结案


class TaskKind(enum.StrEnum):
    VERIFY = "verify"  # 核实
    CHECK = "check"  # 核查


class TaskState(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class VerifyResult(enum.StrEnum):
    CONFIRMED = "confirmed"  # 属实
    NOT_FOUND = "not_found"  # 不属实 / 未发现


class CheckResult(enum.StrEnum):
    PASSED = "passed"  # 核查通过
    FAILED = "failed"  # 核查不通过


@dataclass(frozen=True, slots=True)
class Case:
    """The case record. Stored times are aware UTC instants.

    Besides its state, a case keeps its current stage clock (``stage``, ``stage_started_at``,
    ``stage_deadline``), its disposal clock (limit, deadline, suspension) and the milestone
    times the evaluation counts from (§7).
    """

    id: int
    number: str
    version: int
    state: CaseState
    source: Source
    reported_at: datetime
    description: str = ""
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    district_code: str | None = None
    street_code: str | None = None
    community_code: str | None = None
    grid_id: int | None = None
    grid_code: str | None = None
    category_id: int | None = None
    component_id: int | None = None
    filing_standard_id: int | None = None
    urgency: Urgency = Urgency.NORMAL
    reporter_user_id: int | None = None
    reporter_name: str = ""
    reporter_phone: str = ""
    self_handled: bool = False
    resume_state: CaseState | None = None
    stage: str | None = None
    stage_started_at: datetime | None = None
    stage_deadline: datetime | None = None
    stage_yellow_at: datetime | None = None  # when the stage light turns yellow
    proposed_department_id: int | None = None
    department_id: int | None = None
    sub_dispatched: bool = False
    refuse_until: datetime | None = None
    disposal_limit: TimeLimit | None = None
    disposal_deadline: datetime | None = None
    suspended_at: datetime | None = None
    suspend_until: datetime | None = None
    suspended_remaining_us: int | None = None
    disposal_paused_us: int = 0  # clock time spent suspended in this disposal round
    accepted_at: datetime | None = None
    filed_at: datetime | None = None
    first_dispatched_at: datetime | None = None
    dispatched_at: datetime | None = None
    signed_at: datetime | None = None
    handled_at: datetime | None = None
    handled_overdue: bool | None = None
    checked_at: datetime | None = None
    closed_at: datetime | None = None
    verify_result: str | None = None
    check_result: str | None = None
    extension_count: int = 0
    rework_count: int = 0
    return_count: int = 0
    refusal_count: int = 0
    remind_count: int = 0
    supervised: bool = False
    merged_into_id: int | None = None
    close_type: CloseType | None = None
    satisfaction: int | None = None
    event_seq: int = 0  # the number of the latest timeline line
    updated_at: datetime | None = None

    def overdue_at(self, instant: datetime) -> bool:
        """Past the (extended) disposal deadline at ``instant``.

        While suspended (挂账) the clock stands still at the moment of suspension; the deadline
        is laid out again when the case resumes.
        """
        if self.disposal_deadline is None:
            return False
        if self.state is CaseState.SUSPENDED and self.suspended_at is not None:
            instant = min(instant, self.suspended_at)
        return instant > self.disposal_deadline


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One line of a case's timeline: who did what, when, and what the clock said then."""

    case_id: int
    seq: int
    action: str
    at: datetime
    actor_id: int | None
    actor_role: str
    from_state: CaseState | None
    to_state: CaseState
    comment: str = ""
    details: dict[str, object] | None = None
    stage: str | None = None
    stage_deadline: datetime | None = None
    department_id: int | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Task:
    """A verify (核实) or check (核查) task for an inspector."""

    id: int
    case_id: int
    kind: TaskKind
    assignee_id: int
    created_at: datetime
    deadline: datetime | None
    state: TaskState = TaskState.OPEN
    grid_id: int | None = None
    completed_at: datetime | None = None
    result: str | None = None
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file kept with a case: report photos, feedback evidence, verify/check photos."""

    id: int
    case_id: int
    stage: str  # report | verify | feedback | check | other
    filename: str
    content_type: str
    size: int
    sha256: str
    path: str  # relative to the attachments directory
    created_at: datetime
    uploaded_by: int | None = None
    event_id: int | None = None
    thumbnail_path: str | None = None
    exif_lon: float | None = None  # the position the photo's EXIF carried (then stripped)
    exif_lat: float | None = None
