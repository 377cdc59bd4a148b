"""Sign-in, the frame, sessions, languages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cityloop.domain.org import RoleGrant
from cityloop.domain.roles import Role
from cityloop.services import org
from tests.support.city import PASSWORD
from tests.web.conftest import Web


def test_pages_need_sign_in_and_come_back_after_it(web: Web) -> None:
    client = TestClient(web.app, follow_redirects=False)
    response = client.get("/work?state=reported")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/work%3Fstate%3Dreported"
    form = client.get(response.headers["location"])
    assert form.status_code == 200 and 'name="next" value="/work?state=reported"' in form.text
    signed = client.post(
        "/login",
        data={"username": "operator", "password": PASSWORD, "next": "/work?state=reported"},
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/work?state=reported"
    assert client.get("/work").status_code == 200


def test_wrong_password_is_refused_in_the_page_language(web: Web) -> None:
    client = TestClient(web.app, follow_redirects=False)
    zh = client.post("/login", data={"username": "operator", "password": "nope"})
    assert zh.status_code == 401
    assert "用户名或密码错误" in zh.text
    en = client.post("/login", data={"username": "operator", "password": "nope", "lang": "en"})
    assert "The user name or the password is wrong" in en.text
    assert "cityloop_session" not in client.cookies


def test_sign_in_never_redirects_to_another_site(web: Web) -> None:
    client = TestClient(web.app, follow_redirects=False)
    response = client.post(
        "/login", data={"username": "operator", "password": PASSWORD, "next": "//evil.example/x"}
    )
    assert response.headers["location"] == "/work"


def test_frame_shows_who_role_scope_and_only_my_navigation(web: Web) -> None:
    html = web.sign_in("dispatcher_dc").get("/work").text
    assert "dispatcher_dc" in html and "派遣员" in html
    assert "东城区" in html  # the district scope
    assert 'href="/report"' not in html and 'href="/admin"' not in html
    operator = web.sign_in("operator").get("/work").text
    assert 'href="/report"' in operator and "全市" in operator
    admin = web.sign_in("admin").get("/admin").text
    assert 'href="/admin"' in admin


def test_demo_data_is_marked_synthetic_in_the_footer(web: Web) -> None:
    browser = web.sign_in("operator")
    assert "synthetic" not in browser.get("/work").text and "虚构" not in browser.get("/work").text
    web.app.state.demo = True
    assert "虚构" in browser.get("/work").text


def test_sign_out_revokes_the_session(web: Web) -> None:
    browser = web.sign_in("operator")
    cookie = browser.client.cookies.get("cityloop_session")
    response = browser.post("/logout")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    again = TestClient(web.app, follow_redirects=False)
    again.cookies.set("cityloop_session", cookie)
    assert again.get("/work").status_code == 303  # the token behind the cookie is revoked


def test_an_expired_session_sends_me_to_sign_in(web: Web) -> None:
    browser = web.sign_in("operator")
    assert browser.get("/work").status_code == 200
    web.clock.advance(hours=13)  # tokens live 12 hours by default
    web.app.state.token_cache = type(web.app.state.token_cache)()
    response = browser.get("/work")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    htmx = browser.get("/work/rows", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"].startswith("/login")


def test_a_forged_cookie_is_not_a_session(web: Web) -> None:
    client = TestClient(web.app, follow_redirects=False)
    client.cookies.set("cityloop_session", "eyJ0IjoieCIsImwiOiJlbiJ9.deadbeef")
    assert client.get("/work").status_code == 303


def test_english_switch_translates_the_frame_and_sticks(web: Web) -> None:
    browser = web.sign_in("operator")
    assert "我的待办" in browser.get("/work").text
    switched = browser.get("/lang/en?next=/work")
    assert switched.status_code == 303
    html = browser.get("/work").text
    assert "My work" in html and "我的待办" not in html and 'lang="en"' in html
    browser.get("/lang/zh_CN?next=/work")
    assert "我的待办" in browser.get("/work").text


def test_forms_need_the_session_token(web: Web) -> None:
    browser = web.sign_in("operator")
    response = browser.client.post("/session/role", data={"role": "operator", "_csrf": "x"})
    assert response.status_code == 403


def test_a_user_with_two_roles_switches_between_them(web: Web) -> None:
    org.create_user(
        web.container.uow(),
        actor=web.city.actor("admin"),
        now=web.clock.now,
        username="zhang_two",
        display_name="张两岗",
        password=PASSWORD,
        grants=[RoleGrant(Role.OPERATOR), RoleGrant(Role.SHIFT_LEAD)],
    )
    browser = web.sign_in("zhang_two")
    html = browser.get("/work").text
    assert 'id="role-switch"' in html and "受理员 · " not in html
    assert 'href="/report"' in html  # the first role: operator
    switched = browser.post("/session/role", {"role": "shift_lead"})
    assert switched.status_code == 303
    after = browser.get("/work").text
    assert 'href="/report"' not in after and "待立案" in after
    refused = browser.post("/session/role", {"role": "admin"})
    assert refused.status_code == 403


def test_the_demo_sign_in_page_lists_one_user_per_role(web: Web) -> None:
    client = TestClient(web.app, follow_redirects=False)
    assert "<code>operator</code>" not in client.get("/login").text  # not a demo city
    web.app.state.demo = True
    html = client.get("/login").text
    for username in ("operator", "shift_lead", "dispatcher", "leader", "admin"):
        assert f"<code>{username}</code>" in html
    assert "<code>sensor</code>" not in html  # machine accounts do not sign in to pages
