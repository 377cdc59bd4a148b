"""Workflow stages (环节) and their default time limits.

Reference: ``standards.md`` §6.2 and §13.5: 受理 15 min, 派遣 15 min, 核实/核查 30 min are the
limits seen in practice (运城, eGova); 立案 and 结案 default to 30 min here. The disposal stage
(处置) has no stage limit: its limit comes from the filing standard row chosen at filing (立案),
per urgency. Stage limits are policy data; these are only the seed values.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal

from cityloop.domain.sla.units import TimeLimit, TimeUnit


class Stage(enum.StrEnum):
    ACCEPT = "accept"  # 受理
    VERIFY = "verify"  # 核实
    FILE = "file"  # 立案
    DISPATCH = "dispatch"  # 派遣
    DISPOSE = "dispose"  # 处置
    CHECK = "check"  # 核查
    CLOSE = "close"  # 结案


def _minutes(n: int) -> TimeLimit:
    return TimeLimit(Decimal(n), TimeUnit.MINUTE)


DEFAULT_STAGE_LIMITS: Mapping[Stage, TimeLimit] = {
    Stage.ACCEPT: _minutes(15),
    Stage.VERIFY: _minutes(30),
    Stage.FILE: _minutes(30),
    Stage.DISPATCH: _minutes(15),
    Stage.CHECK: _minutes(30),
    Stage.CLOSE: _minutes(30),
}
