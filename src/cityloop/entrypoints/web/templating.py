"""Jinja2 for the pages: translations, times in the city's zone, lights, masked phones."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from cityloop.domain.roles import Role
from cityloop.domain.sla.lights import Light
from cityloop.domain.sla.stages import Stage
from cityloop.domain.sla.units import Clock
from cityloop.domain.workflow import Action
from cityloop.entrypoints.i18n import gettext
from cityloop.entrypoints.presentation import (
    colour,
    indicator_basis,
    indicator_formula,
    label,
    mask_phone,
    stored_label,
)

TEMPLATES = Path(str(resources.files("cityloop") / "entrypoints" / "web" / "templates"))

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def local_time(value: datetime | None, tz: tzinfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(tz).strftime(fmt)


def duration(us: int | None, locale: str, clock: Clock | None = None) -> str:
    """A compact duration: 1天3小时 / 1d 3h, 2小时5分 / 2h 5m, 12分 / 12m. Time on the
    working clock is counted in working hours, never in days of 24 hours: 20工作时13分 /
    20 working h 13m (a working day has as many hours as the calendar's windows)."""
    if us is None:
        return ""
    minutes = abs(int(us)) // 60_000_000
    zh = locale.startswith("zh")
    if clock is Clock.WORKING:
        hours, mins = divmod(minutes, 60)
        parts = [f"{hours}工作时" if zh else f"{hours} working h"] if hours else []
    else:
        days, rest = divmod(minutes, 1440)
        hours, mins = divmod(rest, 60)
        parts = []
        if days:
            parts.append(f"{days}天" if zh else f"{days}d")
        if hours:
            parts.append(f"{hours}小时" if zh else f"{hours}h")
    if mins or not parts:
        parts.append(f"{mins}分" if zh else f"{mins}m")
    return ("" if zh else " ").join(parts[:2])


def _enum_label(enum_type: Any, locale: str) -> Any:
    return lambda value: stored_label(enum_type, value, locale)


def amount(value: Any) -> str:
    """4.00 → 4, 1.50 → 1.5: a time limit's amount as people write it."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return str(value)


def render(
    name: str, *, locale: str, tz: tzinfo, now: datetime | None = None, **context: Any
) -> str:
    template = env.get_template(name)

    def _(text: str, **params: Any) -> str:
        translated = gettext(text, locale)
        return translated.format(**params) if params else translated

    return template.render(
        _=_,
        locale=locale,
        label=lambda value: label(value, locale),
        colour=colour,
        t=lambda value, fmt="%Y-%m-%d %H:%M": local_time(value, tz, fmt),
        dur=lambda us, clock=None: duration(us, locale, clock),
        age=lambda value: (
            duration(int((now - value).total_seconds() * 1e6), locale)
            if now is not None and value is not None
            else ""
        ),
        mask=mask_phone,
        amount=amount,
        formula=lambda indicator: indicator_formula(indicator, locale),
        basis=lambda indicator: indicator_basis(indicator, locale),
        lights=list(Light),
        action_label=_enum_label(Action, locale),
        role_label=_enum_label(Role, locale),
        stage_label=_enum_label(Stage, locale),
        **context,
    )
