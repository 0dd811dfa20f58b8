"""Response bodies as byte streams (downloads): :class:`ByteStream` and its async twin."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Any

import httpx

from ._responses import connection_error_from
from .errors import HubError


class ByteStream(Iterator[bytes]):
    """The body of a streamed answer, chunk by chunk; closes the response when exhausted.

    Use it in a ``with`` block (or exhaust it) so the connection is released. Transport
    failures while reading raise :class:`~flame_hub.errors.HubConnectionError`.
    """

    def __init__(self, response: httpx.Response, chunk_size: int) -> None:
        self.response = response
        self._chunks = response.iter_bytes(chunk_size)

    def __iter__(self) -> ByteStream:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except StopIteration:
            self.close()
            raise
        except httpx.RequestError as exc:
            self.close()
            raise connection_error_from(exc, self.response.request) from exc

    def close(self) -> None:
        """Release the connection (the rest of the body is dropped)."""
        self.response.close()

    def __enter__(self) -> ByteStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncByteStream(AsyncIterator[bytes]):
    """Async twin of :class:`ByteStream`. The request is sent on ``await`` or on the first
    ``async for`` step (``async with`` too); an error status raises before any byte."""

    def __init__(self, start: Callable[[], Awaitable[httpx.Response]], chunk_size: int) -> None:
        self._start = start
        self._chunk_size = chunk_size
        self.response: httpx.Response | None = None
        self._chunks: AsyncIterator[bytes] | None = None
        self._closed = False

    async def _open(self) -> AsyncByteStream:
        if self._closed:
            raise HubError("the stream is closed")
        if self.response is None:
            self.response = await self._start()
            self._chunks = self.response.aiter_bytes(self._chunk_size)
        return self

    def __await__(self) -> Generator[Any, None, AsyncByteStream]:
        return self._open().__await__()

    def __aiter__(self) -> AsyncByteStream:
        return self

    async def __anext__(self) -> bytes:
        await self._open()
        assert self._chunks is not None and self.response is not None
        try:
            return await self._chunks.__anext__()
        except StopAsyncIteration:
            await self.aclose()
            raise
        except httpx.RequestError as exc:
            await self.aclose()
            raise connection_error_from(exc, self.response.request) from exc

    async def aclose(self) -> None:
        """Release the connection (the rest of the body is dropped)."""
        self._closed = True
        if self.response is not None:
            await self.response.aclose()

    async def __aenter__(self) -> AsyncByteStream:
        return await self._open()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def check_chunk_size(chunk_size: int) -> int:
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size <= 0:
        raise ValueError(f"chunk_size must be a positive int, not {chunk_size!r}")
    return chunk_size


