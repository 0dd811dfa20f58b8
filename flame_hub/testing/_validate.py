"""Create/update body validation as the Hub does it, from the registry's body specs.

The 400 answer names every invalid key, with one issue per rule broken, shaped as recorded:
028 (missing key), 029 (too short, enum, wrong type), 058 (wrong type), 085 (too short) on
core/storage, and 018 on authup, which groups the issues of one key under a ``group`` issue.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from ..resources import FieldSpec
from ._wire import FakeError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "boolean": (bool,), "integer": (int,), "number": (int, float),
    "object": (dict,), "array": (list,),
}


def js_type(value: Any) -> str:
    """The JavaScript name of a JSON value's type, as zod reports it ("received number")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_ok(spec: FieldSpec, value: Any) -> bool:
    kinds = _PY_TYPES.get(spec.type or "")
    if kinds is None:
        return True
    if isinstance(value, bool) and bool not in kinds:
        return False
    return isinstance(value, kinds)


def is_uuid(value: Any) -> bool:
    """True for a canonical UUID string (what the Hub's uuid columns accept)."""
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def _item(key: str, message: str, code: str, optional: bool, **more: Any) -> dict:
    issue = {"type": "item", "path": [key], "message": message, "code": code, **more}
    if optional:
        issue["meta"] = {"optional": True}
    return issue


def _check(key: str, spec: FieldSpec, value: Any, optional: bool) -> list[dict]:
    expected = "number" if spec.type == "integer" else (spec.type or "string")
    if not _type_ok(spec, value):
        return [_item(key, f"Invalid input: expected {expected}, received {js_type(value)}",
                      "value_invalid", optional, expected=expected)]
    issues = []
    if spec.enum and value not in spec.enum:
        options = "|".join(f'"{e}"' for e in spec.enum)
        issues.append(_item(key, f"Invalid option: expected one of {options}", "one_of_failed", optional))
    if spec.format == "uuid" and not is_uuid(value):
        issues.append(_item(key, "Invalid UUID", "value_invalid", optional))
    if spec.format == "email" and not _EMAIL.match(str(value)):
        issues.append(_item(key, "Invalid email address", "email", optional))
    if spec.min_length is not None and isinstance(value, str) and len(value) < spec.min_length:
        issues.append(_item(key, f"Too small: expected string to have >={spec.min_length} characters",
                            "min_length", optional, data={"min": spec.min_length}))
    text = value.lower() if spec.lowercase and isinstance(value, str) else value
    if spec.pattern and isinstance(text, str) and not re.search(spec.pattern, text):
        if spec.pattern_message:
            issues.append(_item(key, spec.pattern_message, "value_invalid", optional))
        else:
            issues.append(_item(key, f"Invalid string: must match pattern /{spec.pattern}/", "pattern", optional))
    return issues


def _stored(spec: FieldSpec, value: Any) -> Any:
    """The value as the Hub stores it: lower-cased names, hex-encoded public keys (notes)."""
    if not isinstance(value, str):
        return value
    if spec.lowercase:
        value = value.lower()
    if spec.stored_as == "hex":
        value = value.encode("utf-8").hex()
    return value


def invalid(keys: list[str], issues: list[dict], *, grouped: bool, body: dict | None = None) -> FakeError:
    """The 400 for invalid body keys; ``grouped`` = authup's per-key ``group`` issues (018: a key
    with several issues; a key with one keeps its ``item``, additions 201);
    ``body`` gives the values that were sent (the legacy error body shows them)."""
    if len(keys) == 1:
        message = f"Property {keys[0]} is invalid"
    else:
        message = f"Properties {', '.join(keys)} are invalid."
    if grouped:  # authup groups the issues of a key that breaks several rules (018), not one (201)
        per_key = {k: [i for i in issues if i["path"] == [k]] for k in keys}
        issues = [{"type": "group", "message": f"Property {k} is invalid", "data": {"name": k},
                   "path": [k], "issues": found} if len(found) > 1 else found[0]
                  for k, found in per_key.items()]
    received = {k: body[k] for k in keys if k in body} if isinstance(body, dict) else {}
    return FakeError(400, "bad_request", message, issues=issues, received=received)


def validate(body: Any, required: dict[str, FieldSpec], optional: dict[str, FieldSpec], *,
             nullable: set[str], grouped: bool = False) -> dict:
    """Check a create/update body; return the accepted keys as the Hub stores them.

    Keys outside the specs are dropped silently, as the Hub does (resources.json
    ``not_validated_keys``). ``null`` is accepted for optional keys whose record key is nullable.
    Raises :class:`FakeError` 400 naming every invalid key.
    """
    if not isinstance(body, dict):
        body = {}
    accepted: dict = {}
    bad: list[str] = []
    issues: list[dict] = []
    for key, (spec, is_optional) in [*((k, (s, False)) for k, s in required.items()),
                      *((k, (s, True)) for k, s in optional.items())]:
        if key not in body:
            if not is_optional:
                expected = "number" if spec.type == "integer" else (spec.type or "string")
                bad.append(key)
                issues.append({"type": "item", "path": [key],
                               "message": f"Invalid input: expected {expected}, received undefined",
                               "code": "required", "expected": expected})
            continue
        value = body[key]
        if value is None and is_optional and key in nullable:
            accepted[key] = None
            continue
        found = _check(key, spec, value, is_optional)
        if found:
            bad.append(key)
            issues.extend(found)
            continue
        accepted[key] = _stored(spec, value)
    if bad:
        raise invalid(bad, issues, grouped=grouped, body=body)
    return accepted


def _branch_issues(body: dict, branch: dict, discriminator: str) -> list[dict]:
    """What one ``one_of`` branch finds wrong with a body (0.14's zod issues)."""
    issues = []
    if branch.get("protocol_message") and body.get(discriminator) not in branch["protocols"]:
        issues.append({"type": "item", "path": [discriminator], "message": branch["protocol_message"],
                       "code": "value_invalid"})
    for key, raw in branch["required"].items():
        spec = FieldSpec(name=key, type=raw.get("type"), enum=tuple(raw["enum"]) if raw.get("enum") else None,
                         min_length=raw.get("minLength"))
        if key not in body:
            expected = "number" if spec.type == "integer" else (spec.type or "string")
            issues.append({"type": "item", "path": [key], "code": "required", "expected": expected,
                           "message": f"Invalid input: expected {expected}, received undefined"})
        else:
            issues.extend(_check(key, spec, body[key], False))
    return issues


def validate_one_of(body: Any, one_of: dict, *, legacy: bool) -> tuple[dict, dict]:
    """The second stage of a create (identity providers): one branch of ``one_of`` must accept
    the body. Returns the branch and the body values of its keys.

    Hub 0.14 (authup beta.62) tries every branch and answers one ``one_of_failed`` group issue
    with a "Branch N failed" group per branch (additions 202, 204, 206); authup beta.24 checks
    the branch of the discriminator's value only and names its missing keys as children
    ``protocol.<key>`` (legacy additions 302, 304, 306).
    """
    body = body if isinstance(body, dict) else {}
    discriminator = one_of["discriminator"]
    if legacy:
        branch = next((b for b in one_of["branches"] if body.get(discriminator) in b["protocols"]), None)
        missing = [k for k in (branch or {}).get("required", {}) if not isinstance(body.get(k), str)]
        if branch is None or missing:
            children = [{"path": f"{discriminator}.{k}", "pathAbsolute": discriminator,
                         "received": "undefined" if k not in body else body[k], "expected": "string"}
                        for k in missing]
            raise FakeError(400, "bad_request", "One or many attributes may be invalid.",
                            extra={"children": children, "attributes": [discriminator] * len(children)})
    else:
        branch, groups = None, []
        for i, candidate in enumerate(one_of["branches"]):
            issues = _branch_issues(body, candidate, discriminator)
            if not issues:
                branch = candidate
                break
            groups.append({"type": "group", "message": f"Branch {i} failed", "data": {"branch": i},
                           "path": [], "issues": issues})
        if branch is None:
            raise FakeError(400, "bad_request", "Property  is invalid", issues=[
                {"type": "group", "code": "one_of_failed", "message": "None of the branches succeeded",
                 "path": [], "issues": groups}])
    keys = [*branch["required"], *branch.get("optional", {})]
    return branch, {k: body[k] for k in keys if k in body}

