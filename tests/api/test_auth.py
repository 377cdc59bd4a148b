"""Sign-in, tokens (expiry, revocation, roles), /me, and the 401s."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.support.city import PASSWORD


def test_sign_in_and_who_am_i(api: Api) -> None:
    response = api.client.post(
        "/api/v1/auth/token", data={"username": "dispatcher_dc", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["role"] == "dispatcher"
    assert body["expires_in"] == 12 * 3600
    me = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    data = me.json()
    assert data["username"] == "dispatcher_dc"
    assert data["role"] == {"value": "dispatcher", "label": "派遣员"}
    assert data["district_code"] == "110101"


def test_wrong_password_and_unknown_user_are_the_same_401(api: Api) -> None:
    for username, password in (("operator", "nope-nope"), ("nobody", PASSWORD)):
        response = api.client.post(
            "/api/v1/auth/token",
            data={"username": username, "password": password},
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_credentials"
        assert response.json()["message"] == "The user name or the password is wrong"
        assert response.headers["www-authenticate"] == "Bearer"
    zh = api.client.post("/api/v1/auth/token", data={"username": "operator", "password": "x"})
    assert zh.json()["message"] == "用户名或密码错误"


def test_missing_or_bad_tokens(api: Api) -> None:
    response = api.client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    response = api.client.get("/api/v1/me", headers={"Authorization": "Bearer made-up"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_tokens_expire(api: Api) -> None:
    headers = api.login("operator")
    assert api.client.get("/api/v1/me", headers=headers).status_code == 200
    api.clock.advance(hours=12, seconds=1)
    response = api.client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_revoked_tokens_stop_working(api: Api) -> None:
    headers = api.login("operator")
    assert api.client.get("/api/v1/me", headers=headers).status_code == 200
    assert api.client.post("/api/v1/auth/revoke", headers=headers).status_code == 204
    response = api.client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_a_user_with_several_roles_signs_in_for_one(api: Api) -> None:
    from sqlalchemy import insert

    from cityloop.adapters.db.models import T

    with api.container.engine.begin() as conn:
        conn.execute(
            insert(T["user_roles"]).values(
                user_id=api.city.users["operator"], role="shift_lead", district_code=None
            )
        )
    default = api.client.post(
        "/api/v1/auth/token", data={"username": "operator", "password": PASSWORD}
    ).json()
    assert default["role"] == "operator"
    assert sorted(default["roles"]) == ["operator", "shift_lead"]
    lead = api.client.post(
        "/api/v1/auth/token",
        data={"username": "operator", "password": PASSWORD, "scope": "role:shift_lead"},
    ).json()
    assert lead["role"] == "shift_lead"
    denied = api.client.post(
        "/api/v1/auth/token",
        data={"username": "operator", "password": PASSWORD, "scope": "role:dispatcher"},
    )
    assert denied.status_code == 403
    assert denied.json()["code"] == "role_not_granted"
