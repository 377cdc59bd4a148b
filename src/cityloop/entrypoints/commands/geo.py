"""``cityloop import|export|grids|geocode|reverse-geocode|addresses``: base data from the shell.

    cityloop import components census.zip --crs EPSG:4548
    cityloop import grids layer.geojson --valid-from 2027-01-01 --dry-run
    cityloop export addresses addresses.xlsx
    cityloop grids generate --district 110101 --cell-area 10000 --apply
    cityloop grids check --version 2
    cityloop grids compare 1 2
    cityloop geocode 东城区和平里街道和平里东街11号院3号楼
    cityloop reverse-geocode 116.4172 39.9511 --crs GCJ-02
    cityloop addresses demo --district 110101 --seed 2026

A rejected import prints every problem (row, field, code, message) and exits with 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cityloop.bootstrap import Container, build
from cityloop.domain.base_data import ImportReport, parse_entity, parse_format
from cityloop.domain.roles import Actor, Role
from cityloop.entrypoints.presentation import error_message

CLI_ACTOR = Actor(user_id=None, role=Role.ADMIN, name="cli")
ENTITIES = ["grids", "regions", "components", "addresses"]


def _container(args: argparse.Namespace) -> Container:
    return build(database_url=getattr(args, "database_url", None))


def _day(text: str) -> date:
    return date.fromisoformat(text)


def register(sub: Any) -> None:
    imp = sub.add_parser(
        "import", help="import base data from GeoJSON, CSV, XLSX or a zipped Shapefile"
    )
    imp.add_argument("entity", choices=ENTITIES)
    imp.add_argument("file", type=Path)
    imp.add_argument("--format", help="geojson, csv, xlsx or shp (default: from the file)")
    imp.add_argument(
        "--crs", help="coordinate system of the file (default: the file's, else WGS84)"
    )
    imp.add_argument("--valid-from", type=_day, help="start of a new grid layer (YYYY-MM-DD)")
    imp.add_argument("--district", help="refuse rows outside this district (6 digits)")
    imp.add_argument("--sheet", help="XLSX sheet (default: the first)")
    imp.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser(
        "export", help="export base data to GeoJSON, CSV, XLSX or a zipped Shapefile"
    )
    exp.add_argument("entity", choices=ENTITIES)
    exp.add_argument("file", type=Path)
    exp.add_argument("--format", help="geojson, csv, xlsx or shp (default: from the file name)")
    exp.add_argument("--crs", help="coordinate system to write (default WGS84)")
    exp.add_argument("--version", type=int, help="grid layer version (default: current)")
    exp.add_argument("--district", help="one district only")
    exp.set_defaults(func=cmd_export)

    grids = sub.add_parser("grids", help="unit-grid layer tools")
    tools = grids.add_subparsers(dest="grids_command", required=True)
    gen = tools.add_parser("generate", help="cut a district's communities into unit grids")
    gen.add_argument("--district", required=True)
    gen.add_argument("--cell-area", type=float, default=10_000.0, help="m² (default 10000)")
    gen.add_argument("--min-area", type=float, help="merge slivers below this (m²)")
    gen.add_argument("--valid-from", type=_day)
    gen.add_argument("--apply", action="store_true", help="store as the next layer version")
    gen.add_argument("--output", type=Path, help="also write the grids to this file")
    gen.set_defaults(func=cmd_grids_generate)
    chk = tools.add_parser("check", help="check a layer: gaps, overlaps, codes, nesting")
    chk.add_argument("--version", type=int)
    chk.add_argument("--district")
    chk.add_argument("--min-area", type=float)
    chk.set_defaults(func=cmd_grids_check)
    cmp_ = tools.add_parser("compare", help="compare two layer versions")
    cmp_.add_argument("old", type=int)
    cmp_.add_argument("new", type=int)
    cmp_.set_defaults(func=cmd_grids_compare)
    tools.add_parser("versions", help="list the layer versions").set_defaults(
        func=cmd_grids_versions
    )

    geo = sub.add_parser("geocode", help="address text → ranked positions")
    geo.add_argument("text")
    geo.add_argument("--limit", type=int, default=5)
    geo.set_defaults(func=cmd_geocode)
    rev = sub.add_parser("reverse-geocode", help="a position → grid, nearest address, 方位描述")
    rev.add_argument("x", type=float)
    rev.add_argument("y", type=float)
    rev.add_argument("--crs", default="EPSG:4326")
    rev.set_defaults(func=cmd_reverse)

    addr = sub.add_parser("addresses", help="address register tools")
    addr_tools = addr.add_subparsers(dest="addresses_command", required=True)
    demo = addr_tools.add_parser("demo", help="generate and load a synthetic address register")
    demo.add_argument("--district", required=True)
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--count", type=int, help="about how many addresses")
    demo.set_defaults(func=cmd_addresses_demo)


def print_report(report: ImportReport, out: Any = sys.stdout) -> None:
    state = "applied" if report.applied else ("checked (dry run)" if report.dry_run else "REJECTED")
    print(f"{report.entity.value}: {report.rows} row(s), {state}", file=out)
    if report.applied:
        extra = f", layer version {report.layer_version}" if report.layer_version else ""
        print(f"  created {report.created}{extra}", file=out)
    if report.summary:
        print(f"  {json.dumps(dict(report.summary), ensure_ascii=False)}", file=out)
    for title, items in (("problems", report.problems), ("warnings", report.warnings)):
        if items:
            print(f"  {len(items)} {title}:", file=out)
        for p in items:
            where = f"row {p.row}" if p.row else "file"
            print(
                f"    {where:<9} {p.field or '-':<16} {p.code:<28} {error_message(p.error, 'en')}",
                file=out,
            )


def cmd_import(args: argparse.Namespace) -> int:
    from cityloop.adapters.io.tables import read_table
    from cityloop.services.base_data import ImportOptions, import_table

    entity = parse_entity(args.entity)
    table = read_table(
        args.file.read_bytes(),
        entity,
        parse_format(args.format) if args.format else None,
        filename=args.file.name,
        crs=args.crs,
        sheet=args.sheet,
    )
    container = _container(args)
    report = import_table(
        container.uow(),
        entity,
        table,
        actor=CLI_ACTOR,
        now=datetime.now(UTC),
        options=ImportOptions(
            valid_from=args.valid_from,
            district_code=args.district,
            dry_run=args.dry_run,
            source=args.file.name[:100],
        ),
    )
    print_report(report)
    return 2 if report.problems else 0


def cmd_export(args: argparse.Namespace) -> int:
    from cityloop.adapters.io.tables import detect_format, write_table
    from cityloop.services.base_data import export_rows

    entity = parse_entity(args.entity)
    fmt = parse_format(args.format) if args.format else detect_format(args.file.name, b"")
    container = _container(args)
    rows = export_rows(
        container.uow(readonly=True),
        entity,
        actor=CLI_ACTOR,
        version=args.version,
        district_code=args.district,
    )
    args.file.write_bytes(write_table(entity, fmt, rows, crs=args.crs))
    print(f"wrote {len(rows)} {entity.value} to {args.file} ({fmt.value})")
    return 0


def cmd_grids_generate(args: argparse.Namespace) -> int:
    from cityloop.services.base_data import generate_grid_layer

    container = _container(args)
    generated, report = generate_grid_layer(
        container.uow(),
        args.district,
        actor=CLI_ACTOR,
        now=datetime.now(UTC),
        cell_area_m2=args.cell_area,
        min_area_m2=args.min_area,
        apply=args.apply,
        valid_from=args.valid_from,
    )
    print(
        f"{len(generated.grids)} grids in {len({g.parent_code for g in generated.grids})}"
        f" communities (EPSG:{generated.epsg}, cell {generated.cell_area_m2:g} m²,"
        f" {generated.merged_slivers} slivers merged, {len(generated.kept_slivers)} kept,"
        f" {generated.uncovered_m2:.0f} m² in no community)"
    )
    if args.output:
        from cityloop.adapters.io.tables import detect_format, write_table
        from cityloop.domain.base_data import Entity, ExportRow

        rows = [
            ExportRow(
                {
                    "code": g.code,
                    "name": f"网格{g.code[-3:]}",
                    "community_code": g.parent_code,
                    "area_m2": f"{g.area_m2:.2f}",
                },
                g.geometry,
            )
            for g in generated.grids
        ]
        fmt = detect_format(args.output.name, b"")
        args.output.write_bytes(write_table(Entity.GRIDS, fmt, rows))
        print(f"wrote {args.output}")
    if report is not None:
        print_report(report)
        return 2 if report.problems else 0
    return 0


def cmd_grids_check(args: argparse.Namespace) -> int:
    from cityloop.services.base_data import check_grid_layer

    findings = check_grid_layer(
        _container(args).uow(readonly=True),
        actor=CLI_ACTOR,
        version=args.version,
        district_code=args.district,
        min_area_m2=args.min_area,
    )
    for f in findings:
        print(f"{f.kind.value:<16} {' '.join(f.codes):<34} {f.detail}")
    print(f"{len(findings)} finding(s)")
    return 1 if findings else 0


def cmd_grids_compare(args: argparse.Namespace) -> int:
    from cityloop.services.base_data import compare_grid_layers

    diff = compare_grid_layers(
        _container(args).uow(readonly=True), args.old, args.new, actor=CLI_ACTOR
    )
    print(f"layer {diff.old_version} → {diff.new_version}: {diff.unchanged} unchanged")
    for title, codes in (
        ("added", diff.added),
        ("removed", diff.removed),
        ("changed", diff.changed),
    ):
        print(f"  {title} ({len(codes)}): {' '.join(codes[:50])}{' …' if len(codes) > 50 else ''}")
    print(f"  renamed ({len(diff.renamed)}): " + " ".join(f"{a}→{b}" for a, b in diff.renamed[:50]))
    return 0


def cmd_grids_versions(args: argparse.Namespace) -> int:
    from cityloop.services.base_data import grid_layers

    for layer in grid_layers(_container(args).uow(readonly=True), actor=CLI_ACTOR):
        mark = "*" if layer.current else " "
        print(
            f"{mark} v{layer.version:<4} from {layer.valid_from}  {layer.grid_count:>6} grids"
            f"  {','.join(layer.district_codes) or '-'}  {layer.source}"
        )
    return 0


def cmd_geocode(args: argparse.Namespace) -> int:
    from cityloop.services.geocoding import geocode

    found = geocode(
        _container(args).uow(readonly=True), args.text, actor=CLI_ACTOR, limit=args.limit
    )
    for c in found:
        approx = " ~" if c.approximate else ""
        print(
            f"{c.score:5.1f} {c.level.value:<9} {c.lon:.7f},{c.lat:.7f}{approx}  {c.text}  {c.note}"
        )
    if not found:
        print("no match")
    return 0 if found else 1


def cmd_reverse(args: argparse.Namespace) -> int:
    from cityloop.entrypoints.api.routes.geocoding import to_wgs84
    from cityloop.services.geocoding import reverse_geocode

    lon, lat = to_wgs84(args.x, args.y, args.crs)
    place = reverse_geocode(_container(args).uow(readonly=True), lon, lat, actor=CLI_ACTOR)
    print(f"WGS84 {lon:.7f},{lat:.7f}")
    if place.hit is not None:
        print(f"grid {place.hit.grid_code} (layer v{place.hit.layer_version})")
    else:
        print("outside every unit grid")
    if place.match is not None:
        print(f"{place.match.text}\n{place.match.description}")
    else:
        print("no address within 500 m")
    return 0


def cmd_addresses_demo(args: argparse.Namespace) -> int:
    import shapely

    from cityloop.adapters.geo.demo_addresses import (
        CommunityInfo,
        StreetInfo,
        generate_demo_addresses,
    )
    from cityloop.domain.regions import RegionLevel
    from cityloop.services.base_data import load_addresses

    container = _container(args)
    with container.uow(readonly=True) as uow:
        boundary = uow.base_data.region_geometries([args.district]).get(args.district)
        streets = [
            (r, g)
            for r, g in uow.base_data.regions_of_level(RegionLevel.STREET)
            if r.code.startswith(args.district)
        ]
        communities = [
            (r, g)
            for r, g in uow.base_data.regions_of_level(RegionLevel.COMMUNITY)
            if r.code.startswith(args.district)
        ]
    if boundary is None or not streets:
        print(f"district {args.district} needs a boundary and its streets first", file=sys.stderr)
        return 1
    infos = [
        StreetInfo(
            r.code,
            r.name,
            shapely.from_wkb(g) if g else None,
            tuple(
                CommunityInfo(c.code, c.name, shapely.from_wkb(cg) if cg else None)
                for c, cg in communities
                if c.code.startswith(r.code)
            ),
        )
        for r, g in streets
    ]
    addresses = generate_demo_addresses(
        shapely.from_wkb(boundary),
        infos,
        args.seed,
        district_code=args.district,
        target_count=args.count,
    )
    count = load_addresses(
        container.uow(), addresses, actor=CLI_ACTOR, now=datetime.now(UTC), skip_outside=True
    )
    print(f"loaded {count} synthetic addresses into district {args.district}")
    return 0
