"""Pydantic models of the FLAME Hub's records and request bodies.

Everything resource-specific here is generated from the resource registry
(:mod:`flame_hub.resources`): one read model per resource (``Node``, ``AnalysisNode``, ``Realm``,
...), ``Create<X>``/``Update<X>`` request models, and the enums the catalog lists (``NodeType``,
``ProjectNodeApprovalStatus``, ``AnalysisCommand``, ``AnalysisBucketType``, ``ProcessStatus``, ...).

Read models are tolerant: attributes are snake_case, input may use the current Hub's camelCase
keys or the old Hub's snake_case keys, unknown keys are kept, and every field defaults to
``None`` (``fields=`` queries may drop keys)::

    node = Node.model_validate({"id": "...", "realmId": "...", "somethingNew": 1})
    node.realm_id, node.something_new is not an error: node.model_extra["somethingNew"] == 1
    node.model_dump()               # snake_case keys
    node.model_dump(by_alias=True)  # camelCase keys, as the Hub >= 0.13 sends them
"""

from __future__ import annotations

from functools import cache

from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, create_model

from ..resources import Resource
from .. import types as _types
from ..types import MasterImageCommandArgument
from ._base import (
    UNSET,
    AuthBaseModel,
    ConfigBaseModel,
    CoreBaseModel,
    HubModel,
    IdLike,
    IsIncludable,
    IsOptionalField,
    RequestModel,
    StorageBaseModel,
    UnsetType,
    coerce_id,
    get_field_names,
    get_includable_names,
)
from ._meta import (
    AccessToken,
    RefreshToken,
    ResourceList,
    ResourceListMeta,
    SingleResourceMeta,
    WrappedResource,
)
from ._generate import (
    build_enums,
    build_read_models,
    build_request_models,
    build_special_models,
    build_special_request_models,
)

_ENUMS = build_enums()
_READ = build_read_models(_ENUMS)
_SPECIAL = build_special_models()
_REQUEST = {**build_request_models(_ENUMS), **build_special_request_models()}

globals().update(_ENUMS)
globals().update(_READ)
globals().update(_SPECIAL)
globals().update(_REQUEST)

#: Value sets that flame-hub-client 1.1.0's ``flame_hub.models`` exports as ``Literal`` types (as
#: does ``flame_hub.types``); the enum classes of the same names stay in :data:`ENUMS`, and record
#: fields hold their members (``str`` Enums, equal to the plain strings).
LITERAL_NAMES = ("NodeType", "ProjectNodeApprovalStatus", "AnalysisCommand")
globals().update({name: getattr(_types, name) for name in LITERAL_NAMES})


def model_for(resource: Resource | str) -> type[HubModel]:
    """The read model of a resource (by :class:`Resource` or name)."""
    if isinstance(resource, str):
        from ..resources import get_resource

        resource = get_resource(resource)
    return _READ[resource.model_name]


@cache
def list_adapter(model: type[HubModel]) -> TypeAdapter:
    """A cached ``TypeAdapter(list[model])`` — validating a whole page in one call is the hot path."""
    return TypeAdapter(list[model])  # type: ignore[valid-type]


class _Page(BaseModel):
    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True)


@cache
def page_adapter(model: type[HubModel]) -> TypeAdapter:
    """A cached adapter for a whole list answer, ``{"data": [<model>, ...], "meta": ...}``.

    ``page_adapter(Node).validate_json(response.content)`` parses and validates a page in one
    pass (no intermediate Python objects); the result has ``.data`` (the models) and ``.meta``
    (whatever the Hub sent, ``None`` when absent). Other envelope keys are ignored. Anything that
    does not fit raises ``pydantic.ValidationError``: callers fall back to the tolerant path.
    """
    page = create_model(  # type: ignore[call-overload]
        f"{model.__name__}Page", __base__=_Page, __module__=__name__,
        data=(list[model], ...), meta=(Any, None),  # type: ignore[valid-type]
    )
    return TypeAdapter(page)


@cache
def record_adapter(model: type[HubModel]) -> TypeAdapter:
    """A cached adapter for a single-record answer of Hub >= 0.13, ``{"data": <model>, "meta": ...}``,
    parsed and validated from the raw bytes in one pass (see :func:`page_adapter`)."""
    record = create_model(  # type: ignore[call-overload]
        f"{model.__name__}Record", __base__=_Page, __module__=__name__,
        data=(model, ...), meta=(Any, None),
    )
    return TypeAdapter(record)


def model_named(name: str) -> type[HubModel]:
    """A read or special-route response model by its class name (``"Node"``)."""
    try:
        return {**_READ, **_SPECIAL}[name]
    except KeyError:
        raise ValueError(f"flame_hub.models has no record model {name!r}") from None


def request_model(resource: Resource | str, kind: str) -> type[RequestModel]:
    """``Create<X>`` (``kind="create"``) or ``Update<X>`` (``kind="update"``) of a resource."""
    if isinstance(resource, str):
        from ..resources import get_resource

        resource = get_resource(resource)
    name = ("Create" if kind == "create" else "Update") + resource.model_name
    try:
        return _REQUEST[name]
    except KeyError:
        raise ValueError(f"the Hub offers no {kind} for {resource.name}") from None


#: Every enum, by name.
ENUMS = dict(_ENUMS)
#: Every read model, by name (one per registry resource, plus ``Log``).
READ_MODELS = dict(_READ)
#: Every request model, by name (``CreateNode``, ``UpdateNode``, ...).
REQUEST_MODELS = dict(_REQUEST)

__all__ = sorted(
    [*_ENUMS, *_READ, *_SPECIAL, *_REQUEST]
    + [
        "UNSET", "UnsetType", "HubModel", "RequestModel", "IdLike", "coerce_id",
        "MasterImageCommandArgument", "ResourceListMeta", "SingleResourceMeta", "AccessToken",
        "RefreshToken", "model_for", "list_adapter", "page_adapter", "record_adapter", "request_model", "ENUMS",
        "READ_MODELS", "REQUEST_MODELS", "ConfigBaseModel", "AuthBaseModel", "CoreBaseModel",
        "StorageBaseModel", "IsOptionalField", "IsIncludable", "ResourceList", "WrappedResource",
        "get_field_names", "get_includable_names", "LITERAL_NAMES",
    ]
)


def __dir__() -> list[str]:
    return __all__
