"""Lazy, chainable, immutable QuerySets over one Hub resource, sync and async.

``QuerySet`` and ``AsyncQuerySet`` share everything in :class:`BaseQuerySet`: chaining, the
compiler (:mod:`._compile`), the pagination planner (:mod:`._paging`: :class:`Pager`, :class:`Walk`)
and every evaluation (``count``, ``first``, ``get``, ``list``...) written once as a small generator
that *yields* a batch of query pairs it needs fetched and *receives* their answers
(:class:`_Evaluation`), run by the package's one driver (:mod:`flame_hub._drive`). The two
classes only fetch batches: one calls ``backend.fetch_page`` for each request in turn, the other
awaits ``backend.afetch_pages`` for the batch (once the first page gave the total, up to
``page_concurrency`` pages at a time, yielded in order). This layer starts no tasks: running
requests at once is the backend's job (:class:`AsyncPageBackend`), planning them is this one's.

The Hub's dialect is resolved when a query runs, not when it is built: an evaluation first lets
the backend find out which Hub it talks to (``detect_dialect()``, when it has one), then compiles
the request once, for that dialect. Chaining only validates what it adds.
"""

from __future__ import annotations

import builtins
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Iterator, Mapping, Sequence
from itertools import chain
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload, runtime_checkable

from .._drive import adrive, drive
from ..dialects import Dialect
from ..errors import HubConnectionError, MultipleObjectsReturned, NotFound
from ..resources import Resource
from ._compile import CompiledQuery, QueryState, check_part, compile_query, split_path
from ._bulk import Bulk, bulk_method, check_ready, record_id
from ._lookups import Condition, Q, combine
from ._paging import DEFAULT_PAGE_CONCURRENCY, Page, PageRequest, Pager, Params, Walk, check_concurrency
from ._values import AsyncRows, Rows

if TYPE_CHECKING:
    from typing_extensions import Self

T = TypeVar("T")
_Result = tuple[list[Any], dict]


@runtime_checkable
class PageBackend(Protocol):
    """What a sync QuerySet needs from a client: its dialect, and one list request. A backend
    that can find out its Hub's dialect has a ``detect_dialect()`` too: an evaluation calls it
    before compiling."""

    @property
    def dialect(self) -> Dialect: ...

    def fetch_page(self, resource: Resource, params: Params) -> _Result:
        """GET the resource's list path with these query pairs; return (validated models of
        ``data``, the ``meta`` dict). Raises :mod:`flame_hub.errors` on failure."""
        ...


@runtime_checkable
class AsyncPageBackend(Protocol):
    """What an async QuerySet needs from a client: one list request, a batch of them at once,
    and (for ``delete()``/``update()``) running the helper calls of a bulk operation at once.
    The query layer only plans; starting tasks is the backend's (a client's is
    :class:`flame_hub.clients._concurrent.ConcurrentBackend`). A backend with only
    ``afetch_page`` still works: its batches are fetched one page after the other.

    An optional ``page_concurrency`` attribute (an int >= 1; default
    :data:`DEFAULT_PAGE_CONCURRENCY`) sets how many list pages an iteration fetches at once. An
    ``async detect_dialect()``, when there is one, is awaited before an evaluation compiles."""

    @property
    def dialect(self) -> Dialect: ...

    async def afetch_page(self, resource: Resource, params: Params) -> _Result:
        """Awaitable twin of :meth:`PageBackend.fetch_page`."""
        ...

    async def afetch_pages(self, resource: Resource, batch: Sequence[Params]) -> list[Any]:
        """Every request of ``batch`` at once: one ``(items, meta)`` or exception per entry, in
        order. A failure cancels the requests after it and stands in for them; the ones before
        it finish (so the pages a sync iteration would yield before raising are yielded)."""
        ...

    async def arun_each(self, call: Callable[[Any], Awaitable[Any]], items: Sequence[Any], concurrency: int,
                        settle: Callable[[Any, Exception | None], bool]) -> None:
        """Await ``call(item)`` for each item, up to ``concurrency`` at once, in order; report
        each outcome to ``settle(item, error_or_None)`` and start no further call once it
        returns False."""
        ...


@dataclass(frozen=True)
class _Fetch:
    """An evaluation step: "fetch the list with each of these pairs and send me the answers"
    (one ``(items, meta)`` or exception per entry, in order)."""

    batch: tuple[Params, ...]


_Op = Generator[_Fetch, list[Any], Any]


def _ok(result: Any) -> _Result:
    if isinstance(result, BaseException):
        raise result
    return result


class BaseQuerySet(Generic[T]):
    """Chaining and introspection shared by :class:`QuerySet` and :class:`AsyncQuerySet`.
    Nothing here sends a request; evaluations are :class:`_Evaluation` steps."""

    def __init__(self, resource: Resource, backend: Any, *, state: QueryState | None = None) -> None:
        self._resource = resource
        self._backend = backend
        self._state = state or QueryState()
        self._result_cache: list[T] | None = None

    # -- introspection ---------------------------------------------------------------------

    @property
    def resource(self) -> Resource:
        """The registry entry of the listed resource."""
        return self._resource

    @property
    def dialect(self) -> Dialect:
        """The wire dialect of the Hub this QuerySet talks to (as the backend knows it now)."""
        return self._backend.dialect

    @property
    def state(self) -> QueryState:
        """The immutable description of this query."""
        return self._state

    def compiled(self) -> CompiledQuery:
        """The validated request for the backend's current dialect (raises ValueError on
        anything the Hub would silently ignore or refuse, such as a missing required filter)."""
        return compile_query(self.dialect, self._resource, self._state)

    @property
    def method(self) -> str:
        return "GET"

    @property
    def path(self) -> str:
        """The list path relative to the service (``/nodes``)."""
        return self.dialect.spec(self._resource).path

    def params(self, *, page: bool = True) -> Params:
        """The query pairs of the first request (``page=False``: without ``page[...]``)."""
        return _Evaluation(self).params(page=page)

    def record_params(self) -> Params:
        """Only the ``include`` and ``fields`` pairs: what ``GET /x/:id`` understands."""
        return [p for p in self.compiled().base if p[0] in ("include", "fields")]

    @property
    def url(self) -> str:
        """The first request, human-readable (not percent-encoded): ``/nodes?filter[name]=x~&…``."""
        return self.path + "?" + "&".join(f"{k}={v}" for k, v in self.params())

    def __repr__(self) -> str:
        try:
            shown = f"{self.method} {self.url}"
        except ValueError as exc:
            shown = f"{self.method} {self._resource.name} (invalid: {exc})"
        return f"<{type(self).__name__} {shown}>"

    # -- chaining --------------------------------------------------------------------------

    def _chain(self, *, validate: str | None = None, **changes: Any) -> Self:
        """A copy with ``changes`` to the state; ``validate`` names the part they touch, checked
        now (a bad key fails on the line that wrote it; the whole query compiles when it runs)."""
        clone = type(self)(self._resource, self._backend, state=replace(self._state, **changes))
        if validate is not None:
            check_part(clone.dialect, clone._resource, clone._state, validate)
        return clone

    def _not_sliced(self, what: str) -> None:
        if self._state.sliced:
            raise TypeError(f"cannot {what} once a slice or limit() has been taken")

    def all(self) -> Self:
        """A fresh copy (with an empty cache: evaluating it asks the Hub again)."""
        return self._chain()

    def filter(self, *args: Q, **lookups: Any) -> Self:
        """Records matching all lookups (``name__startswith="lab"``, ``realm__name="master"``)
        and ``Q`` objects."""
        self._not_sliced("filter")
        q = Q(*args, **lookups)
        if not q:
            return self._chain()
        where = q if self._state.where is None else self._state.where & q
        return self._chain(validate="where", where=where)

    def exclude(self, *args: Q, **lookups: Any) -> Self:
        """Records NOT matching all of the lookups (``exclude(a=1, b=2)`` is NOT (a AND b))."""
        self._not_sliced("exclude")
        q = Q(*args, **lookups)
        if not q:
            return self._chain()
        where = ~q if self._state.where is None else self._state.where & ~q
        return self._chain(validate="where", where=where)

    def sort(self, *keys: str) -> Self:
        """Order by these keys (``"-created_at"`` descending, ``"name"``); replaces an earlier
        sort. An ``id`` tie-break is added where the resource can sort by id."""
        self._not_sliced("sort")
        return self._chain(validate="sort", sort=tuple(keys) if keys else None)

    order_by = sort

    def fields(self, *names: str) -> Self:
        """``fields("name")`` selects only these (plus ``id``); ``fields("+email", "-description")``
        adds hidden fields to / removes fields from the default set."""
        if not names:
            raise ValueError("fields() needs at least one name")
        plain = [n for n in names if not n.startswith(("+", "-"))]
        add = [n[1:] for n in names if n.startswith("+")]
        remove = [n[1:] for n in names if n.startswith("-")]
        st = self._state
        if plain:
            return self._chain(validate="fields", fields_only=tuple(plain), fields_add=tuple(add),
                               fields_remove=tuple(remove))
        return self._chain(validate="fields", fields_add=st.fields_add + tuple(add),
                           fields_remove=st.fields_remove + tuple(remove))

    def include(self, *relations: str) -> Self:
        """Embed related records: ``include("realm")``, nested ``include("analysis.project")``."""
        paths = tuple(split_path(r) for r in relations)
        return self._chain(validate="include", include=tuple(dict.fromkeys(self._state.include + paths)))

    def page(self, limit: int | None = None, offset: int | None = None) -> Self:
        """Records per request (``limit``, at most the Hub's 50) and the first record (``offset``).
        Iteration still walks every following page; use slicing or :meth:`limit` for a cap."""
        self._not_sliced("page")
        changes: dict[str, Any] = {}
        if limit is not None:
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
                raise ValueError(f"page limit must be a positive int, not {limit!r}")
            max_limit = self.dialect.spec(self._resource).max_limit
            if limit > max_limit:
                warnings.warn(f"page limit {limit} is above the Hub's maximum of {max_limit}; "
                              f"using {max_limit}", stacklevel=2)
                limit = max_limit
            changes["page_size"] = limit
        if offset is not None:
            if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
                raise ValueError(f"page offset must be an int >= 0, not {offset!r}")
            changes["offset"] = offset
        return self._chain(**changes)

    def limit(self, n: int) -> Self:
        """Yield at most ``n`` records in total (distinct from the page size)."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"limit() takes an int >= 0, not {n!r}")
        cap = n if self._state.cap is None else min(n, self._state.cap)
        return self._chain(cap=cap, sliced=True)

    def raw(self, params: Mapping[str, str] | Iterable[tuple[str, str]]) -> Self:
        """Escape hatch: send these query pairs as given (not validated), replacing compiled
        pairs with the same key. Pagination stays the QuerySet's (``page[...]`` is refused)."""
        pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
        out: list[tuple[str, str]] = []
        for pair in pairs:
            if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)):
                raise ValueError(f"raw() takes (key, value) pairs, not {pair!r}")
            key, value = pair
            if key.startswith("page"):
                raise ValueError("raw() cannot set page[...]: use page(), slicing or limit()")
            out.append((key, str(value)))
        return self._chain(raw=self._state.raw + tuple(out))

    def _slice(self, key: slice) -> Self:
        start, stop = key.start or 0, key.stop
        for v in (start, stop):
            if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
                raise TypeError("QuerySet slices take ints")
            if v is not None and v < 0:
                raise ValueError("Negative indexing is not supported.")
        st = self._state
        cap = None if stop is None else max(0, stop - start)
        if st.cap is not None:
            left = max(0, st.cap - start)
            cap = left if cap is None else min(cap, left)
        return self._chain(offset=st.offset + start, cap=cap, sliced=True)

    def _getter(self, args: tuple[Q, ...], lookups: dict[str, Any]) -> Self:
        return self.filter(*args, **lookups) if args or lookups else self

    def _call_name(self, op: Callable[..., Any] | None = None) -> str:
        """How a user spelled an evaluation (``CoreClient.nodes.count()``), for connection
        errors; without ``op``: iterating it."""
        where = f"{type(self._backend).__name__}.{self._resource.attr}"
        if op is None:
            return f"iterating {where}"
        name = op.__name__.removeprefix("op_")
        return f"{where}.{_OP_CALLS.get(name, name + '()')}"

    # -- rows (flame_hub.query._values) ----------------------------------------------------

    _rows: type[Rows] | type[AsyncRows]

    def values(self, *fields: str) -> Any:
        """Rows as dicts ``{field: value}`` instead of models, asking the Hub only for these fields
        (``fields=``; all default fields when none are named). Lazy: iterate it (``async for``
        on an AsyncQuerySet) or call ``.list()``."""
        return self._rows(self, fields, "dict")

    def values_list(self, *fields: str, flat: bool = False) -> Any:
        """Rows as tuples in the order of ``fields``; ``flat=True`` with one field: its values."""
        return self._rows(self, fields, "flat" if flat else "tuple")


#: evaluation steps (``op_<name>``) whose public spelling is not ``<name>()``
_OP_CALLS = {"all": "list()", "page": "fetch_one_page()", "index": "[index]"}
_NIL_ID = "00000000-0000-0000-0000-000000000000"


class _Evaluation:
    """One evaluation of a QuerySet: its request compiled once (for the dialect the backend
    knows when the evaluation starts), and every evaluation written once as a generator that
    yields :class:`_Fetch` batches (``op_count``, ``op_first``, ...)."""

    def __init__(self, qs: BaseQuerySet[Any]) -> None:
        self.qs = qs
        self.state = qs.state
        self.resource = qs.resource
        self.dialect = qs.dialect
        self.cache = qs._result_cache

    @cached_property
    def compiled(self) -> CompiledQuery:
        return compile_query(self.dialect, self.resource, self.state)

    def page_size(self) -> int:
        return self.state.page_size or self.compiled.max_limit

    def first_request(self) -> PageRequest:
        size = self.page_size()
        limit = size if self.state.cap is None else max(1, min(size, self.state.cap))
        return PageRequest(self.state.offset, limit)

    def params(self, *, page: bool = True) -> Params:
        req = self.first_request()
        return self.compiled.pairs(req.offset, req.limit) if page else self.compiled.pairs()

    def pairs(self, req: PageRequest) -> Params:
        if req.after is not None:
            return self.after(req.after).pairs(req.offset, req.limit)
        return self.compiled.pairs(req.offset, req.limit)

    def after(self, ident: Any) -> CompiledQuery:
        """This query narrowed to the records after ``ident`` in its id order (keyset paging)."""
        key = self.compiled.sort[0]
        after = combine((Condition(("id",), "lt" if key.desc else "gt", ident),), Q.AND)
        where = after if self.state.where is None else self.state.where & after
        return compile_query(self.dialect, self.resource, replace(self.state, where=where))

    def keyset(self) -> bool:
        """Whether pages can continue after the last id instead of at an offset: the query is
        sorted by id alone (the default wherever the Hub sorts by id), the Hub filters by id,
        and the query's own filter still compiles with the extra ``id`` condition (two
        conditions on ``id`` need the expression form, which Hub 0.8.5 lacks)."""
        sort = self.compiled.sort
        if self.state.raw or [k.wire for k in sort] != [self.dialect.wire_key("id")]:
            return False
        try:
            self.after(_NIL_ID)
        except ValueError:
            return False
        return True

    def walk(self, width: int = 1) -> Walk:
        """The batches and pages of one iteration, ``width`` requests at a time."""
        pager = Pager(start=self.state.offset, page_size=self.page_size(), cap=self.state.cap,
                      keyset=self.keyset())
        return Walk(pager, self.pairs, width)

    def get(self, params: Params) -> _Op:
        """One request; returns ``(items, meta)``."""
        (result,) = yield _Fetch((params,))
        return _ok(result)

    def one(self, req: PageRequest) -> _Op:
        """One request; returns the Page."""
        pager = Pager(start=req.offset, page_size=req.limit, cap=req.limit)
        items, meta = yield from self.get(self.pairs(req))
        return pager.receive(req, items, meta)

    def op_page(self) -> _Op:
        if self.state.cap == 0:
            return Page(items=[], total=None, limit=0, offset=self.state.offset, meta={})
        return (yield from self.one(self.first_request()))

    def op_count(self) -> _Op:
        if self.cache is not None:
            return len(self.cache)
        if self.state.cap == 0:
            return 0
        page = yield from self.one(PageRequest(self.state.offset, 1))
        if page.total is None:  # no meta.total (very old Hub): count by walking
            return len((yield from self.op_all()))
        n = max(0, page.total - self.state.offset)
        return n if self.state.cap is None else min(n, self.state.cap)

    def op_exists(self) -> _Op:
        if self.cache is not None:
            return bool(self.cache)
        if self.state.cap == 0:
            return False
        page = yield from self.one(PageRequest(self.state.offset, 1))
        return bool(page.items)

    def op_first(self) -> _Op:
        if self.cache is not None:
            return self.cache[0] if self.cache else None
        if self.state.cap == 0:
            return None
        page = yield from self.one(PageRequest(self.state.offset, 1))
        return page.items[0] if page.items else None

    def op_last(self) -> _Op:
        if self.cache is not None:
            return self.cache[-1] if self.cache else None
        st = self.state
        if st.offset == 0 and st.cap is None and self.compiled.sort:
            # one request: the same query in reverse order
            items, _ = yield from self.get(self.compiled.pairs(0, 1, reverse=True))
            return items[0] if items else None
        n = yield from self.op_count()  # sliced, or nothing to reverse: count, then index
        if n == 0:
            return None
        page = yield from self.one(PageRequest(st.offset + n - 1, 1))
        return page.items[0] if page.items else None

    def op_index(self, index: int) -> _Op:
        if self.state.cap is not None and index >= self.state.cap:
            raise IndexError("QuerySet index out of range")
        page = yield from self.one(PageRequest(self.state.offset + index, 1))
        if not page.items:
            raise IndexError("QuerySet index out of range")
        return page.items[0]

    def op_get(self) -> _Op:
        limit = 2 if self.state.cap is None else min(2, self.state.cap)
        if limit == 0:
            raise NotFound(f"no {self.resource.singular} matches {self.qs!r}")
        page = yield from self.one(PageRequest(self.state.offset, limit))
        if not page.items:
            raise NotFound(f"no {self.resource.singular} matches {self.qs!r}")
        if len(page.items) > 1:
            total = f"{page.total}" if page.total is not None else "more than one"
            raise MultipleObjectsReturned(
                f"get() matched {total} {self.resource.name} instead of one: {self.qs!r}")
        return page.items[0]

    def op_all(self, width: int = 1, pick: Any = None) -> _Op:
        """Every record (``pick``: what to keep of each, e.g. its id)."""
        out: list[Any] = []
        walk = self.walk(width)
        while (batch := walk.batch()) is not None:
            results = yield _Fetch(batch)
            for page in walk.pages(results):
                out.extend(page.items if pick is None else map(pick, page.items))
        return out


class QuerySet(BaseQuerySet[T]):
    """A lazy, chainable, immutable query over one Hub resource, evaluated synchronously.

    Nothing is sent until it is evaluated. Iterating streams every page (50 records per
    request, constant memory); ``list()``, ``len()`` and ``bool()`` evaluate once and cache;
    ``count()``, ``exists()``, ``first()``, ``last()`` and ``get()`` send one request each.
    """

    _rows = Rows

    def __init__(self, resource: Resource, backend: PageBackend, *, state: QueryState | None = None) -> None:
        super().__init__(resource, backend, state=state)

    def to_pandas(self, *fields: str) -> Any:
        """Every record as a ``pandas.DataFrame``, one typed column per field (all default fields
        when none are named); needs the ``pandas`` extra."""
        return self.values(*fields).to_frame("pandas")

    def to_polars(self, *fields: str) -> Any:
        """Every record as a ``polars.DataFrame``; needs the ``polars`` extra."""
        return self.values(*fields).to_frame("polars")

    def _fetch(self, step: _Fetch) -> list[Any]:
        return [self._backend.fetch_page(self._resource, params) for params in step.batch]

    def _evaluation(self) -> _Evaluation:
        """Resolve the dialect (the backend detects it if it can), then start an evaluation."""
        detect = getattr(self._backend, "detect_dialect", None)
        if detect is not None:
            detect()
        return _Evaluation(self)

    def _run(self, op: Callable[..., _Op], *args: Any) -> Any:
        with HubConnectionError.during(self._call_name(op)):
            return drive(op(self._evaluation(), *args), self._fetch)

    def pages(self) -> Iterator[Page[T]]:
        """Yield one :class:`Page` per request, fetching lazily (one request at a time)."""
        with HubConnectionError.during(self._call_name()):
            walk = self._evaluation().walk()
            while (batch := walk.batch()) is not None:
                yield from walk.pages(self._fetch(_Fetch(batch)))

    def iterator(self) -> Iterator[T]:
        """Stream every record without touching the cache."""
        # records are handed out by C (chain over each page's list): no Python frame per record
        return chain.from_iterable(page.items for page in self.pages())

    def __iter__(self) -> Iterator[T]:
        return chain.from_iterable(self._item_lists())

    def _item_lists(self) -> Iterator[builtins.list[T]]:
        # the cache is looked at on the first next(), not in __iter__: list(qs) calls iter()
        # before len(), and len() is what fills the cache
        if self._result_cache is not None:
            yield self._result_cache
        else:
            for page in self.pages():
                yield page.items

    def _fetch_all(self) -> builtins.list[T]:
        if self._result_cache is None:
            self._result_cache = self._run(_Evaluation.op_all)
        return self._result_cache

    def list(self) -> builtins.list[T]:
        """Every record (evaluates once, then cached)."""
        return builtins.list(self._fetch_all())

    def __len__(self) -> int:
        return len(self._fetch_all())

    def __bool__(self) -> bool:
        return bool(self._fetch_all())

    @overload
    def __getitem__(self, key: int) -> T: ...

    @overload
    def __getitem__(self, key: slice) -> Self | builtins.list[T]: ...

    def __getitem__(self, key: int | slice) -> Any:
        """``qs[10:60]`` -> a new QuerySet (offset 10, at most 50, no request); ``qs[5]`` -> one
        request for that record; a slice with a step evaluates and returns a list."""
        if isinstance(key, slice):
            if self._result_cache is not None:
                return self._result_cache[key]
            if key.step is not None:
                return builtins.list(self._slice(slice(key.start, key.stop)))[:: key.step]
            return self._slice(key)
        if not isinstance(key, int) or isinstance(key, bool):
            raise TypeError(f"QuerySet indices must be ints or slices, not {type(key).__name__}")
        if key < 0:
            raise ValueError("Negative indexing is not supported.")
        if self._result_cache is not None:
            return self._result_cache[key]
        return self._run(_Evaluation.op_index, key)

    def fetch_one_page(self) -> Page[T]:
        """The first page only (one request): for ``find_*``/``get_*`` style helpers."""
        return self._run(_Evaluation.op_page)

    def count(self) -> int:
        """How many records match (one request with ``page[limit]=1``, reading ``meta.total``)."""
        return self._run(_Evaluation.op_count)

    def exists(self) -> bool:
        """Whether any record matches (one request)."""
        return self._run(_Evaluation.op_exists)

    def first(self) -> T | None:
        """The first record in this order, or None (one request)."""
        return self._run(_Evaluation.op_first)

    def last(self) -> T | None:
        """The last record in this order, or None (one request with the sort reversed)."""
        return self._run(_Evaluation.op_last)

    def get(self, *args: Q, **lookups: Any) -> T:
        """The only record matching; raises NotFound or MultipleObjectsReturned (one request)."""
        qs = self._getter(args, lookups)
        return qs._run(_Evaluation.op_get)

    def delete(self, *, unfiltered: bool = False) -> int:
        """Delete every matching record; returns how many were deleted.

        The matching ids are listed first (one request per 50), then each record is deleted
        with the client's ``delete_<x>()``. Records already gone when their turn comes (404) are
        skipped and not counted. A QuerySet without a filter or slice is refused unless
        ``unfiltered=True``. When a call fails, the operation stops and raises
        :class:`~flame_hub.query.BulkOperationError` naming the ids done and not done.
        """
        return self._bulk("delete", unfiltered, {})

    def update(self, *, unfiltered: bool = False, **changes: Any) -> int:
        """Apply ``changes`` (``update_<x>()`` arguments, e.g. ``hidden=True``) to every
        matching record; returns how many were updated.

        Like :meth:`delete`: the changes are checked first (a malformed value raises before any
        request), then the ids are listed, then each record is updated with ``update_<x>()``
        (a ``POST``, never retried). Same refusal of an unfiltered QuerySet, same error.
        """
        return self._bulk("update", unfiltered, changes)

    def _bulk(self, operation: str, unfiltered: bool, changes: dict[str, Any]) -> int:
        method = bulk_method(self, operation, unfiltered, changes)
        detect = getattr(self._backend, "detect_dialect", None)
        if detect is not None:
            detect()
        check_ready(self, operation, method, changes)
        bulk = Bulk(operation, self._resource, self._run(_Evaluation.op_all, 1, record_id))
        self._result_cache = None
        for ident in bulk.ids:
            if bulk.stopped:
                break
            try:
                method(ident, **changes)
            except Exception as exc:  # noqa: BLE001 - reported with the ids done and not done
                bulk.settle(ident, exc)
            else:
                bulk.settle(ident, None)
        return bulk.outcome()


class AsyncQuerySet(BaseQuerySet[T]):
    """The awaitable twin of :class:`QuerySet`: same chaining; ``async for``,
    ``await qs.list()``, ``await qs.count()``, ``exists()``, ``first()``, ``last()``, ``get()``.

    Iteration and ``list()`` fetch the pages after the first one concurrently, up to
    :attr:`page_concurrency` at a time (:meth:`concurrency`), and yield them in order."""

    _rows = AsyncRows

    def __init__(self, resource: Resource, backend: AsyncPageBackend, *, state: QueryState | None = None) -> None:
        super().__init__(resource, backend, state=state)

    async def to_pandas(self, *fields: str) -> Any:
        """Every record as a ``pandas.DataFrame`` (see :meth:`QuerySet.to_pandas`)."""
        return await self.values(*fields).to_frame("pandas")

    async def to_polars(self, *fields: str) -> Any:
        """Every record as a ``polars.DataFrame`` (see :meth:`QuerySet.to_polars`)."""
        return await self.values(*fields).to_frame("polars")

    def concurrency(self, n: int) -> Self:
        """Fetch up to ``n`` list pages at once while iterating (``1``: one after the other).
        Default: the client's ``page_concurrency`` (4). Pages are still yielded in order, each
        record once; at most ``n`` pages are held in memory."""
        return self._chain(concurrency=check_concurrency(n))

    @property
    def page_concurrency(self) -> int:
        """How many list pages an iteration of this QuerySet fetches at once."""
        if self._state.concurrency is not None:
            return self._state.concurrency
        return check_concurrency(getattr(self._backend, "page_concurrency", DEFAULT_PAGE_CONCURRENCY))

    async def _fetch(self, step: _Fetch) -> list[Any]:
        """The answers to a batch: one page awaited directly, several fetched at once by the
        backend (``afetch_pages``), or one after the other by a backend without it."""
        backend, batch = self._backend, step.batch
        if len(batch) == 1:
            return [await backend.afetch_page(self._resource, batch[0])]
        fetch_pages = getattr(backend, "afetch_pages", None)
        if fetch_pages is not None:
            return await fetch_pages(self._resource, batch)
        results: list[Any] = []
        for params in batch:
            try:
                results.append(await backend.afetch_page(self._resource, params))
            except Exception as exc:  # noqa: BLE001 - stands in for the rest, raised by the walk
                return results + [exc] * (len(batch) - len(results))
        return results

    async def _evaluation(self) -> _Evaluation:
        """Resolve the dialect (the backend detects it if it can), then start an evaluation."""
        detect = getattr(self._backend, "detect_dialect", None)
        if detect is not None:
            await detect()
        return _Evaluation(self)

    async def _run(self, op: Callable[..., _Op], *args: Any) -> Any:
        with HubConnectionError.during(self._call_name(op)):
            return await adrive(op(await self._evaluation(), *args), self._fetch)

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Yield one :class:`Page` per request, in order. The first request gives the total;
        then up to :attr:`page_concurrency` pages are fetched at once."""
        with HubConnectionError.during(self._call_name()):
            walk = (await self._evaluation()).walk(self.page_concurrency)
            while (batch := walk.batch()) is not None:
                for page in walk.pages(await self._fetch(_Fetch(batch))):
                    yield page

    async def iterator(self) -> AsyncIterator[T]:
        """Stream every record without touching the cache."""
        async for page in self.pages():
            for item in page.items:
                yield item

    async def __aiter__(self) -> AsyncIterator[T]:
        if self._result_cache is not None:
            for item in self._result_cache:
                yield item
            return
        # what iterator() yields, one async generator layer less per record (the hot loop)
        async for page in self.pages():
            for item in page.items:
                yield item

    async def list(self) -> builtins.list[T]:
        """Every record (evaluates once, then cached)."""
        if self._result_cache is None:
            self._result_cache = await self._run(_Evaluation.op_all, self.page_concurrency)
        return builtins.list(self._result_cache)

    _INSTEAD = {"len()": "await qs.count() or len(await qs.list())", "bool()": "await qs.exists()",
                "iteration": "async for", "indexing": "await qs[i:i + 1].first()"}

    def _sync_only(self, what: str) -> TypeError:
        return TypeError(f"{what} would block on an AsyncQuerySet; use {self._INSTEAD[what]}")

    def __len__(self) -> int:
        raise self._sync_only("len()")

    def __bool__(self) -> bool:
        raise self._sync_only("bool()")

    def __iter__(self) -> Iterator[T]:
        raise self._sync_only("iteration")

    def __getitem__(self, key: slice) -> Self:
        """``qs[10:60]`` -> a new AsyncQuerySet (no request). Integer indexing would block:
        use ``await qs[i:i + 1].first()``."""
        if not isinstance(key, slice):
            raise self._sync_only("indexing")
        if key.step is not None:
            raise TypeError("AsyncQuerySet slices cannot have a step")
        return self._slice(key)

    async def fetch_one_page(self) -> Page[T]:
        """The first page only (one request)."""
        return await self._run(_Evaluation.op_page)

    async def count(self) -> int:
        """How many records match (one request)."""
        return await self._run(_Evaluation.op_count)

    async def exists(self) -> bool:
        """Whether any record matches (one request)."""
        return await self._run(_Evaluation.op_exists)

    async def first(self) -> T | None:
        """The first record in this order, or None (one request)."""
        return await self._run(_Evaluation.op_first)

    async def last(self) -> T | None:
        """The last record in this order, or None (one request with the sort reversed)."""
        return await self._run(_Evaluation.op_last)

    async def get(self, *args: Q, **lookups: Any) -> T:
        """The only record matching; raises NotFound or MultipleObjectsReturned (one request)."""
        qs = self._getter(args, lookups)
        return await qs._run(_Evaluation.op_get)

    async def delete(self, *, unfiltered: bool = False) -> int:
        """Awaitable twin of :meth:`QuerySet.delete`; up to :attr:`page_concurrency` deletes at
        once (within the client's rate-limit pacing)."""
        return await self._bulk("delete", unfiltered, {})

    async def update(self, *, unfiltered: bool = False, **changes: Any) -> int:
        """Awaitable twin of :meth:`QuerySet.update`; up to :attr:`page_concurrency` updates at
        once (within the client's rate-limit pacing)."""
        return await self._bulk("update", unfiltered, changes)

    async def _bulk(self, operation: str, unfiltered: bool, changes: dict[str, Any]) -> int:
        method = bulk_method(self, operation, unfiltered, changes)
        run_each = getattr(self._backend, "arun_each", None)
        if run_each is None:
            raise TypeError(f"{operation}() of {self._resource.name} runs its calls with arun_each(), which "
                            f"this QuerySet's {type(self._backend).__name__} does not have")
        detect = getattr(self._backend, "detect_dialect", None)
        if detect is not None:
            await detect()
        check_ready(self, operation, method, changes)
        bulk = Bulk(operation, self._resource,
                    await self._run(_Evaluation.op_all, self.page_concurrency, record_id))
        self._result_cache = None
        # the backend starts the calls, up to page_concurrency at once; Bulk keeps the books
        await run_each(lambda ident: method(ident, **changes), bulk.ids, self.page_concurrency, bulk.settle)
        return bulk.outcome()
