"""The indicator catalogue (指标): names, units, formulas and which subjects show which.

Counts are defined by the rules in :mod:`cityloop.domain.evaluation.rules`; rates and ratios
here, as ``numerator / denominator`` of two counts (standards.md §7.2–7.6). A rate whose
denominator is zero is undefined (shown as "—"), never 0 or 100 %.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from cityloop.domain.errors import Msg, NotFoundError
from cityloop.domain.evaluation.subjects import REGION_KINDS, SubjectKind


class Unit(enum.StrEnum):
    COUNT = "count"  # 个数
    RATE = "rate"  # 比率, 0..1
    RATIO = "ratio"  # 比值 (per grid, per area, mean points)


class Better(enum.StrEnum):
    HIGHER = "higher"
    LOWER = "lower"
    NEITHER = "neither"


class ItemKind(enum.StrEnum):
    """What a drill-down lists behind a number."""

    CASE = "case"
    ROUND = "round"  # a disposal round: the case and the department it was sent to
    TASK = "task"  # a verify or check task
    NONE = "none"  # from the region register (number of grids, area)


@dataclass(frozen=True, slots=True)
class Indicator:
    id: str
    term: str  # the standard's Chinese name
    label: str  # English message id (translated for display)
    unit: Unit
    formula: str
    reference: str  # clause of standards.md
    better: Better = Better.NEITHER
    numerator: str | None = None
    denominator: str | None = None
    minus: str | None = None  # a difference: numerator − minus
    plus: str | None = None  # a sum: numerator + plus
    scale: int = 1  # a ratio per unit: numerator × scale / denominator
    items: ItemKind = ItemKind.CASE
    actions: tuple[str, ...] = ()  # the timeline lines a drill-down shows

    @property
    def derived(self) -> bool:
        return self.numerator is not None

    @property
    def parts(self) -> tuple[str, ...]:
        """The counts this indicator is made of (itself for a base count)."""
        if self.numerator is None:
            return (self.id,)
        return tuple(p for p in (self.numerator, self.minus, self.plus, self.denominator) if p)

    def value(self, counts: Mapping[str, int]) -> int | Fraction | None:
        """The indicator from the base counts (``None`` for a rate over zero)."""
        if self.numerator is None:
            return counts.get(self.id, 0)
        top = _count(self.numerator, counts)
        if self.minus is not None:
            return top - _count(self.minus, counts)
        if self.plus is not None:
            return top + _count(self.plus, counts)
        bottom = _count(self.denominator or "", counts)
        return Fraction(top * self.scale, bottom) if bottom else None


def _count(name: str, counts: Mapping[str, int]) -> int:
    """A base count, or a derived count (a difference or a sum) computed from them."""
    if name in counts:
        return counts[name]
    derived = BY_ID.get(name)
    if derived is not None and derived.unit is Unit.COUNT and derived.numerator is not None:
        value = derived.value(counts)
        return value if isinstance(value, int) else 0
    return 0


def _i(
    id: str,
    term: str,
    label: str,
    formula: str,
    reference: str,
    unit: Unit = Unit.COUNT,
    better: Better = Better.NEITHER,
    numerator: str | None = None,
    denominator: str | None = None,
    minus: str | None = None,
    items: ItemKind = ItemKind.CASE,
    actions: tuple[str, ...] = (),
    plus: str | None = None,
    scale: int = 1,
) -> Indicator:
    return Indicator(
        id, term, label, unit, formula, reference, better, numerator, denominator, minus, plus,
        scale, items, actions,
    )  # fmt: skip


R, C, H = Unit.RATE, Unit.COUNT, Better.HIGHER
TASK, ROUND = ItemKind.TASK, ItemKind.ROUND

CATALOGUE: tuple[Indicator, ...] = (
    # -- inspector (监督员), §7.3
    _i("reported", "上报数", Msg("Reports"),
       Msg("reports made in the period"), "§7.2", actions=("report", "report_self_handled")),
    _i("valid_reported", "有效上报数", Msg("Valid reports"),
       Msg("reports filed (or self-handled with approval) and not voided"), "§7.2",
       actions=("file", "approve_self_handling", "void", "approve_void", "reject", "merge")),
    _i("valid_report_rate", "有效上报率", Msg("Valid report rate"),
       "有效上报数 / 上报数", "§7.3", R, H, "valid_reported", "reported"),
    _i("verify_due", "应核实数", Msg("Verify tasks due"),
       Msg("verify tasks settled in the period (done in time, or past their deadline)"), "§7.2",
       items=TASK, actions=("request_verify", "complete_verify")),
    _i("verified_in_time", "按时核实数", Msg("Verified in time"),
       Msg("verify tasks answered by their deadline"), "§7.2", items=TASK,
       actions=("request_verify", "complete_verify")),
    _i("verify_in_time_rate", "按时核实率", Msg("Verify-in-time rate"),
       "按时核实数 / 应核实数", "§7.3", R, H, "verified_in_time", "verify_due", items=TASK),
    _i("check_due", "应核查数", Msg("Check tasks due"),
       Msg("check tasks settled in the period"), "§7.2", items=TASK,
       actions=("request_check", "pass_check", "fail_check")),
    _i("checked_in_time", "按时核查数", Msg("Checked in time"),
       Msg("check tasks answered by their deadline"), "§7.2", items=TASK,
       actions=("request_check", "pass_check", "fail_check")),
    _i("check_in_time_rate", "按时核查率", Msg("Check-in-time rate"),
       "按时核查数 / 应核查数", "§7.3", R, H, "checked_in_time", "check_due", items=TASK),
    _i("grid_filed", "责任网格立案数", Msg("Cases filed in own grids"),
       Msg("cases filed in the period in the inspector's responsible grids"), "§7.3",
       actions=("report", "file")),
    _i("missed", "漏报数", Msg("Missed problems"),
       Msg("of those, reported first by the public (监督举报)"), "§7.2",
       actions=("report", "file")),
    _i("miss_rate", "漏报率", Msg("Miss rate"),
       "漏报数 / 责任网格立案数", "§7.3", R, Better.LOWER, "missed", "grid_filed"),
    # -- operator (受理员), §7.3
    _i("intake", "受理数", Msg("Intake decisions"),
       Msg("reports accepted, turned away or merged by the operator"), "§7.2",
       actions=("accept", "reject", "merge")),
    _i("intake_in_time", "按时受理数", Msg("Intake in time"),
       Msg("intake decisions within the acceptance limit"), "§7.2",
       actions=("report", "accept", "reject", "merge")),
    _i("intake_in_time_rate", "按时受理率", Msg("Intake-in-time rate"),
       "按时受理数 / 受理数", "§7.2", R, H, "intake_in_time", "intake"),
    _i("verify_sent", "发核实数", Msg("Verify tasks sent"),
       Msg("verify tasks sent by the operator"), "§7.3", items=TASK, actions=("request_verify",)),
    _i("verify_sent_in_time", "按时发核实数", Msg("Verify tasks sent in time"),
       Msg("verify tasks sent within the stage limit in force"), "§7.3", items=TASK,
       actions=("request_verify",)),
    _i("verify_send_rate", "核实按时派发率", Msg("Verify dispatch-in-time rate"),
       "按时发核实数 / 发核实数", "§7.3", R, H, "verify_sent_in_time", "verify_sent",
       items=TASK),
    _i("check_sent", "发核查数", Msg("Check tasks sent"),
       Msg("check tasks sent by the operator"), "§7.3", items=TASK, actions=("request_check",)),
    _i("check_sent_in_time", "按时发核查数", Msg("Check tasks sent in time"),
       Msg("check tasks sent within the check stage limit after feedback"), "§7.3", items=TASK,
       actions=("feedback", "request_check")),
    _i("check_send_rate", "核查按时派发率", Msg("Check dispatch-in-time rate"),
       "按时发核查数 / 发核查数", "§7.3", R, H, "check_sent_in_time", "check_sent", items=TASK),
    # -- shift lead (值班长), §7.3
    _i("filed", "立案数", Msg("Cases filed"),
       Msg("cases filed in the period"), "§7.2", actions=("file",)),
    _i("filed_in_time", "按时立案数", Msg("Filed in time"),
       Msg("filings within the filing stage limit"), "§7.3", actions=("accept", "file")),
    _i("file_in_time_rate", "按时立案率", Msg("Filing-in-time rate"),
       "按时立案数 / 立案数", "§7.3", R, H, "filed_in_time", "filed"),
    _i("voided", "作废数", Msg("Filings voided"),
       Msg("of the filings, cases voided by the period's end"), "§7.2",
       actions=("file", "void", "approve_void")),
    _i("accurate_filed", "准确立案数", Msg("Accurate filings"),
       "立案数 − 作废数", "§7.2", numerator="filed", minus="voided", actions=("file",)),
    _i("accurate_file_rate", "准确立案率", Msg("Filing accuracy"),
       "(立案数 − 作废数) / 立案数", "§7.3", R, H, "accurate_filed", "filed"),
    _i("closed", "结案数", Msg("Cases closed"),
       Msg("filed cases closed in the period"), "§7.2", actions=("close",)),
    _i("closed_in_time", "按时结案数", Msg("Closed in time"),
       Msg("closings within the closing stage limit"), "§7.3", actions=("pass_check", "close")),
    _i("close_in_time_rate", "按时结案率", Msg("Closing-in-time rate"),
       "按时结案数 / 结案数", "§7.3", R, H, "closed_in_time", "closed"),
    # -- dispatcher (派遣员), §7.3
    _i("dispatched", "派遣数", Msg("Dispatches"),
       Msg("dispatches made in the period (= dispatches due)"), "§7.2", items=ROUND,
       actions=("dispatch",)),
    _i("dispatched_in_time", "按时派遣数", Msg("Dispatched in time"),
       Msg("dispatches within the dispatch stage limit"), "§7.3", items=ROUND,
       actions=("file", "dispatch")),
    _i("dispatch_in_time_rate", "按时派遣率", Msg("Dispatch-in-time rate"),
       "按时派遣数 / 应派遣数", "§7.3", R, H, "dispatched_in_time", "dispatched", items=ROUND),
    _i("accurate_dispatched", "准确派遣数", Msg("Accurate dispatches"),
       Msg("dispatches not refused or returned by the period's end"), "§7.2", items=ROUND,
       actions=("dispatch", "refuse", "approve_return")),
    _i("accurate_dispatch_rate", "准确派遣率", Msg("Dispatch accuracy"),
       "准确派遣数 / 应派遣数", "§7.3", R, H, "accurate_dispatched", "dispatched",
       items=ROUND),
    # -- departments (专业部门), §7.4
    _i("assigned", "立案数（受派）", Msg("Cases assigned"),
       Msg("cases dispatched to the department in the period and kept"), "§7.4", items=ROUND,
       actions=("dispatch",)),
    _i("due", "应处置数", Msg("Disposals due"),
       Msg("disposal rounds settled in the period: handled in time, or overdue"), "§7.4",
       items=ROUND, actions=("dispatch", "rework", "approve_extension", "feedback")),
    _i("handled", "处置数", Msg("Disposals done"),
       Msg("of the disposals due, rounds reported back by the period's end"), "§7.4", items=ROUND,
       actions=("feedback",)),
    _i("handle_rate", "处置率", Msg("Disposal rate"),
       "处置数 / 应处置数", "§7.4", R, H, "handled", "due", items=ROUND),
    _i("handled_on_time", "按期处置数", Msg("Handled on time"),
       Msg("of the disposals due, rounds handled by their deadline"), "§7.4", items=ROUND,
       actions=("dispatch", "rework", "approve_extension", "feedback")),
    _i("on_time_rate", "按期处置率", Msg("On-time disposal rate"),
       "按期处置数 / 应处置数", "§7.4", R, H, "handled_on_time", "due", items=ROUND),
    _i("handled_overdue", "超期处置数", Msg("Overdue disposals"),
       "应处置数 − 按期处置数", "§7.4", numerator="due", minus="handled_on_time",
       items=ROUND),
    _i("overdue_rate", "超期处置率", Msg("Overdue disposal rate"),
       "超期处置数 / 应处置数", "§7.4", R, Better.LOWER, "handled_overdue", "due",
       items=ROUND),
    _i("rework", "返工数", Msg("Reworks"),
       Msg("of the disposals due, rounds that are reworks after a failed check"), "§7.4",
       items=ROUND, actions=("fail_check", "rework")),
    _i("rework_rate", "返工率", Msg("Rework rate"),
       "返工数 / 应处置数", "§7.4", R, Better.LOWER, "rework", "due", items=ROUND),
    _i("extended", "延期数", Msg("Extensions"),
       Msg("of the disposals due, rounds with an approved extension"), "§7.4", items=ROUND,
       actions=("request_extension", "approve_extension")),
    _i("extension_rate", "延期率", Msg("Extension rate"),
       "延期数 / 应处置数", "§7.4", R, Better.LOWER, "extended", "due", items=ROUND),
    _i("suspended", "挂账数", Msg("Suspensions"),
       Msg("suspensions approved in the period"), "§7.2", items=ROUND,
       actions=("request_suspension", "approve_suspension", "resume")),
    _i("returned", "回退数", Msg("Returns"),
       Msg("returns approved in the period"), "§7.2", items=ROUND,
       actions=("request_return", "approve_return")),
    _i("refused", "拒签数", Msg("Refusals"),
       Msg("dispatches refused in the period"), "§5.4", items=ROUND, actions=("refuse",)),
    _i("overdue_open", "超期未处置数", Msg("Overdue, not handled"),
       Msg("rounds open and past their deadline at the period's end"), "§7.2", items=ROUND,
       actions=("dispatch", "rework", "approve_extension", "approve_suspension", "resume")),
    _i("close_due", "应结案数", Msg("Cases due to close"),
       "结案数 + 超期未处置数", "§7.4", numerator="closed", plus="overdue_open",
       actions=("close",)),
    _i("close_rate", "结案率", Msg("Closing rate"),
       "结案数 / 应结案数", "§7.4", R, H, "closed", "close_due"),
    # -- regions (区域), §7.5
    _i("grids", "网格数", Msg("Number of unit grids"),
       Msg("unit grids in the region"), "§2", items=ItemKind.NONE),
    _i("filed_per_grid", "网格均立案数", Msg("Cases per grid"),
       "立案数 / 网格数", "§7.5", Unit.RATIO, Better.LOWER, "filed", "grids"),
    _i("occurrence_rate", "问题发生率", Msg("Problem occurrence"),
       Msg("cases filed per 10,000 m² of the region"), "§7.5", Unit.RATIO, Better.LOWER,
       "filed", "area_m2", scale=10_000),
    _i("public_filed", "监督举报数", Msg("Public reports filed"),
       Msg("of the cases filed, problems reported by the public"), "§7.5",
       actions=("report", "file")),
    _i("public_rate", "监督举报率", Msg("Public report rate"),
       "监督举报数 / 立案数", "§7.5", R, Better.LOWER, "public_filed", "filed"),
    _i("closed_on_time", "按期结案数", Msg("Closed on time"),
       Msg("of the cases closed, normal closes (handled within the limit)"), "§7.5",
       actions=("feedback", "close")),
    _i("overdue_unclosed", "超期未结案数", Msg("Overdue, not closed"),
       Msg("filed cases open at the period's end whose current round is overdue"), "§7.5",
       actions=("dispatch", "rework", "feedback", "approve_extension", "resume")),
    _i("region_close_due", "应结案数", Msg("Cases due to close"),
       "结案数 + 超期未结案数", "§7.5", numerator="closed", plus="overdue_unclosed",
       actions=("close",)),
    _i("region_close_rate", "结案率", Msg("Closing rate"),
       "结案数 / 应结案数", "§7.5", R, H, "closed", "region_close_due"),
    _i("on_time_close_rate", "按期结案率", Msg("On-time closing rate"),
       "按期结案数 / 应结案数", "§7.5", R, H, "closed_on_time", "region_close_due"),
    # -- the centre (§7.6)
    _i("callbacks", "回访数", Msg("Call-backs"),
       Msg("call-backs recorded in the period"), "§7.6", actions=("callback",)),
    _i("satisfied", "满意数", Msg("Satisfied call-backs"),
       Msg("call-backs rated very satisfied, satisfied or fairly satisfied"), "§7.6",
       actions=("callback",)),
    _i("satisfaction_rate", "满意率", Msg("Satisfaction rate"),
       "满意数 / 回访数", "§7.6", R, H, "satisfied", "callbacks"),
    _i("satisfaction_points", "满意度分值合计", Msg("Satisfaction points"),
       Msg("sum of 100 / 80 / 50 / 0 / −100 per call-back (eGova)"), "§5.4",
       actions=("callback",)),
    _i("satisfaction_score", "满意度得分", Msg("Satisfaction score"),
       "满意度分值合计 / 回访数", "§5.4", Unit.RATIO, H, "satisfaction_points", "callbacks"),
)  # fmt: skip

BY_ID: Mapping[str, Indicator] = {i.id: i for i in CATALOGUE}

_REGION = (
    "filed", "grids", "filed_per_grid", "occurrence_rate", "public_filed", "public_rate",
    "closed", "closed_on_time", "overdue_unclosed", "region_close_due", "region_close_rate",
    "on_time_close_rate",
)  # fmt: skip

SHOWN: Mapping[SubjectKind, tuple[str, ...]] = {
    SubjectKind.INSPECTOR: (
        "reported", "valid_reported", "valid_report_rate", "verify_due", "verified_in_time",
        "verify_in_time_rate", "check_due", "checked_in_time", "check_in_time_rate",
        "grid_filed", "missed", "miss_rate",
    ),
    SubjectKind.OPERATOR: (
        "intake", "intake_in_time", "intake_in_time_rate", "verify_sent", "verify_sent_in_time",
        "verify_send_rate", "check_sent", "check_sent_in_time", "check_send_rate",
    ),
    SubjectKind.SHIFT_LEAD: (
        "filed", "filed_in_time", "file_in_time_rate", "voided", "accurate_filed",
        "accurate_file_rate", "closed", "closed_in_time", "close_in_time_rate",
    ),
    SubjectKind.DISPATCHER: (
        "dispatched", "dispatched_in_time", "dispatch_in_time_rate", "accurate_dispatched",
        "accurate_dispatch_rate",
    ),
    SubjectKind.DEPARTMENT: (
        "assigned", "due", "handled", "handle_rate", "handled_on_time", "on_time_rate",
        "handled_overdue", "overdue_rate", "rework", "rework_rate", "extended",
        "extension_rate", "suspended", "returned", "refused", "overdue_open", "closed",
        "close_due", "close_rate",
    ),
    **{kind: _REGION for kind in REGION_KINDS},
    SubjectKind.CENTRE: (
        "reported", "valid_reported", "valid_report_rate", "filed", "grids", "filed_per_grid",
        "occurrence_rate", "public_filed",
        "public_rate", "dispatched", "due", "handled_on_time", "on_time_rate", "closed",
        "closed_on_time", "overdue_unclosed", "region_close_due", "region_close_rate",
        "on_time_close_rate", "callbacks", "satisfied", "satisfaction_rate",
        "satisfaction_score",
    ),
}  # fmt: skip


def indicator(indicator_id: str) -> Indicator:
    found = BY_ID.get(indicator_id)
    if found is None:
        raise NotFoundError(
            "indicator_not_found", "There is no indicator {indicator}", indicator=indicator_id
        )
    return found


def shown(kind: SubjectKind) -> tuple[Indicator, ...]:
    return tuple(BY_ID[i] for i in SHOWN[kind])


def values(kind: SubjectKind, counts: Mapping[str, int]) -> dict[str, int | Fraction | None]:
    """Every indicator shown for ``kind`` from the base counts (and register counts such as
    ``grids`` and ``area_m2``)."""
    return {i.id: i.value(counts) for i in shown(kind)}


def check_shown(kind: SubjectKind, indicator_id: str) -> Indicator:
    """The indicator, if it is evaluated for ``kind``."""
    ind = indicator(indicator_id)
    if indicator_id not in SHOWN[kind]:
        raise NotFoundError(
            "indicator_not_for_subject",
            "Indicator {indicator} is not evaluated for {kind}",
            indicator=indicator_id,
            kind=kind.value,
        )
    return ind
