"""Drive cases through the services in tests, with explicit times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from cityloop.adapters.db.models import T
from cityloop.bootstrap import Container
from cityloop.domain.case import Case, CaseState, Source
from cityloop.domain.taxonomy import FilingStandard
from cityloop.services import cases as svc
from cityloop.services.cases import NewAttachment, NewReport, Outcome
from tests.support.city import City

PHOTO = NewAttachment("after.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 fake jpeg after")
REPORT_PHOTO = NewAttachment("before.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 fake jpeg before")

GARBAGE = "06010"  # 暴露垃圾 (event; self-handling allowed; dispatch rule → 城管委)
ILLEGAL_BUILDING = "06001"  # 私搭乱建 (event; no self-handling)
WATER_COVER = "01001"  # 供水井盖异常 (component anomaly)


class Flow:
    def __init__(self, container: Container, city: City) -> None:
        self.container = container
        self.city = city

    @property
    def uow(self) -> Any:
        return self.container.uow()

    def report(
        self,
        when: datetime,
        *,
        by: str = "inspector1",
        source: Source = Source.INSPECTOR,
        code: str = GARBAGE,
        grid: str = "110101001001001",
        key: str | None = None,
        **fields: Any,
    ) -> Outcome:
        lon, lat = self.city.point(grid)
        fields.setdefault("lon", lon)
        fields.setdefault("lat", lat)
        report = NewReport(
            source=source,
            description=fields.pop("description", "路边有一堆暴露垃圾"),
            category_code=code,
            attachments=fields.pop("attachments", (REPORT_PHOTO,)),
            **fields,
        )
        return svc.report_case(
            self.uow, report, actor=self.city.actor(by), now=when, idempotency_key=key
        )

    def act(
        self, fn: Callable[..., Outcome], case: Case, by: str, when: datetime, **fields: Any
    ) -> Outcome:
        fields.setdefault("version", case.version)
        return fn(self.uow, case.id, actor=self.city.actor(by), now=when, **fields)

    def get(self, case_id: int) -> Case:
        with self.container.uow(readonly=True) as uow:
            case = uow.cases.get(case_id)
        assert case is not None
        return case

    def standard(self, code: str, index: int = 0) -> FilingStandard:
        with self.container.uow(readonly=True) as uow:
            return uow.catalog.standards_for(self.city.category_ids[code])[index]

    def task(self, case_id: int) -> Any:
        with self.container.uow(readonly=True) as uow:
            return uow.tasks.open_for(case_id)

    def events(self, case_id: int) -> list[Any]:
        with self.container.uow(readonly=True) as uow:
            return uow.cases.events(case_id)

    def snapshot(self) -> dict[str, Any]:
        """Every mutable table's row count and every case row, to prove nothing changed."""
        with self.container.engine.connect() as conn:
            counts = {
                name: conn.execute(select(func.count()).select_from(T[name])).scalar_one()
                for name in (
                    "cases",
                    "case_events",
                    "tasks",
                    "attachments",
                    "case_pauses",
                    "counters",
                )
            }
            rows = [tuple(r) for r in conn.execute(select(T["cases"]).order_by(T["cases"].c.id))]
        return {"counts": counts, "cases": rows}

    # -- the standard path ---

    def filed(self, when: datetime, *, code: str = GARBAGE, **report: Any) -> Case:
        case = self.report(when, code=code, **report).case
        case = self.act(svc.accept_case, case, "operator", when).case
        standard = self.standard(code)
        return self.act(svc.file_case, case, "shift_lead", when, standard_id=standard.id).case

    def dispatched(self, when: datetime, *, department: str = "cgw", **report: Any) -> Case:
        case = self.filed(when, **report)
        return self.act(
            svc.dispatch_case,
            case,
            "dispatcher",
            when,
            department_id=self.city.departments[department],
        ).case

    def handling(self, when: datetime, *, handler: str = "handler_cgw", **report: Any) -> Case:
        case = self.dispatched(when, **report)
        return self.act(svc.sign_case, case, handler, when).case

    def handled(self, when: datetime, *, handler: str = "handler_cgw", **report: Any) -> Case:
        case = self.handling(when, handler=handler, **report)
        return self.act(
            svc.feedback_case, case, handler, when, comment="已清理", attachments=[PHOTO]
        ).case

    def checking(self, when: datetime, **report: Any) -> Case:
        case = self.handled(when, **report)
        return self.act(svc.request_check, case, "operator", when).case


def state_of(flow: Flow, case_id: int) -> CaseState:
    return flow.get(case_id).state
