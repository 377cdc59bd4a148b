"""The process-wide in-memory copy of a database's evaluation facts.

One :class:`FactCache` per database engine. Asking for the engine costs one small query while
nothing changed; after a refresh only the blocks whose version moved are read again, and the
tables are put together anew (a concatenation, about 0.2 s per million cases).
"""

from __future__ import annotations

import threading
import weakref

from sqlalchemy import Connection
from sqlalchemy import Engine as SqlEngine

from cityloop.adapters.evaluation import columns, store
from cityloop.adapters.evaluation.engine import Engine, FactArrays


class FactCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: tuple[str, int] | None = None
        self._blocks: dict[tuple[str, int], tuple[int, columns.Columns]] = {}
        self._engine = Engine(FactArrays.empty())

    def engine(self, conn: Connection) -> Engine:
        token = store.blocks_version(conn)
        with self._lock:
            if token == self._token:
                return self._engine
            if self._token is None or token[0] != self._token[0]:
                self._blocks = {}
            versions = store.block_versions(conn)
            wanted = [k for k, v in versions.items() if self._blocks.get(k, (None,))[0] != v]
            self._blocks = {k: v for k, v in self._blocks.items() if k in versions}
            self._blocks.update(store.load_blocks(conn, wanted))
            tables = {}
            for name in columns.TABLES:
                parts = [
                    cols for (table, _), (_, cols) in sorted(self._blocks.items()) if table == name
                ]
                tables[name] = columns.concat(parts, name)
            self._engine = Engine(FactArrays(tables))
            self._token = token
            return self._engine


_CACHES: weakref.WeakKeyDictionary[SqlEngine, FactCache] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def cache_for(engine: SqlEngine) -> FactCache:
    with _GUARD:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = FactCache()
        return cache
