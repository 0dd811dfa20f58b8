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
from typing import Annotated, Any, Literal, Union
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .._naming import to_snake

__all__ = [
    "UNSET", "UnsetType", "HubModel", "RequestModel", "TolerantUUID", "TolerantDatetime", "IdLike",
    "coerce_id",
]


class _UnsetMeta(type):
    def __repr__(cls) -> str:
        return "UNSET"

    def __bool__(cls) -> bool:
        return False


class UNSET(metaclass=_UnsetMeta):
    """Sentinel for "argument not given" (a class, as in flame-hub-client 1.x).

    ``update_node(node, hidden=True)`` sends ``{"hidden": true}`` only; arguments left at
    ``UNSET`` are not sent at all, while ``None`` sends an explicit ``null``.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> UNSET:  # pragma: no cover - misuse guard
        raise TypeError("UNSET is a sentinel; use the class itself, not an instance")


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


def _config(extra: Literal["allow", "forbid"]) -> ConfigDict:
    """The settings read and request models share; they differ in what unknown keys do."""
    return ConfigDict(
        extra=extra,
        populate_by_name=True,  # fill fields by name as well as by alias
        arbitrary_types_allowed=True,
        protected_namespaces=(),
        # ~80 models are generated at import; each builds its validator on first use instead
        defer_build=True,
    )


class HubModel(BaseModel):
    """Base of every read model: tolerant of Hub drift.

    Fields the Hub may leave out (for example after ``fields=``) default to ``None``; keys this
    client does not know are kept (``extra="allow"``) so a newer Hub cannot break a script.
    """

    model_config = _config(extra="allow")


class RequestModel(BaseModel):
    """Base of ``Create<X>``/``Update<X>`` bodies.

    Unknown names are refused (a typo must not vanish); values equal to :data:`UNSET` count as
    "not given". :meth:`to_body` renders the wire body for a dialect.
    """

    model_config = _config(extra="forbid")

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
