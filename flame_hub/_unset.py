"""The "argument not given" sentinel, :data:`UNSET` (a leaf module: models and types share it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic._internal._model_construction import ModelMetaclass

__all__ = ["UNSET"]


class _UnsetMeta(ModelMetaclass):
    def __repr__(cls) -> str:
        return "UNSET"

    def __bool__(cls) -> bool:
        return False


class UNSET(BaseModel, metaclass=_UnsetMeta):
    """Sentinel for "argument not given": the class itself is the value, as in
    flame-hub-client 1.x (where it is a pydantic model class too).

    ``update_node(node, hidden=True)`` sends ``{"hidden": true}`` only; arguments left at
    ``UNSET`` are not sent at all, while ``None`` sends an explicit ``null``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # pragma: no cover - misuse guard
        raise TypeError("UNSET is a sentinel; use the class itself, not an instance")
