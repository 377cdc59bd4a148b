"""Load the reference data shipped in ``cityloop/data`` into the database.

Idempotent: a second run changes nothing (rows are keyed by their natural keys). Loads the
class dictionaries of both editions and the legacy mapping, the demo city's filing standards
(运城) with their disposal limits, the working calendar 2004–2026 and the default stage limits.
See ``cityloop/data/README.md`` for sources and licences.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from cityloop.adapters.db.models import T, new_id
from cityloop.adapters.db.repositories.sla import (
    DEFAULT_CALENDAR,
    DEFAULT_TIMEZONE,
    bump_revision,
    week_to_json,
)
from cityloop.domain.codes import ClassKind, Edition
from cityloop.domain.sla.calendar import DEFAULT_WEEK
from cityloop.domain.sla.stages import DEFAULT_STAGE_LIMITS
from cityloop.domain.sla.units import TimeUnit, parse_unit

STANDARDS_SOURCE = "运城 muban.xlsx"
_CONTINUOUS_TWIN = {
    TimeUnit.WORK_HOUR: TimeUnit.URGENT_WORK_HOUR,
    TimeUnit.WORK_DAY: TimeUnit.URGENT_WORK_DAY,
}


def read_csv(*parts: str) -> Iterator[dict[str, str]]:
    ref = resources.files("cityloop") / "data"
    for part in parts:
        ref = ref / part
    with ref.open("rb") as raw:
        text = raw.read().decode("utf-8")
    yield from csv.DictReader(io.StringIO(text, newline=""))


@dataclass
class SeedReport:
    categories: int = 0
    mappings: int = 0
    standards: int = 0
    calendar_days: int = 0

    def __str__(self) -> str:
        return (
            f"classes +{self.categories}, legacy mappings +{self.mappings}, filing standards"
            f" +{self.standards}, calendar days +{self.calendar_days}"
        )


def seed_reference(engine: Engine) -> SeedReport:
    report = SeedReport()
    with engine.begin() as conn:
        _seed_categories(conn, report)
        _seed_mappings(conn, report)
        _seed_standards(conn, report)
        _seed_calendar(conn, report)
        _seed_stage_limits(conn)
    return report


# -- classes ---


def _existing_categories(conn: Connection) -> dict[tuple[str, str, str], int]:
    cats = T["categories"]
    return {
        (r.edition, r.kind, r.code): r.id
        for r in conn.execute(select(cats.c.id, cats.c.edition, cats.c.kind, cats.c.code))
    }


def _add_category(
    conn: Connection, existing: dict[tuple[str, str, str], int], report: SeedReport, **values: Any
) -> int:
    key = (values["edition"], values["kind"], values["code"])
    if key in existing:
        return existing[key]
    values.setdefault("keywords", "")
    values.setdefault("note", "")
    values.setdefault("local", False)
    values.setdefault("self_handling_allowed", False)
    values.setdefault("active", True)
    values.setdefault("sort_order", 0)
    row_id = new_id(conn.execute(insert(T["categories"]).values(values)))
    existing[key] = row_id
    report.categories += 1
    return row_id


def _seed_categories(conn: Connection, report: SeedReport) -> None:
    existing = _existing_categories(conn)
    self_handling = {r["code"] for r in read_csv("taxonomy", "self_handling.csv")}
    current = Edition.CURRENT.value
    for row in read_csv("taxonomy", "gbt47678_5_2026_components.csv"):
        _add_category(
            conn,
            existing,
            report,
            edition=current,
            kind=ClassKind.COMPONENT.value,
            code=row["code"],
            name=row["name"],
            major_code=row["major_code"],
            major_name=row["major_name"],
            keywords=row["keywords"],
            sort_order=int(row["source_sort_order"]),
        )
    for row in read_csv("taxonomy", "gbt47678_5_2026_matters.csv"):
        _add_category(
            conn,
            existing,
            report,
            edition=current,
            kind=ClassKind.MATTER.value,
            code=row["code"],
            name=row["name"],
            major_code=row["major_code"],
            major_name=row["major_name"],
            keywords=row["keywords"],
            component_code=row["component_code"] or None,
            self_handling_allowed=row["code"] in self_handling,
            sort_order=int(row["source_sort_order"]),
        )
    legacy = Edition.LEGACY.value
    for name, kind in (
        ("gbt30428_2_2013_components.csv", ClassKind.COMPONENT),
        ("gbt30428_2_2013_events.csv", ClassKind.EVENT),
    ):
        for i, row in enumerate(read_csv("taxonomy", name)):
            _add_category(
                conn,
                existing,
                report,
                edition=legacy,
                kind=kind.value,
                code=row["code"],
                name=row["name"],
                major_code=row["major_code"],
                major_name=row["major_name"],
                keywords=row["name_variants"],
                local=row["is_local_extension"] == "1",
                note=row["note"],
                sort_order=i,
            )
    _seed_local_classes(conn, existing, report)


def _major_names() -> dict[tuple[str, str], str]:
    names: dict[tuple[str, str], str] = {}
    for row in read_csv("taxonomy", "gbt47678_5_2026_components.csv"):
        names[(ClassKind.COMPONENT.value, row["major_code"])] = row["major_name"]
    for row in read_csv("taxonomy", "gbt47678_5_2026_matters.csv"):
        names[(ClassKind.MATTER.value, row["major_code"])] = row["major_name"]
    return names


def _seed_local_classes(
    conn: Connection, existing: dict[tuple[str, str, str], int], report: SeedReport
) -> None:
    """The demo city's extension classes (numbered downward from 999 in a major class)."""
    majors = _major_names()
    current = Edition.CURRENT.value
    for row in read_csv("taxonomy", "yuncheng_class_map.csv"):
        if row["relation"] != "local":
            continue
        code, major = row["target_code"], row["target_code"][:2]
        note = f"运城 local class {row['yc_kind']} {row['yc_major_code']}-{row['yc_minor_code']}"
        if row["target_kind"] == ClassKind.COMPONENT.value:
            _add_category(
                conn,
                existing,
                report,
                edition=current,
                kind="component",
                code=code,
                name=row["target_name"],
                major_code=major,
                major_name=majors[("component", major)],
                local=True,
                note=note,
            )
            _add_category(
                conn,
                existing,
                report,
                edition=current,
                kind="matter",
                code=code,
                name=row["target_name"] + "异常",
                major_code=major,
                major_name=majors[("matter", major)],
                component_code=code,
                local=True,
                note=note,
            )
        else:
            _add_category(
                conn,
                existing,
                report,
                edition=current,
                kind="matter",
                code=code,
                name=row["target_name"],
                major_code=major,
                major_name=majors[("matter", major)],
                local=True,
                note=note,
            )


def _kind_of_target(text: str) -> str | None:
    """``matter (component anomaly)`` → ``matter``; empty → None."""
    text = text.strip()
    if not text:
        return None
    return ClassKind.MATTER.value if text.startswith("matter") else ClassKind(text).value


def _seed_mappings(conn: Connection, report: SeedReport) -> None:
    table = T["category_mappings"]
    have = {
        (r.legacy_kind, r.legacy_code)
        for r in conn.execute(select(table.c.legacy_kind, table.c.legacy_code))
    }
    for row in read_csv("taxonomy", "legacy_to_47678_mapping.csv"):
        if (row["legacy_kind"], row["legacy_code"]) in have:
            continue
        conn.execute(
            insert(table).values(
                legacy_kind=row["legacy_kind"],
                legacy_code=row["legacy_code"],
                legacy_name=row["legacy_name"],
                target_kind=_kind_of_target(row["target_kind"]),
                target_code=row["target_code"] or None,
                relation=row["relation"],
                status=row["status"],
                note=row["note"],
            )
        )
        report.mappings += 1


# -- filing standards ---


def _seed_standards(conn: Connection, report: SeedReport) -> None:
    standards, limits = T["filing_standards"], T["disposal_limits"]
    if conn.execute(select(standards.c.id).where(standards.c.source == STANDARDS_SOURCE)).first():
        return
    existing = _existing_categories(conn)
    class_map = {
        (r["yc_kind"], r["yc_major_code"], r["yc_minor_code"]): r
        for r in read_csv("taxonomy", "yuncheng_class_map.csv")
    }
    legal: dict[tuple[str, str, str], dict[str, str]] = {}
    legal_by_class: dict[tuple[str, str], dict[str, str]] = {}
    for r in read_csv("taxonomy", "sample_standards_yuncheng_components_legal_basis.csv"):
        legal[(r["大类代码"], r["小类代码"], r["立案条件"].strip())] = r
        legal_by_class.setdefault((r["大类代码"], r["小类代码"]), r)
    for order, row in enumerate(read_csv("taxonomy", "sample_standards_yuncheng.csv")):
        mapped = class_map[(row["类型"], row["大类代码"], row["小类代码"])]
        category_id = existing[
            (Edition.CURRENT.value, ClassKind.MATTER.value, mapped["target_code"])
        ]
        basis: dict[str, str] = {}
        if row["类型"] == "部件":
            basis = legal.get(
                (row["大类代码"], row["小类代码"], row["立案条件"].strip())
            ) or legal_by_class.get((row["大类代码"], row["小类代码"]), {})
        unit = parse_unit(row["处置时限单位_归一"])
        amount = Decimal(row["处置时限数值"])
        row_id = new_id(
            conn.execute(
                insert(standards).values(
                    category_id=category_id,
                    condition=row["立案条件"].strip() or mapped["target_name"],
                    closing_condition=row["结案条件"].strip(),
                    supervising_body=row["监管主体"].strip(),
                    responsible_body=row["责任主体"].strip(),
                    legal_basis=basis.get("法律法规依据", ""),
                    legal_clause=basis.get("法律法规具体条款", ""),
                    collection_notes=basis.get("采集要求", ""),
                    limit_text=row["处置时限原文"],
                    source=STANDARDS_SOURCE,
                    source_row=int(row["源表行号"]),
                    active=True,
                    sort_order=order,
                )
            )
        )
        conn.execute(
            insert(limits).values(
                standard_id=row_id, urgency="normal", amount=amount, unit=unit.value
            )
        )
        conn.execute(
            insert(limits).values(
                standard_id=row_id,
                urgency="urgent",
                amount=amount,
                unit=_CONTINUOUS_TWIN.get(unit, unit).value,
            )
        )
        report.standards += 1


# -- working calendar and stage limits ---


def _seed_calendar(conn: Connection, report: SeedReport) -> None:
    calendars, overrides, years = T["calendars"], T["calendar_overrides"], T["calendar_years"]
    row = conn.execute(select(calendars.c.id).where(calendars.c.name == DEFAULT_CALENDAR)).first()
    if row is None:
        calendar_id = new_id(
            conn.execute(
                insert(calendars).values(
                    name=DEFAULT_CALENDAR,
                    timezone=DEFAULT_TIMEZONE,
                    hours_per_workday=Decimal(8),
                    week=week_to_json(dict(DEFAULT_WEEK)),
                    makeup_windows=None,
                )
            )
        )
    else:
        calendar_id = int(row.id)
    have = {
        r.day
        for r in conn.execute(select(overrides.c.day).where(overrides.c.calendar_id == calendar_id))
    }
    known = {
        r.year for r in conn.execute(select(years.c.year).where(years.c.calendar_id == calendar_id))
    }
    seen_years: set[int] = set()
    for r in read_csv("calendar", "cn_public_holidays_2004_2026.csv"):
        day = date.fromisoformat(r["date"])
        seen_years.add(day.year)
        if day in have:
            continue
        kind = "holiday" if r["kind"] == "holiday" else "workday"
        conn.execute(
            insert(overrides).values(
                calendar_id=calendar_id, day=day, kind=kind, name=r["holiday_zh"]
            )
        )
        report.calendar_days += 1
    for year in sorted(seen_years - known):
        conn.execute(insert(years).values(calendar_id=calendar_id, year=year))
    if report.calendar_days or seen_years - known:
        bump_revision(conn)


def _seed_stage_limits(conn: Connection) -> None:
    table = T["stage_limits"]
    have = {r.stage for r in conn.execute(select(table.c.stage))}
    added = False
    for stage, limit in DEFAULT_STAGE_LIMITS.items():
        if stage.value not in have:
            conn.execute(
                insert(table).values(stage=stage.value, amount=limit.amount, unit=limit.unit.value)
            )
            added = True
    if added:
        bump_revision(conn)
