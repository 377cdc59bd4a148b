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

from cityloop.domain.address import AddressKind, GeocodeCandidate, ReverseMatch, StandardAddress
from cityloop.domain.audit import AuditEntry, SavedFilter
from cityloop.domain.base_data import (
    ComponentCensus,
    GeneratedGrids,
    GridLayer,
    GridShape,
    LayerFinding,
    ShapeInfo,
)
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
from cityloop.services.queries.map_model import (
    BBox,
    CaseLayer,
    CaseLayerQuery,
    ComponentLayer,
    FeatureCollection,
)
from cityloop.services.queries.model import CaseCriteria, CaseSummary


@dataclass(frozen=True, slots=True)
class CaseNotice:
    """Something happened to a case: published after the commit, for live pages (SSE).

    It names where the case lives, so that each subscriber is told only of cases it may see.
    """

    number: str
    state: str
    action: str
    district_code: str | None
    department_id: int | None
    reporter_user_id: int | None = None
    assignee_id: int | None = None


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

    def dispatch_rules(
        self, *, filing_standard_id: int | None, category_id: int | None
    ) -> Sequence[DispatchRule]:
        """The rules naming this filing standard or this class."""
        ...

    def add_dispatch_rule(self, rule: DispatchRule) -> DispatchRule: ...

    def categories(
        self, *, edition: Edition | None = None, kind: ClassKind | None = None, text: str = ""
    ) -> list[Category]: ...

    def standard_rows(self) -> list[FilingStandard]:
        """Every active filing standard (for mapping responsible bodies)."""
        ...

    # administration (应用维护)

    def find_categories(
        self,
        *,
        edition: Edition | None = None,
        kind: ClassKind | None = None,
        major_code: str | None = None,
        text: str = "",
        active: bool | None = None,
        local: bool | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[Category], int]:
        """One page of classes (active or not) by edition, kind and code, and the total."""
        ...

    def majors(self, edition: Edition, kind: ClassKind) -> list[tuple[str, str]]:
        """(major code, major name) of an edition's classes of a kind."""
        ...

    def category_codes(self, edition: Edition, kind: ClassKind, major_code: str) -> set[str]: ...

    def categories_by_ids(self, ids: Sequence[int]) -> dict[int, Category]: ...

    def add_category(self, category: Category, *, note: str = "") -> Category: ...

    def update_category(self, category: Category) -> None:
        """Write a class's name, activity and whether self-handling is allowed."""
        ...

    def standard_counts(self, category_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """Class id → (active rows, all rows) of its filing standard."""
        ...

    def all_standards(self) -> list[FilingStandard]:
        """Every filing-standard row, active or not, by class code and order."""
        ...

    def standard_extras(self, standard_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        """``legal_basis``, ``legal_clause`` and ``collection_notes`` of these rows."""
        ...

    def add_standard(
        self, standard: FilingStandard, extras: Mapping[str, str], *, source: str = ""
    ) -> FilingStandard: ...

    def update_standard(self, standard: FilingStandard, extras: Mapping[str, str]) -> None:
        """Overwrite a row's texts, activity and disposal limits (its class stays)."""
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

    def revoke_user(self, user_id: int, at: datetime) -> int:
        """Revoke every active token of a user; returns how many."""
        ...


class FlagRepository(Protocol):
    def get(self, key: str) -> dict[str, Any] | None: ...

    def set(self, key: str, value: dict[str, Any]) -> None: ...


class AuditRepository(Protocol):
    def record(self, entry: AuditEntry) -> None: ...

    def entries(
        self, *, entity: str | None = None, offset: int = 0, limit: int = 100
    ) -> tuple[list[AuditEntry], int]:
        """Newest first, with the total count."""
        ...


class SavedFilterRepository(Protocol):
    def for_user(self, user_id: int) -> list[SavedFilter]: ...

    def save(self, saved: SavedFilter) -> SavedFilter:
        """Insert, or replace the query of the user's filter of the same name."""
        ...

    def delete(self, user_id: int, filter_id: int) -> bool: ...


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

    # administration (应用维护)
    def update_department(self, department: Department) -> None:
        """Write every field of ``department`` but its code."""
        ...

    def open_cases(self, department_id: int | None = None) -> dict[int, int]:
        """Department id → how many cases it holds that are not finished."""
        ...

    def find_users(
        self, *, text: str = "", role: str | None = None, offset: int = 0, limit: int = 50
    ) -> tuple[list[User], int]:
        """Users by name, display name or phone (and holding ``role``), by user name; total."""
        ...

    def update_user(self, user_id: int, *, display_name: str, phone: str, active: bool) -> None: ...

    def set_password(self, user_id: int, password_hash: str) -> None: ...

    def add_grant(self, user_id: int, grant: RoleGrant) -> None: ...

    def remove_grant(self, user_id: int, grant: RoleGrant) -> bool: ...

    def inspector_grid_codes(self, user_id: int) -> list[str]: ...

    def dispatch_rule(self, rule_id: int) -> DispatchRule | None: ...

    def dispatch_rule_list(
        self,
        *,
        department_id: int | None = None,
        text: str = "",
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[tuple[DispatchRule, str, str, str]], int]:
        """Rules with (class code, class name, filing condition), by class; and the total."""
        ...

    def remove_dispatch_rule(self, rule_id: int) -> bool: ...


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

    def overrides_between(self, first: date, last: date) -> list[tuple[date, DayKind, str]]:
        """The overridden days from ``first`` to ``last`` (inclusive) with their names."""
        ...

    def replace_overrides(
        self, first: date, last: date, days: Sequence[tuple[date, DayKind, str]]
    ) -> None:
        """Replace every override from ``first`` to ``last`` (and mark those years known)."""
        ...

    def set_week(self, calendar: WorkCalendar, *, custom_makeup: bool) -> None:
        """Store the calendar's weekly windows and working-day hours (and its make-up days'
        windows when ``custom_makeup``, else they follow a weekday's)."""
        ...

    def custom_makeup_windows(self) -> bool: ...


class CaseQueries(Protocol):
    """Read-only questions about many cases at once."""

    def search(self, criteria: CaseCriteria) -> tuple[list[CaseSummary], int]:
        """One page of matching cases and the total count."""
        ...

    def open_tasks(self, assignee_id: int) -> list[tuple[Task, CaseSummary]]: ...

    def count_by_state(self, criteria: CaseCriteria) -> dict[str, int]:
        """How many matching cases are in each state (paging and sorting ignored)."""
        ...

    def user_names(self, user_ids: Sequence[int]) -> dict[int, str]: ...

    def department_names(self, department_ids: Sequence[int]) -> dict[int, str]: ...


class GridLocator(Protocol):
    def locate(self, lon: float, lat: float) -> GridHit | None: ...

    def locate_many(self, points: Sequence[tuple[float, float]]) -> list[GridHit | None]:
        """:meth:`locate` for many points at once (vectorised)."""
        ...

    def reload(self) -> None:
        """Rebuild from the current grid layer (after base data changed)."""
        ...


@dataclass(frozen=True, slots=True)
class StoredFile:
    path: str
    sha256: str
    size: int


class FileStore(Protocol):
    def store(self, data: bytes, *, suffix: str, durable: bool = True) -> StoredFile:
        """Keep ``data``; ``durable=False`` for what can be made again (a thumbnail): not
        flushed to disk, so a power loss may lose it."""
        ...

    def read(self, path: str) -> bytes: ...

    def read_intact(self, path: str) -> bytes | None:
        """The file if it is there and whole, else None."""
        ...


class UnitOfWork(Protocol):
    """One transaction. ``with uow:`` begins it; leaving without ``commit()`` rolls back.

    ``locator`` and ``files`` ride along but are not transactional: files are written before
    the commit, so nothing acknowledged is ever missing its file (a thumbnail, which can be
    made again from its photo, is written but not flushed).
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
    def flags(self) -> FlagRepository: ...

    @property
    def queries(self) -> CaseQueries: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def saved_filters(self) -> SavedFilterRepository: ...

    @property
    def locator(self) -> GridLocator: ...

    @property
    def files(self) -> FileStore: ...

    @property
    def passwords(self) -> PasswordHasher: ...

    @property
    def base_data(self) -> BaseDataRepository: ...

    @property
    def spatial(self) -> SpatialOps: ...

    @property
    def geocoder(self) -> Geocoder: ...

    @property
    def map_layers(self) -> MapLayers: ...

    @property
    def evaluation(self) -> EvaluationRepository: ...

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

    def publish(self, notice: CaseNotice) -> None:
        """Announce ``notice`` once (and only if) the transaction commits."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


# -- base data, geocoding and map layers (issue 4) ---


class BaseDataRepository(Protocol):
    """Grid-layer versions, the standard address register and component census attributes."""

    def layers(self) -> list[GridLayer]:
        """Every grid-layer version, oldest first (versions only found on grid rows too)."""
        ...

    def add_layer(self, layer: GridLayer) -> None: ...

    def next_layer_version(self) -> int: ...

    def current_grids(self, district_codes: Sequence[str]) -> list[Region]:
        """The grids valid now (no end date) in these districts."""
        ...

    def grid_shapes(
        self, *, version: int | None = None, district_codes: Sequence[str] = ()
    ) -> list[GridShape]:
        """Grids of one layer version (None: the current grids), in code order."""
        ...

    def grid_rows(self, *, version: int | None = None) -> list[tuple[Region, bytes | None]]:
        """Grid regions and their geometry, of a version or current, in code order."""
        ...

    def region_geometries(self, codes: Sequence[str]) -> dict[str, bytes]:
        """The geometry of each current region of these codes that has one."""
        ...

    def regions_of_level(self, level: RegionLevel) -> list[tuple[Region, bytes | None]]:
        """Current regions of a level with their geometry, in code order."""
        ...

    def close_regions(self, region_ids: Sequence[int], valid_to: date) -> None: ...

    def update_region(
        self,
        region_id: int,
        *,
        name: str,
        geometry_wkb: bytes | None,
        area_m2: float | None,
        centroid: tuple[float, float] | None,
    ) -> None:
        """Rename a region and (when given) replace its outline."""
        ...

    def move_inspector_grids(self, moves: Mapping[int, int]) -> int:
        """Point inspectors' responsible grids from old grid ids to new ones; returns rows."""
        ...

    def component_positions(self, district_codes: Sequence[str]) -> list[tuple[int, float, float]]:
        """(id, lon, lat) of the components whose grid is in these districts or unknown."""
        ...

    def set_component_grids(self, grid_of: Mapping[int, int | None]) -> None: ...

    def add_component_attributes(self, records: Sequence[ComponentCensus]) -> None:
        """Store the census attributes of components already added (``component.id`` set)."""
        ...

    def component_census(
        self, *, district_codes: Sequence[str] = (), class_codes: Sequence[str] = ()
    ) -> list[ComponentCensus]:
        """Components with their census attributes, grid code and class name, by code."""
        ...

    def add_addresses(self, addresses: Sequence[StandardAddress]) -> int: ...

    def addresses(
        self, *, district_codes: Sequence[str] = (), kinds: Sequence[AddressKind] = ()
    ) -> list[StandardAddress]:
        """Current addresses (no end date), by code."""
        ...

    def address_codes_in_use(self, codes: Sequence[str]) -> set[str]:
        """Which of these codes a current address already has."""
        ...

    def bump_revision(self, name: str) -> None:
        """Mark cached data (``grids``, ``addresses``) as changed for every process."""
        ...


class SpatialOps(Protocol):
    """Geometry work the base-data services need, on WGS84 WKB (areas in square metres)."""

    def describe(self, geometries: Sequence[bytes | None]) -> list[ShapeInfo]: ...

    def outside_area(self, geometries: Sequence[bytes], container: bytes) -> list[float]:
        """For each geometry, the area (m²) of it that lies outside ``container``."""
        ...

    def points_inside(
        self, points: Sequence[tuple[float, float]], container: bytes
    ) -> list[bool]: ...

    def assign_points(
        self, points: Sequence[tuple[float, float]], polygons: Sequence[bytes]
    ) -> list[int]:
        """Index of the polygon each point falls in (lowest index on shared edges), or -1."""
        ...

    def check_grids(
        self,
        grids: Sequence[GridShape],
        parents: Mapping[str, bytes],
        *,
        coverage: bytes | None = None,
        tolerance_m2: float = 1.0,
        min_area_m2: float | None = None,
    ) -> list[LayerFinding]: ...

    def compare_grids(
        self, old: Sequence[GridShape], new: Sequence[GridShape], *, tolerance_m2: float = 1.0
    ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...]]:
        """(added, removed, changed, renamed (old, new)) codes."""
        ...

    def generate_grids(
        self,
        boundary: bytes,
        communities: Mapping[str, bytes],
        *,
        cell_area_m2: float,
        min_area_m2: float | None,
    ) -> GeneratedGrids: ...


class Geocoder(Protocol):
    """The address register indexed for matching text and points (long-lived, cached)."""

    def forward(
        self, text: str, *, limit: int = 5, district_code: str | None = None
    ) -> list[GeocodeCandidate]: ...

    def reverse(
        self, lon: float, lat: float, *, max_distance_m: float = 500.0
    ) -> ReverseMatch | None: ...

    def invalidate(self) -> None:
        """Rebuild from the register on next use."""
        ...


class MapLayers(Protocol):
    """Map layers over the stored data (long-lived caches and in-memory indexes)."""

    def regions(
        self,
        level: RegionLevel,
        *,
        zoom: int,
        bbox: BBox | None = None,
        version: int | None = None,
        district_code: str | None = None,
    ) -> FeatureCollection: ...

    def components(
        self,
        bbox: BBox,
        *,
        zoom: int,
        class_codes: Sequence[str] = (),
        limit: int,
        district_code: str | None = None,
    ) -> ComponentLayer: ...

    def cases(self, query: CaseLayerQuery) -> CaseLayer: ...


# -- comprehensive evaluation (综合评价) ---

from decimal import Decimal  # noqa: E402
from fractions import Fraction  # noqa: E402

from cityloop.domain.evaluation.records import (  # noqa: E402
    CaseLine,
    Directory,
    FrozenReport,
    SchemeRecord,
)
from cityloop.domain.evaluation.results import (  # noqa: E402
    Assembled,
    CentreStats,
    CountTable,
    Hotspots,
    Item,
)
from cityloop.domain.evaluation.rules import Context, Window  # noqa: E402
from cityloop.domain.evaluation.scheme import Scheme  # noqa: E402
from cityloop.domain.evaluation.subjects import SubjectKind  # noqa: E402


class FactSource(Protocol):
    """The evaluation facts of the database, ready to count (an in-memory columnar engine)."""

    def counts(self, kind: SubjectKind, window: Window, ctx: Context) -> dict[str, dict[str, int]]:
        """The base counts of every subject of ``kind`` with any activity."""
        ...

    def items(
        self, kind: SubjectKind, key: str, name: str, window: Window, ctx: Context
    ) -> list[Item]:
        """The rows behind base count ``name`` of one subject."""
        ...

    def table(self, kind: SubjectKind, window: Window, ctx: Context) -> CountTable:
        """:meth:`counts` by column."""
        ...

    def scores(
        self,
        kind: SubjectKind,
        columns: Mapping[str, Sequence[int]],
        scheme: Scheme,
        month_factor: Fraction,
        region_classes: Sequence[str | None] | None = None,
    ) -> list[tuple[Decimal | None, str | None, str | None]]:
        """Composite score, grade and colour of every row of ``columns`` (exactly
        :class:`cityloop.domain.evaluation.scoring.Scorer`, computed in bulk)."""
        ...

    def assemble(
        self,
        kind: SubjectKind,
        keys: Sequence[str],
        table: CountTable,
        extra: Mapping[str, Sequence[int]],
        scheme: Scheme,
        month_factor: Fraction,
        region_classes: Sequence[str | None] | None = None,
    ) -> Assembled:
        """The counts of ``table`` aligned to ``keys`` (with the ``extra`` register columns),
        scored and ranked (competition ranks, best first)."""
        ...

    def centre(self, window: Window, ctx: Context, day_starts: Sequence[int]) -> CentreStats: ...

    def hotspots(self, window: Window, ctx: Context, limit: int) -> Hotspots: ...


class EvaluationRepository(Protocol):
    def facts_stale(self) -> bool:
        """Whether case events wait to be folded into the evaluation facts."""
        ...

    def refresh_facts(self, tz: Any, now: datetime) -> int:
        """Fold the next step of new case events into the facts (needs a writing unit of
        work); returns the cases refolded. Call again, in a new transaction, while
        ``facts_stale()``."""
        ...

    def facts(self) -> FactSource:
        """The facts, loaded or brought up to date in this process."""
        ...

    def schemes(self) -> list[SchemeRecord]: ...

    def scheme(self, version: int) -> SchemeRecord | None: ...

    def add_scheme(self, record: SchemeRecord) -> SchemeRecord: ...

    def save_scheme(self, record: SchemeRecord) -> None:
        """Overwrite a stored version (only drafts are ever saved again)."""
        ...

    def frozen(self, period: str, scope: str) -> FrozenReport | None: ...

    def frozen_reports(self) -> list[FrozenReport]:
        """Headers of every frozen report (without lines), newest first."""
        ...

    def add_frozen(self, report: FrozenReport) -> bool:
        """Store a frozen report; False (and nothing written) if one exists already."""
        ...

    def directory(self) -> Directory: ...

    def case_lines(self, case_ids: Sequence[int]) -> dict[int, CaseLine]: ...

    def timelines(
        self, case_ids: Sequence[int], actions: Sequence[str]
    ) -> dict[int, list[CaseEvent]]: ...

    def category_names(self, category_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """Class id → (code, name)."""
        ...
