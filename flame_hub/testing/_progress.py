"""The asynchronous half of a full Hub deployment, driven deterministically.

A real Hub answers a command at once; the work happens afterwards, elsewhere:

- the core **worker** builds an analysis image (``buildStart``: ``buildStatus`` starting ->
  started -> executed, or failed; Hub 0.8.5: ... -> finished), distributes it
  (``distributionStart``: ``distributionStatus`` starting -> started -> executed), builds a
  master image (``buildStatus`` starting -> started -> executed) and synchronises the master
  images from their GitHub repository;
- the **message broker** delivers storage's events to core: a new analysis's CODE/RESULT/TEMP
  buckets (storage bucket and analysis bucket), and an analysis-bucket-file (``root: false``)
  for each file uploaded into an analysis's bucket;
- the **nodes** approve an analysis (where the Hub does not skip approval) and run it once it
  is distributed (analysis-node ``executionStatus`` starting -> started -> executing ->
  executed; the analysis's ``executionStatus`` follows its least advanced node, ``failed`` as
  soon as one failed).

The fake queues each of these as a :class:`Job`, a list of steps. Nothing moves by itself unless
asked: :meth:`Progression.step` applies one step of every pending job (or all of them),
:meth:`Progression.fail` ends a job the bad way, and :meth:`Progression.start` applies a step
every ``delay`` seconds in a background thread. Broker deliveries take milliseconds on a real
deployment, so without automatic progression they happen before the answer that caused them.

State changes follow the Hub's worker aggregators (``server-core`` ``aggregators/worker``) and
the node recalculation (``getMinProcessStatus``); every step runs under the hub's lock.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ._behaviour import Behaviour
    from ._parts import BehaviourParts

#: ``ProcessStatusRank`` of ``@privateaim/kit``: the least advanced status of an analysis's
#: nodes is the analysis's, ``failed`` wins over everything
PROCESS_RANK = {"failed": -1, "starting": 0, "started": 1, "stopping": 2, "stopped": 3,
                "executing": 4, "executed": 5}


def min_process_status(statuses: list[Any]) -> str | None:
    """``getMinProcessStatus``: ``failed`` if any failed, else the lowest-ranked status set."""
    present = [s for s in statuses if s in PROCESS_RANK]
    if "failed" in present:
        return "failed"
    return min(present, key=PROCESS_RANK.__getitem__, default=None)


Step = Callable[[], None]


@dataclass
class Job:
    """One piece of pending asynchronous work on one record."""

    #: "build", "distribution", "execution", "approval", "master-image build",
    #: "master-image sync", "buckets", "bucket file"
    kind: str
    resource: str
    record_id: str | None
    steps: list[Step]
    #: what :meth:`Progression.fail` applies (None: the job just ends)
    failure: Step | None = None
    #: the analysis the job belongs to (jobs of its nodes and buckets count as its own)
    analysis_id: str | None = None
    #: a message-broker delivery (immediate unless progression is automatic)
    broker: bool = False
    total: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.total = len(self.steps)

    def matches(self, ident: str | None, kind: str | None = None) -> bool:
        if kind is not None and self.kind != kind:
            return False
        return ident is None or ident in (self.record_id, self.analysis_id)

    def describe(self) -> str:
        done = self.total - len(self.steps)
        target = f"{self.resource} {self.record_id}" if self.record_id else self.resource
        return f"{self.kind} of {target} ({done}/{self.total} steps)"


class Progression:
    """The pending jobs of one fake Hub, and the optional automatic stepping."""

    #: bound on rounds of :meth:`step` with ``complete=True`` (jobs spawn follow-ups)
    MAX_ROUNDS = 100

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.jobs: list[Job] = []
        self.delay: float | None = None
        self._stop: threading.Event | None = None

    @property
    def lock(self) -> Any:
        return self.behaviour.core.lock

    # ------------------------------------------------------------------ jobs
    def queue(self, job: Job) -> Job:
        """Add a job; a broker delivery runs at once unless progression is automatic."""
        self.jobs.append(job)
        if job.broker and self.delay is None:
            self._run(job, complete=True)
        return job

    def clear(self) -> None:
        self.jobs.clear()

    def forget(self, record_id: str) -> None:
        """Drop the jobs of a deleted record."""
        self.jobs = [j for j in self.jobs if not j.matches(record_id)]

    def pending(self, ident: str | None = None) -> list[Job]:
        return [j for j in self.jobs if j.matches(ident)]

    def step(self, ident: str | None = None, *, complete: bool = False) -> list[str]:
        """One step of every pending job (of the record or analysis ``ident``), or every step
        until none is left (``complete``; follow-up jobs included). Returns what moved."""
        moved: list[str] = []
        for _ in range(self.MAX_ROUNDS if complete else 1):
            chosen = self.pending(ident)
            if not chosen:
                break
            for job in chosen:
                self._run(job, complete=complete)
                moved.append(job.describe())
        return moved

    def fail(self, ident: str, kind: str | None = None) -> list[str]:
        """End the pending jobs of ``ident`` (only ``kind`` if given) with their failure."""
        chosen = [j for j in self.jobs if j.matches(ident, kind)]
        for job in chosen:
            self.jobs.remove(job)
            if job.failure is not None:
                job.failure()
        return [f"{job.kind} of {job.resource} {job.record_id}: failed" for job in chosen]

    def _run(self, job: Job, *, complete: bool) -> None:
        while job.steps:
            job.steps.pop(0)()
            if not complete:
                break
        if not job.steps and job in self.jobs:
            self.jobs.remove(job)

    # ------------------------------------------------------------------ automatic mode
    def start(self, delay: float | None) -> None:
        """Step every ``delay`` seconds in a daemon thread (None: stop). The thread holds the
        hub weakly and ends with it."""
        with self.lock:
            if self._stop is not None:
                self._stop.set()
                self._stop = None
            self.delay = delay
            if delay is None:
                return
            stop = self._stop = threading.Event()
        ref = weakref.ref(self)
        threading.Thread(target=_tick, args=(ref, stop, delay), daemon=True,
                         name="flame-hub-fake-progression").start()


def _tick(ref: Callable[[], Progression | None], stop: threading.Event, delay: float) -> None:
    while not stop.wait(delay):
        progression = ref()
        if progression is None:
            return
        with progression.lock:
            if not stop.is_set():
                progression.step()
        del progression


# --- the jobs of each kind (built by the behaviour, which owns the records) --------------------

def status_job(behaviour: BehaviourParts, kind: str, resource: str, record: dict,
               stages: list[dict[str, Any]], failure: dict[str, Any],
               analysis_id: str | None = None, then: Step | None = None) -> Job:
    """A job that moves snake_case fields of ``record`` through ``stages`` (one per step), or
    to ``failure``; ``then`` runs after the last stage (follow-up jobs)."""
    record_id = record["id"]

    def apply(changes: dict[str, Any], after: Step | None = None) -> Step:
        def run() -> None:
            current = behaviour.store.get(resource, record_id)
            if current is None:  # deleted meanwhile
                return
            for attr, value in changes.items():
                behaviour.set_attr(current, attr, value)
            behaviour.recount()
            if after is not None:
                after()
        return run

    steps = [apply(s, then if i == len(stages) - 1 else None) for i, s in enumerate(stages)]
    return Job(kind, resource, record_id, steps, failure=apply(failure),
               analysis_id=analysis_id if analysis_id is not None else record_id)


def build_stages(record: dict, finished: str) -> list[dict[str, Any]]:
    """The worker's build events: started (progress 0), progress, finished (hash, os, size)."""
    digest = hashlib.sha256(record["id"].encode()).hexdigest()
    return [{"build_status": "started", "build_progress": 0}, {"build_progress": 50},
            {"build_status": finished, "build_progress": 100, "build_hash": digest,
             "build_os": "linux", "build_size": 1024 * 1024}]
