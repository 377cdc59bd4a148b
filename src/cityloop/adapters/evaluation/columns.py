"""The columnar form of the evaluation facts: four tables of fixed-width numpy columns.

Facts are stored in blocks of :data:`BLOCK` consecutive case ids, one database row per table
and block holding every column as raw little-endian bytes (``eval_fact_blocks``). A process
loads all blocks once (a few large reads, no per-row cost) and afterwards only the blocks whose
version moved.

Times are whole seconds since 2000-01-01 UTC in 32 bits (good until 2068; widen the time
dtype and bump :data:`FORMAT` before then); ``NEVER`` stands for "did not happen" and for a
deadline that is not running. Ids are int32 with 0 for "none". Code tables below are fixed:
changing a number means bumping :data:`FORMAT`, which rebuilds every block.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from cityloop.domain.case import CloseType, Source, TaskKind
from cityloop.domain.evaluation.facts import CaseRecord, ChangeKind, IntakeKind, RoundEnd

FORMAT = 1
BLOCK = 16_384
EPOCH = 946_684_800  # 2000-01-01T00:00:00Z in Unix seconds
NEVER = np.int32(2**31 - 1)
_NEVER = int(NEVER)

SOURCE_CODES: Mapping[Source, int] = {
    Source.INSPECTOR: 1,
    Source.HOTLINE_12345: 2,
    Source.HOTLINE_12319: 3,
    Source.PUBLIC: 4,
    Source.MEDIA: 5,
    Source.LEADER: 6,
    Source.SENSOR: 7,
    Source.VIDEO: 8,
}
SOURCE_NAMES: Mapping[int, str] = {code: s.value for s, code in SOURCE_CODES.items()}
PUBLIC_CODES = tuple(code for s, code in SOURCE_CODES.items() if s.public_facing)
CLOSE_CODES: Mapping[CloseType, int] = {
    CloseType.NORMAL: 1,
    CloseType.OVERDUE: 2,
    CloseType.ERROR: 3,
    CloseType.SPECIAL: 4,
}
TASK_CODES: Mapping[TaskKind, int] = {TaskKind.VERIFY: 1, TaskKind.CHECK: 2}

I1, I2, I4, I8 = np.dtype("<i1"), np.dtype("<i2"), np.dtype("<i4"), np.dtype("<i8")

SCHEMAS: Mapping[str, tuple[tuple[str, np.dtype[np.generic]], ...]] = {
    "case": (
        ("case_id", I4), ("reported", I4), ("source", I1), ("reporter", I4),
        ("self_handled", I1), ("category", I4), ("grid", I8), ("how", I2),
        ("intake_at", I4), ("intake_by", I4), ("intake_kind", I1), ("intake_in_time", I1),
        ("filed_at", I4), ("filed_by", I4), ("filed_in_time", I1), ("valid_at", I4),
        ("invalid_at", I4), ("closed_at", I4), ("closed_by", I4), ("closed_in_time", I1),
        ("close_type", I1), ("closed_dept", I4), ("callback_at", I4), ("satisfaction", I1),
    ),
    "round": (
        ("case_id", I4), ("number", I2), ("dept", I4), ("started", I4), ("rework", I1),
        ("dispatched_by", I4), ("dispatched_in_time", I1), ("deadline", I4),
        ("extended_at", I4), ("handled_at", I4), ("handled_in_time", I1), ("ended_at", I4),
        ("end", I1), ("checked_at", I4), ("check_passed", I1),
    ),
    "change": (
        ("case_id", I4), ("number", I2), ("at", I4), ("deadline", I4), ("kind", I1),
    ),
    "task": (
        ("task_id", I4), ("case_id", I4), ("kind", I1), ("assignee", I4), ("created", I4),
        ("deadline", I4), ("completed", I4), ("cancelled", I1), ("done_in_time", I1),
        ("requested_by", I4), ("requested_in_time", I1),
    ),
}  # fmt: skip
TABLES = tuple(SCHEMAS)

Columns = dict[str, npt.NDArray[Any]]


def t(value: int | None) -> int:
    """A fact time (Unix seconds) as a stored time."""
    if value is None:
        return _NEVER
    return max(min(value - EPOCH, _NEVER - 1), -(2**31))


def unix(stored: int) -> int | None:
    return None if stored == _NEVER else stored + EPOCH


def ref(value: int | None) -> int:
    return value or 0


def _grid(code: str | None) -> int:
    return int(code) if code and code.isdigit() else 0


def empty(table: str) -> Columns:
    return {name: np.zeros(0, dtype=dtype) for name, dtype in SCHEMAS[table]}


def rows_of(records: Iterable[CaseRecord]) -> dict[str, list[tuple[int, ...]]]:
    """The table rows of some case records (in case, round, task order)."""
    out: dict[str, list[tuple[int, ...]]] = {name: [] for name in TABLES}
    for record in records:
        c = record.case
        out["case"].append(
            (
                c.case_id, t(c.reported_at), SOURCE_CODES[c.source], ref(c.reporter_id),
                int(c.self_handled), ref(c.category_id), _grid(c.grid_code), c.hour_of_week,
                t(c.intake_at), ref(c.intake_by), int(c.intake_kind or 0), int(c.intake_in_time),
                t(c.filed_at), ref(c.filed_by), int(c.filed_in_time), t(c.valid_at),
                t(c.invalid_at), t(c.closed_at), ref(c.closed_by), int(c.closed_in_time),
                CLOSE_CODES.get(c.close_type, 0) if c.close_type else 0, ref(c.closed_department),
                t(c.callback_at), c.satisfaction or 0,
            )
        )  # fmt: skip
        for r in record.rounds:
            out["round"].append(
                (
                    r.case_id, r.number, r.department_id, t(r.started_at), int(r.rework),
                    ref(r.dispatched_by), int(r.dispatched_in_time), t(r.deadline),
                    t(r.extended_at), t(r.handled_at), int(r.handled_in_time), t(r.ended_at),
                    int(r.end or 0), t(r.checked_at),
                    -1 if r.check_passed is None else int(r.check_passed),
                )
            )  # fmt: skip
            for change in r.changes:
                out["change"].append(
                    (r.case_id, r.number, t(change.at), t(change.deadline), int(change.kind))
                )
        for task in record.tasks:
            out["task"].append(
                (
                    task.task_id, task.case_id, TASK_CODES[task.kind], task.assignee_id,
                    t(task.created_at), t(task.deadline), t(task.completed_at),
                    int(task.cancelled), int(task.done_in_time), ref(task.requested_by),
                    int(task.requested_in_time),
                )
            )  # fmt: skip
    return out


def columns_of(table: str, rows: Sequence[tuple[int, ...]]) -> Columns:
    schema = SCHEMAS[table]
    if not rows:
        return empty(table)
    transposed = list(zip(*rows, strict=True))
    return {
        name: np.asarray(values, dtype=dtype)
        for (name, dtype), values in zip(schema, transposed, strict=True)
    }


def sort_key(table: str, cols: Columns) -> npt.NDArray[np.intp]:
    """Row order within a table: by case, then round or task number."""
    if table == "case":
        return np.argsort(cols["case_id"], kind="stable")
    second = cols["task_id"] if table == "task" else cols["number"]
    third = cols["at"] if table == "change" else np.zeros(len(second), dtype=I4)
    return np.lexsort((third, second, cols["case_id"]))


def take(cols: Columns, index: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> Columns:
    return {name: values[index] for name, values in cols.items()}


def concat(parts: Sequence[Columns], table: str) -> Columns:
    if not parts:
        return empty(table)
    return {
        name: np.concatenate([p[name] for p in parts]).astype(dtype, copy=False)
        for name, dtype in SCHEMAS[table]
    }


def encode(table: str, cols: Columns) -> tuple[int, bytes]:
    """(row count, bytes) of one block."""
    n = len(cols["case_id"])
    chunks = []
    for name, dtype in SCHEMAS[table]:
        values = np.ascontiguousarray(cols[name], dtype=dtype)
        if len(values) != n:
            raise ValueError(f"column {table}.{name} has {len(values)} rows, not {n}")
        chunks.append(values.tobytes())
    return n, b"".join(chunks)


def decode(table: str, rows: int, data: bytes) -> Columns:
    cols: Columns = {}
    offset = 0
    for name, dtype in SCHEMAS[table]:
        size = rows * dtype.itemsize
        cols[name] = np.frombuffer(data, dtype=dtype, count=rows, offset=offset)
        offset += size
    if offset != len(data):
        raise ValueError(f"block of {table} has {len(data)} bytes, expected {offset}")
    return cols


@dataclass(frozen=True, slots=True)
class Codes:
    """Integer codes used by the engine, for readability at the call sites."""

    intake_accept: int = int(IntakeKind.ACCEPT)
    refused: int = int(RoundEnd.REFUSED)
    returned: int = int(RoundEnd.RETURNED)
    suspension: int = int(ChangeKind.SUSPENSION)
    verify: int = TASK_CODES[TaskKind.VERIFY]
    check: int = TASK_CODES[TaskKind.CHECK]
    inspector: int = SOURCE_CODES[Source.INSPECTOR]
    normal_close: int = CLOSE_CODES[CloseType.NORMAL]


CODES = Codes()
