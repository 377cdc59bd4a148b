"""A hand-built month for the evaluation tests: 27 cases in November 2026, driven through the
real services with explicit times (Asia/Shanghai), on the test city of ``tests.support.city``.

Every case is filed at urgency *urgent*: 暴露垃圾 (06010) has a disposal limit of 4 紧急工作时
(4 h, continuous) and 私搭乱建 (06001) of 2 紧急工作日 (48 h), so deadlines are plain sums.
Stage limits are the defaults: 受理 15 min, 核实 30, 立案 30, 派遣 15, 核查 30, 结案 30.

The table of what happens (and the hand-computed indicators) is in the docstring of
``tests/integration/test_evaluation_fixture.py``. ``november`` drives everything up to the
end of November; ``december`` the steps that follow, which must not change November.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert

from cityloop.adapters.db.models import T
from cityloop.bootstrap import Container
from cityloop.domain.case import Case, CloseType, Source
from cityloop.domain.org import DepartmentKind
from cityloop.domain.roles import Role
from cityloop.services import cases as svc
from cityloop.services.cases import NewReport, Outcome
from tests.conftest import at
from tests.support.city import City, password_hash
from tests.support.flow import PHOTO, REPORT_PHOTO

G1, G2, G3 = "110101001001001", "110101001001002", "110101001002001"
G4, G5 = "110101002001001", "110102001001001"
GARBAGE, BUILDING, ADS = "06010", "06001", "07001"


def add_unit(container: Container, city: City) -> None:
    """A level-2 unit under the city management committee, with one handler (roll-up)."""
    with container.engine.begin() as conn:
        unit = conn.execute(
            insert(T["departments"]).values(
                code="D101-CGW-1",
                name="东城区城管委环卫一队",
                kind=DepartmentKind.UNIT.value,
                level=2,
                parent_id=city.departments["cgw"],
                district_code="110101",
                active=True,
            )
        ).inserted_primary_key[0]
        uid = conn.execute(
            insert(T["users"]).values(
                username="handler_unit", display_name="handler_unit", password_hash=password_hash()
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(T["user_roles"]).values(
                user_id=uid, role=Role.HANDLER.value, district_code="110101", department_id=unit
            )
        )
    city.departments["unit"] = int(unit)
    city.users["handler_unit"] = int(uid)
    city.grants["handler_unit"] = (Role.HANDLER, "110101", int(unit))


def t(day: int, hhmm: str, month: int = 11) -> datetime:
    return at(f"2026-{month:02d}-{day:02d} {hhmm}")


HANDLERS = {
    "cgw": "handler_cgw",
    "water": "handler_water",
    "dhm": "handler_dhm",
    "xc_cgw": "handler_xc",
    "unit": "handler_unit",
}


@dataclass
class Month:
    container: Container
    city: City
    cases: dict[str, Case] = field(default_factory=dict)

    @property
    def uow(self) -> Any:
        return self.container.uow()

    # -- steps ---

    def report(
        self,
        label: str,
        when: datetime,
        grid: str,
        *,
        by: str = "inspector1",
        source: Source = Source.INSPECTOR,
        code: str = GARBAGE,
        self_handled: bool = False,
    ) -> None:
        lon, lat = self.city.point(grid)
        report = NewReport(
            source=source,
            description=f"{label} 测试案件",
            category_code=code,
            lon=lon,
            lat=lat,
            self_handled=self_handled,
            attachments=(REPORT_PHOTO,),
        )
        outcome = svc.report_case(self.uow, report, actor=self.city.actor(by), now=when)
        self.cases[label] = outcome.case

    def do(
        self, fn: Callable[..., Outcome], label: str, by: str, when: datetime, **fields: Any
    ) -> None:
        case = self.cases[label]
        outcome = fn(
            self.uow, case.id, actor=self.city.actor(by), now=when, version=case.version, **fields
        )
        self.cases[label] = outcome.case

    def task(self, label: str, by: str, when: datetime, result: str) -> None:
        case = self.cases[label]
        with self.container.uow(readonly=True) as uow:
            task = uow.tasks.open_for(case.id)
        assert task is not None, label
        outcome = svc.complete_task(
            self.uow, task.id, actor=self.city.actor(by), now=when, result=result
        )
        self.cases[label] = outcome.case

    def standard(self, code: str) -> int:
        with self.container.uow(readonly=True) as uow:
            return uow.catalog.standards_for(self.city.category_ids[code])[0].id

    # -- composite steps ---

    def accept(self, label: str, when: datetime, by: str = "operator") -> None:
        self.do(svc.accept_case, label, by, when)

    def file(self, label: str, when: datetime, code: str = GARBAGE) -> None:
        self.do(
            svc.file_case, label, "shift_lead", when, standard_id=self.standard(code),
            urgency="urgent",
        )  # fmt: skip

    def dispatch(self, label: str, when: datetime, dept: str, by: str = "dispatcher") -> None:
        self.do(svc.dispatch_case, label, by, when, department_id=self.city.departments[dept])

    def sign(self, label: str, when: datetime, dept: str) -> None:
        self.do(svc.sign_case, label, HANDLERS[dept], when)

    def feedback(self, label: str, when: datetime, dept: str) -> None:
        self.do(
            svc.feedback_case, label, HANDLERS[dept], when, comment="已处理", attachments=[PHOTO]
        )

    def send_check(self, label: str, when: datetime, by: str = "operator") -> None:
        self.do(svc.request_check, label, by, when)

    def close(self, label: str, when: datetime, **fields: Any) -> None:
        self.do(svc.close_case, label, "shift_lead", when, **fields)

    def loop(
        self,
        label: str,
        day: int,
        times: tuple[str, ...],
        dept: str,
        *,
        inspector: str = "inspector1",
        operator: str = "operator",
        code: str = GARBAGE,
        month: int = 11,
    ) -> None:
        """accept, file, dispatch, sign, feedback, send check, pass, close at ``times``."""
        acc, fil, dis, sig, fee, chk, pas, clo = (t(day, x, month) for x in times)
        self.accept(label, acc, operator)
        self.file(label, fil, code)
        self.dispatch(label, dis, dept)
        self.sign(label, sig, dept)
        self.feedback(label, fee, dept)
        self.send_check(label, chk, operator)
        self.task(label, inspector, pas, "passed")
        self.close(label, clo)

    def callback(self, label: str, when: datetime, level: int, by: str = "operator") -> None:
        self.do(svc.callback_case, label, by, when, satisfaction=level)


def november(container: Container, city: City) -> Month:
    """Every event of November 2026 (and C10's report on 31 October)."""
    add_unit(container, city)
    m = Month(container, city)
    i1, i2, ix = "inspector1", "inspector2", "inspector_xc"

    # C01 — the standard loop, all in time (G1, 城管委).
    m.report("C01", t(3, "09:00"), G1)
    m.accept("C01", t(3, "09:05"))
    m.file("C01", t(3, "09:10"))
    m.dispatch("C01", t(3, "09:20"), "cgw")
    m.sign("C01", t(3, "09:30"), "cgw")
    # C14 — a citizen's duplicate of C01, merged.
    m.report("C14", t(3, "09:30"), G1, by="citizen", source=Source.PUBLIC)
    m.do(svc.merge_case, "C14", "operator", t(3, "09:40"), into_case_id=m.cases["C01"].id)
    m.feedback("C01", t(3, "11:00"), "cgw")
    m.send_check("C01", t(3, "11:10"))
    m.task("C01", i1, t(3, "11:30"), "passed")
    m.close("C01", t(3, "11:40"))

    # C02 — late acceptance, late dispatch, late disposal, late check (G2, 自来水).
    m.report("C02", t(4, "10:00"), G2)
    m.loop("C02", 4, ("10:20", "10:40", "11:00", "11:10", "16:00", "16:10", "16:50", "17:00"),
           "water")  # fmt: skip

    # C03 — hotline 12345, verified in time, closed late, call-back 1 (G3, 私搭乱建).
    m.report("C03", t(5, "09:00"), G3, by="operator", source=Source.HOTLINE_12345, code=BUILDING)
    m.do(svc.request_verify, "C03", "operator", t(5, "09:05"))
    m.task("C03", i1, t(5, "09:30"), "confirmed")
    m.loop("C03", 5, ("09:40", "09:50", "10:00", "10:05", "12:00", "12:20", "12:40", "13:20"),
           "cgw", code=BUILDING)  # fmt: skip
    m.callback("C03", t(6, "10:00"), 1)

    # C04 — a citizen's report, verify sent and done late, filed late; returned by the street
    # office (东华门), dispatched again to 城管委; call-back 4 (G1).
    m.report("C04", t(6, "14:00"), G1, by="citizen", source=Source.PUBLIC)
    m.do(svc.request_verify, "C04", "operator", t(6, "14:20"))
    m.task("C04", i1, t(6, "15:00"), "confirmed")
    m.accept("C04", t(6, "15:05"))
    m.file("C04", t(6, "15:50"))
    m.dispatch("C04", t(6, "15:55"), "dhm")
    m.sign("C04", t(6, "16:05"), "dhm")
    m.do(svc.request_return, "C04", "handler_dhm", t(6, "16:10"), reason="非本单位职责")
    m.do(svc.approve_return, "C04", "dispatcher", t(6, "16:30"))
    m.dispatch("C04", t(6, "16:40"), "cgw")
    m.sign("C04", t(6, "16:50"), "cgw")
    m.feedback("C04", t(6, "18:00"), "cgw")
    m.send_check("C04", t(6, "18:20"))
    m.task("C04", i1, t(6, "18:40"), "passed")
    m.close("C04", t(6, "19:00"))
    m.callback("C04", t(7, "09:00"), 4)

    # C05 — refused by 自来水, dispatched again (late) to 城管委 (G2).
    m.report("C05", t(9, "09:00"), G2)
    m.accept("C05", t(9, "09:05"))
    m.file("C05", t(9, "09:10"))
    m.dispatch("C05", t(9, "09:15"), "water")
    m.do(svc.refuse_case, "C05", "handler_water", t(9, "09:30"), reason="非本单位职责")
    m.dispatch("C05", t(9, "10:00"), "cgw")
    m.sign("C05", t(9, "10:05"), "cgw")
    m.feedback("C05", t(9, "11:00"), "cgw")
    m.send_check("C05", t(9, "11:05"))
    m.task("C05", i1, t(9, "11:20"), "passed")
    m.close("C05", t(9, "11:30"))

    # C06 — reworked twice by the unit (G4): on time, late, on time.
    m.report("C06", t(10, "09:00"), G4, by=i2)
    m.accept("C06", t(10, "09:05"))
    m.file("C06", t(10, "09:10"))
    m.dispatch("C06", t(10, "09:20"), "unit")
    m.sign("C06", t(10, "09:25"), "unit")
    m.feedback("C06", t(10, "10:00"), "unit")
    m.send_check("C06", t(10, "10:10"))
    m.task("C06", i2, t(10, "10:30"), "failed")
    m.do(svc.rework_case, "C06", "shift_lead", t(10, "10:40"), reason="未清理干净")
    m.sign("C06", t(10, "10:45"), "unit")
    m.feedback("C06", t(10, "15:00"), "unit")
    m.send_check("C06", t(10, "15:10"))
    m.task("C06", i2, t(10, "15:20"), "failed")
    m.do(svc.rework_case, "C06", "dispatcher", t(10, "15:30"), reason="仍未清理")
    m.sign("C06", t(10, "15:35"), "unit")
    m.feedback("C06", t(10, "17:00"), "unit")
    m.send_check("C06", t(10, "17:05"))
    m.task("C06", i2, t(10, "17:20"), "passed")
    m.close("C06", t(10, "17:30"))

    # C07 — extended by 4 h before its deadline, handled after the old one (G1).
    m.report("C07", t(11, "09:00"), G1)
    m.accept("C07", t(11, "09:05"))
    m.file("C07", t(11, "09:10"))
    m.dispatch("C07", t(11, "09:20"), "cgw")
    m.sign("C07", t(11, "09:30"), "cgw")
    m.do(svc.request_extension, "C07", "handler_cgw", t(11, "12:00"), reason="需要协调")
    m.do(svc.approve_extension, "C07", "dispatcher", t(11, "12:30"))
    m.feedback("C07", t(11, "15:00"), "cgw")
    m.send_check("C07", t(11, "15:10"))
    m.task("C07", i1, t(11, "15:30"), "passed")
    m.close("C07", t(11, "15:40"))

    # C08 — suspended on 25 November, still suspended at the month's end (G2).
    m.report("C08", t(25, "09:00"), G2)
    m.accept("C08", t(25, "09:05"))
    m.file("C08", t(25, "09:10"))
    m.dispatch("C08", t(25, "09:20"), "cgw")
    m.sign("C08", t(25, "09:30"), "cgw")
    m.do(
        svc.request_suspension, "C08", "handler_cgw", t(25, "10:00"), reason="资金未到位",
        until=t(10, "10:00", 12),
    )  # fmt: skip
    m.do(svc.approve_suspension, "C08", "dispatcher", t(25, "10:30"))

    # C09 — overdue and still open at the month's end (G3).
    m.report("C09", t(27, "09:00"), G3)
    m.accept("C09", t(27, "09:05"))
    m.file("C09", t(27, "09:10"))
    m.dispatch("C09", t(27, "09:20"), "cgw")
    m.sign("C09", t(27, "09:30"), "cgw")

    # C10 — reported on 31 October at 23:50, everything else on 1 November (G1).
    m.report("C10", at("2026-10-31 23:50"), G1)
    m.loop("C10", 1, ("00:00", "00:05", "00:10", "00:20", "02:00", "02:10", "02:20", "02:30"),
           "cgw")  # fmt: skip

    # C11 — reported on 30 November at 23:50; the rest happens in December (G2).
    m.report("C11", t(30, "23:50"), G2)

    # C12 — handled on the spot (自处理), approved (G1, 小广告).
    m.report("C12", t(12, "10:00"), G1, code=ADS, self_handled=True)
    m.do(svc.approve_self_handling, "C12", "operator", t(12, "10:10"))

    # C13 — turned away at intake (G1).
    m.report("C13", t(13, "09:00"), G1)
    m.do(svc.reject_case, "C13", "operator", t(13, "09:10"), reason="不属于受理范围")

    # C15 — filed, then voided by the shift lead (G4).
    m.report("C15", t(16, "09:00"), G4, by=i2)
    m.accept("C15", t(16, "09:10"))
    m.file("C15", t(16, "09:20"))
    m.do(svc.void_case, "C15", "shift_lead", t(16, "09:30"), reason="重复立案")

    # C16 — a sensor alarm (G3, 自来水).
    m.report("C16", t(17, "08:00"), G3, by="sensor", source=Source.SENSOR)
    m.loop("C16", 17, ("08:05", "08:10", "08:20", "08:30", "10:00", "10:10", "10:30", "10:40"),
           "water")  # fmt: skip

    # C17 — a leader's order, accepted late, dispatched through the district centre (G4).
    m.report("C17", t(18, "09:00"), G4, by="leader", source=Source.LEADER)
    m.accept("C17", t(18, "09:30"))
    m.file("C17", t(18, "09:35"))
    m.do(svc.dispatch_to_district, "C17", "dispatcher", t(18, "09:40"))
    m.dispatch("C17", t(18, "09:50"), "dhm", by="dispatcher_dc")
    m.sign("C17", t(18, "10:00"), "dhm")
    m.feedback("C17", t(18, "11:00"), "dhm")
    m.send_check("C17", t(18, "11:05"))
    m.task("C17", i2, t(18, "11:20"), "passed")
    m.close("C17", t(18, "11:30"))

    # C18 — hotline 12319 in 西城, handled by the district operator; call-back 2 (G5).
    m.report("C18", t(19, "09:00"), G5, by="operator_xc", source=Source.HOTLINE_12319,
             code=BUILDING)  # fmt: skip
    m.do(svc.request_verify, "C18", "operator_xc", t(19, "09:05"))
    m.task("C18", ix, t(19, "09:20"), "confirmed")
    m.loop("C18", 19, ("09:30", "09:40", "09:50", "10:00", "11:00", "11:10", "11:30", "11:45"),
           "xc_cgw", inspector=ix, operator="operator_xc", code=BUILDING)  # fmt: skip
    m.callback("C18", t(20, "10:00"), 2, by="operator_xc")

    # C19 — check failed, closed as a special close (G1).
    m.report("C19", t(20, "09:00"), G1)
    m.accept("C19", t(20, "09:05"))
    m.file("C19", t(20, "09:10"))
    m.dispatch("C19", t(20, "09:20"), "cgw")
    m.sign("C19", t(20, "09:30"), "cgw")
    m.feedback("C19", t(20, "10:00"), "cgw")
    m.send_check("C19", t(20, "10:05"))
    m.task("C19", i1, t(20, "10:20"), "failed")
    m.close("C19", t(20, "10:30"), close_type=CloseType.SPECIAL, comment="现场已无法整改")

    # C20 — handled 45 min after its deadline (G4).
    m.report("C20", t(23, "09:00"), G4, by=i2)
    m.loop("C20", 23, ("09:05", "09:10", "09:15", "09:30", "14:00", "14:20", "14:40", "14:45"),
           "cgw", inspector=i2)  # fmt: skip

    # C21 — media, verify sent at 23:45 on 30 November, answered in December (G2).
    m.report("C21", t(30, "23:40"), G2, by="operator", source=Source.MEDIA)
    m.do(svc.request_verify, "C21", "operator", t(30, "23:45"))

    # C22 — a citizen's report, verify due at 22:40 on 30 November, answered late (G3).
    m.report("C22", t(30, "22:00"), G3, by="citizen", source=Source.PUBLIC)
    m.do(svc.request_verify, "C22", "operator", t(30, "22:10"))

    # C23 — dispatched to 自来水 on 2 November and never handled (G4).
    m.report("C23", t(2, "09:00"), G4, by=i2)
    m.accept("C23", t(2, "09:05"))
    m.file("C23", t(2, "09:10"))
    m.dispatch("C23", t(2, "09:20"), "water")
    m.sign("C23", t(2, "10:00"), "water")

    # C24 — the 西城 inspector's own report (G5, 私搭乱建).
    m.report("C24", t(5, "10:00"), G5, by=ix, code=BUILDING)
    m.loop("C24", 5, ("10:05", "10:10", "10:20", "10:30", "12:00", "12:10", "12:30", "12:40"),
           "xc_cgw", inspector=ix, operator="operator_xc", code=BUILDING)  # fmt: skip

    # C25 — dispatched by the district dispatcher; check sent late (G4).
    m.report("C25", t(12, "14:00"), G4, by=i2)
    m.accept("C25", t(12, "14:10"))
    m.file("C25", t(12, "14:20"))
    m.dispatch("C25", t(12, "14:30"), "dhm", by="dispatcher_dc")
    m.sign("C25", t(12, "14:40"), "dhm")
    m.feedback("C25", t(12, "16:00"), "dhm")
    m.send_check("C25", t(12, "16:40"))
    m.task("C25", i2, t(12, "16:50"), "passed")
    m.close("C25", t(12, "17:00"))

    # C26 — closed 10 min late (G2).
    m.report("C26", t(26, "09:00"), G2)
    m.loop("C26", 26, ("09:10", "09:15", "09:20", "09:25", "10:00", "10:10", "10:30", "11:10"),
           "cgw")  # fmt: skip

    # C27 — media report; call-back 3 (G1).
    m.report("C27", t(14, "15:00"), G1, by="operator", source=Source.MEDIA)
    m.loop("C27", 14, ("15:05", "15:10", "15:20", "15:25", "17:00", "17:05", "17:15", "17:20"),
           "cgw")  # fmt: skip
    m.callback("C27", t(15, "10:00"), 3)
    return m


def december(m: Month) -> None:
    """What happens after November: none of it may change November's numbers."""
    i1 = "inspector1"
    d = 12
    m.loop("C11", 1, ("00:02", "00:10", "00:15", "00:20", "03:00", "03:10", "03:20", "03:30"),
           "cgw", month=d)  # fmt: skip
    m.task("C21", i1, t(1, "00:05", d), "confirmed")
    m.do(svc.reject_case, "C21", "operator", t(1, "00:10", d), reason="不属于受理范围")
    m.task("C22", i1, t(1, "08:00", d), "confirmed")
    m.accept("C22", t(1, "08:05", d))
    m.file("C22", t(1, "08:10", d))
    m.feedback("C09", t(2, "10:00", d), "cgw")
    m.send_check("C09", t(2, "10:10", d))
    m.task("C09", i1, t(2, "10:30", d), "passed")
    m.close("C09", t(2, "10:40", d))
    m.do(svc.resume_case, "C08", "dispatcher", t(3, "10:00", d))
    m.feedback("C08", t(3, "12:00", d), "cgw")
    m.send_check("C08", t(3, "12:10", d))
    m.task("C08", i1, t(3, "12:30", d), "passed")
    m.close("C08", t(3, "12:40", d))


NOVEMBER = date(2026, 11, 1)
