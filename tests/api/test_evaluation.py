"""The evaluation API on the hand-built November (tests/support/evaluation_fixture.py):
reports, a subject's page (breakdown, rank, trend), drill-downs, centre and hot spots,
permissions and district scope, schemes, freezing, and XLSX/PDF exports in both languages —
the PDF's text is extracted and compared, and its glyphs checked against the font's own
character map."""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.api.conftest import Api
from tests.conftest import at
from tests.support.evaluation_fixture import Month, december, november
from tests.support.fonts import cjk_font

EN = {"Accept-Language": "en"}


@pytest.fixture
def month(api: Api) -> Month:
    m = november(api.container, api.city)
    december(m)
    api.clock.now = at("2026-12-05 12:00")
    return m


def test_reports_subject_page_and_drill_down(api: Api, month: Month) -> None:
    cgw = str(api.city.departments["cgw"])
    r = api.get("/evaluation/reports/department?period=2026-11", "leader")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind_label"] == "专业部门"
    assert body["scheme_version"] == 1 and body["frozen_at"] is None
    assert body["period"]["as_of"].startswith("2026-11-30T16:00:00")
    labels = {i["id"]: i["label"] for i in body["indicators"]}
    assert labels["on_time_rate"] == "按期处置率"
    rows = {row["subject"]["key"]: row for row in body["rows"]}
    assert (rows[cgw]["score"], rows[cgw]["grade"], rows[cgw]["rank"]) == (86.79, "B", 3)
    assert rows[cgw]["values"]["on_time_rate"] == round(11 / 14, 6)
    assert rows[cgw]["values"]["close_due"] == 12
    assert rows[cgw]["colour"] == "#1565c0"
    assert [row["rank"] for row in body["rows"]][:3] == [1, 1, 3]
    page2 = api.get("/evaluation/reports/grid?period=2026-11&offset=1&limit=2", "leader").json()
    assert page2["total"] == 5
    assert [(r["subject"]["key"], r["rank"]) for r in page2["rows"]] == [
        ("110101001001001", 2), ("110101001001002", 3),
    ]  # fmt: skip
    en = api.get("/evaluation/reports/department?period=2026-11", "leader", headers=EN).json()
    assert {i["id"]: i["label"] for i in en["indicators"]}["on_time_rate"] == (
        "On-time disposal rate"
    )

    page = api.get(f"/evaluation/reports/department/{cgw}?period=2026-11", "leader").json()
    assert page["row"]["score"] == 86.79 and page["ranked"] == 5
    assert [c["indicator"] for c in page["components"]] == [
        "assigned", "close_rate", "on_time_rate", "rework_rate",
    ]  # fmt: skip
    assert [t["period"] for t in page["trend"]][-2:] == ["2026-10", "2026-11"]
    assert len(page["trend"]) == 12
    assert page["trend"][-2]["score"] is None  # nothing happened in October
    dec = api.get(f"/evaluation/trends/department/{cgw}?period=2026-12&periods=2", "leader")
    assert [(t["period"], t["score"]) for t in dec.json()] == [("2026-11", 86.79),
                                                               ("2026-12", 100.0)]  # fmt: skip

    drill = api.get(
        f"/evaluation/reports/department/{cgw}/drill/overdue_open?period=2026-11", "leader"
    ).json()
    assert drill["total"] == 1
    item = drill["items"][0]
    assert item["number"] == month.cases["C09"].number
    assert [e["action"] for e in item["events"]] == ["dispatch"]
    assert item["events"][0]["label"] == "派遣"
    rate = api.get(
        f"/evaluation/reports/department/{cgw}/drill/on_time_rate?period=2026-11&part=denominator",
        "leader",
    ).json()
    assert (rate["part"], rate["total"]) == ("due", 14)

    ranking = api.get("/evaluation/rankings/grid?period=2026-11&indicator=filed", "leader").json()
    assert [(r["subject"]["key"], r["rank"]) for r in ranking["rows"]][:3] == [
        ("110101001001001", 1), ("110101002001001", 1), ("110101001001002", 3),
    ]  # fmt: skip


def test_centre_hot_spots_permissions_and_scope(api: Api, month: Month) -> None:
    centre = api.get("/evaluation/centre?period=2026-11", "leader").json()
    totals = {t["step"]: t["total"] for t in centre["throughput"]}
    assert (totals["reported"], totals["filed"], totals["closed"]) == (26, 21, 17)
    stages = {s["stage"]: s for s in centre["stages"]}
    assert (stages["accept"]["count"], stages["accept"]["p90_seconds"]) == (21, 1800)
    assert stages["accept"]["label"] == "受理"
    assert [s["count"] for s in centre["satisfaction"]] == [1, 1, 1, 1, 0]
    spots = api.get("/evaluation/hotspots?period=2026-11&limit=3", "leader").json()
    assert [g["filed"] for g in spots["grids"]] == [6, 6, 4]
    assert spots["hours"]["weekdays"][0] == "星期一"
    assert spots["hours"]["matrix"][1][9] == 2
    assert spots["repeats"][0]["count"] == 6
    assert month.cases["C01"].number in spots["repeats"][0]["cases"]

    for user in ("handler_cgw", "citizen", "inspector1"):
        r = api.get("/evaluation/reports/grid?period=2026-11", user)
        assert r.status_code == 403 and r.json()["code"] == "evaluation_forbidden", user
    r = api.get("/evaluation/reports/grid?period=2026-11&district=110102", "dispatcher_dc")
    assert r.status_code == 403 and r.json()["code"] == "evaluation_outside_scope"
    scoped = api.get("/evaluation/reports/grid?period=2026-11", "dispatcher_dc").json()
    assert scoped["scope"] == "110101"
    assert "110102001001001" not in {row["subject"]["key"] for row in scoped["rows"]}
    bad = api.get("/evaluation/reports/grid?period=2026-13", "leader")
    assert bad.status_code == 422 and bad.json()["code"] == "period_invalid"
    assert bad.json()["message"].startswith("无法识别周期 2026-13")
    assert api.get("/evaluation/reports/planet?period=2026-11", "leader").status_code == 422
    r = api.post("/evaluation/schemes", "operator", json={"name": "x"})
    assert r.status_code == 403 and r.json()["code"] == "evaluation_admin_only"


def test_schemes_freezing_and_frozen_reports(api: Api, month: Month) -> None:
    listed = api.get("/evaluation/schemes", "leader").json()
    assert [(s["version"], s["status"]) for s in listed] == [(1, "published")]
    v1 = api.get("/evaluation/schemes/1", "leader").json()
    assert v1["body"]["components"]["district"][-1] == {
        "indicator": "on_time_close_rate", "weight": "40", "transform": "rate"
    }  # fmt: skip
    created = api.post("/evaluation/schemes", "admin", json={"name": "2027 版"})
    assert created.status_code == 201, created.text
    body = created.json()["body"]
    body["grades"][0][1] = "95"
    edited = api.client.put(
        "/api/v1/evaluation/schemes/2", json={"body": body}, headers=api.login("admin")
    )
    assert edited.status_code == 200 and edited.json()["body"]["grades"][0][1] == "95"
    early = api.post("/evaluation/schemes/2/publish", "admin",
                     json={"effective_from": "2026-11-01"})  # fmt: skip
    assert early.status_code == 422 and early.json()["code"] == "scheme_effective_past"
    ok = api.post("/evaluation/schemes/2/publish", "admin", json={"effective_from": "2027-01-01"})
    assert ok.status_code == 200 and ok.json()["status"] == "published"

    frozen = api.post("/evaluation/freeze", "admin", json={"period": "2026-11"})
    assert frozen.status_code == 200, frozen.text
    assert [f["scope"] for f in frozen.json()] == ["city", "110101", "110102"]
    assert api.post("/evaluation/freeze", "admin", json={"period": "2026-11"}).json() == []
    assert api.post("/evaluation/freeze", "leader", json={"period": "2026-11"}).status_code == 403
    rep = api.get("/evaluation/reports/district?period=2026-11", "leader").json()
    assert rep["frozen_at"] is not None
    assert [(r["subject"]["key"], r["score"]) for r in rep["rows"]] == [
        ("110102", 93.0), ("110101", 78.13),
    ]  # fmt: skip
    scoped = api.get("/evaluation/frozen", "dispatcher_dc").json()
    assert [f["scope"] for f in scoped] == ["110101"]


# -- exports ---


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes]]:
    """Object number → (dictionary, decoded stream or b"")."""
    out = {}
    for match in re.finditer(rb"(\d+) 0 obj\n(.*?)\nendobj\n", pdf, re.S):
        body = match.group(2)
        head, _, rest = body.partition(b"stream\n")
        data = b""
        if rest:
            raw = rest[: rest.rindex(b"\nendstream")]
            data = zlib.decompress(raw) if b"FlateDecode" in head else raw
        out[int(match.group(1))] = (head, data)
    return out


def pdf_text(pdf: bytes) -> tuple[str, list[int]]:
    """The text of every page (through the ToUnicode map) and the glyph ids drawn."""
    objects = _objects(pdf)
    cmap: dict[int, str] = {}
    for _head, data in objects.values():
        if b"beginbfchar" in data:
            for src, dst in re.findall(rb"<([0-9A-F]{4})> <([0-9A-F]+)>", data):
                cmap[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    text, gids = [], []
    for head, data in objects.values():
        if head.startswith(b"<< /Length") and b"Subtype" not in head and b" Tj" in data:
            for hexed in re.findall(rb"<([0-9A-F]+)> Tj", data):
                codes = [int(hexed[i : i + 4], 16) for i in range(0, len(hexed), 4)]
                gids += codes
                text.append("".join(cmap.get(c, "\ufffd") for c in codes))
    return "\n".join(text), gids


def _font_cmap(path: str, family: str = "Noto Sans CJK SC") -> dict[int, int]:
    """The font's own character map, read here without the code under test."""
    data = Path(path).read_bytes()
    offsets = [0]
    if data[:4] == b"ttcf":
        (n,) = struct.unpack_from(">I", data, 8)
        offsets = list(struct.unpack_from(f">{n}I", data, 12))
    for base in offsets:
        (count,) = struct.unpack_from(">H", data, base + 4)
        tables = {}
        for i in range(count):
            tag, _, off, length = struct.unpack_from(">4sIII", data, base + 12 + 16 * i)
            tables[tag] = off
        name = tables[b"name"]
        _, n_names, strings = struct.unpack_from(">HHH", data, name)
        names = set()
        for i in range(n_names):
            pid, _, _, nid, length, off = struct.unpack_from(">6H", data, name + 6 + 12 * i)
            if pid == 3 and nid == 1:
                start = name + strings + off
                names.add(data[start : start + length].decode("utf-16-be"))
        if family not in names and len(offsets) > 1:
            continue
        cmap_at = tables[b"cmap"]
        (n_sub,) = struct.unpack_from(">H", data, cmap_at + 2)
        for i in range(n_sub):
            _pid, _eid, off = struct.unpack_from(">HHI", data, cmap_at + 4 + 8 * i)
            at_ = cmap_at + off
            if struct.unpack_from(">H", data, at_)[0] == 12:
                (groups,) = struct.unpack_from(">I", data, at_ + 12)
                out = {}
                for g in range(groups):
                    first, last, gid = struct.unpack_from(">III", data, at_ + 16 + 12 * g)
                    for code in range(first, last + 1):
                        out[code] = gid + code - first
                return out
    raise AssertionError("no format-12 cmap")


def test_exports_in_both_languages(api: Api, month: Month, tmp_path: Path) -> None:
    font = cjk_font()
    cgw_name = "东城区城市管理委员会"
    for lang, title in (("zh_CN", "综合评价"), ("en", "Comprehensive evaluation")):
        r = api.get(f"/evaluation/exports/department.xlsx?period=2026-11&lang={lang}", "leader")
        assert r.status_code == 200, r.text
        assert "attachment" in r.headers["content-disposition"]
        book = load_workbook(io.BytesIO(r.content))
        sheet = book[book.sheetnames[0]]
        cells = [[c.value for c in row] for row in sheet.iter_rows()]
        assert cells[0][0].startswith(title)
        header = next(row for row in cells if row[0] in ("评价对象", "Subject"))
        assert ("按期处置率" if lang == "zh_CN" else "On-time disposal rate") in header
        line = next(row for row in cells if row[0] == cgw_name)
        assert line[header.index("按期处置率" if lang == "zh_CN" else "On-time disposal rate")] == (
            pytest.approx(11 / 14)
        )
        assert float(line[-3]) == 86.79 and line[-2] == "B" and line[-1] == 3

        r = api.get(f"/evaluation/exports/all.pdf?period=2026-11&lang={lang}", "leader")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf"
        pdf = r.content
        assert pdf.startswith(b"%PDF-1.7") and pdf.rstrip().endswith(b"%%EOF")
        assert b"/FontFile3" in pdf and b"/CIDFontType0C" in pdf and b"/ToUnicode" in pdf
        text, gids = pdf_text(pdf)
        assert title in text
        assert cgw_name in text  # subject names are Chinese in both languages
        assert "86.79" in text and "78.13" in text
        if lang == "zh_CN":
            assert "按期处置率" in text and "高发" in text
        # The glyphs drawn are the font's own glyphs for the characters extracted.
        font_cmap = _font_cmap(font)
        drawn = dict(zip(gids, re.sub(r"\n", "", text), strict=False))
        for gid, ch in drawn.items():
            if gid and ch != "\ufffd":
                assert font_cmap.get(ord(ch)) == gid, ch
        # A second, independent reader of the PDF.
        if shutil.which("pdftotext") is None:
            pytest.fail("pdftotext is not installed: apt install poppler-utils (.ci/run does)")
        path = tmp_path / f"report-{lang}.pdf"
        path.write_bytes(pdf)
        extracted = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, check=True
        ).stdout.decode("utf-8")
        assert cgw_name in extracted and title in extracted


def test_export_errors(api: Api, month: Month) -> None:
    r = api.get("/evaluation/exports/department.doc?period=2026-11", "leader")
    assert r.status_code == 422 and r.json()["code"] == "export_format_invalid"
    assert api.get("/evaluation/exports/all.xlsx?period=2026-11", "handler_cgw").status_code == 403
