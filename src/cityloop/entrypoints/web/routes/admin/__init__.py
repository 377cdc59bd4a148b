"""Administration (应用维护): the administrator's pages, one module per subject.

Every page requires the administrator role (:func:`admin_page`); every change goes through a
service that records it in the change log (``services.audit``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from cityloop.domain.errors import Msg, PermissionDeniedError
from cityloop.domain.roles import Role
from cityloop.entrypoints.web.context import Page, page


async def admin_page(p: Annotated[Page, Depends(page)]) -> Page:
    """The page context of an administrator, or 403."""
    if p.actor.role is not Role.ADMIN:
        raise PermissionDeniedError("admin_only", "Only an administrator may do this")
    return p


AdminDep = Annotated[Page, Depends(admin_page)]

# The sections of the administration index: (path, title, description) message ids.
SECTIONS: list[tuple[str, Msg, Msg]] = [
    ("/admin/classes", Msg("Classes and filing standards"),
     Msg("Event and component classes, filing and closing conditions, disposal limits")),
    ("/admin/time-limits", Msg("Stage time limits and lights"),
     Msg("Limits of accepting, verifying, filing, dispatching, checking; light thresholds")),
    ("/admin/calendar", Msg("Working calendar"),
     Msg("Holidays and make-up working days, working hours")),
    ("/admin/departments", Msg("Departments"),
     Msg("Centres, departments and street offices")),
    ("/admin/users", Msg("Users and roles"),
     Msg("Accounts, roles, scopes and inspectors' grids")),
    ("/admin/dispatch-rules", Msg("Dispatch rules"),
     Msg("Which department handles which class where")),
    ("/admin/base-data", Msg("Base data"),
     Msg("Grid layers, components and standard addresses")),
    ("/admin/audit", Msg("Change log"),
     Msg("Who changed what and when")),
]  # fmt: skip

index_router = APIRouter(include_in_schema=False)


@index_router.get("/admin", response_class=HTMLResponse)
async def index(p: AdminDep) -> HTMLResponse:
    return p.render("admin/index.html", sections=SECTIONS)


def routers() -> list[APIRouter]:
    from cityloop.entrypoints.web.routes.admin import (
        audit,
        base_data,
        calendar,
        catalog,
        org,
        time_limits,
    )

    return [
        index_router,
        catalog.router,
        time_limits.router,
        calendar.router,
        org.router,
        base_data.router,
        audit.router,
    ]
