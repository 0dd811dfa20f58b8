"""Bearer tokens as the Hub treats them (hub-spec README "Invalid tokens and malformed ids",
additions 276-296; legacy 019, 049, 050): the fake Hub answers each recorded case as recorded, and
the client meets those answers — a 500 "The JWT has expired." is an authentication failure that
its managed token renews once, a malformed bearer is never sent."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import httpx
import pytest

from _jwt import jwt
from _shared import ADDITIONS, LEGACY_ADDITIONS

import flame_hub
from flame_hub.auth import PasswordAuth, StaticAuth, check_bearer
from flame_hub._responses import error_from_response, is_token_refusal
from flame_hub.errors import BadRequest, MalformedToken, ServerError, Unauthorized
from flame_hub.testing import FakeHub


@pytest.fixture
def anyio_backend():
    return "asyncio"


def recording(number: str, folder: Path = ADDITIONS) -> dict:
    """The recorded exchange ``additions/<number>-*.json``."""
    (path,) = sorted(folder.glob(f"{number}-*.json"))
    return json.loads(Path(path).read_text())


def login(hub: FakeHub) -> dict:
    with httpx.Client(transport=hub.transport()) as c:
        answer = c.post(hub.auth_url + "token", json={"grant_type": "password", "username": "admin",
                                                      "password": "start123"})
    assert answer.status_code == 200
    return answer.json()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def tampered_signature(token: str) -> str:
    head, body, sig = token.split(".")
    return f"{head}.{body}.{sig[:-2]}{'AA' if sig[-2:] != 'AA' else 'BB'}"


def tampered_payload(token: str) -> str:
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "00000000-0000-0000-0000-000000000000"
    return f"{head}.{_b64(json.dumps(claims).encode())}.{sig}"


#: how each recorded bearer was made, from a fresh admin access token
BEARERS = {
    "277": tampered_signature, "281": tampered_signature,
    "278": tampered_payload, "282": tampered_payload,
    "279": lambda token: jwt(), "283": lambda token: jwt(),  # HS256, no kid, a foreign key
    "289": lambda token: "this-is-not-a-jwt-token", "290": lambda token: "this-is-not-a-jwt-token",
}


def send(hub: FakeHub, example: dict, bearer: str | None) -> httpx.Response:
    request = example["request"]
    headers = {"Accept": "application/json"}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    with httpx.Client(transport=hub.transport()) as c:
        return c.request(request["method"], hub.url + request["url"].split("/", 3)[3], headers=headers,
                         json=request.get("body"))


def assert_as_recorded(resp: httpx.Response, example: dict) -> None:
    """Status, content type, rate-limit headers (present or absent) and the whole body."""
    recorded = example["response"]
    assert resp.status_code == recorded["status"], resp.text
    assert resp.headers["content-type"] == recorded["headers"]["content-type"]
    assert ("ratelimit-limit" in resp.headers) == ("ratelimit-limit" in recorded["headers"])
    assert resp.json() == recorded["body"]


# ---------------------------------------------------------------------------- the fake, as recorded
@pytest.mark.parametrize("number", sorted(BEARERS))
def test_refused_bearers_get_500_with_authups_message(number):
    hub = FakeHub()
    bearer = BEARERS[number](login(hub)["access_token"])
    example = recording(number)
    assert_as_recorded(send(hub, example, bearer), example)


@pytest.mark.parametrize("number", ["294", "295"])
def test_an_expired_access_token_gets_500_on_core_and_storage(number):
    hub = FakeHub()
    token = login(hub)["access_token"]
    hub.expire_tokens()
    example = recording(number)
    assert_as_recorded(send(hub, example, token), example)


def test_authup_answers_an_expired_bearer_as_anonymous():
    hub = FakeHub()
    token = login(hub)["access_token"]
    hub.expire_tokens()
    example = recording("296")
    resp = send(hub, example, token)
    # (296 kept only the content type of the headers; authup's other answers carry ratelimit-*)
    assert resp.status_code == 200 and resp.headers["content-type"] == example["response"]["headers"]["content-type"]
    body = resp.json()
    assert body["meta"]["schema"] == example["response"]["body"]["meta"]["schema"]
    assert [list(user) for user in body["data"]] == [list(example["response"]["body"]["data"][0])]
    assert send(hub, example, None).json() == body  # exactly what a caller without a token gets


@pytest.mark.parametrize("number", ["276", "280"])
def test_a_short_bearer_is_refused_not_served_as_the_hubs_service_account(number):
    # the real Hub answers 200 here, as core's own service account: a security bug that the fake
    # does not model; it refuses the bearer as any other non-JWT (289, 290)
    hub = FakeHub()
    example = recording(number)
    assert example["response"]["status"] == 200  # what the Hub did
    resp = send(hub, example, "not-a-jwt")
    assert resp.status_code == 500
    assert resp.json() == {"statusCode": 500, "code": "internal_error", "message": "The JWT is invalid.",
                           "issues": []}


@pytest.mark.parametrize("number", ["284", "285", "286", "287", "288"])
def test_token_endpoint_refusals(number):
    hub = FakeHub()
    example = recording(number)
    body = dict(example["request"]["body"])
    if body.get("refresh_token") == "<jwt>":  # 287: a foreign JWT; 288: a valid access token
        body["refresh_token"] = jwt() if number == "287" else login(hub)["access_token"]
    with httpx.Client(transport=hub.transport()) as c:
        resp = c.post(hub.auth_url + "token", json=body)
    assert_as_recorded(resp, example)


def test_introspection_of_an_invalid_body_token_answers_for_the_bearer():
    # 291: a body token under 16 characters fails validation; authup introspects the request's
    # own bearer instead
    hub = FakeHub()
    example = recording("291")
    resp = send(hub, example, login(hub)["access_token"])
    recorded = example["response"]
    assert resp.status_code == recorded["status"] == 200
    assert resp.json()["active"] is True and set(resp.json()) == set(recorded["body"])
    assert resp.json()["sub"] == next(u["id"] for u in hub.records("users") if u["name"] == "admin")


#: the recordings this module replays with the bearers they describe (test_conformance leaves
#: them to it)
REPLAYED = {*BEARERS, "294", "295", "296", "276", "280", "287", "288", "291"}


@pytest.mark.parametrize("number", ["314", "315", "316", "317"])
def test_legacy_token_endpoint_refusals(number):
    hub = FakeHub(version="0.8.5")
    example = recording(number, LEGACY_ADDITIONS)
    body = dict(example["request"]["body"])
    if number == "316":  # the built-in robot "system", with its real id on this hub
        body["id"] = next(r["id"] for r in hub.records("robots") if r["name"] == "system")
    with httpx.Client(transport=hub.transport()) as c:
        resp = c.post(hub.auth_url + "token", json=body)
    assert_as_recorded(resp, example)


def test_a_revoked_session_is_refused_like_an_invalid_token():
    # a replayed refresh token revokes the session (097); its access token then gets the refusal
    # of an invalid one (not recorded)
    hub = FakeHub()
    first = login(hub)
    with httpx.Client(transport=hub.transport()) as c:
        refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        assert c.post(hub.auth_url + "token", json=refresh).status_code == 200
        assert c.post(hub.auth_url + "token", json=refresh).status_code == 400  # replay
        resp = c.get(hub.core_url + "nodes", headers={"Authorization": f"Bearer {first['access_token']}"})
    assert resp.status_code == 500 and resp.json()["message"] == "The JWT is invalid."


def test_legacy_hub_refuses_bearers_with_400():
    hub = FakeHub(version="0.8.5")
    with httpx.Client(transport=hub.transport()) as c:
        resp = c.get(hub.core_url + "nodes", headers={"Authorization": f"Bearer {jwt()}"})
    assert resp.status_code == 400  # legacy 049
    assert resp.json() == {"statusCode": 400, "code": "invalid_token", "message": "The token payload is malformed."}


# ---------------------------------------------------------------------------- the client
def core(hub: FakeHub, *, asynchronous: bool = False, **kwargs) -> flame_hub.CoreClient:
    token_client = {"async_client": httpx.AsyncClient(transport=hub.transport())} if asynchronous \
        else {"client": httpx.Client(transport=hub.transport())}
    auth = PasswordAuth("admin", "start123", base_url=hub.auth_url, **token_client)
    cls = flame_hub.AsyncCoreClient if asynchronous else flame_hub.CoreClient
    return cls(base_url=hub.core_url, auth=auth, transport=hub.transport(), **kwargs)


@pytest.fixture
def statuses(monkeypatch):
    """Record the status of every answer in ``hub.requests`` order (RecordedRequest has none)."""
    seen: list[int] = []
    original = FakeHub.transport

    def transport(self, *args, **kwargs):
        inner = original(self, *args, **kwargs)

        class Recording(httpx.BaseTransport, httpx.AsyncBaseTransport):
            def handle_request(self, request):
                response = inner.handle_request(request)
                seen.append(response.status_code)
                return response

            async def handle_async_request(self, request):
                response = await inner.handle_async_request(request)
                seen.append(response.status_code)
                return response

        return Recording()

    monkeypatch.setattr(FakeHub, "transport", transport)
    return seen


def test_an_expired_token_is_renewed_and_the_request_sent_once_more(statuses):
    hub = FakeHub()
    with core(hub) as c:
        c.get_nodes()
        hub.expire_tokens()
        hub.clear_requests()
        statuses.clear()
        assert c.get_nodes() == []
    assert [f"{r.method} {r.path}" for r in hub.requests] == [
        "GET /core/nodes", "POST /auth/token", "GET /core/nodes"]
    assert statuses == [500, 200, 200]  # the Hub's 500 "The JWT has expired.", a refresh, the retry
    assert [r.json["grant_type"] for r in hub.requests if r.path == "/auth/token"] == ["refresh_token"]


def test_a_create_refused_for_its_token_is_sent_once_more_and_happens_once():
    # the refusal comes before the route (and before the rate limiter: no ratelimit headers, 294),
    # so nothing happened: sending the POST again is safe
    hub = FakeHub()
    with core(hub) as c:
        c.get_nodes()
        hub.expire_tokens()
        node = c.create_node(name="after-expiry")
        assert [n.id for n in c.get_nodes()] == [node.id]
    posts = [r for r in hub.requests if r.method == "POST" and r.path == "/core/nodes"]
    assert len(posts) == 2


def test_a_download_after_expiry_is_renewed_too(tmp_path):
    hub = FakeHub()
    storage_auth = PasswordAuth("admin", "start123", base_url=hub.auth_url,
                                client=httpx.Client(transport=hub.transport()))
    with flame_hub.StorageClient(base_url=hub.storage_url, auth=storage_auth, transport=hub.transport()) as s:
        bucket = s.create_bucket("tokens")
        (stored,) = s.upload_to_bucket(bucket, ("a.txt", b"payload"))
        hub.expire_tokens()
        assert b"".join(s.stream_bucket_file(stored)) == b"payload"
    assert [r.json["grant_type"] for r in hub.requests if r.path == "/auth/token"] == ["password", "refresh_token"]


@pytest.mark.anyio
async def test_async_client_renews_after_the_500_too():
    hub = FakeHub()
    async with core(hub, asynchronous=True) as c:
        await c.get_nodes()
        hub.expire_tokens()
        assert await c.get_nodes() == []
    assert [r.json["grant_type"] for r in hub.requests if r.path == "/auth/token"] == ["password", "refresh_token"]


def test_a_refusal_that_persists_is_unauthorized_with_the_hubs_status():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            return httpx.Response(200, json={"access_token": jwt(str(time.monotonic())), "expires_in": 900})
        return httpx.Response(500, json={"statusCode": 500, "code": "internal_error",
                                         "message": "The JWT has expired.", "issues": []})

    transport = httpx.MockTransport(handler)
    auth = PasswordAuth("admin", "start123", "http://hub.test/auth/", httpx.Client(transport=transport))
    with flame_hub.CoreClient("http://hub.test/core/", auth=auth, transport=transport, hub_version="0.14.0") as c:
        with pytest.raises(Unauthorized) as info:
            c.get_nodes()
    err = info.value
    assert err.status_code == 500 and err.code == "internal_error"
    assert "The JWT has expired." in str(err) and "refused the access token" in str(err)


def test_a_static_token_that_expired_is_unauthorized_and_not_retried():
    hub = FakeHub()
    token = login(hub)["access_token"]
    hub.expire_tokens()
    hub.clear_requests()
    with flame_hub.CoreClient(base_url=hub.core_url, auth=token, transport=hub.transport(),
                              hub_version=hub.version) as c:
        with pytest.raises(Unauthorized, match="The JWT has expired") as info:
            c.get_nodes()
    assert info.value.status_code == 500 and token not in str(info.value)
    assert [r.path for r in hub.requests] == ["/core/nodes"]  # nothing to renew: sent once


def test_a_foreign_token_on_the_legacy_hub_is_unauthorized():
    hub = FakeHub(version="0.8.5")
    with flame_hub.CoreClient(base_url=hub.core_url, auth=jwt(), transport=hub.transport(),
                              hub_version="0.8.5") as c:
        with pytest.raises(Unauthorized, match="malformed"):
            c.get_nodes()


def _answer(status: int, body: dict, *, bearer: bool = True) -> httpx.Response:
    headers = {"Authorization": f"Bearer {jwt()}"} if bearer else {}
    return httpx.Response(status, json=body, request=httpx.Request("GET", "http://hub.test/core/nodes",
                                                                   headers=headers))


@pytest.mark.parametrize(("status", "body", "refused"), [
    (500, {"statusCode": 500, "code": "internal_error", "message": "The JWT has expired."}, True),
    (500, {"statusCode": 500, "code": "internal_error", "message": "The token payload is invalid."}, True),
    (500, {"statusCode": 500, "code": "internal_error", "message": "Property token is invalid"}, True),  # 027
    (400, {"name": "JWTError", "code": "invalid_token", "message": "The JWT is invalid."}, True),  # 009
    (400, {"statusCode": 400, "code": "invalid_token", "message": "The token format is not valid."}, True),
    (500, {"statusCode": 500, "code": "internal_error", "message": "connect ECONNREFUSED"}, False),
    (500, {"statusCode": 500, "code": "other", "message": "The JWT has expired."}, False),
    (502, {"statusCode": 502, "code": "internal_error", "message": "The JWT has expired."}, False),
    (400, {"statusCode": 400, "code": "bad_request", "message": "The JWT is invalid."}, False),
])
def test_token_refusals_are_recognised_by_code_and_message(status, body, refused):
    response = _answer(status, body)
    assert is_token_refusal(response) is refused
    error = error_from_response(response)
    expected = Unauthorized if refused else (ServerError if status >= 500 else BadRequest)
    assert type(error) is expected and error.status_code == status


def test_without_a_bearer_a_500_stays_a_server_error():
    body = {"statusCode": 500, "code": "internal_error", "message": "The JWT has expired."}
    response = _answer(500, body, bearer=False)
    assert not is_token_refusal(response)
    assert type(error_from_response(response)) is ServerError


def test_other_500s_do_not_renew_the_token():
    hub = FakeHub()
    with core(hub, max_retries=0) as c:
        c.get_nodes()
        hub.fail_next("GET", "/core/nodes", status=500)
        with pytest.raises(ServerError):
            c.get_nodes()
    assert [r.json["grant_type"] for r in hub.requests if r.path == "/auth/token"] == ["password"]


# ---------------------------------------------------------------------------- malformed bearers
@pytest.mark.parametrize("token", [
    "not-a-jwt",                                   # 276: the Hub would serve it as its own account
    "this-is-not-a-jwt-token",                     # 289
    "aaaa.bbbb",                                   # two segments
    "e30.e30.e30",                                 # a JSON header without alg, and too short
    "bm90IGpzb24.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",    # header is not JSON
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln=",  # padding is not base64url
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln bmF0",
    "eyJhbGciOiJIUzI1NiJ9." + "a" * 2100 + ".c2ln",  # longer than authup introspects
])
def test_malformed_bearers_are_refused_before_sending(token):
    with pytest.raises(MalformedToken, match="not a well-formed JWT") as info:
        check_bearer(token)
    assert token not in str(info.value)
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: (sent.append(r), httpx.Response(200, json={"data": [], "meta": {}}))[1])
    with flame_hub.CoreClient("http://hub.test/core/", auth=None, transport=transport, hub_version="0.14.0") as c:
        with pytest.raises(ValueError, match="not a well-formed JWT"):
            c.get_nodes(auth=token)
    with flame_hub.CoreClient("http://hub.test/core/", auth=StaticAuth(token), transport=transport,
                              hub_version="0.14.0") as c:
        with pytest.raises(ValueError, match="not a well-formed JWT"):
            c.get_nodes()
    assert sent == []


def test_a_malformed_bearer_fails_as_authup_would_answer_it():
    # flame-hub-client 1.1.0 sent it and got authup's 400 "The JWT is invalid." (example 009); a
    # script catching HubAPIError sees the same, and a placeholder StaticAuth that each call
    # overrides is fine (the check runs when a request would be sent)
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: (sent.append(r), httpx.Response(200, json={"data": [], "meta": {}}))[1])
    client = flame_hub.AuthClient("http://hub.test/auth/", auth=StaticAuth(access_token="abcdefghijklmnopqrst"),
                                  transport=transport, hub_version="0.14.0")
    with pytest.raises(flame_hub.HubAPIError) as info:
        client.get_users()
    assert "The JWT is invalid" in str(info.value) and info.value.error_response.status_code == 400
    assert isinstance(info.value, flame_hub.Unauthorized) and sent == []
    assert client.get_users(auth=jwt()) == [] and len(sent) == 1
    assert sent[0].headers["Authorization"] == f"Bearer {jwt()}"


def test_a_bearer_prefix_is_pointed_out():
    with pytest.raises(ValueError, match="without the 'Bearer ' prefix"):
        check_bearer(f"Bearer {jwt()}")


def test_well_formed_bearers_pass():
    token = jwt()
    assert check_bearer(token) == token
    assert StaticAuth(f"  {token} ")._token == token
