"""Read-side SQL: case search and work queues, open tasks, names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from cityloop.adapters.db.models import T
from cityloop.adapters.db.repositories.cases import case_from_row
from cityloop.adapters.db.repositories.tasks import task_from_row
from cityloop.domain.case import Task
from cityloop.services.queries.model import CaseCriteria, CaseSummary

cases, tasks = T["cases"], T["tasks"]
categories, departments, regions, users = (
    T["categories"],
    T["departments"],
    T["regions"],
    T["users"],
)
street = regions.alias("street")

_COLUMNS = [
    *cases.c,
    categories.c.code.label("category_code"),
    categories.c.name.label("category_name"),
    departments.c.name.label("department_name"),
    street.c.name.label("street_name"),
]
_FROM = (
    cases.outerjoin(categories, categories.c.id == cases.c.category_id)
    .outerjoin(departments, departments.c.id == cases.c.department_id)
    .outerjoin(
        street,
        and_(
            street.c.code == cases.c.street_code,
            street.c.level == "street",
            street.c.valid_to.is_(None),
        ),
    )
)


def _filter_from(c: CaseCriteria) -> Any:
    """The tables a search's conditions need: the class only when filtering on it."""
    if c.category_codes or c.text:
        return cases.outerjoin(categories, categories.c.id == cases.c.category_id)
    return cases


def _summary(row: Any) -> CaseSummary:
    return CaseSummary(
        case=case_from_row(row),
        category_code=row.category_code,
        category_name=row.category_name,
        department_name=row.department_name,
        street_name=row.street_name,
    )


def _conditions(c: CaseCriteria) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if c.district_code is not None:
        where.append(cases.c.district_code == c.district_code)
    if c.department_id is not None:
        where.append(cases.c.department_id == c.department_id)
    if c.reporter_user_id is not None:
        where.append(cases.c.reporter_user_id == c.reporter_user_id)
    if c.task_assignee_id is not None:
        where.append(
            cases.c.id.in_(
                select(tasks.c.case_id).where(
                    tasks.c.assignee_id == c.task_assignee_id, tasks.c.state == "open"
                )
            )
        )
    if c.states:
        where.append(cases.c.state.in_(c.states))
    if c.category_codes:
        where.append(categories.c.code.in_(c.category_codes))
    if c.sources:
        where.append(cases.c.source.in_(c.sources))
    if c.grid_code:
        where.append(cases.c.grid_code == c.grid_code)
    if c.street_code:
        where.append(cases.c.street_code == c.street_code)
    if c.community_code:
        where.append(cases.c.community_code == c.community_code)
    if c.filter_department_id is not None:
        where.append(cases.c.department_id == c.filter_department_id)
    if c.reported_from is not None:
        where.append(cases.c.reported_at >= c.reported_from)
    if c.reported_to is not None:
        where.append(cases.c.reported_at < c.reported_to)
    if c.supervised is not None:
        where.append(cases.c.supervised.is_(c.supervised))
    if c.bbox is not None:
        west, south, east, north = c.bbox
        where.append(cases.c.lon.between(west, east))
        where.append(cases.c.lat.between(south, north))
    if c.reworked is not None:
        where.append(cases.c.rework_count > 0 if c.reworked else cases.c.rework_count == 0)
    if c.text:
        like = f"%{c.text}%"
        where.append(
            or_(
                cases.c.number.like(like),
                cases.c.description.like(like),
                cases.c.address.like(like),
                categories.c.name.like(like),
            )
        )
    if c.light:
        # A suspended case's clock stands at the moment of suspension.
        clock_at = case(
            (cases.c.state == "suspended", cases.c.suspended_at),
            else_=literal(c.now, cases.c.stage_deadline.type),
        )
        where.append(cases.c.stage_deadline.is_not(None))
        if c.light == "red":
            where.append(cases.c.stage_deadline < clock_at)
        elif c.light == "yellow":
            where.append(
                and_(cases.c.stage_yellow_at <= clock_at, cases.c.stage_deadline >= clock_at)
            )
        else:
            where.append(cases.c.stage_yellow_at > clock_at)
    return where


_SORT_COLUMNS = {
    "reported_at": cases.c.reported_at,
    "number": cases.c.number,
    "stage_deadline": cases.c.stage_deadline,
    "updated_at": cases.c.updated_at,
    "state": cases.c.state,
}


def _order(c: CaseCriteria) -> list[Any]:
    order: list[Any] = []
    for name, descending in c.sort:
        if name == "urgency":
            # Most urgent first: running clocks by their deadline; then the suspended, whose
            # clock stands (by the time they had left, not by a deadline long past); cases
            # without a clock last.
            suspended = cases.c.state == "suspended"
            order.append(case((cases.c.stage_deadline.is_(None), 2), (suspended, 1), else_=0))
            running = case((suspended, None), else_=cases.c.stage_deadline)
            order.append(running.desc() if descending else running.asc())
            column = cases.c.suspended_remaining_us
        else:
            column = _SORT_COLUMNS[name]
        order.append(column.desc() if descending else column.asc())
    order.append(cases.c.id.desc())
    return order


class SqlCaseQueries:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def search(self, criteria: CaseCriteria) -> tuple[list[CaseSummary], int]:
        where = _conditions(criteria)
        source = _filter_from(criteria)
        total = self.conn.execute(select(func.count()).select_from(source).where(*where)).scalar()
        # Sort and cut the page on the narrow id column first, then read the page's rows whole
        # (a deferred join): sorting thousands of full rows is what makes a big queue slow.
        page_ids = (
            select(cases.c.id)
            .select_from(source)
            .where(*where)
            .order_by(*_order(criteria))
            .offset(criteria.offset)
            .limit(criteria.limit)
        )
        ids = [row[0] for row in self.conn.execute(page_ids)]
        if not ids:
            return [], int(total or 0)
        rows = self.conn.execute(select(*_COLUMNS).select_from(_FROM).where(cases.c.id.in_(ids)))
        by_id = {row.id: _summary(row) for row in rows}
        return [by_id[i] for i in ids if i in by_id], int(total or 0)

    def count_by_state(self, criteria: CaseCriteria) -> dict[str, int]:
        rows = self.conn.execute(
            select(cases.c.state, func.count())
            .select_from(_filter_from(criteria))
            .where(*_conditions(criteria))
            .group_by(cases.c.state)
        )
        return {state: int(count) for state, count in rows}

    def open_tasks(self, assignee_id: int) -> list[tuple[Task, CaseSummary]]:
        task_cols = [c.label(f"task_{c.name}") for c in tasks.c]
        rows = self.conn.execute(
            select(*_COLUMNS, *task_cols)
            .select_from(_FROM.join(tasks, tasks.c.case_id == cases.c.id))
            .where(tasks.c.assignee_id == assignee_id, tasks.c.state == "open")
            .order_by(tasks.c.deadline, tasks.c.id)
        )
        result = []
        for row in rows:
            mapping = row._mapping
            task_row = _Prefixed(mapping, "task_")
            result.append((task_from_row(task_row), _summary(row)))
        return result

    def user_names(self, user_ids: Sequence[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        rows = self.conn.execute(
            select(users.c.id, users.c.display_name).where(users.c.id.in_(set(user_ids)))
        )
        return {r.id: r.display_name for r in rows}

    def department_names(self, department_ids: Sequence[int]) -> dict[int, str]:
        if not department_ids:
            return {}
        rows = self.conn.execute(
            select(departments.c.id, departments.c.name).where(
                departments.c.id.in_(set(department_ids))
            )
        )
        return {r.id: r.name for r in rows}


class _Prefixed:
    """Attribute access to the ``prefix``-labelled columns of a row."""

    def __init__(self, mapping: Any, prefix: str) -> None:
        self._mapping = mapping
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return self._mapping[self._prefix + name]
