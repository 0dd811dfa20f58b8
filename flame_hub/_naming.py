"""Key spelling helpers: Python attributes are snake_case, the Hub's wire keys camelCase (>= 0.13)."""

from __future__ import annotations

import re
from functools import lru_cache

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])([A-Z])")


@lru_cache(maxsize=4096)
def to_snake(name: str) -> str:
    """``realmId`` -> ``realm_id``; snake_case input is returned unchanged."""
    return _CAMEL_BOUNDARY.sub(r"_\1", name).lower()


@lru_cache(maxsize=4096)
def to_camel(name: str) -> str:
    """``realm_id`` -> ``realmId``; camelCase input is returned unchanged."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def with_article(noun: str) -> str:
    """``analysis`` -> ``an analysis``, ``node`` -> ``a node``, ``update`` -> ``an update``,
    ``user`` -> ``a user``: "an" before a vowel sound, and a u that says "you" (``us``, ``uni``)
    is not one."""
    word = noun.lower()
    vowel = word[:1] in "aeio" or (word[:1] == "u" and not word.startswith(("us", "uni")))
    return f"{'an' if vowel else 'a'} {noun}"
