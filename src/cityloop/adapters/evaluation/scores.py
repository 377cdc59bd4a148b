"""Composite scores of many subjects at once (numpy): the integer :class:`Scorer` of the
domain, vectorised. Points and weights are summed in floating point; wherever the score lands
within 10⁻⁶ of a rounding boundary (x.xx5) the subject is scored again exactly with the
domain's integer scorer, so the result is always the exact one (tested)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from cityloop.domain.evaluation.results import Assembled, CountTable
from cityloop.domain.evaluation.rules import BASE_COUNTS
from cityloop.domain.evaluation.scheme import DEFAULT_CLASS, EmptyRate, Op, Scheme, Transform
from cityloop.domain.evaluation.scoring import Scorer
from cityloop.domain.evaluation.subjects import SubjectKind

Arr = npt.NDArray[Any]
Result = tuple[Decimal | None, str | None, str | None]


def _terms(cols: Mapping[str, Arr], terms: Sequence[tuple[str, int]], n: int) -> Arr:
    out = np.zeros(n, dtype=np.int64)
    for name, coef in terms:
        values = cols.get(name)
        if values is not None:
            out += coef * values
    return out


def _compare(op: Op, left: Arr, right: Arr) -> Arr:
    result: Arr
    if op is Op.LT:
        result = left < right
    elif op is Op.LE:
        result = left <= right
    elif op is Op.EQ:
        result = left == right
    elif op is Op.GE:
        result = left >= right
    else:
        result = left > right
    return result


def score_columns(
    kind: SubjectKind,
    columns: Mapping[str, Sequence[int] | Arr],
    scheme: Scheme,
    month_factor: Fraction,
    region_classes: Sequence[str | None] | None = None,
) -> list[Result]:
    scorer = Scorer(kind, scheme, month_factor)
    n = len(next(iter(columns.values()))) if columns else 0
    if n == 0:
        return []
    cols = {name: np.asarray(values, dtype=np.int64) for name, values in columns.items()}
    classes = np.asarray(
        [c or DEFAULT_CLASS for c in region_classes] if region_classes is not None
        else [DEFAULT_CLASS] * n, dtype=object,
    )  # fmt: skip
    fn, fd = month_factor.numerator, month_factor.denominator
    total = np.zeros(n, dtype=np.float64)
    weight = np.zeros(n, dtype=np.int64)
    rated = np.zeros(n, dtype=bool)
    full = scheme.empty_rate is EmptyRate.FULL
    for plan in scorer.plans:
        top = _terms(cols, plan.top_terms, n)
        bottom = _terms(cols, plan.bottom_terms, n) if plan.bottom_terms else np.ones(n, np.int64)
        if plan.transform is Transform.STEP:
            defined = bottom != 0
            table = scheme.tables[plan.table or ""]
            points = np.full(n, table.otherwise, dtype=np.int64)
            for name in np.unique(classes).tolist():
                steps = table.classes.get(name) or next(iter(table.classes.values()))
                members = classes == name
                left = top * plan.scale * fn
                right_base = bottom * fd
                chosen = np.zeros(n, dtype=bool)
                for step in steps:
                    bn, bd = step.bound.numerator, step.bound.denominator
                    hit = members & ~chosen & _compare(step.op, left * bd, bn * right_base)
                    points[hit] = step.points
                    chosen |= hit
            value = points.astype(np.float64)
        else:
            defined = bottom != 0
            safe = np.where(defined, bottom, 1)
            scaled = top * plan.scale
            share = (safe - scaled if plan.transform is Transform.INVERSE_RATE else scaled) / safe
            value = 100.0 * share
            if full:
                value = np.where(defined, value, 100.0)
                defined = np.ones(n, dtype=bool)
            rated |= defined
        total += np.where(defined, plan.weight * value, 0.0)
        weight += np.where(defined, plan.weight, 0)
    scored = rated & (weight > 0)
    x = np.where(scored, 100.0 * total / np.where(weight > 0, weight, 1), 0.0)
    cents = np.floor(x + 0.5).astype(np.int64)
    near = scored & (np.abs(x - np.floor(x) - 0.5) < 1e-6)
    # Grade bands from the highest minimum down: the first band the score reaches.
    minima = np.array([int(b.minimum * 100) for b in scheme.grades], dtype=np.int64)
    band_of = np.searchsorted(-minima, -cents, side="left")
    band_of = np.minimum(band_of, len(minima) - 1)
    grades = [(b.grade, b.colour) for b in scheme.grades]
    out: list[Result] = [
        (Decimal(c).scaleb(-2), *grades[g]) if ok else (None, None, None)
        for c, g, ok in zip(cents.tolist(), band_of.tolist(), scored.tolist(), strict=True)
    ]
    if near.any():
        names = list(cols)
        for i in np.flatnonzero(near).tolist():
            row = {name: int(cols[name][i]) for name in names}
            out[i] = scorer(row, str(classes[i]))
    return out


def assemble(
    kind: SubjectKind,
    keys: Sequence[str],
    table: CountTable,
    extra: Mapping[str, Sequence[int]],
    scheme: Scheme,
    month_factor: Fraction,
    region_classes: Sequence[str | None] | None = None,
) -> Assembled:
    """Counts aligned to ``keys`` (zero where a subject had nothing), scores, ranks, order."""
    n = len(keys)
    position = {key: i for i, key in enumerate(keys)}
    where = np.fromiter((position[k] for k in table.keys), dtype=np.int64, count=len(table.keys))
    cols: dict[str, Arr] = {}
    for name in BASE_COUNTS[kind]:
        column = np.zeros(n, dtype=np.int64)
        if len(where):
            column[where] = np.asarray(table.columns[name], dtype=np.int64)
        cols[name] = column
    for name, values in extra.items():
        cols[name] = np.asarray(values, dtype=np.int64)
    scores = score_columns(kind, cols, scheme, month_factor, region_classes)
    cents = np.fromiter(
        (int(v * 100) if v is not None else -1 for v, _, _ in scores), dtype=np.int64, count=n
    )
    ranked = cents >= 0
    ascending = np.sort(cents[ranked])
    above = len(ascending) - np.searchsorted(ascending, cents, side="right")
    ranks = [
        int(r) + 1 if ok else None for r, ok in zip(above.tolist(), ranked.tolist(), strict=True)
    ]
    order_key = np.where(ranked, above, n + 1)
    order = np.lexsort((np.arange(n), order_key)).tolist()
    return Assembled({name: c.tolist() for name, c in cols.items()}, scores, ranks, order)
