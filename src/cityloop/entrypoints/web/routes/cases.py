"""The case page: everything about one case, and the actions I may take on it now."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from cityloop.domain import workflow
from cityloop.domain.case import Attachment
from cityloop.domain.errors import CaseChangedError, DomainError, Msg, NotFoundError
from cityloop.domain.roles import Role
from cityloop.domain.workflow import Action
from cityloop.entrypoints.api.body import check_length, read_photos
from cityloop.entrypoints.api.deps import write
from cityloop.entrypoints.api.routes.cases import ACTIONS
from cityloop.entrypoints.presentation import label, reporter_phone
from cityloop.entrypoints.web.context import Page, page
from cityloop.entrypoints.web.forms import ActionForm, Choice, build_form, parse, static_choices
from cityloop.entrypoints.web.routes.work import done_notice
from cityloop.services.cases import MAX_ATTACHMENTS
from cityloop.services.queries import cases as q
from cityloop.services.queries import lookups

router = APIRouter(include_in_schema=False)
PageDep = Annotated[Page, Depends(page)]

# Photos by the moment they were taken (Attachment.stage), in the order of the loop.
PHOTO_GROUPS: list[tuple[str, Msg]] = [
    ("report", Msg("Reported")),
    ("verify", Msg("Verification")),
    ("feedback", Msg("After handling")),
    ("check", Msg("Check")),
    ("other", Msg("Other files")),
]


def _action(name: str) -> Action:
    try:
        action = Action(name)
    except ValueError as exc:
        raise NotFoundError("unknown_action", "There is no action {action}", action=name) from exc
    if action not in ACTIONS:
        raise NotFoundError("unknown_action", "There is no action {action}", action=name)
    return action


def _view(p: Page, number: str) -> q.CaseView:
    return q.case_view(p.container.uow(readonly=True), number, p.actor, now=p.now)


def _choices(p: Page, view: q.CaseView, form: ActionForm) -> None:
    """Fill the choices that come from the data: standards, departments, inspectors."""
    static_choices(form, lambda value: label(value, p.locale))
    standard = form.field("standard_id")
    if standard is not None and view.case.category_id:
        with p.container.uow(readonly=True) as uow:
            rows = uow.catalog.standards_for(view.case.category_id)
        standard.choices = [
            Choice(str(s.id), f"{s.condition} · {s.responsible_body}".strip(" ·"))
            for s in rows
            if s.active
        ]
        if not standard.value and len(standard.choices) == 1:
            standard.value = standard.choices[0].value
    department = form.field("department_id")
    if department is not None:
        proposed = {d for d, _ in view.proposals}
        others = [
            d
            for d in lookups.departments(p.container.uow(readonly=True), p.actor)
            if d.can_handle and d.id not in proposed
        ]
        proposal_group = p.t("Proposed")
        department.choices = [Choice(str(d), name, proposal_group) for d, name in view.proposals]
        department.choices += [Choice(str(d.id), d.name, p.t("All departments")) for d in others]
        if not department.value and view.proposals:
            department.value = str(view.proposals[0][0])
    inspector = form.field("inspector_id")
    if inspector is not None:
        with p.container.uow(readonly=True) as uow:
            users = uow.org.users()
        inspector.choices = [Choice("", p.t("The grid's inspector"))] + [
            Choice(str(u.id), u.display_name)
            for u in users
            if u.active
            and any(
                g.role is Role.INSPECTOR and g.district_code in (None, view.case.district_code)
                for g in u.grants
            )
        ]


def _photo_groups(attachments: list[Attachment]) -> list[tuple[Msg, list[Attachment]]]:
    groups = []
    for stage, title in PHOTO_GROUPS:
        items = [
            a
            for a in attachments
            if a.stage == stage
            or (stage == "other" and a.stage not in {s for s, _ in PHOTO_GROUPS})
        ]
        if items:
            groups.append((title, items))
    return groups


# The move forward comes first (the highlighted button); the ones that stop a case come last.
FORWARD = [
    Action.ACCEPT, Action.COMPLETE_VERIFY, Action.FILE, Action.DISPATCH, Action.SIGN,
    Action.FEEDBACK, Action.REQUEST_CHECK, Action.PASS_CHECK, Action.CLOSE, Action.CALLBACK,
    Action.APPROVE_SELF_HANDLING, Action.APPROVE_VOID, Action.APPROVE_RETURN,
    Action.APPROVE_EXTENSION, Action.APPROVE_SUSPENSION, Action.RESUME, Action.REWORK,
]  # fmt: skip
LAST = [Action.VOID, Action.REQUEST_VOID, Action.REJECT, Action.REFUSE, Action.MERGE]


def ordered(actions: list[Action]) -> list[Action]:
    def rank(action: Action) -> tuple[int, int]:
        if action in FORWARD:
            return 0, FORWARD.index(action)
        if action in LAST:
            return 2, LAST.index(action)
        return 1, 0

    return sorted(actions, key=rank)


def render_case(
    p: Page,
    view: q.CaseView,
    *,
    form: ActionForm | None = None,
    notice: str = "",
    status: int = 200,
) -> HTMLResponse:
    if form is not None:
        _choices(p, view, form)
    return p.render(
        "case/page.html",
        status=status,
        view=view,
        case=view.case,
        actions=ordered(view.actions),
        form=form,
        notice=notice,
        phone=reporter_phone(view.case, p.actor),
        photo_groups=_photo_groups(view.attachments),
        max_photos=MAX_ATTACHMENTS,
    )


@router.get("/cases/{number}", response_class=HTMLResponse)
async def case_page(
    p: PageDep,
    number: str,
    act: str = "",
    done: str = "",
    registered: str = "",
    merged: str = "",
    unmerged: str = "",
) -> HTMLResponse:
    view = await run_in_threadpool(_view, p, number)
    form = None
    if act:
        action = _action(act)
        if action in view.actions:
            form = build_form(action, view.case.version)
    notice = done_notice(p, number, done) if done else ""
    if registered:
        notice = p.t("Registered as case {number}.", number=number)
    elif merged:
        notice = p.t("Registered as case {duplicate} and merged into this case.", duplicate=merged)
    elif unmerged:
        notice = p.t(
            "Registered as case {number}, but it could not be merged into {original}; "
            "merge it here if it is a duplicate.",
            number=number,
            original=unmerged,
        )
    return await run_in_threadpool(render_case, p, view, form=form, notice=notice)


@router.get("/cases/{number}/form/{action}", response_class=HTMLResponse)
async def action_form(p: PageDep, number: str, action: str) -> HTMLResponse:
    """The form of one action (loaded into the case page's action panel)."""
    chosen = _action(action)
    view = await run_in_threadpool(_view, p, number)
    if chosen not in view.actions:
        return p.render("case/gone.html", status=409, view=view, action=chosen)
    form = build_form(chosen, view.case.version)
    await run_in_threadpool(_choices, p, view, form)
    return p.render(
        "case/form.html", view=view, case=view.case, form=form, max_photos=MAX_ATTACHMENTS
    )


@router.get("/cases/{number}/fresh", response_class=HTMLResponse)
async def freshness(p: PageDep, number: str, version: int) -> HTMLResponse:
    """A banner when the case changed since the page was drawn (someone else acted)."""
    view = await run_in_threadpool(_view, p, number)
    if view.case.version == version:
        return HTMLResponse("")
    return p.render("case/changed.html", view=view)


def _after(p: Page, number: str, action: Action, state: Any, district: str | None) -> str:
    """Where to go after acting: back to the case while it is still my work, else my queue."""
    if state in workflow.queue_states(p.actor) and p.actor.covers_district(district):
        return f"/cases/{number}?{urlencode({'done': action.value})}"
    return f"/work?{urlencode({'done': number, 'action': action.value})}"


@router.post("/cases/{number}/act/{action}")
async def act(p: PageDep, request: Request, number: str, action: str) -> Response:
    chosen = _action(action)
    check_length(request, p.container.settings)
    form_data = await request.form(max_files=MAX_ATTACHMENTS + 1, max_fields=50)
    p.check_csrf(str(form_data.get("_csrf", "")))
    values = {k: v for k, v in form_data.items() if isinstance(v, str) and k != "_csrf"}
    try:
        version = int(values.get("version", "0"))
    except ValueError:
        version = 0
    body, problems = parse(chosen, version, values, p.tz)
    if body is None:
        view = await run_in_threadpool(_view, p, number)
        form = build_form(chosen, version, values)
        for f in form.fields:
            if f.name in problems:
                f.error = p.t(problems[f.name])
        form.error = p.t("Some fields are missing or invalid")
        return await run_in_threadpool(render_case, p, view, form=form, status=422)
    uploads = [f for f in form_data.getlist("photos") if isinstance(f, UploadFile)]
    call = ACTIONS[chosen][1]
    container = p.container
    try:
        photos = await read_photos(uploads, container)
        outcome = await write(
            container, call, container.uow(), number, body, photos, actor=p.actor, now=p.now
        )
    except CaseChangedError:
        # Someone acted first: show the case as it is now, keep what was typed.
        view = await run_in_threadpool(_view, p, number)
        form = build_form(chosen, view.case.version, values)
        form.stale = True
        form.error = p.t(
            "Someone else changed this case while you were working on it. The page now shows "
            "the case as it is; what you typed is kept below. Check it and submit again."
        )
        return await run_in_threadpool(render_case, p, view, form=form, status=409)
    except DomainError as exc:
        view = await run_in_threadpool(_view, p, number)
        form = build_form(chosen, view.case.version, values)
        form.error = p.message(exc)
        return await run_in_threadpool(render_case, p, view, form=form, status=422)
    case = outcome.case
    return RedirectResponse(
        _after(p, number, chosen, case.state, case.district_code), status_code=303
    )
