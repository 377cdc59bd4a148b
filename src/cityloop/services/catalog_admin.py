"""Administering the class dictionary and the city's filing standards (分类字典, 立结案标准).

Reference: ``standards.md`` §3 and §6.1. The national classes are edited only in what a city
decides (a name, whether the class is in use, whether an inspector may handle it on the spot);
a city adds its own *local extension classes*, numbered downward from 999 inside a major class
(a component class brings its "…异常" matter along, as the seed does). Each matter class has
rows of filing standard: a filing condition, its disposal limit per urgency, a closing
condition and the bodies in charge. Rows are never deleted (cases point at them): a row that
no longer applies is deactivated.

The standards table travels as a spreadsheet (:data:`COLUMNS`): an import checks every row
first and writes nothing unless all are good, then applies them in one transaction. A row with
an id updates that row, a row without one adds a row to its class; rows of the table that the
file does not mention stay as they are.

Every change is recorded in the change log (``services.audit``) in its own transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from cityloop.domain.audit import Change
from cityloop.domain.case import Urgency
from cityloop.domain.codes import ClassKind, Edition, parse_class_code
from cityloop.domain.errors import (
    ConflictError,
    DomainError,
    Msg,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from cityloop.domain.roles import Actor, Role
from cityloop.domain.sla.units import TimeLimit, parse_time_limit
from cityloop.domain.taxonomy import Category, FilingStandard
from cityloop.services import audit
from cityloop.services.ports import UnitOfWork

PAGE_SIZE = 100
MAX_NAME = 100
MAX_TEXT = 2000
LOCAL_TOP = 999  # local extension classes are numbered downward from here
ADMIN_SOURCE = "admin"  # the source of filing-standard rows added by an administrator
MAX_AMOUNT = Decimal("99999999")

# The columns of the filing-standards spreadsheet: (key, header message id).
COLUMNS: tuple[tuple[str, Msg], ...] = (
    ("id", Msg("Standard ID")),
    ("class_code", Msg("Class code")),
    ("class_name", Msg("Class name")),
    ("condition", Msg("Filing condition")),
    ("closing_condition", Msg("Closing condition")),
    ("normal_limit", Msg("Disposal limit (normal)")),
    ("urgent_limit", Msg("Disposal limit (urgent)")),
    ("supervising_body", Msg("Supervising body")),
    ("responsible_body", Msg("Responsible body")),
    ("legal_basis", Msg("Legal basis")),
    ("legal_clause", Msg("Legal clause")),
    ("collection_notes", Msg("Collection notes")),
    ("active", Msg("Active")),
)
HEADERS = dict(COLUMNS)
REQUIRED_COLUMNS = ("class_code", "condition", "normal_limit")
EXTRAS = ("legal_basis", "legal_clause", "collection_notes")

_YES = {"1", "true", "yes", "y", "是", "启用", "有效", "√"}
_NO = {"0", "false", "no", "n", "否", "停用", "无效", "×"}


def _admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise PermissionDeniedError("admin_only", "Only an administrator may do this")


# -- reading ---


@dataclass(frozen=True, slots=True)
class ClassQuery:
    """What the class list shows: filters as the page's address carries them."""

    edition: Edition | None = Edition.CURRENT
    kind: ClassKind | None = None
    major_code: str = ""
    text: str = ""
    active: bool | None = None
    local: bool | None = None
    page: int = 1


@dataclass(frozen=True, slots=True)
class ClassPage:
    items: list[Category]
    total: int
    page: int
    standard_counts: dict[int, tuple[int, int]]  # class id → (active rows, all rows)
    majors: list[tuple[str, str]]  # of the chosen edition (and kind)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def find_classes(uow: UnitOfWork, query: ClassQuery, *, actor: Actor) -> ClassPage:
    """One page of the class dictionary, with each matter class's count of standard rows."""
    _admin(actor)
    if query.page < 1:
        raise ValidationError("page_invalid", "Pages start at 1")
    with uow:
        items, total = uow.catalog.find_categories(
            edition=query.edition,
            kind=query.kind,
            major_code=query.major_code or None,
            text=query.text.strip(),
            active=query.active,
            local=query.local,
            offset=(query.page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
        counts = uow.catalog.standard_counts([c.id for c in items])
        majors: dict[str, str] = {}
        for edition in [query.edition] if query.edition else list(Edition):
            kinds = [query.kind] if query.kind else [ClassKind.MATTER, *ClassKind]
            for kind in kinds:
                for code, name in uow.catalog.majors(edition, kind):
                    majors.setdefault(code, name)
    return ClassPage(items, total, query.page, counts, sorted(majors.items()))


@dataclass(frozen=True, slots=True)
class ClassDetail:
    category: Category
    standards: list[FilingStandard]
    extras: dict[int, dict[str, str]]
    related: Category | None  # a component's anomaly matter, or an anomaly matter's component


def class_detail(uow: UnitOfWork, category_id: int, *, actor: Actor) -> ClassDetail:
    _admin(actor)
    with uow:
        category = _category(uow, category_id)
        rows = uow.catalog.standards_for(category.id) if _has_standards(category) else []
        extras = uow.catalog.standard_extras([s.id for s in rows])
        related = None
        if category.kind is ClassKind.COMPONENT:
            related = uow.catalog.category_by_code(
                category.edition, ClassKind.MATTER, category.code
            )
        elif category.component_code:
            related = uow.catalog.category_by_code(
                category.edition, ClassKind.COMPONENT, category.component_code
            )
    return ClassDetail(category, rows, extras, related)


@dataclass(frozen=True, slots=True)
class StandardDetail:
    standard: FilingStandard
    category: Category
    extras: dict[str, str]


def standard_detail(uow: UnitOfWork, standard_id: int, *, actor: Actor) -> StandardDetail:
    _admin(actor)
    with uow:
        standard = _standard(uow, standard_id)
        category = _category(uow, standard.category_id)
        extras = uow.catalog.standard_extras([standard.id]).get(standard.id, {})
    return StandardDetail(standard, category, extras)


def _category(uow: UnitOfWork, category_id: int) -> Category:
    category = uow.catalog.category(category_id)
    if category is None:
        raise NotFoundError("category_not_found", "There is no class {id}", id=category_id)
    return category


def _standard(uow: UnitOfWork, standard_id: int) -> FilingStandard:
    standard = uow.catalog.standard(standard_id)
    if standard is None:
        raise NotFoundError(
            "standard_not_found", "There is no filing-standard row {id}", id=standard_id
        )
    return standard


def _has_standards(category: Category) -> bool:
    """Filing standards belong to the matter classes of the current edition."""
    return category.edition is Edition.CURRENT and category.kind is ClassKind.MATTER


# -- classes ---


def _name(value: str, what: Msg, limit: int = MAX_NAME, *, required: bool = True) -> str:
    text = " ".join(value.split()) if limit <= MAX_NAME else value.strip()
    if required and not text:
        raise ValidationError("field_required", "{field} is required", field=what)
    if len(text) > limit:
        raise ValidationError(
            "field_too_long", "{field} has at most {max} characters", field=what, max=limit
        )
    return text


def update_class(
    uow: UnitOfWork,
    category_id: int,
    *,
    name: str,
    active: bool,
    self_handling_allowed: bool,
    actor: Actor,
    now: datetime,
) -> Category:
    """Rename a class, take it in or out of use, allow or forbid self-handling (自处理)."""
    _admin(actor)
    clean = _name(name, Msg("Class name"))
    with uow:
        before = _category(uow, category_id)
        if self_handling_allowed and before.kind is not ClassKind.MATTER:
            raise ValidationError(
                "self_handling_matter_only",
                "Only matter classes can be handled on the spot by an inspector",
            )
        after = replace(
            before, name=clean, active=active, self_handling_allowed=self_handling_allowed
        )
        if after == before:
            return before
        uow.catalog.update_category(after)
        audit.record(
            uow,
            actor,
            now,
            entity="category",
            key=f"{after.kind.value}:{after.code}",
            change=Change.UPDATE,
            before=before,
            after=after,
            summary=f"class {after.code} {after.name}",
        )
        uow.commit()
    return after


def next_local_code(taken: set[str], major_code: str) -> str | None:
    """The highest free code of a major class counting down from 999 (None: all taken)."""
    for minor in range(LOCAL_TOP, 0, -1):
        code = f"{major_code}{minor:03d}"
        if code not in taken:
            return code
    return None


def add_local_class(
    uow: UnitOfWork,
    *,
    kind: ClassKind | str,
    major_code: str,
    name: str,
    actor: Actor,
    now: datetime,
) -> Category:
    """Add a city's own class to a major class of the current edition.

    A component class also gets its "…异常" matter of the same code, since cases are always
    classified by a matter (``domain.taxonomy``).
    """
    _admin(actor)
    try:
        class_kind = ClassKind(kind)
    except ValueError as exc:
        raise ValidationError(
            "class_kind_invalid", "{kind} is not a kind of class", kind=str(kind)
        ) from exc
    if class_kind is ClassKind.EVENT:
        raise ValidationError(
            "local_class_current_only",
            "Local classes extend the current edition: add a component or a matter class",
        )
    clean = _name(name, Msg("Class name"), MAX_NAME - 2)
    with uow:
        majors = dict(uow.catalog.majors(Edition.CURRENT, class_kind))
        if major_code not in majors:
            raise ValidationError(
                "major_class_unknown", "There is no major class {code}", code=major_code
            )
        taken = uow.catalog.category_codes(Edition.CURRENT, class_kind, major_code)
        matter_majors = dict(uow.catalog.majors(Edition.CURRENT, ClassKind.MATTER))
        with_anomaly = class_kind is ClassKind.COMPONENT and major_code in matter_majors
        if with_anomaly:
            taken |= uow.catalog.category_codes(Edition.CURRENT, ClassKind.MATTER, major_code)
        code = next_local_code(taken, major_code)
        if code is None:
            raise ConflictError(
                "major_class_full", "Major class {code} has no free class code", code=major_code
            )
        parse_class_code(code)
        created = uow.catalog.add_category(
            Category(
                id=0,
                edition=Edition.CURRENT,
                kind=class_kind,
                code=code,
                name=clean,
                major_code=major_code,
                major_name=majors[major_code],
                local=True,
            ),
            note="local extension class",
        )
        added = [created]
        if with_anomaly:
            added.append(
                uow.catalog.add_category(
                    Category(
                        id=0,
                        edition=Edition.CURRENT,
                        kind=ClassKind.MATTER,
                        code=code,
                        name=clean + "异常",
                        major_code=major_code,
                        major_name=matter_majors[major_code],
                        component_code=code,
                        local=True,
                    ),
                    note="local extension class",
                )
            )
        for category in added:
            audit.record(
                uow,
                actor,
                now,
                entity="category",
                key=f"{category.kind.value}:{category.code}",
                change=Change.CREATE,
                after=category,
                summary=f"local class {category.code} {category.name}",
            )
        uow.commit()
    return created


# -- filing standards ---


@dataclass(frozen=True, slots=True)
class StandardDraft:
    """What an administrator writes into a row of the filing standard."""

    condition: str
    normal_limit: TimeLimit
    urgent_limit: TimeLimit | None = None
    closing_condition: str = ""
    supervising_body: str = ""
    responsible_body: str = ""
    legal_basis: str = ""
    legal_clause: str = ""
    collection_notes: str = ""
    active: bool = True


def _check_limit(limit: TimeLimit, what: Msg) -> None:
    amount = limit.amount
    if amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(
            "time_limit_precision",
            "{field}: a time limit has at most two decimals and stays below 100000000",
            field=what,
        )


def _clean(draft: StandardDraft) -> tuple[StandardDraft, dict[str, str]]:
    """The draft with its texts trimmed and checked, and its extra texts by column."""
    _check_limit(draft.normal_limit, Msg("Disposal limit (normal)"))
    if draft.urgent_limit is not None:
        _check_limit(draft.urgent_limit, Msg("Disposal limit (urgent)"))
    clean = replace(
        draft,
        condition=_name(draft.condition, Msg("Filing condition"), MAX_TEXT),
        closing_condition=_name(
            draft.closing_condition, Msg("Closing condition"), MAX_TEXT, required=False
        ),
        supervising_body=_name(
            draft.supervising_body, Msg("Supervising body"), MAX_TEXT, required=False
        ),
        responsible_body=_name(
            draft.responsible_body, Msg("Responsible body"), MAX_TEXT, required=False
        ),
        legal_basis=_name(draft.legal_basis, Msg("Legal basis"), MAX_TEXT, required=False),
        legal_clause=_name(draft.legal_clause, Msg("Legal clause"), MAX_TEXT, required=False),
        collection_notes=_name(
            draft.collection_notes, Msg("Collection notes"), MAX_TEXT, required=False
        ),
    )
    extras = {
        "legal_basis": clean.legal_basis,
        "legal_clause": clean.legal_clause,
        "collection_notes": clean.collection_notes,
    }
    return clean, extras


def _limits(draft: StandardDraft) -> dict[Urgency, TimeLimit]:
    limits = {Urgency.NORMAL: draft.normal_limit}
    if draft.urgent_limit is not None:
        limits[Urgency.URGENT] = draft.urgent_limit
    return limits


def _record(standard: FilingStandard, extras: Mapping[str, str]) -> dict[str, Any]:
    """A filing-standard row as the change log keeps it (limits as text, e.g. 2工作日)."""
    return {
        "category_id": standard.category_id,
        "condition": standard.condition,
        "closing_condition": standard.closing_condition,
        "limits": {u.value: str(limit) for u, limit in standard.limits.items()},
        "supervising_body": standard.supervising_body,
        "responsible_body": standard.responsible_body,
        "active": standard.active,
        **{k: extras.get(k, "") for k in EXTRAS},
    }


def _matter_class(uow: UnitOfWork, category_id: int) -> Category:
    category = _category(uow, category_id)
    if not _has_standards(category):
        raise ValidationError(
            "standards_matter_only",
            "Filing standards belong to the matter classes of the current edition",
        )
    return category


def add_standard(
    uow: UnitOfWork, category_id: int, draft: StandardDraft, *, actor: Actor, now: datetime
) -> FilingStandard:
    _admin(actor)
    clean, extras = _clean(draft)
    with uow:
        category = _matter_class(uow, category_id)
        created = _insert(uow, category, clean, extras, actor=actor, now=now)
        uow.commit()
    return created


def _insert(
    uow: UnitOfWork,
    category: Category,
    draft: StandardDraft,
    extras: Mapping[str, str],
    *,
    actor: Actor,
    now: datetime,
) -> FilingStandard:
    created = uow.catalog.add_standard(
        FilingStandard(
            id=0,
            category_id=category.id,
            condition=draft.condition,
            closing_condition=draft.closing_condition,
            limits=_limits(draft),
            supervising_body=draft.supervising_body,
            responsible_body=draft.responsible_body,
            active=draft.active,
        ),
        extras,
        source=ADMIN_SOURCE,
    )
    audit.record(
        uow,
        actor,
        now,
        entity="filing_standard",
        key=created.id,
        change=Change.CREATE,
        after=_record(created, extras),
        summary=f"class {category.code}: {created.condition[:80]}",
    )
    return created


def _overwrite(
    uow: UnitOfWork,
    before: FilingStandard,
    old_extras: Mapping[str, str],
    draft: StandardDraft,
    extras: Mapping[str, str],
    *,
    actor: Actor,
    now: datetime,
) -> FilingStandard | None:
    """Write ``draft`` over a row; None when it changes nothing."""
    after = replace(
        before,
        condition=draft.condition,
        closing_condition=draft.closing_condition,
        limits=_limits(draft),
        supervising_body=draft.supervising_body,
        responsible_body=draft.responsible_body,
        active=draft.active,
    )
    old, new = _record(before, old_extras), _record(after, extras)
    if old == new:
        return None
    uow.catalog.update_standard(after, extras)
    audit.record(
        uow,
        actor,
        now,
        entity="filing_standard",
        key=after.id,
        change=Change.UPDATE,
        before=old,
        after=new,
        summary=f"{after.condition[:80]}",
    )
    return after


def update_standard(
    uow: UnitOfWork, standard_id: int, draft: StandardDraft, *, actor: Actor, now: datetime
) -> FilingStandard:
    """Rewrite a row. Cases filed under it keep the disposal deadline they were given."""
    _admin(actor)
    clean, extras = _clean(draft)
    with uow:
        before = _standard(uow, standard_id)
        old_extras = uow.catalog.standard_extras([before.id]).get(before.id, {})
        after = _overwrite(uow, before, old_extras, clean, extras, actor=actor, now=now)
        uow.commit()
    return after or before


def set_standard_active(
    uow: UnitOfWork, standard_id: int, active: bool, *, actor: Actor, now: datetime
) -> FilingStandard:
    """Take a row out of use (it is no longer offered at filing) or back into use."""
    _admin(actor)
    with uow:
        before = _standard(uow, standard_id)
        if before.active == active:
            return before
        extras = uow.catalog.standard_extras([before.id]).get(before.id, {})
        after = replace(before, active=active)
        uow.catalog.update_standard(after, extras)
        audit.record(
            uow,
            actor,
            now,
            entity="filing_standard",
            key=after.id,
            change=Change.UPDATE,
            before={"active": before.active},
            after={"active": after.active},
            summary=("activated: " if active else "deactivated: ") + after.condition[:80],
        )
        uow.commit()
    return after


# -- the spreadsheet ---


def export_standards(uow: UnitOfWork, *, actor: Actor) -> list[dict[str, Any]]:
    """Every row of the filing standard under the keys of :data:`COLUMNS` (limits as text,
    ``active`` as a bool), by class code."""
    _admin(actor)
    with uow:
        rows = uow.catalog.all_standards()
        classes = uow.catalog.categories_by_ids([s.category_id for s in rows])
        extras = uow.catalog.standard_extras([s.id for s in rows])
    lines = []
    for s in rows:
        category = classes[s.category_id]
        normal, urgent = s.limits.get(Urgency.NORMAL), s.limits.get(Urgency.URGENT)
        lines.append(
            {
                "id": s.id,
                "class_code": category.code,
                "class_name": category.name,
                "condition": s.condition,
                "closing_condition": s.closing_condition,
                "normal_limit": str(normal) if normal else "",
                "urgent_limit": str(urgent) if urgent else "",
                "supervising_body": s.supervising_body,
                "responsible_body": s.responsible_body,
                **{k: extras.get(s.id, {}).get(k, "") for k in EXTRAS},
                "active": s.active,
            }
        )
    return lines


@dataclass(frozen=True, slots=True)
class RowProblem:
    """What is wrong with one row of an imported file (``row``: its number in the sheet)."""

    row: int
    column: Msg | None
    error: DomainError


class RowsRejectedError(ValidationError):
    """Some rows of an imported file are bad: nothing was imported. ``problems`` says which."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        super().__init__(
            "import_rows_invalid",
            "Rows with problems: {count}. Nothing was imported.",
            count=len(problems),
        )
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class ImportSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0


def cell_text(value: Any) -> str:
    """A spreadsheet cell as text (whole numbers without ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_flag(value: Any) -> bool:
    """是/否, yes/no, 1/0, true/false, 启用/停用 (empty: yes)."""
    if isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if text == "" or text in _YES:
        return True
    if text in _NO:
        return False
    raise ValidationError("flag_invalid", "Write yes or no (是/否), not {value}", value=text)


def _class_code(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{int(value):05d}"  # a spreadsheet dropped the leading zero
    return cell_text(value)


def _row_id(value: Any) -> int | None:
    text = cell_text(value)
    if not text:
        return None
    if not text.isdigit():
        raise ValidationError(
            "standard_id_invalid", "A standard ID is a whole number, not {value}", value=text
        )
    return int(text)


def _draft_of(
    line: Mapping[str, Any], problems: list[RowProblem], row: int
) -> StandardDraft | None:
    """The draft of one row, or None with its problems appended."""
    found: list[RowProblem] = []

    def field(key: str, parse: Any) -> Any:
        try:
            return parse(line.get(key))
        except DomainError as exc:
            found.append(RowProblem(row, HEADERS[key], exc))
            return None

    def limit(value: Any) -> TimeLimit | None:
        text = cell_text(value)
        return parse_time_limit(text) if text else None

    normal = field("normal_limit", limit)
    if normal is None and not any(p.column == HEADERS["normal_limit"] for p in found):
        found.append(
            RowProblem(
                row,
                HEADERS["normal_limit"],
                ValidationError(
                    "field_required", "{field} is required", field=HEADERS["normal_limit"]
                ),
            )
        )
    urgent = field("urgent_limit", limit)
    active = field("active", parse_flag)
    if found:
        problems.extend(found)
        return None
    assert normal is not None
    draft = StandardDraft(
        condition=cell_text(line.get("condition")),
        normal_limit=normal,
        urgent_limit=urgent,
        closing_condition=cell_text(line.get("closing_condition")),
        supervising_body=cell_text(line.get("supervising_body")),
        responsible_body=cell_text(line.get("responsible_body")),
        legal_basis=cell_text(line.get("legal_basis")),
        legal_clause=cell_text(line.get("legal_clause")),
        collection_notes=cell_text(line.get("collection_notes")),
        active=bool(active),
    )
    try:
        clean, _ = _clean(draft)
    except DomainError as exc:
        field_name = exc.params.get("field")
        problems.append(RowProblem(row, field_name if isinstance(field_name, Msg) else None, exc))
        return None
    return clean


@dataclass(frozen=True, slots=True)
class _Planned:
    category: Category
    draft: StandardDraft
    extras: dict[str, str]
    standard_id: int | None


def import_standards(
    uow: UnitOfWork,
    rows: Sequence[tuple[int, Mapping[str, Any]]],
    *,
    actor: Actor,
    now: datetime,
) -> ImportSummary:
    """Apply a filing-standards table (``rows``: sheet row number, values by column key).

    Every row is checked first; any problem raises :class:`RowsRejectedError` listing all of
    them and nothing is written. Otherwise all rows are applied in one transaction.
    """
    _admin(actor)
    if not rows:
        raise ValidationError("import_empty", "The file has no rows to import")
    present = set().union(*(line.keys() for _, line in rows))
    for key in REQUIRED_COLUMNS:
        if key not in present:
            raise ValidationError(
                "import_column_missing", "The file has no column {column}", column=HEADERS[key]
            )
    problems: list[RowProblem] = []
    with uow:
        stored = {s.id: s for s in uow.catalog.all_standards()}
        plans = _plan(uow, rows, stored, problems)
        if problems:
            raise RowsRejectedError(problems)
        added = updated = unchanged = 0
        current = uow.catalog.standard_extras([p.standard_id for p in plans if p.standard_id])
        for plan in plans:
            if plan.standard_id is None:
                _insert(uow, plan.category, plan.draft, plan.extras, actor=actor, now=now)
                added += 1
                continue
            before = stored[plan.standard_id]
            changed = _overwrite(
                uow,
                before,
                current.get(before.id, {}),
                plan.draft,
                plan.extras,
                actor=actor,
                now=now,
            )
            if changed is None:
                unchanged += 1
            else:
                updated += 1
        summary = ImportSummary(added, updated, unchanged)
        audit.record(
            uow,
            actor,
            now,
            entity="filing_standard",
            key="*",
            change=Change.IMPORT,
            after={"rows": len(rows), "added": added, "updated": updated},
            summary=f"filing standards imported: +{added}, ~{updated}, ={unchanged}",
        )
        uow.commit()
    return summary


def _plan(
    uow: UnitOfWork,
    rows: Sequence[tuple[int, Mapping[str, Any]]],
    stored: Mapping[int, FilingStandard],
    problems: list[RowProblem],
) -> list[_Planned]:
    plans: list[_Planned] = []
    seen: dict[int, int] = {}
    classes: dict[str, Category | None] = {}
    for row, line in rows:
        before = len(problems)
        draft = _draft_of(line, problems, row)
        code = _class_code(line.get("class_code"))
        category: Category | None = None
        try:
            parse_class_code(code)
            if code not in classes:
                classes[code] = uow.catalog.category_by_code(
                    Edition.CURRENT, ClassKind.MATTER, code
                )
            category = classes[code]
            if category is None:
                raise ValidationError(
                    "unknown_category",
                    "Class code {code} is not in the class dictionary",
                    code=code,
                )
        except DomainError as exc:
            problems.append(RowProblem(row, HEADERS["class_code"], exc))
        standard_id = None
        try:
            standard_id = _row_id(line.get("id"))
            if standard_id is not None:
                if standard_id in seen:
                    raise ValidationError(
                        "standard_id_repeated",
                        "Standard ID {id} appears again (first in row {row})",
                        id=standard_id,
                        row=seen[standard_id],
                    )
                seen[standard_id] = row
                existing = stored.get(standard_id)
                if existing is None:
                    raise NotFoundError(
                        "standard_not_found",
                        "There is no filing-standard row {id}",
                        id=standard_id,
                    )
                if category is not None and existing.category_id != category.id:
                    raise ValidationError(
                        "standard_class_differs",
                        "Standard ID {id} belongs to another class; a row cannot change its"
                        " class (leave the ID empty to add a row)",
                        id=standard_id,
                    )
        except DomainError as exc:
            problems.append(RowProblem(row, HEADERS["id"], exc))
        if len(problems) == before and draft is not None and category is not None:
            _, extras = _clean(draft)
            plans.append(_Planned(category, draft, extras, standard_id))
    return plans
