"""Waiters: poll the Hub until its asynchronous work is done.

The Hub answers ``buildStart`` at once with ``buildStatus: "starting"``; its worker, message
broker and the nodes move the record on later (hub-spec README). Two helpers wait for that:

- ``wait_for(record, timeout=600, **expected)``: re-reads one record (an analysis, an analysis
  node, a master image, ...) until every ``field=value`` holds, e.g.
  ``core.wait_for(analysis, build_status="executed")``;
- ``wait_for_records(resource, count=1, timeout=600, **filter)``: lists a resource until at
  least ``count`` records match, e.g. the three buckets of a new analysis
  (``core.wait_for_records("analysis-buckets", count=3, analysis_id=analysis.id)``), the master
  images after a sync, the analysis-bucket-file of an upload.

Each is one sans-IO plan (:mod:`._plan`): it yields the GETs and :class:`~._plan.Sleep` pauses,
which the sync shell sleeps with ``time.sleep`` and the async shell with ``anyio.sleep``. The
pauses grow by half each time (``interval`` up to ``max_interval``) and never overshoot the
deadline. A wait raises :class:`~flame_hub.errors.WaitTimeout` (the message says the last state
seen) when time is up, and :class:`~flame_hub.errors.WaitFailed` as soon as a field reaches a
terminal failure state that is not the one awaited (the Hub's ``ProcessStatus`` ``failed`` and
``stopped``: nothing moves the record on without a new command; an approval ``rejected``).
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable
from typing import Any

from .._http import DEFAULT
from ..errors import WaitFailed, WaitTimeout
from ..models import model_for
from ..resources import REGISTRY, Resource, get_resource
from ._helpers import Helper, find_plan, get_plan, keyword_param, positional_param, check_id
from ._plan import Plan, Sleep

__all__ = ["wait_helpers", "FAILURE_STATES"]

#: values that end a wait early when they are not the awaited ones
FAILURE_STATES: dict[str, frozenset[str]] = {
    **{f: frozenset({"failed", "stopped"}) for f in (
        "build_status", "distribution_status", "execution_status", "run_status")},
    "approval_status": frozenset({"rejected"}),
}
#: the first pause, its growth, its cap (seconds)
INTERVAL, GROWTH, MAX_INTERVAL = 1.0, 1.5, 30.0


def _wire(value: Any) -> Any:
    """An enum member as its value (``ProcessStatus.EXECUTED`` -> ``"executed"``)."""
    return getattr(value, "value", value)


def _wanted(expected: dict[str, Any]) -> dict[str, frozenset[Any]]:
    """``field=value`` or ``field=(value, ...)`` (any of) -> sets of wire values."""
    out = {}
    for attr, value in expected.items():
        values = value if isinstance(value, (tuple, list, set, frozenset)) else (value,)
        if not values:
            raise ValueError(f"{attr}=: give at least one value to wait for")
        out[attr] = frozenset(_wire(v) for v in values)
    return out


def _shown(wanted: dict[str, frozenset[Any]]) -> str:
    return ", ".join(f"{a}={sorted(v, key=str)[0]!r}" if len(v) == 1 else f"{a} in {sorted(v, key=str)!r}"
                     for a, v in wanted.items())


def _state(record: Any, attrs: Any) -> str:
    """The awaited fields of a record, with their ``*_progress`` sibling where it has one."""
    parts = []
    for attr in attrs:
        parts.append(f"{attr}={_wire(getattr(record, attr, None))!r}")
        progress = attr.replace("_status", "_progress")
        if progress != attr and hasattr(record, progress):
            parts.append(f"{progress}={getattr(record, progress)!r}")
    return ", ".join(parts)


def _check_timing(timeout: float, interval: float, max_interval: float) -> None:
    for name, value in (("timeout", timeout), ("interval", interval), ("max_interval", max_interval)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
                or not math.isfinite(value):
            raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")


def _poll(read: Callable[[], Plan], done: Callable[[Any], bool], failure: Callable[[Any], str | None],
          describe: Callable[[Any], str], *, what: str, expected: Any, timeout: float, interval: float,
          max_interval: float, clock: Callable[[], float]) -> Plan:
    """The waiting loop: read, stop when ``done``, fail on ``failure``, else pause (backoff)."""
    _check_timing(timeout, interval, max_interval)
    deadline = clock() + timeout
    pause = interval
    while True:
        last = yield from read()
        if done(last):
            return last
        problem = failure(last)
        if problem:
            raise WaitFailed(f"{what}: {problem}; waited for {expected}", last=last, expected=expected)
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(f"{what}: still {describe(last)} after {timeout:g} s; waited for {expected}",
                              last=last, expected=expected)
        yield Sleep(min(pause, remaining))
        pause = min(pause * GROWTH, max_interval)


def _resource_of(client: Any, record: Any) -> Resource:
    """The resource whose model ``record`` is an instance of (on the client's service)."""
    for res in REGISTRY.values():
        if res.service == client.service and type(record) is model_for(res):
            return res
    raise TypeError(f"wait_for needs a record read from the Hub by this {client.service} client "
                    f"(an Analysis, AnalysisNode, MasterImage, ...), not {type(record).__name__}")


def wait_for(client: Any, record: Any, *, timeout: float = 600.0, interval: float = INTERVAL,
             max_interval: float = MAX_INTERVAL, auth: Any = DEFAULT, _clock: Callable[[], float] = time.monotonic,
             **expected: Any) -> Plan:
    """Re-read ``record`` until every ``field=value`` holds, and return the record as read then.

    ``core.wait_for(analysis, build_status="executed", timeout=600)``; a value may be a tuple
    (any of them). Polls after ``interval`` seconds, then half as long again each time, at most
    ``max_interval``. Raises :class:`~flame_hub.errors.WaitTimeout` when ``timeout`` seconds
    pass (the message says the last state seen), :class:`~flame_hub.errors.WaitFailed` as soon
    as an awaited field is in a failure state (``failed``, ``stopped``, ``rejected``) that was
    not asked for, or the record is gone. Unknown fields raise ``ValueError`` before sending.
    """
    res = _resource_of(client, record)
    if not expected:
        raise ValueError("wait_for: name at least one field=value to wait for (e.g. build_status='executed')")
    model = model_for(res)
    unknown = sorted(set(expected) - set(model.model_fields))
    if unknown:
        raise ValueError(f"{model.__name__} has no field(s) {', '.join(unknown)}; "
                         f"known: {', '.join(model.model_fields)}")
    ident = check_id(record, f"{res.singular}_id")
    wanted = _wanted(expected)

    def done(current: Any) -> bool:
        return current is not None and all(_wire(getattr(current, a)) in v for a, v in wanted.items())

    def failure(current: Any) -> str | None:
        if current is None:
            return "it no longer exists"
        for attr, values in wanted.items():
            value = _wire(getattr(current, attr))
            if value in FAILURE_STATES.get(attr, ()) and value not in values:
                return f"{attr} is {value!r}, which it does not leave by itself"
        return None

    return _poll(lambda: get_plan(client, res, "get", {"id": ident}, {"auth": auth}), done, failure,
                 lambda current: _state(current, wanted), what=f"{res.singular.replace('_', ' ')} {ident}",
                 expected=_shown(wanted), timeout=timeout, interval=interval, max_interval=max_interval,
                 clock=_clock)


def wait_for_records(client: Any, resource: str, *, count: int = 1, timeout: float = 600.0,
                     interval: float = INTERVAL, max_interval: float = MAX_INTERVAL, auth: Any = DEFAULT,
                     _clock: Callable[[], float] = time.monotonic, **filter: Any) -> Plan:
    """List ``resource`` (a name such as ``"analysis-buckets"``) with ``filter`` until at least
    ``count`` records match; return them (at most 50, the Hub's page).

    For work that creates records: ``core.wait_for_records("analysis-buckets", count=3,
    analysis_id=analysis.id)`` after creating an analysis, ``core.wait_for_records(
    "master-images", virtual_path="python/base")`` after a sync, ``core.wait_for_records(
    "analysis-bucket-files", analysis_id=analysis.id, path="main.py")`` after an upload.
    Filter keys are checked like ``find_*``'s. Raises :class:`~flame_hub.errors.WaitTimeout`
    (saying how many were found) when ``timeout`` seconds pass.
    """
    res = get_resource(resource)
    if res.service != client.service:
        raise ValueError(f"{res.name} belongs to the {res.service} service, not to this {client.service} client")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 50:
        raise ValueError(f"count must be an int in 1..50 (one page), not {count!r}")
    query = {"filter": filter, "page": {"limit": 50, "offset": 0}, "auth": auth}
    probe = find_plan(client, res, dict(query))
    next(probe)  # compiles the query: unknown filter keys raise here, before anything is sent
    probe.close()
    shown = ", ".join(f"{k}={v!r}" for k, v in filter.items()) or "no filter"
    return _poll(lambda: find_plan(client, res, dict(query)), lambda items: len(items) >= count,
                 lambda items: None, lambda items: f"{len(items)} found",
                 what=res.name, expected=f"{count} record(s) matching {shown}", timeout=timeout,
                 interval=interval, max_interval=max_interval, clock=_clock)


def _helper(fn: Callable[..., Any], signature: list[Any], returns: str) -> Helper:
    return Helper(fn.__name__, inspect.Signature(signature, return_annotation=returns), fn,
                  inspect.getdoc(fn) or "")


def wait_helpers(service: str) -> list[Helper]:
    """``wait_for`` and ``wait_for_records`` for the core and storage clients (authup does no
    asynchronous work)."""

    if service == "auth":
        return []

    timing = [keyword_param("timeout", 600.0, "float"), keyword_param("interval", INTERVAL, "float"),
              keyword_param("max_interval", MAX_INTERVAL, "float"), keyword_param("auth", DEFAULT, "AuthArg")]
    var_kw = inspect.Parameter("expected", inspect.Parameter.VAR_KEYWORD, annotation="Any")
    return [
        _helper(wait_for, [positional_param("record", annotation="HubModel"), *timing, var_kw], "Any"),
        _helper(wait_for_records, [positional_param("resource", annotation="str"),
                                   keyword_param("count", 1, "int"), *timing,
                                   var_kw.replace(name="filter")], "list[Any]"),
    ]
