"""GET /cases (queues and search), GET /cases/{number}, its events and files."""

from __future__ import annotations

from datetime import timedelta

from cityloop.domain.case import CaseState, Source
from cityloop.domain.roles import SYSTEM_ACTOR
from cityloop.services import cases as svc
from tests.api.conftest import Api
from tests.support.flow import Flow
from tests.support.states import drive


def test_queues_follow_the_role(api: Api) -> None:
    flow = Flow(api.container, api.city)
    now = api.clock.now
    reported = drive(flow, CaseState.REPORTED, now)
    filing = drive(flow, CaseState.PENDING_FILING, now)
    dispatch = drive(flow, CaseState.PENDING_DISPATCH, now)
    handling = drive(flow, CaseState.HANDLING, now)
    checking = drive(flow, CaseState.CHECKING, now)

    def queue(user: str) -> list[str]:
        response = api.get("/cases", user, params={"queue": "true"})
        assert response.status_code == 200
        return sorted(i["number"] for i in response.json()["items"])

    assert queue("operator") == sorted([reported.number])
    assert queue("shift_lead") == sorted([filing.number])
    assert queue("dispatcher") == sorted([dispatch.number])
    assert queue("handler_cgw") == sorted([handling.number])
    assert queue("handler_water") == []
    assert queue("inspector1") == [checking.number]  # its open check task
    assert queue("operator_xc") == []  # another district
    everything = api.get("/cases", "leader").json()
    assert everything["total"] == 5


def test_the_queue_puts_running_clocks_before_suspended_ones(api: Api) -> None:
    """A suspended case's deadline lies in the past but its clock stands: it is not the most
    urgent thing on the desk. Among the suspended, less time left comes first."""
    flow = Flow(api.container, api.city)
    weeks_ago = api.clock.now - timedelta(days=21)  # a Monday, 09:00 Beijing time
    more_left = drive(flow, CaseState.SUSPENDED, weeks_ago)
    less_left = drive(flow, CaseState.HANDLING, weeks_ago)
    later = weeks_ago + timedelta(hours=2)
    until = api.clock.now + timedelta(days=30)
    less_left = flow.act(
        svc.request_suspension, less_left, "handler_cgw", later, reason="等待审批", until=until
    ).case
    less_left = flow.act(svc.approve_suspension, less_left, "dispatcher", later).case
    assert less_left.suspended_remaining_us is not None
    assert more_left.suspended_remaining_us is not None
    assert less_left.suspended_remaining_us < more_left.suspended_remaining_us
    to_dispatch = drive(flow, CaseState.PENDING_DISPATCH, api.clock.now)
    items = api.get("/cases", "dispatcher", params={"queue": "true"}).json()["items"]
    assert [i["number"] for i in items] == [
        to_dispatch.number,
        less_left.number,
        more_left.number,
    ]


def test_search_filters_sort_and_pages(api: Api) -> None:
    flow = Flow(api.container, api.city)
    t0 = api.clock.now
    early = flow.report(t0 - timedelta(hours=3), description="早上的垃圾").case
    later = flow.report(
        t0 - timedelta(hours=1),
        code="07001",
        description="小广告",
        grid="110101002001001",
        by="inspector2",
    ).case
    xicheng = flow.report(t0, by="inspector_xc", grid="110102001001001").case

    def numbers(**params: object) -> list[str]:
        response = api.get("/cases", "leader", params=params)
        assert response.status_code == 200, response.text
        return [i["number"] for i in response.json()["items"]]

    assert numbers(category="07001") == [later.number]
    assert numbers(street="110101002") == [later.number]
    assert numbers(grid="110101001001001") == [early.number]
    assert numbers(q="早上") == [early.number]
    assert numbers(sort="reported_at") == [early.number, later.number, xicheng.number]
    assert numbers(sort="-reported_at", page_size=1, page=2) == [later.number]
    # Most urgent first by default: the earliest stage deadline.
    assert numbers() == [early.number, later.number, xicheng.number]
    start = (t0 - timedelta(hours=2)).isoformat()
    assert numbers(reported_from=start) == [later.number, xicheng.number]
    # Lights: 15 minutes to accept, so the two older reports are overdue.
    assert numbers(light="red") == [early.number, later.number]
    assert numbers(light="green") == [xicheng.number]
    items = api.get("/cases", "leader").json()["items"]
    assert items[0]["stage"]["light"] == "red" and items[0]["stage"]["overdue"]
    assert items[0]["stage"]["light_label"] == "已超期"
    for bad in (
        {"sort": "colour"},
        {"light": "blue"},
        {"state": "happy"},
        {"page_size": 500},
        {"reported_from": "2026-11-23T08:00:00"},
    ):
        response = api.get("/cases", "leader", params=bad)
        assert response.status_code == 422, bad


def test_district_users_see_only_their_district(api: Api) -> None:
    flow = Flow(api.container, api.city)
    dongcheng = flow.report(api.clock.now).case
    response = api.get(f"/cases/{dongcheng.number}", "operator_xc")
    assert response.status_code == 404 and response.json()["code"] == "case_not_found"
    assert api.get(f"/cases/{dongcheng.number}/events", "operator_xc").status_code == 404
    assert api.get("/cases", "operator_xc").json()["total"] == 0
    assert api.get(f"/cases/{dongcheng.number}", "operator").status_code == 200
    assert api.get("/cases/2099010100001", "operator").status_code == 404


def test_a_file_is_served_only_from_a_case_the_caller_may_see(api: Api) -> None:
    flow = Flow(api.container, api.city)
    first = flow.report(api.clock.now).case
    second = flow.report(api.clock.now).case
    (mine,) = api.get(f"/cases/{first.number}", "operator").json()["attachments"]
    (other,) = api.get(f"/cases/{second.number}", "operator").json()["attachments"]
    path = f"/cases/{first.number}/attachments"
    got = api.get(f"{path}/{mine['id']}", "operator")
    assert got.status_code == 200 and got.content == b"\xff\xd8\xff\xe0 fake jpeg before"
    assert got.headers["content-type"] == "image/jpeg"

    def refused(url: str, user: str = "operator") -> str:
        response = api.get(url, user, headers={"Accept-Language": "en"})
        assert response.status_code == 404, (url, response.text)
        return str(response.json()["code"])

    # another district's user never learns that the case or its files exist
    assert refused(f"{path}/{mine['id']}", "operator_xc") == "case_not_found"
    assert refused(f"{path}/{mine['id']}/thumbnail", "operator_xc") == "case_not_found"
    # a file of another case, or none at all, under this case's address
    assert refused(f"{path}/{other['id']}") == "attachment_not_found"
    assert refused(f"{path}/999999/thumbnail") == "attachment_not_found"
    # the test's stand-in JPEG was stored without a thumbnail
    assert refused(f"{path}/{mine['id']}/thumbnail") == "thumbnail_not_found"


def test_case_page_has_everything_and_masks_the_phone(api: Api) -> None:
    number = api.report(
        user="operator",
        source="hotline_12345",
        reporter_name="李女士",
        reporter_phone="13912345678",
    )["number"]
    detail = api.get(f"/cases/{number}", "operator").json()
    assert detail["reporter_phone"] == "13912345678"
    assert [a["action"] for a in detail["actions"]] == [
        "accept",
        "request_verify",
        "reject",
        "merge",
        "request_void",
    ]
    assert detail["timeline"][0]["actor_name"] == "operator"
    assert api.get(f"/cases/{number}", "leader").json()["reporter_phone"] == "139****5678"
    assert api.get(f"/cases/{number}", "leader").json()["actions"] == []
    events = api.get(f"/cases/{number}/events", "leader").json()
    assert [e["action"] for e in events] == ["report"]
    assert events[0]["action_label"] == "上报"
    en = api.get(f"/cases/{number}/events", "leader", headers={"Accept-Language": "en"}).json()
    assert en[0]["action_label"] == "Report"


def test_what_the_system_did_is_named_by_its_role_not_a_code(api: Api) -> None:
    flow = Flow(api.container, api.city)
    case = drive(flow, CaseState.SUSPENDED, api.clock.now)
    assert case.suspend_until is not None
    svc.resume_due_suspensions(
        api.container.uow(), actor=SYSTEM_ACTOR, now=case.suspend_until + timedelta(hours=1)
    )
    events = api.get(f"/cases/{case.number}/events", "leader").json()
    resumed = events[-1]
    assert resumed["action"] == "resume" and resumed["actor_role"] == "system"
    assert resumed["actor_id"] is None and resumed["actor_name"] == "系统"
    assert resumed["details"]["scheduled"] is True and resumed["comment"] == ""
    en = api.get(f"/cases/{case.number}", "leader", headers={"Accept-Language": "en"}).json()
    assert en["timeline"][-1]["actor_name"] == "System"
    # people keep their own names
    assert events[0]["actor_name"] not in ("", "系统", "inspector")


def test_the_public_sees_who_acted_by_role_and_department_not_by_staff_name(api: Api) -> None:
    flow = Flow(api.container, api.city)
    now = api.clock.now
    case = flow.report(now, by="citizen", source=Source.PUBLIC, reporter_name="刘先生").case
    case = flow.act(svc.accept_case, case, "operator", now).case

    def names(user: str) -> list[str]:
        detail = api.get(f"/cases/{case.number}", user).json()
        return [line["actor_name"] for line in detail["timeline"]]

    assert names("citizen") == ["citizen", "受理员"]  # themself by name, staff by role
    assert names("operator") == ["citizen", "operator"]  # staff see each other's names


def test_tasks_list_and_answer(api: Api) -> None:
    flow = Flow(api.container, api.city)
    case = drive(flow, CaseState.VERIFYING, api.clock.now)
    tasks = api.get("/tasks", "inspector1").json()
    assert [t["case"]["number"] for t in tasks] == [case.number]
    task = tasks[0]["task"]
    assert task["kind"] == "verify" and task["kind_label"] == "核实"
    assert api.get("/tasks", "inspector2").json() == []
    wrong = api.post(f"/tasks/{task['id']}/complete", "inspector2", json={"result": "confirmed"})
    assert wrong.status_code == 404
    bad = api.post(f"/tasks/{task['id']}/complete", "inspector1", json={"result": "yes"})
    assert bad.status_code == 422 and bad.json()["code"] == "verify_result_invalid"
    done = api.post(
        f"/tasks/{task['id']}/complete",
        "inspector1",
        json={"result": "confirmed", "comment": "属实"},
    )
    assert done.status_code == 200
    assert done.json()["state"]["value"] == "verified"
    assert api.get("/tasks", "inspector1").json() == []
