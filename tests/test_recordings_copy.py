"""The repository's copy of the recordings (``tests/hub-recordings``) equals ``../shared``.

Only the comparison needs ``../shared``; every other test reads the copy. Without ``../shared``
(a contributor's clone) there is nothing to compare with, and this one test skips naming it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from _shared import ADDITIONS, EXAMPLES, HUB_SPEC, LEGACY_ADDITIONS, LEGACY_EXAMPLES, RECORDINGS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
try:
    import sync_recordings
finally:
    sys.path.pop(0)


def test_copy_matches_shared():
    shared = sync_recordings.DEFAULT_SHARED
    if not shared.is_dir():
        reason = f"no ../shared to compare the copy with ({shared}; set FLAME_HUB_SHARED)"
        if os.environ.get("CI"):  # CI has ../shared: its absence there is an error
            pytest.fail(reason)
        pytest.skip(reason)
    assert sync_recordings.TARGET == RECORDINGS
    lines = sync_recordings.differences(shared)
    assert not lines, "run: python tools/sync_recordings.py\n" + "\n".join(lines)


def test_copy_holds_both_eras():
    for folder, least in ((EXAMPLES, 97), (ADDITIONS, 94), (LEGACY_EXAMPLES, 149), (LEGACY_ADDITIONS, 40)):
        assert len(list(folder.glob("*.json"))) >= least, folder
    for name in ("resources.json", "list-schemas.json", "README.md"):
        assert (HUB_SPEC / name).is_file()


def test_differences_are_found(tmp_path):
    """The comparison can fail: a changed, a missing and an extra file are each reported."""
    shared = tmp_path / "shared"
    copy = tmp_path / "copy"
    (shared / "hub-spec" / "examples").mkdir(parents=True)
    (shared / "hub-spec-legacy" / "0.8.5" / "additions").mkdir(parents=True)
    (shared / "hub-spec" / "examples" / "001-a.json").write_text("{}")
    (shared / "hub-spec" / "examples" / "002-b.json").write_text("{}")
    (shared / "hub-spec-legacy" / "0.8.5" / "additions" / "301-c.json").write_text("[]")
    assert len(sync_recordings.differences(shared, copy)) == 3
    assert sync_recordings.sync(shared, copy)
    assert sync_recordings.differences(shared, copy) == []
    (copy / "0.14.0" / "examples" / "001-a.json").write_text('{"x": 1}')
    (copy / "0.14.0" / "examples" / "002-b.json").unlink()
    (copy / "0.8.5" / "additions" / "302-d.json").write_text("[]")
    assert sync_recordings.differences(shared, copy) == [
        "0.14.0/examples/001-a.json: differs", "0.14.0/examples/002-b.json: missing from the copy",
        "0.8.5/additions/302-d.json: only in the copy"]
