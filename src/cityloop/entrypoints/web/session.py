"""Signed cookie sessions for the pages.

The cookie holds the bearer token issued at sign-in (so pages and the API share one way of
knowing who is asking: tokens expire and can be revoked) and the chosen language, signed with
HMAC-SHA256. Forms carry a CSRF token derived from the session token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

COOKIE = "cityloop_session"


def load_secret(configured: str, var_dir: Path) -> bytes:
    """The signing key: the configured one, or a random one kept in ``var/secret.key``."""
    if configured:
        return configured.encode()
    path = var_dir / "secret.key"
    if path.exists():
        return path.read_bytes()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    path.write_bytes(key)
    path.chmod(0o600)
    return key


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    locale: str


class Signer:
    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def _mac(self, data: bytes) -> str:
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()

    def dump(self, session: Session) -> str:
        raw = json.dumps({"t": session.token, "l": session.locale}, separators=(",", ":"))
        data = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
        return f"{data}.{self._mac(data.encode())}"

    def load(self, cookie: str | None) -> Session | None:
        if not cookie or "." not in cookie:
            return None
        data, mac = cookie.rsplit(".", 1)
        if not hmac.compare_digest(mac, self._mac(data.encode())):
            return None
        try:
            raw = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
            return Session(token=str(raw["t"]), locale=str(raw.get("l", "zh_CN")))
        except (ValueError, KeyError, TypeError):
            return None

    def csrf(self, token: str) -> str:
        return self._mac(b"csrf:" + token.encode())[:32]
