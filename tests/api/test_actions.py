"""POST /cases/{number}/actions/{action}: the loop over HTTP, the role × action matrix, and
the conflicts."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from cityloop.domain import workflow
from cityloop.domain.case import Case, CaseState
from cityloop.domain.roles import Role
from cityloop.domain.workflow import Action, Transition
from tests.api.conftest import Api
from tests.support.flow import Flow
from tests.support.photos import photo
from tests.support.states import drive

USER = {
    Role.INSPECTOR: "inspector1",
    Role.OPERATOR: "operator",
    Role.SHIFT_LEAD: "shift_lead",
    Role.DISPATCHER: "dispatcher",
    Role.HANDLER: "handler_cgw",
    Role.LEADER: "leader",
    Role.ADMIN: "admin",
    Role.CITIZEN: "citizen",
    Role.SYSTEM: "sensor",
}


def user_for(role: Role, state: CaseState | None) -> str:
    if role is Role.DISPATCHER and state is CaseState.PENDING_SUB_DISPATCH:
        return "dispatcher_dc"
    return USER[role]


def body_for(api: Api, flow: Flow, case: Case, action: Action) -> dict[str, Any]:
    """A body that passes validation, so that only the table and the guards decide."""
    reason = {"reason": "测试原因"}
    if action is Action.FILE:
        return {"standard_id": flow.standard("06010").id}
    if action is Action.DISPATCH:
        return {"department_id": api.city.departments["cgw"]}
    if action is Action.MERGE:
        if "merge_target" not in api.tokens:
            api.tokens["merge_target"] = flow.report(api.clock.now).case.number
        return {"into": api.tokens["merge_target"]}
    if action is Action.COMPLETE_VERIFY:
        return {"result": "confirmed"}
    if action is Action.REQUEST_SUSPENSION:
        return {**reason, "until": (api.clock.now + timedelta(days=30)).isoformat()}
    if action is Action.CLOSE and case.state is CaseState.CHECK_FAILED:
        return {"close_type": "special"}
    if action is Action.CALLBACK:
        return {"satisfaction": 1}
    if action in (Action.SUPERVISE, Action.FEEDBACK):
        return {"comment": "请处理"}
    if (
        action.value.startswith(("reject", "request_"))
        and action not in (Action.REQUEST_VERIFY, Action.REQUEST_CHECK)
    ) or action in (Action.VOID, Action.SEND_BACK, Action.REFUSE, Action.REWORK):
        return reason
    return {}


def post_action(api: Api, case: Case, action: Action, user: str, body: dict[str, Any]) -> Any:
    payload = {"version": case.version, **body}
    path = f"/cases/{case.number}/actions/{action.value}"
    if action is Action.FEEDBACK:
        return api.post(
            path,
            user,
            data={"data": json.dumps(payload)},
            files=[("photos", ("after.jpg", photo(), "image/jpeg"))],
        )
    return api.post(path, user, json=payload)


def rows_by_state() -> dict[CaseState, list[Transition]]:
    result: dict[CaseState, list[Transition]] = {}
    for row in workflow.TRANSITIONS:
        if row.state is not None:
            result.setdefault(row.state, []).append(row)
    return result


def visible(api: Api, case: Case, user: str) -> bool:
    return workflow.visible(case, api.city.actor(user))


@pytest.mark.parametrize("state", list(CaseState), ids=lambda s: s.value)
def test_role_action_matrix_over_http(api: Api, state: CaseState) -> None:
    """For every row of the table and every role: allowed (200, on a fresh case), refused for
    the role (403 ``role_not_allowed``) or, where the role may not see the case, 404. Every
    action that has no row for the state: 409 ``transition_not_allowed``."""
    flow = Flow(api.container, api.city)
    when = api.clock.now
    shared = drive(flow, state, when)
    rows = {row.action: row for row in rows_by_state().get(state, [])}
    for action in Action:
        if action in rows:
            continue
        response = post_action(api, shared, action, "leader", body_for(api, flow, shared, action))
        assert response.status_code == 409, (action, response.text)
        assert response.json()["code"] == "transition_not_allowed"
    for action, row in rows.items():
        for role in Role:
            user = user_for(role, state)
            if role in row.roles:
                case = drive(flow, state, when)
                response = post_action(api, case, action, user, body_for(api, flow, case, action))
                assert response.status_code == 200, (role, action, response.text)
                body = response.json()
                assert body["version"] == case.version + 1
                assert body["event"]["action"] == action.value
                assert body["state"]["value"] == row.resolve(case).value
                continue
            response = post_action(api, shared, action, user, body_for(api, flow, shared, action))
            if not visible(api, shared, user):
                assert response.status_code == 404, (role, action, response.text)
            else:
                assert response.status_code == 403, (role, action, response.text)
                assert response.json()["code"] == "role_not_allowed"


def test_the_whole_loop_over_http(api: Api) -> None:
    number = api.report(
        user="operator",
        source="hotline_12319",
        reporter_phone="13800000000",
        description="小区门口垃圾桶满溢",
    )["number"]
    api.clock.advance(minutes=2)
    task = api.act(number, "request_verify", "operator").json()["task"]
    assert task["kind"] == "verify"
    api.clock.advance(minutes=10)
    assert (
        api.post(
            f"/tasks/{task['id']}/complete", "inspector1", json={"result": "confirmed"}
        ).status_code
        == 200
    )
    assert api.act(number, "accept", "operator").status_code == 200
    standards = api.get("/classes/06010/standards", "shift_lead").json()["standards"]
    assert api.act(number, "file", "shift_lead", standard_id=standards[0]["id"]).status_code == 200
    detail = api.get(f"/cases/{number}", "dispatcher").json()
    assert [p["name"] for p in detail["proposals"]] == ["东华门街道办事处", "东城区城市管理委员会"]
    assert (
        api.act(
            number, "dispatch", "dispatcher", department_id=detail["proposals"][1]["id"]
        ).status_code
        == 200
    )
    assert api.act(number, "sign", "handler_cgw").status_code == 200
    version = api.get(f"/cases/{number}", "handler_cgw").json()["version"]
    fb = api.post(
        f"/cases/{number}/actions/feedback",
        "handler_cgw",
        data={"data": json.dumps({"version": version, "comment": "已清运"})},
        files=[("photos", ("after.jpg", photo(), "image/jpeg"))],
    )
    assert fb.status_code == 200 and fb.json()["attachments"][0]["stage"] == "feedback"
    check = api.act(number, "request_check", "operator").json()["task"]
    assert api.act(number, "pass_check", "inspector1").status_code == 200
    closed = api.act(number, "close", "shift_lead").json()
    assert closed["state"]["value"] == "closed"
    assert api.act(number, "callback", "operator", satisfaction=1).status_code == 200
    final = api.get(f"/cases/{number}", "operator").json()
    assert final["close_type"]["value"] == "normal" and final["satisfaction"] == 1
    assert [e["action"] for e in final["timeline"]] == [
        "report",
        "request_verify",
        "complete_verify",
        "accept",
        "file",
        "dispatch",
        "sign",
        "feedback",
        "request_check",
        "pass_check",
        "close",
        "callback",
    ]
    assert check["assignee_id"] == api.city.users["inspector1"]


def test_conflicts_and_bad_requests(api: Api) -> None:
    number = api.report()["number"]
    stale = api.post(f"/cases/{number}/actions/accept", "operator", json={"version": 9})
    assert stale.status_code == 409 and stale.json()["code"] == "case_changed"
    assert stale.json()["details"] == {"number": number, "expected": 9, "actual": 1}
    missing = api.post(f"/cases/{number}/actions/accept", "operator", json={})
    assert missing.status_code == 422 and missing.json()["code"] == "validation_error"
    unknown = api.post(f"/cases/{number}/actions/teleport", "operator", json={"version": 1})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_action"
    wrong = api.post(
        f"/cases/{number}/actions/file", "operator", json={"version": 1, "standard_id": 1}
    )
    assert wrong.status_code == 409 and wrong.json()["code"] == "transition_not_allowed"
    en = api.post(
        f"/cases/{number}/actions/file",
        "operator",
        json={"version": 1, "standard_id": 1},
        headers={"Accept-Language": "en"},
    )
    assert en.json()["message"] == (
        "Action File is not allowed for role Operator in state Awaiting acceptance"
    )
    assert wrong.json()["message"] == "状态为 待受理 的案件不允许角色 受理员 执行操作 立案"
    intake = api.post(f"/cases/{number}/actions/report", "operator", json={"version": 1})
    assert intake.status_code == 409
    assert api.get(f"/cases/{number}", "operator").json()["version"] == 1
