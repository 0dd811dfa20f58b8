"""The cheap paths of the generated helpers give exactly what the general ones give: argument
binding (``_Binder`` vs ``inspect.Signature.bind``) and the cached ``include``/``fields`` pairs
of a single-record read (vs compiling a QuerySet on every call)."""

from __future__ import annotations

import inspect

import pytest

import flame_hub.clients._helpers as helpers
from flame_hub.dialects import CURRENT, LEGACY
from flame_hub.query import QuerySet, queryset_from_find_kwargs
from flame_hub.resources import REGISTRY, get_resource

HELPERS = [h for res in REGISTRY.values() for h in helpers.crud_helpers(res)]


def _outcome(fn, *args, **kwargs):
    try:
        out = fn(*args, **kwargs)
    except TypeError as exc:
        return ("TypeError", str(exc))
    return ("ok", list(out.items()))


def _calls(sig: inspect.Signature) -> list[tuple[tuple, dict]]:
    params = list(sig.parameters.values())
    positional = [p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    keyword = [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]
    calls: list[tuple[tuple, dict]] = [((), {})]
    for k in range(len(positional) + 2):  # up to one too many
        args = tuple(f"a{i}" for i in range(k))
        calls.append((args, {}))
        calls.append((args, {name: f"k-{name}" for name in keyword[::2]}))
        calls.append((args, {name: f"k-{name}" for name in positional[k:]}))
    if positional:
        calls.append((("a0",), {positional[0]: "again"}))  # given twice
        calls.append(((), {positional[-1]: "x", **{n: "y" for n in positional[:-1]}}))  # all by name, shuffled
    calls.append((tuple(f"a{i}" for i in range(len(positional))), {"no_such_argument": 1}))
    return calls


@pytest.mark.parametrize("helper", HELPERS, ids=lambda h: h.name)
def test_binder_equals_inspect_bind(helper):
    binder = helpers._Binder(helper.name, helper.signature)
    assert binder.plain
    for args, kwargs in _calls(helper.signature):
        want = _outcome(helpers._bind, helper.name, helper.signature, args, kwargs)
        assert _outcome(binder, args, kwargs) == want, (args, kwargs)


def test_binder_reports_errors_in_inspects_words_with_the_helper_name():
    helper = next(h for h in HELPERS if h.name == "get_node")
    binder = helpers._Binder(helper.name, helper.signature)
    with pytest.raises(TypeError, match=r"^get_node\(\): missing a required argument: 'node_id'"):
        binder((), {})
    with pytest.raises(TypeError, match=r"^get_node\(\): got an unexpected keyword argument 'nope'"):
        binder(("x",), {"nope": 1})


def test_binder_with_var_arguments_falls_back_to_inspect():
    def f(a, *rest, b=2, **more): ...

    binder = helpers._Binder("f", inspect.signature(f))
    assert not binder.plain
    assert binder((1, 2, 3), {"c": 4}) == {"a": 1, "rest": (2, 3), "b": 2, "more": {"c": 4}}


@pytest.mark.parametrize("dialect", [CURRENT, LEGACY], ids=lambda d: d.name)
@pytest.mark.parametrize("name", ["nodes", "analysis-nodes", "users", "projects"])
def test_cached_record_params_equal_a_fresh_compilation(dialect, name):
    res = get_resource(name)
    assert dialect.spec(res).available, f"{name} should exist on Hub {dialect.name}"  # both eras have all four
    relations = [helpers.to_snake(r) for r in dialect.spec(res).relations]
    cases = [(helpers.ALL_RELATIONS, None), (None, None), ((), None), (relations[:1], None),
             (tuple(relations), None), (None, "created_at"), (None, ["id", "created_at"])]
    for include, fields in cases:
        want = _pairs_or_error(lambda: queryset_from_find_kwargs(
            QuerySet(res, helpers._DialectOnly(dialect)), fields=fields,
            include=(relations or None) if include is helpers.ALL_RELATIONS else include,
        ).record_params())
        for _ in range(2):  # compiled, then cached
            assert _pairs_or_error(lambda: helpers._record_params(dialect, res, include, fields)) == want


def _pairs_or_error(compute):
    try:
        return list(compute())
    except ValueError as exc:
        return str(exc)


def test_record_params_are_compiled_once_per_key(monkeypatch):
    helpers._cached_record_params.cache_clear()
    res = get_resource("nodes")
    calls = []
    real = helpers._compile_record_params
    monkeypatch.setattr(helpers, "_compile_record_params", lambda *a: calls.append(a) or real(*a))
    first = helpers._record_params(CURRENT, res, helpers.ALL_RELATIONS, None)
    assert helpers._record_params(CURRENT, res, helpers.ALL_RELATIONS, None) == first
    assert helpers._record_params(CURRENT, res, ["registry"], None) == helpers._record_params(
        CURRENT, res, ("registry",), None)
    assert len(calls) == 2  # ALL_RELATIONS once; a list and a tuple of names are one key


def test_unusual_arguments_are_compiled_each_time_with_the_compilers_errors():
    res = get_resource("nodes")
    with pytest.raises(ValueError, match="include"):
        helpers._record_params(CURRENT, res, 5, None)
    with pytest.raises(ValueError):
        helpers._record_params(CURRENT, res, ["no_such_relation"], None)
    assert helpers._record_params(CURRENT, res, iter(["registry"]), None) == helpers._record_params(
        CURRENT, res, ["registry"], None)
