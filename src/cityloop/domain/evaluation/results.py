"""What a fact source answers: items behind a number, centre statistics, hot spots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Item:
    """A row behind a number: a case, one of its disposal rounds, or one of its tasks."""

    case_id: int
    round: int | None = None
    department_id: int | None = None
    task_id: int | None = None


@dataclass(frozen=True, slots=True)
class StageTime:
    """Time spent in one stage by the cases whose stage ended in the period (seconds)."""

    count: int
    mean: float | None
    p90: int | None  # nearest rank: the smallest value at or above 90 % of the values


@dataclass(frozen=True, slots=True)
class CentreStats:
    throughput: dict[str, list[int]]  # step → count per local day of the period
    sources: dict[str, tuple[int, int]]  # source → (reports, filed)
    stages: dict[str, StageTime]
    satisfaction: dict[int, int]  # level 1..5 → call-backs


@dataclass(frozen=True, slots=True)
class Hotspots:
    grids: list[tuple[str, int, int]]  # grid code, filed, closed
    categories: list[tuple[int, int]]  # category id, filed
    hour_of_week: list[int]  # 168 counts: weekday × 24 + hour, Monday 0 h first
    repeats: list[tuple[str, int, list[int]]]  # grid code, category id, case ids (two or more)


STEPS = ("reported", "accepted", "filed", "dispatched", "handled", "checked", "closed")
STAGES = ("accept", "file", "dispatch", "dispose", "check", "close", "total")


@dataclass(frozen=True, slots=True)
class CountTable:
    """The base counts of every subject with any activity, by column."""

    keys: list[str]
    columns: dict[str, list[int]]

    def rows(self) -> dict[str, dict[str, int]]:
        names = list(self.columns)
        return (
            {
                key: dict(zip(names, values, strict=True))
                for key, values in zip(
                    self.keys, zip(*self.columns.values(), strict=True), strict=True
                )
            }
            if names
            else {}
        )


@dataclass(frozen=True, slots=True)
class Assembled:
    """Every subject of a report, in the order of ``keys``: its counts by column, score,
    grade, colour and rank; ``order`` lists the subjects best first."""

    columns: dict[str, Sequence[int]]
    scores: list[tuple[Decimal | None, str | None, str | None]]
    ranks: list[int | None]
    order: list[int]
