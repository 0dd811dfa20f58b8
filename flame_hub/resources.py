"""The resource registry: the one source of truth for every Hub resource.

Every fact about a resource — service, path, supported operations, the list endpoint's
allow-lists (filters, sorts, relations, fields), create and update bodies, record keys and
special routes — lives here, per Hub era, and so do its Python facts (helper, model and enum
names, flame-hub-client 1.1.0's compatibility fields, ...: :class:`Resource`). Clients,
QuerySets, models, the CLI and the fake Hub all read it. The facts are loaded from
``_catalog.json``, which ``tools/build_catalog.py`` builds from the catalog probed on real Hubs
(``tests/hub-recordings/0.14.0/resources.json``) and the few tables it keeps by hand.

Wire keys in this registry are spelled as the era sends them (camelCase on 0.14, snake_case on
0.8.5); Python code uses snake_case names and converts with :mod:`flame_hub._naming`.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum as _enum
import json
import uuid
from dataclasses import dataclass, field
from importlib import resources as _pkg_resources
from typing import Any, Literal

from ._naming import to_camel, to_snake

Service = Literal["auth", "core", "storage"]

#: The Hub era that is served and spoken by default (Hub 0.14.0 + authup 1.0.0-beta.62).
CURRENT_ERA = "0.14.0"
#: The old Hub the original README targets (Hub 0.8.5 + authup 1.0.0-beta.24).
LEGACY_ERA = "0.8.5"
ERAS = (CURRENT_ERA, LEGACY_ERA)


@dataclass(frozen=True)
class FieldSpec:
    """One key of a create/update body or of a record, as the catalog describes it."""

    name: str  # wire spelling
    type: str | None = None  # JSON type: string/boolean/integer/number/object/array
    format: str | None = None  # uuid | date-time
    enum: tuple[str, ...] | None = None
    nullable: bool = True
    hidden: bool = False
    # validation and server-default facts (0.14; see tools/build_catalog.py BODY_RULES/RECORD_DEFAULTS)
    min_length: int | None = None
    pattern: str | None = None
    pattern_message: str | None = None
    lowercase: bool = False  # the server lowercases the value (authup realm/user names)
    stored_as: str | None = None  # "hex": the server stores the UTF-8 bytes hex-encoded (publicKey)
    #: value the server stores when a create leaves the key out; ``{"from": key}`` copies a key.
    #: ``None`` with ``has_default`` False means "the plain type default".
    default: Any = None
    has_default: bool = False

    @property
    def attr(self) -> str:
        return to_snake(self.name)

    @property
    def kind(self) -> str | None:
        """The kind of value the field holds, as the client checks it: ``uuid``, ``boolean``,
        ``enum``, ``integer``, ``number``, ``date-time``, ``string``, or None (not checked:
        objects, arrays, unknown types)."""
        return value_kind(self.attr, self)

    def expected(self) -> str:
        """What a value of this field must be, in words (for error messages)."""
        return expected_value(self.attr, self)

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` can stand for this field (``None`` always can; nullability is the
        Hub's business). Ids accept a ``uuid.UUID``, a UUID string or a model with ``.id``;
        enums a member's value or a Python enum member; date-times a ``datetime``/``date`` or
        an ISO-8601 string."""
        return value_accepted(value_kind(self.attr, self), self.enum, value)


def _is_id_name(attr: str) -> bool:
    return attr == "id" or attr.endswith("_id")


def value_kind(attr: str, spec: FieldSpec | None) -> str | None:
    """The checked kind of a field (see :attr:`FieldSpec.kind`); a field the catalog does not
    describe is an id when its name is ``id`` or ends in ``_id``, else unchecked."""
    if spec is None or spec.type is None:
        return "uuid" if _is_id_name(to_snake(attr)) else None
    if spec.format == "uuid":
        return "uuid"
    if spec.enum:
        return "enum"
    if spec.format == "date-time":
        return "date-time"
    if spec.type in ("boolean", "integer", "number", "string"):
        return spec.type
    return None


def expected_value(attr: str, spec: FieldSpec | None) -> str:
    """What a value of the field must be, in words."""
    kind = value_kind(attr, spec)
    if kind == "enum" and spec is not None:
        return "one of " + ", ".join(repr(v) for v in spec.enum or ())
    return _EXPECTED.get(kind or "", "any value")


_EXPECTED = {
    "uuid": "a UUID (a uuid.UUID, a UUID string or a record with an .id)",
    "boolean": "True or False (a bool)",
    "integer": "an int",
    "number": "a number (int, float or Decimal)",
    "date-time": "a datetime, a date or an ISO-8601 string",
    "string": "a str",
}


def value_accepted(kind: str | None, members: tuple[str, ...] | None, value: Any) -> bool:
    """Whether ``value`` fits a field of ``kind`` (see :func:`value_kind`)."""
    if value is None or kind is None:
        return True
    if isinstance(value, _enum.Enum) and kind in ("enum", "string"):
        value = value.value
    if kind == "uuid":
        inner = getattr(value, "id", None)
        value = value if inner is None or callable(inner) else inner
        if isinstance(value, uuid.UUID):
            return True
        try:
            return isinstance(value, str) and uuid.UUID(value) is not None
        except ValueError:
            return False
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)
    if kind == "date-time":
        if isinstance(value, (_dt.datetime, _dt.date)):
            return True
        try:
            return isinstance(value, str) and _dt.datetime.fromisoformat(
                value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value) is not None
        except ValueError:
            return False
    if kind == "enum":
        return isinstance(value, str) and value in (members or ())
    return isinstance(value, str)  # "string"


@dataclass(frozen=True)
class Operation:
    name: str  # list/get/get_by_name/create/update/delete
    supported: bool | None
    method: str | None = None
    path: str | None = None
    status: int | None = None
    envelope: str | None = None  # record | bare | list
    duplicate_status: int | None = None  # create: status of a duplicate (409 = unique names)
    unknown_id_status: int | None = None
    public: bool = False  # answered without a token (authup: the realms, on beta.62 the users list)


@dataclass(frozen=True)
class SpecialRoute:
    name: str
    method: str
    path: str  # relative to the service, e.g. "/nodes/{id}/client/credentials"
    body: Any = None
    responses: tuple[dict, ...] = ()

    @property
    def status(self) -> int | None:
        """The success status of the route (the first 2xx response recorded)."""
        for r in self.responses:
            if 200 <= r.get("status", 0) < 300:
                return r["status"]
        return None


def _fields(spec: dict | None, *, record: bool = False) -> dict[str, FieldSpec]:
    out = {}
    for name, s in (spec or {}).items():
        out[name] = FieldSpec(
            name=name,
            type=s.get("type"),
            format=s.get("format"),
            enum=tuple(s["enum"]) if s.get("enum") else None,
            nullable=bool(s.get("nullable", not record)),
            hidden=bool(s.get("hidden", False)),
            min_length=s.get("minLength"),
            pattern=s.get("pattern"),
            pattern_message=s.get("patternMessage"),
            lowercase=bool(s.get("lowercase", False)),
            stored_as=s.get("storedAs"),
            default=s.get("default"),
            has_default="default" in s,
        )
    return out


def _branch_fields(create: dict) -> dict[str, FieldSpec]:
    """The keys of a create's ``one_of`` branches that are not among its own keys."""
    own = {*create["required"], *create["optional"]}
    keys: dict = {}
    for branch in (create.get("one_of") or {}).get("branches", ()):
        for part in ("required", "optional"):
            keys.update({k: v for k, v in branch.get(part, {}).items() if k not in own})
    return _fields(keys)


@dataclass(frozen=True)
class EraSpec:
    """What one resource looks like on one Hub era."""

    era: str
    available: bool
    path: str = ""
    operations: dict[str, Operation] = field(default_factory=dict)
    filters: tuple[str, ...] = ()
    sorts: tuple[str, ...] = ()
    default_sort: Any = None
    relations: dict[str, str] = field(default_factory=dict)  # relation key -> schema name
    relation_filters: dict[str, str] = field(default_factory=dict)  # 0.8.5 dotted filter keys
    fields_default: tuple[str, ...] | None = None
    fields_hidden: tuple[str, ...] = ()
    max_limit: int = 50
    schema_name: str | None = None
    required_filters: tuple[str, ...] = ()
    meta_keys: tuple[str, ...] = ()
    meta_keys_without_page: tuple[str, ...] = ()  # 0.8.5: list meta when no page[...] is sent
    fields_param_honoured: bool | None = None  # 0.8.5: False where `fields=` is ignored
    indexes: tuple[tuple[str, ...], ...] = ()  # authup (0.14): declared indexes, from meta.schema
    sorts_indexed: bool = False  # authup (0.14): a sort must be a left-most prefix of an index
    list_schema: dict | None = None  # 0.14: the recorded ``meta.schema`` of the list endpoint
    create_required: dict[str, FieldSpec] = field(default_factory=dict)
    create_optional: dict[str, FieldSpec] = field(default_factory=dict)
    #: the create's second validation stage (identity providers: one branch per protocol)
    create_one_of: dict | None = None
    #: the keys only ``create_one_of``'s branches know (an identity provider's protocol
    #: attributes: ``url``, ``clientId``, ...), each optional on its own (the branch decides)
    create_branch_fields: dict[str, FieldSpec] = field(default_factory=dict)
    update_fields: dict[str, FieldSpec] = field(default_factory=dict)
    #: keys an update must carry even when unchanged (0.8.5 registry projects)
    update_required: tuple[str, ...] = ()
    #: key groups that are unique beyond the name (0.14 registries: name, host)
    unique: tuple[tuple[str, ...], ...] = ()
    record_keys: dict[str, FieldSpec] = field(default_factory=dict)
    hidden_fields: tuple[str, ...] = ()
    write_answer_only_keys: tuple[str, ...] = ()
    create_answer_embeds: tuple[str, ...] = ()
    delete_answer_embeds: tuple[str, ...] = ()  # relations the delete answer embeds
    special_routes: dict[str, SpecialRoute] = field(default_factory=dict)
    #: a create without a name gets a generated one (0.14 projects and analyses)
    generates_name: bool = False
    #: record keys the Hub recalculates after a write (debounced): a create or update answer
    #: shows them as they were before the write (0.14 analyses)
    recalculated_keys: tuple[str, ...] = ()

    def supports(self, operation: str) -> bool:
        op = self.operations.get(operation)
        return bool(self.available and op is not None and op.supported)

    @property
    def create_fields(self) -> dict[str, FieldSpec]:
        """Every key a create body may carry: required, optional and the branch keys."""
        return {**self.create_required, **self.create_optional, **self.create_branch_fields}

    @property
    def camel_case(self) -> bool:
        return ERA_INFO[self.era]["key_case"] == "camelCase"

    def wire_key(self, attr: str) -> str:
        """The wire spelling of a snake_case Python name on this era."""
        return to_camel(attr) if self.camel_case else to_snake(attr)

    @classmethod
    def from_catalog(cls, era: str, raw: dict) -> EraSpec:
        if not raw.get("available"):
            return cls(era=era, available=False)
        lq = raw.get("list_query") or {}
        rec = raw.get("record") or {}
        return cls(
            era=era,
            available=True,
            path=raw["path"],
            operations={
                name: Operation(name=name, public=bool(op.get("public")),
                                **{k: op.get(k) for k in ("supported", "method", "path", "status", "envelope",
                                                          "duplicate_status", "unknown_id_status")})
                for name, op in raw.get("operations", {}).items()
            },
            filters=tuple(lq.get("filters") or ()),
            sorts=tuple(lq.get("sorts") or ()),
            default_sort=lq.get("default_sort"),
            relations=dict(lq.get("relation_schemas") or {r: r for r in lq.get("relations") or ()}),
            relation_filters=dict(lq.get("relation_filters") or {}),
            fields_default=tuple(lq["fields_default"]) if lq.get("fields_default") else None,
            fields_hidden=tuple(lq.get("fields_hidden") or ()),
            max_limit=int(lq.get("max_limit") or 50),
            schema_name=lq.get("schema_name"),
            required_filters=tuple(lq.get("required_filters") or ()),
            meta_keys=tuple(lq.get("meta_keys") or lq.get("meta_keys_with_page") or ()),
            meta_keys_without_page=tuple(lq.get("meta_keys_without_page") or ()),
            fields_param_honoured=lq.get("fields_param_honoured"),
            indexes=tuple(tuple(i) for i in lq.get("indexes") or ()),
            sorts_indexed=bool(lq.get("sorts_indexed")),
            list_schema=lq.get("schema"),
            create_required=_fields(raw["create"]["required"]),
            create_optional=_fields(raw["create"]["optional"]),
            create_one_of=raw["create"].get("one_of"),
            create_branch_fields=_branch_fields(raw["create"]),
            update_fields=_fields(raw.get("update")),
            update_required=tuple(raw.get("update_required") or ()),
            unique=tuple(tuple(g) for g in raw.get("unique") or ()),
            record_keys=_fields(rec.get("keys"), record=True),
            hidden_fields=tuple(rec.get("hidden_fields") or ()),
            write_answer_only_keys=tuple(rec.get("write_answer_only_keys") or ()),
            create_answer_embeds=tuple(rec.get("create_answer_embeds") or ()),
            delete_answer_embeds=tuple(rec.get("delete_answer_embeds") or ()),
            generates_name=bool(raw["create"].get("generates_name")),
            recalculated_keys=tuple(rec.get("recalculated") or ()),
            special_routes={
                r["name"]: SpecialRoute(name=r["name"], method=r["method"], path=r["path"],
                                        body=r.get("body"), responses=tuple(r.get("responses", ())))
                for r in raw.get("special_routes", ())
            },
        )


@dataclass(frozen=True)
class UpstreamArg:
    """One argument of a flame-hub-client 1.1.0 ``create_<x>``/``update_<x>``, in its order."""

    name: str  # the argument name (``node_type``)
    positional: bool
    required: bool
    default: Any  # the signature default; ``UNSET_MARK`` for the "not given" sentinel
    attr: str  # the snake_case body key it fills (``type``)
    sent: Any  # what 1.1.0 sends when the argument is left out (``UNSET_MARK``: nothing)


#: Spelling of flame-hub-client's "not given" sentinel in the catalog.
UNSET_MARK = "<UNSET>"


@dataclass(frozen=True)
class CompatField:
    """A field of a flame-hub-client 1.1.0 model that no recorded Hub era sends, kept so that
    scripts reading it get ``None`` instead of an AttributeError."""

    attr: str  # snake_case field name
    type: str | None = None  # its JSON type (``boolean``, ``string``), or
    model: str | None = None  # the read model it holds (``Realm``)
    aliases: tuple[str, ...] = ()  # other wire keys it is read from (``buildNodesValid``)


@dataclass(frozen=True)
class Resource:
    """A Hub resource (e.g. ``nodes``) with its Python names and its shape on every era.

    The Python facts (names, enums, model shape) come from the resource's ``python`` block of
    the catalog (``tools/build_catalog.py``: derived by rule, plus the hand-kept exceptions).
    """

    name: str  # the Hub's path segment, e.g. "analysis-nodes"
    service: Service
    name_key: str | None  # the record key that holds a name, when the resource has one
    eras: dict[str, EraSpec]
    #: manager attribute and plural helper suffix: ``analysis_nodes``
    attr: str
    #: singular helper suffix: ``analysis_node`` (``get_analysis_node``)
    singular: str
    #: name of the read model in :mod:`flame_hub.models`: ``AnalysisNode``
    model_name: str
    #: the enum class of each enum field, by snake_case field name (``type`` -> ``NodeType``;
    #: shared ones: ``build_status`` -> ``ProcessStatus``)
    enums: dict[str, str] = field(default_factory=dict)
    #: the enum class of each enum key of a special route's body: route -> key -> class
    route_enums: dict[str, dict[str, str]] = field(default_factory=dict)
    #: a read model shared with other resources that this one's model extends (``Log``)
    model_base: str | None = None
    #: relations that hold a list of records, snake_case (every other relation holds one)
    to_many: tuple[str, ...] = ()
    #: array fields whose items are ``{"value", "position"}`` command-line arguments
    command_argument_fields: tuple[str, ...] = ()
    #: fields of flame-hub-client 1.1.0's model that no Hub era sends, in order
    compat_fields: tuple[CompatField, ...] = ()
    #: models of special routes' answers and bodies: route name -> model name
    response_models: dict[str, str] = field(default_factory=dict)
    request_models: dict[str, str] = field(default_factory=dict)
    #: flame-hub-client 1.1.0's helpers for the command route, used instead of
    #: ``send_<singular>_command`` (``sync_master_images``, ``build_master_image``)
    command_helpers: tuple[str, ...] = ()

    def era(self, era: str = CURRENT_ERA) -> EraSpec:
        return self.eras[era]

    def available(self, era: str = CURRENT_ERA) -> bool:
        return self.eras[era].available

    def upstream_args(self, kind: str) -> tuple[UpstreamArg, ...]:
        """flame-hub-client's arguments of ``<kind>_<singular>`` (``kind`` "create"/"update"),
        in order; empty when it has no such method."""
        return _UPSTREAM_ARGS.get(f"{kind}_{self.singular}", ())

    def relation_target(self, relation: str, era: str = CURRENT_ERA) -> Resource | None:
        """The resource a relation key (``registryProject``, ``realm``) points to, if any."""
        spec = self.eras[era]
        schema = spec.relations.get(relation, relation)
        for res in REGISTRY.values():
            if res.eras[CURRENT_ERA].schema_name == schema:
                return res
        snake = to_snake(relation)
        return next((r for r in REGISTRY.values() if r.singular == snake), None)


def _upstream(raw: dict) -> tuple[dict[str, tuple[UpstreamArg, ...]], dict[str, tuple[str, ...]]]:
    methods = {
        name: tuple(UpstreamArg(name=arg, positional=kind == "positional",
                                required=default == "<required>", default=default, attr=attr,
                                sent=sent)
                    for arg, kind, default, attr, sent in rows)
        for name, rows in raw.get("methods", {}).items()
    }
    return methods, {name: tuple(f) for name, f in raw.get("request_models", {}).items()}


def _python(py: dict) -> dict[str, Any]:
    """The :class:`Resource` arguments of a catalog resource's ``python`` block."""
    return {
        "attr": py["attr"],
        "singular": py["singular"],
        "model_name": py["model"],
        "enums": dict(py.get("enums") or {}),
        "route_enums": {route: dict(keys) for route, keys in (py.get("route_enums") or {}).items()},
        "model_base": py.get("model_base"),
        "to_many": tuple(py.get("to_many") or ()),
        "command_argument_fields": tuple(py.get("command_arguments") or ()),
        "compat_fields": tuple(
            CompatField(attr=attr, type=f.get("type"), model=f.get("model"),
                        aliases=tuple(f.get("aliases") or ()))
            for attr, f in (py.get("compat_fields") or {}).items()),
        "response_models": dict(py.get("response_models") or {}),
        "request_models": dict(py.get("request_models") or {}),
        "command_helpers": tuple(py.get("command_helpers") or ()),
    }


def _load() -> tuple[dict[str, dict], dict[str, Resource], dict]:
    raw = json.loads(_pkg_resources.files(__package__).joinpath("_catalog.json").read_text("utf-8"))
    eras = raw["eras"]
    registry = {
        name: Resource(
            name=name,
            service=r["service"],
            name_key=r.get("name_key"),
            eras={era: EraSpec.from_catalog(era, e) for era, e in r["eras"].items()},
            **_python(r["python"]),
        )
        for name, r in raw["resources"].items()
    }
    return eras, registry, raw.get("upstream", {})


#: per era: its authup version, key case, the body of a 404 for a missing route, ... (_catalog.json)
ERA_INFO, REGISTRY, _raw_upstream = _load()
#: ``_UPSTREAM_ARGS``: flame-hub-client 1.1.0's create_/update_ arguments by method name;
#: ``UPSTREAM_REQUEST_FIELDS``: the fields of its request models (``"CreateClient" -> (...)``).
_UPSTREAM_ARGS, UPSTREAM_REQUEST_FIELDS = _upstream(_raw_upstream)


def get_resource(name: str) -> Resource:
    """Look a resource up by Hub name (``analysis-nodes``), attribute (``analysis_nodes``) or
    singular (``analysis_node``)."""
    for res in REGISTRY.values():
        if name in (res.name, res.attr, res.singular):
            return res
    raise KeyError(f"unknown Hub resource {name!r}; known: {', '.join(sorted(REGISTRY))}")


def resources_of(service: Service, era: str | None = None) -> list[Resource]:
    """Every resource of a service, optionally only those available on ``era``."""
    return [r for r in REGISTRY.values()
            if r.service == service and (era is None or r.eras[era].available)]
