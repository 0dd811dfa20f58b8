"""Hand-written models that are not Hub resources: list/record ``meta`` and token answers."""

from __future__ import annotations

from typing import Any, Generic, Optional

from pydantic import BaseModel, Field

from ..types import ResourceT
from ._base import HubModel

__all__ = ["ResourceListMeta", "SingleResourceMeta", "AccessToken", "RefreshToken", "ResourceList",
           "WrappedResource"]


class ResourceListMeta(HubModel):
    """``meta`` of a list answer: ``total`` matches before paging; ``limit``/``offset`` echo the
    page; ``response_schema`` is the Hub's ``meta.schema`` (allow-lists), absent on old Hubs."""

    total: Optional[int] = None
    limit: Optional[int] = None
    offset: Optional[int] = None
    response_schema: Optional[dict[str, Any]] = Field(default=None, alias="schema")


class SingleResourceMeta(HubModel):
    """``meta`` of a single-record answer (Hub >= 0.13); ``response_schema`` is ``meta.schema``."""

    response_schema: Optional[dict[str, Any]] = Field(default=None, alias="schema")


class AccessToken(HubModel):
    """Answer of ``POST {auth}/token`` (OAuth keys stay snake_case on every Hub)."""

    access_token: str = Field(repr=False)
    expires_in: Optional[int] = None
    token_type: Optional[str] = None
    scope: Optional[str] = None


class RefreshToken(AccessToken):
    """Answer of a password or refresh grant: an access token plus a (single-use) refresh token."""

    refresh_token: Optional[str] = Field(default=None, repr=False)
    refresh_token_expires_in: Optional[int] = None


class ResourceList(BaseModel, Generic[ResourceT]):
    """A whole list answer, ``{"data": [...], "meta": {...}}``: ``ResourceList[Node].model_validate
    (body).data`` are the records."""

    data: list[ResourceT]
    meta: ResourceListMeta


class WrappedResource(BaseModel, Generic[ResourceT]):
    """A whole single-record answer of Hub >= 0.13, ``{"data": {...}, "meta": {...}}``."""

    data: ResourceT
    meta: SingleResourceMeta
