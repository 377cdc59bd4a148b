"""Class dictionaries, filing standards with their disposal limits, dispatch rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, case, delete, func, insert, or_, select, update

from cityloop.adapters.db.fast import FastStatement
from cityloop.adapters.db.models import T, new_id
from cityloop.domain.case import Urgency
from cityloop.domain.codes import ClassKind, Edition
from cityloop.domain.routing import DispatchRule
from cityloop.domain.sla.units import TimeLimit, TimeUnit
from cityloop.domain.taxonomy import Category, FilingStandard

categories = T["categories"]
mappings = T["category_mappings"]
standards = T["filing_standards"]
limits = T["disposal_limits"]
rules = T["dispatch_rules"]

# Text columns of a filing standard that the domain record does not carry (administration).
STANDARD_EXTRAS = ("legal_basis", "legal_clause", "collection_notes")


def category_from_row(row: Any) -> Category:
    return Category(
        id=row.id,
        edition=Edition(row.edition),
        kind=ClassKind(row.kind),
        code=row.code,
        name=row.name,
        major_code=row.major_code,
        major_name=row.major_name,
        component_code=row.component_code,
        local=row.local,
        self_handling_allowed=row.self_handling_allowed,
        active=row.active,
    )


# The lookups of intake, filing and dispatch: built once, run on the driver's cursor.
_CATEGORY = FastStatement(select(categories).where(categories.c.id == bindparam("p_id")))
_CATEGORY_BY_CODE = FastStatement(
    select(categories).where(
        categories.c.edition == bindparam("p_edition"),
        categories.c.kind == bindparam("p_kind"),
        categories.c.code == bindparam("p_code"),
    )
)
_STANDARD = FastStatement(select(standards).where(standards.c.id == bindparam("p_id")))
_LIMITS_OF = FastStatement(select(limits).where(limits.c.standard_id == bindparam("p_id")))
_RULES_FOR = FastStatement(
    select(rules).where(
        or_(
            rules.c.filing_standard_id == bindparam("p_standard"),
            rules.c.category_id == bindparam("p_category"),
        )
    )
)


def _rule(r: Any) -> DispatchRule:
    return DispatchRule(
        id=r.id,
        department_id=r.department_id,
        filing_standard_id=r.filing_standard_id,
        category_id=r.category_id,
        district_code=r.district_code,
        street_code=r.street_code,
        priority=r.priority,
    )


class SqlCatalogRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def category(self, category_id: int) -> Category | None:
        row = _CATEGORY.first(self.conn, {"p_id": category_id})
        return category_from_row(row) if row else None

    def category_by_code(self, edition: Edition, kind: ClassKind, code: str) -> Category | None:
        row = _CATEGORY_BY_CODE.first(
            self.conn, {"p_edition": edition.value, "p_kind": kind.value, "p_code": code}
        )
        return category_from_row(row) if row else None

    def mapped_code(self, edition: Edition, kind: ClassKind, code: str) -> tuple[str, str] | None:
        if edition is not Edition.LEGACY:
            return None
        row = self.conn.execute(
            select(mappings.c.target_kind, mappings.c.target_code).where(
                mappings.c.legacy_kind == kind.value, mappings.c.legacy_code == code
            )
        ).first()
        if row is None or not row.target_code or not row.target_kind:
            return None
        return row.target_kind, row.target_code

    def _limits(self, standard_ids: Sequence[int]) -> dict[int, dict[Urgency, TimeLimit]]:
        result: dict[int, dict[Urgency, TimeLimit]] = defaultdict(dict)
        if not standard_ids:
            return result
        rows = self.conn.execute(select(limits).where(limits.c.standard_id.in_(standard_ids)))
        for r in rows:
            result[r.standard_id][Urgency(r.urgency)] = TimeLimit(
                Decimal(r.amount), TimeUnit(r.unit)
            )
        return result

    def _standard(self, row: Any, lims: dict[Urgency, TimeLimit]) -> FilingStandard:
        return FilingStandard(
            id=row.id,
            category_id=row.category_id,
            condition=row.condition,
            closing_condition=row.closing_condition,
            limits=lims,
            supervising_body=row.supervising_body,
            responsible_body=row.responsible_body,
            active=row.active,
        )

    def standard(self, standard_id: int) -> FilingStandard | None:
        row = _STANDARD.first(self.conn, {"p_id": standard_id})
        if row is None:
            return None
        lims = {
            Urgency(r.urgency): TimeLimit(Decimal(r.amount), TimeUnit(r.unit))
            for r in _LIMITS_OF.run(self.conn, {"p_id": row.id})
        }
        return self._standard(row, lims)

    def standards_for(self, category_id: int) -> list[FilingStandard]:
        rows = list(
            self.conn.execute(
                select(standards)
                .where(standards.c.category_id == category_id)
                .order_by(standards.c.sort_order, standards.c.id)
            )
        )
        lims = self._limits([r.id for r in rows])
        return [self._standard(r, lims.get(r.id, {})) for r in rows]

    def dispatch_rules(
        self, *, filing_standard_id: int | None, category_id: int | None
    ) -> Sequence[DispatchRule]:
        rows = _RULES_FOR.run(
            self.conn, {"p_standard": filing_standard_id or -1, "p_category": category_id or -1}
        )
        return [_rule(r) for r in rows]

    def add_dispatch_rule(self, rule: DispatchRule) -> DispatchRule:
        row_id = new_id(
            self.conn.execute(
                insert(rules).values(
                    department_id=rule.department_id,
                    filing_standard_id=rule.filing_standard_id,
                    category_id=rule.category_id,
                    district_code=rule.district_code,
                    street_code=rule.street_code,
                    priority=rule.priority,
                )
            )
        )
        return replace(rule, id=row_id)

    def categories(
        self, *, edition: Edition | None = None, kind: ClassKind | None = None, text: str = ""
    ) -> list[Category]:
        stmt = select(categories).where(categories.c.active.is_(True))
        if edition is not None:
            stmt = stmt.where(categories.c.edition == edition.value)
        if kind is not None:
            stmt = stmt.where(categories.c.kind == kind.value)
        if text:
            like = f"%{text}%"
            stmt = stmt.where(
                or_(
                    categories.c.code.like(f"{text}%"),
                    categories.c.name.like(like),
                    categories.c.keywords.like(like),
                )
            )
        rows = self.conn.execute(
            stmt.order_by(categories.c.edition, categories.c.kind, categories.c.code)
        )
        return [category_from_row(r) for r in rows]

    def standard_rows(self) -> list[FilingStandard]:
        rows = list(
            self.conn.execute(
                select(standards)
                .where(standards.c.active.is_(True))
                .order_by(standards.c.sort_order, standards.c.id)
            )
        )
        lims = self._limits([r.id for r in rows])
        return [self._standard(r, lims.get(r.id, {})) for r in rows]

    # -- administration (应用维护): the class dictionary and the filing standards ---

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
        where = []
        if edition is not None:
            where.append(categories.c.edition == edition.value)
        if kind is not None:
            where.append(categories.c.kind == kind.value)
        if major_code:
            where.append(categories.c.major_code == major_code)
        if active is not None:
            where.append(categories.c.active.is_(active))
        if local is not None:
            where.append(categories.c.local.is_(local))
        if text:
            where.append(
                or_(
                    categories.c.code.startswith(text, autoescape=True),
                    categories.c.name.contains(text, autoescape=True),
                    categories.c.keywords.contains(text, autoescape=True),
                )
            )
        total = self.conn.execute(
            select(func.count()).select_from(categories).where(*where)
        ).scalar()
        rows = self.conn.execute(
            select(categories)
            .where(*where)
            .order_by(categories.c.edition, categories.c.kind, categories.c.code)
            .offset(offset)
            .limit(limit)
        )
        return [category_from_row(r) for r in rows], int(total or 0)

    def majors(self, edition: Edition, kind: ClassKind) -> list[tuple[str, str]]:
        rows = self.conn.execute(
            select(categories.c.major_code, func.min(categories.c.major_name))
            .where(categories.c.edition == edition.value, categories.c.kind == kind.value)
            .group_by(categories.c.major_code)
            .order_by(categories.c.major_code)
        )
        return [(str(code), str(name)) for code, name in rows]

    def category_codes(self, edition: Edition, kind: ClassKind, major_code: str) -> set[str]:
        rows = self.conn.execute(
            select(categories.c.code).where(
                categories.c.edition == edition.value,
                categories.c.kind == kind.value,
                categories.c.major_code == major_code,
            )
        )
        return {str(r.code) for r in rows}

    def categories_by_ids(self, ids: Sequence[int]) -> dict[int, Category]:
        if not ids:
            return {}
        rows = self.conn.execute(select(categories).where(categories.c.id.in_(list(set(ids)))))
        return {r.id: category_from_row(r) for r in rows}

    def add_category(self, category: Category, *, note: str = "") -> Category:
        row_id = new_id(
            self.conn.execute(
                insert(categories).values(
                    edition=category.edition.value,
                    kind=category.kind.value,
                    code=category.code,
                    name=category.name,
                    major_code=category.major_code,
                    major_name=category.major_name,
                    component_code=category.component_code,
                    local=category.local,
                    self_handling_allowed=category.self_handling_allowed,
                    active=category.active,
                    keywords="",
                    note=note,
                    sort_order=0,
                )
            )
        )
        return replace(category, id=row_id)

    def update_category(self, category: Category) -> None:
        self.conn.execute(
            update(categories)
            .where(categories.c.id == category.id)
            .values(
                name=category.name,
                active=category.active,
                self_handling_allowed=category.self_handling_allowed,
            )
        )

    def standard_counts(self, category_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """Class id → (active rows, all rows) of its filing standard."""
        if not category_ids:
            return {}
        rows = self.conn.execute(
            select(
                standards.c.category_id,
                func.count(),
                func.sum(case((standards.c.active.is_(True), 1), else_=0)),
            )
            .where(standards.c.category_id.in_(list(set(category_ids))))
            .group_by(standards.c.category_id)
        )
        return {r[0]: (int(r[2] or 0), int(r[1])) for r in rows}

    def all_standards(self) -> list[FilingStandard]:
        """Every filing-standard row, active or not, by class code and order."""
        rows = list(
            self.conn.execute(
                select(standards)
                .join(categories, categories.c.id == standards.c.category_id)
                .order_by(categories.c.code, standards.c.sort_order, standards.c.id)
            )
        )
        lims = self._limits([r.id for r in rows])
        return [self._standard(r, lims.get(r.id, {})) for r in rows]

    def standard_extras(self, standard_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        """Legal basis, clause and collection notes of these rows."""
        if not standard_ids:
            return {}
        columns = [standards.c[name] for name in STANDARD_EXTRAS]
        result: dict[int, dict[str, str]] = {}
        ids = list(set(standard_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for r in self.conn.execute(
                select(standards.c.id, *columns).where(standards.c.id.in_(chunk))
            ):
                result[r.id] = {name: str(getattr(r, name) or "") for name in STANDARD_EXTRAS}
        return result

    def _write_limits(self, standard_id: int, lims: Mapping[Urgency, TimeLimit]) -> None:
        self.conn.execute(delete(limits).where(limits.c.standard_id == standard_id))
        for urgency, limit in lims.items():
            self.conn.execute(
                insert(limits).values(
                    standard_id=standard_id,
                    urgency=urgency.value,
                    amount=limit.amount,
                    unit=limit.unit.value,
                )
            )

    def add_standard(
        self, standard: FilingStandard, extras: Mapping[str, str], *, source: str = ""
    ) -> FilingStandard:
        last = self.conn.execute(
            select(func.max(standards.c.sort_order)).where(
                standards.c.category_id == standard.category_id
            )
        ).scalar()
        normal = standard.limits.get(Urgency.NORMAL)
        row_id = new_id(
            self.conn.execute(
                insert(standards).values(
                    category_id=standard.category_id,
                    condition=standard.condition,
                    closing_condition=standard.closing_condition,
                    supervising_body=standard.supervising_body,
                    responsible_body=standard.responsible_body,
                    limit_text=str(normal) if normal is not None else "",
                    source=source[:100],
                    active=standard.active,
                    sort_order=int(last or 0) + 1,
                    **{name: extras.get(name, "") for name in STANDARD_EXTRAS},
                )
            )
        )
        self._write_limits(row_id, standard.limits)
        return replace(standard, id=row_id)

    def update_standard(self, standard: FilingStandard, extras: Mapping[str, str]) -> None:
        """Overwrite a row's texts, activity and disposal limits (its class stays)."""
        self.conn.execute(
            update(standards)
            .where(standards.c.id == standard.id)
            .values(
                condition=standard.condition,
                closing_condition=standard.closing_condition,
                supervising_body=standard.supervising_body,
                responsible_body=standard.responsible_body,
                active=standard.active,
                **{name: extras[name] for name in STANDARD_EXTRAS if name in extras},
            )
        )
        self._write_limits(standard.id, standard.limits)
