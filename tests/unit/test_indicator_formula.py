"""Evaluation formulas read in the page's language."""

from __future__ import annotations

from cityloop.domain.evaluation.indicators import CATALOGUE, indicator
from cityloop.entrypoints.presentation import indicator_formula


def test_ratios_keep_the_standards_terms_in_chinese_and_spell_labels_in_english() -> None:
    rate = indicator("valid_report_rate")
    assert indicator_formula(rate, "zh_CN") == "有效上报数 / 上报数"
    assert indicator_formula(rate, "en") == "Valid reports / Reports"


def test_described_formulas_are_translated() -> None:
    reported = indicator("reported")
    assert indicator_formula(reported, "en") == "reports made in the period"
    assert indicator_formula(reported, "zh_CN") == "本期上报"


def test_differences_are_spelled_with_their_sign() -> None:
    net = next(i for i in CATALOGUE if i.minus)
    english = indicator_formula(net, "en")
    assert " − " in english and not any("\u4e00" <= ch <= "\u9fff" for ch in english)
