"""Tables of the comprehensive evaluation (schemes, frozen results …), on the shared ``Base``."""

from __future__ import annotations
