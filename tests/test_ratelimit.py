"""Rate limits (issue 6 §3): the fake Hub's limit, and clients pacing themselves by the headers.

The fake Hub counts like the Hub (per client address and service, fixed windows) and answers 429
beyond ``FakeHub(rate_limit=...)``; sessions keep a :class:`~flame_hub._http.RatePacer` that waits
for the window to reset instead of running into 429s. The pacer is tested as a pure state machine
(explicit clock), then end to end on 1-second windows: listings under a limit finish with no 429
and take at least as long as the limit allows. Timing assertions are lower bounds only.
"""

from __future__ import annotations

import math
import threading
import time

import anyio
import httpx
import pytest

import flame_hub
from flame_hub._flow import CallFlow, SendStep, SleepStep
from flame_hub._http import HubSession
from flame_hub._pacing import RatePacer, rate_limit_values
from flame_hub.errors import RateLimited
from flame_hub.testing import FakeHub, RateLimit

ADMIN = {"grant_type": "password", "username": "admin", "password": "start123"}
HTML = "text/html; charset=utf-8"


@pytest.fixture
def anyio_backend():
    return "asyncio"


def token(client: httpx.Client) -> dict[str, str]:
    answer = client.post("auth/token", json=ADMIN)
    assert answer.status_code == 200
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def rate(answer: httpx.Response) -> tuple[str, str, str]:
    h = answer.headers
    return h["ratelimit-limit"], h["ratelimit-remaining"], h["ratelimit-reset"]


# ============================================================================ the fake Hub's limit
def test_no_limit_by_default_only_the_hubs_headers():
    hub = FakeHub()
    assert hub.rate_limit is None
    with httpx.Client(transport=hub.transport(), base_url=hub.url) as c:
        answers = [c.get("core/") for _ in range(1203)]  # beyond the anonymous 1200: never refused
        assert {a.status_code for a in answers} == {200}
        assert rate(answers[0])[:2] == ("1200", "1199") and rate(answers[-1])[:2] == ("1200", "0")
        assert 0 < int(rate(answers[0])[2]) <= 60
        assert "retry-after" not in answers[-1].headers
        # a token raises the limit of the same counter (recordings 025-028): 1204th hit of 6000
        assert rate(c.get("core/nodes", headers=token(c)))[:2] == ("6000", str(6000 - 1204))


def test_the_reset_header_never_exceeds_the_window():
    # regression: (now + 60) - now is 60.00000000000091 in floating point at this clock reading,
    # which once came out as "ratelimit-reset: 61"
    from flame_hub.testing._ratelimit import RateLimiter

    now = 8174.326235239371
    assert (now + 60) - now > 60
    headers, refused = RateLimiter(clock=lambda: now).hit("core", "127.0.0.1", None)
    assert dict(headers)["ratelimit-reset"] == "60" and not refused


def test_beyond_the_limit_the_hubs_429_before_the_route_runs():
    hub = FakeHub(rate_limit=RateLimit(3, window=60))
    with httpx.Client(transport=hub.transport(), base_url=hub.url) as c:
        auth = token(c)  # authup counts on its own counter
        assert [rate(c.get("core/nodes", headers=auth))[1] for _ in range(3)] == ["2", "1", "0"]
        refused = c.post("core/nodes", json={"name": "refused"}, headers=auth)
        assert refused.status_code == 429
        assert refused.text == "Too many requests, please try again later."
        assert refused.headers["content-type"] == HTML
        assert refused.headers["retry-after"] == "60"  # the window length, as the middleware sends it
        assert rate(refused) == ("3", "0", rate(refused)[2]) and 0 < int(rate(refused)[2]) <= 60
        assert hub.records("nodes") == []  # refused before the route: nothing created
        assert c.get("core/").status_code == 429  # anonymous requests share the address' counter
        assert c.post("auth/token", json=ADMIN).status_code == 200  # another service, another counter
    # another client address has its own counter
    with httpx.Client(transport=hub.transport(address="10.0.0.2"), base_url=hub.url) as other:
        assert other.get("core/nodes", headers=auth).status_code == 200
    with pytest.raises(RateLimited) as info:
        flame_hub.CoreClient(hub.core_url, auth["Authorization"].split()[1], transport=hub.transport(),
                             hub_version="0.14.0", max_retries=0).get_nodes()
    assert info.value.status_code == 429


def test_anonymous_requests_have_their_own_limit_on_the_shared_counter():
    hub = FakeHub(rate_limit=RateLimit(5, window=60, anonymous=2))
    with httpx.Client(transport=hub.transport(), base_url=hub.url) as c:
        auth = token(c)
        assert [c.get("core/").status_code for _ in range(3)] == [200, 200, 429]
        # the token's limit on the same counter: hits 4 and 5 of 5, then refused
        assert [c.get("core/nodes", headers=auth).status_code for _ in range(3)] == [200, 200, 429]


def test_the_window_resets_and_the_limit_can_change_at_runtime():
    hub = FakeHub(rate_limit="2/0.3")
    assert hub.rate_limit == RateLimit(2, window=0.3)
    with httpx.Client(transport=hub.transport(), base_url=hub.url) as c:
        assert [c.get("core/").status_code for _ in range(3)] == [200, 200, 429]
        time.sleep(0.35)
        again = c.get("core/")
        assert again.status_code == 200 and rate(again) == ("2", "1", "1")  # reset rounded up
        hub.rate_limit = None  # lifted: headers only
        assert [c.get("core/").status_code for _ in range(3)] == [200] * 3
        hub.rate_limit = 1  # one per 60 s; counting starts again
        assert hub.rate_limit == RateLimit(1)
        assert [c.get("core/").status_code for _ in range(2)] == [200, 429]
        hub.reset()  # clears the counters, keeps the limit
        assert hub.rate_limit == RateLimit(1)
        assert [c.get("core/").status_code for _ in range(2)] == [200, 429]


def test_the_limit_is_thread_safe():
    hub = FakeHub(rate_limit=RateLimit(50, window=60))
    statuses: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        with httpx.Client(transport=hub.transport(), base_url=hub.url) as c:
            for _ in range(20):
                status = c.get("core/").status_code
                with lock:
                    statuses.append(status)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(200) == 50 and statuses.count(429) == 110


def test_robot_tokens_are_not_limited():
    hub = FakeHub(version="0.8.5", rate_limit=1)
    robot = next(r for r in hub.records("robots") if r["name"] == "system")
    with httpx.Client(transport=hub.transport(), base_url=hub.url) as c:
        answer = c.post("auth/token", json={"grant_type": "robot_credentials", "id": robot["id"],
                                            "secret": robot["secret"]})
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        answers = [c.get("core/nodes", headers=headers) for _ in range(3)]
        assert {a.status_code for a in answers} == {200}
        assert "ratelimit-limit" not in answers[-1].headers  # legacy 041


@pytest.mark.parametrize("value", [0, -1, "x", "5/0", "5/-1", 1.5, True, RateLimit])
def test_bad_rate_limits_are_refused(value):
    with pytest.raises(ValueError):
        FakeHub(rate_limit=value)
    hub = FakeHub()
    with pytest.raises(ValueError):
        hub.rate_limit = value
    assert hub.rate_limit is None


def test_rate_limit_parsing():
    assert RateLimit.parse("100") == RateLimit(100, 60.0)
    assert RateLimit.parse("100/1") == RateLimit(100, 1.0)
    assert RateLimit.parse(" 20 / 0.5s ") == RateLimit(20, 0.5)
    with pytest.raises(ValueError, match="LIMIT/SECONDS"):
        RateLimit.parse("100 per second")
    with pytest.raises(ValueError, match="anonymous"):
        RateLimit(10, anonymous=0)


# ============================================================================ the pacer (pure)
def answer(remaining: int | None, reset: float | None = None, limit: int | None = 10, status: int = 200,
           ) -> httpx.Response:
    headers = {}
    if limit is not None:
        headers["ratelimit-limit"] = str(limit)
    if remaining is not None:
        headers["ratelimit-remaining"] = str(remaining)
    if reset is not None:
        headers["ratelimit-reset"] = str(reset)
    return httpx.Response(status, headers=headers)


def test_header_values():
    assert rate_limit_values(httpx.Headers({"RateLimit-Remaining": "5", "ratelimit-reset": "2",
                                            "ratelimit-limit": "10"})) == (10, 5, 2.0)
    assert rate_limit_values(httpx.Headers({"ratelimit-remaining": "5", "ratelimit-limit": "x"})) == (None, 5, None)
    assert rate_limit_values(httpx.Headers({"ratelimit-remaining": "-3", "ratelimit-reset": "-1"})) == (None, 0, 0.0)
    assert rate_limit_values(httpx.Headers({"ratelimit-remaining": "nope"})) is None
    assert rate_limit_values(httpx.Headers({"content-type": "application/json"})) is None
    epoch = rate_limit_values(httpx.Headers({"ratelimit-remaining": "1", "ratelimit-reset": str(time.time() + 30)}))
    assert epoch is not None and 28 < epoch[2] <= 30  # an epoch timestamp becomes seconds


def test_pacer_without_headers_never_waits():
    pacer = RatePacer()
    for i in range(1000):
        ticket, wait = pacer.acquire(float(i))
        assert wait == 0.0
        pacer.settle(ticket, answer(None, limit=None) if i % 2 else None, float(i), float(i))
    assert (pacer.limit, pacer.remaining, pacer.in_flight, pacer.waits) == (None, None, 0, 0)


def test_pacer_waits_for_the_window_when_the_budget_is_spent():
    pacer = RatePacer()
    for i, left in enumerate([4, 3, 2, 1, 0]):  # limit 5, the window ends within 10 s of t=0
        ticket, wait = pacer.acquire(float(i) / 10)
        assert (ticket, wait) == (0, 0.0)
        pacer.settle(ticket, answer(left, reset=10, limit=5), float(i) / 10, float(i) / 10)
    assert (pacer.limit, pacer.remaining, pacer.in_flight) == (5, 0, 0)
    assert pacer.acquire(1.0) == (-1, pytest.approx(9.0))  # until the earliest now + reset
    assert pacer.waits == 1 and pacer.waited == pytest.approx(9.0)
    ticket, wait = pacer.acquire(10.0)  # the window is over: a fresh budget of 5
    assert (ticket, wait) == (1, 0.0) and pacer.remaining == 5


def test_pacer_counts_requests_in_flight():
    pacer = RatePacer()
    first, _ = pacer.acquire(0.0)
    pacer.settle(first, answer(3, reset=5, limit=4), 0.0, 0.0)
    tickets = [pacer.acquire(0.1) for _ in range(3)]
    assert [w for _, w in tickets] == [0.0] * 3 and pacer.in_flight == 3
    assert pacer.acquire(0.1) == (-1, pytest.approx(4.9))  # 3 left, 3 in flight
    for (ticket, _), left in zip(tickets, [1, 2, 0]):  # answers out of order: the lowest counts
        pacer.settle(ticket, answer(left, reset=5, limit=4), 0.2, 0.1)
    assert (pacer.remaining, pacer.in_flight) == (0, 0)


def test_pacer_polls_while_the_whole_budget_is_in_flight():
    pacer = RatePacer()
    ticket, _ = pacer.acquire(0.0)
    pacer.settle(ticket, answer(2, reset=30, limit=3), 0.0, 0.0)
    pacer.acquire(100.0)  # the window is over: fresh budget 3, nothing known about the new one
    pacer.acquire(100.0)
    pacer.acquire(100.0)
    assert pacer.in_flight == 3
    assert pacer.acquire(100.0) == (-1, 0.05)  # wait for an answer to tell when this window ends


def test_an_answer_from_a_later_window_ends_the_current_one():
    pacer = RatePacer()
    for i in range(10):  # limit 20, 10 spent; the window ends at about t=1
        ticket, _ = pacer.acquire(0.0)
        pacer.settle(ticket, answer(19 - i, reset=1, limit=20), 0.0, 0.0)
    assert pacer.remaining == 10
    ticket, _ = pacer.acquire(0.5)
    pacer.settle(ticket, answer(19, reset=60, limit=20), 0.6, 0.5)  # a fresh 60 s window
    # the next window's budget: the limit less every answer that may count in it (the 10
    # received after the old window could have ended) -- never more than the truth (19)
    assert pacer.remaining == 10 and pacer.acquire(0.6)[1] == 0.0


def test_a_window_that_rolled_over_unnoticed_is_not_taken_for_a_fresh_one():
    """1-second windows with whole-second resets: 3 requests count in one window and 20 in the
    next, all answering ``reset: 1``. Waiting only until the first window surely ended and then
    assuming a full budget would run into the second window's limit."""
    pacer = RatePacer()
    now = 0.0
    hits = [1, 2, 3] + list(range(1, 21))  # the server's count per request, the window rolls over
    for hit in hits:
        ticket, wait = pacer.acquire(now)
        assert wait == 0.0
        pacer.settle(ticket, answer(20 - hit, reset=1, limit=20), now + 0.01, now)
        now += 0.02
    assert pacer.remaining == 0
    ticket, wait = pacer.acquire(now)
    assert ticket == -1
    now += wait  # the first window has surely ended ...
    ticket, wait = pacer.acquire(now)
    assert ticket == -1 and wait > 0.3  # ... but every answer since may count in the current one
    now += wait
    assert pacer.acquire(now) == (pacer._epoch, 0.0)


def test_answers_to_requests_of_an_earlier_window_are_counted_conservatively():
    pacer = RatePacer()
    ticket, _ = pacer.acquire(0.0)
    pacer.settle(ticket, answer(9, reset=2, limit=10), 0.0, 0.0)
    late, _ = pacer.acquire(1.9)  # sent just before the window ends, answered just after
    pacer.settle(late, answer(8, reset=1, limit=10), 2.1, 1.9)
    # a fresh window of 10, but this one may have counted in it (or in the old one: its
    # answer cannot tell which, so its remaining is not taken)
    assert pacer.remaining == 9


def test_pacer_reserve_and_max_wait():
    pacer = RatePacer(margin=2, max_wait=5.0)
    ticket, _ = pacer.acquire(0.0)
    pacer.settle(ticket, answer(3, reset=30, limit=6000), 0.0, 0.0)
    assert pacer.acquire(0.0)[1] == 0.0  # 3 left, reserve 2
    assert pacer.acquire(0.0) == (0, 0.0)  # the window ends beyond max_wait: the Hub decides
    small = RatePacer(margin=2)
    ticket, _ = small.acquire(0.0)
    small.settle(ticket, answer(1, reset=30, limit=20), 0.0, 0.0)  # reserve: min(2, 20 // 50) = 0
    assert small.acquire(0.0)[1] == 0.0 and small.acquire(0.0)[0] == -1
    with pytest.raises(ValueError):
        RatePacer(margin=-1)
    with pytest.raises(ValueError):
        RatePacer(max_wait=-1)


def test_core_flow_paces_and_settles():
    clock = [0.0]
    core = CallFlow(0, None, lambda: 0.0, clock=lambda: clock[0])
    pacer = RatePacer()
    request = httpx.Request("GET", "http://h/x")

    def call() -> tuple:
        return core.flow("GET", (200,), 0, lambda: SendStep(request, None, False), pacer)

    flow = call()
    assert isinstance(next(flow), SendStep) and pacer.in_flight == 1
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200, headers={"ratelimit-limit": "1", "ratelimit-remaining": "0",
                                               "ratelimit-reset": "3"}, request=request))
    assert pacer.in_flight == 0
    flow = call()
    assert next(flow) == SleepStep(3.0)  # spent: wait for the window
    clock[0] = 3.0
    assert isinstance(flow.send(None), SendStep) and pacer.in_flight == 1
    flow.close()  # given up mid-send (cancelled): no longer in flight
    assert pacer.in_flight == 0


def test_sessions_share_the_pacer_with_their_copies_and_can_turn_it_off():
    s = HubSession("http://hub.test/core/")
    assert s.pace is True and isinstance(s.pacer, RatePacer)
    clone = s.with_options(max_retries=0)
    assert clone.pacer is s.pacer
    s.pace = False
    assert s.pace is False and clone.pace is True
    with pytest.raises(ValueError):
        s.pace = "no"
    with pytest.raises(ValueError):
        HubSession("http://hub.test/core/", pace=1)
    s.close()


# ============================================================================ pacing end to end
LIMIT, WINDOW = 10, 1.0


def limited_hub(records: int) -> FakeHub:
    hub = FakeHub()
    hub.seed("nodes", records)
    return hub


def core_client(hub: FakeHub, cls=flame_hub.CoreClient, **kwargs):
    transport = hub.transport()
    auth = flame_hub.auth.PasswordAuth("admin", "start123", hub.auth_url, client=httpx.Client(transport=transport),
                                       async_client=httpx.AsyncClient(transport=transport))
    return cls(hub.core_url, auth, transport=transport, **kwargs)


def statuses_of(client) -> list[int]:
    seen: list[int] = []
    hooks = client.session.client.event_hooks
    if isinstance(client.session.client, httpx.AsyncClient):
        async def hook(response: httpx.Response) -> None:
            seen.append(response.status_code)
    else:
        def hook(response: httpx.Response) -> None:
            seen.append(response.status_code)
    hooks["response"] = [hook]
    return seen


def core_requests(hub: FakeHub) -> int:
    return sum(1 for r in hub.requests if r.path.startswith("/core/"))


def least_time(requests: int) -> float:
    """What the limit allows when the first window starts with the first request."""
    return (math.ceil(requests / LIMIT) - 1) * WINDOW


def test_sync_listing_under_a_limit_has_no_429():
    hub = limited_hub(600)  # 12 pages + the version check: 13 requests on core's counter
    core = core_client(hub)
    seen = statuses_of(core)
    hub.rate_limit = RateLimit(LIMIT, window=WINDOW)  # the first window starts with the first request
    started = time.monotonic()
    assert sum(1 for _ in core.nodes) == 600
    elapsed = time.monotonic() - started
    assert 429 not in seen and set(seen) == {200}
    assert core_requests(hub) == len(seen) == 13  # nothing was retried
    assert elapsed >= least_time(13) - 0.05
    assert core.session.pacer.waits >= 1
    core.close()


@pytest.mark.anyio
@pytest.mark.parametrize("concurrency", [4, 8])
async def test_async_concurrent_listing_under_a_limit_has_no_429(concurrency):
    hub = limited_hub(600)
    core = core_client(hub, flame_hub.AsyncCoreClient, page_concurrency=concurrency)
    seen = statuses_of(core)
    hub.rate_limit = RateLimit(LIMIT, window=WINDOW)
    started = time.monotonic()
    records = [node async for node in core.nodes]
    elapsed = time.monotonic() - started
    assert len(records) == 600 and len({r.id for r in records}) == 600
    assert 429 not in seen and core_requests(hub) == len(seen) == 13
    assert elapsed >= least_time(13) - 0.05
    await core.aclose()


def test_threads_sharing_a_client_share_its_budget():
    hub = limited_hub(100)
    core = core_client(hub)
    seen = statuses_of(core)
    core.get_nodes()  # the version check and a first page
    hub.rate_limit = RateLimit(LIMIT, window=WINDOW)
    started = time.monotonic()
    threads = [threading.Thread(target=lambda: [core.get_node(n.id) for n in core.get_nodes()[:3]])
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert 429 not in seen and len(seen) == 2 + 16  # 4 threads x (1 list + 3 gets)
    assert elapsed >= least_time(16) - 0.05
    core.close()


def test_without_pacing_the_limit_is_hit():
    hub = limited_hub(600)
    core = core_client(hub, max_retries=0)
    core.session.pace = False
    hub.rate_limit = RateLimit(LIMIT, window=WINDOW)
    with pytest.raises(RateLimited) as info:
        sum(1 for _ in core.nodes)
    assert info.value.status_code == 429 and core_requests(hub) == LIMIT + 1
    core.close()


def test_a_429_without_retry_after_waits_for_ratelimit_reset():
    """(The async shell runs the same flow; its sleeps are checked in test_http.py.)"""
    hub = FakeHub()
    hub.fail_next("GET", "/core/nodes", status=429, body="slow down",
                  headers={"ratelimit-limit": "10", "ratelimit-remaining": "0", "ratelimit-reset": "1"})
    with httpx.Client(transport=hub.transport(), base_url=hub.url) as c:
        bearer = token(c)["Authorization"].split()[1]
    started = time.monotonic()
    with flame_hub.CoreClient(hub.core_url, bearer, transport=hub.transport(), hub_version="0.14.0") as core:
        nodes = core.get_nodes()
    elapsed = time.monotonic() - started
    assert nodes == [] and [r.path for r in hub.requests][-2:] == ["/core/nodes"] * 2
    assert elapsed >= 0.95  # the 1 s ratelimit-reset, since there is no Retry-After


@pytest.mark.anyio
async def test_pacing_waits_are_cancellable():
    hub = limited_hub(0)
    core = core_client(hub, flame_hub.AsyncCoreClient)
    await core.get_nodes()
    hub.rate_limit = RateLimit(1, window=60)
    await core.get_nodes()  # the budget of this window is spent
    with anyio.move_on_after(0.2) as scope:
        await core.get_nodes()  # waits for a window that ends in a minute
    assert scope.cancelled_caught and core.session.pacer.in_flight == 0
    await core.aclose()


def test_clients_take_pace_and_hand_it_to_their_session():
    import flame_hub as _fh

    for cls in (_fh.CoreClient, _fh.AsyncStorageClient, _fh.AuthClient):
        assert cls(base_url="http://hub.test/x/").session.pace is True
        assert cls(base_url="http://hub.test/x/", pace=False).session.pace is False
