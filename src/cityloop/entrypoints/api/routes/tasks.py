"""Verify (核实) and check (核查) tasks of the signed-in inspector."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from cityloop.entrypoints.api import schemas as out
from cityloop.entrypoints.api.body import read_body
from cityloop.entrypoints.api.deps import CtxDep, write
from cityloop.entrypoints.api.routes.cases import MULTIPART_DOC, ChangeResponse, _with_stage
from cityloop.services import cases as svc
from cityloop.services.queries import cases as q

router = APIRouter(prefix=f"{out.API}/tasks", tags=["tasks"])


@router.get("", response_model=list[out.TaskItemOut], summary="My open tasks")
def my_tasks(c: CtxDep) -> list[out.TaskItemOut]:
    actor, when, locale, container = c.actor, c.now, c.locale, c.container
    rows = q.my_tasks(container.uow(readonly=True), actor, now=when)
    return [
        out.TaskItemOut(
            task=out.task_out(task, locale, item.case.number), case=out.case_summary(item, locale)
        )
        for task, item in rows
    ]


@router.post(
    "/{task_id}/complete",
    response_model=out.CaseChangeOut,
    summary="Answer a task: verify confirmed/not_found, check passed/failed",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": out.TaskAnswerIn.model_json_schema()},
                **MULTIPART_DOC["requestBody"]["content"],
            },
        }
    },
)
async def complete(
    c: CtxDep,
    task_id: int,
    request: Request,
) -> JSONResponse:
    actor, when, locale, container = c.actor, c.now, c.locale, c.container
    body, photos = await read_body(request, out.TaskAnswerIn, container)
    outcome = await write(
        container,
        svc.complete_task,
        container.uow(),
        task_id,
        actor=actor,
        now=when,
        result=body.result,
        comment=body.comment,
        attachments=photos,
    )
    return ChangeResponse(_with_stage(container, outcome, locale, actor, when))
