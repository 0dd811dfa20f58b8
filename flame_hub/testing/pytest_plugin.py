"""pytest fixtures for testing your own Hub scripts against the fake Hub.

Enable it in your ``conftest.py``::

    pytest_plugins = ["flame_hub.testing.pytest_plugin"]

or on the command line with ``-p flame_hub.testing.pytest_plugin``. Then::

    def test_my_script(fake_hub):
        auth = flame_hub.auth.PasswordAuth(username="admin", password="start123",
                                           base_url=fake_hub.auth_url)
        core = flame_hub.CoreClient(base_url=fake_hub.core_url, auth=auth)
        ...
        assert [r.path for r in fake_hub.requests][-1] == "/core/nodes"
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import FakeHub


@pytest.fixture
def fake_hub() -> Iterator[FakeHub]:
    """A fresh :class:`FakeHub` serving on a free 127.0.0.1 port for one test."""
    with FakeHub() as hub:
        yield hub


@pytest.fixture(scope="session")
def fake_hub_session() -> Iterator[FakeHub]:
    """One :class:`FakeHub` for the whole session (call ``.reset()`` where a test needs a
    fresh Hub)."""
    with FakeHub() as hub:
        yield hub
