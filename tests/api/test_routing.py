"""The application's route table: every router's routes sit in it directly, in order."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from cityloop.entrypoints.api.routes import cases as case_routes
from cityloop.entrypoints.routing import add_routes
from tests.api.conftest import Api


def test_the_api_and_the_pages_are_routes_of_the_application_itself(api: Api) -> None:
    app = api.client.app
    assert isinstance(app, FastAPI)
    paths = {(route.path, method) for route in app.routes if isinstance(route, APIRoute)
             for method in route.methods}  # fmt: skip
    for path, method in [
        ("/api/v1/cases/{number}/actions/{action}", "POST"),
        ("/api/v1/cases", "POST"),
        ("/api/v1/tasks", "GET"),
        ("/api/v1/auth/token", "POST"),
        ("/work", "GET"),
        ("/admin", "GET"),
    ]:
        assert (path, method) in paths, path
    # every API route of the cases module, once, in the order the module declares them
    mine = [r for r in app.routes if any(r is own for own in case_routes.router.routes)]
    assert mine == case_routes.router.routes


def test_routes_keep_their_order_and_still_answer() -> None:
    first, second = APIRouter(prefix="/x"), APIRouter(prefix="/x")

    @first.get("/fixed")
    def fixed() -> dict[str, str]:
        return {"route": "fixed"}

    @second.get("/{anything}")
    def anything(anything: str) -> dict[str, str]:
        return {"route": "anything", "value": anything}

    app = FastAPI()
    add_routes(app, [first, second])
    client = TestClient(app)
    assert client.get("/x/fixed").json() == {"route": "fixed"}
    assert client.get("/x/other").json() == {"route": "anything", "value": "other"}
    assert client.get("/y").status_code == 404


def test_a_router_with_startup_handlers_is_refused() -> None:
    router = APIRouter(on_startup=[lambda: None])
    with pytest.raises(ValueError, match="startup"):
        add_routes(FastAPI(), [router])
