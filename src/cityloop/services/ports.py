"""What the services need from the outside world, as protocols.

Adapters implement these (``adapters/db`` for storage, ``adapters/geo`` for the grid locator,
``adapters/files`` for attachments); ``bootstrap`` wires them. Services never import an adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol, Self

from cityloop.domain.case import Attachment, Case, CaseEvent, Task, TaskKind
from cityloop.domain.codes import ClassKind, Edition
from cityloop.domain.components import Component
from cityloop.domain.org import Department, User
from cityloop.domain.policy import Policy
from cityloop.domain.regions import GridHit, Region, RegionLevel
from cityloop.domain.routing import DispatchRule
from cityloop.domain.sla.calendar import DayKind, WorkCalendar
from cityloop.domain.sla.clock import Clocks
from cityloop.domain.sla.stages import Stage
from cityloop.domain.sla.units import TimeLimit
from cityloop.domain.taxonomy import Category, FilingStandard


class DuplicateKeyError(Exception):
    """Raised by a repository when an insert hits a unique key (e.g. an idempotency key)."""


class CaseRepository(Protocol):
    def get(self, case_id: int) -> Case | None: ...

    def get_by_number(self, number: str) -> Case | None: ...

    def by_idempotency_key(self, key: str) -> tuple[Case, str] | None:
        """The case created under ``key`` and the fingerprint of the request that made it."""
        ...

    def next_number(self, day: date) -> str: ...

    def add(self, case: Case, *, idempotency_key: str | None, fingerprint: str | None) -> Case:
        """Insert; returns the case with its id. Raises DuplicateKeyError on a reused key."""
        ...

    def update(self, case: Case, changes: Mapping[str, Any]) -> Case:
        """Write ``changes`` if the stored version is still ``case.version``; bump the version.

        Raises CaseChangedError (and writes nothing) when the version moved on.
        """
        ...

    def add_event(self, event: CaseEvent) -> CaseEvent: ...

    def events(self, case_id: int) -> list[CaseEvent]: ...

    def open_pause(self, case_id: int, start: datetime) -> None: ...

    def close_pause(self, case_id: int, end: datetime) -> None: ...

    def pauses(self, case_id: int) -> list[tuple[datetime, datetime | None]]: ...

    def due_suspensions(self, now: datetime) -> list[int]:
        """Ids of suspended cases whose chosen end has come."""
        ...


class TaskRepository(Protocol):
    def add(self, task: Task) -> Task: ...

    def get(self, task_id: int) -> Task | None: ...

    def open_for(self, case_id: int, kind: TaskKind | None = None) -> Task | None: ...

    def finish(
        self, task_id: int, *, state: str, at: datetime, result: str | None, comment: str
    ) -> None: ...

    def for_case(self, case_id: int) -> list[Task]: ...


class AttachmentRepository(Protocol):
    def add(self, attachment: Attachment) -> Attachment: ...

    def get(self, attachment_id: int) -> Attachment | None: ...

    def for_case(self, case_id: int) -> list[Attachment]: ...


class CatalogRepository(Protocol):
    """Class dictionaries, filing standards and dispatch rules."""

    def category(self, category_id: int) -> Category | None: ...

    def category_by_code(self, edition: Edition, kind: ClassKind, code: str) -> Category | None: ...

    def mapped_code(self, edition: Edition, kind: ClassKind, code: str) -> tuple[str, str] | None:
        """For a legacy class: (current kind, current code) from the reviewed mapping."""
        ...

    def standard(self, standard_id: int) -> FilingStandard | None: ...

    def standards_for(self, category_id: int) -> list[FilingStandard]: ...

    def dispatch_rules(self) -> Sequence[DispatchRule]: ...


class OrgRepository(Protocol):
    def department(self, department_id: int) -> Department | None: ...

    def district_centre(self, district_code: str) -> Department | None: ...

    def user(self, user_id: int) -> User | None: ...

    def inspectors_for_grid(self, grid_id: int) -> list[int]:
        """Active inspectors responsible for a grid, most specific first."""
        ...


class RegionRepository(Protocol):
    def get(self, region_id: int) -> Region | None: ...

    def by_code(self, code: str, on: date | None = None) -> Region | None: ...

    def children(self, region_id: int) -> list[Region]: ...

    def of_level(self, level: RegionLevel) -> list[Region]: ...


class ComponentRepository(Protocol):
    def by_code(self, object_code: str) -> Component | None: ...

    def get(self, component_id: int) -> Component | None: ...


class SlaRepository(Protocol):
    """The working calendar, stage limits and policy values (all administrator data)."""

    def calendar(self) -> WorkCalendar: ...

    def clocks(self) -> Clocks: ...

    def policy(self) -> Policy: ...

    def set_override(self, day: date, kind: DayKind | None, name: str) -> None: ...

    def mark_year_known(self, year: int) -> None: ...

    def set_stage_limit(self, stage: Stage, limit: TimeLimit) -> None: ...

    def set_policy_value(self, key: str, value: Any) -> None: ...


class GridLocator(Protocol):
    def locate(self, lon: float, lat: float) -> GridHit | None: ...


@dataclass(frozen=True, slots=True)
class StoredFile:
    path: str
    sha256: str
    size: int


class FileStore(Protocol):
    def store(self, data: bytes, *, suffix: str) -> StoredFile: ...

    def read(self, path: str) -> bytes: ...


class UnitOfWork(Protocol):
    """One transaction. ``with uow:`` begins it; leaving without ``commit()`` rolls back.

    ``locator`` and ``files`` ride along but are not transactional: files are written before
    the commit, so nothing acknowledged is ever missing its file.
    """

    cases: CaseRepository
    tasks: TaskRepository
    attachments: AttachmentRepository
    catalog: CatalogRepository
    org: OrgRepository
    regions: RegionRepository
    components: ComponentRepository
    sla: SlaRepository
    locator: GridLocator
    files: FileStore

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def after_commit(self, callback: Callable[[], None]) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
