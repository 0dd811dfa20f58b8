"""Base classes and small building blocks shared by every generated model.

- :class:`HubModel` — the tolerant read model: snake_case attributes, both spellings accepted on
  input (Hub >= 0.13 sends camelCase, older Hubs snake_case), unknown keys kept, ``model_dump()``
  in snake_case and ``model_dump(by_alias=True)`` in the current Hub's camelCase.
- :class:`RequestModel` — create/update bodies: strict about names, lenient about id arguments
  (a UUID, a UUID string or any object with an ``.id``), and :data:`UNSET`-aware.
- :data:`UNSET` — "argument not given" (an update sends only what was passed; ``None`` sends null).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Union
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .._naming import to_snake
from .._unset import UNSET

__all__ = [
    "UNSET", "UnsetType", "HubModel", "RequestModel", "TolerantUUID", "TolerantDatetime", "IdLike",
    "coerce_id", "ConfigBaseModel", "AuthBaseModel", "CoreBaseModel", "StorageBaseModel",
    "IsOptionalField", "IsIncludable", "SERVICE_BASES", "get_field_names", "get_includable_names",
]


#: The type of :data:`UNSET` (for annotations: ``str | None | UnsetType``).
UnsetType = type[UNSET]

#: A UUID that stays a plain string if a Hub ever sends something that is not one
#: (upstream issue #24: ``RegistryProject.external_id`` turned out to be free text).
TolerantUUID = Annotated[Union[UUID, str], Field(union_mode="left_to_right")]
#: A timestamp that stays a string if it cannot be parsed (log ``time`` values are free-form).
TolerantDatetime = Annotated[Union[datetime, str], Field(union_mode="left_to_right")]


def coerce_id(value: Any) -> Any:
    """Turn a model (anything with an ``id`` attribute) into its id; leave other values alone."""
    if isinstance(value, (str, UUID, bytes)) or value is None:
        return value
    inner = getattr(value, "id", None)
    return value if inner is None else inner


#: An id argument: a ``uuid.UUID``, a UUID string or a model with ``.id``; anything else is a
#: validation error (a ``ValueError``) before a request is sent.
IdLike = Annotated[UUID, BeforeValidator(coerce_id)]


class IsOptionalField:
    """Marker in a field's ``Annotated[...]`` metadata: the Hub sends the field only when asked
    for with ``fields=`` (``get_field_names(Model)`` lists them)."""


class IsIncludable:
    """Marker in a field's ``Annotated[...]`` metadata: a relation the Hub embeds only when asked
    for with ``include=`` (``get_includable_names(Model)`` lists them)."""


class ConfigBaseModel(BaseModel):
    """Root of every model: fields are filled by snake_case name or by wire alias."""

    model_config = ConfigDict(
        populate_by_name=True,  # fill fields by name as well as by alias
        arbitrary_types_allowed=True,
        protected_namespaces=(),
        # ~80 models are generated at import; each builds its validator on first use instead
        defer_build=True,
    )


class AuthBaseModel(ConfigBaseModel):
    """Base of every model of the auth service (authup)."""


class CoreBaseModel(ConfigBaseModel):
    """Base of every model of the core service."""


class StorageBaseModel(ConfigBaseModel):
    """Base of every model of the storage service."""


#: The base of each service's models.
SERVICE_BASES: dict[str, type[ConfigBaseModel]] = {
    "auth": AuthBaseModel, "core": CoreBaseModel, "storage": StorageBaseModel,
}


class HubModel(ConfigBaseModel):
    """Base of every read model: tolerant of Hub drift.

    Fields the Hub may leave out (for example after ``fields=``) default to ``None``; keys this
    client does not know are kept (``extra="allow"``) so a newer Hub cannot break a script.
    """

    model_config = ConfigDict(extra="allow")


class RequestModel(ConfigBaseModel):
    """Base of ``Create<X>``/``Update<X>`` bodies.

    Unknown names are refused (a typo must not vanish); values equal to :data:`UNSET` count as
    "not given". :meth:`to_body` renders the wire body for a dialect.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _drop_unset(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not UNSET}
        return data

    def to_body(self, wire_key: Any = None) -> dict[str, Any]:
        """The JSON body: the fields that were given, keyed by wire spelling.

        ``wire_key`` maps a snake_case name to the wire key (``Dialect.wire_key``); by default
        the field's camelCase alias is used (Hub >= 0.13).
        """
        data = self.model_dump(mode="json", exclude_unset=True)
        fields = type(self).model_fields
        out = {}
        for name, value in data.items():
            info = fields.get(name)
            if wire_key is not None:
                key = wire_key(to_snake(info.alias) if info and info.alias else name)
            else:
                key = info.alias if info and info.alias else name
            out[key] = value
        return out


def _marked(model: type[BaseModel], marker: type) -> tuple[str, ...]:
    """Names of the fields whose metadata holds ``marker``: the class's own first, then its
    bases' (flame-hub-client 1.1.0's order, which walks the MRO)."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"expected a pydantic model class, not {model!r}")
    fields = model.model_fields
    names = dict.fromkeys(name for cls in model.__mro__ for name in vars(cls).get("__annotations__", {})
                          if name in fields)
    names.update(dict.fromkeys(fields))  # fields no class annotation names (none in practice)
    return tuple(name for name in names if marker in fields[name].metadata)


def get_field_names(model: type[BaseModel]) -> tuple[str, ...]:
    """The optional fields of a model class: those the Hub sends only when asked for with
    ``fields=`` (``get_field_names(User) == ("email",)``). A field counts when its annotation
    carries :class:`IsOptionalField`, so models of your own can take part."""
    return _marked(model, IsOptionalField)


def get_includable_names(model: type[BaseModel]) -> tuple[str, ...]:
    """The relations of a model class the Hub embeds with ``include=`` (``get_includable_names
    (Node) == ("registry_project", "registry")``): fields annotated with :class:`IsIncludable`."""
    return _marked(model, IsIncludable)
