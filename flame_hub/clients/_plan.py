"""Sans-IO operation plans and the two shells that execute them.

Every helper (``get_node``, ``create_analysis``, ``upload_to_bucket``, ...) is written once, as a
generator that *yields* the HTTP calls it needs (:class:`Call`) and receives the answers. The
sync shell (:func:`run_sync`) sends each call with a :class:`~flame_hub._http.HubSession`; the
async shell (:func:`run_async`) awaits an :class:`~flame_hub._http.AsyncHubSession`. Nothing
else differs between ``CoreClient`` and ``AsyncCoreClient``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Collection, Generator
from dataclasses import dataclass
from typing import Any

import anyio

from .._drive import adrive, drive
from .._http import DEFAULT, SUCCESS
from .._responses import suggest_base_url
from ..errors import NotFound, redact_url

__all__ = ["Call", "Sleep", "Plan", "perform", "aperform", "run_sync", "run_async"]


@dataclass(slots=True)  # not frozen: one is made per request, and frozen costs ~3x to build
class Call:
    """One HTTP call a plan needs. ``none_on_404``: answer ``None`` instead of raising
    :class:`~flame_hub.errors.NotFound` (``get_<x>`` returns ``None`` on any 404)."""

    method: str
    path: str
    params: list[tuple[str, str]] | None = None
    json: Any = None
    files: Any = None
    data: Any = None
    auth: Any = DEFAULT
    expected: Collection[int] = SUCCESS
    none_on_404: bool = False
    #: the service on which this route always exists (a list or create route): a 404 that says
    #: "no such route" (no error ``code``, unlike a missing record's) means the client's base URL
    #: does not point at that service, and the error says so
    service: str | None = None

    def send(self, session: Any) -> Any:
        """Hand the call to a session: the answer of a sync session, an awaitable of an async one."""
        return session.request(self.method, self.path, params=self.params or None, json=self.json,
                               files=self.files, data=self.data, auth=self.auth, expected=self.expected)

    def not_found(self, error: NotFound) -> None:
        """Called when the call raised ``error``: returns ``None`` for a ``none_on_404`` call
        (what the plan receives); otherwise the error propagates."""
        if not self._answered_by_api(error):
            raise error
        if self.service is not None and error.url and error.code is None:  # resources.json route_missing_404_body
            base = error.url.split("?")[0].removesuffix(self.path.strip("/"))
            raise error.with_hint(
                f"no {self.service} service answers at {redact_url(base)} (it would have this route): the "
                f"client's base_url must be the {self.service} service's base URL, e.g. "
                f"{suggest_base_url(error.url, self.service)} behind the Hub's gateway") from None
        if not self.none_on_404:
            raise error

    def _answered_by_api(self, error: NotFound) -> bool:
        """Whether the 404 answers this call's own URL — not, say, the token endpoint reached
        on the way (a wrong auth URL must raise, not read as "no such record")."""
        try:
            path = error.response.request.url.path if error.response is not None else None
        except RuntimeError:  # a response without a request
            path = None
        return path is None or path.rstrip("/").endswith("/" + self.path.strip("/"))


@dataclass(slots=True)  # not frozen: one is made per request, and frozen costs ~3x to build
class Sleep:
    """A pause a plan needs (a waiter between two polls); the plan receives ``None``."""

    seconds: float


#: A plan: yields :class:`Call` (receives ``httpx.Response`` or ``None``) or :class:`Sleep`
#: (receives ``None``), returns the result.
Plan = Generator["Call | Sleep", Any, Any]


def perform(session: Any, step: Call | Sleep) -> Any:
    """Carry out one step with a sync session: its answer (``None`` for a :class:`Sleep`, and for
    a ``none_on_404`` call answered 404). A one-call operation (a QuerySet's page fetch) calls
    this directly, without a plan around it."""
    if isinstance(step, Sleep):
        return time.sleep(step.seconds)
    try:
        return step.send(session)
    except NotFound as error:
        return step.not_found(error)


async def aperform(session: Any, step: Call | Sleep) -> Any:
    """:func:`perform` with an async session (awaited I/O)."""
    if isinstance(step, Sleep):
        return await anyio.sleep(step.seconds)
    try:
        return await step.send(session)
    except NotFound as error:
        return step.not_found(error)


def run_sync(plan: Plan, session: Any) -> Any:
    """Execute a plan with a sync session. An error propagates to the caller; the plan is
    closed either way (so its ``finally`` blocks, e.g. closing upload files, always run)."""
    return drive(plan, functools.partial(perform, session))


async def run_async(plan: Plan, session: Any) -> Any:
    """Execute a plan with an async session (same plan, awaited I/O)."""
    return await adrive(plan, functools.partial(aperform, session))
