"""The fake Hub's query engine: the Hub's list-query semantics (rapiq), pure and sans-IO.

The fake Hub hands every list request (and the ``fields``/``include`` of a single-record read) to
:class:`ListQuery`: ``ListQuery.parse(spec, params, grammar=...)`` decodes the query pairs exactly as
the Hub does (``qs`` key nesting, allow-lists from the registry, what is dropped silently and what is
a 400), and :meth:`ListQuery.run` filters, sorts, counts, pages and shapes in-memory records.

Two grammars (the recordings' READMEs in ``tests/hub-recordings/``):

- ``"v2"`` — Hub >= 0.12.3 and authup >= beta.54 (``@rapiq/*`` 2.x): bracket filters with ``x~``
  starts-with / ``~x`` ends-with / ``~x~`` contains (wildcards literal, case-insensitive), the
  expression form ``filter=and(eq(name,'x'),...)`` (400 with ``issues`` on bad keys or syntax),
  NULL-complement semantics for negated operators (``ne`` also matches NULL), Postgres ordering
  (NULLS LAST ascending).
- ``"v1"`` — Hub <= 0.12.2 (rapiq 0.9 + typeorm-extension 3 on MariaDB, the recorded 0.8.5):
  ``~x`` = ``LIKE 'x%'`` with live ``%``/``_`` wildcards, no ends-with, the expression form silently
  ignored, SQL three-valued negation (``!=`` never matches NULL), case-insensitive collation, NULLs
  sort first, unsorted lists come in primary-key order, and lists whose handler uses ``applyQuery``
  return every record when no ``page[...]`` is sent.

What the engine does not model: authup's filter index anchoring (every allowed authup filter key
leads an index, so a filter on allowed keys always anchors), permission-gated relations, and the
Hub's 500s on type errors (a non-uuid value against a uuid column simply matches nothing here).
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Union
from collections.abc import Callable, Iterable

from flame_hub.resources import REGISTRY, EraSpec, FieldSpec, Resource

__all__ = ["GRAMMARS", "ListQuery", "QueryError"]

#: The query grammars the engine speaks: ``v2`` (Hub >= 0.12.3) and ``v1`` (Hub <= 0.12.2).
GRAMMARS = ("v1", "v2")

Related = Callable[[str, dict], Any]

# Key segments the Hub's decoder refuses outright (rapiq >= 2.0.0-beta.17 prototype guard;
# PrivateAIM/hub test query-decode-guard.spec.ts): 400 on v2, merely unknown (dropped) on v1.
_FORBIDDEN_SEGMENTS = frozenset({"__proto__", "constructor", "prototype"})
_CODECS = ("url-expression", "url-simple")
_ROOT_ALIAS = "$root"  # fields[$root]=... names the root group (rapiq v2)


class QueryError(Exception):
    """A query the Hub answers with 400 ``bad_request``.

    ``message`` is the body's ``message``; ``issues`` the body's ``issues`` list, each item shaped
    like the Hub's (``{"type": "item", "code", "message", "path", "meta": {"parameter", "key"}}``).
    :meth:`body` gives the complete core/storage error body.
    """

    def __init__(self, message: str, issues: list[dict] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.issues: list[dict] = list(issues or [])

    def body(self) -> dict:
        """The Hub's 400 body: ``{"statusCode", "code", "message", "issues"}`` (recordings 026, 037)."""
        return {"statusCode": 400, "code": "bad_request", "message": self.message,
                "issues": self.issues}

    @classmethod
    def rejected(cls, code: str, message: str, parameter: str, path: Iterable[str] = (),
                 key: str | None = None) -> QueryError:
        """A rapiq decode failure: the body names only the count, the issue names the key (recordings)."""
        meta: dict[str, Any] = {"parameter": parameter}
        if key is not None:
            meta["key"] = key
        issue = {"type": "item", "code": code, "message": message, "path": list(path), "meta": meta}
        return cls("The input was rejected: 1 violation.", [issue])


def _syntax_error(details: str) -> QueryError:
    return QueryError.rejected("syntaxInvalid", f"The input syntax is invalid: {details}", "filters")


# --------------------------------------------------------------------------------------------
# Schemas: an EraSpec plus what the engine derives from it (relation targets, field kinds)
# --------------------------------------------------------------------------------------------


class _Schema:
    """One resource on one era, as the query engine needs it."""

    def __init__(self, spec: EraSpec, resource: Resource | None) -> None:
        self.spec = spec
        self.resource = resource
        hidden = set(spec.fields_hidden) | set(spec.hidden_fields)
        record_keys = list(spec.record_keys)
        if spec.fields_default is not None:
            self.default_fields: frozenset[str] | None = frozenset(spec.fields_default)
        elif record_keys:
            self.default_fields = frozenset(k for k in record_keys if k not in hidden)
        else:
            self.default_fields = None  # unknown record shape: keep what is stored, minus hidden
        self.hidden = frozenset(hidden)
        self.allowed_fields = frozenset((self.default_fields or frozenset()) | hidden
                                        | set(record_keys))
        self.relation_keys = tuple(spec.relations)
        self.filters = frozenset(spec.filters)
        self.sorts = frozenset(spec.sorts)

    def target(self, relation: str) -> _Schema | None:
        """The schema a relation of this one points to (same era), if known."""
        if relation not in self.spec.relations or self.resource is None:
            return None
        res = self.resource.relation_target(relation, self.spec.era)
        if res is None or self.spec.era not in res.eras:
            return None
        return _schema(res.eras[self.spec.era])

    def kind(self, key: str) -> str:
        """How values of a record key compare: string/uuid/datetime/boolean/number/other/unknown."""
        fs: FieldSpec | None = self.spec.record_keys.get(key)
        if fs is None:
            return "unknown"
        if fs.format == "date-time":
            return "datetime"
        if fs.format == "uuid":
            return "uuid"
        return {"string": "string", "boolean": "boolean", "integer": "number",
                "number": "number"}.get(fs.type or "", "other" if fs.type else "unknown")

    def default_selection(self, record: dict) -> frozenset[str]:
        if self.default_fields is not None:
            return self.default_fields
        return frozenset(k for k in record if k not in self.hidden)


_SCHEMAS: dict[int, _Schema] = {}


def _schema(spec: EraSpec) -> _Schema:
    cached = _SCHEMAS.get(id(spec))
    if cached is not None and cached.spec is spec:
        return cached
    resource = next((r for r in REGISTRY.values() if r.eras.get(spec.era) is spec), None)
    if resource is None:  # an EraSpec built outside the registry: find it by path
        resource = next((r for r in REGISTRY.values()
                         if spec.era in r.eras and r.eras[spec.era].path == spec.path), None)
    made = _Schema(spec, resource)
    _SCHEMAS[id(spec)] = made
    return made


# --------------------------------------------------------------------------------------------
# qs: the Hub parses the query string with the ``qs`` library before rapiq sees it
# --------------------------------------------------------------------------------------------

_BRACKETS = re.compile(r"\[([^\[\]]*)\]")


def _split_key(key: str) -> list[str]:
    """``filter[realm][name]`` -> ``["filter", "realm", "name"]``; ``include[]`` -> ``["include", ""]``."""
    head = key.find("[")
    if head <= 0:
        return [key]
    segments = [key[:head]]
    pos = head
    while pos < len(key):
        m = _BRACKETS.match(key, pos)
        if not m:  # qs keeps an unbalanced remainder as one literal segment
            segments.append(key[pos:])
            break
        segments.append(m.group(1))
        pos = m.end()
    return segments


def _merge(container: dict, key: str, value: Any, *, as_list: bool = False) -> None:
    """qs semantics: a repeated key becomes an array (which rapiq reads as IN, not AND)."""
    if key not in container:
        container[key] = [value] if as_list else value
    elif isinstance(container[key], list):
        container[key].append(value)
    else:
        container[key] = [container[key], value]


def _qs_parse(params: Iterable[tuple[str, str]]) -> dict:
    """Nest decoded query pairs the way ``qs.parse`` (default options) does."""
    out: dict = {}
    for raw_key, value in params:
        segments = _split_key(raw_key)
        container = out
        for i, seg in enumerate(segments):
            last = i == len(segments) - 1
            next_is_index = not last and i + 1 == len(segments) - 1 and (
                segments[i + 1] == "" or segments[i + 1].isdigit())
            if last:
                _merge(container, seg, value)
                break
            if next_is_index:  # key[] / key[0]: an array element
                _merge(container, seg, value, as_list=True)
                break
            child = container.get(seg)
            if child is None:
                child = container[seg] = {}
            elif not isinstance(child, dict):  # a string and an object under one key: unusable
                container[seg] = [child, {}]
                break
            container = child
    return out


# --------------------------------------------------------------------------------------------
# Scalars: JavaScript's Number()/parseInt()/String() as rapiq applies them
# --------------------------------------------------------------------------------------------

_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_RADIX = re.compile(r"0([xXoObB])([0-9a-fA-F]+)")
_PARSE_INT = re.compile(r"\s*([+-]?\d+)")


def _js_number(text: str) -> float | int | None:
    """``Number(text)`` of JavaScript, or None for NaN (``"0x1F"`` -> 31, ``" 12 "`` -> 12)."""
    t = text.strip()
    if _DECIMAL.fullmatch(t):
        value = float(t)
    elif t in ("Infinity", "+Infinity", "-Infinity"):
        value = float(t.replace("Infinity", "inf"))
    else:
        m = _RADIX.fullmatch(t)
        if not m:
            return None
        try:
            value = float(int(t, 0))
        except ValueError:
            return None
    if math.isfinite(value) and value == int(value) and abs(value) < 2**53:
        return int(value)
    return value


def _js_string(value: Any) -> str:
    """``String(value)`` of JavaScript for the scalars a filter can carry."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return re.sub(r"e([+-])0*(\d)", r"e\1\2", repr(value))
    return str(value)


def _parse_int(value: Any) -> int | None:
    """``parseInt(value, 10)`` of JavaScript (an array is joined with commas first)."""
    text = ",".join(map(str, value)) if isinstance(value, list) else value
    if not isinstance(text, str):
        return None
    m = _PARSE_INT.match(text)
    return int(m.group(1)) if m else None


def _coerce(text: str) -> Any:
    """rapiq's ``parseFilterScalar``: trim, then true/false/null (any case), then Number()."""
    t = text.strip()
    if not t:
        return t
    lower = t.lower()
    if lower in ("true", "false"):
        return lower == "true"
    if lower == "null":
        return None
    number = _js_number(t)
    return t if number is None else number


_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?", re.IGNORECASE)


@lru_cache(maxsize=65536)
def _parse_datetime(text: str) -> datetime | None:
    """An ISO date or date-time as the database reads it (no zone = UTC)."""
    m = _DATETIME.fullmatch(text.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    try:
        dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
                      int((frac or "0")[:6].ljust(6, "0")), tzinfo=timezone.utc)
    except ValueError:
        return None
    if tz and tz.upper() != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        dt -= sign * offset
    return dt


_PG_TRUE = frozenset({"t", "true", "y", "yes", "on", "1"})
_PG_FALSE = frozenset({"f", "false", "n", "no", "off", "0"})


class _Incomparable:
    """A filter value the column cannot hold (the real database would error): matches nothing."""


_NOPE = _Incomparable()


def _column_value(value: Any, kind: str) -> Any:
    """Normalise a filter value into the domain of a column (or ``_NOPE``)."""
    if value is None:
        return None
    if kind == "datetime":
        return _parse_datetime(value) if isinstance(value, str) else _NOPE
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _PG_TRUE | _PG_FALSE:
            return value.strip().lower() in _PG_TRUE
        return _NOPE
    if kind == "number":
        if isinstance(value, bool):
            return _NOPE
        if isinstance(value, (int, float)):
            return value
        number = _js_number(value) if isinstance(value, str) else None
        return _NOPE if number is None else number
    if kind in ("string", "uuid"):
        return _js_string(value) if not isinstance(value, str) else value
    return value


def _record_value(value: Any, kind: str) -> Any:
    """Normalise a stored value for comparison with a normalised filter value."""
    if value is None:
        return None
    if kind == "datetime" and isinstance(value, str):
        return _parse_datetime(value) or value
    return value


def _kind_of(value: Any, declared: str) -> str:
    if declared != "unknown":
        return declared
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "datetime" if _parse_datetime(value) is not None and "T" in value else "string"
    return "other"


# --------------------------------------------------------------------------------------------
# The filter tree
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    """A resolved key: the relation chain to walk and the key on the last record."""

    relations: tuple[str, ...]
    name: str
    kind: str

    @property
    def key(self) -> str:
        return ".".join((*self.relations, self.name))


@dataclass(frozen=True)
class _Cond:
    op: str  # eq lt lte gt gte in contains startsWith endsWith like, or a negated twin
    field: _Field
    value: Any


@dataclass(frozen=True)
class _Group:
    op: str  # "and" | "or"
    items: tuple[_Node, ...]


_Node = Union[_Cond, _Group]

# negated operator -> its positive twin
_NEGATED = {"ne": "eq", "nin": "in", "notContains": "contains", "notStartsWith": "startsWith",
            "notEndsWith": "endsWith", "notLike": "like"}
_POSITIVE_TWIN = {v: k for k, v in _NEGATED.items()}
# what not(...) turns a comparison into in the expression dialect (rapiq pushes negation down)
_NOT_COMPARISON = {"eq": "ne", "gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt"}


# --------------------------------------------------------------------------------------------
# Bracket filters
# --------------------------------------------------------------------------------------------

# v2 decode precedence (rapiq parser-simple wire/constants.ts): LIKE rows before comparisons,
# contains before ends/starts, <= before <, >= before >, eq last. (op, prefix, suffix, raw text)
_WIRE_ROWS = (
    ("contains", "~", "~", True), ("endsWith", "~", "", True), ("startsWith", "", "~", True),
    ("lte", "<=", "", False), ("lt", "<", "", False), ("gte", ">=", "", False),
    ("gt", ">", "", False), ("eq", "", "", False),
)


def _js_substring(text: str, start: int, end: int) -> str:
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    return text[min(start, end):max(start, end)]


def _normalize_v2(value: Any) -> Any:
    """Trim, comma-split into a list, coerce scalars; lists drop '' (keep 0/false/null)."""
    if isinstance(value, str):
        trimmed = value.strip()
        if not trimmed:
            return trimmed
        parts = trimmed.split(",")
        return _normalize_v2(parts) if len(parts) > 1 else _coerce(trimmed)
    if isinstance(value, list):
        out: list = []
        for element in value:
            item = _normalize_v2(element)
            out.extend(item if isinstance(item, list) else [item])
        return [v for v in out if not (isinstance(v, str) and v == "")]
    raise ValueError("value can not be normalised")


def _decode_token_v2(token: str) -> tuple[str, Any]:
    negated = token.startswith("!")
    if negated:
        token = token[1:]
    for op, prefix, suffix, raw in _WIRE_ROWS:
        if token[:len(prefix)] != prefix or token[len(token) - len(suffix):] != suffix:
            continue
        # JS substring swaps reversed bounds: the lone token '~' is "contains '~'"
        inner = _js_substring(token, len(prefix), len(token) - len(suffix))
        if negated and op in _POSITIVE_TWIN:  # '!' binds to eq and the LIKE rows only ('!<5' = lt 5)
            op = _POSITIVE_TWIN[op]
        return op, inner if raw else _normalize_v2(inner)
    raise AssertionError("the eq row matches every token")  # pragma: no cover


def _decode_bracket_v2(raw: Any) -> tuple[str, Any] | None:
    """One ``filter[key]`` value -> (operator, value), or None when the Hub drops it."""
    try:
        value = _normalize_v2(raw)
    except ValueError:
        return None
    if isinstance(value, list):
        first = value[0] if value else None
        if isinstance(first, str):
            op, v = _decode_token_v2(first)
            if op == "ne":  # '!a,b' is NOT IN; only the first element loses its '!'
                return "nin", [v, *value[1:]]
        return "in", value
    if not isinstance(value, str):
        return "eq", value
    op, v = _decode_token_v2(value)
    if isinstance(v, str) and v == "":  # '', '!', '<=', '~~' express nothing: dropped
        return None
    return op, v


def _decode_bracket_v1(raw: Any) -> tuple[str, Any] | None:
    """rapiq 0.9 + typeorm-extension 3 (tests/hub-recordings/0.8.5/README.md, 063-075)."""
    if isinstance(raw, list):
        parts = [p for r in raw if isinstance(r, str) for p in r.strip().split(",")]
    elif isinstance(raw, str):
        trimmed = raw.strip()
        if not trimmed:
            return None
        parts = trimmed.split(",")
    else:
        return None
    if len(parts) > 1 or isinstance(raw, list):
        negated = any(p.strip().startswith("!") for p in parts)
        values = [_coerce(p.strip().removeprefix("!")) for p in parts]
        # the list drops falsy elements ('' and false) but keeps 0 and null ('true,false' -> [true])
        values = [v for v in values if v is None or v is not False and (v == 0 or v)]
        return ("nin" if negated else "in"), values
    token = parts[0]
    negated = token.startswith("!")
    if negated:
        token = token[1:]
    if token.startswith("~"):
        text = token[1:]
        return (("notLike" if negated else "like"), text) if text else None
    for prefix, op in (("<=", "lte"), ("<", "lt"), (">=", "gte"), (">", "gt")):
        if token.startswith(prefix):  # comparisons ignore '!'
            value = _coerce(token[len(prefix):])
            return None if value == "" else (op, value)
    value = _coerce(token)
    if value == "":
        return None
    return ("ne" if negated else "eq"), value


def _flatten_filter_object(obj: dict, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """``{"realm": {"name": "x"}, "id": "1"}`` -> ``[(("realm", "name"), "x"), (("id",), "1")]``."""
    out = []
    for key, value in obj.items():
        path = (*prefix, *str(key).split("."))
        if isinstance(value, dict):
            out.extend(_flatten_filter_object(value, path))
        else:
            out.append((path, value))
    return out


# --------------------------------------------------------------------------------------------
# Expression filters (v2): filter=and(eq(name,'x'),gte(createdAt,'2026-01-01'))
# --------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s+|\(|\)|,|\.|'(?:''|[^'])*'|[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?")
# keyword -> token type (the names the Hub's error messages use)
_KEYWORDS = {"not": "NOT", "and": "AND", "or": "OR", "eq": "eq", "gt": "gt", "gte": "gte",
             "lt": "lt", "lte": "lte", "contains": "like", "startsWith": "startsWith",
             "endsWith": "endsWith", "in": "in", "nin": "nin", "null": "NULL"}
_PUNCT = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA", ".": "DOT"}
_MATCH_OPS = {"like": "contains", "startsWith": "startsWith", "endsWith": "endsWith"}
_MAX_DEPTH = 32


def _tokenize(text: str) -> list[tuple[str, str | None]]:
    tokens: list[tuple[str, str | None]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise _syntax_error(f"Unexpected character at position {pos}.")
        value = m.group(0)
        pos = m.end()
        if value.isspace():
            continue
        if value in _KEYWORDS:
            tokens.append((_KEYWORDS[value], None))
        elif value in _PUNCT:
            tokens.append((_PUNCT[value], None))
        elif value.startswith("'"):
            tokens.append(("ESCAPED_TEXT", value))
        else:
            tokens.append(("FIELD", value))
    tokens.append(("EOF", None))
    return tokens


class _ExpressionParser:
    """Recursive descent over the expression dialect, negation pushed down as rapiq does."""

    def __init__(self, text: str, resolve: Callable[[list[str]], _Field]) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.resolve = resolve

    def parse(self) -> _Node:
        node = self.expression(False, 0)
        if self.peek() != "EOF":
            raise _syntax_error(f"Unexpected token: {self.peek()}")
        return node

    def peek(self) -> str:
        return self.tokens[self.pos][0]

    def consume(self, expected: str | None = None) -> tuple[str, str | None]:
        token = self.tokens[self.pos]
        if expected is not None and token[0] != expected:
            raise _syntax_error(f"Expected {expected}, got {token[0]}")
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def expression(self, negated: bool, depth: int) -> _Node:
        if depth > _MAX_DEPTH:
            raise _syntax_error("The maximum nesting depth was exceeded.")
        kind = self.peek()
        if kind == "NOT":
            self.consume()
            self.consume("LPAREN")
            node = self.expression(not negated, depth + 1)
            self.consume("RPAREN")
            return node
        if kind in ("AND", "OR"):
            self.consume()
            self.consume("LPAREN")
            items = [self.expression(negated, depth + 1)]
            while self.peek() == "COMMA":
                self.consume()
                items.append(self.expression(negated, depth + 1))
            self.consume("RPAREN")
            op = "and" if (kind == "AND") != negated else "or"  # De Morgan under not()
            return _Group(op, tuple(items))
        if kind in _NOT_COMPARISON:
            self.consume()
            self.consume("LPAREN")
            fld = self.field_chain()
            self.consume("COMMA")
            value = self.value()
            self.consume("RPAREN")
            return _Cond(_NOT_COMPARISON[kind] if negated else kind, fld, value)
        if kind in _MATCH_OPS:
            self.consume()
            self.consume("LPAREN")
            fld = self.field_chain()
            self.consume("COMMA")
            text = _unquote(self.consume("ESCAPED_TEXT")[1] or "''")  # raw: no trim, no coercion
            self.consume("RPAREN")
            op = _MATCH_OPS[kind]
            return _Cond(_POSITIVE_TWIN[op] if negated else op, fld, text)
        if kind in ("in", "nin"):
            self.consume()
            self.consume("LPAREN")
            fld = self.field_chain()
            values = []
            while self.peek() == "COMMA":
                self.consume()
                values.append(self.value())
            self.consume("RPAREN")
            return _Cond("nin" if (kind == "nin") != negated else "in", fld, values)
        raise _syntax_error(f"Unexpected token in filter expression: {kind}")

    def value(self) -> Any:
        kind, text = self.consume()
        if kind == "NULL":
            return None
        if kind != "ESCAPED_TEXT":
            raise _syntax_error(f"Unexpected token in value: {kind}")
        return _coerce(_unquote(text or "''"))  # quoted values are coerced, never comma-split

    def field_chain(self) -> _Field:
        parts = [self.consume("FIELD")[1] or ""]
        while self.peek() == "DOT":
            self.consume()
            parts.append(self.consume("FIELD")[1] or "")
        return self.resolve(parts)


def _unquote(token: str) -> str:
    return token[1:-1].replace("''", "'")


# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------


def _positive(op: str, actual: Any, expected: Any, kind: str) -> bool:
    """Does one stored value satisfy a positive operator? (NULL never satisfies a comparison.)"""
    if op == "in":
        return any(_positive("eq", actual, e, kind) for e in expected)
    if op == "eq" and expected is None:
        return actual is None
    if actual is None:
        return False
    kind = _kind_of(actual, kind)
    if op in ("contains", "startsWith", "endsWith"):
        if not isinstance(actual, str) or not isinstance(expected, str):
            return False
        low, sub = actual.lower(), expected.lower()  # v2: lower(col) LIKE lower(?), wildcards escaped
        if op == "contains":
            return sub in low
        return low.startswith(sub) if op == "startsWith" else low.endswith(sub)
    if op == "like":
        if isinstance(actual, bool) or not isinstance(actual, (str, int, float)):
            return False
        return _like_regex(_js_string(expected) + "%").fullmatch(_js_string(actual)) is not None
    e: Any = _column_value(expected, kind)
    if e is _NOPE or e is None:
        return False
    a: Any = _record_value(actual, kind)
    if isinstance(a, str) and isinstance(e, str):
        if op == "eq":
            return a.lower() == e.lower()  # case-insensitive (v2 lower(); v1 MariaDB *_ci)
        a, e = _string_key(a), _string_key(e)
    elif type(a) is not type(e) and not (_is_number(a) and _is_number(e)):
        return False
    try:
        return _COMPARE[op](a, e)
    except TypeError:
        return False


_COMPARE = {"eq": operator.eq, "lt": operator.lt, "lte": operator.le, "gt": operator.gt,
            "gte": operator.ge}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _string_key(text: str) -> tuple[str, str]:
    """Collation-like ordering: case-insensitive first, then the raw text as a tie-break."""
    return text.casefold(), text


@lru_cache(maxsize=1024)
def _like_regex(pattern: str) -> re.Pattern:
    """SQL LIKE (MySQL flavour, live ``%``/``_``, ``\\`` escapes) as a case-insensitive regex."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


# --------------------------------------------------------------------------------------------
# The query
# --------------------------------------------------------------------------------------------


@dataclass
class ListQuery:
    """A decoded list (or single-record) query for one resource on one era.

    Build it with :meth:`parse`; apply it with :meth:`run` (lists) or :meth:`shape` (one record).
    ``meta_keys`` tells which of ``total``/``limit``/``offset`` the Hub shows for this request
    (on 0.8.5, lists whose handler uses ``applyQuery`` show only ``total`` without ``page[...]``).
    """

    spec: EraSpec
    grammar: str = "v2"
    filter: _Node | None = None
    sort: tuple[tuple[_Field, bool], ...] = ()  # (field, descending)
    limit: int | None = 50
    offset: int = 0
    paged: bool = False
    include: dict[str, dict] = field(default_factory=dict)  # relation tree: {"analysis": {"project": {}}}
    fields: dict[tuple[str, ...], list[tuple[str, str]]] = field(default_factory=dict)
    meta_keys: tuple[str, ...] = ("total", "limit", "offset")

    # ---------------------------------------------------------------- parsing

    @classmethod
    def parse(cls, spec: EraSpec, params: Iterable[tuple[str, str]], *, grammar: str = "v2",
              record: bool = False) -> ListQuery:
        """Decode query pairs (``[("filter[name]", "x~"), ("page[limit]", "10"), ...]``) as the Hub.

        Disallowed keys are dropped silently, exactly where the Hub drops them; a ``QueryError``
        is raised where the Hub answers 400: an expression filter with a syntax error or a key
        outside the allow-list, an unknown ``codec``, a ``__proto__``-style key segment (v2), and
        on the log lists a missing required filter or anything but an AND of equalities.
        ``grammar="v1"`` decodes as Hub <= 0.12.2 (the 0.8.5 era) does. ``record=True`` decodes
        only what a single-record read does (``fields`` and ``include``).
        """
        if grammar not in GRAMMARS:
            raise ValueError(f"unknown query grammar {grammar!r}; expected one of {GRAMMARS}")
        if not isinstance(spec, EraSpec) or not spec.available:
            raise ValueError("ListQuery needs the EraSpec of an available resource")
        schema = _schema(spec)
        query = _qs_parse(params)
        q = cls(spec=spec, grammar=grammar)
        v2 = grammar == "v2"

        codec = None
        if v2 and "codec" in query:  # rapiq v2 dispatch: an unknown stamp fails loudly
            codec = query["codec"]
            if not isinstance(codec, str) or codec not in _CODECS:
                raise QueryError.rejected(
                    "inputInvalid", f"The codec {_js_string(codec)} is not resolvable.", "codec")

        q.include = q._parse_include(schema, query.get("include"))
        q.fields = q._parse_fields(schema, query.get("fields"))
        if record:
            return q

        q.filter = q._parse_filter(schema, query, codec)
        q.sort = q._parse_sort(schema, query.get("sort"))
        q._parse_page(query)
        if spec.required_filters:
            q._check_log_filters()
        return q

    def _guard(self, parameter: str, key: str) -> bool:
        """True when a key is usable; v2 answers 400 on prototype-polluting segments."""
        if any(seg in _FORBIDDEN_SEGMENTS for seg in key.split(".")):
            if self.grammar == "v2":
                raise QueryError.rejected("keyInvalid", f"The key {key} is invalid.", parameter,
                                          key.split("."), key)
            return False
        return True

    def _parse_include(self, schema: _Schema, raw: Any) -> dict[str, dict]:
        items = _split_list(raw)
        tree: dict[str, dict] = {}
        for item in items:
            if not item or not self._guard("relations", item):
                continue
            parts = item.split(".")
            if self.grammar == "v1" and len(parts) > 1:
                continue  # v1 allow-lists name top-level relations only
            current: _Schema | None = schema
            for part in parts:
                if current is None or part not in current.relation_keys:
                    break  # a path with a disallowed segment is dropped silently
                current = current.target(part)
            else:
                node = tree
                for part in parts:
                    node = node.setdefault(part, {})
        return tree

    def _parse_fields(self, schema: _Schema, raw: Any) -> dict[tuple[str, ...], list[tuple[str, str]]]:
        if self.grammar == "v1" and schema.spec.fields_param_honoured is False:
            return {}  # 0.8.5 handlers without a fields allow-list ignore `fields=` entirely
        groups: dict[tuple[str, ...], list[str]] = {}
        if isinstance(raw, dict):
            for key, value in raw.items():
                path: tuple[str, ...] = () if key in (_ROOT_ALIAS, schema.spec.schema_name) \
                    else tuple(str(key).split("."))
                groups.setdefault(path, []).extend(_field_items(value))
        else:
            groups[()] = _field_items(raw)
        out: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        for path, items in groups.items():
            for item in items:
                op = item[:1] if item[:1] in ("+", "-") else ""
                name = item[len(op):]
                *rel, leaf = name.split(".") if name else [""]
                full = (*path, *rel)
                if not self._guard("fields", ".".join((*full, leaf))):
                    continue
                target = self._walk_included(schema, full)
                if target is None or leaf not in target.allowed_fields:
                    continue  # unknown or not allowed: dropped (050 keeps +name; 092 drops +foo)
                out.setdefault(full, []).append((op, leaf))
        return out

    def _walk_included(self, schema: _Schema, relations: tuple[str, ...]) -> _Schema | None:
        """The schema at the end of an included relation chain, or None if any link is not."""
        node = self.include
        current_or_none: _Schema | None = schema
        for rel in relations:
            if rel not in node or current_or_none is None:
                return None
            node, current_or_none = node[rel], current_or_none.target(rel)
        return current_or_none

    def _resolve_key(self, schema: _Schema, parts: list[str], *, strict: bool) -> _Field | None:
        """A filter/sort key on this schema (or through an included relation), or None/400."""
        key = ".".join(parts)
        if len(parts) > 1 and parts[0] == schema.spec.schema_name:
            parts = parts[1:]  # the schema's own name addresses the root (rapiq named groups)
        if not self._guard("filters", key):
            return None
        *relations, name = parts
        if self.grammar == "v1":
            if not relations:
                return _Field((), name, schema.kind(name)) if name in schema.filters else None
            # v1: the dotted key must be listed literally, most only together with include=
            rule = schema.spec.relation_filters.get(key)
            if rule is None or rule == "no" or len(relations) != 1:
                return None
            if "include" in rule and relations[0] not in self.include:
                return None
            target = schema.target(relations[0])
            return _Field(tuple(relations), name, target.kind(name) if target else "unknown")
        current: _Schema | None = schema
        for i, rel in enumerate(relations):
            included = self._walk_included(schema, tuple(relations[:i + 1]))
            if current is None or rel not in current.relation_keys or included is None:
                if strict:
                    path = ".".join(relations[:i + 1])
                    raise QueryError.rejected("keyPathInvalid", f"The key path {path} is invalid.",
                                              "filters", parts, key)
                return None  # bracket form: relation not allowed or not included -> dropped
            current = included
        if current is None or name not in current.filters:
            if strict:
                raise QueryError.rejected("keyNotAllowed", f"The key {key} is not permitted.",
                                          "filters", parts, key)
            return None
        return _Field(tuple(relations), name, current.kind(name))

    def _parse_filter(self, schema: _Schema, query: dict, codec: Any) -> _Node | None:
        raw = query.get("filter")
        if "filter" not in query:
            return None
        if self.grammar == "v1":
            if not isinstance(raw, dict):
                return None  # rapiq 0.9 ignores a non-object filter: the whole filter is dropped (083)
            return self._bracket_filter(schema, raw)
        if codec == "url-expression" or (codec is None and isinstance(raw, str) and raw != ""):
            if not isinstance(raw, str):
                raise QueryError.rejected("inputInvalid", "The shape of the input is not valid.",
                                          "filters")
            if raw == "":
                raise _syntax_error("Unexpected token in filter expression: EOF")
            return _ExpressionParser(raw, lambda parts: self._resolve_key(
                schema, parts, strict=True)).parse()  # type: ignore[arg-type, return-value]
        if isinstance(raw, dict):
            return self._bracket_filter(schema, raw)
        return None  # `filter=`, a string under codec=url-simple, or an unusable shape: no filter

    def _bracket_filter(self, schema: _Schema, raw: dict) -> _Node | None:
        decode = _decode_bracket_v2 if self.grammar == "v2" else _decode_bracket_v1
        conditions = []
        for path, value in _flatten_filter_object(raw):
            fld = self._resolve_key(schema, list(path), strict=False)
            if fld is None:
                continue  # unknown / disallowed key: dropped, 200 (054, 046)
            decoded = decode(value)
            if decoded is not None:
                conditions.append(_Cond(decoded[0], fld, decoded[1]))
        return _Group("and", tuple(conditions)) if conditions else None

    def _parse_sort(self, schema: _Schema, raw: Any) -> tuple[tuple[_Field, bool], ...]:
        requested = _sort_items(raw)
        root: list[tuple[_Field, bool]] = []
        related: list[tuple[_Field, bool]] = []
        for key, desc in requested.items():
            if not key or not self._guard("sorts", key):
                continue
            parts = key.split(".")
            if len(parts) > 1 and parts[0] == schema.spec.schema_name:
                parts = parts[1:]
            *relations, name = parts
            if not relations:
                if name in schema.sorts:  # others dropped silently (045 sort=-created_at)
                    root.append((_Field((), name, schema.kind(name)), desc))
                continue
            target = self._walk_included(schema, tuple(relations)) if self.grammar == "v2" else None
            if target is not None and name in target.sorts:  # relation sort needs include=
                related.append((_Field(tuple(relations), name, target.kind(name)), desc))
        if schema.spec.sorts_indexed and root:
            # authup: the keys must be a left-most prefix of a declared index, else all dropped
            names = tuple(f.name for f, _ in root)
            if not any(index[:len(names)] == names for index in schema.spec.indexes):
                root = []
        if not root:
            default = schema.spec.default_sort or {}
            root = [(_Field((), k, schema.kind(k)), str(d).upper() == "DESC")
                    for k, d in default.items()]
        return (*root, *related)

    def _parse_page(self, query: dict) -> None:
        page = query.get("page")
        self.paged = "page" in query
        max_limit = self.spec.max_limit
        limit = offset = None
        if isinstance(page, dict):
            if "limit" in page:
                value = _parse_int(page["limit"])
                limit = value if value is not None and value > 0 else None  # bad: default (049)
            if "offset" in page:
                value = _parse_int(page["offset"])
                offset = value if value is not None and value >= 0 else None
        self.offset = offset or 0
        without_page = self.spec.meta_keys_without_page
        if self.grammar == "v1" and not self.paged and without_page and "limit" not in without_page:
            # 0.8.5 applyQuery handlers: no page[...] -> no limit at all, meta {total} (legacy README)
            self.limit = None
            self.meta_keys = tuple(k for k in ("total", "limit", "offset") if k in without_page)
            return
        self.limit = max_limit if limit is None or limit > max_limit else limit  # clamp (053)

    def _check_log_filters(self) -> None:
        """The telemetry-backed log lists: only AND of eq, and the required keys (077)."""
        values: dict[str, Any] = {}

        def visit(node: _Node) -> None:
            if isinstance(node, _Group):
                if node.op != "and":
                    raise QueryError(f"The filter compound operator '{node.op}' is not supported "
                                     "here; only 'and' of equality filters is allowed.")
                for item in node.items:
                    visit(item)
            elif node.op != "eq":
                raise QueryError(f"The filter operator '{node.op}' on '{node.field.key}' is not "
                                 "supported here; only equality (eq) filters are allowed.")
            else:
                values[node.field.key] = node.value

        if self.filter is not None:
            visit(self.filter)
        required = self.spec.required_filters
        if any(values.get(k) in (None, "") for k in required):
            # the Hub's fixed message names the keys last-first (077: "nodeId and analysisId")
            names = " and ".join(reversed(required))
            noun = "filter" if len(required) == 1 else "filters"
            raise QueryError(f"The {noun} {names} must be defined.")

    # ---------------------------------------------------------------- running

    def run(self, records: list[dict], related: Related) -> tuple[list[dict], dict]:
        """Filter, sort, count, page and shape ``records`` (full stored records, wire keys,
        insertion order). ``related(relation_key, record)`` gives the related record (or None, or
        a list). Returns ``(items, {"total", "limit", "offset"})``; ``limit`` is None when the Hub
        applies none (0.8.5 ``applyQuery`` lists without ``page[...]``)."""
        lookup = _RelatedCache(related)
        rows = records
        if self.filter is not None:
            rows = [r for r in rows if self._matches(self.filter, r, lookup)]
        rows = self._order(rows, lookup)
        total = len(rows)
        end = None if self.limit is None else self.offset + self.limit
        page = rows[self.offset:end]
        items = [self._shape(_schema(self.spec), r, (), self.include, lookup) for r in page]
        return items, {"total": total, "limit": self.limit, "offset": self.offset}

    def shape(self, record: dict, related: Related) -> dict:
        """Apply only ``fields``/``include`` to one record (``GET /x/:id?fields=...&include=...``)."""
        return self._shape(_schema(self.spec), record, (), self.include, _RelatedCache(related))

    def _values(self, fld: _Field, record: dict, lookup: _RelatedCache) -> list[Any]:
        """Every value a key takes on a record (several through a to-many relation, [] if none)."""
        current: list[Any] = [record]
        for rel in fld.relations:
            nxt: list[Any] = []
            for rec in current:
                got = lookup(rel, rec)
                nxt.extend(got if isinstance(got, list) else [got])
            current = nxt
        return [key_value(rec, fld.name) if isinstance(rec, dict) else None for rec in current]

    def _matches(self, node: _Node, record: dict, lookup: _RelatedCache) -> bool:
        if isinstance(node, _Group):
            if node.op == "and":
                return all(self._matches(i, record, lookup) for i in node.items)
            return any(self._matches(i, record, lookup) for i in node.items)
        values = self._values(node.field, record, lookup) or [None]
        positive_op = _NEGATED.get(node.op, node.op)
        hit = any(_positive(positive_op, v, node.value, node.field.kind) for v in values)
        if positive_op == node.op:
            return hit
        if self.grammar == "v1" and all(v is None for v in values) and node.value is not None:
            return False  # SQL: `col != x`, NOT IN, NOT LIKE never match NULL (MariaDB)
        return not hit  # v2: negated operators are exact complements (NULL matches)

    def _order(self, rows: list[dict], lookup: _RelatedCache) -> list[dict]:
        keys = self.sort
        if not keys:
            if self.grammar == "v1" and rows and "id" in rows[0]:
                # MariaDB answers an unsorted list in primary-key order (legacy 084-086)
                return sorted(rows, key=lambda r: str(r.get("id") or ""))
            return list(rows)  # v2: insertion (heap) order
        ordered = list(rows)
        nulls_first_asc = self.grammar == "v1"  # MariaDB: NULL smallest; Postgres: NULL largest
        null_key, rank = ((0,), (1,)) if nulls_first_asc else ((1,), (0,))
        for fld, desc in reversed(keys):
            kind = fld.kind
            if fld.relations:
                def value_of(row: dict, fld: _Field = fld) -> Any:
                    values = self._values(fld, row, lookup)
                    return values[0] if values else None
            else:  # a key of the record itself (what _values gives, without its walk)
                value_of = operator.methodcaller("get", fld.name)  # type: ignore[assignment]  # fast path

            def sort_key(row: dict, value_of: Callable[[dict], Any] = value_of, kind: str = kind) -> tuple:
                value = value_of(row)
                return null_key if value is None else rank + _order_key(value, kind)
            ordered.sort(key=sort_key, reverse=desc)  # stable, also with reverse=True
        return ordered

    # ---------------------------------------------------------------- shaping

    def _selection(self, schema: _Schema, path: tuple[str, ...], record: dict) -> frozenset[str]:
        """rapiq's Fields.execute: explicit list replaces, ``+`` adds, ``-`` removes."""
        default = schema.default_selection(record)
        items = self.fields.get(path)
        if not items:
            return default
        explicit = [n for op, n in items if op == ""]
        chosen = list(dict.fromkeys(explicit)) or list(default)
        chosen += [n for op, n in items if op == "+"]
        if path and explicit and "id" in schema.allowed_fields:
            chosen.append("id")  # an included relation keeps its primary key
        return frozenset(chosen) - {n for op, n in items if op == "-"}

    def _shape(self, schema: _Schema, record: dict, path: tuple[str, ...],
               include: dict[str, dict], lookup: _RelatedCache) -> dict:
        selected = self._selection(schema, path, record)
        embeds: dict[str, Any] = {}
        for rel, sub in include.items():
            target = schema.target(rel)
            got = lookup(rel, record)
            if target is None:
                embeds[rel] = got
            elif isinstance(got, list):
                embeds[rel] = [self._shape(target, g, (*path, rel), sub, lookup) for g in got]
            elif isinstance(got, dict):
                embeds[rel] = self._shape(target, got, (*path, rel), sub, lookup)
            else:
                embeds[rel] = None  # include=masterImage with no image: "masterImage": null (060)
        out: dict[str, Any] = {}
        anchors = {_foreign_key(rel, record): rel for rel in embeds}
        for key, value in record.items():
            if key in selected and key not in embeds:
                out[key] = value
            anchored = anchors.get(key)
            if anchored is not None:  # the Hub puts a relation right after its foreign key (035, 062)
                out[anchored] = embeds.pop(anchored)
        out.update(embeds)
        return out


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def key_value(record: dict, key: str) -> Any:
    """A record's value of a filter/sort key; log entries carry theirs in ``labels`` (the
    telemetry service filters on labels: ``analysisId``, ``nodeId``, additions 263)."""
    if key in record:
        return record[key]
    labels = record.get("labels")
    return labels.get(key) if isinstance(labels, dict) else None


class _RelatedCache:
    """Memoises ``related(key, record)`` per record for one run (filters, sorts and embeds)."""

    def __init__(self, related: Related) -> None:
        self.related = related
        self.cache: dict[tuple[str, int], Any] = {}

    def __call__(self, key: str, record: Any) -> Any:
        if not isinstance(record, dict):
            return None
        slot = (key, id(record))
        if slot not in self.cache:
            self.cache[slot] = self.related(key, record)
        return self.cache[slot]


def _foreign_key(relation: str, record: dict) -> str | None:
    for key in (f"{relation}Id", f"{relation}_id"):
        if key in record:
            return key
    return None


def _order_key(value: Any, kind: str) -> tuple:
    if isinstance(value, str):  # the common case, and the costly one (dates are parsed)
        return _str_order_key(value, kind)
    return _compute_order_key(value, kind)


def _compute_order_key(value: Any, kind: str) -> tuple:
    kind = _kind_of(value, kind)
    if kind == "datetime" and isinstance(value, str):
        parsed = _parse_datetime(value)
        if parsed is not None:
            return (2, parsed.timestamp(), "")
    if isinstance(value, bool):
        return (1, int(value), "")
    if _is_number(value):
        return (1, value, "")
    if isinstance(value, str):
        return (3, 0, *_string_key(value))
    return (4, 0, _js_string(value))


#: A list request sorts every matching record; with 10,000 records, parsing each date string
#: again on every request was most of its cost. Strings are immutable: one key per (text, kind).
_str_order_key = lru_cache(maxsize=1 << 16)(_compute_order_key)


def _split_list(raw: Any) -> list[str]:
    """A comma list given once (``a,b``) or repeated (``x=a&x=b`` / ``x[]=a``)."""
    if isinstance(raw, str):
        return raw.split(",")
    if isinstance(raw, list):
        return [p for r in raw if isinstance(r, str) for p in r.split(",")]
    return []


def _field_items(raw: Any) -> list[str]:
    """``fields`` entries: a string is split on commas; array elements are taken as they are."""
    if isinstance(raw, str):
        return [p for p in raw.split(",") if p]
    if isinstance(raw, list):
        return [r for r in raw if isinstance(r, str) and r]
    return []


def _sort_items(raw: Any) -> dict[str, bool]:
    """``sort=name,-createdAt`` / ``sort[name]=desc`` -> ``{key: descending}`` (last one wins)."""
    out: dict[str, bool] = {}
    if isinstance(raw, (str, list)):
        keys = raw.split(",") if isinstance(raw, str) else [r for r in raw if isinstance(r, str)]
        for key in keys:
            if key.startswith("-"):
                out[key[1:]] = True
            else:
                out[key] = False  # no '+' prefix: '+name' is an unknown key and dropped
    elif isinstance(raw, dict):
        for key, value in raw.items():
            if isinstance(value, str) and value.lower() in ("asc", "desc"):
                out[str(key)] = value.lower() == "desc"
            else:
                for sub, desc in _sort_items(value).items():
                    out[f"{key}.{sub}"] = desc
    return out
