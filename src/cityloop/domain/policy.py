"""Policy values an administrator may change (rules of the house: policy is data).

The defaults follow ``standards.md`` §5.4 and §6.2:

- extension (延期): at most 2 approved extensions, each adding the original disposal limit,
  requested only before the case is overdue (运城);
- suspension (挂账): the chosen end date is at most 12 months ahead (运城);
- refusal to sign (拒签): the window is 1 working day, but never longer than the disposal
  limit itself (Geone: 1 working day if the limit exceeds 6 h, else the limit);
- feedback (处理反馈) carries evidence: by default at least one attachment;
- lights: yellow from 80 %, red past 100 % of the stage limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from cityloop.domain.sla.lights import LightThresholds
from cityloop.domain.sla.stages import DEFAULT_STAGE_LIMITS, Stage
from cityloop.domain.sla.units import TimeLimit, TimeUnit


@dataclass(frozen=True, slots=True)
class Policy:
    max_extensions: int = 2
    max_suspension_months: int = 12
    refusal_window: TimeLimit = TimeLimit(Decimal(1), TimeUnit.WORK_DAY)
    feedback_min_attachments: int = 1
    lights: LightThresholds = LightThresholds()
    stage_limits: Mapping[Stage, TimeLimit] = field(
        default_factory=lambda: dict(DEFAULT_STAGE_LIMITS)
    )

    def stage_limit(self, stage: Stage) -> TimeLimit | None:
        return self.stage_limits.get(stage)


DEFAULT_POLICY = Policy()
