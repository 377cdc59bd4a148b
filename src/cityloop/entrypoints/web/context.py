"""Who is looking at a page, in which role and language; rendering and CSRF."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from cityloop.bootstrap import Container
from cityloop.domain.errors import AuthenticationError, DomainError, Msg, PermissionDeniedError
from cityloop.domain.org import User
from cityloop.domain.roles import Actor, Role
from cityloop.entrypoints.i18n import gettext, normalise
from cityloop.entrypoints.presentation import error_message
from cityloop.entrypoints.web.session import COOKIE, Session, Signer
from cityloop.entrypoints.web.templating import render
from cityloop.services.auth import actor_for_token

# What each role sees in the navigation: (path, label message id).
WORK = ("/work", Msg("My work"))
REPORT = ("/report", Msg("Register a report"))
SEARCH = ("/search", Msg("Search"))
ADMIN, EVALUATION = ("/admin", Msg("Administration")), ("/evaluation", Msg("Evaluation"))
NAV: dict[Role, list[tuple[str, Msg]]] = {
    Role.OPERATOR: [WORK, REPORT, SEARCH],
    Role.SHIFT_LEAD: [WORK, SEARCH, EVALUATION],
    Role.DISPATCHER: [WORK, SEARCH],
    Role.HANDLER: [WORK, SEARCH],
    Role.INSPECTOR: [("/work", Msg("My tasks")), SEARCH],
    Role.LEADER: [EVALUATION, SEARCH],
    Role.ADMIN: [ADMIN, SEARCH, EVALUATION],
    Role.CITIZEN: [("/search", Msg("My reports"))],
    Role.SYSTEM: [SEARCH],
}


class LoginRequired(Exception):
    """Raised by :func:`page` when nobody is signed in: the handler redirects to sign-in."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


@dataclass
class Page:
    request: Request
    container: Container
    session: Session
    actor: Actor
    user: User
    now: datetime
    locale: str
    signer: Signer
    demo: bool
    scope: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def csrf(self) -> str:
        return self.signer.csrf(self.session.token)

    @property
    def tz(self) -> Any:
        calendar = self.container.sla_cache.calendar
        return calendar.tz if calendar is not None else ZoneInfo(self.container.settings.timezone)

    def nav(self) -> list[tuple[str, Msg]]:
        return NAV.get(self.actor.role, [])

    def page_label(self, path: str) -> Msg:
        """What this role calls one of its pages (an inspector's queue is 我的任务, a
        citizen's search 我的上报): the navigation's word, used in titles and headings too."""
        default = {WORK[0]: WORK[1], SEARCH[0]: SEARCH[1]}.get(path, Msg(path))
        return next((text for href, text in self.nav() if href == path), default)

    @property
    def home(self) -> tuple[str, Msg]:
        """Where this role's day starts (the first entry of its navigation), for the links
        back from a case."""
        return next(iter(self.nav()), WORK)

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = render(template, locale=self.locale, tz=self.tz, now=self.now, page=self, **context)
        return HTMLResponse(html, status_code=status)

    def check_csrf(self, supplied: str | None) -> None:
        if not supplied or supplied != self.csrf:
            raise PermissionDeniedError(
                "csrf_failed", "The form has expired; reload the page and try again"
            )

    def message(self, error: DomainError) -> str:
        return error_message(error, self.locale)

    def t(self, text: str, **params: Any) -> str:
        """``text`` (a message id) in the page's language, with ``params`` filled in."""
        translated = gettext(text, self.locale)
        return translated.format(**params) if params else translated


def signer(request: Request) -> Signer:
    return request.app.state.signer  # type: ignore[no-any-return]


def session_of(request: Request) -> Session | None:
    return signer(request).load(request.cookies.get(COOKIE))


def locale_of(request: Request) -> str:
    """The pages' language: the one chosen (session, or a cookie before sign-in), otherwise
    the installation's default (zh-CN), whatever the browser prefers."""
    session = session_of(request)
    if session is not None:
        return normalise(session.locale)
    chosen = request.cookies.get("cityloop_lang")
    if chosen:
        return normalise(chosen)
    return normalise(request.app.state.container.settings.default_locale)


async def page(request: Request) -> Page:
    """The signed-in page context, or :class:`LoginRequired`."""
    container: Container = request.app.state.container
    session = session_of(request)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if session is None:
        raise LoginRequired(target)
    now = container.clock().astimezone(UTC)
    cache = request.app.state.token_cache
    actor = cache.get(session.token, now)
    if actor is None:
        try:
            actor, expires_at = await run_in_threadpool(
                actor_for_token, container.uow(readonly=True), session.token, now=now
            )
        except AuthenticationError as exc:
            raise LoginRequired(target) from exc
        cache.put(session.token, actor, expires_at)
    user = await run_in_threadpool(_user, container, actor.user_id or 0)
    if user is None or not user.active:
        raise LoginRequired(target)
    if not hasattr(request.app.state, "scope_names"):
        request.app.state.scope_names = {}
    scope = await run_in_threadpool(scope_name, container, actor, request.app.state.scope_names)
    return Page(
        request=request,
        container=container,
        session=session,
        actor=actor,
        user=user,
        now=now,
        locale=normalise(session.locale),
        signer=signer(request),
        demo=bool(getattr(request.app.state, "demo", None)) or container.settings.demo,
        scope=scope,
    )


def _user(container: Container, user_id: int) -> User | None:
    with container.uow(readonly=True) as uow:
        return uow.org.user(user_id)


SCOPE_NAME_SECONDS = 300.0
ScopeNames = dict[tuple[str | None, int | None], tuple[float, str]]


def scope_name(container: Container, actor: Actor, cache: ScopeNames) -> str:
    """东城区 · 区城市管理委员会: the district and department an actor works in, by name
    (kept a few minutes; names seldom change)."""
    key = (actor.district_code, actor.department_id)
    if key == (None, None):
        return ""
    cached = cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < SCOPE_NAME_SECONDS:
        return cached[1]
    parts = []
    with container.uow(readonly=True) as uow:
        if actor.district_code:
            district = uow.regions.by_code(actor.district_code)
            parts.append(district.name if district else actor.district_code)
        if actor.department_id:
            department = uow.org.department(actor.department_id)
            if department is not None:
                parts.append(department.name)
    name = " · ".join(parts)
    cache[key] = (time.monotonic(), name)
    return name


def login_redirect(request: Request, exc: LoginRequired) -> Response:
    url = f"/login?next={quote(exc.next_url)}"
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
