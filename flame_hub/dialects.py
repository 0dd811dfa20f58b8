"""Wire dialects: how each Hub era spells keys, wraps records, filters and fails.

One object per era; the QuerySet compiler, the response parsing and the fake Hub take a
:class:`Dialect` as input instead of testing version numbers here and there.
(Reference: hub-query-syntax.md §0 and §13.)

| Hub            | keys       | record body    | filter grammar | expression form |
|----------------|------------|----------------|----------------|-----------------|
| <= 0.12.2      | snake_case | bare           | v1 (`~x` = starts with, `%` wildcards) | no |
| 0.12.3–0.12.7  | snake_case | bare           | v2 (`x~` starts, `~x` ends, `~x~` contains) | yes |
| >= 0.13        | camelCase  | `{data, meta}` | v2             | yes |
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


CURRENT = Dialect(
    name="0.14", catalog_era=CURRENT_ERA, camel_case=True, record_envelope=True,
    like_grammar="v2", expression_filters=True, robots=False,
)
#: Hub 0.12.3 – 0.12.7: the new query parser, still snake_case and bare records.
TRANSITIONAL = Dialect(
    name="0.12.3", catalog_era=LEGACY_ERA, camel_case=False, record_envelope=False,
    like_grammar="v2", expression_filters=True, robots=True,
)
LEGACY = Dialect(
    name="0.8", catalog_era=LEGACY_ERA, camel_case=False, record_envelope=False,
    like_grammar="v1", expression_filters=False, robots=True,
)


def _version_tuple(version: str) -> tuple[int, int, int]:
    m = re.match(r"v?(\d+)\.(\d+)\.(\d+)", version.strip())
    if not m:
        raise ValueError(f"not a Hub version: {version!r} (expected e.g. '0.14.0')")
    return int(m[1]), int(m[2]), int(m[3])


def dialect_for_version(version: str) -> Dialect:
    """The dialect of a Hub version as reported by ``GET {core}/`` (``{"version": ...}``)."""
    v = _version_tuple(version)
    if v >= (0, 13, 0):
        return CURRENT
    if v >= (0, 12, 3):
        return TRANSITIONAL
    return LEGACY
