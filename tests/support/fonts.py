"""The CJK font the PDF exports embed: the tests that read a PDF back need one installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityloop.adapters.evaluation.fonts import CANDIDATES


def cjk_font() -> str:
    """The installed CJK font's path; fails the test (never skips it) when there is none."""
    found = next((p for p in CANDIDATES if Path(p).is_file()), None)
    if found is None:
        pytest.fail("no CJK font is installed: apt install fonts-noto-cjk (.ci/run does)")
    return found
