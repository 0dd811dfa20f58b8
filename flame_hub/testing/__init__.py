"""``flame_hub.testing``: a faithful, stateful fake FLAME Hub for tests — auth, core and storage.

It answers like a real Hub v0.14.0 with authup 1.0.0-beta.62 (same routes, status codes,
envelopes, error bodies, query semantics; checked against recorded real exchanges), or — with
``FakeHub(version="0.8.5")`` — like the old Hub 0.8.5 with authup 1.0.0-beta.24 that the original
README targets (snake_case, bare records, the v1 filter grammar, robots and the
``robot_credentials`` grant, its error bodies; checked against that era's recordings)::

    from flame_hub.testing import FakeHub

    with FakeHub() as hub:                    # serves http://127.0.0.1:<free port>/{auth,core,storage}/
        client = httpx.Client(base_url=hub.core_url)
        ...

    hub = FakeHub()                           # no server needed for the in-process transport:
    httpx.Client(transport=hub.transport(), base_url=hub.core_url)

Fresh state is a new Hub's: realm ``master``, user ``admin`` / ``start123`` (every permission),
client ``system`` / secret ``start123`` (0.8.5: no clients, the robots ``system`` and
``registry``), a few master-image groups and images.

Faults and observation: ``hub.latency`` (seconds added to every request), ``hub.fail_next(...)``
(error answers), ``hub.drop_next(...)`` (connection closed without a response),
``hub.expire_tokens()``, ``hub.requests`` / ``hub.clear_requests()``, ``hub.reset()``,
``hub.seed(resource, n, **fields)`` for bulk data.

Rate limits: every answer carries the Hub's ``ratelimit-limit``/``-remaining``/``-reset`` headers,
counted like the Hub counts (per client address and service, fixed windows; see
:mod:`flame_hub.testing._ratelimit`). By default nothing is refused; ``FakeHub(rate_limit=...)``
or ``hub.rate_limit = ...`` (``RateLimit(100, window=1.0)``, ``"100/1"``, or an int per 60 s)
enforces a limit: beyond it the Hub's 429 with ``Retry-After``.

State progression: what a full deployment's worker, message broker and nodes do after a
request (builds, distributions, node approvals and runs, master-image builds and syncs, buckets
and analysis-bucket-files from storage events) is queued and moved on deterministically:
``hub.progress()`` (one step; ``complete=True``: to the end), ``hub.fail(record)``,
``hub.pending()``, or automatically with ``FakeHub(progression=seconds)`` /
``hub.auto_progress(seconds)`` (see :mod:`flame_hub.testing._progress`).

Not modelled: permissions beyond "a valid token may do everything" (any valid token acts as an
admin), the log store of analysis logs beyond what is posted to it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

import httpx

from .._naming import to_snake
from ..resources import CURRENT_ERA, get_resource
from ._core import Fault, HubCore
from ._ratelimit import RateLimit, RateLimitArg, RateLimiter
from ._shells import FakeHubTransport, ServerThread, make_wsgi_app
from ._wire import FakeRequest

__all__ = ["FakeHub", "FakeHubTransport", "RateLimit", "RecordedRequest"]


@dataclass(frozen=True)
class RecordedRequest:
    """A request the fake Hub received (``hub.requests``)."""

    method: str
    #: path with the service prefix, e.g. ``"/core/nodes"``
    path: str
    #: decoded query pairs in order, e.g. ``[("filter[name]", "x"), ("page[limit]", "50")]``
    params: list[tuple[str, str]]
    headers: httpx.Headers
    body: bytes = b""
    json: Any = field(default=None, compare=False)

    @classmethod
    def from_request(cls, req: FakeRequest) -> RecordedRequest:
        return cls(req.method, req.path, list(req.params), httpx.Headers(req.headers), req.body,
                   req.json())

    @property
    def query(self) -> dict[str, str]:
        """The params as a dict (the last value of a repeated key wins)."""
        return dict(self.params)


class FakeHub:
    """A fake FLAME Hub (auth, core, storage) with its own in-memory state.

    ``with FakeHub() as hub:`` starts a real HTTP server on 127.0.0.1 (``port=0`` picks a free
    port) and stops it on exit; :meth:`transport` reaches the same state in-process and works
    without starting the server. ``token_ttl`` is the access-token lifetime in seconds (default:
    the era's, 900 on 0.14 and 3600 on 0.8.5); ``version`` the Hub version to imitate: "0.14.0"
    (default) or "0.8.5" (any version maps to the era of its wire dialect; the recorded eras are
    these two). ``rate_limit`` enforces a request limit (see :attr:`rate_limit`; default: none).
    ``progression`` steps the asynchronous work every so many seconds (see :meth:`auto_progress`;
    default: only when :meth:`progress` is called). ``skip_analysis_approval=False`` makes
    analysis nodes wait for approval (the recorded Hubs skip it: nodes are approved when attached).

    Permissions are not modelled: any valid token may do everything.
    """

    def __init__(self, port: int = 0, token_ttl: float | None = None, version: str = CURRENT_ERA, *,
                 host: str = "127.0.0.1", quiet: bool = True, rate_limit: RateLimitArg = None,
                 progression: float | None = None, skip_analysis_approval: bool = True) -> None:
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an int in 0..65535, not {port!r}")
        if token_ttl is not None and (not isinstance(token_ttl, (int, float)) or isinstance(token_ttl, bool)
                                      or token_ttl <= 0):
            raise ValueError(f"token_ttl must be a positive number of seconds, not {token_ttl!r}")
        self._core = HubCore(version=version, token_ttl=token_ttl, rate_limit=RateLimit.coerce(rate_limit))
        self._core.behaviour.skip_analysis_approval = bool(skip_analysis_approval)
        if progression is not None:
            self.auto_progress(progression)
        self._host = host
        self._port = port
        self._quiet = quiet
        self._server: ServerThread | None = None
        self._latency = 0.0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeHub:
        """Start the HTTP server (idempotent). Returns the hub."""
        if self._server is None:
            app = make_wsgi_app(self._core, lambda: self._latency)
            self._server = ServerThread(app, self._host, self._port, quiet=self._quiet)
            self._server.start()
        return self

    def stop(self) -> None:
        """Stop the HTTP server (the state stays; :meth:`transport` keeps working)."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def serve_forever(self, ready: Callable[[FakeHub], None] | None = None) -> None:
        """Serve in the foreground until interrupted (``python -m flame_hub.testing serve``);
        ``ready(hub)`` is called once the port is bound."""
        app = make_wsgi_app(self._core, lambda: self._latency)
        self._server = ServerThread(app, self._host, self._port, quiet=self._quiet)
        try:
            if ready is not None:
                ready(self)
            self._server.serve_forever()
        finally:
            self._server.server.server_close()
            self._server = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    # ------------------------------------------------------------------ addresses
    @property
    def port(self) -> int:
        """The bound port once started; before that, the port asked for (0 = any)."""
        return self._server.port if self._server is not None else self._port

    @property
    def url(self) -> str:
        """Gateway base URL, ``"http://127.0.0.1:PORT/"``. Before :meth:`start` it is only
        meaningful for :meth:`transport` (which ignores host and port)."""
        return f"http://{self._host}:{self.port}/"

    @property
    def auth_url(self) -> str:
        return self.url + "auth/"

    @property
    def core_url(self) -> str:
        return self.url + "core/"

    @property
    def storage_url(self) -> str:
        return self.url + "storage/"

    @property
    def version(self) -> str:
        """The Hub version the fake imitates (what ``GET /core/`` reports)."""
        return self._core.version

    @property
    def dialect(self) -> Any:
        """The wire dialect of the imitated Hub (:mod:`flame_hub.dialects`)."""
        return self._core.dialect

    def transport(self, address: str = "127.0.0.1") -> FakeHubTransport:
        """An httpx transport (sync and async) answering from this hub's state, no socket;
        its requests come from the client ``address`` (rate limits count per address)."""
        if not isinstance(address, str) or not address:
            raise ValueError(f"address must be a non-empty string, not {address!r}")
        return FakeHubTransport(self._core, lambda: self._latency, address)

    # ------------------------------------------------------------------ rate limit
    @property
    def rate_limit(self) -> RateLimit | None:
        """The enforced limit, or None (the default: headers only, nothing refused).

        Set it at any time (thread-safe) to a :class:`RateLimit`, an int (requests per 60 s) or
        ``"LIMIT/SECONDS"``; ``None`` lifts it. Setting it restarts the counting: every counter
        starts at zero in a window that begins now (as when the Hub restarts with a new
        configuration). A limit counts per client address and service; beyond it the request is
        answered 429 (body ``Too many requests, please try again later.``, ``Retry-After``: the
        window length) without reaching its route.
        """
        return self._core.limiter.config

    @rate_limit.setter
    def rate_limit(self, value: RateLimitArg) -> None:
        config = RateLimit.coerce(value)
        with self._core.lock:
            self._core.limiter = RateLimiter(config)

    # ------------------------------------------------------------------ faults
    @property
    def latency(self) -> float:
        """Seconds added to every request (both the server and the transport)."""
        return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"latency must be a non-negative number of seconds, not {seconds!r}")
        self._latency = float(seconds)

    def fail_next(self, method: str, path: str, status: int = 503, times: int = 1,
                  headers: dict[str, str] | None = None, body: Any = None) -> None:
        """Answer the next ``times`` requests to ``path`` (with the service prefix, e.g.
        ``"/core/nodes"``; matches that path and below) with ``status``.

        ``body`` may be a dict/list (sent as JSON), str or bytes; by default the service's error
        body for the status. ``headers`` are added (e.g. ``{"Retry-After": "1"}``).
        ``method="*"`` matches every method.
        """
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise ValueError(f"status must be an HTTP status code, not {status!r}")
        self._add_fault(Fault(self._method(method), self._path(path), self._times(times),
                              status=status, headers=dict(headers or {}), body=body))

    def drop_next(self, method: str, path: str, times: int = 1) -> None:
        """Close the connection of the next ``times`` matching requests without any response
        (httpx raises ``RemoteProtocolError``, as for a real dropped connection)."""
        self._add_fault(Fault(self._method(method), self._path(path), self._times(times), drop=True))

    def _add_fault(self, fault: Fault) -> None:
        with self._core.lock:
            self._core.faults.append(fault)

    @staticmethod
    def _method(method: str) -> str:
        if not isinstance(method, str) or not method:
            raise ValueError(f"method must be an HTTP method such as 'GET', not {method!r}")
        return method.upper()

    @staticmethod
    def _path(path: str) -> str:
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"path must start with '/' and carry the service prefix "
                             f"(e.g. '/core/nodes'), not {path!r}")
        return path

    @staticmethod
    def _times(times: int) -> int:
        if not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be a positive int, not {times!r}")
        return times

    def expire_tokens(self) -> None:
        """Every access token issued so far is expired from now on (refresh tokens keep
        working): core and storage answer it with the Hub's 500 "The JWT has expired."
        (additions 294, 295), authup treats it as no token (296)."""
        with self._core.lock:
            self._core.tokens.expire_access_tokens()

    # ------------------------------------------------------------------ state progression
    @property
    def _progression(self) -> Any:
        return self._core.behaviour.progression

    def pending(self, record: Any = None) -> list[str]:
        """The asynchronous work not yet done (of one record or analysis), described, e.g.
        ``["build of analyses 5f3c… (1/3 steps)"]``."""
        ident = _ident(record)
        with self._core.lock:
            return [job.describe() for job in self._progression.pending(ident)]

    def progress(self, record: Any = None, *, complete: bool = False) -> list[str]:
        """Move the pending work on as a full deployment would: one step of every job (of
        ``record`` — an id, a model or a dict —, an analysis covering its nodes' and buckets'
        jobs), or every step to the end with ``complete=True`` (follow-up work included: a
        finished distribution makes the nodes run the analysis). Returns what moved.

        Steps: analysis build ``starting`` -> ``started`` (progress 0) -> progress 50 ->
        ``executed`` (0.8.5: ``finished``) with hash, os and size; distribution ``starting`` ->
        ``started`` -> ``executed``, then each analysis node's ``executionStatus`` ``starting``
        -> ``started`` -> ``executing`` -> ``executed`` (the analysis's follows its least advanced
        node); node approval -> ``approved``; master-image build ``starting`` -> ``started`` ->
        ``executed``; master-image sync: the missing images reappear.
        """
        ident = _ident(record)
        with self._core.lock:
            return self._progression.step(ident, complete=complete)

    def fail(self, record: Any, kind: str | None = None) -> list[str]:
        """End the pending work of ``record`` (only jobs of ``kind``: "build", "distribution",
        "execution", "approval", "master-image build", ...) the bad way: ``buildStatus``/
        ``distributionStatus``/``executionStatus`` ``failed``, approval ``rejected``. Raises
        ``ValueError`` when nothing of the kind is pending."""
        ident = _ident(record)
        if ident is None:
            raise ValueError("fail() needs the record (or its id) whose work should fail")
        with self._core.lock:
            failed = self._progression.fail(ident, kind)
        if not failed:
            raise ValueError(f"nothing{' of kind ' + repr(kind) if kind else ''} is pending for {ident}")
        return failed

    def auto_progress(self, delay: float | None) -> None:
        """Apply a :meth:`progress` step every ``delay`` seconds in a background thread, as a
        running deployment would (broker deliveries, immediate otherwise, then also wait for
        the next step); ``None`` stops it."""
        if delay is not None and (not isinstance(delay, (int, float)) or isinstance(delay, bool)
                                  or delay <= 0):
            raise ValueError(f"delay must be a positive number of seconds or None, not {delay!r}")
        self._progression.start(None if delay is None else float(delay))

    @property
    def progression(self) -> float | None:
        """The automatic progression's delay in seconds, or None (manual)."""
        return self._progression.delay

    # ------------------------------------------------------------------ observation and state
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since the start or the last :meth:`clear_requests` (the most
        recent 50,000)."""
        with self._core.lock:
            return list(self._core.requests)

    def clear_requests(self) -> None:
        with self._core.lock:
            self._core.requests.clear()

    def reset(self) -> None:
        """Back to a new Hub's state; also drops queued faults, recorded requests, tokens, the
        latency, the pending asynchronous work and its automatic progression, and restarts the
        rate-limit counting (the limit itself stays)."""
        self.auto_progress(None)
        self._core.reset()
        self._latency = 0.0

    def seed(self, resource: str, n: int, **fields: Any) -> list[dict]:
        """Insert ``n`` records of ``resource`` fast, without validation or side effects
        (a seeded node gets no authup client). Field names may be snake_case or camelCase; a
        string value may contain ``{i}`` (the record's index); a callable gets the index.
        Names default to ``"<singular>-<i>"``. Returns the stored records (wire keys)."""
        res = get_resource(resource)
        if not res.available(self._core.era):
            raise ValueError(f"{res.name} does not exist on Hub {self._core.version}")
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a non-negative int, not {n!r}")
        spec = self._core.spec(res)
        keys = {self._core.w(to_snake(k)): v for k, v in fields.items()}
        unknown = [k for k in keys if k not in spec.record_keys]
        if unknown:
            raise ValueError(f"{res.name} records have no key(s) {', '.join(unknown)}; "
                             f"known: {', '.join(spec.record_keys)}")
        name_key = self._core.w(to_snake(res.name_key)) if res.name_key else None
        with self._core.lock:
            actor = self._core.behaviour.admin_actor()
            out = []
            for i in range(n):
                values = {k: (v(i) if callable(v) else v.format(i=i) if isinstance(v, str) else v)
                          for k, v in keys.items()}
                if name_key and name_key not in values:
                    values[name_key] = f"{res.singular.replace('_', '-')}-{i}"
                record = self._core.new_record(res, values, actor)
                out.append(self._core.store.insert(res.name, record))
            return out

    def records(self, resource: str) -> list[dict]:
        """The stored records of a resource (complete, wire keys; copies)."""
        res = get_resource(resource)
        with self._core.lock:
            return [json.loads(json.dumps(r)) for r in self._core.store.all(res.name)]

    def __repr__(self) -> str:
        state = f"serving {self.url}" if self.running else "not serving"
        return f"<FakeHub {self._core.version} {state}>"


def _ident(record: Any) -> str | None:
    """The id of a record given as an id, a model (``.id``) or a dict."""
    if record is None:
        return None
    ident = record.get("id") if isinstance(record, dict) else getattr(record, "id", record)
    if ident is None or not isinstance(ident, (str, uuid.UUID)):
        raise ValueError(f"a record, a dict with an 'id' or an id is needed, not {record!r}")
    return str(ident)
