"""A case's clock right now: its stage, deadline, time used and left, and its light.

Reference: ``standards.md`` §6.2. The allowed time of the current stage is what lies between
the stage's start and its deadline on the stage's clock, less any suspension (挂账) inside it:
for the disposal stage that is the disposal limit plus approved extensions. While a case is
suspended its clock stands at the moment of suspension.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from cityloop.domain.case import Case, CaseState
from cityloop.domain.policy import Policy
from cityloop.domain.sla.clock import Clocks
from cityloop.domain.sla.lights import Light, light
from cityloop.domain.sla.stages import Stage
from cityloop.domain.sla.units import Clock


@dataclass(frozen=True, slots=True)
class StageStatus:
    stage: Stage
    deadline: datetime
    clock: Clock
    allowed_us: int
    used_us: int
    remaining_us: int
    light: Light
    paused: bool

    @property
    def overdue(self) -> bool:
        return self.remaining_us < 0


def yellow_at(
    start: datetime,
    deadline: datetime,
    kind: Clock,
    clocks: Clocks,
    policy: Policy,
    paused_us: int = 0,
) -> datetime:
    """The instant the stage light turns yellow (``policy.lights.yellow`` of the allowed time
    used). Stored with the stage so that queues can filter by light in SQL."""
    clock = clocks.of(kind)
    end = clock.position(deadline)
    allowed = end - clock.position(start) - paused_us
    threshold = math.ceil(policy.lights.yellow * allowed)  # exact on Decimal
    return clock.instant(end - allowed + threshold)


def stage_status(case: Case, now: datetime, clocks: Clocks, policy: Policy) -> StageStatus | None:
    """The status of ``case``'s current stage at ``now`` (None when no stage clock runs)."""
    if case.stage is None or case.stage_started_at is None or case.stage_deadline is None:
        return None
    stage = Stage(case.stage)
    paused_us = 0
    if stage is Stage.DISPOSE:
        if case.disposal_limit is None:
            return None
        kind = case.disposal_limit.clock
        paused_us = case.disposal_paused_us
    else:
        limit = policy.stage_limit(stage)
        kind = limit.clock if limit is not None else Clock.CONTINUOUS
    suspended = case.state is CaseState.SUSPENDED and case.suspended_at is not None
    at = case.suspended_at if suspended and case.suspended_at is not None else now
    clock = clocks.of(kind)
    start = clock.position(case.stage_started_at)
    allowed = clock.position(case.stage_deadline) - start - paused_us
    remaining = clock.position(case.stage_deadline) - clock.position(at)
    used = allowed - remaining
    return StageStatus(
        stage=stage,
        deadline=case.stage_deadline,
        clock=kind,
        allowed_us=allowed,
        used_us=used,
        remaining_us=remaining,
        light=light(used, allowed, policy.lights),
        paused=suspended,
    )
