"""Wire-level pieces of the fake Hub: request/response values, JSON helpers, error bodies.

Error bodies follow the recordings (``tests/hub-recordings/*/examples``, the READMEs' error
sections):

- core/storage (Hub >= 0.13): ``{"statusCode", "code", "message", "issues": [...]}`` (026, 037, 069);
- authup beta.62: ``{"name", "message", "code", "@instanceof": [...], ...}`` without ``statusCode``
  (003, 004, 009, 014, 018);
- legacy Hub 0.8.5 and authup beta.24: ``{"statusCode", "code", "message"}`` with upper-case codes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

JSON_TYPE = "application/json; charset=utf-8"

# authup error class ancestry, as its ``@instanceof`` lists it (003, 004, 006, 009, 014, 018, 097)
_AUTHUP_BASE = ["@ebec/core/BaseError", "@authup/errors/AuthupError"]
_OAUTH2 = "@authup/specs/OAuth2Error"

# core/storage codes (Hub >= 0.8.44) -> legacy (<= 0.8.43) upper-case names (0.8.5 README "Error bodies")
_LEGACY_CODES = {
    "bad_request": "undefined", "identity_unauthorized": "UNAUTHORIZED",
    "permission_denied": "FORBIDDEN", "entity_not_found": "NOT_FOUND",
    "entity_conflict": "ER_DUP_ENTRY", "internal_error": "INTERNAL_SERVER_ERROR",
}


@dataclass
class FakeRequest:
    """One request as the core sees it: the path keeps the service prefix (``/core/nodes``)."""

    method: str
    path: str
    params: list[tuple[str, str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    #: the client's address (the rate limiter counts per address, like the Hub)
    client: str = "127.0.0.1"

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    @property
    def content_type(self) -> str:
        return self.header("content-type").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The JSON body, or None when there is none or it is not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class FakeResponse:
    """What the core answers; ``drop`` means: close the connection without any response."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False

    @classmethod
    def json(cls, status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> FakeResponse:
        return cls(status, dumps(payload), [("content-type", JSON_TYPE), *(headers or [])])


def dumps(payload: Any) -> bytes:
    """Compact JSON like the Hub's (no spaces), UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class FakeError(Exception):
    """A Hub error answer; rendered per service and era by :func:`error_body`.

    ``name`` and ``instanceof`` shape authup answers; ``extra`` keys are spread into the body
    (authup's OAuth2 ``error``/``hint``), ``issues`` are the per-field validation issues.
    """

    def __init__(self, status: int, code: str, message: str, *, issues: list | None = None,
                 name: str | None = None, instanceof: list[str] | None = None,
                 extra: dict | None = None, headers: list[tuple[str, str]] | None = None,
                 rate_limited: bool = True, received: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.issues = issues or []
        self.name = name
        self.instanceof = instanceof
        self.extra = extra or {}
        self.headers = headers or []
        #: the answer carries ``ratelimit-*`` headers (legacy 049: a bad token on core has none)
        self.rate_limited = rate_limited
        #: body values of the invalid keys that were sent (legacy ``children[].received``)
        self.received = received or {}


def oauth2_error(name: str, message: str, code: str, error: str, hint: str | None = None, *,
                 status: int = 400) -> FakeError:
    """authup's OAuth2 errors of ``POST /token`` (004, 006, 097): 400 with ``error``/``hint``
    (401 for a client that fails to authenticate, additions 284)."""
    extra = {"error": error, **({"hint": hint} if hint else {})}
    return FakeError(status, code, message, name=name,
                     instanceof=[*_AUTHUP_BASE, _OAUTH2, f"@authup/specs/{name}"], extra=extra)


def not_found(singular: str) -> FakeError:
    """404 for an unknown record: "The node was not found." (037, 094, 095), authup 014."""
    return FakeError(404, "entity_not_found", f"The {singular} was not found.",
                     name="EntityNotFoundError")


def error_body(err: FakeError, *, service: str, legacy: bool) -> dict:
    """The body of an error answer on ``service`` for the current or the legacy era."""
    if legacy:
        return _legacy_error_body(err)
    if service == "auth":
        name = err.name or "AuthupError"
        instanceof = err.instanceof or (
            _AUTHUP_BASE if name == "AuthupError" else [*_AUTHUP_BASE, f"@authup/errors/{name}"])
        # authup names no entity in a 404: "Entity not found." (014)
        message = "Entity not found." if name == "EntityNotFoundError" else err.message
        body: dict[str, Any] = {"name": name, "message": message, "code": err.code}
        if err.issues:
            body["issues"] = err.issues
        body["@instanceof"] = instanceof
        body.update(err.extra)
        return body
    return {"statusCode": err.status, "code": err.code, "message": err.message,
            "issues": err.issues, **err.extra}


#: messages the legacy Hub words its own way (legacy 027, 055, 111: "exist", sic)
_LEGACY_MESSAGES = {"entity_conflict": "An entry with some unique attributes already exist."}


def _legacy_error_body(err: FakeError) -> dict:
    """Hub 0.8.5 / authup beta.24: ``{statusCode, code, message}``; a validation error has
    ``code: "undefined"``, one child per broken rule (``received`` only for keys that were sent)
    and the attribute names (legacy 028, 051, 052, 114)."""
    body: dict = {"statusCode": err.status, "code": _LEGACY_CODES.get(err.code, err.code),
                  "message": "" if err.status in (401, 404) else _LEGACY_MESSAGES.get(err.code, err.message)}
    if err.issues:
        paths = [".".join(map(str, i.get("path", []))) for i in err.issues]
        names = list(dict.fromkeys(paths))
        body["message"] = (f"The attribute {names[0]} is invalid." if len(names) == 1 else
                           f"The attributes {', '.join(names)} are invalid.")
        body["children"] = [{"path": p, "pathAbsolute": p,
                             **({"received": err.received[p]} if p in err.received else {})}
                            for p in paths]
        body["attributes"] = paths
    body.update(err.extra)
    return body


def generic_error(status: int) -> FakeError:
    """An error for an injected status (``hub.fail_next``): the status phrase as message."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    code = {400: "bad_request", 401: "identity_unauthorized", 403: "permission_denied",
            404: "entity_not_found", 409: "entity_conflict", 500: "internal_error"}.get(
        status, phrase.lower().replace(" ", "_").replace("-", "_"))
    return FakeError(status, code, phrase + ".")
