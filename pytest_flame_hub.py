"""The pytest plugin of flame-hub-client: a fake Hub and ready clients for your own tests.

Installed with the package and registered through the ``pytest11`` entry point, so nothing has to
be enabled. It is inert until a test asks for one of its fixtures: loading it imports nothing of
flame_hub (neither the fake Hub nor werkzeug) and starts no server. ``-p no:pytest_flame_hub``
turns it off; ``pytest_plugins = ["pytest_flame_hub"]`` loads it where entry points are not
loaded (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``). ::

    def test_my_script(hub, fake_hub):
        hub.core.create_node(name="my-node")
        assert [r.path for r in fake_hub.requests][-1] == "/core/nodes"

Fixtures:

- ``fake_hub``: a fresh :class:`~flame_hub.testing.FakeHub` serving on a free 127.0.0.1 port for
  one test (its server needs the ``testing`` extra: ``pip install 'flame-hub-client[testing]'``);
- ``fake_hub_session``: one FakeHub for the whole session (``.reset()`` it where a test needs a
  fresh Hub);
- ``hub``: a :class:`flame_hub.Hub` logged in as the fake's admin (``admin`` / ``start123``) —
  ``hub.auth``, ``hub.core``, ``hub.storage``; ``async_hub``: the same as a
  :class:`flame_hub.AsyncHub` (a plain fixture, so it works under pytest-asyncio, anyio or any
  other event loop plugin; its connections are not kept between requests, so no connection
  outlives the test's event loop).

Options and marker:

- ``--flame-hub-version=0.8.5``: the Hub version the fake imitates (default 0.14.0);
  ``@pytest.mark.flame_hub(version="0.8.5")`` picks it for one test (or a module, with
  ``pytestmark``).
- ``--flame-hub-url=http://hub.example.org/``: run the same tests against a real Hub (the gateway
  URL). ``hub`` and ``async_hub`` then log in with the credentials of the environment
  (``FLAME_HUB_USERNAME`` / ``FLAME_HUB_PASSWORD``, or ``FLAME_HUB_CLIENT_ID`` /
  ``FLAME_HUB_CLIENT_SECRET``, or ``FLAME_HUB_TOKEN``); tests that use ``fake_hub`` or
  ``fake_hub_session`` (faults, recorded requests) are skipped with the reason, and so are tests
  marked for a Hub version of another era than the real Hub's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # pragma: no cover - nothing of flame_hub is imported until a fixture runs
    from flame_hub import AsyncHub, Hub
    from flame_hub.testing import FakeHub

#: the fake Hub's administrator (a new Hub's)
FAKE_ADMIN = {"username": "admin", "password": "start123"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flame_hub", "flame-hub-client (fake Hub and Hub fixtures)")
    group.addoption("--flame-hub-version", metavar="VERSION", default=None,
                    help="the Hub version the fake Hub imitates: 0.14.0 (default) or 0.8.5, the old Hub")
    group.addoption("--flame-hub-url", metavar="URL", default=None,
                    help="run the hub/async_hub fixtures against the real Hub at this gateway URL, with "
                         "credentials from FLAME_HUB_USERNAME/FLAME_HUB_PASSWORD (or FLAME_HUB_CLIENT_ID/"
                         "FLAME_HUB_CLIENT_SECRET, FLAME_HUB_TOKEN); tests using fake_hub are skipped")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "flame_hub(version): the Hub version the fake Hub of this test imitates (fake_hub, hub, "
                   "async_hub); with --flame-hub-url, the test is skipped on a Hub of another era")
    version = config.getoption("--flame-hub-version")
    if version is not None:
        _check_version(version, "--flame-hub-version")


def _check_version(version: Any, where: str) -> str:
    from flame_hub.dialects import dialect_for_version

    try:
        dialect_for_version(str(version))
    except ValueError as exc:
        raise pytest.UsageError(f"{where}: {exc}") from None
    return str(version)


def _external_url(config: pytest.Config) -> str | None:
    return config.getoption("--flame-hub-url")


def _version(request: pytest.FixtureRequest) -> str | None:
    """The Hub version this test asks for: its ``flame_hub`` marker, else the option."""
    marker = request.node.get_closest_marker("flame_hub")
    if marker is not None:
        version = marker.kwargs.get("version", marker.args[0] if marker.args else None)
        if version is not None:
            return _check_version(version, f"@pytest.mark.flame_hub on {request.node.nodeid}")
    return request.config.getoption("--flame-hub-version")


def _needs_fake(config: pytest.Config, fixture: str) -> None:
    url = _external_url(config)
    if url is not None:
        pytest.skip(f"{fixture} needs the fake Hub; this run uses the Hub at {url} (--flame-hub-url)")


def _fake(version: str | None) -> FakeHub:
    from flame_hub.testing import FakeHub

    return FakeHub() if version is None else FakeHub(version=version)


@pytest.fixture
def fake_hub(request: pytest.FixtureRequest) -> Iterator[FakeHub]:
    """A fresh fake Hub serving on a free 127.0.0.1 port for one test (``.url``, ``.core_url``,
    ``.requests``, ``.fail_next(...)``, ``.seed(...)``, ...)."""
    _needs_fake(request.config, "fake_hub")
    with _fake(_version(request)) as hub:
        yield hub


@pytest.fixture(scope="session")
def fake_hub_session(request: pytest.FixtureRequest) -> Iterator[FakeHub]:
    """One fake Hub for the whole session (of ``--flame-hub-version``); call ``.reset()`` where a
    test needs a fresh Hub."""
    _needs_fake(request.config, "fake_hub_session")
    with _fake(request.config.getoption("--flame-hub-version")) as hub:
        yield hub


def _hub_arguments(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Where the ``hub``/``async_hub`` clients go: the test's fake Hub, or the ``--flame-hub-url``
    Hub with the environment's credentials."""
    url = _external_url(request.config)
    if url is None:
        fake = request.getfixturevalue("fake_hub")
        return {"url": fake.url, **FAKE_ADMIN}
    return {"url": url}


_DEPLOYED = pytest.StashKey[tuple]()


def _skip_other_era(request: pytest.FixtureRequest) -> None:
    """With ``--flame-hub-url``: skip a test marked for a version of another era than the Hub's
    (the Hub's version is read once per session, ``GET {core}/``)."""
    url = _external_url(request.config)
    version = _version(request) if request.node.get_closest_marker("flame_hub") else None
    if url is None or version is None:
        return
    import flame_hub
    from flame_hub.dialects import dialect_for_version

    if _DEPLOYED not in request.config.stash:
        with flame_hub.Hub(url) as deployed:
            request.config.stash[_DEPLOYED] = (deployed.core.detect_dialect().name, deployed.core.hub_version)
    era, deployed_version = request.config.stash[_DEPLOYED]
    if dialect_for_version(version).name != era:
        pytest.skip(f"marked for Hub {version}; the Hub at {url} is {deployed_version or era}")


@pytest.fixture
def hub(request: pytest.FixtureRequest) -> Iterator[Hub]:
    """A :class:`flame_hub.Hub` for this test: logged in to a fresh fake Hub (the one ``fake_hub``
    gives the same test), or to the ``--flame-hub-url`` Hub."""
    import flame_hub

    _skip_other_era(request)
    with flame_hub.Hub(**_hub_arguments(request)) as client:
        yield client


@pytest.fixture
def async_hub(request: pytest.FixtureRequest) -> Iterator[AsyncHub]:
    """A :class:`flame_hub.AsyncHub` for this test (see ``hub``). Connections are closed after
    each request, so the hub is not tied to the event loop of any one test."""
    import httpx

    import flame_hub

    _skip_other_era(request)
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
    client = flame_hub.AsyncHub(**_hub_arguments(request), transport=transport)
    yield client
    asyncio.run(_aclose(client, transport))


async def _aclose(client: Any, transport: Any) -> None:
    await client.aclose()
    await transport.aclose()
