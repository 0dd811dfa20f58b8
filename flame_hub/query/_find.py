"""The original client's ``find_*`` keyword arguments, translated into a QuerySet.

``find_nodes(filter={"name": (FilterOperator.like, "lab")}, page={"limit": 10}, sort={"by":
"created_at", "order": "descending"}, fields=["public_key"])`` and
``core.nodes.filter(name__startswith="lab").sort("-created_at").fields("+public_key").page(limit=10)``
are the same query: ``find_*`` helpers build it with :func:`queryset_from_find_kwargs`, so both
share one code path (validation included).

Meanings kept from flame-hub-client 1.1.0 (its ``find_*`` arguments; tests/test_compat_scripts.py):

- a filter value is either a plain value (equality; a list means "one of") or an
  ``(operator, value)`` 2-tuple, with the
  operators of :class:`flame_hub.types.FilterOperator` (``"="``, ``"!"``, ``"~"``, ``"<"``, ``"<="``,
  ``">"``, ``">="``, their enum members or names, and ``"!~"``);
- the original sent a plain *string* value verbatim, so a leading operator inside it
  (``{"name": "~lab"}``, ``"!x"``, ``">=2025-01-01"``) and commas (``"a,b"`` = one of) kept their
  operator meaning; that is kept too. A value given in an ``(operator, value)`` pair is literal;
- ``like`` (``~``) is SQL ``LIKE 'value%'``: a prefix match, or a substring match when the value
  starts with ``%`` (``"%lab"``). Other wildcard patterns cannot be sent exactly and raise;
- ``fields`` only adds fields to the default set (``+name``);
- ``page`` defaults to ``{"limit": 50, "offset": 0}``; ``sort`` is ``{"by": name, "order":
  "ascending" | "descending"}``.

Names may be snake_case (``realm_id``), camelCase (``realmId``) or dotted relation paths
(``registry.name``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from ._lookups import Condition, Q, combine, make_condition, parse_lookup_key

QS = TypeVar("QS")

#: operator spelling (raw string, FilterOperator value or member name) -> lookup
_OPERATORS = {
    "": "exact", "=": "exact", "eq": "exact",
    "!": "ne", "neq": "ne", "ne": "ne",
    "<": "lt", "lt": "lt",
    "<=": "lte", "le": "lte", "lte": "lte",
    ">": "gt", "gt": "gt",
    ">=": "gte", "ge": "gte", "gte": "gte",
    "~": "like", "like": "like",
    "!~": "not_like",
}
# longest first, so "<=" wins over "<"
_PREFIXES = ("!~", "<=", ">=", "~", "<", ">", "!")


def _operator(op: Any) -> str | None:
    if isinstance(op, enum.Enum):
        op = op.value
    return _OPERATORS.get(op) if isinstance(op, str) else None


def _like(path: tuple[str, ...], pattern: Any, key: str, negated: bool) -> Q | Condition:
    """An SQL ``LIKE 'pattern%'`` as an exact lookup: prefix, or substring after a leading %."""
    if not isinstance(pattern, str):
        pattern = str(pattern)
    body = pattern[:-1] if pattern.endswith("%") else pattern
    lookup = "startswith"
    if body.startswith("%"):
        body, lookup = body[1:], "contains"
    if "%" in body or not body:
        raise ValueError(f"filter {key!r}: the LIKE pattern {pattern!r} cannot be expressed exactly; "
                         "use QuerySet lookups (__startswith, __contains, __endswith) instead")
    cond = make_condition(path, lookup, body, key=key)
    return ~combine((cond,), Q.AND) if negated else cond


def _token_value(text: str) -> Any:
    """The scalar the Hub made of a verbatim value: ``null``, ``true``/``false``, else the text."""
    low = text.strip().lower()
    return {"null": None, "true": True, "false": False}.get(low, text)


def _from_token(path: tuple[str, ...], token: str, key: str) -> Q | Condition:
    """A plain string value, read the way the Hub read the original client's verbatim value."""
    if "," in token:
        negated = token.startswith("!")
        items = [_token_value(t.strip()) for t in (token[1:] if negated else token).split(",")]
        return make_condition(path, "ne" if negated else "in", items, key=key)
    for prefix in _PREFIXES:
        if token.startswith(prefix):
            rest = token[len(prefix):]
            return _pair(path, prefix, rest if "~" in prefix else _token_value(rest), key)
    return make_condition(path, "exact", _token_value(token), key=key)


def _pair(path: tuple[str, ...], op: Any, value: Any, key: str) -> Q | Condition:
    lookup = _operator(op)
    if lookup is None:
        raise ValueError(f"filter {key!r}: unknown operator {op!r}; use one of "
                         + ", ".join(repr(o) for o in _OPERATORS if o))
    if lookup in ("like", "not_like"):
        return _like(path, value, key, negated=lookup == "not_like")
    return make_condition(path, lookup, value, key=key)


def filter_to_q(filter: Mapping[str, Any]) -> Q:
    """The original ``filter=`` dict as a ``Q`` (all entries AND-ed)."""
    if not isinstance(filter, Mapping):
        raise ValueError(f"filter= takes a dict of field -> value, not {type(filter).__name__}")
    children: list[Q | Condition] = []
    for key in sorted(filter):
        spec = filter[key]
        path, lookup = parse_lookup_key(key)
        if lookup != "exact":  # a Django-style key (name__startswith) is welcome too
            children.append(make_condition(path, lookup, spec, key=key))
        elif isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], (str, enum.Enum)):
            # the original client read every 2-tuple as (operator, value); use a list for "one of"
            children.append(_pair(path, spec[0], spec[1], key))
        elif isinstance(spec, str):
            children.append(_from_token(path, spec, key))
        else:
            children.append(make_condition(path, "exact", spec, key=key))
    return combine(children, Q.AND)


def _names(value: str | Iterable[str] | None, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        names = list(value)
        if all(isinstance(n, str) for n in names):
            return names
    raise ValueError(f"{what}= takes a name or a list of names, not {value!r}")


def queryset_from_find_kwargs(qs: QS, *, filter: Mapping[str, Any] | None = None,
                              page: Mapping[str, int] | None = None, sort: Mapping[str, str] | None = None,
                              fields: str | Iterable[str] | None = None,
                              include: str | Iterable[str] | None = None) -> QS:
    """``qs`` narrowed by the original client's ``find_*`` keyword arguments (see the module doc).

    Raises ValueError for anything malformed or outside the resource's allow-lists."""
    out: Any = qs
    if filter:
        out = out.filter(filter_to_q(filter))
    if sort:
        if not isinstance(sort, Mapping):
            raise ValueError(f"sort= takes {{'by': name, 'order': 'ascending'|'descending'}}, not {sort!r}")
        unknown = set(sort) - {"by", "order"}
        if unknown:
            raise ValueError(f"sort= has unknown keys {sorted(unknown)}; use 'by' and 'order'")
        order = sort.get("order", "ascending")
        if order not in ("ascending", "descending"):
            raise ValueError(f"sort order must be 'ascending' or 'descending', not {order!r}")
        if sort.get("by") is not None:
            by = sort["by"]
            if not isinstance(by, str) or not by:
                raise ValueError(f"sort 'by' must be a field name, not {by!r}")
            out = out.sort(("-" if order == "descending" else "") + by)
    fields_ = _names(fields, "fields")
    if fields_:
        out = out.fields(*(f if f.startswith(("+", "-")) else "+" + f for f in fields_))
    include_ = _names(include, "include")
    if include_:
        out = out.include(*include_)
    if page is not None:
        if not isinstance(page, Mapping) or set(page) - {"limit", "offset"}:
            raise ValueError(f"page= takes {{'limit': int, 'offset': int}}, not {page!r}")
        out = out.page(limit=page.get("limit"), offset=page.get("offset"))
    return out
