"""The sans-IO pagination planner: which page to request next, what to yield, when to stop.

The Hub caps every page at 50 records and counts ``meta.total`` before paging. The loop that the
Hub's own kits use (hub-query-syntax.md §5): advance the offset by the number of records
*received* (not requested), stop on an empty page or when ``offset >= total``. On top of that
the planner honours a cap on the records yielded (slicing, ``limit()``) and never yields the
same ``id`` twice — offset paging is not snapshot-stable, and a record created or moved during
iteration would otherwise show up twice.

Sync and async QuerySets drive the same :class:`Pager`; they only differ in how a page is fetched.
Once ``total`` is known, :meth:`Pager.next_requests` can hand out several offsets at once for
concurrent fetching; :meth:`Pager.receive` takes pages in order and rejects a speculative page
whose offset turned out wrong (``None``), which the caller then simply re-requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Iterator, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    """One list request: ``page[offset]`` and ``page[limit]``."""

    offset: int
    limit: int


@dataclass
class Page(Generic[T]):
    """One page of a list answer.

    ``items`` are the models of this page (records already yielded on an earlier page are left
    out), ``total`` the Hub's count of all matching records, ``limit``/``offset`` what the Hub
    applied (it clamps ``limit`` to 50), ``meta`` the raw ``meta`` object.
    """

    items: list[T]
    total: int | None
    limit: int
    offset: int
    meta: dict = field(default_factory=dict)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def item_id(item: Any) -> Any:
    """The ``id`` of a model or dict, or None (then the item is never deduplicated)."""
    if isinstance(item, dict):
        return item.get("id")
    return getattr(item, "id", None)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class Pager:
    """Plans the requests of one iteration and filters what it yields.

    ``start``: offset of the first record; ``page_size``: records per request (<= the Hub's max);
    ``cap``: records to yield at most (None = all).
    """

    def __init__(self, *, start: int = 0, page_size: int = 50, cap: int | None = None) -> None:
        if start < 0 or page_size < 1 or (cap is not None and cap < 0):
            raise ValueError("start >= 0, page_size >= 1 and cap >= 0 are required")
        self.offset = start
        self.page_size = page_size
        self.remaining = cap
        self.total: int | None = None
        self.done = cap == 0
        self.requests = 0
        self._seen: set[Any] = set()

    def _limit(self, remaining: int | None) -> int:
        return self.page_size if remaining is None else max(1, min(self.page_size, remaining))

    def next_request(self) -> PageRequest | None:
        """The next request, or None when the iteration is over."""
        if self.done:
            return None
        return PageRequest(self.offset, self._limit(self.remaining))

    def next_requests(self, count: int) -> list[PageRequest]:
        """Up to ``count`` consecutive requests, assuming full pages; more than one only once
        ``total`` is known (for concurrent fetching)."""
        first = self.next_request()
        if first is None:
            return []
        out = [first]
        if self.total is None:
            return out
        offset, remaining = first.offset + first.limit, None if self.remaining is None else self.remaining - first.limit
        while len(out) < count and offset < self.total and (remaining is None or remaining > 0):
            req = PageRequest(offset, self._limit(remaining))
            out.append(req)
            offset += req.limit
            remaining = None if remaining is None else remaining - req.limit
        return out

    def receive(self, request: PageRequest, items: list[Any], meta: dict | None) -> Page | None:
        """Take the answer to ``request``; returns the page to yield, or None if ``request`` was a
        speculative one whose offset no longer matches (discard it and ask again)."""
        if self.done or request.offset != self.offset:
            return None
        meta = meta or {}
        self.requests += 1
        total = _int(meta.get("total"))
        if total is not None:
            self.total = total
        received = len(items)
        self.offset += received
        out: list[Any] = []
        for item in items:
            if self.remaining is not None and len(out) >= self.remaining:
                break
            ident = item_id(item)
            if ident is not None:
                if ident in self._seen:
                    continue
                self._seen.add(ident)
            out.append(item)
        if self.remaining is not None:
            self.remaining -= len(out)
        if received == 0 or (self.total is not None and self.offset >= self.total) or self.remaining == 0:
            self.done = True
        limit = _int(meta.get("limit"))
        offset = _int(meta.get("offset"))
        return Page(items=out, total=self.total,
                    limit=request.limit if limit is None else limit,
                    offset=request.offset if offset is None else offset, meta=meta)
