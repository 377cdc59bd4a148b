"""Administration (应用维护): stage time limits, light thresholds and the clock rules.

The form carries every value; the page turns text into typed values (field by field, so an
error points at its field) and the service checks and stores what changed. A change applies to
stages started after it; deadlines already set stay (``services.time_limits``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from cityloop.domain.errors import DomainError, ValidationError
from cityloop.domain.sla.units import TimeLimit, TimeUnit
from cityloop.entrypoints.presentation import label
from cityloop.entrypoints.web.context import Page
from cityloop.entrypoints.web.routes.admin import AdminDep
from cityloop.services import time_limits as svc

router = APIRouter(prefix="/admin", include_in_schema=False)


def _amount(value: Decimal) -> str:
    return f"{value.normalize():f}"


def form_values(settings: svc.TimeLimitSettings) -> dict[str, str]:
    """The settings as the form's text values (thresholds in percent)."""
    values: dict[str, str] = {}
    for stage, limit in settings.stage_limits.items():
        values[f"{stage.value}_amount"] = _amount(limit.amount)
        values[f"{stage.value}_unit"] = limit.unit.value
    values["yellow"] = _amount(settings.yellow * 100)
    values["red"] = _amount(settings.red * 100)
    values["refusal_amount"] = _amount(settings.refusal_window.amount)
    values["refusal_unit"] = settings.refusal_window.unit.value
    for key, number in settings.numbers.items():
        values[key] = str(number)
    return values


def _number(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise ValidationError(
            "number_invalid", "{value} is not a number", value=text.strip()
        ) from exc
    if not value.is_finite():
        raise ValidationError("number_invalid", "{value} is not a number", value=text.strip())
    return value


def _limit(values: dict[str, str], prefix: str) -> TimeLimit:
    try:
        unit = TimeUnit(values.get(f"{prefix}_unit", ""))
    except ValueError as exc:
        raise ValidationError(
            "time_unit_unknown",
            "Unknown time-limit unit {unit}; use one of {known}",
            unit=values.get(f"{prefix}_unit", ""),
            known=", ".join(u.chinese for u in TimeUnit),
        ) from exc
    return TimeLimit(_number(values.get(f"{prefix}_amount", "")), unit)


def _whole(raw: str) -> int:
    if not raw.lstrip("-").isdigit():
        raise ValidationError("whole_number_invalid", "{value} is not a whole number", value=raw)
    return int(raw)


def field_of(error: DomainError) -> str | None:
    """The form field a refusal of the service is about (None: the form as a whole)."""
    if error.code == "light_yellow_out_of_range":
        return "yellow"
    if error.code == "light_red_out_of_range":
        return "red"
    if error.code == "setting_out_of_range":
        setting = error.params.get("setting")
        return next((k for k, rule in svc.NUMBER_RULES.items() if rule[0] == setting), None)
    if error.code == "time_limit_precision" and error.params.get("field") == "Refusal window":
        return "refusal"
    return None


def _page(
    p: Page,
    *,
    values: dict[str, str] | None = None,
    field_errors: dict[str, str] | None = None,
    error: str = "",
    notice: str = "",
    status: int = 200,
) -> HTMLResponse:
    current = svc.current_settings(p.container.uow(readonly=True), actor=p.actor)
    return p.render(
        "admin/time_limits.html",
        status=status,
        stages=svc.STAGES,
        values=values or form_values(current),
        defaults=form_values(svc.DEFAULTS),
        default_limits={
            stage.value: f"{_amount(limit.amount)} {label(limit.unit, p.locale)}"
            for stage, limit in svc.DEFAULTS.stage_limits.items()
        },
        field_errors=field_errors or {},
        error=error,
        notice=notice,
        units=list(TimeUnit),
        numbers=svc.NUMBER_RULES,
    )


@router.get("/time-limits", response_class=HTMLResponse)
async def time_limits(p: AdminDep, saved: int = -1) -> HTMLResponse:
    notice = ""
    if saved == 0:
        notice = p.t("Nothing changed.")
    elif saved > 0:
        notice = p.t(
            "Saved {count} changes. They apply to stages that start from now on; deadlines"
            " already set stay as they are.",
            count=saved,
        )
    return await run_in_threadpool(_page, p, notice=notice)


@router.post("/time-limits")
async def save_time_limits(p: AdminDep, request: Request) -> Response:
    form = await request.form()
    p.check_csrf(str(form.get("_csrf", "")))
    values = {k: v.strip() for k, v in form.items() if isinstance(v, str) and k != "_csrf"}
    settings, errors = parse_form(values)
    if settings is None:
        field_errors = {name: p.message(exc) for name, exc in errors.items()}
        return await run_in_threadpool(
            _page,
            p,
            values=values,
            field_errors=field_errors,
            error=p.t("Some fields are missing or invalid"),
            status=422,
        )
    try:
        changed = await run_in_threadpool(
            svc.save_settings, p.container.uow(), settings, actor=p.actor, now=p.now
        )
    except DomainError as exc:
        field = field_of(exc)
        return await run_in_threadpool(
            _page,
            p,
            values=values,
            field_errors={field: p.message(exc)} if field else None,
            error=p.message(exc),
            status=422,
        )
    return RedirectResponse(f"/admin/time-limits?saved={len(changed)}", status_code=303)


def parse_form(
    values: dict[str, str],
) -> tuple[svc.TimeLimitSettings | None, dict[str, DomainError]]:
    """Typed settings from the form's text, or the error of each field that is wrong."""
    errors: dict[str, DomainError] = {}

    def attempt(name: str, parse: Any) -> Any:
        try:
            return parse()
        except DomainError as exc:
            errors[name] = exc
            return None

    stage_limits = {}
    for stage in svc.STAGES:
        limit = attempt(stage.value, lambda s=stage: _limit(values, s.value))
        if limit is not None:
            stage_limits[stage] = limit
    yellow = attempt("yellow", lambda: _number(values.get("yellow", "")) / 100)
    red = attempt("red", lambda: _number(values.get("red", "")) / 100)
    refusal = attempt("refusal", lambda: _limit(values, "refusal"))
    numbers = {}
    for key in svc.NUMBER_RULES:
        number = attempt(key, lambda key=key: _whole(values.get(key, "")))
        if number is not None:
            numbers[key] = number
    if errors:
        return None, errors
    settings = svc.TimeLimitSettings(
        stage_limits=stage_limits,
        yellow=yellow,
        red=red,
        refusal_window=refusal,
        numbers=numbers,
    )
    return settings, {}
