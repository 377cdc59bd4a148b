"""Cases, their timeline (case events), suspension intervals and case numbers."""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cityloop.adapters.db.fast import FastStatement
from cityloop.adapters.db.models import T
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


_ENUM_ITEMS = tuple(_ENUMS.items())


def _replacer(cls: type[Any]) -> Callable[[Any, Mapping[str, Any]], Any]:
    """``dataclasses.replace`` for one record type, about twice as fast (the attribute
    values are read by one C call; the constructor still checks the field names)."""
    names = tuple(f.name for f in dataclasses.fields(cls))
    values = operator.attrgetter(*names)

    def replace(record: Any, changes: Mapping[str, Any]) -> Any:
        data = dict(zip(names, values(record), strict=True))
        data.update(changes)
        return cls(**data)

    return replace


_replace_case: Callable[[Case, Mapping[str, Any]], Case] = _replacer(Case)
_replace_event: Callable[[CaseEvent, Mapping[str, Any]], CaseEvent] = _replacer(CaseEvent)


def case_from_row(row: Any) -> Case:
    values = row._mapping
    data = {name: values[name] for name in _CASE_FIELDS}
    for name, enum_type in _ENUM_ITEMS:
        if data[name] is not None:
            data[name] = enum_type(data[name])
    amount, unit = values["disposal_limit_amount"], values["disposal_limit_unit"]
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


# Statements are built once: building a statement costs more than running it on SQLite.
_BY_ID = FastStatement(select(cases).where(cases.c.id == bindparam("p_id")))
_BY_NUMBER = FastStatement(select(cases).where(cases.c.number == bindparam("p_number")))
_BY_KEY = FastStatement(select(cases).where(cases.c.idempotency_key == bindparam("p_key")))
_VERSION = select(cases.c.version).where(cases.c.id == bindparam("p_id"))
_WRITABLE = [
    c.name
    for c in cases.c
    if c.name not in ("id", "idempotency_key", "request_fingerprint", "event_seq")
]


def _dialect_statements(build: Any) -> dict[str, FastStatement]:
    """One prebuilt statement per dialect, for constructs that differ (upserts)."""
    return {name: FastStatement(build(ins)) for name, ins in _INSERTS.items()}


_INSERTS: dict[str, Any] = {"sqlite": sqlite_insert, "postgresql": pg_insert}
# A reused idempotency key inserts nothing (and returns no id) instead of raising: no
# savepoint is needed around the insert, and the transaction stays usable.
_INSERT = _dialect_statements(
    lambda ins: (
        ins(cases)
        .values(
            {name: bindparam(f"v_{name}") for name in _WRITABLE}
            | {
                "idempotency_key": bindparam("v_idempotency_key"),
                "request_fingerprint": bindparam("v_request_fingerprint"),
                "event_seq": bindparam("v_event_seq"),
            }
        )
        .on_conflict_do_nothing(index_elements=[cases.c.idempotency_key])
        .returning(cases.c.id)
    )
)
_NEXT_NUMBER = _dialect_statements(
    lambda ins: (
        ins(counters)
        .values(name=bindparam("p_name"), value=1)
        .on_conflict_do_update(
            index_elements=[counters.c.name], set_={"value": counters.c.value + 1}
        )
        .returning(counters.c.value)
    )
)


@lru_cache(maxsize=256)
def _update_statement(columns: tuple[str, ...]) -> FastStatement:
    """UPDATE of exactly ``columns`` (plus the line counter), built once per set of columns:
    each action changes its own few columns, so few distinct statements exist."""
    return FastStatement(
        update(cases)
        .where(cases.c.id == bindparam("p_id"), cases.c.version == bindparam("p_version"))
        .values(
            {name: bindparam(f"v_{name}") for name in columns}
            | {"event_seq": cases.c.event_seq + 1}
        )
        .returning(cases.c.event_seq)
    )


_BUMP_SEQ = FastStatement(
    update(cases)
    .where(cases.c.id == bindparam("p_id"))
    .values(event_seq=cases.c.event_seq + 1)
    .returning(cases.c.event_seq)
)
_EVENT_COLUMNS = [c.name for c in events.c if c.name != "id"]
_INSERT_EVENT = FastStatement(
    insert(events)
    .values({name: bindparam(f"v_{name}") for name in _EVENT_COLUMNS})
    .returning(events.c.id)
)
_EVENTS = select(events).where(events.c.case_id == bindparam("p_id")).order_by(events.c.seq)


def _row_values(case: Case) -> dict[str, Any]:
    values = to_columns({name: getattr(case, name) for name in _CASE_FIELDS})
    values.update(to_columns({"disposal_limit": case.disposal_limit}))
    return {f"v_{name}": values[name] for name in _WRITABLE}


class SqlCaseRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, case_id: int) -> Case | None:
        row = _BY_ID.first(self.conn, {"p_id": case_id})
        return case_from_row(row) if row else None

    def get_by_number(self, number: str) -> Case | None:
        row = _BY_NUMBER.first(self.conn, {"p_number": number})
        return case_from_row(row) if row else None

    def by_idempotency_key(self, key: str) -> tuple[Case, str] | None:
        row = _BY_KEY.first(self.conn, {"p_key": key})
        return (case_from_row(row), row.request_fingerprint or "") if row else None

    def next_number(self, day: date) -> str:
        """``YYYYMMDD`` + a 5-digit sequence of the day, e.g. ``2026112600017``."""
        stmt = _NEXT_NUMBER[self.conn.dialect.name]
        value = stmt.scalar(self.conn, {"p_name": f"case:{day:%Y%m%d}"})
        return f"{day:%Y%m%d}{value:05d}"

    def add(self, case: Case, *, idempotency_key: str | None, fingerprint: str | None) -> Case:
        values = _row_values(case)
        values["v_idempotency_key"] = idempotency_key
        values["v_request_fingerprint"] = fingerprint
        values["v_event_seq"] = case.event_seq
        row_id = _INSERT[self.conn.dialect.name].scalar(self.conn, values)
        if row_id is None:  # the key is taken (by a concurrent twin that committed first)
            raise DuplicateKeyError(idempotency_key)
        return dataclasses.replace(case, id=int(row_id))

    def update(self, case: Case, changes: Mapping[str, Any]) -> Case:
        version = case.version + 1
        values = to_columns(changes)
        values["version"] = version
        columns = tuple(sorted(values))
        params = {f"v_{name}": values[name] for name in columns}
        params["p_id"] = case.id
        params["p_version"] = case.version
        row = _update_statement(columns).first(self.conn, params)
        if row is None:
            actual = self.conn.execute(_VERSION, {"p_id": case.id}).scalar()
            raise CaseChangedError(case.number, case.version, actual)
        return _replace_case(
            case, {**changes, "version": version, "event_seq": int(row._values[0])}
        )

    def add_event(self, event: CaseEvent) -> CaseEvent:
        """Append a timeline line. With ``seq`` 0 the case's line counter is advanced here
        (for lines that do not change the case, e.g. a duplicate merged into it)."""
        seq = event.seq
        if seq == 0:
            seq = int(_BUMP_SEQ.scalar(self.conn, {"p_id": event.case_id}))
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
        row_id = _INSERT_EVENT.scalar(self.conn, {f"v_{k}": v for k, v in values.items()})
        return _replace_event(event, {"id": int(row_id), "seq": seq})

    def events(self, case_id: int) -> list[CaseEvent]:
        return [event_from_row(r) for r in self.conn.execute(_EVENTS, {"p_id": case_id})]

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
