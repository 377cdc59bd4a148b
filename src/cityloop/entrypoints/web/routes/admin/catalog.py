"""Administration (应用维护): the class dictionary and the filing standards.

``/admin/classes`` lists and filters the classes and adds local extension classes;
``/admin/classes/{id}`` edits one class and its rows of filing standard;
``/admin/standards`` exports and imports the whole standards table as XLSX.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from cityloop.adapters.io.sheets import read_numbered_sheet, write_sheet
from cityloop.domain.codes import ClassKind, Edition
from cityloop.domain.errors import DomainError, Msg, ValidationError
from cityloop.domain.sla.units import TimeLimit, TimeUnit
from cityloop.entrypoints.api.body import check_length
from cityloop.entrypoints.i18n import gettext
from cityloop.entrypoints.web.context import Page
from cityloop.entrypoints.web.routes.admin import AdminDep
from cityloop.services import catalog_admin as svc
from cityloop.services.catalog_admin import RowProblem, RowsRejectedError

router = APIRouter(prefix="/admin", include_in_schema=False)

MAX_FILE_BYTES = 10 * 1_048_576
STANDARD_FIELDS = (
    "condition",
    "closing_condition",
    "supervising_body",
    "responsible_body",
    "legal_basis",
    "legal_clause",
    "collection_notes",
)


# -- uploads (shared with the calendar page) ---


async def read_upload(request: Request, p: Page) -> tuple[dict[str, str], UploadFile | None]:
    """The text fields of a multipart form (CSRF checked) and its ``file`` part."""
    check_length(request, p.container.settings)
    form = await request.form(max_files=1, max_fields=20)
    p.check_csrf(str(form.get("_csrf", "")))
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = form.get("file")
    return fields, upload if isinstance(upload, UploadFile) and upload.filename else None


async def read_table(upload: UploadFile | None) -> list[tuple[int, dict[str, Any]]]:
    """Rows of an uploaded XLSX or CSV file, each with its row number (header = row 1)."""
    if upload is None:
        raise ValidationError("import_file_missing", "Choose a file to import")
    data = await upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(
            "import_file_too_large", "The file is larger than {limit} MB", limit=10
        )
    name = (upload.filename or "").lower()
    if name.endswith(".csv") or not data.startswith(b"PK"):
        return read_csv(data)
    return await run_in_threadpool(read_numbered_sheet, data)


def read_csv(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # what Excel in China saves a CSV as
        except UnicodeDecodeError as exc:
            raise ValidationError(
                "import_file_unreadable", "The file is neither an XLSX workbook nor a CSV table"
            ) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    for line in reader:
        values = {k.strip(): v for k, v in line.items() if isinstance(k, str)}
        if any((v or "").strip() for v in values.values() if isinstance(v, str)):
            rows.append((reader.line_num, values))
    return rows


def problem_lines(p: Page, problems: list[RowProblem]) -> list[tuple[int, str, str]]:
    """(row, column, message) of each problem, in the page's language."""
    return [(x.row, p.t(x.column) if x.column else "", p.message(x.error)) for x in problems]


# -- the class list ---


def _edition(value: str) -> Edition | None:
    return {"current": Edition.CURRENT, "legacy": Edition.LEGACY}.get(value)


def _kind(value: str) -> ClassKind | None:
    try:
        return ClassKind(value) if value else None
    except ValueError:
        return None


def _query(
    edition: str, kind: str, major: str, text: str, active: str, local: str, page: int
) -> svc.ClassQuery:
    return svc.ClassQuery(
        edition=_edition(edition),
        kind=_kind(kind),
        major_code=major if major.isdigit() and len(major) == 2 else "",
        text=text.strip(),
        active={"yes": True, "no": False}.get(active),
        local={"yes": True, "no": False}.get(local),
        page=page,
    )


def _list_page(
    p: Page,
    args: dict[str, str],
    query: svc.ClassQuery,
    *,
    new: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    result = svc.find_classes(p.container.uow(readonly=True), query, actor=p.actor)
    with p.container.uow(readonly=True) as uow:
        majors = {
            kind.value: uow.catalog.majors(Edition.CURRENT, kind)
            for kind in (ClassKind.COMPONENT, ClassKind.MATTER)
        }

    def link(**changes: Any) -> str:
        values = {**args, **{k: str(v) for k, v in changes.items()}}
        if "page" not in changes:
            values.pop("page", None)
        return "/admin/classes?" + urlencode({k: v for k, v in values.items() if v})

    return p.render(
        "admin/classes.html",
        status=status,
        result=result,
        args=args,
        link=link,
        kinds=list(ClassKind),
        new=new or {"kind": "matter", "major": "", "name": ""},
        new_majors=majors,
        error=error,
    )


@router.get("/classes", response_class=HTMLResponse)
async def classes(
    p: AdminDep,
    edition: Annotated[str, Query(pattern="^(|current|legacy|all)$")] = "current",
    kind: Annotated[str, Query(pattern="^(|component|matter|event)$")] = "",
    major: Annotated[str, Query(max_length=2)] = "",
    q: Annotated[str, Query(max_length=50)] = "",
    active: Annotated[str, Query(pattern="^(|yes|no)$")] = "",
    local: Annotated[str, Query(pattern="^(|yes|no)$")] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> HTMLResponse:
    args = {
        "edition": edition,
        "kind": kind,
        "major": major,
        "q": q,
        "active": active,
        "local": local,
        "page": str(page) if page > 1 else "",
    }
    query = _query(edition, kind, major, q, active, local, page)
    return await run_in_threadpool(_list_page, p, args, query)


@router.post("/classes")
async def add_class(p: AdminDep, request: Request) -> Response:
    """Add a local extension class (本地扩展分类)."""
    form = await request.form()
    p.check_csrf(str(form.get("_csrf", "")))
    new = {k: str(form.get(k, "")) for k in ("kind", "major", "name")}
    try:
        created = await run_in_threadpool(
            svc.add_local_class,
            p.container.uow(),
            kind=new["kind"],
            major_code=new["major"],
            name=new["name"],
            actor=p.actor,
            now=p.now,
        )
    except DomainError as exc:
        args = {"edition": "current", "local": "yes"}
        query = _query("current", "", "", "", "", "yes", 1)
        return await run_in_threadpool(
            _list_page, p, args, query, new=new, error=p.message(exc), status=422
        )
    return RedirectResponse(f"/admin/classes/{created.id}?done=added", status_code=303)


# -- one class and its filing standards ---

NOTICES = {
    "added": Msg("The class was added."),
    "saved": Msg("Saved."),
    "standard_added": Msg("The row was added to the filing standard."),
    "standard_saved": Msg("The row of the filing standard was saved."),
    "deactivated": Msg("The row is no longer offered at filing."),
    "activated": Msg("The row is offered at filing again."),
    "unchanged": Msg("Nothing changed."),
}


def _blank_standard() -> dict[str, str]:
    values = dict.fromkeys(STANDARD_FIELDS, "")
    values.update(
        normal_amount="",
        normal_unit=TimeUnit.WORK_HOUR.value,
        urgent_amount="",
        urgent_unit=TimeUnit.URGENT_WORK_HOUR.value,
        active="1",
    )
    return values


def _standard_values(standard: Any, extras: dict[str, str]) -> dict[str, str]:
    values = _blank_standard()
    for name in STANDARD_FIELDS:
        values[name] = extras.get(name, "") if name in svc.EXTRAS else getattr(standard, name)
    for urgency, limit in standard.limits.items():
        values[f"{urgency.value}_amount"] = f"{limit.amount.normalize():f}"
        values[f"{urgency.value}_unit"] = limit.unit.value
    values["active"] = "1" if standard.active else ""
    return values


def _limit(values: dict[str, str], prefix: str, required: bool) -> TimeLimit | None:
    amount = values.get(f"{prefix}_amount", "").strip()
    if not amount:
        if required:
            raise ValidationError(
                "field_required", "{field} is required", field=Msg("Disposal limit (normal)")
            )
        return None
    try:
        unit = TimeUnit(values.get(f"{prefix}_unit", ""))
        return TimeLimit(Decimal(amount), unit)
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(
            "time_limit_amount_invalid", "{value} is not a positive number", value=amount
        ) from exc


def parse_draft(values: dict[str, str]) -> svc.StandardDraft:
    """A standard row from form values (the limits as amount + unit)."""
    normal = _limit(values, "normal", required=True)
    assert normal is not None
    return svc.StandardDraft(
        condition=values.get("condition", ""),
        normal_limit=normal,
        urgent_limit=_limit(values, "urgent", required=False),
        closing_condition=values.get("closing_condition", ""),
        supervising_body=values.get("supervising_body", ""),
        responsible_body=values.get("responsible_body", ""),
        legal_basis=values.get("legal_basis", ""),
        legal_clause=values.get("legal_clause", ""),
        collection_notes=values.get("collection_notes", ""),
        active=values.get("active") == "1",
    )


def _class_page(
    p: Page,
    category_id: int,
    *,
    notice: str = "",
    form: dict[str, str] | None = None,
    form_error: str = "",
    standard_form: dict[str, str] | None = None,
    standard_error: str = "",
    status: int = 200,
) -> HTMLResponse:
    detail = svc.class_detail(p.container.uow(readonly=True), category_id, actor=p.actor)
    c = detail.category
    return p.render(
        "admin/classes_detail.html",
        status=status,
        detail=detail,
        category=c,
        notice=notice,
        form=form
        or {
            "name": c.name,
            "active": "1" if c.active else "",
            "self_handling_allowed": "1" if c.self_handling_allowed else "",
        },
        form_error=form_error,
        standard_form=standard_form or _blank_standard(),
        standard_error=standard_error,
        units=list(TimeUnit),
    )


@router.get("/classes/{category_id}", response_class=HTMLResponse)
async def class_page(p: AdminDep, category_id: int, done: str = "") -> HTMLResponse:
    notice = p.t(NOTICES[done]) if done in NOTICES else ""
    return await run_in_threadpool(_class_page, p, category_id, notice=notice)


@router.post("/classes/{category_id}")
async def save_class(p: AdminDep, request: Request, category_id: int) -> Response:
    form = await request.form()
    p.check_csrf(str(form.get("_csrf", "")))
    values = {k: str(form.get(k, "")) for k in ("name", "active", "self_handling_allowed")}
    try:
        await run_in_threadpool(
            svc.update_class,
            p.container.uow(),
            category_id,
            name=values["name"],
            active=values["active"] == "1",
            self_handling_allowed=values["self_handling_allowed"] == "1",
            actor=p.actor,
            now=p.now,
        )
    except DomainError as exc:
        return await run_in_threadpool(
            _class_page, p, category_id, form=values, form_error=p.message(exc), status=422
        )
    return RedirectResponse(f"/admin/classes/{category_id}?done=saved", status_code=303)


def _form_values(form: Any) -> dict[str, str]:
    keys = (*STANDARD_FIELDS, "normal_amount", "normal_unit", "urgent_amount", "urgent_unit")
    values = {k: str(form.get(k, "")) for k in keys}
    values["active"] = "1" if form.get("active") == "1" else ""
    return values


@router.post("/classes/{category_id}/standards")
async def add_standard(p: AdminDep, request: Request, category_id: int) -> Response:
    form = await request.form()
    p.check_csrf(str(form.get("_csrf", "")))
    values = _form_values(form)
    try:
        await run_in_threadpool(
            svc.add_standard,
            p.container.uow(),
            category_id,
            parse_draft(values),
            actor=p.actor,
            now=p.now,
        )
    except DomainError as exc:
        return await run_in_threadpool(
            _class_page,
            p,
            category_id,
            standard_form=values,
            standard_error=p.message(exc),
            status=422,
        )
    return RedirectResponse(
        f"/admin/classes/{category_id}?done=standard_added#standards", status_code=303
    )


# -- the standards table as a spreadsheet (declared before /standards/{id}) ---


def _export(p: Page) -> bytes:
    lines = svc.export_standards(p.container.uow(readonly=True), actor=p.actor)
    yes, no = p.t("Yes"), p.t("No")
    rows = [
        [(yes if line[key] else no) if key == "active" else line[key] for key, _ in svc.COLUMNS]
        for line in lines
    ]
    headers = [p.t(text) for _, text in svc.COLUMNS]
    return write_sheet(headers, rows, title=p.t("Filing standards"))


@router.get("/standards/export.xlsx")
async def export_standards(p: AdminDep) -> Response:
    data = await run_in_threadpool(_export, p)
    stamp = p.now.astimezone(p.tz).strftime("%Y%m%d")
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="filing-standards-{stamp}.xlsx"'},
    )


def header_keys() -> dict[str, str]:
    """Accepted header → column key: the key itself and its header in every language."""
    accepted: dict[str, str] = {}
    for key, text in svc.COLUMNS:
        for name in (key, text, gettext(text, "zh_CN"), gettext(text, "en")):
            accepted[name.strip().lower()] = key
    return accepted


def keyed(rows: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
    """Rows with their headers replaced by column keys (unknown headers dropped)."""
    accepted = header_keys()
    result = []
    for number, line in rows:
        values = {}
        for header, value in line.items():
            key = accepted.get(str(header).strip().lower())
            if key is not None:
                values[key] = value
        result.append((number, values))
    return result


@router.get("/standards", response_class=HTMLResponse)
async def standards_page(p: AdminDep, added: int = 0, updated: int = 0, same: int = 0) -> Response:
    notice = ""
    if added or updated or same:
        notice = p.t(
            "Imported: {added} rows added, {updated} changed, {same} unchanged.",
            added=added,
            updated=updated,
            same=same,
        )
    return p.render("admin/standards.html", notice=notice, columns=svc.COLUMNS, problems=[])


@router.post("/standards/import")
async def import_standards(p: AdminDep, request: Request) -> Response:
    _, upload = await read_upload(request, p)
    try:
        rows = keyed(await read_table(upload))
        summary = await run_in_threadpool(
            svc.import_standards, p.container.uow(), rows, actor=p.actor, now=p.now
        )
    except RowsRejectedError as exc:
        return p.render(
            "admin/standards.html",
            status=422,
            error=p.message(exc),
            problems=problem_lines(p, exc.problems),
            columns=svc.COLUMNS,
        )
    except DomainError as exc:
        return p.render(
            "admin/standards.html",
            status=422,
            error=p.message(exc),
            problems=[],
            columns=svc.COLUMNS,
        )
    query = urlencode(
        {"added": summary.added, "updated": summary.updated, "same": summary.unchanged}
    )
    return RedirectResponse(f"/admin/standards?{query}", status_code=303)


# -- one row of filing standard ---


def _standard_page(
    p: Page,
    standard_id: int,
    *,
    values: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    detail = svc.standard_detail(p.container.uow(readonly=True), standard_id, actor=p.actor)
    return p.render(
        "admin/standards_edit.html",
        status=status,
        detail=detail,
        category=detail.category,
        values=values or _standard_values(detail.standard, detail.extras),
        error=error,
        units=list(TimeUnit),
    )


@router.get("/standards/{standard_id}", response_class=HTMLResponse)
async def standard_page(p: AdminDep, standard_id: int) -> HTMLResponse:
    return await run_in_threadpool(_standard_page, p, standard_id)


@router.post("/standards/{standard_id}")
async def save_standard(p: AdminDep, request: Request, standard_id: int) -> Response:
    form = await request.form()
    p.check_csrf(str(form.get("_csrf", "")))
    values = _form_values(form)
    try:
        saved = await run_in_threadpool(
            svc.update_standard,
            p.container.uow(),
            standard_id,
            parse_draft(values),
            actor=p.actor,
            now=p.now,
        )
    except DomainError as exc:
        return await run_in_threadpool(
            _standard_page, p, standard_id, values=values, error=p.message(exc), status=422
        )
    return RedirectResponse(
        f"/admin/classes/{saved.category_id}?done=standard_saved#standards", status_code=303
    )


@router.post("/standards/{standard_id}/active")
async def set_active(p: AdminDep, request: Request, standard_id: int) -> Response:
    form = await request.form()
    p.check_csrf(str(form.get("_csrf", "")))
    active = form.get("active") == "1"
    saved = await run_in_threadpool(
        svc.set_standard_active,
        p.container.uow(),
        standard_id,
        active,
        actor=p.actor,
        now=p.now,
    )
    done = "activated" if active else "deactivated"
    return RedirectResponse(
        f"/admin/classes/{saved.category_id}?done={done}#standards", status_code=303
    )
