"""The demo city: 北京市东城区 with 90 days of synthetic work (``cityloop demo``)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cityloop.adapters.passwords import Argon2Passwords
from cityloop.bootstrap import Container
from cityloop.domain.roles import SYSTEM_ACTOR
from cityloop.entrypoints.demo import city as demo_city
from cityloop.entrypoints.demo.history import DemoStats, History, supervise_overdue
from cityloop.services.demo import mark_demo
from cityloop.services.evaluation import refresh_facts
from cityloop.services.queries.cases import count_by_state


@dataclass
class DemoReport:
    grids: int
    components: int
    users: int
    rules: int
    stats: DemoStats
    states: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    logins: list[tuple[str, str, str]] = field(default_factory=list)


def run(
    container: Container, *, seed: int, days: int, cases: int, now: datetime, progress: bool = False
) -> DemoReport:
    """Build the demo city and simulate ``days`` days of work ending at ``now``."""
    started = time.monotonic()
    rng = random.Random(seed)
    # The demo's passwords are printed for everyone; hashing them cheaply saves a minute.
    real_passwords, container.passwords = container.passwords, Argon2Passwords(fast=True)
    base_time = now - timedelta(days=days + 1)
    city = demo_city.DemoCity()

    def say(text: str) -> None:
        if progress:
            print(f"  [{time.monotonic() - started:6.1f}s] {text}", flush=True)

    demo_city.build_departments(container, base_time, city)
    say(f"{len(city.departments) + len(city.street_offices)} departments")
    grids = demo_city.build_regions(container, seed, base_time, city.street_offices)
    city.grids = grids
    say(f"{len(grids)} unit grids in 17 streets and 169 communities")
    demo_city.build_users(container, base_time, city, grids)
    container.passwords = real_passwords
    say(f"{len(city.users)} users")
    demo_city.build_components(container, base_time, city, grids, rng)
    say(f"{len(city.components)} components")
    rules = demo_city.build_dispatch_rules(container, base_time, city)
    say(f"{rules} dispatch rules")
    history = History(container, city, seed)
    stats = history.run(now - timedelta(days=days), now, cases)
    say(f"{stats.reported} cases, {stats.actions} actions")
    supervise_overdue(container, city, now, rng)
    # Fold the history into the evaluation facts now, so the first evaluation page opens at once.
    refresh_facts(container.uow(readonly=True), container.uow(), now=now)
    say("evaluation facts folded")
    mark_demo(container.uow(), seed=seed, actor=SYSTEM_ACTOR, now=now)
    states = count_by_state(container.uow(readonly=True), city.actor("leader"), now=now)
    return DemoReport(
        grids=len(grids),
        components=len(city.components),
        users=len(city.users),
        rules=rules,
        stats=stats,
        states=states,
        seconds=time.monotonic() - started,
        logins=city.logins,
    )
