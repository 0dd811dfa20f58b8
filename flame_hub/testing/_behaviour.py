"""Route handlers and resource behaviour of the fake Hub.

Generic handlers (list, get, create, update, delete) serve every resource from the registry.
What the Hub does beyond storing a record is written down here, once, keyed by resource:

- a node gets an authup client (its ``clientId``) and, when the Hub has exactly one registry, a
  registry project (``registryId``/``registryProjectId``, a generated ``externalName``); deleting
  the node deletes both (resources.json notes, 030, 056);
- an analysis gets an authup client with the ``analysis_self_*`` permissions and (delivered by
  the message broker, :mod:`._progress`) its three analysis buckets (CODE, RESULT, TEMP) with
  their storage buckets; deleting it deletes the client (071 answers ``clientId: null``) and the
  buckets;
- analysis commands, and the work they start, follow the Hub's state machine (:mod:`._analysis`);
- project/analysis counters (``project.nodes``, ``project.analyses``, ``analysis.nodes``,
  ``nodesApproved``) and the analysis ``configuration*Valid`` flags follow their children (062, 064);
- projects and analyses created without a name get a generated one (notes);
- deleting a record deletes the records of the same service that cannot live without it (a
  non-nullable foreign key) and clears nullable references to it.

The special routes live in :mod:`._special`, authup's token endpoints in :mod:`._authup`.
Permissions beyond "a valid token may do everything" are not modelled.
"""

from __future__ import annotations

import builtins
import random
from collections.abc import Callable
from typing import Any

from .._naming import to_snake
from ..resources import FieldSpec, Resource, get_resource, resources_of
from . import _seed
from ._authup import AuthupRoutes
from ._core import Ctx, HubCore
from ._analysis import AnalysisMachine
from ._progress import Progression
from ._special import SpecialRoutes
from ._tokens import Actor
from ._validate import validate, validate_one_of
from ._wire import FakeError, FakeResponse, not_found

class Behaviour(SpecialRoutes, AuthupRoutes, AnalysisMachine):
    """Handlers and side effects over one :class:`HubCore`'s state."""

    def __init__(self, core: HubCore) -> None:
        self.core = core
        self.progression = Progression(self)
        self.skip_analysis_approval = True
        self._before_create: dict[str, Callable[[Ctx, dict], None]] = {
            "projects": self._generate_name, "analyses": self._analysis_defaults,
            "analysis-nodes": self._check_analysis_node, "clients": self._client_secret,
            "robots": self._robot_defaults,
            "analysis-bucket-files": self._inherit_analysis, "analysis-node-logs": self._log_entry,
        }
        self._after_write: dict[str, Callable[[Ctx | None, dict, str, dict], None]] = {
            "nodes": self._node_created, "analyses": self._analysis_created,
            "project-nodes": self.recount, "analysis-nodes": self._analysis_node_written,
            "analysis-bucket-files": self._bucket_file_written, "users": self._user_written,
            "clients": self._principal_written,
        }
        self._before_delete: dict[str, Callable[[Ctx, dict], None]] = {"buckets": self._bucket_deletable}
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
    def special_handler(self, resource: Resource, name: str) -> Callable[[Ctx], FakeResponse] | None:
        return self._special.get((resource.name, name))

    def _stale(self, res: Resource, record: dict) -> dict:
        """The recalculated keys (``EraSpec.recalculated_keys``) of a record before a write's
        effects: its answer shows these, later reads the recalculated ones."""
        return {k: record[k] for k in self.core.spec(res).recalculated_keys if k in record}

    def _branch_only(self, spec) -> set[str]:
        """The keys of a resource that only its create's ``one_of`` branches carry."""
        return set(spec.create_branch_fields)

    def _nullable(self, res: Resource) -> set[str]:
        return {k for k, fs in self.core.spec(res).record_keys.items() if fs.nullable}

    # ------------------------------------------------------------------ fresh state
    def seed(self) -> None:
        """Create what a new Hub holds (see :mod:`._seed`)."""
        era = self.core.fake_era
        self.progression.clear()
        realm = self.insert("realms", self.vals(name="master", built_in=True))
        realm_id = realm["id"]
        admin = self.insert("users", self.vals(
            name=_seed.ADMIN_USERNAME, name_locked=True, email=_seed.ADMIN_EMAIL,
            display_name=_seed.ADMIN_USERNAME, realm_id=realm_id))
        self.store.passwords[admin["id"]] = _seed.ADMIN_PASSWORD
        roles = [self.insert("roles", self.vals(name=n, built_in=True)) for n in era.roles]
        for n in _seed.AUTHUP_PERMISSIONS:
            self.insert("permissions", self.vals(name=n, built_in=True))
        for n in _seed.HUB_PERMISSIONS:
            self.insert("permissions", self.vals(name=n, built_in=False))
        self.insert("user-roles", self.vals(user_id=admin["id"], role_id=roles[0]["id"],
                                            user_realm_id=realm_id))
        if era.builtin_clients:  # authup beta.24 had none (legacy 008, 044)
            for c in _seed.CLIENTS:
                self.insert("clients", {**self.vals(**{to_snake(k): v for k, v in c.items()}),
                                        self.w("realm_id"): realm_id})
        for name in era.robots:  # legacy 036
            self.insert("robots", self.vals(name=name, secret=self.core.secret(64), realm_id=realm_id))
        self.sync_master_images()

    def admin_actor(self) -> Actor:
        user = self.store.find("users", "name", _seed.ADMIN_USERNAME)
        assert user is not None, "the seeded admin user is gone"
        realm = self.master_realm()
        return Actor("user", user["id"], user["name"], realm["id"], realm["name"])

    # ------------------------------------------------------------------ generic CRUD
    def list(self, ctx: Ctx) -> FakeResponse:
        from ._rapiq import ListQuery  # noqa: PLC0415

        res = ctx.res
        spec = self.core.spec(res)
        query = ListQuery.parse(spec, ctx.req.params, grammar=self.core.grammar)
        items, meta = query.run(self.store.all(res.name), self.core.related(res))
        return FakeResponse.json(200, {"data": items, "meta": self.list_meta(spec, meta, ctx)})

    def list_meta(self, spec, meta: dict, ctx: Ctx) -> dict:
        """``{total, limit, offset, schema}`` on 0.14; the era's meta keys on older Hubs."""
        if self.core.dialect_of(ctx.service).list_schema:
            return {"total": meta.get("total"), "limit": meta.get("limit"),
                    "offset": meta.get("offset"), "schema": self.core.list_schema(spec)}
        # ``{total}`` without ``page[...]`` where the handler pages through ``applyQuery`` (the
        # default, 127), ``{total, limit, offset}`` where it pages explicitly (nodes 062)
        paged = any(k.startswith("page[") for k, _ in ctx.req.params)
        keys = (spec.meta_keys if paged else spec.meta_keys_without_page) or \
            (("total", "limit", "offset") if paged else ("total",))
        return {k: meta[k] for k in ("total", "limit", "offset") if k in meta and k in keys}

    def get(self, ctx: Ctx) -> FakeResponse:
        from ._rapiq import ListQuery  # noqa: PLC0415

        res = ctx.res
        spec = self.core.spec(res)
        record = self.core.find_record(res, ctx.args["id"], by_name=spec.supports("get_by_name"))
        if record is None and spec.operations["get"].unknown_id_status == 500:
            # 0.8.5 analysis buckets (and their files): an unknown id fails in the database
            # (legacy additions 337-339), so "missing" cannot be told from the status
            raise FakeError(500, "undefined" if self.core.dialect.legacy_errors else "internal_error",
                            "An internal server error occurred.")
        if record is None:
            raise not_found(self.core.singular(res))
        shaped = ListQuery.parse(spec, ctx.req.params, grammar=self.core.grammar).shape(
            record, self.core.related(res))
        # authup adds a record's protocol attributes after the query's field selection (208, 212)
        shaped.update({k: record[k] for k in self._branch_only(spec) if k in record})
        meta = {"schema": self.core.record_schema(spec)} if self.core.dialect_of(ctx.service).list_schema \
            else None
        return FakeResponse.json(200, self.core.envelope(shaped, meta))

    def create(self, ctx: Ctx) -> FakeResponse:
        res = ctx.res
        spec = self.core.spec(res)
        values = validate(self.body(ctx), spec.create_required, spec.create_optional,
                          nullable=self._nullable(res), grouped=ctx.service == "auth")
        branch = None
        if spec.create_one_of:  # the second stage: one branch's keys (identity providers)
            branch, attributes = validate_one_of(self.body(ctx), spec.create_one_of,
                                                 legacy=self.core.dialect_of(ctx.service).legacy_errors)
        self._check_references(res, values, {**spec.create_required, **spec.create_optional})
        sent = dict(values)  # what the body set (the answer embeds its relations)
        hook = self._before_create.get(res.name)
        if hook:
            hook(ctx, values)
        record = self.core.new_record(res, values, ctx.actor)
        if branch is not None:  # a record holds the attributes of its own branch only (208, 212)
            for key in self._branch_only(spec):
                record.pop(key, None)
            record.update(attributes)
            for key in branch.get("answer_drops_null", ()):
                if record.get(key) is None:
                    record.pop(key)
        self._check_unique(res, record, None)
        self.store.insert(res.name, record)
        before = self._stale(res, record)
        self._after(ctx, res, record, "create", values)
        op = spec.operations["create"]
        answer = self.core.answer_record(res, {**record, **before}, embeds="create", sent=sent)
        if branch is not None:  # no write-only null for another branch's attribute (207: no user)
            branch_only = self._branch_only(spec)
            answer = {k: v for k, v in answer.items() if k in record or k not in branch_only}
        return FakeResponse.json(op.status or 201, self.core.envelope(answer))

    def update(self, ctx: Ctx) -> FakeResponse:
        res = ctx.res
        spec = self.core.spec(res)
        by_name = ctx.service == "auth" and spec.supports("get_by_name")  # POST /realms/{name} (notes)
        record = self.core.find_record(res, ctx.args["id"], by_name=by_name)
        if record is None:
            raise not_found(self.core.singular(res))
        required = {k: spec.update_fields[k] for k in spec.update_required}  # in the Hub's order (333)
        optional = {k: fs for k, fs in spec.update_fields.items() if k not in required}
        values = validate(self.body(ctx), required, optional, nullable=self._nullable(res),
                          grouped=ctx.service == "auth")
        self._check_references(res, values, spec.update_fields)
        self._check_unique(res, {**record, **values}, record.get("id"))
        changes = {k: v for k, v in values.items() if k in record and k != "id"}
        if changes:
            record.update(changes)
            record[self.w("updated_at")] = self.core.now()
        before = self._stale(res, record)
        self._after(ctx, res, record, "update", values)
        answer = self.core.answer_record(res, {**record, **before}, embeds=None, sent=values)
        return FakeResponse.json(spec.operations["update"].status or 202, self.core.envelope(answer))

    def delete(self, ctx: Ctx) -> FakeResponse:
        res = ctx.res
        record = self.store.get(res.name, ctx.args["id"])
        if record is None:
            raise not_found(self.core.singular(res))
        check = self._before_delete.get(res.name)
        if check:
            check(ctx, record)
        self.remove(res, record, ctx)
        # the deleted entity as loaded: without its hidden columns (legacy 043: no robot secret)
        # and without the attributes of a one_of branch (213, legacy 313)
        answer = self.core.answer_record(res, record, embeds="delete")
        branch_only = self._branch_only(self.core.spec(res))
        if branch_only:
            answer = {k: answer.get(k) for k in self.core.spec(res).record_keys if k not in branch_only}
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
        for group in spec.unique:  # each key group on its own (registries: name, host; 215, 216)
            self._refuse_duplicate(res, values, own_id, list(group))
        op = spec.operations.get("create")
        duplicate = op.duplicate_status if op else None
        if spec.unique or (duplicate is not None and duplicate < 400):
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
        self._refuse_duplicate(res, values, own_id, keys)

    def _refuse_duplicate(self, res: Resource, values: dict, own_id: str | None, keys: builtins.list[str]) -> None:
        """409 when another record has the same values of ``keys`` (the first one not null)."""
        if any(values.get(k) is None for k in keys[:1]):
            return
        for other in self.store.iter(res.name):
            if other.get("id") != own_id and all(other.get(k) == values.get(k) for k in keys):
                raise FakeError(409, "entity_conflict",
                                "An entry with some unique attributes already exists.")  # 032, 076

    def remove(self, res: Resource, record: dict, ctx: Ctx | None = None) -> None:
        """Delete a record, then what cannot live without it (same service), then its effects."""
        self.store.remove(res.name, record["id"])
        self.progression.forget(record["id"])
        removing = self._on_remove.get(res.name)
        if removing:
            removing(ctx, record)
        for other in resources_of(res.service, self.core.era):
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
        if not values.get(key) and self.core.spec(ctx.res).generates_name:
            values[key] = (f"{random.choice(_seed.ADJECTIVES)}-{random.choice(_seed.NOUNS)}-"
                           f"{random.getrandbits(24):06x}")

    def _client_secret(self, ctx: Ctx, values: dict) -> None:
        key = self.w("secret")
        if values.get(key) is None:
            values[key] = self.core.secret()

    def _robot_defaults(self, ctx: Ctx, values: dict) -> None:
        """``POST /robots {}`` succeeds: name and secret are generated (resources.json notes)."""
        self._client_secret(ctx, values)
        if not values.get("name"):
            values["name"] = f"robot-{self.core.secret(12)}"

    def _analysis_defaults(self, ctx: Ctx, values: dict) -> None:
        """A generated name where the era has them; the project's master image unless the body
        names one (additions 229)."""
        self._generate_name(ctx, values)
        key = self.w("master_image_id")
        if key not in values and key in self.core.spec(ctx.res).record_keys:
            project = self.store.get("projects", values.get(self.w("project_id"))) or {}
            values[key] = project.get(key)

    def _check_analysis_node(self, ctx: Ctx, values: dict) -> None:
        analysis = self.store.get("analyses", values.get(self.w("analysis_id")))
        node_id = values.get(self.w("node_id"))
        if analysis and analysis.get(self.w("configuration_locked")) and self.core.fake_era.analysis_provisioning:
            raise FakeError(400, "bad_request", "The analysis has already been locked and can "
                            "therefore no longer be modified.")  # server-core AnalysisNodeService
        project_id = analysis.get(self.w("project_id")) if analysis else None
        if not any(pn.get(self.w("project_id")) == project_id and pn.get(self.w("node_id")) == node_id
                   for pn in self.store.iter("project-nodes")):
            raise FakeError(404, "entity_not_found",
                            "The referenced node is not part of the analysis project.")  # notes

    def _inherit_analysis(self, ctx: Ctx, values: dict) -> None:
        """An analysis bucket file belongs to its analysis bucket's analysis (its foreign key
        is ``analysisBucketId`` on 0.14, ``bucket_id`` on 0.8.5)."""
        bucket = next((self.store.get("analysis-buckets", v) for k, v in values.items()
                       if to_snake(k).endswith("_id")
                       and self.core.target_of(ctx.res, to_snake(k)[:-3]) is get_resource("analysis-buckets")),
                      None)
        if bucket:
            values.setdefault(self.w("analysis_id"), bucket.get(self.w("analysis_id")))

    def _log_entry(self, ctx: Ctx, values: dict) -> None:
        """A node log entry is ``{time, level, channel, service, message, labels}``; the labels
        name what it is about (``refType``), the analysis, the node, and code and status
        (additions 263)."""
        labels = {"refType": "analysisNode", **(values.get("labels") or {})}
        for attr in ("analysis_id", "node_id", "code", "status"):
            if values.get(self.w(attr)) is not None:
                labels[self.w(attr)] = values[self.w(attr)]
        values["labels"] = labels
        values["time"] = self.core.now()

    def _bucket_deletable(self, ctx: Ctx, bucket: dict) -> None:
        """Hub 0.8.5 removes the object-store bucket first, which refuses while files are in it:
        500 ``BucketNotEmpty`` and nothing is deleted (legacy additions 320-322, 336)."""
        if self.core.fake_era.bucket_delete_needs_empty and any(
                f.get(self.w("bucket_id")) == bucket["id"] for f in self.store.iter("bucket-files")):
            raise FakeError(500, "BucketNotEmpty", "An internal server error occurred.")

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
            self.recount()
        if event != "create":
            return
        actor = ctx.actor if ctx else None
        realm_id = node.get(self.w("realm_id"))
        # a node's identity in authup: a robot while authup has them (legacy 053), else a client
        principal, key = ("robots", "robot_id") if self.core.auth_dialect.robots else ("clients", "client_id")
        if self.w(key) in node and node.get(self.w(key)) is None:
            record = self.insert(principal, self.vals(
                name=node["id"], display_name=node["id"], secret=self.core.secret(64),
                realm_id=realm_id), actor)
            node[self.w(key)] = record["id"]
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
        if self.w("client_id") in analysis:
            analysis[self.w("client_id")] = None
        for link in list(self.store.iter("analysis-buckets")):
            if link.get(self.w("analysis_id")) == analysis["id"]:
                bucket = self.store.get("buckets", link.get(self.w("bucket_id")))
                if bucket:
                    self.remove(get_resource("buckets"), bucket, ctx)

    def _analysis_created(self, ctx: Ctx | None, analysis: dict, event: str, values: dict) -> None:
        if event == "create" and self.core.fake_era.analysis_provisioning:  # not on 0.8.5 (legacy 120)
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
            self.queue_analysis_buckets(analysis)  # storage's buckets, via the broker
        self.recount()

    def _bucket_file_written(self, ctx: Ctx | None, record: dict, event: str, values: dict) -> None:
        """A root file in the CODE bucket is the entrypoint: recalculated at once (248)."""
        if event != "delete":
            self.recount()

    def _analysis_node_written(self, ctx: Ctx | None, link: dict, event: str, values: dict) -> None:
        """Unless the Hub skips approval, a non-aggregator node is asked to approve (its answer
        comes with the progression); then the analysis's counters and flags follow."""
        if event == "create" and not self.skip_analysis_approval:
            node = self.store.get("nodes", link.get(self.w("node_id"))) or {}
            if node.get("type") != "aggregator":
                link[self.w("approval_status")] = None
                self.queue_approval(link)
        self.recount()

    def _user_written(self, ctx: Ctx | None, record: dict, event: str, values: dict) -> None:
        if event in ("create", "update") and values.get("password"):
            self.store.passwords[record["id"]] = values["password"]
        self._principal_written(ctx, record, event, values)

    def _principal_written(self, ctx: Ctx | None, record: dict, event: str, values: dict) -> None:
        if event == "delete":
            self.core.tokens.revoke_actor(record["id"])

    def recount(self, *_: Any) -> None:
        """Counters of projects and analyses, and the analyses' node and image flags (062, 064;
        additions 240: an analysis with a master image has ``configurationImageValid``)."""
        w = self.w
        per_project_nodes: dict[Any, int] = {}
        for pn in self.store.iter("project-nodes"):
            per_project_nodes[pn.get(w("project_id"))] = per_project_nodes.get(pn.get(w("project_id")), 0) + 1
        per_project_analyses: dict[Any, int] = {}
        for a in self.store.iter("analyses"):
            per_project_analyses[a.get(w("project_id"))] = per_project_analyses.get(a.get(w("project_id")), 0) + 1
        for p in self.store.iter("projects"):
            self.set_attr(p, "nodes", per_project_nodes.get(p["id"], 0))
            self.set_attr(p, "analyses", per_project_analyses.get(p["id"], 0))
        children: dict[Any, list[dict]] = {}
        for an in self.store.iter("analysis-nodes"):
            children.setdefault(an.get(w("analysis_id")), []).append(an)
        entrypoints = self.analyses_with_entrypoint()
        for a in self.store.iter("analyses"):
            self.recalc_analysis(a, children.get(a["id"], []), a["id"] in entrypoints)
