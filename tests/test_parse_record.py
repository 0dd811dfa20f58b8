"""``parse_record``: a single-record answer validated in one pass from the raw bytes
(``record_adapter`` on Hub >= 0.13, the model's own JSON validator before) must give exactly what
the tolerant path (``unwrap_record`` + ``model_validate``) gives, on every recorded record answer
of both eras, and fall back to it for every body the fast path cannot take."""

from __future__ import annotations

import json
from types import SimpleNamespace

import httpx
import pydantic
import pytest
from _shared import ADDITIONS, EXAMPLES, LEGACY_ADDITIONS, LEGACY_EXAMPLES

import flame_hub.clients._helpers as helpers
from flame_hub._responses import unwrap_record
from flame_hub.dialects import CURRENT, LEGACY
from flame_hub.models import model_for, record_adapter
from flame_hub.resources import get_resource

NODE = {"id": "6454d708-a2c8-481d-805b-7b65165e3109", "name": "n1", "realmId": None,
        "createdAt": "2026-11-29T11:45:14.130Z", "somethingNew": {"a": [1, 2]}}


def _response(body: object, raw: bytes | None = None) -> httpx.Response:
    content = raw if raw is not None else json.dumps(body).encode()
    return httpx.Response(200, content=content, request=httpx.Request("GET", "http://hub/core/nodes/x"))


def _client(dialect):
    return SimpleNamespace(dialect=dialect)


def _recorded_records() -> list:
    """Every recorded 2xx answer of ``GET|POST /<resource>/<id>`` with a JSON object body."""
    out = []
    for folder, dialect in ((EXAMPLES, CURRENT), (ADDITIONS, CURRENT), (LEGACY_EXAMPLES, LEGACY),
                            (LEGACY_ADDITIONS, LEGACY)):
        for path in sorted(folder.glob("*.json")):
            ex = json.loads(path.read_text())
            body, req = ex["response"]["body"], ex["request"]
            segments = req["path"].strip("/").split("/")
            if (not 200 <= ex["response"]["status"] < 300 or req["method"] not in ("GET", "POST")
                    or len(segments) != 2 or not isinstance(body, dict) or isinstance(body.get("data"), list)):
                continue
            try:
                res = get_resource(segments[0])
            except KeyError:
                continue
            out.append(pytest.param(res.name, dialect, body, id=f"{folder.parent.name}-{folder.name}-{path.stem}"))
    return out


def _slow(name: str, dialect, response: httpx.Response):
    return model_for(name).model_validate(unwrap_record(response, dialect))


def _no_fallback(response, dialect):
    raise AssertionError("a well-formed record answer took the slow path")


def test_recorded_record_answers_are_found():
    params = _recorded_records()
    assert len(params) > 20
    for era in ("0.14.0", "0.8.5"):
        assert any(p.id.startswith(f"{era}-") for p in params), era


@pytest.mark.parametrize(("name", "dialect", "body"), _recorded_records())
def test_one_pass_equals_the_tolerant_path_on_recorded_records(name, dialect, body, monkeypatch):
    response = _response(body)
    try:
        want = _slow(name, dialect, response)
    except pydantic.ValidationError as slow:  # a special route's answer: both paths refuse it alike
        with pytest.raises(pydantic.ValidationError) as fast:
            helpers.parse_record(_client(dialect), get_resource(name), response)
        assert fast.value.errors() == slow.errors()
        return
    monkeypatch.setattr(helpers, "unwrap_record", _no_fallback)
    got = helpers.parse_record(_client(dialect), get_resource(name), response)
    assert type(got) is type(want)
    assert got.model_dump() == want.model_dump()
    assert got.model_extra == want.model_extra
    assert got.model_fields_set == want.model_fields_set


@pytest.mark.parametrize(("dialect", "body"), [(CURRENT, {"data": NODE, "meta": {"x": 1}}), (LEGACY, NODE)])
def test_the_usual_body_takes_the_fast_path_and_keeps_unknown_keys(dialect, body, monkeypatch):
    monkeypatch.setattr(helpers, "unwrap_record", _no_fallback)
    node = helpers.parse_record(_client(dialect), get_resource("nodes"), _response(body))
    assert node.name == "n1" and node.created_at.year == 2026
    assert node.model_extra == {"somethingNew": {"a": [1, 2]}}


def test_a_current_era_answer_without_the_envelope_is_tolerated_through_the_fallback():
    node = helpers.parse_record(_client(CURRENT), get_resource("nodes"), _response(NODE))
    assert node.name == "n1"


@pytest.mark.parametrize("dialect", [CURRENT, LEGACY])
@pytest.mark.parametrize("raw", [b"", b"<html>", b"[1, 2]"])
def test_bodies_that_are_no_record_raise_what_the_tolerant_path_raises(dialect, raw):
    response = _response(None, raw)
    with pytest.raises(Exception) as fast:
        helpers.parse_record(_client(dialect), get_resource("nodes"), response)
    with pytest.raises(Exception) as slow:
        _slow("nodes", dialect, response)
    assert type(fast.value) is type(slow.value) and str(fast.value) == str(slow.value)


@pytest.mark.parametrize(("dialect", "wrap"), [(CURRENT, lambda r: {"data": r}), (LEGACY, lambda r: r)])
def test_an_invalid_record_raises_the_same_validation_error(dialect, wrap):
    response = _response(wrap({"id": NODE["id"], "name": 5}))
    with pytest.raises(pydantic.ValidationError) as fast:
        helpers.parse_record(_client(dialect), get_resource("nodes"), response)
    with pytest.raises(pydantic.ValidationError) as slow:
        _slow("nodes", dialect, response)
    assert fast.value.errors() == slow.value.errors()


def test_record_adapter_is_cached_per_model():
    assert record_adapter(model_for("nodes")) is record_adapter(model_for("nodes"))
    assert record_adapter(model_for("nodes")) is not record_adapter(model_for("projects"))
