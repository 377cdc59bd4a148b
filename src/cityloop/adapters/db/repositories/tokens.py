"""Bearer tokens (only their digests are stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select, update

from cityloop.adapters.db.models import T
from cityloop.domain.org import RoleGrant
from cityloop.domain.roles import Role
from cityloop.services.ports import TokenRecord

tokens = T["api_tokens"]


_FIND = select(tokens).where(tokens.c.token_hash == bindparam("p_hash"))


class SqlTokenRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        token_hash: str,
        user_id: int,
        grant: RoleGrant,
        created_at: datetime,
        expires_at: datetime,
    ) -> None:
        self.conn.execute(
            insert(tokens).values(
                token_hash=token_hash,
                user_id=user_id,
                role=grant.role.value,
                district_code=grant.district_code,
                department_id=grant.department_id,
                created_at=created_at,
                expires_at=expires_at,
                revoked_at=None,
            )
        )

    def find(self, token_hash: str) -> TokenRecord | None:
        row = self.conn.execute(_FIND, {"p_hash": token_hash}).first()
        if row is None:
            return None
        return TokenRecord(
            user_id=row.user_id,
            grant=RoleGrant(Role(row.role), row.district_code, row.department_id),
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )

    def revoke(self, token_hash: str, at: datetime) -> bool:
        result = self.conn.execute(
            update(tokens)
            .where(tokens.c.token_hash == token_hash, tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)

    def revoke_user(self, user_id: int, at: datetime) -> int:
        result = self.conn.execute(
            update(tokens)
            .where(tokens.c.user_id == user_id, tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(result.rowcount or 0)
