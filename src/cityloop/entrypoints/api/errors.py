"""Every API error is JSON ``{code, message, details}`` with the message in the caller's
language (``Accept-Language``: zh-CN by default, en)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from cityloop.adapters.db.group import CommitFailed
from cityloop.domain.errors import DomainError, Msg
from cityloop.entrypoints.i18n import gettext, negotiate
from cityloop.entrypoints.presentation import error_message

STATUS = {
    "invalid": 422,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "unsupported_media": 415,
    "too_large": 413,
}

_HTTP_CODES = {
    400: ("bad_request", Msg("The request could not be understood")),
    401: ("not_authenticated", Msg("Sign in first: this needs an access token")),
    403: ("forbidden", Msg("You may not do this")),
    404: ("not_found", Msg("Nothing is at this address")),
    405: ("method_not_allowed", Msg("This method is not allowed here")),
    413: ("request_too_large", Msg("The request is too large")),
    415: ("unsupported_media_type", Msg("This content type is not accepted here")),
}
_FALLBACK = Msg("The request failed")
_NOT_SAVED = Msg("The change could not be saved and nothing of it was kept; please try again")
_INVALID_FIELDS = Msg("Some fields of the request are missing or invalid")

# The field messages of a 422, by the validator's error type; a type not listed keeps the
# validator's own (English) text.
_DATETIME = Msg("Must be a date and time such as 2026-11-26T09:30:00+08:00")
_DATE = Msg("Must be a date such as 2026-11-26")
_WHOLE = Msg("Must be a whole number")
_NUMBER = Msg("Must be a number")
_OBJECT = Msg("Must be an object")
_FIELD_MESSAGES: dict[str, str] = {
    "missing": Msg("This field is required"),
    "string_type": Msg("Must be text"),
    "int_type": _WHOLE,
    "int_parsing": _WHOLE,
    "int_from_float": _WHOLE,
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "finite_number": _NUMBER,
    "bool_type": Msg("Must be true or false"),
    "bool_parsing": Msg("Must be true or false"),
    "string_too_short": Msg("Must have at least {min_length} characters"),
    "string_too_long": Msg("May have at most {max_length} characters"),
    "too_short": Msg("Must have at least {min_length} items"),
    "too_long": Msg("May have at most {max_length} items"),
    "greater_than": Msg("Must be greater than {gt}"),
    "greater_than_equal": Msg("Must be at least {ge}"),
    "less_than": Msg("Must be less than {lt}"),
    "less_than_equal": Msg("Must be at most {le}"),
    "enum": Msg("Must be one of {expected}"),
    "literal_error": Msg("Must be one of {expected}"),
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "timezone_aware": Msg("Must include a time zone"),
    "extra_forbidden": Msg("Is not a field of this request"),
    "list_type": Msg("Must be a list"),
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "json_invalid": Msg("Is not valid JSON"),
}


def field_message(error: Mapping[str, Any], locale: str) -> str:
    """One field error of a request validation, in ``locale``."""
    template = _FIELD_MESSAGES.get(str(error.get("type", "")))
    if template is None:
        return str(error.get("msg", ""))
    params = {str(k): v for k, v in (error.get("ctx") or {}).items()}
    try:
        return gettext(template, locale).format(**params)
    except (KeyError, IndexError, ValueError):
        return str(error.get("msg", ""))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def locale_of(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"code": code, "message": message, "details": _jsonable(details or {})},
        status_code=status,
        headers=headers,
    )


def domain_error_response(error: DomainError, locale: str) -> JSONResponse:
    status = STATUS.get(error.kind, 400)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(
        status, error.code, error_message(error, locale), dict(error.params), headers
    )


def _page_error(request: Request, status: int, message: Callable[[str], str]) -> Response | None:
    """Outside the API, errors are pages (the web package installs the renderer, which calls
    ``message`` with the page's language)."""
    render = getattr(request.app.state, "error_page", None)
    if render is None or request.url.path.startswith("/api/"):
        return None
    return render(request, status, message)  # type: ignore[no-any-return]


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        status = STATUS.get(exc.kind, 400)
        page = _page_error(request, status, lambda locale: error_message(exc, locale))
        return page or domain_error_response(exc, locale_of(request))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        locale = locale_of(request)
        page = _page_error(request, 422, lambda lang: gettext(_INVALID_FIELDS, lang))
        if page is not None:
            return page
        fields = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "message": field_message(err, locale),
                "type": err.get("type", ""),
            }
            for err in exc.errors()
        ]
        return error_response(
            422,
            "validation_error",
            gettext(_INVALID_FIELDS, locale),
            {"fields": fields},
        )

    @app.exception_handler(CommitFailed)
    async def _not_saved(request: Request, exc: CommitFailed) -> Response:
        # The transaction the request's change joined did not commit (group commit): nothing
        # was acknowledged, and trying again is safe.
        page = _page_error(request, 503, lambda lang: gettext(_NOT_SAVED, lang))
        return page or error_response(
            503, "not_saved", gettext(_NOT_SAVED, locale_of(request)), {}, {"Retry-After": "1"}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        locale = locale_of(request)
        code, text = _HTTP_CODES.get(exc.status_code, ("http_error", _FALLBACK))
        if isinstance(exc.detail, dict) and "code" in exc.detail:
            code = exc.detail["code"]
            text = exc.detail.get("message", text)
        page = _page_error(request, exc.status_code, lambda lang: gettext(text, lang))
        if page is not None:
            return page
        headers = dict(exc.headers or {})
        if exc.status_code == 401:
            headers.setdefault("WWW-Authenticate", "Bearer")
        return error_response(exc.status_code, code, gettext(text, locale), {}, headers or None)
