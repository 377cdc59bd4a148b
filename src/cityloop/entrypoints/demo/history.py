"""Ninety days of synthetic work, produced by calling the real services with a simulated clock.

Reports arrive as a Poisson process whose rate follows the hour of the day and the day of the
week; each report draws a plan (verify or not, void, merge, refuse, return, extension,
suspension, rework, overdue, call-back …) and then moves through the services step by step,
every step at its simulated time. Nothing is inserted behind the services' back. Whatever is
still under way when the clock reaches "now" stays in its state, some of it overdue.

A district with fifty reports a day has only a case or two in each short stage at any moment,
often none. So that every role finds work waiting when the demo opens, the latest reports are
steered through one state each (待立案, 核查中, 延期待审批 …), the newest through the centre's,
older ones through the departments' and the inspectors'. A case that reached its state within
its own few hours (or, for the later states, a day or so) before "now" is *held* there: nobody
takes the next step; so is the first steered case to reach each state, however early, so
that no state is left empty. Every step up to the held state is a real service call.
"""

from __future__ import annotations

import heapq
import io
import itertools
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from PIL import Image, ImageDraw

from cityloop.adapters.images import process_photo
from cityloop.bootstrap import Container
from cityloop.domain.case import Case, CaseState, Source, TaskKind
from cityloop.domain.codes import ClassKind, Edition
from cityloop.domain.errors import DomainError
from cityloop.domain.roles import SYSTEM_ACTOR, Actor, Role
from cityloop.domain.sla.units import Clock
from cityloop.entrypoints.demo.city import DemoCity, communities, streets
from cityloop.services import cases as svc
from cityloop.services.cases import NewAttachment, NewReport
from cityloop.services.queries.cases import CaseFilters, list_cases

# Reports per hour of the day (relative), and per weekday (Monday = 0).
HOURLY = [0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.5, 1.0, 1.6, 1.9, 1.9, 1.6,
          1.0, 1.2, 1.7, 1.8, 1.6, 1.3, 0.9, 0.7, 0.6, 0.5, 0.35, 0.25]  # fmt: skip
WEEKDAY = [1.05, 1.05, 1.0, 1.0, 1.0, 0.6, 0.55]

SOURCES = [
    (Source.INSPECTOR, 0.58), (Source.HOTLINE_12345, 0.14), (Source.HOTLINE_12319, 0.06),
    (Source.PUBLIC, 0.08), (Source.MEDIA, 0.02), (Source.LEADER, 0.02),
    (Source.SENSOR, 0.05), (Source.VIDEO, 0.05),
]  # fmt: skip

# matter class → (weight, descriptions)
EVENTS: dict[str, tuple[float, list[str]]] = {
    "06010": (14, ["路边堆放生活垃圾未清运", "垃圾散落在人行道上", "胡同口有暴露垃圾"]),
    "06042": (8, ["垃圾桶满溢，垃圾散落地面", "垃圾箱爆满无人清运"]),
    "07001": (10, ["电线杆上张贴小广告", "墙面喷涂办证小广告", "公交站牌贴满小广告"]),
    "09010": (8, ["共享单车和电动车乱停放堵塞人行道", "非机动车停放占用盲道"]),
    "09011": (5, ["共享单车大量堆积在路口"]),
    "09005": (6, ["商户店外摆放货架经营", "饭馆店外摆桌经营"]),
    "09006": (5, ["流动摊贩占道经营", "早点摊占用人行道"]),
    "06036": (6, ["楼道口堆放杂物", "路边乱堆建筑材料和杂物"]),
    "06013": (6, ["人行道地砖破损翘起", "路面坑洼破损影响通行"]),
    "06012": (4, ["路面油污未清理", "道路积尘不洁"]),
    "08004": (3, ["工地未覆盖裸土，扬尘严重"]),
    "08002": (3, ["施工围挡占用机动车道"]),
    "06007": (3, ["沿街树木上晾晒衣物"]),
    "06028": (3, ["商户使用高音喇叭招揽生意"]),
    "09009": (4, ["机动车占用人行道停放"]),
    "06001": (2, ["居民在屋顶私搭乱建彩钢房"]),
    "10001": (1, ["人行道积雪结冰未清除"]),
}
ANOMALY_TEXT = {
    "01001": ["供水井盖缺失，存在安全隐患", "供水井盖破损"],
    "01002": ["污水井盖移位", "污水井盖破损下陷"],
    "01003": ["雨水井盖破损", "雨水井盖缺失"],
    "01004": ["雨水箅子堵塞", "雨水箅子缺失"],
    "01005": ["电力井盖破损"],
    "01007": ["通信井盖松动有响声"],
    "01011": ["燃气井盖破损"],
    "01037": ["路灯不亮", "路灯灯杆倾斜", "路灯灯罩破损"],
    "03005": ["垃圾箱破损", "垃圾箱缺失"],
    "04002": ["行道树枯死", "行道树断枝悬挂"],
    "02010": ["交通标志牌倾斜", "交通标志牌被遮挡"],
    "02004": ["公交站亭玻璃破损"],
    "03001": ["公共厕所设施损坏"],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"


def _photo_bank(rng: random.Random, count: int = 12) -> list[NewAttachment]:
    """A few synthetic 'photos' (coloured scenes), processed like real uploads."""
    bank = []
    for i in range(count):
        image = Image.new("RGB", (800, 600), (rng.randrange(90, 200),) * 3)
        draw = ImageDraw.Draw(image)
        for _ in range(6):
            x, y = rng.randrange(0, 700), rng.randrange(0, 500)
            colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            draw.rectangle(
                (x, y, x + rng.randrange(40, 200), y + rng.randrange(40, 160)), fill=colour
            )
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=80)
        photo = process_photo(buffer.getvalue(), max_bytes=10_000_000)
        bank.append(
            NewAttachment(
                f"demo-{i:02d}.jpg", photo.content_type, photo.data, thumbnail=photo.thumbnail
            )
        )
    return bank


@dataclass
class Plan:
    """What will happen to one case, drawn when it is reported."""

    verify: bool = False
    verify_fails: bool = False
    reject: bool = False
    void: bool = False
    merge_into: int | None = None
    self_handled: bool = False
    two_level: bool = False
    refuse: bool = False
    return_: bool = False
    extension: bool = False
    suspension: bool = False
    stuck: bool = False  # the department lets it lie for days before signing
    reworks: int = 0
    speed: float = 0.4  # share of the disposal limit the department takes
    callback: bool = False
    urgent: bool = False
    hold: CaseState | None = None  # the state the case may be left waiting in …
    hold_share: float = 0.0  # … if its stage clock has run at most this share of the limit
    hold_for: timedelta = timedelta(0)  # … or, with no stage clock, it got there this recently


# The states a held case waits in: the centre's (for the newest reports) and the later ones.
# (已合并 among them: that report duplicates the newest open case and is merged into it.)
HOLD_EARLY = (
    CaseState.REPORTED, CaseState.VERIFYING, CaseState.VERIFIED, CaseState.SELF_HANDLED,
    CaseState.PENDING_FILING, CaseState.VOID_REQUESTED, CaseState.PENDING_DISPATCH,
    CaseState.PENDING_SUB_DISPATCH, CaseState.DISPATCHED, CaseState.MERGED,
)  # fmt: skip
HOLD_LATER = (
    CaseState.HANDLING, CaseState.RETURN_REQUESTED, CaseState.EXTENSION_REQUESTED,
    CaseState.SUSPENSION_REQUESTED, CaseState.HANDLED, CaseState.CHECKING,
    CaseState.CHECK_FAILED, CaseState.PENDING_CLOSE,
)  # fmt: skip
# The newest HOLD_EARLY_REPORTS reports aim at HOLD_EARLY in turn, the ones before them back
# to the HOLD_LATER_REPORTS-th newest at HOLD_LATER. A case waits in its state only if it got
# there recently enough (its stage clock has run less than its hold_share of the limit, or with
# no stage clock less than its hold_for), else it goes on as usual: queues then hold fresh work
# beside late work, green lights beside yellow and red ones.
HOLD_EARLY_REPORTS = 4 * len(HOLD_EARLY)
HOLD_LATER_REPORTS = HOLD_EARLY_REPORTS + 20 * len(HOLD_LATER)
HOLD_WAIT_HOURS = {"early": (0.05, 1.0), "later": (0.2, 8.0)}
HOLD_SHARE = (0.05, 1.4)
WORKING_DAY_MINUTES = 8 * 60
SELF_HANDLING_CLASSES = ("06010", "07001", "09010", "09011", "06007", "09005")


def steer(plan: Plan, hold: CaseState, rng: random.Random) -> None:
    """Set ``plan`` so that the case passes through ``hold`` and may wait there."""
    plan.hold = hold
    low, high = HOLD_WAIT_HOURS["early" if hold in HOLD_EARLY else "later"]
    plan.hold_for = timedelta(hours=rng.uniform(low, high))
    plan.hold_share = rng.uniform(*HOLD_SHARE)
    plan.verify = hold in (CaseState.VERIFYING, CaseState.VERIFIED) or (
        plan.verify and hold is not CaseState.REPORTED
    )
    plan.verify_fails = plan.reject = plan.stuck = plan.refuse = False
    plan.merge_into = None
    plan.self_handled = hold is CaseState.SELF_HANDLED
    plan.void = hold is CaseState.VOID_REQUESTED
    plan.two_level = hold is CaseState.PENDING_SUB_DISPATCH
    plan.return_ = hold is CaseState.RETURN_REQUESTED
    plan.extension = hold is CaseState.EXTENSION_REQUESTED
    plan.suspension = hold is CaseState.SUSPENSION_REQUESTED
    plan.reworks = 1 if hold is CaseState.CHECK_FAILED else 0
    if plan.extension:  # asked for while time is left
        plan.speed = min(plan.speed, 0.5)


@dataclass(order=True)
class _Step:
    at: datetime
    seq: int
    case_id: int = field(compare=False)
    kind: str = field(compare=False)


@dataclass
class DemoStats:
    reported: int = 0
    actions: int = 0
    refused_by_rules: int = 0
    states: Counter[str] = field(default_factory=Counter)


class History:
    def __init__(self, container: Container, city: DemoCity, seed: int) -> None:
        self.c = container
        self.city = city
        self.rng = random.Random(seed)
        self.queue: list[_Step] = []
        self.seq = itertools.count()
        self.plans: dict[int, Plan] = {}
        self.citizens: dict[int, tuple[str, str]] = {}  # user id → (name, phone)
        # id, class, street, at, lon, lat
        self.open_cases: list[tuple[int, str, str, datetime, float, float]] = []
        self.photos = _photo_bank(self.rng)
        self.stats = DemoStats()
        self.street_names = dict(streets())
        self.community_names = dict(communities())
        with container.uow(readonly=True) as uow:
            self.clocks = uow.sla.clocks()
            covered = {
                c.code
                for c in uow.catalog.categories(edition=Edition.CURRENT, kind=ClassKind.MATTER)
                if uow.catalog.standards_for(c.id)
            }
        # Only problems the city's filing standards cover are reported in the demo.
        self.events = {k: v for k, v in EVENTS.items() if k in covered}
        self.components = [c for c in city.components if c[1] in covered]
        self.cache: dict[int, Case] = {}
        self.holds: dict[int, CaseState] = {}  # report step seq → the state it aims at
        self.waiting: set[CaseState] = set()  # states a held case already waits in
        # The inspector the sign-in page and `make run` show (the first by user name): the
        # operator sends the held cases' verify and check tasks to them, so that login has
        # tasks waiting.
        self.on_duty = min(n for n, u in city.users.items() if u[1] is Role.INSPECTOR)

    # -- helpers ---

    def actor(self, name: str) -> Actor:
        return self.city.actor(name)

    def pick(self, *names: str) -> Actor:
        return self.actor(self.rng.choice(names))

    def later(self, now: datetime, minutes: float) -> datetime:
        return now + timedelta(minutes=max(minutes, 0.5))

    def later_working(self, now: datetime, minutes: float) -> datetime:
        """``minutes`` of working time after ``now`` (departments work office hours)."""
        return self.clocks.shift(now, int(max(minutes, 1) * 60_000_000), Clock.WORKING)

    def schedule(self, at: datetime, case_id: int, kind: str) -> None:
        heapq.heappush(self.queue, _Step(at, next(self.seq), case_id, kind))

    def get(self, case_id: int) -> Case:
        case = self.cache.pop(case_id, None)
        if case is None:
            with self.c.uow(readonly=True) as uow:
                case = uow.cases.get(case_id)
        assert case is not None
        return case

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> svc.Outcome:
        """Run one service call and keep the case it returns for the next step."""
        outcome: svc.Outcome = fn(*args, **kwargs)
        self.cache[outcome.case.id] = outcome.case
        return outcome

    def act(self, fn: Any, now: datetime, case: Case, actor: Actor, **kwargs: Any) -> svc.Outcome:
        """One action on ``case`` by ``actor`` at ``now``, with the version the simulation saw."""
        return self.call(
            fn, self.c.uow(), case.id, actor=actor, now=now, version=case.version, **kwargs
        )

    def photo(self) -> list[NewAttachment]:
        return [self.rng.choice(self.photos)]

    # -- arrivals ---

    def arrivals(self, start: datetime, end: datetime, total: int) -> None:
        hours = int((end - start).total_seconds() // 3600)
        weights = []
        tz = self.clocks.calendar.tz
        for h in range(hours):
            local = (start + timedelta(hours=h)).astimezone(tz)
            weights.append(HOURLY[local.hour] * WEEKDAY[local.weekday()])
        scale = total / sum(weights)
        for h, w in enumerate(weights):
            lam = w * scale
            n = self._poisson(lam)
            for _ in range(n):
                at = start + timedelta(hours=h, seconds=self.rng.uniform(0, 3600))
                self.schedule(at, -1, "report")

    def _poisson(self, lam: float) -> int:
        threshold, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= threshold:
                return k
            k += 1

    def _report(self, now: datetime, hold: CaseState | None = None) -> None:
        rng = self.rng
        source = rng.choices([s for s, _ in SOURCES], [w for _, w in SOURCES])[0]
        if hold is CaseState.SELF_HANDLED:
            source = Source.INSPECTOR
        component = None
        duplicate = self._duplicate_of() if hold is CaseState.MERGED else None
        if duplicate is not None:
            _id, category, lon, lat = duplicate
            texts = self.events[category][1] if category in self.events else None
            description = rng.choice(texts or ANOMALY_TEXT.get(category, ["部件损坏"]))
            lon, lat = lon + rng.uniform(-0.0001, 0.0001), lat + rng.uniform(-0.0001, 0.0001)
        elif hold is CaseState.SELF_HANDLED:
            category = rng.choice([c for c in SELF_HANDLING_CLASSES if c in self.events])
            description = rng.choice(self.events[category][1])
            _grid_code, lon, lat = rng.choice(self.city.grids)
            lon, lat = lon + rng.uniform(-0.0003, 0.0003), lat + rng.uniform(-0.0003, 0.0003)
        elif rng.random() < 0.3 and self.components:
            component = rng.choice(self.components)
            _code, class_code, lon, lat = component
            description = rng.choice(ANOMALY_TEXT.get(class_code, ["部件损坏"]))
            category = class_code
            lon, lat = lon + rng.uniform(-0.00003, 0.00003), lat + rng.uniform(-0.00003, 0.00003)
        else:
            classes = list(self.events)
            category = rng.choices(classes, [self.events[c][0] for c in classes])[0]
            description = rng.choice(self.events[category][1])
            _grid_code, lon, lat = rng.choice(self.city.grids)
            lon, lat = lon + rng.uniform(-0.0003, 0.0003), lat + rng.uniform(-0.0003, 0.0003)
        grid_hit = self.c.locator.locate(lon, lat)
        if grid_hit is None:
            return
        street = self.street_names.get(grid_hit.street_code, "")
        community = self.community_names.get(grid_hit.community_code, "")
        plan = Plan(
            verify=(
                source in (Source.HOTLINE_12345, Source.HOTLINE_12319, Source.PUBLIC, Source.MEDIA)
                and rng.random() < 0.85
            )
            or (source is Source.SENSOR and rng.random() < 0.5),
            verify_fails=rng.random() < 0.07,
            reject=rng.random() < 0.03,
            void=rng.random() < 0.02,
            two_level=rng.random() < 0.1,
            refuse=rng.random() < 0.03,
            return_=rng.random() < 0.03,
            extension=rng.random() < 0.05,
            suspension=rng.random() < 0.015,
            stuck=rng.random() < 0.02,
            reworks=1 if rng.random() < 0.07 else 0,
            speed=min(rng.lognormvariate(math.log(0.42), 0.55), 3.0),
            callback=source.public_facing and rng.random() < 0.6,
            urgent=rng.random() < 0.08,
        )
        if plan.reworks and rng.random() < 0.15:
            plan.reworks = 2
        if source is Source.INSPECTOR and category in SELF_HANDLING_CLASSES and rng.random() < 0.12:
            plan.self_handled = True
        if hold is not None:
            steer(plan, hold, rng)
        if duplicate is not None:
            plan.merge_into = duplicate[0]
        # a duplicate of a recent open report of the same class in the same street
        if hold is None and rng.random() < 0.03:
            for case_id, cls, st, at, _lon, _lat in reversed(self.open_cases[-60:]):
                if cls == category and st == grid_hit.street_code and now - at < timedelta(days=2):
                    plan.merge_into = case_id
                    break
        actor = self._reporter(source, grid_hit.street_code)
        name, phone = self._contact(actor) if source.public_facing else ("", "")
        report = NewReport(
            source=source,
            description=f"{community}{description}" if rng.random() < 0.5 else description,
            category_code=category,
            lon=lon,
            lat=lat,
            address=f"{street}{community}附近",
            component_code=component[0] if component else None,
            reporter_name=name,
            reporter_phone=phone,
            self_handled=plan.self_handled,
            attachments=self.photo() if source in (Source.INSPECTOR, Source.VIDEO) else (),
        )
        try:
            out = self.call(
                svc.report_case,
                self.c.uow(),
                report,
                actor=actor,
                now=now,
                idempotency_key=f"demo-{next(self.seq)}",
            )
        except DomainError:
            self.stats.refused_by_rules += 1
            return
        self.stats.reported += 1
        case = out.case
        self.plans[case.id] = plan
        self.open_cases.append((case.id, category, grid_hit.street_code, now, lon, lat))
        if plan.self_handled:
            self.schedule(self.later(now, self.rng.uniform(5, 40)), case.id, "review_self")
        else:
            self.schedule(self.later(now, self.rng.uniform(2, 25)), case.id, "intake")

    def _still_open(self, case_id: int) -> bool:
        with self.c.uow(readonly=True) as uow:
            case = uow.cases.get(case_id)
        return case is not None and not case.state.terminal

    def _duplicate_of(self) -> tuple[int, str, float, float] | None:
        """The newest report still open (id, class, position), for a report repeating it."""
        with self.c.uow(readonly=True) as uow:
            for case_id, category, _street, _at, lon, lat in reversed(self.open_cases[-30:]):
                case = uow.cases.get(case_id)
                if case is not None and not case.state.terminal:
                    return case_id, category, lon, lat
        return None

    def _reporter(self, source: Source, street: str) -> Actor:
        if source is Source.INSPECTOR:
            return self.actor(self.rng.choice(self.city.inspectors_by_street[street]))
        if source is Source.PUBLIC and self.rng.random() < 0.5:
            return self.pick("citizen1", "citizen2")
        if source is Source.LEADER:
            return self.actor("leader")
        if source is Source.SENSOR:
            return self.actor("sensor")
        return self.pick("operator1", "operator2", "operator3")

    def _contact(self, reporter: Actor) -> tuple[str, str]:
        """Who to call back: a citizen with an account is that citizen (the name without its
        市民 prefix, the account's phone); on a hotline or a public channel without an
        account, a caller of the day."""
        if reporter.role is Role.CITIZEN and reporter.user_id is not None:
            if reporter.user_id not in self.citizens:
                with self.c.uow(readonly=True) as uow:
                    user = uow.org.user(reporter.user_id)
                assert user is not None
                self.citizens[reporter.user_id] = (
                    user.display_name.removeprefix("市民"),
                    user.phone,
                )
            return self.citizens[reporter.user_id]
        return self._name(), self._phone()

    def _name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(["先生", "女士"])

    def _phone(self) -> str:
        return f"1{self.rng.choice('3578')}{self.rng.randrange(10**8, 10**9)}"

    # -- the steps ---

    def choose_holds(self) -> None:
        """Which of the latest reports are held, and in which state (see the module's text)."""
        latest = sorted((s for s in self.queue if s.kind == "report"), reverse=True)
        for rank, step in enumerate(latest[:HOLD_LATER_REPORTS]):
            states = HOLD_EARLY if rank < HOLD_EARLY_REPORTS else HOLD_LATER
            self.holds[step.seq] = states[rank % len(states)]

    def held(self, step: _Step, end: datetime) -> bool:
        """Whether ``step`` is one nobody takes: its case waits in its plan's held state."""
        plan = self.plans.get(step.case_id)
        if plan is None or plan.hold is None:
            return False
        case = self.get(step.case_id)
        self.cache[case.id] = case
        if case.state is not plan.hold:
            return False
        if plan.hold not in self.waiting:  # the first to get there waits, however early
            self.waiting.add(plan.hold)
            return True
        started, deadline = case.stage_started_at, case.stage_deadline
        if started is not None and deadline is not None:
            return end - started <= (deadline - started) * plan.hold_share
        return (case.updated_at or step.at) >= end - plan.hold_for

    def run(self, start: datetime, end: datetime, total: int) -> DemoStats:
        self.arrivals(start, end, total)
        self.choose_holds()
        hour = start
        while self.queue:
            step = heapq.heappop(self.queue)
            if step.at > end:
                break
            while hour <= step.at:  # the scheduled job: resume due suspensions
                for resumed in svc.resume_due_suspensions(
                    self.c.uow(), actor=SYSTEM_ACTOR, now=hour
                ):
                    self.cache[resumed.case.id] = resumed.case
                hour += timedelta(hours=1)
            if step.kind != "report" and self.held(step, end):
                continue
            try:
                if step.kind == "report":
                    self._report(step.at, self.holds.get(step.seq))
                else:
                    getattr(self, f"_{step.kind}")(
                        step.at, self.get(step.case_id), self.plans[step.case_id]
                    )
                    self.stats.actions += 1
            except DomainError:
                self.stats.refused_by_rules += 1
        return self.stats

    def _op(self) -> Actor:
        return self.pick("operator1", "operator2", "operator3")

    def _lead(self) -> Actor:
        return self.pick("shiftlead1", "shiftlead2")

    def _dispatcher(self) -> Actor:
        return self.pick("dispatcher1", "dispatcher2")

    def _inspector_of(self, case: Case) -> Actor:
        street = case.street_code or ""
        return self.actor(self.rng.choice(self.city.inspectors_by_street[street]))

    def _handler_of(self, case: Case) -> Actor:
        for name, (_uid, _role, _district, dept) in self.city.users.items():
            if dept is not None and dept == case.department_id:
                return self.actor(name)
        raise LookupError(case.department_id)

    def _review_self(self, now: datetime, case: Case, plan: Plan) -> None:
        if self.rng.random() < 0.9:
            self.act(svc.approve_self_handling, now, case, self._op())
        else:
            out = self.act(
                svc.reject_self_handling,
                now,
                case,
                self._op(),
                reason="照片不能说明已处理",
            )
            plan.self_handled = False
            self.schedule(self.later(now, 5), out.case.id, "intake")

    def _intake(self, now: datetime, case: Case, plan: Plan) -> None:
        op = self._op()
        if plan.merge_into is not None and self._still_open(plan.merge_into):
            self.act(
                svc.merge_case,
                now,
                case,
                op,
                into_case_id=plan.merge_into,
                comment="重复上报",
            )
            return
        plan.merge_into = None  # the original was closed meanwhile: taken as a report of its own
        if plan.verify and case.state is CaseState.REPORTED:
            self.act(svc.request_verify, now, case, op, inspector_id=self._task_inspector(plan))
            self.schedule(self.later(now, self.rng.uniform(8, 45)), case.id, "verify")
            return
        if plan.reject or case.verify_result == "not_found":
            self.act(
                svc.reject_case,
                now,
                case,
                op,
                reason="经核实不属实或不属于城管范围",
            )
            return
        if plan.void:
            self.act(
                svc.request_void,
                now,
                case,
                op,
                reason="上报信息有误",
            )
            self.schedule(self.later(now, self.rng.uniform(10, 60)), case.id, "void")
            return
        self.call(svc.accept_case, self.c.uow(), case.id, actor=op, now=now, version=case.version)
        self.schedule(self.later(now, self.rng.uniform(5, 35)), case.id, "file")

    def _verify(self, now: datetime, case: Case, plan: Plan) -> None:
        with self.c.uow(readonly=True) as uow:
            task = uow.tasks.open_for(case.id, TaskKind.VERIFY)
        assert task is not None
        result = "not_found" if plan.verify_fails else "confirmed"
        self.call(
            svc.complete_task,
            self.c.uow(),
            task.id,
            actor=self.actor(self._username(task.assignee_id)),
            now=now,
            result=result,
            attachments=self.photo(),
        )
        self.schedule(self.later(now, self.rng.uniform(3, 20)), case.id, "intake")

    def _username(self, user_id: int) -> str:
        return next(n for n, u in self.city.users.items() if u[0] == user_id)

    def _void(self, now: datetime, case: Case, plan: Plan) -> None:
        if self.rng.random() < 0.8:
            self.act(svc.approve_void, now, case, self._lead())
        else:
            self.act(
                svc.reject_void,
                now,
                case,
                self._lead(),
                reason="信息有效，继续办理",
            )
            plan.void = False
            self.schedule(self.later(now, 10), case.id, "intake")  # back where it was: reported

    def _file(self, now: datetime, case: Case, plan: Plan) -> None:
        with self.c.uow(readonly=True) as uow:
            standards = uow.catalog.standards_for(case.category_id or 0)
        if not standards:
            self.act(
                svc.reject_case,
                now,
                case,
                self._lead(),
                reason="无对应立案标准",
            )
            return
        weights = [3.0] + [1.0] * (len(standards) - 1)
        standard = self.rng.choices(standards, weights)[0]
        self.act(
            svc.file_case,
            now,
            case,
            self._lead(),
            standard_id=standard.id,
            urgency="urgent" if plan.urgent else "normal",
        )
        self.schedule(self.later(now, self.rng.uniform(3, 30)), case.id, "dispatch")

    def _dispatch(self, now: datetime, case: Case, plan: Plan) -> None:
        if case.state is CaseState.PENDING_DISPATCH and plan.two_level:
            plan.two_level = False
            self.act(svc.dispatch_to_district, now, case, self._dispatcher())
            self.schedule(self.later(now, self.rng.uniform(5, 30)), case.id, "dispatch")
            return
        actor = self.actor("dispatcher_dc") if case.sub_dispatched else self._dispatcher()
        proposals = svc.proposed_departments(self.c.uow(), case.id, actor=actor)
        if not proposals:
            proposals = [self.city.departments["cgw"]]
        department = proposals[0] if self.rng.random() < 0.85 else self.rng.choice(proposals)
        if case.refusal_count or case.return_count:
            others = [p for p in proposals if p != department] or [self.city.departments["cgw"]]
            department = others[0]
        self.act(
            svc.dispatch_case,
            now,
            case,
            actor,
            department_id=department,
        )
        if plan.refuse and not case.refusal_count:
            self.schedule(self.later_working(now, self.rng.uniform(20, 200)), case.id, "refuse")
        elif plan.stuck:  # left lying until reminders and supervision move it, days late
            days = self.rng.uniform(2, 12)
            self.schedule(self.later_working(now, days * WORKING_DAY_MINUTES), case.id, "sign")
        else:
            self.schedule(self.later_working(now, self.rng.uniform(5, 120)), case.id, "sign")

    def _refuse(self, now: datetime, case: Case, plan: Plan) -> None:
        if case.refuse_until is not None and now > case.refuse_until:
            self.schedule(now, case.id, "sign")
            return
        self.act(
            svc.refuse_case,
            now,
            case,
            self._handler_of(case),
            reason="不属于本单位职责范围",
        )
        self.schedule(self.later(now, self.rng.uniform(5, 40)), case.id, "dispatch")

    def _limit_minutes(self, case: Case) -> float:
        assert case.disposal_limit is not None
        us = self.clocks.limit_us(case.disposal_limit)
        return us / 60_000_000

    def _after(self, now: datetime, case: Case, share: float) -> datetime:
        assert case.disposal_limit is not None
        minutes = max(self._limit_minutes(case) * share, 10)
        if case.disposal_limit.clock is Clock.WORKING:
            return self.later_working(now, minutes)
        return self.later(now, minutes)

    def _sign(self, now: datetime, case: Case, plan: Plan) -> None:
        out = self.act(svc.sign_case, now, case, self._handler_of(case))
        if plan.return_ and not case.return_count:
            self.schedule(self._after(now, out.case, 0.1), case.id, "ask_return")
        elif plan.suspension:
            self.schedule(self._after(now, out.case, 0.2), case.id, "ask_suspension")
        elif plan.extension:
            self.schedule(self._after(now, out.case, 0.6), case.id, "ask_extension")
        else:
            self.schedule(self._after(now, out.case, plan.speed), case.id, "feedback")

    def _ask_return(self, now: datetime, case: Case, plan: Plan) -> None:
        self.act(
            svc.request_return,
            now,
            case,
            self._handler_of(case),
            reason="该问题属于其他部门职责",
        )
        self.schedule(self.later(now, self.rng.uniform(10, 90)), case.id, "decide_return")

    def _decide_return(self, now: datetime, case: Case, plan: Plan) -> None:
        if self.rng.random() < 0.7:
            self.act(svc.approve_return, now, case, self._dispatcher())
            self.schedule(self.later(now, self.rng.uniform(5, 30)), case.id, "dispatch")
        else:
            out = self.act(
                svc.reject_return,
                now,
                case,
                self._dispatcher(),
                reason="职责明确，请继续处置",
            )
            self.schedule(self._after(now, out.case, plan.speed), case.id, "feedback")

    def _ask_extension(self, now: datetime, case: Case, plan: Plan) -> None:
        if case.overdue_at(now):
            self.schedule(now, case.id, "feedback")
            return
        try:
            self.act(
                svc.request_extension,
                now,
                case,
                self._handler_of(case),
                reason="需协调多个产权单位，申请延期",
            )
        except DomainError:  # no extension left (a reworked case had its own): just finish it
            self.schedule(self._after(now, case, plan.speed), case.id, "feedback")
            return
        self.schedule(self.later(now, self.rng.uniform(10, 120)), case.id, "decide_extension")

    def _decide_extension(self, now: datetime, case: Case, plan: Plan) -> None:
        if self.rng.random() < 0.8:
            out = self.act(svc.approve_extension, now, case, self._dispatcher())
        else:
            out = self.act(
                svc.reject_extension,
                now,
                case,
                self._dispatcher(),
                reason="时限充足",
            )
        self.schedule(self._after(now, out.case, max(plan.speed, 0.8)), case.id, "feedback")

    def _ask_suspension(self, now: datetime, case: Case, plan: Plan) -> None:
        until = now + timedelta(days=self.rng.randint(5, 60))
        self.act(
            svc.request_suspension,
            now,
            case,
            self._handler_of(case),
            reason="需等待资金或季节条件",
            until=until,
        )
        self.schedule(self.later(now, self.rng.uniform(30, 240)), case.id, "decide_suspension")

    def _decide_suspension(self, now: datetime, case: Case, plan: Plan) -> None:
        if self.rng.random() < 0.85:
            self.act(svc.approve_suspension, now, case, self._dispatcher())
            assert case.suspend_until is not None
            self.schedule(case.suspend_until + timedelta(hours=2), case.id, "after_resume")
        else:
            out = self.act(
                svc.reject_suspension,
                now,
                case,
                self._dispatcher(),
                reason="应尽快处置",
            )
            self.schedule(self._after(now, out.case, plan.speed), case.id, "feedback")

    def _after_resume(self, now: datetime, case: Case, plan: Plan) -> None:
        if case.state is CaseState.HANDLING:
            self.schedule(self._after(now, case, plan.speed * 0.5), case.id, "feedback")

    def _feedback(self, now: datetime, case: Case, plan: Plan) -> None:
        if case.state is not CaseState.HANDLING:
            return
        self.act(
            svc.feedback_case,
            now,
            case,
            self._handler_of(case),
            comment="已按要求处置完毕",
            attachments=self.photo(),
        )
        self.schedule(self.later(now, self.rng.uniform(5, 40)), case.id, "request_check")

    def _task_inspector(self, plan: Plan) -> int | None:
        """Who gets a verify or check task: the grid's inspector, the one on duty if held."""
        held = plan.hold in (CaseState.VERIFYING, CaseState.CHECKING)
        return self.city.users[self.on_duty][0] if held else None

    def _request_check(self, now: datetime, case: Case, plan: Plan) -> None:
        self.act(svc.request_check, now, case, self._op(), inspector_id=self._task_inspector(plan))
        self.schedule(self.later(now, self.rng.uniform(10, 80)), case.id, "check")

    def _check(self, now: datetime, case: Case, plan: Plan) -> None:
        with self.c.uow(readonly=True) as uow:
            task = uow.tasks.open_for(case.id, TaskKind.CHECK)
        assert task is not None
        failed = plan.reworks > case.rework_count
        self.call(
            svc.complete_task,
            self.c.uow(),
            task.id,
            actor=self.actor(self._username(task.assignee_id)),
            now=now,
            result="failed" if failed else "passed",
            comment="问题仍存在" if failed else "现场已处置",
            attachments=self.photo(),
        )
        self.schedule(
            self.later(now, self.rng.uniform(5, 60)), case.id, "rework" if failed else "close"
        )

    def _rework(self, now: datetime, case: Case, plan: Plan) -> None:
        out = self.act(
            svc.rework_case,
            now,
            case,
            self._lead(),
            reason="核查未通过，请重新处置",
        )
        self.schedule(self.later_working(now, self.rng.uniform(10, 90)), out.case.id, "sign")

    def _close(self, now: datetime, case: Case, plan: Plan) -> None:
        self.call(
            svc.close_case, self.c.uow(), case.id, actor=self._lead(), now=now, version=case.version
        )
        if plan.callback:
            self.schedule(self.later(now, self.rng.uniform(120, 2000)), case.id, "callback")

    def _callback(self, now: datetime, case: Case, plan: Plan) -> None:
        satisfaction = self.rng.choices([1, 2, 3, 4, 5], [45, 35, 10, 7, 3])[0]
        self.act(
            svc.callback_case,
            now,
            case,
            self._op(),
            satisfaction=satisfaction,
            comment="电话回访",
        )


def supervise_overdue(
    container: Container, city: DemoCity, now: datetime, rng: random.Random
) -> int:
    """The leader puts some overdue cases under supervision; dispatchers remind others."""
    page = list_cases(
        container.uow(readonly=True),
        city.actor("leader"),
        now=now,
        filters=CaseFilters(light="red", states=("dispatched", "handling")),
        page_size=200,
    )
    done = 0
    for item in page.items:
        case = item.case
        try:
            if rng.random() < 0.3:
                svc.supervise_case(
                    container.uow(),
                    case.id,
                    actor=city.actor("leader"),
                    now=now,
                    version=case.version,
                    comment="超期未处置，请加快办理",
                )
            else:
                svc.remind_case(
                    container.uow(),
                    case.id,
                    actor=city.actor("dispatcher1"),
                    now=now,
                    version=case.version,
                    comment="请尽快处置",
                )
            done += 1
        except DomainError:
            continue
    return done
