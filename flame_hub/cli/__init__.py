"""``flame-hub``: the command line (``pip install 'flame-hub-client[cli]'``).

Every command runs on :class:`flame_hub.Hub` and its clients' QuerySets and helpers; the
resource commands are generated from the resource registry. ``flame-hub --help`` lists them.
Without the ``cli`` extra, ``flame-hub`` prints how to install it.
"""

from __future__ import annotations

import sys

__all__ = ["main", "INSTALL_HINT"]

INSTALL_HINT = "the flame-hub command line needs its extra: pip install 'flame-hub-client[cli]'"


def main(argv: list[str] | None = None) -> None:
    """The console script: run ``flame-hub`` with ``argv`` (default: the process arguments) and
    exit with its status."""
    try:
        import click  # noqa: F401
        import rich  # noqa: F401
    except ImportError as exc:
        print(f"flame-hub: {INSTALL_HINT} ({exc.name or 'a dependency'} is missing)", file=sys.stderr)
        sys.exit(1)
    from ._app import run

    sys.exit(run(argv))
