"""Rows and frames: ``qs.values(...)``, ``qs.values_list(...)``, ``qs.to_pandas()``, ``qs.to_polars()``.

Analysts want rows, not models. These ask the Hub only for the fields they need (``fields=``)
where the resource honours it on the Hub's era, and pick the fields from the records otherwise
(the result is the same; only the payload differs). Which fields exist is the registry's
(``resources.py``): the ``fields=`` allow-list of the era (default and hidden fields), or the
record keys where the Hub publishes no list. Field names are the Python (snake_case) names.

Everything here is sans-IO and shared: :func:`plan_rows` decides the request and the columns once
the Hub's version is known, :func:`row` shapes one record, :func:`frame` builds a DataFrame.
:class:`Rows` / :class:`AsyncRows` only iterate their QuerySet.

DataFrame columns are typed from the model's field types: ids (UUIDs) as strings, times as
timezone-aware UTC datetimes, booleans and integers as nullable booleans/integers, enumerations
and text as strings; anything else (lists, nested records) as the library infers it.
"""

from __future__ import annotations

import builtins
import datetime as _dt
import enum
import importlib
import types
import typing
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from .._naming import to_snake
from ..models import model_for
from ._compile import allowed_fields

__all__ = ["Rows", "AsyncRows", "RowPlan", "plan_rows", "row", "frame", "column_kinds"]

Shape = Literal["dict", "tuple", "flat"]
Library = Literal["pandas", "polars"]


def check_names(fields: Sequence[str], shape: Shape) -> tuple[str, ...]:
    """The requested field names, checked for form (their existence is checked per Hub era)."""
    for name in fields:
        if not isinstance(name, str) or not name:
            raise ValueError(f"field names are non-empty strings, not {name!r}")
        if "__" in name or "." in name:
            raise ValueError(f"fields of related records ({name!r}) are not supported; use the id "
                             f"field ({name.split('__')[0].split('.')[0]}_id) or iterate the models")
    if len(set(fields)) != len(fields):
        raise ValueError(f"a field is named twice in {tuple(fields)!r}")
    if shape == "flat" and len(fields) != 1:
        raise ValueError(f"values_list(flat=True) takes exactly one field, not {len(fields)}")
    return tuple(fields)


@dataclass(frozen=True)
class RowPlan:
    """What to evaluate and what to pick: the QuerySet (with ``fields=`` where the Hub honours
    it) and the column names, in order."""

    queryset: Any
    columns: tuple[str, ...]
    shape: Shape


def plan_rows(qs: Any, fields: tuple[str, ...], shape: Shape) -> RowPlan:
    """The request for these fields on the QuerySet's (known) Hub era. Raises ``ValueError`` for
    a field the resource does not have there, naming the ones it has."""
    dialect, res = qs.dialect, qs.resource
    spec = dialect.spec(res)
    allowed = allowed_fields(dialect, res)
    known = allowed or tuple(k for k in spec.record_keys if k not in spec.hidden_fields)
    names = {to_snake(k): k for k in known}
    if not fields:  # the Hub's default projection, as its records come
        defaults = spec.fields_default or tuple(k for k in spec.record_keys if k not in spec.hidden_fields)
        return RowPlan(qs, tuple(to_snake(k) for k in defaults), shape)
    unknown = [f for f in fields if f not in names]
    if unknown:
        raise ValueError(f"{res.name} on Hub {dialect.name} has no field {', '.join(map(repr, unknown))}. "
                         f"Fields: {', '.join(names)}")
    return RowPlan(qs.fields(*fields) if allowed else qs, fields, shape)


def row(plan: RowPlan, record: BaseModel) -> Any:
    """One record as a dict (``values``), a tuple (``values_list``) or its one value (``flat``).
    Values keep their Python types (``UUID``, ``datetime``, enum members); included records
    become dicts."""
    values = [_plain(getattr(record, name, None)) for name in plan.columns]
    if plan.shape == "dict":
        return dict(zip(plan.columns, values, strict=True))
    return tuple(values) if plan.shape == "tuple" else values[0]


def _plain(value: Any) -> Any:
    return value.model_dump() if isinstance(value, BaseModel) else value


# ---------------------------------------------------------------------------------- frames

def column_kinds(model: type[BaseModel], columns: Sequence[str]) -> dict[str, str]:
    """The column kind of each field from its annotation: ``"string"`` (ids, text, enums),
    ``"datetime"``, ``"bool"``, ``"int"``, ``"float"``, or ``"any"`` (left to the library)."""
    out = {}
    for name in columns:
        info = model.model_fields.get(name)
        out[name] = _kind(info.annotation) if info is not None else "any"
    return out


def _kind(annotation: Any) -> str:
    found = set()
    stack = [annotation]
    while stack:
        tp = stack.pop()
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            stack.append(typing.get_args(tp)[0])
        elif origin in (typing.Union, types.UnionType):
            stack.extend(typing.get_args(tp))
        elif origin is Literal:
            found.add("string")
        elif tp is type(None):
            continue
        elif isinstance(tp, type) and issubclass(tp, (uuid.UUID, str, enum.Enum)):
            found.add("string")
        elif tp is _dt.datetime:
            found.add("datetime")
        elif tp is bool:
            found.add("bool")
        elif tp is int:
            found.add("int")
        elif tp is float:
            found.add("float")
        else:
            found.add("any")
    if "datetime" in found:  # datetime | str: the str is a time the model could not parse
        return "datetime"
    return found.pop() if len(found) == 1 else "any"


def require(library: Library) -> Any:
    """Import a DataFrame library, or say which extra installs it."""
    try:
        return importlib.import_module(library)
    except ImportError as exc:
        raise ModuleNotFoundError(f"to_{library}() needs {library}: pip install "
                                  f"'flame-hub-client[{library}]'", name=library) from exc


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "string":
        return value.value if isinstance(value, enum.Enum) else str(value)
    return _plain(value)


def frame(library: Library, plan: RowPlan, records: Sequence[BaseModel]) -> Any:
    """A pandas or polars DataFrame of the records, one typed column per field (see the module
    docstring for the types)."""
    lib = require(library)
    model = model_for(plan.queryset.resource)
    kinds = column_kinds(model, plan.columns)
    data = {name: [_cell(getattr(r, name, None), kinds[name]) for r in records] for name in plan.columns}
    return _pandas(lib, data, kinds) if library == "pandas" else _polars(lib, data, kinds)


def _pandas(pd: Any, data: dict[str, builtins.list], kinds: dict[str, str]) -> Any:
    dtypes = {"string": "string", "bool": "boolean", "int": "Int64", "float": "Float64"}
    columns = {}
    for name, values in data.items():
        kind = kinds[name]
        if kind == "datetime":
            columns[name] = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
        elif kind in dtypes:
            columns[name] = pd.Series(values, dtype=dtypes[kind])
        else:
            columns[name] = pd.Series(values, dtype=object)
    return pd.DataFrame(columns, columns=list(data))


def _polars(pl: Any, data: dict[str, builtins.list], kinds: dict[str, str]) -> Any:
    dtypes = {"string": pl.String, "bool": pl.Boolean, "int": pl.Int64, "float": pl.Float64,
              "datetime": pl.Datetime("us", "UTC")}
    for name, kind in kinds.items():
        if kind == "datetime":  # a time the model kept as text (unparseable) is parsed here
            data[name] = [_utc(v) for v in data[name]]
    overrides = {name: dtypes[kinds[name]] for name in data if kinds[name] in dtypes}
    return pl.DataFrame(data, schema_overrides=overrides, strict=False)


def _utc(value: Any) -> Any:
    if isinstance(value, str):
        value = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, _dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value


# ---------------------------------------------------------------------------------- shells

class _RowsBase:
    """What ``values()``/``values_list()`` return: a lazy view of a QuerySet as rows."""

    def __init__(self, queryset: Any, fields: Sequence[str], shape: Shape) -> None:
        self._queryset = queryset
        self._fields = check_names(fields, shape)
        self._shape = shape

    def _plan(self) -> RowPlan:
        return plan_rows(self._queryset, self._fields, self._shape)

    def __repr__(self) -> str:
        try:
            shown = repr(self._plan().queryset)
        except ValueError as exc:
            shown = f"(invalid: {exc})"
        kind = {"dict": "values", "tuple": "values_list", "flat": "values_list(flat=True)"}[self._shape]
        return f"<{type(self).__name__} {kind} of {shown}>"


class Rows(_RowsBase):
    """Rows of a sync QuerySet: iterate it (streams every page), or ``list()`` it."""

    def _known(self) -> RowPlan:
        detect = getattr(self._queryset._backend, "detect_dialect", None)  # the era decides fields=
        if detect is not None:
            detect()
        return self._plan()

    def __iter__(self) -> Iterator[Any]:
        plan = self._known()
        for record in plan.queryset:
            yield row(plan, record)

    def list(self) -> builtins.list[Any]:
        """Every row."""
        return builtins.list(self)

    def to_frame(self, library: Library) -> Any:
        """Every row in a DataFrame of ``library`` (imported before anything is sent)."""
        require(library)
        plan = self._known()
        return frame(library, plan, plan.queryset.list())


class AsyncRows(_RowsBase):
    """Rows of an async QuerySet: ``async for row in ...``, or ``await rows.list()``."""

    async def _known(self) -> RowPlan:
        detect = getattr(self._queryset._backend, "detect_dialect", None)
        if detect is not None:
            await detect()
        return self._plan()

    async def __aiter__(self) -> AsyncIterator[Any]:
        plan = await self._known()
        async for record in plan.queryset:
            yield row(plan, record)

    async def list(self) -> builtins.list[Any]:
        """Every row."""
        return [r async for r in self]

    async def to_frame(self, library: Library) -> Any:
        """Every row in a DataFrame of ``library`` (imported before anything is sent)."""
        require(library)
        plan = await self._known()
        return frame(library, plan, await plan.queryset.list())
