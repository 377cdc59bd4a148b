"""Action forms of the case page, derived from the API's action bodies.

Each action of ``api.routes.cases.ACTIONS`` has a pydantic body; its fields become form
fields here (one way to describe an action's input). Values come back from the browser as
strings and are validated by the same model, so a page and an API client meet the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from cityloop.domain.case import CloseType, Urgency, VerifyResult
from cityloop.domain.errors import Msg
from cityloop.domain.workflow import Action
from cityloop.entrypoints.api.routes.cases import ACTIONS

# field name → (widget, label, hint)
WIDGETS: dict[str, tuple[str, Msg, Msg | None]] = {
    "standard_id": ("select", Msg("Filing standard"), Msg("The row of the city's filing standard")),
    "urgency": ("select", Msg("Urgency"), None),
    "department_id": ("select", Msg("Department"), Msg("Proposed departments come first")),
    "inspector_id": ("select", Msg("Inspector"), Msg("Empty: the inspector of the case's grid")),
    "into": ("text", Msg("Original case number"), Msg("The case this one duplicates")),
    "requested_until": ("datetime", Msg("Requested new deadline"), Msg("Empty: one more limit")),
    "until": ("date", Msg("Suspended until"), Msg("At most one year ahead")),
    "close_type": ("select", Msg("Close type"), Msg("Empty: decided from the deadlines")),
    "satisfaction": ("select", Msg("Satisfaction"), None),
    "result": ("select", Msg("Verification result"), None),
    "reason": ("textarea", Msg("Reason"), None),
    "comment": ("textarea", Msg("Comment"), None),
}
# Fields the page does not ask for (the API keeps them for integrations).
HIDDEN = {"version", "category_code"}
# Actions whose form takes photos (evidence of the work or of the finding).
PHOTO_ACTIONS = {Action.FEEDBACK, Action.COMPLETE_VERIFY, Action.PASS_CHECK, Action.FAIL_CHECK}
# Actions that need no input but a click (a confirmation is enough).
DANGER = {Action.VOID, Action.REJECT, Action.REFUSE, Action.REJECT_VOID, Action.FAIL_CHECK,
          Action.REWORK}  # fmt: skip


@dataclass
class Choice:
    value: str
    text: str
    group: str = ""


@dataclass
class FormField:
    name: str
    widget: str
    label: Msg
    hint: Msg | None
    required: bool
    value: str = ""
    choices: list[Choice] = field(default_factory=list)
    error: str = ""


@dataclass
class ActionForm:
    action: Action
    version: int
    fields: list[FormField]
    photos: bool
    danger: bool
    error: str = ""
    stale: bool = False

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)


def model_of(action: Action) -> type[BaseModel]:
    return ACTIONS[action][0]


def build_form(action: Action, version: int, values: dict[str, str] | None = None) -> ActionForm:
    model = model_of(action)
    values = values or {}
    fields = []
    for name, info in model.model_fields.items():
        if name in HIDDEN:
            continue
        widget, text, hint = WIDGETS.get(name, ("text", Msg("Value"), None))
        required = info.is_required() and name != "version"
        default = "" if info.default is None or info.is_required() else str(info.default)
        fields.append(FormField(name, widget, text, hint, required, values.get(name, default)))
    return ActionForm(
        action=action,
        version=version,
        fields=fields,
        photos=action in PHOTO_ACTIONS,
        danger=action in DANGER,
    )


def static_choices(form: ActionForm, label: Any) -> None:
    """Fill the choices that come from enumerations (labels in the page's language)."""
    for f in form.fields:
        if f.name == "urgency":
            f.choices = [Choice(u.value, label(u)) for u in Urgency]
        elif f.name == "close_type":
            f.choices = [Choice("", "—")] + [Choice(t.value, label(t)) for t in CloseType]
        elif f.name == "result":
            f.choices = [Choice(r.value, label(r)) for r in VerifyResult]
        elif f.name == "satisfaction":
            f.choices = [Choice(str(n), "★" * n) for n in range(5, 0, -1)]


def parse(
    action: Action, version: int, values: dict[str, str], tz: ZoneInfo
) -> tuple[BaseModel | None, dict[str, Msg]]:
    """The action body from form values, or the fields in error."""
    data: dict[str, Any] = {"version": version}
    model = model_of(action)
    for name, info in model.model_fields.items():
        if name in HIDDEN:
            continue
        raw = values.get(name, "").strip()
        if raw == "":
            if info.is_required():
                continue  # reported as missing by the model
            data[name] = None if info.default is None else info.default
            continue
        widget = WIDGETS.get(name, ("text",))[0]
        if widget == "datetime":
            try:
                data[name] = datetime.fromisoformat(raw).replace(tzinfo=tz)
            except ValueError:
                return None, {name: Msg("Enter a date and time")}
        elif widget == "date":
            try:
                data[name] = date.fromisoformat(raw)
            except ValueError:
                return None, {name: Msg("Enter a date")}
        else:
            data[name] = raw
    try:
        return model.model_validate(data), {}
    except PydanticValidationError as exc:
        errors: dict[str, Msg] = {}
        for err in exc.errors():
            name = str(err["loc"][0]) if err.get("loc") else ""
            kind = err.get("type", "")
            missing = kind == "missing"
            errors[name] = Msg("This field is required" if missing else "This value is not valid")
        return None, errors
