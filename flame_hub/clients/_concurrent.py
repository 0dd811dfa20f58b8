"""The concurrent work of an async QuerySet, run on the client side.

The query layer (:mod:`flame_hub.query`) is sans-IO: it plans which list pages a batch asks for
and which ids a bulk operation acts on, and keeps the bookkeeping (what to yield, what was done).
Starting tasks is I/O, so it happens here, in the one mixin that async backends share:
:class:`ConcurrentBackend` gives any class with an ``afetch_page`` the two remaining methods of
the :class:`~flame_hub.query.AsyncPageBackend` protocol. Every request still goes through the
backend's own ``afetch_page`` or helper (and so through the session's retries and pacing).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import anyio

from ..resources import Resource

__all__ = ["ConcurrentBackend"]

T = TypeVar("T")
Params = list[tuple[str, str]]


class ConcurrentBackend:
    """``afetch_pages`` and ``arun_each`` for an async QuerySet backend with an ``afetch_page``."""

    #: one list request, ``(items, meta)`` (defined by the class this is mixed into)
    afetch_page: Callable[[Resource, Params], Awaitable[Any]]

    async def afetch_pages(self, resource: Resource, batch: Sequence[Params]) -> list[Any]:
        """Fetch every request of a batch concurrently; one ``(items, meta)`` or exception each,
        in the batch's order.

        A failure cancels the requests *after* it (their pages would never be yielded) and
        stands in for them; the ones before it finish, so the caller can yield what a sync
        iteration would have yielded before raising."""
        results: list[Any] = [None] * len(batch)
        scopes = [anyio.CancelScope() for _ in batch]

        async def fetch(index: int, params: Params) -> None:
            with scopes[index]:
                try:
                    results[index] = await self.afetch_page(resource, params)
                except Exception as exc:  # noqa: BLE001 - handed back in order, raised by the walk
                    results[index] = exc
                    for scope in scopes[index + 1:]:
                        scope.cancel()

        async with anyio.create_task_group() as group:
            for index, params in enumerate(batch):
                group.start_soon(fetch, index, params)
        failure: BaseException | None = None
        for index, result in enumerate(results):
            if isinstance(result, BaseException):
                failure = failure or result
            elif result is None:  # cancelled by the failure before it
                results[index] = failure
        return results

    async def arun_each(self, call: Callable[[T], Awaitable[Any]], items: Sequence[T], concurrency: int,
                        settle: Callable[[T, Exception | None], bool]) -> None:
        """Await ``call(item)`` for every item, up to ``concurrency`` at once, started in the
        items' order. After each call, ``settle(item, error)`` (``None``: it succeeded) says
        whether to go on: once it returns False no further call starts (the running ones
        finish and are settled too). Errors go to ``settle``, never out of here."""
        todo = iter(items)  # shared by the workers: each item is taken once
        stopped = False

        async def worker() -> None:
            nonlocal stopped
            for item in todo:
                if stopped:
                    return
                try:
                    await call(item)
                except Exception as exc:  # noqa: BLE001 - the caller's bookkeeping reports it
                    go_on = settle(item, exc)
                else:
                    go_on = settle(item, None)
                stopped = stopped or not go_on

        async with anyio.create_task_group() as group:
            for _ in range(min(concurrency, len(items))):
                group.start_soon(worker)
