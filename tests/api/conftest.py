"""An API client on the test city, with a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityloop.bootstrap import Container
from cityloop.entrypoints.api.app import create_app
from tests.conftest import at
from tests.support.city import PASSWORD, City


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: at("2026-11-23 09:00"))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Api:
    client: TestClient
    city: City
    clock: Clock
    container: Container
    tokens: dict[str, str] = field(default_factory=dict)

    def login(self, username: str, role: str | None = None) -> dict[str, str]:
        key = f"{username}:{role}"
        if key not in self.tokens:
            data = {"username": username, "password": PASSWORD}
            if role:
                data["scope"] = f"role:{role}"
            response = self.client.post("/api/v1/auth/token", data=data)
            assert response.status_code == 200, response.text
            self.tokens[key] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[key]}"}

    def get(self, path: str, user: str, **kw: Any) -> Any:
        return self.client.get(
            f"/api/v1{path}", headers={**self.login(user), **kw.pop("headers", {})}, **kw
        )

    def post(self, path: str, user: str, **kw: Any) -> Any:
        return self.client.post(
            f"/api/v1{path}", headers={**self.login(user), **kw.pop("headers", {})}, **kw
        )

    def report(
        self, user: str = "inspector1", grid: str = "110101001001001", **fields: Any
    ) -> dict[str, Any]:
        lon, lat = self.city.point(grid)
        body = {
            "source": "inspector",
            "description": "路边有暴露垃圾",
            "category_code": "06010",
            "lon": lon,
            "lat": lat,
        }
        body.update(fields)
        response = self.post("/cases", user, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def act(self, number: str, action: str, user: str, **fields: Any) -> Any:
        if "version" not in fields:
            fields["version"] = self.get(f"/cases/{number}", user).json()["version"]
        return self.post(f"/cases/{number}/actions/{action}", user, json=fields)


@pytest.fixture
def api(container: Container, city: City) -> Iterator[Api]:
    clock = Clock()
    container.clock = clock
    app = create_app(container)
    with TestClient(app) as client:
        yield Api(client=client, city=city, clock=clock, container=container)
