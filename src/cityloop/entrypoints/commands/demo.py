"""``cityloop demo``: load the demo city once (make run calls it), print the logins."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from cityloop.bootstrap import build
from cityloop.entrypoints.demo.city import PASSWORD
from cityloop.services.demo import demo_logins, demo_marker


def register(sub: Any) -> None:
    demo = sub.add_parser("demo", help="load the synthetic demo city (北京市东城区) once")
    demo.add_argument("--seed", type=int, default=2026, help="same seed, same city")
    demo.add_argument("--days", type=int, default=90, help="days of history ending now")
    demo.add_argument("--cases", type=int, default=5000, help="about how many cases")
    demo.add_argument("--quiet", action="store_true")
    demo.set_defaults(func=cmd_demo)
    logins = sub.add_parser("logins", help="print the demo logins")
    logins.set_defaults(func=cmd_logins)


def _print_logins(container: Any) -> None:
    print(f"\nDemo logins (password for all: {PASSWORD}):")
    for role, username, display in demo_logins(container.uow(readonly=True)):
        print(f"  {role.value:<11} {username:<18} {display}")
    print("  (more inspectors: inspector001a … inspector017b; departments: dept_* and street_*)")


def cmd_demo(args: argparse.Namespace) -> int:
    from cityloop.entrypoints.demo import run

    container = build(database_url=args.database_url)
    marker = demo_marker(container.uow(readonly=True))
    if marker is not None:
        print(f"demo city already loaded (seed {marker['seed']}, {marker['loaded_at'][:10]})")
        _print_logins(container)
        return 0
    with container.uow(readonly=True) as uow:
        if uow.org.departments():
            print("the database already holds an organisation: not loading the demo city")
            return 1
    print("loading the demo city 北京市东城区 (synthetic data) …")
    report = run(
        container,
        seed=args.seed,
        days=args.days,
        cases=args.cases,
        now=datetime.now(UTC),
        progress=not args.quiet,
    )
    print(
        f"done in {report.seconds:.0f} s: {report.grids} grids, {report.components} "
        f"components, {report.users} users, {report.stats.reported} cases"
    )
    print("cases by state: " + ", ".join(f"{k} {v}" for k, v in sorted(report.states.items())))
    _print_logins(container)
    return 0


def cmd_logins(args: argparse.Namespace) -> int:
    _print_logins(build(database_url=args.database_url))
    return 0
