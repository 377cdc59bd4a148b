"""Keep the evaluation facts up to date, and load them.

``refresh`` folds every case with new timeline lines since the last refresh into its facts
(``domain.evaluation.extract``) and rewrites the blocks those cases live in. Finding the cases:
timeline lines with an id above the last one folded in, plus — because PostgreSQL may commit
a lower id after a higher one — every line dated within :data:`LATE_COMMIT` of the newest line
seen. Folding a case again is harmless: its facts are recomputed from its whole timeline.
A long history is folded :data:`FOLD_EVENTS` timeline lines per transaction, resuming where
the last committed step ended.

Refreshes are serialised by the state row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has
one writer). A changed :data:`~cityloop.adapters.evaluation.columns.FORMAT` rebuilds all.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

import numpy as np
from sqlalchemy import Connection, Table, delete, func, insert, select, update

from cityloop.adapters.db.models_evaluation import EvalFactBlockRow, EvalStateRow
from cityloop.adapters.db.repositories.cases import case_from_row, event_from_row
from cityloop.adapters.db.repositories.tasks import task_from_row
from cityloop.adapters.evaluation import columns
from cityloop.adapters.evaluation.columns import BLOCK, TABLES, Columns
from cityloop.domain.case import Case, CaseEvent, Task
from cityloop.domain.evaluation.extract import extract
from cityloop.domain.evaluation.facts import CaseRecord

LATE_COMMIT = timedelta(minutes=5)
BATCH = 2_000
# Timeline lines folded per transaction: a long history is folded in steps of a few seconds
# each, so that writers get the lock between them.
FOLD_EVENTS = 50_000

blocks: Table = EvalFactBlockRow.__table__  # type: ignore[assignment]
state: Table = EvalStateRow.__table__  # type: ignore[assignment]


def _tables(conn: Connection) -> tuple[Table, Table, Table]:
    meta = blocks.metadata
    return meta.tables["cases"], meta.tables["case_events"], meta.tables["tasks"]


def read_state(conn: Connection, *, lock: bool = False) -> Any:
    stmt = select(state).where(state.c.id == 1)
    if lock:
        stmt = stmt.with_for_update()
    return conn.execute(stmt).first()


def stale(conn: Connection) -> bool:
    """Whether new timeline lines wait to be folded into the facts."""
    _, events, _ = _tables(conn)
    row = read_state(conn)
    newest = conn.execute(select(func.max(events.c.id))).scalar()
    if row is None or row.format != columns.FORMAT:
        return bool(newest is not None or row is not None)
    return bool((newest or 0) > row.last_event_id)


def blocks_version(conn: Connection) -> tuple[str, int]:
    """(generation, version) of the stored blocks: a cache keyed on it is current."""
    row = read_state(conn)
    return (str(row.generation), int(row.blocks_version)) if row is not None else ("", 0)


def refresh(
    conn: Connection, tz: tzinfo, *, now: datetime | None = None, max_events: int | None = None
) -> int:
    """Fold new timeline lines into the facts; returns how many cases were refolded.

    With ``max_events``, only the cases of the next ``max_events`` timeline lines are folded
    (each from its whole timeline) and the state moves on to the last of those lines: a long
    history is folded in several transactions, and a fold that stops half-way goes on from
    where its last transaction ended. Call again while :func:`stale`.
    """
    _, events, _ = _tables(conn)
    row = read_state(conn, lock=True)
    if row is None:
        conn.execute(
            insert(state).values(
                id=1,
                format=columns.FORMAT,
                generation=uuid.uuid4().hex,
                last_event_id=0,
                blocks_version=0,
            )
        )
        row = read_state(conn, lock=True)
    if row.format != columns.FORMAT:  # rebuild: drop every block, fold from the first line
        conn.execute(delete(blocks))
        conn.execute(
            update(state)
            .where(state.c.id == 1)
            .values(format=columns.FORMAT, last_event_id=0, last_event_at=None)
        )
        row = read_state(conn, lock=True)
    top_id = int(conn.execute(select(func.max(events.c.id))).scalar() or 0)
    if top_id <= row.last_event_id:
        return 0
    last_id = top_id if max_events is None else min(top_id, row.last_event_id + max_events)
    condition = events.c.id > row.last_event_id
    if row.last_event_at is not None:
        condition = condition | (events.c.at >= row.last_event_at - LATE_COMMIT)
    changed = sorted(
        {
            r[0]
            for r in conn.execute(
                select(events.c.case_id).where(condition, events.c.id <= last_id).distinct()
            )
        }
    )
    newest_at = conn.execute(
        select(func.max(events.c.at)).where(events.c.id > row.last_event_id, events.c.id <= last_id)
    ).scalar()
    by_block: dict[int, list[int]] = defaultdict(list)
    for case_id in changed:
        by_block[case_id // BLOCK].append(case_id)
    version = int(row.blocks_version) + 1
    for block_no, ids in sorted(by_block.items()):
        records = list(_records(conn, ids, tz))
        _write_block(conn, block_no, ids, records, version)
    latest_at = max(filter(None, [row.last_event_at, newest_at]), default=None)
    conn.execute(
        update(state)
        .where(state.c.id == 1)
        .values(
            last_event_id=last_id,
            last_event_at=latest_at,
            blocks_version=version if by_block else row.blocks_version,
            refreshed_at=now,
        )
    )
    return len(changed)


def _records(conn: Connection, ids: Sequence[int], tz: tzinfo) -> Iterable[CaseRecord]:
    cases, events, tasks = _tables(conn)
    for start in range(0, len(ids), BATCH):
        chunk = list(ids[start : start + BATCH])
        lo, hi = chunk[0], chunk[-1]
        dense = hi - lo + 1 <= 2 * len(chunk)
        where_case = (cases.c.id.between(lo, hi)) if dense else cases.c.id.in_(chunk)
        wanted = set(chunk)
        found: dict[int, Case] = {
            r.id: case_from_row(r) for r in conn.execute(select(cases).where(where_case))
        }
        where_event = events.c.case_id.between(lo, hi) if dense else events.c.case_id.in_(chunk)
        timeline: dict[int, list[CaseEvent]] = defaultdict(list)
        for r in conn.execute(
            select(events).where(where_event).order_by(events.c.case_id, events.c.seq)
        ):
            timeline[r.case_id].append(event_from_row(r))
        where_task = tasks.c.case_id.between(lo, hi) if dense else tasks.c.case_id.in_(chunk)
        jobs: dict[int, list[Task]] = defaultdict(list)
        for r in conn.execute(select(tasks).where(where_task).order_by(tasks.c.id)):
            jobs[r.case_id].append(task_from_row(r))
        for case_id in chunk:
            case = found.get(case_id)
            if case is not None and case_id in wanted:
                yield extract(case, timeline.get(case_id, []), jobs.get(case_id, []), tz)


def _read_block(conn: Connection, block_no: int) -> dict[str, Columns]:
    out = {name: columns.empty(name) for name in TABLES}
    for r in conn.execute(
        select(blocks.c.table_name, blocks.c.row_count, blocks.c.data).where(
            blocks.c.block_no == block_no
        )
    ):
        if r.table_name in out:
            out[r.table_name] = columns.decode(r.table_name, r.row_count, bytes(r.data))
    return out


def _write_block(
    conn: Connection,
    block_no: int,
    ids: Sequence[int],
    records: Sequence[CaseRecord],
    version: int,
) -> None:
    current = _read_block(conn, block_no)
    fresh = columns.rows_of(records)
    drop = np.asarray(sorted(ids), dtype=np.int64)
    for name in TABLES:
        old = current[name]
        keep = ~np.isin(old["case_id"], drop)
        new = columns.columns_of(name, fresh[name])
        merged = columns.concat([columns.take(old, keep), new], name)
        merged = columns.take(merged, columns.sort_key(name, merged))
        rows, data = columns.encode(name, merged)
        exists = conn.execute(
            select(blocks.c.block_no).where(
                blocks.c.table_name == name, blocks.c.block_no == block_no
            )
        ).first()
        values = {"version": version, "row_count": rows, "data": data}
        if exists:
            conn.execute(
                update(blocks)
                .where(blocks.c.table_name == name, blocks.c.block_no == block_no)
                .values(**values)
            )
        else:
            conn.execute(insert(blocks).values(table_name=name, block_no=block_no, **values))


def write_columns(conn: Connection, tables: dict[str, Columns], *, version: int = 1) -> None:
    """Store whole fact tables (sorted by case id) as blocks — for bulk loads and benchmarks."""
    conn.execute(delete(blocks))
    for name in TABLES:
        cols = tables[name]
        block_of = cols["case_id"].astype(np.int64) // BLOCK
        if len(block_of) == 0:
            continue
        bounds = np.flatnonzero(np.diff(block_of)) + 1
        starts = np.concatenate([[0], bounds])
        stops = np.concatenate([bounds, [len(block_of)]])
        for lo, hi in zip(starts.tolist(), stops.tolist(), strict=True):
            part = {k: v[lo:hi] for k, v in cols.items()}
            rows, data = columns.encode(name, part)
            conn.execute(
                insert(blocks).values(
                    table_name=name,
                    block_no=int(block_of[lo]),
                    version=version,
                    row_count=rows,
                    data=data,
                )
            )
    values = {"format": columns.FORMAT, "blocks_version": version, "generation": uuid.uuid4().hex}
    if read_state(conn) is None:
        conn.execute(insert(state).values(id=1, last_event_id=0, **values))
    else:
        conn.execute(update(state).where(state.c.id == 1).values(**values))


def block_versions(conn: Connection) -> dict[tuple[str, int], int]:
    return {
        (r.table_name, r.block_no): int(r.version)
        for r in conn.execute(select(blocks.c.table_name, blocks.c.block_no, blocks.c.version))
    }


def load_blocks(
    conn: Connection, wanted: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], tuple[int, Columns]]:
    """The columns of some blocks, with their versions."""
    wanted = list(wanted)
    out: dict[tuple[str, int], tuple[int, Columns]] = {}
    by_table: dict[str, list[int]] = defaultdict(list)
    for name, block_no in wanted:
        by_table[name].append(block_no)
    for name, numbers in by_table.items():
        for start in range(0, len(numbers), 500):
            chunk = numbers[start : start + 500]
            for r in conn.execute(
                select(blocks).where(blocks.c.table_name == name, blocks.c.block_no.in_(chunk))
            ):
                out[(name, r.block_no)] = (
                    int(r.version),
                    columns.decode(name, r.row_count, bytes(r.data)),
                )
    return out
