"""Pages on the test city: one signed-in browser-like client per user, a clock the test moves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from cityloop.bootstrap import Container
from cityloop.entrypoints.api.app import create_app
from cityloop.entrypoints.web.session import COOKIE
from tests.api.conftest import Api, Clock
from tests.support.city import PASSWORD, City

_CSRF = re.compile(r'name="_csrf" value="([0-9a-f]+)"')


@dataclass
class Browser:
    """A signed-in user's client: cookies kept, redirects not followed unless asked."""

    client: TestClient
    username: str

    def get(self, path: str, **kw: Any) -> Response:
        return self.client.get(path, **kw)

    def csrf(self) -> str:
        cookie = self.client.cookies.get(COOKIE)
        assert cookie, "not signed in"
        session = self.client.app.state.signer.load(cookie)  # type: ignore[attr-defined]
        return str(self.client.app.state.signer.csrf(session.token))  # type: ignore[attr-defined]

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Response:
        """A form post with the session's CSRF token."""
        return self.client.post(path, data={"_csrf": self.csrf(), **(data or {})}, **kw)

    def page_csrf(self, html: str) -> str:
        match = _CSRF.search(html)
        assert match, "the page has no form token"
        return match.group(1)


@dataclass
class Web:
    app: Any
    city: City
    clock: Clock
    container: Container
    api: Api
    browsers: dict[str, Browser] = field(default_factory=dict)

    def sign_in(self, username: str, *, lang: str = "zh_CN") -> Browser:
        if username not in self.browsers:
            client = TestClient(self.app, follow_redirects=False)
            response = client.post(
                "/login",
                data={"username": username, "password": PASSWORD, "next": "/work", "lang": lang},
            )
            assert response.status_code == 303, response.text
            self.browsers[username] = Browser(client, username)
        return self.browsers[username]


@pytest.fixture
def web(container: Container, city: City) -> Iterator[Web]:
    clock = Clock()
    container.clock = clock
    app = create_app(container)
    with TestClient(app) as client:
        api = Api(client=client, city=city, clock=clock, container=container)
        yield Web(app=app, city=city, clock=clock, container=container, api=api)
