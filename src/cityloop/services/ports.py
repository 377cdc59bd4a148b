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
from cityloop.domain.org import Department, RoleGrant, User
from cityloop.domain.policy import Policy
from cityloop.domain.regions import GridHit, Region, RegionLevel
from cityloop.domain.routing import DispatchRule
from cityloop.domain.sla.calendar import DayKind, WorkCalendar
from cityloop.domain.sla.clock import Clocks
from cityloop.domain.sla.stages import Stage
from cityloop.domain.sla.units import TimeLimit
from cityloop.domain.taxonomy import Category, FilingStandard
from cityloop.services.queries.model import CaseCriteria, CaseSummary


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

    def add_dispatch_rule(self, rule: DispatchRule) -> DispatchRule: ...

    def categories(
        self, *, edition: Edition | None = None, kind: ClassKind | None = None, text: str = ""
    ) -> list[Category]: ...

    def standard_rows(self) -> list[FilingStandard]:
        """Every active filing standard (for mapping responsible bodies)."""
        ...


@dataclass(frozen=True, slots=True)
class TokenRecord:
    user_id: int
    grant: RoleGrant
    expires_at: datetime
    revoked_at: datetime | None


class TokenRepository(Protocol):
    def add(
        self,
        token_hash: str,
        user_id: int,
        grant: RoleGrant,
        created_at: datetime,
        expires_at: datetime,
    ) -> None: ...

    def find(self, token_hash: str) -> TokenRecord | None: ...

    def revoke(self, token_hash: str, at: datetime) -> bool: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, hashed: str, password: str) -> bool: ...


class OrgRepository(Protocol):
    def department(self, department_id: int) -> Department | None: ...

    def department_by_code(self, code: str) -> Department | None: ...

    def departments(self) -> list[Department]: ...

    def add_department(self, department: Department) -> Department: ...

    def user_by_username(self, username: str) -> tuple[User, str] | None:
        """The user and its password hash."""
        ...

    def users(self) -> list[User]: ...

    def add_user(self, user: User, password_hash: str) -> User:
        """Insert the user with its grants."""
        ...

    def set_inspector_grids(self, user_id: int, region_ids: Sequence[int]) -> None: ...

    def inspector_grids(self, user_id: int) -> list[int]: ...

    def district_centre(self, district_code: str) -> Department | None: ...

    def user(self, user_id: int) -> User | None: ...

    def inspectors_for_grid(self, grid_id: int) -> list[int]:
        """Active inspectors responsible for a grid, most specific first."""
        ...


class RegionRepository(Protocol):
    def get(self, region_id: int) -> Region | None: ...

    def add(self, region: Region, *, geometry_wkb: bytes | None = None) -> Region: ...

    def by_code(self, code: str, on: date | None = None) -> Region | None: ...

    def children(self, region_id: int) -> list[Region]: ...

    def of_level(self, level: RegionLevel) -> list[Region]: ...


class ComponentRepository(Protocol):
    def by_code(self, object_code: str) -> Component | None: ...

    def add(self, component: Component) -> Component: ...

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


class CaseQueries(Protocol):
    """Read-only questions about many cases at once."""

    def search(self, criteria: CaseCriteria) -> tuple[list[CaseSummary], int]:
        """One page of matching cases and the total count."""
        ...

    def open_tasks(self, assignee_id: int) -> list[tuple[Task, CaseSummary]]: ...

    def user_names(self, user_ids: Sequence[int]) -> dict[int, str]: ...

    def department_names(self, department_ids: Sequence[int]) -> dict[int, str]: ...


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

    @property
    def cases(self) -> CaseRepository: ...

    @property
    def tasks(self) -> TaskRepository: ...

    @property
    def attachments(self) -> AttachmentRepository: ...

    @property
    def catalog(self) -> CatalogRepository: ...

    @property
    def org(self) -> OrgRepository: ...

    @property
    def regions(self) -> RegionRepository: ...

    @property
    def components(self) -> ComponentRepository: ...

    @property
    def sla(self) -> SlaRepository: ...

    @property
    def tokens(self) -> TokenRepository: ...

    @property
    def queries(self) -> CaseQueries: ...

    @property
    def locator(self) -> GridLocator: ...

    @property
    def files(self) -> FileStore: ...

    @property
    def passwords(self) -> PasswordHasher: ...

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
