"""Sign-in and bearer tokens for the API and the field app.

A token is a random secret shown once; only its SHA-256 digest is stored. It carries one of the
user's role grants (a user with several roles signs in for one of them), expires after a time
to live, and can be revoked. Passwords are checked by the ``PasswordHasher`` port (argon2).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cityloop.domain.errors import AuthenticationError, PermissionDeniedError
from cityloop.domain.org import RoleGrant, User
from cityloop.domain.roles import Actor, Role
from cityloop.services.ports import UnitOfWork

DEFAULT_TTL = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    actor: Actor
    user: User
    expires_at: datetime


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def actor_of(user: User, grant: RoleGrant) -> Actor:
    return Actor(
        user_id=user.id,
        role=grant.role,
        district_code=grant.district_code,
        department_id=grant.department_id,
        name=user.display_name,
    )


def issue_token(
    uow: UnitOfWork,
    username: str,
    password: str,
    *,
    now: datetime,
    role: Role | str | None = None,
    ttl: timedelta = DEFAULT_TTL,
) -> IssuedToken:
    """Check the password and issue a token for one of the user's roles."""
    with uow:
        found = uow.org.user_by_username(username.strip())
        if found is None or not found[0].active or not uow.passwords.verify(found[1], password):
            raise AuthenticationError(
                "invalid_credentials", "The user name or the password is wrong"
            )
        user = found[0]
        grant = _choose_grant(user, role)
        token = secrets.token_urlsafe(32)
        expires = now + ttl
        uow.tokens.add(token_digest(token), user.id, grant, now, expires)
        uow.commit()
    return IssuedToken(token, actor_of(user, grant), user, expires)


def _choose_grant(user: User, role: Role | str | None) -> RoleGrant:
    if not user.grants:
        raise PermissionDeniedError("no_role", "This user has no role yet")
    if role is None or role == "":
        return user.grants[0]
    for grant in user.grants:
        if grant.role.value == str(role):
            return grant
    raise PermissionDeniedError(
        "role_not_granted", "You do not hold the role {role}", role=str(role)
    )


def actor_for_token(uow: UnitOfWork, token: str, *, now: datetime) -> tuple[Actor, datetime]:
    """The actor a bearer token stands for, and when the token expires."""
    with uow:
        record = uow.tokens.find(token_digest(token))
        if record is None:
            raise AuthenticationError("invalid_token", "The access token is not valid")
        if record.revoked_at is not None:
            raise AuthenticationError("token_revoked", "The access token was revoked")
        if record.expires_at <= now:
            raise AuthenticationError(
                "token_expired", "The access token has expired; sign in again"
            )
        user = uow.org.user(record.user_id)
        if user is None or not user.active:
            raise AuthenticationError("invalid_token", "The access token is not valid")
    return actor_of(user, record.grant), record.expires_at


def revoke_token(uow: UnitOfWork, token: str, *, now: datetime) -> bool:
    """Revoke a token (signing out). Returns whether it was still active."""
    with uow:
        done = uow.tokens.revoke(token_digest(token), now)
        uow.commit()
    return done


def switch_role(
    uow: UnitOfWork, token: str, role: Role | str, *, now: datetime, ttl: timedelta = DEFAULT_TTL
) -> IssuedToken:
    """A new token for another of the signed-in user's roles; the old token is revoked."""
    actor, _expires = actor_for_token(uow, token, now=now)
    with uow:
        user = uow.org.user(actor.user_id or 0)
        if user is None or not user.active:
            raise AuthenticationError("invalid_token", "The access token is not valid")
        grant = _choose_grant(user, role)
        fresh = secrets.token_urlsafe(32)
        uow.tokens.add(token_digest(fresh), user.id, grant, now, now + ttl)
        uow.tokens.revoke(token_digest(token), now)
        uow.commit()
    return IssuedToken(fresh, actor_of(user, grant), user, now + ttl)
