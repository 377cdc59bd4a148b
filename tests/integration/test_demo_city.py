"""The demo city (``cityloop demo``): what it holds, that it comes from the services, that the
same seed gives the same city, and that docs/api-walkthrough.md runs against it with curl."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import text

from cityloop.adapters.db.engine import make_engine
from cityloop.bootstrap import Container
from cityloop.domain.case import CaseState
from cityloop.domain.roles import Role
from cityloop.entrypoints.api.app import create_app
from cityloop.entrypoints.demo import DemoReport, run
from cityloop.services.demo import demo_logins, demo_marker
from tests.support.containers import make_container

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@dataclass
class Demo:
    container: Container
    report: DemoReport
    path: Path


def _load(template: Path, folder: Path, *, seed: int, days: int, cases: int) -> Demo:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "demo.db"
    shutil.copyfile(template, path)
    engine = make_engine(f"sqlite:///{path}")
    container = make_container(engine, folder / "var")
    report = run(container, seed=seed, days=days, cases=cases, now=NOW)
    container.locator.reload()
    return Demo(container, report, path)


@pytest.fixture(scope="module")
def demo(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    loaded = _load(sqlite_template, tmp_path_factory.mktemp("demo"), seed=7, days=20, cases=600)
    yield loaded
    loaded.container.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rows(demo: Demo, sql: str) -> list[tuple[object, ...]]:
    with demo.container.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_the_organisation_is_a_real_district_with_every_role(demo: Demo) -> None:
    names = {r[0] for r in _rows(demo, "SELECT name FROM departments")}
    for department in (
        "东城区城市管理委员会",
        "东城区城市管理综合行政执法局",
        "东城区园林绿化局",
        "东城区水务局",
    ):
        assert department in names
    assert sum(1 for n in names if n.endswith("街道办事处")) == 17
    streets = _rows(demo, "SELECT code, name FROM regions WHERE level = 'street'")
    assert len(streets) == 17
    assert ("110101001", "东华门街道") in streets
    assert all(str(code).startswith("110101") for code, _ in streets)
    roles = {role for role, _, _ in demo_logins(demo.container.uow(readonly=True))}
    assert roles >= {
        Role.INSPECTOR,
        Role.OPERATOR,
        Role.SHIFT_LEAD,
        Role.DISPATCHER,
        Role.HANDLER,
        Role.LEADER,
        Role.ADMIN,
        Role.CITIZEN,
    }
    assert demo_marker(demo.container.uow(readonly=True)) == {
        "seed": 7,
        "loaded_at": NOW.isoformat(),
    }


def test_unit_grids_are_numbered_west_to_east_then_north_to_south(demo: Demo) -> None:
    rows = _rows(
        demo,
        "SELECT code, centroid_lon, centroid_lat FROM regions "
        "WHERE level = 'grid' AND code LIKE '110101001001%' ORDER BY code",
    )
    assert len(rows) > 5
    assert all(re.fullmatch(r"110101001001\d{3}", str(code)) for code, _, _ in rows)
    assert rows[0][0] == "110101001001001"
    # Along the numbering, each next grid lies east on the same row or on a row further south.
    for (_, lon_a, lat_a), (_, lon_b, lat_b) in pairwise(rows):
        assert isinstance(lon_a, float) and isinstance(lat_a, float)
        assert isinstance(lon_b, float) and isinstance(lat_b, float)
        same_row = abs(lat_a - lat_b) < 0.0005
        assert (same_row and lon_b > lon_a) or lat_b < lat_a


def test_every_role_finds_work_waiting_in_its_queue(demo: Demo) -> None:
    """The held cases: the centre, the departments and the inspectors each have something
    to do when the demo opens, and a held case got there by the services like any other."""
    open_tasks = _rows(demo, "SELECT kind, count(*) FROM tasks WHERE state = 'open' GROUP BY kind")
    assert {kind for kind, _ in open_tasks} == {"verify", "check"}
    # the inspector the sign-in page shows has some of them
    shown = {role: name for role, name, _ in demo_logins(demo.container.uow(readonly=True))}
    mine = _rows(
        demo,
        "SELECT t.kind FROM tasks t JOIN users u ON u.id = t.assignee_id "
        f"WHERE t.state = 'open' AND u.username = '{shown[Role.INSPECTOR]}'",
    )
    assert {kind for (kind,) in mine} == {"verify", "check"}
    for role, states in [
        ("operator", ("reported", "verified", "self_handled", "handled")),
        ("shift_lead", ("pending_filing", "void_requested", "pending_close", "check_failed")),
        ("dispatcher", ("pending_dispatch", "return_requested", "extension_requested")),
        ("handler", ("dispatched", "handling")),
    ]:
        marks = ", ".join(f"'{s}'" for s in states)
        waiting = _rows(demo, f"SELECT count(*) FROM cases WHERE state IN ({marks})")
        assert waiting[0][0] > 0, role
    # some open cases are past their stage's time limit (red light), not all
    now_us = int(NOW.timestamp() * 1_000_000)
    open_ = "state NOT IN ('closed', 'rejected', 'voided', 'merged', 'suspended')"
    late, timed = _rows(
        demo,
        f"SELECT sum(stage_deadline < {now_us}), count(stage_deadline) FROM cases WHERE {open_}",
    )[0]
    assert isinstance(late, int) and isinstance(timed, int)
    assert 0 < late < timed
    # nothing waits at the centre's desk for days: the centre works every report
    desk = "'reported', 'verified', 'pending_filing', 'pending_dispatch'"
    oldest = _rows(demo, f"SELECT min(reported_at) FROM cases WHERE state IN ({desk})")[0][0]
    assert isinstance(oldest, int)
    assert oldest >= int((NOW - timedelta(days=3)).timestamp() * 1_000_000)
    # a case held in 核查未通过 went through report → … → check failed, each a timeline line
    held = _rows(demo, "SELECT id FROM cases WHERE state = 'check_failed' ORDER BY id LIMIT 1")
    actions = [a for (a,) in _rows(
        demo, f"SELECT action FROM case_events WHERE case_id = {held[0][0]} ORDER BY seq"
    )]  # fmt: skip
    for needed in ("report", "file", "dispatch", "sign", "feedback", "request_check"):
        assert needed in actions, (needed, actions)
    assert actions[-1] == "fail_check"


def test_the_history_is_made_by_the_services_and_reaches_every_branch(demo: Demo) -> None:
    report = demo.report
    assert report.stats.reported >= 500
    states = Counter(dict(report.states))
    # every state of the case life cycle holds cases "now", so every role finds work waiting
    assert [s.value for s in CaseState if states[s.value] == 0] == []
    # and no step of the simulation was refused by the rules (a refused step leaves its case
    # stuck where nobody would leave it)
    assert report.stats.refused_by_rules == 0
    assert sum(states.values()) == report.stats.reported
    # Every case opens with its report event (an inspector's self-handled report is one too),
    # and every state change has its timeline line.
    first = _rows(
        demo,
        "SELECT c.id FROM cases c LEFT JOIN case_events e ON e.case_id = c.id AND e.seq = 1 "
        "WHERE e.action IS NULL OR e.action NOT IN ('report', 'report_self_handled')",
    )
    assert first == []
    assert _rows(
        demo,
        "SELECT count(*) FROM cases WHERE event_seq <> "
        "(SELECT count(*) FROM case_events e WHERE e.case_id = cases.id)",
    ) == [(0,)]
    actions = {str(r[0]) for r in _rows(demo, "SELECT DISTINCT action FROM case_events")}
    # The branches the issue asks the history to show: reworked, extended, suspended,
    # returned, voided, merged.
    assert actions >= {
        "report",
        "file",
        "dispatch",
        "feedback",
        "close",
        "reject",
        "rework",
        "approve_extension",
        "approve_suspension",
        "approve_return",
        "approve_void",
        "merge",
    }
    sources = {str(r[0]) for r in _rows(demo, "SELECT DISTINCT source FROM cases")}
    assert len(sources) >= 5
    # The history is folded into the evaluation facts: the first evaluation page folds nothing.
    with demo.container.uow(readonly=True) as uow:
        assert not uow.evaluation.facts_stale()
    # 20 days of history ending at NOW, and nothing in the future.
    first_at, last_at = _rows(demo, "SELECT min(reported_at), max(reported_at) FROM cases")[0]
    assert isinstance(first_at, int) and isinstance(last_at, int)
    start = NOW - timedelta(days=20)
    assert first_at >= int((start - timedelta(days=1)).timestamp() * 1_000_000)
    assert last_at <= int(NOW.timestamp() * 1_000_000)


def test_a_citizen_s_reports_carry_that_citizen_s_own_name_and_phone(demo: Demo) -> None:
    rows = _rows(
        demo,
        "SELECT u.username, u.display_name, u.phone, c.reporter_name, c.reporter_phone "
        "FROM cases c JOIN users u ON u.id = c.reporter_user_id "
        "JOIN user_roles r ON r.user_id = u.id AND r.role = 'citizen'",
    )
    assert {r[0] for r in rows} == {"citizen1", "citizen2"}
    for _username, display, phone, name, reported_phone in rows:
        assert phone and reported_phone == phone
        assert name and str(display).endswith(str(name))  # 市民刘先生 reports as 刘先生
    # callers without an account are many people, not one
    callers = _rows(
        demo,
        "SELECT count(DISTINCT reporter_phone) FROM cases "
        "WHERE reporter_user_id IS NULL OR reporter_user_id NOT IN "
        "(SELECT user_id FROM user_roles WHERE role = 'citizen')",
    )
    assert int(str(callers[0][0])) > 50


def test_the_same_seed_gives_the_same_city(
    demo: Demo, sqlite_template: Path, tmp_path: Path
) -> None:
    again = _load(sqlite_template, tmp_path / "again", seed=7, days=20, cases=600)
    other = _load(sqlite_template, tmp_path / "other", seed=8, days=20, cases=600)
    try:
        sql = "SELECT number, state, category_id, grid_code, source FROM cases ORDER BY number"
        assert _rows(again, sql) == _rows(demo, sql)
        assert _rows(other, sql) != _rows(demo, sql)
    finally:
        again.container.dispose()
        other.container.dispose()


def test_the_curl_walkthrough_runs_as_written(demo: Demo, tmp_path: Path) -> None:
    """docs/api-walkthrough.md's shell blocks, pasted into bash against a live server."""
    if shutil.which("curl") is None:
        pytest.fail("curl is not installed (apt install curl)")
    doc = (ROOT / "docs" / "api-walkthrough.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", doc, flags=re.S)
    assert len(blocks) >= 5
    script = "set -euo pipefail\n" + "\n".join(blocks)
    app = create_app(demo.container)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=tmp_path,
            env={
                "PATH": "/usr/bin:/bin",
                "B": f"http://127.0.0.1:{port}/api/v1",
                "PYTHON": sys.executable,
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert done.returncode == 0, done.stderr + done.stdout
    out = done.stdout
    for line in (
        "accept → pending_filing",
        "file → pending_dispatch",
        "dispatch → dispatched",
        "sign → handling",
        "feedback → handled",
        "request_check → checking",
        "close → closed",
    ):
        assert line in out
    assert (
        "report → accept → file → dispatch → sign → feedback → request_check → pass_check → close"
        in out
    )
    assert '"code":"case_changed"' in out
    assert list(tmp_path.iterdir()) == []  # the walkthrough tidies up after itself
