"""Filter lookups and ``Q`` trees: the Python side of a query, before any wire spelling.

``name__startswith="lab"`` becomes a :class:`Condition` (path ``("name",)``, op ``startswith``);
``Q`` objects combine conditions with ``&``, ``|`` and ``~``. Values are normalised here (UUIDs and
models become ids, enums their value); how they are spelled on the wire is the compiler's job
(:mod:`flame_hub.query._compile`).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Union

from .._naming import to_snake

#: Lookup name -> canonical operator. The Hub compares strings case-insensitively (rapiq v2 and
#: the old Hub's MariaDB collation, tests/hub-recordings/0.8.5/README.md "Filter semantics"), so
#: the ``i``-variants compile to the same operator.
LOOKUPS: dict[str, str] = {
    "exact": "eq",
    "iexact": "eq",
    "ne": "eq",  # negated
    "in": "in",
    "lt": "lt",
    "lte": "lte",
    "gt": "gt",
    "gte": "gte",
    "contains": "contains",
    "icontains": "contains",
    "startswith": "startswith",
    "istartswith": "startswith",
    "endswith": "endswith",
    "iendswith": "endswith",
    "isnull": "isnull",
    "range": "range",
}



@dataclass(frozen=True)
class Operator:
    """One canonical operator of a :class:`Condition`, in every spelling the Hub takes.

    ``bracket``: the rapiq v2 bracket token, ``{}`` standing for the value text; ``negatable``:
    whether a leading ``!`` negates it there (the Hub drops ``!`` before ``<``, so ``!<5`` means
    ``<5``); ``expression``: the expression form's function; ``values``: what it compares with
    (``"scalar"`` one coerced value, ``"list"`` several, ``"text"`` a raw pattern)."""

    name: str
    bracket: str
    negatable: bool
    expression: str
    values: str


#: every canonical operator a :class:`Condition` can carry, by name
OPERATOR_TABLE: dict[str, Operator] = {op.name: op for op in (
    Operator("eq", "{}", True, "eq", "scalar"),
    Operator("in", "{}", True, "in", "list"),
    Operator("lt", "<{}", False, "lt", "scalar"),
    Operator("lte", "<={}", False, "lte", "scalar"),
    Operator("gt", ">{}", False, "gt", "scalar"),
    Operator("gte", ">={}", False, "gte", "scalar"),
    Operator("contains", "~{}~", True, "contains", "text"),
    Operator("startswith", "{}~", True, "startsWith", "text"),
    Operator("endswith", "~{}", True, "endsWith", "text"),
)}
#: the operators that order values (a None cannot be compared)
COMPARISONS = tuple(name for name, op in OPERATOR_TABLE.items() if op.bracket.startswith(("<", ">")))

Scalar = Union[str, int, float, bool, None, _dt.datetime, _dt.date, decimal.Decimal]


@dataclass(frozen=True)
class Condition:
    """One comparison: ``path`` (snake_case names, relation first), operator, value, negation.

    ``op == "eq"`` with ``value is None`` means IS NULL (negated: IS NOT NULL). ``op == "in"``
    carries a non-empty tuple.
    """

    path: tuple[str, ...]
    op: str
    value: Any
    negated: bool = False

    def negate(self) -> Condition:
        return replace(self, negated=not self.negated)

    @property
    def name(self) -> str:
        """The Python spelling of the filtered field, ``realm__name``."""
        return "__".join(self.path)


class Q:
    """A tree of filter conditions, combined with ``&`` (and), ``|`` (or) and ``~`` (not).

    ``Q(name="a") | ~Q(online=True)``. Keyword lookups inside one ``Q`` are AND-ed, as in Django.
    """

    AND = "and"
    OR = "or"

    __slots__ = ("children", "connector", "negated")

    def __init__(self, *args: Q, **lookups: Any) -> None:
        children: list[Q | Condition] = []
        for arg in args:
            if not isinstance(arg, Q):
                raise TypeError(f"Q() takes Q objects and keyword lookups, not {type(arg).__name__}")
            children.append(arg)
        for key in sorted(lookups):  # sorted: the compiled request does not depend on kwarg order
            children.append(_condition_from_lookup(key, lookups[key]))
        self.children: tuple[Q | Condition, ...] = tuple(children)
        self.connector = Q.AND
        self.negated = False

    @classmethod
    def _make(cls, children: Iterable[Q | Condition], connector: str, negated: bool = False) -> Q:
        q = cls.__new__(cls)
        q.children = tuple(children)
        q.connector = connector
        q.negated = negated
        return q

    def _combine(self, other: object, connector: str) -> Q:
        if not isinstance(other, Q):
            return NotImplemented
        return Q._make((self, other), connector)

    def __and__(self, other: object) -> Q:
        return self._combine(other, Q.AND)

    def __or__(self, other: object) -> Q:
        return self._combine(other, Q.OR)

    def __invert__(self) -> Q:
        return Q._make(self.children, self.connector, not self.negated)

    def __bool__(self) -> bool:
        return bool(self.children)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Q) and other.children == self.children
                and other.connector == self.connector and other.negated == self.negated)

    def __hash__(self) -> int:
        return hash((self.children, self.connector, self.negated))

    def __repr__(self) -> str:
        inner = f" {self.connector.upper()} ".join(
            repr(c) if isinstance(c, Q) else f"{c.name}{'!' if c.negated else ''}~{c.op}={c.value!r}"
            for c in self.children
        )
        return f"{'NOT ' if self.negated else ''}Q({inner})"


def combine(children: Iterable[Q | Condition], connector: str = Q.AND, negated: bool = False) -> Q:
    """A :class:`Q` of already built children (conditions or Qs), without parsing lookups again."""
    return Q._make(children, connector, negated)


def parse_lookup_key(key: str) -> tuple[tuple[str, ...], str]:
    """``"realm__name__startswith"`` -> ``(("realm", "name"), "startswith")``.

    Names may be snake_case or camelCase (``realmId``); a dotted key (``realm.name``, as the
    original client's ``filter=`` dict allows) is split like ``__``.
    """
    if not isinstance(key, str) or not key.strip():
        raise ValueError(f"a filter lookup must be a non-empty string, got {key!r}")
    parts = key.replace(".", "__").split("__")
    if any(not p for p in parts):
        raise ValueError(f"malformed filter lookup {key!r}")
    lookup = "exact"
    if len(parts) > 1 and parts[-1] in LOOKUPS:
        lookup = parts.pop()
    return tuple(to_snake(p) for p in parts), lookup


def _condition_from_lookup(key: str, value: Any) -> Q | Condition:
    path, lookup = parse_lookup_key(key)
    return make_condition(path, lookup, value, key=key)


def make_condition(path: tuple[str, ...], lookup: str, value: Any, *, key: str | None = None) -> Q | Condition:
    """Build the condition (or, for ``range``, the AND of two) of one lookup: the lookup names
    a canonical operator (:data:`LOOKUPS`), whose value rule (:data:`OPERATOR_TABLE`) checks and
    normalises the value; ``isnull`` and ``range`` expand to other operators."""
    key = key or "__".join((*path, lookup))
    if lookup not in LOOKUPS:
        raise ValueError(f"unknown lookup {lookup!r} in {key!r}; known: {', '.join(sorted(LOOKUPS))}")
    op = LOOKUPS[lookup]
    if op == "eq" and _is_sequence(value):
        op = "in"  # name=[a, b] (and name__ne=[a, b]) reads as name__in
    build = _EXPANSIONS.get(op) or _VALUE_RULES[OPERATOR_TABLE[op].values]
    return build(path, lookup, op, value, key)


def _isnull_condition(path: tuple[str, ...], lookup: str, op: str, value: Any, key: str) -> Condition:
    """``x__isnull=True``: ``x`` equals None (False: it does not)."""
    if not isinstance(value, bool):
        raise ValueError(f"{key}: isnull takes True or False, not {value!r}")
    return Condition(path, "eq", None, negated=not value)


def _range_condition(path: tuple[str, ...], lookup: str, op: str, value: Any, key: str) -> Q:
    """``x__range=(low, high)``: ``low <= x <= high``, the AND of two comparisons."""
    if (isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable)
            or len(bounds := list(value)) != 2):
        raise ValueError(f"{key}: range takes a (low, high) pair, not {value!r}")
    low, high = (normalize_value(v, key) for v in bounds)
    if low is None or high is None:
        raise ValueError(f"{key}: range bounds cannot be None")
    return Q._make((Condition(path, "gte", low), Condition(path, "lte", high)), Q.AND)


def _list_condition(path: tuple[str, ...], lookup: str, op: str, value: Any, key: str) -> Condition:
    """The ``"list"`` value rule (``in``): a non-empty collection of non-None scalars; a set's
    values are sorted (it has no order; the URL should not vary)."""
    if not _is_sequence(value):
        raise ValueError(f"{key}: 'in' takes a list, tuple or set of values, not {value!r}")
    values = tuple(normalize_value(v, key) for v in value)
    if not values:
        raise ValueError(f"{key}: an empty 'in' list matches nothing; drop the query instead")
    if any(v is None for v in values):
        raise ValueError(f"{key}: None inside an 'in' list is not supported; "
                         f"combine with Q({'__'.join(path)}__isnull=True) instead")
    if isinstance(value, (set, frozenset)):
        values = tuple(sorted(values, key=lambda v: (type(v).__name__, str(v))))
    return Condition(path, "in", values, negated=lookup == "ne")


def _scalar_condition(path: tuple[str, ...], lookup: str, op: str, value: Any, key: str) -> Condition:
    """The ``"scalar"`` value rule: one normalised value; None only for equality (IS NULL)."""
    norm = normalize_value(value, key)
    if op in COMPARISONS and norm is None:
        raise ValueError(f"{key}: cannot compare with None; use __isnull")
    return Condition(path, op, norm, negated=lookup == "ne")


def _text_condition(path: tuple[str, ...], lookup: str, op: str, value: Any, key: str) -> Condition:
    """The ``"text"`` value rule (``contains``, ``startswith``, ``endswith``): a non-empty
    pattern; numbers and dates are matched as the text the Hub reads."""
    norm = normalize_value(value, key)
    if norm is None or isinstance(norm, bool):
        raise ValueError(f"{key}: {lookup} takes text, not {value!r}")
    text = norm if isinstance(norm, str) else scalar_text(norm)
    if text == "":
        raise ValueError(f"{key}: an empty {lookup} pattern matches everything; drop the lookup")
    return Condition(path, op, text, negated=lookup == "ne")


#: lookups that are not one operator of :data:`OPERATOR_TABLE`
_EXPANSIONS: dict[str, Callable[..., Q | Condition]] = {"isnull": _isnull_condition, "range": _range_condition}
#: how each kind of :attr:`Operator.values` is checked and normalised
_VALUE_RULES: dict[str, Callable[..., Q | Condition]] = {
    "list": _list_condition, "scalar": _scalar_condition, "text": _text_condition}


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple, set, frozenset))


def normalize_value(value: Any, key: str = "value") -> Scalar:
    """A filter value as a plain scalar: UUIDs and models become their id, enums their value."""
    if isinstance(value, enum.Enum):  # first: a (str, Enum) member is a str whose str() is its name
        return normalize_value(value.value, key)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, _dt.datetime, _dt.date)):
        return value
    if isinstance(value, (float, decimal.Decimal)):
        if not (value.is_finite() if isinstance(value, decimal.Decimal) else math.isfinite(value)):
            raise ValueError(f"{key}: {value!r} cannot be sent to the Hub")
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    ident = getattr(value, "id", None)
    if ident is not None and not callable(ident):
        return normalize_value(ident, key)
    raise ValueError(f"{key}: cannot filter by a {type(value).__name__} value; "
                     "use str, int, float, bool, None, UUID, datetime, an enum or a model with an id")


def scalar_text(value: Scalar) -> str:
    """The text of a normalised scalar as the Hub reads it: ``true``/``false``/``null``, ISO-8601."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)
