"""The fake Hub's pure core: ``HubCore.handle(request) -> response`` over per-instance state.

No sockets here: the httpx transport and the werkzeug server are thin shells around
:meth:`HubCore.handle`. Routes are generated from the resource registry (every available
resource's operations and special routes of the served era); the resource-specific behaviour
(side effects such as "creating a node creates an authup client") lives in :mod:`._behaviour`.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

from .._naming import to_snake
from ..dialects import Dialect, dialect_for_authup_version, dialect_for_version
from ..resources import ERA_INFO, CURRENT_ERA, REGISTRY, EraSpec, Resource, get_resource, resources_of
from ._eras import ERAS, FakeEra
from ._ratelimit import RateLimit, RateLimiter
from ._store import Store
from ._tokens import Actor, TokenTable
from ._wire import FakeError, FakeRequest, FakeResponse, error_body, generic_error

SERVICES = ("auth", "core", "storage")
RECORDED_REQUESTS = 50_000


@dataclass
class Fault:
    """A queued fault: ``drop`` closes the connection, else an error answer of ``status``."""

    method: str
    path: str
    times: int
    drop: bool = False
    status: int = 503
    headers: dict | None = None
    body: Any = None

    def matches(self, method: str, path: str) -> bool:
        if self.method != "*" and self.method != method:
            return False
        base = self.path.rstrip("/")
        return path == self.path or path.rstrip("/") == base or path.startswith(base + "/")


@dataclass
class Ctx:
    """What a route handler gets."""

    req: FakeRequest
    service: str
    args: dict[str, str]
    resource: Resource | None = None
    actor: Actor | None = None

    @property
    def body(self) -> Any:
        return self.req.json()

    @property
    def res(self) -> Resource:
        """The route's resource (every resource route has one)."""
        assert self.resource is not None, "not a resource route"
        return self.resource


@dataclass
class Route:
    service: str
    method: str
    pattern: re.Pattern
    handler: Callable[[Ctx], FakeResponse]
    resource: Resource | None = None
    public: bool = False  # answers without a token


def _template_regex(template: str) -> re.Pattern:
    path = template.split("?", 1)[0]
    out = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
    return re.compile(f"^{out}/?$")


class HubCore:
    """State and request handling of one fake Hub (auth + core + storage)."""

    def __init__(self, *, version: str = CURRENT_ERA, token_ttl: float | None = None,
                 rate_limit: RateLimit | None = None) -> None:
        from ._behaviour import Behaviour  # noqa: PLC0415 (cycle: behaviour uses the core)

        self.version = version
        #: the Hub's (core, storage) wire dialect, and authup's (the era's authup version)
        self.dialect = dialect_for_version(version)
        self.era = self.dialect.catalog_era
        self.authup_version = ERA_INFO[self.era].get("authup", "")
        self.auth_dialect = dialect_for_authup_version(self.authup_version) \
            if self.authup_version else self.dialect
        self.fake_era: FakeEra = ERAS[self.era]
        self.grammar = self.dialect.like_grammar
        # a 404 for a route that does not exist (022; legacy 016, 097: an empty body)
        self.route_missing = ERA_INFO[self.era].get("route_missing_404_body") or None
        self.token_ttl = token_ttl if token_ttl is not None else self.fake_era.access_ttl
        self.lock = threading.RLock()
        # the most recent requests (a long-running ``serve`` must not grow without bound)
        self.requests: deque = deque(maxlen=RECORDED_REQUESTS)
        self.faults: list[Fault] = []
        #: counts requests per address and service; refuses beyond ``rate_limit`` (None: never)
        self.limiter = RateLimiter(rate_limit)
        self.behaviour = Behaviour(self)
        self.routes = self._build_routes()
        self.reset()

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Back to the fresh state of a new Hub (faults and recorded requests are cleared too)."""
        with self.lock:
            self.store = Store()
            self.tokens = TokenTable(access_ttl=self.token_ttl)
            self.requests.clear()
            self.faults.clear()
            self.limiter = RateLimiter(self.limiter.config)
            self._last_ms = 0
            self.behaviour.seed()

    def w(self, attr: str) -> str:
        """Wire spelling of a snake_case name on the served era."""
        return self.dialect.wire_key(attr)

    def dialect_of(self, service: str | None) -> Dialect:
        """The wire dialect a service answers in (authup has its own versions)."""
        return self.auth_dialect if service == "auth" else self.dialect

    def spec(self, resource: Resource | str) -> EraSpec:
        res = get_resource(resource) if isinstance(resource, str) else resource
        return res.era(self.era)

    def now(self) -> str:
        """An ISO timestamp with milliseconds like the Hub's; strictly increasing per hub."""
        ms = max(int(time.time() * 1000), self._last_ms + 1)
        self._last_ms = ms
        return _iso(ms)

    # ------------------------------------------------------------------ records
    def new_record(self, resource: Resource, values: dict, actor: Actor | None) -> dict:
        """A complete record from accepted body values plus the server's defaults."""
        spec = self.spec(resource)
        now = self.now()
        record: dict = {}
        copies: list[tuple[str, str]] = []
        for key, fs in spec.record_keys.items():
            value = values.get(key)
            if value is not None or (key in values and not self._derived(key, fs)):
                record[key] = value
                continue
            attr = to_snake(key)
            if fs.has_default and isinstance(fs.default, dict) and "from" in fs.default:
                copies.append((key, fs.default["from"]))
                record[key] = None
            elif fs.has_default and isinstance(fs.default, dict) and "actor" in fs.default:
                record[key] = getattr(actor, fs.default["actor"], None)  # the token's subject
            elif fs.has_default:
                record[key] = fs.default
            elif attr == "id":
                record[key] = str(uuid.uuid4())
            elif attr in ("created_at", "updated_at"):
                record[key] = now
            elif attr == "realm_id" and actor is not None:
                record[key] = actor.realm_id
            elif attr == "user_id" and actor is not None and actor.kind == "user":
                record[key] = actor.id
            elif attr.endswith("_realm_id"):
                record[key] = self._parent_realm(resource, attr[: -len("_realm_id")], values)
            elif fs.type == "boolean":
                record[key] = False
            elif fs.type in ("integer", "number") and not fs.nullable:
                record[key] = 0
            else:
                record[key] = None
        for key, source in copies:
            record[key] = record.get(source)
        return record

    def _derived(self, key: str, fs) -> bool:
        """Keys whose explicit ``null`` still takes the server's value (realm, user, defaults)."""
        attr = to_snake(key)
        return fs.has_default or attr in ("id", "realm_id", "user_id", "created_at", "updated_at") \
            or attr.endswith("_realm_id")

    def _parent_realm(self, resource: Resource, prefix: str, values: dict) -> Any:
        parent = self.target_of(resource, prefix)
        fk = values.get(self.w(prefix + "_id"))
        record = self.store.get(parent.name, fk) if parent else None
        return record.get(self.w("realm_id")) if record else None

    def target_of(self, resource: Resource, relation: str) -> Resource | None:
        """The resource a relation or foreign-key prefix (``project``, ``registryProject``) names."""
        key = self.w(to_snake(relation))
        target = resource.relation_target(key, self.era) if key in self.spec(resource).relations else None
        if target is None:
            snake = to_snake(relation)
            target = next((r for r in REGISTRY.values() if r.singular == snake), None)
        return target if target is not None and target.available(self.era) else None

    def related(self, resource: Resource) -> Callable[[str, dict], Any]:
        """The ``related(relation_key, record)`` callback of the query engine for ``resource``."""

        def resolve(key: str, record: dict) -> Any:
            owner = resource
            value: Any = record
            for part in key.split("."):
                if not isinstance(value, dict):
                    return None
                target = self.target_of(owner, part)
                if target is None:
                    return None
                fk = value.get(self.w(to_snake(part) + "_id"))
                value = self.store.get(target.name, fk)
                owner = target
            return value

        return resolve

    def answer_record(self, resource: Resource, record: dict, *, embeds: str | None,
                      sent: dict | None = None) -> dict:
        """A record as a create/update/delete answers it (``embeds``: "create", "delete" or None
        for an update): write-only keys (``users.password`` ...) as null, the relations that answer
        embeds (061, 063, 091; a relation whose foreign key is null is left out: legacy 053 vs the
        catalog note), and hidden fields except in a delete answer (the deleted entity as loaded:
        legacy 043 has no robot secret). On 0.14 a create or update answer also embeds every
        relation whose foreign key the body (``sent``) set to an id (additions 228, 238, 240,
        245, 248, 251; not 249, which sets it to null)."""
        spec = self.spec(resource)
        out: dict = {}
        related = self.related(resource)
        relations = {"create": spec.create_answer_embeds, "delete": spec.delete_answer_embeds}
        chosen = list(relations.get(embeds or "", ()))
        if sent and self.fake_era.answer_embeds_sent_relations:
            chosen += [k for k in spec.relations if sent.get(self.w(to_snake(k) + "_id")) is not None]
        embed = [k for k in dict.fromkeys(chosen)
                 if k not in spec.record_keys
                 and record.get(self.w(to_snake(k) + "_id"), True) is not None]
        def embedded(rel: str) -> Any:  # an embedded record without its hidden columns (legacy 332)
            value = related(rel, record)
            target = self.target_of(resource, rel)
            hidden = self.spec(target).hidden_fields if target else ()
            return {k: v for k, v in value.items() if k not in hidden} if isinstance(value, dict) else value

        for key, value in record.items():
            if embeds == "delete" and key in spec.hidden_fields:
                continue
            out[key] = value
            for rel in embed:
                if key == self.w(to_snake(rel) + "_id"):
                    out[rel] = embedded(rel)
        for rel in embed:
            if rel not in out:
                out[rel] = embedded(rel)
        for key in spec.write_answer_only_keys:
            out.setdefault(key, None)
        return out

    def envelope(self, record: Any, meta: dict | None = None) -> Any:
        """``{data, meta}`` on Hub >= 0.13, the bare record on older Hubs."""
        if self.dialect.record_envelope:
            return {"data": record, "meta": meta if meta is not None else {}}
        return record

    def record_schema(self, spec: EraSpec) -> dict:
        """``meta.schema`` of a single-record read: the list schema's fields and relations."""
        schema = self.list_schema(spec)
        return {k: schema[k] for k in ("name", "strict", "indexes", "fields", "relations") if k in schema}

    def list_schema(self, spec: EraSpec) -> dict:
        """``meta.schema`` of a list: recorded verbatim where the catalog has it (list-schemas.json),
        otherwise described from the registry's allow-lists (log lists; no relations: null, 264)."""
        if spec.list_schema:
            return spec.list_schema
        return {
            "name": spec.schema_name, "strict": True, "indexes": None,
            "fields": {"default": list(spec.fields_default) if spec.fields_default else None,
                       "allowed": list(spec.fields_default) if spec.fields_default else None},
            "filters": {"allowed": list(spec.filters), "caseSensitive": None, "indexed": False},
            "pagination": {"maxLimit": spec.max_limit},
            "relations": {"allowed": list(spec.relations) or None, "schemas": dict(spec.relations) or None},
            "sorts": {"allowed": list(spec.sorts), "default": spec.default_sort, "indexed": False},
        }

    def find_record(self, resource: Resource, key: str, *, by_name: bool) -> dict | None:
        record = self.store.get(resource.name, key)
        if record is None and by_name and resource.name_key:
            record = self.store.find(resource.name, self.w(to_snake(resource.name_key)), key)
        return record

    def singular(self, resource: Resource) -> str:
        """The word of "The bucket-file was not found." (095)."""
        return resource.singular.replace("_", "-")

    # ------------------------------------------------------------------ routes
    def _build_routes(self) -> list[Route]:
        b = self.behaviour
        routes: list[Route] = []
        for service in SERVICES:
            routes.append(Route(service, "GET", re.compile("^/?$"), b.root, public=True))
        routes.append(Route("auth", "POST", _template_regex("/token"), b.token, public=True))
        routes.append(Route("auth", "POST", _template_regex("/token/introspect"), b.introspect,
                            public=True))
        generic: list[Route] = []
        for service in SERVICES:
            for res in resources_of(service, self.era):  # type: ignore[arg-type]
                spec = self.spec(res)
                for sr in spec.special_routes.values():
                    handler = b.special_handler(res, sr.name)
                    if handler is not None:
                        routes.append(Route(service, sr.method, _template_regex(sr.path), handler, res))
                ops = {"list": b.list, "create": b.create, "get": b.get, "update": b.update,
                       "delete": b.delete}
                for name, handler in ops.items():
                    op = spec.operations.get(name)
                    if op is None or not op.supported or not op.path:
                        continue
                    generic.append(Route(service, op.method or "GET", _template_regex(op.path),
                                         handler, res, public=op.public))
        return routes + generic

    # ------------------------------------------------------------------ handling
    def handle(self, req: FakeRequest) -> FakeResponse:
        """Answer one request (thread-safe). Latency is the shells' job, not the core's."""
        with self.lock:
            self._record(req)
            fault = next((f for f in self.faults if f.matches(req.method, req.path)), None)
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                if fault.drop:
                    return FakeResponse(0, drop=True)
                return self._fault_response(req, fault)
            service, rest = _split_service(req.path)
            if service is None:
                return self._route_missing()
            # who asks first (a bad token fails before the limiter on legacy core: 048, 049), then
            # the limiter (before any route: a refused create has no effect), then the route
            actor: Actor | None = None
            refused: FakeError | None = None
            route, args = self._match(service, req.method, rest)
            try:
                if route is None:
                    actor = self._identify(req)  # the rate-limit class follows the token (legacy 097)
                else:
                    actor = self._authenticate(req, service, required=False)
            except FakeError as err:
                refused = err
            rate_headers: list[tuple[str, str]] = []
            if (refused is None or refused.rate_limited) and not (actor is not None and actor.kind == "robot"):
                # robot tokens are not rate limited (legacy 041)
                rate_headers, over = self.limiter.hit(service, req.client, actor.kind if actor else None)
                if over:
                    body, headers = self.limiter.refusal_body()
                    return FakeResponse(429, body, [*headers, *rate_headers])
            try:
                if refused is not None:
                    raise refused
                if route is None:
                    resp = self._route_missing()
                else:
                    if actor is None and not route.public:
                        raise self._unauthorized(service)
                    resp = route.handler(Ctx(req, service, args, route.resource, actor))
            except FakeError as err:
                resp = FakeResponse.json(err.status, self.error_body(err, service), err.headers)
            except Exception as err:  # the query engine's 400s, or a bug: answer like the Hub
                resp = self._unexpected(err, service)
            resp.headers.extend(rate_headers)
            return resp

    def error_body(self, err: FakeError, service: str) -> dict:
        """An error body as ``service`` writes it on this era."""
        return error_body(err, service=service, legacy=self.dialect_of(service).legacy_errors)

    def _route_missing(self) -> FakeResponse:
        if self.route_missing is None:
            return FakeResponse(404)
        return FakeResponse.json(404, self.route_missing)

    def _unexpected(self, err: Exception, service: str) -> FakeResponse:
        from ._rapiq import QueryError  # noqa: PLC0415

        if isinstance(err, QueryError):
            fake = FakeError(400, "bad_request", err.message, issues=list(err.issues))
        else:
            fake = FakeError(500, "internal_error", f"{type(err).__name__}: {err}")
        return FakeResponse.json(fake.status, self.error_body(fake, service))

    def _match(self, service: str, method: str, rest: str) -> tuple[Route | None, dict]:
        for route in self.routes:
            if route.service != service or route.method != method:
                continue
            m = route.pattern.match(rest)
            if m:
                return route, m.groupdict()
        return None, {}

    def _record(self, req: FakeRequest) -> None:
        from . import RecordedRequest  # noqa: PLC0415

        self.requests.append(RecordedRequest.from_request(req))

    def _fault_response(self, req: FakeRequest, fault: Fault) -> FakeResponse:
        service, _ = _split_service(req.path)
        headers = [(k.lower(), str(v)) for k, v in (fault.headers or {}).items()]
        if fault.body is None:
            body = self.error_body(generic_error(fault.status), service or "core")
            return FakeResponse.json(fault.status, body, headers)
        if isinstance(fault.body, (bytes, str)):
            raw = fault.body.encode() if isinstance(fault.body, str) else fault.body
            if not any(k == "content-type" for k, _ in headers):
                headers.append(("content-type", "text/plain; charset=utf-8"))
            return FakeResponse(fault.status, raw, headers)
        return FakeResponse.json(fault.status, fault.body, headers)

    def _authenticate(self, req: FakeRequest, service: str, *, required: bool) -> Actor | None:
        header = req.header("authorization")
        if not header:
            if required:
                raise self._unauthorized(service)
            return None
        scheme, _, value = header.partition(" ")
        value = value.strip()
        token = self.tokens.active(value) if scheme.lower() == "bearer" else None
        if token is not None:
            return token.session.actor
        refusal = self.behaviour.bad_token(service, value)
        if refusal is None:  # ignored: answered as for a caller without a token (296)
            if required:
                raise self._unauthorized(service)
            return None
        raise refusal

    def _identify(self, req: FakeRequest) -> Actor | None:
        """The subject of an active bearer token, if any (no error for a bad one)."""
        scheme, _, value = req.header("authorization").partition(" ")
        token = self.tokens.active(value.strip()) if scheme.lower() == "bearer" else None
        return token.session.actor if token is not None else None

    def _unauthorized(self, service: str) -> FakeError:
        return FakeError(401, "identity_unauthorized", "Authentication required.")  # 026, 082

    # ------------------------------------------------------------------ helpers for shells
    @staticmethod
    def parse_query(query: str | bytes) -> list[tuple[str, str]]:
        """Decoded ``(key, value)`` pairs of a raw query string, in order."""
        if isinstance(query, bytes):
            query = query.decode("latin-1")
        return parse_qsl(query, keep_blank_values=True)

    def secret(self, n: int = 48) -> str:
        """A random client secret (lower-case letters and digits, like the recorded 056)."""
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(secrets.choice(alphabet) for _ in range(n))


def _split_service(path: str) -> tuple[str | None, str]:
    """``/core/nodes`` -> ("core", "/nodes"). The Hub's gateway (nginx, hub-deployment's
    nginx.conf) merges repeated slashes before it routes: ``/auth//token`` is ``/token`` of auth,
    as flame-hub-client 1.1.0's tests rely on (``f"{auth_base_url}/token"``)."""
    parts = re.sub(r"/{2,}", "/", path).split("/", 2)
    if len(parts) < 2 or parts[1] not in SERVICES:
        return None, path
    return parts[1], "/" + (parts[2] if len(parts) > 2 else "")


def _iso(ms: int) -> str:
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"

