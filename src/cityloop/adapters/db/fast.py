"""Hot statements executed on the driver's cursor, with SQLAlchemy's own type conversions.

A Core statement costs about 100 µs of Python per execution in SQLAlchemy's execution context
(event dispatch, cache lookup, result-proxy setup) on top of what the driver needs; SQLite
runs a primary-key lookup in a few tens of microseconds. For the few statements every request
runs (load a case, update it, append its timeline line, check a token) this module compiles
the statement once per dialect and runs it on the DB-API cursor of the same connection (so
inside the same transaction), converting parameters and results with the bind and result
processors of the columns' SQLAlchemy types — the type system stays the one source of truth
for how a value is stored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    positional: bool
    names: tuple[str, ...]  # bind names, in order for positional paramstyles
    binds: Mapping[str, Processor]
    literals: Mapping[str, Any]  # values fixed in the statement (e.g. the 1 of ``n + 1``)
    columns: tuple[str, ...]
    types: tuple[Any, ...]  # the SQLAlchemy type of each result column


class Row:
    """Attribute access to one result row (what the mapping functions read)."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: Mapping[str, int], values: Sequence[Any]) -> None:
        self._index = index
        self._values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[self._index[name]]
        except KeyError as exc:
            raise AttributeError(name) from exc

    @property
    def _mapping(self) -> dict[str, Any]:
        return {name: self._values[i] for name, i in self._index.items()}


class FastStatement:
    """A statement compiled once per dialect and executed on the raw cursor."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        self._processors: dict[tuple[str, tuple[Any, ...]], list[Processor]] = {}
        self._lock = threading.Lock()

    def _compile(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is not None:
            return found
        with self._lock:
            # SQL compiler internals (SQLCompiler), not on the public Compiled type
            compiled: Any = self.statement.compile(dialect=dialect)
            positional = bool(compiled.positional)
            names = tuple(compiled.positiontup or ()) if positional else tuple(compiled.binds)
            binds = {
                name: bind.type._cached_bind_processor(dialect)
                for name, bind in compiled.binds.items()
            }
            literals = {
                name: bind.effective_value
                for name, bind in compiled.binds.items()
                if not bind.required and bind.callable is None and bind.value is not None
            }
            columns = tuple(c[0] for c in compiled._result_columns)
            types = tuple(c[3] for c in compiled._result_columns)
            found = _Compiled(compiled.string, positional, names, binds, literals, columns, types)
            self._compiled[dialect.name] = found
        return found

    def run(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Row]:
        c = self._compile(conn.dialect)
        params = {**c.literals, **(params or {})} if c.literals else (params or {})
        if c.positional:
            args: Any = tuple(
                proc(params[name]) if (proc := c.binds[name]) is not None else params[name]
                for name in c.names
            )
        else:
            args = {
                name: proc(params[name]) if (proc := c.binds[name]) is not None else params[name]
                for name in c.names
            }
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(c.sql, args)
            if not c.columns:
                return []
            raw = cursor.fetchall()
            codes = tuple(d[1] for d in cursor.description)
        finally:
            cursor.close()
        results = self._results(conn.dialect, c, codes)
        index = {name: i for i, name in enumerate(c.columns)}
        rows = []
        for values in raw:
            converted = [
                proc(v) if proc is not None else v for proc, v in zip(results, values, strict=True)
            ]
            rows.append(Row(index, converted))
        return rows

    def _results(self, dialect: Dialect, c: _Compiled, codes: tuple[Any, ...]) -> list[Processor]:
        """Result processors for the driver's column type codes (cached per code tuple)."""
        key = (dialect.name, codes)
        found = self._processors.get(key)
        if found is None:
            found = [
                t._cached_result_processor(dialect, code)
                for t, code in zip(c.types, codes, strict=True)
            ]
            self._processors[key] = found
        return found

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Row | None:
        rows = self.run(conn, params)
        return rows[0] if rows else None

    def scalar(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        row = self.first(conn, params)
        return None if row is None else row._values[0]
