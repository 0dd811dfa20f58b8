"""Types of the documented keyword arguments (``find_*``/``get_*``) and value sets.

The names and shapes are those of flame-hub-client 1.1.0, so type hints written for it keep
working. ``find_*`` keyword arguments are translated into a QuerySet by
:func:`flame_hub.query.queryset_from_find_kwargs`; see there for their exact meaning.

The value sets mirror the Hub's enums as recorded in the resource catalog
(``flame_hub/_catalog.json``); a test keeps them equal. They are ``Literal`` types, except
:class:`AnalysisBucketType`, a ``str`` Enum — as in 1.1.0 (``AnalysisBucketType.CODE``).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any, Literal, Protocol, TypedDict, TypeVar, Union

from pydantic import BaseModel

from ._unset import UNSET
from .auth import ClientAuth, PasswordAuth, StaticAuth

if TYPE_CHECKING:
    from .models import ResourceListMeta, SingleResourceMeta

__all__ = [
    "PageParams",
    "SortParams",
    "FilterOperator",
    "FilterParams",
    "FindAllKwargs",
    "GetKwargs",
    "IncludeParams",
    "FieldParams",
    "NodeType",
    "RegistryCommand",
    "RegistryProjectType",
    "ProjectNodeApprovalStatus",
    "AnalysisCommand",
    "AnalysisNodeApprovalStatus",
    "AnalysisBucketType",
    "LogLevel",
    "ProcessStatus",
    "MasterImageCommandArgument",
    "UploadFile",
    "UuidModel",
    "UuidIdentifiable",
    "AuthParam",
    "BaseKwargs",
    "LogChannel",
    "ReadableBinary",
    "ResourceT",
    "ResourceListResult",
    "SingleResourceResult",
    "UNSET_T",
]


class PageParams(TypedDict, total=False):
    """``page=`` of ``find_*``: one page of at most ``limit`` records (the Hub caps it at 50)
    starting at record ``offset``. Defaults: ``{"limit": 50, "offset": 0}``."""

    limit: int
    offset: int


class SortParams(TypedDict, total=False):
    """``sort=`` of ``find_*``: one field name and a direction (default ascending)."""

    by: str
    order: Literal["ascending", "descending"]


class FilterOperator(str, enum.Enum):
    """Operators of ``find_*(filter={field: (operator, value)})``.

    ``like`` is SQL ``LIKE 'value%'``: a prefix match, or a substring match for ``"%value"``
    (the meaning it had on the Hub the original client was written for). Strings are compared
    case-insensitively by Hub >= 0.12.3.
    """

    eq = "="
    neq = "!"
    like = "~"
    lt = "<"
    le = "<="
    gt = ">"
    ge = ">="


#: ``filter=`` of ``find_*``: field name (snake_case, camelCase or ``relation.field``) -> a value
#: (equality; a list means "one of") or an ``(operator, value)`` pair.
FilterParams = dict[str, Union[Any, tuple[Union[FilterOperator, str], Any]]]
#: ``include=``: one relation name or several (``"realm"``, ``["node", "project"]``).
IncludeParams = Union[str, Iterable[str]]
#: ``fields=``: field names added to the default set (``"email"``, ``["public_key"]``).
FieldParams = Union[str, Iterable[str]]


#: ``auth=`` of every client method: an auth flow for this one call, a bearer token string
#: (sent through :class:`~flame_hub.auth.StaticAuth`) or ``None`` for no authentication.
AuthParam = Union[ClientAuth, PasswordAuth, StaticAuth, str, None]


class BaseKwargs(TypedDict, total=False):
    """The keyword argument every client method takes: ``auth`` for this one call."""

    auth: AuthParam


class GetKwargs(BaseKwargs, total=False):
    """Keyword arguments of ``get_*``: extra ``fields``, embedded relations (``include``) and
    ``meta=True`` to also return the answer's meta object."""

    fields: FieldParams | None
    include: IncludeParams | None
    meta: bool


class FindAllKwargs(GetKwargs, total=False):
    """Keyword arguments of ``find_*``."""

    filter: FilterParams | None
    page: PageParams | None
    sort: SortParams | None


NodeType = Literal["aggregator", "default"]
RegistryCommand = Literal["setup", "cleanup", "delete", "projectLink", "projectUnlink"]
RegistryProjectType = Literal["default", "aggregator", "incoming", "outgoing", "masterImages", "node"]
ProjectNodeApprovalStatus = Literal["rejected", "approved"]
AnalysisNodeApprovalStatus = Literal["rejected", "approved"]
AnalysisCommand = Literal[
    "buildStart", "buildCheck", "configurationLock", "configurationUnlock",
    "distributionStart", "distributionCheck", "storageCheck",
]
LogLevel = Literal["emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"]
LogChannel = Literal["http", "websocket", "background", "system"]
ProcessStatus = Literal["starting", "started", "stopping", "stopped", "executing", "executed", "failed"]


class AnalysisBucketType(str, enum.Enum):
    """The three buckets of an analysis (a ``str`` Enum: ``AnalysisBucketType.CODE == "CODE"``).
    ``flame_hub.models.AnalysisBucketType`` is this class."""

    CODE = "CODE"
    RESULT = "RESULT"
    TEMP = "TEMP"

    def __str__(self) -> str:
        return str(self.value)


class MasterImageCommandArgument(TypedDict):
    """One argument of a master image's command: its text and where it goes."""

    value: str
    position: Literal["before", "after"] | None


class ReadableBinary(Protocol):
    """A binary file object: anything with ``read(size=-1) -> bytes``."""

    def read(self, size: int = -1) -> bytes: ...


class _UploadFileRequired(TypedDict):
    file_name: str
    content: bytes | str | IO[bytes] | ReadableBinary


class UploadFile(_UploadFileRequired, total=False):
    """One file of ``upload_to_bucket``: its name, its content (bytes, text or a binary file
    object) and optionally its content type."""

    content_type: str


class UuidModel(Protocol):
    """Anything with an ``id`` (every read model). Read-only, and typed as the models' ``id``
    field (which tolerates what a Hub sends), so that a record type-checks as an argument."""

    @property
    def id(self) -> uuid.UUID | str | None: ...


#: What every ``*_id`` argument accepts: a model with an ``id``, a UUID or its string.
UuidIdentifiable = Union[UuidModel, uuid.UUID, str]


#: Any model class a method returns (every read model is a pydantic model).
ResourceT = TypeVar("ResourceT", bound=BaseModel)
#: What ``get_<xs>``/``find_<xs>`` return: the records, or ``(records, meta)`` with ``meta=True``.
ResourceListResult = Union[list[ResourceT], tuple[list[ResourceT], "ResourceListMeta"]]
#: What ``get_<x>`` returns: the record, ``(record, meta)`` with ``meta=True``, or ``None`` (404).
SingleResourceResult = Union[ResourceT, tuple[ResourceT, "SingleResourceMeta"], None]
#: The type of :data:`~flame_hub.models.UNSET` ("argument not given").
UNSET_T = type[UNSET]
