"""Verify (核实) and check (核查) tasks, and attachments."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from cityloop.adapters.db.fast import FastStatement
from cityloop.adapters.db.models import T
from cityloop.domain.case import Attachment, Task, TaskKind, TaskState

tasks = T["tasks"]
attachments = T["attachments"]


def task_from_row(row: Any) -> Task:
    return Task(
        id=row.id,
        case_id=row.case_id,
        kind=TaskKind(row.kind),
        assignee_id=row.assignee_id,
        created_at=row.created_at,
        deadline=row.deadline,
        state=TaskState(row.state),
        grid_id=row.grid_id,
        completed_at=row.completed_at,
        result=row.result,
        comment=row.comment or "",
    )


# Built once and run on the driver's cursor: every task answer and photo upload runs these.
_TASK = FastStatement(select(tasks).where(tasks.c.id == bindparam("p_id")))
_OPEN_TASK = FastStatement(
    select(tasks)
    .where(tasks.c.case_id == bindparam("p_case"), tasks.c.state == "open")
    .order_by(tasks.c.id.desc())
    .limit(1)
)
_OPEN_TASK_OF_KIND = FastStatement(
    select(tasks)
    .where(
        tasks.c.case_id == bindparam("p_case"),
        tasks.c.state == "open",
        tasks.c.kind == bindparam("p_kind"),
    )
    .order_by(tasks.c.id.desc())
    .limit(1)
)
_FINISH = FastStatement(
    update(tasks)
    .where(tasks.c.id == bindparam("p_id"))
    .values(
        state=bindparam("v_state"),
        completed_at=bindparam("v_completed_at"),
        result=bindparam("v_result"),
        comment=bindparam("v_comment"),
    )
)
_TASK_COLUMNS = [c.name for c in tasks.c if c.name != "id"]
_INSERT_TASK = FastStatement(
    insert(tasks).values({n: bindparam(f"v_{n}") for n in _TASK_COLUMNS}).returning(tasks.c.id)
)
_ATTACHMENT_COLUMNS = [c.name for c in attachments.c if c.name != "id"]
_INSERT_ATTACHMENT = FastStatement(
    insert(attachments)
    .values({n: bindparam(f"v_{n}") for n in _ATTACHMENT_COLUMNS})
    .returning(attachments.c.id)
)


class SqlTaskRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, task: Task) -> Task:
        values = {f.name: getattr(task, f.name) for f in dataclasses.fields(Task)}
        values["kind"] = task.kind.value
        values["state"] = task.state.value
        row_id = _INSERT_TASK.scalar(self.conn, {f"v_{n}": values[n] for n in _TASK_COLUMNS})
        return dataclasses.replace(task, id=int(row_id))

    def get(self, task_id: int) -> Task | None:
        row = _TASK.first(self.conn, {"p_id": task_id})
        return task_from_row(row) if row else None

    def open_for(self, case_id: int, kind: TaskKind | None = None) -> Task | None:
        if kind is None:
            row = _OPEN_TASK.first(self.conn, {"p_case": case_id})
        else:
            row = _OPEN_TASK_OF_KIND.first(self.conn, {"p_case": case_id, "p_kind": kind.value})
        return task_from_row(row) if row else None

    def finish(
        self, task_id: int, *, state: str, at: datetime, result: str | None, comment: str
    ) -> None:
        _FINISH.execute(
            self.conn,
            {
                "p_id": task_id,
                "v_state": state,
                "v_completed_at": at,
                "v_result": result,
                "v_comment": comment,
            },
        )

    def for_case(self, case_id: int) -> list[Task]:
        rows = self.conn.execute(
            select(tasks).where(tasks.c.case_id == case_id).order_by(tasks.c.id)
        )
        return [task_from_row(r) for r in rows]


def attachment_from_row(row: Any) -> Attachment:
    return Attachment(
        id=row.id,
        case_id=row.case_id,
        stage=row.stage,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        path=row.path,
        created_at=row.created_at,
        uploaded_by=row.uploaded_by,
        event_id=row.event_id,
        thumbnail_path=row.thumbnail_path,
        exif_lon=row.exif_lon,
        exif_lat=row.exif_lat,
    )


class SqlAttachmentRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, attachment: Attachment) -> Attachment:
        values = {f.name: getattr(attachment, f.name) for f in dataclasses.fields(Attachment)}
        row_id = _INSERT_ATTACHMENT.scalar(
            self.conn, {f"v_{n}": values[n] for n in _ATTACHMENT_COLUMNS}
        )
        return dataclasses.replace(attachment, id=int(row_id))

    def get(self, attachment_id: int) -> Attachment | None:
        row = self.conn.execute(
            select(attachments).where(attachments.c.id == attachment_id)
        ).first()
        return attachment_from_row(row) if row else None

    def for_case(self, case_id: int) -> list[Attachment]:
        rows = self.conn.execute(
            select(attachments).where(attachments.c.case_id == case_id).order_by(attachments.c.id)
        )
        return [attachment_from_row(r) for r in rows]
