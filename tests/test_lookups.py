"""``make_condition``: each lookup's value rule (from ``OPERATOR_TABLE``) and each refusal, with
its message (a few of these are also in the compile snapshots of test_query_compile.py)."""

from __future__ import annotations

import decimal
import enum
import uuid

import pytest

import flame_hub
from flame_hub.query import Condition, Q
from flame_hub.query._lookups import LOOKUPS, OPERATOR_TABLE, make_condition

PATH = ("name",)


@pytest.mark.parametrize(("lookup", "value", "expected"), [
    ("exact", "x", Condition(PATH, "eq", "x")),
    ("exact", None, Condition(PATH, "eq", None)),  # IS NULL
    ("ne", uuid.UUID(int=1), Condition(PATH, "eq", str(uuid.UUID(int=1)), negated=True)),
    ("exact", ["a", "b"], Condition(PATH, "in", ("a", "b"))),  # a list reads as __in
    ("ne", ("a",), Condition(PATH, "in", ("a",), negated=True)),
    ("in", {"b", "a", 1}, Condition(PATH, "in", (1, "a", "b"))),  # a set's values sorted
    ("lt", 3, Condition(PATH, "lt", 3)),
    ("istartswith", 12, Condition(PATH, "startswith", "12")),  # patterns are text
    ("endswith", decimal.Decimal("1.50"), Condition(PATH, "endswith", "1.50")),
    ("isnull", False, Condition(PATH, "eq", None, negated=True)),
    ("range", (1, 5), Q._make((Condition(PATH, "gte", 1), Condition(PATH, "lte", 5)), Q.AND)),
])
def test_each_value_rule_builds_its_condition(lookup: str, value: object, expected: object) -> None:
    assert make_condition(PATH, lookup, value) == expected


@pytest.mark.parametrize(("lookup", "value", "message"), [
    ("like", "x", "unknown lookup 'like' in 'name__like'; known: contains, endswith, exact, gt, gte, "),
    ("isnull", "yes", "name__isnull: isnull takes True or False, not 'yes'"),
    ("range", "ab", "name__range: range takes a (low, high) pair, not 'ab'"),
    ("range", (1, 2, 3), "name__range: range takes a (low, high) pair, not (1, 2, 3)"),
    ("range", (None, 2), "name__range: range bounds cannot be None"),
    ("in", "ab", "name__in: 'in' takes a list, tuple or set of values, not 'ab'"),
    ("in", [], "name__in: an empty 'in' list matches nothing; drop the query instead"),
    ("exact", ["a", None], ("name__exact: None inside an 'in' list is not supported; combine with "
                            "Q(name__isnull=True) instead")),
    ("gte", None, "name__gte: cannot compare with None; use __isnull"),
    ("contains", True, "name__contains: contains takes text, not True"),
    ("icontains", None, "name__icontains: icontains takes text, not None"),
    ("startswith", "", "name__startswith: an empty startswith pattern matches everything; drop the lookup"),
    ("exact", float("inf"), "name__exact: inf cannot be sent to the Hub"),
    ("exact", decimal.Decimal("NaN"), "name__exact: Decimal('NaN') cannot be sent to the Hub"),
])
def test_each_refusal_names_the_lookup(lookup: str, value: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        make_condition(PATH, lookup, value)
    assert str(info.value).startswith(message)


def test_every_lookup_is_an_operator_of_the_table_or_an_expansion() -> None:
    assert set(LOOKUPS.values()) - set(OPERATOR_TABLE) == {"isnull", "range"}
    for lookup, op in LOOKUPS.items():  # each operator's value rule is there and takes its values
        if op in OPERATOR_TABLE:
            value = ["x"] if OPERATOR_TABLE[op].values == "list" else "x"
            assert make_condition(PATH, lookup, value) == Condition(PATH, op, ("x",) if op == "in" else "x",
                                                                    negated=lookup == "ne")


def test_a_str_enum_member_filters_by_its_value_not_its_name() -> None:
    """A ``(str, Enum)`` member is a str, but ``str()`` of it is ``Kind.LAB`` (its name): the
    value must be taken before it is treated as text."""
    class Kind(str, enum.Enum):
        LAB = "lab"

    assert make_condition(PATH, "exact", Kind.LAB) == Condition(PATH, "eq", "lab")
    assert type(make_condition(PATH, "exact", Kind.LAB).value) is str
    core = flame_hub.CoreClient("http://hub.test/core/")
    assert ("filter[name]", "lab~") in core.nodes.filter(name__startswith=Kind.LAB).params()
    assert ("filter[name]", "lab,x") in core.nodes.filter(name__in=[Kind.LAB, "x"]).params()
