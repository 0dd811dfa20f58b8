"""Reading the Hub's answers: JSON bodies and envelopes, and the exception an answer or a
transport failure becomes.

An unexpected status becomes the :mod:`flame_hub.errors` class of its **HTTP status**, never of
the body's ``code``: it changed across Hub versions (``NOT_FOUND`` -> ``entity_not_found``) and
authup sends no ``statusCode`` (the error bodies recorded in ``tests/hub-recordings/``). One
exception, recognised by the recorded code and message: the Hub refusing a bearer token with a
status other than 401 (:func:`is_token_refusal`). This is the HTTP layer; the exception classes
themselves know nothing of responses.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from .dialects import Dialect
from .errors import (
    BadRequest,
    Conflict,
    ErrorResponse,
    Forbidden,
    HubAPIError,
    HubConnectionError,
    HubError,
    HubTimeout,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
    redact_url,
)

__all__ = [
    "parse_json", "unwrap_record", "unwrap_list", "error_from_response", "error_class_for_status",
    "is_token_refusal", "TOKEN_REFUSAL_STATUSES", "connection_error_from", "retry_after_seconds",
    "suggest_base_url",
]


def json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, httpx.ResponseNotRead, UnicodeDecodeError):
        return None


def parse_json(response: httpx.Response) -> Any:
    """The decoded JSON body of a successful answer (``None`` for an empty body)."""
    content = response.content
    if not content or content.isspace():  # no copy of the body just to look at it
        return None
    try:
        return response.json()
    except ValueError:
        raise HubError(
            f"{response.request.method} {redact_url(response.request.url)} answered {response.status_code} "
            f"with a body that is not JSON (content-type {response.headers.get('content-type', 'unknown')!r})"
        ) from None


def unwrap_record(response: httpx.Response, dialect: Dialect) -> Any:
    """The record of a get/create/update/delete answer (``{data, meta}`` on >= 0.13, else bare)."""
    return dialect.unwrap_record(parse_json(response))


def unwrap_list(response: httpx.Response) -> tuple[list[Any], dict[str, Any]]:
    """``(data, meta)`` of a list answer (``{"data": [...], "meta": {...}}`` on every era)."""
    body = parse_json(response)
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        meta = body.get("meta")
        return body["data"], meta if isinstance(meta, dict) else {}
    if isinstance(body, list):  # tolerate a bare list
        return body, {}
    raise HubError(
        f"{response.request.method} {redact_url(response.request.url)} did not answer with a list "
        "envelope ({'data': [...], 'meta': {...}})"
    )


def _retry_after_date(value: str, now: float | None) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def retry_after_seconds(
    headers: httpx.Headers | dict[str, str],
    payload: Any = None,
    *,
    rate_limit: bool = True,
    now: float | None = None,
) -> float | None:
    """How long the server asks us to wait, in seconds, or ``None`` when it does not say.

    Reads ``Retry-After`` (seconds or an HTTP date); for a rate limit (``rate_limit=True``, a
    429) then authup's ``retryAfter`` body key (seconds), then the Hub's ``ratelimit-reset``
    header (seconds until the window resets — the Hub sends it on every answer, so it means
    nothing for a 503). ``now`` (wall-clock seconds) is for tests of the HTTP-date form.
    """
    headers = httpx.Headers(headers)
    value = headers.get("retry-after")
    if value is not None:
        value = value.strip()
        try:
            seconds = float(value)
        except ValueError:
            return _retry_after_date(value, now)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    if not rate_limit:
        return None
    if isinstance(payload, dict):
        body_value = payload.get("retryAfter")
        if isinstance(body_value, (int, float)) and not isinstance(body_value, bool):
            return max(0.0, float(body_value))
    reset = headers.get("ratelimit-reset")
    if reset is not None:
        try:
            seconds = float(reset)
        except ValueError:
            return None
        return max(0.0, seconds) if math.isfinite(seconds) else None
    return None


_BY_STATUS: dict[int, type[HubAPIError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    429: RateLimited,
}


#: authup's messages for a bearer it refuses, as Hub 0.14's core and storage pass them on in a
#: 500 ``internal_error`` (hub-spec README "Invalid tokens and malformed ids"; recordings 027,
#: additions 277-283, 289, 290, 294, 295)
_REFUSED_TOKEN_MESSAGES = frozenset({
    "The JWT has expired.",
    "The JWT is invalid.",
    "The token payload is invalid.",
    "The token header property kid is invalid.",
    "Property token is invalid",
})
#: statuses of such refusals besides 401: 500 (above) and 400 ``invalid_token`` (authup 009;
#: Hub 0.8.5 core, storage and authup: legacy 019, 049, 050)
TOKEN_REFUSAL_STATUSES = frozenset({400, 500})


def _refuses_token(status_code: int, payload: Any, request: httpx.Request | None) -> bool:
    if status_code not in TOKEN_REFUSAL_STATUSES or not isinstance(payload, dict) or request is None:
        return False
    if not request.headers.get("authorization", "").lower().startswith("bearer "):
        return False  # no bearer was sent: the answer is about something else
    code = payload.get("code")
    if status_code == 400:
        return code == "invalid_token"
    return code == "internal_error" and payload.get("message") in _REFUSED_TOKEN_MESSAGES


def is_token_refusal(response: httpx.Response) -> bool:
    """Whether ``response`` (body read) is the Hub refusing the request's bearer token with a
    status other than 401: Hub 0.14's core and storage answer an expired, tampered, foreign or
    non-JWT bearer with **500** ``internal_error`` and authup's message ("The JWT has expired.",
    additions 294/295), authup and Hub 0.8.5 with 400 ``invalid_token``. Recognised by the
    recorded code and message, never by the status alone: other 500s stay server errors."""
    try:
        request: httpx.Request | None = response.request
    except RuntimeError:
        request = None
    if response.status_code not in TOKEN_REFUSAL_STATUSES or request is None:
        return False
    try:
        payload = json.loads(response.content or b"null")
    except (httpx.ResponseNotRead, ValueError):
        return False
    return _refuses_token(response.status_code, payload, request)


def error_class_for_status(status_code: int) -> type[HubAPIError]:
    """The exception class of an HTTP status (classification never looks at the body)."""
    if status_code >= 500:
        return ServerError
    return _BY_STATUS.get(status_code, HubAPIError)


def error_from_response(response: httpx.Response) -> HubAPIError:
    """Build the exception for an error answer; never fails on odd bodies (HTML, empty, arrays).

    The response body must have been read (``read()``/``aread()``); an unread streaming body
    counts as empty.
    """
    try:
        text = response.text
    except (httpx.ResponseNotRead, httpx.StreamError, UnicodeDecodeError, LookupError):
        text = ""
    payload: Any = None
    if text.strip():
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
    parsed = ErrorResponse.parse(payload, response.status_code)
    request: httpx.Request | None
    try:
        request = response.request
        method, url = request.method, request.url
    except RuntimeError:
        request, method, url = None, None, None
    if parsed is not None:
        message, code, issues = parsed.message, parsed.code, parsed.issues
    else:
        # not a JSON object (proxy HTML page, empty body, array): keep a short excerpt
        if "html" in response.headers.get("content-type", "").lower() or text.lstrip()[:1] == "<":
            snippet = "the server answered with an HTML page (a proxy or gateway in between?)"
        else:
            snippet = " ".join(text.split())[:200]
        message, code, issues = snippet, None, []
    cls = error_class_for_status(response.status_code)
    if _refuses_token(response.status_code, payload, request):
        cls = Unauthorized  # the Hub's answer to an expired or invalid bearer (is_token_refusal)
        message = f"{message} (the Hub refused the access token: it has expired or is not valid; get a new one)"
    extra: dict[str, Any] = {}
    if cls is RateLimited:
        extra["retry_after"] = retry_after_seconds(response.headers, payload)
    return cls(
        message,
        status_code=response.status_code,
        code=code,
        issues=issues,
        method=method,
        url=url,
        body=text,
        payload=payload,
        response=response,
        **extra,
    )


def connection_error_from(exc: httpx.RequestError, request: httpx.Request | None = None, *,
                          attempts: int | None = None) -> HubConnectionError:
    """Wrap an httpx transport failure (timeouts become :class:`HubTimeout`); ``attempts``: how
    many times the request was sent."""
    if request is None:
        try:
            request = exc.request
        except RuntimeError:
            request = None
    cls = HubTimeout if isinstance(exc, httpx.TimeoutException) else HubConnectionError
    detail = str(exc) or type(exc).__name__
    return cls(
        f"{type(exc).__name__}: {detail}",
        method=request.method if request is not None else None,
        url=request.url if request is not None else None,
        attempts=attempts,
    )


#: path segments that name a Hub service behind the gateway
_SERVICES = ("auth", "core", "storage")


def suggest_base_url(url: str | httpx.URL, service: str) -> str:
    """The base URL ``service`` would have behind the Hub's gateway, guessed from a URL that
    reached the wrong place: ``http://h/core/token`` -> ``http://h/auth/``. The path is cut at its
    first service segment, or else before its last segment (the route, ``token`` or ``nodes``),
    and ``<service>/`` is put there."""
    parts = urlsplit(str(url))
    segments = [p for p in parts.path.split("/") if p]
    cut = next((i for i, p in enumerate(segments) if p in _SERVICES), max(len(segments) - 1, 0))
    path = "/".join([*segments[:cut], service])
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], f"/{path}/", "", ""))
