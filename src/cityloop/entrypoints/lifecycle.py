"""Generate ``docs/case-lifecycle.md`` from the transition table (rule 2: the table is data)."""

from __future__ import annotations

from cityloop.domain import workflow
from cityloop.domain.case import CaseState
from cityloop.domain.roles import Role
from cityloop.domain.workflow import TRANSITIONS, Target, Transition
from cityloop.entrypoints.presentation import label

ZH, EN = "zh_CN", "en"


def _state(value: CaseState | Target | None) -> str:
    if value is None:
        return "*(new)*"
    if isinstance(value, Target):
        return f"{label(value, EN)}"
    return f"`{value.value}` {label(value, ZH)}"


def _roles(row: Transition) -> str:
    ordered = [r for r in Role if r in row.roles]
    return ", ".join(f"{r.value} {label(r, ZH)}" for r in ordered)


def _guards(row: Transition) -> str:
    return "; ".join(f"`{g.name}`" for g in row.guards) or "—"


def render() -> str:
    lines = [
        "# Case lifecycle (案卷生命周期)",
        "",
        "Generated from `cityloop.domain.workflow.TRANSITIONS` by `make docs`"
        " (`cityloop docs lifecycle`). Do not edit by hand: a test fails when this file is",
        "stale. Reference: standards.md §5 (GB/T 30428 closed loop).",
        "",
        "A move that is not a row below is refused with `transition_not_allowed`; a role not in"
        " the row with `role_not_allowed`; a failing guard with the guard's own code.",
        "",
        "## States",
        "",
        "| state | 中文 | English | stage (环节) | terminal |",
        "|---|---|---|---|---|",
    ]
    for state in CaseState:
        stage = workflow.STAGE_OF.get(state)
        stage_text = f"`{stage.value}` {label(stage, ZH)}" if stage else "—"
        lines.append(
            f"| `{state.value}` | {label(state, ZH)} | {label(state, EN)} | {stage_text} |"
            f" {'yes' if state.terminal else ''} |"
        )
    lines += [
        "",
        "## Transitions",
        "",
        f"{len(TRANSITIONS)} rows.",
        "",
        "| from | action | 动作 | to | roles | guards |",
        "|---|---|---|---|---|---|",
    ]
    for row in TRANSITIONS:
        lines.append(
            f"| {_state(row.state)} | `{row.action.value}` | {label(row.action, ZH)} |"
            f" {_state(row.target)} | {_roles(row)} | {_guards(row)} |"
        )
    lines += ["", "## Guards", "", "| guard | condition |", "|---|---|"]
    for guard in workflow.ALL_GUARDS:
        lines.append(f"| `{guard.name}` | {guard.description} |")
    lines += ["", "## Diagram", "", "```mermaid", "stateDiagram-v2"]
    seen: set[tuple[str, str, str]] = set()
    for row in TRANSITIONS:
        if row.target is Target.SAME:
            continue
        source = "[*]" if row.state is None else row.state.value
        if isinstance(row.target, Target):
            target = "pending_dispatch" if row.target is Target.DISPATCH_QUEUE else "[*]"
            if row.target is Target.RESUME:
                target = "resume_state"
        else:
            target = row.target.value
        key = (source, target, row.action.value)
        if key not in seen:
            seen.add(key)
            lines.append(f"    {source} --> {target}: {row.action.value}")
    for state in CaseState:
        if state.terminal:
            lines.append(f"    {state.value} --> [*]")
    lines += ["```", ""]
    return "\n".join(lines)
