"""Cases, their timeline (case events), suspension intervals and case numbers."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from cityloop.adapters.db.models import T, new_id
from cityloop.domain.case import Case, CaseEvent, CaseState, CloseType, Source, Urgency
from cityloop.domain.errors import CaseChangedError
from cityloop.domain.sla.units import TimeLimit, TimeUnit
from cityloop.services.ports import DuplicateKeyError

cases = T["cases"]
events = T["case_events"]
pauses = T["case_pauses"]
counters = T["counters"]

_CASE_FIELDS = [f.name for f in dataclasses.fields(Case) if f.name != "disposal_limit"]
_ENUMS: Mapping[str, Any] = {
    "state": CaseState,
    "resume_state": CaseState,
    "source": Source,
    "urgency": Urgency,
    "close_type": CloseType,
}


def to_columns(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Domain field values → column values."""
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "disposal_limit":
            limit: TimeLimit | None = value
            values["disposal_limit_amount"] = limit.amount if limit else None
            values["disposal_limit_unit"] = limit.unit.value if limit else None
        elif name in _ENUMS:
            values[name] = value.value if value is not None else None
        else:
            values[name] = value
    return values


def case_from_row(row: Any) -> Case:
    data = {name: getattr(row, name) for name in _CASE_FIELDS}
    for name, enum_type in _ENUMS.items():
        if data[name] is not None:
            data[name] = enum_type(data[name])
    amount, unit = row.disposal_limit_amount, row.disposal_limit_unit
    data["disposal_limit"] = (
        TimeLimit(Decimal(amount), TimeUnit(unit)) if amount is not None and unit else None
    )
    return Case(**data)


def event_from_row(row: Any) -> CaseEvent:
    return CaseEvent(
        id=row.id,
        case_id=row.case_id,
        seq=row.seq,
        action=row.action,
        at=row.at,
        actor_id=row.actor_id,
        actor_role=row.actor_role,
        from_state=CaseState(row.from_state) if row.from_state else None,
        to_state=CaseState(row.to_state),
        comment=row.comment or "",
        details=row.details,
        stage=row.stage,
        stage_deadline=row.stage_deadline,
        department_id=row.department_id,
    )


class SqlCaseRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, case_id: int) -> Case | None:
        row = self.conn.execute(select(cases).where(cases.c.id == case_id)).first()
        return case_from_row(row) if row else None

    def get_by_number(self, number: str) -> Case | None:
        row = self.conn.execute(select(cases).where(cases.c.number == number)).first()
        return case_from_row(row) if row else None

    def by_idempotency_key(self, key: str) -> tuple[Case, str] | None:
        row = self.conn.execute(select(cases).where(cases.c.idempotency_key == key)).first()
        return (case_from_row(row), row.request_fingerprint or "") if row else None

    def next_number(self, day: date) -> str:
        """``YYYYMMDD`` + a 5-digit sequence of the day, e.g. ``2026112600017``."""
        name = f"case:{day:%Y%m%d}"
        dialect = self.conn.dialect.name
        ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(counters)
        stmt = (
            ins.values(name=name, value=1)
            .on_conflict_do_update(
                index_elements=[counters.c.name], set_={"value": counters.c.value + 1}
            )
            .returning(counters.c.value)
        )
        value = self.conn.execute(stmt).scalar_one()
        return f"{day:%Y%m%d}{value:05d}"

    def add(self, case: Case, *, idempotency_key: str | None, fingerprint: str | None) -> Case:
        values = to_columns({name: getattr(case, name) for name in _CASE_FIELDS})
        values.update(to_columns({"disposal_limit": case.disposal_limit}))
        values.pop("id")
        values["idempotency_key"] = idempotency_key
        values["request_fingerprint"] = fingerprint
        if idempotency_key is None:
            row_id = new_id(self.conn.execute(insert(cases).values(values)))
        else:
            savepoint = self.conn.begin_nested()
            try:
                row_id = new_id(self.conn.execute(insert(cases).values(values)))
                savepoint.commit()
            except IntegrityError as exc:
                savepoint.rollback()
                raise DuplicateKeyError(idempotency_key) from exc
        return dataclasses.replace(case, id=row_id)

    def update(self, case: Case, changes: Mapping[str, Any]) -> Case:
        values = to_columns(changes)
        values["version"] = case.version + 1
        values["event_seq"] = cases.c.event_seq + 1
        row = self.conn.execute(
            update(cases)
            .where(cases.c.id == case.id, cases.c.version == case.version)
            .values(values)
            .returning(cases.c.event_seq)
        ).first()
        if row is None:
            actual = self.conn.execute(
                select(cases.c.version).where(cases.c.id == case.id)
            ).scalar()
            raise CaseChangedError(case.number, case.version, actual)
        return dataclasses.replace(
            case, **dict(changes), version=case.version + 1, event_seq=int(row.event_seq)
        )

    def add_event(self, event: CaseEvent) -> CaseEvent:
        """Append a timeline line. With ``seq`` 0 the case's line counter is advanced here
        (for lines that do not change the case, e.g. a duplicate merged into it)."""
        seq = event.seq
        if seq == 0:
            seq = int(
                self.conn.execute(
                    update(cases)
                    .where(cases.c.id == event.case_id)
                    .values(event_seq=cases.c.event_seq + 1)
                    .returning(cases.c.event_seq)
                ).scalar_one()
            )
        values = {
            "case_id": event.case_id,
            "seq": seq,
            "action": event.action,
            "at": event.at,
            "actor_id": event.actor_id,
            "actor_role": event.actor_role,
            "from_state": event.from_state.value if event.from_state else None,
            "to_state": event.to_state.value,
            "comment": event.comment,
            "details": _jsonable(event.details) if event.details else None,
            "stage": event.stage,
            "stage_deadline": event.stage_deadline,
            "department_id": event.department_id,
        }
        row_id = new_id(self.conn.execute(insert(events).values(values)))
        return dataclasses.replace(event, id=row_id, seq=seq)

    def events(self, case_id: int) -> list[CaseEvent]:
        rows = self.conn.execute(
            select(events).where(events.c.case_id == case_id).order_by(events.c.seq)
        )
        return [event_from_row(r) for r in rows]

    def open_pause(self, case_id: int, start: datetime) -> None:
        self.conn.execute(insert(pauses).values(case_id=case_id, start=start, end=None))

    def close_pause(self, case_id: int, end: datetime) -> None:
        self.conn.execute(
            update(pauses)
            .where(pauses.c.case_id == case_id, pauses.c.end.is_(None))
            .values(end=end)
        )

    def pauses(self, case_id: int) -> list[tuple[datetime, datetime | None]]:
        rows = self.conn.execute(
            select(pauses.c.start, pauses.c.end)
            .where(pauses.c.case_id == case_id)
            .order_by(pauses.c.start)
        )
        return [(r.start, r.end) for r in rows]

    def due_suspensions(self, now: datetime) -> list[int]:
        rows = self.conn.execute(
            select(cases.c.id)
            .where(cases.c.state == CaseState.SUSPENDED.value, cases.c.suspend_until <= now)
            .order_by(cases.c.suspend_until)
        )
        return [r.id for r in rows]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
