"""Generated docs are current, every term is in the glossary, every message is translated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cityloop.domain.case import CaseState, CloseType, Source, TaskKind, Urgency
from cityloop.domain.codes import ClassKind, parse_grid_code
from cityloop.domain.errors import TransitionNotAllowedError, ValidationError
from cityloop.domain.roles import Role
from cityloop.domain.sla.lights import Light
from cityloop.domain.sla.stages import Stage
from cityloop.domain.sla.units import TimeUnit
from cityloop.domain.workflow import Action
from cityloop.entrypoints import lifecycle
from cityloop.entrypoints.i18n import catalog, negotiate
from cityloop.entrypoints.messages import source_message_ids
from cityloop.entrypoints.presentation import error_message, label

ROOT = Path(__file__).resolve().parents[2]


def test_case_lifecycle_doc_is_generated_from_the_table() -> None:
    stored = (ROOT / "docs" / "case-lifecycle.md").read_text(encoding="utf-8")
    assert stored == lifecycle.render(), "run `make docs` to regenerate docs/case-lifecycle.md"


def test_lifecycle_doc_shows_every_row() -> None:
    text = lifecycle.render()
    for action in Action:
        assert f"`{action.value}`" in text
    for state in CaseState:
        assert f"`{state.value}`" in text


@pytest.mark.parametrize(
    "enum_type",
    [
        CaseState,
        Action,
        Role,
        Source,
        Stage,
        TimeUnit,
        CloseType,
        Urgency,
        TaskKind,
        Light,
        ClassKind,
    ],
)
def test_every_domain_identifier_is_in_the_glossary(enum_type: type) -> None:
    glossary = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    missing = [v.value for v in enum_type if f"`{v.value}`" not in glossary]
    assert missing == []


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"{([a-z_]+)(?:![rs])?}", text))


def test_every_message_has_a_chinese_translation_with_the_same_placeholders() -> None:
    zh = catalog("zh_CN")
    ids = source_message_ids()
    missing = sorted(i for i in ids if not zh.get(i))
    assert missing == [], "run `cityloop i18n` and translate the new messages"
    for text in ids:
        assert placeholders(zh[text]) == placeholders(text), text


def test_errors_are_localized_with_labelled_parameters() -> None:
    err = TransitionNotAllowedError("handling", "file", "shift_lead")
    assert error_message(err, "zh_CN") == "状态为 处置中 的案件不允许角色 值班长 执行操作 立案"
    assert error_message(err, "en") == (
        "Action File is not allowed for role Shift lead in state Being handled"
    )
    with pytest.raises(ValidationError) as caught:
        parse_grid_code("11010100100201X")
    assert error_message(caught.value, "zh_CN").startswith("网格代码 11010100100201X 只能包含数字")


def test_labels_and_language_negotiation() -> None:
    assert label(CaseState.PENDING_FILING, "zh_CN") == "待立案"
    assert label(CaseState.PENDING_FILING, "en") == "Awaiting filing"
    assert label(TimeUnit.URGENT_WORK_HOUR, "zh_CN") == "紧急工作时"
    assert negotiate(None) == "zh_CN"
    assert negotiate("en-US,en;q=0.9") == "en"
    assert negotiate("fr-FR, en;q=0.5, zh-CN;q=0.8") == "zh_CN"
    assert negotiate("de") == "zh_CN"
