"""Evaluation storage: facts (through the columnar store), schemes, frozen reports, names."""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from cityloop.adapters.db.models_evaluation import (
    EvalReportLineRow,
    EvalReportRow,
    EvalSchemeRow,
)
from cityloop.adapters.db.repositories.cases import event_from_row
from cityloop.adapters.evaluation import store
from cityloop.adapters.evaluation.cache import cache_for
from cityloop.adapters.evaluation.engine import Engine
from cityloop.domain.case import CaseEvent, CaseState
from cityloop.domain.evaluation.records import (
    CaseLine,
    DepartmentEntry,
    Directory,
    FrozenLine,
    FrozenReport,
    Person,
    RegionEntry,
    SchemeRecord,
    SchemeStatus,
)

schemes: Table = EvalSchemeRow.__table__  # type: ignore[assignment]
reports: Table = EvalReportRow.__table__  # type: ignore[assignment]
lines: Table = EvalReportLineRow.__table__  # type: ignore[assignment]
_META = schemes.metadata
_DIRECTORIES: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], Directory]] = (
    weakref.WeakKeyDictionary()
)
_DIRECTORY_LOCK = threading.Lock()


def _t(name: str) -> Table:
    return _META.tables[name]


def _scheme(row: Any) -> SchemeRecord:
    return SchemeRecord(
        version=row.version,
        name=row.name,
        status=SchemeStatus(row.status),
        body=dict(row.body),
        created_at=row.created_at,
        effective_from=row.effective_from,
        note=row.note or "",
        created_by=row.created_by,
        published_at=row.published_at,
        published_by=row.published_by,
    )


def _report(row: Any, found: Sequence[FrozenLine] = ()) -> FrozenReport:
    return FrozenReport(
        period=row.period,
        scope=row.scope,
        scheme_version=row.scheme_version,
        as_of=row.as_of,
        frozen_at=row.frozen_at,
        frozen_by=row.frozen_by,
        extras=dict(row.extras or {}),
        lines=tuple(found),
    )


class SqlEvaluationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- facts ---

    def facts_stale(self) -> bool:
        return store.stale(self.conn)

    def refresh_facts(self, tz: Any, now: datetime) -> int:
        return store.refresh(self.conn, tz, now=now, max_events=store.FOLD_EVENTS)

    def facts(self) -> Engine:
        return cache_for(self.conn.engine).engine(self.conn)

    # -- schemes ---

    def schemes(self) -> list[SchemeRecord]:
        return [_scheme(r) for r in self.conn.execute(select(schemes).order_by(schemes.c.version))]

    def scheme(self, version: int) -> SchemeRecord | None:
        row = self.conn.execute(select(schemes).where(schemes.c.version == version)).first()
        return _scheme(row) if row else None

    def _values(self, record: SchemeRecord) -> dict[str, Any]:
        return {
            "version": record.version,
            "name": record.name,
            "status": record.status.value,
            "effective_from": record.effective_from,
            "body": record.body,
            "note": record.note,
            "created_at": record.created_at,
            "created_by": record.created_by,
            "published_at": record.published_at,
            "published_by": record.published_by,
        }

    def add_scheme(self, record: SchemeRecord) -> SchemeRecord:
        self.conn.execute(insert(schemes).values(self._values(record)))
        return record

    def save_scheme(self, record: SchemeRecord) -> None:
        self.conn.execute(
            update(schemes).where(schemes.c.version == record.version).values(self._values(record))
        )

    # -- frozen reports ---

    def frozen(self, period: str, scope: str) -> FrozenReport | None:
        row = self.conn.execute(
            select(reports).where(reports.c.period == period, reports.c.scope == scope)
        ).first()
        if row is None:
            return None
        found = [
            FrozenLine(
                kind=r.kind,
                key=r.key,
                name=r.name,
                parent=r.parent,
                counts={str(k): int(v) for k, v in dict(r.counts).items()},
                score=Decimal(r.score).quantize(Decimal("0.01")) if r.score is not None else None,
                grade=r.grade,
                rank=r.rank,
            )
            for r in self.conn.execute(
                select(lines).where(lines.c.report_id == row.id).order_by(lines.c.id)
            )
        ]
        return _report(row, found)

    def frozen_reports(self) -> list[FrozenReport]:
        rows = self.conn.execute(select(reports).order_by(reports.c.period.desc(), reports.c.scope))
        return [_report(r) for r in rows]

    def add_frozen(self, report: FrozenReport) -> bool:
        exists = self.conn.execute(
            select(reports.c.id).where(
                reports.c.period == report.period, reports.c.scope == report.scope
            )
        ).first()
        if exists:
            return False
        try:
            with self.conn.begin_nested():
                result = self.conn.execute(
                    insert(reports)
                    .values(
                        period=report.period,
                        scope=report.scope,
                        scheme_version=report.scheme_version,
                        as_of=report.as_of,
                        frozen_at=report.frozen_at,
                        frozen_by=report.frozen_by,
                        extras=report.extras,
                    )
                    .returning(reports.c.id)
                )
                report_id = int(result.scalar_one())
        except IntegrityError:
            return False
        rows = [
            {
                "report_id": report_id,
                "kind": line.kind,
                "key": line.key,
                "name": line.name[:200],
                "parent": line.parent,
                "counts": line.counts,
                "score": line.score,
                "grade": line.grade,
                "rank": line.rank,
            }
            for line in report.lines
        ]
        for start in range(0, len(rows), 1000):
            self.conn.execute(insert(lines), rows[start : start + 1000])
        return True

    # -- names ---

    def directory(self) -> Directory:
        """The register, kept per process while its fingerprint does not change (it holds
        every unit grid: reading it costs more than a whole monthly evaluation)."""
        mark = self._fingerprint()
        key = self.conn.engine
        with _DIRECTORY_LOCK:
            cached = _DIRECTORIES.get(key)
            if cached is not None and cached[0] == mark:
                return cached[1]
        found = self._directory()
        with _DIRECTORY_LOCK:
            _DIRECTORIES[key] = (mark, found)
        return found

    def _fingerprint(self) -> tuple[Any, ...]:
        """Counts, largest ids and name lengths of the register's tables: any insert, delete,
        rename, (de)activation or regrant changes it."""
        row = self._raw(
            "SELECT"
            " (SELECT count(*) FROM regions),"
            " (SELECT max(id) FROM regions),"
            " (SELECT count(valid_to) FROM regions),"
            " (SELECT sum(length(name) * (id % 97 + 1)) FROM regions),"
            " (SELECT count(*) FROM users),"
            " (SELECT max(id) FROM users),"
            " (SELECT sum(length(display_name) * (id % 97 + 1)) FROM users),"
            " (SELECT sum(CASE WHEN active THEN id ELSE 0 END) FROM users),"
            " (SELECT count(*) FROM user_roles),"
            " (SELECT max(id) FROM user_roles),"
            " (SELECT sum(id * length(role) + coalesce(department_id, 0)) FROM user_roles),"
            " (SELECT count(*) FROM departments),"
            " (SELECT max(id) FROM departments),"
            " (SELECT sum(length(name) * (id % 97 + 1) + coalesce(parent_id, 0) + level"
            "  + CASE WHEN active THEN 1 ELSE 0 END) FROM departments),"
            " (SELECT count(*) FROM inspector_grids),"
            " (SELECT sum(user_id * 7919 + region_id) FROM inspector_grids)"
        )
        return tuple(row[0]) if row else ()

    def _directory(self) -> Directory:
        users, roles = _t("users"), _t("user_roles")
        people: dict[str, dict[int, tuple[str, list[str | None]]]] = defaultdict(dict)
        for r in self.conn.execute(
            select(users.c.id, users.c.display_name, roles.c.role, roles.c.district_code)
            .join(roles, roles.c.user_id == users.c.id)
            .where(users.c.active.is_(True))
            .order_by(users.c.id)
        ):
            entry = people[r.role].setdefault(r.id, (r.display_name, []))
            entry[1].append(r.district_code)
        departments = _t("departments")
        depts = [
            DepartmentEntry(
                id=r.id,
                name=r.name,
                level=r.level,
                parent_id=r.parent_id,
                district_code=r.district_code,
                centre=r.kind == "centre",
                active=bool(r.active),
            )
            for r in self.conn.execute(select(departments).order_by(departments.c.id))
        ]
        # The register of regions can hold tens of thousands of unit grids: plain tuples.
        found: dict[str, list[RegionEntry]] = defaultdict(list)
        for level, code, name, area in self._raw(
            "SELECT level, code, name, area_m2 FROM regions WHERE valid_to IS NULL ORDER BY code"
        ):
            found[level].append(RegionEntry(code, name, area))
        inspector_grids: dict[str, list[int]] = defaultdict(list)
        for user_id, code in self._raw(
            "SELECT g.user_id, r.code FROM inspector_grids g JOIN regions r ON r.id = g.region_id"
            " ORDER BY r.code, g.user_id"
        ):
            inspector_grids[code].append(user_id)
        return Directory(
            people={
                role: [Person(uid, name, tuple(d)) for uid, (name, d) in holders.items()]
                for role, holders in people.items()
            },
            departments=depts,
            regions=dict(found),
            inspector_grids={code: tuple(ids) for code, ids in inspector_grids.items()},
        )

    def _raw(self, sql: str) -> list[tuple[Any, ...]]:
        """Plain tuples straight from the driver, inside this transaction (for big lists)."""
        cursor = self.conn.connection.cursor()
        try:
            cursor.execute(sql)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def case_lines(self, case_ids: Sequence[int]) -> dict[int, CaseLine]:
        cases, categories, departments = _t("cases"), _t("categories"), _t("departments")
        out: dict[int, CaseLine] = {}
        ids = sorted(set(case_ids))
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            stmt = (
                select(
                    cases,
                    categories.c.code.label("category_code"),
                    categories.c.name.label("category_name"),
                    departments.c.name.label("department_name"),
                )
                .outerjoin(categories, categories.c.id == cases.c.category_id)
                .outerjoin(departments, departments.c.id == cases.c.department_id)
                .where(cases.c.id.in_(chunk))
            )
            for r in self.conn.execute(stmt):
                out[r.id] = CaseLine(
                    id=r.id,
                    number=r.number,
                    state=CaseState(r.state),
                    source=r.source,
                    reported_at=r.reported_at,
                    category_code=r.category_code,
                    category_name=r.category_name,
                    address=r.address or "",
                    grid_code=r.grid_code,
                    department_id=r.department_id,
                    department_name=r.department_name,
                    filed_at=r.filed_at,
                    closed_at=r.closed_at,
                    disposal_deadline=r.disposal_deadline,
                )
        return out

    def timelines(
        self, case_ids: Sequence[int], actions: Sequence[str]
    ) -> dict[int, list[CaseEvent]]:
        events = _t("case_events")
        out: dict[int, list[CaseEvent]] = defaultdict(list)
        ids = sorted(set(case_ids))
        for start in range(0, len(ids), 1000):
            stmt = select(events).where(events.c.case_id.in_(ids[start : start + 1000]))
            if actions:
                stmt = stmt.where(events.c.action.in_(list(actions)))
            for r in self.conn.execute(stmt.order_by(events.c.case_id, events.c.seq)):
                out[r.case_id].append(event_from_row(r))
        return dict(out)

    def category_names(self, category_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        categories = _t("categories")
        ids = sorted(set(category_ids))
        if not ids:
            return {}
        rows = self.conn.execute(
            select(categories.c.id, categories.c.code, categories.c.name).where(
                categories.c.id.in_(ids)
            )
        )
        return {r.id: (r.code, r.name) for r in rows}
