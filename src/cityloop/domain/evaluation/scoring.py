"""Composite scores (综合指标值), grades and ranks — standards.md §7.3–7.5, §7.7.

Each component gives points from 0 to 100: a rate gives 100 × rate (or 100 × (1 − rate) for a
rate where lower is better, e.g. 漏报率, 返工率, 监督举报率), a count gives the points of its
step table (受理数分值, 立案数分值 …), compared per month. The composite is the weighted mean of
the points, computed exactly and rounded half up to two decimals; the grade is read from the
rounded score (A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E below). A component whose rate is undefined
(nothing to count) is left out and the other weights scaled up, unless the scheme gives it
full points. A subject none of whose rates is defined (nothing happened to measure) gets no
score, no grade and no rank: a step table alone does not make a score.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import NamedTuple

from cityloop.domain.evaluation.indicators import BY_ID, Unit
from cityloop.domain.evaluation.scheme import (
    DEFAULT_CLASS,
    Component,
    EmptyRate,
    Op,
    Scheme,
    Transform,
)
from cityloop.domain.evaluation.subjects import SubjectKind

Value = int | Fraction | None
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Part:
    component: Component
    points: Fraction | None  # 0..100; None when left out


class Score(NamedTuple):
    value: Decimal | None
    grade: str | None
    colour: str | None
    parts: tuple[Part, ...] = ()


def component_points(
    component: Component,
    value: Value,
    scheme: Scheme,
    month_factor: Fraction,
    region_class: str | None,
) -> Fraction | None:
    """The points (0..100) one component gives for the indicator ``value``."""
    if component.transform is Transform.STEP:
        table = scheme.tables[component.table or ""]
        if value is None:
            return None
        return Fraction(table.points(Fraction(value) * month_factor, region_class))
    if value is None:
        return Fraction(100) if scheme.empty_rate is EmptyRate.FULL else None
    rate = Fraction(value)
    if component.transform is Transform.INVERSE_RATE:
        rate = 1 - rate
    return 100 * rate


def round_score(exact: Fraction) -> Decimal:
    """Half up to two decimals, exactly."""
    cents = exact * 100
    whole = (cents.numerator * 2 + cents.denominator) // (cents.denominator * 2)
    return (Decimal(whole) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def score(
    kind: SubjectKind,
    values: Mapping[str, Value],
    scheme: Scheme,
    month_factor: Fraction,
    region_class: str | None = None,
) -> Score:
    """The composite score and grade of one subject from its indicator values."""
    parts = tuple(
        Part(c, component_points(c, values.get(c.indicator), scheme, month_factor, region_class))
        for c in scheme.components[kind]
    )
    if not any(p.points is not None and p.component.transform is not Transform.STEP for p in parts):
        return Score(None, None, None, parts)  # nothing happened that a rate could measure
    weight = Fraction(0)
    total = Fraction(0)
    for part in parts:
        if part.points is None:
            continue
        w = Fraction(part.component.weight)
        weight += w
        total += w * part.points
    if weight == 0:
        return Score(None, None, None, parts)
    value = round_score(total / weight)
    band = scheme.grade(value)
    return Score(value, band.grade if band else None, band.colour if band else None, parts)


def ranks(scores: Sequence[Decimal | None]) -> list[int | None]:
    """Competition ranks (1, 2, 2, 4) by descending score; unscored subjects are unranked."""
    ordered = sorted((s for s in scores if s is not None), reverse=True)
    first: dict[Decimal, int] = {}
    for position, s in enumerate(ordered, start=1):
        first.setdefault(s, position)
    return [first[s] if s is not None else None for s in scores]


def rank_values(values: Sequence[Value], higher_is_better: bool) -> list[int | None]:
    """Competition ranks of any indicator's values, best first."""
    defined = [Fraction(v) for v in values if v is not None]
    ordered = sorted(defined, reverse=higher_is_better)
    first: dict[Fraction, int] = {}
    for position, v in enumerate(ordered, start=1):
        first.setdefault(v, position)
    return [first[Fraction(v)] if v is not None else None for v in values]


# -- the same composite for many subjects, in integers ---


def _linear(indicator_id: str) -> list[tuple[str, int]]:
    """A count as a sum of base counts with coefficients (derived counts flattened)."""
    found = BY_ID.get(indicator_id)
    if found is None or found.numerator is None:
        return [(indicator_id, 1)]
    if found.unit is not Unit.COUNT:
        raise ValueError(f"{indicator_id} is not a count")
    out = _linear(found.numerator)
    if found.minus is not None:
        out += [(name, -coef) for name, coef in _linear(found.minus)]
    if found.plus is not None:
        out += _linear(found.plus)
    return out


Getter = Callable[[Mapping[str, int]], int]


def _getter(terms: list[tuple[str, int]]) -> Getter:
    """A function summing ``coef × counts[name]`` (the common single term made cheap)."""
    if len(terms) == 1 and terms[0][1] == 1:
        name = terms[0][0]
        return lambda counts: counts.get(name, 0)
    if len(terms) == 2 and terms[0][1] == 1 and terms[1][1] == 1:
        a, b = terms[0][0], terms[1][0]
        return lambda counts: counts.get(a, 0) + counts.get(b, 0)
    frozen = tuple(terms)
    return lambda counts: sum(counts.get(name, 0) * coef for name, coef in frozen)


@dataclass(frozen=True, slots=True)
class Plan:
    """One component, ready to compute: terms of its numerator and denominator."""

    weight: int  # hundredths of a percent
    transform: Transform
    top: Getter
    bottom: Getter | None  # None for a plain count
    scale: int
    table: str | None
    top_terms: tuple[tuple[str, int], ...]
    bottom_terms: tuple[tuple[str, int], ...]


def _rational(value: Decimal | Fraction) -> tuple[int, int]:
    f = Fraction(value)
    return f.numerator, f.denominator


class Scorer:
    """:func:`score` (value, grade and colour; no parts) for many subjects of one kind, with
    integer arithmetic only: exact, and fast enough for tens of thousands of unit grids."""

    def __init__(self, kind: SubjectKind, scheme: Scheme, month_factor: Fraction) -> None:
        self.scheme = scheme
        self.factor = (month_factor.numerator, month_factor.denominator)
        self.plans: list[Plan] = []
        for c in scheme.components[kind]:
            ind = BY_ID[c.indicator]
            weight = int(Fraction(c.weight) * 100)
            if ind.numerator is None or ind.unit is Unit.COUNT:
                top, bottom, scale = _linear(ind.id), [], 1
            else:
                top, bottom, scale = (
                    _linear(ind.numerator),
                    _linear(ind.denominator or ""),
                    ind.scale,
                )
            self.plans.append(
                Plan(
                    weight, c.transform, _getter(top), _getter(bottom) if bottom else None, scale,
                    c.table, tuple(top), tuple(bottom),
                )
            )  # fmt: skip
        self.steps = {
            table_id: {
                name: tuple((s.op, s.bound.numerator, s.bound.denominator, s.points) for s in steps)
                for name, steps in table.classes.items()
            }
            for table_id, table in scheme.tables.items()
        }
        self.otherwise = {t.id: t.otherwise for t in scheme.tables.values()}
        self.bands = [(int(b.minimum * 100), b) for b in scheme.grades]

    def _step(self, table: str, top: int, bottom: int, region_class: str | None) -> int:
        """Points of ``top / bottom × month factor`` in a step table."""
        classes = self.steps[table]
        steps = classes.get(region_class or DEFAULT_CLASS) or next(iter(classes.values()))
        fn, fd = self.factor
        for op, bn, bd, points in steps:
            left, right = top * fn * bd, bn * bottom * fd  # value (op) bound, cross-multiplied
            if op is Op.LT:
                hit = left < right
            elif op is Op.LE:
                hit = left <= right
            elif op is Op.EQ:
                hit = left == right
            elif op is Op.GE:
                hit = left >= right
            else:
                hit = left > right
            if hit:
                return points
        return self.otherwise[table]

    def __call__(
        self, counts: Mapping[str, int], region_class: str | None = None
    ) -> tuple[Decimal | None, str | None, str | None]:
        num, den, weight = 0, 1, 0  # Σ weight × points = num / den
        rated = False
        full = self.scheme.empty_rate is EmptyRate.FULL
        for plan in self.plans:
            top = plan.top(counts)
            if plan.transform is Transform.STEP:
                if plan.bottom is not None:
                    bottom = plan.bottom(counts)
                    if bottom == 0:
                        continue
                    p = self._step(plan.table or "", top * plan.scale, bottom, region_class)
                else:
                    p = self._step(plan.table or "", top, 1, region_class)
                num += plan.weight * p * den
                weight += plan.weight
                continue
            bottom = plan.bottom(counts) if plan.bottom is not None else 0
            if bottom == 0:
                if not full:
                    continue
                p, q = 100, 1
            else:
                top *= plan.scale
                p = 100 * (bottom - top if plan.transform is Transform.INVERSE_RATE else top)
                q = bottom
            rated = True
            num = num * q + plan.weight * p * den
            den *= q
            weight += plan.weight
        if not rated or weight == 0:
            return None, None, None
        # score = num / (den × weight); in hundredths, rounded half up
        cents_den = den * weight
        cents = (2 * 100 * num + cents_den) // (2 * cents_den)
        value = Decimal(cents).scaleb(-2)
        for minimum, band in self.bands:
            if cents >= minimum:
                return value, band.grade, band.colour
        last = self.bands[-1][1]
        return value, last.grade, last.colour
