"""Wire dialects: how each Hub era spells keys, wraps records, filters and fails.

One object per era; the QuerySet compiler, the response parsing and the fake Hub take a
:class:`Dialect` as input instead of testing version numbers here and there.
(The two recorded eras: ``tests/hub-recordings/0.14.0`` and ``tests/hub-recordings/0.8.5``, their
READMEs and root answers ``GET /`` with ``{"version": ...}``.)

| Hub            | keys       | record body    | filter grammar | expression form | robots |
|----------------|------------|----------------|----------------|-----------------|--------|
| <= 0.12.2      | snake_case | bare           | v1 (`~x` = starts with, `%` wildcards) | no | yes |
| 0.12.3–0.12.7  | snake_case | bare           | v2 (`x~` starts, `~x` ends, `~x~` contains) | yes | yes |
| >= 0.13        | camelCase  | `{data, meta}` | v2             | yes             | no     |

authup (the auth service) has its own versions: before 1.0.0-beta.54 it speaks :data:`LEGACY`
(snake_case, bare records, robots and the ``robot_credentials`` grant), beta.54–56 switched to
camelCase, the v2 grammar and clients (:data:`AUTHUP_BARE`), and from beta.57 on it wraps records
like the current Hub (:data:`CURRENT`). :func:`dialect_for_authup_version` picks one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from ._naming import to_camel, to_snake
from .resources import CURRENT_ERA, LEGACY_ERA, EraSpec, Resource


@dataclass(frozen=True)
class Dialect:
    """The wire conventions of one Hub era."""

    name: str
    #: key of the resource catalog era whose allow-lists and bodies apply
    catalog_era: str
    camel_case: bool
    #: single records come as ``{"data": record, "meta": {...}}`` (else bare)
    record_envelope: bool
    #: filter token grammar: "v1" (``~x`` = starts with) or "v2" (``x~``/``~x``/``~x~``)
    like_grammar: Literal["v1", "v2"]
    #: the ``filter=and(...)`` expression form is understood (else silently dropped!)
    expression_filters: bool
    #: authup of this era still has robots and the ``robot_credentials`` grant
    robots: bool
    #: list answers carry ``meta.schema`` (the list's allow-lists), Hub >= 0.13
    list_schema: bool = False
    #: error bodies are ``{statusCode, code, message, children, attributes}`` with upper-case or
    #: ``"undefined"`` codes (Hub 0.8.x, authup beta.2x) instead of the ``issues`` shapes
    legacy_errors: bool = False

    def wire_key(self, attr: str) -> str:
        """Wire spelling of a snake_case Python name (``realm_id`` -> ``realmId`` on >= 0.13)."""
        return to_camel(attr) if self.camel_case else to_snake(attr)

    def spec(self, resource: Resource) -> EraSpec:
        """The resource's allow-lists, bodies and routes on this era."""
        return resource.era(self.catalog_era)

    def unwrap_record(self, body: Any) -> Any:
        """The record of a get/create/update/delete answer."""
        if self.record_envelope and isinstance(body, dict) and "data" in body:
            return body["data"]
        return body


#: Hub >= 0.13 (and authup >= 1.0.0-beta.57): camelCase, ``{data, meta}`` records.
CURRENT = Dialect(
    name="0.14", catalog_era=CURRENT_ERA, camel_case=True, record_envelope=True,
    like_grammar="v2", expression_filters=True, robots=False, list_schema=True,
)
#: Hub 0.12.3 – 0.12.7: the new query parser, still snake_case and bare records.
TRANSITIONAL = Dialect(
    name="0.12.3", catalog_era=LEGACY_ERA, camel_case=False, record_envelope=False,
    like_grammar="v2", expression_filters=True, robots=True,
)
#: Hub <= 0.12.2 (the original README's 0.8.5) and authup before 1.0.0-beta.54.
LEGACY = Dialect(
    name="0.8", catalog_era=LEGACY_ERA, camel_case=False, record_envelope=False,
    like_grammar="v1", expression_filters=False, robots=True, legacy_errors=True,
)
#: authup 1.0.0-beta.54 – beta.56: camelCase and clients (robots are gone), records still bare.
AUTHUP_BARE = Dialect(
    name="authup-1.0.0-beta.54", catalog_era=CURRENT_ERA, camel_case=True, record_envelope=False,
    like_grammar="v2", expression_filters=True, robots=False,
)
#: Every dialect, by name (``Dialect.name``).
DIALECTS = {d.name: d for d in (CURRENT, TRANSITIONAL, LEGACY, AUTHUP_BARE)}


def _version_tuple(version: str) -> tuple[int, int, int]:
    m = re.match(r"v?(\d+)\.(\d+)\.(\d+)", version.strip())
    if not m:
        raise ValueError(f"not a Hub version: {version!r} (expected e.g. '0.14.0')")
    return int(m[1]), int(m[2]), int(m[3])


def dialect_for_version(version: str) -> Dialect:
    """The dialect of a Hub version as reported by ``GET {core}/`` (``{"version": ...}``).

    Raises ``ValueError`` for a string that is not a version (``"latest"``)."""
    if not isinstance(version, str):
        raise ValueError(f"a Hub version is a string such as '0.14.0', not {version!r}")
    v = _version_tuple(version)
    if v >= (0, 13, 0):
        return CURRENT
    if v >= (0, 12, 3):
        return TRANSITIONAL
    return LEGACY


def dialect_for_authup_version(version: str) -> Dialect:
    """The dialect of an authup version as reported by ``GET {auth}/`` (``"1.0.0-beta.24"``).

    Robots, snake_case and bare records before 1.0.0-beta.54; camelCase from beta.54; the
    ``{data, meta}`` record envelope from beta.57 (the authup versions of the recorded eras)."""
    if not isinstance(version, str):
        raise ValueError(f"an authup version is a string such as '1.0.0-beta.62', not {version!r}")
    m = re.match(r"v?(\d+)\.(\d+)\.(\d+)(?:-(?:beta|alpha|rc)\.?(\d+))?", version.strip())
    if not m:
        raise ValueError(f"not an authup version: {version!r} (expected e.g. '1.0.0-beta.62')")
    release = (int(m[1]), int(m[2]), int(m[3]))
    if release < (1, 0, 0):
        return LEGACY
    if release == (1, 0, 0) and m[4] is not None:  # a 1.0.0 pre-release
        beta = int(m[4])
        if beta < 54:
            return LEGACY
        if beta < 57:
            return AUTHUP_BARE
    return CURRENT
