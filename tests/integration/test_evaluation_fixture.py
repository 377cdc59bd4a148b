"""November 2026, evaluated by hand and by the system (tests/support/evaluation_fixture.py).

Period [2026-11-01 00:00, 2026-12-01 00:00) Asia/Shanghai, as of its end. Stage limits:
受理 15 min, 核实 30, 立案 30, 派遣 15, 核查 30, 结案 30; disposal 4 h (06010) or 48 h
(06001), urgent. ✓ in time, ✗ late. I1/I2/IX inspectors (I1: grids G1 G2 G3; I2: G4; IX:
G5), OP/OX operators (OX: 西城 only), SL shift lead, DP/DD dispatchers (DD: 东城 only).
G1 G2 → community 多福巷, G3 → 银闸 (both street 东华门), G4 → 隆福寺/景山 (all 东城);
G5 → 西交民巷/西长安街/西城. Unit = 环卫一队, a level-2 unit under 城管委 (cgw).

Case   grid src      report      what happens (times on the report's day unless noted)
C01    G1   I1       03 09:00    OP acc 09:05✓ SL file 09:10✓ DP→cgw 09:20✓ (dl 13:20) fb 11:00✓
                                 OP chk 11:10✓ I1 pass 11:30✓ close 11:40✓ normal
C02    G2   I1       04 10:00    acc 10:20✗ file 10:40✓ DP→water 11:00✗ (dl 15:00) fb 16:00✗
                                 chk 16:10✓ I1 pass 16:50✗ (task dl 16:40) close 17:00✓ overdue
C03    G3   12345/OP 05 09:00    OP verify 09:05✓ I1 confirm 09:30✓ acc 09:40✓ file 09:50✓
                                 DP→cgw 10:00✓ fb 12:00✓ chk 12:20✓ pass 12:40✓ close 13:20✗
                                 normal; call-back 06th: 1 (非常满意)
C04    G1   public   06 14:00    OP verify 14:20✗ I1 confirm 15:00✗ acc 15:05✓ file 15:50✗
                                 DP→dhm 15:55✓ return approved 16:30; DP→cgw 16:40✓ fb 18:00✓
                                 chk 18:20✓ pass 18:40✓ close 19:00✓ normal; call-back: 4
C05    G2   I1       09 09:00    acc✓ file✓ DP→water 09:15✓ refused 09:30; DP→cgw 10:00✗
                                 fb 11:00✓ chk✓ pass✓ close✓ normal
C06    G4   I2       10 09:00    acc✓ file✓ DP→unit 09:20✓ fb 10:00✓ chk✓ I2 FAIL 10:30✓;
                                 SL rework 10:40 (dl 14:40) fb 15:00✗ chk✓ FAIL 15:20✓;
                                 DP rework 15:30 (dl 19:30) fb 17:00✓ chk✓ pass✓ close✓ normal
C07    G1   I1       11 09:00    DP→cgw 09:20 (dl 13:20), extension approved 12:30 (dl 17:20),
                                 fb 15:00✓, everything else ✓, normal
C08    G2   I1       25 09:00    DP→cgw 09:20, suspension approved 25th 10:30 — still suspended
                                 on 1 Dec (resumed 3 Dec 10:00, handled and closed in time)
C09    G3   I1       27 09:00    DP→cgw 09:20 (dl 13:20) — open on 1 Dec (handled 2 Dec)
C10    G1   I1    31 Oct 23:50   on 1 Nov: acc 00:00✓ file 00:05✓ DP→cgw 00:10✓ fb 02:00✓
                                 chk✓ pass✓ close 02:30✓ normal
C11    G2   I1       30 23:50    everything else in December
C12    G1   I1       12 10:00    self-handled (07001), OP approves 10:10: a valid report, not filed
C13    G1   I1       13 09:00    OP rejects 09:10✓
C14    G1   public   03 09:30    OP merges into C01 09:40✓
C15    G4   I2       16 09:00    acc✓ file 09:20✓ SL voids 09:30
C16    G3   sensor   17 08:00    acc✓ file✓ DP→water 08:20✓ fb 10:00✓ I1 pass✓ close✓ normal
C17    G4   leader   18 09:00    acc 09:30✗ file 09:35✓ DP→district 09:40, DD→dhm 09:50✓
                                 fb 11:00✓ chk✓ I2 pass✓ close✓ normal
C18    G5   12319/OX 19 09:00    OX verify 09:05✓ IX confirm 09:20✓ OX acc✓ file✓ DP→xc 09:50✓
                                 fb✓ OX chk✓ IX pass✓ close✓ normal (06001); call-back: 2
C19    G1   I1       20 09:00    DP→cgw 09:20 fb 10:00✓ chk✓ I1 FAIL 10:20✓ close special 10:30✓
C20    G4   I2       23 09:00    DP→cgw 09:15 (dl 13:15) fb 14:00✗ chk✓ I2 pass✓ close✓ overdue
C21    G2   media/OP 30 23:40    OP verify 23:45✓ (task dl 1 Dec 00:15; answered 1 Dec 00:05)
C22    G3   public   30 22:00    OP verify 22:10✓ (task dl 22:40; answered 1 Dec 08:00)
C23    G4   I2       02 09:00    DP→water 09:20✓ (dl 13:20), signed, never handled
C24    G5   IX       05 10:00    OX acc✓ file✓ DP→xc✓ fb✓ OX chk✓ IX pass✓ close✓ normal (06001)
C25    G4   I2       12 14:00    acc✓ file✓ DD→dhm 14:30✓ fb 16:00✓ OP chk 16:40✗ I2 pass✓
                                 close✓ normal
C26    G2   I1       26 09:00    everything ✓ except close 11:10✗ (dl 11:00); normal
C27    G1   media/OP 14 15:00    everything ✓, normal; call-back: 3

Inspectors (§7.3). Reports: I1 C01 02 05 07 08 09 11 12 13 19 26 = 11, valid 9 (not C11:
filed in Dec, C13: rejected); I2 C06 15 20 23 25 = 5, valid 4 (C15 voided); IX C24 = 1/1.
Verify tasks settled in Nov: I1 C03✓ C04✗ C22✗ (due 30th 22:40, answered in Dec) = 1/3 (C21
settles in Dec); IX C18 = 1/1. Check tasks: I1 C01 02✗ 03 04 05 07 10 16 19 26 27 = 10/11;
I2 C06×3 C17 C20 C25 = 6/6; IX C18 C24 = 2/2. Filed in own grids / public among them:
I1 13 / 3 (C03 C04 C27); I2 6 / 0 (C17 is a leader's order); IX 2 / 1 (C18).
  I1 = 40·9/11 + 20·(1−3/13) + 20·1/3 + 20·10/11 = 72.96 C;  I2 = (40·4/5 + 20·1 + 20·1)/80·100
  = 90.00 A (no verify task: weight left out);  IX = 40 + 10 + 20 + 20 = 90.00 A. Ranks 3, 1, 1.
Operators: OP intake = 19 accepts + C13 reject + C14 merge = 21, in time 19 (C02, C17 late);
verify sent C03 C04✗ C21 C22 = 3/4; checks sent 17, in time 16 (C25). OX intake 2/2, verify
1/1, checks 2/2. 受理数分值 = 0 for both (fewer than 101).
  OP = 25·0 + 40·3/4 + 35·16/17 = 62.94 C;  OX = 0 + 40 + 35 = 75.00 B. Ranks 2, 1.
Shift lead: filed 21 (all filed cases), in time 20 (C04), voided 1 (C15), accurate 20;
closed 17 (C01–07, C10, C16–20, C24–27), in time 15 (C03, C26 late).
  SL = 25·20/21 + 40·20/21 + 35·15/17 = 92.79 A.
Dispatchers: DP 20 dispatches (C04 and C05 twice, reworks are not dispatches), in time 18
(C02, C05's second), accurate 18 (C04→dhm returned, C05→water refused); DD C17 C25 2/2/2.
  DP = 20·0 + 40·18/20 + 40·18/20 = 72.00 C;  DD = 0 + 40 + 40 = 80.00 B. Ranks 2, 1.
Departments (§7.4; rounds settle when handled in time, else at their deadline):
  unit: rounds C06 r1✓ r2✗ (rework) r3✓ (rework): due 3, handled 3, on time 2, rework 2,
        closed 1, assigned 1 → 10 + 30·1/1 + 30·2/3 + 30·(1−2/3) = 70.00 C
  cgw (own): due C01 03 04 05 07 09 10 19 20 26 27 = 11 (C08 suspended: not settled), handled
        10 (not C09), on time 9 (C09, C20 late), extended 1 (C07), suspended 1 (C08), open and
        overdue 1 (C09), closed 10 (C01 03 04 05 07 10 19 20 26 27), assigned 12.
  cgw (level 1, with its unit): due 14, handled 13, on time 11, overdue 3, rework 2, extended
        1, suspended 1, overdue open 1, closed 11, 应结案 12, assigned 13
        → 10 + 30·11/12 + 30·11/14 + 30·(1−2/14) = 86.79 B
  water: C02✗ C16✓ C23 (open, overdue) due 3, handled 2, on time 1, refused 1 (C05), overdue
        open 1, closed 2, assigned 3 → 10 + 30·2/3 + 30·1/3 + 30 = 70.00 C
  dhm: C17✓ C25✓, returned 1 (C04), closed 2 → 100.00 A;  xc_cgw: C18✓ C24✓ → 100.00 A
  yllh, js: nothing to measure → no score. Ranks: dhm 1, xc 1, cgw 3, water 4, unit 4.
Regions (§7.5; composite 10 % (1−监督举报率) + 20 % 立案数分值 (per grid, class 2) + 30 % 结案率
+ 40 % 按期结案率; 应结案数 = 结案数 + 超期未结案数):
  grid  filed public closed on-time overdue-open │ points: public filed close on-time → score
  G1    6     2      6      5 (C19 special)  0   │ 66.67 60 100 83.33 → 82.00 B
  G2    4     0      3      2 (C02 overdue)  0   │ 100 75 100 66.67 → 81.67 B   (C08 suspended)
  G3    3     1      2      2               1   │ 66.67 90 66.67 66.67 → 71.33 C (C09)
  G4    6     0      4      3 (C20 overdue)  1   │ 100 60 80 60 → 70.00 C       (C23; C15 void)
  G5    2     1      2      2               0   │ 50 90 100 100 → 93.00 A
  多福巷 G1+G2: 10 2 9 7 0, 5/grid → 80 75 100 77.78 → 84.11 B; 银闸 = G3; 隆福寺 = G4;
  西交民巷 = G5. 东华门 G1–G3: 13 3 11 9 1, 4.33/grid → 76.92 75 91.67 75 → 80.19 B;
  景山 = G4; 西长安街 = G5. 东城 G1–G4: 19 3 15 12 2, 4.75/grid → 84.21 75 88.24 70.59 →
  78.13 B; 西城 = G5. The whole city: 21 4 17 14 2, 4.2/grid → 79.41 B.
Centre: reported 26 (C10 is October's), valid 20, dispatched 22, due 21, on time 16,
call-backs 4 (levels 1 2 3 4), satisfied 3, points 100+80+50+0 = 230. Acceptance times of the
21 accepts (minutes): 5×12, 10×4, 20, 30, 30, 40, 65 → mean 285/21 min, p90 (19th) 30 min.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from sqlalchemy import text

from cityloop.adapters.evaluation import store
from cityloop.bootstrap import Container
from cityloop.domain.errors import ValidationError
from cityloop.domain.evaluation.periods import parse_period
from cityloop.domain.evaluation.rules import BASE_COUNTS
from cityloop.domain.evaluation.scheme import DEFAULT_SCHEME, to_json
from cityloop.domain.evaluation.subjects import SubjectKind
from cityloop.services import evaluation as ev
from cityloop.services.queries import evaluation as q
from tests.conftest import at
from tests.support.city import City
from tests.support.evaluation_fixture import Month, december, november

K = SubjectKind
NOV = parse_period("2026-11")
DEC = parse_period("2026-12")
NOW = at("2026-12-05 12:00")


def refresh(container: Container, now: Any = NOW) -> None:
    ev.refresh_facts(container.uow(readonly=True), container.uow(), now=now)


def reports(container: Container, city: City, period: Any = NOV, now: Any = NOW, **kw: Any):
    refresh(container, now)
    out = {}
    for kind in SubjectKind:
        rep = q.report(
            container.uow(readonly=True), actor=city.actor("leader"), kind=kind, period=period,
            now=now, **kw,
        )  # fmt: skip
        out[kind] = {row.subject.key: row for row in rep.rows}
    return out


def expected(
    city: City,
) -> dict[K, dict[str, tuple[dict[str, int], str | None, str | None, int | None]]]:
    u, d = city.users, city.departments
    G1, G2, G3 = "110101001001001", "110101001001002", "110101001002001"
    G4, G5 = "110101002001001", "110102001001001"

    def region(f: int, p: int, c: int, o: int, u_: int, grids: int) -> dict[str, int]:
        return {
            "filed": f, "public_filed": p, "closed": c, "closed_on_time": o,
            "overdue_unclosed": u_, "grids": grids, "area_m2": 9500 * grids,
        }  # fmt: skip

    return {
        K.INSPECTOR: {
            str(u["inspector1"]): (
                {"reported": 11, "valid_reported": 9, "verify_due": 3, "verified_in_time": 1,
                 "check_due": 11, "checked_in_time": 10, "grid_filed": 13, "missed": 3},
                "72.96", "C", 3),
            str(u["inspector2"]): (
                {"reported": 5, "valid_reported": 4, "check_due": 6, "checked_in_time": 6,
                 "grid_filed": 6}, "90.00", "A", 1),
            str(u["inspector_xc"]): (
                {"reported": 1, "valid_reported": 1, "verify_due": 1, "verified_in_time": 1,
                 "check_due": 2, "checked_in_time": 2, "grid_filed": 2, "missed": 1},
                "90.00", "A", 1),
        },
        K.OPERATOR: {
            str(u["operator"]): (
                {"intake": 21, "intake_in_time": 19, "verify_sent": 4, "verify_sent_in_time": 3,
                 "check_sent": 17, "check_sent_in_time": 16}, "62.94", "C", 2),
            str(u["operator_xc"]): (
                {"intake": 2, "intake_in_time": 2, "verify_sent": 1, "verify_sent_in_time": 1,
                 "check_sent": 2, "check_sent_in_time": 2}, "75.00", "B", 1),
        },
        K.SHIFT_LEAD: {
            str(u["shift_lead"]): (
                {"filed": 21, "filed_in_time": 20, "voided": 1, "closed": 17,
                 "closed_in_time": 15}, "92.79", "A", 1),
        },
        K.DISPATCHER: {
            str(u["dispatcher"]): (
                {"dispatched": 20, "dispatched_in_time": 18, "accurate_dispatched": 18},
                "72.00", "C", 2),
            str(u["dispatcher_dc"]): (
                {"dispatched": 2, "dispatched_in_time": 2, "accurate_dispatched": 2},
                "80.00", "B", 1),
        },
        K.DEPARTMENT: {
            str(d["cgw"]): (
                {"assigned": 13, "due": 14, "handled": 13, "handled_on_time": 11, "rework": 2,
                 "extended": 1, "suspended": 1, "overdue_open": 1, "closed": 11},
                "86.79", "B", 3),
            str(d["unit"]): (
                {"assigned": 1, "due": 3, "handled": 3, "handled_on_time": 2, "rework": 2,
                 "closed": 1}, "70.00", "C", 4),
            str(d["water"]): (
                {"assigned": 3, "due": 3, "handled": 2, "handled_on_time": 1, "refused": 1,
                 "overdue_open": 1, "closed": 2}, "70.00", "C", 4),
            str(d["dhm"]): (
                {"assigned": 2, "due": 2, "handled": 2, "handled_on_time": 2, "returned": 1,
                 "closed": 2}, "100.00", "A", 1),
            str(d["xc_cgw"]): (
                {"assigned": 2, "due": 2, "handled": 2, "handled_on_time": 2, "closed": 2},
                "100.00", "A", 1),
            str(d["yllh"]): ({}, None, None, None),
            str(d["js"]): ({}, None, None, None),
        },
        K.GRID: {
            G1: (region(6, 2, 6, 5, 0, 1), "82.00", "B", 2),
            G2: (region(4, 0, 3, 2, 0, 1), "81.67", "B", 3),
            G3: (region(3, 1, 2, 2, 1, 1), "71.33", "C", 4),
            G4: (region(6, 0, 4, 3, 1, 1), "70.00", "C", 5),
            G5: (region(2, 1, 2, 2, 0, 1), "93.00", "A", 1),
        },
        K.COMMUNITY: {
            "110101001001": (region(10, 2, 9, 7, 0, 2), "84.11", "B", 2),
            "110101001002": (region(3, 1, 2, 2, 1, 1), "71.33", "C", 3),
            "110101002001": (region(6, 0, 4, 3, 1, 1), "70.00", "C", 4),
            "110102001001": (region(2, 1, 2, 2, 0, 1), "93.00", "A", 1),
        },
        K.STREET: {
            "110101001": (region(13, 3, 11, 9, 1, 3), "80.19", "B", 2),
            "110101002": (region(6, 0, 4, 3, 1, 1), "70.00", "C", 3),
            "110102001": (region(2, 1, 2, 2, 0, 1), "93.00", "A", 1),
        },
        K.DISTRICT: {
            "110101": (region(19, 3, 15, 12, 2, 4), "78.13", "B", 2),
            "110102": (region(2, 1, 2, 2, 0, 1), "93.00", "A", 1),
        },
        K.CENTRE: {
            "city": (
                {**region(21, 4, 17, 14, 2, 5), "reported": 26, "valid_reported": 20,
                 "dispatched": 22, "due": 21, "handled_on_time": 16, "callbacks": 4,
                 "satisfied": 3, "satisfaction_points": 230}, "79.41", "B", 1),
        },
    }  # fmt: skip


def check(found: dict[K, dict[str, Any]], want: dict[K, dict[str, Any]]) -> None:
    for kind, subjects in want.items():
        assert set(found[kind]) == set(subjects), kind
        for key, (counts, score, grade, rank) in subjects.items():
            row = found[kind][key]
            got = {k: v for k, v in row.counts.items() if v}
            assert got == {k: v for k, v in counts.items() if v}, (kind, key)
            assert row.score.value == (Decimal(score) if score else None), (kind, key)
            assert row.score.grade == grade, (kind, key)
            assert row.rank == rank, (kind, key)


@pytest.fixture
def month(container: Container, city: City) -> Month:
    return november(container, city)


def test_every_indicator_of_every_subject_matches_the_hand_count(
    container: Container, city: City, month: Month
) -> None:
    december(month)
    found = reports(container, city)
    check(found, expected(city))
    # A few rates and ratios exactly.
    i1 = found[K.INSPECTOR][str(city.users["inspector1"])].values
    assert i1["valid_report_rate"] == Fraction(9, 11)
    assert i1["miss_rate"] == Fraction(3, 13)
    assert i1["verify_in_time_rate"] == Fraction(1, 3)
    i2 = found[K.INSPECTOR][str(city.users["inspector2"])].values
    assert i2["verify_in_time_rate"] is None  # nothing to verify: undefined, not 0 or 100 %
    cgw = found[K.DEPARTMENT][str(city.departments["cgw"])].values
    assert (cgw["close_due"], cgw["close_rate"], cgw["on_time_rate"]) == (
        12,
        Fraction(11, 12),
        Fraction(11, 14),
    )
    assert (cgw["handled_overdue"], cgw["rework_rate"], cgw["extension_rate"]) == (
        3,
        Fraction(1, 7),
        Fraction(1, 14),
    )
    street = found[K.STREET]["110101001"].values
    assert street["filed_per_grid"] == Fraction(13, 3)
    assert street["occurrence_rate"] == Fraction(13 * 10_000, 28_500)
    centre = found[K.CENTRE]["city"].values
    assert centre["satisfaction_rate"] == Fraction(3, 4)
    assert centre["satisfaction_score"] == Fraction(230, 4)
    assert centre["valid_report_rate"] == Fraction(20, 26)
    # The parts of a score: cgw's components and their points.
    cgw_key = str(city.departments["cgw"])
    view = q.subject(container.uow(readonly=True), actor=city.actor("leader"),
                     kind=K.DEPARTMENT, key=cgw_key, period=NOV, now=NOW)  # fmt: skip
    assert view.row.score.value == Decimal("86.79") and view.row.rank == 3
    parts = view.row.score.parts
    assert [(p.component.indicator, p.points) for p in parts] == [
        ("assigned", 100), ("close_rate", Fraction(1100, 12)),
        ("on_time_rate", Fraction(1100, 14)), ("rework_rate", Fraction(1200, 14)),
    ]  # fmt: skip


def test_a_history_folded_in_small_steps_counts_the_same(
    container: Container, city: City, month: Month, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long history is folded a few timeline lines per transaction; a fold that stopped
    after its first step goes on from there. The counts are those of one whole fold."""
    december(month)
    monkeypatch.setattr(store, "FOLD_EVENTS", 7)
    with container.uow() as uow:  # one step only, as if the process stopped after it
        first = uow.evaluation.refresh_facts(uow.sla.calendar().tz, NOW)
        uow.commit()
    with container.uow(readonly=True) as uow:
        assert uow.evaluation.facts_stale()
        assert store.read_state(uow.connection).last_event_id == 7
    assert 0 < first <= 7
    steps = []
    original = store.refresh

    def counted(*args: Any, **kwargs: Any) -> int:
        steps.append(kwargs["max_events"])
        return original(*args, **kwargs)

    monkeypatch.setattr(store, "refresh", counted)
    check(reports(container, city), expected(city))
    with container.engine.connect() as conn:
        lines = conn.execute(text("SELECT count(*) FROM case_events")).scalar_one()
    assert len(steps) >= (lines - 7) // 7 and set(steps) == {7}
    with container.uow(readonly=True) as uow:
        assert not uow.evaluation.facts_stale()


def test_partitions_add_up(container: Container, city: City, month: Month) -> None:
    found = reports(container, city)
    for child, parent, size in ((K.GRID, K.COMMUNITY, 12), (K.COMMUNITY, K.STREET, 9),
                                (K.STREET, K.DISTRICT, 6)):  # fmt: skip
        for code, row in found[parent].items():
            for name in BASE_COUNTS[parent]:
                total = sum(r.counts[name] for k, r in found[child].items() if k[:size] == code)
                assert total == row.counts[name], (parent, code, name)
    city_row = found[K.CENTRE]["city"]
    for name in BASE_COUNTS[K.DISTRICT]:
        assert sum(r.counts[name] for r in found[K.DISTRICT].values()) == city_row.counts[name]
    # Rolled up by level: the level-2 unit's rounds are part of its level-1 department.
    level1 = q.report(container.uow(readonly=True), actor=city.actor("leader"),
                      kind=K.DEPARTMENT, period=NOV, now=NOW, level=1)  # fmt: skip
    assert str(city.departments["unit"]) not in {r.subject.key for r in level1.rows}
    assert [r.rank for r in level1.rows[:3]] == [1, 1, 3]
    streets = q.report(container.uow(readonly=True), actor=city.actor("leader"),
                       kind=K.STREET, period=NOV, now=NOW, parent="110101")  # fmt: skip
    assert [r.subject.key for r in streets.rows] == ["110101001", "110101002"]
    assert [r.rank for r in streets.rows] == [1, 2]


def test_a_district_scope_counts_that_districts_cases_only(
    container: Container, city: City, month: Month
) -> None:
    refresh(container)
    dc = q.report(container.uow(readonly=True), actor=city.actor("leader"), kind=K.CENTRE,
                  period=NOV, now=NOW, district="110101")  # fmt: skip
    row = dc.row("110101")
    assert row is not None
    want = {
        "filed": 19, "public_filed": 3, "closed": 15, "closed_on_time": 12,
        "overdue_unclosed": 2, "grids": 4, "area_m2": 38_000, "reported": 24,
        "valid_reported": 18, "dispatched": 20, "due": 19, "handled_on_time": 14,
        "callbacks": 3, "satisfied": 2, "satisfaction_points": 150,
    }  # fmt: skip
    assert {k: v for k, v in row.counts.items() if v} == want
    assert row.score.value == Decimal("78.13")
    # The city dispatcher, seen from 东城: C18 and C24 (西城) are not counted.
    disp = q.report(container.uow(readonly=True), actor=city.actor("dispatcher_dc"),
                    kind=K.DISPATCHER, period=NOV, now=NOW)  # fmt: skip
    assert disp.scope == "110101"
    counts = {r.subject.key: r.counts for r in disp.rows}
    assert counts[str(city.users["dispatcher"])] == {
        "dispatched": 18,
        "dispatched_in_time": 16,
        "accurate_dispatched": 16,
    }
    assert {r.subject.key for r in q.report(
        container.uow(readonly=True), actor=city.actor("dispatcher_dc"), kind=K.GRID,
        period=NOV, now=NOW).rows} == {"110101001001001", "110101001001002", "110101001002001",
                                       "110101002001001"}  # fmt: skip


def test_drill_down_lists_exactly_the_cases_behind_a_number(
    container: Container, city: City, month: Month
) -> None:
    refresh(container)
    ids = {label: case.id for label, case in month.cases.items()}
    leader = city.actor("leader")

    def drill(kind: K, key: str, indicator: str, **kw: Any) -> list[tuple[str, int | None]]:
        page = q.drill(container.uow(readonly=True), actor=leader, kind=kind, key=key,
                       indicator=indicator, period=NOV, now=NOW, page_size=500, **kw)  # fmt: skip
        label = {v: k for k, v in ids.items()}
        return [(label[i.item.case_id], i.item.round or i.item.task_id) for i in page.items]

    cgw, water = str(city.departments["cgw"]), str(city.departments["water"])
    unit, dhm = str(city.departments["unit"]), str(city.departments["dhm"])
    assert [c for c, _ in drill(K.DEPARTMENT, cgw, "handled_overdue")] == ["C06", "C09", "C20"]
    assert drill(K.DEPARTMENT, unit, "rework") == [("C06", 2), ("C06", 3)]
    assert drill(K.DEPARTMENT, water, "refused") == [("C05", 1)]
    assert drill(K.DEPARTMENT, dhm, "returned") == [("C04", 1)]
    assert drill(K.DEPARTMENT, cgw, "overdue_open") == [("C09", 1)]
    assert [c for c, _ in drill(K.DEPARTMENT, cgw, "close_due")] == sorted(
        ["C01", "C03", "C04", "C05", "C07", "C10", "C19", "C20", "C26", "C27", "C06", "C09"]
    )
    i1 = str(city.users["inspector1"])
    assert [c for c, _ in drill(K.INSPECTOR, i1, "missed")] == ["C03", "C04", "C27"]
    assert [c for c, _ in drill(K.INSPECTOR, i1, "verify_in_time_rate",
                                part="denominator")] == ["C03", "C04", "C22"]  # fmt: skip
    assert [c for c, _ in drill(K.GRID, "110101002001001", "overdue_unclosed")] == ["C23"]
    assert [c for c, _ in drill(K.SHIFT_LEAD, str(city.users["shift_lead"]), "voided")] == ["C15"]
    page = q.drill(container.uow(readonly=True), actor=leader, kind=K.DEPARTMENT, key=cgw,
                   indicator="extended", period=NOV, now=NOW)  # fmt: skip
    assert page.total == 1
    assert [e.action for e in page.items[0].events] == ["request_extension", "approve_extension"]
    assert page.items[0].case is not None and page.items[0].case.number
    # Every count's list is as long as the count, for every subject.
    found = reports(container, city)
    for kind, rows in found.items():
        for key, row in rows.items():
            for name, value in row.counts.items():
                if name in ("grids", "area_m2", "satisfaction_points"):
                    continue
                listed = q.drill(container.uow(readonly=True), actor=leader, kind=kind,
                                 key=key, indicator=name, period=NOV, now=NOW,
                                 page_size=1)  # fmt: skip
                assert listed.total == value, (kind, key, name)


def test_centre_statistics_and_hot_spots(container: Container, city: City, month: Month) -> None:
    refresh(container)
    leader = city.actor("leader")
    view = q.centre(container.uow(readonly=True), actor=leader, period=NOV, now=NOW)
    stats = view.stats
    assert len(view.days) == 30
    assert sum(stats.throughput["reported"]) == 26
    assert sum(stats.throughput["filed"]) == 21
    assert sum(stats.throughput["closed"]) == 17
    assert stats.throughput["filed"][0] == 1  # C10, filed on 1 November
    accept = stats.stages["accept"]
    assert (accept.count, accept.p90) == (21, 30 * 60)
    assert accept.mean == pytest.approx(285 * 60 / 21)
    assert stats.satisfaction == {1: 1, 2: 1, 3: 1, 4: 1, 5: 0}
    assert stats.sources["inspector"] == (17, 15)
    spots = q.hotspots(container.uow(readonly=True), actor=leader, period=NOV, now=NOW)
    assert [g[:2] for g in spots.hotspots.grids] == [
        ("110101001001001", 6), ("110101002001001", 6), ("110101001001002", 4),
        ("110101001002001", 3), ("110102001001001", 2),
    ]  # fmt: skip
    codes = {cid: code for cid, (code, _) in spots.categories.items()}
    assert [(codes[c], n) for c, n in spots.hotspots.categories] == [("06010", 18), ("06001", 3)]
    assert sum(spots.hotspots.hour_of_week) == 21
    assert spots.hotspots.hour_of_week[24 + 9] == 2  # Tuesdays at 9: C01, C06
    repeats = [(g, codes[c], len(ids)) for g, c, ids in spots.hotspots.repeats]
    assert repeats[:2] == [("110101001001001", "06010", 6), ("110101002001001", "06010", 6)]
    assert ("110102001001001", "06001", 2) in repeats


def test_later_events_and_freezing_do_not_change_a_past_month(
    container: Container, city: City, month: Month
) -> None:
    """Reproducibility: November as of its end, before and after December happened; the
    frozen November stays what it was when frozen."""
    before = reports(container, city, now=at("2026-12-01 00:30"))
    frozen = ev.freeze_month(
        container.uow(readonly=True), container.uow(), actor=city.actor("admin"), period=NOV,
        now=at("2026-12-01 00:30"),
    )  # fmt: skip
    assert [r.scope for r in frozen] == ["city", "110101", "110102"]
    assert all(r.scheme_version == 1 for r in frozen)
    december(month)
    after = reports(container, city)
    for kind in SubjectKind:
        snap_a = {k: (r.counts, r.score.value, r.rank) for k, r in before[kind].items()}
        snap_b = {k: (r.counts, r.score.value, r.rank) for k, r in after[kind].items()}
        assert snap_a == snap_b, kind
    # Freezing again changes nothing; the frozen report is what a reader gets.
    again = ev.freeze_month(container.uow(readonly=True), container.uow(),
                            actor=city.actor("admin"), period=NOV, now=NOW)  # fmt: skip
    assert again == []
    rep = q.report(container.uow(readonly=True), actor=city.actor("leader"), kind=K.DEPARTMENT,
                   period=NOV, now=NOW)  # fmt: skip
    assert rep.frozen_at == at("2026-12-01 00:30")
    check({K.DEPARTMENT: {r.subject.key: r for r in rep.rows}},
          {K.DEPARTMENT: expected(city)[K.DEPARTMENT]})  # fmt: skip
    with pytest.raises(Exception, match="not over yet"):
        ev.freeze_month(container.uow(readonly=True), container.uow(),
                        actor=city.actor("admin"), period=DEC, now=NOW)  # fmt: skip


def test_boundary_cases_land_in_december(container: Container, city: City, month: Month) -> None:
    """C11 (reported 30 Nov, filed 1 Dec), C21/C22 (verify tasks across midnight), C09
    (settled overdue in November, handled in December), C08 (suspended across the month's
    end: due in December, in time), C06's two reworks (see November)."""
    december(month)
    dec = reports(container, city, period=DEC)
    u, d = city.users, city.departments
    i1 = dec[K.INSPECTOR][str(u["inspector1"])].counts
    assert (i1["reported"], i1["verify_due"], i1["verified_in_time"]) == (0, 1, 1)
    assert (i1["check_due"], i1["checked_in_time"], i1["grid_filed"]) == (3, 3, 2)
    cgw = dec[K.DEPARTMENT][str(d["cgw"])].counts
    assert (cgw["due"], cgw["handled_on_time"], cgw["overdue_open"]) == (2, 2, 0)
    assert cgw["closed"] == 3  # C08, C09, C11
    water = dec[K.DEPARTMENT][str(d["water"])].counts
    assert (water["due"], water["overdue_open"]) == (0, 1)  # C23 is still open and overdue
    g2 = dec[K.GRID]["110101001001002"].counts
    assert (g2["filed"], g2["closed"], g2["closed_on_time"]) == (1, 2, 2)  # C11; C08, C11
    g3 = dec[K.GRID]["110101001002001"].counts
    assert (g3["filed"], g3["closed"], g3["closed_on_time"]) == (1, 1, 0)  # C22; C09 overdue
    op = dec[K.OPERATOR][str(u["operator"])].counts
    assert (op["intake"], op["intake_in_time"]) == (3, 3)  # C11 accept, C21 reject, C22 accept
    assert dec[K.SHIFT_LEAD][str(u["shift_lead"])].counts["voided"] == 0


def test_a_new_scheme_version_applies_from_its_date_only(
    container: Container, city: City, month: Month
) -> None:
    admin = city.actor("admin")
    body = to_json(DEFAULT_SCHEME)
    body["components"]["department"] = [
        {"indicator": "on_time_rate", "weight": "100", "transform": "rate"}
    ]
    draft = ev.create_scheme(container.uow(), actor=admin, now=NOW, name="按期处置为主",
                             body=body)  # fmt: skip
    assert (draft.version, draft.status.value) == (2, "draft")
    with pytest.raises(ValidationError) as refused:
        ev.publish_scheme(container.uow(), 2, actor=admin, now=NOW,
                          effective_from=NOV.start)  # fmt: skip
    assert refused.value.code == "scheme_effective_past"
    ev.publish_scheme(container.uow(), 2, actor=admin, now=NOW, effective_from=DEC.start)
    december(month)
    nov = reports(container, city)
    assert nov[K.DEPARTMENT][str(city.departments["cgw"])].score.value == Decimal("86.79")
    dec = reports(container, city, period=DEC)
    assert dec[K.DEPARTMENT][str(city.departments["cgw"])].score.value == Decimal("100.00")
    with pytest.raises(Exception, match="published"):
        ev.update_scheme(container.uow(), 2, actor=admin, name="x")
    bad = to_json(DEFAULT_SCHEME)
    bad["components"]["inspector"][0]["weight"] = "50"
    with pytest.raises(ValidationError, match="add up to 110"):
        ev.create_scheme(container.uow(), actor=admin, now=NOW, body=bad)
