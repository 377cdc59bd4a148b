"""Mounting the pages on the application: sessions, sign-in redirects, error pages, routers."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cityloop.entrypoints.routing import add_routes
from cityloop.entrypoints.web.context import LoginRequired, locale_of, login_redirect, session_of
from cityloop.entrypoints.web.routes import ROUTERS
from cityloop.entrypoints.web.session import Signer, load_secret
from cityloop.entrypoints.web.templating import render


def install(app: FastAPI) -> None:
    container = app.state.container
    settings = container.settings
    app.state.signer = Signer(load_secret(settings.secret_key, settings.var_dir))

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return login_redirect(request, exc)

    def error_page(request: Request, status: int, message: Callable[[str], str]) -> Response:
        locale = locale_of(request)
        text = message(locale)
        if request.headers.get("hx-request"):
            html = render(
                "fragments/error.html",
                locale=locale,
                tz=ZoneInfo(settings.timezone),
                status=status,
                message=text,
            )
            return HTMLResponse(html, status_code=status)
        html = render(
            "error.html",
            locale=locale,
            tz=ZoneInfo(settings.timezone),
            status=status,
            message=text,
            signed_in=session_of(request) is not None,
        )
        return HTMLResponse(html, status_code=status)

    app.state.error_page = error_page

    @app.get("/", include_in_schema=False)
    def index(request: Request) -> Response:
        return RedirectResponse("/work" if session_of(request) else "/login", status_code=303)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return RedirectResponse("/static/favicon.svg", status_code=301)

    add_routes(app, ROUTERS)
