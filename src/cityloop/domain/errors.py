"""Domain errors: every refusal has a stable ``code`` and a message template.

The template is English and doubles as the gettext message id; the entry points translate it
(zh-CN first) and fill in ``params``. Codes never change once published: clients branch on them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar


class Msg(str):
    """A parameter that is itself a message id, translated along with the template.

    ``ValidationError("x", "{what} is empty", what=Msg("Grid code"))`` reads 网格代码为空 in
    zh_CN. The message extractor collects every ``Msg("…")`` literal.
    """

    __slots__ = ()


class DomainError(Exception):
    """Base of every refusal the rules or the services raise.

    ``kind`` groups errors for transports (an HTTP adapter maps it to a status code):
    ``invalid`` (bad input), ``unauthenticated``, ``not_found``, ``forbidden``, ``conflict``,
    ``unsupported_media``, ``too_large``.
    """

    kind: ClassVar[str] = "invalid"

    def __init__(self, code: str, template: str, /, **params: Any) -> None:
        self.code = code
        self.template = template
        self.params: Mapping[str, Any] = params
        super().__init__(self.render())

    def render(
        self, template: str | None = None, translate: Callable[[str], str] | None = None
    ) -> str:
        """Fill the (possibly translated) template with the (possibly translated) parameters."""
        text = template if template is not None else self.template
        params = {
            key: translate(value) if translate is not None and isinstance(value, Msg) else value
            for key, value in self.params.items()
        }
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {dict(self.params)!r})"


class ValidationError(DomainError):
    """Input that breaks a rule (a malformed code, a missing field, a value out of range)."""

    kind = "invalid"


class UnsupportedMediaError(DomainError):
    """A file of a type the system does not take (decided from its content, not its name)."""

    kind = "unsupported_media"


class TooLargeError(DomainError):
    """A request or a file larger than allowed."""

    kind = "too_large"


class NotFoundError(DomainError):
    """Something referred to does not exist, or the actor may not know that it exists."""

    kind = "not_found"


class AuthenticationError(DomainError):
    """Who is asking is not established (no, bad, expired or revoked credentials)."""

    kind = "unauthenticated"


class PermissionDeniedError(DomainError):
    """The actor is known but may not do this."""

    kind = "forbidden"


class ConflictError(DomainError):
    """The request was valid when written but the world moved (stale version, wrong state)."""

    kind = "conflict"


class TransitionNotAllowedError(ConflictError):
    """A move that is not in the transition table for the case's current state and the role."""

    def __init__(self, state: str, action: str, role: str, reason: str = "") -> None:
        super().__init__(
            "transition_not_allowed",
            "Action {action} is not allowed for role {role} in state {state}",
            state=state,
            action=action,
            role=role,
            reason=reason,
        )


class CaseChangedError(ConflictError):
    """Optimistic lock failure: the case changed since the caller read ``version``."""

    def __init__(self, number: str, expected: int, actual: int | None) -> None:
        super().__init__(
            "case_changed",
            "Case {number} was changed by someone else (your version {expected}, now {actual});"
            " reload it and try again",
            number=number,
            expected=expected,
            actual=actual,
        )


class GuardFailedError(ConflictError):
    """The move exists in the table but its guard refuses it for this case right now."""
