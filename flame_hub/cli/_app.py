"""The ``flame-hub`` commands (click), generated from the resource registry.

One command group per registry resource (``flame-hub nodes list``), with ``list``, ``count``,
``get``, ``create``, ``update`` and ``delete`` where the clients have the helper; a few special
operations (bucket transfers, analysis commands); ``whoami`` and ``serve-fake``. Every command
goes through :class:`flame_hub.Hub`: its QuerySets and helpers, nothing of its own on the wire.

Why click (and rich): the commands are built at import time from the registry, which click does
with plain objects (typer wants a function signature per command); click gives shell completion
for free (``_FLAME_HUB_COMPLETE=bash_source flame-hub``); rich draws the tables and the transfer
bars (size, rate, ETA) and knows when it is not on a terminal.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, get_args

import click

import flame_hub

from .. import _config
from .._responses import parse_json
from .._naming import to_snake
from ..resources import ERAS, REGISTRY, Resource
from ..types import AnalysisCommand
from . import _output

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

ROOT_EXAMPLES = """\b
Examples:
  flame-hub --url http://localhost:3000/ --username admin whoami
  flame-hub nodes list --filter name__startswith=site- --sort -created_at
  flame-hub nodes count --filter online=true
  flame-hub nodes get my-node --format json
  flame-hub buckets upload results ./out/*.csv
  flame-hub analyses command 6c1d... buildStart
  flame-hub serve-fake --port 3000

\b
Settings come from the options, then the environment (FLAME_HUB_URL, FLAME_HUB_USERNAME,
FLAME_HUB_PASSWORD, FLAME_HUB_CLIENT_ID, FLAME_HUB_CLIENT_SECRET, FLAME_HUB_TOKEN, ...), then
./.env. Exit status: 0 ok, 1 the Hub refused or failed, 2 bad input.
Shell completion: eval "$(_FLAME_HUB_COMPLETE=bash_source flame-hub)" (zsh_source, fish_source).
"""

_DEBUG_HANDLER = logging.StreamHandler()  # stderr
_DEBUG_HANDLER.setFormatter(logging.Formatter("%(name)s: %(message)s"))


class CommandError(click.ClickException):
    """A failure to report as one line with exit status 1 (e.g. no such record)."""

    exit_code = 1


# --- state: the Hub, built on first use ----------------------------------------------------------

class State:
    """The root options, and the :class:`flame_hub.Hub` built from them when a command needs it."""

    def __init__(self) -> None:
        self.options: dict[str, Any] = {}
        self.dotenv: bool | str = False
        self.debug = False
        self._hub: flame_hub.Hub | None = None

    def hub(self) -> flame_hub.Hub:
        if self._hub is None:
            options = {k: v for k, v in self.options.items() if v is not None}
            self._hub = flame_hub.Hub(dotenv=self.dotenv, **options)
        return self._hub

    def client(self, res: Resource) -> Any:
        return getattr(self.hub(), res.service)

    def close(self) -> None:
        if self._hub is not None:
            self._hub.close()
            self._hub = None


def run(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status. Errors are one line on stderr (with the
    traceback under ``--debug``): 2 for bad input, 1 for everything else."""
    state = State()
    try:
        result = cli.main(args=argv, prog_name="flame-hub", standalone_mode=False, obj=state)
        return result if isinstance(result, int) else 0
    except click.exceptions.Abort:
        click.echo("flame-hub: aborted", err=True)
        return 1
    except click.UsageError as exc:
        exc.show()
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"flame-hub: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("flame-hub: interrupted", err=True)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place that turns errors into a status
        if state.debug:
            traceback.print_exc()
        message = " ".join(str(exc).split()) or type(exc).__name__
        click.echo(f"flame-hub: error: {message}", err=True)
        return 2 if isinstance(exc, (ValueError, TypeError)) else 1
    finally:
        state.close()


# --- parsing -----------------------------------------------------------------------------------

def _split(values: tuple[str, ...]) -> list[str]:
    """Repeated and comma-separated option values: ``--sort a,-b --sort c`` -> [a, -b, c]."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _pair(text: str, what: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise click.BadParameter(f"expected KEY=VALUE, not {text!r}", param_hint=what)
    return key.strip(), value


def _bool(text: str, key: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"{key}: expected true or false, not {text!r}")


def lookups(filters: tuple[str, ...]) -> dict[str, Any]:
    """``--filter`` values as QuerySet lookups. ``null`` is None; ``__in`` and ``__range`` take
    comma-separated values, ``__isnull`` a boolean; everything else is passed as written."""
    out: dict[str, Any] = {}
    for text in filters:
        key, value = _pair(text, "--filter")
        lookup = key.rsplit("__", 1)[-1] if "__" in key else "exact"
        if value == "null":
            out[key] = None
        elif lookup == "in":
            out[key] = [v.strip() for v in value.split(",")]
        elif lookup == "range":
            out[key] = tuple(v.strip() for v in value.split(",", 1))
        elif lookup == "isnull":
            out[key] = _bool(value, key)
        else:
            out[key] = value
    return out


def _field_specs(res: Resource) -> dict[str, Any]:
    """Every body and record key of a resource on any era, by Python name."""
    specs: dict[str, Any] = {}
    for era in ERAS:
        spec = res.eras[era]
        for group in (spec.record_keys, spec.update_fields, spec.create_optional, spec.create_required):
            specs.update({field.attr: field for field in group.values()})
    return specs


def assignments(res: Resource, pairs: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` arguments as helper keywords, typed by the registry (``true``/``false``,
    numbers, JSON for objects and arrays); ``KEY=null`` sends null."""
    specs = _field_specs(res)
    out: dict[str, Any] = {}
    for text in pairs:
        key, value = _pair(text, "KEY=VALUE")
        kind = getattr(specs.get(to_snake(key)), "type", None)
        if value == "null":
            out[key] = None
        elif kind == "boolean":
            out[key] = _bool(value, key)
        elif kind in ("integer", "number"):
            try:
                out[key] = int(value) if kind == "integer" else float(value)
            except ValueError:
                raise ValueError(f"{key}: expected a number, not {value!r}") from None
        elif kind in ("object", "array"):
            try:
                out[key] = json.loads(value)
            except ValueError:
                raise ValueError(f"{key}: expected JSON, not {value!r}") from None
        else:
            out[key] = value
    return out


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def find(state: State, res: Resource, ident: str) -> Any:
    """The record with this id, or (for resources with names) this name."""
    client = state.client(res)
    if _is_uuid(ident):
        record = getattr(client, f"get_{res.singular}")(ident)
    elif hasattr(client, f"get_{res.singular}_by_name"):
        record = getattr(client, f"get_{res.singular}_by_name")(ident)
    elif res.name_key:
        try:
            return getattr(client, res.attr).get(**{to_snake(res.name_key): ident})
        except flame_hub.NotFound:
            record = None
    else:
        raise click.BadParameter(f"{ident!r} is not an id ({res.name} have no names)")
    if record is None:
        raise CommandError(f"no {res.singular.replace('_', ' ')} {ident!r}")
    return record


def record_id(state: State, res: Resource, ident: str) -> str:
    """An id as it is; a name looked up."""
    return ident if _is_uuid(ident) else str(find(state, res, ident).id)


# --- options shared by commands ----------------------------------------------------------------

def format_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--format", "fmt", type=click.Choice(_output.FORMATS), default=None,
                        help="output format (default: table on a terminal, jsonl when piped)")(fn)


def filter_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--filter", "filters", multiple=True, metavar="LOOKUP=VALUE",
                        help="a lookup such as name__startswith=site- or online=true (repeatable; "
                             "keys the Hub would ignore are refused)")(fn)


def query_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        click.option("--sort", "sorts", multiple=True, metavar="KEY", help="sort key, -KEY descending (repeatable)"),
        click.option("--fields", "fields", multiple=True, metavar="NAME",
                     help="fields to fetch and show, comma-separated; +NAME adds a hidden one"),
        click.option("--include", "includes", multiple=True, metavar="RELATION",
                     help="relations to embed, comma-separated"),
        click.option("--limit", type=click.IntRange(min=0), default=None, help="at most this many records"),
    ]):
        fn = option(fn)
    return filter_option(fn)


def query(state: State, res: Resource, filters: tuple[str, ...], sorts: tuple[str, ...] = (),
          fields: tuple[str, ...] = (), includes: tuple[str, ...] = (), limit: int | None = None) -> Any:
    """The resource's QuerySet with the options applied (keys are checked by the QuerySet)."""
    qs = getattr(state.client(res), res.attr)
    if filters:
        qs = qs.filter(**lookups(filters))
    if sorts:
        qs = qs.sort(*_split(sorts))
    if fields:
        qs = qs.fields(*_split(fields))
    if includes:
        qs = qs.include(*_split(includes))
    if limit is not None:
        qs = qs.limit(limit)
    return qs


def _columns(fields: tuple[str, ...]) -> list[str] | None:
    names = _split(fields)
    return [n.lstrip("+") for n in names] if names else None


def emit(records: Any, fmt: str | None, res: Resource | None = None, *, fields: tuple[str, ...] = (),
         single: bool = False) -> int:
    return _output.write(records, fmt or _output.default_format(), columns=_columns(fields),
                         name_key=to_snake(res.name_key) if res and res.name_key else None, single=single)


# --- the resource commands (one group per registry resource) -----------------------------------

def _title(res: Resource) -> str:
    return res.name.replace("-", " ")


def _example_options(res: Resource, *, sort: bool = True) -> str:
    """A ``--filter``/``--sort`` example this resource's allow-lists accept (current Hub)."""
    spec = res.eras[next(e for e in ERAS if res.eras[e].available)]
    filters = [to_snake(k) for k in spec.filters]
    sorts = [to_snake(k) for k in spec.sorts]
    parts = []
    if "name" in filters:
        parts.append("--filter name__startswith=lab-")
    elif filters:
        parts.append(f"--filter {filters[0]}=...")
    if sorts and sort:
        parts.append(f"--sort -{'created_at' if 'created_at' in sorts else sorts[0]}")
    return " ".join(parts)


def _list_command(res: Resource) -> click.Command:
    @click.command("list", context_settings=CONTEXT, epilog=(
        f"\b\nExamples:\n  flame-hub {res.name} list --limit 20\n"
        f"  flame-hub {res.name} list {_example_options(res)} --format csv"))
    @query_options
    @format_option
    @click.pass_obj
    def command(state: State, filters: tuple[str, ...], sorts: tuple[str, ...], fields: tuple[str, ...],
                includes: tuple[str, ...], limit: int | None, fmt: str | None) -> None:
        emit(query(state, res, filters, sorts, fields, includes, limit), fmt, res, fields=fields)

    command.help = f"List {_title(res)} (every page, streamed)."
    return command


def _count_command(res: Resource) -> click.Command:
    @click.command("count", context_settings=CONTEXT,
                   epilog=f"\b\nExample:\n  flame-hub {res.name} count {_example_options(res, sort=False)}")
    @filter_option
    @click.pass_obj
    def command(state: State, filters: tuple[str, ...]) -> None:
        click.echo(query(state, res, filters).count())

    command.help = f"Count {_title(res)} (one request)."
    return command


def _get_command(res: Resource) -> click.Command:
    by_name = " or name" if res.name_key else ""

    @click.command("get", context_settings=CONTEXT,
                   epilog=f"\b\nExample:\n  flame-hub {res.name} get <id{by_name.replace(' or ', '|')}> --format json")
    @click.argument("ident", metavar=f"ID{by_name.upper().replace(' OR ', '|')}")
    @format_option
    @click.pass_obj
    def command(state: State, ident: str, fmt: str | None) -> None:
        emit([find(state, res, ident)], fmt, res, single=True)

    command.help = f"Show one of the {_title(res)} by id{by_name}."
    return command


def _create_command(res: Resource) -> click.Command:
    @click.command("create", context_settings=CONTEXT,
                   epilog=f"\b\nExample:\n  flame-hub {res.name} create name=example")
    @click.argument("pairs", nargs=-1, metavar="KEY=VALUE...")
    @format_option
    @click.pass_obj
    def command(state: State, pairs: tuple[str, ...], fmt: str | None) -> None:
        created = getattr(state.client(res), f"create_{res.singular}")(**assignments(res, pairs))
        emit([created], fmt, res, single=True)

    command.help = (f"Create one of the {_title(res)}: KEY=VALUE with Python names (realm_id=..., "
                    "hidden=true, KEY=null).")
    return command


def _update_command(res: Resource) -> click.Command:
    @click.command("update", context_settings=CONTEXT,
                   epilog=f"\b\nExample:\n  flame-hub {res.name} update <id> KEY=VALUE")
    @click.argument("ident", metavar="ID")
    @click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...")
    @format_option
    @click.pass_obj
    def command(state: State, ident: str, pairs: tuple[str, ...], fmt: str | None) -> None:
        updated = getattr(state.client(res), f"update_{res.singular}")(record_id(state, res, ident),
                                                                        **assignments(res, pairs))
        emit([updated], fmt, res, single=True)

    command.help = f"Change one of the {_title(res)}: only the KEY=VALUE pairs given are sent."
    return command


def _delete_command(res: Resource) -> click.Command:
    @click.command("delete", context_settings=CONTEXT, epilog=(
        f"\b\nExamples:\n  flame-hub {res.name} delete <id> <id>\n"
        f"  flame-hub {res.name} delete --filter name__startswith=tmp- --yes"))
    @click.argument("idents", nargs=-1, metavar="[ID...]")
    @filter_option
    @click.option("--yes", "-y", is_flag=True, help="do not ask before deleting more than one record")
    @click.pass_obj
    def command(state: State, idents: tuple[str, ...], filters: tuple[str, ...], yes: bool) -> None:
        if not idents and not filters:
            raise click.UsageError("give the ids to delete, or --filter to select them")
        ids = [record_id(state, res, ident) for ident in idents]
        if filters:
            ids += [str(r.id) for r in query(state, res, filters)]
        ids = list(dict.fromkeys(ids))
        if not ids:
            click.echo(f"no {_title(res)} match", err=True)
            return
        if len(ids) > 1 and not yes:
            click.confirm(f"Delete {len(ids)} {_title(res)}?", abort=True, err=True)
        delete = getattr(state.client(res), f"delete_{res.singular}")
        for ident in ids:
            delete(ident)
            click.echo(ident)
        click.echo(f"deleted {len(ids)} {_title(res)}", err=True)

    command.help = (f"Delete {_title(res)} by id or by --filter; more than one asks first "
                    "(--yes to skip). Prints the deleted ids.")
    return command


_COMMANDS: dict[str, Callable[[Resource], click.Command]] = {
    "list": _list_command, "count": _count_command, "get": _get_command,
    "create": _create_command, "update": _update_command, "delete": _delete_command,
}
#: the helper each command calls ("{singular}" filled in); list and count use the QuerySet
_NEEDS = {"list": "{attr}", "count": "{attr}", "get": "get_{singular}", "create": "create_{singular}",
          "update": "update_{singular}", "delete": "delete_{singular}"}


def resource_group(res: Resource) -> click.Group:
    """``flame-hub <resource> ...``: the commands whose helper the resource's client has."""
    client_class = {"auth": flame_hub.AuthClient, "core": flame_hub.CoreClient,
                    "storage": flame_hub.StorageClient}[res.service]
    group = click.Group(res.name, context_settings=CONTEXT,
                        help=f"{_title(res).capitalize()} ({res.service} service).",
                        epilog=f"\b\nExample:\n  flame-hub {res.name} list --limit 10")
    for name, make in _COMMANDS.items():
        if hasattr(client_class, _NEEDS[name].format(attr=res.attr, singular=res.singular)):
            group.add_command(make(res))
    return group


# --- transfers and special operations ---------------------------------------------------------

def quiet_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--quiet", "-q", is_flag=True,
                        help="no progress bar (there is none when stderr is not a terminal)")(fn)


@contextmanager
def transfer_progress(label: str, quiet: bool) -> Iterator[Callable[[int, int | None], None] | None]:
    """A rich bar on stderr (size, rate, ETA) fed by ``progress(done, total)``; ``None`` (no
    output at all) with ``--quiet`` or when stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                               TransferSpeedColumn)

    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


BUCKETS, BUCKET_FILES, ANALYSES = REGISTRY["buckets"], REGISTRY["bucket-files"], REGISTRY["analyses"]


@click.command("upload", context_settings=CONTEXT,
               epilog="\b\nExample:\n  flame-hub buckets upload results ./out/a.csv ./out/b.csv")
@click.argument("bucket")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@format_option
@quiet_option
@click.pass_obj
def upload(state: State, bucket: str, files: tuple[str, ...], fmt: str | None, quiet: bool) -> None:
    """Upload FILES into BUCKET (id or name) in one request; prints the created bucket files."""
    bucket_id = record_id(state, BUCKETS, bucket)
    label = Path(files[0]).name if len(files) == 1 else f"{len(files)} files"
    with transfer_progress(f"upload {label}", quiet) as progress:
        stored = state.hub().storage.upload_to_bucket(bucket_id, *files, progress=progress)
    emit(stored, fmt, BUCKET_FILES)


@click.command("download", context_settings=CONTEXT,
               epilog="\b\nExample:\n  flame-hub buckets download <bucket-file-id> ./result.csv")
@click.argument("file_id", metavar="FILE_ID")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@quiet_option
@click.pass_obj
def download(state: State, file_id: str, path: str, quiet: bool) -> None:
    """Download one bucket file to PATH (written completely or not at all)."""
    with transfer_progress(f"download {Path(path).name}", quiet) as progress:
        state.hub().storage.download_bucket_file(record_id(state, BUCKET_FILES, file_id), path,
                                                 progress=progress)


@click.command("tarball", context_settings=CONTEXT,
               epilog="\b\nExample:\n  flame-hub buckets tarball results ./results.tar")
@click.argument("bucket")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@quiet_option
@click.pass_obj
def tarball(state: State, bucket: str, path: str, quiet: bool) -> None:
    """Download a whole BUCKET (id or name) as a tar archive to PATH."""
    with transfer_progress(f"tarball {Path(path).name}", quiet) as progress:
        state.hub().storage.download_bucket_tarball(record_id(state, BUCKETS, bucket), path,
                                                    progress=progress)


@click.command("command", context_settings=CONTEXT,
               epilog="\b\nExample:\n  flame-hub analyses command <analysis-id> buildStart")
@click.argument("analysis")
@click.argument("name", metavar="COMMAND", type=click.Choice(get_args(AnalysisCommand)))
@format_option
@click.pass_obj
def analysis_command(state: State, analysis: str, name: str, fmt: str | None) -> None:
    """Send COMMAND to an ANALYSIS (id or name); prints the updated analysis."""
    updated = state.hub().core.send_analysis_command(record_id(state, ANALYSES, analysis), name)
    emit([updated], fmt, ANALYSES, single=True)


#: special operations, added to their resource's group
SPECIAL = {"buckets": [upload, download, tarball], "analyses": [analysis_command]}


# --- the root ----------------------------------------------------------------------------------

def _root_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    env = _config.ENV_VARS
    options = [
        click.option("--url", help=f"the Hub's gateway, e.g. http://localhost:3000/ [{env['url']}]"),
        *(click.option(f"--{s}-url", help=f"the {s} service's URL (instead of the gateway's) "
                                          f"[{env[s + '_url']}]") for s in ("auth", "core", "storage")),
        click.option("--username", help=f"log in as this user [{env['username']}]"),
        click.option("--password", help=f"the user's password (better: {env['password']})"),
        click.option("--client-id", help=f"log in as this authup client [{env['client_id']}]"),
        click.option("--client-secret", help=f"the client's secret (better: {env['client_secret']})"),
        click.option("--token", help=f"a bearer token (better: {env['token']})"),
        click.option("--hub-version", help="the Hub's version, e.g. 0.8.5 (default: asked once)"),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="seconds (default 30, connect 5)"),
        click.option("--max-retries", type=click.IntRange(min=0), help="retries of reads (default 2)"),
        click.option("--env-file", type=click.Path(dir_okay=False), help="read FLAME_HUB_* from this file "
                     "(default: ./.env or the first one above)"),
        click.option("--no-env-file", is_flag=True, help="read no .env file"),
        click.option("--debug", is_flag=True, help="log every request; tracebacks on errors"),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.group(context_settings=CONTEXT, epilog=ROOT_EXAMPLES)
@_root_options
@click.version_option(flame_hub.__version__, "--version", prog_name="flame-hub")
@click.pass_context
def cli(ctx: click.Context, env_file: str | None, no_env_file: bool, debug: bool, **options: Any) -> None:
    """The FLAME Hub from the command line: list, count, get, create, update and delete every
    resource; move bucket files; send analysis commands."""
    state: State = ctx.ensure_object(State)
    state.options = options
    state.debug = debug
    if no_env_file:
        state.dotenv = False
    elif env_file is not None:
        state.dotenv = env_file
    else:
        try:
            import dotenv  # noqa: F401
        except ImportError:
            state.dotenv = False
        else:
            state.dotenv = True
    if debug:
        for name in ("flame_hub", "httpx"):  # httpx logs each request: "HTTP Request: GET ..."
            logger = logging.getLogger(name)
            logger.setLevel(logging.DEBUG)
            if _DEBUG_HANDLER not in logger.handlers:
                logger.addHandler(_DEBUG_HANDLER)


@cli.command("whoami", context_settings=CONTEXT, short_help="Who you are logged in as, on which Hub.",
             epilog="\b\nExample:\n  flame-hub whoami --format json")
@format_option
@click.pass_obj
def whoami(state: State, fmt: str | None) -> None:
    """Who the credentials log in as, and which Hub answers (its version and authup's)."""
    hub = state.hub()
    if hub.credentials is None:
        raise CommandError("no credentials: give --username/--password, --client-id/--client-secret or "
                           "--token, or set FLAME_HUB_USERNAME/FLAME_HUB_PASSWORD, ...")
    # authup introspects the bearer token of the request (hub-spec 007, additions/291)
    answer = parse_json(hub.auth.session.request("POST", "token/introspect", json={}))
    if not isinstance(answer, dict) or not answer.get("active"):
        raise CommandError("the Hub says the token is not active")
    hub.core.detect_dialect()
    hub.auth.detect_dialect()
    _output.write_mapping({
        "name": answer.get("name") or answer.get("preferred_username"),
        "kind": answer.get("sub_kind"),
        "id": answer.get("sub"),
        "realm": answer.get("realm_name"),
        "hub": hub.url or hub.core.base_url,
        "hub_version": hub.core.hub_version,
        "authup_version": hub.auth.hub_version,
    }, fmt or _output.default_format())


@cli.command("serve-fake", add_help_option=False, short_help="Serve the fake Hub (--help: its options).",
             context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def serve_fake(args: tuple[str, ...]) -> int:
    """Serve the fake Hub (same as python -m flame_hub.testing serve; --help shows its options)."""
    from ..testing.__main__ import main as serve

    try:
        return serve(["serve", *args])
    except ImportError as exc:
        raise CommandError(f"serve-fake needs the testing extra: pip install 'flame-hub-client[testing]' "
                           f"({exc.name} is missing)") from None


for _res in sorted(REGISTRY.values(), key=lambda r: r.name):
    _group = resource_group(_res)
    for _command in SPECIAL.get(_res.name, []):
        _group.add_command(_command)
    cli.add_command(_group)
