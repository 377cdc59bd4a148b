"""The baseline of bench/loop.py: a bare FastAPI endpoint that inserts one row per request with
the standard library's sqlite3 (WAL, synchronous=NORMAL, one writer per process at a time), on
the same server settings as cityloop. Served with
``uvicorn bench.baseline_app:app`` and ``BASELINE_DB=/path/to.db``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

DB = os.environ.get("BASELINE_DB", "baseline.db")
_local = threading.local()
_write = threading.Lock()


def _conn() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, at INTEGER, body TEXT)"
        )
        _local.conn = conn
    return conn


app = FastAPI()


@app.post("/rows")
async def insert_row(request: Request) -> JSONResponse:
    body = await request.body()
    text = json.loads(body)["description"]
    with _write:
        conn = _conn()
        cursor = conn.execute("INSERT INTO rows (at, body) VALUES (?, ?)", (time.time_ns(), text))
        row_id = cursor.lastrowid
    return JSONResponse({"id": row_id}, status_code=201)
