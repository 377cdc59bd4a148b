"""Long-lived geo indexes of one database, shared by every unit of work of the process.

The address matcher and the map-layer caches are built from the database on first use and kept
per engine (the composition root owns the engine; a unit of work finds its indexes here).
"""

from __future__ import annotations

import threading
import weakref

from sqlalchemy import Engine

from cityloop.adapters.geo.case_layer import SqlMapLayers
from cityloop.adapters.geo.geocoder import AddressMatcher

_LOCK = threading.Lock()
_GEOCODERS: weakref.WeakKeyDictionary[Engine, AddressMatcher] = weakref.WeakKeyDictionary()
_MAPS: weakref.WeakKeyDictionary[Engine, SqlMapLayers] = weakref.WeakKeyDictionary()


def geocoder_for(engine: Engine) -> AddressMatcher:
    with _LOCK:
        found = _GEOCODERS.get(engine)
        if found is None:
            found = _GEOCODERS[engine] = AddressMatcher(engine)
        return found


def map_layers_for(engine: Engine) -> SqlMapLayers:
    with _LOCK:
        found = _MAPS.get(engine)
        if found is None:
            found = _MAPS[engine] = SqlMapLayers(engine)
        return found


def forget(engine: Engine) -> None:
    """Drop the indexes of an engine (tests that rebuild a database under the same engine)."""
    with _LOCK:
        _GEOCODERS.pop(engine, None)
        _MAPS.pop(engine, None)
