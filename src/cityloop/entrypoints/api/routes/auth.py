"""Sign-in (OAuth2 password flow), sign-out, who am I."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool

from cityloop.domain.roles import Role
from cityloop.entrypoints.api import schemas as out
from cityloop.entrypoints.api.deps import ContainerDep, CtxDep, NowDep
from cityloop.entrypoints.presentation import label
from cityloop.services import auth as svc

router = APIRouter(prefix=out.API, tags=["auth"])


@router.post("/auth/token", response_model=out.TokenOut, summary="Sign in for a bearer token")
async def issue(
    container: ContainerDep,
    when: NowDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    scope: Annotated[str, Form(description="role:<role> to sign in for one of your roles")] = "",
    role: Annotated[str | None, Form()] = None,
) -> out.TokenOut:
    wanted = role
    for part in scope.split():
        if part.startswith("role:"):
            wanted = part[5:]
    ttl = timedelta(hours=container.settings.token_ttl_hours)
    issued = await run_in_threadpool(
        svc.issue_token, container.uow(), username, password, now=when, role=wanted, ttl=ttl
    )
    return out.TokenOut(
        access_token=issued.token,
        expires_in=int(ttl.total_seconds()),
        expires_at=issued.expires_at,
        role=issued.actor.role.value,
        roles=[g.role.value for g in issued.user.grants],
    )


@router.post("/auth/revoke", status_code=204, summary="Sign out: revoke this token")
def revoke(
    c: CtxDep,
    request: Request,
) -> None:
    request.app.state.token_cache.drop(c.token)
    svc.revoke_token(c.container.uow(), c.token, now=c.now)


@router.get("/me", response_model=out.MeOut, summary="Who I am, in which role")
def me(c: CtxDep) -> out.MeOut:
    actor, locale, container = c.actor, c.locale, c.container
    with container.uow(readonly=True) as uow:
        user = uow.org.user(actor.user_id or 0)
    assert user is not None
    return out.MeOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=out.Labelled(value=actor.role.value, label=label(actor.role, locale)),
        district_code=actor.district_code,
        department_id=actor.department_id,
        grants=[
            out.GrantOut(
                role=out.Labelled(value=g.role.value, label=label(Role(g.role), locale)),
                district_code=g.district_code,
                department_id=g.department_id,
            )
            for g in user.grants
        ],
    )
