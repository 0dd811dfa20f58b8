"""The special routes of the fake Hub (commands, credentials, logs, upload, streams).

Each handler serves one ``special_routes`` entry of the registry (``Behaviour.special_handler``
maps ``(resource, route name)`` to it); statuses and bodies follow resources.json.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import tarfile
import time
from typing import TYPE_CHECKING

from .._naming import to_snake
from ..resources import FieldSpec, get_resource
from . import _seed
from ._validate import validate
from ._parts import BehaviourParts
from ._wire import FakeError, FakeResponse, not_found

if TYPE_CHECKING:  # pragma: no cover
    from ._core import Ctx

class SpecialRoutes(BehaviourParts):
    """Mixin of :class:`._behaviour.Behaviour`: the handlers of the special routes."""

    def client_credentials(self, ctx: Ctx) -> FakeResponse:
        """``GET|POST /nodes|analyses/{id}/client/credentials``: the record's authup client, flat
        (056). POST may set ``secret`` (null: a new random one), ``name``, ``displayName``;
        wrong types answer 500 as recorded (resources.json special routes)."""
        owner = self.find(ctx)
        client = self.store.get("clients", owner.get(self.w("client_id")))
        if client is None:
            raise not_found("client")
        if ctx.req.method == "POST":
            body = self.body(ctx)
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
        node = self.find(ctx)
        project = self.store.get("registry-projects", node.get(self.w("registry_project_id")))
        if project is None:
            raise FakeError(400, "bad_request", "The node has no registry project provisioned yet.")
        registry = self.store.get("registries", project.get(self.w("registry_id"))) or {}
        return FakeResponse.json(200, {
            "host": registry.get("host"), "externalName": project.get(self.w("external_name")),
            "accountName": project.get(self.w("account_name")),
            "accountSecret": project.get(self.w("account_secret"))})

    def analysis_command(self, ctx: Ctx) -> FakeResponse:
        """``POST /analyses/{id}/command``: the command is validated first ("Invalid command.",
        069; legacy 121), then the analysis is looked up and the state machine applies it
        (:mod:`._analysis`): 202 with the analysis, or the Hub's refusal."""
        res = ctx.res
        route = self.core.spec(res).special_routes["command"]
        command = self.body(ctx).get("command")
        if command not in (route.body or {}).get("command", {}).get("enum", ()):
            # the legacy validator names the attribute (legacy 121)
            issue = {"type": "item", "path": ["command"], "code": "one_of_failed",
                     "message": "Invalid command."}
            raise FakeError(400, "bad_request", "Invalid command.",
                            issues=[issue] if self.core.dialect.legacy_errors else [],
                            received={"command": command})
        analysis = self.find(ctx)
        self.run_analysis_command(ctx, analysis, str(command))
        return FakeResponse.json(202, self.core.envelope(self.core.answer_record(res, analysis, embeds=None)))

    def analysis_client_permissions(self, ctx: Ctx) -> FakeResponse:
        analysis = self.find(ctx)
        client_id = analysis.get(self.w("client_id"))
        items = [r for r in self.store.iter("client-permissions") if r.get(self.w("client_id")) == client_id]
        meta = {"total": len(items), "limit": len(items), "offset": 0}
        return FakeResponse.json(200, {"data": items, "meta": meta})

    def add_analysis_client_permission(self, ctx: Ctx) -> FakeResponse:
        analysis = self.find(ctx)
        permission_id = self.body(ctx).get(self.w("permission_id"))
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
        analysis = self.find(ctx)
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
        from ._rapiq import ListQuery, key_value  # noqa: PLC0415

        spec = self.core.spec(ctx.res)
        ListQuery.parse(spec, ctx.req.params, grammar=self.core.grammar)
        wanted = {k[len("filter["):-1]: v for k, v in ctx.req.params
                  if k.startswith("filter[") and k[len("filter["):-1] in spec.required_filters}
        self.store.remove_where(ctx.res.name,
                                lambda r: all(str(key_value(r, k)) == v for k, v in wanted.items()))
        return FakeResponse.json(202, {})

    def master_image_command(self, ctx: Ctx) -> FakeResponse:
        """``POST /master-images/command``: ``sync`` asks the worker to read the master-images
        repository, ``build`` sets the image's ``buildStatus`` to starting and asks the worker
        to build it (both move on with the progression, :mod:`._progress`). 202 with the image,
        or ``data: null`` for a sync (server-core ``MasterImageService.executeCommand``)."""
        body = self.body(ctx)
        route = self.core.spec(ctx.res).special_routes["command"]
        command = body.get("command")
        if command not in route.body["command"]["enum"]:
            raise FakeError(400, "bad_request", f"Unknown command: {command}")
        image = None
        if command == "build":
            if not isinstance(body.get("id"), str) or not body["id"]:
                raise FakeError(400, "bad_request", "A valid master image id is required.")
            image = self.store.get("master-images", body["id"])
            if image is None:
                raise not_found("master-image")
            self.queue_master_image_build(image)
        else:
            self.queue_master_image_sync()
        return FakeResponse.json(202, self.core.envelope(image) if self.core.dialect.record_envelope
                                 else image or {})

    def registry_command(self, ctx: Ctx) -> FakeResponse:
        """``POST /services/registry/command``: ``setup`` creates the registry's incoming,
        outgoing and masterImages projects (flame-hub-client 1.1.0's registry setup); ``cleanup``
        removes them."""
        body = self.body(ctx)
        route = self.core.spec(ctx.res).special_routes["registry_command"]
        command = body.get("command")
        if command not in route.body["command"]["enum"]:
            raise FakeError(400, "bad_request", f"Unknown command: {command}")
        registry = self.store.get("registries", body.get("id"))
        if command not in ("setup", "cleanup", "delete"):
            return FakeResponse.json(202, {})
        if registry is None:
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
        answered 201 with a list envelope (088). The part's content type is not stored
        (additions 269-270: a bucket file has none)."""
        bucket = self.find(ctx)
        parts = _multipart(ctx.req.header("content-type"), ctx.req.body)
        if parts is None:
            raise FakeError(400, "bad_request", "A multipart content-type header is required.")
        actor = ctx.actor
        files = []
        for filename, content, _part_type in parts:
            directory, _, name = filename.rpartition("/")
            record = self.insert("bucket-files", self.vals(
                name=name, path=filename, hash=hashlib.sha256(content).hexdigest(),
                directory=directory or ".", size=len(content),
                actor_type=actor.kind if actor else None, actor_id=actor.id if actor else None,
                realm_id=bucket.get(self.w("realm_id")) or (actor.realm_id if actor else None),
                bucket_id=bucket["id"]), actor)
            self.store.blobs[record["id"]] = content
            files.append(record)
        self.queue_upload_records(files)  # on a full deployment: analysis-bucket-files (broker)
        return FakeResponse.json(201, {"data": files, "meta": {"total": len(files)}})

    def bucket_stream(self, ctx: Ctx) -> FakeResponse:
        """``GET /buckets/{id}/stream``: a tar archive of the bucket's files."""
        bucket = self.find(ctx)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for f in self.store.iter("bucket-files"):
                if f.get(self.w("bucket_id")) != bucket["id"]:
                    continue
                content = self.store.blobs.get(f["id"], b"")
                info = tarfile.TarInfo(f.get("path") or f.get("name") or f["id"])
                info.size = len(content)
                info.mtime = int(time.time())
                tar.addfile(info, io.BytesIO(content))
        return FakeResponse(200, buf.getvalue(), [("content-type", "application/x-tar")])

    def bucket_file_stream(self, ctx: Ctx) -> FakeResponse:
        """``GET /bucket-files/{id}/stream``: the file's bytes, typed by the file name's extension
        (``text/csv; charset=utf-8``), else ``application/octet-stream``, whatever type the
        upload gave (additions 271-274); Hub 0.8.5 says ``application/gzip`` (legacy 143)."""
        record = self.find(ctx)
        content = self.store.blobs.get(record["id"], b"")
        content_type = self.core.fake_era.file_stream_type or _type_by_name(record.get("name") or "")
        return FakeResponse(200, content, [("content-type", content_type)])


_MIME_TYPES = mimetypes.MimeTypes()  # the built-in table only: the same on every machine


def _type_by_name(name: str) -> str:
    """The content type a file name's extension gives (routup's attachment header), text types
    with ``charset=utf-8``; ``application/octet-stream`` for an unknown extension."""
    kind, _ = _MIME_TYPES.guess_type(name, strict=False)
    if kind is None:
        return "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") else kind


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
