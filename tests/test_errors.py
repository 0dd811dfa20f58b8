"""The exception tree and error-body parsing (flame_hub.errors)."""

from __future__ import annotations

import email.utils
import json

import httpx
import pytest

from _shared import EXAMPLES, LEGACY_EXAMPLES

from flame_hub import errors
from flame_hub.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    HubAPIError,
    HubConnectionError,
    HubError,
    HubTimeout,
    MultipleObjectsReturned,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
    redact_url,
)
from flame_hub._responses import connection_error_from, error_from_response, retry_after_seconds

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXNlY3JldA"




def _recording(name: str, legacy: bool = False) -> dict:
    folder = LEGACY_EXAMPLES if legacy else EXAMPLES
    (path,) = folder.glob(f"{name}-*.json")
    return json.loads(path.read_text())


def _replay(name: str, legacy: bool = False) -> HubAPIError:
    """The error the client would raise for a recorded exchange."""
    rec = _recording(name, legacy)
    req = httpx.Request(rec["request"]["method"], rec["request"]["url"])
    resp = httpx.Response(
        rec["response"]["status"],
        headers=rec["response"]["headers"],
        content=json.dumps(rec["response"]["body"]).encode(),
        request=req,
    )
    return error_from_response(resp)


@pytest.mark.parametrize(
    ("name", "cls", "code", "message"),
    [
        ("003", BadRequest, "invalid_credentials", "The user credentials are invalid."),
        ("004", BadRequest, "unsupported_token_grant_type", "The authorization grant type is not supported"),
        ("006", BadRequest, "invalid_request", "The request is missing a required parameter"),
        ("009", BadRequest, "invalid_token", "The JWT is invalid."),
        ("026", Unauthorized, "identity_unauthorized", "Authentication required."),
        ("027", ServerError, "internal_error", "Property token is invalid"),
        ("037", NotFound, "entity_not_found", "The node was not found."),
        ("038", ServerError, "internal_error", "invalid input syntax for type uuid"),
        ("069", BadRequest, "bad_request", "Invalid command."),
        ("079", NotFound, "entity_not_found", "The node was not found."),
        ("097", BadRequest, "invalid_grant", "refresh token replay detected"),
    ],
)
def test_recorded_error_bodies(name, cls, code, message):
    err = _replay(name)
    assert type(err) is cls
    assert err.code == code
    assert err.message.startswith(message)
    assert err.status_code == err.response.status_code
    assert isinstance(err.issues, list)
    assert err.method in {"GET", "POST", "DELETE"}
    assert message in str(err) and str(err.status_code) in str(err)


def test_authup_body_without_status_code_keeps_extra_keys():
    err = _replay("004")
    assert "statusCode" not in err.payload
    assert err.status_code == 400
    parsed = err.error_response
    assert parsed.name == "OAuth2GrantTypeError"
    assert parsed.extra["error"] == "unsupported_grant_type"


@pytest.mark.parametrize(
    ("name", "cls", "code"),
    [("025", NotFound, "NOT_FOUND"), ("027", Conflict, "ER_DUP_ENTRY"), ("028", BadRequest, "undefined"),
     ("047", Unauthorized, "UNAUTHORIZED"), ("049", BadRequest, "invalid_token")],
)
def test_legacy_error_bodies(name, cls, code):
    err = _replay(name, legacy=True)
    assert type(err) is cls and err.code == code
    if name == "028":  # legacy validation errors list the fields as "children"
        assert err.issues and err.issues[0]["path"] == "name"
        assert "name" in str(err)
        assert "[undefined]" not in str(err)  # the literal code "undefined" is noise


def test_v014_issues_are_shown():
    body = {
        "statusCode": 400, "code": "bad_request", "message": "The input was rejected: 1 violation.",
        "issues": [{"type": "item", "code": "keyNotAllowed", "path": ["publicKey"],
                    "meta": {"parameter": "filters", "key": "publicKey"}, "message": "The key is not allowed."}],
    }
    err = error_from_response(httpx.Response(400, json=body, request=httpx.Request("GET", "http://h/core/nodes")))
    assert isinstance(err, BadRequest)
    assert err.issues == body["issues"]
    assert "publicKey: The key is not allowed." in str(err)


def test_nested_and_many_issues_are_summarised():
    issues = [{"type": "group", "issues": [{"path": ["a"], "message": "bad a"}, {"path": ["b"], "code": "bad_b"}]},
              {"path": "c", "message": "bad c"}, {"path": "d", "message": "bad d"}, {"path": "e", "message": "e"}]
    err = BadRequest("rejected", issues=issues, url="http://h/x", method="POST")
    text = str(err)
    assert "a: bad a; b: bad_b; c: bad c" in text
    assert "(+2 more)" in text


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, BadRequest), (401, Unauthorized), (403, Forbidden), (404, NotFound), (409, Conflict),
     (429, RateLimited), (500, ServerError), (502, ServerError), (503, ServerError), (507, ServerError),
     (418, HubAPIError), (422, HubAPIError)],
)
def test_classified_by_status(status, cls):
    err = error_from_response(httpx.Response(status, request=httpx.Request("GET", "http://h/core/x")))
    assert type(err) is cls
    assert err.status_code == status


def test_classified_by_status_never_by_code():
    body = {"statusCode": 404, "code": "entity_not_found", "message": "confused server"}
    err = error_from_response(httpx.Response(400, json=body, request=httpx.Request("GET", "http://h/x")))
    assert type(err) is BadRequest and err.status_code == 400


@pytest.mark.parametrize(
    "content, content_type",
    [
        (b"", None),
        (b"   ", "application/json"),
        (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
        (b"[1, 2, 3]", "application/json"),
        (b'"just a string"', "application/json"),
        (b"{not json", "application/json"),
        (b"\xff\xfe\xfa garbage", "application/json; charset=utf-8"),
        (b"null", "application/json"),
    ],
)
def test_odd_bodies_never_crash(content, content_type):
    headers = {"content-type": content_type} if content_type else {}
    resp = httpx.Response(404, content=content, headers=headers, request=httpx.Request("GET", "http://h/core/n/1"))
    err = error_from_response(resp)
    assert isinstance(err, NotFound)
    assert err.code is None and err.issues == []
    assert err.error_response is None
    assert "404 Not Found" in str(err) and "GET http://h/core/n/1" in str(err)
    if b"html" in content:
        assert "HTML" in str(err) and "<body>" not in str(err)


def test_unread_streaming_body_counts_as_empty():
    resp = httpx.Response(500, stream=httpx.ByteStream(b"{}"), request=httpx.Request("GET", "http://h/x"))
    err = error_from_response(resp)
    assert isinstance(err, ServerError) and err.body == ""


def test_response_without_request():
    err = error_from_response(httpx.Response(404, json={"message": "gone"}))
    assert isinstance(err, NotFound) and err.method is None and err.message == "gone"
    assert err.request is None


def test_every_constructor_argument_is_optional():
    err = NotFound("No node matches")
    assert str(err) == "No node matches"
    assert err.status_code == 404 and err.response is None and err.issues == []
    assert isinstance(err, HubAPIError) and isinstance(err, HubError)
    assert str(HubAPIError()) == "HubAPIError"
    assert ServerError().status_code == 500
    assert HubAPIError().status_code is None
    assert len(Forbidden().headers) == 0
    with pytest.raises(NotFound, match="No node matches"):
        raise NotFound("No node matches")


def test_hierarchy():
    for cls in (BadRequest, Unauthorized, Forbidden, NotFound, Conflict, RateLimited, ServerError):
        assert issubclass(cls, HubAPIError)
    assert issubclass(HubTimeout, HubConnectionError) and issubclass(HubConnectionError, HubError)
    assert issubclass(MultipleObjectsReturned, HubError)
    assert not issubclass(HubConnectionError, HubAPIError)


def test_no_secrets_in_messages():
    req = httpx.Request(
        "GET", f"http://admin:start123@h/core/nodes?access_token={JWT}&client_secret=s3cr3t&filter[name]=lab",
        headers={"Authorization": f"Bearer {JWT}"},
    )
    body = {"statusCode": 401, "code": "identity_unauthorized", "message": f"token {JWT} rejected (Bearer {JWT})"}
    err = error_from_response(httpx.Response(401, json=body, request=req))
    for text in (str(err), repr(err)):
        assert JWT not in text
        assert "start123" not in text and "s3cr3t" not in text
        assert "eyJ" not in text
    assert "filter[name]=lab" in str(err)
    assert "access_token=***" in str(err)


def test_redact_url():
    assert redact_url("http://u:p@h/a?password=x&b=1") == "http://h/a?password=***&b=1"
    assert redact_url("http://h/a?b=1") == "http://h/a?b=1"
    assert redact_url(None) is None


def test_retry_after_parsing():
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"Retry-After": "-3"}) == 0.0
    now = 1_800_000_000.0
    date = email.utils.formatdate(now + 20, usegmt=True)
    assert retry_after_seconds({"Retry-After": date}, now=now) == pytest.approx(20.0)
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}, {"retryAfter": 7}) == 7.0  # authup login throttling
    assert retry_after_seconds({"ratelimit-reset": "12"}) == 12.0
    assert retry_after_seconds({"ratelimit-reset": "12"}, rate_limit=False) is None
    assert retry_after_seconds({}) is None


def test_rate_limited_carries_retry_after():
    resp = httpx.Response(429, headers={"Retry-After": "2"}, request=httpx.Request("GET", "http://h/x"))
    err = error_from_response(resp)
    assert isinstance(err, RateLimited) and err.retry_after == 2.0
    authup = httpx.Response(429, json={"name": "TooManyRequests", "message": "slow down", "retryAfter": 30},
                            request=httpx.Request("POST", "http://h/auth/token"))
    assert error_from_response(authup).retry_after == 30.0
    assert RateLimited("x", retry_after=5).retry_after == 5
    assert RateLimited().retry_after is None


def test_connection_errors():
    req = httpx.Request("GET", "http://h/core/nodes?token=abc")
    err = connection_error_from(httpx.ConnectError("refused", request=req))
    assert type(err) is HubConnectionError and err.method == "GET"
    assert "refused" in str(err) and "token=***" in str(err)
    timeout = connection_error_from(httpx.ReadTimeout("slow", request=req))
    assert type(timeout) is HubTimeout
    assert isinstance(connection_error_from(httpx.ConnectError("no request")), HubConnectionError)
    assert str(HubConnectionError()) == "HubConnectionError"


def test_public_names():
    for name in errors.__all__:
        assert hasattr(errors, name)
