"""Base data: import and export grids, regions, components and addresses; grid-layer tools.

Imports are for administrators. The file is the request body (any content type) or the
``file`` part of a multipart form; its format comes from ``format``, else the file name, else
its content. A rejected import answers 422 ``import_rejected`` with every problem (row, field,
code, message); nothing is written.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from cityloop.adapters.io.tables import CONTENT_TYPES, SUFFIXES, read_table, write_table
from cityloop.domain.base_data import (
    GeneratedGrids,
    ImportReport,
    RowProblem,
    parse_entity,
    parse_format,
)
from cityloop.domain.errors import Msg, PermissionDeniedError, TooLargeError, ValidationError
from cityloop.domain.geo import parse_crs
from cityloop.domain.roles import Actor, Role
from cityloop.entrypoints.api.deps import ActorDep, ContainerDep, LocaleDep, NowDep
from cityloop.entrypoints.api.errors import error_response
from cityloop.entrypoints.api.schemas import API
from cityloop.entrypoints.i18n import gettext
from cityloop.entrypoints.presentation import error_message
from cityloop.services import base_data as svc

router = APIRouter(prefix=f"{API}/base-data", tags=["base data"])

MAX_IMPORT_MB = 200
REJECTED = Msg("The file has {count} problems; nothing was imported")


def _require_admin(actor: Actor) -> None:
    # Checked before the upload is read: a refused caller costs no parsing.
    if actor.role not in (Role.ADMIN, Role.SYSTEM):
        raise PermissionDeniedError(
            "admin_only_base_data", "Only an administrator may change base data"
        )


def problem_out(problem: RowProblem, locale: str) -> dict[str, Any]:
    return {
        "row": problem.row,
        "field": problem.field,
        "code": problem.code,
        "message": error_message(problem.error, locale),
    }


def report_out(report: ImportReport, locale: str) -> dict[str, Any]:
    return {
        "entity": report.entity.value,
        "rows": report.rows,
        "applied": report.applied,
        "dry_run": report.dry_run,
        "created": report.created,
        "layer_version": report.layer_version,
        "summary": dict(report.summary),
        "problems": [problem_out(p, locale) for p in report.problems],
        "warnings": [problem_out(p, locale) for p in report.warnings],
    }


async def _upload(request: Request) -> tuple[bytes, str]:
    limit = MAX_IMPORT_MB * 1_048_576
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise TooLargeError(
            "request_too_large",
            "The request has {size} MB; at most {limit} MB are accepted",
            size=round(int(length) / 1_048_576, 1),
            limit=MAX_IMPORT_MB,
        )
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationError("file_missing", "Send the file in a part named file")
        return await upload.read(), upload.filename or ""
    return await request.body(), request.headers.get("x-filename", "")


@router.post(
    "/{entity}/import",
    summary="Import grids (a new layer version), regions, components or addresses",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            }
        }
    },
    responses={422: {"description": "import_rejected: the problems, row by row"}},
)
async def import_file(
    entity: str,
    request: Request,
    actor: ActorDep,
    when: NowDep,
    locale: LocaleDep,
    container: ContainerDep,
    format: Annotated[str | None, Query(description="geojson, csv, xlsx or shp")] = None,
    crs: Annotated[str | None, Query(max_length=20)] = None,
    valid_from: date | None = None,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    dry_run: bool = False,
    sheet: Annotated[str | None, Query(max_length=50)] = None,
) -> JSONResponse:
    kind = parse_entity(entity)
    _require_admin(actor)
    if crs:
        parse_crs(crs)
    data, filename = await _upload(request)
    table = await run_in_threadpool(
        read_table,
        data,
        kind,
        parse_format(format) if format else None,
        filename=filename,
        crs=crs,
        sheet=sheet,
    )
    report = await run_in_threadpool(
        svc.import_table,
        container.uow(),
        kind,
        table,
        actor=actor,
        now=when,
        options=svc.ImportOptions(
            valid_from=valid_from, district_code=district, dry_run=dry_run, source=filename[:100]
        ),
    )
    body = report_out(report, locale)
    if report.problems:
        message = gettext(REJECTED, locale).format(count=len(report.problems))
        return error_response(422, "import_rejected", message, body)
    return JSONResponse(body, status_code=200)


@router.get("/{entity}/export", summary="Export grids, regions, components or addresses")
def export_file(
    entity: str,
    actor: ActorDep,
    container: ContainerDep,
    format: Annotated[str, Query(description="geojson, csv, xlsx or shp")] = "geojson",
    crs: Annotated[str | None, Query(max_length=20)] = None,
    version: Annotated[int | None, Query(ge=1, description="grid layer version")] = None,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
) -> Response:
    kind = parse_entity(entity)
    file_format = parse_format(format)
    if crs:
        parse_crs(crs)
    rows = svc.export_rows(
        container.uow(readonly=True), kind, actor=actor, version=version, district_code=district
    )
    data = write_table(kind, file_format, rows, crs=crs)
    name = f"{kind.value}{'-v' + str(version) if version else ''}{SUFFIXES[file_format]}"
    return Response(
        data,
        media_type=CONTENT_TYPES[file_format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class GridLayerOut(BaseModel):
    version: int
    valid_from: date | None
    district_codes: list[str]
    grid_count: int
    source: str
    note: str
    current: bool


@router.get("/grid-layers", response_model=list[GridLayerOut], summary="Grid layer versions")
def grid_layers(actor: ActorDep, container: ContainerDep) -> list[GridLayerOut]:
    return [
        GridLayerOut(
            version=layer.version,
            valid_from=layer.valid_from,
            district_codes=list(layer.district_codes),
            grid_count=layer.grid_count,
            source=layer.source,
            note=layer.note,
            current=layer.current,
        )
        for layer in svc.grid_layers(container.uow(readonly=True), actor=actor)
    ]


class GenerateIn(BaseModel):
    district_code: str
    cell_area_m2: float = 10_000.0
    min_area_m2: float | None = None
    apply: bool = False
    valid_from: date | None = None
    preview: bool = False


def generated_out(generated: GeneratedGrids, *, preview: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "grids": len(generated.grids),
        "epsg": generated.epsg,
        "cell_area_m2": generated.cell_area_m2,
        "min_area_m2": generated.min_area_m2,
        "merged_slivers": generated.merged_slivers,
        "kept_slivers": list(generated.kept_slivers),
        "uncovered_m2": generated.uncovered_m2,
        "communities": len({g.parent_code for g in generated.grids}),
    }
    if preview:
        import shapely
        from shapely.geometry import mapping

        body["features"] = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"code": g.code, "area_m2": g.area_m2},
                    "geometry": mapping(shapely.from_wkb(g.geometry)),
                }
                for g in generated.grids
            ],
        }
    return body


@router.post("/grid-layers/generate", summary="Generate a district's unit grids")
async def generate(
    body: GenerateIn,
    actor: ActorDep,
    when: NowDep,
    locale: LocaleDep,
    container: ContainerDep,
) -> JSONResponse:
    generated, report = await run_in_threadpool(
        svc.generate_grid_layer,
        container.uow(),
        body.district_code,
        actor=actor,
        now=when,
        cell_area_m2=body.cell_area_m2,
        min_area_m2=body.min_area_m2,
        apply=body.apply,
        valid_from=body.valid_from,
    )
    result = generated_out(generated, preview=body.preview)
    if report is not None:
        result["import"] = report_out(report, locale)
        if report.problems:
            message = gettext(REJECTED, locale).format(count=len(report.problems))
            return error_response(422, "import_rejected", message, result)
    return JSONResponse(result)


class FindingOut(BaseModel):
    kind: str
    codes: list[str]
    detail: str
    area_m2: float | None


@router.get("/grid-layers/check", response_model=list[FindingOut], summary="Check a grid layer")
def check(
    actor: ActorDep,
    container: ContainerDep,
    version: Annotated[int | None, Query(ge=1)] = None,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    min_area_m2: Annotated[float | None, Query(ge=0)] = None,
) -> list[FindingOut]:
    findings = svc.check_grid_layer(
        container.uow(readonly=True),
        actor=actor,
        version=version,
        district_code=district,
        min_area_m2=min_area_m2,
    )
    return [
        FindingOut(kind=f.kind.value, codes=list(f.codes), detail=f.detail, area_m2=f.area_m2)
        for f in findings
    ]


class ChangesOut(BaseModel):
    old_version: int
    new_version: int
    added: list[str]
    removed: list[str]
    changed: list[str]
    renamed: list[tuple[str, str]]
    unchanged: int


@router.get(
    "/grid-layers/compare", response_model=ChangesOut, summary="Compare two grid layer versions"
)
def compare(
    actor: ActorDep,
    container: ContainerDep,
    old: Annotated[int, Query(ge=1)],
    new: Annotated[int, Query(ge=1)],
) -> ChangesOut:
    diff = svc.compare_grid_layers(container.uow(readonly=True), old, new, actor=actor)
    return ChangesOut(
        old_version=diff.old_version,
        new_version=diff.new_version,
        added=list(diff.added),
        removed=list(diff.removed),
        changed=list(diff.changed),
        renamed=[(a, b) for a, b in diff.renamed],
        unchanged=diff.unchanged,
    )
