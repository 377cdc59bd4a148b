"""Request-scoped dependencies: the container, the caller, the time, the language."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from cityloop.bootstrap import Container
from cityloop.domain.errors import AuthenticationError
from cityloop.domain.roles import Actor
from cityloop.entrypoints.i18n import negotiate
from cityloop.services.auth import actor_for_token

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


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


def container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


ContainerDep = Annotated[Container, Depends(container)]


def now(request: Request) -> datetime:
    """The request's time, in UTC (API times are always given in UTC)."""
    return container(request).clock().astimezone(UTC)


NowDep = Annotated[datetime, Depends(now)]


def locale(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


LocaleDep = Annotated[str, Depends(locale)]


def token(request: Request, bearer: Annotated[str | None, Depends(oauth2)]) -> str:
    if not bearer:
        raise AuthenticationError("not_authenticated", "Sign in first: this needs an access token")
    return bearer


def current_actor(request: Request, raw: Annotated[str, Depends(token)], when: NowDep) -> Actor:
    cache: TokenCache = request.app.state.token_cache
    actor = cache.get(raw, when)
    if actor is not None:
        return actor
    actor, expires_at = actor_for_token(container(request).uow(readonly=True), raw, now=when)
    cache.put(raw, actor, expires_at)
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]
