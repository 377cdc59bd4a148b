"""Hot statements executed on the driver's cursor, with SQLAlchemy's own type conversions.

A Core statement costs about 100 µs of Python per execution in SQLAlchemy's execution context
(event dispatch, cache lookup, result-proxy setup) on top of what the driver needs; SQLite
runs a primary-key lookup in a few tens of microseconds. For the few statements every request
runs (load a case, update it, append its timeline line, check a token) this module compiles
the statement once per dialect and runs it on the DB-API cursor of the same connection (so
inside the same transaction), converting parameters and results with the bind and result
processors of the columns' SQLAlchemy types — the type system stays the one source of truth
for how a value is stored.

Statements run here bypass SQLAlchemy's ``before_cursor_execute`` events; an error of the
driver surfaces as SQLAlchemy's wrapped exception (``IntegrityError`` …) like any statement.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any] | None
_UNKNOWN: Any = object()


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    positional: bool
    binds: tuple[tuple[str, Processor], ...]  # bind name and its processor, in order
    literals: Mapping[str, Any]  # values fixed in the statement (e.g. the 1 of ``n + 1``)
    columns: tuple[str, ...]
    index: Mapping[str, int]  # result column name → position
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

    def __getitem__(self, position: int) -> Any:
        return self._values[position]

    @property
    def _mapping(self) -> dict[str, Any]:
        return dict(zip(self._index, self._values, strict=True))


class FastStatement:
    """A statement compiled once per dialect and executed on the raw cursor."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        self._processors: dict[str, tuple[Processor, ...] | None] = {}
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
            binds = tuple(
                (name, compiled.binds[name].type._cached_bind_processor(dialect)) for name in names
            )
            literals = {
                name: bind.effective_value
                for name, bind in compiled.binds.items()
                if not bind.required and bind.callable is None and bind.value is not None
            }
            columns = tuple(c[0] for c in compiled._result_columns)
            types = tuple(c[3] for c in compiled._result_columns)
            index = {name: i for i, name in enumerate(columns)}
            found = _Compiled(compiled.string, positional, binds, literals, columns, index, types)
            self._compiled[dialect.name] = found
        return found

    def _raw(self, conn: Connection, params: Mapping[str, Any] | None) -> tuple[_Compiled, Any]:
        """Execute; the compiled form and the cursor, left open when it has rows."""
        dialect = conn.dialect
        c = self._compile(dialect)
        if c.literals:
            params = {**c.literals, **(params or {})}
        elif params is None:
            params = {}
        if c.positional:
            args: Any = [
                params[name] if proc is None else proc(params[name]) for name, proc in c.binds
            ]
        else:
            args = {
                name: params[name] if proc is None else proc(params[name]) for name, proc in c.binds
            }
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(c.sql, args)
        except dialect.loaded_dbapi.Error as error:
            cursor.close()
            raise exc.DBAPIError.instance(
                c.sql, args, error, dialect.loaded_dbapi.Error, dialect=dialect
            ) from error
        except BaseException:
            cursor.close()
            raise
        return c, cursor

    def run(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Row]:
        c, cursor = self._raw(conn, params)
        try:
            if not c.columns:
                return []
            raw = cursor.fetchall()
            results = self._processors.get(conn.dialect.name, _UNKNOWN)
            if results is _UNKNOWN:
                results = self._results(conn.dialect, c, cursor.description)
        finally:
            cursor.close()
        index = c.index
        if results is None:
            return [Row(index, values) for values in raw]
        return [
            Row(
                index,
                [v if proc is None else proc(v) for proc, v in zip(results, values, strict=True)],
            )
            for values in raw
        ]

    def execute(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Run a statement without result rows; the number of rows it changed."""
        _c, cursor = self._raw(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def _results(
        self, dialect: Dialect, c: _Compiled, description: Sequence[Any]
    ) -> tuple[Processor, ...] | None:
        """Result processors for the driver's column type codes, found on the first run (a
        statement's columns keep their types); None when no column needs one."""
        found = tuple(
            t._cached_result_processor(dialect, d[1])
            for t, d in zip(c.types, description, strict=True)
        )
        result = found if any(p is not None for p in found) else None
        self._processors[dialect.name] = result
        return result

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Row | None:
        rows = self.run(conn, params)
        return rows[0] if rows else None

    def scalar(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        row = self.first(conn, params)
        return None if row is None else row._values[0]
