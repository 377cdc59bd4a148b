"""``cityloop evaluation …``: refresh the facts, print and export reports, freeze a month,
show one case's facts."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cityloop.bootstrap import Container, build
from cityloop.domain.evaluation.periods import parse_period, previous_month
from cityloop.domain.evaluation.subjects import SubjectKind, parse_kind
from cityloop.domain.roles import Actor, Role
from cityloop.entrypoints.i18n import gettext, normalise
from cityloop.entrypoints.presentation import show_value

CLI_ACTOR = Actor(user_id=None, role=Role.ADMIN, name="cli")


def register(sub: Any) -> None:
    group = sub.add_parser("evaluation", help="comprehensive evaluation (综合评价)")
    commands = group.add_subparsers(dest="evaluation_command", required=True)
    refresh = commands.add_parser("refresh", help="fold new case events into the facts")
    refresh.set_defaults(func=cmd_refresh)
    freeze = commands.add_parser("freeze", help="freeze (publish) a month")
    freeze.add_argument("--period", help="YYYY-MM (default: last month)")
    freeze.set_defaults(func=cmd_freeze)
    report = commands.add_parser("report", help="print a report")
    report.add_argument("kind", choices=[k.value for k in SubjectKind])
    report.add_argument("--period", required=True, help="2026-11, 2026-Q4, 2026 …")
    report.add_argument("--district", help="only this district")
    report.add_argument("--lang", default="zh_CN", help="zh_CN or en")
    report.set_defaults(func=cmd_report)
    export = commands.add_parser("export", help="export a report to XLSX or PDF")
    export.add_argument("kind", help="a subject kind, or all")
    export.add_argument("--period", required=True)
    export.add_argument("--format", choices=["xlsx", "pdf"], default="xlsx")
    export.add_argument("--district")
    export.add_argument("--lang", default="zh_CN")
    export.add_argument("--output", help="file (default: the suggested name)")
    export.set_defaults(func=cmd_export)
    facts = commands.add_parser("facts", help="show the evaluation facts of one case")
    facts.add_argument("number", help="case number")
    facts.set_defaults(func=cmd_facts)


def _container(args: argparse.Namespace) -> Container:
    return build(database_url=getattr(args, "database_url", None))


def cmd_refresh(args: argparse.Namespace) -> int:
    from cityloop.services import evaluation as svc

    container = _container(args)
    count = svc.refresh_facts(container.uow(readonly=True), container.uow(), now=datetime.now(UTC))
    print(f"refolded {count} case(s) into the evaluation facts")
    return 0


def cmd_freeze(args: argparse.Namespace) -> int:
    from cityloop.services import evaluation as svc

    container = _container(args)
    now = datetime.now(UTC)
    with container.uow(readonly=True) as uow:
        tz = uow.sla.calendar().tz
    period = parse_period(args.period) if args.period else previous_month(now, tz)
    done = svc.freeze_month(container.uow(readonly=True), container.uow(), actor=CLI_ACTOR,
                            period=period, now=now)  # fmt: skip
    if not done:
        print(f"{period.key} was frozen already; nothing changed")
    for report in done:
        print(f"froze {report.period} for {report.scope}: {len(report.lines)} lines, "
              f"scheme v{report.scheme_version}")  # fmt: skip
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from cityloop.services import evaluation as svc
    from cityloop.services.queries import evaluation as q

    container = _container(args)
    now = datetime.now(UTC)
    locale = normalise(args.lang)
    svc.refresh_facts(container.uow(readonly=True), container.uow(), now=now)
    report = q.report(container.uow(readonly=True), actor=CLI_ACTOR, kind=parse_kind(args.kind),
                      period=parse_period(args.period), now=now,
                      district=args.district)  # fmt: skip
    shown = report.indicators
    print(f"{report.kind.value} {report.frame.period.key} scheme v{report.scheme.version}"
          f"{' frozen' if report.frozen_at else ''}")  # fmt: skip
    print("\t".join(["rank", "key", "name", *[gettext(i.label, locale) for i in shown],
                     "score", "grade"]))  # fmt: skip
    for row in report.rows:
        cells = [show_value(row.values.get(i.id), i.unit) for i in shown]
        score = row.score
        name = gettext(str(row.subject.name), locale)
        head = [str(row.rank or "—"), row.subject.key, name]
        print("\t".join([*head, *cells, str(score.value or "—"), score.grade or "—"]))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from cityloop.entrypoints.api.routes.evaluation import export

    container = _container(args)
    data, _media, name = export(container, CLI_ACTOR, datetime.now(UTC), kind=args.kind,
                                period=args.period, fmt=args.format, locale=normalise(args.lang),
                                district=args.district)  # fmt: skip
    target = Path(args.output or name)
    target.write_bytes(data)
    print(f"wrote {target} ({len(data)} bytes)")
    return 0


def cmd_facts(args: argparse.Namespace) -> int:
    from cityloop.domain.evaluation.extract import extract

    container = _container(args)
    with container.uow(readonly=True) as uow:
        case = uow.cases.get_by_number(args.number)
        if case is None:
            print(f"no case {args.number}")
            return 1
        record = extract(case, uow.cases.events(case.id), uow.tasks.for_case(case.id),
                         uow.sla.calendar().tz)  # fmt: skip

    def show(label: str, obj: Any) -> None:
        fields = {k: getattr(obj, k) for k in obj.__slots__ if getattr(obj, k) not in (None, ())}
        shown = [f"{k}={_when(v) if k.endswith('_at') or k == 'deadline' else v}"
                 for k, v in fields.items()]  # fmt: skip
        print(f"{label}: " + ", ".join(shown))

    show("case", record.case)
    for r in record.rounds:
        show(f"round {r.number}", r)
    for task in record.tasks:
        show(f"task {task.task_id}", task)
    return 0


def _when(value: Any) -> str:
    if isinstance(value, int):
        return datetime.fromtimestamp(value, UTC).isoformat()
    return str(value)
