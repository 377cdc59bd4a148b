"""Cases: intake, work queues and search, the case page, its timeline, files and actions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json
from starlette.concurrency import run_in_threadpool

from cityloop.adapters.images import thumbnail_of
from cityloop.domain.case import Source, TaskKind, Urgency
from cityloop.domain.codes import ClassKind, Edition
from cityloop.domain.errors import NotFoundError, ValidationError
from cityloop.domain.roles import Actor
from cityloop.domain.workflow import Action
from cityloop.entrypoints.api import schemas as out
from cityloop.entrypoints.api.body import read_body
from cityloop.entrypoints.api.deps import CtxDep, write
from cityloop.entrypoints.api.routes.geocoding import position_to_wgs84
from cityloop.entrypoints.routing import direct
from cityloop.services import cases as svc
from cityloop.services.cases import NewAttachment, NewReport, Outcome
from cityloop.services.queries import cases as q

router = APIRouter(prefix=f"{out.API}/cases", tags=["cases"])

MULTIPART_DOC = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "data": {"type": "string", "description": "the JSON body"},
                        "photos": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "JPEG, PNG, WebP or HEIC photos",
                        },
                    },
                }
            }
        }
    }
}


def _enum(enum_type: Any, value: str, field: str) -> Any:
    try:
        return enum_type(value)
    except ValueError as exc:
        raise ValidationError(
            f"{field}_invalid",
            "{value} is not a valid value for {field}; use one of {known}",
            value=value,
            field=field,
            known=", ".join(m.value for m in enum_type),
        ) from exc


def change_out(outcome: Outcome, locale: str, actor_name: str) -> dict[str, Any]:
    """The JSON data of the CaseChangeOut an action answers (the stage clock included)."""
    return out.change_json(
        outcome.case,
        outcome.event,
        actor_name=actor_name,
        status=outcome.status,
        task=outcome.task,
        attachments=outcome.attachments,
        replayed=outcome.replayed,
        locale=locale,
    )


class ChangeResponse(JSONResponse):
    """The JSON of a CaseChangeOut, rendered by pydantic-core (the serializer of FastAPI's
    models): the same text as the standard library's ``json.dumps`` gives these answers, in
    a fifth of the time."""

    def render(self, content: Any) -> bytes:
        return to_json(content)


def _with_stage(
    container: Any, outcome: Outcome, locale: str, actor: Actor, now: datetime
) -> dict[str, Any]:
    return change_out(outcome, locale, actor.name)


# -- intake ---


def _body_doc(*models: type[BaseModel]) -> dict[str, Any]:
    json_schema: dict[str, Any] = (
        models[0].model_json_schema()
        if len(models) == 1
        else {"oneOf": [m.model_json_schema() for m in models]}
    )
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": json_schema},
                **MULTIPART_DOC["requestBody"]["content"],
            },
        }
    }


@router.post(
    "",
    status_code=201,
    response_model=out.CaseChangeOut,
    summary="Report a problem (上报/登记)",
    description="JSON, or multipart with the JSON in a `data` part and photos in `photos` "
    "parts. Send an `Idempotency-Key` header so that a retry never files twice.",
    openapi_extra=_body_doc(out.ReportIn),
    responses={200: {"description": "An idempotent repeat of an earlier report"}},
)
@direct
async def create_case(
    c: CtxDep,
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    actor, when, locale, container = c.actor, c.now, c.locale, c.container
    data, photos = await read_body(request, out.ReportIn, container)
    lon, lat = position_to_wgs84(data.lon, data.lat, data.crs)
    report = NewReport(
        source=_enum(Source, data.source, "source"),
        description=data.description,
        category_code=data.category_code,
        edition=_enum(Edition, data.edition, "edition"),
        kind=_enum(ClassKind, data.kind, "kind"),
        lon=lon,
        lat=lat,
        grid_code=data.grid_code,
        address=data.address,
        component_code=data.component_code,
        reporter_name=data.reporter_name,
        reporter_phone=data.reporter_phone,
        urgency=_enum(Urgency, data.urgency, "urgency"),
        self_handled=data.self_handled,
        attachments=photos,
    )
    outcome = await write(
        container,
        svc.report_case,
        container.uow(),
        report,
        actor=actor,
        now=when,
        idempotency_key=idempotency_key,
    )
    body = _with_stage(container, outcome, locale, actor, when)
    headers = {"Location": body["url"]}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return ChangeResponse(body, status_code=200 if outcome.replayed else 201, headers=headers)


# -- reading ---


@router.get("", response_model=out.CasePageOut, summary="My work queue, or a case search")
def list_cases(
    c: CtxDep,
    queue: Annotated[bool, Query(description="only what I have to act on")] = False,
    state: Annotated[list[str] | None, Query()] = None,
    category: Annotated[list[str] | None, Query(description="class codes")] = None,
    source: Annotated[list[str] | None, Query()] = None,
    grid: str | None = None,
    street: str | None = None,
    community: str | None = None,
    department: int | None = None,
    light: Annotated[str | None, Query(pattern="^(green|yellow|red)$")] = None,
    reported_from: datetime | None = None,
    reported_to: datetime | None = None,
    q_text: Annotated[str, Query(alias="q", max_length=100)] = "",
    supervised: bool | None = None,
    reworked: Annotated[bool | None, Query(description="only cases sent back for rework")] = None,
    sort: Annotated[str | None, Query(description="e.g. -reported_at,number")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=q.MAX_PAGE_SIZE)] = 50,
) -> out.CasePageOut:
    actor, when, locale, container = c.actor, c.now, c.locale, c.container
    for moment in (reported_from, reported_to):
        if moment is not None and moment.tzinfo is None:
            raise ValidationError(
                "naive_datetime",
                "Time {value} has no time zone; times must be aware",
                value=moment.isoformat(),
            )
    filters = q.CaseFilters(
        states=tuple(state or ()),
        category_codes=tuple(category or ()),
        sources=tuple(source or ()),
        grid_code=grid,
        street_code=street,
        community_code=community,
        department_id=department,
        light=light,
        reported_from=reported_from,
        reported_to=reported_to,
        text=q_text,
        supervised=supervised,
        reworked=reworked,
    )
    result = q.list_cases(
        container.uow(readonly=True),
        actor,
        now=when,
        filters=filters,
        queue=queue,
        sort=sort,
        page=page,
        page_size=page_size,
    )
    return out.CasePageOut(
        items=[out.case_summary(item, locale) for item in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.get("/{number}", response_model=out.CaseOut, summary="One case, with everything")
def get_case(
    c: CtxDep,
    number: str,
) -> out.CaseOut:
    actor, when, locale, container = c.actor, c.now, c.locale, c.container
    view = q.case_view(container.uow(readonly=True), number, actor, now=when)
    return out.case_out(view, actor, locale)


@router.get("/{number}/events", response_model=list[out.EventOut], summary="The timeline")
def get_events(
    c: CtxDep,
    number: str,
) -> list[out.EventOut]:
    actor, when, locale, container = c.actor, c.now, c.locale, c.container
    view = q.case_view(container.uow(readonly=True), number, actor, now=when)
    return out.case_out(view, actor, locale).timeline


@router.get(
    "/{number}/attachments/{attachment_id}", summary="Download a file", response_class=Response
)
def get_attachment(
    c: CtxDep,
    number: str,
    attachment_id: int,
) -> Response:
    container = c.container
    item = q.case_attachment(container.uow(readonly=True), number, attachment_id, c.actor)
    data = container.files.read(item.path)
    return Response(
        data,
        media_type=item.content_type,
        headers={"Cache-Control": "private, max-age=86400", "ETag": f'"{item.sha256}"'},
    )


@router.get(
    "/{number}/attachments/{attachment_id}/thumbnail",
    summary="A file's thumbnail",
    response_class=Response,
)
def get_thumbnail(
    c: CtxDep,
    number: str,
    attachment_id: int,
) -> Response:
    container = c.container
    item = q.case_attachment(container.uow(readonly=True), number, attachment_id, c.actor)
    if not item.thumbnail_path:
        raise NotFoundError("thumbnail_not_found", "This file has no thumbnail")
    data = container.files.read_intact(item.thumbnail_path)
    if data is None:  # lost or cut short by a power loss (thumbnails are not flushed)
        data = thumbnail_of(container.files.read(item.path))
    return Response(
        data,
        media_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=86400"},
    )


# -- actions ---


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VersionBody(_Body):
    version: int = Field(description="the case version you saw (optimistic lock)")
    comment: str = ""


class ReasonBody(_Body):
    version: int
    reason: str


class FileBody(_Body):
    version: int
    standard_id: int
    urgency: str = "normal"
    category_code: str | None = None
    comment: str = ""


class DispatchBody(_Body):
    version: int
    department_id: int
    comment: str = ""


class TaskRequestBody(_Body):
    version: int
    inspector_id: int | None = None
    comment: str = ""


class MergeBody(_Body):
    version: int
    into: str = Field(description="the number of the original case")
    comment: str = ""


class ExtensionBody(_Body):
    version: int
    reason: str
    requested_until: datetime | None = None


class SuspensionBody(_Body):
    version: int
    reason: str
    until: datetime | date


class CloseBody(_Body):
    version: int
    close_type: str | None = None
    comment: str = ""


class CallbackBody(_Body):
    version: int
    satisfaction: int
    comment: str = ""


class FeedbackBody(_Body):
    version: int
    comment: str


class VerifyBody(_Body):
    version: int | None = None
    result: str
    comment: str = ""


class CheckBody(_Body):
    version: int | None = None
    comment: str = ""


Call = Callable[..., Outcome]


def _simple(fn: Call, field: str = "comment") -> Callable[..., Outcome]:
    def run(uow: Any, case_id: int, body: Any, photos: list[NewAttachment], **kw: Any) -> Outcome:
        return fn(uow, case_id, version=body.version, **{field: getattr(body, field)}, **kw)

    return run


def _aware(value: datetime | date, tz: Any) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValidationError(
                "naive_datetime",
                "Time {value} has no time zone; times must be aware",
                value=value.isoformat(),
            )
        return value
    return datetime.combine(value, time(0), tzinfo=tz)


def _task_answer(kind: TaskKind, result: str | None) -> Callable[..., Outcome]:
    def run(
        uow: Any,
        case_id: str,
        body: Any,
        photos: list[NewAttachment],
        *,
        actor: Actor,
        now: datetime,
    ) -> Outcome:
        return svc.answer_task(
            uow,
            case_id,
            kind,
            actor=actor,
            now=now,
            result=result or body.result,
            comment=body.comment,
            attachments=photos,
        )

    return run


def _file(
    uow: Any, case_id: int, body: FileBody, photos: list[NewAttachment], **kw: Any
) -> Outcome:
    category_id = None
    if body.category_code:
        with uow:
            category = uow.catalog.category_by_code(
                Edition.CURRENT, ClassKind.MATTER, body.category_code
            )
        if category is None:
            raise ValidationError(
                "unknown_category",
                "Class code {code} is not in the class dictionary",
                code=body.category_code,
            )
        category_id = category.id
    return svc.file_case(
        uow,
        case_id,
        version=body.version,
        standard_id=body.standard_id,
        urgency=body.urgency,
        category_id=category_id,
        comment=body.comment,
        **kw,
    )


def _merge(
    uow: Any,
    case_id: int,
    body: MergeBody,
    photos: list[NewAttachment],
    *,
    actor: Actor,
    now: datetime,
) -> Outcome:
    return svc.merge_case(
        uow,
        case_id,
        actor=actor,
        now=now,
        version=body.version,
        into_number=body.into,
        comment=body.comment,
    )


def _suspend(
    uow: Any,
    case_id: int,
    body: SuspensionBody,
    photos: list[NewAttachment],
    *,
    actor: Actor,
    now: datetime,
) -> Outcome:
    with uow:
        tz = uow.sla.calendar().tz
    return svc.request_suspension(
        uow,
        case_id,
        actor=actor,
        now=now,
        version=body.version,
        reason=body.reason,
        until=_aware(body.until, tz),
    )


ACTIONS: dict[Action, tuple[type[BaseModel], Callable[..., Outcome]]] = {
    Action.ACCEPT: (VersionBody, _simple(svc.accept_case)),
    Action.REQUEST_VERIFY: (
        TaskRequestBody,
        lambda uow, cid, b, p, **kw: svc.request_verify(
            uow, cid, version=b.version, inspector_id=b.inspector_id, comment=b.comment, **kw
        ),
    ),
    Action.COMPLETE_VERIFY: (VerifyBody, _task_answer(TaskKind.VERIFY, None)),
    Action.REJECT: (ReasonBody, _simple(svc.reject_case, "reason")),
    Action.MERGE: (MergeBody, _merge),
    Action.VOID: (ReasonBody, _simple(svc.void_case, "reason")),
    Action.REQUEST_VOID: (ReasonBody, _simple(svc.request_void, "reason")),
    Action.APPROVE_VOID: (VersionBody, _simple(svc.approve_void)),
    Action.REJECT_VOID: (ReasonBody, _simple(svc.reject_void, "reason")),
    Action.FILE: (FileBody, _file),
    Action.DISPATCH: (
        DispatchBody,
        lambda uow, cid, b, p, **kw: svc.dispatch_case(
            uow, cid, version=b.version, department_id=b.department_id, comment=b.comment, **kw
        ),
    ),
    Action.DISPATCH_TO_DISTRICT: (VersionBody, _simple(svc.dispatch_to_district)),
    Action.SEND_BACK: (ReasonBody, _simple(svc.send_back, "reason")),
    Action.SIGN: (VersionBody, _simple(svc.sign_case)),
    Action.REFUSE: (ReasonBody, _simple(svc.refuse_case, "reason")),
    Action.FEEDBACK: (
        FeedbackBody,
        lambda uow, cid, b, p, **kw: svc.feedback_case(
            uow, cid, version=b.version, comment=b.comment, attachments=p, **kw
        ),
    ),
    Action.REQUEST_RETURN: (ReasonBody, _simple(svc.request_return, "reason")),
    Action.APPROVE_RETURN: (VersionBody, _simple(svc.approve_return)),
    Action.REJECT_RETURN: (ReasonBody, _simple(svc.reject_return, "reason")),
    Action.REQUEST_EXTENSION: (
        ExtensionBody,
        lambda uow, cid, b, p, **kw: svc.request_extension(
            uow, cid, version=b.version, reason=b.reason, requested_until=b.requested_until, **kw
        ),
    ),
    Action.APPROVE_EXTENSION: (VersionBody, _simple(svc.approve_extension)),
    Action.REJECT_EXTENSION: (ReasonBody, _simple(svc.reject_extension, "reason")),
    Action.REQUEST_SUSPENSION: (SuspensionBody, _suspend),
    Action.APPROVE_SUSPENSION: (VersionBody, _simple(svc.approve_suspension)),
    Action.REJECT_SUSPENSION: (ReasonBody, _simple(svc.reject_suspension, "reason")),
    Action.RESUME: (VersionBody, _simple(svc.resume_case)),
    Action.REQUEST_CHECK: (
        TaskRequestBody,
        lambda uow, cid, b, p, **kw: svc.request_check(
            uow, cid, version=b.version, inspector_id=b.inspector_id, comment=b.comment, **kw
        ),
    ),
    Action.PASS_CHECK: (CheckBody, _task_answer(TaskKind.CHECK, "passed")),
    Action.FAIL_CHECK: (CheckBody, _task_answer(TaskKind.CHECK, "failed")),
    Action.REWORK: (ReasonBody, _simple(svc.rework_case, "reason")),
    Action.CLOSE: (
        CloseBody,
        lambda uow, cid, b, p, **kw: svc.close_case(
            uow, cid, version=b.version, close_type=b.close_type, comment=b.comment, **kw
        ),
    ),
    Action.APPROVE_SELF_HANDLING: (VersionBody, _simple(svc.approve_self_handling)),
    Action.REJECT_SELF_HANDLING: (ReasonBody, _simple(svc.reject_self_handling, "reason")),
    Action.SUPERVISE: (VersionBody, _simple(svc.supervise_case)),
    Action.REMIND: (VersionBody, _simple(svc.remind_case)),
    Action.CALLBACK: (
        CallbackBody,
        lambda uow, cid, b, p, **kw: svc.callback_case(
            uow, cid, version=b.version, satisfaction=b.satisfaction, comment=b.comment, **kw
        ),
    ),
}


@router.post(
    "/{number}/actions/{action}",
    response_model=out.CaseChangeOut,
    summary="Take an action of the transition table on a case",
    description="The body depends on the action; see docs/case-lifecycle.md. Every action "
    "except the task answers needs the case `version` you saw (optimistic lock): a stale "
    "version gets 409 `case_changed`.",
    openapi_extra=_body_doc(*dict.fromkeys(model for model, _ in ACTIONS.values())),
)
@direct
async def act(
    c: CtxDep,
    number: str,
    action: str,
    request: Request,
) -> JSONResponse:
    actor, when, locale, container = c.actor, c.now, c.locale, c.container
    try:
        parsed = Action(action)
    except ValueError as exc:
        raise NotFoundError("unknown_action", "There is no action {action}", action=action) from exc
    if parsed not in ACTIONS:  # intake rows: the case exists already
        await run_in_threadpool(
            svc.refuse_intake, container.uow(readonly=True), number, parsed, actor=actor
        )
    model, call = ACTIONS[parsed]
    body, photos = await read_body(request, model, container)
    outcome = await write(
        container, call, container.uow(), number, body, photos, actor=actor, now=when
    )
    return ChangeResponse(_with_stage(container, outcome, locale, actor, when))


__all__ = ["ACTIONS", "router"]
