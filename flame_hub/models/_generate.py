"""Generate the models from the resource registry (no hand-written per-resource classes).

Read models take their fields from ``EraSpec.record_keys`` of every era (current camelCase keys
and legacy snake_case keys, merged by their snake_case name), relations from
``EraSpec.relations`` (typed with the target resource's model), and enums from the value lists the
catalog records. Request models take ``create_required/create_optional`` and ``update_fields``.

The Python facts (model and enum names, shared bases, to-many relations, command-argument
fields, flame-hub-client 1.1.0's compatibility fields, special-route models) are the registry's
too (:class:`~flame_hub.resources.Resource`, from the catalog's ``python`` blocks).
"""

from __future__ import annotations

import re

import enum
import keyword
from typing import Annotated, Any, Optional, Union

from pydantic import AliasChoices, BaseModel, BeforeValidator, Field, create_model

from .._naming import to_camel, to_snake, with_article
from ..resources import CURRENT_ERA, ERAS, REGISTRY, UPSTREAM_REQUEST_FIELDS, FieldSpec, Resource
from ..types import AnalysisBucketType
from ._base import (
    SERVICE_BASES,
    CoreBaseModel,
    HubModel,
    IdLike,
    IsIncludable,
    IsOptionalField,
    RequestModel,
    TolerantDatetime,
    TolerantUUID,
)

# --- the one table: enums flame_hub.types defines --------------------------------------------

#: Enums defined by hand in :mod:`flame_hub.types` (flame-hub-client 1.1.0 has them there); the
#: generator uses them instead of building its own, after checking they hold every catalog value.
#: Code, not catalog data: the value is a Python class (the enum's name and values are the
#: catalog's, see :attr:`~flame_hub.resources.Resource.enums`).
PREDEFINED_ENUMS: dict[str, type[enum.Enum]] = {"AnalysisBucketType": AnalysisBucketType}

_RESERVED = set(dir(BaseModel)) | {"model_config", "model_fields"}


def _with_position(value: Any) -> Any:
    """Command arguments as plain dicts with a ``position`` (``None`` when the Hub leaves it out,
    as flame-hub-client 1.1.0 does); the input is not changed."""
    if not isinstance(value, list):
        return value
    return [{**item, "position": item.get("position")} if isinstance(item, dict) else item
            for item in value]


#: A list of ``{"value": ..., "position": ...}`` dicts (``flame_hub.types.MasterImageCommandArgument``).
CommandArguments = Annotated[list[Any], BeforeValidator(_with_position)]


def _fill_position(value: Any) -> Any:
    """Command arguments to send: a dict without ``position`` gets ``"position": None`` *in the
    list you passed*, as flame-hub-client 1.1.0 did. Scripts written for it compare the record the
    Hub returns with that very list (``analysis.image_command_arguments == args``)."""
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                item.setdefault("position", None)
    return value


#: Command arguments of a create/update body (see :func:`_fill_position`).
CommandArgumentsIn = Annotated[list[Any], BeforeValidator(_fill_position)]


# --- helpers -----------------------------------------------------------------------------------

def python_attr(wire_key: str) -> str:
    """The Python attribute for a wire key: snake_case, with a ``_`` suffix where the name would
    clash with pydantic's own attributes or a Python keyword."""
    attr = to_snake(wire_key)
    if attr in _RESERVED or keyword.iskeyword(attr):
        attr += "_"
    return attr


def _member_name(value: str) -> str:
    name = to_snake(value).upper().replace("-", "_").replace(" ", "_")
    if not name.isidentifier() or keyword.iskeyword(name):
        name = "V_" + "".join(c if c.isalnum() else "_" for c in name)
    return name


def _available_eras(res: Resource) -> list[str]:
    return [e for e in ERAS if res.eras.get(e) is not None and res.eras[e].available]


def _merged(res: Resource, pick) -> dict[str, tuple[str, list[FieldSpec]]]:
    """snake attr -> (wire key of the newest era, [FieldSpec of each era]) in first-seen order."""
    out: dict[str, tuple[str, list[FieldSpec]]] = {}
    for era in _available_eras(res):
        for key, spec in pick(res.eras[era]).items():
            attr = python_attr(key)
            if attr in out:
                out[attr][1].append(spec)
            else:
                wire = key if res.eras[era].camel_case else to_camel(key)
                out[attr] = (wire, [spec])
    return out


# --- enums -------------------------------------------------------------------------------------

def _enum_uses() -> dict[str, list[str]]:
    """Every enum name -> its values (union over eras and uses, in first-seen order)."""
    uses: dict[str, list[str]] = {}

    def add(name: str, values: tuple[str, ...] | list[str]) -> None:
        bucket = uses.setdefault(name, [])
        bucket.extend(v for v in values if v not in bucket)

    for res in REGISTRY.values():
        for era in _available_eras(res):
            spec = res.eras[era]
            for group in (spec.record_keys, spec.create_required, spec.create_optional,
                          spec.update_fields):
                for key, f in group.items():
                    if f.enum:
                        add(res.enums[to_snake(key)], f.enum)
            for route, keys in res.route_enums.items():
                if route in spec.special_routes:
                    body = spec.special_routes[route].body or {}
                    for body_key, name in keys.items():
                        values = (body.get(body_key) or {}).get("enum")
                        if values:
                            add(name, values)
    return uses


def enum_name(res: Resource, attr: str) -> str | None:
    """The enum class name of a resource field (``nodes``/``type`` -> ``NodeType``), None for a
    field that holds no enum; ``attr`` as :func:`python_attr` spells it."""
    return res.enums.get(attr.rstrip("_"))


def _enum_str(self: enum.Enum) -> str:
    return str(self.value)


def build_enums() -> dict[str, type[enum.Enum]]:
    """Every enum the catalog lists, as ``str`` enums (members compare equal to their value)."""
    out: dict[str, type[enum.Enum]] = {}
    for name, values in _enum_uses().items():
        if name in PREDEFINED_ENUMS:
            cls = PREDEFINED_ENUMS[name]
            unknown = set(values) - {m.value for m in cls}
            if unknown:
                raise RuntimeError(f"flame_hub.types.{name} lacks the catalog values {sorted(unknown)}")
            out[name] = cls
            continue
        members: dict[str, str] = {}
        for v in values:
            members.setdefault(_member_name(v), v)
        made = enum.Enum(name, members, type=str, module="flame_hub.models")  # type: ignore[misc]
        made.__str__ = _enum_str  # type: ignore[assignment]
        made.__doc__ = f"Values the Hub uses for {name} (from the resource catalog)."
        out[name] = made
    return out


#: Python types of the catalog's JSON types (``object`` depends on the direction: see _json_type).
_JSON_TYPES: dict[str, Any] = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": Union[int, float],
    "array": list[Any],
}


def _json_type(spec: FieldSpec, obj: Any) -> Any:
    """The Python type of a field's JSON type; ``obj`` for ``object`` (read models accept any
    value there, request models a dict), ``Any`` for an unknown type."""
    if spec.type == "object":
        return obj
    return _JSON_TYPES.get(spec.type or "", Any)


# --- read models -------------------------------------------------------------------------------

def _read_type(res: Resource, attr: str, specs: list[FieldSpec], enums: dict) -> Any:
    name = enum_name(res, attr)
    if name in enums:
        # the enum when the value is known, the plain string otherwise (a newer Hub)
        return Annotated[Union[enums[name], str], Field(union_mode="left_to_right")]
    spec = specs[0]
    if attr in res.command_argument_fields:
        return CommandArguments
    if spec.format == "uuid":
        return TolerantUUID
    if spec.format == "date-time":
        return TolerantDatetime
    return _json_type(spec, obj=Any)


#: Attributes whose values are credentials: kept out of ``repr()`` (and so out of logs and
#: tracebacks that print models).
_SECRET = re.compile(r"(^|_)(secret|password|token)$")


def _shown(attr: str) -> bool:
    return _SECRET.search(attr) is None


def _field(wire: str, attr: str, annotation: Any, doc: str, marker: Any = None,
           aliases: tuple[str, ...] = ()) -> tuple[Any, Any]:
    choices = [wire] if wire == attr else [wire, attr]
    snake = to_snake(wire)
    if snake not in choices:
        choices.append(snake)
    choices += [a for a in aliases if a not in choices]
    typ = Optional[annotation]
    return (
        typ if marker is None else Annotated[typ, marker],
        Field(default=None, validation_alias=AliasChoices(*choices), serialization_alias=wire,
              description=doc, repr=_shown(attr)),
    )


def _relation_type(res: Resource, rel: str, era: str) -> Any:
    target = res.relation_target(rel, era)
    if target is None:
        return Any
    ref = target.model_name
    return list[ref] if to_snake(rel) in res.to_many else ref  # type: ignore[valid-type]


def _read_fields(res: Resource, enums: dict) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    hidden = {python_attr(k) for e in _available_eras(res) for k in res.eras[e].hidden_fields}
    for attr, (wire, specs) in _merged(res, lambda s: s.record_keys).items():
        fields[attr] = _field(wire, attr, _read_type(res, attr, specs, enums),
                              f"wire key `{wire}`", IsOptionalField if attr in hidden else None)
    eras = _available_eras(res)
    for era in eras:
        for rel in res.eras[era].relations:
            attr = python_attr(rel)
            if attr in fields:
                continue
            wire = rel if res.eras[era].camel_case else to_camel(rel)
            # includable (get_includable_names) are the relations of the newest era that has the
            # resource: what the client asks that Hub for; older names stay plain fields
            marker = IsIncludable if era == eras[0] else None
            fields[attr] = _field(wire, attr, _relation_type(res, rel, era),
                                  f"included relation `{wire}` (filled with include=)", marker)
    return fields


def _compat_fields(res: Resource, fields: dict[str, Any]) -> None:
    for compat in res.compat_fields:
        if compat.attr not in fields:
            typ = compat.model or _JSON_TYPES[compat.type or ""]
            fields[compat.attr] = _field(to_camel(compat.attr), compat.attr, typ,
                                         "kept for flame-hub-client 1.x", aliases=compat.aliases)


def build_read_models(enums: dict) -> dict[str, type[HubModel]]:
    """One read model per registry resource, plus the shared bases (``Resource.model_base``)."""
    per_resource = {res.model_name: (res, _read_fields(res, enums)) for res in REGISTRY.values()}
    models: dict[str, type[HubModel]] = {}

    for base_name in dict.fromkeys(r.model_base for r in REGISTRY.values() if r.model_base):
        children = [r.model_name for r in REGISTRY.values() if r.model_base == base_name]
        merged: dict[str, Any] = {}
        for child in children:
            for k, v in per_resource[child][1].items():
                merged.setdefault(k, v)
        models[base_name] = create_model(
            base_name, __base__=(HubModel, CoreBaseModel),  # type: ignore[arg-type]  # mixin (below)
            __module__="flame_hub.models",
            __doc__=f"A log record of the Hub (the common base of {', '.join(children)}).",
            **merged,
        )

    for name, (res, fields) in per_resource.items():
        shared = models.get(res.model_base or "")
        _compat_fields(res, fields)
        if shared is not None:
            fields = {k: v for k, v in fields.items() if k not in shared.model_fields}
        # pydantic's stubs type __base__ as models of one kind; a HubModel with a service mixin
        # (CoreBaseModel, ...: 1.1.0's bases) is what it builds
        bases: tuple[type[BaseModel], ...] = (
            (shared,) if shared is not None else (HubModel, SERVICE_BASES[res.service]))
        models[name] = create_model(
            name, __base__=bases, __module__="flame_hub.models",  # type: ignore[arg-type]
            __doc__=f"A record of the Hub resource ``{res.name}`` ({res.service} service).",
            **fields,
        )
    return models


def _route_models(kind: str) -> list[tuple[Resource, str, str]]:
    """``(resource, special route, model name)`` of every special-route model of ``kind``
    ("response": ``Resource.response_models``, "request": ``Resource.request_models``)."""
    return [(res, route, name) for res in REGISTRY.values()
            for route, name in (res.response_models if kind == "response" else res.request_models).items()]


def special_response_model_names() -> list[str]:
    """The names of the special routes' response models (``ClientCredentials``, ...)."""
    return [name for _res, _route, name in _route_models("response")]


def build_special_models() -> dict[str, type[HubModel]]:
    """Response models of special routes (credentials), from the recorded response keys."""
    out = {}
    for res, route, name in _route_models("response"):
        spec = res.era(CURRENT_ERA).special_routes[route]
        keys: dict[str, Any] = next((r["keys"] for r in spec.responses if r.get("keys")), {})
        fields = {}
        for wire, desc in keys.items():
            kind = str(desc).split(" ")[0]
            annotation: Any = TolerantUUID if ":uuid" in kind else str
            fields[python_attr(wire)] = _field(wire, python_attr(wire), annotation, desc)
        out[name] = create_model(  # type: ignore[call-overload]
            name, __base__=(HubModel, SERVICE_BASES[res.service]),
            __module__="flame_hub.models",
            __doc__=f"Answer of ``{spec.method} {spec.path}`` (not wrapped in an envelope).",
            **fields,
        )
    return out


# --- request models ----------------------------------------------------------------------------

def _request_type(res: Resource, attr: str, spec: FieldSpec, enums: dict) -> Any:
    if attr in res.command_argument_fields:
        return CommandArgumentsIn
    if spec.enum:
        name = enum_name(res, attr)
        if name in enums:
            return enums[name]
    if spec.format == "uuid":
        return IdLike
    return _json_type(spec, obj=dict[str, Any])


def request_fields(res: Resource, kind: str) -> dict[str, tuple[str, list[FieldSpec], bool]]:
    """snake attr -> (wire key, specs, required in every era) for ``kind`` "create"/"update"."""
    eras = _available_eras(res)
    out: dict[str, tuple[str, list[FieldSpec], bool]] = {}
    for era in eras:
        spec = res.eras[era]
        groups = ([spec.create_fields] if kind == "create"
                  else [spec.update_fields])
        for group in groups:
            for key, f in group.items():
                attr = python_attr(key)
                wire = key if spec.camel_case else to_camel(key)
                if attr in out:
                    out[attr][1].append(f)
                else:
                    out[attr] = (wire, [f], False)
    if kind == "create":
        for attr, (wire, specs, _) in list(out.items()):
            required = all(
                any(python_attr(k) == attr for k in res.eras[e].create_required) for e in eras
            )
            out[attr] = (wire, specs, required)
    return out


def build_request_models(enums: dict) -> dict[str, type[RequestModel]]:
    """``Create<X>`` and ``Update<X>`` for every resource the Hub can create or update."""
    out: dict[str, type[RequestModel]] = {}
    for res in REGISTRY.values():
        for kind in ("create", "update"):
            if not any(res.eras[e].supports(kind) for e in _available_eras(res)):
                continue
            fields = {}
            for attr, (wire, specs, required) in request_fields(res, kind).items():
                annotation = _request_type(res, attr, specs[0], enums)
                default = ... if required else None
                fields[attr] = (
                    annotation if required else Optional[annotation],
                    Field(default=default, alias=wire, description=f"wire key `{wire}`",
                          repr=_shown(attr)),
                )
            name = ("Create" if kind == "create" else "Update") + res.model_name
            for attr in UPSTREAM_REQUEST_FIELDS.get(name, ()):
                # a field of flame-hub-client 1.1.0's model that no Hub era takes: constructible,
                # and left out of the body by the helpers (with a warning when it was given)
                fields.setdefault(attr, (Optional[Any], Field(
                    default=None, alias=to_camel(attr), repr=_shown(attr),
                    description="kept for flame-hub-client 1.1.0; no Hub era takes it")))
            out[name] = create_model(  # type: ignore[call-overload]
                name, __base__=(RequestModel, SERVICE_BASES[res.service]), __module__="flame_hub.models",
                __doc__=f"Body of {with_article(kind)} of ``{res.name}``; only the fields given are sent.",
                **fields,
            )
    return out


def build_special_request_models() -> dict[str, type[RequestModel]]:
    """Bodies of special routes that take one (client credentials), from the route's body keys."""
    out: dict[str, type[RequestModel]] = {}
    for res, route, name in _route_models("request"):
        spec = res.era(CURRENT_ERA).special_routes[route]
        fields = {}
        for wire, desc in (spec.body or {}).items():
            annotation = {"string": str, "boolean": bool}.get(desc.get("type"), Any)
            fields[python_attr(wire)] = (Optional[annotation],
                                         Field(default=None, alias=wire, description=f"wire key `{wire}`",
                                               repr=_shown(python_attr(wire))))
        out[name] = create_model(  # type: ignore[call-overload]
            name, __base__=(RequestModel, SERVICE_BASES[res.service]),
            __module__="flame_hub.models",
            __doc__=f"Body of ``{spec.method} {spec.path}``; only the fields given are sent.",
            **fields,
        )
    return out


__all__ = ["build_enums", "build_read_models", "build_request_models", "build_special_models",
           "build_special_request_models",
           "python_attr", "enum_name", "request_fields", "CommandArguments"]
