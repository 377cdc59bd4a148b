"""The web application: the REST API under /api/v1 and the server-rendered workbenches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from cityloop.bootstrap import Container, build
from cityloop.entrypoints.api import errors
from cityloop.entrypoints.api.deps import TokenCache, security_scheme
from cityloop.entrypoints.api.routes import (
    auth,
    base_data,
    cases,
    evaluation,
    geocoding,
    lookups,
    map,
    tasks,
)
from cityloop.entrypoints.api.schemas import API
from cityloop.entrypoints.routing import add_routes, serve_directly
from cityloop.entrypoints.web.install import install as install_pages
from cityloop.services.demo import demo_marker

STATIC = Path(str(resources.files("cityloop") / "entrypoints" / "web" / "static"))

DESCRIPTION = """
cityloop's versioned HTTP API: intake, work queues, the case loop of GB/T 30428, tasks and
reference lookups. Errors are JSON `{code, message, details}` with the message in the language
of `Accept-Language` (zh-CN by default, en). Sign in with `POST /api/v1/auth/token`.
"""


def warm_up(container: Container) -> None:
    """Build the in-memory indexes a request would otherwise pay for (grid locator, clocks)."""
    container.locator.locate(0.0, 0.0)
    with container.uow(readonly=True) as uow:
        uow.sla.clocks()


def create_app(container: Container | None = None) -> FastAPI:
    container = container or build()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Load the grid index and the working calendar before the first request needs them.
        await run_in_threadpool(warm_up, container)
        app.state.demo = await run_in_threadpool(demo_marker, container.uow(readonly=True))
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="cityloop API",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url=f"{API}/openapi.json",
        # No OpenTelemetry: nothing here exports it (an intranet install has no collector), and
        # FastAPI's check for a configured provider costs every request about 10 µs.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.container = container
    app.state.token_cache = TokenCache()
    errors.install(app)
    # Routers of the API, one line each.
    routers = [
        auth.router,
        cases.router,
        tasks.router,
        lookups.router,
        base_data.router,
        geocoding.router,
        map.router,
        evaluation.router,
    ]
    add_routes(app, routers)
    # Intake and the case actions skip FastAPI's per-request machinery (routing.py).
    serve_directly(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = security_scheme(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get(f"{API}/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{API}/openapi.json",
            title="cityloop API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
            oauth2_redirect_url=f"{API}/docs/oauth2-redirect",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get(f"{API}/docs/oauth2-redirect", include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return HTMLResponse((STATIC / "vendor/swagger-ui/oauth2-redirect.html").read_text())

    @app.get(f"{API}/health", tags=["meta"], summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    install_pages(app)
    return app
