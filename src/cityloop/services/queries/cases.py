"""Work queues, case search and the case page, as the caller is allowed to see them.

Scope is applied in every query exactly as ``workflow.visible`` decides for one case: a
district user sees only its district, department staff only the cases their department holds,
a citizen only their own reports. A *queue* lists the states in which the caller's role has
something to do (derived from the transition table); an inspector's queue is its open tasks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from cityloop.domain import workflow
from cityloop.domain.case import Attachment, Case, CaseEvent, CaseState, Task
from cityloop.domain.errors import NotFoundError, ValidationError
from cityloop.domain.roles import Actor, Role
from cityloop.domain.sla.lights import Light
from cityloop.domain.sla.status import StageStatus, stage_status
from cityloop.domain.taxonomy import Category, FilingStandard
from cityloop.domain.workflow import Action, GuardContext
from cityloop.services.cases import proposals_for
from cityloop.services.ports import UnitOfWork
from cityloop.services.queries.model import SORT_FIELDS, CaseCriteria, CaseSummary

MAX_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class CaseFilters:
    states: tuple[str, ...] = ()
    category_codes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    grid_code: str | None = None
    street_code: str | None = None
    community_code: str | None = None
    department_id: int | None = None
    light: str | None = None
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    text: str = ""
    supervised: bool | None = None
    reworked: bool | None = None


@dataclass(frozen=True, slots=True)
class CaseItem:
    summary: CaseSummary
    status: StageStatus | None

    @property
    def case(self) -> Case:
        return self.summary.case


@dataclass(frozen=True, slots=True)
class CasePage:
    items: list[CaseItem]
    total: int
    page: int
    page_size: int


def _scope(actor: Actor, now: datetime) -> CaseCriteria:
    return CaseCriteria(
        now=now,
        district_code=actor.district_code,
        department_id=actor.department_id if actor.role is Role.HANDLER else None,
        reporter_user_id=actor.user_id if actor.role is Role.CITIZEN else None,
    )


def parse_sort(text: str | None) -> tuple[tuple[str, bool], ...]:
    """``"-reported_at,number"`` → ((reported_at, desc), (number, asc)); default: urgency."""
    if not text:
        return (("urgency", False),)
    result = []
    for part in text.split(","):
        name = part.strip()
        descending = name.startswith("-")
        name = name.lstrip("-+")
        if name not in SORT_FIELDS:
            raise ValidationError(
                "sort_field_invalid",
                "Cannot sort by {field}; use one of {known}",
                field=name,
                known=", ".join(SORT_FIELDS),
            )
        result.append((name, descending))
    return tuple(result)


def _criteria(
    actor: Actor,
    now: datetime,
    filters: CaseFilters,
    *,
    queue: bool,
    sort: str | None,
    offset: int,
    limit: int,
) -> CaseCriteria:
    """Check the filters and turn them, with the caller's scope, into a storage question."""
    if filters.light is not None and filters.light not in {light.value for light in Light}:
        raise ValidationError(
            "light_invalid",
            "{value} is not a light; use green, yellow or red",
            value=filters.light,
        )
    valid_states = {s.value for s in CaseState}
    for state in filters.states:
        if state not in valid_states:
            raise ValidationError("state_invalid", "{value} is not a case state", value=state)
    criteria = replace(
        _scope(actor, now),
        states=filters.states,
        category_codes=filters.category_codes,
        sources=filters.sources,
        grid_code=filters.grid_code,
        street_code=filters.street_code,
        community_code=filters.community_code,
        filter_department_id=filters.department_id,
        light=filters.light,
        reported_from=filters.reported_from,
        reported_to=filters.reported_to,
        text=filters.text.strip(),
        supervised=filters.supervised,
        reworked=filters.reworked,
        sort=parse_sort(sort),
        offset=offset,
        limit=limit,
    )
    if queue:
        if actor.role is Role.INSPECTOR:
            criteria = replace(criteria, task_assignee_id=actor.user_id)
        else:
            mine = tuple(s.value for s in workflow.queue_states(actor))
            wanted = tuple(s for s in (filters.states or mine) if s in mine)
            criteria = replace(criteria, states=wanted or ("-",))
    return criteria


def list_cases(
    uow: UnitOfWork,
    actor: Actor,
    *,
    now: datetime,
    filters: CaseFilters = CaseFilters(),
    queue: bool = False,
    sort: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> CasePage:
    """The caller's work queue (``queue=True``) or a search, paged, most urgent first."""
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(
            "page_invalid",
            "Pages start at 1 and hold 1 to {max} cases",
            max=MAX_PAGE_SIZE,
        )
    criteria = _criteria(
        actor,
        now,
        filters,
        queue=queue,
        sort=sort,
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    with uow:
        rows, total = uow.queries.search(criteria)
        clocks, policy = uow.sla.clocks(), uow.sla.policy()
    items = [CaseItem(row, stage_status(row.case, now, clocks, policy)) for row in rows]
    return CasePage(items=items, total=total, page=page, page_size=page_size)


EXPORT_LIMIT = 50_000


def export_cases(
    uow: UnitOfWork,
    actor: Actor,
    *,
    now: datetime,
    filters: CaseFilters = CaseFilters(),
    queue: bool = False,
    sort: str | None = None,
) -> list[CaseItem]:
    """Every case of a search or queue, for a spreadsheet (at most ``EXPORT_LIMIT``)."""
    criteria = _criteria(
        actor, now, filters, queue=queue, sort=sort, offset=0, limit=EXPORT_LIMIT + 1
    )
    with uow:
        rows, total = uow.queries.search(criteria)
        clocks, policy = uow.sla.clocks(), uow.sla.policy()
    if total > EXPORT_LIMIT:
        raise ValidationError(
            "export_too_large",
            "The list has {count} cases; at most {limit} can be exported at once. Narrow the "
            "search (for example by report date) and export in parts",
            count=total,
            limit=EXPORT_LIMIT,
        )
    return [CaseItem(row, stage_status(row.case, now, clocks, policy)) for row in rows]


OPEN_STATES = tuple(s.value for s in CaseState if not s.terminal)


@dataclass(frozen=True, slots=True)
class Duplicate:
    item: CaseItem
    distance_m: float


def possible_duplicates(
    uow: UnitOfWork,
    actor: Actor,
    *,
    now: datetime,
    category_code: str,
    lon: float,
    lat: float,
    limit: int = 10,
) -> list[Duplicate]:
    """Open cases of the same class near a position, reported recently (疑似重复): the radius
    and the window are policy (``duplicate_radius_m``, ``duplicate_window_days``)."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError(
            "position_invalid",
            "Position {lon}, {lat} is not a longitude and latitude",
            lon=lon,
            lat=lat,
        )
    with uow:
        policy = uow.sla.policy()
    radius = policy.duplicate_radius_m
    dlat = radius / 111_320
    dlon = radius / (111_320 * max(0.01, math.cos(math.radians(lat))))
    criteria = replace(
        _scope(actor, now),
        states=OPEN_STATES,
        category_codes=(category_code,),
        reported_from=now - timedelta(days=policy.duplicate_window_days),
        bbox=(lon - dlon, lat - dlat, lon + dlon, lat + dlat),
        sort=(("reported_at", True),),
        limit=200,
    )
    with uow:
        rows, _ = uow.queries.search(criteria)
        clocks = uow.sla.clocks()
    found = []
    for row in rows:
        case = row.case
        if case.lon is None or case.lat is None:
            continue
        distance = metres_between(lon, lat, case.lon, case.lat)
        if distance <= radius:
            item = CaseItem(row, stage_status(case, now, clocks, policy))
            found.append(Duplicate(item, distance))
    found.sort(key=lambda d: d.distance_m)
    return found[:limit]


def metres_between(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))


def count_by_state(uow: UnitOfWork, actor: Actor, *, now: datetime) -> dict[str, int]:
    """Cases per state among those the caller may see."""
    with uow:
        return uow.queries.count_by_state(_scope(actor, now))


@dataclass(frozen=True, slots=True)
class TimelineLine:
    event: CaseEvent
    actor_name: str
    department_name: str | None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseView:
    """Everything about one case, as the caller may see it."""

    case: Case
    category: Category | None
    standard: FilingStandard | None
    department_name: str | None
    street_name: str | None
    status: StageStatus | None
    timeline: list[TimelineLine]
    tasks: list[Task]
    attachments: list[Attachment]
    actions: list[Action]
    proposals: list[tuple[int, str]] = field(default_factory=list)
    pauses: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    merged_into: str | None = None


def _visible_case(uow: UnitOfWork, number: str, actor: Actor) -> Case:
    """The case, if the caller may see it; otherwise the caller learns nothing of it (404)."""
    case = uow.cases.get_by_number(number)
    if case is None or not workflow.visible(case, actor):
        raise NotFoundError("case_not_found", "Case {id} was not found", id=number)
    return case


def case_attachment(uow: UnitOfWork, number: str, attachment_id: int, actor: Actor) -> Attachment:
    """One file of a case the caller may see (a page of photos asks once per photo: the case's
    visibility and its files, not the whole view)."""
    with uow:
        case = _visible_case(uow, number, actor)
        attachments = uow.attachments.for_case(case.id)
    for item in attachments:
        if item.id == attachment_id:
            return item
    raise NotFoundError("attachment_not_found", "Attachment {id} was not found", id=attachment_id)


def case_view(uow: UnitOfWork, number: str, actor: Actor, *, now: datetime) -> CaseView:
    with uow:
        case = _visible_case(uow, number, actor)
        events = uow.cases.events(case.id)
        tasks = uow.tasks.for_case(case.id)
        attachments = uow.attachments.for_case(case.id)
        category = uow.catalog.category(case.category_id) if case.category_id else None
        standard = (
            uow.catalog.standard(case.filing_standard_id) if case.filing_standard_id else None
        )
        people = uow.queries.user_names([e.actor_id for e in events if e.actor_id])
        if actor.role is Role.CITIZEN:
            # the public sees who acted by role and department, not the staff's own names
            people = {i: n for i, n in people.items() if i == actor.user_id}
        department_ids = {e.department_id for e in events if e.department_id}
        if case.department_id:
            department_ids.add(case.department_id)
        proposals: list[int] = []
        if actor.role is Role.DISPATCHER and case.state in (
            CaseState.PENDING_DISPATCH,
            CaseState.PENDING_SUB_DISPATCH,
        ):
            proposals = proposals_for(uow, case)
            department_ids.update(proposals)
        departments = uow.queries.department_names(sorted(department_ids))
        open_task = next((t for t in tasks if t.state.value == "open"), None)
        policy, clocks = uow.sla.policy(), uow.sla.clocks()
        pauses = uow.cases.pauses(case.id)
        street = uow.regions.by_code(case.street_code) if case.street_code else None
        merged_into = None
        if case.merged_into_id:
            original = uow.cases.get(case.merged_into_id)
            merged_into = original.number if original else None
    ctx = GuardContext(
        case=case,
        actor=actor,
        now=now,
        policy=policy,
        task_assignee_id=open_task.assignee_id if open_task else None,
    )
    by_event: dict[int, list[Attachment]] = {}
    for item in attachments:
        if item.event_id is not None:
            by_event.setdefault(item.event_id, []).append(item)
    timeline = [
        TimelineLine(
            event=e,
            # "" when no person acted (the system's scheduled jobs): shown by its role
            actor_name=people.get(e.actor_id, "") if e.actor_id else "",
            department_name=departments.get(e.department_id) if e.department_id else None,
            attachments=tuple(by_event.get(e.id or 0, ())),
        )
        for e in events
    ]
    return CaseView(
        case=case,
        category=category,
        standard=standard,
        department_name=departments.get(case.department_id) if case.department_id else None,
        street_name=street.name if street else None,
        status=stage_status(case, now, clocks, policy),
        timeline=timeline,
        tasks=tasks,
        attachments=attachments,
        actions=workflow.available(ctx),
        proposals=[(d, departments.get(d, "")) for d in proposals],
        pauses=pauses,
        merged_into=merged_into,
    )


def my_tasks(uow: UnitOfWork, actor: Actor, *, now: datetime) -> list[tuple[Task, CaseItem]]:
    """The caller's open verify/check tasks with their cases, earliest deadline first."""
    if actor.user_id is None:
        return []
    with uow:
        rows = uow.queries.open_tasks(actor.user_id)
        clocks, policy = uow.sla.clocks(), uow.sla.policy()
    return [(task, CaseItem(s, stage_status(s.case, now, clocks, policy))) for task, s in rows]


def events_of(uow: UnitOfWork, number: str, actor: Actor) -> Sequence[CaseEvent]:
    with uow:
        case = uow.cases.get_by_number(number)
        if case is None or not workflow.visible(case, actor):
            raise NotFoundError("case_not_found", "Case {id} was not found", id=number)
        return uow.cases.events(case.id)
