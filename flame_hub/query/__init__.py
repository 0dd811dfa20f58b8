"""Lazy QuerySets: chainable, immutable queries that compile to the Hub's query parameters and
walk every page by themselves.

    nodes = core.nodes.filter(name__startswith="lab", hidden=False).sort("-created_at")
    for node in nodes: ...                 # 50 per request; safe to delete or update in the loop
    nodes.count(); nodes.first(); nodes[100:150]
    nodes.update(hidden=True); nodes.delete()   # ids first, then one helper call each

The compiler (:mod:`._compile`) and the pagination planner (:mod:`._paging`) are sans-IO and
shared by :class:`QuerySet` and :class:`AsyncQuerySet`; clients supply a :class:`PageBackend` /
:class:`AsyncPageBackend` that sends one list request. Async iteration fetches the pages after
the first one concurrently (``page_concurrency``, default 4; ``qs.concurrency(n)``), in order.
"""

from ..errors import BulkOperationError
from ._compile import CompiledQuery, QueryState, SortKey, allowed_fields, compile_query
from ._find import filter_to_q, queryset_from_find_kwargs
from ._lookups import LOOKUPS, Condition, Q
from ._paging import DEFAULT_PAGE_CONCURRENCY, Page, PageRequest, Pager, Walk, check_concurrency
from ._queryset import AsyncPageBackend, AsyncQuerySet, BaseQuerySet, PageBackend, QuerySet

__all__ = [
    "QuerySet",
    "BulkOperationError",
    "AsyncQuerySet",
    "BaseQuerySet",
    "Q",
    "Condition",
    "LOOKUPS",
    "Page",
    "PageRequest",
    "Pager",
    "Walk",
    "DEFAULT_PAGE_CONCURRENCY",
    "check_concurrency",
    "PageBackend",
    "AsyncPageBackend",
    "QueryState",
    "CompiledQuery",
    "SortKey",
    "compile_query",
    "allowed_fields",
    "filter_to_q",
    "queryset_from_find_kwargs",
]
