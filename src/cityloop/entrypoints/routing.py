"""Putting the routers' routes on the application, and serving the busiest ones directly.

FastAPI includes a router lazily: ``include_router`` keeps the router as one entry, and on
every request it walks that router's routes to see whether they changed since the last
request, once to find the entry and again to pick the route in it. With our thirty-odd
routers that walk cost a case action about 25 µs of CPU, and a page address deep in the
table about 200 µs. Our routers are complete when their modules are imported (each has its
whole path prefix and its tags), so their routes go straight into the application's own
list: the same routes in the same order, matched by their own patterns.

The routes that every case of the loop calls many times (intake and the case actions) are
marked :func:`direct`. :class:`DirectRoutes` serves them before the rest of the stack: it
matches the few marked routes, resolves their parameters (path parameters, headers, the
request, and dependencies that need only the request) and maps a raised exception through
the application's own exception handlers. FastAPI's per-request dependency solving,
exception and exit-stack middlewares and its walk of the route table cost such a request
about 100 µs of CPU; a marked route costs a tenth of that. The route stays an ordinary
FastAPI route as well: the same function, the same OpenAPI entry, the same answers.

:func:`serve_directly` puts :class:`DirectRoutes` around the application's whole middleware
stack, so that a marked route also skips the layers that do nothing for it: Starlette's
error middleware (an exception no handler takes is answered 500 by the server all the same),
FastAPI's body-limit and telemetry middlewares (neither is configured) and the exception
middleware (DirectRoutes applies the same handlers). The application has no middleware of
its own; one added later would not see the marked routes, so adding one is refused.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import AliasChoices, AliasPath
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

F = TypeVar("F", bound=Callable[..., Awaitable[Response]])
_MARK = "__cityloop_direct__"


def add_routes(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Append every route of ``routers``, in order, to ``app``'s routes."""
    for router in routers:
        if router.on_startup or router.on_shutdown:
            raise ValueError("a router with startup or shutdown handlers must be included")
        app.router.routes.extend(router.routes)


def direct(endpoint: F) -> F:
    """Mark an endpoint to be served by :class:`DirectRoutes`. Put it under the router's
    decorator. The endpoint must be an ``async def`` that returns a Response and takes only
    path parameters, headers, the Request and dependencies that take only the Request."""
    setattr(endpoint, _MARK, True)
    return endpoint


@dataclass(frozen=True, slots=True)
class _Direct:
    route: APIRoute
    endpoint: Callable[..., Awaitable[Any]]
    path_params: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]  # parameter name, header name
    request_param: str | None
    dependencies: tuple[tuple[str, Callable[[Request], Awaitable[Any]]], ...]


def _unsupported(route: APIRoute, what: str) -> ValueError:
    return ValueError(f"route {route.path} cannot be served directly: {what}")


def _special(dependant: Dependant) -> bool:
    """Whether ``dependant`` asks for what only FastAPI's solver provides (a Response to
    change, background tasks, security scopes, a websocket or bare connection)."""
    return any(
        getattr(dependant, name, None) is not None
        for name in (
            "response_param_name",
            "background_tasks_param_name",
            "security_scopes_param_name",
            "websocket_param_name",
            "http_connection_param_name",
        )
    )


def _dependency(route: APIRoute, dep: Dependant) -> tuple[str, Callable[[Request], Any]]:
    if (
        dep.call is None
        or dep.name is None
        or not inspect.iscoroutinefunction(dep.call)
        or dep.request_param_name is None
        or dep.dependencies
        or dep.path_params
        or dep.query_params
        or dep.header_params
        or dep.cookie_params
        or dep.body_params
        or _special(dep)
    ):
        raise _unsupported(route, f"dependency {dep.name} needs more than the request")
    return dep.name, dep.call


def _compile(route: APIRoute) -> _Direct:
    dependant = route.dependant
    if dependant.query_params or dependant.cookie_params or dependant.body_params:
        raise _unsupported(route, "it has query, cookie or body parameters")
    if _special(dependant):
        raise _unsupported(route, "it asks for what only FastAPI's solver provides")
    if not inspect.iscoroutinefunction(route.endpoint):
        raise _unsupported(route, "its endpoint is not a coroutine function")
    for field in dependant.header_params:
        if field.field_info.is_required():
            raise _unsupported(route, f"header {field.alias} is required")
        if isinstance(field.field_info.validation_alias, AliasChoices | AliasPath):
            raise _unsupported(route, f"header {field.alias} has alias choices")
    return _Direct(
        route=route,
        endpoint=route.endpoint,
        path_params=tuple(p.name for p in dependant.path_params),
        headers=tuple((p.name, p.alias) for p in dependant.header_params),
        request_param=dependant.request_param_name,
        dependencies=tuple(_dependency(route, d) for d in dependant.dependencies),
    )


def serve_directly(app: FastAPI) -> None:
    """Serve ``app``'s :func:`direct` routes by :class:`DirectRoutes`, outside the middleware
    stack (see the module's doc)."""
    build = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        if app.user_middleware:
            names = ", ".join(str(m) for m in app.user_middleware)
            raise RuntimeError(f"the direct routes would bypass the middleware {names}")
        return DirectRoutes(build(), routes=app.router.routes, handlers=app.exception_handlers)

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]


class DirectRoutes:
    """ASGI middleware serving the routes marked :func:`direct` (see the module's doc).

    ``routes`` and ``handlers`` are the application's own route list and exception handlers,
    read on the first request (routes added after the middleware still count)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Sequence[BaseRoute],
        handlers: Mapping[Any, Callable[[Request, Exception], Any]],
    ) -> None:
        self.app = app
        self._routes = routes
        self._handlers = handlers
        self._direct: tuple[_Direct, ...] | None = None

    def _table(self) -> tuple[_Direct, ...]:
        if self._direct is None:
            self._direct = tuple(
                _compile(r)
                for r in self._routes
                if isinstance(r, APIRoute) and getattr(r.endpoint, _MARK, False)
            )
        return self._direct

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for entry in self._table():
                match, child = entry.route.matches(scope)
                if match is Match.FULL:
                    await self._serve(entry, {**scope, **child}, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _serve(self, entry: _Direct, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            kwargs: dict[str, Any] = {n: scope["path_params"][n] for n in entry.path_params}
            for name, header in entry.headers:
                kwargs[name] = request.headers.get(header)
            if entry.request_param is not None:
                kwargs[entry.request_param] = request
            for name, call in entry.dependencies:
                kwargs[name] = await call(request)
            response = await entry.endpoint(**kwargs)
            if not isinstance(response, Response):
                raise TypeError(f"direct route {entry.route.path} must return a Response")
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            answer = handler(request, exc)
            response = await answer if inspect.isawaitable(answer) else answer
        finally:
            await request.close()  # the uploaded files of a multipart body
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> Callable[[Request, Exception], Any] | None:
        for klass in type(exc).__mro__:
            handler = self._handlers.get(klass)
            if handler is not None:
                return handler
        return None
