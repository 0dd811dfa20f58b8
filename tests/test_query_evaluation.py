"""How often a query is compiled (issue 13): chaining checks only the part it changes, an
evaluation compiles the whole query once, for the dialect the client knows when it runs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import flame_hub
import flame_hub.query._queryset as queryset_module
from flame_hub.testing import FakeHub


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []
    real = queryset_module.compile_query

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(queryset_module, "compile_query", counting)
    return calls


def test_a_chain_compiles_once_when_it_runs(compiles: list[Any]) -> None:
    hub = FakeHub()
    auth = flame_hub.auth.PasswordAuth("admin", "start123", base_url=hub.auth_url,
                                       client=httpx.Client(transport=hub.transport()))
    with flame_hub.CoreClient(hub.core_url, auth, transport=hub.transport()) as core:
        qs = core.nodes.filter(name__startswith="lab", hidden=False).sort("-created_at").include("registry")
        assert compiles == []  # chaining checked its parts only
        assert qs.first() is None
        assert len(compiles) == 1 and compiles[0] is qs.state
        assert qs.count() == 0 and len(compiles) == 2  # each evaluation compiles for itself


def test_chaining_still_refuses_a_bad_key_on_the_line_that_wrote_it() -> None:
    core = flame_hub.CoreClient("http://hub.test/core/")
    with pytest.raises(ValueError, match="silently ignore"):
        core.nodes.sort("no_such_field")
    with pytest.raises(ValueError):
        core.nodes.filter(no_such_field=1)
    with pytest.raises(ValueError):
        core.nodes.include("no_such_relation")
    with pytest.raises(ValueError):
        core.nodes.fields("no_such_field")
