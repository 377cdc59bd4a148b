"""Registering a report (登记): the operator's fast form for a hotline call and the like."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from cityloop.domain.case import Source, Urgency
from cityloop.domain.codes import ClassKind, Edition
from cityloop.domain.errors import DomainError, Msg, PermissionDeniedError, ValidationError
from cityloop.domain.roles import Role
from cityloop.domain.workflow import SOURCE_ROLES
from cityloop.entrypoints.api.body import check_length, read_photos
from cityloop.entrypoints.api.deps import write
from cityloop.entrypoints.api.routes.map import map_settings
from cityloop.entrypoints.web.context import Page, page
from cityloop.entrypoints.web.suggest import ClassIndex
from cityloop.services import cases as svc
from cityloop.services import geocoding
from cityloop.services.cases import MAX_ATTACHMENTS, NewReport
from cityloop.services.queries import cases as q
from cityloop.services.queries import lookups

router = APIRouter(include_in_schema=False)
PageDep = Annotated[Page, Depends(page)]
FIELDS = ("source", "category_code", "category_text", "description", "address", "lon", "lat",
          "reporter_name", "reporter_phone", "urgency", "merge_into")  # fmt: skip


def _registrar(p: Page) -> None:
    if p.actor.role is not Role.OPERATOR:
        raise PermissionDeniedError(
            "operators_register", "Reports are registered by the centre's operators"
        )


def sources_for(role: Role) -> list[Source]:
    return [s for s, roles in SOURCE_ROLES.items() if role in roles]


def class_index(p: Page) -> ClassIndex:
    app = p.request.app
    index: ClassIndex | None = getattr(app.state, "class_index", None)
    if index is None:
        container = p.container
        index = ClassIndex(
            lambda: lookups.classes(
                container.uow(readonly=True), edition=Edition.CURRENT, kind=ClassKind.MATTER
            )
        )
        app.state.class_index = index
    return index


def _form(p: Page, values: dict[str, str], error: str = "", status: int = 200) -> HTMLResponse:
    sources = sources_for(p.actor.role)
    values.setdefault("source", Source.HOTLINE_12345.value)
    values.setdefault("urgency", Urgency.NORMAL.value)
    return p.render(
        "report/form.html",
        status=status,
        values=values,
        sources=sources,
        urgencies=list(Urgency),
        error=error,
        max_photos=MAX_ATTACHMENTS,
        map=map_settings(),
    )


@router.get("/report", response_class=HTMLResponse)
async def report_form(p: PageDep) -> HTMLResponse:
    _registrar(p)
    return _form(p, {})


@router.get("/report/classes", response_class=HTMLResponse)
async def classes(p: PageDep, q: str = "") -> HTMLResponse:
    found = await run_in_threadpool(class_index(p).match, q[:30])
    return p.render("report/classes.html", found=found)


@router.get("/report/places", response_class=HTMLResponse)
async def places(p: PageDep, q: str = "") -> HTMLResponse:
    text = q.strip()
    if not text:
        return HTMLResponse("")
    try:
        found = await run_in_threadpool(
            geocoding.geocode,
            p.container.uow(readonly=True),
            text[:100],
            actor=p.actor,
            limit=8,
            district_code=p.actor.district_code,
        )
    except DomainError as exc:
        return p.render("report/places.html", found=[], error=p.message(exc))
    return p.render("report/places.html", found=found, error="")


@router.get("/report/duplicates", response_class=HTMLResponse)
async def duplicates(
    p: PageDep, category_code: str = "", lon: str = "", lat: str = ""
) -> HTMLResponse:
    """Open cases of the same class nearby (疑似重复), with "merge into this"."""
    try:
        x, y = float(lon), float(lat)
    except ValueError:
        return HTMLResponse("")
    if not category_code:
        return HTMLResponse("")
    found = await run_in_threadpool(
        lambda: q.possible_duplicates(
            p.container.uow(readonly=True),
            p.actor,
            now=p.now,
            category_code=category_code,
            lon=x,
            lat=y,
        )
    )
    return p.render("report/duplicates.html", found=found)


def _position(values: dict[str, str]) -> tuple[float | None, float | None]:
    lon, lat = values.get("lon", "").strip(), values.get("lat", "").strip()
    if not lon and not lat:
        return None, None
    try:
        return float(lon), float(lat)
    except ValueError as exc:
        raise ValidationError(
            "position_invalid",
            "Position {lon}, {lat} is not a longitude and latitude",
            lon=lon,
            lat=lat,
        ) from exc


def _check(values: dict[str, str]) -> None:
    if not values.get("category_code"):
        raise ValidationError("report_class_missing", "Pick the class of the problem from the list")
    if not values.get("description", "").strip():
        raise ValidationError("report_description_missing", "Describe the problem")
    if not values.get("lon") and not values.get("address", "").strip():
        raise ValidationError(
            "report_place_missing", "Give the place: search an address or click on the map"
        )


def _enum(kind: Any, value: str, name: Msg) -> Any:
    try:
        return kind(value)
    except ValueError as exc:
        raise ValidationError(
            "choice_invalid", "{field}: choose from the list", field=name
        ) from exc


@router.post("/report")
async def register(p: PageDep, request: Request) -> Response:
    _registrar(p)
    check_length(request, p.container.settings)
    form = await request.form(max_files=MAX_ATTACHMENTS + 1, max_fields=40)
    p.check_csrf(str(form.get("_csrf", "")))
    values = {k: str(form.get(k, "")).strip() for k in FIELDS}
    uploads = [f for f in form.getlist("photos") if isinstance(f, UploadFile)]
    container = p.container
    try:
        _check(values)
        lon, lat = _position(values)
        report = NewReport(
            source=_enum(Source, values["source"], Msg("Source")),
            description=values["description"][:2000],
            category_code=values["category_code"],
            lon=lon,
            lat=lat,
            address=values["address"][:200],
            reporter_name=values["reporter_name"][:50],
            reporter_phone=values["reporter_phone"][:30],
            urgency=_enum(Urgency, values["urgency"], Msg("Urgency")),
            attachments=await read_photos(uploads, container),
        )
        key = str(form.get("idempotency_key", "")) or None
        outcome = await write(
            container,
            svc.report_case,
            container.uow(),
            report,
            actor=p.actor,
            now=p.now,
            idempotency_key=key,
        )
    except DomainError as exc:
        return _form(p, values, p.message(exc), status=422)
    number = outcome.case.number
    into = values.get("merge_into", "")
    if into:
        try:
            await write(
                container,
                svc.merge_case,
                container.uow(),
                number,
                actor=p.actor,
                now=p.now,
                version=outcome.case.version,
                into_number=into,
                comment=p.t("Registered as a duplicate of {number}", number=into),
            )
        except DomainError:
            # The report is kept (nothing acknowledged is lost); the page says it was not merged.
            return RedirectResponse(f"/cases/{number}?{urlencode({'unmerged': into})}", 303)
        return RedirectResponse(f"/cases/{into}?{urlencode({'merged': number})}", 303)
    return RedirectResponse(f"/cases/{number}?{urlencode({'registered': '1'})}", 303)
