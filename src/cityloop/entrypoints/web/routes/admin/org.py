"""Administration (应用维护): departments, users with their roles and scopes, dispatch rules.

``/admin/departments`` shows the organisation as a tree and edits, deactivates and reactivates
departments; ``/admin/users`` finds users, creates them, edits their details, role grants,
password and an inspector's responsible grids; ``/admin/dispatch-rules`` lists, adds and deletes
the rules that propose a department, with a preview of the proposal for a class in a grid.
Every change goes through :mod:`cityloop.services.org` or :mod:`cityloop.services.users`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from cityloop.domain.codes import ClassKind, Edition
from cityloop.domain.errors import ConflictError, DomainError, Msg, ValidationError
from cityloop.domain.org import Department, DepartmentKind, RoleGrant, User
from cityloop.domain.regions import RegionLevel
from cityloop.domain.roles import Role
from cityloop.domain.routing import DispatchRule
from cityloop.domain.taxonomy import Category, FilingStandard
from cityloop.entrypoints.api.deps import write
from cityloop.entrypoints.web.context import Page
from cityloop.entrypoints.web.routes.admin import AdminDep
from cityloop.services import org as svc
from cityloop.services import users as user_svc

router = APIRouter(prefix="/admin", include_in_schema=False)
R = TypeVar("R")

PAGE_SIZE = 50
KIND_LABELS: dict[DepartmentKind, Msg] = {
    DepartmentKind.CENTRE: Msg("Centre"),
    DepartmentKind.AGENCY: Msg("Agency"),
    DepartmentKind.STREET_OFFICE: Msg("Street office"),
    DepartmentKind.COMPANY: Msg("Utility company"),
    DepartmentKind.UNIT: Msg("Sub-unit"),
}
NOTICES: dict[str, Msg] = {
    "created": Msg("Created."),
    "saved": Msg("Saved."),
    "deactivated": Msg("Deactivated."),
    "activated": Msg("Reactivated."),
    "granted": Msg("Role added."),
    "revoked": Msg("Role removed; the user signs in again."),
    "password": Msg("Password reset; the user signs in again."),
    "grids": Msg("Responsible grids saved."),
    "deleted": Msg("Deleted."),
}


def _notice(p: Page, done: str) -> str:
    return p.t(NOTICES[done]) if done in NOTICES else ""


async def _fields(p: Page, request: Request) -> dict[str, str]:
    """The text fields of a posted form, after its CSRF token is checked."""
    form = await request.form(max_files=0, max_fields=30, max_part_size=65_536)
    p.check_csrf(str(form.get("_csrf", "")))
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "_csrf"}


def _optional_int(values: dict[str, str], name: str, what: Msg) -> int | None:
    raw = values.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ValidationError("field_not_number", "{field} must be a number", field=what) from exc


def _read(p: Page, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    return fn(p.container.uow(readonly=True), *args, actor=p.actor, **kwargs)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@dataclass(frozen=True, slots=True)
class Lookups:
    """What the forms choose from: departments and districts, with their names."""

    departments: list[Department]
    districts: list[tuple[str, str]]  # (code, name)

    @property
    def by_id(self) -> dict[int, Department]:
        return {d.id: d for d in self.departments}

    @property
    def district_names(self) -> dict[str, str]:
        return dict(self.districts)


def _lookups(p: Page) -> Lookups:
    with p.container.uow(readonly=True) as uow:
        departments = uow.org.departments()
        districts = [(r.code, r.name) for r in uow.regions.of_level(RegionLevel.DISTRICT)]
    return Lookups(departments, districts)


# -- departments ---


def _departments_page(p: Page, *, kind: str, notice: str = "") -> HTMLResponse:
    rows = _read(p, svc.list_departments)
    lookups = _lookups(p)
    shown = [r for r in rows if not kind or r.department.kind.value == kind]
    return p.render(
        "admin/departments.html",
        rows=shown,
        total=len(rows),
        kind=kind,
        kinds=KIND_LABELS,
        counts={k.value: sum(1 for r in rows if r.department.kind is k) for k in DepartmentKind},
        lookups=lookups,
        notice=notice,
    )


@router.get("/departments", response_class=HTMLResponse)
async def departments(
    p: AdminDep, kind: Annotated[str, Query(max_length=20)] = "", done: str = ""
) -> HTMLResponse:
    return await run_in_threadpool(_departments_page, p, kind=kind, notice=_notice(p, done))


def _department_form(
    p: Page,
    *,
    department: Department | None,
    values: dict[str, str],
    error: str = "",
    notice: str = "",
    open_cases: int = 0,
    status: int = 200,
) -> HTMLResponse:
    lookups = _lookups(p)
    # A department cannot sit under itself or its own units: leave them out of the choices.
    below: set[int] = set()
    if department is not None:
        below.add(department.id)
        changed = True
        while changed:
            changed = False
            for d in lookups.departments:
                if d.parent_id in below and d.id not in below:
                    below.add(d.id)
                    changed = True
    parents = [
        (d, depth)
        for d, depth in svc.department_tree(lookups.departments)
        if d.id not in below and d.active
    ]
    return p.render(
        "admin/departments_form.html",
        status=status,
        department=department,
        values=values,
        error=error,
        notice=notice,
        parents=parents,
        lookups=lookups,
        kinds=KIND_LABELS,
        open_cases=open_cases,
    )


def _department_values(d: Department) -> dict[str, str]:
    return {
        "code": d.code,
        "name": d.name,
        "kind": d.kind.value,
        "level": str(d.level),
        "parent_id": str(d.parent_id or ""),
        "district_code": d.district_code or "",
        "credit_code": d.credit_code or "",
    }


def _department_args(values: dict[str, str]) -> dict[str, Any]:
    level = _optional_int(values, "level", Msg("Level"))
    return {
        "name": values.get("name", ""),
        "kind": values.get("kind", ""),
        "level": 1 if level is None else level,
        "parent_id": _optional_int(values, "parent_id", Msg("Parent department")),
        "district_code": values.get("district_code", "").strip() or None,
        "credit_code": values.get("credit_code", "").strip() or None,
    }


@router.get("/departments/new", response_class=HTMLResponse)
async def new_department(p: AdminDep) -> HTMLResponse:
    values = {"kind": DepartmentKind.AGENCY.value, "level": "1"}
    return await run_in_threadpool(_department_form, p, department=None, values=values)


@router.post("/departments")
async def create_department(p: AdminDep, request: Request) -> Response:
    values = await _fields(p, request)
    c = p.container
    try:
        created = await write(
            c,
            svc.create_department,
            c.uow(),
            actor=p.actor,
            now=p.now,
            code=values.get("code", ""),
            **_department_args(values),
        )
    except DomainError as exc:
        return await run_in_threadpool(
            _department_form,
            p,
            department=None,
            values=values,
            error=p.message(exc),
            status=409 if isinstance(exc, ConflictError) else 422,
        )
    return _redirect(f"/admin/departments/{created.id}?done=created")


def _load_department(p: Page, department_id: int) -> tuple[Department, int]:
    return _read(p, svc.department_detail, department_id)


@router.get("/departments/{department_id}", response_class=HTMLResponse)
async def department_page(p: AdminDep, department_id: int, done: str = "") -> HTMLResponse:
    department, held = await run_in_threadpool(_load_department, p, department_id)
    return await run_in_threadpool(
        _department_form,
        p,
        department=department,
        values=_department_values(department),
        notice=_notice(p, done),
        open_cases=held,
    )


@router.post("/departments/{department_id}")
async def update_department(p: AdminDep, request: Request, department_id: int) -> Response:
    values = await _fields(p, request)
    c = p.container
    try:
        await write(
            c,
            svc.update_department,
            c.uow(),
            department_id,
            actor=p.actor,
            now=p.now,
            **_department_args(values),
        )
    except DomainError as exc:
        department, held = await run_in_threadpool(_load_department, p, department_id)
        values["code"] = department.code
        return await run_in_threadpool(
            _department_form,
            p,
            department=department,
            values=values,
            error=p.message(exc),
            open_cases=held,
            status=422,
        )
    return _redirect(f"/admin/departments/{department_id}?done=saved")


@router.post("/departments/{department_id}/active")
async def department_active(p: AdminDep, request: Request, department_id: int) -> Response:
    values = await _fields(p, request)
    active = values.get("active") == "1"
    c = p.container
    try:
        await write(
            c, svc.set_department_active, c.uow(), department_id, active, actor=p.actor, now=p.now
        )
    except DomainError as exc:
        department, held = await run_in_threadpool(_load_department, p, department_id)
        return await run_in_threadpool(
            _department_form,
            p,
            department=department,
            values=_department_values(department),
            error=p.message(exc),
            open_cases=held,
            status=409 if isinstance(exc, ConflictError) else 422,
        )
    done = "activated" if active else "deactivated"
    return _redirect(f"/admin/departments/{department_id}?done={done}")


# -- users ---


def _role(value: str) -> Role | None:
    try:
        return Role(value) if value else None
    except ValueError:
        return None


@router.get("/users", response_class=HTMLResponse)
async def users(
    p: AdminDep,
    q: Annotated[str, Query(max_length=100)] = "",
    role: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    done: str = "",
) -> HTMLResponse:
    found, total = await run_in_threadpool(
        _read, p, user_svc.find_users, text=q, role=_role(role), page=page, page_size=PAGE_SIZE
    )
    lookups = await run_in_threadpool(_lookups, p)

    def link(n: int) -> str:
        return "/admin/users?" + urlencode(
            {k: v for k, v in {"q": q, "role": role, "page": str(n)}.items() if v}
        )

    return p.render(
        "admin/users.html",
        users=found,
        total=total,
        q=q,
        role=role,
        roles=list(Role),
        page_no=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        link=link,
        lookups=lookups,
        notice=_notice(p, done),
    )


def _grant(values: dict[str, str]) -> RoleGrant:
    role = _role(values.get("role", ""))
    if role is None:
        raise ValidationError("role_missing", "Choose a role")
    return RoleGrant(
        role,
        values.get("district_code", "").strip() or None,
        _optional_int(values, "department_id", Msg("Department")),
    )


def _new_user_form(
    p: Page, values: dict[str, str], *, error: str = "", status: int = 200
) -> HTMLResponse:
    return p.render(
        "admin/users_new.html",
        status=status,
        values=values,
        error=error,
        roles=list(Role),
        lookups=_lookups(p),
        min_password=user_svc.MIN_PASSWORD,
    )


@router.get("/users/new", response_class=HTMLResponse)
async def new_user(p: AdminDep) -> HTMLResponse:
    return await run_in_threadpool(_new_user_form, p, {"role": Role.OPERATOR.value})


@router.post("/users")
async def create_user(p: AdminDep, request: Request) -> Response:
    values = await _fields(p, request)
    c = p.container
    try:
        if values.get("password", "") != values.get("password2", ""):
            raise ValidationError("passwords_differ", "The two passwords differ")
        created = await write(
            c,
            svc.create_user,
            c.uow(),
            actor=p.actor,
            now=p.now,
            username=values.get("username", "").strip(),
            display_name=values.get("display_name", ""),
            password=values.get("password", ""),
            phone=values.get("phone", ""),
            grants=[_grant(values)],
        )
    except DomainError as exc:
        values.pop("password", None)
        values.pop("password2", None)
        status = 409 if isinstance(exc, ConflictError) else 422
        return await run_in_threadpool(
            _new_user_form, p, values, error=p.message(exc), status=status
        )
    return _redirect(f"/admin/users/{created.id}?done=created")


SECTIONS = ("profile", "grant", "password", "grids")


def _user_page(
    p: Page,
    user_id: int,
    *,
    notice: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    detail = _read(p, user_svc.user_detail, user_id)
    user = detail.user
    profile = {"display_name": user.display_name, "phone": user.phone}
    return p.render(
        "admin/users_edit.html",
        status=status,
        user=user,
        grid_codes=detail.grid_codes,
        is_inspector=any(g.role is Role.INSPECTOR for g in user.grants),
        values={**profile, "grids": "\n".join(detail.grid_codes), **(values or {})},
        errors=errors or {},
        notice=notice,
        roles=list(Role),
        lookups=_lookups(p),
        min_password=user_svc.MIN_PASSWORD,
    )


@router.get("/users/{user_id}", response_class=HTMLResponse)
async def user_page(p: AdminDep, user_id: int, done: str = "") -> HTMLResponse:
    return await run_in_threadpool(_user_page, p, user_id, notice=_notice(p, done))


async def _user_change(
    p: Page,
    request: Request,
    user_id: int,
    section: str,
    done: str,
    call: Callable[[dict[str, str]], Any],
) -> Response:
    """Run one change of the user page; on a refusal show the page with the message by the
    section's form and what was typed (passwords excepted)."""
    values = await _fields(p, request)
    try:
        await call(values)
    except DomainError as exc:
        values.pop("password", None)
        values.pop("password2", None)
        status = 409 if isinstance(exc, ConflictError) else 422
        return await run_in_threadpool(
            _user_page,
            p,
            user_id,
            errors={section: p.message(exc)},
            values=values,
            status=status,
        )
    return _redirect(f"/admin/users/{user_id}?done={done}")


@router.post("/users/{user_id}")
async def update_user(p: AdminDep, request: Request, user_id: int) -> Response:
    c = p.container

    async def call(values: dict[str, str]) -> User:
        return await write(
            c,
            user_svc.update_user,
            c.uow(),
            user_id,
            actor=p.actor,
            now=p.now,
            display_name=values.get("display_name", ""),
            phone=values.get("phone", ""),
            active=values.get("active") == "1",
        )

    return await _user_change(p, request, user_id, "profile", "saved", call)


@router.post("/users/{user_id}/grants")
async def add_grant(p: AdminDep, request: Request, user_id: int) -> Response:
    c = p.container

    async def call(values: dict[str, str]) -> User:
        grant = _grant(values)
        return await write(c, user_svc.add_grant, c.uow(), user_id, grant, actor=p.actor, now=p.now)

    return await _user_change(p, request, user_id, "grant", "granted", call)


@router.post("/users/{user_id}/grants/remove")
async def remove_grant(p: AdminDep, request: Request, user_id: int) -> Response:
    c = p.container

    async def call(values: dict[str, str]) -> User:
        grant = _grant(values)
        return await write(
            c, user_svc.remove_grant, c.uow(), user_id, grant, actor=p.actor, now=p.now
        )

    return await _user_change(p, request, user_id, "grant", "revoked", call)


@router.post("/users/{user_id}/password")
async def reset_password(p: AdminDep, request: Request, user_id: int) -> Response:
    c = p.container

    async def call(values: dict[str, str]) -> User:
        password = values.get("password", "")
        if password != values.get("password2", ""):
            raise ValidationError("passwords_differ", "The two passwords differ")
        return await write(
            c, user_svc.reset_password, c.uow(), user_id, password, actor=p.actor, now=p.now
        )

    return await _user_change(p, request, user_id, "password", "password", call)


GRID_SEPARATORS = re.compile(r"[\s,;，；、]+")


@router.post("/users/{user_id}/grids")
async def assign_grids(p: AdminDep, request: Request, user_id: int) -> Response:
    c = p.container

    async def call(values: dict[str, str]) -> list[int]:
        codes = [x for x in GRID_SEPARATORS.split(values.get("grids", "")) if x]
        return await write(c, svc.assign_grids, c.uow(), user_id, codes, actor=p.actor, now=p.now)

    return await _user_change(p, request, user_id, "grids", "grids", call)


# -- dispatch rules ---


def _classes(p: Page) -> list[Category]:
    """The current edition's matter classes: a case is always classified by one."""
    with p.container.uow(readonly=True) as uow:
        return uow.catalog.categories(edition=Edition.CURRENT, kind=ClassKind.MATTER)


@dataclass(frozen=True, slots=True)
class RuleFilters:
    department: int | None
    text: str
    page: int

    def query(self, **changes: Any) -> str:
        values = {"department": self.department or "", "q": self.text, "page": self.page}
        values.update(changes)
        if values.get("page") == 1:
            values["page"] = ""
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def _rules_page(
    p: Page,
    f: RuleFilters,
    *,
    preview_args: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    error: str = "",
    notice: str = "",
    status: int = 200,
) -> HTMLResponse:
    rows, total = _read(
        p,
        svc.list_dispatch_rules,
        department_id=f.department,
        text=f.text,
        page=f.page,
        page_size=PAGE_SIZE,
    )
    lookups = _lookups(p)
    previews, preview_error = [], ""
    if preview_args is not None:
        try:
            previews = _previews(p, preview_args)
        except DomainError as exc:
            preview_error = p.message(exc)
            status = 422
    return p.render(
        "admin/rules.html",
        status=status,
        rows=rows,
        total=total,
        f=f,
        pages=max(1, -(-total // PAGE_SIZE)),
        lookups=lookups,
        handlers=[d for d in lookups.departments if d.can_handle],
        classes=_classes(p),
        standards=_standards(p, (values or {}).get("category_id", "")),
        preview_standards=_standards(p, (preview_args or {}).get("class_id", "")),
        values=values or {"priority": "100"},
        error=error,
        notice=notice,
        previews=previews,
        preview_args=preview_args or {},
        preview_error=preview_error,
    )


def _previews(
    p: Page, args: dict[str, str]
) -> list[tuple[FilingStandard | None, svc.DispatchPreview]]:
    """The proposal for the chosen filing-standard row; with none chosen, for each row of the
    class (a case is dispatched once filed, so with its row), or for the class alone when it
    has no row."""
    category_id = _optional_int(args, "class_id", Msg("Class")) or 0
    standard_id = _optional_int(args, "standard", Msg("Filing standard"))
    rows = _standards(p, str(category_id))
    if standard_id is not None:
        rows = [s for s in rows if s.id == standard_id]
    chosen: list[FilingStandard | None] = list(rows) if rows else [None]
    return [
        (
            standard,
            _read(
                p,
                svc.preview_dispatch,
                now=p.now,
                category_id=category_id,
                grid_code=args.get("grid", ""),
                filing_standard_id=standard.id if standard else None,
            ),
        )
        for standard in chosen
    ]


def _rule_filters(department: str, q: str, page: int) -> RuleFilters:
    return RuleFilters(int(department) if department.isdigit() else None, q.strip(), page)


@router.get("/dispatch-rules", response_class=HTMLResponse)
async def dispatch_rules(
    p: AdminDep,
    request: Request,
    department: Annotated[str, Query(max_length=12)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    done: str = "",
) -> HTMLResponse:
    params = request.query_params
    preview_args = (
        {k: params.get(k, "") for k in ("class_id", "grid", "standard")}
        if "preview" in params
        else None
    )
    return await run_in_threadpool(
        _rules_page,
        p,
        _rule_filters(department, q, page),
        preview_args=preview_args,
        notice=_notice(p, done),
    )


def _standards(p: Page, category_id: str) -> list[FilingStandard]:
    if not category_id.isdigit():
        return []
    with p.container.uow(readonly=True) as uow:
        return [s for s in uow.catalog.standards_for(int(category_id)) if s.active]


@router.get("/dispatch-rules/standards", response_class=HTMLResponse)
async def class_standards(
    p: AdminDep,
    category_id: Annotated[str, Query(max_length=12)] = "",
    class_id: Annotated[str, Query(max_length=12)] = "",
) -> HTMLResponse:
    """The filing-standard rows of a class, as the options of a select (the rule form sends
    ``category_id``, the preview form ``class_id``)."""
    rows = await run_in_threadpool(_standards, p, category_id or class_id)
    return p.render("admin/rules_standards.html", standards=rows, chosen="")


@router.post("/dispatch-rules")
async def add_dispatch_rule(p: AdminDep, request: Request) -> Response:
    values = await _fields(p, request)
    c = p.container
    try:
        department_id = _optional_int(values, "department_id", Msg("Department"))
        if department_id is None:
            raise ValidationError("rule_department_missing", "Choose the department")
        priority = _optional_int(values, "priority", Msg("Priority"))
        rule = DispatchRule(
            id=0,
            department_id=department_id,
            filing_standard_id=_optional_int(values, "standard_id", Msg("Filing standard")),
            category_id=_optional_int(values, "category_id", Msg("Class")),
            district_code=values.get("district_code", "").strip() or None,
            street_code=values.get("street_code", "").strip() or None,
            priority=100 if priority is None else priority,
        )
        await write(c, svc.add_dispatch_rule, c.uow(), rule, actor=p.actor, now=p.now)
    except DomainError as exc:
        return await run_in_threadpool(
            _rules_page,
            p,
            RuleFilters(None, "", 1),
            values=values,
            error=p.message(exc),
            status=422,
        )
    return _redirect("/admin/dispatch-rules?done=created")


@router.post("/dispatch-rules/{rule_id}/delete")
async def delete_dispatch_rule(p: AdminDep, request: Request, rule_id: int) -> Response:
    await _fields(p, request)
    c = p.container
    await write(c, svc.remove_dispatch_rule, c.uow(), rule_id, actor=p.actor, now=p.now)
    return _redirect("/admin/dispatch-rules?done=deleted")
