"""The exception tree of flame_hub (exception classes only; which answer becomes which class
is the HTTP layer's business, :mod:`flame_hub._responses`).

Every error the client raises derives from :class:`HubError`. Answers of the Hub with an
unexpected HTTP status become a :class:`HubAPIError` subclass chosen by the **HTTP status**; the
Hub's refusals of a bearer token that are not a 401 (Hub 0.14 answers an expired or invalid token
with 500) are :class:`Unauthorized`. Transport failures become :class:`HubConnectionError` /
:class:`HubTimeout`. Messages never contain tokens or secrets: URLs are shown without credentials
or secret query values, and anything that looks like a JWT or a bearer token is masked.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:  # the classes carry httpx objects; building them is the HTTP layer's job
    import httpx

__all__ = [
    "HubError",
    "HubAPIError",
    "BadRequest",
    "Unauthorized",
    "AuthenticationError",
    "Forbidden",
    "NotFound",
    "Conflict",
    "RateLimited",
    "ServerError",
    "HubConnectionError",
    "HubTimeout",
    "MultipleObjectsReturned",
    "WaitError",
    "WaitTimeout",
    "WaitFailed",
    "InvalidArgument",
    "MalformedToken",
    "BulkOperationError",
    "ErrorResponse",
    "redact_url",
]

#: query keys whose values are masked in messages
_SECRET_QUERY_KEYS = re.compile(r"(token|secret|password|passwd|api[_-]?key|credential|signature)", re.I)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.I)
_MAX_ISSUES_SHOWN = 3
_MAX_MESSAGE_CHARS = 500


def _mask(text: str) -> str:
    """Mask JWTs and bearer/basic credentials inside free text."""
    text = _BEARER.sub(lambda m: f"{m.group(1)} ***", text)
    return _JWT.sub("<jwt>", text)


def redact_url(url: str | httpx.URL | None) -> str | None:
    """``url`` without user info and with secret-looking query values replaced by ``***``."""
    if url is None:
        return None
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return _mask(str(url))
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_QUERY_KEYS.search(k) for k, _ in pairs):
            query = urlencode(
                [(k, "***" if _SECRET_QUERY_KEYS.search(k) else v) for k, v in pairs], safe="*[]"
            )
    return _mask(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


@dataclass(frozen=True)
class ErrorResponse:
    """The parsed error body, whatever shape the service used.

    core/storage >= 0.8.44: ``{statusCode, code, message, issues}``; authup >= beta.5x:
    ``{name, message, code, ...}`` (no ``statusCode``); Hub <= 0.8.43 / authup beta.24:
    ``{statusCode, code, message, children?, attributes?}``. Unknown keys land in ``extra``.
    """

    status_code: int | None
    code: str | None
    message: str
    issues: list[Any] = field(default_factory=list)
    name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, payload: Any, status_code: int | None = None) -> ErrorResponse | None:
        """Parse a decoded JSON body; ``None`` when it is not a JSON object."""
        if not isinstance(payload, dict):
            return None
        known = {"statusCode", "status_code", "status", "code", "message", "issues", "children", "name"}
        raw_status = payload.get("statusCode", payload.get("status_code", payload.get("status")))
        body_status = raw_status if isinstance(raw_status, int) and not isinstance(raw_status, bool) else None
        code = payload.get("code")
        message = payload.get("message")
        issues = payload.get("issues")
        if not isinstance(issues, list):
            # Hub <= 0.8.43 and authup beta.24 name the per-field problems "children"
            children = payload.get("children")
            issues = children if isinstance(children, list) else []
        name = payload.get("name")
        return cls(
            status_code=status_code if status_code is not None else body_status,
            code=None if code is None else str(code),
            message="" if message is None else str(message),
            issues=list(issues),
            name=name if isinstance(name, str) else None,
            extra={k: v for k, v in payload.items() if k not in known},
        )


def _flatten_issues(issues: list[Any]) -> list[Any]:
    out: list[Any] = []
    for issue in issues:
        nested = issue.get("issues") if isinstance(issue, dict) else None
        if isinstance(nested, list) and nested:
            out.extend(_flatten_issues(nested))
        else:
            out.append(issue)
    return out


def _describe_issue(issue: Any) -> str:
    if not isinstance(issue, dict):
        return str(issue)
    path = issue.get("path", issue.get("pathAbsolute"))
    if isinstance(path, list):
        path = ".".join(str(p) for p in path)
    text = issue.get("message") or issue.get("code")
    if not text and "received" in issue:
        text = f"invalid value {issue['received']!r}"
    if path and text:
        return f"{path}: {text}"
    return str(path or text or issue)


def _reason_phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""


class HubError(Exception):
    """Base class of every error raised by flame_hub."""


class HubAPIError(HubError):
    """The Hub answered with a status the call did not expect.

    Attributes: ``status_code``, ``code`` (the body's ``code``, may be ``None``), ``message``,
    ``issues`` (per-field problems, raw dicts), ``method``, ``url``, ``body`` (raw text),
    ``payload`` (the decoded JSON body or ``None``) and ``response``. Every constructor argument
    is optional, so ``NotFound("No node matches")`` works.
    """

    #: the status this class stands for (``None`` on the base class)
    default_status: int | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        code: str | None = None,
        issues: list[Any] | None = None,
        method: str | None = None,
        url: str | httpx.URL | None = None,
        body: str | None = None,
        payload: Any = None,
        response: httpx.Response | None = None,
        hint: str | None = None,
    ) -> None:
        self.status_code: int | None = status_code if status_code is not None else self.default_status
        #: what to do about it (e.g. the right shape of a base URL), appended to the message
        self.hint = hint
        self.code = code
        self.message: str = message or ""
        self.issues: list[Any] = list(issues or [])
        self.method = method
        self.url: str | None = None if url is None else str(url)
        self.body = body
        self.payload = payload
        self.response = response
        super().__init__(self.message)

    # -- compatibility with flame-hub-client 1.1.0 (HubAPIError.request/headers/error_response) --
    @property
    def request(self) -> httpx.Request | None:
        """The request that failed (when known)."""
        if self.response is None:
            return None
        try:
            return self.response.request
        except RuntimeError:
            return None

    @property
    def headers(self) -> httpx.Headers:
        """The response headers (empty when there was no response)."""
        if self.response is not None:
            return self.response.headers
        import httpx  # noqa: PLC0415 - only for this 1.1.0 compatibility property

        return httpx.Headers()

    @property
    def error_response(self) -> ErrorResponse | None:
        """The parsed error body, or ``None`` when the body was not a JSON object."""
        return ErrorResponse.parse(self.payload, self.status_code)

    def __str__(self) -> str:
        head = []
        if self.response is not None or self.url is not None:
            if self.status_code is not None:
                reason = _reason_phrase(self.status_code)
                head.append(f"{self.status_code} {reason}".strip())
            if self.method or self.url:
                head.append(" ".join(p for p in (self.method, redact_url(self.url)) if p))
        text = self.message or ("no error message present" if head else "")
        if self.code and self.code != "undefined":
            text = f"{text} [{self.code}]" if text else f"[{self.code}]"
        issues = _flatten_issues(self.issues)
        if issues:
            shown = "; ".join(_describe_issue(i) for i in issues[:_MAX_ISSUES_SHOWN])
            more = f" (+{len(issues) - _MAX_ISSUES_SHOWN} more)" if len(issues) > _MAX_ISSUES_SHOWN else ""
            text = f"{text} (issues: {shown}{more})"
        text = _mask(text)
        if len(text) > _MAX_MESSAGE_CHARS:
            text = text[: _MAX_MESSAGE_CHARS - 1] + "…"
        shown = ": ".join([*head, text]) if text else ": ".join(head) or type(self).__name__
        return f"{shown} — {self.hint}" if self.hint else shown

    def with_hint(self, hint: str) -> HubAPIError:
        """The same error (class and attributes) with ``hint`` added to its message."""
        clone = copy.copy(self)
        clone.hint = hint
        return clone

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(status_code={self.status_code!r}, code={self.code!r}, "
                f"message={_mask(self.message)!r})")


class BadRequest(HubAPIError):
    """400: the Hub rejected the input (see ``issues`` for the fields)."""

    default_status = 400


class Unauthorized(HubAPIError):
    """401: missing, invalid or expired credentials."""

    default_status = 401


class AuthenticationError(BadRequest, Unauthorized):
    """The login (the token request of an auth flow) was refused: wrong user name or password,
    unknown client or wrong secret, a grant the auth server does not offer.

    authup answers these with 400 (``invalid_credentials``, current and old Hubs) or 401
    (``invalid_client``, current Hub); ``status_code`` is the status it sent. The class derives
    from both :class:`BadRequest` and :class:`Unauthorized` so that ``except Unauthorized`` (what
    a failed login means) and ``except BadRequest`` (what it was before this class existed) both
    catch it, as does ``except HubAPIError`` (flame-hub-client 1.1.0). The message names the
    identity that tried (user, client or robot) and never the secret.
    """


class Forbidden(HubAPIError):
    """403: authenticated, but not allowed."""

    default_status = 403


class NotFound(HubAPIError):
    """404: no such record or route (also raised for queries that match nothing)."""

    default_status = 404


class Conflict(HubAPIError):
    """409: a unique constraint would be violated (e.g. a node name already taken)."""

    default_status = 409


class RateLimited(HubAPIError):
    """429: too many requests. ``retry_after`` is the wait the server asked for, in seconds."""

    default_status = 429

    def __init__(self, message: str | None = None, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after: float | None = retry_after


class ServerError(HubAPIError):
    """5xx: the Hub failed. A create that failed this way may have half happened."""

    default_status = 500


class HubConnectionError(HubError):
    """The request did not get an answer: connection refused, reset, dropped, ...

    ``attempts`` is how many times the request was sent (retries included), ``call`` the public
    call that needed it (``CoreClient.get_nodes()``; set by the clients) — the request itself may
    be one the client sent on the way, such as the version check before the first request.
    """

    def __init__(
        self, message: str | None = None, *, method: str | None = None, url: str | httpx.URL | None = None,
        attempts: int | None = None, call: str | None = None,
    ) -> None:
        self.message = message or ""
        self.method = method
        self.url: str | None = None if url is None else str(url)
        self.attempts = attempts
        self.call = call
        super().__init__(self.message)

    def __str__(self) -> str:
        text = _mask(self.message) or type(self).__name__
        url = redact_url(self.url)
        if url is None:
            return f"{self.call}: {text}" if self.call else text
        tries = f"after {self.attempts} attempts" if self.attempts and self.attempts > 1 else ""
        if self.call:
            head = f"{self.call} got no answer from {url}{' ' + tries if tries else ''} ({text})"
        else:
            head = f"{' '.join(p for p in (self.method, url) if p)}: {text}{f' ({tries})' if tries else ''}"
        parts = urlsplit(url)
        return (f"{head}. Check that the Hub is running and reachable at {parts.scheme}://{parts.netloc}/ "
                "and that the base URL is right.")

    @staticmethod
    def during(name: str) -> _NamingCall:
        """Name the public call (``CoreClient.get_nodes()``) in a connection error raised
        inside, unless an inner call already did (a context manager)."""
        return _NamingCall(name)


class _NamingCall:
    """The context manager of :meth:`HubConnectionError.during` (a plain class: every client call
    enters one, and a ``contextlib.contextmanager`` costs several times as much)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Any, tb: Any) -> None:  # the error propagates
        if isinstance(error, HubConnectionError) and error.call is None:
            error.call = self.name


class HubTimeout(HubConnectionError):
    """The request timed out (connect, read, write or waiting for a pooled connection)."""


class MultipleObjectsReturned(HubError):
    """A query expected to match one record matched several."""


class WaitError(HubError):
    """A wait for the Hub's asynchronous work (``wait_for``, ``wait_for_records``) ended without
    the awaited state. ``last`` is what the Hub answered last (a record, or the list of records
    found), ``expected`` what was awaited."""

    def __init__(self, message: str, *, last: Any = None, expected: Any = None) -> None:
        super().__init__(message)
        self.last = last
        self.expected = expected


class WaitTimeout(WaitError, TimeoutError):
    """The awaited state did not come within the timeout; the message says the last state seen."""


class WaitFailed(WaitError):
    """The record reached a terminal failure state (``buildStatus`` failed, an approval
    rejected, ...) or disappeared: the awaited state cannot come any more."""


#: ids shown per list in a :class:`BulkOperationError` message (all of them are attributes)
_IDS_SHOWN = 10


def _some_ids(ids: list[Any]) -> str:
    shown = ", ".join(map(str, ids[:_IDS_SHOWN]))
    more = len(ids) - _IDS_SHOWN
    return f"[{shown}{f', ... {more} more' if more > 0 else ''}]"


class BulkOperationError(HubError):
    """A ``qs.delete()`` or ``qs.update()`` stopped part-way through.

    ``done``: ids deleted/updated; ``failed``: id -> the error of the call that stopped the
    operation (an ``update`` that failed on the connection may or may not have been applied:
    a ``POST`` is never retried); ``not_attempted``: ids never sent; ``not_done``: ``failed``
    plus ``not_attempted``, in the order they were resolved; ``gone``: ids the Hub no longer
    knew (404) when their turn came. The first failure is also the ``__cause__``.
    """

    def __init__(self, operation: str, resource: str, *, done: list[Any], failed: dict[Any, BaseException],
                 not_attempted: list[Any], gone: list[Any], ids: list[Any]) -> None:
        self.operation = operation
        self.resource = resource
        self.done = done
        self.failed = failed
        self.not_attempted = not_attempted
        self.gone = gone
        order = {ident: i for i, ident in enumerate(ids)}
        self.not_done = sorted([*failed, *not_attempted], key=order.__getitem__)
        first, error = next(iter(failed.items()))
        unknown = (" (its outcome is unknown: the connection failed and a POST is never retried)"
                   if operation == "update" and isinstance(error, HubConnectionError) else "")
        super().__init__(
            f"{operation} of {resource} stopped after {len(done)} of {len(ids)}: {first} failed"
            f"{unknown}: {error}. Done ({len(done)}): {_some_ids(done)}; not done ({len(self.not_done)}): "
            f"{_some_ids(self.not_done)}" + (f"; already gone ({len(gone)}): {_some_ids(gone)}" if gone else ""))


class MalformedToken(AuthenticationError, ValueError):
    """A bearer token that is not a well-formed JWT, refused before it was sent: the Hub does not
    always refuse such a bearer (one under 16 characters is served as the Hub's own service
    account, hub-recordings 0.14.0 additions 276/280). It carries what authup answers such a bearer
    (400 ``invalid_token`` "The JWT is invalid.", example 009), so code written for
    flame-hub-client 1.1.0 — which sent it and got that answer — sees the same error; it is also a
    ``ValueError``. The message never shows the token."""


class InvalidArgument(HubError, ValueError):
    """A value given to the client cannot be what the Hub expects: a filter value of the wrong
    type (``filter(hidden="yes")``) or a ``create_*``/``update_*`` argument that does not
    validate. Raised before anything is sent; the message names the filter or the helper and
    the argument, the value given and what is expected. A ``ValueError``, so ``except
    ValueError`` keeps catching it."""
