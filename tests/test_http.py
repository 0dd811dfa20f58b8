"""The HTTP layer (flame_hub._http): URLs, per-call auth, error mapping, retries, streams, envelopes."""

from __future__ import annotations

import email.utils
import time
import warnings

import httpx
import pytest

from _jwt import jwt

from flame_hub._http import (
    DEFAULT,
    DEFAULT_TIMEOUT,
    SUCCESS,
    AsyncHubSession,
    HubSession,
    RetryPolicy,
)
from flame_hub._flow import CallFlow, DrainStep, SendStep, SleepStep
from flame_hub._responses import parse_json, unwrap_list, unwrap_record
from flame_hub.auth import PasswordAuth, StaticAuth
from flame_hub.dialects import CURRENT, LEGACY
from flame_hub.errors import (
    BadRequest,
    HubConnectionError,
    HubError,
    HubTimeout,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
)

BASE = "http://hub.test:3000/core"
NODE = {"id": "6c8f8cd2-2d1c-4b52-9fd0-8d6b8a43f9a1", "name": "lab-1"}


@pytest.fixture
def anyio_backend():
    return "asyncio"


class Script:
    """A MockTransport handler answering from a script of responses/exceptions, recording requests."""

    def __init__(self, *steps) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise type(step)(str(step), request=request)
        if isinstance(step, int):
            return httpx.Response(step, json={"statusCode": step, "code": "x", "message": f"status {step}"})
        return step()  # a fresh response each time: httpx binds a response's stream to one client

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def session(script: Script, **kwargs) -> tuple[HubSession, list[float]]:
    sleeps: list[float] = []
    kwargs.setdefault("jitter", lambda: 0.0)
    return HubSession(BASE, transport=script.transport(), sleep=sleeps.append, **kwargs), sleeps


def R(status: int, **kwargs):
    """A response factory for Script."""
    return lambda: httpx.Response(status, **kwargs)


OK = R(200, json={"data": [NODE], "meta": {"total": 1, "limit": 50, "offset": 0}})


# ---------------------------------------------------------------------------- URLs, headers, client
def test_relative_paths_keep_the_gateway_prefix():
    script = Script(OK)
    s, _ = session(script)
    s.request("GET", "/nodes", params=[("filter[name]", "a+b"), ("page[limit]", "1")])
    s.request("get", "nodes/1")
    assert str(script.requests[0].url) == "http://hub.test:3000/core/nodes?filter%5Bname%5D=a%2Bb&page%5Blimit%5D=1"
    assert str(script.requests[1].url) == "http://hub.test:3000/core/nodes/1"
    assert str(s.base_url) == "http://hub.test:3000/core/"
    assert script.requests[0].headers["accept"] == "application/json"
    assert script.requests[0].headers["user-agent"].startswith("flame-hub-client/")


def test_default_timeouts():
    s = HubSession(BASE)
    assert s.client.timeout == DEFAULT_TIMEOUT
    assert DEFAULT_TIMEOUT.connect == 5.0 and DEFAULT_TIMEOUT.read == 30.0
    assert HubSession(BASE, timeout=3).client.timeout == httpx.Timeout(3.0)
    with pytest.raises(ValueError):
        HubSession(BASE, timeout=-1)
    s.close()
    assert s.client.is_closed


def test_client_wins_with_a_warning_and_is_not_closed():
    script = Script(OK)
    client = httpx.Client(base_url="http://other.test/core", transport=script.transport())
    with pytest.warns(UserWarning, match="base_url, auth are ignored"):
        s = HubSession(BASE, "token", client=client)
    s.request("GET", "nodes")
    assert str(script.requests[0].url) == "http://other.test/core/nodes"
    assert "authorization" not in script.requests[0].headers
    with s:
        pass
    assert not client.is_closed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        HubSession(client=client)  # no warning without base_url/auth


def test_constructor_errors():
    with pytest.raises(ValueError, match="base_url"):
        HubSession()
    with pytest.raises(ValueError):
        HubSession(client=httpx.AsyncClient())
    with pytest.raises(ValueError):
        AsyncHubSession(client=httpx.Client())
    with pytest.raises(ValueError):
        HubSession(BASE, max_retries=-1)
    with pytest.raises(ValueError):
        HubSession(BASE).request("GET", "x", max_retries=-2)
    with pytest.raises(ValueError):
        HubSession(BASE).request("", "x")


# ---------------------------------------------------------------------------- auth per call
def test_per_call_auth():
    script = Script(OK)
    session_token, call_token, static_token = jwt("session"), jwt("call"), jwt("static")
    s = HubSession(BASE, session_token, transport=script.transport())
    s.request("GET", "nodes")
    s.request("GET", "nodes", auth=DEFAULT)
    s.request("GET", "nodes", auth=call_token)
    s.request("GET", "nodes", auth=StaticAuth(static_token))
    s.request("GET", "nodes", auth=None)
    seen = [r.headers.get("authorization") for r in script.requests]
    assert seen == [f"Bearer {session_token}", f"Bearer {session_token}", f"Bearer {call_token}",
                    f"Bearer {static_token}", None]
    with pytest.raises(ValueError, match="auth must be"):
        s.request("GET", "nodes", auth=("user", "pw"))
    assert repr(DEFAULT) == "DEFAULT"


def test_session_with_password_auth_recovers_from_401_and_maps_final_401():
    tokens = iter(["t1", "t2", "t3"])
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path} {request.headers.get('authorization')}")
        if request.url.path == "/auth/token":
            return httpx.Response(200, json={"access_token": next(tokens), "expires_in": 900})
        if request.headers["authorization"] == "Bearer t1":
            return httpx.Response(401, json={"statusCode": 401, "code": "identity_unauthorized",
                                             "message": "Authentication required.", "issues": []})
        if request.url.path.endswith("/forbidden-for-all"):
            return httpx.Response(401, json={"statusCode": 401, "message": "still no"})
        return OK()

    transport = httpx.MockTransport(handler)
    auth = PasswordAuth("admin", "start123", "http://hub.test:3000/auth", httpx.Client(transport=transport))
    s = HubSession(BASE, auth, transport=transport)
    assert s.request("GET", "nodes").status_code == 200
    assert calls == ["POST /auth/token None", "GET /core/nodes Bearer t1", "POST /auth/token None",
                     "GET /core/nodes Bearer t2"]
    with pytest.raises(Unauthorized, match="still no") as info:
        s.request("GET", "forbidden-for-all")
    assert "t2" not in str(info.value) and "t3" not in str(info.value)


def test_token_endpoint_429_through_a_session_is_not_retried():
    calls: list[str] = []

    def handler(request):
        calls.append(request.url.path)
        if request.url.path == "/auth/token":
            return httpx.Response(429, headers={"Retry-After": "1"},
                                  json={"name": "TooManyRequestsError", "message": "slow down", "retryAfter": 1})
        return OK()

    transport = httpx.MockTransport(handler)
    auth = PasswordAuth("admin", "start123", "http://hub.test:3000/auth", httpx.Client(transport=transport))
    s, sleeps = session(Script(OK))
    with pytest.raises(RateLimited) as info:
        s.request("GET", "nodes", auth=auth)
    assert calls == ["/auth/token"] and sleeps == []
    assert info.value.retry_after == 1.0


# ---------------------------------------------------------------------------- status mapping
def test_expected_statuses():
    s, _ = session(Script(R(201, json={"data": NODE, "meta": {}})))
    assert s.request("POST", "nodes", json={"name": "x"}, expected=(201,)).status_code == 201
    assert s.request("POST", "nodes", json={"name": "x"}, expected=SUCCESS).status_code == 201
    with pytest.raises(HubError) as info:
        s.request("POST", "nodes", json={"name": "x"})  # expected (200,)
    assert info.value.status_code == 201


@pytest.mark.parametrize("status, cls", [(400, BadRequest), (404, NotFound), (500, ServerError)])
def test_error_statuses_raise_mapped_errors_without_retry(status, cls):
    script = Script(status)
    s, sleeps = session(script)
    with pytest.raises(cls) as info:
        s.request("GET", "nodes/x")
    assert len(script.requests) == 1 and sleeps == []
    assert info.value.url == f"{BASE}/nodes/x" and info.value.method == "GET"
    assert info.value.body and info.value.response.status_code == status


# ---------------------------------------------------------------------------- retries
def test_503_twice_then_success_on_get():
    script = Script(503, 503, OK)
    s, sleeps = session(script)
    assert s.request("GET", "nodes").status_code == 200
    assert len(script.requests) == 3
    assert sleeps == [0.5, 1.0]  # exponential backoff (jitter 0)


def test_backoff_jitter_and_cap():
    policy = RetryPolicy(max_retries=10, initial_delay=0.5, max_delay=8.0)
    assert [policy.delay(n, None, 0.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert policy.delay(0, None, 0.999) == pytest.approx(0.5 * (1 - 0.25 * 0.999))
    s, sleeps = session(Script(502, 504, 503, OK), max_retries=3, jitter=lambda: 0.5)
    s.request("GET", "nodes")
    assert sleeps == [0.4375, 0.875, 1.75]


def test_post_is_never_retried():
    script = Script(503, OK)
    s, sleeps = session(script)
    with pytest.raises(ServerError):
        s.request("POST", "nodes", json={"name": "x"}, expected=(201,))
    assert len(script.requests) == 1 and sleeps == []


def test_post_connection_error_is_not_retried():
    script = Script(httpx.ConnectError("refused"), OK)
    s, _ = session(script)
    with pytest.raises(HubConnectionError):
        s.request("POST", "nodes", json={})
    assert len(script.requests) == 1


def test_retries_exhausted_carry_the_last_response():
    script = Script(503, 503, R(503, json={"statusCode": 503, "code": "x", "message": "last one"}))
    s, sleeps = session(script)
    with pytest.raises(ServerError, match="last one") as info:
        s.request("GET", "nodes")
    assert len(script.requests) == 3 and len(sleeps) == 2
    assert info.value.status_code == 503 and "last one" in info.value.body


def test_max_retries_per_session_and_per_call():
    script = Script(503)
    s, _ = session(script, max_retries=0)
    with pytest.raises(ServerError):
        s.request("GET", "nodes")
    assert len(script.requests) == 1
    with pytest.raises(ServerError):
        s.request("GET", "nodes", max_retries=4)
    assert len(script.requests) == 6
    assert s.max_retries == 0


def test_429_retry_after_seconds_and_date():
    script = Script(R(429, headers={"Retry-After": "1"}), OK)
    s, sleeps = session(script)
    assert s.request("GET", "nodes").status_code == 200
    assert sleeps == [1.0]
    date = email.utils.formatdate(time.time() + 3, usegmt=True)
    script = Script(R(503, headers={"Retry-After": date}), OK)
    s, sleeps = session(script)
    s.request("GET", "nodes")
    assert 1.0 < sleeps[0] <= 3.0


def test_429_ratelimit_reset_is_used_but_not_for_503():
    script = Script(R(429, headers={"ratelimit-reset": "2"}), OK)
    s, sleeps = session(script)
    s.request("GET", "nodes")
    assert sleeps == [2.0]
    script = Script(R(503, headers={"ratelimit-reset": "50"}), OK)
    s, sleeps = session(script)
    s.request("GET", "nodes")
    assert sleeps == [0.5]


def test_retry_after_above_the_cap_is_not_waited_for():
    script = Script(R(429, headers={"Retry-After": "3600"}), OK)
    s, sleeps = session(script)
    with pytest.raises(RateLimited) as info:
        s.request("GET", "nodes")
    assert sleeps == [] and info.value.retry_after == 3600.0 and len(script.requests) == 1


def test_connection_errors_and_timeouts_are_retried_for_get():
    script = Script(httpx.ConnectError("refused"), httpx.RemoteProtocolError("dropped"), OK)
    s, sleeps = session(script)
    assert s.request("GET", "nodes").status_code == 200
    assert len(script.requests) == 3 and sleeps == [0.5, 1.0]
    script = Script(httpx.ReadTimeout("slow"))
    s, _ = session(script)
    with pytest.raises(HubTimeout, match="slow") as info:
        s.request("GET", "nodes")
    assert len(script.requests) == 3
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    script = Script(httpx.ConnectError("refused"))
    s, _ = session(script, max_retries=1)
    with pytest.raises(HubConnectionError) as info:
        s.request("GET", "nodes")
    assert type(info.value) is HubConnectionError and len(script.requests) == 2


def test_unsupported_protocol_is_not_retried():
    script = Script(httpx.UnsupportedProtocol("nope"))
    s, sleeps = session(script)
    with pytest.raises(HubConnectionError):
        s.request("GET", "nodes")
    assert len(script.requests) == 1 and sleeps == []


def test_delete_404_after_a_retry_means_done():
    script = Script(httpx.ReadTimeout("lost answer"), 404)
    s, _ = session(script)
    response = s.request("DELETE", "nodes/1", expected=(202,))
    assert response.status_code == 404 and len(script.requests) == 2
    s, _ = session(Script(404))
    with pytest.raises(NotFound):
        s.request("DELETE", "nodes/1", expected=(202,))


def test_core_flow_is_sans_io():
    core = CallFlow(2, None, lambda: 0.0)
    request = httpx.Request("GET", "http://h/x")
    send = SendStep(request, None, False)
    flow = core.flow("GET", (200,), 2, lambda: send)
    assert next(flow) == send
    assert flow.send(httpx.Response(503, request=request)) == SleepStep(0.5)
    assert next(flow) == send
    assert flow.send(httpx.ConnectError("down", request=request)) == SleepStep(1.0)
    assert next(flow) == send
    with pytest.raises(StopIteration) as done:
        flow.send(httpx.Response(200, request=request))
    assert done.value.value.status_code == 200


def test_core_flow_drains_a_streamed_answer_it_does_not_accept():
    core = CallFlow(1, None, lambda: 0.0)
    request = httpx.Request("GET", "http://h/x")
    flow = core.flow("GET", (200,), 1, lambda: SendStep(request, None, True))
    assert next(flow).stream is True
    busy = httpx.Response(503, request=request)
    assert flow.send(busy) == DrainStep(busy)  # read the error body before deciding
    assert next(flow) == SleepStep(0.5)
    next(flow)
    gone = httpx.Response(404, request=request)
    assert flow.send(gone) == DrainStep(gone)
    with pytest.raises(NotFound):
        next(flow)
    post = core.flow("POST", (201,), 1, lambda: SendStep(request, None, False))
    next(post)
    with pytest.raises(ServerError):  # never retried
        post.send(httpx.Response(503, request=request))


def test_auth_flow_connection_error_is_retried_by_the_session():
    attempts = []

    def handler(request):
        attempts.append(request.url.path)
        if request.url.path == "/auth/token" and len(attempts) == 1:
            raise httpx.ConnectError("auth down", request=request)
        if request.url.path == "/auth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 900})
        return OK()

    transport = httpx.MockTransport(handler)
    auth = PasswordAuth("admin", "pw", "http://hub.test:3000/auth", httpx.Client(transport=transport))
    s = HubSession(BASE, auth, transport=transport, sleep=lambda _: None)
    assert s.request("GET", "nodes").status_code == 200
    assert attempts == ["/auth/token", "/auth/token", "/core/nodes"]


# ---------------------------------------------------------------------------- streams
def test_stream_yields_chunks():
    data = bytes(range(256)) * 1000
    script = Script(R(200, content=data))
    s, _ = session(script)
    with s.stream("GET", "buckets/1/stream", chunk_size=4096) as chunks:
        received = list(chunks)
    assert b"".join(received) == data and max(map(len, received)) <= 4096
    assert chunks.response.is_closed


def test_stream_raises_before_any_byte():
    script = Script(R(404, json={"statusCode": 404, "code": "entity_not_found",
                                              "message": "The bucket was not found.", "issues": []}))
    s, _ = session(script)
    with pytest.raises(NotFound, match="The bucket was not found."):
        s.stream("GET", "buckets/1/stream")
    with pytest.raises(ValueError):
        s.stream("GET", "x", chunk_size=0)


def test_stream_is_retried_before_the_first_byte():
    script = Script(503, R(200, content=b"tarball"))
    s, sleeps = session(script)
    assert b"".join(s.stream("GET", "buckets/1/stream")) == b"tarball"
    assert sleeps == [0.5]


class _Broken(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that breaks after the first chunk (a connection dropped mid-download)."""

    def __iter__(self):
        yield b"first"
        raise httpx.ReadError("connection reset")

    async def __aiter__(self):
        yield b"first"
        raise httpx.ReadError("connection reset")


def test_stream_failure_mid_body():
    s, _ = session(Script(R(200, stream=_Broken())))
    chunks = s.stream("GET", "buckets/1/stream", chunk_size=5)
    assert next(chunks) == b"first"
    with pytest.raises(HubConnectionError, match="connection reset"):
        next(chunks)


# ---------------------------------------------------------------------------- envelopes
def test_unwrap_helpers():
    req = httpx.Request("GET", "http://h/x")
    wrapped = httpx.Response(200, json={"data": NODE, "meta": {}}, request=req)
    assert unwrap_record(wrapped, CURRENT) == NODE
    assert unwrap_record(httpx.Response(200, json=NODE, request=req), LEGACY) == NODE
    assert unwrap_list(OK()) == ([NODE], {"total": 1, "limit": 50, "offset": 0})
    assert unwrap_list(httpx.Response(200, json=[NODE], request=req)) == ([NODE], {})
    assert parse_json(httpx.Response(202, content=b"", request=req)) is None
    with pytest.raises(HubError, match="not JSON"):
        parse_json(httpx.Response(200, text="<html>", request=req))
    with pytest.raises(HubError, match="list envelope"):
        unwrap_list(httpx.Response(200, json={"data": NODE}, request=req))


# ---------------------------------------------------------------------------- async
def asession(script: Script, **kwargs) -> tuple[AsyncHubSession, list[float]]:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    kwargs.setdefault("jitter", lambda: 0.0)
    return AsyncHubSession(BASE, transport=script.transport(), sleep=sleep, **kwargs), sleeps


@pytest.mark.anyio
async def test_async_retries_and_mapping():
    script = Script(503, httpx.ConnectError("refused"), OK)
    s, sleeps = asession(script)
    async with s:
        assert (await s.request("GET", "/nodes")).status_code == 200
        assert len(script.requests) == 3 and sleeps == [0.5, 1.0]
        assert str(script.requests[0].url) == "http://hub.test:3000/core/nodes"
    assert s.client.is_closed

    script = Script(503, OK)
    s, sleeps = asession(script)
    with pytest.raises(ServerError):
        await s.request("POST", "nodes", json={}, expected=(201,))
    assert len(script.requests) == 1

    s, _ = asession(Script(R(429, headers={"Retry-After": "1"}), OK))
    assert (await s.request("GET", "nodes", auth=jwt())).status_code == 200

    s, _ = asession(Script(httpx.ReadTimeout("slow")), max_retries=0)
    with pytest.raises(HubTimeout):
        await s.request("GET", "nodes")


@pytest.mark.anyio
async def test_async_streams_both_styles():
    data = b"x" * 10_000
    s, _ = asession(Script(503, R(200, content=data)))
    received = b"".join([c async for c in s.astream("GET", "buckets/1/stream", chunk_size=1000)])
    assert received == data

    s, _ = asession(Script(R(200, content=data)))
    stream = await s.astream("GET", "buckets/1/stream")
    assert stream.response.status_code == 200
    assert b"".join([c async for c in stream]) == data

    s, _ = asession(Script(404))
    with pytest.raises(NotFound):
        await s.astream("GET", "buckets/1/stream")
    with pytest.raises(NotFound):
        async for _ in s.astream("GET", "buckets/1/stream"):
            pytest.fail("no byte may be yielded")

    s, _ = asession(Script(R(200, stream=_Broken())))
    async with s.astream("GET", "b", chunk_size=5) as stream:
        assert await stream.__anext__() == b"first"
        with pytest.raises(HubConnectionError):
            await stream.__anext__()


@pytest.mark.anyio
async def test_async_client_wins_with_warning():
    script = Script(OK)
    client = httpx.AsyncClient(base_url="http://other.test/", transport=script.transport())
    with pytest.warns(UserWarning):
        s = AsyncHubSession(BASE, client=client)
    await s.request("GET", "nodes")
    await s.aclose()
    assert not client.is_closed and str(script.requests[0].url) == "http://other.test/nodes"


# ---------------------------------------------------------------------------- on the fake Hub
def fake_sessions(**kwargs):
    """A FakeHub, a sync and an async session on its in-process transport, and the sleeps."""
    from flame_hub.testing import FakeHub

    hub = FakeHub()
    transport = hub.transport()
    auth = PasswordAuth("admin", "start123", hub.auth_url, httpx.Client(transport=transport),
                        async_client=httpx.AsyncClient(transport=transport))
    sleeps: list[float] = []

    async def asleep(seconds: float) -> None:
        sleeps.append(seconds)

    kwargs.setdefault("jitter", lambda: 0.0)
    sync = HubSession(hub.core_url, auth, transport=transport, sleep=sleeps.append, **kwargs)
    asyn = AsyncHubSession(hub.core_url, auth, transport=transport, sleep=asleep, **kwargs)
    sync.request("GET", "nodes")  # log in once, so hub.requests below show only the calls under test
    hub.clear_requests()
    return hub, sync, asyn, sleeps


def calls(hub) -> list[str]:
    return [f"{r.method} {r.path}" for r in hub.requests]


def sync_and_async(test):
    """Run ``test(mode)`` with ``mode`` "sync" and "async" (the same flow, either shell)."""
    return pytest.mark.anyio(pytest.mark.parametrize("mode", ["sync", "async"])(test))


async def send(mode: str, sync: HubSession, asyn: AsyncHubSession, method: str, path: str, **kwargs):
    """``request(method, path, **kwargs)`` on the session ``mode`` names."""
    if mode == "sync":
        return sync.request(method, path, **kwargs)
    return await asyn.request(method, path, **kwargs)


@sync_and_async
async def test_fake_hub_503_twice_then_success(mode):
    hub, sync, asyn, sleeps = fake_sessions()
    hub.fail_next("GET", "/core/nodes", status=503, times=2)
    response = await send(mode, sync, asyn, "GET", "nodes")
    assert unwrap_list(response)[1]["total"] == 0
    assert calls(hub) == ["GET /core/nodes"] * 3 and sleeps == [0.5, 1.0]


@sync_and_async
async def test_fake_hub_503_on_create_is_not_retried(mode):
    hub, sync, asyn, sleeps = fake_sessions()
    hub.fail_next("POST", "/core/nodes", status=503)
    with pytest.raises(ServerError) as info:
        await send(mode, sync, asyn, "POST", "nodes", json={"name": "lab-1"}, expected=(201,))
    assert calls(hub) == ["POST /core/nodes"] and sleeps == []
    assert info.value.status_code == 503


@sync_and_async
async def test_fake_hub_429_retry_after(mode):
    hub, sync, asyn, sleeps = fake_sessions()
    hub.fail_next("GET", "/core/nodes", status=429, headers={"Retry-After": "1"})
    response = await send(mode, sync, asyn, "GET", "nodes")
    assert response.status_code == 200
    assert sleeps == [1.0] and calls(hub) == ["GET /core/nodes"] * 2


@sync_and_async
async def test_fake_hub_dropped_connection_is_retried(mode):
    hub, sync, asyn, sleeps = fake_sessions()
    hub.drop_next("GET", "/core/nodes")
    response = await send(mode, sync, asyn, "GET", "nodes")
    assert response.status_code == 200 and len(sleeps) == 1
    assert calls(hub) == ["GET /core/nodes"] * 2


@sync_and_async
async def test_fake_hub_retries_exhausted(mode):
    hub, sync, asyn, sleeps = fake_sessions()
    hub.fail_next("GET", "/core/nodes", status=502, times=3, body={"message": "bad gateway, third time"})
    with pytest.raises(ServerError, match="third time") as info:
        await send(mode, sync, asyn, "GET", "nodes")
    assert info.value.status_code == 502 and "third time" in info.value.body
    assert calls(hub) == ["GET /core/nodes"] * 3


@sync_and_async
async def test_fake_hub_expired_tokens_mid_session(mode):
    hub, sync, asyn, _ = fake_sessions()
    hub.expire_tokens()
    response = await send(mode, sync, asyn, "GET", "nodes")
    assert response.status_code == 200
    assert calls(hub) == ["GET /core/nodes", "POST /auth/token", "GET /core/nodes"]


def test_fake_hub_errors_and_delete_after_lost_answer():
    hub, sync, _, _ = fake_sessions()
    with pytest.raises(NotFound, match="not found") as info:
        sync.request("GET", "nodes/6c8f8cd2-2d1c-4b52-9fd0-8d6b8a43f9a1")
    assert info.value.code == "entity_not_found"
    with pytest.raises(Unauthorized):
        sync.request("GET", "nodes", auth=None)
    node = unwrap_record(sync.request("POST", "nodes", json={"name": "lab-1"}, expected=(201,)), CURRENT)
    hub.clear_requests()
    hub.drop_next("DELETE", f"/core/nodes/{node['id']}")  # the delete is lost (not applied)
    assert sync.request("DELETE", f"nodes/{node['id']}", expected=(202,)).status_code == 202
    assert calls(hub) == [f"DELETE /core/nodes/{node['id']}"] * 2


def test_with_options_sets_a_per_request_timeout_and_keeps_the_connections_open():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json={"ok": True})

    session = HubSession("http://hub.test/core/", transport=httpx.MockTransport(handler), timeout=7)
    quick = session.with_options(timeout=1.5, max_retries=0)
    quick.request("GET", "nodes")
    quick.close()  # must not close the shared client
    session.request("GET", "nodes")
    assert seen[0]["read"] == 1.5 and seen[1]["read"] == 7
    assert quick.max_retries == 0 and session.max_retries == 2
    session.close()


def test_clients_the_package_creates_share_one_ssl_context(monkeypatch):
    """Building an SSL context costs ~20 ms of CPU: the API client and the token client of a
    logged-in client share the process's default one; a given transport keeps its own settings,
    and another SSL_CERT_FILE gets another context."""
    from flame_hub._flow import default_ssl_context

    def context_of(client: httpx.Client):
        return client._transport._pool._ssl_context

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    auth = PasswordAuth("admin", "start123", base_url="https://hub.test/auth/")
    with HubSession(BASE, auth) as one, HubSession(BASE) as two:
        shared = default_ssl_context()
        assert context_of(one.client) is shared and context_of(two.client) is shared
        assert context_of(auth._sync_http()) is shared
    auth.close()
    given = httpx.MockTransport(lambda request: httpx.Response(200))
    with HubSession(BASE, transport=given) as session:
        assert session.client._transport is given
    import certifi

    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    assert default_ssl_context() is not shared and default_ssl_context() is default_ssl_context()


# ---------------------------------------------------------------------------- cookies
def _cookie_hub(set_cookie: str | None):
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        headers = [("set-cookie", set_cookie)] if set_cookie and len(seen) == 1 else []
        return httpx.Response(200, json={"data": []}, headers=headers)

    return handler, seen


@pytest.mark.anyio
@pytest.mark.parametrize("session_class", [HubSession, AsyncHubSession])
async def test_a_cookie_a_gateway_sets_is_sent_back(session_class):
    handler, seen = _cookie_hub("AWSALB=sticky-1; Path=/")
    session = session_class("http://hub.test/core/", transport=httpx.MockTransport(handler))
    for _ in range(3):
        answer = session.request("GET", "nodes")
        if session_class is AsyncHubSession:
            await answer
    assert seen == [None, "AWSALB=sticky-1", "AWSALB=sticky-1"]
    assert session.client.cookies.get("AWSALB") == "sticky-1"


def test_answers_without_cookies_skip_httpx_cookie_parsing(monkeypatch):
    parsed = []
    monkeypatch.setattr(httpx.Cookies, "extract_cookies", lambda self, response: parsed.append(response))
    handler, _ = _cookie_hub(None)
    session = HubSession("http://hub.test/core/", transport=httpx.MockTransport(handler))
    session.request("GET", "nodes")
    assert parsed == []
    handler, _ = _cookie_hub("a=1")
    session = HubSession("http://hub.test/core/", transport=httpx.MockTransport(handler))
    session.request("GET", "nodes")
    assert len(parsed) == 1  # an answer that sets one goes through httpx as before


def test_cookies_set_on_the_made_client_are_sent():
    handler, seen = _cookie_hub(None)
    session = HubSession("http://hub.test/core/", transport=httpx.MockTransport(handler))
    session.client.cookies = {"lang": "en"}
    session.client.cookies.set("team", "a")
    session.request("GET", "nodes")
    assert sorted(seen[0].split("; ")) == ["lang=en", "team=a"]
