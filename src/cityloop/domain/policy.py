"""Policy values an administrator may change (rules of the house: policy is data).

The defaults follow ``standards.md`` §5.4 and §6.2:

- extension (延期): at most 2 approved extensions, each adding the original disposal limit,
  requested only before the case is overdue (运城);
- suspension (挂账): the chosen end date is at most 12 months ahead (运城);
- refusal to sign (拒签): the window is 1 working day, but never longer than the disposal
  limit itself (Geone: 1 working day if the limit exceeds 6 h, else the limit);
- feedback (处理反馈) carries evidence: by default at least one attachment;
- lights: yellow from 80 %, red past 100 % of the stage limit;
- possible duplicates (疑似重复) shown while registering a report: open cases of the same
  class within 50 m reported in the last 7 days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from cityloop.domain.errors import ValidationError
from cityloop.domain.sla.lights import LightThresholds
from cityloop.domain.sla.stages import DEFAULT_STAGE_LIMITS, Stage
from cityloop.domain.sla.units import TimeLimit, TimeUnit, parse_time_limit


@dataclass(frozen=True, slots=True)
class Policy:
    max_extensions: int = 2
    max_suspension_months: int = 12
    refusal_window: TimeLimit = TimeLimit(Decimal(1), TimeUnit.WORK_DAY)
    feedback_min_attachments: int = 1
    lights: LightThresholds = LightThresholds()
    duplicate_radius_m: int = 50
    duplicate_window_days: int = 7
    stage_limits: Mapping[Stage, TimeLimit] = field(
        default_factory=lambda: dict(DEFAULT_STAGE_LIMITS)
    )

    def stage_limit(self, stage: Stage) -> TimeLimit | None:
        return self.stage_limits.get(stage)


DEFAULT_POLICY = Policy()


POLICY_KEYS = (
    "max_extensions",
    "max_suspension_months",
    "refusal_window",
    "feedback_min_attachments",
    "light_yellow",
    "light_red",
    "duplicate_radius_m",
    "duplicate_window_days",
)


def policy_from_values(
    values: Mapping[str, object], stage_limits: Mapping[Stage, TimeLimit] | None = None
) -> Policy:
    """A policy from stored key → value pairs (unknown keys refused, missing ones default)."""
    unknown = set(values) - set(POLICY_KEYS)
    if unknown:
        raise ValidationError(
            "policy_key_unknown",
            "Unknown policy setting {keys}",
            keys=", ".join(sorted(unknown)),
        )
    base = DEFAULT_POLICY
    limits = dict(base.stage_limits)
    limits.update(stage_limits or {})

    def integer(key: str, default: int, low: int, high: int) -> int:
        raw = values.get(key, default)
        try:
            number = int(str(raw))
        except ValueError as exc:
            raise ValidationError(
                "policy_value_invalid", "Policy setting {key} needs a number", key=key
            ) from exc
        if not low <= number <= high:
            raise ValidationError(
                "policy_value_out_of_range",
                "Policy setting {key} must lie between {low} and {high}",
                key=key,
                low=low,
                high=high,
            )
        return number

    refusal = values.get("refusal_window")
    return Policy(
        max_extensions=integer("max_extensions", base.max_extensions, 0, 10),
        max_suspension_months=integer("max_suspension_months", base.max_suspension_months, 1, 36),
        refusal_window=parse_time_limit(str(refusal)) if refusal else base.refusal_window,
        feedback_min_attachments=integer(
            "feedback_min_attachments", base.feedback_min_attachments, 0, 20
        ),
        lights=LightThresholds(
            Decimal(str(values.get("light_yellow", base.lights.yellow))),
            Decimal(str(values.get("light_red", base.lights.red))),
        ),
        duplicate_radius_m=integer("duplicate_radius_m", base.duplicate_radius_m, 5, 2000),
        duplicate_window_days=integer("duplicate_window_days", base.duplicate_window_days, 1, 365),
        stage_limits=limits,
    )
