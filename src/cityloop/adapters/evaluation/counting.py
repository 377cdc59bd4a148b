"""Counting every subject of a kind in as few passes over the facts as possible.

Counts that select the same rows share one pass: the rows are picked once, each gets a small
code made of its yes/no answers (in time? voided? reworked? …) and one ``bincount`` over
``subject × codes + code`` gives every count at once. Regions are counted once per unit grid
and added up into communities, streets and districts; the centre adds up the grids. The
results are the rules of ``domain.evaluation.rules`` (tested against them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cityloop.adapters.evaluation.columns import CODES, NEVER
from cityloop.domain.evaluation.rules import SATISFACTION_POINTS, SATISFIED_LEVELS
from cityloop.domain.evaluation.subjects import REGION_KINDS, SubjectKind

if TYPE_CHECKING:
    from cityloop.adapters.evaluation.engine import Evaluation

Arr = npt.NDArray[Any]
Counts = dict[str, Arr]

_POINTS = np.zeros(8, dtype=np.int64)
for _level, _value in SATISFACTION_POINTS.items():
    _POINTS[_level] = _value
_SATISFIED = np.zeros(8, dtype=bool)
_SATISFIED[list(SATISFIED_LEVELS)] = True


def hist(subjects: Arr, rows: Arr, code: Arr | int, codes: int, size: int) -> Arr:
    """``size × codes`` counts of the picked ``rows`` by subject and code.

    Subjects are ids or indexes in ``[0, size)`` by construction (anything at or beyond
    ``size`` would only fall off the end)."""
    picked = subjects[rows]
    if codes > 1:
        flat: Arr = np.multiply(picked, codes, dtype=np.int64)
        np.add(flat, code, out=flat, casting="unsafe")
    else:
        flat = picked
    out: Arr = np.bincount(flat, minlength=size * codes)[: size * codes]
    return out.reshape(size, codes)


def _bits(table: Arr, *masks: int) -> Arr:
    """Sum of the columns of ``table`` whose code has every bit of ``masks`` set."""
    codes = table.shape[1]
    wanted = [c for c in range(codes) if all(c & m for m in masks)]
    total: Arr = table[:, wanted].sum(axis=1)
    return total


def rows_of(v: Evaluation, table: str, mask: Arr) -> Arr:
    return np.flatnonzero(v._scoped(table, mask))


# -- flags of some rows only (no pass over a whole table) ---


def _valid(v: Evaluation, rows: Arr) -> Arr:
    c = v.f.case
    valid: Arr = v.known(c["valid_at"][rows]) & ~v.known(c["invalid_at"][rows])
    return valid


def _cancelled(v: Evaluation, rows: Arr) -> Arr:
    r = v.f.round
    cancelled: Arr = (r["end"][rows] != 0) & v.known(r["ended_at"][rows])
    return cancelled


def task_due(v: Evaluation) -> Arr:
    """Tasks that settle in the period (done in time, or their deadline passed)."""
    k = v.f.task
    rows = v.select("task", "completed", "deadline")
    if rows is None:
        return v._scope_rows("task", np.flatnonzero(v.t_due))
    completed, deadline = k["completed"][rows], k["deadline"][rows]
    done = (k["done_in_time"][rows] == 1) & v.known(completed)
    settled = np.where(done, completed, deadline)
    cancelled = (k["cancelled"][rows] == 1) & v.known(completed)
    return v._scope_rows("task", rows[~cancelled & v.has(settled)])


def round_due(v: Evaluation) -> Arr:
    """Disposal rounds that settle in the period (handled in time, or fell overdue)."""
    r = v.f.round
    rows = v.select("round", "handled_at", envelope=("deadline_low", "deadline_high"))
    if rows is None:
        return v._scope_rows("round", np.flatnonzero(v.r_due))
    handled = r["handled_at"][rows]
    in_time = (r["handled_in_time"][rows] == 1) & v.known(handled)
    settled = np.where(in_time, handled, v.r_deadline[rows])
    return v._scope_rows("round", rows[~_cancelled(v, rows) & v.has(settled)])


def dispatches(v: Evaluation) -> Arr:
    rows = v.within("round", "started")
    found: Arr = rows[v.f.round["rework"][rows] == 0]
    return found


def filings(v: Evaluation) -> Arr:
    return v.within("case", "filed_at")


def closings(v: Evaluation) -> Arr:
    rows = v.within("case", "closed_at")
    found: Arr = rows[v.f.case["filed_at"][rows] != NEVER]
    return found


def inspector(v: Evaluation, size: int) -> Counts:
    f = v.f
    c, k = f.case, f.task
    reports = v.within("case", "reported")
    reports = reports[c["source"][reports] == CODES.inspector]
    h = hist(c["reporter"], reports, _valid(v, reports), 2, size)
    tasks = v.cached("task_due", task_due)
    code = (k["kind"][tasks] == CODES.check) * 2 + (k["done_in_time"][tasks] == 1)
    t = hist(k["assignee"], tasks, code, 4, size)
    grid = v.grid_table
    inspectors, grids = v.inspector_pairs
    keep = inspectors < size
    filed = np.zeros(size, dtype=np.int64)
    missed = np.zeros(size, dtype=np.int64)
    np.add.at(filed, inspectors[keep], grid["filed"][grids[keep]])
    np.add.at(missed, inspectors[keep], grid["public_filed"][grids[keep]])
    return {
        "reported": h.sum(axis=1),
        "valid_reported": h[:, 1],
        "verify_due": t[:, 0] + t[:, 1],
        "verified_in_time": t[:, 1],
        "check_due": t[:, 2] + t[:, 3],
        "checked_in_time": t[:, 3],
        "grid_filed": filed,
        "missed": missed,
    }


def operator(v: Evaluation, size: int) -> Counts:
    c, k = v.f.case, v.f.task
    intake = v.within("case", "intake_at")
    intake = intake[c["intake_by"][intake] != 0]
    h = hist(c["intake_by"], intake, c["intake_in_time"][intake] == 1, 2, size)
    sent = v.within("task", "created")
    sent = sent[k["requested_by"][sent] != 0]
    code = (k["kind"][sent] == CODES.check) * 2 + (k["requested_in_time"][sent] == 1)
    t = hist(k["requested_by"], sent, code, 4, size)
    return {
        "intake": h.sum(axis=1),
        "intake_in_time": h[:, 1],
        "verify_sent": t[:, 0] + t[:, 1],
        "verify_sent_in_time": t[:, 1],
        "check_sent": t[:, 2] + t[:, 3],
        "check_sent_in_time": t[:, 3],
    }


def shift_lead(v: Evaluation, size: int) -> Counts:
    c = v.f.case
    filed = v.cached("filings", filings)
    code = (c["filed_in_time"][filed] == 1) + 2 * v.known(c["invalid_at"][filed])
    h = hist(c["filed_by"], filed, code, 4, size)
    closed = v.cached("closings", closings)
    g = hist(c["closed_by"], closed, c["closed_in_time"][closed] == 1, 2, size)
    return {
        "filed": h.sum(axis=1),
        "filed_in_time": _bits(h, 1),
        "voided": _bits(h, 2),
        "closed": g.sum(axis=1),
        "closed_in_time": g[:, 1],
    }


def dispatcher(v: Evaluation, size: int) -> Counts:
    r = v.f.round
    rows = v.cached("dispatches", dispatches)
    code = (r["dispatched_in_time"][rows] == 1) + 2 * ~_cancelled(v, rows)
    h = hist(r["dispatched_by"], rows, code, 4, size)
    return {
        "dispatched": h.sum(axis=1),
        "dispatched_in_time": _bits(h, 1),
        "accurate_dispatched": _bits(h, 2),
    }


def department(v: Evaluation, size: int) -> Counts:
    f = v.f
    r, c, ch = f.round, f.case, f.change
    due = v.cached("round_due", round_due)
    code = (
        v.known(r["handled_at"][due])
        + 2 * (r["handled_in_time"][due] == 1)
        + 4 * (r["rework"][due] == 1)
        + 8 * v.known(r["extended_at"][due])
    )
    d = hist(r["dept"], due, code, 16, size)
    assigned = v.cached("dispatches", dispatches)
    assigned = assigned[~_cancelled(v, assigned)]
    ended = v.within("round", "ended_at")
    ended = ended[r["end"][ended] != 0]
    e = hist(r["dept"], ended, r["end"][ended], 3, size)
    open_ = rows_of(v, "round", v.r_overdue_open)
    suspended = v.within("change", "at")
    suspended = suspended[ch["kind"][suspended] == CODES.suspension]
    closed = v.cached("closings", closings)
    closed = closed[c["closed_dept"][closed] != 0]
    return {
        "assigned": hist(r["dept"], assigned, 0, 1, size)[:, 0],
        "due": d.sum(axis=1),
        "handled": _bits(d, 1),
        "handled_on_time": _bits(d, 1, 2),
        "rework": _bits(d, 4),
        "extended": _bits(d, 8),
        "suspended": hist(r["dept"][f.ch_round], suspended, 0, 1, size)[:, 0],
        "returned": e[:, CODES.returned],
        "refused": e[:, CODES.refused],
        "overdue_open": hist(r["dept"], open_, 0, 1, size)[:, 0],
        "closed": hist(c["closed_dept"], closed, 0, 1, size)[:, 0],
    }


def grid_table(v: Evaluation) -> Counts:
    """The region counts of every unit grid (by grid index)."""
    f, c = v.f, v.f.case
    n = len(f.grid_codes)
    filed = v.cached("filings", filings)
    h = hist(f.grid_index, filed, f.public[filed], 2, n)
    closed = v.cached("closings", closings)
    g = hist(f.grid_index, closed, c["close_type"][closed] == CODES.normal_close, 2, n)
    over = rows_of(v, "case", v.c_overdue_unclosed)
    return {
        "filed": h.sum(axis=1),
        "public_filed": h[:, 1],
        "closed": g.sum(axis=1),
        "closed_on_time": g[:, 1],
        "overdue_unclosed": hist(f.grid_index, over, 0, 1, n)[:, 0],
    }


def region(v: Evaluation, kind: SubjectKind) -> Counts:
    grid = v.grid_table
    if kind is SubjectKind.GRID:
        return grid
    index = v.f.levels[kind][1]
    size = len(v.f.levels[kind][0])
    return {
        name: np.bincount(index, weights=values, minlength=size)[:size].astype(np.int64)
        for name, values in grid.items()
    }


def centre(v: Evaluation) -> Counts:
    c, r = v.f.case, v.f.round
    total = {name: np.array([values.sum()], dtype=np.int64) for name, values in
             v.grid_table.items()}  # fmt: skip
    reports = v.within("case", "reported")
    called = v.within("case", "callback_at")
    called = called[c["satisfaction"][called] > 0]
    levels = c["satisfaction"][called].astype(np.int64)
    due = v.cached("round_due", round_due)
    on_time = v.known(r["handled_at"][due]) & (r["handled_in_time"][due] == 1)

    def one(value: Any) -> Arr:
        return np.array([int(value)], dtype=np.int64)

    return {
        **total,
        "reported": one(len(reports)),
        "valid_reported": one(_valid(v, reports).sum()),
        "callbacks": one(len(called)),
        "satisfied": one(_SATISFIED[levels].sum()),
        "satisfaction_points": one(_POINTS[levels].sum()),
        "dispatched": one(len(v.cached("dispatches", dispatches))),
        "due": one(len(due)),
        "handled_on_time": one(on_time.sum()),
    }


POSTS: dict[SubjectKind, Callable[[Evaluation, int], Counts]] = {
    SubjectKind.INSPECTOR: inspector,
    SubjectKind.OPERATOR: operator,
    SubjectKind.SHIFT_LEAD: shift_lead,
    SubjectKind.DISPATCHER: dispatcher,
    SubjectKind.DEPARTMENT: department,
}


def count(v: Evaluation, kind: SubjectKind, size: int) -> Counts:
    if kind in POSTS:
        return POSTS[kind](v, size)
    if kind in REGION_KINDS:
        return region(v, kind)
    return centre(v)
