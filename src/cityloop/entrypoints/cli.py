"""The ``cityloop`` command: migrate, seed, serve, docs, calendar, tick."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType

from cityloop.bootstrap import Container, build
from cityloop.domain.errors import DomainError
from cityloop.entrypoints.commands import demo as demo_commands
from cityloop.entrypoints.commands import evaluation as evaluation_commands
from cityloop.entrypoints.commands import geo as geo_commands
from cityloop.entrypoints.presentation import error_message


def _container(args: argparse.Namespace) -> Container:
    return build(database_url=getattr(args, "database_url", None))


# -- command groups (one line each) ---
COMMAND_MODULES: list[ModuleType] = [demo_commands, geo_commands, evaluation_commands]


def cmd_migrate(args: argparse.Namespace) -> int:
    from cityloop.adapters.db.migrate import current, upgrade

    container = _container(args)
    upgrade(container.engine)
    print(f"database at revision {current(container.engine)}")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from cityloop.adapters.db.seed import seed_reference

    container = _container(args)
    print(f"reference data: {seed_reference(container.engine)}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from cityloop.entrypoints.lifecycle import render

    text = render()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def serve_options(*, access_log: bool = False) -> dict[str, object]:
    """How ``cityloop serve`` (and so ``make run``) runs uvicorn; bench/loop.py serves the
    application and its baseline with the same options.

    uvloop and httptools are picked when installed (the lock installs both). The access log
    is off unless asked for: a log line per request costs the server more than a tenth of its
    time for a small request, and a deployment keeps access logs at its reverse proxy.
    Startup, warnings and errors (with their tracebacks) are logged either way.
    """
    return {"loop": "auto", "http": "auto", "log_level": "info", "access_log": access_log}


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    options = serve_options(access_log=args.access_log)
    if not args.access_log:
        print("access log off (cityloop serve --access-log to log every request)")
    uvicorn.run(
        "cityloop.entrypoints.api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        **options,  # type: ignore[arg-type]
    )
    return 0


def cmd_calendar(args: argparse.Namespace) -> int:
    from cityloop.domain.roles import Actor, Role
    from cityloop.services.calendar import set_day

    container = _container(args)
    actor = Actor(user_id=None, role=Role.ADMIN, name="cli")
    kind = None if args.kind == "normal" else args.kind
    set_day(
        container.uow(),
        date.fromisoformat(args.day),
        kind,
        name=args.name or "",
        actor=actor,
        now=datetime.now(UTC),
    )
    print(f"{args.day}: {args.kind}")
    return 0


def cmd_tick(args: argparse.Namespace) -> int:
    from cityloop.domain.roles import SYSTEM_ACTOR
    from cityloop.services.cases import resume_due_suspensions

    container = _container(args)
    resumed = resume_due_suspensions(container.uow(), actor=SYSTEM_ACTOR, now=datetime.now(UTC))
    print(f"resumed {len(resumed)} suspended case(s)")
    return 0


def cmd_i18n(args: argparse.Namespace) -> int:
    from cityloop.entrypoints.messages import update_catalogs

    missing = update_catalogs()
    for locale, count in missing.items():
        print(f"{locale}: {count} message(s) without a translation")
    return 1 if any(missing.values()) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="cityloop", description="cityloop digital city management"
    )
    parser.add_argument("--database-url", help="override CITYLOOP_DATABASE_URL")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("seed", help="load reference data (classes, standards, calendar)").set_defaults(
        func=cmd_seed
    )
    serve = sub.add_parser("serve", help="serve the web application")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="log every request (default: off; errors are always logged)",
    )
    serve.set_defaults(func=cmd_serve)
    docs = sub.add_parser("docs", help="generate documentation")
    docs.add_argument("which", choices=["lifecycle"])
    docs.add_argument("--output", help="file to write (default: stdout)")
    docs.set_defaults(func=cmd_docs)
    cal = sub.add_parser("calendar", help="edit the working calendar")
    cal.add_argument("day", help="YYYY-MM-DD")
    cal.add_argument(
        "kind",
        choices=["holiday", "workday", "normal"],
        help="holiday, make-up workday, or back to the weekday rule",
    )
    cal.add_argument("--name", help="e.g. 春节")
    cal.set_defaults(func=cmd_calendar)
    sub.add_parser("tick", help="run due scheduled work (resume suspensions)").set_defaults(
        func=cmd_tick
    )
    sub.add_parser("i18n", help="update the message catalogs from the code").set_defaults(
        func=cmd_i18n
    )
    # Command groups of other subsystems: each module has register(sub).
    for module in COMMAND_MODULES:
        module.register(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except DomainError as exc:
        print(f"error [{exc.code}]: {error_message(exc, 'en')}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
