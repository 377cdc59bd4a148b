"""A report as the writers see it: already translated text, numbers and colours.

The entry points build it (they know the language); ``xlsx`` and ``pdf`` lay it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Cell:
    value: str | int | float | None
    kind: str = "text"  # text | count | rate | ratio | score
    fill: str | None = None  # background colour, "#rrggbb"

    def text(self) -> str:
        if self.value is None:
            return "—"
        if self.kind == "rate" and isinstance(self.value, int | float):
            return f"{self.value * 100:.2f}%"
        if self.kind in ("ratio", "score") and isinstance(self.value, int | float):
            return f"{self.value:.2f}"
        return str(self.value)


@dataclass(frozen=True, slots=True)
class Table:
    columns: list[str]
    rows: list[list[Cell]]
    first_width: float = 3.0  # the first column is this many times as wide as the others


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    lines: list[str] = field(default_factory=list)
    table: Table | None = None


@dataclass(frozen=True, slots=True)
class Document:
    title: str
    lines: list[str]
    sections: list[Section]
    language: str = "zh_CN"
    footer: str = ""
