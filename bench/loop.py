"""bench/loop.py — complete cases through the HTTP API, against a bare-FastAPI baseline.

    .venv/bin/python bench/loop.py [--duration 20] [--concurrency 32] [--workers 1]
                                   [--database-url postgresql://…]

Each of ``--concurrency`` clients walks cases through the real loop with real tokens:
report (inspector) → accept (operator) → file (shift lead) → dispatch (dispatcher) →
sign → feedback with a photo (department) → request check (operator) → pass check
(inspector, the task's assignee) → close (shift lead): 9 requests per case, against uvicorn
serving ``cityloop.entrypoints.api.app`` exactly as ``make run`` does. In the same run, the
baseline: a bare FastAPI endpoint on the same server settings inserting one row per request
with the standard library's sqlite3 (bench/baseline_app.py: a validated case body, one row of
a realistic case table), driven by the same client; and, for comparison only, the barest such
endpoint (a hand-parsed body, one row of three columns).

Prints cases/s, requests/s, p50/p99 latency, errors, and the ratio of the loop's requests/s to
the baseline's. Medians of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from httpclient import Connection

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tiny_jpeg(n: int = 0) -> bytes:
    """A small photo whose pixels differ with ``n``: every case's photo is a new file for the
    server to store, as in the street."""
    from PIL import Image

    image = Image.new("RGB", (64, 48), (120, 160, 90))
    for bit in range(24):  # n's bits as light 8×8 blocks, one block per bit
        if n >> bit & 1:
            x, y = bit % 8 * 8, bit // 8 * 8
            image.paste((240, 240, 230), (x, y, x + 8, y + 8))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()


@dataclass
class Result:
    seconds: float
    cases: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        data = sorted(self.latencies)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, int(q * len(data)))] * 1000


def prepare_city(env: dict[str, str]) -> dict[str, Any]:
    """Migrate, seed and load the demo city's organisation (no history) in a subprocess-free
    way, and return what the clients need."""
    os.environ.update(env)
    from cityloop.adapters.db.migrate import upgrade
    from cityloop.adapters.db.seed import seed_reference
    from cityloop.adapters.passwords import Argon2Passwords
    from cityloop.bootstrap import build
    from cityloop.config import Settings
    from cityloop.entrypoints.demo import city as demo_city

    container = build(Settings())
    upgrade(container.engine)
    seed_reference(container.engine)
    container.passwords = Argon2Passwords(fast=True)
    now = datetime.now(UTC)
    city = demo_city.DemoCity()
    demo_city.build_departments(container, now, city)
    city.grids = demo_city.build_regions(container, 7, now, city.street_offices)
    demo_city.build_users(container, now, city, city.grids)
    demo_city.build_dispatch_rules(container, now, city)
    grids = city.grids[:: max(1, len(city.grids) // 64)]
    with container.uow(readonly=True) as uow:
        spots = []
        for code, lon, lat in grids:
            region = uow.regions.by_code(code)
            assert region is not None
            inspector = uow.org.inspectors_for_grid(region.id)[0]
            name = next(n for n, u in city.users.items() if u[0] == inspector)
            spots.append((lon, lat, name))
        from cityloop.domain.codes import ClassKind, Edition

        category = uow.catalog.category_by_code(Edition.CURRENT, ClassKind.MATTER, "06010")
        assert category is not None
        standard = uow.catalog.standards_for(category.id)[0].id
    container.dispose()
    return {
        "spots": spots,
        "standard": standard,
        "department": city.departments["cgw"],
        "password": demo_city.PASSWORD,
    }


def serve(app: str, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """uvicorn with the options of `cityloop serve` (as `make run` serves), quieter at startup."""
    from cityloop.entrypoints.cli import serve_options

    options = serve_options()
    cmd = [
        PYTHON,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        str(options["loop"]),
        "--http",
        str(options["http"]),
        "--access-log" if options["access_log"] else "--no-access-log",
        "--log-level",
        "warning",
    ]
    if app.endswith("create_app"):
        cmd.append("--factory")
    process = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server {app} did not start")


async def login(conn: Connection, user: str, password: str) -> str:
    r = await conn.form("/api/v1/auth/token", {"username": user, "password": password})
    assert r.status == 200, r.body
    return str(r.json()["access_token"])


async def run_loop(port: int, city: dict[str, Any], duration: float, concurrency: int) -> Result:
    photos = iter(range(1_000_000))
    setup = Connection("127.0.0.1", port)
    tokens: dict[str, str] = {}
    names = {"operator1", "shiftlead1", "dispatcher1", "dept_cgw"} | {s[2] for s in city["spots"]}
    for name in names:
        tokens[name] = await login(setup, name, city["password"])
    await setup.close()
    result = Result(seconds=duration)
    stop = time.monotonic() + duration

    async def step(
        conn: Connection, number: str, action: str, user: str, payload: dict[str, Any]
    ) -> int:
        r = await conn.json(
            "POST", f"/api/v1/cases/{number}/actions/{action}", payload, token=tokens[user]
        )
        return check(r)

    def check(r: Any) -> int:
        result.latencies.append(r.seconds)
        if r.status >= 300:
            result.errors += 1
            if len(result.error_samples) < 5:
                result.error_samples.append(f"{r.status} {r.body[:200]!r}")
            raise RuntimeError(r.status)
        return int(r.json()["version"])

    async def client(i: int) -> None:
        conn = Connection("127.0.0.1", port)
        n = 0
        while time.monotonic() < stop:
            lon, lat, inspector = city["spots"][(i * 7 + n) % len(city["spots"])]
            n += 1
            try:
                r = await conn.json(
                    "POST",
                    "/api/v1/cases",
                    {
                        "source": "inspector",
                        "description": "路边堆放生活垃圾未清运",
                        "category_code": "06010",
                        "lon": lon,
                        "lat": lat,
                    },
                    token=tokens[inspector],
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
                v = check(r)
                number = r.json()["number"]
                v = await step(conn, number, "accept", "operator1", {"version": v})
                v = await step(
                    conn,
                    number,
                    "file",
                    "shiftlead1",
                    {"version": v, "standard_id": city["standard"]},
                )
                v = await step(
                    conn,
                    number,
                    "dispatch",
                    "dispatcher1",
                    {"version": v, "department_id": city["department"]},
                )
                v = await step(conn, number, "sign", "dept_cgw", {"version": v})
                r = await conn.multipart(
                    f"/api/v1/cases/{number}/actions/feedback",
                    {"version": v, "comment": "已清理"},
                    [("after.jpg", tiny_jpeg(next(photos)), "image/jpeg")],
                    token=tokens["dept_cgw"],
                )
                v = check(r)
                v = await step(conn, number, "request_check", "operator1", {"version": v})
                v = await step(conn, number, "pass_check", inspector, {})
                await step(conn, number, "close", "shiftlead1", {"version": v})
                result.cases += 1
            except (RuntimeError, ConnectionError, OSError):
                await conn.close()
        await conn.close()

    started = time.monotonic()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    result.seconds = time.monotonic() - started
    return result


# The baseline's body: about 600 bytes of JSON with Chinese text, as perf-limits.md §5 measured.
BASELINE_CASE = {
    "source": "inspector",
    "category_code": "06010",
    "description": "东四北大街与东四十条路口东南角人行道上堆放生活垃圾约两立方米，已有异味，"
    "影响行人通行，周边商户反映已有两天无人清运，请尽快处理。" * 2,
    "address": "北京市东城区东四街道东四北大街东四十条路口东南角",
    "phone": "13800138000",
    "lon": 116.41,
    "lat": 39.91,
}


async def run_baseline(port: int, path: str, duration: float, concurrency: int) -> Result:
    result = Result(seconds=duration)
    stop = time.monotonic() + duration

    async def client() -> None:
        conn = Connection("127.0.0.1", port)
        while time.monotonic() < stop:
            r = await conn.json("POST", path, BASELINE_CASE)
            result.latencies.append(r.seconds)
            if r.status >= 300:
                result.errors += 1
        await conn.close()

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.seconds = time.monotonic() - started
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (both servers)")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in a temp dir)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cityloop-bench-") as tmp:
        env = {"CITYLOOP_VAR_DIR": tmp}
        if args.database_url:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            from sqlalchemy import text

            from cityloop.adapters.db.engine import make_engine

            admin = make_engine(args.database_url)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            # The schema by libpq's PGOPTIONS, not in the URL: a percent-escaped URL breaks the
            # migrations' config file (configparser interpolation).
            env["CITYLOOP_DATABASE_URL"] = args.database_url
            env["PGOPTIONS"] = f"-c search_path={schema}"
        try:
            print("preparing the city (organisation of the demo city, no history) …", flush=True)
            city = prepare_city(env)
            backend = "PostgreSQL" if args.database_url else "SQLite"
            loops: list[Result] = []
            bases: list[Result] = []
            bares: list[Result] = []
            for run in range(args.runs):
                port = free_port()
                server = serve("cityloop.entrypoints.api.app:create_app", port, args.workers, env)
                try:
                    loops.append(asyncio.run(run_loop(port, city, args.duration, args.concurrency)))
                finally:
                    server.terminate()
                    server.wait(timeout=30)
                for path, results in (("/cases", bases), ("/rows", bares)):
                    port = free_port()
                    base_env = {
                        "BASELINE_DB": str(Path(tmp) / f"baseline-{run}{path[1:]}.db"),
                        "PYTHONPATH": str(ROOT / "bench"),
                    }
                    server = serve("baseline_app:app", port, args.workers, base_env)
                    try:
                        results.append(
                            asyncio.run(run_baseline(port, path, args.duration, args.concurrency))
                        )
                    finally:
                        server.terminate()
                        server.wait(timeout=30)
                loop, base, bare = loops[-1], bases[-1], bares[-1]
                print(
                    f"run {run + 1}: loop {loop.rps:7.1f} req/s {loop.cases / loop.seconds:6.1f} "
                    f"cases/s p99 {loop.pct(0.99):6.1f} ms errors {loop.errors} | baseline "
                    f"{base.rps:7.1f} req/s p99 {base.pct(0.99):6.1f} ms | "
                    f"bare {bare.rps:7.1f} req/s | ratio {loop.rps / base.rps:.2f}",
                    flush=True,
                )
                for sample in loop.error_samples:
                    print("   error:", sample)
        finally:
            if args.database_url:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    def med(values: list[float]) -> float:
        return statistics.median(values)

    rps = med([r.rps for r in loops])
    cps = med([r.cases / r.seconds for r in loops])
    base_rps = med([r.rps for r in bases])
    bare_rps = med([r.rps for r in bares])
    print()
    print(
        f"loop on {backend}, {args.concurrency} clients, {args.workers} worker(s), "
        f"median of {args.runs} runs of {args.duration:.0f} s"
    )
    print(f"  complete cases/s   {cps:8.1f}   (target ≥ 50)")
    print(f"  requests/s         {rps:8.1f}")
    print(f"  p50 latency        {med([r.pct(0.5) for r in loops]):8.1f} ms")
    print(f"  p99 latency        {med([r.pct(0.99) for r in loops]):8.1f} ms   (target ≤ 250)")
    print(f"  failed requests    {sum(r.errors for r in loops):8d}      (target 0)")
    print("baseline: bare FastAPI, validated body, one case row with sqlite3, same server")
    print(f"  requests/s         {base_rps:8.1f}")
    print(f"  p99 latency        {med([r.pct(0.99) for r in bases]):8.1f} ms")
    print(f"  failed requests    {sum(r.errors for r in bases):8d}")
    print(f"ratio loop/baseline requests/s: {rps / base_rps:.2f}   (target ≥ 0.35)")
    print(
        f"for comparison, the barest endpoint (hand-parsed body, one 3-column row): "
        f"{bare_rps:.1f} req/s, ratio {rps / bare_rps:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
