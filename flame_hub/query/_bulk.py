"""``qs.delete()`` and ``qs.update(**changes)``: resolve the matching ids, then act on each one.

Resolving first makes a bulk operation immune to what acting does to the query (a deleted or
updated record no longer shifts the pages of the listing). Acting goes through the client's own
helpers (``delete_<x>``/``update_<x>``): the same validation, the same request path, the same
retry rules (a ``DELETE`` is retried like any idempotent request; a ``POST`` never is). This
module holds the bookkeeping both QuerySet shells share: the sync one runs the helper calls one
after the other, the async one hands them to its backend (``arun_each``), which runs up to
``page_concurrency`` at a time and reports each outcome to :meth:`Bulk.settle`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import BulkOperationError, NotFound
from ..resources import Resource
from ._paging import item_id

@dataclass
class Bulk:
    """One bulk operation's ids and what became of each (sans-IO)."""

    operation: str
    resource: Resource
    ids: list[Any]
    done: list[Any] = field(default_factory=list)
    gone: list[Any] = field(default_factory=list)
    failed: dict[Any, BaseException] = field(default_factory=dict)

    @property
    def stopped(self) -> bool:
        """A call failed: start no further ones."""
        return bool(self.failed)

    def settle(self, ident: Any, error: BaseException | None) -> bool:
        """Record the outcome of the call for ``ident`` (``error`` None: it succeeded); returns
        whether to go on (False once a call failed). A 404 means the record is gone already; it
        is not counted and does not stop the operation."""
        if error is None:
            self.done.append(ident)
        elif isinstance(error, NotFound):
            self.gone.append(ident)
        else:
            self.failed[ident] = error
        return not self.stopped

    def outcome(self) -> int:
        """How many records were deleted/updated; raises :class:`BulkOperationError` if a call
        failed."""
        if not self.failed:
            return len(self.done)
        settled = {*self.done, *self.gone, *self.failed}
        error = BulkOperationError(
            self.operation, self.resource.name, done=list(self.done), failed=dict(self.failed),
            not_attempted=[i for i in self.ids if i not in settled], gone=list(self.gone), ids=self.ids)
        raise error from next(iter(self.failed.values()))


def bulk_method(qs: Any, operation: str, unfiltered: bool, changes: dict[str, Any]) -> Any:
    """The client helper a bulk ``operation`` calls per id, after the checks that need no
    request: the resource supports it, ``changes`` are given (update), and the query is
    filtered or sliced unless ``unfiltered=True``."""
    res, state = qs.resource, qs.state
    if not isinstance(unfiltered, bool):
        raise TypeError(f"unfiltered must be True or False, not {unfiltered!r}")
    if operation == "update" and not changes:
        raise ValueError(f"update() of {res.name} needs at least one change, e.g. update(name='x')")
    filtered = state.where is not None or state.sliced or any(k.startswith("filter") for k, _ in state.raw)
    if not filtered and not unfiltered:
        raise ValueError(
            f"refusing to {operation} every {res.singular.replace('_', ' ')}: this QuerySet has no "
            f"filter. Filter it, or say so: {operation}({'..., ' if changes else ''}unfiltered=True)")
    method = getattr(qs._backend, f"{operation}_{res.singular}", None)
    if method is None:
        raise TypeError(f"{operation}() of {res.name} calls {operation}_{res.singular}(), which this "
                        f"QuerySet's {type(qs._backend).__name__} does not have")
    return method


def record_id(item: Any) -> str:
    """The id of a listed record as a string (what the bulk error lists)."""
    ident = item_id(item)
    if ident is None:
        raise ValueError(f"a listed record has no id: {item!r}")
    return str(ident)


NIL_ID = "00000000-0000-0000-0000-000000000000"


def check_ready(qs: Any, operation: str, method: Any, changes: dict[str, Any]) -> None:
    """The checks that need the Hub's dialect (call them once it is known): the era offers the
    operation, and the changes make a valid request. For the latter the request of
    ``update_<x>(NIL_ID, **changes)`` is built and dropped (nothing is sent): a bad argument
    raises the helper's own error before the ids are listed and before anything changes."""
    if not qs.dialect.spec(qs.resource).supports(operation):
        raise ValueError(f"the Hub {qs.dialect.name} era offers no {operation} of {qs.resource.name}")
    helper = getattr(method, "__flame_hub_helper__", None)
    if helper is None or not changes:
        return
    plan = helper.plan(method.__self__, NIL_ID, **changes)
    try:
        next(plan)
    except StopIteration:  # pragma: no cover - an update plan always yields its call
        pass
    finally:
        plan.close()
