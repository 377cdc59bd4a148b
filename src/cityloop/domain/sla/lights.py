"""Warning lights (红黄绿灯) for a stage's time use.

Reference: ``standards.md`` §6.2 (Unicom practice): green while less than 80 % of the stage
limit is used, yellow from 80 % up to the deadline, red once the deadline has passed. The two
thresholds are policy data (defaults 0.8 and 1.0).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from cityloop.domain.errors import ValidationError


class Light(enum.StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True, slots=True)
class LightThresholds:
    """Fractions of the limit: yellow from ``yellow``; red when used exceeds ``red``."""

    yellow: Decimal = Decimal("0.8")
    red: Decimal = Decimal("1.0")

    def __post_init__(self) -> None:
        if not (Decimal(0) < self.yellow <= self.red):
            raise ValidationError(
                "light_thresholds_invalid",
                "The yellow threshold ({yellow}) must be above 0 and not above the red"
                " threshold ({red})",
                yellow=str(self.yellow),
                red=str(self.red),
            )


def light(used_us: int, limit_us: int, thresholds: LightThresholds = LightThresholds()) -> Light:
    """The light for ``used_us`` of a ``limit_us`` stage limit (both on the limit's clock)."""
    if limit_us <= 0:
        return Light.RED if used_us > 0 else Light.GREEN
    # Compare as integers: used / limit > red  ⇔  used > red × limit.
    if Decimal(used_us) > thresholds.red * limit_us:
        return Light.RED
    if Decimal(used_us) >= thresholds.yellow * limit_us:
        return Light.YELLOW
    return Light.GREEN
