"""The application's route table: every router's routes sit in it directly, in order; the
busiest routes are served by DirectRoutes with the same answers as through FastAPI."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.middleware.gzip import GZipMiddleware

from cityloop.domain.errors import NotFoundError
from cityloop.entrypoints.api import errors
from cityloop.entrypoints.api.routes import cases as case_routes
from cityloop.entrypoints.routing import add_routes, direct, serve_directly
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


_served: list[str] = []


async def caller(request: Request) -> str:
    """A dependency that needs only the request (as the API's ``ctx``)."""
    _served.append(request.url.path)
    return request.headers.get("x-user", "nobody")


User = Annotated[str, Depends(caller)]
Key = Annotated[str | None, Header(alias="Idempotency-Key")]
Trace = Annotated[str | None, Header()]  # read from the X-Trace-Id header


def _direct_app() -> FastAPI:
    """An application with one route served directly and one the ordinary way, both alike."""
    router = APIRouter(prefix="/things")

    async def answer(
        user: str, number: str, request: Request, key: str | None, trace: str | None
    ) -> JSONResponse:
        if number == "missing":
            raise NotFoundError("thing_not_found", "Thing {id} was not found", id=number)
        if number == "broken":
            raise RuntimeError("a bug")
        body = await request.json() if await request.body() else None
        return JSONResponse(
            {"user": user, "number": number, "key": key, "trace": trace, "body": body}, 201
        )

    @router.post("/{number}")
    @direct
    async def fast(
        user: User, number: str, request: Request, key: Key = None, x_trace_id: Trace = None
    ) -> JSONResponse:
        return await answer(user, number, request, key, x_trace_id)

    @router.post("/{number}/slow")
    async def slow(
        user: User, number: str, request: Request, key: Key = None, x_trace_id: Trace = None
    ) -> JSONResponse:
        return await answer(user, number, request, key, x_trace_id)

    app = FastAPI()
    errors.install(app)
    add_routes(app, [router])
    serve_directly(app)
    return app


def test_a_direct_route_answers_as_fastapi_does() -> None:
    _served.clear()
    app = _direct_app()
    # FastAPI's own handling of the marked route would answer 599: it must never be reached
    marked = next(r for r in app.routes if getattr(r, "path", "") == "/things/{number}")
    assert isinstance(marked, APIRoute)
    marked.app = PlainTextResponse("FastAPI's way", status_code=599)
    client = TestClient(app, raise_server_exceptions=False)
    headers = {
        "x-user": "li",
        "Idempotency-Key": "k1",
        "X-Trace-Id": "t-9",
        "Accept-Language": "en",
    }
    for suffix in ("", "/slow"):
        ok = client.post(f"/things/7{suffix}", json={"a": 1}, headers=headers)
        assert (ok.status_code, ok.json()) == (
            201,
            {"user": "li", "number": "7", "key": "k1", "trace": "t-9", "body": {"a": 1}},
        )
        bare = client.post(f"/things/8{suffix}")
        assert bare.json() == {
            "user": "nobody",
            "number": "8",
            "key": None,
            "trace": None,
            "body": None,
        }
        missing = client.post(f"/things/missing{suffix}", headers=headers)
        assert missing.status_code == 404
        assert missing.json() == {
            "code": "thing_not_found",
            "message": "Thing missing was not found",
            "details": {"id": "missing"},
        }
        assert client.post(f"/things/broken{suffix}").status_code == 500
        # another method on the same path is FastAPI's 405, not the direct route's business
        assert client.get(f"/things/7{suffix}").status_code == 405
    names = ("7", "8", "missing", "broken")
    assert _served == [f"/things/{n}" for n in names] + [f"/things/{n}/slow" for n in names]
    # both are documented alike
    paths = client.get("/openapi.json").json()["paths"]
    assert (
        paths["/things/{number}"]["post"]["parameters"][1:]
        == (paths["/things/{number}/slow"]["post"]["parameters"][1:])
    )


def test_a_route_that_needs_fastapis_solver_cannot_be_marked_direct() -> None:
    router = APIRouter()

    @router.post("/search")
    @direct
    async def search(q: str) -> JSONResponse:
        return JSONResponse({"q": q})

    app = FastAPI()
    add_routes(app, [router])
    serve_directly(app)
    with pytest.raises(ValueError, match="/search cannot be served directly: it has query"):
        TestClient(app).post("/search?q=x")


def test_a_middleware_of_the_application_is_refused_rather_than_bypassed() -> None:
    app = _direct_app()
    app.add_middleware(GZipMiddleware)
    with pytest.raises(RuntimeError, match=r"would bypass the middleware .*GZipMiddleware"):
        TestClient(app).post("/things/7")


def test_intake_and_the_case_actions_are_served_directly(api: Api) -> None:
    marked = {
        (route.path, method)
        for route in api.client.app.routes
        if isinstance(route, APIRoute) and getattr(route.endpoint, "__cityloop_direct__", False)
        for method in route.methods
    }
    assert marked == {
        ("/api/v1/cases", "POST"),
        ("/api/v1/cases/{number}/actions/{action}", "POST"),
    }
