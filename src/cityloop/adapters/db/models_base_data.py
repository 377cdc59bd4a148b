"""Tables of base data and geocoding (grid layers, addresses …), on the shared ``Base``."""

from __future__ import annotations
