"""Search over cases by every field of the API, saved filters, and export to XLSX."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from cityloop.adapters.io.sheets import write_sheet
from cityloop.domain.case import CaseState, Source
from cityloop.domain.errors import DomainError, Msg, ValidationError
from cityloop.domain.regions import RegionLevel
from cityloop.entrypoints.presentation import label
from cityloop.entrypoints.web.context import Page, page
from cityloop.services import saved_filters as saved
from cityloop.services.queries import cases as q
from cityloop.services.queries import lookups

router = APIRouter(include_in_schema=False)
PageDep = Annotated[Page, Depends(page)]
PAGE_SIZE = 100
SORTS: list[tuple[str, Msg]] = [
    ("", Msg("Most urgent first")),
    ("-reported_at", Msg("Newest reports first")),
    ("reported_at", Msg("Oldest reports first")),
    ("-updated_at", Msg("Recently changed first")),
    ("number", Msg("Case number")),
]


@dataclass
class SearchForm:
    """A search as it travels in the address (the same names as the API's parameters)."""

    text: str = ""
    states: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    category: str = ""
    street: str = ""
    community: str = ""
    grid: str = ""
    department: str = ""
    light: str = ""
    reported_from: str = ""
    reported_to: str = ""
    supervised: bool = False
    reworked: bool = False
    sort: str = ""
    page: int = 1
    queue: bool = False

    @classmethod
    def of(cls, request: Request) -> SearchForm:
        params = request.query_params
        try:
            page_no = max(1, min(10_000, int(params.get("page", "1") or 1)))
        except ValueError:
            page_no = 1
        return cls(
            text=params.get("q", "").strip()[:100],
            states=[s for s in params.getlist("state") if s],
            sources=[s for s in params.getlist("source") if s],
            category=params.get("category", "").strip(),
            street=params.get("street", "").strip(),
            community=params.get("community", "").strip(),
            grid=params.get("grid", "").strip(),
            department=params.get("department", "").strip(),
            light=params.get("light", ""),
            reported_from=params.get("reported_from", ""),
            reported_to=params.get("reported_to", ""),
            supervised=params.get("supervised") in ("1", "true", "on"),
            reworked=params.get("reworked") in ("1", "true", "on"),
            sort=params.get("sort", ""),
            page=page_no,
            queue=params.get("queue") in ("1", "true"),
        )

    def query(self, **changes: Any) -> str:
        pairs: list[tuple[str, str]] = [("q", self.text)]
        pairs += [("state", s) for s in self.states] + [("source", s) for s in self.sources]
        pairs += [
            ("category", self.category),
            ("street", self.street),
            ("community", self.community),
            ("grid", self.grid),
            ("department", self.department),
            ("light", self.light),
            ("reported_from", self.reported_from),
            ("reported_to", self.reported_to),
            ("supervised", "1" if self.supervised else ""),
            ("reworked", "1" if self.reworked else ""),
            ("sort", self.sort),
            ("queue", "1" if self.queue else ""),
        ]
        page_no = changes.get("page", 1)
        if page_no and page_no > 1:
            pairs.append(("page", str(page_no)))
        return urlencode([(k, v) for k, v in pairs if v])

    @property
    def empty(self) -> bool:
        return not self.query()

    def filters(self, tz: Any) -> q.CaseFilters:
        def day(text: str, name: Msg) -> datetime | None:
            if not text:
                return None
            try:
                return datetime.combine(date.fromisoformat(text), time(0), tzinfo=tz)
            except ValueError as exc:
                raise ValidationError(
                    "date_invalid", "{field}: {value} is not a date", field=name, value=text
                ) from exc

        department_id = None
        if self.department:
            if not self.department.isdigit():
                raise ValidationError(
                    "department_invalid", "{value} is not a department", value=self.department
                )
            department_id = int(self.department)
        until = day(self.reported_to, Msg("Reported until"))
        codes = tuple(c.strip() for c in self.category.replace("，", ",").split(",") if c.strip())
        return q.CaseFilters(
            states=tuple(self.states),
            category_codes=codes,
            sources=tuple(self.sources),
            grid_code=self.grid or None,
            street_code=self.street or None,
            community_code=self.community or None,
            department_id=department_id,
            light=self.light or None,
            reported_from=day(self.reported_from, Msg("Reported from")),
            reported_to=until + timedelta(days=1) if until else None,  # the whole last day
            text=self.text,
            supervised=True if self.supervised else None,
            reworked=True if self.reworked else None,
        )


def _options(p: Page) -> dict[str, Any]:
    with p.container.uow(readonly=True) as uow:
        streets = uow.regions.of_level(RegionLevel.STREET)
    if p.actor.district_code:
        streets = [s for s in streets if s.code.startswith(p.actor.district_code)]
    departments = lookups.departments(p.container.uow(readonly=True), p.actor)
    return {
        "all_states": list(CaseState),
        "all_sources": list(Source),
        "streets": sorted(streets, key=lambda s: s.code),
        "departments": [d for d in departments if d.can_handle],
        "sorts": SORTS,
        "saved": saved.mine(p.container.uow(readonly=True), p.actor),
    }


def _search(p: Page, form: SearchForm) -> q.CasePage | None:
    return q.list_cases(
        p.container.uow(readonly=True),
        p.actor,
        now=p.now,
        filters=form.filters(p.tz),
        queue=form.queue,
        sort=form.sort or None,
        page=form.page,
        page_size=PAGE_SIZE,
    )


@router.get("/search", response_class=HTMLResponse)
async def search(p: PageDep, request: Request, notice: str = "") -> HTMLResponse:
    form = SearchForm.of(request)
    error = ""
    result = None
    try:
        result = await run_in_threadpool(_search, p, form)
    except DomainError as exc:
        error = p.message(exc)
    options = await run_in_threadpool(_options, p)
    return p.render(
        "search/page.html",
        status=422 if error else 200,
        form=form,
        result=result,
        pages=max(1, -(-result.total // PAGE_SIZE)) if result else 1,
        error=error,
        notice=notice,
        **options,
    )


# -- export ---


def _export_rows(p: Page, form: SearchForm) -> bytes:
    items = q.export_cases(
        p.container.uow(readonly=True),
        p.actor,
        now=p.now,
        filters=form.filters(p.tz),
        queue=form.queue,
        sort=form.sort or None,
    )
    tz = p.tz

    def local(value: datetime | None) -> datetime | None:
        return value.astimezone(tz) if value is not None else None

    headers = [p.t(text) for text in EXPORT_COLUMNS]
    yes_no = {True: p.t("Yes"), False: p.t("No")}
    rows = []
    for item in items:
        c, st = item.case, item.status
        rows.append(
            [
                c.number,
                label(c.state, p.locale),
                item.summary.category_code or "",
                item.summary.category_name or "",
                label(c.source, p.locale),
                label(c.urgency, p.locale),
                c.description,
                item.summary.street_name or "",
                c.community_code or "",
                c.grid_code or "",
                c.address,
                item.summary.department_name or "",
                local(c.reported_at),
                local(c.accepted_at),
                local(c.filed_at),
                local(c.first_dispatched_at),
                local(c.signed_at),
                local(c.handled_at),
                local(c.checked_at),
                local(c.closed_at),
                label(c.close_type, p.locale) if c.close_type else "",
                local(c.disposal_deadline),
                yes_no.get(c.handled_overdue, "") if c.handled_overdue is not None else "",
                label(st.light, p.locale) if st else "",
                local(st.deadline) if st else None,
                c.extension_count,
                c.return_count,
                c.rework_count,
                c.remind_count,
                p.t("Yes") if c.supervised else "",
                c.satisfaction if c.satisfaction is not None else "",
            ]
        )
    return write_sheet(headers, rows, title=p.t("Cases"))


# The columns a centre reports on, milestone times included.
EXPORT_COLUMNS: list[Msg] = [
    Msg("Case number"), Msg("State"), Msg("Class code"), Msg("Class"), Msg("Source"),
    Msg("Urgency"), Msg("Description"), Msg("Street"), Msg("Community code"), Msg("Grid"),
    Msg("Address"), Msg("Department"), Msg("Reported"), Msg("Accepted"), Msg("Filed"),
    Msg("First dispatched"), Msg("Signed for"), Msg("Handled"), Msg("Checked"), Msg("Closed"),
    Msg("Close type"), Msg("Disposal deadline"), Msg("Handled late"), Msg("Light"),
    Msg("Stage deadline"), Msg("Extensions"), Msg("Returns"), Msg("Reworks"), Msg("Reminders"),
    Msg("Supervised"), Msg("Satisfaction"),
]  # fmt: skip


@router.get("/search/export.xlsx")
async def export(p: PageDep, request: Request) -> Response:
    form = SearchForm.of(request)
    data = await run_in_threadpool(_export_rows, p, form)
    stamp = p.now.astimezone(p.tz).strftime("%Y%m%d-%H%M")
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="cityloop-cases-{stamp}.xlsx"'},
    )


# -- saved filters ---


@router.post("/search/saved")
async def save_filter(
    p: PageDep,
    name: Annotated[str, Form()],
    query: Annotated[str, Form()],
    csrf: Annotated[str, Form(alias="_csrf")] = "",
) -> Response:
    p.check_csrf(csrf)
    await run_in_threadpool(saved.save, p.container.uow(), p.actor, name, query, now=p.now)
    notice = p.t("Saved the search as {name}", name=name.strip())
    return RedirectResponse(f"/search?{query}&{urlencode({'notice': notice})}", status_code=303)


@router.post("/search/saved/{filter_id}/delete")
async def delete_filter(
    p: PageDep, filter_id: int, csrf: Annotated[str, Form(alias="_csrf")] = ""
) -> Response:
    p.check_csrf(csrf)
    await run_in_threadpool(saved.delete, p.container.uow(), p.actor, filter_id)
    return RedirectResponse("/search", status_code=303)
