"""The pytest plugin (``pytest_flame_hub``, issue 15 item 1), run with pytester: registered by the
``pytest11`` entry point, inert until used, fixtures ``fake_hub``/``fake_hub_session``/``hub``/
``async_hub`` on both fake eras, the version option and marker, and ``--flame-hub-url`` against
a Hub that is not the test's fake (fake-only tests skipped with the reason)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flame_hub.testing import FakeHub

pytest_plugins = ["pytester"]
README = Path(__file__).resolve().parents[1] / "README.md"


def test_a_plain_run_loads_the_plugin_and_nothing_of_flame_hub(pytester):
    pytester.makepyfile("""
        import sys
        import threading

        def test_plain(request):
            assert request.config.pluginmanager.has_plugin("pytest_flame_hub")
            loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("flame_hub", "werkzeug"))
            assert loaded == []
            assert threading.active_count() == 1  # no server thread
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_fixtures_are_offered(pytester):
    result = pytester.runpytest("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*fake_hub -- *pytest_flame_hub.py*", "*fake_hub_session [[]session scope[]]*",
                                 "*hub -- *pytest_flame_hub.py*", "*async_hub -- *pytest_flame_hub.py*"])
    pytester.runpytest("--help").stdout.fnmatch_lines(["*--flame-hub-version=VERSION*", "*--flame-hub-url=URL*"])


FIXTURE_TESTS = """
    import pytest
    import flame_hub
    from flame_hub.testing import FakeHub

    def test_fake_hub_is_fresh_per_test_and_serves(fake_hub):
        assert isinstance(fake_hub, FakeHub) and fake_hub.running
        assert fake_hub.records("nodes") == []
        fake_hub.seed("nodes", 3)

    def test_fake_hub_again(fake_hub):
        assert fake_hub.records("nodes") == []  # not the hub of the test before

    def test_hub_is_logged_in_to_the_tests_fake(hub, fake_hub):
        assert isinstance(hub, flame_hub.Hub)
        node = hub.core.create_node(name="plugin-node")
        assert [r["name"] for r in fake_hub.records("nodes")] == ["plugin-node"]
        assert hub.core.get_node(node.id).name == "plugin-node"
        assert hub.auth.get_realm_by_name("master") is not None
        assert hub.core.hub_version == fake_hub.version
        assert any(r.path == "/auth/token" for r in fake_hub.requests)

    @pytest.mark.anyio
    async def test_async_hub(async_hub, fake_hub):
        assert isinstance(async_hub, flame_hub.AsyncHub)
        await async_hub.core.create_node(name="async-node")
        assert await async_hub.core.nodes.count() == 1
        assert [r["name"] for r in fake_hub.records("nodes")] == ["async-node"]

    def test_session_hub_1(fake_hub_session):
        fake_hub_session.seed("nodes", 1)

    def test_session_hub_2(fake_hub_session, fake_hub):
        assert fake_hub_session is not fake_hub
        assert len(fake_hub_session.records("nodes")) == 1  # the same hub as in the test before
"""


@pytest.mark.parametrize("version", [None, "0.14.0", "0.8.5"])
def test_fixtures_on_each_fake_era(pytester, version):
    pytester.makepyfile(FIXTURE_TESTS + f"""
    def test_era(fake_hub, hub):
        assert fake_hub.version == {version or "0.14.0"!r}
        assert hub.core.detect_dialect().name == {"0.8" if version == "0.8.5" else "0.14"!r}
    """)
    args = [] if version is None else ["--flame-hub-version", version]
    result = pytester.runpytest(*args, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=7)


def test_the_marker_picks_the_era_per_test(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.flame_hub(version="0.8.5")
        def test_old(fake_hub, hub):
            assert fake_hub.version == "0.8.5"
            assert hub.core.detect_dialect().name == "0.8"
            assert hub.auth.get_robot_by_name("system") is not None  # robots: old authup only

        @pytest.mark.flame_hub("0.14.0")
        def test_current(fake_hub):
            assert fake_hub.version == "0.14.0"

        def test_default(fake_hub):
            assert fake_hub.version == "0.8.5"  # the option's
    """)
    result = pytester.runpytest("--flame-hub-version=0.8.5", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_a_version_the_client_does_not_know_is_a_usage_error(pytester):
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--flame-hub-version=banana", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--flame-hub-version: *banana*"])


EXTERNAL_TESTS = """
    import pytest

    def test_needs_the_fake(fake_hub):
        raise AssertionError("must be skipped")

    def test_needs_the_session_fake(fake_hub_session):
        raise AssertionError("must be skipped")

    def test_runs_against_the_real_hub(hub):
        hub.core.create_node(name="on-the-real-hub")

    @pytest.mark.anyio
    async def test_runs_async_against_the_real_hub(async_hub):
        assert await async_hub.core.nodes.filter(name="on-the-real-hub").count() == 1

    @pytest.mark.flame_hub(version="0.8.5")
    def test_marked_for_another_era(hub):
        raise AssertionError("must be skipped")

    @pytest.mark.flame_hub(version="0.14.2")
    def test_marked_for_this_era(hub):
        assert hub.core.nodes.count() == 1
"""


def test_flame_hub_url_runs_the_same_tests_on_another_hub_and_skips_fake_only_ones(pytester, monkeypatch):
    """A FakeHub of this process stands in for the real Hub: the plugin only sees a URL and the
    credentials in the environment."""
    monkeypatch.setenv("FLAME_HUB_USERNAME", "admin")
    monkeypatch.setenv("FLAME_HUB_PASSWORD", "start123")
    pytester.makepyfile(EXTERNAL_TESTS)
    with FakeHub() as real:
        url = real.url
        result = pytester.runpytest("--flame-hub-url", url, "-p", "no:cacheprovider", "-rs")
        assert [r["name"] for r in real.records("nodes")] == ["on-the-real-hub"]
    result.assert_outcomes(passed=3, skipped=3)
    result.stdout.fnmatch_lines([
        f"SKIPPED*:3: fake_hub needs the fake Hub; this run uses the Hub at {url} (--flame-hub-url)",
        f"SKIPPED*:6: fake_hub_session needs the fake Hub; this run uses the Hub at {url} (--flame-hub-url)",
        f"SKIPPED*:16: marked for Hub 0.8.5; the Hub at {url} is 0.14.0",
    ])


def test_flame_hub_url_with_wrong_credentials_fails_with_the_login_error(pytester, monkeypatch):
    monkeypatch.setenv("FLAME_HUB_USERNAME", "admin")
    monkeypatch.setenv("FLAME_HUB_PASSWORD", "wrong")
    pytester.makepyfile("""
        def test_login(hub):
            hub.core.nodes.count()
    """)
    with FakeHub() as real:
        result = pytester.runpytest("--flame-hub-url", real.url, "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AuthenticationError: 400 Bad Request*user 'admin' could not log in*"])


def test_our_conftest_fixtures_win_over_the_plugins(fake_hub, hub_env, request):
    """tests/conftest.py defines its own ``fake_hub`` (the session's hub of the current era, reset);
    a conftest fixture overrides a plugin fixture of the same name."""
    assert request.config.pluginmanager.has_plugin("pytest_flame_hub")
    assert fake_hub is hub_env.fake


def test_the_readme_test_module_passes(pytester):
    from test_readme import python_blocks

    (block,) = [b for b in python_blocks(README.read_text(encoding="utf-8"))
                if b.section == "Testing your code with pytest"]
    pytester.makepyfile(block.code)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
