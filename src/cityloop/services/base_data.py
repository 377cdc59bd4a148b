"""Base-data management (基础数据资源管理): import and export grids, regions, components and
standard addresses; versioned unit-grid layers and the grid tools.

Reference: ``standards.md`` §2 (unit grids), §3.3/§3.5 (component census), §4 (addresses).
Every import is one function of the table it was given (read by ``adapters/io`` from GeoJSON,
CSV, XLSX or a zipped Shapefile): it checks every row first, collects every problem (row,
field, reason), and writes nothing unless there is none — then it writes everything in one
transaction through the same services the administration pages use
(:func:`cityloop.services.org.insert_regions` and :func:`~cityloop.services.org.insert_components`).

A grid import is a new **layer version**: the grids of the districts it covers that are valid
now are closed on the new layer's start date (never deleted: a case keeps the grid, and so the
layer version, it was located on), the new grids are added with the next version number,
inspectors' responsible grids move to the new grid of the same code, and components are
located again on the new layer.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from cityloop.domain.address import (
    AddressKind,
    StandardAddress,
    check_address,
    parse_building,
    parse_door,
    parse_kind,
)
from cityloop.domain.audit import Change
from cityloop.domain.base_data import (
    STATUS_TEXT,
    ComponentCensus,
    Entity,
    ExportRow,
    FindingKind,
    GeneratedGrids,
    GridLayer,
    GridShape,
    ImportReport,
    LayerChanges,
    LayerFinding,
    RowProblem,
    ShapeInfo,
    SourceRecord,
    SourceTable,
    parse_date,
    parse_flag,
    parse_status,
    point_wkb,
    text_value,
)
from cityloop.domain.codes import (
    ClassKind,
    Edition,
    parse_admin_code,
    parse_component_code,
    parse_grid_code,
)
from cityloop.domain.components import Component
from cityloop.domain.errors import DomainError, Msg, PermissionDeniedError, ValidationError
from cityloop.domain.org import Department
from cityloop.domain.regions import (
    CODE_LENGTH,
    LEVEL_NAMES,
    PARENT_LEVEL,
    GridHit,
    Region,
    RegionLevel,
    check_nesting,
)
from cityloop.domain.roles import Actor, Role
from cityloop.services import audit
from cityloop.services.org import NewRegion, insert_components, insert_regions
from cityloop.services.ports import UnitOfWork

T = TypeVar("T")

GRID_TOLERANCE_M2 = 10.0
"""Area (m²) a grid may stick out of its community or district, or overlap another grid,
before it is refused: real boundaries from different surveys rarely agree to the square metre."""

ENTITY_NAMES = {
    Entity.GRIDS: Msg("unit grid"),
    Entity.REGIONS: Msg("region"),
    Entity.COMPONENTS: Msg("component"),
    Entity.ADDRESSES: Msg("address"),
}


def _admin(actor: Actor) -> None:
    if actor.role not in (Role.ADMIN, Role.SYSTEM):
        raise PermissionDeniedError(
            "admin_only_base_data", "Only an administrator may change base data"
        )


def _staff(actor: Actor) -> None:
    if actor.role is Role.CITIZEN:
        raise PermissionDeniedError(
            "staff_only_base_data", "Base data is for the staff of the city"
        )


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """``valid_from``: the start of a new grid layer (default: today); ``district_code``: refuse
    rows outside this district; ``dry_run``: check only; ``source``/``note``: recorded on the
    grid layer."""

    valid_from: date | None = None
    district_code: str | None = None
    dry_run: bool = False
    source: str = ""
    note: str = ""


@dataclass
class _Report:
    """Problems (which block the import) and warnings, in row order."""

    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)

    def add(self, row: int, field_name: str, error: DomainError) -> None:
        self.problems.append(RowProblem(row, field_name, error))
        self.bad_rows.add(row)

    def warn(self, row: int, field_name: str, error: DomainError) -> None:
        self.warnings.append(RowProblem(row, field_name, error))

    def check(self, row: int, field_name: str, fn: Callable[..., T], *args: Any) -> T | None:
        try:
            return fn(*args)
        except ValidationError as err:
            self.add(row, field_name, err)
            return None

    def passes(self, row: int, field_name: str, fn: Callable[..., object], *args: Any) -> bool:
        try:
            fn(*args)
        except ValidationError as err:
            self.add(row, field_name, err)
            return False
        return True

    def finish(
        self, entity: Entity, rows: int, *, applied: bool, dry_run: bool, **kw: Any
    ) -> ImportReport:
        key: Callable[[RowProblem], tuple[int, str]] = lambda p: (p.row, p.field)  # noqa: E731
        return ImportReport(
            entity=entity,
            rows=rows,
            applied=applied,
            dry_run=dry_run,
            problems=tuple(sorted(self.problems, key=key)),
            warnings=tuple(sorted(self.warnings, key=key)),
            **kw,
        )


def _text(values: Mapping[str, Any], name: str) -> str:
    return text_value(values.get(name))


def _limit(report: _Report, row: int, name: str, value: str, limit: int) -> str:
    if len(value) > limit:
        report.add(
            row,
            name,
            ValidationError(
                "field_too_long",
                "{field} has {length} characters; at most {limit} are allowed",
                field=name,
                length=len(value),
                limit=limit,
            ),
        )
    return value


def _duplicate(report: _Report, seen: dict[str, int], row: int, name: str, code: str) -> bool:
    if code in seen:
        report.add(
            row,
            name,
            ValidationError(
                "duplicate_in_file",
                "{code} appears more than once in the file (first in row {first})",
                code=code,
                first=seen[code],
            ),
        )
        return True
    seen[code] = row
    return False


def _wrong_type(entity: Entity, expected: Msg, actual: str) -> ValidationError:
    return ValidationError(
        "geometry_type_wrong",
        "A {entity} needs a {expected} geometry, not {actual}",
        entity=ENTITY_NAMES[entity],
        expected=expected,
        actual=actual or "?",
    )


def _geometry(
    report: _Report, record: SourceRecord, info: ShapeInfo | None, *, required: bool
) -> bool:
    """Report a missing, unreadable or invalid geometry; True when the geometry is usable."""
    if record.problem is not None:
        report.add(record.row, "geometry", record.problem)
        return False
    if record.geometry is None or info is None:
        if required:
            report.add(
                record.row,
                "geometry",
                ValidationError("geometry_missing", "The row has no geometry or position"),
            )
        return False
    if info.empty:
        report.add(
            record.row, "geometry", ValidationError("geometry_empty", "The geometry is empty")
        )
        return False
    if not info.valid:
        report.add(
            record.row,
            "geometry",
            ValidationError(
                "geometry_invalid", "The geometry is not valid: {reason}", reason=info.reason
            ),
        )
        return False
    return True


def _scope(
    report: _Report, row: int, actor: Actor, district: str, options: ImportOptions, what: str
) -> None:
    if options.district_code is not None and district != options.district_code:
        report.add(
            row,
            "geometry",
            ValidationError(
                "outside_district",
                "{what} lies in district {found}, not in district {district}",
                what=what,
                found=district,
                district=options.district_code,
            ),
        )
    elif not actor.covers_district(district):
        report.add(
            row,
            "geometry",
            ValidationError(
                "outside_scope_row",
                "{what} lies in district {found}, outside your area",
                what=what,
                found=district,
            ),
        )


def _outside_city(lon: float, lat: float) -> ValidationError:
    return ValidationError(
        "point_outside_city",
        "The position {lon}, {lat} is outside every unit grid of the city",
        lon=round(lon, 7),
        lat=round(lat, 7),
    )


# -- entry point ------------------------------------------------------------------------------
def import_table(
    uow: UnitOfWork,
    entity: Entity,
    table: SourceTable,
    *,
    actor: Actor,
    now: datetime,
    options: ImportOptions | None = None,
) -> ImportReport:
    """Check every record of ``table`` and, when none has a problem (and not a dry run), write
    them all in one transaction. The report lists each problem and warning by row and field."""
    _admin(actor)
    options = options or ImportOptions()
    if options.district_code is not None:
        parse_admin_code(options.district_code)
    report = _Report()
    for header in table.ignored:
        report.warn(
            0,
            header,
            ValidationError(
                "column_ignored", "Column {column} is not known and was ignored", column=header
            ),
        )
    if not table.records:
        report.add(0, "", ValidationError("file_no_records", "The file holds no records"))
        return report.finish(entity, 0, applied=False, dry_run=options.dry_run)
    importer = {
        Entity.GRIDS: _import_grids,
        Entity.REGIONS: _import_regions,
        Entity.COMPONENTS: _import_components,
        Entity.ADDRESSES: _import_addresses,
    }[entity]
    return importer(uow, table, report, actor=actor, now=now, options=options)


def _log_import(
    uow: UnitOfWork,
    entity: Entity,
    table: SourceTable,
    *,
    actor: Actor,
    now: datetime,
    options: ImportOptions,
) -> None:
    """One change-log entry per applied import, in the import's transaction."""
    audit.record(
        uow,
        actor,
        now,
        entity="base_data",
        key=entity.value,
        change=Change.IMPORT,
        after={
            "entity": entity.value,
            "file": options.source,
            "rows": len(table.records),
            "district": options.district_code,
            "valid_from": options.valid_from,
        },
        summary=f"{options.source or entity.value} · {len(table.records)}",
    )


def _current_grid_code(text: str) -> Any:
    return parse_grid_code(text, allow_legacy=False)


# -- grids ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _GridRow:
    row: int
    code: str
    name: str
    geometry: bytes
    info: ShapeInfo


def _import_grids(
    uow: UnitOfWork,
    table: SourceTable,
    report: _Report,
    *,
    actor: Actor,
    now: datetime,
    options: ImportOptions,
) -> ImportReport:
    records = table.records
    infos = uow.spatial.describe([r.geometry for r in records])
    starts = {_text(r.values, "valid_from") for r in records} - {""}
    valid_from = options.valid_from
    if valid_from is None and len(starts) == 1:
        valid_from = report.check(records[0].row, "valid_from", parse_date, next(iter(starts)))
    elif valid_from is None and len(starts) > 1:
        report.add(
            0,
            "valid_from",
            ValidationError(
                "layer_valid_from_mixed",
                "All grids of a layer start on the same day; the file has {count} dates",
                count=len(starts),
            ),
        )
    valid_from = valid_from or now.date()
    seen: dict[str, int] = {}
    good: list[_GridRow] = []
    communities: dict[str, Region | None] = {}
    with uow:
        for record, info in zip(records, infos, strict=True):
            row, values = record.row, record.values
            code_text = _text(values, "code")
            parsed = report.check(row, "code", _current_grid_code, code_text)
            usable = _geometry(report, record, info, required=True)
            if usable and not info.areal:
                report.add(
                    row, "geometry", _wrong_type(Entity.GRIDS, Msg("polygon"), info.geometry_type)
                )
                usable = False
            if parsed is None:
                continue
            code = parsed.value
            if _duplicate(report, seen, row, "code", code):
                continue
            given = _text(values, "community_code")
            if given and given != parsed.community_code:
                report.add(
                    row,
                    "community_code",
                    ValidationError(
                        "grid_not_in_community",
                        "Grid {code} does not start with its community's code {community}",
                        code=code,
                        community=given,
                    ),
                )
            community_code = parsed.community_code
            if community_code not in communities:
                found = uow.regions.by_code(community_code)
                communities[community_code] = (
                    found if found is not None and found.level is RegionLevel.COMMUNITY else None
                )
            if communities[community_code] is None:
                report.add(
                    row,
                    "code",
                    ValidationError(
                        "grid_community_unknown",
                        "Community {community} of grid {code} does not exist; import or create"
                        " it first",
                        community=community_code,
                        code=code,
                    ),
                )
            _scope(report, row, actor, parsed.admin, options, code)
            name = _limit(report, row, "name", _text(values, "name"), 100)
            if usable and record.geometry is not None:
                good.append(
                    _GridRow(row, code, name or f"网格{parsed.sequence}", record.geometry, info)
                )
        _check_grid_geometry(uow, report, good)
        districts = sorted({g.code[:6] for g in good})
        current = uow.base_data.current_grids(districts) if districts else []
        latest = max((g.valid_from for g in current if g.valid_from), default=None)
        if latest is not None and valid_from <= latest:
            report.add(
                0,
                "valid_from",
                ValidationError(
                    "layer_valid_from_too_early",
                    "The new layer must start after {date}, when the current grids of these"
                    " districts started",
                    date=latest.isoformat(),
                ),
            )
        changes = None
        renamed: tuple[tuple[str, str], ...] = ()
        if not report.problems and current:
            old = uow.base_data.grid_shapes(district_codes=districts)
            new = [GridShape(g.code, g.geometry, g.code[:12]) for g in good]
            added, removed, changed, renamed = uow.spatial.compare_grids(old, new)
            changes = {
                "added": len(added),
                "removed": len(removed),
                "changed": len(changed),
                "renamed": len(renamed),
            }
        summary: dict[str, Any] = {"districts": districts, "valid_from": valid_from.isoformat()}
        if changes is not None:
            summary["changes"] = changes
        if report.problems or options.dry_run:
            return report.finish(
                Entity.GRIDS, len(records), applied=False, dry_run=options.dry_run, summary=summary
            )
        version = uow.base_data.next_layer_version()
        uow.base_data.close_regions([g.id for g in current], valid_from)
        created = insert_regions(
            uow,
            [
                NewRegion(
                    level=RegionLevel.GRID,
                    code=g.code,
                    name=g.name,
                    parent_code=g.code[:12],
                    geometry_wkb=g.geometry,
                    area_m2=round(g.info.area_m2, 2),
                    centroid=g.info.inner_point,
                    valid_from=valid_from,
                    layer_version=version,
                )
                for g in sorted(good, key=lambda g: g.code)
            ],
            now=now,
        )
        uow.base_data.add_layer(
            GridLayer(
                version=version,
                valid_from=valid_from,
                district_codes=tuple(districts),
                grid_count=len(created),
                source=options.source,
                note=options.note,
                created_at=now,
                created_by=actor.user_id,
            )
        )
        new_ids = {r.code: r.id for r in created}
        successor = {g.code: g.code for g in current if g.code in new_ids}
        successor.update({old: new for old, new in renamed if old not in new_ids})
        moved = uow.base_data.move_inspector_grids(
            {g.id: new_ids[successor[g.code]] for g in current if g.code in successor}
        )
        relocated = _relocate_components(
            uow, districts, created, [g.geometry for g in sorted(good, key=lambda g: g.code)]
        )
        uow.base_data.bump_revision("grids")
        uow.after_commit(uow.locator.reload)
        _log_import(uow, Entity.GRIDS, table, actor=actor, now=now, options=options)
        uow.commit()
    summary.update(closed=len(current), inspector_grids_moved=moved, components_relocated=relocated)
    return report.finish(
        Entity.GRIDS,
        len(records),
        applied=True,
        dry_run=False,
        created=len(created),
        layer_version=version,
        summary=summary,
    )


def _check_grid_geometry(uow: UnitOfWork, report: _Report, grids: Sequence[_GridRow]) -> None:
    """Grids inside their community and district outlines (where those exist), and no two
    grids of the file overlapping."""
    if not grids:
        return
    by_code = {g.code: g for g in grids}
    parents = uow.base_data.region_geometries(
        sorted({g.code[:12] for g in grids} | {g.code[:6] for g in grids})
    )
    for level, length in (("community", 12), ("district", 6)):
        with_parent = [g for g in grids if g.code[:length] in parents]
        for parent in sorted({g.code[:length] for g in with_parent}):
            mine = [g for g in with_parent if g.code[:length] == parent]
            areas = uow.spatial.outside_area([g.geometry for g in mine], parents[parent])
            for g, area in zip(mine, areas, strict=True):
                if area > GRID_TOLERANCE_M2:
                    report.add(
                        g.row,
                        "geometry",
                        ValidationError(
                            "grid_outside_parent",
                            "{area} m² of grid {code} lie outside its {level} {parent}",
                            area=round(area, 1),
                            code=g.code,
                            level=Msg(level),
                            parent=parent,
                        ),
                    )
    findings = uow.spatial.check_grids(
        [GridShape(g.code, g.geometry, g.code[:12]) for g in grids],
        {},
        tolerance_m2=GRID_TOLERANCE_M2,
    )
    for finding in findings:
        if finding.kind is FindingKind.OVERLAP:
            first, second = finding.codes[0], finding.codes[1]
            report.add(
                by_code[second].row,
                "geometry",
                ValidationError(
                    "grid_overlap",
                    "Grid {code} overlaps grid {other} (row {other_row}) by {area} m²",
                    code=second,
                    other=first,
                    other_row=by_code[first].row,
                    area=round(finding.area_m2 or 0.0, 1),
                ),
            )
        elif finding.kind is FindingKind.GAP:
            report.warn(
                0,
                "geometry",
                ValidationError(
                    "grid_layer_gap", "A gap in the layer: {detail}", detail=finding.detail
                ),
            )


def _relocate_components(
    uow: UnitOfWork, districts: Sequence[str], grids: Sequence[Region], shapes: Sequence[bytes]
) -> int:
    """Give every component of the redrawn districts the grid of the new layer it lies in."""
    positions = uow.base_data.component_positions(districts)
    if not positions:
        return 0
    found = uow.spatial.assign_points([(lon, lat) for _, lon, lat in positions], shapes)
    changes: dict[int, int | None] = {
        cid: grids[i].id if i >= 0 else None
        for (cid, _, _), i in zip(positions, found, strict=True)
    }
    uow.base_data.set_component_grids(changes)
    return len(changes)


# -- regions (district, street, community) ---------------------------------------------------------
_LEVEL_WORDS = {
    "区": RegionLevel.DISTRICT,
    "区县": RegionLevel.DISTRICT,
    "县": RegionLevel.DISTRICT,
    "街道": RegionLevel.STREET,
    "乡镇": RegionLevel.STREET,
    "镇": RegionLevel.STREET,
    "社区": RegionLevel.COMMUNITY,
    "村": RegionLevel.COMMUNITY,
}
_LENGTH_LEVEL = {length: level for level, length in CODE_LENGTH.items()}


def _region_level(text: str, code: str) -> RegionLevel:
    value = text.strip().lower()
    if not value:
        if len(code) in _LENGTH_LEVEL and len(code) != 15:
            return _LENGTH_LEVEL[len(code)]
        raise ValidationError(
            "region_level_missing", "Say which level the region is: district, street or community"
        )
    level = _LEVEL_WORDS.get(value)
    if level is None:
        try:
            level = RegionLevel(value)
        except ValueError as exc:
            raise ValidationError(
                "region_level_invalid",
                "{value} is not a region level; use district, street or community",
                value=text,
            ) from exc
    if level is RegionLevel.GRID:
        raise ValidationError(
            "region_level_grid", "Unit grids are imported as a grid layer (entity grids)"
        )
    return level


def _import_regions(
    uow: UnitOfWork,
    table: SourceTable,
    report: _Report,
    *,
    actor: Actor,
    now: datetime,
    options: ImportOptions,
) -> ImportReport:
    """New regions are added; a region that exists (a current one of the same code and
    level) gets the file's name and, when the row has one, its outline."""
    records = table.records
    infos = uow.spatial.describe([r.geometry for r in records])
    seen: dict[str, int] = {}
    rows: list[tuple[int, NewRegion]] = []
    updates: list[tuple[int, Region, str, bytes | None, ShapeInfo | None]] = []
    with uow:
        for record, info in zip(records, infos, strict=True):
            row, values = record.row, record.values
            code = _text(values, "code")
            level = report.check(row, "level", _region_level, _text(values, "level"), code)
            name = _limit(report, row, "name", _text(values, "name"), 100)
            if not name:
                report.add(
                    row, "name", ValidationError("region_name_missing", "A region needs a name")
                )
            geometry = None
            has_shape = record.geometry is not None or record.problem is not None
            if has_shape and _geometry(report, record, info, required=False):
                if info.areal:
                    geometry = record.geometry
                else:
                    report.add(
                        row,
                        "geometry",
                        _wrong_type(Entity.REGIONS, Msg("polygon"), info.geometry_type),
                    )
            if level is None:
                continue
            parent = _text(values, "parent_code") or None
            if parent is None and level is not RegionLevel.DISTRICT:
                parent = code[: CODE_LENGTH[PARENT_LEVEL[level]]]
            if level is RegionLevel.DISTRICT:
                code_ok = report.passes(row, "code", parse_admin_code, code)
            else:
                code_ok = report.passes(row, "code", check_nesting, level, code, parent)
            if not code_ok or _duplicate(report, seen, row, "code", code):
                continue
            _scope(report, row, actor, code[:6], options, code)
            existing = uow.regions.by_code(code, on=options.valid_from or now.date())
            if existing is not None and existing.level is not level:
                report.add(
                    row,
                    "level",
                    ValidationError(
                        "region_level_differs",
                        "Region {code} exists as a {level}",
                        code=code,
                        level=LEVEL_NAMES[existing.level],
                    ),
                )
                continue
            if existing is not None:
                updates.append((row, existing, name, geometry, info if geometry else None))
                continue
            rows.append(
                (
                    row,
                    NewRegion(
                        level=level,
                        code=code,
                        name=name,
                        parent_code=parent,
                        geometry_wkb=geometry,
                        area_m2=round(info.area_m2, 2) if geometry else None,
                        centroid=info.inner_point if geometry else None,
                        valid_from=options.valid_from,
                    ),
                )
            )
        new_codes = {item.code for _, item in rows}
        for row, item in rows:
            if (
                item.parent_code is not None
                and item.parent_code not in new_codes
                and uow.regions.by_code(item.parent_code) is None
            ):
                report.add(
                    row,
                    "parent_code",
                    ValidationError(
                        "region_parent_unknown",
                        "Parent region {code} does not exist",
                        code=item.parent_code,
                    ),
                )
        if report.problems or options.dry_run:
            return report.finish(
                Entity.REGIONS,
                len(records),
                applied=False,
                dry_run=options.dry_run,
                summary={"new": len(rows), "updated": len(updates)},
            )
        order = list(RegionLevel)
        created = insert_regions(
            uow,
            [item for _, item in sorted(rows, key=lambda r: (order.index(r[1].level), r[1].code))],
            now=now,
        )
        for _, region, name, geometry, shape in updates:
            uow.base_data.update_region(
                region.id,
                name=name,
                geometry_wkb=geometry,
                area_m2=round(shape.area_m2, 2) if shape else None,
                centroid=shape.inner_point if shape else None,
            )
        uow.base_data.bump_revision("regions")
        uow.after_commit(uow.geocoder.invalidate)
        _log_import(uow, Entity.REGIONS, table, actor=actor, now=now, options=options)
        uow.commit()
    return report.finish(
        Entity.REGIONS,
        len(records),
        applied=True,
        dry_run=False,
        created=len(created),
        summary={"new": len(created), "updated": len(updates)},
    )


# -- components ---------------------------------------------------------------------------------
_PHOTO_SPLIT = re.compile(r"[;|,，；\n]+")


def _departments(uow: UnitOfWork) -> dict[str, Department]:
    """Departments by code, credit code and name (for matching census names)."""
    found: dict[str, Department] = {}
    for dept in uow.org.departments():
        for key in (dept.name, dept.code, dept.credit_code):
            if key:
                found.setdefault(key, dept)
    return found


def _import_components(
    uow: UnitOfWork,
    table: SourceTable,
    report: _Report,
    *,
    actor: Actor,
    now: datetime,
    options: ImportOptions,
) -> ImportReport:
    records = table.records
    infos = uow.spatial.describe([r.geometry for r in records])
    seen: dict[str, int] = {}
    census: list[tuple[int, ComponentCensus]] = []
    positions: list[tuple[float, float] | None] = []
    for record, info in zip(records, infos, strict=True):
        point = None
        if record.problem is None and record.geometry is not None and info.valid and not info.empty:
            point = info.inner_point
        positions.append(point)
    hits = uow.locator.locate_many([p for p in positions if p is not None])
    hit_of: list[GridHit | None] = []
    it = iter(hits)
    for p in positions:
        hit_of.append(next(it) if p is not None else None)
    unmatched: set[str] = set()
    with uow:
        departments = _departments(uow)
        classes: dict[str, tuple[int, str] | None] = {}
        for record, info, point, hit in zip(records, infos, positions, hit_of, strict=True):
            row, values = record.row, record.values
            code_text = _text(values, "object_code")
            parsed = report.check(row, "object_code", parse_component_code, code_text)
            if parsed is not None and parsed.edition is Edition.LEGACY:
                report.add(
                    row,
                    "object_code",
                    ValidationError(
                        "component_code_legacy",
                        "Component code {code} is a legacy 16-digit code; convert it to the"
                        " 17-digit code of GB/T 47678.5",
                        code=parsed.value,
                    ),
                )
                parsed = None
            class_code = _text(values, "class_code")
            category = None
            if parsed is not None:
                part = parsed.class_code.value
                if class_code and class_code != part:
                    report.add(
                        row,
                        "class_code",
                        ValidationError(
                            "component_class_mismatch_code",
                            "Class {class_code} does not match the class part {part} of object"
                            " code {code}",
                            class_code=class_code,
                            part=part,
                            code=parsed.value,
                        ),
                    )
                class_code = part
            if class_code:
                if class_code not in classes:
                    found = uow.catalog.category_by_code(
                        Edition.CURRENT, ClassKind.COMPONENT, class_code
                    )
                    classes[class_code] = (found.id, found.name) if found else None
                category = classes[class_code]
                if category is None:
                    report.add(
                        row,
                        "class_code",
                        ValidationError(
                            "unknown_category",
                            "Class code {code} is not in the class dictionary",
                            code=class_code,
                        ),
                    )
            fresh = parsed is not None and not _duplicate(
                report, seen, row, "object_code", parsed.value
            )
            if fresh and parsed is not None and uow.components.by_code(parsed.value) is not None:
                report.add(
                    row,
                    "object_code",
                    ValidationError(
                        "component_code_taken", "Component {code} already exists", code=parsed.value
                    ),
                )
            usable = _geometry(report, record, info, required=True)
            if usable and not (info.punctual or info.linear or info.areal):
                report.add(
                    row,
                    "geometry",
                    _wrong_type(
                        Entity.COMPONENTS, Msg("point, line or polygon"), info.geometry_type
                    ),
                )
                usable = False
            if usable and point is not None:
                if hit is None:
                    report.add(row, "geometry", _outside_city(*point))
                else:
                    if parsed is not None and hit.district_code != parsed.admin:
                        report.add(
                            row,
                            "geometry",
                            ValidationError(
                                "component_outside_district",
                                "Component {code} lies in district {found}, not in district"
                                " {district} of its code",
                                code=parsed.value,
                                found=hit.district_code,
                                district=parsed.admin,
                            ),
                        )
                    else:
                        _scope(report, row, actor, hit.district_code, options, code_text)
                    given_grid = _text(values, "grid_code")
                    if given_grid and given_grid != hit.grid_code:
                        report.warn(
                            row,
                            "grid_code",
                            ValidationError(
                                "grid_code_differs",
                                "The file says grid {given}; the position lies in grid {found},"
                                " which is used",
                                given=given_grid,
                                found=hit.grid_code,
                            ),
                        )
            status = report.check(row, "status", parse_status, values.get("status"))
            initial = report.check(row, "initial_date", parse_date, values.get("initial_date"))
            changed = report.check(row, "change_date", parse_date, values.get("change_date"))
            texts = {
                name: _limit(report, row, name, _text(values, name), limit)
                for name, limit in (
                    ("name", 30),
                    ("supervisor_code", 18),
                    ("supervisor_name", 100),
                    ("owner_code", 18),
                    ("owner_name", 100),
                    ("maintainer_code", 18),
                    ("maintainer_name", 100),
                    ("data_source", 30),
                    ("note", 1000),
                )
            }
            if not texts["supervisor_code"] and not texts["supervisor_name"]:
                report.add(
                    row,
                    "supervisor_name",
                    ValidationError(
                        "component_supervisor_missing",
                        "A component needs its supervising department (主管部门)",
                    ),
                )
            ids: dict[str, int | None] = {}
            for role in ("supervisor", "owner", "maintainer"):
                code_value, name_value = texts[f"{role}_code"], texts[f"{role}_name"]
                dept = departments.get(code_value) or departments.get(name_value)
                ids[role] = dept.id if dept else None
                label = name_value or code_value
                if label and dept is None and label not in unmatched:
                    unmatched.add(label)
                    report.warn(
                        row,
                        f"{role}_name",
                        ValidationError(
                            "department_not_found",
                            "No department matches {name}; it is kept as text",
                            name=label,
                        ),
                    )
            if row in report.bad_rows or parsed is None or point is None or category is None:
                continue
            photos = tuple(
                p.strip() for p in _PHOTO_SPLIT.split(_text(values, "photos")) if p.strip()
            )
            census.append(
                (
                    row,
                    ComponentCensus(
                        component=Component(
                            id=0,
                            object_code=parsed.value,
                            category_id=category[0],
                            class_code=class_code,
                            name=texts["name"] or category[1],
                            lon=round(point[0], 8),
                            lat=round(point[1], 8),
                            supervisor_id=ids["supervisor"],
                            owner_id=ids["owner"],
                            maintainer_id=ids["maintainer"],
                            status=status or parse_status(""),
                            initial_date=initial,
                            change_date=changed,
                        ),
                        supervisor_code=texts["supervisor_code"],
                        supervisor_name=texts["supervisor_name"],
                        owner_code=texts["owner_code"],
                        owner_name=texts["owner_name"],
                        maintainer_code=texts["maintainer_code"],
                        maintainer_name=texts["maintainer_name"],
                        data_source=texts["data_source"],
                        note=texts["note"],
                        photos=photos,
                        geometry=None if info.geometry_type == "Point" else record.geometry,
                    ),
                )
            )
        if report.problems or options.dry_run:
            return report.finish(
                Entity.COMPONENTS, len(records), applied=False, dry_run=options.dry_run
            )
        created = insert_components(uow, [c.component for _, c in census], now=now)
        uow.base_data.add_component_attributes(
            [
                ComponentCensus(
                    component=made,
                    supervisor_code=c.supervisor_code,
                    supervisor_name=c.supervisor_name,
                    owner_code=c.owner_code,
                    owner_name=c.owner_name,
                    maintainer_code=c.maintainer_code,
                    maintainer_name=c.maintainer_name,
                    data_source=c.data_source,
                    note=c.note,
                    photos=c.photos,
                    geometry=c.geometry,
                )
                for made, (_, c) in zip(created, census, strict=True)
            ]
        )
        _log_import(uow, Entity.COMPONENTS, table, actor=actor, now=now, options=options)
        uow.commit()
    return report.finish(
        Entity.COMPONENTS, len(records), applied=True, dry_run=False, created=len(created)
    )


# -- addresses ------------------------------------------------------------------------------------
_ALIAS_SPLIT = re.compile(r"[|;,，；、]+")
_ADDRESS_FIELDS = {
    "address_code_invalid": "code",
    "address_road_missing": "road",
    "address_door_missing": "door",
    "address_building_missing": "building",
    "address_name_missing": "name",
    "address_name_too_long": "name",
    "address_too_many_aliases": "aliases",
}


def _address_kind(values: Mapping[str, Any]) -> AddressKind:
    text = _text(values, "kind")
    if text:
        return parse_kind(text)
    if _text(values, "building"):
        return AddressKind.BUILDING
    if _text(values, "door"):
        return AddressKind.DOOR
    if _text(values, "name") and not _text(values, "road"):
        return AddressKind.POI
    return AddressKind.ROAD


def _import_addresses(
    uow: UnitOfWork,
    table: SourceTable,
    report: _Report,
    *,
    actor: Actor,
    now: datetime,
    options: ImportOptions,
) -> ImportReport:
    records = table.records
    infos = uow.spatial.describe([r.geometry for r in records])
    positions: list[tuple[float, float] | None] = []
    for record, info in zip(records, infos, strict=True):
        ok = record.problem is None and record.geometry is not None and info.valid
        positions.append(info.inner_point if ok and not info.empty else None)
    found = iter(uow.locator.locate_many([p for p in positions if p is not None]))
    hits = [next(found) if p is not None else None for p in positions]
    seen: dict[str, int] = {}
    items: list[StandardAddress] = []
    with uow:
        taken = uow.base_data.address_codes_in_use([_text(r.values, "code") for r in records])
        for record, info, point, hit in zip(records, infos, positions, hits, strict=True):
            row, values = record.row, record.values
            code = _text(values, "code")
            kind = report.check(row, "kind", _address_kind, values)
            if code in taken:
                report.add(
                    row,
                    "code",
                    ValidationError(
                        "address_code_taken", "Address {code} already exists", code=code
                    ),
                )
            elif code:
                _duplicate(report, seen, row, "code", code)
            usable = _geometry(report, record, info, required=True)
            if usable and kind is not None:
                allowed = {
                    AddressKind.ROAD: info.linear or info.punctual,
                    AddressKind.AREA: info.areal or info.punctual,
                }.get(kind, info.geometry_type == "Point")
                if not allowed:
                    expected = {
                        AddressKind.ROAD: Msg("line or point"),
                        AddressKind.AREA: Msg("polygon or point"),
                    }.get(kind, Msg("point"))
                    report.add(
                        row, "geometry", _wrong_type(Entity.ADDRESSES, expected, info.geometry_type)
                    )
                    usable = False
            if usable and point is not None and hit is None:
                report.add(row, "geometry", _outside_city(*point))
                usable = False
            district = _text(values, "district_code")
            if usable and hit is not None:
                if district and district != hit.district_code:
                    report.add(
                        row,
                        "district_code",
                        ValidationError(
                            "outside_district",
                            "{what} lies in district {found}, not in district {district}",
                            what=code,
                            found=hit.district_code,
                            district=district,
                        ),
                    )
                else:
                    _scope(report, row, actor, hit.district_code, options, code)
                for name, part in (
                    ("street_code", hit.street_code),
                    ("community_code", hit.community_code),
                ):
                    given = _text(values, name)
                    if given and given != part:
                        report.warn(
                            row,
                            name,
                            ValidationError(
                                "address_region_differs",
                                "The file says {given}; the position lies in {found},"
                                " which is used",
                                given=given,
                                found=part,
                            ),
                        )
            if kind is None or not usable or hit is None or point is None:
                continue
            door, compound = parse_door(values.get("door"))
            address = StandardAddress(
                id=0,
                code=code,
                kind=kind,
                district_code=hit.district_code,
                lon=round(point[0], 8),
                lat=round(point[1], 8),
                road=_text(values, "road"),
                door=door,
                compound=compound,
                building=parse_building(values.get("building")),
                name=_text(values, "name"),
                poi_type=_text(values, "poi_type"),
                street_code=hit.street_code,
                community_code=hit.community_code,
                grid_code=hit.grid_code,
                aliases=tuple(
                    a.strip() for a in _ALIAS_SPLIT.split(_text(values, "aliases")) if a.strip()
                ),
                synthetic=parse_flag(values.get("synthetic")),
                source=_limit(report, row, "source", _text(values, "source"), 100),
                valid_from=options.valid_from or now.date(),
                geometry_wkb=None if info.geometry_type == "Point" else record.geometry,
            )
            try:
                check_address(address)
            except ValidationError as err:
                report.add(row, _ADDRESS_FIELDS.get(err.code, "code"), err)
            if row not in report.bad_rows:
                items.append(address)
        if report.problems or options.dry_run:
            return report.finish(
                Entity.ADDRESSES, len(records), applied=False, dry_run=options.dry_run
            )
        count = uow.base_data.add_addresses(items)
        uow.base_data.bump_revision("addresses")
        uow.after_commit(uow.geocoder.invalidate)
        _log_import(uow, Entity.ADDRESSES, table, actor=actor, now=now, options=options)
        uow.commit()
    return report.finish(Entity.ADDRESSES, len(records), applied=True, dry_run=False, created=count)


def load_addresses(
    uow: UnitOfWork,
    addresses: Sequence[StandardAddress],
    *,
    actor: Actor,
    now: datetime,
    skip_outside: bool = False,
) -> int:
    """Add a whole address register (e.g. the synthetic demo register) in one transaction.

    Each entry is checked (:func:`~cityloop.domain.address.check_address`), located in its
    grid and given the grid's district, street and community (the grid layer is the
    authority); the first bad entry refuses the whole batch — or, with ``skip_outside``, an
    entry outside every grid is left out. Returns how many were added.
    """
    _admin(actor)
    for item in addresses:
        check_address(item)
    hits = uow.locator.locate_many([(a.lon, a.lat) for a in addresses])
    ready = []
    for item, hit in zip(addresses, hits, strict=True):
        if hit is None:
            if skip_outside:
                continue
            raise _outside_city(item.lon, item.lat)
        ready.append(
            StandardAddress(
                **{
                    **{f: getattr(item, f) for f in item.__dataclass_fields__},
                    "district_code": hit.district_code,
                    "street_code": hit.street_code,
                    "community_code": hit.community_code,
                    "grid_code": hit.grid_code,
                    "valid_from": item.valid_from or now.date(),
                }
            )
        )
    counts = Counter(a.code for a in ready)
    repeated = sorted(code for code, n in counts.items() if n > 1)
    if repeated:
        raise ValidationError(
            "address_code_repeated",
            "Address code {code} is used more than once",
            code=repeated[0],
        )
    with uow:
        taken = uow.base_data.address_codes_in_use([a.code for a in ready])
        if taken:
            raise ValidationError(
                "address_code_taken", "Address {code} already exists", code=sorted(taken)[0]
            )
        count = uow.base_data.add_addresses(ready)
        uow.base_data.bump_revision("addresses")
        uow.after_commit(uow.geocoder.invalidate)
        uow.commit()
    return count


# -- export ---------------------------------------------------------------------------------------
def _date8(value: date | None) -> str:
    return value.strftime("%Y%m%d") if value else ""


def export_rows(
    uow: UnitOfWork,
    entity: Entity,
    *,
    actor: Actor,
    version: int | None = None,
    district_code: str | None = None,
) -> list[ExportRow]:
    """The records of ``entity`` as text values and WGS84 geometry, ready to write in any
    format; the columns are those an import reads back (a round trip changes nothing).
    A district user gets its district only."""
    _staff(actor)
    districts = [d for d in (district_code, actor.district_code) if d]
    if len(set(districts)) > 1:
        raise PermissionDeniedError(
            "district_outside_scope",
            "District {district} is outside your area",
            district=district_code,
        )
    scope = districts[:1]
    with uow:
        if entity is Entity.GRIDS:
            rows = uow.base_data.grid_rows(version=version)
            return [
                ExportRow(
                    {
                        "code": r.code,
                        "name": r.name,
                        "community_code": r.code[:12],
                        "area_m2": f"{r.area_m2:.2f}" if r.area_m2 is not None else "",
                        "valid_from": r.valid_from.isoformat() if r.valid_from else "",
                    },
                    geometry,
                )
                for r, geometry in rows
                if not scope or r.code.startswith(scope[0])
            ]
        if entity is Entity.REGIONS:
            result = []
            for level in (RegionLevel.DISTRICT, RegionLevel.STREET, RegionLevel.COMMUNITY):
                for region, geometry in uow.base_data.regions_of_level(level):
                    if scope and not region.code.startswith(scope[0]):
                        continue
                    parent = (
                        None
                        if level is RegionLevel.DISTRICT
                        else region.code[: CODE_LENGTH[PARENT_LEVEL[level]]]
                    )
                    result.append(
                        ExportRow(
                            {
                                "level": level.value,
                                "code": region.code,
                                "name": region.name,
                                "parent_code": parent or "",
                                "valid_from": region.valid_from.isoformat()
                                if region.valid_from
                                else "",
                            },
                            geometry,
                        )
                    )
            return result
        if entity is Entity.COMPONENTS:
            names: dict[str, str] = {}

            def region_name(code: str | None) -> str:
                if not code:
                    return ""
                if code not in names:
                    found = uow.regions.by_code(code)
                    names[code] = found.name if found else ""
                return names[code]

            return [
                ExportRow(
                    {
                        "object_code": c.component.object_code,
                        "class_code": c.component.class_code,
                        "name": c.component.name,
                        "supervisor_code": c.supervisor_code,
                        "supervisor_name": c.supervisor_name,
                        "owner_code": c.owner_code,
                        "owner_name": c.owner_name,
                        "maintainer_code": c.maintainer_code,
                        "maintainer_name": c.maintainer_name,
                        "grid_code": c.grid_code or "",
                        "status": STATUS_TEXT[c.component.status],
                        "initial_date": _date8(c.component.initial_date),
                        "change_date": _date8(c.component.change_date),
                        "data_source": c.data_source,
                        "note": c.note,
                        "street_code": c.street_code or "",
                        "street_name": region_name(c.street_code),
                        "community_code": c.community_code or "",
                        "community_name": region_name(c.community_code),
                        "photos": ";".join(c.photos),
                    },
                    c.geometry or point_wkb(c.component.lon, c.component.lat),
                )
                for c in uow.base_data.component_census(district_codes=scope)
            ]
        return [
            ExportRow(
                {
                    "code": a.code,
                    "kind": a.kind.value,
                    "district_code": a.district_code,
                    "street_code": a.street_code or "",
                    "community_code": a.community_code or "",
                    "road": a.road,
                    "door": (a.door + ("号院" if a.compound else "")) if a.door else "",
                    "building": a.building,
                    "name": a.name,
                    "poi_type": a.poi_type,
                    "aliases": "|".join(a.aliases),
                    "grid_code": a.grid_code or "",
                    "synthetic": "1" if a.synthetic else "0",
                    "source": a.source,
                    "valid_from": a.valid_from.isoformat() if a.valid_from else "",
                },
                a.geometry_wkb or point_wkb(a.lon, a.lat),
            )
            for a in uow.base_data.addresses(district_codes=scope)
        ]


# -- grid layers and grid tools -------------------------------------------------------------------
def grid_layers(uow: UnitOfWork, *, actor: Actor) -> list[GridLayer]:
    _staff(actor)
    with uow:
        return uow.base_data.layers()


def _district_shapes(uow: UnitOfWork, district_code: str) -> tuple[bytes, dict[str, bytes]]:
    parse_admin_code(district_code)
    boundary = uow.base_data.region_geometries([district_code]).get(district_code)
    if boundary is None:
        raise ValidationError(
            "district_without_boundary",
            "District {district} has no boundary; import the regions first",
            district=district_code,
        )
    communities = {
        region.code: geometry
        for region, geometry in uow.base_data.regions_of_level(RegionLevel.COMMUNITY)
        if region.code.startswith(district_code) and geometry is not None
    }
    if not communities:
        raise ValidationError(
            "communities_without_boundaries",
            "No community of district {district} has a boundary; grid codes start with the"
            " community code, so the communities' outlines are needed",
            district=district_code,
        )
    return boundary, communities


def generate_grid_layer(
    uow: UnitOfWork,
    district_code: str,
    *,
    actor: Actor,
    now: datetime,
    cell_area_m2: float = 10_000.0,
    min_area_m2: float | None = None,
    apply: bool = False,
    valid_from: date | None = None,
) -> tuple[GeneratedGrids, ImportReport | None]:
    """Cut a district's communities into unit grids of ``cell_area_m2`` (default 10,000 m²)
    on the Gauss–Krüger lattice, slivers under ``min_area_m2`` (default a fifth of a cell)
    merged into a neighbour, numbered per GB/T 30428.1 (``standards.md`` §2.2–2.3).

    With ``apply`` the grids become the district's next layer version through the grid
    import (same checks, one transaction); the report says how that went.
    """
    _admin(actor)
    if not 100.0 <= cell_area_m2 <= 1_000_000.0:
        raise ValidationError(
            "cell_area_invalid",
            "A unit grid cell has 100 to 1,000,000 m²; got {area}",
            area=cell_area_m2,
        )
    if min_area_m2 is not None and not 0 <= min_area_m2 < cell_area_m2:
        raise ValidationError(
            "min_area_invalid",
            "The sliver limit must be at least 0 and below the cell area; got {area}",
            area=min_area_m2,
        )
    with uow:
        boundary, communities = _district_shapes(uow, district_code)
    generated = uow.spatial.generate_grids(
        boundary, communities, cell_area_m2=cell_area_m2, min_area_m2=min_area_m2
    )
    if not apply:
        return generated, None
    shapes = uow.spatial.describe([g.geometry for g in generated.grids])
    table = SourceTable(
        records=tuple(
            SourceRecord(
                row=i,
                values={
                    "code": g.code,
                    "name": f"网格{g.code[-3:]}",
                    "community_code": g.parent_code,
                },
                geometry=g.geometry,
                geometry_type=info.geometry_type,
            )
            for i, (g, info) in enumerate(zip(generated.grids, shapes, strict=True), start=1)
        ),
        columns=("code", "name", "community_code"),
    )
    report = import_table(
        uow,
        Entity.GRIDS,
        table,
        actor=actor,
        now=now,
        options=ImportOptions(
            valid_from=valid_from,
            district_code=district_code,
            source="generated",
            note=f"cell {cell_area_m2:g} m²",
        ),
    )
    return generated, report


def check_grid_layer(
    uow: UnitOfWork,
    *,
    actor: Actor,
    version: int | None = None,
    district_code: str | None = None,
    min_area_m2: float | None = None,
) -> list[LayerFinding]:
    """Check a layer version (default: the current grids) for malformed, duplicate or
    un-nested codes, grids outside their community's outline or in no known community,
    invalid shapes, overlaps and gaps (``standards.md`` §2.2 无缝拼接, 属地管理)."""
    _staff(actor)
    with uow:
        shapes = uow.base_data.grid_shapes(
            version=version, district_codes=[district_code] if district_code else ()
        )
        parents = uow.base_data.region_geometries(sorted({s.code[:12] for s in shapes}))
        communities = {r.code for r in uow.regions.of_level(RegionLevel.COMMUNITY)}
        coverage = (
            uow.base_data.region_geometries([district_code]).get(district_code)
            if district_code
            else None
        )
    if not shapes:
        return []
    findings = uow.spatial.check_grids(
        shapes, parents, coverage=coverage, tolerance_m2=1.0, min_area_m2=min_area_m2
    )
    # A community without an outline cannot be checked for nesting, but it is no defect of
    # the layer; a grid whose community does not exist at all is.
    return [
        f
        for f in findings
        if not (f.kind is FindingKind.UNKNOWN_PARENT and f.codes[1] in communities)
    ]


def compare_grid_layers(
    uow: UnitOfWork, old_version: int, new_version: int, *, actor: Actor
) -> LayerChanges:
    """What changed from one layer version to another, over the districts both drew."""
    _staff(actor)
    with uow:
        old = uow.base_data.grid_shapes(version=old_version)
        new = uow.base_data.grid_shapes(version=new_version)
    for version, shapes in ((old_version, old), (new_version, new)):
        if not shapes:
            raise ValidationError(
                "layer_version_unknown",
                "Grid layer version {version} has no grids",
                version=version,
            )
    common = {s.code[:6] for s in old} & {s.code[:6] for s in new}
    old = [s for s in old if s.code[:6] in common]
    new = [s for s in new if s.code[:6] in common]
    added, removed, changed, renamed = uow.spatial.compare_grids(old, new)
    touched = set(added) | set(removed) | set(changed) | {a for a, _ in renamed}
    unchanged = len({s.code for s in old} - touched)
    return LayerChanges(old_version, new_version, added, removed, changed, renamed, unchanged)


def problems_by_row(problems: Iterable[RowProblem]) -> dict[int, list[RowProblem]]:
    """Problems grouped by row (for reports)."""
    result: dict[int, list[RowProblem]] = {}
    for problem in problems:
        result.setdefault(problem.row, []).append(problem)
    return result
