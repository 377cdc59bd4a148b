"""bench/pages.py — server time of the workbench pages with a queue of 5,000 cases.

    .venv/bin/python bench/pages.py [--cases 5000] [--repeat 40] [--database-url …]

Builds the demo city (a short history) in a fresh database, then files ``--cases`` more cases
so that they all wait in the city dispatcher's queue (待派遣), and times, in process (no
network), each page a dispatcher opens all day: the queue (first page of 100 rows), its live
refresh fragment, the count in the navigation, a search over all cases, the case page and an
action form. Also counts the SQL statements each page runs. Baseline in the same run: the
sign-in page (a template, no query). Limit (issue 5): < 300 ms server time per page.
Prints median and p95 per page and the ratio of the median to the baseline's.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cityloop.adapters.db.migrate import upgrade  # noqa: E402
from cityloop.adapters.db.seed import seed_reference  # noqa: E402
from cityloop.bootstrap import build  # noqa: E402
from cityloop.config import Settings  # noqa: E402
from cityloop.domain.case import Source  # noqa: E402
from cityloop.domain.codes import ClassKind, Edition  # noqa: E402
from cityloop.domain.regions import RegionLevel  # noqa: E402
from cityloop.entrypoints.api.app import create_app  # noqa: E402
from cityloop.entrypoints.demo import run as load_demo  # noqa: E402
from cityloop.entrypoints.demo.city import DemoCity  # noqa: E402
from cityloop.services import cases as svc  # noqa: E402
from cityloop.services.cases import NewReport  # noqa: E402
from cityloop.services.queries.model import CaseCriteria  # noqa: E402

LIMIT_MS = 300.0


def fill_queue(container, city, count: int, now: datetime) -> str:  # type: ignore[no-untyped-def]
    """``count`` filed cases waiting for dispatch; returns one case number."""
    rng = random.Random(7)
    inspectors = [u for u, (_, role, *_rest) in city.users.items() if role.value == "inspector"]
    with container.uow(readonly=True) as uow:
        garbage = uow.catalog.category_by_code(Edition.CURRENT, ClassKind.MATTER, "06010")
        assert garbage is not None
        standard_id = uow.catalog.standards_for(garbage.id)[0].id
    number = ""
    for i in range(count):
        _grid, lon, lat = rng.choice(city.grids)
        when = now - timedelta(minutes=count - i)
        report = NewReport(
            source=Source.INSPECTOR,
            description=f"路边暴露垃圾 第{i}处",
            category_code="06010",
            lon=lon + rng.uniform(-0.00003, 0.00003),
            lat=lat + rng.uniform(-0.00003, 0.00003),
        )
        outcome = svc.report_case(
            container.uow(), report, actor=city.actor(rng.choice(inspectors)), now=when
        )
        case = outcome.case
        case = svc.accept_case(
            container.uow(), case.id, actor=city.actor("operator1"), now=when, version=case.version
        ).case
        case = svc.file_case(
            container.uow(),
            case.id,
            actor=city.actor("shiftlead1"),
            now=when,
            version=case.version,
            standard_id=standard_id,
        ).case
        number = case.number
    return number


def sign_in(client: TestClient, username: str) -> None:
    response = client.post(
        "/login", data={"username": username, "password": "cityloop-demo", "next": "/work"}
    )
    assert response.status_code == 303, response.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--keep", type=Path, help="build in (or reuse) this folder")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        reuse = args.keep is not None and (folder / "cityloop.db").exists()
        settings = Settings(var_dir=folder, database_url=args.database_url)
        container = build(settings)
        now = datetime.now(UTC)
        if reuse:
            with container.uow(readonly=True) as uow:
                rows, _ = uow.queries.search(
                    CaseCriteria(now=now, states=("pending_dispatch",), limit=1)
                )
            number = rows[0].case.number
        else:
            upgrade(container.engine)
            seed_reference(container.engine)
            started = time.monotonic()
            load_demo(container, seed=1, days=3, cases=100, now=now - timedelta(hours=2))
            city = demo_city_from(container)
            number = fill_queue(container, city, args.cases, now - timedelta(minutes=1))
            took = time.monotonic() - started
            print(f"built the city and {args.cases} waiting cases in {took:.0f} s")

        statements = [0]

        @event.listens_for(container.engine, "before_cursor_execute")
        def count(*_args: object) -> None:
            statements[0] += 1

        app = create_app(container)
        with TestClient(app, follow_redirects=False) as client:
            sign_in(client, "dispatcher1")
            pages = {
                "sign-in page (baseline)": "/login",
                "queue /work (100 of the rows)": "/work",
                "queue live refresh /work/rows": "/work/rows",
                "navigation count /work/count": "/work/count",
                "search, all cases": "/search?q=",
                "search by text": "/search?q=%E5%9E%83%E5%9C%BE",
                "case page": f"/cases/{number}",
                "case page with dispatch form": f"/cases/{number}?act=dispatch",
            }
            results = {}
            for name, path in pages.items():
                client.get(path)  # warm caches, like a page a person opens all day
                times, queries = [], 0
                for _ in range(args.repeat):
                    before = statements[0]
                    t0 = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - t0) * 1000)
                    queries = statements[0] - before
                    assert response.status_code == 200, (path, response.status_code)
                times.sort()
                results[name] = (
                    statistics.median(times),
                    times[int(len(times) * 0.95) - 1],
                    queries,
                )
        base = results["sign-in page (baseline)"][0]
        print(f"{'page':36} {'median ms':>10} {'p95 ms':>8} {'SQL':>4} {'× baseline':>11}")
        for name, (median, p95, queries) in results.items():
            flag = "" if median < LIMIT_MS else "  OVER the 300 ms limit"
            print(f"{name:36} {median:10.1f} {p95:8.1f} {queries:4d} {median / base:11.1f}{flag}")


def demo_city_from(container):  # type: ignore[no-untyped-def]
    """The demo's users and grids, read back from the database."""
    city = DemoCity()
    with container.uow(readonly=True) as uow:
        for user in uow.org.users():
            grant = user.grants[0]
            city.users[user.username] = (
                user.id,
                grant.role,
                grant.district_code,
                grant.department_id,
            )
        for grid in uow.regions.of_level(RegionLevel.GRID):
            if grid.centroid is not None:
                city.grids.append((grid.code, grid.centroid[0], grid.centroid[1]))
    return city


if __name__ == "__main__":
    main()
