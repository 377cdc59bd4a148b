"""The page routers, one line each."""

from __future__ import annotations

from fastapi import APIRouter

from cityloop.entrypoints.web.routes import (
    admin,
    auth,
    cases,
    evaluation,
    events,
    report,
    search,
    work,
)

ROUTERS: list[APIRouter] = [
    auth.router,
    work.router,
    cases.router,
    events.router,
    search.router,
    report.router,
    *evaluation.ROUTERS,
    *admin.routers(),
]
