"""The fake Hub's analysis state machine and its progression (worker, broker, nodes), over
plain httpx on the in-process transport.

The refusals and their order are those of recordings ``hub-spec/additions/230-262`` (0.14) and of
the Hub's command checkers; the progression follows the Hub's worker aggregators (see
``flame_hub/testing/_progress.py``).
"""

from __future__ import annotations

import time

import httpx
import pytest

from flame_hub.testing import FakeHub

ADMIN = {"grant_type": "password", "username": "admin", "password": "start123"}


class Api:
    """A logged-in httpx client on a fake hub with the few calls these tests need."""

    def __init__(self, hub: FakeHub) -> None:
        self.hub = hub
        c = httpx.Client(transport=hub.transport(), base_url=hub.url)
        token = c.post("auth/token", json=ADMIN).json()["access_token"]
        c.headers["Authorization"] = f"Bearer {token}"
        self.c = c
        self.legacy = hub.version.startswith("0.8")

    def ok(self, method: str, path: str, status: int | None = None, **kw):
        resp = self.c.request(method, path, **kw)
        expected = status or {"GET": 200, "DELETE": 202}.get(method, 201)
        assert resp.status_code == expected, resp.text
        body = resp.json()
        return body["data"] if isinstance(body, dict) and "data" in body and "meta" in body else body

    def create(self, url: str, /, **body):
        return self.ok("POST", url, json=body)

    def command(self, analysis: dict, command: str):
        return self.ok("POST", f"core/analyses/{analysis['id']}/command", 202, json={"command": command})

    def refused(self, analysis: dict, command: str, message: str, code: str | None = None) -> None:
        resp = self.c.post(f"core/analyses/{analysis['id']}/command", json={"command": command})
        assert resp.status_code == 400, resp.text
        body = resp.json()
        assert body["message"] == message
        assert body["code"] == (code or ("BAD_REQUEST" if self.legacy else "ANALYSIS_ERROR"))

    def get(self, path: str, record: dict) -> dict:
        return self.ok("GET", f"{path}/{record['id']}")

    def analysis(self, analysis: dict) -> dict:
        return self.get("core/analyses", analysis)

    def node(self, kind: str) -> dict:
        return self.create("core/nodes", name=f"node-{kind}-{time.monotonic_ns()}", type=kind)

    def attach(self, project: dict, analysis: dict, node: dict) -> dict:
        key = (lambda k: k) if not self.legacy else _snake
        self.create("core/project-nodes", **{key("projectId"): project["id"], key("nodeId"): node["id"]})
        return self.create("core/analysis-nodes", **{key("analysisId"): analysis["id"], key("nodeId"): node["id"]})

    def code_bucket(self, analysis: dict) -> dict:
        return next(b for b in self.ok("GET", "core/analysis-buckets", params={"filter[analysisId]": analysis["id"]})
                    if b["type"] == "CODE")

    def upload(self, bucket_id: str, name: str = "main.py") -> dict:
        files = {"file": (name, b"print('hello')\n", "text/x-python")}
        return self.ok("POST", f"storage/buckets/{bucket_id}/upload", files=files)[0]

    def analysis_files(self, analysis: dict) -> list[dict]:
        return self.ok("GET", "core/analysis-bucket-files", params={"filter[analysisId]": analysis["id"]})


def _snake(key: str) -> str:
    return {"projectId": "project_id", "nodeId": "node_id", "analysisId": "analysis_id"}[key]


def _ready_analysis(api: Api, *, registry: bool = True) -> tuple[dict, dict]:
    """A project with a master image, a default and an aggregator node attached, and an
    entrypoint: everything configurationLock needs. Returns (project, analysis)."""
    if registry:
        api.create("core/registries", name=f"reg-{time.monotonic_ns()}", host=f"h{time.monotonic_ns()}.example.org",
                   accountName="robot", accountSecret="secret")
    image = api.ok("GET", "core/master-images")[0]
    project = api.create("core/projects", name=f"proj-{time.monotonic_ns()}", masterImageId=image["id"])
    analysis = api.create("core/analyses", projectId=project["id"])
    for kind in ("default", "aggregator"):
        api.attach(project, analysis, api.node(kind))
    bucket = api.code_bucket(analysis)
    file = api.upload(bucket["bucketId"])
    api.create("core/analysis-bucket-files", analysisBucketId=bucket["id"], bucketId=bucket["bucketId"],
               bucketFileId=file["id"], path="main.py", root=True)
    return project, analysis


@pytest.fixture
def hub() -> FakeHub:
    return FakeHub()


@pytest.fixture
def api(hub) -> Api:
    return Api(hub)


# ----------------------------------------------------------------------------- refusals (0.14)
def test_a_fresh_analysis_refuses_every_command_but_storage_check(api):
    project = api.create("core/projects", name="proj-fresh")
    analysis = api.create("core/analyses", projectId=project["id"])
    api.refused(analysis, "buildStart", "The analysis configuration is not locked.")  # 230
    api.refused(analysis, "buildCheck",
                "The analysis configuration must be locked before checking the build status.")  # 231
    api.refused(analysis, "configurationLock", "At least one default node must be selected.")  # 232
    api.refused(analysis, "configurationUnlock", "The analysis configuration is already unlocked.")  # 233
    api.refused(analysis, "distributionStart", "The analysis is not built yet.")  # 234
    api.refused(analysis, "distributionCheck", "The analysis build process has not been initialized.")  # 235
    assert api.command(analysis, "storageCheck")["id"] == analysis["id"]  # 236


def test_lock_checks_nodes_entrypoint_and_image_in_the_hubs_order(api):
    image = api.ok("GET", "core/master-images")[0]
    project = api.create("core/projects", name="proj-order", masterImageId=image["id"])
    analysis = api.create("core/analyses", projectId=project["id"])
    assert analysis["masterImageId"] == image["id"]  # taken from the project (229)
    api.attach(project, analysis, api.node("default"))
    api.refused(analysis, "configurationLock", "An aggregator node node must be selected.")  # 241 (sic)
    api.attach(project, analysis, api.node("aggregator"))
    api.refused(analysis, "configurationLock", "An entrypoint must be selected.")  # 243
    bucket = api.code_bucket(analysis)
    file = api.upload(bucket["bucketId"])  # creates a root: false file, which is no entrypoint
    api.refused(analysis, "configurationLock", "An entrypoint must be selected.")
    api.create("core/analysis-bucket-files", analysisBucketId=bucket["id"], bucketId=bucket["bucketId"],
               bucketFileId=file["id"], path="main.py", root=True)  # 248
    assert api.analysis(analysis)["configurationEntrypointValid"] is True
    api.ok("POST", f"core/analyses/{analysis['id']}", 202, json={"masterImageId": None})  # 249
    api.refused(analysis, "configurationLock", "A master image must be assigned to the analysis.")  # 250
    api.ok("POST", f"core/analyses/{analysis['id']}", 202, json={"masterImageId": image["id"]})  # 251
    locked = api.command(analysis, "configurationLock")  # 252
    assert locked["configurationLocked"] is True and locked["configurationImageValid"] is True
    assert locked["configurationNodesValid"] is True and locked["buildNodesValid"] is True


def test_a_locked_analysis_builds_once(api):
    project, analysis = _ready_analysis(api)
    api.command(analysis, "configurationLock")
    api.refused(analysis, "configurationLock", "The analysis configuration is locked.")  # 253
    api.refused(analysis, "buildCheck", "The analysis build process has not been initialized.")  # 254
    api.refused(analysis, "distributionStart", "The analysis is not built yet.")  # 255
    started = api.command(analysis, "buildStart")  # 256
    assert started["buildStatus"] == "starting" and started["buildProgress"] is None
    api.refused(analysis, "buildStart", "The analysis build can not be started.")  # 257
    assert api.command(analysis, "buildCheck")["buildStatus"] == "starting"  # 258
    api.refused(analysis, "distributionStart", "The analysis is not built yet.")  # 259
    api.refused(analysis, "distributionCheck", "The analysis build process has not been finished.")  # 260
    api.refused(analysis, "configurationUnlock", "The analysis configuration can not be unlocked.")  # 261
    fetched = api.analysis(analysis)  # 262: nothing moves without the worker
    assert fetched["buildStatus"] == "starting" and fetched["configurationLocked"] is True


def test_no_node_can_join_a_locked_analysis(api):
    project, analysis = _ready_analysis(api)
    api.command(analysis, "configurationLock")
    node = api.node("default")
    api.create("core/project-nodes", projectId=project["id"], nodeId=node["id"])
    resp = api.c.post("core/analysis-nodes", json={"analysisId": analysis["id"], "nodeId": node["id"]})
    assert resp.status_code == 400
    assert resp.json()["message"] == "The analysis has already been locked and can therefore no longer be modified."


# ----------------------------------------------------------------------------- progression
def test_the_build_moves_one_step_per_progress(hub, api):
    _, analysis = _ready_analysis(api)
    api.command(analysis, "configurationLock")
    api.command(analysis, "buildStart")
    assert hub.pending(analysis["id"]) == [f"build of analyses {analysis['id']} (0/3 steps)"]
    seen = []
    while hub.pending(analysis):
        assert hub.progress(analysis["id"])
        a = api.analysis(analysis)
        seen.append((a["buildStatus"], a["buildProgress"]))
    assert seen == [("started", 0), ("started", 50), ("executed", 100)]
    built = api.analysis(analysis)
    assert len(built["buildHash"]) == 64 and built["buildOs"] == "linux" and built["buildSize"] > 0
    assert hub.progress() == []  # nothing left
    api.refused(analysis, "distributionCheck", "The analysis distribution process has not been initialized.")


def test_distribution_then_every_node_runs_the_analysis(hub, api):
    _, analysis = _ready_analysis(api)
    api.command(analysis, "configurationLock")
    api.command(analysis, "buildStart")
    hub.progress(analysis, complete=True)
    started = api.command(analysis, "distributionStart")
    assert started["distributionStatus"] == "starting" and started["registryId"]
    api.refused(analysis, "distributionStart", "The analysis can not be distributed in state starting")
    hub.progress(analysis)
    assert api.analysis(analysis)["distributionStatus"] == "started"
    hub.progress(analysis)
    a = api.analysis(analysis)
    assert (a["distributionStatus"], a["distributionProgress"], a["executionStatus"]) == ("executed", 100, None)
    assert len(hub.pending(analysis)) == 2  # the two nodes start running
    hub.progress(analysis)
    assert api.analysis(analysis)["executionStatus"] == "starting"
    links = api.ok("GET", "core/analysis-nodes", params={"filter[analysisId]": analysis["id"]})
    hub.progress(links[0], complete=True)  # one node finishes: the analysis follows the slower one
    a = api.analysis(analysis)
    assert a["executionStatus"] == "starting" and a["executionProgress"] == 50
    hub.progress(analysis, complete=True)
    a = api.analysis(analysis)
    assert (a["executionStatus"], a["executionProgress"]) == ("executed", 100)
    assert {n["executionStatus"] for n in api.ok("GET", "core/analysis-nodes",
                                                  params={"filter[analysisId]": analysis["id"]})} == {"executed"}
    assert api.command(analysis, "distributionCheck")["distributionStatus"] == "executed"


def test_distribution_needs_a_registry_and_nodes_in_it(hub, api):
    _, analysis = _ready_analysis(api, registry=False)
    api.command(analysis, "configurationLock")
    api.command(analysis, "buildStart")
    hub.progress(analysis, complete=True)
    resp = api.c.post(f"core/analyses/{analysis['id']}/command", json={"command": "distributionStart"})
    assert (resp.status_code, resp.json()["code"], resp.json()["message"]) == (
        400, "bad_request", "No docker registry is defined.")
    api.create("core/registries", name="late-registry", host="late.example.org", accountName="robot",
               accountSecret="secret")
    resp = api.c.post(f"core/analyses/{analysis['id']}/command", json={"command": "distributionStart"})
    assert resp.status_code == 400 and "is not assigned to a registry yet." in resp.json()["message"]
    assert api.analysis(analysis)["distributionStatus"] is None


def test_failures_end_the_work_and_allow_a_restart(hub, api):
    _, analysis = _ready_analysis(api)
    api.command(analysis, "configurationLock")
    api.command(analysis, "buildStart")
    hub.progress(analysis)
    assert hub.fail(analysis, "build") == [f"build of analyses {analysis['id']}: failed"]
    assert api.analysis(analysis)["buildStatus"] == "failed" and hub.pending(analysis) == []
    with pytest.raises(ValueError, match="nothing of kind 'build' is pending"):
        hub.fail(analysis, "build")
    assert api.command(analysis, "buildStart")["buildStatus"] == "starting"  # failed may restart
    hub.progress(analysis, complete=True)
    assert api.analysis(analysis)["buildStatus"] == "executed"
    # a failed node run makes the analysis's run failed
    _, second = _ready_analysis(api, registry=False)  # the nodes join the one registry
    api.command(second, "configurationLock")
    api.command(second, "buildStart")
    hub.progress(second, complete=True)
    api.command(second, "distributionStart")
    hub.progress(second)
    hub.progress(second)  # distributed: the nodes start
    link = api.ok("GET", "core/analysis-nodes", params={"filter[analysisId]": second["id"]})[0]
    hub.fail(link, "execution")
    assert api.get("core/analysis-nodes", link)["executionStatus"] == "failed"
    assert api.analysis(second)["executionStatus"] == "failed"


def test_unlock_after_a_failed_build_resets_it(hub, api):
    _, analysis = _ready_analysis(api)
    api.command(analysis, "configurationLock")
    api.command(analysis, "buildStart")
    hub.fail(analysis)
    unlocked = api.command(analysis, "configurationUnlock")
    assert unlocked["configurationLocked"] is False and unlocked["buildStatus"] is None


def test_nodes_approve_when_the_hub_does_not_skip_approval():
    hub = FakeHub(skip_analysis_approval=False)
    api = Api(hub)
    _, analysis = _ready_analysis(api)
    links = {api.get("core/nodes", {"id": n["nodeId"]})["type"]: n
             for n in api.ok("GET", "core/analysis-nodes", params={"filter[analysisId]": analysis["id"]})}
    assert links["aggregator"]["approvalStatus"] == "approved" and links["default"]["approvalStatus"] is None
    assert api.analysis(analysis)["buildNodesValid"] is False
    api.command(analysis, "configurationLock")  # approval is the build's precondition, not the lock's
    api.refused(analysis, "buildStart", "All assigned nodes have to approve the analysis.")
    assert hub.pending(analysis) == [f"approval of analysis-nodes {links['default']['id']} (0/1 steps)"]
    hub.progress(links["default"])
    assert api.get("core/analysis-nodes", links["default"])["approvalStatus"] == "approved"
    assert api.analysis(analysis)["nodesApproved"] == 2
    api.command(analysis, "configurationUnlock")  # withdraws the default node's approval
    assert api.get("core/analysis-nodes", links["default"])["approvalStatus"] is None
    assert api.get("core/analysis-nodes", links["aggregator"])["approvalStatus"] == "approved"
    hub.fail(links["default"], "approval")
    assert api.get("core/analysis-nodes", links["default"])["approvalStatus"] == "rejected"


def test_automatic_progression_moves_on_by_itself():
    hub = FakeHub(progression=60)
    assert hub.progression == 60
    api = Api(hub)
    project = api.create("core/projects", name="proj-auto")
    analysis = api.create("core/analyses", projectId=project["id"])
    # the broker delivers storage's buckets after a moment, not before the answer
    assert api.ok("GET", "core/analysis-buckets", params={"filter[analysisId]": analysis["id"]}) == []
    hub.auto_progress(0.01)
    deadline = time.monotonic() + 5
    while len(api.ok("GET", "core/analysis-buckets", params={"filter[analysisId]": analysis["id"]})) < 3:
        assert time.monotonic() < deadline, "the buckets never came"
        time.sleep(0.01)
    hub.auto_progress(None)
    assert hub.progression is None
    with pytest.raises(ValueError, match="positive number"):
        hub.auto_progress(0)


def test_automatic_progression_finishes_a_build():
    hub = FakeHub()
    api = Api(hub)
    _, analysis = _ready_analysis(api)
    hub.auto_progress(0.01)
    api.command(analysis, "configurationLock")
    api.command(analysis, "buildStart")
    deadline = time.monotonic() + 5
    while api.analysis(analysis)["buildStatus"] != "executed":
        assert time.monotonic() < deadline, "the build never finished"
        time.sleep(0.01)
    hub.auto_progress(None)


def test_master_image_build_and_sync(hub, api):
    image = api.ok("GET", "core/master-images")[0]
    answer = api.ok("POST", "core/master-images/command", 202, json={"command": "build", "id": image["id"]})
    assert answer["id"] == image["id"] and answer["buildStatus"] == "starting"
    hub.progress(image)
    assert api.get("core/master-images", image)["buildStatus"] == "started"
    hub.progress(image)
    assert (api.get("core/master-images", image)["buildStatus"],
            api.get("core/master-images", image)["buildProgress"]) == ("executed", 100)
    resp = api.c.post("core/master-images/command", json={"command": "build"})
    assert resp.status_code == 400 and resp.json()["message"] == "A valid master image id is required."
    total = len(api.ok("GET", "core/master-images"))
    api.ok("DELETE", f"core/master-images/{image['id']}")
    assert api.ok("POST", "core/master-images/command", 202, json={"command": "sync"}) is None
    assert len(api.ok("GET", "core/master-images")) == total - 1  # the worker has not synced yet
    assert hub.pending() == ["master-image sync of master-images (0/1 steps)"]
    hub.progress()
    images = api.ok("GET", "core/master-images")
    assert len(images) == total and image["virtualPath"] in {i["virtualPath"] for i in images}


# ----------------------------------------------------------------------------- uploads (broker)
def test_an_upload_into_an_analysis_bucket_creates_an_analysis_bucket_file(api):
    project = api.create("core/projects", name="proj-upload")
    analysis = api.create("core/analyses", projectId=project["id"])
    bucket = api.code_bucket(analysis)
    file = api.upload(bucket["bucketId"], "src/main.py")
    [record] = api.analysis_files(analysis)
    assert record["root"] is False and record["path"] == "src/main.py"
    assert (record["analysisBucketId"], record["analysisId"], record["bucketFileId"], record["bucketId"]) == (
        bucket["id"], analysis["id"], file["id"], bucket["bucketId"])
    assert record["userId"] == file["actorId"] and record["robotId"] is None
    assert record["realmId"] == file["realmId"]
    plain = api.create("storage/buckets", name="plain-bucket")
    api.upload(plain["id"])
    assert len(api.ok("GET", "core/analysis-bucket-files")) == 1  # only analysis buckets count


def test_the_broker_waits_for_automatic_progression():
    hub = FakeHub()
    api = Api(hub)
    project = api.create("core/projects", name="proj-broker")
    analysis = api.create("core/analyses", projectId=project["id"])
    hub.auto_progress(60)  # a tick far away: deliveries wait for it
    api.upload(api.code_bucket(analysis)["bucketId"])
    assert api.analysis_files(analysis) == []
    assert hub.pending(analysis) == [f"bucket file of analysis-bucket-files (0/1 steps)"]
    hub.progress(analysis)
    assert len(api.analysis_files(analysis)) == 1
    hub.auto_progress(None)


# ----------------------------------------------------------------------------- bookkeeping
def test_deleting_or_resetting_drops_pending_work(hub, api):
    _, analysis = _ready_analysis(api)
    api.command(analysis, "configurationLock")
    api.command(analysis, "buildStart")
    api.ok("DELETE", f"core/analyses/{analysis['id']}")
    assert hub.pending() == []
    _, analysis = _ready_analysis(api)
    api.command(analysis, "configurationLock")
    api.command(analysis, "buildStart")
    hub.reset()
    assert hub.pending() == []


def test_hooks_refuse_what_is_not_a_record(hub):
    with pytest.raises(ValueError, match="record"):
        hub.progress(42)
    with pytest.raises(ValueError, match="needs the record"):
        hub.fail(None)


# ----------------------------------------------------------------------------- Hub 0.8.5
def test_legacy_commands_follow_the_0_8_5_rules():
    hub = FakeHub(version="0.8.5")
    api = Api(hub)
    project = api.create("core/projects", name="proj-legacy")
    analysis = api.create("core/analyses", project_id=project["id"])
    api.refused(analysis, "configurationLock", "A master image must be assigned to the analysis.")
    image = api.ok("GET", "core/master-images")[0]
    api.ok("POST", f"core/analyses/{analysis['id']}", 202, json={"master_image_id": image["id"]})
    api.refused(analysis, "configurationLock", "The analysis bucket for code files does not exist.")
    api.refused(analysis, "buildStart", "The configuration must be locked, to build the analysis.")
    # unlocking an unlocked analysis answers it unchanged; spinUp/tearDown/buildStatus only publish
    for command in ("configurationUnlock", "spinUp", "tearDown", "buildStatus"):
        assert api.command(analysis, command)["configuration_locked"] is False


def test_the_served_fake_can_progress_by_itself():
    from flame_hub.testing.__main__ import build_parser

    parser = build_parser()
    assert parser.parse_args(["serve"]).progression is None
    assert parser.parse_args(["serve", "--progression", "0.5"]).progression == 0.5
    for bad in ("0", "-1", "soon"):
        with pytest.raises(SystemExit):
            parser.parse_args(["serve", "--progression", bad])


def test_legacy_build_runs_to_finished_and_stops():
    hub = FakeHub(version="0.8.5")
    api = Api(hub)
    api.create("core/registries", name="legacy-registry", host="legacy.example.org")
    image = api.ok("GET", "core/master-images")[0]
    project = api.create("core/projects", name="proj-legacy-build", master_image_id=image["id"])
    analysis = api.create("core/analyses", project_id=project["id"], master_image_id=image["id"])
    code = api.create("core/analysis-buckets", type="CODE", analysis_id=analysis["id"])
    stored = api.upload(api.create("storage/buckets", name="legacy-code")["id"])
    api.refused(analysis, "configurationLock",
                "At least one code file must be uploaded and at least one entrypoint file is required.")
    entry = api.create("core/analysis-bucket-files", bucket_id=code["id"], name="main.py", external_id=stored["id"])
    api.ok("POST", f"core/analysis-bucket-files/{entry['id']}", 202, json={"root": True})  # 0.8.5: root by update
    api.refused(analysis, "configurationLock", "At least one aggregator node has to be part of the analysis.")
    api.attach(project, analysis, api.node("aggregator"))
    locked = api.command(analysis, "configurationLock")
    assert locked["configuration_locked"] is True
    assert api.command(analysis, "configurationLock")["configuration_locked"] is True  # no refusal on 0.8.5
    assert api.command(analysis, "configurationUnlock")["configuration_locked"] is True  # approval is skipped
    assert api.command(analysis, "buildStart")["build_status"] == "starting"
    hub.progress(analysis, complete=True)
    built = api.analysis(analysis)
    assert built["build_status"] == "finished" and built["registry_id"]
    assert api.command(analysis, "buildStop")["build_status"] == "stopping"
    assert api.command(analysis, "buildStop")["build_status"] == "stopped"
