"""The one driver of the package's sans-IO generators, sync and async.

Every layer that does I/O is written once as a generator that *yields* a step (a page fetch of a
QuerySet, a call or a pause of a client plan, a send, drain or sleep of the HTTP flow, a token
request of an auth flow) and *receives* its answer. :func:`drive` carries the steps out with a
plain function, :func:`adrive` with an async one; nothing else differs between the sync and the
async side of a layer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

S = TypeVar("S")
R = TypeVar("R")

__all__ = ["drive", "adrive"]


def drive(gen: Generator[S, Any, R], carry_out: Callable[[S], Any]) -> R:
    """Run ``gen`` to its end, answering each step with ``carry_out(step)``; returns what it
    returns. An exception of ``carry_out`` propagates (the generator does not see it); the
    generator is closed either way, so its ``finally`` blocks run (files closed, a request that
    was in flight accounted for)."""
    try:
        step = next(gen)
        while True:
            step = gen.send(carry_out(step))
    except StopIteration as done:
        return done.value
    finally:
        gen.close()


async def adrive(gen: Generator[S, Any, R], carry_out: Callable[[S], Awaitable[Any]]) -> R:
    """:func:`drive` with an awaited ``carry_out`` (a cancellation closes the generator too)."""
    try:
        step = next(gen)
        while True:
            step = gen.send(await carry_out(step))
    except StopIteration as done:
        return done.value
    finally:
        gen.close()
