"""Values checked by field type before anything is sent (issue 12 §3): filter values in
``QuerySet.filter`` and ``find_*(filter=...)``, and ``create_*``/``update_*`` arguments. The type
of every field comes from the registry (``FieldSpec.kind``)."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from types import SimpleNamespace

import pytest

import flame_hub
from flame_hub.dialects import CURRENT, LEGACY
from flame_hub.errors import InvalidArgument
from flame_hub.query import QuerySet
from flame_hub.resources import ERAS, REGISTRY, FieldSpec, get_resource

U = uuid.UUID("4b3ca244-c488-4e86-ae3d-a677cd8255c4")
DIALECTS = {"0.14.0": CURRENT, "0.8.5": LEGACY}


class DialectOnly:
    """A QuerySet backend that can compile but not send."""

    def __init__(self, dialect) -> None:
        self.dialect = dialect


# a right and a wrong value per kind, and the words the error must use for it
SAMPLES = {
    "uuid": (str(U), "not-a-uuid", "a UUID"),
    "boolean": (True, "yes", "True or False"),
    "string": ("lab", 5, "a str"),
    "enum": (None, "no-such-member", "one of"),  # the right value is the field's first member
}


def filter_cases():
    """Every filterable field of every resource on both eras whose kind the registry knows."""
    for res in REGISTRY.values():
        for era in ERAS:
            spec = res.eras[era]
            if not spec.available or not spec.supports("list"):
                continue
            for wire in spec.filters:
                kind = spec.record_keys[wire].kind if wire in spec.record_keys else None
                if kind in SAMPLES:
                    yield pytest.param(res.name, era, wire, kind, id=f"{era}-{res.name}-{wire}")


CASES = list(filter_cases())


def test_every_kind_with_filterable_fields_is_covered() -> None:
    assert {c.values[3] for c in CASES} == set(SAMPLES) and len(CASES) > 150


@pytest.mark.parametrize("name,era,wire,kind", CASES)
def test_a_wrong_filter_value_is_refused_naming_field_value_and_expectation(name, era, wire, kind) -> None:
    res = get_resource(name)
    field = res.eras[era].record_keys[wire]
    right, wrong, words = SAMPLES[kind]
    if kind == "enum":
        right = field.enum[0]
    qs = QuerySet(res, DialectOnly(DIALECTS[era]))
    attr = field.attr
    assert qs.filter(**{attr: right}).state.where is not None  # the right kind is taken
    with pytest.raises(InvalidArgument) as caught:
        qs.filter(**{attr: wrong})
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert f"{attr}={wrong!r}" in message and words in message and res.name in message


@pytest.mark.parametrize("dialect", [CURRENT, LEGACY], ids=["0.14.0", "0.8.5"])
def test_lists_relations_and_models_are_checked_too(dialect) -> None:
    nodes = QuerySet(get_resource("nodes"), DialectOnly(dialect))
    with pytest.raises(InvalidArgument, match=r"realm_id__in \(element 'x'\): realm_id expects a UUID"):
        nodes.filter(realm_id__in=[U, "x"])
    with pytest.raises(InvalidArgument, match="realm_id expects a UUID"):
        nodes.filter(realm_id=SimpleNamespace(id="not-a-uuid"))  # a model stands for its id
    assert str(U) in nodes.filter(realm_id=SimpleNamespace(id=U)).url
    with pytest.raises(InvalidArgument, match="hidden expects True or False"):
        nodes.exclude(hidden=1)
    with pytest.raises(InvalidArgument, match="pass a bool, not a string"):
        nodes.filter(hidden="false")
    assert nodes.filter(hidden=None).params()  # IS NULL is a value for every field


def test_related_fields_are_checked_with_the_related_resources_types() -> None:
    users = QuerySet(get_resource("users"), DialectOnly(CURRENT))
    with pytest.raises(InvalidArgument, match="realm__id expects a UUID"):
        users.filter(realm__id="nope")
    with pytest.raises(InvalidArgument, match="realm__name expects a str"):
        users.filter(realm__name=3)
    assert users.filter(realm__name="master").params()
    with pytest.raises(InvalidArgument, match="realm='nope': realm expects a UUID"):
        users.filter(realm=SimpleNamespace(id="nope"))  # realm=<model> means realm_id


def test_enum_members_are_accepted_as_python_enums() -> None:
    class Status(enum.Enum):
        STARTED = "started"

    analyses = QuerySet(get_resource("analyses"), DialectOnly(CURRENT))
    field = get_resource("analyses").era().record_keys["buildStatus"]
    assert "started" in field.enum
    assert analyses.filter(build_status=Status.STARTED).params()
    with pytest.raises(InvalidArgument, match=r"build_status='done': build_status expects one of"):
        analyses.filter(build_status="done")


@pytest.mark.parametrize("kind,right,wrong", [
    ("integer", [3, -1], [3.5, "3", True]),
    ("number", [3, 2.5, decimal.Decimal("1.5")], ["3", False]),
    ("date-time", [dt.datetime(2026, 1, 1), dt.date(2026, 1, 1), "2026-01-01T10:00:00Z", "2026-01-01"],
     ["yesterday", 20260101, "2026-13-01"]),
])
def test_numbers_and_datetimes(kind, right, wrong) -> None:
    """No filterable field of the recorded Hubs holds a number or a date-time (the allow-lists
    have none); the rule for them is checked on a field spec of that kind."""
    field = FieldSpec("value", type="string" if kind == "date-time" else kind,
                      format="date-time" if kind == "date-time" else None)
    assert field.kind == kind
    assert all(field.accepts(v) for v in right)
    assert not any(field.accepts(v) for v in wrong)
    assert field.expected()


# -- through the client: find_* and the create/update helpers -------------------------------------


@pytest.fixture
def quiet_core(fake_hub, hub_env, password_auth):
    """A core client that knows its Hub's version: a refused call sends nothing at all."""
    with flame_hub.CoreClient(base_url=hub_env.core_url, auth=password_auth,
                              hub_version=hub_env.version) as core:
        fake_hub.clear_requests()
        yield core


BAD_FIND = [
    ({"id": "not-a-uuid"}, "id='not-a-uuid': id expects a UUID"),
    ({"hidden": "yes"}, "hidden='yes': hidden expects True or False"),
    ({"hidden": ("=", 1)}, "hidden=1: hidden expects True or False"),
    ({"realm_id": ("!", ["x"])}, "realm_id expects a UUID"),
    ({"name": ("<", 5)}, "name=5: name expects a str"),
]


@pytest.mark.parametrize("filter,message", BAD_FIND)
def test_find_refuses_malformed_values_before_sending(fake_hub, quiet_core, filter, message) -> None:
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(")):
        quiet_core.find_nodes(filter=filter)
    assert fake_hub.requests == []


def test_find_reads_true_and_false_strings_as_the_original_client_did(fake_hub, quiet_core) -> None:
    """flame-hub-client sent a plain string verbatim and the Hub read "true" as a boolean."""
    fake_hub.seed("nodes", 2, hidden=lambda i: i == 0)
    assert len(quiet_core.find_nodes(filter={"hidden": "true"})) == 1


BAD_CALLS = [
    ("create_node", (), {"name": "x", "hidden": "yes"}, "create_node(): argument 'hidden' expects True or False"),
    ("create_node", (), {"name": "x", "realm_id": "nope"}, "create_node(): argument 'realm_id' expects a UUID"),
    ("create_node", (), {"name": 5}, "create_node(): argument 'name' expects a str, got 5"),
    ("create_node", (), {"name": "x", "node_type": "bogus"},
     "create_node(): argument 'node_type' expects one of 'aggregator', 'default', got 'bogus'"),
    ("update_node", (U,), {"hidden": 1}, "update_node(): argument 'hidden' expects True or False"),
    ("create_analysis", (), {"project_id": "x"}, "create_analysis(): argument 'project_id' expects a UUID"),
]


@pytest.mark.parametrize("helper,args,kwargs,message", BAD_CALLS, ids=[f"{c[0]}-{sorted(c[2])[-1]}" for c in BAD_CALLS])
def test_helpers_refuse_malformed_arguments_naming_helper_and_argument(
        fake_hub, quiet_core, helper, args, kwargs, message) -> None:
    with pytest.raises(InvalidArgument) as caught:
        getattr(quiet_core, helper)(*args, **kwargs)
    assert message in str(caught.value)
    assert fake_hub.requests == []


@pytest.mark.era("0.14.0")  # image_command_arguments exists on 0.14 only
def test_a_model_validation_error_is_wrapped_too(fake_hub, quiet_core) -> None:
    """A value of a kind the registry does not check (an array) is refused by the model; the
    error names the helper and the argument, not pydantic's model."""
    with pytest.raises(InvalidArgument) as caught:
        quiet_core.create_analysis(project_id=U, image_command_arguments=5)
    text = str(caught.value)
    assert text.startswith("create_analysis(): argument 'image_command_arguments'")
    assert "CreateAnalysis" not in text and "got 5" in text
    assert caught.value.__cause__ is None or "ValidationError" not in type(caught.value.__cause__).__name__
    assert fake_hub.requests == []
