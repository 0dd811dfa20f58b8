"""``python -m flame_hub.testing serve --port 3000``: run the fake Hub in the foreground.

Serves auth, core and storage under ``/auth/``, ``/core/``, ``/storage/`` like the Hub's gateway,
prints the URL and runs until interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import sys

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
    serve.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from . import FakeHub  # noqa: PLC0415

    hub = FakeHub(port=args.port, token_ttl=args.token_ttl, version=args.hub_version,
                  host=args.host, quiet=not args.verbose)
    hub.latency = args.latency

    def ready(hub: FakeHub) -> None:
        print(f"Fake FLAME Hub {hub.version} serving {hub.url} "
              f"(auth {hub.auth_url}, core {hub.core_url}, storage {hub.storage_url}); "
              "admin/start123; Ctrl-C to stop", flush=True)

    try:
        hub.serve_forever(ready)
    except KeyboardInterrupt:
        print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
