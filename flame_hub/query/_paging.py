"""The sans-IO pagination planner: which page to request next, what to yield, when to stop.

The Hub caps every page at 50 records and counts ``meta.total`` before paging. The loop that the
Hub's own kits use (the 50-record cap: recording 049): advance the offset by the number of records
*received* (not requested), stop on an empty page or when ``offset >= total``. On top of that
the planner honours a cap on the records yielded (slicing, ``limit()``) and never yields the
same ``id`` twice — offset paging is not snapshot-stable, and a record created or moved during
iteration would otherwise show up twice.

Sync and async QuerySets drive the same :class:`Pager` through a :class:`Walk`; they only differ
in how a batch of pages is fetched. Once ``total`` is known, :meth:`Pager.next_requests` hands
out several offsets at once for concurrent fetching (async iteration, ``page_concurrency``);
:meth:`Pager.receive` takes pages in order and rejects a speculative page whose offset turned out
wrong (``None``), which the walk then simply re-requests. At most one batch of pages is held in
memory at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Generic, TypeVar
from uuid import UUID
from collections.abc import Callable, Iterator, Sequence

T = TypeVar("T")
Params = list[tuple[str, str]]
#: a fetched page, ``(items, meta)``, or the exception its request raised
Result = Any

#: list pages an async iteration fetches at once once ``meta.total`` is known
DEFAULT_PAGE_CONCURRENCY = 4


def check_concurrency(value: Any) -> int:
    """``value`` if it is a valid page concurrency (an int >= 1), else ValueError."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"page concurrency must be an int >= 1, not {value!r}")
    return value


@dataclass(frozen=True)
class PageRequest:
    """One list request: ``page[offset]`` and ``page[limit]``; ``after``: keyset paging, only
    the records whose id comes after this one in the sort direction (then ``offset`` is 0)."""

    offset: int
    limit: int
    after: Any = None


@dataclass
class Page(Generic[T]):
    """One page of a list answer.

    ``items`` are the models of this page (records already yielded on an earlier page are left
    out), ``total`` the Hub's count of all matching records, ``limit``/``offset`` what the Hub
    applied (it clamps ``limit`` to 50), ``meta`` the raw ``meta`` object. On keyset pages
    (after the first; see :class:`Pager`) the Hub counts only the records after the last id:
    ``total`` and ``offset`` then add the records read before the page.
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


_ids = attrgetter("id")
_ints = attrgetter("int")


def seen_key(item: Any) -> Any:
    """The key a record's id is remembered by: a UUID's 128-bit int (hashed in C, and smaller
    than the UUID object), any other id as it is; None for a record without an id (never
    deduplicated)."""
    ident = item_id(item)
    return ident.int if isinstance(ident, UUID) else ident


def page_keys(items: list[Any]) -> list[Any]:
    """:func:`seen_key` of every item, with the per-record work in C for the usual page (models
    with UUID ids, or dicts)."""
    try:
        ids = [i.get("id") for i in items] if isinstance(items[0], dict) else list(map(_ids, items))
    except AttributeError:  # a dict among models, or a model without an id
        return [seen_key(item) for item in items]
    if set(map(type, ids)) == {UUID}:
        return list(map(_ints, ids))
    return [ident.int if isinstance(ident, UUID) else ident for ident in ids]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class Pager:
    """Plans the requests of one iteration and filters what it yields.

    ``start``: offset of the first record; ``page_size``: records per request (<= the Hub's max);
    ``cap``: records to yield at most (None = all); ``keyset``: continue after the last id
    (the query is sorted by id alone; the caller turns ``PageRequest.after`` into a filter).

    **Offset paging** (the default) survives a loop body that deletes or updates records: every
    page's ``meta.total`` is compared with the one before; when it shrank by ``d``, up to ``d``
    unseen records may have moved in front of the cursor, so a page read further on is
    discarded and read again ``d`` records earlier (records seen already are dropped by id).
    The next request is placed as far back as the last observed shrink predicts (the share of
    the records handed to the loop body that went away, applied to the ones handed out since),
    so a loop that deletes what it gets costs one discarded page in all; undisturbed, nothing
    is re-read.

    **Keyset paging** (``keyset=True``) asks for "the first page after the last id" instead: no
    change anywhere can shift it, nothing is re-read, no set of seen ids is kept.
    """

    def __init__(self, *, start: int = 0, page_size: int = 50, cap: int | None = None,
                 keyset: bool = False) -> None:
        if start < 0 or page_size < 1 or (cap is not None and cap < 0):
            raise ValueError("start >= 0, page_size >= 1 and cap >= 0 are required")
        self.start = start
        #: offset paging: position of the first record not read yet (a lower bound)
        self.offset = start
        self.page_size = page_size
        self.remaining = cap
        self.total: int | None = None
        self.done = cap == 0
        self.requests = 0
        #: records the Hub serves per full page (its applied ``meta.limit`` may be below the
        #: asked one); speculative offsets step by this
        self.stride = page_size
        self.keyset = keyset
        #: keyset paging: the id of the last record read (None before the first page)
        self.after: Any = None
        self._seen: set[Any] = set()
        #: the share of the records handed to the loop body that left the query by the next
        #: read (1.0 for a loop that deletes what it gets; 0 undisturbed)
        self._ratio = 0.0
        self._handed = 0  # records handed out since the current batch was planned
        self._consumed = 0  # ... and before it (the loop body had them when it was read)
        self._back = 0  # how far the current batch was placed back

    def _limit(self, remaining: int | None) -> int:
        return self.page_size if remaining is None else max(1, min(self.page_size, remaining))

    def next_request(self) -> PageRequest | None:
        """The next request, or None when the iteration is over."""
        if self.done:
            return None
        if self.keyset and self.after is not None:
            return PageRequest(0, self._limit(self.remaining), self.after)
        back = min(round(self._ratio * self._handed), self.offset - self.start)
        self._back = back
        remaining = None if self.remaining is None else self.remaining + back
        return PageRequest(self.offset - back, self._limit(remaining))

    def next_requests(self, count: int) -> list[PageRequest]:
        """Up to ``count`` consecutive requests, assuming full pages; more than one only once
        ``total`` is known and when paging by offset (for concurrent fetching)."""
        first = self.next_request()
        self._consumed, self._handed = self._handed, 0
        if first is None:
            return []
        out = [first]
        if self.total is None or self.keyset:
            return out
        offset, remaining = first.offset, self.remaining
        total = self.total - self._back  # as many records as the back-step expects to be gone
        while True:
            served = min(out[-1].limit, self.stride)  # what the last request will bring, if full
            offset += served
            remaining = None if remaining is None else remaining - served
            if len(out) >= count or offset >= total or (remaining is not None and remaining <= 0):
                return out
            out.append(PageRequest(offset, self._limit(remaining)))

    def receive(self, request: PageRequest, items: list[Any], meta: dict | None) -> Page | None:
        """Take the answer to ``request``; returns the page to yield, or None if the page must
        be discarded and asked again (a speculative offset that turned out wrong, or records
        that moved in front of the cursor since the last page)."""
        if self.done:
            return None
        meta = meta or {}
        total = _int(meta.get("total"))
        if self.keyset:
            return self._receive_keyset(request, items, meta, total)
        shrink = max(0, self.total - total) if total is not None and self.total is not None else 0
        if self._consumed:  # the loop body ran between the last read and this one
            self._ratio, self._consumed = min(1.0, shrink / self._consumed), 0
        bound = max(self.start, self.offset - shrink)
        if request.offset > bound:
            self.offset = bound  # unseen records may now sit between bound and request.offset
            self.total = total if total is not None else self.total
            return None
        self.requests += 1
        if total is not None:
            self.total = total
        received = len(items)
        self.offset = request.offset + received
        out = self._take(items, dedupe=True)
        if received == 0 or (self.total is not None and self.offset >= self.total) or self.remaining == 0:
            self.done = True
        return self._page(request, out, meta, request.offset)

    def _receive_keyset(self, request: PageRequest, items: list[Any], meta: dict,
                        total: int | None) -> Page | None:
        if request.after != self.after:
            return None
        self.requests += 1
        received = len(items)
        position = self.offset  # records before this page, as far as we know
        if total is not None:
            self.total = total if request.after is None else position + total
        self.offset += received
        self.after = item_id(items[-1]) if items else None
        if items and self.after is None:
            raise ValueError("keyset paging needs the id of every record; this page's last one has none")
        out = self._take(items, dedupe=False)
        if (received == 0 or self.after is None or self.remaining == 0
                or (self.total is not None and self.offset >= self.total)):
            self.done = True
        return self._page(request, out, meta, position)

    def _take(self, items: list[Any], *, dedupe: bool) -> list[Any]:
        """The records of ``items`` to hand out: within the cap and, with ``dedupe``, none whose
        id was handed out before (the ids handed out are remembered)."""
        cap = self.remaining
        out = items if cap is None or len(items) <= cap else items[:cap]
        if dedupe and out:
            keys = page_keys(out)
            # The usual page (no id seen before, none twice, none missing) is checked and
            # remembered in C; any other goes record by record, as the cap allows.
            if None in keys or not self._seen.isdisjoint(keys) or not self._remember(keys):
                out = self._take_each(items)
        if cap is not None:
            self.remaining = cap - len(out)
        self._handed += len(out)
        return out

    def _remember(self, keys: list[Any]) -> bool:
        """Remember ``keys`` (none of them seen yet) if they are distinct; else remember nothing
        and return False."""
        seen = self._seen
        before = len(seen)
        seen.update(keys)
        if len(seen) - before == len(keys):
            return True
        seen.difference_update(keys)  # none was there before: back as it was
        return False

    def _take_each(self, items: list[Any]) -> list[Any]:
        out: list[Any] = []
        seen, cap = self._seen, self.remaining
        for item in items:
            if cap is not None and len(out) >= cap:
                break
            key = seen_key(item)
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            out.append(item)
        return out

    def _page(self, request: PageRequest, out: list[Any], meta: dict, position: int) -> Page:
        limit = _int(meta.get("limit"))
        offset = _int(meta.get("offset"))
        if limit is not None and 0 < limit < request.limit:
            self.stride = min(self.stride, limit)  # the Hub clamps harder than we asked
        return Page(items=out, total=self.total,
                    limit=request.limit if limit is None else limit,
                    offset=position if request.after is not None or offset is None else offset,
                    meta=meta)


class Walk:
    """One iteration as batches of requests: the sans-IO loop both QuerySet shells run.

    ``batch()`` gives the query pairs of up to ``width`` requests to send (concurrently, if the
    shell can); ``pages(results)`` takes their answers in the same order and yields the pages to
    hand out, in order. An exception in ``results`` is raised where its page would have been, so
    the pages before it are still yielded. A speculative page whose offset no longer matches
    ends the batch early; the next ``batch()`` asks again from the right offset.
    """

    def __init__(self, pager: Pager, pairs: Callable[[PageRequest], Params], width: int = 1) -> None:
        self.pager = pager
        self.width = check_concurrency(width)
        self._pairs = pairs
        self._sent: list[PageRequest] = []

    def batch(self) -> tuple[Params, ...] | None:
        """The query pairs of the requests to send next, or None when the iteration is over."""
        self._sent = self.pager.next_requests(self.width)
        return tuple(self._pairs(req) for req in self._sent) or None

    def pages(self, results: Sequence[Result]) -> Iterator[Page]:
        """The pages of the last batch's answers (``(items, meta)`` or an exception each)."""
        if len(results) != len(self._sent):
            raise ValueError(f"expected {len(self._sent)} results, got {len(results)}")
        for request, result in zip(self._sent, results, strict=True):
            if isinstance(result, BaseException):
                raise result
            items, meta = result
            page = self.pager.receive(request, items, meta)
            if page is None:
                return
            yield page
