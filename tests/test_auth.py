"""Auth flows (flame_hub.auth) over httpx.MockTransport: grants, refresh, fallback, 401 recovery,
single-flight under threads and tasks, and secrets kept out of repr() and errors."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time

import httpx
import pytest

from _jwt import jwt

from flame_hub.auth import DEFAULT_AUTH_URL, _replayable, ClientAuth, PasswordAuth, RobotAuth, StaticAuth
from flame_hub.errors import BadRequest, HubConnectionError, HubError, RateLimited

AUTH = "http://hub.test/auth/"
API = "http://hub.test/core/nodes"


@pytest.fixture
def anyio_backend():
    return "asyncio"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class MockAuthup:
    """authup's token endpoint and one protected API route, as recorded (001, 005, 096, 097)."""

    def __init__(self, *, ttl: int = 900, refresh: bool = True, delay: float = 0.0) -> None:
        self.ttl = ttl
        self.refresh = refresh
        self.delay = delay
        self.counter = itertools.count(1)
        self.valid: set[str] = set()
        self.refresh_tokens: dict[str, bool] = {}  # token -> still unused
        self.grants: list[dict] = []
        self.api_calls: list[str | None] = []
        self.lock = threading.Lock()
        self.password = "start123"
        self.token_status: int | None = None  # force an answer of the token endpoint
        #: the API's answer to a token it no longer accepts: 401, or Hub 0.14's 500 (additions 294)
        self.refusal = 401

    def expire_tokens(self) -> None:
        """The server forgets every access token (refresh tokens stay usable)."""
        self.valid.clear()

    def _issue(self, with_refresh: bool) -> dict:
        n = next(self.counter)
        body = {"access_token": f"access-{n}", "expires_in": self.ttl, "token_type": "Bearer", "scope": "global"}
        self.valid.add(body["access_token"])
        if with_refresh:
            body["refresh_token"] = f"refresh-{n}"
            body["refresh_token_expires_in"] = 259200
            self.refresh_tokens[body["refresh_token"]] = True
        return body

    def _token(self, body: dict) -> httpx.Response:
        with self.lock:
            self.grants.append(body)
            if self.token_status is not None:
                return httpx.Response(self.token_status, json={"name": "Err", "message": "forced", "code": "x"})
            grant = body.get("grant_type")
            if grant == "password":
                if body.get("password") != self.password:
                    return httpx.Response(400, json={"name": "EntityCredentialsInvalidError",
                                                     "message": "The user credentials are invalid.",
                                                     "code": "invalid_credentials"})
                return httpx.Response(200, json=self._issue(self.refresh))
            if grant == "client_credentials":
                return httpx.Response(200, json=self._issue(False))
            if grant == "refresh_token":
                token = body.get("refresh_token")
                if not self.refresh_tokens.get(token):
                    if token in self.refresh_tokens:  # replay: the whole session is revoked (097)
                        self.valid.clear()
                    return httpx.Response(400, json={"name": "OAuth2GrantError", "code": "invalid_grant",
                                                     "message": "refresh token replay detected; session revoked"})
                self.refresh_tokens[token] = False
                return httpx.Response(200, json=self._issue(True))
            return httpx.Response(400, json={  # 004
                "name": "OAuth2GrantTypeError", "code": "unsupported_token_grant_type",
                "message": "The authorization grant type is not supported by the authorization server",
                "error": "unsupported_grant_type"})

    def _api(self, request: httpx.Request) -> httpx.Response:
        header = request.headers.get("authorization")
        with self.lock:
            self.api_calls.append(header)
        token = header.removeprefix("Bearer ") if header else None
        if token not in self.valid:
            if token is not None and self.refusal == 500:  # Hub 0.14 (additions 294)
                return httpx.Response(500, json={"statusCode": 500, "code": "internal_error",
                                                 "message": "The JWT has expired.", "issues": []})
            return httpx.Response(401, json={"statusCode": 401, "code": "identity_unauthorized",
                                             "message": "Authentication required.", "issues": []})
        return httpx.Response(200, json={"data": [], "meta": {"total": 0}})

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            if self.delay:
                time.sleep(self.delay)
            return self._token(json.loads(request.read()))
        return self._api(request)

    async def ahandler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            if self.delay:
                await asyncio.sleep(self.delay)
            return self._token(json.loads(await request.aread()))
        return self._api(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def kinds(self) -> list[str]:
        return [g["grant_type"] for g in self.grants]


#: the identity and secret each flow presents to MockAuthup
CREDENTIALS = {
    PasswordAuth: ("admin", "start123"),
    ClientAuth: ("system", "start123"),
    RobotAuth: ("41762b1f-9767-4bcc-851e-d6ec66b6c10a", "x"),
}


def make(hub: MockAuthup, cls=PasswordAuth, **kwargs):
    clock = kwargs.pop("clock", Clock())
    auth = cls(*CREDENTIALS[cls], AUTH, httpx.Client(transport=hub.transport()), clock=clock, **kwargs)
    api = httpx.Client(transport=hub.transport(), auth=auth)
    return auth, api, clock


# ---------------------------------------------------------------------------- grants
def test_password_grant_is_lazy_and_reused():
    hub = MockAuthup()
    auth, api, _ = make(hub)
    assert hub.grants == []  # nothing sent before the first request
    assert api.get(API).status_code == 200
    assert api.get(API).status_code == 200
    assert hub.grants == [{"grant_type": "password", "username": "admin", "password": "start123"}]
    assert hub.api_calls == ["Bearer access-1", "Bearer access-1"]


def test_client_credentials_grant():
    hub = MockAuthup()
    _, api, _ = make(hub, ClientAuth)
    assert api.get(API).status_code == 200
    assert hub.grants == [{"grant_type": "client_credentials", "client_id": "system", "client_secret": "start123"}]


def test_token_url_from_base_url_client_or_default():
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"access_token": "a", "expires_in": 900})

    transport = httpx.MockTransport(handler)
    PasswordAuth("u", "p", "http://gw:3000/auth", httpx.Client(transport=transport))._sync_token()
    PasswordAuth("u", "p", client=httpx.Client(base_url="http://gw:3000/auth", transport=transport))._sync_token()
    PasswordAuth("u", "p", client=httpx.Client(transport=transport))._sync_token()
    assert seen == ["http://gw:3000/auth/token", "http://gw:3000/auth/token", DEFAULT_AUTH_URL + "token"]


def test_wrong_password_raises_bad_request_without_secrets():
    hub = MockAuthup()
    hub.password = "other"
    auth, api, _ = make(hub)
    with pytest.raises(BadRequest, match="credentials are invalid") as info:
        api.get(API)
    assert "start123" not in str(info.value) and "start123" not in repr(info.value)
    assert hub.api_calls == []


def test_token_endpoint_429_is_not_retried():
    hub = MockAuthup()
    hub.token_status = 429
    _, api, _ = make(hub)
    with pytest.raises(RateLimited):
        api.get(API)
    assert len(hub.grants) == 1


def test_token_answer_without_access_token():
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"token_type": "Bearer"}))
    auth = PasswordAuth("u", "p", AUTH, httpx.Client(transport=transport))
    with pytest.raises(HubError, match="without an access_token"):
        auth._sync_token()


def test_token_transport_error_is_wrapped():
    def handler(request):
        raise httpx.ConnectError("connection refused", request=request)

    auth = PasswordAuth("u", "secret-pw", AUTH, httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(HubConnectionError, match="connection refused") as info:
        httpx.Client(transport=httpx.MockTransport(handler), auth=auth).get(API)
    assert "secret-pw" not in str(info.value)
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_token_requests_go_through_the_call_flow_never_retried_themselves():
    """A token request is a POST through the same call flow as every API request: a 503 or a
    refused connection is not retried by it; an idempotent API request whose token request
    failed on the connection is retried as a whole by its session (issue 13)."""
    from flame_hub._http import HubSession
    from flame_hub.errors import ServerError

    grants = []

    def busy(request):
        grants.append(request.url.path)
        return httpx.Response(503, json={"message": "busy"})

    auth = PasswordAuth("u", "secret-pw", AUTH, httpx.Client(transport=httpx.MockTransport(busy)))
    with pytest.raises(ServerError):
        auth._sync_token()
    assert grants == ["/auth/token"]

    sent = []

    def refusing(request):
        sent.append(request.url.path)
        raise httpx.ConnectError("connection refused", request=request)

    auth = PasswordAuth("u", "secret-pw", AUTH, httpx.Client(transport=httpx.MockTransport(refusing)))
    with pytest.raises(HubConnectionError) as info:
        auth._sync_token()
    assert sent == ["/auth/token"] and info.value.attempts == 1
    session = HubSession("http://hub.test/core/", auth, transport=httpx.MockTransport(refusing),
                         max_retries=2, sleep=lambda s: None)
    sent.clear()
    with pytest.raises(HubConnectionError):
        session.request("GET", "nodes")
    assert sent == ["/auth/token"] * 3  # the GET was retried twice; each attempt asked for a token


# ---------------------------------------------------------------------------- refresh
@pytest.mark.parametrize(("ttl", "refresh_after"), [(900, 870), (10, 5)], ids=["margin", "half-lifetime"])
def test_refresh_before_expiry_with_margin_and_rotation(ttl, refresh_after):
    # refresh 30 s (the margin) before expiry, but never earlier than half the token's lifetime
    hub = MockAuthup(ttl=ttl)
    auth, api, clock = make(hub, margin=30)
    api.get(API)
    clock.now += refresh_after - 1
    api.get(API)
    assert hub.kinds() == ["password"]
    clock.now += 2  # just past refresh_at
    api.get(API)
    assert hub.kinds() == ["password", "refresh_token"]
    assert hub.grants[1]["refresh_token"] == "refresh-1"
    clock.now += refresh_after + 1
    api.get(API)
    # always the newest refresh token: refresh-1 was used once, so the next one is refresh-2
    assert hub.grants[2] == {"grant_type": "refresh_token", "refresh_token": "refresh-2"}
    assert hub.api_calls[-1] == "Bearer access-3"
    assert all(hub.refresh_tokens[t] is False for t in ("refresh-1", "refresh-2"))


def _refresh_token_revoked_then_expired(hub, clock):
    hub.refresh_tokens["refresh-1"] = False  # e.g. revoked on the server
    clock.now += 10_000


def _session_revoked_on_the_server(hub, clock):
    hub.expire_tokens()  # the API answers 401 ...
    hub.refresh_tokens.clear()  # ... and the refresh is refused


@pytest.mark.parametrize("revoke", [_refresh_token_revoked_then_expired, _session_revoked_on_the_server])
def test_failed_refresh_falls_back_to_password_grant(revoke):
    hub = MockAuthup()
    auth, api, clock = make(hub)
    api.get(API)
    revoke(hub, clock)
    assert api.get(API).status_code == 200
    assert hub.kinds() == ["password", "refresh_token", "password"]
    assert hub.api_calls[-1] == "Bearer access-2"


@pytest.mark.parametrize(("ttl", "between"), [
    (900, lambda auth, clock: setattr(clock, "now", clock.now + 10_000)),  # expired: no refresh token
    (0, lambda auth, clock: None),  # expires_in 0: renewed before the next request
    (900, lambda auth, clock: auth.invalidate()),  # invalidate() forces a new grant
], ids=["expired-without-refresh-token", "zero-lifetime", "invalidate"])
def test_client_credentials_new_grant(ttl, between):
    hub = MockAuthup(ttl=ttl)
    auth, api, clock = make(hub, ClientAuth)
    api.get(API)
    between(auth, clock)
    api.get(API)
    assert hub.kinds() == ["client_credentials", "client_credentials"]


def test_unknown_lifetime_is_used_until_rejected():
    hub = MockAuthup()
    auth, api, clock = make(hub)
    orig = hub._issue
    hub._issue = lambda r: {k: v for k, v in orig(r).items() if k != "expires_in"}
    api.get(API)
    clock.now += 10**7
    api.get(API)
    assert hub.kinds() == ["password"]


# ---------------------------------------------------------------------------- 401 recovery
@pytest.mark.parametrize("refusal", [401, 500])
@pytest.mark.parametrize("send", [lambda api: api.get(API), lambda api: api.post(API, json={"name": "x"})],
                         ids=["GET", "POST-json"])
def test_401_reauthenticates_once_and_retries_once(send, refusal):
    hub = MockAuthup()
    hub.refusal = refusal
    _, api, _ = make(hub)
    api.get(API)
    hub.expire_tokens()
    assert send(api).status_code == 200  # a JSON body is in memory: it can be sent again
    assert hub.kinds() == ["password", "refresh_token"]
    assert hub.api_calls == ["Bearer access-1", "Bearer access-1", "Bearer access-2"]


def test_persistent_401_is_returned_after_one_retry():
    hub = MockAuthup()
    _, api, _ = make(hub)
    hub._api = lambda request: (hub.api_calls.append(request.headers.get("authorization")),
                                httpx.Response(401, json={"message": "nope"}))[1]
    assert api.get(API).status_code == 401
    assert len(hub.api_calls) == 2 and len(hub.grants) == 2


def test_401_with_unreplayable_body_is_not_retried():
    hub = MockAuthup()
    _, api, _ = make(hub)
    api.get(API)
    hub.expire_tokens()


    class StreamingTransport(httpx.BaseTransport):
        """Consumes the body chunk by chunk like a real transport (MockTransport reads it whole)."""

        def handle_request(self, request):
            b"".join(request.stream)
            return hub._api(request)

    api = httpx.Client(transport=StreamingTransport(), auth=api.auth)
    response = api.post(API, content=iter([b"chunk-1", b"chunk-2"]))
    assert response.status_code == 401
    assert len(hub.api_calls) == 2 and hub.kinds() == ["password"]  # sent once, not retried
    assert not _replayable(httpx.Request("POST", API, content=iter([b"x"])))
    assert _replayable(httpx.Request("POST", API, json={"a": 1}))


# ---------------------------------------------------------------------------- robots
def test_robot_grant_on_current_authup_says_use_client_auth():
    hub = MockAuthup()
    _, api, _ = make(hub, RobotAuth)
    with pytest.raises(BadRequest, match="ClientAuth") as info:
        api.get(API)
    assert info.value.code == "unsupported_token_grant_type"
    assert hub.grants == [{"grant_type": "robot_credentials", "id": "41762b1f-9767-4bcc-851e-d6ec66b6c10a",
                           "secret": "x"}]


def test_robot_grant_on_legacy_authup():
    def handler(request):
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "robot-token", "expires_in": 3600,
                                             "token_type": "Bearer", "scope": "global"})  # legacy 040
        return httpx.Response(200, json={"seen": request.headers["authorization"]})

    transport = httpx.MockTransport(handler)
    auth = RobotAuth(robot_id="234ceb25-4c9d-4da0-b899-30404d4d8947", robot_secret="s3cr3t", base_url=AUTH,
                     client=httpx.Client(transport=transport))
    assert httpx.Client(transport=transport, auth=auth).get(API).json() == {"seen": "Bearer robot-token"}


def test_robot_other_errors_pass_through():
    hub = MockAuthup()
    hub.token_status = 400
    _, api, _ = make(hub, RobotAuth)
    with pytest.raises(BadRequest, match="forced"):
        api.get(API)


# ---------------------------------------------------------------------------- static, repr, args
def test_static_auth():
    seen = []
    transport = httpx.MockTransport(lambda r: (seen.append(r.headers.get("authorization")), httpx.Response(401))[1])
    token = jwt()
    client = httpx.Client(transport=transport, auth=StaticAuth(token))
    assert client.get(API).status_code == 401
    assert seen == [f"Bearer {token}"]  # never refreshed, never retried
    assert StaticAuth(access_token=jwt("other"))._token == jwt("other")
    assert repr(StaticAuth(token)) == "StaticAuth(token='***')"
    with pytest.raises(ValueError):
        StaticAuth("")


def test_repr_never_shows_secrets_or_tokens():
    hub = MockAuthup()
    for cls in (PasswordAuth, ClientAuth, RobotAuth):
        auth, api, _ = make(hub, cls)
        try:
            api.get(API)
        except BadRequest:
            pass
        text = repr(auth) + str(auth)
        assert "start123" not in text and "access-" not in text and "refresh-" not in text
    assert repr(PasswordAuth("admin", "pw", AUTH)) == f"PasswordAuth(username='admin', base_url='{AUTH}')"
    assert repr(ClientAuth("system", "pw")) == "ClientAuth(client_id='system')"


@pytest.mark.parametrize(
    "build",
    [
        lambda: PasswordAuth("", "p"),
        lambda: PasswordAuth("u", ""),
        lambda: ClientAuth("id", None),
        lambda: RobotAuth(None, "s"),
        lambda: PasswordAuth("u", "p", base_url=" "),
        lambda: PasswordAuth("u", "p", client=httpx.AsyncClient()),
        lambda: PasswordAuth("u", "p", async_client=httpx.Client()),
        lambda: PasswordAuth("u", "p", margin=-1),
    ],
)
def test_bad_arguments(build):
    with pytest.raises(ValueError):
        build()


def test_internal_client_is_closed():
    auth = PasswordAuth("u", "p", AUTH, async_client=httpx.AsyncClient(transport=httpx.MockTransport(
        lambda r: httpx.Response(200, json={"access_token": "a", "expires_in": 60}))))
    assert auth._sync_token() == "a"  # the internal sync client borrowed the async client's transport
    own = auth._own_client
    auth.close()
    assert own is not None and own.is_closed and auth._own_client is None


# ---------------------------------------------------------------------------- concurrency
def in_twenty_threads(get) -> list[int]:
    """Start 20 threads at once, each calling ``get()``; the status codes they got."""
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def worker():
        barrier.wait()
        statuses.append(get().status_code)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def expire_on_the_clock(hub, clock):
    clock.now += 10_000  # the client knows its token is past refresh_at


def expire_on_the_server(hub, clock):
    hub.expire_tokens()  # the client learns it from a 401


EXPIRIES = pytest.mark.parametrize("expire", [expire_on_the_clock, expire_on_the_server],
                                   ids=["clock", "server"])


@EXPIRIES
def test_twenty_threads_share_one_refresh(expire):
    hub = MockAuthup(delay=0.05)
    auth, api, clock = make(hub)
    api.get(API)
    expire(hub, clock)
    assert in_twenty_threads(lambda: api.get(API)) == [200] * 20
    assert hub.kinds() == ["password", "refresh_token"]


# ---------------------------------------------------------------------------- async
def amake(hub: MockAuthup, cls=PasswordAuth, *, give: str = "async", **kwargs):
    clock = Clock()
    transport = httpx.MockTransport(hub.ahandler if give == "async" else hub.handler)
    if give == "async":
        kwargs["async_client"] = httpx.AsyncClient(transport=transport)
    else:
        kwargs["client"] = httpx.Client(transport=transport)
    auth = cls(*CREDENTIALS[cls], AUTH, clock=clock, **kwargs)
    api = httpx.AsyncClient(transport=httpx.MockTransport(hub.ahandler), auth=auth)
    return auth, api, clock


@pytest.mark.anyio
async def test_async_grant_refresh_and_401():
    hub = MockAuthup()
    auth, api, clock = amake(hub)
    assert (await api.get(API)).status_code == 200
    clock.now += 10_000
    await api.get(API)
    hub.expire_tokens()
    assert (await api.get(API)).status_code == 200
    assert hub.kinds() == ["password", "refresh_token", "refresh_token"]
    assert hub.grants[2]["refresh_token"] == "refresh-2"
    await auth.aclose()


@pytest.mark.anyio
async def test_async_borrows_the_sync_clients_transport():
    hub = MockAuthup()
    auth, api, _ = amake(hub, ClientAuth, give="sync")
    assert (await api.get(API)).status_code == 200
    assert hub.kinds() == ["client_credentials"]
    await auth.aclose()


@EXPIRIES
@pytest.mark.anyio
async def test_twenty_tasks_share_one_refresh(expire):
    hub = MockAuthup(delay=0.05)
    auth, api, clock = amake(hub)
    await api.get(API)
    expire(hub, clock)
    statuses = await asyncio.gather(*(api.get(API) for _ in range(20)))
    assert [r.status_code for r in statuses] == [200] * 20
    assert hub.kinds() == ["password", "refresh_token"]


@pytest.mark.anyio
async def test_async_errors():
    hub = MockAuthup()
    hub.password = "changed"
    _, api, _ = amake(hub)
    with pytest.raises(BadRequest, match="credentials are invalid"):
        await api.get(API)


def test_async_flow_in_two_event_loops():
    """A flow used by one asyncio.run() and then another keeps working (no loop-bound lock)."""
    hub = MockAuthup()
    auth, _, clock = amake(hub)

    async def one():
        async with httpx.AsyncClient(transport=httpx.MockTransport(hub.ahandler), auth=auth) as api:
            return (await api.get(API)).status_code

    assert asyncio.run(one()) == 200
    clock.now += 10_000
    assert asyncio.run(one()) == 200
    assert hub.kinds() == ["password", "refresh_token"]


# ---------------------------------------------------------------------------- on the fake Hub
def fake_setup(token_ttl: float = 900, *, clock=None, latency: float = 0.0, margin: float = 30.0):
    """A FakeHub (in-process transport), a PasswordAuth and an API client sharing one transport."""
    from flame_hub.testing import FakeHub

    hub = FakeHub(token_ttl=token_ttl)
    hub.latency = latency
    transport = hub.transport()
    kwargs = {"clock": clock} if clock is not None else {}
    auth = PasswordAuth("admin", "start123", hub.auth_url, httpx.Client(transport=transport),
                        async_client=httpx.AsyncClient(transport=transport), margin=margin, **kwargs)
    api = httpx.Client(transport=transport, auth=auth)
    return hub, auth, api


def grants(hub) -> list[str]:
    return [r.json["grant_type"] for r in hub.requests if r.path == "/auth/token"]


def trace(hub) -> list[str]:
    return [f"{r.method} {r.path}" + (f" {r.json['grant_type']}" if r.path == "/auth/token" else "")
            for r in hub.requests]


def test_fake_hub_token_expiry_refreshes_before_use():
    hub, auth, api = fake_setup(token_ttl=1, margin=0.3)
    assert api.get(hub.core_url + "nodes").status_code == 200
    time.sleep(0.75)  # past refresh_at (1 - 0.3), before the hub's expiry
    assert api.get(hub.core_url + "nodes").status_code == 200
    assert trace(hub) == ["POST /auth/token password", "GET /core/nodes", "POST /auth/token refresh_token",
                          "GET /core/nodes"]


@pytest.mark.parametrize("lifetime", ["expires", "expire_tokens"])
def test_fake_hub_expired_on_the_server_means_one_reauth_and_retry(lifetime):
    # the client's clock stands still: it believes its token is fresh until the Hub says 401
    if lifetime == "expires":
        hub, auth, api = fake_setup(token_ttl=1, clock=Clock())
        api.get(hub.core_url + "nodes")
        time.sleep(1.05)
    else:
        hub, auth, api = fake_setup(clock=Clock())
        api.get(hub.core_url + "nodes")
        hub.expire_tokens()
    hub.clear_requests()
    assert api.get(hub.core_url + "nodes").status_code == 200
    assert trace(hub) == ["GET /core/nodes", "POST /auth/token refresh_token", "GET /core/nodes"]
    # the new token works without further grants
    hub.clear_requests()
    api.get(hub.core_url + "nodes")
    assert trace(hub) == ["GET /core/nodes"]


def test_fake_hub_refresh_rotation_uses_the_newest_refresh_token():
    clock = Clock()
    hub, auth, api = fake_setup(clock=clock)
    for _ in range(3):
        api.get(hub.core_url + "nodes")
        clock.now += 10_000
    api.get(hub.core_url + "nodes")
    refreshes = [r.json["refresh_token"] for r in hub.requests if r.path == "/auth/token"
                 and r.json["grant_type"] == "refresh_token"]
    assert len(refreshes) == 3 and len(set(refreshes)) == 3  # never a replay (it would revoke the session)
    assert grants(hub) == ["password", "refresh_token", "refresh_token", "refresh_token"]


def test_fake_hub_refresh_failure_falls_back_to_password_grant():
    clock = Clock()
    hub, auth, api = fake_setup(clock=clock)
    api.get(hub.core_url + "nodes")
    hub.fail_next("POST", "/auth/token", status=500)
    clock.now += 10_000
    assert api.get(hub.core_url + "nodes").status_code == 200
    assert grants(hub) == ["password", "refresh_token", "password"]


def test_fake_hub_replayed_refresh_token_revokes_and_falls_back():
    clock = Clock()
    hub, auth, api = fake_setup(clock=clock)
    api.get(hub.core_url + "nodes")
    # someone else uses our refresh token first: authup revokes the session (097)
    stolen = httpx.Client(transport=hub.transport()).post(
        hub.auth_url + "token", json={"grant_type": "refresh_token", "refresh_token": auth._state.refresh_token})
    assert stolen.status_code == 200
    clock.now += 10_000
    assert api.get(hub.core_url + "nodes").status_code == 200
    assert grants(hub) == ["password", "refresh_token", "refresh_token", "password"]


def test_fake_hub_wrong_password_and_robot_grant():
    from flame_hub.testing import FakeHub

    hub = FakeHub()
    token_client = httpx.Client(transport=hub.transport())
    bad = httpx.Client(transport=hub.transport(), auth=PasswordAuth("admin", "wrong", hub.auth_url, token_client))
    with pytest.raises(BadRequest, match="credentials are invalid"):
        bad.get(hub.core_url + "nodes")
    robot = httpx.Client(transport=hub.transport(),
                         auth=RobotAuth("41762b1f-9767-4bcc-851e-d6ec66b6c10a", "x", hub.auth_url, token_client))
    with pytest.raises(BadRequest, match="ClientAuth"):
        robot.get(hub.core_url + "nodes")
    system = httpx.Client(transport=hub.transport(), auth=ClientAuth("system", "start123", hub.auth_url, token_client))
    assert system.get(hub.core_url + "nodes").status_code == 200


@EXPIRIES
def test_fake_hub_twenty_threads_one_refresh_grant(expire):
    clock = Clock()
    hub, auth, api = fake_setup(clock=clock, latency=0.01)
    api.get(hub.core_url + "nodes")
    expire(hub, clock)
    hub.clear_requests()
    assert in_twenty_threads(lambda: api.get(hub.core_url + "nodes")) == [200] * 20
    assert grants(hub) == ["refresh_token"]


@pytest.mark.anyio
async def test_fake_hub_twenty_tasks_one_refresh_grant():
    clock = Clock()
    hub, auth, _ = fake_setup(clock=clock, latency=0.01)
    async with httpx.AsyncClient(transport=hub.transport(), auth=auth) as api:
        await api.get(hub.core_url + "nodes")
        clock.now += 10_000
        hub.expire_tokens()
        hub.clear_requests()
        responses = await asyncio.gather(*(api.get(hub.core_url + "nodes") for _ in range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    assert grants(hub) == ["refresh_token"]
    assert len([r for r in hub.requests if r.path == "/core/nodes"]) == 20
