"""End-to-end: a real server on the test city, driven by the system's Chromium.

Every page a test visits is saved as a screenshot under ``test-artifacts/screenshots/<test>/``
(CI keeps the folder as an artifact). The server runs uvicorn in a thread on a free port over
a fresh SQLite copy of the test database; tests read the database directly to check results.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from cityloop.bootstrap import Container
from cityloop.domain.case import Case
from cityloop.entrypoints.api.app import create_app
from cityloop.entrypoints.api.routes.map import map_settings
from tests.api.conftest import Api, Clock
from tests.support.city import PASSWORD, City, centre_of
from tests.support.containers import sqlite_city

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("CITYLOOP_CHROMIUM", "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


@dataclass
class Server:
    url: str
    container: Container
    city: City
    api: Api

    def case(self, number: str) -> Case:
        with self.container.uow(readonly=True) as uow:
            case = uow.cases.get_by_number(number)
        assert case is not None, number
        return case


@pytest.fixture
def server(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Server]:
    container, city = sqlite_city(sqlite_template, tmp_path)
    # The registration map opens on the test city's first grid.
    lon, lat = centre_of("110101001001001")
    monkeypatch.setenv("CITYLOOP_MAP_CENTRE_LON", str(lon))
    monkeypatch.setenv("CITYLOOP_MAP_CENTRE_LAT", str(lat))
    monkeypatch.setenv("CITYLOOP_MAP_ZOOM", "18")
    map_settings.cache_clear()
    app = create_app(container)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the server did not start")
        time.sleep(0.05)
    from fastapi.testclient import TestClient

    client = TestClient(app, base_url=f"http://127.0.0.1:{port}")
    api = Api(client=client, city=city, clock=Clock(), container=container)
    yield Server(f"http://127.0.0.1:{port}", container, city, api)
    uv.should_exit = True
    thread.join(timeout=10)
    map_settings.cache_clear()
    container.dispose()


@dataclass
class Person:
    """One person at their browser: signs in, clicks, and leaves a screenshot of every page."""

    page: Page
    server: Server
    folder: Path
    username: str
    shots: list[Path] = field(default_factory=list)
    counter: list[int] = field(default_factory=lambda: [0])

    def shot(self, name: str) -> None:
        self.counter[0] += 1
        path = self.folder / f"{self.counter[0]:02d}-{self.username}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)

    def open(self, path: str, name: str) -> None:
        self.page.goto(self.server.url + path)
        self.page.wait_for_load_state("networkidle")
        self.shot(name)

    def sign_in(self, lang: str = "") -> None:
        self.page.goto(self.server.url + "/login")
        if lang == "en":
            self.page.click("a[lang=en]")
        self.page.fill("#username", self.username)
        self.page.fill("#password", PASSWORD)
        self.shot("sign-in")
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("networkidle")
        self.shot("after-sign-in")

    def open_case(self, number: str) -> None:
        self.open(f"/cases/{number}", f"case-{number}")

    def act(self, action: str, **fields: Any) -> None:
        """Click the action's button on the case page, fill its form, submit."""
        self.page.click(f".action-box a[data-action='{action}']")
        self.page.wait_for_selector(f"#action-form[data-action='{action}']")
        for name, value in fields.items():
            if name == "photos":
                self.page.set_input_files("#f-photos", value)
                continue
            selector = f"#f-{name}"
            tag = self.page.eval_on_selector(selector, "e => e.tagName")
            if tag == "SELECT":
                self.page.select_option(selector, str(value))
            else:
                self.page.fill(selector, str(value))
        self.shot(f"form-{action}")
        self.page.click("#action-form button[type=submit]")
        self.page.wait_for_load_state("networkidle")
        self.shot(f"after-{action}")


@pytest.fixture
def people(browser: Browser, server: Server, request: pytest.FixtureRequest) -> Iterator[Any]:
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    contexts = []
    counter = [0]

    def person(username: str, *, width: int = 1366, height: int = 768) -> Person:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.errors = errors  # type: ignore[attr-defined]
        return Person(page, server, folder, username, counter=counter)

    yield person
    for context in contexts:
        for page in context.pages:
            assert not getattr(page, "errors", []), page.errors  # type: ignore[attr-defined]
        context.close()
