"""The baseline of bench/loop.py: a bare FastAPI endpoint that creates a case with the standard
library's sqlite3, on the same server settings as cityloop. Served with
``uvicorn baseline_app:app`` (``bench/`` on the path) and ``BASELINE_DB=/path/to.db``.

It is the endpoint issue 3 names, written the way the project's reference measurements wrote it
(../shared/reference/perf-limits.md §5, "FastAPI + raw sqlite3 on the event loop", where the
issue's 700–1,100 requests/s comes from): an ``async def`` endpoint whose JSON body (about 600
bytes with Chinese text) pydantic validates, and which inserts one case row (26 columns, five
indexes) in a transaction on the event-loop thread; the file in WAL mode with
``synchronous=NORMAL`` and foreign keys on, as cityloop's own. (The reference endpoint also wrote
an event row; here that made no difference beyond the machine's noise.) No authentication, no
workflow, no deadline, no grid lookup: everything cityloop does besides is what the ratio
measures.

``POST /rows`` is the barest form, for comparison only: the JSON parsed by hand, one row of three
columns, no index.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import time
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

DB = os.environ.get("BASELINE_DB", "baseline.db")

SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    id INTEGER PRIMARY KEY,
    case_no TEXT NOT NULL,
    source TEXT NOT NULL,
    kind INTEGER NOT NULL,
    category_code TEXT NOT NULL,
    standard_id INTEGER,
    dept_id INTEGER,
    grid_id INTEGER,
    street_code TEXT,
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    x REAL,
    y REAL,
    address TEXT,
    description TEXT NOT NULL,
    phone TEXT,
    priority INTEGER NOT NULL,
    status TEXT NOT NULL,
    light TEXT,
    version INTEGER NOT NULL,
    reporter TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deadline INTEGER,
    closed_at INTEGER,
    rework_count INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS cases_case_no ON cases (case_no);
CREATE INDEX IF NOT EXISTS cases_dept_status ON cases (dept_id, status);
CREATE INDEX IF NOT EXISTS cases_grid ON cases (grid_id);
CREATE INDEX IF NOT EXISTS cases_created ON cases (created_at);
CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, at INTEGER, body TEXT);
"""


class NewCase(BaseModel):
    source: str = Field(min_length=1, max_length=32)
    category_code: str = Field(pattern=r"^\d{5,6}$")
    description: str = Field(min_length=1, max_length=2000)
    address: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


_conn: sqlite3.Connection | None = None
_numbers = itertools.count(1)


def conn() -> sqlite3.Connection:
    global _conn
    if _conn is None:
        _conn = sqlite3.connect(DB, isolation_level=None, check_same_thread=False, timeout=5)
        _conn.execute("PRAGMA journal_mode=WAL")
        _conn.execute("PRAGMA synchronous=NORMAL")
        _conn.execute("PRAGMA foreign_keys=ON")
        _conn.executescript(SCHEMA)
    return _conn


# Telemetry off as in cityloop's app, so the baseline pays nothing cityloop does not.
app = FastAPI(telemetry={"tracing": False, "metrics": False, "logs": False})


@app.post("/cases", status_code=201)
async def create_case(body: NewCase) -> dict[str, object]:
    now = time.time_ns()
    number = f"{datetime.now(UTC):%Y%m%d}{os.getpid() % 100:02d}{next(_numbers):07d}"
    db = conn()
    db.execute("BEGIN")
    try:
        cursor = db.execute(
            "INSERT INTO cases (case_no, source, kind, category_code, lon, lat, address,"
            " description, phone, priority, status, version, created_at, updated_at,"
            " rework_count) VALUES (?, ?, 2, ?, ?, ?, ?, ?, ?, 0, 'reported', 1, ?, ?, 0)",
            (
                number,
                body.source,
                body.category_code,
                body.lon,
                body.lat,
                body.address,
                body.description,
                body.phone,
                now,
                now,
            ),
        )
        case_id = cursor.lastrowid
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return {"id": case_id, "number": number}


@app.post("/rows")
async def insert_row(request: Request) -> JSONResponse:
    """The bare variant: a hand-parsed body and one three-column row."""
    text = json.loads(await request.body())["description"]
    cursor = conn().execute("INSERT INTO rows (at, body) VALUES (?, ?)", (time.time_ns(), text))
    return JSONResponse({"id": cursor.lastrowid}, status_code=201)
