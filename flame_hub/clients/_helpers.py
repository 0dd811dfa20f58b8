"""The documented helpers (``get_<x>``, ``find_<xs>``, ``create_<x>``, ...) built from the registry.

Each helper is a :class:`Helper`: a name, an ``inspect.Signature`` (the original client's, so
scripts written for flame-hub-client run unchanged) and a *plan* — a generator that yields the
HTTP calls it needs (:mod:`._plan`). The sync and async clients wrap the same helpers; only the
shell that executes the plan differs.

CRUD helpers are generated for every resource from its :class:`~flame_hub.resources.EraSpec`
(operations, create/update bodies, relations). Special operations (commands, credentials, log
deletes, upload, streams) are one function each, taking their routes from the registry too.
The original client's argument names, positional order and create defaults come from the
registry too (:meth:`~flame_hub.resources.Resource.upstream_args`, built from flame-hub-client
1.1.0's dumped surface).
"""

from __future__ import annotations

import inspect
import re
import sys
from types import FrameType
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID

from pydantic import ValidationError

from .._http import DEFAULT
from .._responses import parse_json, unwrap_list, unwrap_record
from .._naming import to_snake, with_article
from ..errors import InvalidArgument
from ..dialects import Dialect
from ..models import (
    UNSET,
    ResourceListMeta,
    SingleResourceMeta,
    coerce_id,
    list_adapter,
    model_for,
    page_adapter,
    record_adapter,
    request_model,
)
from ..models._generate import python_attr, request_fields
from ..resources import ERAS, UNSET_MARK, EraSpec, Resource, SpecialRoute, UpstreamArg, get_resource
from ._plan import Call

_DEFAULT_CHUNK = 65536


class _AllRelations:
    """Default of ``include=``: every relation of the resource (what flame-hub-client always
    asked for, so ``node.registry`` is filled as scripts expect). Pass ``include=None`` or
    ``include=()`` for none, or a list of relation names."""

    def __repr__(self) -> str:
        return "ALL_RELATIONS"


ALL_RELATIONS: Any = _AllRelations()


@dataclass(frozen=True)
class StreamRequest:
    """A streamed GET a stream helper asks for (executed by the sync or async shell)."""

    path: str
    auth: Any = DEFAULT
    chunk_size: int = _DEFAULT_CHUNK


@dataclass(frozen=True)
class DownloadRequest:
    """A streamed GET written to ``destination`` (with an optional progress callback)."""

    stream: StreamRequest
    destination: Path
    progress: Callable[[int, int | None], Any] | None = None


@dataclass(frozen=True)
class Helper:
    """One client method. ``kind``: "call" (``plan`` returns a generator of :class:`Call`),
    "stream" (``plan`` returns a :class:`StreamRequest`), "download" (a
    :class:`DownloadRequest`)."""

    name: str
    signature: inspect.Signature  # without ``self``
    plan: Callable[..., Any]  # plan(client, *args, **kwargs)
    doc: str
    kind: str = "call"

    @classmethod
    def binding(cls, name: str, signature: inspect.Signature, body: Callable[[Any, dict[str, Any]], Any],
                doc: str, kind: str = "call") -> Helper:
        """A helper whose plan binds the call's arguments to ``signature`` (a ``TypeError``
        naming the helper when they do not fit) and calls ``body(client, values)``."""

        bind = _Binder(name, signature)

        def plan(client: Any, *args: Any, **kwargs: Any) -> Any:
            return body(client, bind(args, kwargs))

        return cls(name, signature, plan, doc, kind)


# --- small shared pieces -----------------------------------------------------------------------

#: a UUID string in canonical form (lowercase, hyphenated), as the Hub writes ids
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").fullmatch


def check_id(value: Any, what: str = "id") -> str:
    """A UUID, a UUID string or a model with ``.id`` -> the canonical id string.

    Raises ``ValueError`` for anything else, before a request is sent (a malformed id would
    otherwise reach the Hub, which answers 500 or 404 depending on the version).
    """
    raw = coerce_id(value)
    if isinstance(raw, UUID):
        return str(raw)
    if isinstance(raw, str):
        if _CANONICAL_UUID(raw):  # already what str(UUID(raw)) gives: no parse
            return raw
        try:
            return str(UUID(raw))
        except ValueError:
            pass
    raise ValueError(f"{what} must be a UUID, a UUID string or a model with an .id, not {value!r}")


def route_path(template: str, **values: str) -> str:
    """A registry path (``/nodes/{id}``) as a relative path with the values filled in."""
    path = template.split("?", 1)[0].lstrip("/")
    for key, value in values.items():
        path = path.replace("{" + key + "}", value)
    return path


def _spec(client: Any, res: Resource) -> EraSpec:
    return client.dialect.spec(res)


def _require(client: Any, res: Resource, operation: str) -> EraSpec:
    """The resource's spec on the client's era; ValueError if the era does not offer ``operation``."""
    return _require_on(client.dialect, res, operation)


def _require_on(dialect: Dialect, res: Resource, operation: str) -> EraSpec:
    spec = dialect.spec(res)
    op = spec.operations.get(operation)
    if not spec.available or op is None or op.supported is False:
        raise ValueError(
            f"the Hub {dialect.name} era offers no {operation.replace('_', ' ')} of {res.name}"
        )
    return spec


def special_route(client: Any, res: Resource, name: str) -> SpecialRoute:
    spec = _spec(client, res)
    route = spec.special_routes.get(name) if spec.available else None
    if route is None:
        raise ValueError(f"the Hub {client.dialect.name} era has no {name.replace('_', ' ')} route for {res.name}")
    return route


def operation_path(client: Any, res: Resource, operation: str) -> str:
    """The registry path of ``operation`` on the client's era (ValueError if it has none);
    constant per era, resource and operation, so worked out once."""
    return _operation_path(client.dialect, res.name, operation)


@lru_cache(maxsize=1024)
def _operation_path(dialect: Dialect, name: str, operation: str) -> str:
    res = get_resource(name)
    spec = _require_on(dialect, res, operation)
    op = spec.operations[operation]
    return op.path or ("/" + spec.path.lstrip("/") + ("" if operation in ("list", "create") else "/{id}"))


def _available_eras(res: Resource) -> list[str]:
    return [e for e in ERAS if res.eras[e].available]


def _supported_anywhere(res: Resource, operation: str) -> bool:
    for era in _available_eras(res):
        op = res.eras[era].operations.get(operation)
        if op is not None and op.supported:
            return True
    return False


def _includes(client: Any, res: Resource, include: Any) -> Any:
    if include is ALL_RELATIONS:
        spec = _spec(client, res)
        return [to_snake(r) for r in spec.relations] or None
    return include


def _queryset(client: Any, res: Resource, **find: Any) -> Any:
    """The QuerySet for the original client's find_* arguments (one compiler for both APIs)."""
    from ..query import queryset_from_find_kwargs

    return queryset_from_find_kwargs(client._queryset(res), **find)


@dataclass(frozen=True)
class _DialectOnly:
    """The smallest QuerySet backend: enough to compile a query (nothing is sent through it)."""

    dialect: Dialect


def _hashable(value: Any) -> Any:
    """``value`` as a cache key part (a list of names becomes a tuple), or ``_UNCACHED``."""
    if value is None or isinstance(value, str) or value is ALL_RELATIONS:
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return _UNCACHED


_UNCACHED = object()


def _record_params(dialect: Dialect, res: Resource, include: Any, fields: Any) -> tuple[tuple[str, str], ...]:
    """The ``include``/``fields`` pairs of a single-record read, compiled once per (dialect,
    resource, include, fields): a get then costs no query compilation. Unusual argument types
    (anything but names, a list or tuple of names, ``None``) are compiled on every call, so
    their errors are the compiler's own."""
    key_include, key_fields = _hashable(include), _hashable(fields)
    if key_include is _UNCACHED or key_fields is _UNCACHED:
        return _compile_record_params(dialect, res, include, fields)
    return _cached_record_params(dialect, res.name, key_include, key_fields)


def _compile_record_params(dialect: Dialect, res: Resource, include: Any,
                           fields: Any) -> tuple[tuple[str, str], ...]:
    from ..query import QuerySet, queryset_from_find_kwargs

    if include is ALL_RELATIONS:
        include = [to_snake(r) for r in dialect.spec(res).relations] or None
    compile_only: QuerySet[Any] = QuerySet(res, _DialectOnly(dialect))  # type: ignore[arg-type]  # never fetches
    qs = queryset_from_find_kwargs(compile_only, fields=fields, include=include)
    return tuple(qs.record_params())


@lru_cache(maxsize=1024)
def _cached_record_params(dialect: Dialect, name: str, include: Any,
                          fields: Any) -> tuple[tuple[str, str], ...]:
    return _compile_record_params(dialect, get_resource(name), include, fields)


def parse_record(client: Any, res: Resource, response: Any) -> Any:
    """The model of a single-record answer. The usual body (``{"data": {...}}`` on Hub >= 0.13, the
    bare record before) is parsed and validated in one pass from the raw bytes; anything else
    takes the tolerant path, which accepts or reports it exactly as before."""
    model = model_for(res)
    try:
        if client.dialect.record_envelope:
            return record_adapter(model).validate_json(response.content).data
        return model.model_validate_json(response.content)
    except ValidationError:
        return model.model_validate(unwrap_record(response, client.dialect))


def _record_meta(response: Any) -> SingleResourceMeta:
    body = parse_json(response)
    meta = body.get("meta") if isinstance(body, dict) else None
    return SingleResourceMeta.model_validate(meta if isinstance(meta, dict) else {})


def parse_list(res: Resource, response: Any) -> tuple[list[Any], dict[str, Any]]:
    """``(models, raw meta)`` of a list answer.

    The usual ``{"data": [...], "meta": {...}}`` body (every era) is parsed and validated in one
    pass from the raw bytes (:func:`~flame_hub.models.page_adapter`). Anything else — a bare
    list, a body that is not JSON, a record that does not validate — takes the tolerant path
    (:func:`~flame_hub._http.unwrap_list`, then the list adapter), which accepts or reports it
    exactly as before.
    """
    model = model_for(res)
    try:
        page = page_adapter(model).validate_json(response.content)
    except ValidationError:
        data, meta = unwrap_list(response)
        return list_adapter(model).validate_python(data), meta
    return page.data, page.meta if isinstance(page.meta, dict) else {}


def page_call(client: Any, res: Resource, params: list[tuple[str, str]]) -> Call:
    """The call of one list page (the QuerySet backend protocol; :func:`parse_list` reads its
    answer)."""
    return Call("GET", route_path(operation_path(client, res, "list")), params=list(params),
                expected=(200,), service=res.service)


def _bind(name: str, sig: inspect.Signature, args: tuple, kwargs: dict) -> dict[str, Any]:
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{name}(): {exc}") from None
    bound.apply_defaults()
    return dict(bound.arguments)


_EMPTY = inspect.Parameter.empty
_PLAIN_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


class _Binder:
    """``_bind`` for one signature, without ``inspect``'s cost on the usual call.

    Every argument in signature order, defaults filled in — exactly what ``_bind`` returns.
    A call that does not fit plainly (too many positional arguments, an unknown or repeated
    name, a missing required one), or a signature with ``*args``/``**kwargs``, goes through
    ``_bind``, so every ``TypeError`` is the one ``inspect`` words.
    """

    def __init__(self, name: str, sig: inspect.Signature) -> None:
        self.name = name
        self.sig = sig
        params = list(sig.parameters.values())
        self.plain = all(p.kind in _PLAIN_KINDS for p in params)
        self.positional = tuple(p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD)
        self.params = tuple((p.name, p.default) for p in params)
        self.names = frozenset(p.name for p in params)

    def __call__(self, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.plain and len(args) <= len(self.positional) and self.names.issuperset(kwargs):
            given = dict(zip(self.positional, args, strict=False))  # fewer args than names
            if not any(key in kwargs for key in given):
                given.update(kwargs)
                out: dict[str, Any] = {}
                for param, default in self.params:
                    if param in given:
                        out[param] = given[param]
                    elif default is _EMPTY:
                        break  # missing: let inspect word the error
                    else:
                        out[param] = default
                else:
                    return out
        return _bind(self.name, self.sig, args, kwargs)


def keyword_param(name: str, default: Any = UNSET, annotation: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=annotation)


def positional_param(name: str, default: Any = inspect.Parameter.empty,
         annotation: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default,
                             annotation=annotation)


# Annotations are strings in the names of the generated stub (``clients/__init__.pyi``), so
# ``help()`` shows the same types a type checker sees.
ID = "UuidIdentifiable"
AUTH_PARAM = keyword_param("auth", DEFAULT, "AuthArg")
_READ_PARAMS = [keyword_param("fields", None, "FieldParams | None"),
                keyword_param("include", ALL_RELATIONS, "IncludeParams | None"), keyword_param("meta", False, "bool"),
                AUTH_PARAM]
_FIND_PARAMS = [keyword_param("filter", None, "FilterParams | None"), keyword_param("page", None, "PageParams | None"),
                keyword_param("sort", None, "SortParams | None"), *_READ_PARAMS]


def arg_type(res: Resource, kind: str, attr: str | None) -> str:
    """The stub type of a create/update argument, from its request model field (an enum field
    takes the enum or its string value; ids take a UUID, a UUID string or a model)."""
    from ..models._stubs import field_type

    try:
        field = request_model(res, kind).model_fields[attr] if attr else None
    except ValueError:
        field = None
    if field is None:
        return "Any"  # accepted for old scripts, refused by every Hub era
    text = field_type(field)
    for part in text.split(" | "):
        if part[:1].isupper() and part not in ("UuidIdentifiable", "Any", "None") and "[" not in part:
            text = text.replace(part, f"{part} | str", 1)
    return text


# --- CRUD helpers, generated per resource ------------------------------------------------------

def _list_helpers(res: Resource) -> list[Helper]:
    """``find_<xs>`` and, unless the list needs scope filters, ``get_<xs>``: one list request."""
    listings = [(f"find_{res.attr}", _FIND_PARAMS,
                 (f"Find {res.name}: ``filter``/``page``/``sort`` as in flame-hub-client (one request; the "
                 f"page defaults to the first 50). ``fields`` adds optional fields, ``include`` picks "
                 f"relations (default: all), ``meta=True`` also returns :class:`ResourceListMeta`. "
                 f"For every match use the lazy ``client.{res.attr}`` QuerySet."))]
    if not any(res.eras[e].required_filters for e in _available_eras(res)):
        listings.append((f"get_{res.attr}", _READ_PARAMS,
                         f"The first 50 {res.name} (one request). For all of them iterate ``client.{res.attr}``."))
    returns = f"list[{model_for(res).__name__}]"
    return [Helper.binding(name, inspect.Signature(params, return_annotation=returns),
                           lambda client, values: find_plan(client, res, values), doc)
            for name, params, doc in listings]


def find_plan(client: Any, res: Resource, values: dict[str, Any]):
    meta = values.pop("meta", False)
    auth = values.pop("auth", DEFAULT)
    values["include"] = _includes(client, res, values.get("include"))
    params = list(_queryset(client, res, **values).params())
    response = yield Call("GET", route_path(operation_path(client, res, "list")), params=params, auth=auth,
                          expected=(200,), service=res.service)
    items, raw_meta = parse_list(res, response)
    return (items, ResourceListMeta.model_validate(raw_meta)) if meta else items


def _get_helper(res: Resource) -> Helper:
    model = model_for(res)
    id_name = f"{res.singular}_id"
    sig = inspect.Signature([positional_param(id_name, annotation=ID), *_READ_PARAMS],
                            return_annotation=f"{model.__name__} | None")

    def get_one(client: Any, values: dict[str, Any]):
        ident = check_id(values.pop(id_name), id_name)
        return get_plan(client, res, "get", {"id": ident}, values)

    return Helper.binding(
        f"get_{res.singular}", sig, get_one,
        f"One {res.singular.replace('_', ' ')} by id (a UUID, a UUID string or a model), or "
        f"``None`` when the Hub answers 404. A malformed id raises ``ValueError`` before sending.",
    )


def _get_by_name_helper(res: Resource) -> Helper:
    model = model_for(res)
    sig = inspect.Signature([positional_param("name", annotation="str"), *_READ_PARAMS],
                            return_annotation=f"{model.__name__} | None")

    def get_by_name(client: Any, values: dict[str, Any]):
        name = values.pop("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, not {name!r}")
        return get_plan(client, res, "get_by_name", {"name": quote(name, safe="")}, values)

    return Helper.binding(
        f"get_{res.singular}_by_name", sig, get_by_name,
        f"One {res.singular.replace('_', ' ')} by its unique name (the Hub reads it by name), "
        f"or ``None`` when there is none.",
    )


def get_plan(client: Any, res: Resource, operation: str, path_values: dict[str, str],
              values: dict[str, Any]):
    meta = values.pop("meta", False)
    auth = values.pop("auth", DEFAULT)
    if meta and not client.dialect.record_envelope:
        raise ValueError(f"meta=True needs Hub >= 0.13: the {client.dialect.name} era sends bare records")
    params = list(_record_params(client.dialect, res, values.get("include"), values.get("fields")))
    response = yield Call("GET", route_path(operation_path(client, res, operation), **path_values),
                          params=params, auth=auth, expected=(200,), none_on_404=True)
    if response is None:
        return None
    record = parse_record(client, res, response)
    return (record, _record_meta(response)) if meta else record


class IgnoredArgumentWarning(UserWarning):
    """An argument flame-hub-client 1.1.0 accepted that this Hub era drops: it is not sent."""


_WARNED: set[tuple[str, str, str]] = set()
_WARNED_LOCK = threading.Lock()


def _warn_ignored(helper: str, arg: str, era: str) -> None:
    """Warn once per (helper, argument, era) that the Hub ignores ``arg``."""
    key = (helper, arg, era)
    with _WARNED_LOCK:
        if key in _WARNED:
            return
        _WARNED.add(key)
    warnings.warn(
        f"{helper}(): the Hub {era} ignores {arg} (flame-hub-client 1.1.0 sent it); it is not sent",
        IgnoredArgumentWarning, stacklevel=_caller_level(),
    )


_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)


def _caller_level() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside ``flame_hub`` (the
    script's call), however deep the sync or async shell runs the plan."""
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    return level


def _arg_names(res: Resource, kind: str) -> dict[str, str]:
    """argument name -> body field (snake) for a create/update helper: flame-hub-client's
    arguments in its order, then the body fields it lacks (a renamed field, ``type`` for
    ``node_type``, is accepted under its own name as well)."""
    names = {arg.name: arg.attr for arg in res.upstream_args(kind)}
    for attr in request_fields(res, kind):
        names.setdefault(attr, attr)
    return names


def _write_params(res: Resource, kind: str, names: dict[str, str]) -> list[inspect.Parameter]:
    """The arguments of ``create_<x>``/``update_<x>`` after the record id.

    flame-hub-client's come first, positional where it had them, with its defaults; a create
    argument is required only where flame-hub-client required it and every Hub era does. The
    body fields it lacked follow as keyword arguments (a create's required ones without a default).
    A missing required field that the signature cannot demand raises ``ValueError`` when called.
    Without flame-hub-client arguments (resources it never had), a create takes the required
    fields positionally.
    """
    fields = request_fields(res, kind)
    upstream = {arg.name: arg for arg in res.upstream_args(kind)}

    def required(arg: str) -> bool:
        attr = names[arg]
        return kind == "create" and attr in fields and fields[attr][2]

    params: list[inspect.Parameter] = []
    defaulted = False
    for arg, attr in names.items():
        up = upstream.get(arg)
        annotation = arg_type(res, kind, attr if attr in fields else None)
        if up is not None:
            # a renamed argument (node_type) is optional: its field's own name (type) may fill it
            must = up.required and required(arg) and arg == attr and not (defaulted and up.positional)
            default = _EMPTY if must else (UNSET if up.default in (UNSET_MARK, "<required>") else up.default)
            defaulted = defaulted or (up.positional and not must)
            make = positional_param if up.positional else keyword_param
            params.append(make(arg, default, annotation))
        elif not upstream and required(arg) and arg == attr:
            params.append(positional_param(arg, annotation=annotation))
    taken = {p.name for p in params}
    covered = {names[arg] for arg in taken}  # a renamed argument (node_type) fills its field (type)
    for arg in names:  # required fields first, then the rest, all by keyword
        if arg not in taken and required(arg) and arg == names[arg] and arg not in covered:
            params.append(keyword_param(arg, _EMPTY, arg_type(res, kind, names[arg])))
    taken = {p.name for p in params}
    params += [keyword_param(arg, UNSET, arg_type(res, kind, names[arg] if names[arg] in fields else None))
               for arg in names if arg not in taken]
    return params


def _write_binding(name: str, sig: inspect.Signature, body: Callable[..., Any]) -> Callable[..., Any]:
    """A plan that binds like :meth:`Helper.binding` and also tells ``body`` which arguments the
    caller gave (a default is sent, or dropped where the Hub ignores it; a given one warns)."""
    bind = _Binder(name, sig)
    positional = [p.name for p in sig.parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD]

    def plan(client: Any, *args: Any, **kwargs: Any) -> Any:
        values = bind(args, kwargs)
        return body(client, values, {*positional[:len(args)], *kwargs})

    return plan


def _create_helper(res: Resource) -> Helper:
    names = _arg_names(res, "create")
    sig = inspect.Signature([*_write_params(res, "create", names), AUTH_PARAM],
                            return_annotation=model_for(res).__name__)
    name = f"create_{res.singular}"

    def create(client: Any, values: dict[str, Any], given: set[str]):
        auth = values.pop("auth")
        body = _body(client, res, "create", _as_sent(res, values, given), names, given)
        response = yield Call("POST", route_path(operation_path(client, res, "create")), json=body, auth=auth,
                              service=res.service)
        return parse_record(client, res, response)

    return Helper(name, sig, _write_binding(name, sig, create),
                  f"Create {with_article(res.singular.replace('_', ' '))}. Arguments left out send what "
                  f"flame-hub-client 1.1.0 sent for them (``active=True``, ...), except ``None``, "
                  f"which is not sent; ids accept a UUID, a UUID string or a model.")


def _as_sent(res: Resource, values: dict[str, Any], given: set[str]) -> dict[str, Any]:
    """A create's arguments as they go out: one left out sends what flame-hub-client sent for it
    (``[]`` for ``image_command_arguments``), except ``None`` (it sent null; the Hub reads a
    missing key the same way), which is not sent."""
    upstream: dict[str, UpstreamArg] = {arg.name: arg for arg in res.upstream_args("create")}
    out = dict(values)
    for arg, up in upstream.items():
        if arg in out and arg not in given:
            out[arg] = UNSET if up.sent in (None, UNSET_MARK) else up.sent
    return out


def _shown(res: Resource, attr: str) -> str:
    renamed = [arg.name for arg in res.upstream_args("create") if arg.attr == attr and arg.name != attr]
    return renamed[0] if renamed else attr


def _body(client: Any, res: Resource, kind: str, values: dict[str, Any],
          names: dict[str, str], given_args: set[str]) -> dict[str, Any]:
    """The wire body from the arguments (``UNSET`` ones dropped), checked against what this Hub
    era accepts. A key the era would drop is left out: silently when it is a default, with an
    :class:`IgnoredArgumentWarning` when the caller gave a flame-hub-client 1.1.0 argument, and
    with ``ValueError`` otherwise (the Hub would drop it without a word). A missing required key
    raises ``ValueError`` before sending; values are validated by ``Create<X>``/``Update<X>``."""
    helper = f"{kind}_{res.singular}"
    upstream = {arg.name for arg in res.upstream_args(kind)}
    spec = _require(client, res, kind)
    if kind == "create":
        accepted = {python_attr(k) for k in spec.create_fields}
    else:
        accepted = {python_attr(k) for k in spec.update_fields}
    body: dict[str, Any] = {}
    refused = []
    # the arguments the caller gave first: a default of one spelling (1.1.0's ``is_entrypoint``)
    # gives way to the other spelling given (``root``)
    for arg, value in sorted(values.items(), key=lambda item: item[0] not in given_args):
        if value is UNSET:
            continue
        attr = names.get(arg, arg)
        if attr in body:
            if arg not in given_args:
                continue
            raise TypeError(f"{helper}() got both {_shown(res, attr)!r} and {attr!r}")
        if attr in accepted:
            body[attr] = value
        elif arg not in given_args:
            continue  # a default this era has no use for
        elif arg in upstream:
            _warn_ignored(helper, arg, client.dialect.name)
        else:
            refused.append(attr)
    if refused:
        raise ValueError(
            f"{helper}(): the Hub {client.dialect.name} era does not accept "
            f"{', '.join(_shown(res, a) for a in refused)} on {kind} (it would be ignored); "
            f"accepted: {', '.join(sorted(_shown(res, a) for a in accepted)) or 'nothing'}"
        )
    if kind == "create":
        missing = [python_attr(k) for k in spec.create_required if python_attr(k) not in body]
        if missing:
            raise ValueError(f"{helper}() needs {', '.join(_shown(res, a) for a in missing)}")
    return _validated(res, kind, spec, body).to_body(client.dialect.wire_key)


def _validated(res: Resource, kind: str, spec: EraSpec, given: dict[str, Any]) -> Any:
    """``given`` as a ``Create<X>``/``Update<X>``; a value that is not what the registry says
    the field holds (the filter values' check), or that the model refuses, raises
    :class:`~flame_hub.errors.InvalidArgument` naming the helper and the argument."""
    helper = f"{kind}_{res.singular}()"
    fields = {python_attr(k): f for k, f in (
        (spec.update_fields if kind == "update" else spec.create_fields).items())}
    for attr, value in given.items():
        field = fields.get(attr)
        if field is not None and not field.accepts(value):
            raise InvalidArgument(f"{helper}: argument {_shown(res, attr)!r} expects "
                                  f"{field.expected()}, got {value!r}")
    try:
        return request_model(res, kind).model_validate(given)
    except ValidationError as exc:
        problem = exc.errors()[0]
        loc = problem.get("loc") or ()
        attr = str(loc[0]) if loc else ""
        shown = f"argument {_shown(res, attr)!r}" if attr else "arguments"
        value = f", got {given[attr]!r}" if attr in given else ""
        raise InvalidArgument(f"{helper}: {shown}: {problem.get('msg', exc)}{value}") from None


def _update_helper(res: Resource) -> Helper:
    names = _arg_names(res, "update")
    id_name = f"{res.singular}_id"
    sig = inspect.Signature([positional_param(id_name, annotation=ID), *_write_params(res, "update", names),
                             AUTH_PARAM], return_annotation=model_for(res).__name__)
    name = f"update_{res.singular}"

    def update(client: Any, values: dict[str, Any], given: set[str]):
        ident = check_id(values.pop(id_name), id_name)
        auth = values.pop("auth")
        missing = _update_required_missing(client, res, values, names)
        if missing:  # read-modify-write: the era refuses an update without these keys
            response = yield Call("GET", route_path(operation_path(client, res, "get"), id=ident), auth=auth)
            current = unwrap_record(response, client.dialect)
            values = {**values, **{python_attr(k): current.get(k) for k in missing}}
        body = _body(client, res, "update", values, names, given)
        response = yield Call("POST", route_path(operation_path(client, res, "update"), id=ident), json=body,
                              auth=auth)
        return parse_record(client, res, response)

    doc = (f"Update {with_article(res.singular.replace('_', ' '))}: only the arguments given are sent "
           f"(``None`` sends null); returns the updated record.")
    required = {e: res.eras[e].update_required for e in ERAS if res.eras[e].update_required}
    for era, keys in required.items():
        doc += (f" On Hub {era} the update must also carry {', '.join(keys)}: those not given "
                f"are read from the current record first (one GET more; read-modify-write, so "
                f"a concurrent change of them is overwritten).")
    return Helper(name, sig, _write_binding(name, sig, update), doc)


def _update_required_missing(client: Any, res: Resource, values: dict[str, Any],
                             names: dict[str, str]) -> list[str]:
    """The wire keys this era requires on every update of ``res`` that the call does not give
    (``EraSpec.update_required``; tests/hub-recordings/0.8.5 additions 333)."""
    spec = _require(client, res, "update")
    given = {names.get(arg, arg) for arg, value in values.items() if value is not UNSET}
    return [k for k in spec.update_required if python_attr(k) not in given]


def _delete_helper(res: Resource) -> Helper:
    id_name = f"{res.singular}_id"
    sig = inspect.Signature([positional_param(id_name, annotation=ID), AUTH_PARAM], return_annotation="None")

    def delete(client: Any, values: dict[str, Any]):
        ident = check_id(values[id_name], id_name)
        yield Call("DELETE", route_path(operation_path(client, res, "delete"), id=ident), auth=values["auth"])
        return None

    return Helper.binding(f"delete_{res.singular}", sig, delete,
                          f"Delete {with_article(res.singular.replace('_', ' '))} (raises NotFound if there is none).")


def crud_helpers(res: Resource) -> list[Helper]:
    """Every generated helper of a resource (for each operation some Hub era offers)."""
    out: list[Helper] = []
    if _supported_anywhere(res, "list"):
        out += _list_helpers(res)
    if _supported_anywhere(res, "get"):
        out.append(_get_helper(res))
    if _supported_anywhere(res, "get_by_name"):
        out.append(_get_by_name_helper(res))
    if _supported_anywhere(res, "create"):
        out.append(_create_helper(res))
    if _supported_anywhere(res, "update") and (request_fields(res, "update")
                                                or res.upstream_args("update")):
        out.append(_update_helper(res))
    if _supported_anywhere(res, "delete"):
        out.append(_delete_helper(res))
    return out
