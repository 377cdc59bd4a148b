"""How enumerations are shown: one place maps each value to its label and colour.

Labels are English message ids, translated through the locale catalogs (zh_CN first); pages,
the API and generated documents all take them from here (DESIGN.md, rule 5).
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from cityloop.domain.case import CaseState, CloseType, Source, TaskKind, Urgency, VerifyResult
from cityloop.domain.codes import ClassKind, Edition
from cityloop.domain.errors import DomainError, Msg
from cityloop.domain.evaluation.indicators import Unit
from cityloop.domain.evaluation.indicators import indicator as by_id
from cityloop.domain.evaluation.scoring import round_score
from cityloop.domain.roles import Role
from cityloop.domain.sla.lights import Light
from cityloop.domain.sla.stages import Stage
from cityloop.domain.sla.units import TimeUnit
from cityloop.domain.workflow import Action, Target
from cityloop.entrypoints.i18n import gettext

STATE_LABELS: Mapping[CaseState, tuple[str, str]] = {
    CaseState.REPORTED: ("Awaiting acceptance", "#607d8b"),
    CaseState.VERIFYING: ("Being verified", "#8d6e63"),
    CaseState.VERIFIED: ("Verified", "#795548"),
    CaseState.SELF_HANDLED: ("Self-handled, awaiting review", "#009688"),
    CaseState.PENDING_FILING: ("Awaiting filing", "#3f51b5"),
    CaseState.VOID_REQUESTED: ("Void requested", "#9e9e9e"),
    CaseState.PENDING_DISPATCH: ("Awaiting dispatch", "#2196f3"),
    CaseState.PENDING_SUB_DISPATCH: ("Awaiting district dispatch", "#03a9f4"),
    CaseState.DISPATCHED: ("Awaiting signature", "#00bcd4"),
    CaseState.HANDLING: ("Being handled", "#ff9800"),
    CaseState.RETURN_REQUESTED: ("Return requested", "#ff5722"),
    CaseState.EXTENSION_REQUESTED: ("Extension requested", "#ffb300"),
    CaseState.SUSPENSION_REQUESTED: ("Suspension requested", "#a1887f"),
    CaseState.SUSPENDED: ("Suspended", "#757575"),
    CaseState.HANDLED: ("Handled, awaiting check", "#8bc34a"),
    CaseState.CHECKING: ("Being checked", "#9ccc65"),
    CaseState.CHECK_FAILED: ("Check failed", "#e53935"),
    CaseState.PENDING_CLOSE: ("Awaiting closing", "#43a047"),
    CaseState.CLOSED: ("Closed", "#2e7d32"),
    CaseState.REJECTED: ("Not filed", "#bdbdbd"),
    CaseState.VOIDED: ("Voided", "#bdbdbd"),
    CaseState.MERGED: ("Merged", "#bdbdbd"),
}

ACTION_LABELS: Mapping[Action, str] = {
    Action.REPORT: "Report",
    Action.REPORT_SELF_HANDLED: "Report as self-handled",
    Action.APPROVE_SELF_HANDLING: "Approve self-handling",
    Action.REJECT_SELF_HANDLING: "Reject self-handling",
    Action.ACCEPT: "Accept",
    Action.REQUEST_VERIFY: "Send for verification",
    Action.COMPLETE_VERIFY: "Report verification",
    Action.REJECT: "Do not file",
    Action.MERGE: "Merge as duplicate",
    Action.VOID: "Void",
    Action.REQUEST_VOID: "Request voiding",
    Action.APPROVE_VOID: "Approve voiding",
    Action.REJECT_VOID: "Reject voiding",
    Action.FILE: "File",
    Action.DISPATCH: "Dispatch",
    Action.DISPATCH_TO_DISTRICT: "Dispatch to district centre",
    Action.SEND_BACK: "Send back to city centre",
    Action.SIGN: "Sign for",
    Action.REFUSE: "Refuse",
    Action.FEEDBACK: "Report back",
    Action.REQUEST_RETURN: "Request return",
    Action.APPROVE_RETURN: "Approve return",
    Action.REJECT_RETURN: "Reject return",
    Action.REQUEST_EXTENSION: "Request extension",
    Action.APPROVE_EXTENSION: "Approve extension",
    Action.REJECT_EXTENSION: "Reject extension",
    Action.REQUEST_SUSPENSION: "Request suspension",
    Action.APPROVE_SUSPENSION: "Approve suspension",
    Action.REJECT_SUSPENSION: "Reject suspension",
    Action.RESUME: "Resume",
    Action.REQUEST_CHECK: "Send for check",
    Action.PASS_CHECK: "Check passed",
    Action.FAIL_CHECK: "Check failed",
    Action.REWORK: "Rework",
    Action.CLOSE: "Close",
    Action.SUPERVISE: "Supervise",
    Action.REMIND: "Remind",
    Action.CALLBACK: "Record call-back",
}

TARGET_LABELS: Mapping[Target, str] = {
    Target.SAME: "(state unchanged)",
    Target.RESUME: "(the state before the request)",
    Target.DISPATCH_QUEUE: "(the dispatch queue it came from: city or district)",
}

ROLE_LABELS: Mapping[Role, str] = {
    Role.INSPECTOR: "Inspector",
    Role.OPERATOR: "Operator",
    Role.SHIFT_LEAD: "Shift lead",
    Role.DISPATCHER: "Dispatcher",
    Role.HANDLER: "Department",
    Role.LEADER: "Leader",
    Role.ADMIN: "Administrator",
    Role.CITIZEN: "Citizen",
    Role.SYSTEM: "System",
}

SOURCE_LABELS: Mapping[Source, str] = {
    Source.INSPECTOR: "Inspector report",
    Source.HOTLINE_12345: "Hotline 12345",
    Source.HOTLINE_12319: "Hotline 12319",
    Source.PUBLIC: "Public report",
    Source.MEDIA: "Media",
    Source.LEADER: "Leader's order",
    Source.SENSOR: "Sensor alarm",
    Source.VIDEO: "Video discovery",
}

STAGE_LABELS: Mapping[Stage, str] = {
    Stage.ACCEPT: "Acceptance",
    Stage.VERIFY: "Verification",
    Stage.FILE: "Filing",
    Stage.DISPATCH: "Dispatch",
    Stage.DISPOSE: "Disposal",
    Stage.CHECK: "Check",
    Stage.CLOSE: "Closing",
}

LIGHT_LABELS: Mapping[Light, tuple[str, str]] = {
    Light.GREEN: ("On time", "#2e7d32"),
    Light.YELLOW: ("Due soon", "#f9a825"),
    Light.RED: ("Overdue", "#c62828"),
}

CLOSE_TYPE_LABELS: Mapping[CloseType, str] = {
    CloseType.NORMAL: "Normal close",
    CloseType.OVERDUE: "Overdue close",
    CloseType.ERROR: "Error close",
    CloseType.SPECIAL: "Special close",
}

URGENCY_LABELS: Mapping[Urgency, str] = {Urgency.NORMAL: "Normal", Urgency.URGENT: "Urgent"}

VERIFY_RESULT_LABELS: Mapping[VerifyResult, str] = {
    VerifyResult.CONFIRMED: "Confirmed on site",
    VerifyResult.NOT_FOUND: "Not found on site",
}

UNIT_LABELS: Mapping[TimeUnit, str] = {
    TimeUnit.URGENT_WORK_HOUR: "urgent working hours",
    TimeUnit.URGENT_WORK_DAY: "urgent working days",
    TimeUnit.WORK_HOUR: "working hours",
    TimeUnit.WORK_DAY: "working days",
    TimeUnit.NATURAL_DAY: "natural days",
    TimeUnit.HOUR: "hours",
    TimeUnit.MINUTE: "minutes",
}

TASK_LABELS: Mapping[TaskKind, str] = {TaskKind.VERIFY: "Verify", TaskKind.CHECK: "Check"}

KIND_LABELS: Mapping[ClassKind, str] = {
    ClassKind.COMPONENT: "Component",
    ClassKind.MATTER: "Matter",
    ClassKind.EVENT: "Event",
}

EDITION_LABELS: Mapping[Edition, str] = {
    Edition.CURRENT: "GB/T 47678.5-2026 (current)",
    Edition.LEGACY: "GB/T 30428.2-2013 (legacy)",
}

_ALL: Mapping[Any, Mapping[Any, Any]] = {
    CaseState: STATE_LABELS,
    Action: ACTION_LABELS,
    Target: TARGET_LABELS,
    Role: ROLE_LABELS,
    Source: SOURCE_LABELS,
    Stage: STAGE_LABELS,
    Light: LIGHT_LABELS,
    CloseType: CLOSE_TYPE_LABELS,
    Urgency: URGENCY_LABELS,
    VerifyResult: VERIFY_RESULT_LABELS,
    TimeUnit: UNIT_LABELS,
    TaskKind: TASK_LABELS,
    ClassKind: KIND_LABELS,
    Edition: EDITION_LABELS,
}


def message_id(value: enum.Enum) -> str:
    entry = _ALL[type(value)][value]
    return entry[0] if isinstance(entry, tuple) else str(entry)


def label(value: enum.Enum, locale: str) -> str:
    """The translated label of an enumeration value."""
    return gettext(message_id(value), locale)


def stored_label(enum_type: type[enum.Enum], value: Any, locale: str) -> str:
    """The label of a value as stored (a member or its value); the value itself when it is
    not one of the enumeration's (an old row's code), "" for None."""
    if value is None:
        return ""
    try:
        member = enum_type(getattr(value, "value", value))
    except ValueError:
        return str(value)
    return label(member, locale)


def colour(value: CaseState | Light) -> str:
    entry = _ALL[type(value)][value]
    assert isinstance(entry, tuple)
    return str(entry[1])


def all_message_ids() -> list[str]:
    return [message_id(v) for enum_type in _ALL for v in enum_type]


# Error parameters that name an enumeration value are shown by their label.
_PARAM_ENUMS: Mapping[str, Any] = {
    "state": CaseState,
    "role": Role,
    "action": Action,
    "source": Source,
    "urgency": Urgency,
}


def error_message(error: DomainError, locale: str) -> str:
    """An error's message in ``locale``: template and parameters translated."""
    shown = dict(error.params)
    for key, enum_type in _PARAM_ENUMS.items():
        value = shown.get(key)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                shown[key] = label(enum_type(value), locale)
    view = DomainError(error.code, error.template, **shown)
    return view.render(gettext(error.template, locale), lambda text: gettext(text, locale))


# Roles that need the reporter's phone number (to call back); others see it masked.
PHONE_ROLES = frozenset({Role.OPERATOR, Role.SHIFT_LEAD, Role.ADMIN})


def mask_phone(phone: str) -> str:
    """138****5678: enough to recognise a number, not to call it."""
    if len(phone) <= 4:
        return "*" * len(phone)
    keep = 3 if len(phone) >= 11 else 2
    return phone[:keep] + "*" * (len(phone) - keep - 4) + phone[-4:]


def reporter_phone(case: Any, actor: Any) -> str:
    """The reporter's phone as ``actor`` may see it (whole for the call-back roles and for
    the reporter themself, masked for everyone else)."""
    phone: str = case.reporter_phone
    if actor.role in PHONE_ROLES or (actor.user_id and actor.user_id == case.reporter_user_id):
        return phone
    return mask_phone(phone)


def indicator_formula(indicator: Any, locale: str) -> str:
    """An evaluation indicator's formula in ``locale``: described ones are message ids; the
    standard's own ratios (有效上报数 / 上报数) are spelled from their parts' labels outside
    Chinese."""
    formula = indicator.formula
    if isinstance(formula, Msg):
        return gettext(formula, locale)
    if locale.startswith("zh") or indicator.numerator is None:
        return str(formula)
    parts = [
        (sign, name)
        for sign, name in (
            ("", indicator.numerator),
            (" − ", indicator.minus),
            (" + ", indicator.plus),
            (" / ", indicator.denominator),
        )
        if name
    ]
    try:
        return "".join(sign + gettext(by_id(name).label, locale) for sign, name in parts)
    except DomainError:  # a part that is a raw count, not an indicator (e.g. area_m2)
        return str(formula)


# The basis of an indicator, by the clause of the project's reference its definition follows:
# the standard (and its part) a person can look up, and the kind of evaluation.
BASIS_LABELS: Mapping[str, str] = {
    "§2": Msg("GB/T 30428.1, unit grids"),
    "§5.4": Msg("GB/T 30428, workflow"),
    "§7.2": Msg("GB/T 30428.4, count indicators"),
    "§7.3": Msg("GB/T 30428.4, post evaluation"),
    "§7.4": Msg("GB/T 30428.4, department evaluation"),
    "§7.5": Msg("GB/T 30428.4, region evaluation"),
    "§7.6": Msg("Centre statistics"),
}


def indicator_basis(indicator: Any, locale: str) -> str:
    """Where an indicator's definition comes from, in ``locale`` (pages, API, exports)."""
    label = BASIS_LABELS.get(indicator.reference)
    return gettext(label, locale) if label is not None else str(indicator.reference)


def show_value(value: int | Fraction | None, unit: Unit) -> str:
    """A value as a report writes it: counts whole, rates in per cent with two decimals,
    ratios with two decimals (half up, exactly); "—" for a rate over zero."""
    if value is None:
        return "—"
    if unit is Unit.COUNT:
        return f"{int(value):,}"
    if unit is Unit.RATE:
        return f"{round_score(Fraction(value) * 100)}%"
    return str(round_score(Fraction(value)))
