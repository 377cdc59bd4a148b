"""Scoring schemes (考核方案): composite weights, step tables and grade bands, as data.

A scheme is versioned; an administrator edits a draft and publishes it with the first day it
applies from. A period is scored with the latest published version that applies at the
period's first day, and a frozen report keeps the version it was scored with.

The defaults are standards.md §7.3–7.5 (S4's implementation) with the correction noted in
§7.5: the region composite's last weight is 40 %, not 10 % (the four weights must add up to
100 %), and only 监督举报率 is inverted, not 结案率 and 按期结案率. 派遣数分值 has no published
thresholds (GAP); its default repeats 受理数分值's until a city sets its own.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from cityloop.domain.errors import Msg, ValidationError
from cityloop.domain.evaluation.indicators import BY_ID, SHOWN, Unit
from cityloop.domain.evaluation.subjects import REGION_KINDS, SubjectKind

DEFAULT_CLASS = "default"


class Transform(enum.StrEnum):
    RATE = "rate"  # points = 100 × rate
    INVERSE_RATE = "inverse_rate"  # points = 100 × (1 − rate)
    STEP = "step"  # points from a step table (e.g. 受理数分值)


class Op(enum.StrEnum):
    LT = "<"
    LE = "<="
    EQ = "=="
    GE = ">="
    GT = ">"

    def test(self, value: Fraction, bound: Fraction) -> bool:
        if self is Op.LT:
            return value < bound
        if self is Op.LE:
            return value <= bound
        if self is Op.EQ:
            return value == bound
        if self is Op.GE:
            return value >= bound
        return value > bound


class EmptyRate(enum.StrEnum):
    """How a component is scored when its rate is undefined (nothing to count)."""

    SKIP = "skip"  # left out; the other weights are scaled up to 100 %
    FULL = "full"  # full points


@dataclass(frozen=True, slots=True)
class Step:
    op: Op
    bound: Fraction
    points: int


@dataclass(frozen=True, slots=True)
class StepTable:
    """Steps tried in order; the first that holds gives the points, else ``otherwise``.

    Counts are compared per month (a period's count × its month factor). A table may have one
    list of steps per region class (一类/二类区域, §7.5); others use the class ``default``.
    """

    id: str
    classes: Mapping[str, tuple[Step, ...]]
    otherwise: int = 0

    def points(self, value: Fraction, region_class: str | None = None) -> int:
        steps = self.classes.get(region_class or DEFAULT_CLASS)
        if steps is None:
            steps = next(iter(self.classes.values()))
        for step in steps:
            if step.op.test(value, step.bound):
                return step.points
        return self.otherwise


@dataclass(frozen=True, slots=True)
class Component:
    indicator: str
    weight: Decimal  # percent
    transform: Transform
    table: str | None = None


@dataclass(frozen=True, slots=True)
class GradeBand:
    grade: str
    minimum: Decimal  # the score from which the grade applies
    colour: str


@dataclass(frozen=True, slots=True)
class Scheme:
    version: int
    name: str
    effective_from: date
    components: Mapping[SubjectKind, tuple[Component, ...]]
    tables: Mapping[str, StepTable]
    grades: tuple[GradeBand, ...]
    region_classes: Mapping[str, str] = field(default_factory=dict)  # code prefix → class
    default_region_class: str = "2"
    empty_rate: EmptyRate = EmptyRate.SKIP

    def region_class(self, code: str | None) -> str | None:
        """The class of a region: its own entry, else the entry of the nearest region above."""
        if code is None:
            return None
        if not self.region_classes:
            return self.default_region_class
        for size in (15, 12, 9, 6):
            found = self.region_classes.get(code[:size]) if len(code) >= size else None
            if found is not None:
                return found
        return self.default_region_class

    def grade(self, score: Decimal | None) -> GradeBand | None:
        if score is None:
            return None
        for band in self.grades:
            if score >= band.minimum:
                return band
        return self.grades[-1]


TABLE_LABELS = {
    "intake_points": Msg("Intake count points"),
    "dispatch_points": Msg("Dispatch count points"),
    "department_filed_points": Msg("Department case-count points"),
    "region_filed_points": Msg("Region case-count points"),
}


def _steps(*rows: tuple[str, int | str, int]) -> tuple[Step, ...]:
    return tuple(Step(Op(op), Fraction(str(bound)), points) for op, bound, points in rows)


_WORKLOAD = _steps(
    (">=", 2001, 100), (">=", 1201, 90), (">=", 501, 75), (">=", 301, 60), (">=", 101, 40)
)

DEFAULT_SCHEME = Scheme(
    version=1,
    name="GB/T 30428.4 / standards.md §7 (S4), region weights corrected",
    effective_from=date(2000, 1, 1),
    components={
        SubjectKind.INSPECTOR: (
            Component("valid_report_rate", Decimal(40), Transform.RATE),
            Component("miss_rate", Decimal(20), Transform.INVERSE_RATE),
            Component("verify_in_time_rate", Decimal(20), Transform.RATE),
            Component("check_in_time_rate", Decimal(20), Transform.RATE),
        ),
        SubjectKind.OPERATOR: (
            Component("intake", Decimal(25), Transform.STEP, "intake_points"),
            Component("verify_send_rate", Decimal(40), Transform.RATE),
            Component("check_send_rate", Decimal(35), Transform.RATE),
        ),
        SubjectKind.SHIFT_LEAD: (
            Component("file_in_time_rate", Decimal(25), Transform.RATE),
            Component("accurate_file_rate", Decimal(40), Transform.RATE),
            Component("close_in_time_rate", Decimal(35), Transform.RATE),
        ),
        SubjectKind.DISPATCHER: (
            Component("dispatched", Decimal(20), Transform.STEP, "dispatch_points"),
            Component("dispatch_in_time_rate", Decimal(40), Transform.RATE),
            Component("accurate_dispatch_rate", Decimal(40), Transform.RATE),
        ),
        SubjectKind.DEPARTMENT: (
            Component("assigned", Decimal(10), Transform.STEP, "department_filed_points"),
            Component("close_rate", Decimal(30), Transform.RATE),
            Component("on_time_rate", Decimal(30), Transform.RATE),
            Component("rework_rate", Decimal(30), Transform.INVERSE_RATE),
        ),
        **{
            kind: (
                Component("public_rate", Decimal(10), Transform.INVERSE_RATE),
                Component("filed_per_grid", Decimal(20), Transform.STEP, "region_filed_points"),
                Component("region_close_rate", Decimal(30), Transform.RATE),
                Component("on_time_close_rate", Decimal(40), Transform.RATE),
            )
            for kind in (*REGION_KINDS, SubjectKind.CENTRE)
        },
    },
    tables={
        "intake_points": StepTable("intake_points", {DEFAULT_CLASS: _WORKLOAD}),
        "dispatch_points": StepTable("dispatch_points", {DEFAULT_CLASS: _WORKLOAD}),
        "department_filed_points": StepTable(
            "department_filed_points",
            {
                DEFAULT_CLASS: _steps(
                    ("<=", 50, 100), ("<=", 100, 90), ("<=", 200, 75), ("<=", 500, 60),
                    ("<=", 1000, 40),
                )
            },
        ),
        "region_filed_points": StepTable(
            "region_filed_points",
            {
                "1": _steps(("==", 0, 100), ("<", 3, 90), ("<", 5, 75), ("<", 7, 60), ("<", 9, 40)),
                "2": _steps(
                    ("==", 0, 100), ("<", 4, 90), ("<", 6, 75), ("<", 8, 60), ("<", 10, 40)
                ),
            },
        ),
    },
    grades=(
        GradeBand("A", Decimal(90), "#2e7d32"),
        GradeBand("B", Decimal(75), "#1565c0"),
        GradeBand("C", Decimal(60), "#f9a825"),
        GradeBand("D", Decimal(40), "#ef6c00"),
        GradeBand("E", Decimal(0), "#c62828"),
    ),
)  # fmt: skip


# -- JSON form (stored in the database, edited through the API) ---


def to_json(scheme: Scheme) -> dict[str, Any]:
    """The editable body of a scheme (version, name and date are kept beside it)."""
    return {
        "components": {
            kind.value: [
                {
                    "indicator": c.indicator,
                    "weight": str(c.weight),
                    "transform": c.transform.value,
                    **({"table": c.table} if c.table else {}),
                }
                for c in comps
            ]
            for kind, comps in scheme.components.items()
        },
        "tables": {
            table.id: {
                "classes": {
                    name: [[s.op.value, _number(s.bound), s.points] for s in steps]
                    for name, steps in table.classes.items()
                },
                "otherwise": table.otherwise,
            }
            for table in scheme.tables.values()
        },
        "grades": [[g.grade, str(g.minimum), g.colour] for g in scheme.grades],
        "region_classes": dict(scheme.region_classes),
        "default_region_class": scheme.default_region_class,
        "empty_rate": scheme.empty_rate.value,
    }


def _number(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return str(Decimal(value.numerator) / Decimal(value.denominator))


def _decimal(value: Any, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(
            "scheme_invalid",
            "Scoring scheme: {what} must be a number, got {value}",
            what=what,
            value=value,
        ) from None
    if not number.is_finite():
        raise ValidationError(
            "scheme_invalid",
            "Scoring scheme: {what} must be a number, got {value}",
            what=what,
            value=value,
        )
    return number


def from_json(body: Mapping[str, Any], *, version: int, name: str, effective_from: date) -> Scheme:
    """Read and check a scheme body; every mistake is refused with ``scheme_invalid``."""
    if not isinstance(body, Mapping):
        raise ValidationError("scheme_invalid", "Scoring scheme: the body must be an object")
    tables: dict[str, StepTable] = {}
    for table_id, raw in dict(body.get("tables") or {}).items():
        classes: dict[str, tuple[Step, ...]] = {}
        for class_name, rows in dict(raw.get("classes") or {}).items():
            steps = []
            for row in rows:
                if not isinstance(row, Sequence) or len(row) != 3:
                    raise ValidationError(
                        "scheme_invalid",
                        "Scoring scheme: a step of table {table} needs an operator, a bound and"
                        " points",
                        table=table_id,
                    )
                try:
                    op = Op(str(row[0]))
                except ValueError:
                    raise ValidationError(
                        "scheme_invalid",
                        "Scoring scheme: unknown operator {op} in table {table}",
                        op=row[0],
                        table=table_id,
                    ) from None
                bound = Fraction(str(_decimal(row[1], f"{table_id} bound")))
                points = _decimal(row[2], f"{table_id} points")
                if points != points.to_integral_value() or not 0 <= points <= 100:
                    raise ValidationError(
                        "scheme_invalid",
                        "Scoring scheme: points of table {table} must be whole numbers from 0"
                        " to 100",
                        table=table_id,
                    )
                steps.append(Step(op, bound, int(points)))
            classes[str(class_name)] = tuple(steps)
        if not classes:
            raise ValidationError(
                "scheme_invalid", "Scoring scheme: table {table} has no steps", table=table_id
            )
        otherwise = _decimal(raw.get("otherwise", 0), f"{table_id} otherwise")
        if otherwise != otherwise.to_integral_value() or not 0 <= otherwise <= 100:
            raise ValidationError(
                "scheme_invalid",
                "Scoring scheme: points of table {table} must be whole numbers from 0 to 100",
                table=table_id,
            )
        tables[str(table_id)] = StepTable(str(table_id), classes, int(otherwise))

    components: dict[SubjectKind, tuple[Component, ...]] = {}
    raw_components = dict(body.get("components") or {})
    for kind in SubjectKind:
        rows = raw_components.get(kind.value)
        if not rows:
            raise ValidationError(
                "scheme_invalid",
                "Scoring scheme: no composite is given for {kind}",
                kind=kind.value,
            )
        parts = []
        for row in rows:
            ind = str(row.get("indicator", ""))
            if ind not in SHOWN[kind]:
                raise ValidationError(
                    "scheme_invalid",
                    "Scoring scheme: indicator {indicator} is not evaluated for {kind}",
                    indicator=ind,
                    kind=kind.value,
                )
            try:
                transform = Transform(str(row.get("transform", "")))
            except ValueError:
                raise ValidationError(
                    "scheme_invalid",
                    "Scoring scheme: transform {transform} is unknown; use rate, inverse_rate"
                    " or step",
                    transform=row.get("transform"),
                ) from None
            unit = BY_ID[ind].unit
            table = row.get("table")
            if transform is Transform.STEP:
                if table not in tables:
                    raise ValidationError(
                        "scheme_invalid",
                        "Scoring scheme: step table {table} does not exist",
                        table=table,
                    )
                if unit is Unit.RATE:
                    raise ValidationError(
                        "scheme_invalid",
                        "Scoring scheme: {indicator} is a rate; score it as a rate",
                        indicator=ind,
                    )
            elif unit is not Unit.RATE:
                raise ValidationError(
                    "scheme_invalid",
                    "Scoring scheme: {indicator} is not a rate; score it by a step table",
                    indicator=ind,
                )
            weight = _decimal(row.get("weight"), f"{kind.value} weight")
            if weight <= 0:
                raise ValidationError("scheme_invalid", "Scoring scheme: weights must be positive")
            parts.append(Component(ind, weight, transform, str(table) if table else None))
        total = sum((p.weight for p in parts), Decimal(0))
        if total != 100:
            raise ValidationError(
                "scheme_invalid",
                "Scoring scheme: the weights of {kind} add up to {total} %, not 100 %",
                kind=kind.value,
                total=str(total),
            )
        components[kind] = tuple(parts)

    grades = []
    for row in body.get("grades") or ():
        if not isinstance(row, Sequence) or len(row) != 3:
            raise ValidationError(
                "scheme_invalid",
                "Scoring scheme: a grade needs a letter, a minimum score and a colour",
            )
        grades.append(GradeBand(str(row[0]), _decimal(row[1], "grade minimum"), str(row[2])))
    if not grades:
        raise ValidationError("scheme_invalid", "Scoring scheme: there are no grades")
    minimums = [g.minimum for g in grades]
    if minimums != sorted(minimums, reverse=True) or len(set(minimums)) != len(minimums):
        raise ValidationError(
            "scheme_invalid", "Scoring scheme: grades must be listed from the highest minimum down"
        )
    if minimums[-1] > 0:
        raise ValidationError("scheme_invalid", "Scoring scheme: the lowest grade must start at 0")

    region_classes = {str(k): str(v) for k, v in dict(body.get("region_classes") or {}).items()}
    for code in region_classes:
        if len(code) not in (6, 9, 12, 15) or not code.isdigit():
            raise ValidationError(
                "scheme_invalid", "Scoring scheme: {code} is not a region code", code=code
            )
    try:
        empty = EmptyRate(str(body.get("empty_rate", EmptyRate.SKIP.value)))
    except ValueError:
        raise ValidationError(
            "scheme_invalid", "Scoring scheme: empty_rate must be skip or full"
        ) from None
    return Scheme(
        version=version,
        name=name,
        effective_from=effective_from,
        components=components,
        tables=tables,
        grades=tuple(grades),
        region_classes=region_classes,
        default_region_class=str(body.get("default_region_class", "2")),
        empty_rate=empty,
    )
