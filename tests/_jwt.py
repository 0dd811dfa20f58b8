"""Well-formed JWTs for tests that need a bearer string: the client refuses anything else before
sending (``flame_hub.auth.check_bearer``). Signed with a key no Hub knows, so a Hub (and the fake)
refuses them as foreign tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt(sub: str = "test", **header: str) -> str:
    """An HS256 JWT for subject ``sub`` (distinct subjects give distinct tokens); ``header``
    adds header fields such as ``kid``."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", **header}).encode())
    body = _b64(json.dumps({"sub": sub, "kind": "access_token"}).encode())
    signature = hmac.new(b"not-a-hub-key", f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"
