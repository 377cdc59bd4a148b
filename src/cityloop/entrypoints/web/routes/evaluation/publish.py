"""Frozen (published) months and the scoring schemes: the list of frozen reports, freezing a
month from the page (administrators; the monthly job does it at 00:30 on the 1st), and the
scheme versions, read only (standards.md §7; docs/evaluation.md "Scoring as data")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from cityloop.domain.errors import DomainError, Msg, NotFoundError, ValidationError
from cityloop.domain.evaluation import indicators as ind
from cityloop.domain.evaluation.periods import PeriodKind, month_of, parse_period
from cityloop.domain.evaluation.records import FrozenReport, SchemeRecord
from cityloop.domain.evaluation.scheme import TABLE_LABELS, Scheme
from cityloop.domain.evaluation.subjects import CITY, KIND_LABELS, SubjectKind
from cityloop.domain.roles import Role
from cityloop.entrypoints.api.errors import STATUS
from cityloop.entrypoints.web.context import Page
from cityloop.entrypoints.web.routes.evaluation.common import (
    TRANSFORMS,
    PageDep,
    Selection,
    current,
    districts,
    page_base,
    selection_of,
)
from cityloop.services import evaluation as svc
from cityloop.services.queries import evaluation as q

router = APIRouter(include_in_schema=False)
EMPTY_RATES = {
    "skip": Msg("left out, the other weights scaled up"),
    "full": Msg("given full points"),
}


def _selection(p: Page, request: Request) -> Selection:
    try:
        return selection_of(p, request)
    except DomainError:
        return current(p)


# -- frozen reports ---


@dataclass
class FrozenList:
    reports: list[FrozenReport]
    scopes: dict[str, str]
    last_month: str


def frozen_list(p: Page) -> FrozenList:
    found = q.frozen_reports(p.container.uow(readonly=True), actor=p.actor)
    # Newest month first; in a month the whole city, then the districts.
    found.sort(key=lambda r: (r.scope != CITY, r.scope))
    found.sort(key=lambda r: r.period, reverse=True)
    scopes = {CITY: p.t("Whole city"), **dict(districts(p))}
    last = month_of(p.now.astimezone(p.tz).date()).previous().key
    return FrozenList(found, scopes, last)


async def _frozen_page(
    p: Page, request: Request, *, error: str = "", status: int = 200, notice: str = ""
) -> HTMLResponse:
    sel = _selection(p, request)
    try:
        found = await run_in_threadpool(frozen_list, p)
    except DomainError as exc:
        found, error, status = None, p.message(exc), STATUS.get(exc.kind, 400)
    ctx = page_base(p, sel, "/evaluation/frozen", "frozen", error=error, data=found,
                    notice=notice, can_freeze=p.actor.role is Role.ADMIN)  # fmt: skip
    return p.render("evaluation/frozen.html", status=status, **ctx)


@router.get("/evaluation/frozen", response_class=HTMLResponse)
async def frozen(p: PageDep, request: Request, done: str = "", count: str = "") -> HTMLResponse:
    notice = ""
    if done:
        notice = (
            p.t("Froze {period}: {count} reports stored.", period=done, count=count)
            if count not in ("", "0")
            else p.t("{period} was frozen already; nothing changed.", period=done)
        )
    return await _frozen_page(p, request, notice=notice)


@router.post("/evaluation/freeze")
async def freeze(
    p: PageDep,
    request: Request,
    month: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form(alias="_csrf")] = "",
) -> Response:
    p.check_csrf(csrf)

    def run() -> tuple[str, int]:
        period = parse_period(month)
        if period.kind is not PeriodKind.MONTH:
            raise ValidationError(
                "freeze_month_only", "Only a month can be frozen, not {period}", period=month
            )
        done = svc.freeze_month(p.container.uow(readonly=True), p.container.uow(),
                                actor=p.actor, period=period, now=p.now)  # fmt: skip
        return period.key, len(done)

    try:
        key, count = await run_in_threadpool(run)
    except DomainError as exc:
        return await _frozen_page(
            p, request, error=p.message(exc), status=STATUS.get(exc.kind, 400)
        )
    return RedirectResponse(f"/evaluation/frozen?done={key}&count={count}", status_code=303)


# -- schemes ---


@dataclass
class SchemeView:
    record: SchemeRecord
    scheme: Scheme


def schemes(p: Page) -> list[SchemeRecord]:
    return q.list_schemes(p.container.uow(readonly=True), actor=p.actor)


def scheme_view(p: Page, version: int) -> SchemeView:
    for record in schemes(p):
        if record.version == version:
            return SchemeView(record, q.scheme_of(record))
    raise NotFoundError(
        "scheme_not_found", "Scoring scheme version {version} does not exist", version=version
    )


@router.get("/evaluation/schemes", response_class=HTMLResponse)
async def scheme_list(p: PageDep, request: Request) -> HTMLResponse:
    sel = _selection(p, request)
    error, status, found = "", 200, None
    try:
        found = await run_in_threadpool(schemes, p)
    except DomainError as exc:
        error, status = p.message(exc), STATUS.get(exc.kind, 400)
    ctx = page_base(p, sel, "/evaluation/schemes", "schemes", error=error, data=found)
    return p.render("evaluation/schemes.html", status=status, **ctx)


@router.get("/evaluation/schemes/{version}", response_class=HTMLResponse)
async def scheme_page(p: PageDep, request: Request, version: str) -> HTMLResponse:
    sel = _selection(p, request)
    error, status, found = "", 200, None
    try:
        if not version.isdigit():
            raise NotFoundError("scheme_not_found",
                                "Scoring scheme version {version} does not exist",
                                version=version)  # fmt: skip
        found = await run_in_threadpool(scheme_view, p, int(version))
    except DomainError as exc:
        error, status = p.message(exc), STATUS.get(exc.kind, 400)
    ctx: dict[str, Any] = page_base(
        p, sel, f"/evaluation/schemes/{version}", "schemes", error=error, data=found,
        kinds=list(SubjectKind), kind_labels=KIND_LABELS, indicators=ind.BY_ID,
        transforms=TRANSFORMS, table_labels=TABLE_LABELS, empty_rates=EMPTY_RATES,
        plain=lambda d: f"{d.normalize():f}",
    )  # fmt: skip
    return p.render("evaluation/scheme.html", status=status, **ctx)
