"""The ``flame-hub`` command line, on a running fake Hub.

Each subcommand runs at least once through the installed console script in a subprocess (the real
entry point: argument parsing, environment, exit status, stdout/stderr); the many variants run
in-process through :func:`flame_hub.cli._app.run`, the same function the script calls.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import flame_hub
from flame_hub import _config
from flame_hub.cli._app import cli, run
from flame_hub.resources import REGISTRY
from flame_hub.testing import FakeHub

SCRIPT = Path(sys.executable).with_name("flame-hub")


@pytest.fixture(scope="module")
def fake():
    with FakeHub() as hub:
        yield hub


@pytest.fixture(scope="module")
def admin(fake):
    with flame_hub.Hub(fake.url, username="admin", password="start123") as hub:
        yield hub


@pytest.fixture
def env(fake, monkeypatch, tmp_path):
    """The process environment of a configured user (for subprocesses and in-process runs)."""
    for var in _config.ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    values = {"FLAME_HUB_URL": fake.url, "FLAME_HUB_USERNAME": "admin", "FLAME_HUB_PASSWORD": "start123"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, "TERM": "xterm", "COLUMNS": "120"}


def flame_hub_cmd(*args: str, env: dict[str, str], input: str | None = None,
                  cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed console script (stdout and stderr piped)."""
    if not SCRIPT.exists():
        pytest.fail(f"the console script is not installed beside {sys.executable}: pip install -e '.[test]'")
    return subprocess.run([str(SCRIPT), *args], env=env, input=input, capture_output=True, text=True,
                          timeout=60, cwd=cwd, stdin=None if input is not None else subprocess.DEVNULL)


def in_process(capsys, *args: str, input: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if input is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(input))
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def make_nodes(admin, prefix: str, n: int) -> list:
    return [admin.core.create_node(name=f"{prefix}{i:02}") for i in range(n)]


# --- the entry points ---------------------------------------------------------------------------

def test_help_on_every_level_shows_examples(env, capsys):
    root = flame_hub_cmd("--help", env=env)
    assert root.returncode == 0 and "Examples:" in root.stdout
    assert "nodes" in root.stdout and "whoami" in root.stdout and "serve-fake" in root.stdout
    code, group, _ = in_process(capsys, "buckets", "--help")
    assert code == 0 and all(c in group for c in ("list", "count", "get", "create", "delete",
                                                   "upload", "download", "tarball", "Example:"))
    code, leaf, _ = in_process(capsys, "nodes", "list", "-h")
    assert "--filter" in leaf and "Examples:" in leaf and "flame-hub nodes list" in leaf
    module = subprocess.run([sys.executable, "-m", "flame_hub", "--help"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert module.returncode == 0 and module.stdout == root.stdout


def test_readme_shows_the_current_help(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = in_process(capsys, "--help")
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    shown = readme.split("$ flame-hub --help\n", 1)[1].split("```", 1)[0]
    assert code == 0 and shown == out


def test_without_the_cli_extra_the_install_hint(env):
    blocked = ("import runpy, sys; sys.modules['click'] = None; sys.argv = ['flame-hub', '--help']; "
               "runpy.run_module('flame_hub', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", blocked], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "pip install 'flame-hub-client[cli]'" in done.stderr and "Traceback" not in done.stderr


def test_shell_completion_comes_with_click(env):
    done = subprocess.run([str(SCRIPT)], env={**env, "_FLAME_HUB_COMPLETE": "bash_complete",
                                              "COMP_WORDS": "flame-hub buck", "COMP_CWORD": "1"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "plain,buckets" in done.stdout.splitlines()


def test_every_registry_resource_has_its_commands():
    for res in REGISTRY.values():
        group = cli.commands[res.name]
        client = {"auth": flame_hub.AuthClient, "core": flame_hub.CoreClient,
                  "storage": flame_hub.StorageClient}[res.service]
        expected = {"list", "count"} | {op for op in ("get", "create", "update", "delete")
                                        if hasattr(client, f"{op}_{res.singular}")}
        assert expected <= set(group.commands), res.name
    assert {"upload", "download", "tarball"} <= set(cli.commands["buckets"].commands)
    assert "command" in cli.commands["analyses"].commands


def test_count_runs_for_every_resource_of_the_hub(env, capsys, admin):
    counted = 0
    for res in REGISTRY.values():
        spec = res.eras["0.14.0"]
        if not spec.available or spec.required_filters:
            continue
        code, out, err = in_process(capsys, res.name, "count")
        assert code == 0, (res.name, err)
        assert int(out) == getattr(admin, res.service).__getattribute__(res.attr).count(), res.name
        counted += 1
    assert counted >= 20


# --- list / get / count / create / update / delete ----------------------------------------------

def test_list_with_lookups_sort_fields_and_limit(env, admin):
    nodes = make_nodes(admin, "site-", 3)
    done = flame_hub_cmd("nodes", "list", "--filter", "name__startswith=site-", "--sort", "-name",
                         "--fields", "id,name", "--limit", "2", env=env)
    assert done.returncode == 0, done.stderr
    rows = jsonl(done.stdout)  # piped: JSON lines
    assert [r["name"] for r in rows] == ["site-02", "site-01"]
    assert set(rows[0]) <= {"id", "name"}
    for node in nodes:
        admin.core.delete_node(node)


def test_list_formats(env, admin, capsys):
    nodes = make_nodes(admin, "fmt-", 2)
    query = ("nodes", "list", "--filter", "name__startswith=fmt-", "--sort", "name")
    code, out, _ = in_process(capsys, *query, "--format", "json")
    assert code == 0 and [n["name"] for n in json.loads(out)] == ["fmt-00", "fmt-01"]
    code, out, _ = in_process(capsys, *query, "--format", "csv", "--fields", "id,name,hidden")
    assert list(csv.reader(io.StringIO(out))) == [["id", "name", "hidden"],
                                                  [str(nodes[0].id), "fmt-00", "false"],
                                                  [str(nodes[1].id), "fmt-01", "false"]]
    code, out, _ = in_process(capsys, *query, "--format", "table")
    assert str(nodes[0].id) in out and "fmt-01" in out and "┃ id" in out
    code, out, _ = in_process(capsys, "nodes", "list", "--filter", "name=none-such", "--format", "json")
    assert code == 0 and json.loads(out) == []
    done = flame_hub_cmd(*query, "--format", "table", env=env)   # through the script too
    assert done.returncode == 0 and "fmt-00" in done.stdout and "┏" in done.stdout
    for node in nodes:
        admin.core.delete_node(node)


def test_refused_filter_key_is_a_clear_error_with_status_2(env, fake, capsys):
    fake.clear_requests()
    done = flame_hub_cmd("nodes", "list", "--filter", "nmae=x", env=env)
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("flame-hub: error: ") and "'nmae'" in line and "Allowed:" in line
    assert not [r for r in fake.requests if r.path == "/core/nodes"]   # refused before sending
    code, _, err = in_process(capsys, "nodes", "count", "--filter", "name")        # no '='
    assert code == 2 and "KEY=VALUE" in err
    code, _, err = in_process(capsys, "nodes", "list", "--sort", "id")
    assert code == 2 and "'id'" in err and "Traceback" not in err


def test_get_count_create_update_by_id_and_name(env, admin, capsys):
    created = flame_hub_cmd("nodes", "create", "name=cli-node", "hidden=true", env=env)
    assert created.returncode == 0, created.stderr
    node = json.loads(created.stdout)
    assert node["name"] == "cli-node" and node["hidden"] is True
    got = flame_hub_cmd("nodes", "get", "cli-node", "--format", "json", env=env)
    assert got.returncode == 0 and json.loads(got.stdout)["id"] == node["id"]
    updated = flame_hub_cmd("nodes", "update", node["id"], "hidden=false", "external_name=null", env=env)
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["hidden"] is False and admin.core.get_node(node["id"]).hidden is False
    counted = flame_hub_cmd("nodes", "count", "--filter", "name=cli-node", env=env)
    assert counted.returncode == 0 and counted.stdout.strip() == "1"
    admin.core.delete_node(node["id"])
    code, _, err = in_process(capsys, "nodes", "get", node["id"])
    assert code == 1 and err.strip() == f"flame-hub: error: no node '{node['id']}'"


def test_bad_values_are_refused_with_status_2(env, capsys):
    code, _, err = in_process(capsys, "nodes", "create", "name=x-bad", "hidden=maybe")
    assert code == 2 and "hidden: expected true or false" in err
    code, _, err = in_process(capsys, "nodes", "create", "name=x-colour", "colour=blue")
    assert code == 2 and "colour" in err and "Traceback" not in err
    code, _, err = in_process(capsys, "nodes", "delete")
    assert code == 2 and "--filter" in err


def test_delete_of_several_records_asks_first(env, admin, capsys, monkeypatch):
    nodes = make_nodes(admin, "tmp-", 3)
    declined = flame_hub_cmd("nodes", "delete", "--filter", "name__startswith=tmp-", env=env, input="n\n")
    assert declined.returncode == 1 and "Delete 3 nodes?" in declined.stderr
    assert admin.core.nodes.filter(name__startswith="tmp-").count() == 3
    code, _, err = in_process(capsys, "nodes", "delete", str(nodes[0].id), str(nodes[1].id), input="",
                              monkeypatch=monkeypatch)
    assert code == 1 and "aborted" in err                                     # no answer is no
    assert admin.core.nodes.filter(name__startswith="tmp-").count() == 3
    code, out, err = in_process(capsys, "nodes", "delete", "--filter", "name__startswith=tmp-",
                                input="y\n", monkeypatch=monkeypatch)
    assert code == 0 and sorted(out.split()) == sorted(str(n.id) for n in nodes)
    assert "deleted 3 nodes" in err and admin.core.nodes.filter(name__startswith="tmp-").count() == 0
    single = admin.core.create_node(name="tmp-single")
    code, out, _ = in_process(capsys, "nodes", "delete", "tmp-single")           # one: no question
    assert code == 0 and out.strip() == str(single.id)
    more = make_nodes(admin, "tmp-", 2)
    done = flame_hub_cmd("nodes", "delete", "--filter", "name__startswith=tmp-", "--yes", env=env)
    assert done.returncode == 0 and sorted(done.stdout.split()) == sorted(str(n.id) for n in more)


# --- configuration --------------------------------------------------------------------------------

def test_environment_only(env, fake):
    done = flame_hub_cmd("whoami", env=env)
    assert done.returncode == 0, done.stderr
    me = json.loads(done.stdout)
    assert (me["name"], me["kind"], me["realm"]) == ("admin", "user", "master")
    assert (me["hub"], me["hub_version"]) == (fake.url, "0.14.0") and me["authup_version"]


def test_options_win_over_the_environment(env, fake):
    wrong = {**env, "FLAME_HUB_URL": "http://127.0.0.1:9/", "FLAME_HUB_USERNAME": "nobody",
             "FLAME_HUB_PASSWORD": "nothing"}
    done = flame_hub_cmd("--url", fake.url, "--username", "admin", "--password", "start123", "whoami",
                         "--format", "table", env=wrong)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^name\s+admin$", done.stdout, re.M) and re.search(r"^hub_version\s+0\.14\.0$", done.stdout, re.M)
    refused = flame_hub_cmd("whoami", env=wrong)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr


def test_dotenv_file(env, fake, tmp_path):
    bare = {k: v for k, v in env.items() if not k.startswith("FLAME_HUB_")}
    (tmp_path / ".env").write_text(f"FLAME_HUB_URL={fake.url}\nFLAME_HUB_USERNAME=admin\n"
                                   "FLAME_HUB_PASSWORD=start123\n")
    done = flame_hub_cmd("nodes", "count", env=bare, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip().isdigit(), done.stderr
    elsewhere = tmp_path / "conf" / "hub.env"
    elsewhere.parent.mkdir()
    (tmp_path / ".env").rename(elsewhere)
    done = flame_hub_cmd("--env-file", str(elsewhere), "nodes", "count", env=bare, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip().isdigit(), done.stderr
    overridden = flame_hub_cmd("--env-file", str(elsewhere), "whoami", env={**bare, "FLAME_HUB_PASSWORD": "x"},
                               cwd=tmp_path)
    assert overridden.returncode == 1     # the environment wins over the file: a wrong password


# --- errors -------------------------------------------------------------------------------------

def test_errors_are_one_line_without_traceback_unless_debug(env, fake, capsys):
    wrong = {**env, "FLAME_HUB_PASSWORD": "wrong-pass-123"}
    done = flame_hub_cmd("nodes", "count", env=wrong)
    assert done.returncode == 1 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("flame-hub: error: ") and "wrong-pass-123" not in line
    code, _, err = in_process(capsys, "--url", "http://127.0.0.1:9/", "--max-retries", "0", "nodes", "count")
    assert code == 1 and len(err.splitlines()) == 1 and err.startswith("flame-hub: error: ")
    debug = flame_hub_cmd("--debug", "nodes", "count", env=wrong)
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    assert "HTTP Request: POST " + fake.auth_url + "token" in debug.stderr
    assert "wrong-pass-123" not in debug.stderr
    code, _, err = in_process(capsys, "nodes", "frobnicate")
    assert code == 2 and "No such command" in err


def test_whoami_without_credentials(env, capsys, monkeypatch):
    monkeypatch.delenv("FLAME_HUB_USERNAME")
    monkeypatch.delenv("FLAME_HUB_PASSWORD")
    code, _, err = in_process(capsys, "whoami")
    assert code == 1 and "no credentials" in err


# --- buckets and analyses -------------------------------------------------------------------------

def _run_on_pty(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run the script with stderr on a pseudo-terminal and stdout piped: (status, stdout, terminal)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(SCRIPT), *args], env=env, stdout=subprocess.PIPE, stderr=slave,
                            stdin=subprocess.DEVNULL)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    out = proc.stdout.read().decode()
    proc.wait(timeout=60)
    os.close(master)
    return proc.returncode, out, seen.decode(errors="replace")


def test_bucket_transfers_show_progress_on_a_terminal_only(env, admin, tmp_path):
    data = os.urandom(2_500_000)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    admin.storage.create_bucket(name="cli-results")
    code, out, terminal = _run_on_pty(["buckets", "upload", "cli-results", str(source)], env)
    assert code == 0, terminal
    (stored,) = jsonl(out)
    assert stored["name"] == "big.bin" and stored["size"] == len(data)
    assert re.search(r"2\.5/2\.5 MB", terminal) and re.search(r"[\d.]+ [kMG]?B/s", terminal)  # size, rate
    assert re.search(r"\d:\d\d:\d\d", terminal)                                               # ETA

    piped = flame_hub_cmd("buckets", "upload", "cli-results", str(source), env=env)
    assert piped.returncode == 0 and piped.stderr == ""                # no bar when piped
    quiet_code, _, quiet_terminal = _run_on_pty(
        ["buckets", "download", "--quiet", stored["id"], str(tmp_path / "q.bin")], env)
    assert quiet_code == 0 and quiet_terminal == ""                    # --quiet: nothing on stderr

    code, _, terminal = _run_on_pty(["buckets", "download", stored["id"], str(tmp_path / "copy.bin")], env)
    assert code == 0 and "2.5/2.5 MB" in terminal
    assert (tmp_path / "copy.bin").read_bytes() == data == (tmp_path / "q.bin").read_bytes()

    done = flame_hub_cmd("buckets", "tarball", "cli-results", str(tmp_path / "all.tar"), env=env)
    assert done.returncode == 0 and done.stderr == ""
    import tarfile

    with tarfile.open(tmp_path / "all.tar") as tar:
        assert [m.size for m in tar.getmembers() if m.name.endswith("big.bin")] == [len(data)] * 2


def test_analysis_command(env, admin, capsys):
    core = admin.core
    image = core.get_master_images()[0]
    project = core.create_project(name="cli-project", master_image_id=image.id)
    nodes = [core.create_node(name="cli-aggregator", node_type="aggregator"),
             core.create_node(name="cli-default", node_type="default")]
    for node in nodes:
        core.create_project_node(project, node)
    analysis = core.create_analysis(project, name="cli-analysis")
    code, _, err = in_process(capsys, "analyses", "command", str(analysis.id), "configurationLock")
    assert code == 1 and err.splitlines() == [err.strip()] and "default node" in err  # the Hub's 400, one line
    for node in nodes:
        link = core.create_analysis_node(analysis, node)
        core.update_analysis_node(link, approval_status="approved")
    [code_bucket] = [b for b in core.find_analysis_buckets(filter={"analysis_id": analysis.id})
                     if b.type == "CODE"]
    [stored] = admin.storage.upload_to_bucket(code_bucket.bucket_id, ("main.py", b"print(1)\n", "text/x-python"))
    core.create_analysis_bucket_file("main.py", bucket_file_id=stored, bucket_id=code_bucket.bucket_id,
                                     analysis_bucket_id=code_bucket, is_entrypoint=True)
    locked = flame_hub_cmd("analyses", "command", "cli-analysis", "configurationLock", "--format", "json",
                           env=env)                                         # by name
    assert locked.returncode == 0, locked.stderr
    assert json.loads(locked.stdout)["configuration_locked"] is True
    code, out, _ = in_process(capsys, "analyses", "command", str(analysis.id), "buildStart")
    assert code == 0 and jsonl(out)[0]["build_status"] == "starting"
    code, _, err = in_process(capsys, "analyses", "command", str(analysis.id), "launch")
    assert code == 2 and "buildStart" in err


def test_serve_fake_is_the_testing_server(env, capsys):
    # Ctrl-C reaches a foreground process; a run started in the background (``pytest &``) ignores
    # SIGINT and its children inherit that, so the server gets the default disposition back
    proc = subprocess.Popen([str(SCRIPT), "serve-fake", "--port", "0", "--hub-version", "0.8.5"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = proc.stdout.readline()
        match = re.search(r"Fake FLAME Hub 0\.8\.5 serving (http://127\.0\.0\.1:\d+/)", line)
        assert match, line
        code, out, err = in_process(capsys, "--url", match.group(1), "nodes", "count")
        assert code == 0 and out.strip() == "0", err
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0
    with pytest.raises(SystemExit) as done:   # argparse's own help: the same options
        run(["serve-fake", "--help"])
    assert done.value.code == 0 and "--rate-limit" in capsys.readouterr().out


def test_console_script_is_declared():
    assert shutil.which("flame-hub", path=str(SCRIPT.parent)) == str(SCRIPT)
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert 'flame-hub = "flame_hub.cli:main"' in text
