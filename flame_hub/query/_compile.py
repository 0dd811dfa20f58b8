"""The sans-IO compiler: QuerySet state -> the Hub's ``filter``/``include``/``fields``/``sort``/``page``.

Pure functions of (:class:`~flame_hub.dialects.Dialect`, :class:`~flame_hub.resources.Resource`,
:class:`QueryState`). Every key is validated against the resource's allow-lists from the registry
before anything is sent: the Hub silently drops keys it does not know and answers 200, which would
widen the result (recordings 041, 042, 050; tests/hub-recordings/0.14.0/README.md).

Filters go out in the *bracket* form (``filter[name]=lab~``) when it expresses the query exactly,
and in the *expression* form (``filter=and(eq(name,'x'),…)``, Hub >= 0.12.3 only) when it does not:
OR, NOT of a group, two conditions on one field, values the bracket grammar would misread
(commas, leading ``!`` ``<`` ``>`` ``~``, trailing ``~``). When neither can carry a query exactly, a
``ValueError`` says why — never a silently different query (README "Values are checked before
sending").
"""

from __future__ import annotations

import re
from urllib.parse import urlencode
from dataclasses import dataclass, field, replace
from typing import Any, Union

from .._naming import to_snake
from ..dialects import Dialect
from ..errors import InvalidArgument
from ..resources import EraSpec, FieldSpec, Resource, expected_value, value_accepted, value_kind
from ._lookups import LOOKUPS, OPERATOR_TABLE, Condition, Operator, Q, scalar_text

# ---------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryState:
    """Everything a QuerySet describes; immutable, every chain call makes a new one."""

    where: Q | None = None
    #: sort keys as given (``"-created_at"``, ``"analysis__name"``); None = not set
    sort: tuple[str, ...] | None = None
    #: ``fields("a", "b")``: replaces the default projection (None = not replaced)
    fields_only: tuple[str, ...] | None = None
    fields_add: tuple[str, ...] = ()
    fields_remove: tuple[str, ...] = ()
    include: tuple[tuple[str, ...], ...] = ()
    #: index of the first record (``page(offset=)`` and slicing)
    offset: int = 0
    #: cap on the number of records yielded (slicing, ``limit()``); None = all
    cap: int | None = None
    #: records per request (``page(limit=)``); None = the resource's maximum (50)
    page_size: int | None = None
    raw: tuple[tuple[str, str], ...] = ()
    #: a slice or limit() was taken: filtering or re-sorting now would be ambiguous
    sliced: bool = False
    #: list pages an async iteration fetches at once (``concurrency()``); None = the client's
    concurrency: int | None = None


# ---------------------------------------------------------------------------------------------
# Filter trees: simplification
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _And:
    children: tuple[_Node, ...]


@dataclass(frozen=True)
class _Or:
    children: tuple[_Node, ...]


@dataclass(frozen=True)
class _Not:
    child: _Node


_Node = Union[Condition, _And, _Or, _Not]


def _negate(node: _Node) -> _Node:
    if isinstance(node, Condition):
        return node.negate()
    if isinstance(node, _Not):
        return node.child
    return _Not(node)


def simplify(q: Q) -> _Node | None:
    """A ``Q`` tree as a minimal and/or/not tree: nested ANDs flattened, a NOT of a single
    condition folded into the condition, double negation removed. None for an empty ``Q``."""
    kids: list[_Node] = []
    for child in q.children:
        node = child if isinstance(child, Condition) else simplify(child)
        if node is None:
            continue
        kind = _And if q.connector == Q.AND else _Or
        if isinstance(node, kind):
            kids.extend(node.children)
        else:
            kids.append(node)
    if not kids:
        return None
    result: _Node = kids[0] if len(kids) == 1 else (_And if q.connector == Q.AND else _Or)(tuple(kids))
    return _negate(result) if q.negated else result


# ---------------------------------------------------------------------------------------------
# Keys: validation against the registry's allow-lists
# ---------------------------------------------------------------------------------------------


def name_list(keys: Any) -> str:
    """Snake_case names of wire keys, sorted and comma-separated (``(none)`` for none): how
    messages and the reference list what a resource allows."""
    return ", ".join(sorted({to_snake(k) for k in keys})) or "(none)"


@dataclass(frozen=True)
class _Key:
    wire: str  # "name", "realm.name"
    field: FieldSpec | None  # the field on the (related) record, when the catalog knows it
    include: str | None  # relation that must be included for this key

    @property
    def type(self) -> str | None:
        """JSON type of the field, when the catalog knows it."""
        return self.field.type if self.field is not None else None

    @property
    def attr(self) -> str:
        """The snake_case name of the field itself (``name`` of ``realm.name``)."""
        return to_snake(self.wire.rsplit(".", 1)[-1])


def _target_spec(resource: Resource, spec: EraSpec, relation: str) -> tuple[Resource, EraSpec] | None:
    target = resource.relation_target(relation, spec.era)
    if target is None:
        return None
    tspec = target.era(spec.era)
    return (target, tspec) if tspec.available else None


def _field_type(spec: EraSpec, wire: str) -> FieldSpec | None:
    return spec.record_keys.get(wire)


def resolve_filter_key(dialect: Dialect, resource: Resource, path: tuple[str, ...]) -> _Key:
    """The wire key of a filter path, or a ValueError naming it and listing the allowed ones."""
    spec = dialect.spec(resource)
    where = f"{resource.name} on Hub {dialect.name}"
    shown = "__".join(path)
    if len(path) == 1:
        wire = dialect.wire_key(path[0])
        if wire in spec.filters:
            return _Key(wire, _field_type(spec, wire), None)
        # `realm=<realm>` means `realm_id=<id>`, as in Django
        fk = dialect.wire_key(path[0] + "_id")
        if wire in spec.relations and fk in spec.filters:
            return _Key(fk, _field_type(spec, fk), None)
        raise ValueError(
            f"cannot filter {where} by {shown!r}: the Hub would silently ignore it and return "
            f"unfiltered records. Allowed: {name_list(spec.filters)}"
            + (f"; relation filters: {relation_filter_names(dialect, resource)}"
               if relation_filter_names(dialect, resource) != "(none)" else "")
        )
    rel, fld = dialect.wire_key(path[0]), dialect.wire_key(path[1])
    if rel not in spec.relations and not any(k.startswith(rel + ".") for k in spec.relation_filters):
        if rel in spec.filters:
            raise ValueError(f"cannot filter {where} by {shown!r}: unknown lookup {path[-1]!r}; "
                             f"known: {', '.join(sorted(LOOKUPS))}")
        raise ValueError(f"cannot filter {where} by {shown!r}: {resource.name} has no relation "
                         f"{path[0]!r}. Allowed relation filters: {relation_filter_names(dialect, resource)}")
    if len(path) > 2:
        raise ValueError(f"cannot filter {where} by {shown!r}: only one relation hop "
                         "(relation__field) is supported")
    dotted = f"{rel}.{fld}"
    note = spec.relation_filters.get(dotted)
    if note is not None and note != "no":
        tgt = _target_spec(resource, spec, rel)
        return _Key(dotted, _field_type(tgt[1], fld) if tgt else None, rel)
    if dialect.like_grammar == "v2" and rel in spec.relations:
        tgt = _target_spec(resource, spec, rel)
        if tgt is not None and fld in tgt[1].filters:
            return _Key(dotted, _field_type(tgt[1], fld), rel)
    raise ValueError(
        f"cannot filter {where} by {shown!r}: the Hub would silently ignore it. "
        f"Allowed relation filters: {relation_filter_names(dialect, resource)}"
    )


def relation_filter_names(dialect: Dialect, resource: Resource) -> str:
    """The ``relation__field`` filters a resource accepts on a dialect, as :func:`name_list` words."""
    spec = dialect.spec(resource)
    names = {to_snake(k).replace(".", "__") for k, note in spec.relation_filters.items() if note != "no"}
    if dialect.like_grammar == "v2":
        for rel in spec.relations:
            tgt = _target_spec(resource, spec, rel)
            if tgt is not None:
                names.update(f"{to_snake(rel)}__{to_snake(f)}" for f in tgt[1].filters)
    return ", ".join(sorted(names)) or "(none)"


def split_path(name: str) -> tuple[str, ...]:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"expected a non-empty field name, got {name!r}")
    parts = name.strip().replace(".", "__").split("__")
    if any(not p for p in parts):
        raise ValueError(f"malformed name {name!r}")
    return tuple(to_snake(p) for p in parts)


def resolve_include(dialect: Dialect, resource: Resource, path: tuple[str, ...]) -> str:
    """The wire spelling of an include path (``analysis.project``), validated segment by segment."""
    res, spec = resource, dialect.spec(resource)
    wire: list[str] = []
    for seg in path:
        rel = dialect.wire_key(seg)
        if rel not in spec.relations:
            raise ValueError(
                f"cannot include {'__'.join(path)!r} on {resource.name} (Hub {dialect.name}): "
                f"{res.name} has no relation {seg!r}; the Hub would silently ignore it. "
                f"Allowed: {name_list(spec.relations)}"
            )
        wire.append(rel)
        tgt = _target_spec(res, spec, rel)
        if tgt is None:
            break
        res, spec = tgt
    if len(wire) < len(path):
        raise ValueError(f"cannot include {'__'.join(path)!r} on {resource.name}: "
                         f"the relation {wire[-1]!r} cannot be followed further")
    return ".".join(wire)


# ---------------------------------------------------------------------------------------------
# Values: what the server's coercion would do to them (checked against the fake Hub's rapiq,
# flame_hub/testing/_rapiq.py, and the recordings)
# ---------------------------------------------------------------------------------------------

# what JavaScript's Number() turns into a number (rapiq's parseFilterScalar), after trimming
_JS_NUMBER = re.compile(
    r"^(?:[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+)$"
)


def _retyped(text: str) -> str | None:
    """Why the Hub would not read ``text`` as this exact string (trimmed, coerced), or None."""
    if text != text.strip():
        return "the Hub trims leading and trailing whitespace"
    if text == "":
        return "the Hub drops an empty value"
    if text.lower() in ("true", "false", "null"):
        return f"the Hub reads {text!r} as {text.lower()}"
    if _JS_NUMBER.match(text):
        return f"the Hub reads {text!r} as a number"
    return None


def check_value(resource: Resource, cond: Condition, key: _Key) -> None:
    """Refuse a filter value that cannot be what the field holds (InvalidArgument naming the
    field, the value and what is expected). The field's kind comes from the registry: ids
    (and ``*_id``) are UUIDs, booleans bools, enums members, numbers numbers, date-times
    datetimes or ISO-8601 strings. The LIKE lookups take text (checked when built)."""
    rule = OPERATOR_TABLE[cond.op].values
    if rule == "text":
        return
    kind = value_kind(key.attr, key.field)
    members = key.field.enum if key.field is not None else None
    values = cond.value if rule == "list" else (cond.value,)
    for value in values:
        if not value_accepted(kind, members, value):
            shown = f"{cond.name}={value!r}" if cond.op != "in" else f"{cond.name}__in (element {value!r})"
            hint = " (pass a bool, not a string)" if (
                kind == "boolean" and isinstance(value, str)) else ""
            raise InvalidArgument(
                f"cannot filter {resource.name} by {shown}: {cond.name} expects "
                f"{expected_value(key.attr, key.field)}{hint}")


class _NeedsExpression(Exception):
    """The bracket form cannot carry this condition exactly; the expression form might."""


def _check_exact_text(cond: Condition, key: _Key, text: str) -> None:
    """A string compared as a coerced scalar must survive the Hub's coercion (both forms)."""
    if not isinstance(cond.value, str) or key.type not in (None, "string"):
        return
    why = _retyped(text)
    if why:
        raise ValueError(f"cannot match {cond.name}={cond.value!r} exactly: {why} "
                         "(in both filter forms); use a lookup such as __startswith, or raw()")


_BRACKET_LEAD = ("!", "<", ">", "~")


def _bracket_safe(text: str, grammar: str, *, comparison: bool = False) -> None:
    if "," in text:
        raise _NeedsExpression(f"the value {text!r} contains a comma (the bracket form splits it into a list)")
    if text.startswith(_BRACKET_LEAD) or (comparison and text.startswith("=")):
        raise _NeedsExpression(f"the value {text!r} starts with an operator character")
    if grammar == "v2" and text.endswith("~"):
        raise _NeedsExpression(f"the value {text!r} ends with '~' (a starts-with marker)")
    if text != text.strip() or text == "":
        raise _NeedsExpression(f"the value {text!r} would be trimmed")


def bracket_token(cond: Condition, key: _Key, grammar: str) -> str:
    """The ``filter[key]=<token>`` value of one condition (raises _NeedsExpression or ValueError)."""
    op = OPERATOR_TABLE[cond.op]
    neg = "!" if cond.negated else ""
    if op.values == "text":
        return neg + _pattern_token(cond, op, grammar)
    if cond.value is None:  # eq None: IS NULL
        return neg + "null"
    values = cond.value if op.values == "list" else (cond.value,)
    texts = [scalar_text(v) for v in values]
    for v, text in zip(values, texts, strict=True):
        _check_exact_text(Condition(cond.path, "eq", v), key, text)
    if cond.negated and not op.negatable:  # the Hub discards `!` before `<`: `!<5` means `<5`
        raise _NeedsExpression(f"NOT {cond.op} ({cond.name})")
    for text in texts:
        _bracket_safe(text, grammar, comparison=not op.negatable)
    if grammar == "v1" and op.values == "list" and False in values:  # v1 drops `false` elements
        raise _NeedsExpression("a list containing False")
    return neg + op.bracket.format(",".join(texts))


def _pattern_token(cond: Condition, op: Operator, grammar: str) -> str:
    """The bracket token of a LIKE operator's raw text (without the negation)."""
    text = cond.value
    if grammar == "v1":
        # rapiq 0.9: `~x` is LIKE 'x%' with `%` and `_` live, no escaping, no ends-with
        # (tests/hub-recordings/0.8.5/README.md "Filter semantics")
        if cond.op == "endswith":
            raise _NeedsExpression(f"ends-with ({cond.name}) is not expressible on this Hub")
        if "%" in text or "_" in text:
            raise _NeedsExpression(f"{text!r} contains '%' or '_', which are live wildcards on this Hub")
        if "," in text or text != text.strip():
            raise _NeedsExpression(f"the pattern {text!r} contains a comma or would be trimmed")
        return ("~%" if cond.op == "contains" else "~") + text
    _bracket_safe(text, grammar)
    return op.bracket.format(text)


# ---------------------------------------------------------------------------------------------
# Expression form (rapiq v2: Hub >= 0.12.3, authup >= beta.54)
# ---------------------------------------------------------------------------------------------

_EXPR_KEYWORDS = {"not", "and", "or", "eq", "gt", "gte", "lt", "lte", "contains", "startsWith",
                  "endsWith", "in", "nin", "elemMatch", "size", "null"}
_EXPR_SEGMENT = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?$")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _expr_field(wire: str) -> str:
    for seg in wire.split("."):
        if not _EXPR_SEGMENT.match(seg) or seg in _EXPR_KEYWORDS or seg == "$this":
            raise ValueError(f"the key {wire!r} cannot be written in the expression filter form")
    return wire


def expression(node: _Node, keys: dict[tuple[str, ...], _Key]) -> str:
    """The ``filter=`` expression of a simplified tree."""
    if isinstance(node, _And):
        return "and(" + ",".join(expression(c, keys) for c in node.children) + ")"
    if isinstance(node, _Or):
        return "or(" + ",".join(expression(c, keys) for c in node.children) + ")"
    if isinstance(node, _Not):
        return "not(" + expression(node.child, keys) + ")"
    key = keys[node.path]
    fld = _expr_field(key.wire)
    op = OPERATOR_TABLE[node.op]
    if op.values == "list":
        for v in node.value:
            _check_exact_text(Condition(node.path, "eq", v), key, scalar_text(v))
        return ("nin(" if node.negated else "in(") + fld + "," + ",".join(
            _quote(scalar_text(v)) for v in node.value) + ")"
    if op.values == "text":
        body = f"{op.expression}({fld},{_quote(node.value)})"  # raw text, no coercion
    elif node.value is None:  # eq None: IS NULL
        body = f"{op.expression}({fld},null)"
    else:
        text = scalar_text(node.value)
        _check_exact_text(node, key, text)
        body = f"{op.expression}({fld},{_quote(text)})"
    return f"not({body})" if node.negated else body


def _conditions(node: _Node) -> list[Condition]:
    if isinstance(node, Condition):
        return [node]
    if isinstance(node, _Not):
        return _conditions(node.child)
    return [c for child in node.children for c in _conditions(child)]


def compile_filter(dialect: Dialect, resource: Resource, where: Q | None, *,
                   check_required: bool = True) -> tuple[list[tuple[str, str]], list[str]]:
    """The filter query pairs and the relations they need included.

    ``check_required``: also insist on the filters a resource cannot be listed without (log
    lists); off while a QuerySet is still being built.
    """
    node = simplify(where) if where is not None else None
    spec = full = dialect.spec(resource)
    if not check_required:
        spec = _without_required(spec)
    if node is None:
        _check_required(resource, spec, [])
        return [], []
    keys = {c.path: resolve_filter_key(dialect, resource, c.path) for c in _conditions(node)}
    for cond in _conditions(node):
        check_value(resource, cond, keys[cond.path])
    includes = [k.include for k in keys.values() if k.include]
    top, reason = _bracket_conditions(node, keys)
    if top is not None:
        if full.required_filters:
            _check_equalities_only(resource, top)
        try:
            pairs = [(f"filter[{keys[c.path].wire}]", bracket_token(c, keys[c.path], dialect.like_grammar))
                     for c in top]
            _check_required(resource, spec, [c for c in top if not c.negated and c.op == "eq"])
            return pairs, includes
        except _NeedsExpression as exc:
            reason = str(exc)
    if not dialect.expression_filters:
        raise ValueError(
            f"this filter on {resource.name} needs the expression filter form ({reason}), which "
            f"Hub {dialect.name} does not understand (it would silently drop the whole filter)"
        )
    if full.required_filters:
        raise ValueError(f"{resource.name} accepts only AND-ed equality filters "
                         f"(this one needs the expression form: {reason})")
    return [("filter", expression(node, keys))], includes


def _bracket_conditions(node: _Node, keys: dict[tuple[str, ...], _Key]
                        ) -> tuple[list[Condition] | None, str]:
    """The conditions of a filter the bracket form can carry (an AND of conditions, one per
    key), or None and the reason it needs the expression form."""
    top = [node] if isinstance(node, Condition) else list(node.children) if isinstance(node, _And) else None
    if top is None or not all(isinstance(c, Condition) for c in top):
        grouped = isinstance(node, _Or) or (top and any(isinstance(c, _Or) for c in top))
        return None, "OR" if grouped else "NOT of a group"
    conditions = [c for c in top if isinstance(c, Condition)]
    seen: set[str] = set()
    for c in conditions:
        if keys[c.path].wire in seen:
            return None, f"two conditions on {c.name}"
        seen.add(keys[c.path].wire)
    return conditions, ""


def _check_equalities_only(resource: Resource, conditions: list[Condition]) -> None:
    """Log lists take an AND of equalities only (else the Hub answers 400)."""
    odd = next((c for c in conditions if c.op != "eq" or c.negated or c.value is None), None)
    if odd is not None:
        raise ValueError(f"{resource.name} accepts only equality filters (the Hub answers 400), "
                         f"not {odd.name} {'NOT ' if odd.negated else ''}{odd.op} {odd.value!r}")


def _without_required(spec: EraSpec) -> EraSpec:
    return replace(spec, required_filters=()) if spec.required_filters else spec


def _check_required(resource: Resource, spec: EraSpec, equalities: list[Condition]) -> None:
    if not spec.required_filters:
        return
    have = {c.path for c in equalities}
    missing = [k for k in spec.required_filters if (to_snake(k),) not in have]
    if missing:
        raise ValueError(f"listing {resource.name} requires the filter(s) {name_list(missing)} "
                         "(the Hub answers 400 without them)")


# ---------------------------------------------------------------------------------------------
# Sort
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SortKey:
    wire: str
    desc: bool = False

    def __str__(self) -> str:
        return ("-" if self.desc else "") + self.wire

    def reversed(self) -> SortKey:
        return SortKey(self.wire, not self.desc)


def _index_prefix_ok(spec: EraSpec, keys: list[str]) -> bool:
    return any(list(index[: len(keys)]) == keys for index in spec.indexes)


def compile_sort(dialect: Dialect, resource: Resource, sort: tuple[str, ...] | None) -> tuple[list[SortKey], list[str]]:
    """Validated sort keys (with the ``id`` tie-break or a default order) and needed includes."""
    spec = dialect.spec(resource)
    where = f"{resource.name} on Hub {dialect.name}"
    keys: list[SortKey] = []
    includes: list[str] = []
    for raw in sort or ():
        key, include = _sort_key(dialect, resource, spec, where, raw)
        if any(k.wire == key.wire for k in keys):
            raise ValueError(f"sort key {raw!r} given twice")
        keys.append(key)
        includes.extend(include)
    if keys and spec.sorts_indexed and not _index_prefix_ok(spec, [k.wire for k in keys]):
        raise ValueError(
            f"cannot sort {where} by {', '.join(map(str, keys))}: authup only sorts by a left-most "
            "prefix of one index and silently drops any other sort. Indexes: "
            + "; ".join(",".join(map(to_snake, i)) for i in spec.indexes)
        )
    return _stable_order(dialect, spec, keys), includes


def _sort_key(dialect: Dialect, resource: Resource, spec: EraSpec, where: str,
              raw: Any) -> tuple[SortKey, list[str]]:
    """One ``"-created_at"`` or ``"realm__name"`` as a sort key, and the include it needs."""
    if not isinstance(raw, str):
        raise ValueError(f"sort keys are strings like '-created_at', not {raw!r}")
    desc = raw.startswith("-")
    path = split_path(raw[1:] if desc else raw.lstrip("+"))
    if not spec.sorts:
        raise ValueError(f"{where} cannot be sorted (the Hub ignores sort= there)")
    if len(path) == 1:
        wire = dialect.wire_key(path[0])
        if wire not in spec.sorts:
            raise ValueError(f"cannot sort {where} by {raw!r}: the Hub would silently ignore it. "
                             f"Allowed: {name_list(spec.sorts)}")
        return SortKey(wire, desc), []
    if len(path) == 2 and dialect.like_grammar == "v2" and dialect.wire_key(path[0]) in spec.relations:
        rel, fld = dialect.wire_key(path[0]), dialect.wire_key(path[1])
        tgt = _target_spec(resource, spec, rel)
        if tgt is None or fld not in tgt[1].sorts or spec.sorts_indexed:
            raise ValueError(f"cannot sort {where} by {raw!r}: allowed on {rel}: "
                             f"{name_list(tgt[1].sorts) if tgt and not spec.sorts_indexed else '(none)'}")
        return SortKey(f"{rel}.{fld}", desc), [rel]
    raise ValueError(f"cannot sort {where} by {raw!r}. Allowed: {name_list(spec.sorts)}")


def _stable_order(dialect: Dialect, spec: EraSpec, keys: list[SortKey]) -> list[SortKey]:
    """A stable order while paging: the keys with an ``id`` tie-break wherever the Hub can sort
    by it; without keys, ``id`` (or else ``created_at``)."""
    ident = dialect.wire_key("id")
    if keys:
        if ident in spec.sorts and all(k.wire != ident for k in keys):
            candidate = [k.wire for k in keys] + [ident]
            if not spec.sorts_indexed or _index_prefix_ok(spec, candidate):
                return [*keys, SortKey(ident)]
        return keys
    if ident in spec.sorts:
        return [SortKey(ident)]
    if dialect.wire_key("created_at") in spec.sorts:
        return [SortKey(dialect.wire_key("created_at"))]
    return keys


# ---------------------------------------------------------------------------------------------
# Fields
# ---------------------------------------------------------------------------------------------


def allowed_fields(dialect: Dialect, resource: Resource) -> tuple[str, ...]:
    """The ``fields=`` keys the resource accepts on this dialect (default + hidden)."""
    spec = dialect.spec(resource)
    if spec.fields_param_honoured is False:
        return ()
    if spec.fields_default is not None:
        return tuple(dict.fromkeys((*spec.fields_default, *spec.fields_hidden)))
    if spec.fields_param_honoured:  # 0.8.5: no published list; the record keys are the vocabulary
        return tuple(spec.record_keys)
    return ()


def compile_fields(dialect: Dialect, resource: Resource, state: QueryState) -> str | None:
    """The ``fields=`` value: ``id,name`` (replace) or ``+email,-description`` (add/remove)."""
    if state.fields_only is None and not state.fields_add and not state.fields_remove:
        return None
    allowed = allowed_fields(dialect, resource)
    if not allowed:
        raise ValueError(f"{resource.name} on Hub {dialect.name} ignores fields= (it would return "
                         "every default field)")

    def wire(name: str) -> str:
        path = split_path(name)
        if len(path) != 1:
            raise ValueError(f"fields of related records ({name!r}) are not supported")
        w = dialect.wire_key(path[0])
        if w not in allowed:
            raise ValueError(f"{resource.name} has no field {name!r} on Hub {dialect.name} (the Hub would "
                             f"silently ignore it). Allowed: {name_list(allowed)}")
        return w

    add = [wire(n) for n in state.fields_add]
    remove = [wire(n) for n in state.fields_remove]
    if state.fields_only is not None:
        ident = dialect.wire_key("id")
        base = ([ident] if ident in allowed else []) + [wire(n) for n in state.fields_only]
        chosen = [f for f in dict.fromkeys(base + add) if f not in remove]
        if not chosen:
            raise ValueError("fields(): nothing left to select")
        return ",".join(chosen)
    return ",".join([f"+{f}" for f in dict.fromkeys(add)] + [f"-{f}" for f in dict.fromkeys(remove)])


# ---------------------------------------------------------------------------------------------
# The whole request
# ---------------------------------------------------------------------------------------------

#: longest percent-encoded query string sent (the Hub's server refuses heads over 16 KiB)
MAX_QUERY_BYTES = 12 * 1024


@dataclass(frozen=True)
class CompiledQuery:
    """The request of a QuerySet minus pagination: ``pairs(offset, limit)`` adds the page."""

    method: str
    path: str
    base: tuple[tuple[str, str], ...]  # filter + include + fields
    sort: tuple[SortKey, ...]
    raw: tuple[tuple[str, str], ...]
    max_limit: int
    include: tuple[str, ...] = field(default=())

    def pairs(self, offset: int | None = None, limit: int | None = None, *,
              reverse: bool = False) -> list[tuple[str, str]]:
        """The query pairs of one request; ``reverse`` flips the sort (for ``last()``)."""
        out = list(self.base)
        if self.sort:
            keys = [k.reversed() for k in self.sort] if reverse else list(self.sort)
            out.append(("sort", ",".join(map(str, keys))))
        if limit is not None:
            out.append(("page[limit]", str(limit)))
        if offset is not None:
            out.append(("page[offset]", str(offset)))
        if self.raw:
            overridden = {k for k, _ in self.raw}
            out = [p for p in out if p[0] not in overridden] + list(self.raw)
        return out


def check_part(dialect: Dialect, resource: Resource, state: QueryState, part: str) -> None:
    """Validate one part of a query as a chaining call changes it (``"where"``, ``"sort"``,
    ``"fields"`` or ``"include"``): a bad key fails on the line that wrote it, and the whole
    query is compiled once, when it runs (:func:`compile_query`)."""
    spec = dialect.spec(resource)
    if not spec.available or not spec.supports("list"):
        raise ValueError(f"{resource.name} cannot be listed on Hub {dialect.name}")
    if part == "where":
        compile_filter(dialect, resource, state.where, check_required=False)
    elif part == "sort":
        compile_sort(dialect, resource, state.sort)
    elif part == "fields":
        compile_fields(dialect, resource, state)
    elif part == "include":
        for path in state.include:
            resolve_include(dialect, resource, path)
    else:  # pragma: no cover - a programming error
        raise AssertionError(part)


def compile_query(dialect: Dialect, resource: Resource, state: QueryState, *,
                  check_required: bool = True) -> CompiledQuery:
    """Validate and compile a QuerySet's state (ValueError before any request on a bad key)."""
    spec = dialect.spec(resource)
    if not spec.available or not spec.supports("list"):
        raise ValueError(f"{resource.name} cannot be listed on Hub {dialect.name}")
    filters, filter_includes = compile_filter(dialect, resource, state.where, check_required=check_required)
    sort, sort_includes = compile_sort(dialect, resource, state.sort)
    user_includes = [resolve_include(dialect, resource, p) for p in state.include]
    includes = list(dict.fromkeys(user_includes + filter_includes + sort_includes))
    base = list(filters)
    if includes:
        base.append(("include", ",".join(includes)))
    fields = compile_fields(dialect, resource, state)
    if fields is not None:
        base.append(("fields", fields))
    size = len(urlencode(base + list(state.raw)))
    if size > MAX_QUERY_BYTES:
        # Node answers 431 when the request head exceeds 16 KiB (Node.js's default header limit)
        raise ValueError(f"the query string of this {resource.name} query would be {size} bytes; the Hub "
                         f"refuses request heads over 16 KiB. Split long 'in' lists (e.g. 100 ids per query)")
    return CompiledQuery(method="GET", path=spec.path, base=tuple(base), sort=tuple(sort),
                         raw=state.raw, max_limit=spec.max_limit, include=tuple(includes))
