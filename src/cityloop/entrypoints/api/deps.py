"""Request-scoped dependencies: the container, the caller, the time, the language."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from cityloop.adapters.db.group import grouped_writes
from cityloop.bootstrap import Container
from cityloop.domain.errors import AuthenticationError
from cityloop.domain.roles import Actor
from cityloop.entrypoints.i18n import negotiate
from cityloop.entrypoints.web.session import COOKIE
from cityloop.services.auth import actor_for_token

T = TypeVar("T")


class TokenCache:
    """Recently checked tokens, for a few seconds, so that a busy client costs no query per
    request. Revocation through this process takes effect at once; through another worker
    within ``ttl`` seconds."""

    def __init__(self, ttl: float = 10.0, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._lock = threading.Lock()
        self._items: dict[str, tuple[Actor, datetime, float]] = {}

    def get(self, token: str, now: datetime) -> Actor | None:
        with self._lock:
            item = self._items.get(token)
        if item is None:
            return None
        actor, expires_at, stored = item
        if time.monotonic() - stored > self.ttl or expires_at <= now:
            self.drop(token)
            return None
        return actor

    def put(self, token: str, actor: Actor, expires_at: datetime) -> None:
        with self._lock:
            if len(self._items) >= self.size:
                self._items.clear()
            self._items[token] = (actor, expires_at, time.monotonic())

    def drop(self, token: str) -> None:
        with self._lock:
            self._items.pop(token, None)


def _container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


def bearer_token(request: Request) -> str:
    """The ``Authorization: Bearer`` token; for reading (GET, HEAD) also the pages' session
    cookie, so that a signed-in page can show photos and map layers. Writes always need the
    header, so a cross-site form can never act with the cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if not header and request.method in ("GET", "HEAD"):
        signer = getattr(request.app.state, "signer", None)
        session = signer.load(request.cookies.get(COOKIE)) if signer is not None else None
        if session is not None:
            return str(session.token)
    raise AuthenticationError("not_authenticated", "Sign in first: this needs an access token")


@dataclass(frozen=True, slots=True)
class Ctx:
    """Everything a request needs: the long-lived objects, the caller, the time, the language.

    One dependency instead of several keeps FastAPI's per-request dependency solving cheap.
    """

    container: Container
    actor: Actor
    now: datetime
    locale: str
    token: str


async def ctx(request: Request) -> Ctx:
    container = _container(request)
    when = container.clock().astimezone(UTC)
    raw = bearer_token(request)
    cache: TokenCache = request.app.state.token_cache
    cached = cache.get(raw, when)
    if cached is None:
        actor, expires_at = await run_in_threadpool(
            actor_for_token, container.uow(readonly=True), raw, now=when
        )
        cache.put(raw, actor, expires_at)
    else:
        actor = cached
    return Ctx(container, actor, when, negotiate(request.headers.get("accept-language")), raw)


CtxDep = Annotated[Ctx, Depends(ctx)]


# Single-value dependencies for routers that want only one thing.
async def container(request: Request) -> Container:
    return _container(request)


async def now(request: Request) -> datetime:
    """The request's time, in UTC (API times are always given in UTC)."""
    return _container(request).clock().astimezone(UTC)


async def locale(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


async def current_actor(c: CtxDep) -> Actor:
    return c.actor


ContainerDep = Annotated[Container, Depends(container)]
NowDep = Annotated[datetime, Depends(now)]
LocaleDep = Annotated[str, Depends(locale)]
ActorDep = Annotated[Actor, Depends(current_actor)]


async def write(container: Container, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a write through the services: inline on the event loop for SQLite (one writer at a
    time anyway, so no thread hop and no lock convoy), its transactions committed together
    with those of the other requests of the moment (group commit) and the answer held until
    that commit; in the thread pool for PostgreSQL."""
    if container.inline_writes:
        with grouped_writes() as batch:
            result = fn(*args, **kwargs)
        await batch.durable()
        return result
    return await run_in_threadpool(fn, *args, **kwargs)


def security_scheme(openapi: dict[str, Any]) -> dict[str, Any]:
    """Declare the bearer scheme in the OpenAPI document (the Authorize button of the docs)
    and require it on every operation but sign-in and liveness."""
    components = openapi.setdefault("components", {})
    components.setdefault("securitySchemes", {})["OAuth2PasswordBearer"] = {
        "type": "oauth2",
        "flows": {"password": {"tokenUrl": "/api/v1/auth/token", "scopes": {}}},
    }
    for path, operations in openapi.get("paths", {}).items():
        if path.endswith(("/auth/token", "/health")):
            continue
        for operation in operations.values():
            if isinstance(operation, dict):
                operation.setdefault("security", [{"OAuth2PasswordBearer": []}])
    return openapi
