"""What kind of request a run sent: shared by the benchmark process and the peer worker
(:mod:`benchmarks._peer_worker`, which runs in another venv and cannot import httpx)."""

from __future__ import annotations

__all__ = ["kind"]


def kind(method: str, path: str, query: bytes) -> str:
    """``token`` (POST .../token), ``detect`` (GET of a service root: the client asking the Hub
    for its version), ``list`` (GET with a ``page[...]`` parameter), ``get`` (GET of one record),
    ``other``."""
    if method == "POST" and path.endswith("/token"):
        return "token"
    if method == "GET":
        if path.endswith("/") and not query:
            return "detect"
        return "list" if b"page[" in query or b"page%5B" in query else "get"
    return "other"
