"""Working with httpx2, the HTTP library flame-hub-client 1.1.0 is built on (when installed).

Scripts written for 1.1.0 put its auth flows into an ``httpx2.Client`` and hand its clients one
(``CoreClient(client=httpx2.Client(base_url=..., auth=..., timeout=5))``). This package speaks
``httpx``; with httpx2 installed, its auth flows are httpx2 auth flows as well, and a client given
an ``httpx2.Client`` takes that client's base URL, auth and timeout (its own connection pool is
not shared, and its transport and headers are not used).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

try:  # not a dependency: only there when a 1.1.0 script's environment brings it
    import httpx2
except ImportError:  # pragma: no cover - depends on the environment
    httpx2 = None  # type: ignore[assignment]  # an optional module

#: Bases of every auth flow: ``httpx.Auth``, and ``httpx2.Auth`` when httpx2 is installed.
AUTH_BASES: tuple[type, ...] = (httpx.Auth,) if httpx2 is None else (httpx.Auth, httpx2.Auth)

if TYPE_CHECKING:  # a type checker sees httpx's (httpx2 has the same interface)
    from httpx import Auth as AuthBase
else:
    class AuthBase(*AUTH_BASES):
        """The base of every auth flow: an ``httpx.Auth``, and an ``httpx2.Auth`` when httpx2 is
        installed."""


def is_httpx2_client(client: Any) -> bool:
    """Whether ``client`` is an ``httpx2.Client``."""
    return httpx2 is not None and isinstance(client, httpx2.Client)


def client_settings(client: Any) -> tuple[str, Any, httpx.Timeout]:
    """``(base_url, auth, timeout)`` of an ``httpx2.Client``, for an ``httpx`` session."""
    t = client.timeout
    timeout = httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool)
    return str(client.base_url), client.auth, timeout
