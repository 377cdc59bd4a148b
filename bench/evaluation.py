"""Benchmark: the comprehensive evaluation of a year of 5,000,000 cases (issue 6).

    .venv/bin/python bench/evaluation.py [--cases 5000000] [--pg postgresql+psycopg://…]

Synthetic cases over 2025 and their evaluation facts are generated with numpy (a fixed seed)
and written straight into a temporary SQLite file — and into a fresh PostgreSQL schema when a
URL is given: 200 departments, 16 districts / 320 streets / 2,560 communities / 51,200 unit
grids, 600 inspectors, 40 operators, 10 shift leads, 20 dispatchers. Bulk synthetic data goes
in directly (not through the services; it is not the demo city). Then, on each database:

- cold: loading the fact blocks into a process (the first evaluation after a start);
- the full evaluation of every subject — departments, four region levels, four posts and
  the centre: counts, rates, composite scores, grades, ranks — for June 2025 and for 2025,
  through the same service calls the API uses; also the engine's counts alone;
- baseline, in the same run: the department counts alone (due, handled, on time, overdue,
  rework) by a single GROUP BY over an in-memory DuckDB copy of the case table (its
  department, disposal deadline, closing time and rework count, read back from the database
  under test) — perf-limits.md §4's query.

Medians of ``--repeat`` runs (min–max) are printed with their ratio to the baseline; the
targets are a year under 5 s and a month under 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
from sqlalchemy import Engine, insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cityloop.adapters.db.engine import make_engine  # noqa: E402
from cityloop.adapters.db.migrate import upgrade  # noqa: E402
from cityloop.adapters.db.models import T  # noqa: E402
from cityloop.adapters.db.repositories.sla import SlaCache  # noqa: E402
from cityloop.adapters.db.uow import SqlUnitOfWork  # noqa: E402
from cityloop.adapters.evaluation import columns, store  # noqa: E402
from cityloop.adapters.evaluation.cache import FactCache  # noqa: E402
from cityloop.adapters.evaluation.columns import EPOCH, NEVER  # noqa: E402
from cityloop.adapters.files import LocalFileStore  # noqa: E402
from cityloop.adapters.geo.locator import StrTreeLocator  # noqa: E402
from cityloop.adapters.passwords import Argon2Passwords  # noqa: E402
from cityloop.domain.evaluation.periods import parse_period  # noqa: E402
from cityloop.domain.evaluation.subjects import SubjectKind  # noqa: E402
from cityloop.services.queries import evaluation as q  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
YEAR = parse_period("2025")
MONTH = parse_period("2025-06")
NOW = datetime(2026, 1, 15, tzinfo=UTC)
N_DEPTS, N_DISTRICTS, STREETS, COMMUNITIES, GRIDS = 200, 16, 20, 8, 20
N_INSPECTORS, N_OPERATORS, N_LEADS, N_DISPATCHERS = 600, 40, 10, 20
N_CATEGORIES = 120
H = 3600


# -- synthetic data ---


class Org:
    def __init__(self) -> None:
        self.grid_codes = np.array(
            [
                int(f"1101{d:02d}{s:03d}{c:03d}{g:03d}")
                for d in range(1, N_DISTRICTS + 1)
                for s in range(1, STREETS + 1)
                for c in range(1, COMMUNITIES + 1)
                for g in range(1, GRIDS + 1)
            ],
            dtype=np.int64,
        )
        # ids are assigned when the rows are inserted (in this order, from 1)
        self.departments = np.arange(1, N_DEPTS + 1)
        first_user = 1
        self.inspectors = np.arange(first_user, first_user + N_INSPECTORS)
        self.operators = np.arange(self.inspectors[-1] + 1, self.inspectors[-1] + 1 + N_OPERATORS)
        self.leads = np.arange(self.operators[-1] + 1, self.operators[-1] + 1 + N_LEADS)
        self.dispatchers = np.arange(self.leads[-1] + 1, self.leads[-1] + 1 + N_DISPATCHERS)
        # each inspector looks after a contiguous run of grids
        self.grid_inspector = self.inspectors[
            np.arange(len(self.grid_codes)) * N_INSPECTORS // len(self.grid_codes)
        ]


def generate(
    n: int, org: Org, seed: int = 2026
) -> tuple[dict[str, columns.Columns], dict[str, Any]]:
    """The four fact tables (stored form) and the case-table columns for the baseline."""
    rng = np.random.default_rng(seed)
    t0 = int(datetime(2025, 1, 1, tzinfo=TZ).timestamp())
    reported = t0 + np.sort(rng.integers(0, 365 * 86400, n))
    ids = np.arange(1, n + 1, dtype=np.int64)
    source = rng.choice(np.arange(1, 9), n, p=[0.70, 0.10, 0.05, 0.08, 0.02, 0.02, 0.02, 0.01])
    g_weights = rng.pareto(1.5, len(org.grid_codes)) + 1
    grid_idx = rng.choice(len(org.grid_codes), n, p=g_weights / g_weights.sum())
    grid = org.grid_codes[grid_idx]
    local = reported + 8 * H
    how = ((local // 86400 + 3) % 7) * 24 + (local // H) % 24
    category = (rng.zipf(1.4, n) - 1) % N_CATEGORIES + 1
    reporter = np.where(source == 1, org.grid_inspector[grid_idx], 0)

    u = rng.random(n)
    kind = np.where(u < 0.95, 1, np.where(u < 0.98, 2, 3))  # accept / reject / merge
    intake_delay = rng.exponential(300, n).astype(np.int64)
    intake_at = reported + intake_delay
    intake_by = rng.choice(org.operators, n)
    filed = kind == 1
    file_delay = rng.exponential(600, n).astype(np.int64)
    filed_at = np.where(filed, intake_at + file_delay, -1)
    filed_by = np.where(filed, rng.choice(org.leads, n), 0)
    voided = filed & (rng.random(n) < 0.01)
    invalid_at = np.where(~filed, intake_at, np.where(voided, filed_at + 300, -1))
    valid_at = filed_at.copy()

    # -- disposal rounds: the first dispatch, a second after a refusal/return, reworks
    live = filed & ~voided
    case_of = np.nonzero(live)[0]
    m = len(case_of)
    limit = rng.choice(np.array([4, 8, 24, 48, 72]) * H, m)
    r1_start = filed_at[case_of] + rng.exponential(600, m).astype(np.int64)
    r1_in_time = (r1_start - filed_at[case_of]) <= 900
    dept_w = 1 / np.arange(1, N_DEPTS + 1) ** 0.9
    r1_dept = rng.choice(org.departments, m, p=dept_w / dept_w.sum())
    end_u = rng.random(m)
    end1 = np.where(end_u < 0.03, 1, np.where(end_u < 0.05, 2, 0))
    ended1 = np.where(end1 == 1, r1_start + 1800, np.where(end1 == 2, r1_start + 2 * H, -1))
    second = end1 > 0
    final_start = np.where(second, ended1 + 600, r1_start)
    final_dept = np.where(second, (r1_dept % N_DEPTS) + 1, r1_dept)
    deadline = final_start + limit
    share = rng.lognormal(-0.9, 0.6, m)
    handled = rng.random(m) < 0.92
    extended = handled & (rng.random(m) < 0.03)
    ext_at = final_start + limit // 2
    final_deadline = np.where(extended, deadline + limit, deadline)
    handled_at = np.where(handled, final_start + (share * limit).astype(np.int64), -1)
    handled_in_time = handled & (handled_at <= final_deadline)
    suspended = ~handled & (rng.random(m) < 0.12)
    susp_at = final_start + limit // 3
    rework = handled & (rng.random(m) < 0.05)
    rework2 = rework & (rng.random(m) < 0.3)

    rounds: list[dict[str, Any]] = []

    def add_rounds(mask: Any, number: Any, **cols: Any) -> None:
        idx = np.nonzero(mask)[0]
        block = {
            k: (v[idx] if isinstance(v, np.ndarray) else np.full(len(idx), v))
            for k, v in cols.items()
        }
        block["case_id"] = ids[case_of[idx]]
        block["number"] = (
            number[idx] if isinstance(number, np.ndarray) else np.full(len(idx), number)
        )
        rounds.append(block)

    ones = np.ones(m, dtype=bool)
    add_rounds(
        second,
        1,
        dept=r1_dept,
        started=r1_start,
        rework=0,
        dispatched_by=rng.choice(org.dispatchers, m),
        dispatched_in_time=r1_in_time,
        deadline=r1_start + limit,
        extended_at=-1,
        handled_at=-1,
        handled_in_time=0,
        ended_at=ended1,
        end=end1,
        checked_at=-1,
        check_passed=-1,
    )
    check1 = (
        handled_at
        + rng.exponential(600, m).astype(np.int64)
        + rng.exponential(900, m).astype(np.int64)
    )
    final_number = np.where(second, 2, 1)
    add_rounds(
        ones,
        final_number,
        dept=final_dept,
        started=final_start,
        rework=0,
        dispatched_by=rng.choice(org.dispatchers, m),
        dispatched_in_time=np.where(second, True, r1_in_time),
        deadline=deadline,
        extended_at=np.where(extended, ext_at, -1),
        handled_at=handled_at,
        handled_in_time=handled_in_time,
        ended_at=-1,
        end=0,
        checked_at=np.where(handled, check1, -1),
        check_passed=np.where(handled, ~rework, -1),
    )
    rw_start = check1 + 2400
    rw_handled = rw_start + (share * limit * 0.8).astype(np.int64)
    rw_check = rw_handled + 1800
    add_rounds(
        rework,
        final_number + 1,
        dept=final_dept,
        started=rw_start,
        rework=1,
        dispatched_by=0,
        dispatched_in_time=0,
        deadline=rw_start + limit,
        extended_at=-1,
        handled_at=rw_handled,
        handled_in_time=rw_handled <= rw_start + limit,
        ended_at=-1,
        end=0,
        checked_at=rw_check,
        check_passed=~rework2,
    )
    rw2_start = rw_check + 2400
    rw2_handled = rw2_start + limit // 3
    add_rounds(
        rework2,
        final_number + 2,
        dept=final_dept,
        started=rw2_start,
        rework=1,
        dispatched_by=0,
        dispatched_in_time=0,
        deadline=rw2_start + limit,
        extended_at=-1,
        handled_at=rw2_handled,
        handled_in_time=1,
        ended_at=-1,
        end=0,
        checked_at=rw2_handled + 1800,
        check_passed=1,
    )
    round_cols = {k: np.concatenate([r[k] for r in rounds]) for k in rounds[0]}

    # the case's last round: when it was checked, whether it passed, its department
    last_check = np.where(rework2, rw2_handled + 1800, np.where(rework, rw_check, check1))
    closed_case = np.zeros(n, dtype=bool)
    closed_case[case_of] = handled  # every handled case passes its check in the end
    closed_at = np.full(n, -1, dtype=np.int64)
    close_delay = rng.exponential(900, m).astype(np.int64)
    closed_at[case_of] = np.where(handled, last_check + close_delay, -1)
    closed_in_time = np.zeros(n, dtype=bool)
    closed_in_time[case_of] = close_delay <= 1800
    close_type = np.zeros(n, dtype=np.int64)
    last_in_time = np.where(rework, True, handled_in_time)
    close_type[case_of] = np.where(handled, np.where(last_in_time, 1, 2), 0)
    closed_by = np.where(closed_case, rng.choice(org.leads, n), 0)
    closed_dept = np.zeros(n, dtype=np.int64)
    closed_dept[case_of] = np.where(handled, final_dept, 0)
    public = np.isin(source, (2, 3, 4, 5))
    called = closed_case & public & (rng.random(n) < 0.6)
    callback_at = np.where(called, closed_at + 86400, -1)
    satisfaction = np.where(
        called, rng.choice(np.arange(1, 6), n, p=[0.4, 0.3, 0.15, 0.1, 0.05]), 0
    )

    changes = []
    ext_idx = np.nonzero(extended)[0]
    changes.append(
        (ids[case_of[ext_idx]], final_number[ext_idx], ext_at[ext_idx], final_deadline[ext_idx], 1)
    )
    s_idx = np.nonzero(suspended)[0]
    changes.append(
        (ids[case_of[s_idx]], final_number[s_idx], susp_at[s_idx], np.full(len(s_idx), -1), 2)
    )
    change_cols = {
        "case_id": np.concatenate([c[0] for c in changes]),
        "number": np.concatenate([c[1] for c in changes]),
        "at": np.concatenate([c[2] for c in changes]),
        "deadline": np.concatenate([c[3] for c in changes]),
        "kind": np.concatenate([np.full(len(c[0]), c[4]) for c in changes]),
    }

    # -- tasks: a check task per handled round, verify tasks for some public reports
    rc = round_cols
    has_check = rc["checked_at"] >= 0
    chk_completed = rc["checked_at"][has_check]
    chk_created = chk_completed - rng.exponential(900, len(chk_completed)).astype(np.int64)
    chk_case = rc["case_id"][has_check]
    verify = ~(source == 1) & (rng.random(n) < 0.3)
    v_created = reported[verify] + 60
    v_completed = v_created + rng.exponential(900, int(verify.sum())).astype(np.int64)
    task_case = np.concatenate([chk_case, ids[verify]])
    order = np.argsort(task_case, kind="stable")
    task_cols = {
        "task_id": np.arange(1, len(task_case) + 1),
        "case_id": task_case[order],
        "kind": np.concatenate([np.full(len(chk_case), 2), np.full(int(verify.sum()), 1)])[order],
        "assignee": org.grid_inspector[grid_idx[task_case[order] - 1]],
        "created": np.concatenate([chk_created, v_created])[order],
        "deadline": np.concatenate([chk_created, v_created])[order] + 1800,
        "completed": np.concatenate([chk_completed, v_completed])[order],
        "cancelled": 0,
        "done_in_time": None,
        "requested_by": rng.choice(org.operators, len(task_case)),
        "requested_in_time": rng.random(len(task_case)) < 0.95,
    }
    task_cols["done_in_time"] = task_cols["completed"] <= task_cols["deadline"]

    def stored(value: Any) -> Any:
        arr = np.asarray(value, dtype=np.int64)
        return np.where(arr < 0, int(NEVER), arr - EPOCH)

    case_cols = {
        "case_id": ids,
        "reported": stored(reported),
        "source": source,
        "reporter": reporter,
        "self_handled": 0,
        "category": category,
        "grid": grid,
        "how": how,
        "intake_at": stored(intake_at),
        "intake_by": intake_by,
        "intake_kind": kind,
        "intake_in_time": intake_delay <= 900,
        "filed_at": stored(filed_at),
        "filed_by": filed_by,
        "filed_in_time": file_delay <= 1800,
        "valid_at": stored(valid_at),
        "invalid_at": stored(invalid_at),
        "closed_at": stored(closed_at),
        "closed_by": closed_by,
        "closed_in_time": closed_in_time,
        "close_type": close_type,
        "closed_dept": closed_dept,
        "callback_at": stored(callback_at),
        "satisfaction": satisfaction,
    }

    def table(name: str, cols: dict[str, Any], count: int) -> columns.Columns:
        out = {}
        for col, dtype in columns.SCHEMAS[name]:
            value = cols[col]
            value = np.full(count, value) if np.isscalar(value) else np.asarray(value)
            if (
                col
                in (
                    "started",
                    "deadline",
                    "extended_at",
                    "handled_at",
                    "ended_at",
                    "checked_at",
                    "at",
                    "created",
                    "completed",
                )
                and name != "case"
            ):
                value = stored(value)
            out[col] = value.astype(dtype)
        return out

    nr = len(round_cols["case_id"])
    tables = {
        "case": table("case", case_cols, n),
        "round": table("round", round_cols, nr),
        "change": table("change", change_cols, len(change_cols["case_id"])),
        "task": table("task", task_cols, len(task_case)),
    }
    for name in ("round", "change"):
        tables[name] = columns.take(tables[name], columns.sort_key(name, tables[name]))
    # the case table (what an ordinary schema would keep): last round's department, deadline
    department = np.zeros(n, dtype=np.int64)
    department[case_of] = final_dept
    disposal_deadline = np.full(n, -1, dtype=np.int64)
    disposal_deadline[case_of] = np.where(
        rework2, rw2_start + limit, np.where(rework, rw_start + limit, final_deadline)
    )
    rework_count = np.zeros(n, dtype=np.int64)
    rework_count[case_of] = rework.astype(int) + rework2.astype(int)
    case_table = {
        "id": ids,
        "source": source,
        "reported_at": reported,
        "grid": grid,
        "department_id": department,
        "filed_at": filed_at,
        "disposal_deadline": disposal_deadline,
        "closed_at": closed_at,
        "rework_count": rework_count,
        "close_type": close_type,
    }
    return tables, case_table


# -- loading ---


def load_org(engine: Engine, org: Org) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(T["departments"]),
            [
                {
                    "code": f"D{i:04d}",
                    "name": f"部门{i:03d}",
                    "kind": "agency",
                    "level": 1 + (i > 150),
                    "parent_id": (i - 150) if i > 150 else None,
                    "active": True,
                }
                for i in range(1, N_DEPTS + 1)
            ],
        )
        since = date(2020, 1, 1)
        rows = []
        for d in range(1, N_DISTRICTS + 1):
            dc = f"1101{d:02d}"
            rows.append(
                {"level": "district", "code": dc, "name": f"区{d:02d}", "valid_from": since}
            )
            for s in range(1, STREETS + 1):
                sc = f"{dc}{s:03d}"
                rows.append(
                    {"level": "street", "code": sc, "name": f"街道{sc}", "valid_from": since}
                )
                for c in range(1, COMMUNITIES + 1):
                    cc = f"{sc}{c:03d}"
                    rows.append(
                        {"level": "community", "code": cc, "name": f"社区{cc}", "valid_from": since}
                    )
        for code in org.grid_codes.tolist():
            rows.append(
                {
                    "level": "grid",
                    "code": str(code),
                    "name": f"网格{str(code)[-3:]}",
                    "area_m2": 10_000.0,
                    "valid_from": since,
                }
            )
        conn.execute(insert(T["regions"]), rows)
        grid_ids = {
            r.code: r.id
            for r in conn.execute(text("SELECT id, code FROM regions WHERE level = 'grid'"))
        }
        users, roles = [], []
        for role, ids in (
            ("inspector", org.inspectors),
            ("operator", org.operators),
            ("shift_lead", org.leads),
            ("dispatcher", org.dispatchers),
        ):
            for uid in ids.tolist():
                users.append(
                    {
                        "id": uid,
                        "username": f"{role}{uid}",
                        "display_name": f"{role}{uid}",
                        "password_hash": "",
                    }
                )
                roles.append({"user_id": uid, "role": role})
        conn.execute(insert(T["users"]), users)
        conn.execute(insert(T["user_roles"]), roles)
        conn.execute(
            insert(T["inspector_grids"]),
            [
                {"user_id": int(u), "region_id": grid_ids[str(g)]}
                for g, u in zip(org.grid_codes.tolist(), org.grid_inspector.tolist(), strict=True)
            ],
        )


CASE_SQL_COLUMNS = (
    "id",
    "number",
    "version",
    "state",
    "source",
    "reported_at",
    "description",
    "address",
    "district_code",
    "street_code",
    "community_code",
    "grid_code",
    "urgency",
    "reporter_name",
    "reporter_phone",
    "self_handled",
    "sub_dispatched",
    "disposal_paused_us",
    "department_id",
    "filed_at",
    "disposal_deadline",
    "closed_at",
    "close_type",
    "extension_count",
    "rework_count",
    "return_count",
    "refusal_count",
    "remind_count",
    "supervised",
    "event_seq",
)
SOURCE_NAMES = np.array(["", *columns.SOURCE_NAMES.values()], dtype=object)
CLOSE_NAMES = np.array([None, "normal", "overdue", "error", "special"], dtype=object)


def _case_rows(ct: dict[str, Any], lo: int, hi: int, pg: bool) -> list[tuple[Any, ...]]:
    def ts(a: Any) -> list[Any]:
        if pg:
            return [datetime.fromtimestamp(v, UTC) if v >= 0 else None for v in a.tolist()]
        return [v * 1_000_000 if v >= 0 else None for v in a.tolist()]

    grid = ct["grid"][lo:hi].tolist()
    closed = ct["closed_at"][lo:hi]
    dept = ct["department_id"][lo:hi].tolist()
    rows = zip(
        ct["id"][lo:hi].tolist(),
        SOURCE_NAMES[ct["source"][lo:hi]].tolist(),
        ts(ct["reported_at"][lo:hi]),
        grid,
        dept,
        ts(ct["filed_at"][lo:hi]),
        ts(ct["disposal_deadline"][lo:hi]),
        ts(closed),
        CLOSE_NAMES[ct["close_type"][lo:hi]].tolist(),
        ct["rework_count"][lo:hi].tolist(),
        strict=True,
    )
    out = []
    for cid, src, rep, g, d, fil, dl, clo, ctype, rw in rows:
        gs = str(g)
        out.append(
            (
                cid,
                f"B{cid:012d}",
                1,
                "closed" if clo is not None else "handling",
                src,
                rep,
                "",
                "",
                gs[:6],
                gs[:9],
                gs[:12],
                gs,
                "normal",
                "",
                "",
                False,
                False,
                0,
                d or None,
                fil,
                dl,
                clo,
                ctype,
                0,
                rw,
                0,
                0,
                0,
                False,
                1,
            )
        )
    return out


SECONDARY = (
    "ix_cases_state_deadline",
    "ix_cases_department_state",
    "ix_cases_district_state",
    "ix_cases_suspend_until",
    "ix_cases_reported_at",
    "ix_cases_grid_id",
    "ix_cases_closed_at",
)


def _copy_line(row: tuple[Any, ...]) -> str:
    """One line of COPY's text format (no value here contains a tab or a backslash)."""
    out = []
    for v in row:
        if v is None:
            out.append("\\N")
        elif v is True or v is False:
            out.append("t" if v else "f")
        elif isinstance(v, datetime):
            out.append(v.isoformat())
        else:
            out.append(str(v))
    return "\t".join(out) + "\n"


def load_cases(engine: Engine, ct: dict[str, Any]) -> None:
    """Straight into ``cases``; its secondary indexes are dropped first (a throwaway schema:
    the figures below never query them)."""
    with engine.begin() as conn:
        for name in SECONDARY:
            conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
    n = len(ct["id"])
    pg = engine.dialect.name == "postgresql"
    placeholders = ", ".join(["%s" if pg else "?"] * len(CASE_SQL_COLUMNS))
    sql = f"INSERT INTO cases ({', '.join(CASE_SQL_COLUMNS)}) VALUES ({placeholders})"
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if not pg:
            cur.execute("PRAGMA foreign_keys=OFF")
            cur.execute("BEGIN")
        step = 100_000
        if pg:
            with cur.copy(f"COPY cases ({', '.join(CASE_SQL_COLUMNS)}) FROM STDIN") as copy:
                for lo in range(0, n, step):
                    rows = _case_rows(ct, lo, min(n, lo + step), pg)
                    copy.write("".join(_copy_line(row) for row in rows).encode())
        else:
            for lo in range(0, n, step):
                cur.executemany(sql, _case_rows(ct, lo, min(n, lo + step), pg))
        raw.commit() if pg else cur.execute("COMMIT")
    finally:
        raw.close()


def load_facts(engine: Engine, tables: dict[str, columns.Columns]) -> None:
    with engine.begin() as conn:
        store.write_columns(conn, tables)


# -- measuring ---


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, float, float, Any]:
    """Median, min and max wall time and median process CPU time of ``repeat`` runs."""
    fn()  # warm-up
    times, cpus, result = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return statistics.median(times), min(times), max(times), statistics.median(cpus), result


def baseline_copy(engine: Engine) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB copy of the case table's columns the department query needs, read
    back from the database under test; times as epoch seconds."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT department_id, disposal_deadline, closed_at, rework_count FROM cases"
        ).fetchall()

    def seconds(v: Any) -> int:
        if v is None:
            return -1
        return int(v.timestamp()) if isinstance(v, datetime) else int(v) // 1_000_000

    arrays = {  # numpy arrays, scanned by DuckDB as a table; -1 stands for NULL
        "department_id": np.array([r[0] or -1 for r in rows], dtype=np.int64),
        "disposal_deadline": np.array([seconds(r[1]) for r in rows], dtype=np.int64),
        "closed_at": np.array([seconds(r[2]) for r in rows], dtype=np.int64),
        "rework_count": np.array([r[3] for r in rows], dtype=np.int64),
    }
    del rows
    con = duckdb.connect(":memory:")
    con.register("case_columns", arrays)
    con.execute(
        "CREATE TABLE cases AS SELECT NULLIF(department_id, -1) AS department_id, "
        "NULLIF(disposal_deadline, -1) AS disposal_deadline, "
        "NULLIF(closed_at, -1) AS closed_at, rework_count FROM case_columns"
    )
    con.unregister("case_columns")
    return con


# perf-limits.md §4's statement: a case is due in the period when its disposal deadline falls
# in it, handled when it was closed in it; on time / overdue / rework are among the due ones
DEPARTMENT_COUNTS = """
SELECT department_id,
       count(*) FILTER (WHERE disposal_deadline >= $start AND disposal_deadline < $end) AS due,
       count(*) FILTER (WHERE closed_at >= $start AND closed_at < $end) AS handled,
       count(*) FILTER (WHERE disposal_deadline >= $start AND disposal_deadline < $end
                          AND closed_at <= disposal_deadline) AS on_time,
       count(*) FILTER (WHERE disposal_deadline >= $start AND disposal_deadline < $end
                          AND (closed_at IS NULL OR closed_at > disposal_deadline)) AS overdue,
       count(*) FILTER (WHERE disposal_deadline >= $start AND disposal_deadline < $end
                          AND rework_count > 0) AS rework
FROM cases
WHERE (disposal_deadline >= $start AND disposal_deadline < $end)
   OR (closed_at >= $start AND closed_at < $end)
GROUP BY department_id
ORDER BY department_id
"""


def baseline_query(con: duckdb.DuckDBPyConnection, start: int, end: int) -> list[Any]:
    """The department counts of ``[start, end)`` (epoch seconds): one GROUP BY in DuckDB."""
    return con.execute(DEPARTMENT_COUNTS, {"start": start, "end": end}).fetchall()


def units(engine: Engine) -> SqlUnitOfWork:
    return SqlUnitOfWork(
        engine,
        locator=StrTreeLocator(engine),
        files=LocalFileStore(Path(tempfile.gettempdir())),
        passwords=Argon2Passwords(fast=True),
        sla_cache=SlaCache(),
        readonly=True,
    )


def run(
    engine: Engine, label: str, case_table: dict[str, Any], repeat: int
) -> list[tuple[str, str, float, float, float, float]]:
    out = []
    uow = units(engine)
    # cold: the fact blocks from the database into a fresh process cache
    cold, cold_cpu = [], []
    for _ in range(3):
        cache = FactCache()
        t, c = time.perf_counter(), time.process_time()
        with engine.connect() as conn:
            cache.engine(conn)
        cold.append(time.perf_counter() - t)
        cold_cpu.append(time.process_time() - c)
    out.append((label, "cold: load the fact blocks into memory", statistics.median(cold),
                min(cold), max(cold), statistics.median(cold_cpu)))  # fmt: skip
    with uow:
        session = q.open_session(uow)
        facts = session.facts
        directory = session.directory
    t, c = time.perf_counter(), time.process_time()
    duck = baseline_copy(engine)
    out.append((label, "baseline: copy the case table into DuckDB", time.perf_counter() - t, 0, 0,
                time.process_time() - c))  # fmt: skip

    def fresh() -> None:
        facts._last = None  # type: ignore[attr-defined]  # no intermediate arrays kept

    for period in (MONTH, YEAR):
        start, end = (int(x.timestamp()) for x in period.bounds(TZ))

        def baseline(start: int = start, end: int = end) -> list[Any]:
            return baseline_query(duck, start, end)

        med, lo, hi, cpu, by_dept = timed(baseline, repeat)
        out.append((label, f"baseline: department counts, {period.key}", med, lo, hi, cpu))
        totals = [sum(row[i] for row in by_dept) for i in range(1, 6)]
        print(
            f"  [{label}] baseline {period.key} (DuckDB {duckdb.__version__}): "
            f"{len(by_dept)} departments; due, handled, on time, overdue, rework = {totals}",
            flush=True,
        )
        fr = q.frame(period, TZ, NOW)
        ctx = q.context(directory, None)

        def counts(fr: q.Frame = fr, ctx: Any = ctx) -> Any:
            fresh()
            return [facts.table(k, fr.window, ctx) for k in SubjectKind]

        med, lo, hi, cpu, _ = timed(counts, repeat)
        out.append((label, f"engine counts, all subjects, {period.key}", med, lo, hi, cpu))

        def full(period: Any = period) -> Any:
            fresh()
            with uow:
                s = q.open_session(uow)
                return [q.report_in(s, k, period, None, NOW) for k in SubjectKind]

        med, lo, hi, cpu, reports = timed(full, repeat)
        out.append((label, f"FULL evaluation, all subjects, {period.key}", med, lo, hi, cpu))
        if period is YEAR:
            sizes = {r.kind.value: len(r.rows) for r in reports}
            print(f"  [{label}] subjects evaluated: {sizes}", flush=True)
    duck.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--cases", type=int, default=5_000_000)
    parser.add_argument("--pg", help="PostgreSQL URL (a fresh schema is created and dropped)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", help="keep the SQLite file in this directory")
    parser.add_argument("--reuse", action="store_true", help="measure the kept SQLite file again")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cl-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "evaluation.db"
    reuse = args.reuse and path.exists() and not args.pg
    org = Org()
    tables: dict[str, columns.Columns] = {}
    case_table: dict[str, Any] = {}
    if not reuse:
        t = time.perf_counter()
        tables, case_table = generate(args.cases, org)
        print(
            f"generated {args.cases:,} cases, {len(tables['round']['case_id']):,} rounds, "
            f"{len(tables['change']['case_id']):,} deadline changes, "
            f"{len(tables['task']['case_id']):,} tasks in {time.perf_counter() - t:.1f} s",
            flush=True,
        )
    results = []
    if not args.no_sqlite:
        if not reuse:
            path.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{path}")
        if not reuse:
            t = time.perf_counter()
            upgrade(engine)
            load_org(engine, org)
            load_cases(engine, case_table)
            t_cases = time.perf_counter() - t
            t = time.perf_counter()
            load_facts(engine, tables)
            print(
                f"SQLite: cases loaded in {t_cases:.1f} s, fact blocks in "
                f"{time.perf_counter() - t:.1f} s; file {path.stat().st_size / 2**20:.0f} MiB",
                flush=True,
            )
        results += run(engine, "SQLite", case_table, args.repeat)
        engine.dispose()

    if args.pg:
        schema = f"cl_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(args.pg)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        pg = make_engine(args.pg, connect_args={"options": f"-csearch_path={schema}"})
        try:
            t = time.perf_counter()
            upgrade(pg)
            load_org(pg, org)
            load_cases(pg, case_table)
            t_cases = time.perf_counter() - t
            t = time.perf_counter()
            load_facts(pg, tables)
            with pg.begin() as conn:
                conn.execute(text("ANALYZE"))
            print(
                f"PostgreSQL: cases loaded in {t_cases:.1f} s, fact blocks in "
                f"{time.perf_counter() - t:.1f} s",
                flush=True,
            )
            results += run(pg, "PostgreSQL", case_table, args.repeat)
        finally:
            pg.dispose()
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    report(results)
    return 0


def report(results: list[tuple[str, str, float, float, float, float]]) -> None:
    base = {
        (db, key.split(", ")[-1]): med
        for db, key, med, *_ in results
        if key.startswith("baseline: department counts")
    }
    print(
        "\n| database | measurement | wall s, median (min–max) | CPU s | × baseline |"
        "\n|---|---|---|---|---|"
    )
    for db, key, med, lo, hi, cpu in results:
        ref = base.get((db, key.split(", ")[-1]))
        ratio = f"{med / ref:.0f}×" if ref and not key.startswith("baseline") and "," in key else ""
        spread = f" ({lo:.3f}–{hi:.3f})" if hi else ""
        print(f"| {db} | {key} | {med:.3f}{spread} | {cpu:.3f} | {ratio} |")
    for db in dict.fromkeys(r[0] for r in results):
        year = next(r[2] for r in results if r[0] == db and r[1].startswith("FULL") and
                    r[1].endswith(YEAR.key))  # fmt: skip
        month = next(r[2] for r in results if r[0] == db and r[1].startswith("FULL") and
                     r[1].endswith(MONTH.key))  # fmt: skip
        print(
            f"{db}: year {year:.2f} s (target < 5 s: {'met' if year < 5 else 'MISSED'}), "
            f"month {month:.2f} s (target < 1 s: {'met' if month < 1 else 'MISSED'})"
        )


if __name__ == "__main__":
    raise SystemExit(main())
