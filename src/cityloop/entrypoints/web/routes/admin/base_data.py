"""Administration (应用维护): base data — grid layer versions, imports with their row-by-row
report, exports, the layer check and the comparison of two layer versions.

The pages are a face on :mod:`cityloop.services.base_data` and the API's file readers and
writers (exports are the API's own download links, which take the page's session): nothing
here decides about the data. An applied import also writes one change-log entry, in the
import's own transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from cityloop.adapters.io.tables import read_table
from cityloop.domain.base_data import (
    Entity,
    FileFormat,
    FindingKind,
    ImportReport,
    LayerChanges,
    LayerFinding,
    parse_entity,
    parse_format,
)
from cityloop.domain.errors import DomainError, Msg, TooLargeError, ValidationError
from cityloop.domain.geo import parse_crs
from cityloop.domain.regions import RegionLevel
from cityloop.entrypoints.api.routes.base_data import MAX_IMPORT_MB
from cityloop.entrypoints.web.context import Page
from cityloop.entrypoints.web.routes.admin import AdminDep
from cityloop.services import base_data as svc

router = APIRouter(prefix="/admin", include_in_schema=False)

ENTITY_LABELS: dict[Entity, Msg] = {
    Entity.GRIDS: Msg("Unit grids (a new layer version)"),
    Entity.REGIONS: Msg("Districts, streets and communities"),
    Entity.COMPONENTS: Msg("Components"),
    Entity.ADDRESSES: Msg("Standard addresses"),
}
FORMAT_LABELS: dict[FileFormat, str] = {
    FileFormat.GEOJSON: "GeoJSON",
    FileFormat.CSV: "CSV",
    FileFormat.XLSX: "XLSX",
    FileFormat.SHAPEFILE: "Shapefile (zip)",
}
FINDING_LABELS: dict[FindingKind, Msg] = {
    FindingKind.MALFORMED_CODE: Msg("Malformed code"),
    FindingKind.DUPLICATE_CODE: Msg("Duplicate code"),
    FindingKind.NOT_NESTED: Msg("Code not nested in its community"),
    FindingKind.UNKNOWN_PARENT: Msg("Community unknown"),
    FindingKind.OUTSIDE_PARENT: Msg("Outside its community or district"),
    FindingKind.INVALID_GEOMETRY: Msg("Invalid shape"),
    FindingKind.SMALL_CELL: Msg("Small cell"),
    FindingKind.OVERLAP: Msg("Overlap"),
    FindingKind.GAP: Msg("Gap"),
}
SUMMARY_LABELS: dict[str, Msg] = {
    "districts": Msg("Districts"),
    "valid_from": Msg("Valid from"),
    "closed": Msg("Grids closed"),
    "inspector_grids_moved": Msg("Inspectors' grids moved"),
    "components_relocated": Msg("Components located again"),
    "changes": Msg("Changes against the current layer"),
}


def _districts(p: Page) -> list[tuple[str, str]]:
    with p.container.uow(readonly=True) as uow:
        return [(r.code, r.name) for r in uow.regions.of_level(RegionLevel.DISTRICT)]


def _page(
    p: Page,
    *,
    report: ImportReport | None = None,
    values: dict[str, str] | None = None,
    error: str = "",
    findings: list[LayerFinding] | None = None,
    check_args: dict[str, str] | None = None,
    changes: LayerChanges | None = None,
    compare_args: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    layers = svc.grid_layers(p.container.uow(readonly=True), actor=p.actor)
    problems = [(x.row, x.field, p.message(x.error)) for x in (report.problems if report else ())]
    warnings = [(x.row, x.field, p.message(x.error)) for x in (report.warnings if report else ())]
    return p.render(
        "admin/base_data.html",
        status=status,
        layers=list(reversed(layers)),
        entities=ENTITY_LABELS,
        formats=FORMAT_LABELS,
        districts=_districts(p),
        report=report,
        problems=problems,
        warnings=warnings,
        summary_labels=SUMMARY_LABELS,
        values=values or {"entity": Entity.GRIDS.value},
        error=error,
        findings=findings,
        finding_labels=FINDING_LABELS,
        check_args=check_args or {},
        changes=changes,
        compare_args=compare_args or {},
    )


@router.get("/base-data", response_class=HTMLResponse)
async def base_data(p: AdminDep) -> HTMLResponse:
    return await run_in_threadpool(_page, p)


async def _read_upload(p: Page, request: Request) -> tuple[dict[str, str], bytes, str]:
    """The form's fields (CSRF checked) and the file, refused when larger than an import may
    be (the API's limit)."""
    limit = MAX_IMPORT_MB * 1_048_576
    too_large = TooLargeError(
        "import_too_large", "The file is larger than {limit} MB", limit=MAX_IMPORT_MB
    )
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise too_large
    form = await request.form(max_files=1, max_fields=20, max_part_size=65_536)
    p.check_csrf(str(form.get("_csrf", "")))
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "_csrf"}
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationError("import_file_missing", "Choose a file to import")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise too_large
    return values, data, upload.filename


def _options(values: dict[str, str], filename: str) -> svc.ImportOptions:
    valid_from = None
    if values.get("valid_from", "").strip():
        try:
            valid_from = date.fromisoformat(values["valid_from"].strip())
        except ValueError as exc:
            raise ValidationError(
                "date_invalid", "{field} is not a date", field=Msg("Valid from")
            ) from exc
    return svc.ImportOptions(
        valid_from=valid_from,
        district_code=values.get("district", "").strip() or None,
        dry_run=values.get("dry_run") == "1",
        source=filename[:100],
    )


@router.post("/base-data/import", response_class=HTMLResponse)
async def import_file(p: AdminDep, request: Request) -> HTMLResponse:
    values: dict[str, str] = {}
    try:
        values, data, filename = await _read_upload(p, request)
        entity = parse_entity(values.get("entity", ""))
        fmt = parse_format(values["format"]) if values.get("format") else None
        crs = values.get("crs", "").strip() or None
        if crs:
            parse_crs(crs)
        options = _options(values, filename)
        table = await run_in_threadpool(read_table, data, entity, fmt, filename=filename, crs=crs)
        c = p.container
        report = await run_in_threadpool(
            svc.import_table, c.uow(), entity, table, actor=p.actor, now=p.now, options=options
        )
    except DomainError as exc:
        status = 413 if isinstance(exc, TooLargeError) else 422
        return await run_in_threadpool(_page, p, values=values, error=p.message(exc), status=status)
    error = ""
    if report.problems:
        error = p.t(
            "The file has {count} problems; nothing was imported", count=len(report.problems)
        )
    return await run_in_threadpool(
        _page, p, report=report, values=values, error=error, status=422 if error else 200
    )


@router.get("/base-data/check", response_class=HTMLResponse)
async def check(
    p: AdminDep,
    version: Annotated[int | None, Query(ge=1)] = None,
    district: Annotated[str, Query(max_length=6)] = "",
    min_area: Annotated[float | None, Query(ge=0)] = None,
) -> HTMLResponse:
    args = {
        "version": str(version or ""),
        "district": district,
        "min_area": "" if min_area is None else f"{min_area:g}",
    }
    try:
        findings = await run_in_threadpool(
            svc.check_grid_layer,
            p.container.uow(readonly=True),
            actor=p.actor,
            version=version,
            district_code=district or None,
            min_area_m2=min_area,
        )
    except DomainError as exc:
        return await run_in_threadpool(_page, p, error=p.message(exc), check_args=args, status=422)
    return await run_in_threadpool(_page, p, findings=findings, check_args=args)


@router.get("/base-data/compare", response_class=HTMLResponse)
async def compare(
    p: AdminDep,
    old: Annotated[int, Query(ge=1)],
    new: Annotated[int, Query(ge=1)],
) -> HTMLResponse:
    args = {"old": str(old), "new": str(new)}
    try:
        changes = await run_in_threadpool(
            svc.compare_grid_layers, p.container.uow(readonly=True), old, new, actor=p.actor
        )
    except DomainError as exc:
        return await run_in_threadpool(
            _page, p, error=p.message(exc), compare_args=args, status=422
        )
    return await run_in_threadpool(_page, p, changes=changes, compare_args=args)
