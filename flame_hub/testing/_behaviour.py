"""Route handlers and resource behaviour of the fake Hub.

Generic handlers (list, get, create, update, delete) serve every resource from the registry.
What the Hub does beyond storing a record is written down here, once, keyed by resource:

- a node gets an authup client (its ``clientId``) and, when the Hub has exactly one registry, a
  registry project (``registryId``/``registryProjectId``, a generated ``externalName``); deleting
  the node deletes both (resources.json notes, 030, 056);
- an analysis gets an authup client with the ``analysis_self_*`` permissions and its three
  analysis buckets (CODE, RESULT, TEMP) with their storage buckets; deleting it deletes the client
  (071 answers ``clientId: null``) and the buckets;
- project/analysis counters (``project.nodes``, ``project.analyses``, ``analysis.nodes``,
  ``nodesApproved``) and the analysis ``configuration*Valid`` flags follow their children (062, 064);
- projects and analyses created without a name get a generated one (notes);
- deleting a record deletes the records of the same service that cannot live without it (a
  non-nullable foreign key) and clears nullable references to it.

Permissions beyond "a valid token may do everything" are not modelled.
"""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from .._naming import to_snake
from ..resources import FieldSpec, Resource, get_resource, resources_of
from . import _seed
from ._core import Ctx, HubCore
from ._tokens import Actor, Token
from ._validate import validate
from ._wire import JSON_TYPE, FakeError, FakeResponse, not_found, oauth2_error

_ANALYSIS_BUCKET_TYPES = ("CODE", "RESULT", "TEMP")
_ENTRYPOINT_BUCKET = "CODE"


class Behaviour:
    """Handlers and side effects over one :class:`HubCore`'s state."""

    def __init__(self, core: HubCore) -> None:
        self.core = core
        self._before_create: dict[str, Callable[[Ctx, dict], None]] = {
            "projects": self._generate_name, "analyses": self._generate_name,
            "analysis-nodes": self._check_analysis_node, "clients": self._client_secret,
            "analysis-bucket-files": self._inherit_analysis, "analysis-node-logs": self._log_entry,
        }
        self._after_write: dict[str, Callable[[Ctx | None, dict, str, dict], None]] = {
            "nodes": self._node_created, "analyses": self._analysis_created,
            "project-nodes": self._recount, "analysis-nodes": self._recount,
            "analysis-bucket-files": self._bucket_file_written, "users": self._user_written,
            "clients": self._principal_written, "analysis-node-logs": self._log_written,
        }
        self._on_remove: dict[str, Callable[[Ctx | None, dict], None]] = {
            "nodes": self._node_removing, "analyses": self._analysis_removing,
        }
        self._special: dict[tuple[str, str], Callable[[Ctx], FakeResponse]] = {
            ("nodes", "client_credentials"): self.client_credentials,
            ("nodes", "update_client_credentials"): self.client_credentials,
            ("nodes", "registry_credentials"): self.registry_credentials,
            ("analyses", "command"): self.analysis_command,
            ("analyses", "client_credentials"): self.client_credentials,
            ("analyses", "update_client_credentials"): self.client_credentials,
            ("analyses", "client_permissions"): self.analysis_client_permissions,
            ("analyses", "add_client_permission"): self.add_analysis_client_permission,
            ("analyses", "remove_client_permission"): self.remove_analysis_client_permission,
            ("analysis-logs", "bulk_delete"): self.delete_logs,
            ("analysis-node-logs", "bulk_delete"): self.delete_logs,
            ("master-images", "command"): self.master_image_command,
            ("registries", "registry_command"): self.registry_command,
            ("buckets", "upload"): self.upload,
            ("buckets", "stream"): self.bucket_stream,
            ("bucket-files", "stream"): self.bucket_file_stream,
        }

    # ------------------------------------------------------------------ shortcuts
    @property
    def store(self):
        return self.core.store

    def w(self, attr: str) -> str:
        return self.core.w(attr)

    def vals(self, **attrs: Any) -> dict:
        """Wire-keyed values from snake_case names."""
        return {self.w(k): v for k, v in attrs.items()}

    def special_handler(self, resource: Resource, name: str) -> Callable[[Ctx], FakeResponse] | None:
        return self._special.get((resource.name, name))

    def insert(self, name: str, values: dict, actor: Actor | None = None) -> dict:
        """Store a record built from wire-keyed values plus defaults (no validation, no effects)."""
        res = get_resource(name)
        record = self.core.new_record(res, values, actor)
        return self.store.insert(res.name, record)

    def _body(self, ctx: Ctx) -> dict:
        body = ctx.body
        if body is None and ctx.req.content_type == "application/x-www-form-urlencoded":
            body = dict(parse_qsl(ctx.req.body.decode("utf-8", "replace"), keep_blank_values=True))
        return body if isinstance(body, dict) else {}

    def _find(self, ctx: Ctx, name: str | None = None, arg: str = "id") -> dict:
        res = get_resource(name) if name else ctx.resource
        record = self.store.get(res.name, ctx.args.get(arg))
        if record is None:
            raise not_found(self.core.singular(res))
        return record

    def _nullable(self, res: Resource) -> set[str]:
        return {k for k, fs in self.core.spec(res).record_keys.items() if fs.nullable}

    # ------------------------------------------------------------------ fresh state
    def seed(self) -> None:
        """Create what a new Hub holds (see :mod:`._seed`)."""
        current = self.core.current
        realm = self.insert("realms", self.vals(name="master", built_in=True))
        realm_id = realm["id"]
        admin = self.insert("users", self.vals(
            name=_seed.ADMIN_USERNAME, name_locked=True, email=_seed.ADMIN_EMAIL,
            display_name=_seed.ADMIN_USERNAME, realm_id=realm_id))
        self.store.passwords[admin["id"]] = _seed.ADMIN_PASSWORD
        roles = [self.insert("roles", self.vals(name=n, built_in=True)) for n in _seed.ROLES]
        for n in _seed.AUTHUP_PERMISSIONS:
            self.insert("permissions", self.vals(name=n, built_in=True))
        for n in _seed.HUB_PERMISSIONS:
            self.insert("permissions", self.vals(name=n, built_in=False))
        self.insert("user-roles", self.vals(user_id=admin["id"], role_id=roles[0]["id"],
                                            user_realm_id=realm_id))
        if current:  # authup beta.24 had no built-in clients (legacy README, 008)
            for c in _seed.CLIENTS:
                self.insert("clients", {**c, self.w("realm_id"): realm_id})
        for g in _seed.MASTER_IMAGE_GROUPS:
            self.insert("master-image-groups", self.vals(**{to_snake(k): v for k, v in g.items()}))
        for m in _seed.MASTER_IMAGES:
            self.insert("master-images", self.vals(**{to_snake(k): v for k, v in m.items()}))

    def realm(self, name: str = "master") -> dict:
        return self.store.find("realms", "name", name)

    def admin_actor(self) -> Actor:
        user = self.store.find("users", "name", _seed.ADMIN_USERNAME)
        realm = self.realm()
        return Actor("user", user["id"], user["name"], realm["id"], realm["name"])

    # ------------------------------------------------------------------ generic CRUD
    def list(self, ctx: Ctx) -> FakeResponse:
        from ._rapiq import ListQuery  # noqa: PLC0415

        res = ctx.resource
        spec = self.core.spec(res)
        query = ListQuery.parse(spec, ctx.req.params, grammar=self.core.grammar)
        items, meta = query.run(self.store.all(res.name), self.core.related(res))
        return FakeResponse.json(200, {"data": items, "meta": self.list_meta(spec, meta, ctx)})

    def list_meta(self, spec, meta: dict, ctx: Ctx) -> dict:
        """``{total, limit, offset, schema}`` on 0.14; the era's meta keys on older Hubs."""
        if self.core.current:
            return {"total": meta.get("total"), "limit": meta.get("limit"),
                    "offset": meta.get("offset"), "schema": self.core.list_schema(spec)}
        paged = any(k.startswith("page[") for k, _ in ctx.req.params)
        keys = spec.meta_keys if paged or not spec.meta_keys_without_page else spec.meta_keys_without_page
        return {k: meta[k] for k in ("total", "limit", "offset") if k in meta and (not keys or k in keys)}

    def get(self, ctx: Ctx) -> FakeResponse:
        from ._rapiq import ListQuery  # noqa: PLC0415

        res = ctx.resource
        spec = self.core.spec(res)
        record = self.core.find_record(res, ctx.args["id"], by_name=spec.supports("get_by_name"))
        if record is None:
            raise not_found(self.core.singular(res))
        shaped = ListQuery.parse(spec, ctx.req.params, grammar=self.core.grammar).shape(
            record, self.core.related(res))
        meta = {"schema": self.core.record_schema(spec)} if self.core.current else None
        return FakeResponse.json(200, self.core.envelope(shaped, meta))

    def create(self, ctx: Ctx) -> FakeResponse:
        res = ctx.resource
        spec = self.core.spec(res)
        values = validate(self._body(ctx), spec.create_required, spec.create_optional,
                          nullable=self._nullable(res), grouped=ctx.service == "auth")
        self._check_references(res, values, {**spec.create_required, **spec.create_optional})
        hook = self._before_create.get(res.name)
        if hook:
            hook(ctx, values)
        record = self.core.new_record(res, values, ctx.actor)
        self._check_unique(res, record, None)
        self.store.insert(res.name, record)
        self._after(ctx, res, record, "create", values)
        op = spec.operations["create"]
        answer = self.core.answer_record(res, record, embeds=True)
        return FakeResponse.json(op.status or 201, self.core.envelope(answer))

    def update(self, ctx: Ctx) -> FakeResponse:
        res = ctx.resource
        spec = self.core.spec(res)
        by_name = ctx.service == "auth" and spec.supports("get_by_name")  # POST /realms/{name} (notes)
        record = self.core.find_record(res, ctx.args["id"], by_name=by_name)
        if record is None:
            raise not_found(self.core.singular(res))
        values = validate(self._body(ctx), {}, spec.update_fields, nullable=self._nullable(res),
                          grouped=ctx.service == "auth")
        self._check_references(res, values, spec.update_fields)
        self._check_unique(res, {**record, **values}, record.get("id"))
        changes = {k: v for k, v in values.items() if k in record and k != "id"}
        if changes:
            record.update(changes)
            record[self.w("updated_at")] = self.core.now()
        self._after(ctx, res, record, "update", values)
        answer = self.core.answer_record(res, record, embeds=False)
        return FakeResponse.json(spec.operations["update"].status or 202, self.core.envelope(answer))

    def delete(self, ctx: Ctx) -> FakeResponse:
        res = ctx.resource
        record = self.store.get(res.name, ctx.args["id"])
        if record is None:
            raise not_found(self.core.singular(res))
        self.remove(res, record, ctx)
        answer = self.core.answer_record(res, record, embeds=True)
        op = self.core.spec(res).operations["delete"]
        return FakeResponse.json(op.status or 202, self.core.envelope(answer))

    # ------------------------------------------------------------------ rules
    def _check_references(self, res: Resource, values: dict, specs: dict[str, FieldSpec]) -> None:
        """A uuid key naming a record (``projectId``) must name an existing one: else 400
        "Property projectId is invalid" (resources.json notes of analysis-node-logs)."""
        for key, value in values.items():
            fs = specs.get(key)
            attr = to_snake(key)
            if value is None or fs is None or fs.format != "uuid" or not attr.endswith("_id"):
                continue
            target = self.core.target_of(res, attr[:-3])
            if target is not None and self.store.get(target.name, value) is None:
                raise FakeError(400, "bad_request", f"Property {key} is invalid", issues=[
                    {"type": "item", "path": [key], "code": "value_invalid",
                     "message": f"The referenced {self.core.singular(target)} does not exist."}])

    def _check_unique(self, res: Resource, values: dict, own_id: str | None) -> None:
        """409 where the Hub has unique keys: names where the catalog records a 409 or names are
        addresses (``GET /realms/{name}``), the required key pair of nameless resources with a
        recorded 409 (project-nodes). Bucket names are not unique (duplicate 201)."""
        spec = self.core.spec(res)
        op = spec.operations.get("create")
        duplicate = op.duplicate_status if op else None
        if duplicate is not None and duplicate < 400:
            return
        if res.name_key:
            if duplicate != 409 and not spec.supports("get_by_name"):
                return
            keys = [self.w(to_snake(res.name_key))]
            if self.w("realm_id") in spec.record_keys and res.service == "auth":
                keys.append(self.w("realm_id"))  # authup names are unique per realm
        elif duplicate == 409:
            keys = list(spec.create_required)
        else:
            return
        if any(values.get(k) is None for k in keys[:1]):
            return
        for other in self.store.iter(res.name):
            if other.get("id") != own_id and all(other.get(k) == values.get(k) for k in keys):
                raise FakeError(409, "entity_conflict",
                                "An entry with some unique attributes already exists.")  # 032, 076

    def remove(self, res: Resource, record: dict, ctx: Ctx | None = None) -> None:
        """Delete a record, then what cannot live without it (same service), then its effects."""
        self.store.remove(res.name, record["id"])
        removing = self._on_remove.get(res.name)
        if removing:
            removing(ctx, record)
        for other in resources_of(res.service, self.core.era):  # type: ignore[arg-type]
            for key, fs in self.core.spec(other).record_keys.items():
                attr = to_snake(key)
                if not attr.endswith("_id") or attr == "id" or attr.endswith("_realm_id"):
                    continue
                if self.core.target_of(other, attr[:-3]) is not res:
                    continue
                for child in [r for r in self.store.iter(other.name) if r.get(key) == record["id"]]:
                    if fs.nullable:
                        child[key] = None
                    else:
                        self.remove(other, child, ctx)
        self._after(ctx, res, record, "delete", {})

    def _after(self, ctx: Ctx | None, res: Resource, record: dict, event: str, values: dict) -> None:
        hook = self._after_write.get(res.name)
        if hook:
            hook(ctx, record, event, values)

    # ------------------------------------------------------------------ behaviour per resource
    def _generate_name(self, ctx: Ctx, values: dict) -> None:
        key = self.w("name")
        if not values.get(key):
            values[key] = f"{random.choice(_seed.ADJECTIVES)}-{random.choice(_seed.NOUNS)}-" \
                          f"{random.getrandbits(24):06x}"

    def _client_secret(self, ctx: Ctx, values: dict) -> None:
        key = self.w("secret")
        if values.get(key) is None:
            values[key] = self.core.secret()

    def _check_analysis_node(self, ctx: Ctx, values: dict) -> None:
        analysis = self.store.get("analyses", values.get(self.w("analysis_id")))
        node_id = values.get(self.w("node_id"))
        project_id = analysis.get(self.w("project_id")) if analysis else None
        if not any(pn.get(self.w("project_id")) == project_id and pn.get(self.w("node_id")) == node_id
                   for pn in self.store.iter("project-nodes")):
            raise FakeError(404, "entity_not_found",
                            "The referenced node is not part of the analysis project.")  # notes

    def _inherit_analysis(self, ctx: Ctx, values: dict) -> None:
        bucket = self.store.get("analysis-buckets", values.get(self.w("analysis_bucket_id")))
        if bucket:
            values.setdefault(self.w("analysis_id"), bucket.get(self.w("analysis_id")))

    def _log_entry(self, ctx: Ctx, values: dict) -> None:
        labels = dict(values.get("labels") or {})
        for attr in ("analysis_id", "node_id", "status", "code"):
            if values.get(self.w(attr)) is not None:
                labels[self.w(attr)] = values[self.w(attr)]
        values["labels"] = labels
        values["time"] = self.core.now()

    def _node_removing(self, ctx: Ctx | None, node: dict) -> None:
        """A node's authup client (or legacy robot) and registry project go with it (notes);
        the delete answer shows ``clientId: null`` (078; legacy 128: ``robot_id: null``)."""
        client = self.store.get("clients", node.get(self.w("client_id")))
        if client:
            self.remove(get_resource("clients"), client, ctx)
            node[self.w("client_id")] = None
        robot_id = node.get(self.w("robot_id"))
        if robot_id and get_resource("robots").available(self.core.era):
            self.store.remove("robots", robot_id)
            node[self.w("robot_id")] = None
        project = self.store.get("registry-projects", node.get(self.w("registry_project_id")))
        if project:
            self.remove(get_resource("registry-projects"), project, ctx)

    def _node_created(self, ctx: Ctx | None, node: dict, event: str, values: dict) -> None:
        if event == "delete":
            self._recount()
        if event != "create":
            return
        actor = ctx.actor if ctx else None
        realm_id = node.get(self.w("realm_id"))
        if self.core.current and node.get(self.w("client_id")) is None:
            client = self.insert("clients", self.vals(
                name=node["id"], display_name=node["id"], secret=self.core.secret(64),
                realm_id=realm_id), actor)
            node[self.w("client_id")] = client["id"]
        elif not self.core.current and get_resource("robots").available(self.core.era):
            robot = self.insert("robots", self.vals(name=node["id"], secret=self.core.secret(64),
                                                    realm_id=realm_id), actor)
            node[self.w("robot_id")] = robot["id"]
        registries = self.store.all("registries")
        if node.get(self.w("registry_id")) is None and len(registries) == 1:
            node[self.w("registry_id")] = registries[0]["id"]
        if node.get(self.w("registry_id")):
            external = node.get(self.w("external_name")) or self.core.secret(21)
            project = self.insert("registry-projects", self.vals(
                name=node["id"], type="aggregator" if node.get("type") == "aggregator" else "default",
                external_name=external, registry_id=node[self.w("registry_id")], realm_id=realm_id),
                actor)
            node[self.w("registry_project_id")] = project["id"]
            node[self.w("external_name")] = external

    def _analysis_removing(self, ctx: Ctx | None, analysis: dict) -> None:
        """An analysis' client and storage buckets go with it; its answer shows ``clientId: null``
        (071). Its analysis buckets follow by the generic cascade."""
        client = self.store.get("clients", analysis.get(self.w("client_id")))
        if client:
            self.remove(get_resource("clients"), client, ctx)
        analysis[self.w("client_id")] = None
        for link in list(self.store.iter("analysis-buckets")):
            if link.get(self.w("analysis_id")) == analysis["id"]:
                bucket = self.store.get("buckets", link.get(self.w("bucket_id")))
                if bucket:
                    self.remove(get_resource("buckets"), bucket, ctx)

    def _analysis_created(self, ctx: Ctx | None, analysis: dict, event: str, values: dict) -> None:
        if event == "create" and self.core.current:
            actor = ctx.actor if ctx else None
            realm_id = analysis.get(self.w("realm_id"))
            client = self.insert("clients", self.vals(
                name=analysis["id"], display_name=analysis.get("name"), secret=self.core.secret(64),
                realm_id=realm_id), actor)
            analysis[self.w("client_id")] = client["id"]
            for name in _seed.ANALYSIS_SELF_PERMISSIONS:
                permission = self.store.find("permissions", "name", name)
                if permission:
                    self.insert("client-permissions", self.vals(
                        client_id=client["id"], client_realm_id=realm_id,
                        permission_id=permission["id"]), actor)
            for kind in _ANALYSIS_BUCKET_TYPES:
                bucket = self.insert("buckets", self.vals(
                    name=f"{kind.lower()}-{analysis['id']}", realm_id=realm_id), actor)
                self.insert("analysis-buckets", self.vals(
                    type=kind, bucket_id=bucket["id"], analysis_id=analysis["id"], realm_id=realm_id),
                    actor)
        self._recount()

    def _log_written(self, ctx: Ctx | None, entry: dict, event: str, values: dict) -> None:
        """Log entries keep their analysis and node ids beside the labels, so that the list's
        required filters (``analysisId``, ``nodeId``) find them."""
        for attr in ("analysis_id", "node_id"):
            if values.get(self.w(attr)) is not None:
                entry[self.w(attr)] = values[self.w(attr)]

    def _bucket_file_written(self, ctx: Ctx | None, record: dict, event: str, values: dict) -> None:
        if event == "delete":
            return
        bucket = self.store.get("analysis-buckets", record.get(self.w("analysis_bucket_id")))
        analysis = self.store.get("analyses", record.get(self.w("analysis_id")))
        if analysis and bucket and bucket.get("type") == _ENTRYPOINT_BUCKET:
            entry = any(f.get("root") and f.get(self.w("analysis_id")) == analysis["id"]
                        for f in self.store.iter("analysis-bucket-files"))
            self._set(analysis, "configuration_entrypoint_valid", entry)

    def _user_written(self, ctx: Ctx | None, record: dict, event: str, values: dict) -> None:
        if event in ("create", "update") and values.get("password"):
            self.store.passwords[record["id"]] = values["password"]
        self._principal_written(ctx, record, event, values)

    def _principal_written(self, ctx: Ctx | None, record: dict, event: str, values: dict) -> None:
        if event == "delete":
            self.core.tokens.revoke_actor(record["id"])

    def _set(self, record: dict, attr: str, value: Any) -> None:
        key = self.w(attr)
        if key in record and record[key] != value:
            record[key] = value
            record[self.w("updated_at")] = self.core.now()

    def _recount(self, *_: Any) -> None:
        """Counters of projects and analyses, and the analyses' node flags (062, 064)."""
        w = self.w
        per_project_nodes: dict[str, int] = {}
        for pn in self.store.iter("project-nodes"):
            per_project_nodes[pn.get(w("project_id"))] = per_project_nodes.get(pn.get(w("project_id")), 0) + 1
        per_project_analyses: dict[str, int] = {}
        for a in self.store.iter("analyses"):
            per_project_analyses[a.get(w("project_id"))] = per_project_analyses.get(a.get(w("project_id")), 0) + 1
        for p in self.store.iter("projects"):
            self._set(p, "nodes", per_project_nodes.get(p["id"], 0))
            self._set(p, "analyses", per_project_analyses.get(p["id"], 0))
        children: dict[str, list[dict]] = {}
        for an in self.store.iter("analysis-nodes"):
            children.setdefault(an.get(w("analysis_id")), []).append(an)
        for a in self.store.iter("analyses"):
            links = children.get(a["id"], [])
            nodes = [self.store.get("nodes", an.get(w("node_id"))) or {} for an in links]
            approved = sum(1 for an in links if an.get(w("approval_status")) == "approved")
            default_ok = any(n.get("type") == "default" for n in nodes)
            aggregator_ok = sum(1 for n in nodes if n.get("type") == "aggregator") == 1
            self._set(a, "nodes", len(links))
            self._set(a, "nodes_approved", approved)
            self._set(a, "configuration_node_default_valid", default_ok)
            self._set(a, "configuration_node_aggregator_valid", aggregator_ok)
            self._set(a, "configuration_nodes_valid", default_ok and aggregator_ok)
            self._set(a, "build_nodes_valid", bool(links) and approved == len(links))
            if links and a.get(w("execution_progress")) is None:
                self._set(a, "execution_progress", 0)

    # ------------------------------------------------------------------ special routes
    def client_credentials(self, ctx: Ctx) -> FakeResponse:
        """``GET|POST /nodes|analyses/{id}/client/credentials``: the record's authup client, flat
        (056). POST may set ``secret`` (null: a new random one), ``name``, ``displayName``;
        wrong types answer 500 as recorded (resources.json special routes)."""
        owner = self._find(ctx)
        client = self.store.get("clients", owner.get(self.w("client_id")))
        if client is None:
            raise not_found("client")
        if ctx.req.method == "POST":
            body = self._body(ctx)
            specs = {k: FieldSpec(name=k, type="string") for k in ("name", "displayName", "secret")}
            try:
                values = validate(body, {}, specs, nullable={"secret"})
            except FakeError as err:  # the Hub lets this validation error surface as a 500
                raise FakeError(500, "internal_error", err.message) from None
            if "secret" in values:
                client["secret"] = values["secret"] if values["secret"] is not None else self.core.secret(64)
            for key in ("name", "displayName"):
                if values.get(key) is not None:
                    client[self.w(to_snake(key))] = values[key]
            client[self.w("updated_at")] = self.core.now()
        return FakeResponse.json(200, {"id": client["id"], "name": client.get("name"),
                                       "displayName": client.get(self.w("display_name")),
                                       "secret": client.get("secret")})

    def registry_credentials(self, ctx: Ctx) -> FakeResponse:
        node = self._find(ctx)
        project = self.store.get("registry-projects", node.get(self.w("registry_project_id")))
        if project is None:
            raise FakeError(400, "bad_request", "The node has no registry project provisioned yet.")
        registry = self.store.get("registries", project.get(self.w("registry_id"))) or {}
        return FakeResponse.json(200, {
            "host": registry.get("host"), "externalName": project.get(self.w("external_name")),
            "accountName": project.get(self.w("account_name")),
            "accountSecret": project.get(self.w("account_secret"))})

    def analysis_command(self, ctx: Ctx) -> FakeResponse:
        """``POST /analyses/{id}/command``: the configuration/build/distribution state machine.

        Rules as the catalog records them ("An aggregator node node must be selected.", "The
        analysis configuration is not locked."); the build and distribution finish at once on
        their ``*Check`` command (there is no registry to talk to)."""
        analysis = self._find(ctx)
        res = ctx.resource
        route = self.core.spec(res).special_routes["command"]
        command = self._body(ctx).get("command")
        if command not in (route.body or {}).get("command", {}).get("enum", ()):
            raise FakeError(400, "bad_request", "Invalid command.")  # 069
        a = analysis
        g = lambda attr: a.get(self.w(attr))  # noqa: E731

        def refuse(message: str) -> None:
            raise FakeError(400, "ANALYSIS_ERROR", message)

        if command == "configurationLock":
            if g("configuration_locked"):
                refuse("The analysis configuration is already locked.")
            if not g("configuration_node_aggregator_valid"):
                refuse("An aggregator node node must be selected.")
            if not g("configuration_node_default_valid"):
                refuse("At least one default node must be selected.")
            self._set(a, "configuration_locked", True)
        elif command == "configurationUnlock":
            if g("build_status") not in (None, "failed", "stopped"):
                refuse("The analysis configuration can not be unlocked after the build has started.")
            self._set(a, "configuration_locked", False)
        elif command == "buildStart":
            if not g("configuration_locked"):
                refuse("The analysis configuration is not locked.")
            if g("build_status") in ("starting", "started", "executing"):
                refuse("The analysis build is already running.")
            self._set(a, "build_status", "started")
            self._set(a, "build_progress", 0)
        elif command == "buildCheck":
            if g("build_status") in ("starting", "started", "executing"):
                self._set(a, "build_status", "executed")
                self._set(a, "build_progress", 100)
                self._set(a, "build_hash", hashlib.sha256(a["id"].encode()).hexdigest())
                self._set(a, "build_os", "linux")
                self._set(a, "build_size", 1024)
        elif command == "distributionStart":
            if g("build_status") != "executed":
                refuse("The analysis build is not executed.")
            self._set(a, "distribution_status", "started")
            self._set(a, "distribution_progress", 0)
        elif command == "distributionCheck":
            if g("distribution_status") in ("starting", "started", "executing"):
                self._set(a, "distribution_status", "executed")
                self._set(a, "distribution_progress", 100)
        # storageCheck: the fake's storage is always consistent
        return FakeResponse.json(202, self.core.envelope(self.core.answer_record(res, a, embeds=False)))

    def analysis_client_permissions(self, ctx: Ctx) -> FakeResponse:
        analysis = self._find(ctx)
        client_id = analysis.get(self.w("client_id"))
        items = [r for r in self.store.iter("client-permissions") if r.get(self.w("client_id")) == client_id]
        meta = {"total": len(items), "limit": len(items), "offset": 0}
        return FakeResponse.json(200, {"data": items, "meta": meta})

    def add_analysis_client_permission(self, ctx: Ctx) -> FakeResponse:
        analysis = self._find(ctx)
        permission_id = self._body(ctx).get(self.w("permission_id"))
        if not permission_id:
            raise FakeError(400, "bad_request", "A permissionId is required.")
        permission = self.store.get("permissions", permission_id)
        if permission is None:
            raise not_found("permission")
        if permission.get("name") not in _seed.ANALYSIS_SELF_PERMISSIONS:
            raise FakeError(403, "permission_denied",
                            "The permission is not an analysis self-capability.")
        client_id = analysis.get(self.w("client_id"))
        existing = next((r for r in self.store.iter("client-permissions")
                         if r.get(self.w("client_id")) == client_id
                         and r.get(self.w("permission_id")) == permission_id), None)
        record = existing or self.insert("client-permissions", self.vals(
            client_id=client_id, client_realm_id=analysis.get(self.w("realm_id")),
            permission_id=permission_id), ctx.actor)
        return FakeResponse.json(201, self.core.envelope(record))

    def remove_analysis_client_permission(self, ctx: Ctx) -> FakeResponse:
        analysis = self._find(ctx)
        client_id = analysis.get(self.w("client_id"))
        record = next((r for r in self.store.iter("client-permissions")
                       if r.get(self.w("client_id")) == client_id
                       and r.get(self.w("permission_id")) == ctx.args.get("permissionId")), None)
        if record is None:
            raise FakeError(404, "entity_not_found", "The clientPermission was not found.")
        self.store.remove("client-permissions", record["id"])
        return FakeResponse.json(202, self.core.envelope(record))

    def delete_logs(self, ctx: Ctx) -> FakeResponse:
        """``DELETE /analysis-logs?filter[analysisId]=…`` (and node logs): 400 without the required
        filters (the query engine checks them), 202 otherwise."""
        from ._rapiq import ListQuery  # noqa: PLC0415

        spec = self.core.spec(ctx.resource)
        ListQuery.parse(spec, ctx.req.params, grammar=self.core.grammar)
        wanted = {k[len("filter["):-1]: v for k, v in ctx.req.params
                  if k.startswith("filter[") and k[len("filter["):-1] in spec.required_filters}
        self.store.remove_where(ctx.resource.name,
                                lambda r: all(str(r.get(k)) == v for k, v in wanted.items()))
        return FakeResponse.json(202, {})

    def master_image_command(self, ctx: Ctx) -> FakeResponse:
        body = self._body(ctx)
        route = self.core.spec(ctx.resource).special_routes["command"]
        command = body.get("command")
        if command not in route.body["command"]["enum"]:
            raise FakeError(400, "bad_request", f"Unknown command: {command}")
        if command == "build":
            image = self.store.get("master-images", body.get("id"))
            if image is None:
                raise not_found("master-image")
            self._set(image, "build_status", "executed")
            return FakeResponse.json(202, image)
        return FakeResponse.json(202, {})

    def registry_command(self, ctx: Ctx) -> FakeResponse:
        """``POST /services/registry/command``: ``setup`` creates the registry's incoming,
        outgoing and masterImages projects (upstream inventory §1.2); ``cleanup`` removes them."""
        body = self._body(ctx)
        route = self.core.spec(ctx.resource).special_routes["registry_command"]
        command = body.get("command")
        if command not in route.body["command"]["enum"]:
            raise FakeError(400, "bad_request", f"Unknown command: {command}")
        registry = self.store.get("registries", body.get("id"))
        if command in ("setup", "cleanup", "delete") and registry is None:
            raise not_found("registry")
        kinds = ("incoming", "outgoing", "masterImages")
        projects = get_resource("registry-projects")
        if command == "setup":
            for kind in kinds:
                if not any(p.get(self.w("registry_id")) == registry["id"] and p.get("type") == kind
                           for p in self.store.iter("registry-projects")):
                    self.insert("registry-projects", self.vals(
                        name=kind, type=kind, external_name=kind.lower(), registry_id=registry["id"]),
                        ctx.actor)
        elif command in ("cleanup", "delete"):
            for p in [p for p in self.store.iter("registry-projects")
                      if p.get(self.w("registry_id")) == registry["id"] and p.get("type") in kinds]:
                self.remove(projects, p, ctx)
            if command == "delete":
                self.remove(get_resource("registries"), registry, ctx)
        return FakeResponse.json(202, {})

    def upload(self, ctx: Ctx) -> FakeResponse:
        """``POST /buckets/{id}/upload``: one bucket file per multipart part with a file name,
        answered 201 with a list envelope (088); each part's content type is kept."""
        bucket = self._find(ctx)
        parts = _multipart(ctx.req.header("content-type"), ctx.req.body)
        if parts is None:
            raise FakeError(400, "bad_request", "A multipart content-type header is required.")
        actor = ctx.actor
        files = []
        for filename, content, content_type in parts:
            directory, _, name = filename.rpartition("/")
            record = self.insert("bucket-files", self.vals(
                name=name, path=filename, hash=hashlib.sha256(content).hexdigest(),
                directory=directory or ".", size=len(content),
                actor_type=actor.kind if actor else None, actor_id=actor.id if actor else None,
                realm_id=bucket.get(self.w("realm_id")) or (actor.realm_id if actor else None),
                bucket_id=bucket["id"]), actor)
            self.store.blobs[record["id"]] = (content, content_type)
            files.append(record)
        return FakeResponse.json(201, {"data": files, "meta": {"total": len(files)}})

    def bucket_stream(self, ctx: Ctx) -> FakeResponse:
        """``GET /buckets/{id}/stream``: a tar archive of the bucket's files."""
        bucket = self._find(ctx)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for f in self.store.iter("bucket-files"):
                if f.get(self.w("bucket_id")) != bucket["id"]:
                    continue
                content, _ = self.store.blobs.get(f["id"], (b"", ""))
                info = tarfile.TarInfo(f.get("path") or f.get("name") or f["id"])
                info.size = len(content)
                info.mtime = int(time.time())
                tar.addfile(info, io.BytesIO(content))
        return FakeResponse(200, buf.getvalue(), [("content-type", "application/x-tar")])

    def bucket_file_stream(self, ctx: Ctx) -> FakeResponse:
        """``GET /bucket-files/{id}/stream``: the file's bytes with the type it was uploaded with."""
        record = self._find(ctx)
        content, content_type = self.store.blobs.get(record["id"], (b"", "application/octet-stream"))
        return FakeResponse(200, content, [("content-type", content_type or "application/octet-stream")])

    # ------------------------------------------------------------------ service roots and authup
    def root(self, ctx: Ctx) -> FakeResponse:
        """``GET /`` of a service: ``{"version", "timestamp"}`` (025, 081)."""
        stamp = int(time.time() * 1000)
        if ctx.service == "auth":
            return FakeResponse.json(200, {"version": self.core.authup_version, "timestamp": stamp})
        if ctx.service == "storage" and not self.core.current:
            return FakeResponse.json(200, {"timestamp": stamp})  # legacy README: no version
        return FakeResponse.json(200, {"version": self.core.version, "timestamp": stamp})

    def token(self, ctx: Ctx) -> FakeResponse:
        """``POST /token``: password, client_credentials and refresh_token grants (001–006,
        096, 097); JSON or form bodies."""
        body = self._body(ctx)
        grant = body.get("grant_type")
        if grant is None and "username" in body:
            grant = "password"  # authup guesses the grant from the fields (legacy 004)
        if grant == "password":
            actor = self._check_password(body)
            access, refresh = self.core.tokens.grant(actor, refresh=True,
                                                     user_agent=ctx.req.header("user-agent"))
        elif grant == "client_credentials":
            actor = self._check_client(body)
            access, refresh = self.core.tokens.grant(actor, refresh=False,
                                                     user_agent=ctx.req.header("user-agent"))
        elif grant == "refresh_token":
            access, refresh = self._refresh(body.get("refresh_token"))
        elif grant is None:
            raise oauth2_error("OAuth2RequestError", _INVALID_REQUEST, "invalid_request",
                               "invalid_request", "Check that all parameters have been provided correctly")
        else:
            raise oauth2_error("OAuth2GrantTypeError",
                               "The authorization grant type is not supported by the authorization server",
                               "unsupported_token_grant_type", "unsupported_grant_type",
                               "Check that all required parameters have been provided")  # 004
        return FakeResponse.json(200, self._token_answer(access, refresh))

    def _token_answer(self, access: Token, refresh: Token | None) -> dict:
        answer: dict = {"access_token": access.value, "expires_in": int(self.core.tokens.access_ttl),
                        "token_type": "Bearer", "scope": "global"}
        if refresh is not None:
            answer["refresh_token"] = refresh.value
            if self.core.current:
                answer["refresh_token_expires_in"] = int(self.core.tokens.refresh_ttl)
        return answer

    def _check_password(self, body: dict) -> Actor:
        realm = self.realm(body.get("realm_name") or "master") if not body.get("realm_id") else \
            self.store.get("realms", body.get("realm_id"))
        username = str(body.get("username") or "").lower()
        user = next((u for u in self.store.iter("users") if u.get("name") == username
                     and realm is not None and u.get(self.w("realm_id")) == realm["id"]), None)
        if user is None or not user.get("active", True) or \
                self.store.passwords.get(user["id"]) != body.get("password"):
            raise FakeError(400, "invalid_credentials", "The user credentials are invalid.",
                            name="EntityCredentialsInvalidError")  # 003
        return Actor("user", user["id"], user["name"], realm["id"], realm["name"])

    def _check_client(self, body: dict) -> Actor:
        key, secret = body.get("client_id"), body.get("client_secret")
        client = self.store.get("clients", key) or self.store.find("clients", "name", key)
        if client is None or not client.get("active", True) or not secret or client.get("secret") != secret:
            raise FakeError(400, "invalid_credentials", "The client credentials are invalid.",
                            name="EntityCredentialsInvalidError")
        realm = self.store.get("realms", client.get(self.w("realm_id"))) or self.realm()
        return Actor("client", client["id"], client["name"], realm["id"], realm["name"])

    def _refresh(self, value: Any) -> tuple[Token, Token | None]:
        if not value:
            raise oauth2_error("OAuth2RequestError", _INVALID_REQUEST, "invalid_request",
                               "invalid_request", "Check that all parameters have been provided correctly")
        tokens = self.core.tokens
        token = tokens.known(str(value))
        if token is None or token.kind != "refresh_token" or token.session.revoked \
                or time.time() >= token.exp:
            raise oauth2_error("OAuth2GrantError", "The refresh token is invalid or expired.",
                               "invalid_grant", "invalid_grant")
        if token.used:
            if not self.core.current:  # authup beta.24: refused, nothing revoked (legacy 010-012)
                raise FakeError(400, "inactive_token", "The  token is not active.")
            tokens.revoke(token.session)
            raise oauth2_error("OAuth2GrantError", "refresh token replay detected; session revoked",
                               "invalid_grant", "invalid_grant")  # 097
        token.used = True
        return tokens.grant(token.session.actor, refresh=True, session=token.session)

    def introspect(self, ctx: Ctx) -> FakeResponse:
        """``POST /token/introspect``: the claims of an active token with the permissions of its
        subject (007), or ``{"active": false}``."""
        body = self._body(ctx)
        value = body.get("token")
        if not value:
            _, _, value = ctx.req.header("authorization").partition(" ")
        tokens = self.core.tokens
        token = tokens.active(str(value).strip()) or tokens.active(str(value).strip(), "refresh_token")
        if token is None:
            return FakeResponse.json(200, {"active": False})
        actor = token.session.actor
        claims = token.claims
        answer: dict = {
            "active": True,
            "permissions": [{"name": n, "client_id": None, "realm_id": None}
                            for n in self._permission_names(actor)],
            "session_id": token.session.id, "user_agent": token.session.user_agent,
            "remote_address": token.session.remote_address, "scope": "global", "sub": actor.id,
            "sub_kind": actor.kind, "realm_id": actor.realm_id, "realm_name": actor.realm_name,
            "amr": ["pwd"] if actor.kind == "user" else ["secret"],
            "acr": "urn:authup:pwd" if actor.kind == "user" else "urn:authup:secret",
            "kind": token.kind, "exp": int(token.exp), "iss": claims.get("iss") or "",
            "realm_access": {"roles": []}, "global_access": {"roles": self._role_names(actor)},
            "jti": token.jti, "iat": token.iat,
        }
        if actor.kind == "user":
            user = self.store.get("users", actor.id) or {}
            answer.update({
                "name": user.get("name"), "family_name": user.get(self.w("last_name")),
                "given_name": user.get(self.w("first_name")), "nickname": user.get(self.w("display_name")),
                "preferred_username": user.get(self.w("display_name")),
                "updated_at": _epoch(user.get(self.w("updated_at"))), "email": user.get("email"),
                "email_verified": True})
        else:
            answer["name"] = actor.name
        return FakeResponse.json(200, answer)

    def _role_names(self, actor: Actor) -> list[str]:
        if actor.kind != "user":
            return []
        names = []
        for link in self.store.iter("user-roles"):
            if link.get(self.w("user_id")) == actor.id:
                role = self.store.get("roles", link.get(self.w("role_id")))
                if role:
                    names.append(role["name"])
        return names

    def _permission_names(self, actor: Actor) -> list[str]:
        """The admin user and the system client hold every permission (007); others what their
        user-/client-/role-permissions grant."""
        if (actor.kind == "user" and actor.name == _seed.ADMIN_USERNAME) or \
                (actor.kind == "client" and actor.name == _seed.SYSTEM_CLIENT):
            return [p["name"] for p in self.store.iter("permissions")]
        ids: list[str] = []
        own = {"user": "user-permissions", "client": "client-permissions"}.get(actor.kind)
        key = self.w(f"{actor.kind}_id")
        if own and own in self.store.tables:
            ids += [r.get(self.w("permission_id")) for r in self.store.iter(own) if r.get(key) == actor.id]
        roles = {link.get(self.w("role_id")) for link in self.store.iter("user-roles")
                 if actor.kind == "user" and link.get(self.w("user_id")) == actor.id}
        ids += [r.get(self.w("permission_id")) for r in self.store.iter("role-permissions")
                if r.get(self.w("role_id")) in roles]
        seen = dict.fromkeys(i for i in ids if i)
        return [p["name"] for p in (self.store.get("permissions", i) for i in seen) if p]


_INVALID_REQUEST = ("The request is missing a required parameter, includes an unsupported parameter "
                    "value, repeats a parameter, or is otherwise malformed.")  # 006


def _epoch(stamp: Any) -> int | None:
    if not isinstance(stamp, str):
        return None
    from datetime import datetime  # noqa: PLC0415

    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())


def _multipart(content_type: str, body: bytes) -> list[tuple[str, bytes, str]] | None:
    """The file parts of a multipart/form-data body: ``(filename, content, content type)``;
    None when the request is not multipart."""
    kind, _, params = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        return None
    boundary = None
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary":
            boundary = value.strip().strip('"')
    if not boundary:
        return None
    files = []
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, _, content = chunk.partition(b"\r\n\r\n")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        filename = None
        for param in headers.get("content-disposition", "").split(";"):
            name, _, value = param.strip().partition("=")
            if name.lower() == "filename":
                filename = value.strip().strip('"')
        if filename:
            files.append((filename, content, headers.get("content-type", "application/octet-stream")))
    return files


__all__ = ["Behaviour", "JSON_TYPE"]
