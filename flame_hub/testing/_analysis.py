"""The analysis state machine of the fake Hub: command rules, and the work they queue.

``POST /analyses/{id}/command`` checks its preconditions in the Hub's order and refuses with the
Hub's messages; what the command starts (a build, a distribution, bucket creation) is queued as a
:class:`~._progress.Job` that the hub's progression moves on (see :mod:`._progress`).

Hub 0.14 (``core-kit`` ``AnalysisConfiguratorCommandChecker``/``AnalysisBuilderCommandChecker``/
``AnalysisDistributorCommandChecker``; recordings additions/230-262): refusals are 400
``ANALYSIS_ERROR``; lock and the starts recalculate the analysis's flags first. Hub 0.8.5
(``server-core`` ``domains/analysis/commands``): refusals are 400 ``BAD_REQUEST``; locking an
already locked analysis, or unlocking while the Hub skips approval, changes nothing.

Both recorded deployments skip analysis approval (``SKIP_ANALYSIS_APPROVAL``: every analysis node
is approved when it is attached, 240); ``FakeHub(skip_analysis_approval=False)`` makes the nodes
approve through the progression instead.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NoReturn

from .._naming import to_snake
from . import _seed
from ._progress import Job, build_stages, min_process_status, status_job
from ._parts import BehaviourParts
from ._wire import FakeError

if TYPE_CHECKING:  # pragma: no cover
    from ._core import Ctx

ANALYSIS_BUCKET_TYPES = ("CODE", "RESULT", "TEMP")
ENTRYPOINT_BUCKET = "CODE"
#: build statuses that let a build start again (``canStart``), and an unlock (``canUnlock``)
_RESTARTABLE = (None, "failed", "stopped")
_UNLOCKABLE = (None, "failed", "stopped", "stopping")


class AnalysisMachine(BehaviourParts):
    """Mixin of :class:`._behaviour.Behaviour`: analysis commands, recalculation, queued work."""

    # ------------------------------------------------------------------ commands
    def run_analysis_command(self, ctx: Ctx, analysis: dict, command: str) -> None:
        """Apply ``command`` to ``analysis`` or raise the Hub's refusal."""
        legacy = not self.core.fake_era.analysis_provisioning
        handler = getattr(self, f"_{'legacy' if legacy else 'cmd'}_{command}", None)
        if handler is not None:
            handler(ctx, analysis)

    def _g(self, record: dict, attr: str) -> Any:
        return record.get(self.w(attr))

    @staticmethod
    def _refuse(message: str, code: str = "ANALYSIS_ERROR") -> NoReturn:
        raise FakeError(400, code, message)

    # Hub 0.14 -----------------------------------------------------------------------------
    def _cmd_configurationLock(self, ctx: Ctx, a: dict) -> None:
        self.recount()
        g = lambda attr: self._g(a, attr)  # noqa: E731
        if g("configuration_locked"):
            self._refuse("The analysis configuration is locked.")
        if g("build_status"):
            self._refuse("The analysis build process has already been initialized.")
        if not g("configuration_node_default_valid"):
            self._refuse("At least one default node must be selected.")
        if not g("configuration_node_aggregator_valid"):
            self._refuse("An aggregator node node must be selected.")  # sic (241)
        if not g("configuration_entrypoint_valid"):
            self._refuse("An entrypoint must be selected.")
        if not g("configuration_image_valid"):
            self._refuse("A master image must be assigned to the analysis.")
        self.set_attr(a, "configuration_locked", True)

    def _cmd_configurationUnlock(self, ctx: Ctx, a: dict) -> None:
        if not self._g(a, "configuration_locked"):
            self._refuse("The analysis configuration is already unlocked.")
        if self._g(a, "build_status") not in _UNLOCKABLE:
            self._refuse("The analysis configuration can not be unlocked.")
        self.set_attr(a, "configuration_locked", False)
        self.set_attr(a, "build_status", None)
        self._withdraw_approvals(a)

    def _cmd_buildStart(self, ctx: Ctx, a: dict) -> None:
        self.recount()
        if not self._g(a, "configuration_locked"):
            self._refuse("The analysis configuration is not locked.")
        if not self._g(a, "build_nodes_valid"):
            self._refuse("All assigned nodes have to approve the analysis.")
        if self._g(a, "build_status") not in _RESTARTABLE:
            self._refuse("The analysis build can not be started.")
        self.set_attr(a, "build_status", "starting")
        self.set_attr(a, "build_progress", None)
        self._queue_build(a, "executed")

    def _cmd_buildCheck(self, ctx: Ctx, a: dict) -> None:
        if not self._g(a, "configuration_locked"):
            self._refuse("The analysis configuration must be locked before checking the build status.")
        if not self._g(a, "build_status"):
            self._refuse("The analysis build process has not been initialized.")
        # the worker's check finds what the fake's build recorded: nothing changes

    def _cmd_distributionStart(self, ctx: Ctx, a: dict) -> None:
        self.recount()
        if self._g(a, "build_status") != "executed":
            self._refuse("The analysis is not built yet.")
        status = self._g(a, "distribution_status")
        if status and status not in ("failed", "stopped"):
            self._refuse(f"The analysis can not be distributed in state {status}")
        registry_id = self._g(a, "registry_id") or next(
            (r["id"] for r in self.store.iter("registries")), None)
        if registry_id is None:
            self._refuse("No docker registry is defined.", "bad_request")
        for node in self._analysis_nodes(a):
            if not self._g(node, "registry_id"):
                self._refuse(f"The node {node.get('name')} is not assigned to a registry yet.",
                             "bad_request")
        self.set_attr(a, "registry_id", registry_id)
        self.set_attr(a, "distribution_status", "starting")
        self.progression.queue(status_job(
            self, "distribution", "analyses", a,
            [{"distribution_status": "started", "distribution_progress": 0},
             {"distribution_status": "executed", "distribution_progress": 100}],
            {"distribution_status": "failed"}, then=lambda: self._queue_executions(a["id"])))

    def _cmd_distributionCheck(self, ctx: Ctx, a: dict) -> None:
        if not self._g(a, "build_status"):
            self._refuse("The analysis build process has not been initialized.")
        if self._g(a, "build_status") != "executed":
            self._refuse("The analysis build process has not been finished.")
        if not self._g(a, "distribution_status"):
            self._refuse("The analysis distribution process has not been initialized.")

    def _cmd_storageCheck(self, ctx: Ctx, a: dict) -> None:
        if not any(j.kind == "buckets" for j in self.progression.pending(a["id"])):
            self.queue_analysis_buckets(a)

    # Hub 0.8.5 ----------------------------------------------------------------------------
    def _legacy_configurationLock(self, ctx: Ctx, a: dict) -> None:
        refuse = lambda message: self._refuse(message, "BAD_REQUEST")  # noqa: E731
        if not self._g(a, "master_image_id"):
            refuse("A master image must be assigned to the analysis.")
        if self._g(a, "configuration_locked"):
            return
        code = next((b for b in self.store.iter("analysis-buckets")
                     if b.get("type") == ENTRYPOINT_BUCKET and self._g(b, "analysis_id") == a["id"]), None)
        if code is None:
            refuse("The analysis bucket for code files does not exist.")
        if not any(f.get("root") and self._g(f, "bucket_id") == code["id"]
                   for f in self.store.iter("analysis-bucket-files")):
            refuse("At least one code file must be uploaded and at least one entrypoint file is required.")
        links = self._analysis_links(a)
        if any(self._g(link, "approval_status") != "approved" for link in links):
            refuse("At least one node has not approved the analysis.")
        aggregators = sum(1 for n in self._analysis_nodes(a) if n.get("type") == "aggregator")
        if aggregators > 1:
            refuse("Only one aggregator node can be part of the analysis.")
        if aggregators == 0:
            refuse("At least one aggregator node has to be part of the analysis.")
        self.set_attr(a, "configuration_locked", True)

    def _legacy_configurationUnlock(self, ctx: Ctx, a: dict) -> None:
        if not self._g(a, "configuration_locked") or self.skip_analysis_approval:
            return  # the 0.8.5 Hub returns the analysis unchanged when it skips approval
        self._withdraw_approvals(a)
        self.set_attr(a, "configuration_locked", False)

    def _legacy_buildStart(self, ctx: Ctx, a: dict) -> None:
        refuse = lambda message: self._refuse(message, "BAD_REQUEST")  # noqa: E731
        if not self._g(a, "configuration_locked"):
            refuse("The configuration must be locked, to build the analysis.")
        if self._g(a, "run_status"):
            refuse("The analysis can not longer be build.")
        for link, node in zip(self._analysis_links(a), self._analysis_nodes(a), strict=True):
            if self._g(link, "approval_status") != "approved":
                refuse("Not all nodes have approved the analysis yet.")
            if node and not self._g(node, "registry_id"):
                refuse(f"The node {node.get('name')} is not assigned to a registry yet.")
        if not self._g(a, "registry_id"):
            registry = next(iter(self.store.iter("registries")), None)
            if registry is None:
                refuse("No registry is registered.")
            self.set_attr(a, "registry_id", registry["id"])
        self.set_attr(a, "build_status", "starting")
        self._queue_build(a, "finished")

    def _legacy_buildStop(self, ctx: Ctx, a: dict) -> None:
        if self._g(a, "run_status"):
            self._refuse("The train build can not longer be stopped...", "BAD_REQUEST")
        stopping = self._g(a, "build_status") == "stopping"
        self.progression.jobs = [j for j in self.progression.jobs
                                 if not (j.kind == "build" and j.record_id == a["id"])]
        self.set_attr(a, "build_status", "stopped" if stopping else "stopping")

    # ------------------------------------------------------------------ queued work
    def _queue_build(self, a: dict, finished: str) -> None:
        self.progression.queue(status_job(self, "build", "analyses", a, build_stages(a, finished),
                                          {"build_status": "failed"}))

    def _queue_executions(self, analysis_id: str) -> None:
        """Each node pulls the distributed image and runs it."""
        analysis = self.store.get("analyses", analysis_id)
        for link in self._analysis_links(analysis) if analysis else ():
            self.progression.queue(status_job(
                self, "execution", "analysis-nodes", link,
                [{"execution_status": "starting"},
                 {"execution_status": "started", "execution_progress": 0},
                 {"execution_status": "executing", "execution_progress": 50},
                 {"execution_status": "executed", "execution_progress": 100}],
                {"execution_status": "failed"}, analysis_id=analysis_id))

    def queue_approval(self, link: dict) -> None:
        """The node's operators decide on the analysis: approved, or (failed) rejected."""
        self.progression.queue(status_job(
            self, "approval", "analysis-nodes", link, [{"approval_status": "approved"}],
            {"approval_status": "rejected"}, analysis_id=self._g(link, "analysis_id")))

    def _withdraw_approvals(self, a: dict) -> None:
        """Unlocking withdraws the approvals of the non-aggregator nodes (unless the Hub skips
        approval); they are asked again."""
        if self.skip_analysis_approval:
            return
        for link, node in zip(self._analysis_links(a), self._analysis_nodes(a), strict=True):
            if node.get("type") != "aggregator":
                self.set_attr(link, "approval_status", None)
                self.queue_approval(link)
        self.recount()

    def queue_analysis_buckets(self, a: dict) -> None:
        """storage creates the missing CODE/RESULT/TEMP buckets; core links them (broker)."""
        analysis_id, realm_id, actor = a["id"], self._g(a, "realm_id"), None

        def create() -> None:
            if self.store.get("analyses", analysis_id) is None:
                return
            present = {b.get("type") for b in self.store.iter("analysis-buckets")
                       if self._g(b, "analysis_id") == analysis_id}
            for kind in ANALYSIS_BUCKET_TYPES:
                if kind in present:
                    continue
                bucket = self.insert("buckets", self.vals(
                    name=f"{kind.lower()}-{analysis_id}", realm_id=realm_id), actor)
                self.insert("analysis-buckets", self.vals(
                    type=kind, bucket_id=bucket["id"], analysis_id=analysis_id, realm_id=realm_id),
                    actor)

        self.progression.queue(Job("buckets", "analyses", analysis_id, [create], broker=True))

    def queue_upload_records(self, files: list[dict]) -> None:
        """core's ``StorageBucketFileAggregator``: a file created in an analysis's bucket becomes
        an analysis-bucket-file with ``root: false`` (hub-spec README; 0.14)."""
        if not self.core.fake_era.analysis_provisioning or not files:
            return
        links = [b for b in self.store.iter("analysis-buckets")
                 if self._g(b, "bucket_id") == self._g(files[0], "bucket_id")]
        if not links:
            return
        link = links[0]
        records = [dict(f) for f in files]

        def create() -> None:
            if self.store.get("analysis-buckets", link["id"]) is None:
                return
            for f in records:
                actor = f.get(self.w("actor_type"))
                self.insert("analysis-bucket-files", self.vals(
                    path=f.get("path"), root=False, analysis_bucket_id=link["id"],
                    analysis_id=self._g(link, "analysis_id"), realm_id=self._g(f, "realm_id"),
                    bucket_file_id=f["id"], bucket_id=self._g(f, "bucket_id"),
                    user_id=self._g(f, "actor_id") if actor == "user" else None,
                    robot_id=self._g(f, "actor_id") if actor == "robot" else None))

        self.progression.queue(Job("bucket file", "analysis-bucket-files", None, [create],
                                   analysis_id=self._g(link, "analysis_id"), broker=True))

    def queue_master_image_build(self, image: dict) -> None:
        self.set_attr(image, "build_status", "starting")
        self.progression.queue(status_job(
            self, "master-image build", "master-images", image,
            [{"build_status": "started", "build_progress": 0},
             {"build_status": "executed", "build_progress": 100}], {"build_status": "failed"}))

    def queue_master_image_sync(self) -> None:
        """The worker reads the master-images repository; core creates what is missing."""
        self.progression.queue(Job("master-image sync", "master-images", None,
                                   [self.sync_master_images]))

    def sync_master_images(self) -> None:
        """Create the groups and images of the (fake) master-images repository that are missing."""
        for resource, entries, key in (("master-image-groups", _seed.MASTER_IMAGE_GROUPS, "virtualPath"),
                                       ("master-images", _seed.MASTER_IMAGES, "virtualPath")):
            present = {self._g(r, "virtual_path") for r in self.store.iter(resource)}
            for entry in entries:
                if entry[key] not in present:
                    self.insert(resource, self.vals(**{to_snake(k): v for k, v in entry.items()}))

    # ------------------------------------------------------------------ recalculation
    def _analysis_links(self, a: dict) -> list[dict]:
        return [an for an in self.store.iter("analysis-nodes") if self._g(an, "analysis_id") == a["id"]]

    def _analysis_nodes(self, a: dict) -> list[dict]:
        return [self.store.get("nodes", self._g(an, "node_id")) or {} for an in self._analysis_links(a)]

    def recalc_analysis(self, a: dict, links: list[dict], entrypoint: bool) -> None:
        """The Hub's analysis, node and file recalculators (``analysis*/recalculator.ts``)."""
        nodes = [self.store.get("nodes", self._g(an, "node_id")) or {} for an in links]
        approved = sum(1 for an in links if self._g(an, "approval_status") == "approved")
        default_ok = any(n.get("type") == "default" for n in nodes)
        aggregator_ok = any(n.get("type") == "aggregator" for n in nodes)
        self.set_attr(a, "nodes", len(links))
        self.set_attr(a, "nodes_approved", approved)
        self.set_attr(a, "configuration_node_default_valid", default_ok)
        self.set_attr(a, "configuration_node_aggregator_valid", aggregator_ok)
        self.set_attr(a, "configuration_nodes_valid", default_ok and aggregator_ok)
        self.set_attr(a, "build_nodes_valid",
                  bool(links) and (self.skip_analysis_approval or approved == len(links)))
        self.set_attr(a, "configuration_image_valid", bool(self._g(a, "master_image_id")))
        self.set_attr(a, "configuration_entrypoint_valid", entrypoint)
        if links:
            progress = sum(self._g(an, "execution_progress") or 0 for an in links)
            self.set_attr(a, "execution_progress", math.floor(progress / len(links)))
            self.set_attr(a, "execution_status",
                      min_process_status([self._g(an, "execution_status") for an in links]))
        elif self._g(a, "execution_progress") is None:  # recalculated after the create (236, 240)
            self.set_attr(a, "execution_progress", 0)

    def analyses_with_entrypoint(self) -> set[str]:
        """``findRootCodeFile``: the analyses with a root analysis-bucket-file in their CODE bucket."""
        code = {b["id"]: self._g(b, "analysis_id") for b in self.store.iter("analysis-buckets")
                if b.get("type") == ENTRYPOINT_BUCKET}
        return {code[f.get(self.w("analysis_bucket_id"))] for f in self.store.iter("analysis-bucket-files")
                if f.get("root") and f.get(self.w("analysis_bucket_id")) in code}
