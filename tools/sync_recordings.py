"""Keep ``tests/hub-recordings/`` a faithful copy of the recorded Hub material in ``../shared``.

The recorded exchanges of real Hubs (``../shared/hub-spec`` for Hub 0.14.0,
``../shared/hub-spec-legacy/0.8.5`` for Hub 0.8.5) are what the conformance tests, the catalog
build and several unit tests read. A contributor's clone has no ``../shared``, so the repository
carries a copy; this script refreshes it::

    python tools/sync_recordings.py            # copy ../shared into tests/hub-recordings/
    python tools/sync_recordings.py --check    # list the differences, exit 1 if there are any
    python tools/sync_recordings.py --shared /path/to/shared

``tests/test_recordings_copy.py`` fails when the copy and ``../shared`` differ.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: where the copies live, one folder per Hub era
TARGET = ROOT / "tests" / "hub-recordings"
#: the default ``../shared`` (beside the clone); ``FLAME_HUB_SHARED`` overrides it
DEFAULT_SHARED = Path(os.environ.get("FLAME_HUB_SHARED") or ROOT.parent / "shared")
#: era folder in the copy -> (folder under ``shared``, the files and folders copied from it)
SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "0.14.0": ("hub-spec", ("README.md", "resources.json", "list-schemas.json", "auth.json",
                            "core.json", "storage.json", "examples", "additions")),
    "0.8.5": ("hub-spec-legacy/0.8.5", ("README.md", "examples", "additions")),
}


def _files(base: Path, entries: tuple[str, ...]) -> dict[str, Path]:
    """Relative path -> file, for every file of ``entries`` under ``base`` (missing ones left out)."""
    found: dict[str, Path] = {}
    for entry in entries:
        path = base / entry
        if path.is_file():
            found[entry] = path
        elif path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                found[file.relative_to(base).as_posix()] = file
    return found


def pairs(shared: Path = DEFAULT_SHARED, target: Path = TARGET) -> dict[str, tuple[Path | None, Path | None]]:
    """``era/relative path`` -> (file in ``shared``, file in the copy); None where one is missing."""
    out: dict[str, tuple[Path | None, Path | None]] = {}
    for era, (folder, entries) in SOURCES.items():
        source = _files(shared / folder, entries)
        copy = _files(target / era, entries)
        for rel in sorted(set(source) | set(copy)):
            out[f"{era}/{rel}"] = (source.get(rel), copy.get(rel))
    return out


def differences(shared: Path = DEFAULT_SHARED, target: Path = TARGET) -> list[str]:
    """One line per file that is missing on either side or differs in content."""
    if not shared.is_dir():
        raise FileNotFoundError(f"no recorded Hub material at {shared}")
    lines = []
    for name, (source, copy) in pairs(shared, target).items():
        if source is None:
            lines.append(f"{name}: only in the copy")
        elif copy is None:
            lines.append(f"{name}: missing from the copy")
        elif source.read_bytes() != copy.read_bytes():
            lines.append(f"{name}: differs")
    return lines


def sync(shared: Path = DEFAULT_SHARED, target: Path = TARGET) -> list[str]:
    """Make the copy equal to ``shared``; return what changed (as :func:`differences` words it)."""
    changed = differences(shared, target)
    for name, (source, copy) in pairs(shared, target).items():
        dest = target / name
        if source is None:
            assert copy is not None
            copy.unlink()
        elif copy is None or source.read_bytes() != copy.read_bytes():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared folder")
    parser.add_argument("--check", action="store_true", help="only list differences")
    args = parser.parse_args(argv)
    try:
        lines = differences(args.shared) if args.check else sync(args.shared)
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    if args.check:
        return 1 if lines else 0
    print(f"{len(lines)} file(s) updated in {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
