"""Background jobs (Huey): the monthly freeze of the evaluation, and the fact refresh.

Run a worker with ``huey_consumer cityloop.adapters.jobs.huey``. Storage is SQLite under
``var/`` by default (one file, embedded); with ``CITYLOOP_HUEY_REDIS`` set (a Redis URL) the
queue lives in Redis, as in production (DESIGN.md: background work).

The periodic tasks are checked every minute in UTC; :func:`first_of_month_0030` decides in the
city's time zone, so the freeze runs at 00:30 local time on the 1st whatever the worker's zone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from huey import Huey, RedisHuey, SqliteHuey
from sqlalchemy import Engine

from cityloop.adapters.db.engine import make_engine
from cityloop.adapters.db.repositories.sla import SlaCache
from cityloop.adapters.db.uow import SqlUnitOfWork
from cityloop.adapters.files import LocalFileStore
from cityloop.adapters.geo.locator import StrTreeLocator
from cityloop.adapters.passwords import Argon2Passwords
from cityloop.config import get_settings
from cityloop.domain.roles import SYSTEM_ACTOR
from cityloop.services import evaluation as svc


def _make_huey() -> Huey:
    settings = get_settings()
    if settings.huey_redis:
        return RedisHuey("cityloop", url=settings.huey_redis)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("cityloop", filename=str(settings.var_dir / "huey.db"))


huey = _make_huey()


def first_of_month_0030(tz: tzinfo) -> Callable[[datetime], bool]:
    """A Huey schedule: true in the minute 00:30 of the 1st of a month in ``tz``.

    Huey passes naive UTC minutes (``utc=True``, its default)."""

    def due(moment: datetime) -> bool:
        local = moment.replace(tzinfo=UTC).astimezone(tz)
        return local.day == 1 and local.hour == 0 and local.minute == 30

    return due


def every_minutes(n: int) -> Callable[[datetime], bool]:
    def due(moment: datetime) -> bool:
        return moment.minute % n == 0

    return due


_SLA = SlaCache()
_ENGINES: dict[str, Engine] = {}


def _units() -> tuple[SqlUnitOfWork, SqlUnitOfWork]:
    """A reading and a writing unit of work on the configured database."""
    settings = get_settings()
    url = settings.effective_database_url
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = make_engine(url)
    locator = StrTreeLocator(engine)
    files = LocalFileStore(settings.attachments_dir)
    passwords = Argon2Passwords()

    def unit(readonly: bool) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            engine,
            locator=locator,
            files=files,
            passwords=passwords,
            sla_cache=_SLA,
            readonly=readonly,
        )

    return unit(True), unit(False)


def freeze_previous_month(now: datetime | None = None) -> list[str]:
    """Freeze last month for the city and every district; returns the scopes frozen now."""
    reader, writer = _units()
    done = svc.freeze_previous_month(
        reader, writer, actor=SYSTEM_ACTOR, now=now or datetime.now(UTC)
    )
    return [f"{r.period}:{r.scope}" for r in done]


def refresh_facts(now: datetime | None = None) -> int:
    reader, writer = _units()
    return svc.refresh_facts(reader, writer, now=now or datetime.now(UTC))


CITY_TZ = ZoneInfo(get_settings().timezone)


@huey.periodic_task(first_of_month_0030(CITY_TZ), retries=3, retry_delay=300)  # type: ignore[untyped-decorator]
def monthly_freeze() -> list[str]:
    return freeze_previous_month()


@huey.periodic_task(every_minutes(5))  # type: ignore[untyped-decorator]
def fact_refresh() -> int:
    return refresh_facts()
