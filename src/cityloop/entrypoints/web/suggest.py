"""Typeahead for class pickers: Chinese, codes and pinyin initials ("jg" → 井盖) all match."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cityloop.domain.taxonomy import Category

REFRESH_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Entry:
    category: Category
    initials: str  # 供水井盖异常 → gsjgyc
    spelled: str  # gongshuijinggaiyichang


def _entry(category: Category) -> Entry:
    # pypinyin loads a large dictionary (about a second): only when a typeahead is first used.
    from pypinyin import Style, lazy_pinyin

    initials = "".join(lazy_pinyin(category.name, style=Style.FIRST_LETTER)).lower()
    spelled = "".join(lazy_pinyin(category.name)).lower()
    return Entry(category, initials, spelled)


class ClassIndex:
    """The current classes with their pinyin, rebuilt at most once a minute (an administrator
    may add or rename classes)."""

    def __init__(self, load: Callable[[], list[Category]]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        self._built = float("-inf")

    def entries(self) -> list[Entry]:
        with self._lock:
            if time.monotonic() - self._built > REFRESH_SECONDS:
                self._entries = [_entry(c) for c in self._load() if c.active]
                self._built = time.monotonic()
            return self._entries

    def match(self, text: str, limit: int = 12) -> list[Category]:
        """Classes for what was typed, best first.

        Pinyin initials are ambiguous ("jg": 井盖 and 景观), so among initials matches the
        Chinese term they stand for counts: a term shared by many classes (井盖: twenty kinds
        of manhole cover) is what an operator most likely means.
        """
        query = text.strip().lower().replace(" ", "")
        if not query:
            return []
        entries = self.entries()
        ranked: list[tuple[int, int, str, Category]] = []
        shared_by: dict[str, int] = {}
        for e in entries:
            c = e.category
            rank, term = None, ""
            if query.isdigit():
                rank = 0 if c.code.startswith(query) else None
            elif query.isascii():
                at = e.initials.find(query)
                if at >= 0:
                    rank = 1 if at == 0 else 2
                    if len(e.initials) == len(c.name):
                        term = c.name[at : at + len(query)]
                elif e.spelled.startswith(query):
                    rank = 1
                elif query in e.spelled:
                    rank = 3
            elif c.name.startswith(query):
                rank = 0
            elif query in c.name:
                rank = 1
            elif query in c.major_name:
                rank = 4
            if rank is not None:
                if term and term not in shared_by:
                    shared_by[term] = sum(term in other.category.name for other in entries)
                shared = shared_by.get(term, 0)
                ranked.append((-shared, rank, c.code, c))
        ranked.sort(key=lambda r: (r[0], r[1], r[2]))
        return [c for *_, c in ranked[:limit]]
