"""The single write path for cases: one function per action, one transaction each.

Every function follows the same door (DESIGN.md, rule 1):

1. load the case; a case outside the actor's scope is *not found* (a district user never
   learns that another district's case exists);
2. compare the caller's ``version`` (optimistic lock): a stale caller gets ``case_changed``;
3. ask the transition table whether (state, action, role) is allowed and run its guards;
4. validate the action's fields against the data (classes, standards, departments …);
5. write the change and one :class:`CaseEvent` in the same transaction; the update only
   succeeds if the version is unchanged, so a concurrent action fails with ``case_changed``
   and changes nothing;
6. fire notifications only after the commit.

Time is always an argument (``now``); nothing here reads a clock.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from cityloop.domain import workflow
from cityloop.domain.case import (
    Attachment,
    Case,
    CaseEvent,
    CaseState,
    CheckResult,
    CloseType,
    Source,
    Task,
    TaskKind,
    TaskState,
    Urgency,
    VerifyResult,
)
from cityloop.domain.codes import (
    ClassKind,
    Edition,
    parse_class_code,
    parse_component_code,
    parse_grid_code,
)
from cityloop.domain.errors import (
    CaseChangedError,
    ConflictError,
    DomainError,
    Msg,
    NotFoundError,
    PermissionDeniedError,
    TransitionNotAllowedError,
    ValidationError,
)
from cityloop.domain.regions import RegionLevel
from cityloop.domain.roles import Actor, Role
from cityloop.domain.routing import competent_department, propose_departments
from cityloop.domain.sla.clock import Clocks
from cityloop.domain.sla.stages import Stage
from cityloop.domain.sla.status import StageStatus, stage_status, yellow_at
from cityloop.domain.taxonomy import Category
from cityloop.domain.workflow import Action, GuardContext, Transition
from cityloop.services.ports import CaseNotice, DuplicateKeyError, StoredFile, UnitOfWork

CaseRef = int | str
"""A case's id, or its number (案件编号) as the API and people use it."""

MAX_DESCRIPTION = 2000
MAX_COMMENT = 2000
MAX_ADDRESS = 256  # GB/T 47678.5 事发位置 SFWZ is char 256
MAX_ATTACHMENTS = 20
_PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{4,19}$")


# -- inputs ---


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """A file arriving with an action, already checked (type sniffed, size, EXIF stripped)
    by the transport; ``exif_lon``/``exif_lat`` keep the position the photo carried.

    ``stored`` and ``thumbnail_stored``: the file store's entries when the transport has
    written the files already (the API does, beside the event loop, so that no write and no
    fsync of a photo holds up the requests of the moment); otherwise the action writes them.
    """

    filename: str
    content_type: str
    data: bytes
    thumbnail: bytes | None = None
    exif_lon: float | None = None
    exif_lat: float | None = None
    stored: StoredFile | None = None
    thumbnail_stored: StoredFile | None = None


@dataclass(frozen=True, slots=True)
class NewReport:
    """What a report (上报 / 登记) carries.

    ``category_code`` is a GB/T 47678.5 matter (or component) class code; legacy 4-digit codes
    of GB/T 30428.2-2013 are accepted with ``edition`` and mapped. Position is WGS84/CGCS2000
    longitude and latitude; without one, a component's recorded position is used.
    """

    source: Source
    description: str
    category_code: str
    lon: float | None = None
    lat: float | None = None
    address: str = ""
    edition: Edition = Edition.CURRENT
    kind: ClassKind = ClassKind.MATTER
    component_code: str | None = None
    grid_code: str | None = None
    reporter_name: str = ""
    reporter_phone: str = ""
    urgency: Urgency = Urgency.NORMAL
    self_handled: bool = False
    attachments: Sequence[NewAttachment] = ()

    def fingerprint(self) -> str:
        """A stable digest of the request, to tell a retry from a different report."""
        body = {
            "source": self.source.value,
            "description": self.description,
            "category_code": self.category_code,
            "edition": self.edition.value,
            "kind": self.kind.value,
            "lon": self.lon,
            "lat": self.lat,
            "address": self.address,
            "component_code": self.component_code,
            "grid_code": self.grid_code,
            "reporter_name": self.reporter_name,
            "reporter_phone": self.reporter_phone,
            "urgency": self.urgency.value,
            "self_handled": self.self_handled,
            "attachments": [hashlib.sha256(a.data).hexdigest() for a in self.attachments],
        }
        raw = json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an action produced: the case after it, its timeline line, and a task if one was
    created."""

    case: Case
    event: CaseEvent
    task: Task | None = None
    attachments: tuple[Attachment, ...] = ()
    replayed: bool = False  # an idempotent repeat of an earlier intake
    status: StageStatus | None = None  # the stage clock right after the action


@dataclass(slots=True)
class _Change:
    """Fields to write with a transition, and what to record about it."""

    fields: dict[str, Any] = field(default_factory=dict)
    comment: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    restart_stage: bool = False


# -- shared steps ---


_FIELD_LABELS = {
    "description": Msg("description"),
    "address": Msg("address"),
    "reporter_name": Msg("reporter name"),
    "comment": Msg("comment"),
    "reason": Msg("reason"),
}


def _text(value: str | None, field: str, *, required: bool, limit: int) -> str:
    text = (value or "").strip()
    what = _FIELD_LABELS[field]
    if required and not text:
        raise ValidationError(f"{field}_required", "A {what} is required", what=what)
    if len(text) > limit:
        raise ValidationError(
            f"{field}_too_long",
            "The {what} has {length} characters; at most {limit} are allowed",
            what=what,
            length=len(text),
            limit=limit,
        )
    return text


def _find(uow: UnitOfWork, case_id: CaseRef) -> Case | None:
    if isinstance(case_id, str):
        return uow.cases.get_by_number(case_id)
    return uow.cases.get(case_id)


def _load(uow: UnitOfWork, case_id: CaseRef, actor: Actor) -> Case:
    case = _find(uow, case_id)
    if case is None or not workflow.visible(case, actor):
        raise NotFoundError("case_not_found", "Case {id} was not found", id=case_id)
    return case


def _notice(uow: UnitOfWork, case: Case, action: str, assignee_id: int | None = None) -> None:
    uow.publish(
        CaseNotice(
            number=case.number,
            state=case.state.value,
            action=action,
            district_code=case.district_code,
            department_id=case.department_id,
            reporter_user_id=case.reporter_user_id,
            assignee_id=assignee_id,
        )
    )


def _status(uow: UnitOfWork, case: Case, now: datetime) -> StageStatus | None:
    """The stage clock of ``case`` at ``now`` (the calendar objects are cached, so this runs
    after the transaction too)."""
    return stage_status(case, now, uow.sla.clocks(), uow.sla.policy())


def _fresh(case: Case, version: int | None) -> None:
    if version is not None and version != case.version:
        raise CaseChangedError(case.number, version, case.version)


def _authorize(
    uow: UnitOfWork,
    case: Case | None,
    action: Action,
    actor: Actor,
    now: datetime,
    *,
    task_assignee_id: int | None = None,
    params: Mapping[str, Any] | None = None,
) -> tuple[Transition, CaseState]:
    ctx = GuardContext(
        case=case,
        actor=actor,
        now=now,
        policy=uow.sla.policy(),
        task_assignee_id=task_assignee_id,
        params=dict(params or {}),
    )
    return workflow.check(ctx, action)


def _stage_clock(
    uow: UnitOfWork,
    clocks: Clocks,
    stage: Stage,
    started: datetime,
    case: Case,
    fields: Mapping[str, Any],
) -> dict[str, Any]:
    """Deadline and yellow instant of ``stage`` started at ``started``."""
    if stage is Stage.DISPOSE:
        deadline = fields.get("disposal_deadline", case.disposal_deadline)
        limit = fields.get("disposal_limit", case.disposal_limit)
        paused = fields.get("disposal_paused_us", case.disposal_paused_us)
        kind = limit.clock if limit is not None else None
    else:
        stage_limit = uow.sla.policy().stage_limit(stage)
        deadline = clocks.deadline(started, stage_limit) if stage_limit is not None else None
        kind, paused = (stage_limit.clock if stage_limit else None), 0
    yellow = (
        yellow_at(started, deadline, kind, clocks, uow.sla.policy(), paused)
        if deadline is not None and kind is not None
        else None
    )
    return {
        "stage": stage.value,
        "stage_started_at": started,
        "stage_deadline": deadline,
        "stage_yellow_at": yellow,
    }


def _stage_fields(
    uow: UnitOfWork,
    clocks: Clocks,
    case: Case,
    next_state: CaseState,
    now: datetime,
    change: _Change,
) -> dict[str, Any]:
    """Start the next state's stage clock when the stage changes (or a restart is asked);
    follow the disposal deadline when an extension or a resumption moves it."""
    stage = workflow.STAGE_OF.get(next_state)
    if stage is None:
        return dict.fromkeys(("stage", "stage_started_at", "stage_deadline", "stage_yellow_at"))
    restart = stage.value != case.stage or change.restart_stage
    if restart:
        return _stage_clock(uow, clocks, stage, now, case, change.fields)
    if stage is Stage.DISPOSE and "disposal_deadline" in change.fields:
        started = case.stage_started_at or now
        return _stage_clock(uow, clocks, stage, started, case, change.fields)
    return {}


def _apply(
    uow: UnitOfWork,
    case: Case,
    row: Transition,
    next_state: CaseState,
    actor: Actor,
    now: datetime,
    change: _Change,
) -> tuple[Case, CaseEvent]:
    clocks = uow.sla.clocks()
    fields = dict(change.fields)
    fields["state"] = next_state
    fields.update(_stage_fields(uow, clocks, case, next_state, now, change))
    fields["updated_at"] = now
    updated = uow.cases.update(case, fields)
    _notice(uow, updated, row.action.value)
    event = uow.cases.add_event(
        CaseEvent(
            case_id=case.id,
            seq=updated.event_seq,
            action=row.action.value,
            at=now,
            actor_id=actor.user_id,
            actor_role=actor.role.value,
            from_state=case.state,
            to_state=next_state,
            comment=change.comment,
            details=change.details or None,
            stage=updated.stage,
            stage_deadline=updated.stage_deadline,
            department_id=updated.department_id,
        )
    )
    return updated, event


def _store_attachments(
    uow: UnitOfWork,
    case_id: int,
    files: Sequence[NewAttachment],
    *,
    stage: str,
    actor: Actor,
    now: datetime,
    event_id: int | None,
) -> tuple[Attachment, ...]:
    stored = []
    for item in files:
        suffix = _suffix(item.filename)
        blob = item.stored or uow.files.store(item.data, suffix=suffix)
        thumb = item.thumbnail_stored or (
            uow.files.store(item.thumbnail, suffix=".jpg", durable=False)
            if item.thumbnail
            else None
        )
        stored.append(
            uow.attachments.add(
                Attachment(
                    id=0,
                    case_id=case_id,
                    stage=stage,
                    filename=item.filename[:200] or f"attachment{suffix}",
                    content_type=item.content_type,
                    size=blob.size,
                    sha256=blob.sha256,
                    path=blob.path,
                    created_at=now,
                    uploaded_by=actor.user_id,
                    event_id=event_id,
                    thumbnail_path=thumb.path if thumb else None,
                    exif_lon=item.exif_lon,
                    exif_lat=item.exif_lat,
                )
            )
        )
    return tuple(stored)


def _suffix(filename: str) -> str:
    dot = filename.rfind(".")
    suffix = filename[dot:].lower() if dot >= 0 else ""
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


def _check_attachments(files: Sequence[NewAttachment]) -> None:
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationError(
            "too_many_attachments",
            "At most {limit} files may be attached at once; got {count}",
            limit=MAX_ATTACHMENTS,
            count=len(files),
        )
    for item in files:
        if not item.data:
            raise ValidationError(
                "attachment_empty", "The file {name} is empty", name=item.filename
            )


def _transition(
    uow: UnitOfWork,
    case_id: CaseRef,
    action: Action,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    change: _Change | None = None,
    params: Mapping[str, Any] | None = None,
    prepare: Callable[[Case, _Change], None] | None = None,
    attachments: Sequence[NewAttachment] = (),
    attachment_stage: str = "other",
) -> Outcome:
    """The common door: load, lock check, authorize, (prepare), apply, commit."""
    _check_attachments(attachments)
    with uow:
        case = _load(uow, case_id, actor)
        _fresh(case, version)
        row, next_state = _authorize(uow, case, action, actor, now, params=params)
        change = change or _Change()
        if prepare is not None:
            prepare(case, change)
        updated, event = _apply(uow, case, row, next_state, actor, now, change)
        stored = _store_attachments(
            uow,
            case.id,
            attachments,
            stage=attachment_stage,
            actor=actor,
            now=now,
            event_id=event.id,
        )
        uow.commit()
    return Outcome(updated, event, attachments=stored, status=_status(uow, updated, now))


# -- 1 信息收集: intake ---


def _resolve_category(uow: UnitOfWork, report: NewReport) -> Category:
    """The current-edition matter class of a report (legacy codes mapped, components → their
    anomaly matter)."""
    code = parse_class_code(report.category_code, report.edition).value
    kind = report.kind
    if report.edition is Edition.LEGACY:
        mapped = uow.catalog.mapped_code(Edition.LEGACY, kind, code)
        if mapped is None:
            raise ValidationError(
                "legacy_class_unmapped",
                "Legacy class {code} has no counterpart in GB/T 47678.5; choose a current class",
                code=code,
            )
        kind, code = ClassKind(mapped[0]), mapped[1]
    if kind is ClassKind.COMPONENT:
        kind = ClassKind.MATTER  # a component class → its "…异常" matter, same code
    category = uow.catalog.category_by_code(Edition.CURRENT, kind, code)
    if category is None or not category.active:
        raise ValidationError(
            "unknown_category",
            "Class code {code} is not in the class dictionary",
            code=report.category_code,
        )
    return category


def _check_phone(phone: str) -> str:
    phone = phone.strip()
    if phone and not _PHONE_RE.match(phone):
        raise ValidationError("phone_invalid", "The phone number {phone} is not valid", phone=phone)
    return phone


def _check_position(lon: float | None, lat: float | None) -> tuple[float, float] | None:
    if lon is None and lat is None:
        return None
    if lon is None or lat is None:
        raise ValidationError("position_incomplete", "A position needs both longitude and latitude")
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0) or lon != lon or lat != lat:
        raise ValidationError(
            "position_invalid",
            "Longitude {lon} / latitude {lat} is not a position on Earth",
            lon=lon,
            lat=lat,
        )
    return float(lon), float(lat)


def report_case(
    uow: UnitOfWork,
    report: NewReport,
    *,
    actor: Actor,
    now: datetime,
    idempotency_key: str | None = None,
) -> Outcome:
    """Intake (上报/登记) from any source of §5.3; inspector self-handling (自处理) too.

    The same ``idempotency_key`` from the same actor gives back the same case; a different
    request under a used key is refused with ``idempotency_key_reused``.
    """
    description = _text(report.description, "description", required=True, limit=MAX_DESCRIPTION)
    address = _text(report.address, "address", required=False, limit=MAX_ADDRESS)
    reporter_name = _text(report.reporter_name, "reporter_name", required=False, limit=50)
    phone = _check_phone(report.reporter_phone)
    _check_attachments(report.attachments)
    key = None
    if idempotency_key is not None:
        raw = idempotency_key.strip()
        if not raw or len(raw) > 200:
            raise ValidationError(
                "idempotency_key_invalid",
                "An idempotency key must have 1 to 200 characters",
            )
        key = f"{actor.role.value}:{actor.user_id}:{raw}"
    fingerprint = report.fingerprint()

    for _attempt in range(2):
        try:
            return _report_once(
                uow,
                report,
                actor=actor,
                now=now,
                key=key,
                fingerprint=fingerprint,
                description=description,
                address=address,
                reporter_name=reporter_name,
                phone=phone,
            )
        except DuplicateKeyError:
            continue  # a concurrent twin won the race: the next round replays it
    raise ConflictError(  # pragma: no cover - only if the twin vanished in between
        "idempotency_race", "The same report is being processed; try again"
    )


def _report_once(
    uow: UnitOfWork,
    report: NewReport,
    *,
    actor: Actor,
    now: datetime,
    key: str | None,
    fingerprint: str,
    description: str,
    address: str,
    reporter_name: str,
    phone: str,
) -> Outcome:
    with uow:
        if key is not None:
            existing = uow.cases.by_idempotency_key(key)
            if existing is not None:
                case, seen = existing
                if seen != fingerprint:
                    raise ConflictError(
                        "idempotency_key_reused",
                        "This idempotency key was already used for a different report"
                        " (case {number})",
                        number=case.number,
                    )
                events = uow.cases.events(case.id)
                return Outcome(case, events[0], replayed=True, status=_status(uow, case, now))

        category = _resolve_category(uow, report)
        action = Action.REPORT_SELF_HANDLED if report.self_handled else Action.REPORT
        row, next_state = _authorize(
            uow,
            None,
            action,
            actor,
            now,
            params={
                "source": report.source,
                "self_handling_allowed": category.self_handling_allowed,
            },
        )

        component = None
        if report.component_code:
            parsed = parse_component_code(report.component_code)
            component = uow.components.by_code(parsed.value)
            if component is None:
                raise ValidationError(
                    "unknown_component",
                    "Component {code} is not in the component register",
                    code=parsed.value,
                )
            if category.component_code != component.class_code:
                raise ValidationError(
                    "component_class_mismatch",
                    "Component {code} is a {component_class}, not a {category}",
                    code=parsed.value,
                    component_class=component.class_code,
                    category=category.label,
                )

        position = _check_position(report.lon, report.lat)
        if position is None and component is not None:
            position = (component.lon, component.lat)
        if position is None and not report.grid_code:
            position = next(
                (
                    (a.exif_lon, a.exif_lat)
                    for a in report.attachments
                    if a.exif_lon is not None and a.exif_lat is not None
                ),
                None,
            )
        grid = None
        if report.grid_code:
            code = parse_grid_code(report.grid_code).to_current().value
            grid = uow.regions.by_code(code)
            if grid is None or grid.level is not RegionLevel.GRID:
                raise ValidationError("unknown_grid", "Unit grid {code} does not exist", code=code)
            if position is None and grid.centroid is not None:
                position = grid.centroid
        if position is None:
            raise ValidationError("position_required", "A report needs a position or a grid")
        hit = uow.locator.locate(*position)
        if hit is None:
            raise ValidationError(
                "point_outside_city",
                "The position {lon}, {lat} is outside every unit grid of the city",
                lon=position[0],
                lat=position[1],
            )
        if grid is not None and hit.grid_code != grid.code:
            raise ValidationError(
                "grid_mismatch",
                "The position lies in grid {found}, not in grid {given}",
                found=hit.grid_code,
                given=grid.code,
            )
        if not actor.covers_district(hit.district_code):
            raise PermissionDeniedError(
                "outside_scope",
                "The position lies in district {district}, outside your area",
                district=hit.district_code,
            )

        number = uow.cases.next_number(now.astimezone(uow.sla.calendar().tz).date())
        draft = Case(
            id=0,
            number=number,
            version=1,
            state=next_state,
            source=report.source,
            reported_at=now,
            description=description,
            address=address,
            lon=position[0],
            lat=position[1],
            district_code=hit.district_code,
            street_code=hit.street_code,
            community_code=hit.community_code,
            grid_id=hit.grid_id,
            grid_code=hit.grid_code,
            category_id=category.id,
            component_id=component.id if component else None,
            urgency=report.urgency,
            reporter_user_id=actor.user_id if actor.role is not Role.SYSTEM else None,
            reporter_name=reporter_name,
            reporter_phone=phone,
            self_handled=report.self_handled,
            event_seq=1,
            updated_at=now,
        )
        stage = workflow.STAGE_OF[next_state]
        draft = replace(draft, **_stage_clock(uow, uow.sla.clocks(), stage, now, draft, {}))
        case = uow.cases.add(draft, idempotency_key=key, fingerprint=fingerprint)
        _notice(uow, case, row.action.value)
        event = uow.cases.add_event(
            CaseEvent(
                case_id=case.id,
                seq=1,
                action=row.action.value,
                at=now,
                actor_id=actor.user_id,
                actor_role=actor.role.value,
                from_state=None,
                to_state=next_state,
                comment=description[:200],
                details={
                    "source": report.source.value,
                    "category": category.code,
                    "grid": hit.grid_code,
                },
                stage=case.stage,
                stage_deadline=case.stage_deadline,
            )
        )
        stored = _store_attachments(
            uow,
            case.id,
            report.attachments,
            stage="report",
            actor=actor,
            now=now,
            event_id=event.id,
        )
        uow.commit()
    return Outcome(case, event, attachments=stored, status=_status(uow, case, now))


def accept_case(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    comment: str = "",
) -> Outcome:
    """受理: the operator takes a report into the centre; it goes to the shift lead to file."""
    change = _Change(
        {"accepted_at": now}, _text(comment, "comment", required=False, limit=MAX_COMMENT)
    )
    return _transition(
        uow, case_id, Action.ACCEPT, actor=actor, now=now, version=version, change=change
    )


def _inspector_for(uow: UnitOfWork, case: Case, inspector_id: int | None) -> int:
    if inspector_id is not None:
        user = uow.org.user(inspector_id)
        if (
            user is None
            or not user.active
            or not any(
                g.role is Role.INSPECTOR and (g.district_code in (None, case.district_code))
                for g in user.grants
            )
        ):
            raise ValidationError(
                "not_an_inspector",
                "User {id} is not an active inspector for this district",
                id=inspector_id,
            )
        return inspector_id
    candidates = uow.org.inspectors_for_grid(case.grid_id) if case.grid_id else []
    if not candidates:
        raise ConflictError(
            "no_inspector_for_grid",
            "No inspector is responsible for grid {grid}; choose one",
            grid=case.grid_code or "",
        )
    return candidates[0]


def _open_task(
    uow: UnitOfWork,
    case_id: CaseRef,
    kind: TaskKind,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    inspector_id: int | None,
    comment: str,
    action: Action,
    stage: Stage,
) -> Outcome:
    comment = _text(comment, "comment", required=False, limit=MAX_COMMENT)
    with uow:
        case = _load(uow, case_id, actor)
        _fresh(case, version)
        row, next_state = _authorize(uow, case, action, actor, now)
        assignee = _inspector_for(uow, case, inspector_id)
        limit = uow.sla.policy().stage_limit(stage)
        deadline = uow.sla.clocks().deadline(now, limit) if limit else None
        task = uow.tasks.add(
            Task(
                id=0,
                case_id=case.id,
                kind=kind,
                assignee_id=assignee,
                created_at=now,
                deadline=deadline,
                grid_id=case.grid_id,
            )
        )
        change = _Change(comment=comment, details={"task": task.id, "inspector": assignee})
        updated, event = _apply(uow, case, row, next_state, actor, now, change)
        _notice(uow, updated, "task", assignee_id=task.assignee_id)
        uow.commit()
    return Outcome(updated, event, task=task, status=_status(uow, updated, now))


def request_verify(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    inspector_id: int | None = None,
    comment: str = "",
) -> Outcome:
    """发核实: a verify task goes to the inspector of the case's grid (or the one chosen)."""
    return _open_task(
        uow,
        case_id,
        TaskKind.VERIFY,
        actor=actor,
        now=now,
        version=version,
        inspector_id=inspector_id,
        comment=comment,
        action=Action.REQUEST_VERIFY,
        stage=Stage.VERIFY,
    )


def request_check(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    inspector_id: int | None = None,
    comment: str = "",
) -> Outcome:
    """发核查: after the department's feedback, a check task goes to the grid's inspector."""
    return _open_task(
        uow,
        case_id,
        TaskKind.CHECK,
        actor=actor,
        now=now,
        version=version,
        inspector_id=inspector_id,
        comment=comment,
        action=Action.REQUEST_CHECK,
        stage=Stage.CHECK,
    )


def complete_task(
    uow: UnitOfWork,
    task_id: int,
    *,
    actor: Actor,
    now: datetime,
    result: str,
    comment: str = "",
    attachments: Sequence[NewAttachment] = (),
) -> Outcome:
    """An inspector answers a verify (属实/不属实) or check (通过/不通过) task."""
    comment = _text(comment, "comment", required=False, limit=MAX_COMMENT)
    _check_attachments(attachments)
    with uow:
        task = uow.tasks.get(task_id)
        if task is None or (actor.role is Role.INSPECTOR and task.assignee_id != actor.user_id):
            raise NotFoundError("task_not_found", "Task {id} was not found", id=task_id)
        if task.state is not TaskState.OPEN:
            raise ConflictError(
                "task_closed", "Task {id} is already {state}", id=task_id, state=task.state.value
            )
        case = _load(uow, task.case_id, actor)
        return _finish_task(
            uow,
            task,
            case,
            actor=actor,
            now=now,
            result=result,
            comment=comment,
            attachments=attachments,
        )


def _finish_task(
    uow: UnitOfWork,
    task: Task,
    case: Case,
    *,
    actor: Actor,
    now: datetime,
    result: str,
    comment: str,
    attachments: Sequence[NewAttachment],
) -> Outcome:
    """The answer of an open task of ``case``, inside the caller's transaction: the case moves
    on, the task is done; commits."""
    fields: dict[str, Any]
    if task.kind is TaskKind.VERIFY:
        verify = _enum(VerifyResult, result, "verify_result")
        action = Action.COMPLETE_VERIFY
        fields = {"verify_result": verify.value}
        stage = "verify"
    else:
        checked = _enum(CheckResult, result, "check_result")
        action = Action.PASS_CHECK if checked is CheckResult.PASSED else Action.FAIL_CHECK
        fields = {"check_result": checked.value, "checked_at": now}
        stage = "check"
    row, next_state = _authorize(uow, case, action, actor, now, task_assignee_id=task.assignee_id)
    uow.tasks.finish(task.id, state=TaskState.DONE.value, at=now, result=result, comment=comment)
    change = _Change(fields, comment, {"task": task.id, "result": result})
    updated, event = _apply(uow, case, row, next_state, actor, now, change)
    stored = _store_attachments(
        uow, case.id, attachments, stage=stage, actor=actor, now=now, event_id=event.id
    )
    uow.commit()
    finished = replace(task, state=TaskState.DONE, completed_at=now, result=result, comment=comment)
    return Outcome(
        updated, event, task=finished, attachments=stored, status=_status(uow, updated, now)
    )


def answer_task(
    uow: UnitOfWork,
    case_id: CaseRef,
    kind: TaskKind,
    *,
    actor: Actor,
    now: datetime,
    result: str,
    comment: str = "",
    attachments: Sequence[NewAttachment] = (),
) -> Outcome:
    """Answer the open verify or check task of a case (the case-centred door to
    :func:`complete_task`, in one transaction)."""
    with uow:
        case = _load(uow, case_id, actor)
        task = uow.tasks.open_for(case.id, kind)
        if task is None:
            action = (
                Action.COMPLETE_VERIFY
                if kind is TaskKind.VERIFY
                else Action.PASS_CHECK
                if result == CheckResult.PASSED
                else Action.FAIL_CHECK
            )
            raise TransitionNotAllowedError(case.state.value, action.value, actor.role.value)
        # The checks of complete_task, in its order (the task is open: it was found so).
        comment = _text(comment, "comment", required=False, limit=MAX_COMMENT)
        _check_attachments(attachments)
        if actor.role is Role.INSPECTOR and task.assignee_id != actor.user_id:
            raise NotFoundError("task_not_found", "Task {id} was not found", id=task.id)
        return _finish_task(
            uow,
            task,
            case,
            actor=actor,
            now=now,
            result=result,
            comment=comment,
            attachments=attachments,
        )


def refuse_intake(uow: UnitOfWork, case_id: CaseRef, action: Action, *, actor: Actor) -> None:
    """Intake rows cannot apply to a case that exists: say so (after the visibility check)."""
    with uow:
        case = _load(uow, case_id, actor)
    raise TransitionNotAllowedError(case.state.value, action.value, actor.role.value)


def _enum(enum_type: Any, value: Any, what: str) -> Any:
    try:
        return enum_type(value)
    except ValueError as exc:
        raise ValidationError(
            f"{what}_invalid",
            "{value} is not a valid value for {field}; use one of {known}",
            value=value,
            field=what,
            known=", ".join(m.value for m in enum_type),
        ) from exc


def reject_case(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    reason: str,
) -> Outcome:
    """不予立案 / 不予受理: the report does not meet the filing conditions (reason required)."""
    change = _Change(comment=_text(reason, "reason", required=True, limit=MAX_COMMENT))
    return _transition(
        uow, case_id, Action.REJECT, actor=actor, now=now, version=version, change=change
    )


def merge_case(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    into_case_id: int | None = None,
    into_number: str | None = None,
    comment: str = "",
) -> Outcome:
    """合并: a duplicate report is merged into its original, which carries on alone.

    The original must be another open case of the same district; it gets a timeline line
    naming the duplicate (without changing its version, so nobody working on it is disturbed).
    """
    comment = _text(comment, "comment", required=False, limit=MAX_COMMENT)
    with uow:
        case = _load(uow, case_id, actor)
        _fresh(case, version)
        row, next_state = _authorize(
            uow,
            case,
            Action.MERGE,
            actor,
            now,
            params={"target_case_id": into_case_id if into_case_id is not None else -1},
        )
        original = (
            uow.cases.get(into_case_id)
            if into_case_id is not None
            else uow.cases.get_by_number(into_number or "")
        )
        if original is None or not workflow.visible(original, actor):
            raise NotFoundError(
                "case_not_found", "Case {id} was not found", id=into_number or into_case_id
            )
        if original.id == case.id:
            raise ConflictError("merge_into_self", "A case cannot be merged into itself")
        if original.state.terminal:
            raise ConflictError(
                "merge_target_closed",
                "Case {number} is {state}; a duplicate can only join an open case",
                number=original.number,
                state=original.state.value,
            )
        if original.district_code != case.district_code:
            raise ConflictError(
                "merge_other_district",
                "Case {number} lies in another district",
                number=original.number,
            )
        change = _Change({"merged_into_id": original.id}, comment, {"into": original.number})
        updated, event = _apply(uow, case, row, next_state, actor, now, change)
        uow.cases.add_event(
            CaseEvent(
                case_id=original.id,
                seq=0,
                action="merged_in",
                at=now,
                actor_id=actor.user_id,
                actor_role=actor.role.value,
                from_state=original.state,
                to_state=original.state,
                comment=comment,
                details={"duplicate": case.number},
                stage=original.stage,
                stage_deadline=original.stage_deadline,
                department_id=original.department_id,
            )
        )
        uow.commit()
    return Outcome(updated, event, status=_status(uow, updated, now))


# -- 2 案卷建立: file, void ---


def file_case(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    standard_id: int,
    urgency: Urgency | str = Urgency.NORMAL,
    category_id: int | None = None,
    comment: str = "",
) -> Outcome:
    """立案: file against a chosen filing-standard row (which fixes the disposal limit).

    The shift lead may correct the class at filing (``category_id``); the standard row must
    belong to the case's (corrected) class. The responsible department is proposed now.
    """
    level: Urgency = _enum(Urgency, urgency, "urgency")
    comment = _text(comment, "comment", required=False, limit=MAX_COMMENT)

    def prepare(case: Case, change: _Change) -> None:
        target_category = category_id if category_id is not None else case.category_id
        if category_id is not None:
            category = uow.catalog.category(category_id)
            if (
                category is None
                or not category.active
                or category.kind is not ClassKind.MATTER
                or category.edition is not Edition.CURRENT
            ):
                raise ValidationError(
                    "unknown_category",
                    "Class code {code} is not in the class dictionary",
                    code=category_id,
                )
        standard = uow.catalog.standard(standard_id)
        if standard is None or not standard.active:
            raise ValidationError(
                "unknown_standard", "Filing standard {id} does not exist", id=standard_id
            )
        if standard.category_id != target_category:
            raise ValidationError(
                "standard_class_mismatch",
                "Filing standard {id} belongs to another class than the case",
                id=standard_id,
            )
        limit = standard.limit(level)
        proposals = proposals_for(
            uow, replace(case, category_id=target_category, filing_standard_id=standard.id)
        )
        change.fields.update(
            filing_standard_id=standard.id,
            category_id=target_category,
            urgency=level,
            disposal_limit=limit,
            filed_at=now,
            proposed_department_id=proposals[0] if proposals else None,
        )
        change.details.update(standard=standard.id, limit=str(limit), urgency=level.value)

    return _transition(
        uow,
        case_id,
        Action.FILE,
        actor=actor,
        now=now,
        version=version,
        change=_Change(comment=comment),
        prepare=prepare,
    )


def void_case(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    reason: str,
) -> Outcome:
    """作废 by the shift lead (whose decision is the approval)."""
    change = _Change(comment=_text(reason, "reason", required=True, limit=MAX_COMMENT))
    return _transition(
        uow, case_id, Action.VOID, actor=actor, now=now, version=version, change=change
    )


def request_void(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    reason: str,
) -> Outcome:
    """申请作废: an operator or dispatcher asks the shift lead to void the case."""
    reason = _text(reason, "reason", required=True, limit=MAX_COMMENT)

    def prepare(case: Case, change: _Change) -> None:
        change.fields["resume_state"] = case.state

    return _transition(
        uow,
        case_id,
        Action.REQUEST_VOID,
        actor=actor,
        now=now,
        version=version,
        change=_Change(comment=reason),
        prepare=prepare,
    )


def approve_void(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    comment: str = "",
) -> Outcome:
    change = _Change(
        {"resume_state": None}, _text(comment, "comment", required=False, limit=MAX_COMMENT)
    )
    return _transition(
        uow, case_id, Action.APPROVE_VOID, actor=actor, now=now, version=version, change=change
    )


def reject_void(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    reason: str,
) -> Outcome:
    change = _Change(
        {"resume_state": None},
        _text(reason, "reason", required=True, limit=MAX_COMMENT),
        restart_stage=True,
    )
    return _transition(
        uow, case_id, Action.REJECT_VOID, actor=actor, now=now, version=version, change=change
    )


# -- 3 任务派遣: dispatch ---


def proposals_for(uow: UnitOfWork, case: Case) -> list[int]:
    """Department proposals for ``case`` inside an open unit of work."""
    component = uow.components.get(case.component_id) if case.component_id else None
    street = uow.regions.by_code(case.street_code) if case.street_code else None
    competent = competent_department(
        uow.catalog.dispatch_rules(
            filing_standard_id=case.filing_standard_id, category_id=case.category_id
        ),
        filing_standard_id=case.filing_standard_id,
        category_id=case.category_id,
        district_code=case.district_code,
        street_code=case.street_code,
    )
    return propose_departments(
        is_component=component is not None,
        owner_id=component.owner_id if component else None,
        maintainer_id=component.maintainer_id if component else None,
        competent_id=competent,
        territorial_id=street.department_id if street else None,
    )


def proposed_departments(uow: UnitOfWork, case_id: CaseRef, *, actor: Actor) -> list[int]:
    """Departments to propose for dispatch, in order: 部件先属主、后属地；事件先属地、后属主."""
    with uow:
        return proposals_for(uow, _load(uow, case_id, actor))


def dispatch_case(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    department_id: int,
    comment: str = "",
) -> Outcome:
    """派遣: send the case to one department; its disposal clock starts now.

    The department may refuse (拒签) until the refusal window ends: one working day by default,
    never longer than the disposal limit itself.
    """
    comment = _text(comment, "comment", required=False, limit=MAX_COMMENT)

    def prepare(case: Case, change: _Change) -> None:
        department = uow.org.department(department_id)
        if department is None or not department.can_handle:
            raise ValidationError(
                "department_cannot_handle",
                "Department {id} does not exist or does not handle cases",
                id=department_id,
            )
        if department.district_code not in (None, case.district_code):
            raise ValidationError(
                "department_other_district",
                "{name} works in another district",
                name=department.name,
            )
        if case.disposal_limit is None:
            raise ConflictError("case_not_filed", "The case has no disposal limit")
        clocks = uow.sla.clocks()
        deadline = clocks.deadline(now, case.disposal_limit)
        window_end = clocks.deadline(now, uow.sla.policy().refusal_window)
        change.fields.update(
            department_id=department.id,
            dispatched_at=now,
            first_dispatched_at=case.first_dispatched_at or now,
            disposal_deadline=deadline,
            refuse_until=min(window_end, deadline),
            signed_at=None,
            disposal_paused_us=0,
        )
        change.details.update(
            department=department.id,
            deadline=deadline.isoformat(),
            proposed=case.proposed_department_id,
        )
        change.restart_stage = True

    return _transition(
        uow,
        case_id,
        Action.DISPATCH,
        actor=actor,
        now=now,
        version=version,
        change=_Change(comment=comment),
        prepare=prepare,
    )


def dispatch_to_district(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    comment: str = "",
) -> Outcome:
    """二级派遣, first step: the city centre passes the case to its district's centre."""
    comment = _text(comment, "comment", required=False, limit=MAX_COMMENT)

    def prepare(case: Case, change: _Change) -> None:
        centre = uow.org.district_centre(case.district_code or "")
        if centre is None:
            raise ConflictError(
                "no_district_centre",
                "District {district} has no district centre to dispatch to",
                district=case.district_code or "",
            )
        change.fields["sub_dispatched"] = True
        change.details["centre"] = centre.id
        change.restart_stage = True

    return _transition(
        uow,
        case_id,
        Action.DISPATCH_TO_DISTRICT,
        actor=actor,
        now=now,
        version=version,
        change=_Change(comment=comment),
        prepare=prepare,
    )


def send_back(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    reason: str,
) -> Outcome:
    """The district centre returns a case to the city centre (not its district's business)."""
    change = _Change(
        {"sub_dispatched": False},
        _text(reason, "reason", required=True, limit=MAX_COMMENT),
        restart_stage=True,
    )
    return _transition(
        uow, case_id, Action.SEND_BACK, actor=actor, now=now, version=version, change=change
    )


# -- 4 任务处理: sign, refuse, return, extension, suspension ---


def sign_case(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    comment: str = "",
) -> Outcome:
    """签收: the department takes the case into hand."""
    change = _Change(
        {"signed_at": now}, _text(comment, "comment", required=False, limit=MAX_COMMENT)
    )
    return _transition(
        uow, case_id, Action.SIGN, actor=actor, now=now, version=version, change=change
    )


_UNDISPATCH = {
    "department_id": None,
    "dispatched_at": None,
    "disposal_deadline": None,
    "refuse_until": None,
    "signed_at": None,
}


def refuse_case(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    reason: str,
) -> Outcome:
    """拒签: within its window, a department refuses a case; it goes back to dispatch."""
    reason = _text(reason, "reason", required=True, limit=MAX_COMMENT)

    def prepare(case: Case, change: _Change) -> None:
        change.fields.update(_UNDISPATCH, refusal_count=case.refusal_count + 1)
        change.details["department"] = case.department_id

    return _transition(
        uow,
        case_id,
        Action.REFUSE,
        actor=actor,
        now=now,
        version=version,
        change=_Change(comment=reason),
        prepare=prepare,
    )


def request_return(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    reason: str,
) -> Outcome:
    """申请回退: the department says the case is not its business (dispatcher approves)."""
    change = _Change(comment=_text(reason, "reason", required=True, limit=MAX_COMMENT))
    return _transition(
        uow, case_id, Action.REQUEST_RETURN, actor=actor, now=now, version=version, change=change
    )


def approve_return(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    comment: str = "",
) -> Outcome:
    """批准回退: the dispatch is revoked and must be done again."""
    comment = _text(comment, "comment", required=False, limit=MAX_COMMENT)

    def prepare(case: Case, change: _Change) -> None:
        change.fields.update(_UNDISPATCH, return_count=case.return_count + 1)
        change.details["department"] = case.department_id

    return _transition(
        uow,
        case_id,
        Action.APPROVE_RETURN,
        actor=actor,
        now=now,
        version=version,
        change=_Change(comment=comment),
        prepare=prepare,
    )


def reject_return(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    reason: str,
) -> Outcome:
    change = _Change(comment=_text(reason, "reason", required=True, limit=MAX_COMMENT))
    return _transition(
        uow, case_id, Action.REJECT_RETURN, actor=actor, now=now, version=version, change=change
    )


def request_extension(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    reason: str,
    requested_until: datetime | None = None,
) -> Outcome:
    """申请延期: only before the case is overdue, at most twice (rejections don't count)."""
    reason = _text(reason, "reason", required=True, limit=MAX_COMMENT)
    details: dict[str, Any] = {}
    if requested_until is not None:
        if requested_until <= now:
            raise ValidationError(
                "requested_until_past", "The requested new deadline must lie in the future"
            )
        details["requested_until"] = requested_until.isoformat()
    return _transition(
        uow,
        case_id,
        Action.REQUEST_EXTENSION,
        actor=actor,
        now=now,
        version=version,
        change=_Change(comment=reason, details=details),
    )


def approve_extension(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    comment: str = "",
) -> Outcome:
    """批准延期: the deadline moves on by one original disposal limit (on its own clock)."""
    comment = _text(comment, "comment", required=False, limit=MAX_COMMENT)

    def prepare(case: Case, change: _Change) -> None:
        if case.disposal_deadline is None or case.disposal_limit is None:
            raise ConflictError("case_not_dispatched", "The case has no disposal deadline")
        deadline = uow.sla.clocks().deadline(case.disposal_deadline, case.disposal_limit)
        change.fields.update(disposal_deadline=deadline, extension_count=case.extension_count + 1)
        change.details.update(
            old_deadline=case.disposal_deadline.isoformat(), deadline=deadline.isoformat()
        )

    return _transition(
        uow,
        case_id,
        Action.APPROVE_EXTENSION,
        actor=actor,
        now=now,
        version=version,
        change=_Change(comment=comment),
        prepare=prepare,
    )


def reject_extension(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    reason: str,
) -> Outcome:
    change = _Change(comment=_text(reason, "reason", required=True, limit=MAX_COMMENT))
    return _transition(
        uow, case_id, Action.REJECT_EXTENSION, actor=actor, now=now, version=version, change=change
    )


def _add_months(instant: datetime, months: int) -> datetime:
    month = instant.month - 1 + months
    year = instant.year + month // 12
    month = month % 12 + 1
    day = instant.day
    while True:
        try:
            return instant.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


def request_suspension(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    reason: str,
    until: datetime,
) -> Outcome:
    """申请挂账: the problem cannot be solved now; the chosen end is at most a year ahead."""
    reason = _text(reason, "reason", required=True, limit=MAX_COMMENT)
    if until.tzinfo is None:
        raise ValidationError(
            "naive_datetime",
            "Time {value} has no time zone; times must be aware",
            value=until.isoformat(),
        )

    def prepare(case: Case, change: _Change) -> None:
        months = uow.sla.policy().max_suspension_months
        latest = _add_months(now, months)
        if until <= now or until > latest:
            raise ValidationError(
                "suspension_until_invalid",
                "A suspension must end after now and at most {months} months ahead (by {latest})",
                months=months,
                latest=latest.isoformat(),
            )
        change.fields["suspend_until"] = until
        change.details["until"] = until.isoformat()

    return _transition(
        uow,
        case_id,
        Action.REQUEST_SUSPENSION,
        actor=actor,
        now=now,
        version=version,
        change=_Change(comment=reason),
        prepare=prepare,
    )


def approve_suspension(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    comment: str = "",
) -> Outcome:
    """批准挂账: the disposal clock stops; what was left of it is kept for the resumption."""
    comment = _text(comment, "comment", required=False, limit=MAX_COMMENT)

    def prepare(case: Case, change: _Change) -> None:
        if case.disposal_deadline is None or case.disposal_limit is None:
            raise ConflictError("case_not_dispatched", "The case has no disposal deadline")
        clocks = uow.sla.clocks()
        remaining = clocks.remaining(now, case.disposal_deadline, case.disposal_limit.clock)
        change.fields.update(suspended_at=now, suspended_remaining_us=remaining)
        uow.cases.open_pause(case.id, now)
        change.details["remaining_us"] = remaining

    return _transition(
        uow,
        case_id,
        Action.APPROVE_SUSPENSION,
        actor=actor,
        now=now,
        version=version,
        change=_Change(comment=comment),
        prepare=prepare,
    )


def reject_suspension(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    reason: str,
) -> Outcome:
    change = _Change(
        {"suspend_until": None}, _text(reason, "reason", required=True, limit=MAX_COMMENT)
    )
    return _transition(
        uow, case_id, Action.REJECT_SUSPENSION, actor=actor, now=now, version=version, change=change
    )


def resume_case(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    comment: str = "",
    scheduled: bool = False,
) -> Outcome:
    """挂账恢复: the clock runs again; the remaining time is laid out from now.
    ``scheduled``: the suspension's chosen end came (the scheduled job), not a person."""
    comment = _text(comment, "comment", required=False, limit=MAX_COMMENT)

    def prepare(case: Case, change: _Change) -> None:
        if case.disposal_limit is None or case.suspended_remaining_us is None:
            raise ConflictError("case_not_suspended", "The case has no suspended clock")
        clocks = uow.sla.clocks()
        kind = case.disposal_limit.clock
        deadline = clocks.shift(now, case.suspended_remaining_us, kind)
        paused = clocks.elapsed(case.suspended_at or now, now, kind)
        uow.cases.close_pause(case.id, now)
        change.fields.update(
            disposal_paused_us=case.disposal_paused_us + paused,
            disposal_deadline=deadline,
            suspended_at=None,
            suspended_remaining_us=None,
            suspend_until=None,
        )
        change.details.update(
            deadline=deadline.isoformat(),
            paused_since=case.suspended_at.isoformat() if case.suspended_at else None,
        )
        if scheduled:
            change.details["scheduled"] = True

    return _transition(
        uow,
        case_id,
        Action.RESUME,
        actor=actor,
        now=now,
        version=version,
        change=_Change(comment=comment),
        prepare=prepare,
    )


def resume_due_suspensions(uow: UnitOfWork, *, actor: Actor, now: datetime) -> list[Outcome]:
    """The scheduled job: resume every suspension whose chosen end has come, at that end."""
    with uow:
        due = uow.cases.due_suspensions(now)
    results = []
    for case_id in due:
        with uow:
            case = uow.cases.get(case_id)
        if case is None or case.suspend_until is None:
            continue
        at = min(max(case.suspend_until, case.suspended_at or case.suspend_until), now)
        try:
            results.append(
                resume_case(uow, case_id, actor=actor, now=at, version=case.version, scheduled=True)
            )
        except DomainError:
            continue  # someone resumed it by hand meanwhile
    return results


# -- 5 处理反馈 ---


def feedback_case(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    comment: str,
    attachments: Sequence[NewAttachment] = (),
) -> Outcome:
    """处理反馈: the department reports the problem fixed, with evidence (text + photos)."""
    comment = _text(comment, "comment", required=True, limit=MAX_COMMENT)

    def prepare(case: Case, change: _Change) -> None:
        needed = uow.sla.policy().feedback_min_attachments
        if len(attachments) < needed:
            raise ValidationError(
                "evidence_required",
                "Feedback needs at least {needed} photo(s) as evidence",
                needed=needed,
            )
        overdue = case.disposal_deadline is not None and now > case.disposal_deadline
        change.fields.update(handled_at=now, handled_overdue=overdue)
        change.details["overdue"] = overdue

    return _transition(
        uow,
        case_id,
        Action.FEEDBACK,
        actor=actor,
        now=now,
        version=version,
        change=_Change(comment=comment),
        prepare=prepare,
        attachments=attachments,
        attachment_stage="feedback",
    )


# -- 6 核查结案 ---


def rework_case(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    reason: str,
) -> Outcome:
    """返工: the check failed; the same department gets the case again with a fresh limit.

    Rework is counted; the department cannot refuse its own rework.
    """
    reason = _text(reason, "reason", required=True, limit=MAX_COMMENT)

    def prepare(case: Case, change: _Change) -> None:
        if case.disposal_limit is None or case.department_id is None:
            raise ConflictError("case_not_dispatched", "The case has no department")
        deadline = uow.sla.clocks().deadline(now, case.disposal_limit)
        change.fields.update(
            rework_count=case.rework_count + 1,
            dispatched_at=now,
            disposal_paused_us=0,
            disposal_deadline=deadline,
            refuse_until=now,
            signed_at=None,
            handled_at=None,
            handled_overdue=None,
            check_result=None,
            checked_at=None,
        )
        change.details.update(
            department=case.department_id,
            deadline=deadline.isoformat(),
            rework=case.rework_count + 1,
        )
        change.restart_stage = True

    return _transition(
        uow,
        case_id,
        Action.REWORK,
        actor=actor,
        now=now,
        version=version,
        change=_Change(comment=reason),
        prepare=prepare,
    )


def close_case(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    close_type: CloseType | str | None = None,
    comment: str = "",
) -> Outcome:
    """结案. Without a close type it is 正常 (feedback in time) or 超时 (after the deadline);
    差错 (error) and 特殊 (special) are chosen explicitly, and are the only ways to close a case
    whose check failed."""
    chosen = _enum(CloseType, close_type, "close_type") if close_type is not None else None
    comment = _text(comment, "comment", required=False, limit=MAX_COMMENT)

    def prepare(case: Case, change: _Change) -> None:
        overdue = bool(case.handled_overdue)
        computed = CloseType.OVERDUE if overdue else CloseType.NORMAL
        final = chosen or computed
        if final in (CloseType.NORMAL, CloseType.OVERDUE) and final is not computed:
            raise ValidationError(
                "close_type_mismatch",
                "The case was handled after its deadline, so it closes as overdue, not normal"
                if overdue
                else "The case was handled in time, so it closes as normal, not overdue",
            )
        change.fields.update(close_type=final, closed_at=now)
        change.details["close_type"] = final.value

    return _transition(
        uow,
        case_id,
        Action.CLOSE,
        actor=actor,
        now=now,
        version=version,
        change=_Change(comment=comment),
        params={"close_type": chosen},
        prepare=prepare,
    )


def approve_self_handling(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    comment: str = "",
) -> Outcome:
    """自处理审核通过: the centre accepts the inspector's on-the-spot fix; the case closes."""
    change = _Change(
        {
            "close_type": CloseType.NORMAL,
            "closed_at": now,
            "accepted_at": now,
            "handled_at": now,
            "handled_overdue": False,
        },
        _text(comment, "comment", required=False, limit=MAX_COMMENT),
    )
    return _transition(
        uow,
        case_id,
        Action.APPROVE_SELF_HANDLING,
        actor=actor,
        now=now,
        version=version,
        change=change,
    )


def reject_self_handling(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    reason: str,
) -> Outcome:
    """自处理审核不通过: the report goes through the normal loop instead."""
    change = _Change(
        {"self_handled": False},
        _text(reason, "reason", required=True, limit=MAX_COMMENT),
        restart_stage=True,
    )
    return _transition(
        uow,
        case_id,
        Action.REJECT_SELF_HANDLING,
        actor=actor,
        now=now,
        version=version,
        change=change,
    )


# -- flags: 督办, 催办, 回访 ---


def supervise_case(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    comment: str,
) -> Outcome:
    """督办: put the case under supervision (a flag; the state does not change)."""
    change = _Change(
        {"supervised": True}, _text(comment, "comment", required=True, limit=MAX_COMMENT)
    )
    return _transition(
        uow, case_id, Action.SUPERVISE, actor=actor, now=now, version=version, change=change
    )


def remind_case(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    comment: str = "",
) -> Outcome:
    """催办: remind the department (counted; the state does not change)."""
    comment = _text(comment, "comment", required=False, limit=MAX_COMMENT)

    def prepare(case: Case, change: _Change) -> None:
        change.fields["remind_count"] = case.remind_count + 1

    return _transition(
        uow,
        case_id,
        Action.REMIND,
        actor=actor,
        now=now,
        version=version,
        change=_Change(comment=comment),
        prepare=prepare,
    )


SATISFACTION = {1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意", 5: "非常不满意"}


def callback_case(
    uow: UnitOfWork,
    case_id: CaseRef,
    *,
    actor: Actor,
    now: datetime,
    version: int | None,
    satisfaction: int,
    comment: str = "",
) -> Outcome:
    """回访: the operator calls the reporter back and records satisfaction (1 best … 5 worst)."""
    if satisfaction not in SATISFACTION:
        raise ValidationError(
            "satisfaction_invalid",
            "Satisfaction is rated from 1 (very satisfied) to 5 (very dissatisfied), got {value}",
            value=satisfaction,
        )
    change = _Change(
        {"satisfaction": satisfaction},
        _text(comment, "comment", required=False, limit=MAX_COMMENT),
        {"satisfaction": satisfaction},
    )
    return _transition(
        uow, case_id, Action.CALLBACK, actor=actor, now=now, version=version, change=change
    )


# -- one entry point per action name (for transports) ---


def number_to_id(uow: UnitOfWork, number: str, *, actor: Actor) -> int:
    with uow:
        case = uow.cases.get_by_number(number)
        if case is None or not workflow.visible(case, actor):
            raise NotFoundError("case_not_found", "Case {id} was not found", id=number)
        return case.id


ACTION_FUNCTIONS: Mapping[Action, Any] = {
    Action.ACCEPT: accept_case,
    Action.REQUEST_VERIFY: request_verify,
    Action.REJECT: reject_case,
    Action.MERGE: merge_case,
    Action.VOID: void_case,
    Action.REQUEST_VOID: request_void,
    Action.APPROVE_VOID: approve_void,
    Action.REJECT_VOID: reject_void,
    Action.FILE: file_case,
    Action.DISPATCH: dispatch_case,
    Action.DISPATCH_TO_DISTRICT: dispatch_to_district,
    Action.SEND_BACK: send_back,
    Action.SIGN: sign_case,
    Action.REFUSE: refuse_case,
    Action.FEEDBACK: feedback_case,
    Action.REQUEST_RETURN: request_return,
    Action.APPROVE_RETURN: approve_return,
    Action.REJECT_RETURN: reject_return,
    Action.REQUEST_EXTENSION: request_extension,
    Action.APPROVE_EXTENSION: approve_extension,
    Action.REJECT_EXTENSION: reject_extension,
    Action.REQUEST_SUSPENSION: request_suspension,
    Action.APPROVE_SUSPENSION: approve_suspension,
    Action.REJECT_SUSPENSION: reject_suspension,
    Action.RESUME: resume_case,
    Action.REQUEST_CHECK: request_check,
    Action.REWORK: rework_case,
    Action.CLOSE: close_case,
    Action.APPROVE_SELF_HANDLING: approve_self_handling,
    Action.REJECT_SELF_HANDLING: reject_self_handling,
    Action.SUPERVISE: supervise_case,
    Action.REMIND: remind_case,
    Action.CALLBACK: callback_case,
}
"""Actions done on a case by number. Intake (``report``) and the task answers
(``complete_verify``, ``pass_check``, ``fail_check``) have their own doors:
:func:`report_case` and :func:`complete_task`."""
