"""Where the recorded Hub material (``../shared``, beside the clone) lives, and how tests that
need it behave without it: skipped with the reason in a user's clone, failed in CI (``CI`` set),
where nothing may be skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("FLAME_HUB_SHARED") or Path(__file__).resolve().parents[2] / "shared")
HUB_SPEC = SHARED / "hub-spec"
EXAMPLES = HUB_SPEC / "examples"
LEGACY_EXAMPLES = SHARED / "hub-spec-legacy" / "0.8.5" / "examples"


def _reason(path: Path) -> str:
    return f"the recorded Hub material ({path}) is not beside this clone (set FLAME_HUB_SHARED)"


def needs(path: Path) -> pytest.MarkDecorator:
    """Mark a test that reads ``path``: skipped when it is absent, except in CI (it then runs and
    fails on the missing file)."""
    return pytest.mark.skipif(not path.exists() and not os.environ.get("CI"), reason=_reason(path))


def require(path: Path) -> Path:
    """Inside a test: ``path``, or a skip (a failure in CI) when it is absent."""
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(_reason(path))
        pytest.skip(_reason(path))
    return path
