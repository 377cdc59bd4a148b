"""Verify (核实) and check (核查) tasks, and attachments."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from cityloop.adapters.db.models import T, new_id
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


class SqlTaskRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, task: Task) -> Task:
        values = {f.name: getattr(task, f.name) for f in dataclasses.fields(Task)}
        values.pop("id")
        values["kind"] = task.kind.value
        values["state"] = task.state.value
        row_id = new_id(self.conn.execute(insert(tasks).values(values)))
        return dataclasses.replace(task, id=row_id)

    def get(self, task_id: int) -> Task | None:
        row = self.conn.execute(select(tasks).where(tasks.c.id == task_id)).first()
        return task_from_row(row) if row else None

    def open_for(self, case_id: int, kind: TaskKind | None = None) -> Task | None:
        stmt = select(tasks).where(
            tasks.c.case_id == case_id, tasks.c.state == TaskState.OPEN.value
        )
        if kind is not None:
            stmt = stmt.where(tasks.c.kind == kind.value)
        row = self.conn.execute(stmt.order_by(tasks.c.id.desc())).first()
        return task_from_row(row) if row else None

    def finish(
        self, task_id: int, *, state: str, at: datetime, result: str | None, comment: str
    ) -> None:
        self.conn.execute(
            update(tasks)
            .where(tasks.c.id == task_id)
            .values(state=state, completed_at=at, result=result, comment=comment)
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
        values.pop("id")
        row_id = new_id(self.conn.execute(insert(attachments).values(values)))
        return dataclasses.replace(attachment, id=row_id)

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
