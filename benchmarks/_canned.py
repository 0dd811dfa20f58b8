"""Replaying recorded answers in memory: client CPU without sockets, server or kernel.

The workloads run once against the fake Hub through a :class:`Recorder` transport, which keeps
every answer; :func:`canned_target` then serves those answers from memory
(``httpx.MockTransport``). What remains is the work above the transport — building requests,
auth, parsing, validation, paging — the part where our client and the floor differ, so its CPU
ratios are stable on a noisy machine and a profile of it shows only client code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from ._workloads import Target

__all__ = ["Recording", "Recorder", "canned_target"]

Key = tuple[str, str, bytes]


def _key(request: httpx.Request) -> Key:
    return request.method, request.url.path, request.url.query


@dataclass
class Recording:
    """Answers by (method, path, query): status, headers and body."""

    answers: dict[Key, tuple[int, list[tuple[str, str]], bytes]] = field(default_factory=dict)

    def answer(self, request: httpx.Request) -> httpx.Response:
        try:
            status, headers, content = self.answers[_key(request)]
        except KeyError:
            raise LookupError(f"no recorded answer for {request.method} {request.url}") from None
        return httpx.Response(status, headers=headers, content=content)


class Recorder(httpx.BaseTransport):
    """A sync transport that sends through ``inner`` and records every answer."""

    def __init__(self, inner: httpx.BaseTransport, recording: Recording) -> None:
        self._inner = inner
        self._recording = recording

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        content = response.read()
        response.close()
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in ("content-length", "transfer-encoding", "connection")]
        self._recording.answers[_key(request)] = (response.status_code, headers, content)
        return httpx.Response(response.status_code, headers=headers, content=content)

    def close(self) -> None:
        self._inner.close()


def recording_target(target: Target, recording: Recording) -> Target:
    """``target``, with every sync answer recorded into ``recording``."""
    return Target(target.url, transport=lambda: Recorder(target.transport(), recording),
                  async_transport=target.async_transport, username=target.username,
                  password=target.password)


def canned_target(target: Target, recording: Recording) -> Target:
    """``target`` answered from ``recording`` in memory, sync and async."""
    return Target(target.url, transport=lambda: httpx.MockTransport(recording.answer),
                  async_transport=lambda: httpx.MockTransport(recording.answer),
                  username=target.username, password=target.password)
