"""Where the recorded Hub material lives: ``tests/hub-recordings/``, the repository's copy of
``../shared/hub-spec`` (Hub 0.14.0) and ``../shared/hub-spec-legacy/0.8.5`` (Hub 0.8.5), kept
equal to it by ``tools/sync_recordings.py`` (``tests/test_recordings_copy.py`` says when they
differ). Every test reads the copy, so a clone without ``../shared`` runs all of them."""

from __future__ import annotations

from pathlib import Path

RECORDINGS = Path(__file__).resolve().parent / "hub-recordings"
#: Hub 0.14.0 + authup beta.62: examples/, additions/, resources.json, list-schemas.json, ...
HUB_SPEC = RECORDINGS / "0.14.0"
EXAMPLES = HUB_SPEC / "examples"
ADDITIONS = HUB_SPEC / "additions"
#: Hub 0.8.5 + authup beta.24
LEGACY_SPEC = RECORDINGS / "0.8.5"
LEGACY_EXAMPLES = LEGACY_SPEC / "examples"
LEGACY_ADDITIONS = LEGACY_SPEC / "additions"
