"""The columnar evaluation engine: the rules of ``domain.evaluation.rules``, vectorised.

Every count is a boolean mask over one fact table (cases, rounds, deadline changes, tasks)
and an array naming each row's subject; a subject's count is a ``bincount`` of the subjects
of the rows the mask keeps. A drill-down keeps the rows of one subject instead. The engine is
tested against the plain rules on random facts (tests/unit/test_evaluation_engine.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from cityloop.adapters.evaluation import columns, counting
from cityloop.adapters.evaluation.columns import CODES, NEVER, PUBLIC_CODES, Columns, t
from cityloop.adapters.evaluation.scores import assemble, score_columns
from cityloop.domain.evaluation.facts import CaseRecord
from cityloop.domain.evaluation.results import (
    Assembled,
    CentreStats,
    CountTable,
    Hotspots,
    Item,
    StageTime,
)
from cityloop.domain.evaluation.rules import (
    BASE_COUNTS,
    SATISFACTION_POINTS,
    SATISFIED_LEVELS,
    Context,
    Window,
)
from cityloop.domain.evaluation.scheme import Scheme
from cityloop.domain.evaluation.subjects import CITY, REGION_KINDS, SubjectKind

Bools = npt.NDArray[Any]
Ints = npt.NDArray[Any]

_LEVEL_DIVISOR = {
    SubjectKind.GRID: 1,
    SubjectKind.COMMUNITY: 1_000,
    SubjectKind.STREET: 1_000_000,
    SubjectKind.DISTRICT: 1_000_000_000,
}
ZONE = 4_096  # case ids per zone-map block

_LEVEL_WIDTH = {
    SubjectKind.GRID: 15,
    SubjectKind.COMMUNITY: 12,
    SubjectKind.STREET: 9,
    SubjectKind.DISTRICT: 6,
}


def _last_per_group(groups: npt.NDArray[Any]) -> Bools:
    """For a sorted array of group ids, True at the last element of each group."""
    if len(groups) == 0:
        return np.zeros(0, dtype=bool)
    return np.append(groups[1:] != groups[:-1], True)


class FactArrays:
    """All facts of a database, in memory, sorted by case id (then round/task number)."""

    def __init__(self, tables: Mapping[str, Columns]) -> None:
        self.case = tables["case"]
        self.round = tables["round"]
        self.change = tables["change"]
        self.task = tables["task"]
        case_ids = self.case["case_id"]
        self.n_case = len(case_ids)
        self.r_case = np.searchsorted(case_ids, self.round["case_id"])
        self.t_case = np.searchsorted(case_ids, self.task["case_id"])
        round_key = self.round["case_id"].astype(np.int64) << 16 | self.round["number"]
        change_key = self.change["case_id"].astype(np.int64) << 16 | self.change["number"]
        self.ch_round = np.searchsorted(round_key, change_key)
        self.grid_codes, grid_index = np.unique(self.case["grid"], return_inverse=True)
        self.grid_index = grid_index.astype(np.int64)
        self.district = self.case["grid"] // 1_000_000_000
        self.public = np.isin(self.case["source"], PUBLIC_CODES)
        # Region codes of each level and, per grid, its region of that level.
        self.levels: dict[SubjectKind, tuple[Ints, Ints]] = {}
        for kind, divisor in _LEVEL_DIVISOR.items():
            codes, inverse = np.unique(self.grid_codes // divisor, return_inverse=True)
            self.levels[kind] = (codes.astype(np.int64), inverse.astype(np.int64))
        self._case_region: dict[SubjectKind, Ints] = {}
        self._region_codes: dict[SubjectKind, list[str]] = {}
        # (the context's inspector grids, inspectors, grid indexes) of the last evaluation
        self.pairs: tuple[Mapping[str, tuple[int, ...]], Ints, Ints] | None = None
        self._block_starts: dict[str, Ints] = {}
        self._zones: dict[tuple[str, str], tuple[Ints, Ints, Ints]] = {}
        # Every deadline a round can have (its first, and any change's): for zone maps.
        self.extra: dict[tuple[str, str], Ints] = {}
        low = self.round["deadline"].astype(np.int64)
        high = np.where(low == NEVER, -1, low)
        if len(self.change["case_id"]):
            changed = self.change["deadline"].astype(np.int64)
            np.minimum.at(low, self.ch_round, changed)
            np.maximum.at(high, self.ch_round, np.where(changed == NEVER, -1, changed))
        self.extra[("round", "deadline_low")] = low
        self.extra[("round", "deadline_high")] = high

    @classmethod
    def empty(cls) -> FactArrays:
        return cls({name: columns.empty(name) for name in columns.TABLES})

    @classmethod
    def from_records(cls, records: Iterable[CaseRecord]) -> FactArrays:
        """Arrays straight from extracted facts (tests, small tools)."""
        rows = columns.rows_of(records)
        tables = {}
        for name in columns.TABLES:
            cols = columns.columns_of(name, rows[name])
            tables[name] = columns.take(cols, columns.sort_key(name, cols))
        return cls(tables)

    # -- zone maps: the smallest and largest time of each block of rows ---

    def _blocks(self, table: str) -> Ints:
        """Start row of each block of case ids (rows are sorted by case id)."""
        found = self._block_starts.get(table)
        if found is None:
            ids = self.table(table)["case_id"]
            block = ids.astype(np.int64) // ZONE
            found = np.flatnonzero(np.r_[True, block[1:] != block[:-1]]) if len(ids) else block
            self._block_starts[table] = found
        return found

    def table(self, name: str) -> Columns:
        return {"case": self.case, "round": self.round, "change": self.change, "task": self.task}[
            name
        ]

    def zone(self, table: str, column: str) -> tuple[Ints, Ints, Ints]:
        """(block starts, smallest, largest) of ``column`` per block, NEVER left out."""
        key = (table, column)
        found = self._zones.get(key)
        if found is None:
            starts = self._blocks(table)
            values = self.table(table)[column] if column in self.table(table) else self.extra[key]
            if len(values) == 0:
                empty = np.zeros(0, dtype=np.int64)
                found = (empty, empty, empty)
            else:
                low = np.minimum.reduceat(values, starts)
                high = np.maximum.reduceat(np.where(values == NEVER, -1, values), starts)
                found = (starts, low.astype(np.int64), high.astype(np.int64))
            self._zones[key] = found
        return found

    def case_region(self, kind: SubjectKind) -> Ints:
        """Each case's region of ``kind``, as an index into that level's codes."""
        found = self._case_region.get(kind)
        if found is None:
            found = self._case_region[kind] = self.levels[kind][1][self.grid_index]
        return found

    def region_codes(self, kind: SubjectKind) -> list[str]:
        """The codes of the regions of ``kind`` that have facts ("" for none)."""
        found = self._region_codes.get(kind)
        if found is None:
            width = _LEVEL_WIDTH[kind]
            found = [str(c).zfill(width) if c else "" for c in self.levels[kind][0].tolist()]
            self._region_codes[kind] = found
        return found

    def region_code(self, kind: SubjectKind, index: int) -> str:
        return self.region_codes(kind)[index]

    def region_index(self, kind: SubjectKind, code: str) -> int | None:
        if not code.isdigit():
            return None
        codes = self.levels[kind][0]
        i = int(np.searchsorted(codes, int(code)))
        return i if i < len(codes) and codes[i] == int(code) else None


class Evaluation:
    """One period and scope over the facts; intermediate arrays are computed once."""

    def __init__(self, facts: FactArrays, window: Window, ctx: Context) -> None:
        self.f = facts
        self.window = window
        self.s, self.e, self.a = t(window.start), t(window.end), t(window.as_of)
        self.ctx = ctx
        self._cache: dict[str, Ints] = {}

    def cached(self, name: str, compute: Callable[[Evaluation], Ints]) -> Ints:
        """A row set shared by several kinds (computed once per evaluation)."""
        found = self._cache.get(name)
        if found is None:
            found = self._cache[name] = compute(self)
        return found

    # -- time tests ---

    def has(self, x: npt.NDArray[Any]) -> Bools:
        upper = min(self.e, self.a)
        inside: Bools = (x >= self.s) & (x < upper)
        return inside

    def select(self, table: str, *columns_: str, envelope: tuple[str, str] | None = None
               ) -> Ints | None:  # fmt: skip
        """Rows whose time in any of ``columns_`` (or within the ``(low, high)`` envelope
        columns) may lie in the period: every row of the blocks whose zone map meets it — a
        superset, tested row by row by the caller; ``None`` when that is every row."""
        upper = min(self.e, self.a)
        hit: Bools | None = None
        starts: Ints | None = None
        for column in columns_:
            starts, low, high = self.f.zone(table, column)
            meets = (high >= self.s) & (low < upper)
            hit = meets if hit is None else hit | meets
        if envelope is not None:
            starts, low, _ = self.f.zone(table, envelope[0])
            _, _, high = self.f.zone(table, envelope[1])
            meets = (high >= self.s) & (low < upper)
            hit = meets if hit is None else hit | meets
        if starts is None or hit is None:
            return np.zeros(0, dtype=np.int64)
        if hit.all():
            return None
        n = len(self.f.table(table)["case_id"])
        stops = np.r_[starts[1:], n]
        chosen = np.flatnonzero(hit)
        if len(chosen) == 0:
            return np.zeros(0, dtype=np.int64)
        lengths = stops[chosen] - starts[chosen]
        # the rows of the chosen blocks, without a Python loop
        offsets = np.repeat(starts[chosen] - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
        rows: Ints = np.arange(int(lengths.sum()), dtype=np.int64) + offsets
        return rows

    def within(self, table: str, column: str) -> Ints:
        """Rows whose ``column`` lies in the period (found through the zone maps), in scope."""
        rows = self.select(table, column)
        values = self.f.table(table)[column]
        upper = min(self.e, self.a)
        if rows is None:
            found: Ints = np.flatnonzero((values >= self.s) & (values < upper))
        else:
            picked = values[rows]
            found = rows[(picked >= self.s) & (picked < upper)]
        return self._scope_rows(table, found)

    def _scope_rows(self, table: str, rows: Ints) -> Ints:
        scope = self.c_scope
        if scope is None:
            return rows
        f = self.f
        if table == "case":
            return rows[scope[rows]]
        if table == "round":
            return rows[scope[f.r_case[rows]]]
        if table == "task":
            return rows[scope[f.t_case[rows]]]
        return rows[scope[f.r_case[f.ch_round[rows]]]]

    def known(self, x: npt.NDArray[Any]) -> Bools:
        return x < self.a

    # -- scope ---

    @cached_property
    def c_scope(self) -> Bools | None:
        if self.ctx.district is None:
            return None
        scope: Bools = self.f.district == int(self.ctx.district)
        return scope

    def _scoped(self, table: str, mask: Bools) -> Bools:
        scope = self.c_scope
        if scope is None:
            return mask
        if table == "case":
            return mask & scope
        if table == "round":
            return mask & scope[self.f.r_case]
        if table == "task":
            return mask & scope[self.f.t_case]
        return mask & scope[self.f.r_case[self.f.ch_round]]

    # -- rounds ---

    @cached_property
    def r_cancelled(self) -> Bools:
        r = self.f.round
        cancelled: Bools = (r["end"] != 0) & self.known(r["ended_at"])
        return cancelled

    @cached_property
    def r_deadline(self) -> npt.NDArray[np.int32]:
        """The deadline in force at ``as_of`` (NEVER while paused)."""
        deadline = self.f.round["deadline"].copy()
        ch = self.f.change
        index = np.nonzero(ch["at"] < self.a)[0]
        if len(index):
            rounds = self.f.ch_round[index]
            last = index[_last_per_group(rounds)]
            deadline[self.f.ch_round[last]] = ch["deadline"][last]
        return deadline

    @cached_property
    def r_handled(self) -> Bools:
        return self.known(self.f.round["handled_at"])

    @cached_property
    def r_due(self) -> Bools:
        r = self.f.round
        in_time = r["handled_in_time"].astype(bool) & self.r_handled
        settled = np.where(in_time, r["handled_at"], self.r_deadline)
        return ~self.r_cancelled & self.has(settled)

    @cached_property
    def r_dispatched(self) -> Bools:
        r = self.f.round
        dispatched: Bools = (r["rework"] == 0) & self.has(r["started"])
        return dispatched

    @cached_property
    def r_overdue_open(self) -> Bools:
        r = self.f.round
        return (
            self.known(r["started"])
            & ~self.r_handled
            & ~self.r_cancelled
            & (self.r_deadline < self.a)
        )

    @cached_property
    def c_overdue_unclosed(self) -> Bools:
        c, r = self.f.case, self.f.round
        started = np.nonzero(self.known(r["started"]))[0]
        latest = started[_last_per_group(self.f.r_case[started])]
        over = ~self.r_cancelled[latest] & np.where(
            self.r_handled[latest],
            r["handled_in_time"][latest] == 0,
            self.r_deadline[latest] < self.a,
        )
        flag = np.zeros(self.f.n_case, dtype=bool)
        flag[self.f.r_case[latest]] = over
        return (
            flag
            & self.known(c["filed_at"])
            & ~self.known(c["closed_at"])
            & ~self.known(c["invalid_at"])
        )

    # -- tasks ---

    @cached_property
    def t_due(self) -> Bools:
        k = self.f.task
        done = k["done_in_time"].astype(bool) & self.known(k["completed"])
        settled = np.where(done, k["completed"], k["deadline"])
        cancelled = k["cancelled"].astype(bool) & self.known(k["completed"])
        return ~cancelled & self.has(settled)

    # -- cases ---

    @cached_property
    def c_filed(self) -> Bools:
        return self.has(self.f.case["filed_at"])

    @cached_property
    def c_closed(self) -> Bools:
        c = self.f.case
        closed: Bools = (c["filed_at"] != NEVER) & self.has(c["closed_at"])
        return closed

    @cached_property
    def c_valid(self) -> Bools:
        c = self.f.case
        return self.known(c["valid_at"]) & ~self.known(c["invalid_at"])

    @cached_property
    def inspector_pairs(self) -> tuple[Ints, Ints]:
        """(inspector, grid index) for every responsible grid that has facts."""
        cached = self.f.pairs
        if cached is not None and cached[0] is self.ctx.inspector_grids:
            return cached[1], cached[2]
        codes: list[int] = []
        inspectors: list[int] = []
        for code, ids in self.ctx.inspector_grids.items():
            if code.isdigit():
                codes.extend([int(code)] * len(ids))
                inspectors.extend(ids)
        wanted = np.array(codes, dtype=np.int64)
        grid_codes = self.f.grid_codes
        pos = np.searchsorted(grid_codes, wanted)
        pos = np.minimum(pos, max(len(grid_codes) - 1, 0))
        hit = (grid_codes[pos] == wanted) if len(grid_codes) else np.zeros(len(wanted), bool)
        found = np.array(inspectors, dtype=np.int64)[hit], pos[hit].astype(np.int64)
        self.f.pairs = (self.ctx.inspector_grids, *found)
        return found

    @cached_property
    def grid_table(self) -> dict[str, Ints]:
        return counting.grid_table(self)

    @cached_property
    def c_callback(self) -> Bools:
        c = self.f.case
        return self.has(c["callback_at"]) & (c["satisfaction"] > 0)


# -- the rules, vectorised: (table, mask) per count ---

Mask = Callable[[Evaluation], Bools]


MASKS: dict[str, tuple[str, Mask]] = {
    # inspector
    "reported": ("case", lambda v: (v.f.case["source"] == CODES.inspector)
                 & v.has(v.f.case["reported"])),
    "valid_reported": ("case", lambda v: (v.f.case["source"] == CODES.inspector)
                       & v.has(v.f.case["reported"]) & v.c_valid),
    "verify_due": ("task", lambda v: v.t_due & (v.f.task["kind"] == CODES.verify)),
    "verified_in_time": ("task", lambda v: v.t_due & (v.f.task["kind"] == CODES.verify)
                         & (v.f.task["done_in_time"] == 1)),
    "check_due": ("task", lambda v: v.t_due & (v.f.task["kind"] == CODES.check)),
    "checked_in_time": ("task", lambda v: v.t_due & (v.f.task["kind"] == CODES.check)
                        & (v.f.task["done_in_time"] == 1)),
    "grid_filed": ("case", lambda v: v.c_filed),
    "missed": ("case", lambda v: v.c_filed & v.f.public),
    # operator
    "intake": ("case", lambda v: (v.f.case["intake_by"] != 0) & v.has(v.f.case["intake_at"])),
    "intake_in_time": ("case", lambda v: (v.f.case["intake_by"] != 0)
                       & v.has(v.f.case["intake_at"]) & (v.f.case["intake_in_time"] == 1)),
    "verify_sent": ("task", lambda v: (v.f.task["kind"] == CODES.verify)
                    & (v.f.task["requested_by"] != 0) & v.has(v.f.task["created"])),
    "verify_sent_in_time": ("task", lambda v: (v.f.task["kind"] == CODES.verify)
                            & (v.f.task["requested_by"] != 0) & v.has(v.f.task["created"])
                            & (v.f.task["requested_in_time"] == 1)),
    "check_sent": ("task", lambda v: (v.f.task["kind"] == CODES.check)
                   & (v.f.task["requested_by"] != 0) & v.has(v.f.task["created"])),
    "check_sent_in_time": ("task", lambda v: (v.f.task["kind"] == CODES.check)
                           & (v.f.task["requested_by"] != 0) & v.has(v.f.task["created"])
                           & (v.f.task["requested_in_time"] == 1)),
    # shift lead
    "filed": ("case", lambda v: v.c_filed),
    "filed_in_time": ("case", lambda v: v.c_filed & (v.f.case["filed_in_time"] == 1)),
    "voided": ("case", lambda v: v.c_filed & v.known(v.f.case["invalid_at"])),
    "closed": ("case", lambda v: v.c_closed),
    "closed_in_time": ("case", lambda v: v.c_closed & (v.f.case["closed_in_time"] == 1)),
    # dispatcher
    "dispatched": ("round", lambda v: v.r_dispatched),
    "dispatched_in_time": ("round", lambda v: v.r_dispatched
                           & (v.f.round["dispatched_in_time"] == 1)),
    "accurate_dispatched": ("round", lambda v: v.r_dispatched & ~v.r_cancelled),
    # departments
    "assigned": ("round", lambda v: v.r_dispatched & ~v.r_cancelled),
    "due": ("round", lambda v: v.r_due),
    "handled": ("round", lambda v: v.r_due & v.r_handled),
    "handled_on_time": ("round", lambda v: v.r_due & v.r_handled
                        & (v.f.round["handled_in_time"] == 1)),
    "rework": ("round", lambda v: v.r_due & (v.f.round["rework"] == 1)),
    "extended": ("round", lambda v: v.r_due & v.known(v.f.round["extended_at"])),
    "suspended": ("change", lambda v: (v.f.change["kind"] == CODES.suspension)
                  & v.has(v.f.change["at"])),
    "returned": ("round", lambda v: (v.f.round["end"] == CODES.returned)
                 & v.has(v.f.round["ended_at"])),
    "refused": ("round", lambda v: (v.f.round["end"] == CODES.refused)
                & v.has(v.f.round["ended_at"])),
    "overdue_open": ("round", lambda v: v.r_overdue_open),
    # regions
    "public_filed": ("case", lambda v: v.c_filed & v.f.public),
    "closed_on_time": ("case", lambda v: v.c_closed
                       & (v.f.case["close_type"] == CODES.normal_close)),
    "overdue_unclosed": ("case", lambda v: v.c_overdue_unclosed),
    # centre
    "callbacks": ("case", lambda v: v.c_callback),
    "satisfied": ("case", lambda v: v.c_callback
                  & np.isin(v.f.case["satisfaction"], tuple(SATISFIED_LEVELS))),
}  # fmt: skip
_CENTRE_REPORTS: dict[str, tuple[str, Mask]] = {
    "reported": ("case", lambda v: v.has(v.f.case["reported"])),
    "valid_reported": ("case", lambda v: v.has(v.f.case["reported"]) & v.c_valid),
}
_POINTS = np.zeros(6, dtype=np.int64)
for _level, _points in SATISFACTION_POINTS.items():
    _POINTS[_level] = _points


def _mask(kind: SubjectKind, name: str) -> tuple[str, Mask]:
    if kind is SubjectKind.CENTRE and name in _CENTRE_REPORTS:
        return _CENTRE_REPORTS[name]
    if kind is SubjectKind.DEPARTMENT and name == "closed":
        return "case", lambda v: v.c_closed & (v.f.case["closed_dept"] != 0)
    return MASKS[name]


def _subjects(v: Evaluation, kind: SubjectKind, table: str, name: str) -> Ints | None:
    """Each row's subject (an id, or a dense region index); ``None`` for the grid rules."""
    f = v.f
    if kind is SubjectKind.INSPECTOR:
        if name in ("grid_filed", "missed"):
            return None
        return f.case["reporter"] if table == "case" else f.task["assignee"]
    if kind is SubjectKind.OPERATOR:
        return f.case["intake_by"] if table == "case" else f.task["requested_by"]
    if kind is SubjectKind.SHIFT_LEAD:
        return f.case["closed_by" if name.startswith("closed") else "filed_by"]
    if kind is SubjectKind.DISPATCHER:
        return f.round["dispatched_by"]
    if kind is SubjectKind.DEPARTMENT:
        if table == "case":
            return f.case["closed_dept"]
        if table == "change":
            return f.round["dept"][f.ch_round]
        return f.round["dept"]
    if kind in REGION_KINDS:
        region = f.case_region(kind)
        if table == "case":
            return region
        if table == "round":
            return region[f.r_case]
        return region[f.r_case[f.ch_round]]
    size = {"case": f.n_case, "round": len(f.r_case), "task": len(f.t_case)}.get(
        table, len(f.ch_round)
    )
    return np.zeros(size, dtype=np.int64)


def _bincount(subjects: npt.NDArray[Any], mask: Bools, size: int) -> Ints:
    picked = subjects[mask]
    if len(picked) == 0:
        return np.zeros(size, dtype=np.int64)
    return np.bincount(picked, minlength=size)[:size].astype(np.int64)


class Engine:
    """Counts and drill-downs over one :class:`FactArrays`."""

    def __init__(self, facts: FactArrays) -> None:
        self.facts = facts
        self._last: Evaluation | None = None
        self._lock = threading.Lock()

    def evaluation(self, window: Window, ctx: Context) -> Evaluation:
        """The evaluation of ``window``; reused while the same context asks again (the
        kinds of one report share their intermediate arrays)."""
        with self._lock:
            last = self._last
            if last is not None and last.window == window and last.ctx is ctx:
                return last
            self._last = Evaluation(self.facts, window, ctx)
            return self._last

    # -- counts ---

    def counts(self, kind: SubjectKind, window: Window, ctx: Context) -> dict[str, dict[str, int]]:
        """The base counts of every subject of ``kind`` with any activity (as
        :func:`cityloop.domain.evaluation.rules.evaluate`)."""
        return self.table(kind, window, ctx).rows()

    def table(self, kind: SubjectKind, window: Window, ctx: Context) -> CountTable:
        """:meth:`counts` by column (no dictionary per subject)."""
        v = self.evaluation(window, ctx)
        names = BASE_COUNTS[kind]
        size = self._size(kind, ctx)
        found = counting.count(v, kind, size)
        matrix = np.vstack([found[name] for name in names])
        if kind is SubjectKind.DEPARTMENT:
            matrix = _roll_up(matrix, ctx.department_parent)
        active = np.flatnonzero(matrix.any(axis=0))
        if kind in REGION_KINDS:
            codes = self.facts.region_codes(kind)
            keys = [codes[i] for i in active.tolist()]
        else:
            keys = [self._key(kind, i, ctx) for i in active.tolist()]
        keep = [i for i, key in enumerate(keys) if key]
        picked = matrix[:, active[keep]] if len(keep) != len(keys) else matrix[:, active]
        return CountTable(
            [keys[i] for i in keep],
            {name: picked[row].tolist() for row, name in enumerate(names)},
        )

    def _size(self, kind: SubjectKind, ctx: Context) -> int:
        f = self.facts
        if kind in REGION_KINDS:
            return len(f.levels[kind][0])
        if kind is SubjectKind.CENTRE:
            return 1
        if kind is SubjectKind.DEPARTMENT:
            known = [*ctx.department_parent, *(p for p in ctx.department_parent.values() if p)]
            arrays = [f.round["dept"], f.case["closed_dept"]]
        elif kind is SubjectKind.INSPECTOR:
            known = [i for ids in ctx.inspector_grids.values() for i in ids]
            arrays = [f.case["reporter"], f.task["assignee"]]
        elif kind is SubjectKind.OPERATOR:
            known, arrays = [], [f.case["intake_by"], f.task["requested_by"]]
        elif kind is SubjectKind.SHIFT_LEAD:
            known, arrays = [], [f.case["filed_by"], f.case["closed_by"]]
        else:
            known, arrays = [], [f.round["dispatched_by"]]
        top = max([0, *known, *(int(a.max()) for a in arrays if len(a))])
        return top + 1

    def _key(self, kind: SubjectKind, index: int, ctx: Context) -> str:
        if kind in REGION_KINDS:
            return self.facts.region_codes(kind)[index]
        if kind is SubjectKind.CENTRE:
            return ctx.district or CITY
        return str(index) if index else ""

    # -- drill-down ---

    def items(
        self, kind: SubjectKind, key: str, name: str, window: Window, ctx: Context
    ) -> list[Item]:
        """The rows behind base count ``name`` of subject ``key``."""
        v = self.evaluation(window, ctx)
        f = self.facts
        if kind is SubjectKind.CENTRE and name == "satisfaction_points":
            name = "callbacks"
        table, rule = _mask(kind, name)
        mask = v._scoped(table, rule(v))
        subjects = _subjects(v, kind, table, name)
        if subjects is None:
            grids = [
                i
                for code, inspectors in ctx.inspector_grids.items()
                if key.isdigit() and int(key) in inspectors
                for i in [_grid_position(f, code)]
                if i is not None
            ]
            mask = mask & np.isin(f.grid_index, grids)
        elif kind in REGION_KINDS:
            index = f.region_index(kind, key)
            if index is None:
                return []
            mask = mask & (subjects == index)
        elif kind is SubjectKind.DEPARTMENT:
            if not key.isdigit():
                return []
            members = _descendants(int(key), ctx.department_parent)
            mask = mask & np.isin(subjects, list(members))
        elif kind is not SubjectKind.CENTRE:
            if not key.isdigit():
                return []
            mask = mask & (subjects == int(key))
        rows = np.nonzero(mask)[0]
        return _items(f, table, rows)

    # -- scores ---

    def scores(
        self,
        kind: SubjectKind,
        columns: Mapping[str, Sequence[int]],
        scheme: Scheme,
        month_factor: Fraction,
        region_classes: Sequence[str | None] | None = None,
    ) -> list[tuple[Decimal | None, str | None, str | None]]:
        return score_columns(kind, columns, scheme, month_factor, region_classes)

    def assemble(
        self,
        kind: SubjectKind,
        keys: Sequence[str],
        table: CountTable,
        extra: Mapping[str, Sequence[int]],
        scheme: Scheme,
        month_factor: Fraction,
        region_classes: Sequence[str | None] | None = None,
    ) -> Assembled:
        return assemble(kind, keys, table, extra, scheme, month_factor, region_classes)

    # -- the centre and hot spots ---

    def centre(self, window: Window, ctx: Context, day_starts: Sequence[int]) -> CentreStats:
        return centre_stats(self.evaluation(window, ctx), day_starts)

    def hotspots(self, window: Window, ctx: Context, limit: int) -> Hotspots:
        return hotspots(self.evaluation(window, ctx), limit)


def _grid_position(f: FactArrays, code: str) -> int | None:
    if not code.isdigit():
        return None
    i = int(np.searchsorted(f.grid_codes, int(code)))
    return i if i < len(f.grid_codes) and f.grid_codes[i] == int(code) else None


def _descendants(root: int, parent: Mapping[int, int | None]) -> set[int]:
    members = {root}
    changed = True
    while changed:
        changed = False
        for child, up in parent.items():
            if up in members and child not in members:
                members.add(child)
                changed = True
    return members


def _roll_up(matrix: Ints, parent: Mapping[int, int | None]) -> Ints:
    """Add each department's counts to every evaluated department above it."""
    if not parent:
        return matrix
    depth: dict[int, int] = {}

    def level(d: int, seen: frozenset[int] = frozenset()) -> int:
        if d not in depth:
            up = parent.get(d)
            depth[d] = (
                0 if up is None or up not in parent or up in seen else level(up, seen | {d}) + 1
            )
        return depth[d]

    out = matrix.copy()
    for d in sorted(parent, key=level, reverse=True):
        up = parent.get(d)
        if up is not None and up in parent and up < out.shape[1] and d < out.shape[1]:
            out[:, up] += out[:, d]
    return out


def _items(f: FactArrays, table: str, rows: npt.NDArray[np.intp]) -> list[Item]:
    if table == "case":
        return [Item(int(c)) for c in f.case["case_id"][rows]]
    if table == "task":
        return [
            Item(int(c), task_id=int(k))
            for c, k in zip(f.task["case_id"][rows], f.task["task_id"][rows], strict=True)
        ]
    if table == "change":
        rows = f.ch_round[rows]
    r = f.round
    return [
        Item(int(c), round=int(n), department_id=int(d))
        for c, n, d in zip(r["case_id"][rows], r["number"][rows], r["dept"][rows], strict=True)
    ]


# -- the centre (§7.6) ---


def _stage(durations: npt.NDArray[Any]) -> StageTime:
    values = np.sort(durations[durations >= 0].astype(np.int64))
    n = len(values)
    if n == 0:
        return StageTime(0, None, None)
    rank = -(-9 * n // 10)  # ceil(0.9 n)
    return StageTime(n, float(values.sum()) / n, int(values[rank - 1]))


def centre_stats(v: Evaluation, day_starts: Sequence[int]) -> CentreStats:
    f, c, r = v.f, v.f.case, v.f.round
    starts = np.array([t(s) for s in day_starts], dtype=np.int64)
    days = max(len(starts) - 1, 0)

    def per_day(times: npt.NDArray[Any], mask: Bools) -> list[int]:
        picked = times[mask].astype(np.int64)
        index = np.searchsorted(starts, picked, side="right") - 1
        index = index[(index >= 0) & (index < days)]
        return [int(x) for x in np.bincount(index, minlength=days)[:days]]

    scope_c = v._scoped("case", np.ones(f.n_case, dtype=bool))
    scope_r = v._scoped("round", np.ones(len(r["case_id"]), dtype=bool))
    accepted = (c["intake_kind"] == CODES.intake_accept) & v.has(c["intake_at"]) & scope_c
    throughput = {
        "reported": per_day(c["reported"], v.has(c["reported"]) & scope_c),
        "accepted": per_day(c["intake_at"], accepted),
        "filed": per_day(c["filed_at"], v.c_filed & scope_c),
        "dispatched": per_day(r["started"], v.r_dispatched & scope_r),
        "handled": per_day(r["handled_at"], v.has(r["handled_at"]) & scope_r),
        "checked": per_day(r["checked_at"], v.has(r["checked_at"]) & scope_r),
        "closed": per_day(c["closed_at"], v.c_closed & scope_c),
    }
    reports = v.has(c["reported"]) & scope_c
    sources: dict[str, tuple[int, int]] = {}
    for code in np.unique(c["source"][reports]).tolist():
        of_source = c["source"] == code
        sources[columns.SOURCE_NAMES[int(code)]] = (
            int((reports & of_source).sum()),
            int((v.c_filed & scope_c & of_source).sum()),
        )
    # Stage times end in the period; the continuous clock, to the second.
    acc = c["intake_kind"] == CODES.intake_accept
    filed = v.c_filed & scope_c & acc
    first = (r["number"] == 1) & (r["rework"] == 0) & v.has(r["started"]) & scope_r
    handled = v.has(r["handled_at"]) & scope_r
    checked = v.has(r["checked_at"]) & (r["handled_at"] != NEVER) & scope_r
    closed = v.c_closed & scope_c
    last_check = np.full(f.n_case, NEVER, dtype=np.int64)
    with_check = np.nonzero(r["checked_at"] != NEVER)[0]
    if len(with_check):
        order = with_check[np.argsort(r["checked_at"][with_check], kind="stable")]
        last_check[f.r_case[order]] = r["checked_at"][order]
    close_after_check = closed & (last_check != NEVER)
    stages = {
        "accept": _stage(c["intake_at"][accepted].astype(np.int64) - c["reported"][accepted]),
        "file": _stage(c["filed_at"][filed].astype(np.int64) - c["intake_at"][filed]),
        "dispatch": _stage(r["started"][first].astype(np.int64) - c["filed_at"][f.r_case[first]]),
        "dispose": _stage(r["handled_at"][handled].astype(np.int64) - r["started"][handled]),
        "check": _stage(r["checked_at"][checked].astype(np.int64) - r["handled_at"][checked]),
        "close": _stage(
            c["closed_at"][close_after_check].astype(np.int64) - last_check[close_after_check]
        ),
        "total": _stage(c["closed_at"][closed].astype(np.int64) - c["reported"][closed]),
    }
    called = v._scoped("case", v.c_callback)
    levels = np.bincount(c["satisfaction"][called].astype(np.int64), minlength=6)
    satisfaction = {level: int(levels[level]) for level in range(1, 6)}
    return CentreStats(throughput, sources, stages, satisfaction)


# -- hot spots (§7.6) ---


def hotspots(v: Evaluation, limit: int) -> Hotspots:
    f, c = v.f, v.f.case
    filed = v._scoped("case", v.c_filed)
    closed = v._scoped("case", v.c_closed)
    per_grid = _bincount(f.grid_index, filed, len(f.grid_codes))
    closed_grid = _bincount(f.grid_index, closed, len(f.grid_codes))
    order = np.lexsort((f.grid_codes, -per_grid))
    grids = [
        (str(int(f.grid_codes[i])).zfill(15), int(per_grid[i]), int(closed_grid[i]))
        for i in order[:limit].tolist()
        if per_grid[i] > 0 and f.grid_codes[i] != 0
    ]
    cats = c["category"][filed].astype(np.int64)
    cat_codes, cat_counts = np.unique(cats, return_counts=True)
    cat_order = np.lexsort((cat_codes, -cat_counts))
    categories = [
        (int(cat_codes[i]), int(cat_counts[i])) for i in cat_order[:limit] if cat_codes[i] != 0
    ]
    how = np.bincount(c["how"][filed].astype(np.int64), minlength=168)[:168].astype(int).tolist()
    # Repeat problems: the same class of problem filed twice or more in one unit grid.
    rows = np.nonzero(filed & (c["grid"] != 0) & (c["category"] != 0))[0]
    pair = f.grid_index[rows] * (int(c["category"].max(initial=0)) + 1) + c["category"][rows]
    keys, inverse, counts = np.unique(pair, return_inverse=True, return_counts=True)
    repeated = np.nonzero(counts >= 2)[0]
    chosen = repeated[np.lexsort((keys[repeated], -counts[repeated]))][:limit]
    repeats: list[tuple[str, int, list[int]]] = []
    for k in chosen.tolist():
        members = rows[inverse == k]
        first = members[0]
        repeats.append(
            (
                str(int(c["grid"][first])).zfill(15),
                int(c["category"][first]),
                sorted(int(x) for x in c["case_id"][members]),
            )
        )
    return Hotspots(grids, categories, how, repeats)
