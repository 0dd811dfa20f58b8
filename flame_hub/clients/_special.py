"""Special operations: commands, credentials, scoped log deletes, upload, streams, download.

Each is one plan (or stream request) written once for the sync and the async client; routes,
bodies and allowed command values come from the registry's ``special_routes``. Helpers that
exist for several resources (client credentials of nodes and analyses, commands, log bulk
deletes) are produced for every resource whose catalog entry has the route.
"""

from __future__ import annotations

import inspect
import io
import mimetypes
import os
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Union

from .._http import DEFAULT, SUCCESS
from .._responses import parse_json, unwrap_list
from .._naming import to_snake, with_article
from .._responses import error_from_response
from ..errors import Conflict
from ..models import UNSET, list_adapter, model_for
from ..models import (
    ClientCredentials,
    NodeRegistryCredentials,
    UpdateClientCredentials,
)
from ..resources import ERAS, REGISTRY, Resource
from ._helpers import (
    AUTH_PARAM,
    DownloadRequest,
    Helper,
    StreamRequest,
    keyword_param,
    operation_path,
    parse_record,
    route_path,
    positional_param,
    special_route,
    check_id,
)
from ._plan import Call

if TYPE_CHECKING:
    from .._http import AuthArg
    from ..models import BucketFile
    from ..types import UuidIdentifiable

#: What ``upload_to_bucket`` takes per file: a path, ``(file_name, content[, content_type])``,
#: an UploadFile mapping ``{"file_name", "content", "content_type"?}`` or an open binary file.
UploadSource = Union[str, "os.PathLike[str]", tuple, Mapping[str, Any], IO[bytes]]
#: ``progress=`` of uploads and downloads: ``progress(bytes_done, bytes_total_or_None)``, or a
#: progress bar with ``update(n)`` (and a ``total`` attribute), such as a ``tqdm`` instance
ProgressArg = Union[Callable[[int, Union[int, None]], object], Any, None]

_DEFAULT_CHUNK = 65536


def _routes_named(name: str, service: str) -> list[Resource]:
    """Resources of ``service`` that have a special route ``name`` on some era."""
    return [
        r for r in REGISTRY.values()
        if r.service == service
        and any(r.eras[e].available and name in r.eras[e].special_routes for e in ERAS)
    ]


def _route_returns_record(route: Any) -> bool:
    return any(200 <= r.get("status", 0) < 300 and r.get("envelope") == "record"
               for r in route.responses)


def _allowed(route: Any, key: str) -> tuple[str, ...] | None:
    spec = (route.body or {}).get(key) if isinstance(route.body, dict) else None
    values = spec.get("enum") if isinstance(spec, dict) else None
    return tuple(values) if values else None


def _check_command(client: Any, res: Resource, route: Any, command: Any) -> str:
    value = getattr(command, "value", command)
    allowed = _allowed(route, "command")
    if not isinstance(value, str) or (allowed and value not in allowed):
        raise ValueError(
            f"unknown {res.singular.replace('_', ' ')} command {command!r} for the Hub "
            f"{client.dialect.name} era; allowed: {', '.join(allowed or ())}"
        )
    return value


# --- commands ----------------------------------------------------------------------------------

def _command_helper(res: Resource, route_name: str) -> Helper:
    """``send_<x>_command(<x>_id, command, **extra body keys)``: the id goes into the path when
    the route has ``{id}``, else into the body (registry commands)."""
    id_name = f"{res.singular}_id"
    extra = [k for era in ERAS if res.eras[era].available and route_name in res.eras[era].special_routes
             for k in (res.eras[era].special_routes[route_name].body or {}) if k not in ("command", "id")]
    params = [positional_param(id_name, annotation="UuidIdentifiable"),
              positional_param("command", annotation=f"{res.model_name}Command | str"),
              *[keyword_param(to_snake(k), UNSET, "str | None") for k in dict.fromkeys(extra)], AUTH_PARAM]
    returns_record = any(_route_returns_record(res.eras[e].special_routes[route_name]) for e in ERAS
                         if res.eras[e].available and route_name in res.eras[e].special_routes)
    sig = inspect.Signature(params, return_annotation=model_for(res).__name__ if returns_record else "None")
    name = f"send_{res.singular}_command"

    def plan(client: Any, values: dict[str, Any]):
        route = special_route(client, res, route_name)
        ident = check_id(values.pop(id_name), id_name)
        body: dict[str, Any] = {"command": _check_command(client, res, route, values.pop("command"))}
        auth = values.pop("auth")
        if "{id}" not in route.path:
            body["id"] = ident
        body.update({client.dialect.wire_key(k): v for k, v in values.items() if v is not UNSET})
        response = yield Call(route.method, route_path(route.path, id=ident), json=body, auth=auth)
        return parse_record(client, res, response) if _route_returns_record(route) else None

    doc = (f"Send a command to {with_article(res.singular.replace('_', ' '))}; the command is checked against "
           "the values this Hub era accepts before sending."
           + (f" Returns the updated {res.singular.replace('_', ' ')}." if returns_record else ""))
    return Helper.binding(name, sig, plan, doc)


def _master_image_command(client: Any, command: str, master_image_id: Any, auth: Any):
    res = REGISTRY["master-images"]
    route = special_route(client, res, "command")
    body: dict[str, Any] = {"command": _check_command(client, res, route, command)}
    if master_image_id is not None:
        body["id"] = check_id(master_image_id, "master_image_id")
    yield Call(route.method, route_path(route.path), json=body, auth=auth)
    return None


def sync_master_images(client: Any, *, auth: AuthArg = DEFAULT) -> None:
    """Ask the Hub to sync its master images from the image repository (answers at once; the
    sync runs in the background and the Hub refuses a second one while it runs)."""
    return _master_image_command(client, "sync", None, auth)


def build_master_image(client: Any, master_image_id: UuidIdentifiable, *, auth: AuthArg = DEFAULT) -> None:
    """Ask the Hub to build one master image (runs in the background)."""
    return _master_image_command(client, "build", master_image_id, auth)


#: The hand-written command helpers a resource's ``command_helpers`` (registry) may name.
_COMMAND_HELPERS: dict[str, Callable[..., Any]] = {
    fn.__name__: fn for fn in (sync_master_images, build_master_image)}


# --- credentials -------------------------------------------------------------------------------

def _get_credentials_helper(res: Resource, route_name: str, model: Any, what: str) -> Helper:
    id_name = f"{res.singular}_id"
    sig = inspect.Signature([positional_param(id_name, annotation="UuidIdentifiable"),
                             keyword_param("fields", None, "FieldParams | None"), keyword_param("meta", False, "bool"),
                             AUTH_PARAM], return_annotation=model.__name__)
    name = f"get_{res.singular}_{route_name}"

    def plan(client: Any, values: dict[str, Any]):
        route = special_route(client, res, route_name)
        ident = check_id(values[id_name], id_name)
        if values["meta"]:  # as in flame-hub-client 1.1.0: these answers carry no meta
            raise ValueError(f"{name}(): the Hub answers without meta (a bare record)")
        fields = values["fields"]
        fields = [fields] if isinstance(fields, str) else list(fields or ())
        params = [("fields", ",".join("+" + client.dialect.wire_key(to_snake(f)) for f in fields))] if fields else []
        response = yield Call(route.method, route_path(route.path, id=ident), params=params, auth=values["auth"])
        return model.model_validate(parse_json(response))

    return Helper.binding(name, sig, plan,
                          f"The {what} of {with_article(res.singular.replace('_', ' '))} (bare answer, "
                          "not wrapped in an envelope on any Hub). ``fields`` adds optional fields as "
                          "for ``get_<x>``; ``meta=True`` raises ``ValueError``.")


def _update_credentials_helper(res: Resource) -> Helper:
    id_name = f"{res.singular}_id"
    sig = inspect.Signature(
        [positional_param(id_name, annotation="UuidIdentifiable"), positional_param("secret", UNSET, "str | None"),
         positional_param("name", UNSET, "str"), positional_param("display_name", UNSET, "str"),
         AUTH_PARAM],
        return_annotation="ClientCredentials",
    )
    name = f"update_{res.singular}_client_credentials"

    def plan(client: Any, values: dict[str, Any]):
        route = special_route(client, res, "update_client_credentials")
        ident = check_id(values.pop(id_name), id_name)
        auth = values.pop("auth")
        body = UpdateClientCredentials.model_validate(values).to_body(client.dialect.wire_key)
        response = yield Call(route.method, route_path(route.path, id=ident), json=body, auth=auth)
        return ClientCredentials.model_validate(parse_json(response))

    return Helper.binding(name, sig, plan,
                          f"Change the client credentials of {with_article(res.singular.replace('_', ' '))}; only the "
                          "arguments given are sent, and ``secret=None`` makes the Hub generate a new secret.")


# --- logs ----------------------------------------------------------------------------------------

def _bulk_delete_helper(res: Resource) -> Helper:
    """``delete_<logs>(<scope ids>)``: always scoped by the list's required filters (an
    unscoped delete is impossible: every scope id is required and must be a UUID)."""
    keys = next(res.eras[e].required_filters for e in ERAS
                if res.eras[e].available and res.eras[e].required_filters)
    args = [to_snake(k) for k in keys]
    # the original client's order: analysis_id first, then node_id
    args.sort(key=lambda a: (a != "analysis_id", a))
    sig = inspect.Signature([positional_param(a, annotation="UuidIdentifiable") for a in args] + [AUTH_PARAM],
                            return_annotation="None")
    name = f"delete_{res.attr}"

    def plan(client: Any, values: dict[str, Any]):
        route = special_route(client, res, "bulk_delete")
        spec = client.dialect.spec(res)
        params = [(f"filter[{client.dialect.wire_key(to_snake(k))}]",
                   check_id(values[to_snake(k)], to_snake(k))) for k in spec.required_filters]
        if not params:
            raise ValueError(f"refusing an unscoped delete of {res.name}")
        yield Call(route.method, route_path(route.path), params=params, auth=values["auth"])
        return None

    return Helper.binding(name, sig, plan,
                          f"Delete the {res.name.replace('-', ' ')} of one scope ({', '.join(args)}); never "
                          "unscoped.")


# --- storage: upload, streams, download ----------------------------------------------------------

def _part(item: Any, opened: list[Any]) -> tuple[str, tuple[str, Any, str]]:
    """One multipart part ``(field, (filename, content, content_type))`` from what the caller gave:
    a path (``str``/``os.PathLike``, streamed from disk), a mapping ``{"file_name", "content",
    "content_type"?}`` (flame-hub-client's UploadFile), a tuple ``(file_name, content[,
    content_type])`` or an open binary file. Content may be bytes, str or a binary file object."""
    content_type = None
    if isinstance(item, (str, os.PathLike)):
        path = Path(item)
        handle = path.open("rb")
        opened.append(handle)
        file_name, content = path.name, handle
    elif isinstance(item, Mapping):
        unknown = set(item) - {"file_name", "content", "content_type"}
        if unknown or "file_name" not in item or "content" not in item:
            raise ValueError("an upload mapping needs 'file_name' and 'content' (and optionally "
                             f"'content_type'), got keys {sorted(item)}")
        file_name, content, content_type = item["file_name"], item["content"], item.get("content_type")
    elif isinstance(item, tuple) and len(item) in (2, 3):
        file_name, content = item[0], item[1]
        content_type = item[2] if len(item) == 3 else None
    elif hasattr(item, "read"):
        file_name = os.path.basename(getattr(item, "name", "") or "")
        if not file_name:
            raise ValueError("a file object without a .name needs a name: pass (file_name, fileobj)")
        content = item
    else:
        raise ValueError(
            "upload items are paths, (file_name, content[, content_type]) tuples, "
            f"{{'file_name', 'content', 'content_type'}} mappings or open binary files, not {item!r}"
        )
    if not isinstance(file_name, str) or not file_name:
        raise ValueError(f"file_name must be a non-empty string, not {file_name!r}")
    if isinstance(content, str):
        content = content.encode("utf-8")
    elif not isinstance(content, (bytes, bytearray)) and not hasattr(content, "read"):
        raise ValueError(f"content of {file_name!r} must be bytes, str or a binary file object")
    if content_type is None:
        content_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
    # field names are random (the Hub accepts any; flame-hub-client did the same)
    return uuid.uuid4().hex, (file_name, content, content_type)


def progress_callback(progress: ProgressArg) -> Callable[[int, int | None], object] | None:
    """``progress=`` as a callback ``(bytes_done, bytes_total_or_None)``: a callable as it is, a
    bar with ``update(n)`` (tqdm) wrapped, ``None`` as it is; anything else is refused."""
    if progress is None or callable(progress):
        return progress
    if callable(getattr(progress, "update", None)):
        return _BarProgress(progress)
    raise ValueError("progress must be a callable progress(bytes_done, bytes_total_or_None) or a "
                     f"progress bar with update(n) such as tqdm, not {progress!r}")


class _BarProgress:
    """Drives a bar with ``update(n)`` (tqdm and look-alikes) from ``(done, total)`` calls."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.done = 0

    def __call__(self, done: int, total: int | None) -> None:
        if total is not None and getattr(self.bar, "total", None) != total:
            self.bar.total = total  # tqdm then shows the percentage and the ETA
        self.bar.update(done - self.done)
        self.done = done


def _length(content: Any) -> int | None:
    """The size of an upload part's content, without reading it (None when unknown). The whole
    file, like httpx, which sends a file object from its start."""
    if isinstance(content, (bytes, bytearray)):
        return len(content)
    try:
        return os.fstat(content.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        pass
    try:
        here = content.tell()
        end = content.seek(0, os.SEEK_END)
        content.seek(here)
        return end
    except (AttributeError, OSError, ValueError):
        return None


class _UploadMeter:
    """Counts the bytes httpx reads from the upload parts and reports them to ``progress``."""

    def __init__(self, progress: Callable[[int, int | None], object], contents: list[Any]) -> None:
        self.progress = progress
        lengths = [_length(c) for c in contents]
        self.total = None if None in lengths else sum(lengths)  # type: ignore[arg-type]
        self.done = 0

    def advance(self, n: int) -> None:
        if n:
            self.done += n
            self.progress(self.done, self.total)


class _CountingReader:
    """A part's content as httpx reads it, each read reported to the meter. Everything else
    (``fileno``, ``tell``, ``seek``, ``name``; and their absence) passes through, so httpx treats
    it as it would the content itself (e.g. still computes the Content-Length)."""

    def __init__(self, raw: Any, meter: _UploadMeter) -> None:
        self._raw = raw
        self._meter = meter

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self._meter.advance(len(chunk))
        return chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def _metered(parts: list[tuple[str, tuple[str, Any, str]]], progress: Callable[[int, int | None], object]
             ) -> list[tuple[str, tuple[str, Any, str]]]:
    """The parts with their contents wrapped to report upload progress."""
    contents = [io.BytesIO(c) if isinstance(c, (bytes, bytearray)) else c
                for _field, (_name, c, _type) in parts]
    meter = _UploadMeter(progress, contents)
    return [(field, (name, c if isinstance(c, io.TextIOBase) else _CountingReader(c, meter), ctype))
            for (field, (name, _c, ctype)), c in zip(parts, contents, strict=True)]  # text: httpx refuses it


# A plan's return annotation is the result of the client method it becomes (the stubs read it),
# not its generator type: the two plans below that are generators by themselves say so to mypy.
def upload_to_bucket(client: Any, bucket_id: UuidIdentifiable, *files: UploadSource,  # type: ignore[misc]
                     progress: ProgressArg = None, auth: AuthArg = DEFAULT) -> list[BucketFile]:
    """Upload files into a bucket (one multipart request, streamed from disk for paths) and
    return the created :class:`~flame_hub.models.BucketFile` records. Each part keeps its own
    content type (given, or guessed from the file name); the caller's objects are not changed.
    ``progress(bytes_done, bytes_total)`` is called as the files' bytes are sent (``bytes_total``
    is ``None`` when a file object's size cannot be known); a tqdm bar works too."""
    res = REGISTRY["buckets"]
    route = special_route(client, res, "upload")
    ident = check_id(bucket_id, "bucket_id")
    if not files:
        raise ValueError("upload_to_bucket() needs at least one file")
    report = progress_callback(progress)
    opened: list[Any] = []
    try:
        parts = [_part(item, opened) for item in files]
        if report is not None:
            parts = _metered(parts, report)
        response = yield Call(route.method, route_path(route.path, id=ident), files=parts, auth=auth)
    finally:
        for handle in opened:
            handle.close()
    data, _meta = unwrap_list(response)
    return list_adapter(model_for("bucket-files")).validate_python(data)


def delete_bucket(client: Any, bucket_id: UuidIdentifiable, *, force: bool = False,  # type: ignore[misc]
                  auth: AuthArg = DEFAULT) -> None:
    """Delete a bucket (raises NotFound if there is none).

    A bucket that still holds files cannot be deleted on Hub 0.8.5: the Hub answers 500
    ``BucketNotEmpty`` and deletes nothing (tests/hub-recordings/0.8.5 additions 320-322). That answer
    raises :class:`~flame_hub.errors.Conflict` saying so. ``force=True`` deletes the bucket's
    files first (one list request per 50 files and one delete per file), then the bucket.
    """
    if not isinstance(force, bool):
        raise ValueError(f"force must be True or False, not {force!r}")
    res = REGISTRY["buckets"]
    ident = check_id(bucket_id, "bucket_id")
    path = route_path(operation_path(client, res, "delete"), id=ident)
    if force:
        files = REGISTRY["bucket-files"]
        key = f"filter[{client.dialect.spec(files).wire_key('bucket_id')}]"
        while True:  # always the first page: each round deletes what it lists
            response = yield Call("GET", route_path(operation_path(client, files, "list")), auth=auth,
                                  params=[(key, ident), ("page[limit]", "50"), ("page[offset]", "0")])
            data, _meta = unwrap_list(response)
            if not data:
                break
            for item in data:
                yield Call("DELETE", route_path(operation_path(client, files, "delete"), id=check_id(item.get("id"))),
                           auth=auth)
    response = yield Call("DELETE", path, auth=auth, expected=(*SUCCESS, 500))
    if response.status_code == 500:
        error = error_from_response(response)
        if error.code != "BucketNotEmpty":
            raise error
        raise Conflict(
            "the bucket still holds files, and this Hub deletes only empty buckets (nothing was "
            "deleted): delete its files first, or call delete_bucket(bucket, force=True)",
            status_code=500, code=error.code, method=error.method, url=error.url, body=error.body,
            payload=error.payload, response=response)
    return None


def _stream_helper(res: Resource, name: str, doc: str) -> Helper:
    id_name = f"{res.singular}_id"
    sig = inspect.Signature([positional_param(id_name, annotation="UuidIdentifiable"),
                             positional_param("chunk_size", _DEFAULT_CHUNK, "int"), AUTH_PARAM],
                            return_annotation="ByteStream")

    def plan(client: Any, values: dict[str, Any]) -> StreamRequest:
        route = special_route(client, res, "stream")
        ident = check_id(values[id_name], id_name)
        return StreamRequest(route_path(route.path, id=ident), values["auth"], values["chunk_size"])

    return Helper.binding(name, sig, plan, doc, kind="stream")


def _download_helper(res: Resource, name: str, stream: Helper, what: str) -> Helper:
    """``download_<x>(id, path, progress=)``: a stream helper's body saved to a file."""
    id_name = f"{res.singular}_id"
    sig = inspect.Signature(
        [positional_param(id_name, annotation="UuidIdentifiable"),
         positional_param("path", annotation="str | os.PathLike[str]"),
         keyword_param("progress", None, "ProgressArg"),
         keyword_param("chunk_size", _DEFAULT_CHUNK, "int"), AUTH_PARAM],
        return_annotation="Path",
    )

    def plan(client: Any, values: dict[str, Any]) -> DownloadRequest:
        destination = values["path"]
        if not isinstance(destination, (str, os.PathLike)):
            raise ValueError(f"path must be a file path, not {destination!r}")
        progress = progress_callback(values["progress"])
        request = stream.plan(client, values[id_name], values["chunk_size"], auth=values["auth"])
        return DownloadRequest(request, Path(destination), progress)

    return Helper.binding(
        name, sig, plan,
        f"Download {what} to ``path`` (streamed in chunks; written to a temporary file "
        "next to it and renamed when complete, so a failed download leaves no partial file). "
        "``progress(bytes_done, bytes_total)`` is called after each chunk (``bytes_total`` is "
        "``None`` when the Hub sends no length); a tqdm bar works too. Returns the path.",
        kind="download",
    )


class DownloadSink:
    """Sans-IO part of a download: temp file, progress, atomic rename (used by both shells)."""

    def __init__(self, request: DownloadRequest, total: int | None) -> None:
        self.request = request
        self.total = total
        self.done = 0
        target = request.destination
        target.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        self._handle = self._tmp.open("wb")

    def write(self, chunk: bytes) -> None:
        self._handle.write(chunk)
        self.done += len(chunk)
        if self.request.progress is not None:
            self.request.progress(self.done, self.total)

    def commit(self) -> Path:
        self._handle.close()
        os.replace(self._tmp, self.request.destination)
        return self.request.destination

    def abort(self) -> None:
        self._handle.close()
        self._tmp.unlink(missing_ok=True)


def content_length(response: Any) -> int | None:
    try:
        value = int(response.headers.get("content-length", ""))
    except (AttributeError, TypeError, ValueError):
        return None
    return value if value >= 0 else None


# --- per service -----------------------------------------------------------------------------------

def special_helpers(service: str) -> list[Helper]:
    """Every special-operation helper of one service, from the registry's special routes."""
    out: list[Helper] = []
    for res in _routes_named("command", service) + _routes_named("registry_command", service):
        if res.command_helpers:  # flame-hub-client 1.1.0's own helpers for these commands
            out += [_from(_COMMAND_HELPERS[name]) for name in res.command_helpers]
        else:
            route_name = "command" if any("command" in res.eras[e].special_routes for e in ERAS
                                          if res.eras[e].available) else "registry_command"
            out.append(_command_helper(res, route_name))
    for res in _routes_named("client_credentials", service):
        out.append(_get_credentials_helper(res, "client_credentials", ClientCredentials,
                                           "client credentials (id and secret of its authup client)"))
    for res in _routes_named("update_client_credentials", service):
        out.append(_update_credentials_helper(res))
    for res in _routes_named("registry_credentials", service):
        out.append(_get_credentials_helper(res, "registry_credentials", NodeRegistryCredentials,
                                           "registry credentials"))
    for res in _routes_named("bulk_delete", service):
        out.append(_bulk_delete_helper(res))
    if service == "storage":
        out.append(_from(delete_bucket))  # instead of the generated one: force=
        out.append(_from(upload_to_bucket))
        tarball = _stream_helper(
            REGISTRY["buckets"], "stream_bucket_tarball",
            "The whole bucket as a tar archive, as an iterator of byte chunks. An error status "
            "raises before the first chunk (never yielded as file content).")
        file = _stream_helper(
            REGISTRY["bucket-files"], "stream_bucket_file",
            "One bucket file's content as an iterator of byte chunks; an error status raises "
            "before the first chunk.")
        out += [tarball, file,
                _download_helper(REGISTRY["bucket-files"], "download_bucket_file", file, "a bucket file"),
                _download_helper(REGISTRY["buckets"], "download_bucket_tarball", tarball,
                                 "a whole bucket as a tar archive")]
    return out


def _from(fn: Callable[..., Any]) -> Helper:
    sig = inspect.signature(fn)
    sig = sig.replace(parameters=list(sig.parameters.values())[1:])
    return Helper(fn.__name__, sig, fn, inspect.getdoc(fn) or "")


__all__ = ["special_helpers", "DownloadSink", "content_length", "progress_callback", "ProgressArg"]
