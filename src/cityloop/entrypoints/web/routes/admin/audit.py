"""Administration (应用维护): the change log — who changed which administrator data when, and
from what to what, newest first (:func:`cityloop.services.audit.entries`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from cityloop.domain.audit import AuditEntry, Change
from cityloop.domain.errors import Msg
from cityloop.entrypoints.web.context import Page
from cityloop.entrypoints.web.routes.admin import AdminDep
from cityloop.services import audit as svc

router = APIRouter(prefix="/admin", include_in_schema=False)

PAGE_SIZE = 50
# The subjects of the log (``AuditEntry.entity``) that the administration pages write.
ENTITY_LABELS: dict[str, Msg] = {
    "department": Msg("Department"),
    "user": Msg("User"),
    "dispatch_rule": Msg("Dispatch rule"),
    "base_data": Msg("Base data"),
    "category": Msg("Class"),
    "filing_standard": Msg("Filing standard"),
    "stage_limit": Msg("Stage time limit"),
    "calendar_day": Msg("Calendar day"),
    "policy": Msg("Policy value"),
}
CHANGE_LABELS: dict[Change, Msg] = {
    Change.CREATE: Msg("Created"),
    Change.UPDATE: Msg("Changed"),
    Change.DELETE: Msg("Deleted"),
    Change.IMPORT: Msg("Imported"),
}
FIELD_LABELS: dict[str, Msg] = {
    "name": Msg("Name"),
    "code": Msg("Code"),
    "kind": Msg("Kind"),
    "level": Msg("Level"),
    "parent_id": Msg("Parent department"),
    "parent": Msg("Parent department"),
    "department": Msg("Department"),
    "class": Msg("Class"),
    "filing_standard": Msg("Filing standard"),
    "district_code": Msg("District"),
    "street_code": Msg("Street"),
    "credit_code": Msg("Unified social credit code"),
    "active": Msg("Active"),
    "username": Msg("User name"),
    "display_name": Msg("Name"),
    "phone": Msg("Phone"),
    "roles": Msg("Roles and scopes"),
    "grids": Msg("Responsible grids"),
    "password_reset": Msg("Password reset"),
    "department_id": Msg("Department"),
    "category_id": Msg("Class"),
    "filing_standard_id": Msg("Filing standard"),
    "priority": Msg("Priority"),
    "entity": Msg("Kind of data"),
    "file": Msg("Source file"),
    "rows": Msg("Rows"),
    "district": Msg("District"),
    "valid_from": Msg("Valid from"),
}
HIDDEN_FIELDS = {"id"}


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: str | None  # None: the field was not there (created)
    after: str | None  # None: the field is gone (deleted)


def show(value: Any, yes: str, no: str) -> str:
    """A stored value as text: lists joined, booleans as yes/no, nothing as an empty dash."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return yes if value else no
    if isinstance(value, list):
        return "; ".join(show(v, yes, no) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def diff(entry: AuditEntry, yes: str = "yes", no: str = "no") -> list[FieldChange]:
    """The fields an entry changed: for an update only those that differ, for a creation or
    an import what was written, for a deletion what was there."""
    before, after = entry.before or {}, entry.after or {}
    keys = [k for k in after if k not in HIDDEN_FIELDS]
    keys += [k for k in before if k not in after and k not in HIDDEN_FIELDS]
    result = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        if key in before and key in after and old == new:
            continue
        result.append(
            FieldChange(
                key,
                show(old, yes, no) if key in before else None,
                show(new, yes, no) if key in after else None,
            )
        )
    return result


def _page(p: Page, entity: str, page_no: int) -> HTMLResponse:
    entries, total = svc.entries(
        p.container.uow(readonly=True),
        p.actor,
        entity=entity or None,
        page=page_no,
        page_size=PAGE_SIZE,
    )
    yes, no = p.t("yes"), p.t("no")

    def link(n: int) -> str:
        values = {"entity": entity, "page": str(n) if n > 1 else ""}
        return "/admin/audit?" + urlencode({k: v for k, v in values.items() if v})

    return p.render(
        "admin/audit.html",
        rows=[(e, diff(e, yes, no)) for e in entries],
        total=total,
        entity=entity,
        entities=ENTITY_LABELS,
        changes=CHANGE_LABELS,
        fields=FIELD_LABELS,
        page_no=page_no,
        pages=max(1, -(-total // PAGE_SIZE)),
        link=link,
    )


@router.get("/audit", response_class=HTMLResponse)
async def audit_log(
    p: AdminDep,
    entity: Annotated[str, Query(max_length=32, pattern=r"^[a-z_]*$")] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    return await run_in_threadpool(_page, p, entity, page)
