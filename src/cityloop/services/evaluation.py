"""Evaluation use cases that write: bring the facts up to date, freeze (publish) a month,
edit and publish scoring schemes (standards.md §7; rules of the house 4: policy is data).

- **Facts** are folded from the case timeline before any evaluation (cheap when nothing is
  new) and by the scheduled job.
- **Freezing** a month stores every subject's counts, score, grade and rank for the whole
  city and for each district, with the scheme version used; the monthly job freezes the
  previous month at 00:30 on the 1st. A frozen month is never written again: freezing it a
  second time changes nothing.
- **Schemes** are versioned: an administrator creates a draft (from the current scheme or a
  given body), edits it, and publishes it with the day it applies from — not before the
  current month, so that past months keep the scheme they were, or would have been, scored
  with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from cityloop.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from cityloop.domain.evaluation import scheme as schemes
from cityloop.domain.evaluation.periods import Period, PeriodKind, month_of, previous_month
from cityloop.domain.evaluation.records import FrozenLine, FrozenReport, SchemeRecord, SchemeStatus
from cityloop.domain.evaluation.subjects import CITY, SubjectKind
from cityloop.domain.roles import Actor, Role
from cityloop.services.ports import UnitOfWork
from cityloop.services.queries import evaluation as q

MAX_NAME = 200


def refresh_facts(reader: UnitOfWork, writer: UnitOfWork, *, now: datetime) -> int:
    """Fold new case events into the evaluation facts; returns the cases refolded.

    ``reader`` only looks whether anything is new, so that a read costs no write lock;
    ``writer`` (a writing unit of work) folds in steps, one transaction each, until nothing is
    left: other writers get in between the steps of a long history, and each step advances
    the folded position, so the loop ends.
    """
    total = 0
    while True:
        with reader:
            stale = reader.evaluation.facts_stale()
        if not stale:
            return total
        with writer:
            tz = writer.sla.calendar().tz
            total += writer.evaluation.refresh_facts(tz, now)
            writer.commit()


# -- freezing ---


def _require(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        raise PermissionDeniedError(
            "evaluation_admin_only", "Only an administrator may change evaluation settings"
        )


def freeze_month(
    reader: UnitOfWork,
    writer: UnitOfWork,
    *,
    actor: Actor,
    period: Period,
    now: datetime,
) -> list[FrozenReport]:
    """Publish ``period`` (a complete month) for the city and every district; returns the
    reports frozen now (none if the month was frozen already)."""
    _require(actor, Role.ADMIN, Role.SYSTEM)
    if period.kind is not PeriodKind.MONTH:
        raise ValidationError(
            "freeze_month_only", "Only a month can be frozen, not {period}", period=period.key
        )
    refresh_facts(reader, writer, now=now)
    with reader:
        session = q.open_session(reader)
        fr = q.frame(period, session.tz, now)
        if not fr.complete:
            raise ConflictError(
                "period_not_complete",
                "The period {period} is not over yet; it can be frozen from {end}",
                period=period.key,
                end=fr.end.isoformat(),
            )
        scheme = q.scheme_for(reader, period.start)
        scopes: list[str | None] = [None]
        scopes += [r.code for r in session.directory.regions.get("district", [])]
        prepared = []
        for scope in scopes:
            if reader.evaluation.frozen(period.key, scope or CITY) is not None:
                continue
            lines: list[FrozenLine] = []
            for kind in SubjectKind:
                rows = q.compute(
                    session.facts, session.directory, scheme, kind, fr, scope, session.totals,
                    session.context(scope),
                )  # fmt: skip
                for row in rows:
                    lines.append(
                        FrozenLine(
                            kind=kind.value,
                            key=row.subject.key,
                            name=str(row.subject.name),
                            parent=row.subject.parent,
                            counts=dict(row.counts),
                            score=row.score.value,
                            grade=row.score.grade,
                            rank=row.rank,
                        )
                    )
            extras = _extras(q.centre_in(session, period, scope, now),
                             q.hotspots_in(session, period, scope, now, 20))  # fmt: skip
            prepared.append(
                FrozenReport(
                    period=period.key,
                    scope=scope or CITY,
                    scheme_version=scheme.version,
                    as_of=fr.as_of,
                    frozen_at=now,
                    frozen_by=actor.user_id,
                    extras=extras,
                    lines=tuple(lines),
                )
            )
    done = []
    with writer:
        if scheme is schemes.DEFAULT_SCHEME and writer.evaluation.scheme(scheme.version) is None:
            writer.evaluation.add_scheme(q.default_record(now))
        for report in prepared:
            if writer.evaluation.add_frozen(report):
                done.append(report)
        writer.commit()
    return done


def _extras(centre: q.CentreView, spots: q.HotspotView) -> dict[str, Any]:
    stats = centre.stats
    return {
        "centre": {
            "days": [d.isoformat() for d in centre.days],
            "throughput": stats.throughput,
            "sources": {k: list(v) for k, v in stats.sources.items()},
            "stages": {
                k: {"count": s.count, "mean": s.mean, "p90": s.p90} for k, s in stats.stages.items()
            },
            "satisfaction": {str(k): v for k, v in stats.satisfaction.items()},
        },
        "hotspots": {
            "grids": [list(g) for g in spots.hotspots.grids],
            "categories": [list(c) for c in spots.hotspots.categories],
            "hour_of_week": spots.hotspots.hour_of_week,
            "repeats": [[g, c, ids] for g, c, ids in spots.hotspots.repeats],
        },
    }


def freeze_previous_month(
    reader: UnitOfWork, writer: UnitOfWork, *, actor: Actor, now: datetime
) -> list[FrozenReport]:
    """The monthly job: freeze the month before ``now`` (in the city's time zone)."""
    with reader:
        tz = reader.sla.calendar().tz
    return freeze_month(reader, writer, actor=actor, period=previous_month(now, tz), now=now)


# -- schemes ---


def _name(name: str | None, fallback: str) -> str:
    text = (name or fallback).strip()
    if not text or len(text) > MAX_NAME:
        raise ValidationError(
            "scheme_name_invalid",
            "A scheme name has 1 to {limit} characters",
            limit=MAX_NAME,
        )
    return text


def create_scheme(
    uow: UnitOfWork,
    *,
    actor: Actor,
    now: datetime,
    name: str | None = None,
    body: Mapping[str, Any] | None = None,
    based_on: int | None = None,
    note: str = "",
) -> SchemeRecord:
    """A new draft version: ``body`` if given, else a copy of version ``based_on`` (default:
    the scheme in force today)."""
    _require(actor, Role.ADMIN)
    with uow:
        tz = uow.sla.calendar().tz
        stored = uow.evaluation.schemes()
        if not any(r.version == schemes.DEFAULT_SCHEME.version for r in stored):
            uow.evaluation.add_scheme(q.default_record(now))
            stored = uow.evaluation.schemes()
        if body is None:
            source = (
                q.scheme_version(uow, based_on)
                if based_on is not None
                else q.scheme_for(uow, now.astimezone(tz).date())
            )
            body = schemes.to_json(source)
            fallback = source.name
        else:
            fallback = "draft"
        version = max(r.version for r in stored) + 1
        checked = schemes.from_json(
            dict(body), version=version, name="draft", effective_from=date(2000, 1, 1)
        )
        record = SchemeRecord(
            version=version,
            name=_name(name, fallback),
            status=SchemeStatus.DRAFT,
            body=schemes.to_json(checked),
            created_at=now,
            note=note[:2000],
            created_by=actor.user_id,
        )
        uow.evaluation.add_scheme(record)
        uow.commit()
    return record


def _draft(uow: UnitOfWork, version: int) -> SchemeRecord:
    record = uow.evaluation.scheme(version)
    if record is None:
        raise NotFoundError(
            "scheme_not_found", "Scoring scheme version {version} does not exist", version=version
        )
    if record.status is not SchemeStatus.DRAFT:
        raise ConflictError(
            "scheme_published",
            "Scheme version {version} is published and cannot change; create a new version",
            version=version,
        )
    return record


def update_scheme(
    uow: UnitOfWork,
    version: int,
    *,
    actor: Actor,
    body: Mapping[str, Any] | None = None,
    name: str | None = None,
    note: str | None = None,
) -> SchemeRecord:
    """Edit a draft (weights, step tables, grades, region classes)."""
    _require(actor, Role.ADMIN)
    with uow:
        record = _draft(uow, version)
        if body is not None:
            checked = schemes.from_json(
                dict(body), version=version, name=record.name, effective_from=date(2000, 1, 1)
            )
            record = replace(record, body=schemes.to_json(checked))
        if name is not None:
            record = replace(record, name=_name(name, record.name))
        if note is not None:
            record = replace(record, note=note[:2000])
        uow.evaluation.save_scheme(record)
        uow.commit()
    return record


def publish_scheme(
    uow: UnitOfWork,
    version: int,
    *,
    actor: Actor,
    now: datetime,
    effective_from: date,
) -> SchemeRecord:
    """Publish a draft: from ``effective_from`` on (not before the current month) periods are
    scored with it; it never changes again."""
    _require(actor, Role.ADMIN)
    with uow:
        tz = uow.sla.calendar().tz
        record = _draft(uow, version)
        earliest = month_of(now.astimezone(tz).date()).start
        if effective_from < earliest:
            raise ValidationError(
                "scheme_effective_past",
                "A scheme can apply from {earliest} at the earliest; past months keep theirs",
                earliest=earliest.isoformat(),
            )
        record = replace(
            record,
            status=SchemeStatus.PUBLISHED,
            effective_from=effective_from,
            published_at=now,
            published_by=actor.user_id,
        )
        uow.evaluation.save_scheme(record)
        uow.commit()
    return record
