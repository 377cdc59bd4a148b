"""Administering stage time limits, light thresholds and the other clock rules (环节时限).

Reference: ``standards.md`` §6.2. Each stage of the loop except disposal has a limit (the
disposal limit comes from the filing standard chosen at filing); the lights turn yellow at a
share of the limit and red past another. These are policy data (``domain.policy``).

A change applies to stages that start after it: a case stores its stage and disposal
deadlines when their clocks start, so a new limit never moves a deadline already set. The
cached policy of every process is invalidated through the ``sla`` revision counter, so the
next case gets the new limit without a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from cityloop.domain.audit import Change
from cityloop.domain.errors import Msg, PermissionDeniedError, ValidationError
from cityloop.domain.policy import DEFAULT_POLICY, Policy
from cityloop.domain.roles import Actor, Role
from cityloop.domain.sla.stages import DEFAULT_STAGE_LIMITS, Stage
from cityloop.domain.sla.units import TimeLimit
from cityloop.services import audit
from cityloop.services.ports import UnitOfWork

# The stages that have a stage limit, in the order of the loop.
STAGES: tuple[Stage, ...] = tuple(s for s in Stage if s in DEFAULT_STAGE_LIMITS)
MAX_AMOUNT = Decimal("99999999")
YELLOW_RANGE = (Decimal("0.01"), Decimal("1"))
RED_RANGE = (Decimal("0.01"), Decimal("3"))

# Whole-number rules: key → (label message id, lowest, highest), as domain.policy checks them.
NUMBER_RULES: dict[str, tuple[Msg, int, int]] = {
    "max_extensions": (Msg("Extensions allowed per case"), 0, 10),
    "max_suspension_months": (Msg("Longest suspension (months)"), 1, 36),
    "feedback_min_attachments": (Msg("Photos required with a feedback"), 0, 20),
}


def _admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise PermissionDeniedError("admin_only", "Only an administrator may do this")


@dataclass(frozen=True, slots=True)
class TimeLimitSettings:
    """Everything the time-limits page edits."""

    stage_limits: Mapping[Stage, TimeLimit]
    yellow: Decimal  # share of the limit used when the light turns yellow (0.8 = 80 %)
    red: Decimal  # share of the limit used past which it is red (1.0 = the deadline)
    refusal_window: TimeLimit
    numbers: Mapping[str, int] = field(default_factory=dict)  # NUMBER_RULES keys


def settings_of(policy: Policy) -> TimeLimitSettings:
    return TimeLimitSettings(
        stage_limits={s: policy.stage_limits[s] for s in STAGES if s in policy.stage_limits},
        yellow=policy.lights.yellow,
        red=policy.lights.red,
        refusal_window=policy.refusal_window,
        numbers={
            "max_extensions": policy.max_extensions,
            "max_suspension_months": policy.max_suspension_months,
            "feedback_min_attachments": policy.feedback_min_attachments,
        },
    )


DEFAULTS = settings_of(DEFAULT_POLICY)


def current_settings(uow: UnitOfWork, *, actor: Actor) -> TimeLimitSettings:
    _admin(actor)
    with uow:
        return settings_of(uow.sla.policy())


def _check_limit(limit: TimeLimit, what: Msg) -> None:
    amount = limit.amount
    if amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(
            "time_limit_precision",
            "{field}: a time limit has at most two decimals and stays below 100000000",
            field=what,
        )


def _percent(value: Decimal) -> str:
    return f"{(value * 100).normalize():f} %"


def check_settings(settings: TimeLimitSettings) -> None:
    """Refuse settings the clocks could not work with (nothing is written)."""
    for stage, limit in settings.stage_limits.items():
        if stage not in STAGES:
            raise ValidationError(
                "stage_without_limit",
                "The disposal stage takes its limit from the filing standard, not from here",
            )
        _check_limit(limit, Msg("Stage limit"))
    _check_limit(settings.refusal_window, Msg("Refusal window"))
    low, high = YELLOW_RANGE
    if not low <= settings.yellow <= high:
        raise ValidationError(
            "light_yellow_out_of_range",
            "The yellow light starts between {low} and {high} of the limit",
            low=_percent(low),
            high=_percent(high),
        )
    low, high = RED_RANGE
    if not settings.yellow <= settings.red <= high:
        raise ValidationError(
            "light_red_out_of_range",
            "The red light starts between the yellow threshold ({yellow}) and {high} of the limit",
            yellow=_percent(settings.yellow),
            high=_percent(high),
        )
    for key, value in settings.numbers.items():
        if key not in NUMBER_RULES:
            raise ValidationError("policy_key_unknown", "Unknown policy setting {keys}", keys=key)
        what, lowest, highest = NUMBER_RULES[key]
        if not lowest <= value <= highest:
            raise ValidationError(
                "setting_out_of_range",
                "{setting} must lie between {low} and {high}",
                setting=what,
                low=lowest,
                high=highest,
            )


def save_settings(
    uow: UnitOfWork, settings: TimeLimitSettings, *, actor: Actor, now: datetime
) -> list[str]:
    """Store what differs from the current settings; returns the keys changed (stage values
    and policy keys). Deadlines already set are left as they are."""
    _admin(actor)
    check_settings(settings)
    changed: list[str] = []
    with uow:
        current = settings_of(uow.sla.policy())
        for stage, limit in settings.stage_limits.items():
            before = current.stage_limits.get(stage)
            if before == limit:
                continue
            uow.sla.set_stage_limit(stage, limit)
            _log(uow, actor, now, "stage_limit", stage.value, before, limit)
            changed.append(stage.value)
        # The policy is checked whole after each value is stored (yellow ≤ red): write red
        # first, unless the new red lies below the current yellow.
        lights: list[tuple[str, Any, Any]] = [
            ("light_red", current.red, settings.red),
            ("light_yellow", current.yellow, settings.yellow),
        ]
        if settings.red < current.yellow:
            lights.reverse()
        values = [
            *lights,
            ("refusal_window", current.refusal_window, settings.refusal_window),
            *((key, current.numbers.get(key), value) for key, value in settings.numbers.items()),
        ]
        for key, before, after in values:
            if before == after:
                continue
            stored = str(after) if isinstance(after, Decimal | TimeLimit) else after
            uow.sla.set_policy_value(key, stored)
            _log(uow, actor, now, "policy", key, before, after)
            changed.append(key)
        uow.commit()
    return changed


def _text(value: Any) -> Any:
    if isinstance(value, TimeLimit):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _log(
    uow: UnitOfWork, actor: Actor, now: datetime, entity: str, key: str, before: Any, after: Any
) -> None:
    audit.record(
        uow,
        actor,
        now,
        entity=entity,
        key=key,
        change=Change.UPDATE,
        before={"value": _text(before)},
        after={"value": _text(after)},
        summary=f"{key}: {_text(before)} → {_text(after)}",
    )
