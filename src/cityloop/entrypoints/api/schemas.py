"""Request and response bodies of the API, and how domain views become them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python

from cityloop.domain.case import Attachment, Case, CaseEvent, Task
from cityloop.domain.roles import Actor, Role
from cityloop.domain.sla.status import StageStatus
from cityloop.domain.workflow import Action
from cityloop.entrypoints.presentation import colour, label, reporter_phone, stored_label
from cityloop.services.queries.cases import CaseItem, CaseView
from cityloop.services.queries.model import CaseSummary

API = "/api/v1"


class Labelled(BaseModel):
    value: str
    label: str


class StageOut(BaseModel):
    stage: str
    label: str
    deadline: datetime
    allowed_seconds: int
    used_seconds: int
    remaining_seconds: int
    light: str
    light_label: str
    light_colour: str
    paused: bool
    overdue: bool


class CategoryOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    edition: str
    major_code: str
    major_name: str
    component_code: str | None = None
    local: bool = False
    self_handling_allowed: bool = False


class LimitOut(BaseModel):
    urgency: str
    amount: str
    unit: str
    text: str


class StandardOut(BaseModel):
    id: int
    category_id: int
    condition: str
    closing_condition: str
    limits: list[LimitOut]
    supervising_body: str = ""
    responsible_body: str = ""


class AttachmentOut(BaseModel):
    id: int
    stage: str
    filename: str
    content_type: str
    size: int
    sha256: str
    url: str
    thumbnail_url: str | None = None
    created_at: datetime
    event_id: int | None = None


class EventOut(BaseModel):
    seq: int
    action: str
    action_label: str
    at: datetime
    actor_id: int | None
    actor_name: str
    actor_role: str
    from_state: str | None
    to_state: str
    comment: str
    details: dict[str, Any] | None = None
    stage: str | None = None
    stage_deadline: datetime | None = None
    department_id: int | None = None
    department_name: str | None = None
    attachments: list[AttachmentOut] = Field(default_factory=list)


class TaskOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    case_number: str | None = None
    assignee_id: int
    created_at: datetime
    deadline: datetime | None
    state: str
    completed_at: datetime | None = None
    result: str | None = None
    comment: str = ""


class ActionOut(BaseModel):
    action: str
    label: str
    url: str


class DepartmentRef(BaseModel):
    id: int
    name: str


class CaseSummaryOut(BaseModel):
    number: str
    version: int
    state: Labelled
    source: Labelled
    category_code: str | None
    category_name: str | None
    description: str
    address: str
    grid_code: str | None
    street_code: str | None
    street_name: str | None
    district_code: str | None
    department: DepartmentRef | None
    urgency: str
    reported_at: datetime
    updated_at: datetime | None
    supervised: bool
    stage: StageOut | None
    url: str


class CaseOut(CaseSummaryOut):
    lon: float | None
    lat: float | None
    community_code: str | None
    category: CategoryOut | None
    standard: StandardOut | None
    component_id: int | None
    reporter_name: str
    reporter_phone: str
    self_handled: bool
    disposal_limit: str | None
    disposal_deadline: datetime | None
    refuse_until: datetime | None
    suspend_until: datetime | None
    accepted_at: datetime | None
    filed_at: datetime | None
    dispatched_at: datetime | None
    handled_at: datetime | None
    closed_at: datetime | None
    close_type: Labelled | None
    satisfaction: int | None
    counts: dict[str, int]
    merged_into: str | None
    actions: list[ActionOut]
    proposals: list[DepartmentRef]
    timeline: list[EventOut]
    tasks: list[TaskOut]
    attachments: list[AttachmentOut]


class CaseChangeOut(BaseModel):
    """What an action or a report answers: the case's new version, state and timeline line."""

    number: str
    version: int
    state: Labelled
    stage: StageOut | None
    event: EventOut
    task: TaskOut | None = None
    attachments: list[AttachmentOut] = Field(default_factory=list)
    replayed: bool = False
    url: str


class CasePageOut(BaseModel):
    items: list[CaseSummaryOut]
    total: int
    page: int
    page_size: int


class TaskItemOut(BaseModel):
    task: TaskOut
    case: CaseSummaryOut


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    expires_at: datetime
    role: str
    roles: list[str]


class GrantOut(BaseModel):
    role: Labelled
    district_code: str | None
    department_id: int | None


class MeOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Labelled
    district_code: str | None
    department_id: int | None
    grants: list[GrantOut]


# -- request bodies ---


class ReportIn(BaseModel):
    """A report (上报/登记). Position as WGS84/CGCS2000 lon/lat, or a grid code, or a
    component code; photos come as multipart parts named ``photos``."""

    model_config = ConfigDict(extra="forbid")

    source: str
    description: str = Field(max_length=2000)
    category_code: str
    edition: str = "GB/T 47678.5-2026"
    kind: str = "matter"
    lon: float | None = None
    lat: float | None = None
    crs: str = Field(default="EPSG:4326", max_length=20)  # of lon/lat; converted to WGS84
    grid_code: str | None = None
    address: str = ""
    component_code: str | None = None
    reporter_name: str = ""
    reporter_phone: str = ""
    urgency: str = "normal"
    self_handled: bool = False


class TaskAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: str
    comment: str = ""


# -- presenters ---


def _stage(status: StageStatus | None, locale: str) -> StageOut | None:
    if status is None:
        return None
    return StageOut(
        stage=status.stage.value,
        label=label(status.stage, locale),
        deadline=status.deadline,
        allowed_seconds=status.allowed_us // 1_000_000,
        used_seconds=status.used_us // 1_000_000,
        remaining_seconds=status.remaining_us // 1_000_000,
        light=status.light.value,
        light_label=label(status.light, locale),
        light_colour=colour(status.light),
        paused=status.paused,
        overdue=status.overdue,
    )


def _summary_fields(item: CaseItem, locale: str) -> dict[str, Any]:
    case, s = item.case, item.summary
    return {
        "number": case.number,
        "version": case.version,
        "state": Labelled(value=case.state.value, label=label(case.state, locale)),
        "source": Labelled(value=case.source.value, label=label(case.source, locale)),
        "category_code": s.category_code,
        "category_name": s.category_name,
        "description": case.description,
        "address": case.address,
        "grid_code": case.grid_code,
        "street_code": case.street_code,
        "street_name": s.street_name,
        "district_code": case.district_code,
        "department": DepartmentRef(id=case.department_id, name=s.department_name or "")
        if case.department_id
        else None,
        "urgency": case.urgency.value,
        "reported_at": case.reported_at,
        "updated_at": case.updated_at,
        "supervised": case.supervised,
        "stage": _stage(item.status, locale),
        "url": f"{API}/cases/{case.number}",
    }


def case_summary(item: CaseItem, locale: str) -> CaseSummaryOut:
    return CaseSummaryOut(**_summary_fields(item, locale))


def attachment_out(number: str, item: Attachment) -> AttachmentOut:
    return AttachmentOut.model_validate(attachment_json(number, item))


def task_out(task: Task, locale: str, number: str | None = None) -> TaskOut:
    return TaskOut.model_validate(task_json(task, locale, number))


def event_out(
    number: str,
    event: CaseEvent,
    actor_name: str,
    department: str | None,
    attachments: tuple[Attachment, ...],
    locale: str,
) -> EventOut:
    return EventOut.model_validate(
        event_json(number, event, actor_name, department, attachments, locale)
    )


def case_out(view: CaseView, actor: Actor, locale: str) -> CaseOut:
    case: Case = view.case
    summary = CaseSummary(
        case=case,
        category_code=view.category.code if view.category else None,
        category_name=view.category.name if view.category else None,
        department_name=view.department_name,
        street_name=view.street_name,
    )
    fields = _summary_fields(CaseItem(summary, view.status), locale)
    phone = reporter_phone(case, actor)
    standard = view.standard
    return CaseOut(
        **fields,
        lon=case.lon,
        lat=case.lat,
        community_code=case.community_code,
        category=CategoryOut(
            id=view.category.id,
            code=view.category.code,
            name=view.category.name,
            kind=view.category.kind.value,
            edition=view.category.edition.value,
            major_code=view.category.major_code,
            major_name=view.category.major_name,
            component_code=view.category.component_code,
            local=view.category.local,
            self_handling_allowed=view.category.self_handling_allowed,
        )
        if view.category
        else None,
        standard=standard_out(standard, locale) if standard else None,
        component_id=case.component_id,
        reporter_name=case.reporter_name,
        reporter_phone=phone,
        self_handled=case.self_handled,
        disposal_limit=str(case.disposal_limit) if case.disposal_limit else None,
        disposal_deadline=case.disposal_deadline,
        refuse_until=case.refuse_until,
        suspend_until=case.suspend_until,
        accepted_at=case.accepted_at,
        filed_at=case.filed_at,
        dispatched_at=case.dispatched_at,
        handled_at=case.handled_at,
        closed_at=case.closed_at,
        close_type=Labelled(value=case.close_type.value, label=label(case.close_type, locale))
        if case.close_type
        else None,
        satisfaction=case.satisfaction,
        counts={
            "extensions": case.extension_count,
            "reworks": case.rework_count,
            "returns": case.return_count,
            "refusals": case.refusal_count,
            "reminders": case.remind_count,
        },
        merged_into=view.merged_into,
        actions=[
            ActionOut(
                action=a.value,
                label=label(a, locale),
                url=f"{API}/cases/{case.number}/actions/{a.value}",
            )
            for a in view.actions
        ],
        proposals=[DepartmentRef(id=d, name=n) for d, n in view.proposals],
        timeline=[
            event_out(
                case.number,
                line.event,
                line.actor_name,
                line.department_name,
                line.attachments,
                locale,
            )
            for line in view.timeline
        ],
        tasks=[task_out(t, locale, case.number) for t in view.tasks],
        attachments=[attachment_out(case.number, a) for a in view.attachments],
    )


def standard_out(standard: Any, locale: str) -> StandardOut:
    return StandardOut(
        id=standard.id,
        category_id=standard.category_id,
        condition=standard.condition,
        closing_condition=standard.closing_condition,
        limits=[
            LimitOut(
                urgency=u.value,
                amount=f"{lim.amount.normalize():f}",
                unit=lim.unit.value,
                text=str(lim),
            )
            for u, lim in sorted(standard.limits.items())
        ],
        supervising_body=standard.supervising_body,
        responsible_body=standard.responsible_body,
    )


# -- the answer of an action, as JSON data directly ---
#
# Every action and report answers a CaseChangeOut. Building the pydantic models and dumping
# them costs more than the rest of the answer; these functions produce the same JSON data
# (same keys, same order, the same time format as pydantic: ISO 8601, ``Z`` for UTC) from the
# domain records. tests/api compare them field by field with the models' schema. The models of
# an attachment, a task and a timeline line are validated from these same functions, so each
# field is mapped in one place.


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def stage_json(status: StageStatus | None, locale: str) -> dict[str, Any] | None:
    if status is None:
        return None
    return {
        "stage": status.stage.value,
        "label": label(status.stage, locale),
        "deadline": _time(status.deadline),
        "allowed_seconds": status.allowed_us // 1_000_000,
        "used_seconds": status.used_us // 1_000_000,
        "remaining_seconds": status.remaining_us // 1_000_000,
        "light": status.light.value,
        "light_label": label(status.light, locale),
        "light_colour": colour(status.light),
        "paused": status.paused,
        "overdue": status.overdue,
    }


def attachment_json(number: str, item: Attachment) -> dict[str, Any]:
    base = f"{API}/cases/{number}/attachments/{item.id}"
    return {
        "id": item.id,
        "stage": item.stage,
        "filename": item.filename,
        "content_type": item.content_type,
        "size": item.size,
        "sha256": item.sha256,
        "url": base,
        "thumbnail_url": f"{base}/thumbnail" if item.thumbnail_path else None,
        "created_at": _time(item.created_at),
        "event_id": item.event_id,
    }


def task_json(task: Task, locale: str, number: str | None = None) -> dict[str, Any]:
    return {
        "id": task.id,
        "kind": task.kind.value,
        "kind_label": label(task.kind, locale),
        "case_number": number,
        "assignee_id": task.assignee_id,
        "created_at": _time(task.created_at),
        "deadline": _time(task.deadline),
        "state": task.state.value,
        "completed_at": _time(task.completed_at),
        "result": task.result,
        "comment": task.comment,
    }


def event_json(
    number: str,
    event: CaseEvent,
    actor_name: str,
    department: str | None,
    attachments: tuple[Attachment, ...],
    locale: str,
) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "action": event.action,
        "action_label": stored_label(Action, event.action, locale),
        "at": _time(event.at),
        "actor_id": event.actor_id,
        # no person (the system's scheduled jobs): the role's name
        "actor_name": actor_name or stored_label(Role, event.actor_role, locale),
        "actor_role": event.actor_role,
        "from_state": event.from_state.value if event.from_state else None,
        "to_state": event.to_state.value,
        "comment": event.comment,
        "details": to_jsonable_python(event.details) if event.details is not None else None,
        "stage": event.stage,
        "stage_deadline": _time(event.stage_deadline),
        "department_id": event.department_id,
        "department_name": department,
        "attachments": [attachment_json(number, a) for a in attachments],
    }


def change_json(
    case: Case,
    event: CaseEvent,
    *,
    actor_name: str,
    status: StageStatus | None,
    task: Task | None,
    attachments: tuple[Attachment, ...],
    replayed: bool,
    locale: str,
) -> dict[str, Any]:
    """The JSON data of a :class:`CaseChangeOut`."""
    number = case.number
    return {
        "number": number,
        "version": case.version,
        "state": {"value": case.state.value, "label": label(case.state, locale)},
        "stage": stage_json(status, locale),
        "event": event_json(number, event, actor_name, None, attachments, locale),
        "task": task_json(task, locale, number) if task else None,
        "attachments": [attachment_json(number, a) for a in attachments],
        "replayed": replayed,
        "url": f"{API}/cases/{number}",
    }
