"""Sign-in, sign-out, switching role and language."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from cityloop.bootstrap import Container
from cityloop.domain.errors import DomainError
from cityloop.entrypoints.i18n import normalise
from cityloop.entrypoints.presentation import error_message
from cityloop.entrypoints.web.context import locale_of, page, session_of, signer
from cityloop.entrypoints.web.session import COOKIE, Session
from cityloop.entrypoints.web.templating import render
from cityloop.services import auth as svc
from cityloop.services.demo import demo_logins

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect to another site after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/work"
    parsed = urlparse(target)
    return parsed.path + (f"?{parsed.query}" if parsed.query else "")


def _with_session(request: Request, response: Response, session: Session, max_age: int) -> Response:
    response.set_cookie(
        COOKIE,
        signer(request).dump(session),
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


def _logins(request: Request) -> list[Any]:
    """The demo's users, one per role, shown on the sign-in page of the demo city."""
    if not getattr(request.app.state, "demo", None):
        return []
    cached = getattr(request.app.state, "demo_logins", None)
    if cached is None:
        cached = demo_logins(request.app.state.container.uow(readonly=True))
        request.app.state.demo_logins = cached
    return cached


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/work", error: str = "") -> HTMLResponse:
    locale = locale_of(request)
    container = request.app.state.container
    return HTMLResponse(
        render(
            "login.html",
            locale=locale,
            tz=ZoneInfo(container.settings.timezone),
            next=_safe_next(next),
            error=error,
            demo=bool(getattr(request.app.state, "demo", None)),
            logins=_logins(request),
        )
    )


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/work",
    lang: Annotated[str, Form()] = "",
) -> Response:
    container = request.app.state.container
    locale = normalise(lang) if lang else locale_of(request)
    try:
        issued = await run_in_threadpool(
            svc.issue_token,
            container.uow(),
            username,
            password,
            now=container.clock(),
            ttl=_ttl(container),
        )
    except DomainError as exc:
        html = render(
            "login.html",
            locale=locale,
            tz=ZoneInfo(container.settings.timezone),
            next=_safe_next(next),
            error=error_message(exc, locale),
            username=username,
            demo=bool(getattr(request.app.state, "demo", None)),
        )
        return HTMLResponse(html, status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    return _with_session(
        request, response, Session(issued.token, locale), int(_ttl(container).total_seconds())
    )


def _ttl(container: Container) -> timedelta:
    return timedelta(hours=container.settings.token_ttl_hours)


@router.post("/logout")
async def logout(request: Request) -> Response:
    session = session_of(request)
    if session is not None:
        container = request.app.state.container
        request.app.state.token_cache.drop(session.token)
        await run_in_threadpool(
            svc.revoke_token, container.uow(), session.token, now=container.clock()
        )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.post("/session/role")
async def switch_role(
    request: Request, role: Annotated[str, Form()], csrf: Annotated[str, Form(alias="_csrf")] = ""
) -> Response:
    """Sign in again, for another of one's roles (a new token for that role)."""
    current = await page(request)
    current.check_csrf(csrf)
    container = current.container
    issued = await run_in_threadpool(
        svc.switch_role,
        container.uow(),
        current.session.token,
        role,
        now=current.now,
        ttl=_ttl(container),
    )
    request.app.state.token_cache.drop(current.session.token)
    response = RedirectResponse("/work", status_code=303)
    return _with_session(
        request,
        response,
        Session(issued.token, current.locale),
        int(_ttl(container).total_seconds()),
    )


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str = "/work") -> Response:
    """Switch the pages' language (zh-CN / English); kept in the session."""
    locale = normalise(code)
    response = RedirectResponse(_safe_next(next), status_code=303)
    session = session_of(request)
    if session is None:
        response.set_cookie("cityloop_lang", locale, max_age=365 * 86400, samesite="lax")
        return response
    container = request.app.state.container
    return _with_session(
        request, response, Session(session.token, locale), int(_ttl(container).total_seconds())
    )
