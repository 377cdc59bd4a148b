"""Work queues (我的待办): what my role has to act on, most urgent first, live."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from cityloop.domain import workflow
from cityloop.domain.case import CaseState
from cityloop.domain.roles import Role
from cityloop.domain.workflow import Action
from cityloop.entrypoints.presentation import label
from cityloop.entrypoints.web.context import Page, page
from cityloop.services.queries import cases as q

router = APIRouter(include_in_schema=False)
PageDep = Annotated[Page, Depends(page)]
PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class QueueFilters:
    """The quick filters of a queue, as they travel in the address."""

    state: str = ""
    light: str = ""
    supervised: bool = False
    reworked: bool = False
    text: str = ""
    page: int = 1

    def query(self, **changes: object) -> str:
        values = {
            "state": self.state,
            "light": self.light,
            "supervised": "1" if self.supervised else "",
            "reworked": "1" if self.reworked else "",
            "q": self.text,
            "page": str(self.page) if self.page > 1 else "",
        }
        values.update({k: "" if v in (None, False) else str(v) for k, v in changes.items()})
        if "page" not in changes:
            values["page"] = ""
        return urlencode({k: v for k, v in values.items() if v})


def filters_dep(
    state: str = "",
    light: Annotated[str, Query(pattern="^(|green|yellow|red)$")] = "",
    supervised: bool = False,
    reworked: bool = False,
    q_text: Annotated[str, Query(alias="q", max_length=100)] = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
) -> QueueFilters:
    return QueueFilters(state, light, supervised, reworked, q_text.strip(), page_no)


FiltersDep = Annotated[QueueFilters, Depends(filters_dep)]


@dataclass(frozen=True, slots=True)
class Queue:
    """One page of a queue, with the counts of its quick filters."""

    items: list[q.CaseItem]
    tasks: dict[int, object]
    total: int
    counts: dict[str, int]
    states: tuple[CaseState, ...]
    filters: QueueFilters

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def load_queue(p: Page, f: QueueFilters) -> Queue:
    actor, container = p.actor, p.container
    if actor.role is Role.INSPECTOR:
        rows = q.my_tasks(container.uow(readonly=True), actor, now=p.now)
        return Queue(
            items=[item for _, item in rows],
            tasks={item.case.id: task for task, item in rows},
            total=len(rows),
            counts={},
            states=(),
            filters=f,
        )
    states = workflow.queue_states(actor)
    counts = q.count_by_state(container.uow(readonly=True), actor, now=p.now)
    wanted = (f.state,) if f.state in {s.value for s in states} else ()
    result = q.list_cases(
        container.uow(readonly=True),
        actor,
        now=p.now,
        filters=q.CaseFilters(
            states=wanted,
            light=f.light or None,
            text=f.text,
            supervised=True if f.supervised else None,
            reworked=True if f.reworked else None,
        ),
        queue=True,
        page=f.page,
        page_size=PAGE_SIZE,
    )
    return Queue(
        items=result.items,
        tasks={},
        total=result.total,
        counts={s.value: counts.get(s.value, 0) for s in states},
        states=states,
        filters=f,
    )


def queue_size(p: Page) -> int:
    """How many cases wait in my queue (the count in the navigation)."""
    if p.actor.role is Role.INSPECTOR:
        return len(q.my_tasks(p.container.uow(readonly=True), p.actor, now=p.now))
    states = workflow.queue_states(p.actor)
    counts = q.count_by_state(p.container.uow(readonly=True), p.actor, now=p.now)
    return sum(counts.get(s.value, 0) for s in states)


def done_notice(p: Page, number: str, action: str) -> str:
    """ "Case 2026…: filed." after an action (the Post/Redirect/Get notice)."""
    try:
        done = Action(action)
    except ValueError:
        return ""
    return p.t("Case {number}: {action} done.", number=number, action=label(done, p.locale))


def has_queue(p: Page) -> bool:
    return p.actor.role is Role.INSPECTOR or bool(workflow.queue_states(p.actor))


@router.get("/work", response_class=HTMLResponse)
async def work(p: PageDep, f: FiltersDep, done: str = "", action: str = "") -> Response:
    if not has_queue(p):
        # Leaders, administrators and citizens have no queue: their first page instead.
        nav = p.nav()
        return RedirectResponse(nav[0][0] if nav else "/search", status_code=303)
    queue = await run_in_threadpool(load_queue, p, f)
    notice = done_notice(p, done, action) if done else ""
    return p.render("work/queue.html", queue=queue, notice=notice)


@router.get("/work/rows", response_class=HTMLResponse)
async def rows(p: PageDep, f: FiltersDep) -> HTMLResponse:
    """The table body (and, out of band, the filter counts): the live refresh."""
    queue = await run_in_threadpool(load_queue, p, f)
    return p.render("work/rows.html", queue=queue, oob=True)


@router.get("/work/count", response_class=HTMLResponse)
async def count(p: PageDep) -> HTMLResponse:
    if not has_queue(p):
        return HTMLResponse("")
    size = await run_in_threadpool(queue_size, p)
    return HTMLResponse(str(size) if size else "")
