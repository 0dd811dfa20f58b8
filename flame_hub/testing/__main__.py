"""``python -m flame_hub.testing serve --port 3000``: run the fake Hub in the foreground.

Serves auth, core and storage under ``/auth/``, ``/core/``, ``/storage/`` like the Hub's gateway,
prints the URL and runs until interrupted (Ctrl-C). ``--rate-limit 100/1`` enforces 100 requests
per second per client address and service (the Hub's 429 beyond it); ``--seed nodes=10000``
inserts records before serving (fast, without going through the API or its rate limit).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..resources import CURRENT_ERA


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
    return value


def _rate_limit(text: str) -> Any:
    from ._ratelimit import RateLimit  # noqa: PLC0415

    try:
        return RateLimit.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seed(text: str) -> tuple[str, int]:
    resource, sep, count = text.partition("=")
    if not sep or not resource.strip() or not count.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected RESOURCE=N (e.g. nodes=10000), not {text!r}")
    return resource.strip(), int(count)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m flame_hub.testing",
                                     description="The fake FLAME Hub (auth, core, storage).")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the fake Hub in the foreground until Ctrl-C")
    serve.add_argument("--port", type=int, default=3000, help="port (default 3000; 0 = any free)")
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument("--latency", type=_non_negative, default=0.0,
                       help="seconds added to every request")
    serve.add_argument("--token-ttl", type=_positive, default=None,
                       help="access-token lifetime in seconds (default: the era's, 900 or 3600)")
    serve.add_argument("--hub-version", default=CURRENT_ERA,
                       help=f"Hub version to imitate (default {CURRENT_ERA}; 0.8.5 for the old Hub)")
    serve.add_argument("--rate-limit", type=_rate_limit, default=None, metavar="LIMIT[/SECONDS]",
                       help="enforce LIMIT requests per window of SECONDS (default 60) per client address "
                            "and service, answering 429 beyond it (default: no limit, headers only)")
    serve.add_argument("--seed", type=_seed, action="append", default=[], metavar="RESOURCE=N",
                       help="insert N records of RESOURCE before serving (repeatable; e.g. nodes=10000)")
    serve.add_argument("--progression", type=_positive, default=None, metavar="SECONDS",
                       help="move the worker's, broker's and nodes' work (builds, distributions, runs, "
                            "buckets) on by one step every SECONDS (default: never; see FakeHub.progress)")
    serve.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from . import FakeHub  # noqa: PLC0415

    hub = FakeHub(port=args.port, token_ttl=args.token_ttl, version=args.hub_version,
                  host=args.host, quiet=not args.verbose, progression=args.progression)
    hub.latency = args.latency
    try:
        for resource, count in args.seed:
            hub.seed(resource, count)
    except (KeyError, ValueError) as exc:
        print(f"--seed: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    hub.rate_limit = args.rate_limit  # after seeding: the counting starts now

    def ready(hub: FakeHub) -> None:
        limit = hub.rate_limit
        limited = f"; rate limit {limit.limit} per {limit.window:g} s" if limit else ""
        print(f"Fake FLAME Hub {hub.version} serving {hub.url} "
              f"(auth {hub.auth_url}, core {hub.core_url}, storage {hub.storage_url}); "
              f"admin/start123{limited}; Ctrl-C to stop", flush=True)

    try:
        hub.serve_forever(ready)
    except KeyboardInterrupt:
        print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
