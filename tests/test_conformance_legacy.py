"""Conformance, old Hub: every recording of ``shared/hub-spec-legacy/0.8.5/examples`` (Hub 0.8.5 +
authup 1.0.0-beta.24) replayed on a fresh ``FakeHub(version="0.8.5")``.

Same machinery and rigour as :mod:`test_conformance` (status, content type, rate-limit class and
its absence, envelope, list ``meta`` keys, ``limit``/``offset``/``total`` exactly, item counts,
keys and value types recursively, error ``code``). The world each recording needs is built
through the fake's public HTTP API in snake_case.

Documented exceptions (kept in the suite, checked against the documented behaviour instead):

- 048: a non-JWT bearer on core answered 200 "as the admin user" on the recorded run. The
  legacy README calls this a server bug of the introspection ("Do not model it"); the fake
  answers what a freshly started service answers: 400 ``undefined`` "One or many attributes may
  be invalid.".
- 125: the recorded Hub had no master images (offline, as on 0.14, 073). The fake ships a few,
  so the list is not empty: its items are checked against the catalog's record keys instead.
"""

from __future__ import annotations

from typing import Any

import pytest

from flame_hub.resources import LEGACY_ERA
from _shared import LEGACY_ADDITIONS, LEGACY_EXAMPLES
from test_conformance import Recordings, World, session

UPLOAD = b"hello from hub-legacy\n"

# ---------------------------------------------------------------------------------------------
# What each recording needs on a fresh Hub, by number (see LegacyWorld.build).
REALM = ["legacy_example_realm"]
ROBOT = ["legacy-robot"]
NODE_A = ["legacy-node-a"]
NODES = ["legacy-node-x2", "abc~literal", "legacy-node-camel", "legacy-node-x3", "legacy-node-b",
         "legacy-node-x1", "Legacy-Node-Upper", "legacy-node-a"]  # the eight nodes of 062
PROJECT = [*NODE_A, "legacy-project"]
PROJECTS = [*PROJECT, "legacy-project-p1", "legacy-project-p2"]
UPDATED = [*PROJECT, "updated:legacy-node-a", "updated:legacy-project"]  # 094 and 109 came first
PROJECT_NODE = [*UPDATED, "project-node"]
ANALYSIS = [*PROJECT_NODE, "legacy-analysis"]
BUCKET = ["legacy-bucket"]
FILE = [*BUCKET, "hello.txt"]
SETUP: dict[str, list[str]] = {
    "027": REALM, "031": REALM, "032": [*REALM, "updated:legacy_example_realm"],
    "033": [*REALM, "deleted:legacy_example_realm"],
    **{n: ROBOT for n in ("038", "039", "040", "041", "042", "043")},
    "055": NODE_A, "057": NODE_A, "058": NODE_A, "059": NODE_A,
    **{f"{n:03d}": NODES for n in range(62, 94)},
    "094": NODE_A, "095": NODE_A, "097": NODE_A,
    **{f"{n:03d}": PROJECTS for n in range(100, 107)},
    "107": PROJECT, "108": PROJECT, "109": PROJECT, "110": UPDATED, "111": PROJECT_NODE,
    "112": PROJECT_NODE, "113": PROJECT_NODE, "115": ANALYSIS, "116": ANALYSIS, "117": ANALYSIS,
    "118": ANALYSIS, "119": [*ANALYSIS, "analysis-node"], "120": ANALYSIS, "121": ANALYSIS,
    "122": ANALYSIS, "123": [*ANALYSIS, "updated:legacy-analysis"], "124": UPDATED,
    "128": [*NODE_A, "updated:legacy-node-a"],
    "130": [*NODE_A, "deleted:legacy-node-a"],
    "135": BUCKET, "137": BUCKET, "138": BUCKET, "139": BUCKET, "140": BUCKET,
    "141": FILE, "142": FILE, "143": FILE, "144": FILE,
    "145": [*BUCKET, "legacy-bucket-2"], "146": FILE, "147": BUCKET, "148": [*BUCKET, "legacy-bucket-2"],
    "149": [*BUCKET, "deleted:legacy-bucket"],
}
SETUP.update({  # additions/: recorded one after the other (see test_conformance.session)
    **session(307, 313), **session(318, 322), "336": ["318", "319", "deleted-file:keep.txt"],
    **session(331, 335),
    **{f"{n}": ["rec-analysis-buckets"] for n in (323, 324, 325, 326, 327, 328, 329, 330, 340)},
})
ARTIFACTS = {  # number -> (status, body) the fake answers instead (legacy README "Do not model it")
    "048": (400, {"statusCode": 400, "code": "undefined",
                  "message": "One or many attributes may be invalid."}),
}
RECORDED_EMPTY = {"125"}
#: the recorded Authorization "Bearer <jwt>": a robot's token (041) or a JWT with a bad signature
OTHER_JWT = {"041": "robot", "049": "tampered", "050": "tampered"}
#: refresh_token recordings: a fresh refresh token, a used one, the newest after a replay (009-012)
REFRESH = {"009": "fresh", "010": "used", "012": "after-replay"}


class LegacyWorld(World):
    """The recorded world of the legacy session, built on ``FakeHub(version="0.8.5")``."""

    PATHS = {"legacy-node-a": "core/nodes", "legacy_example_realm": "auth/realms",
             "legacy-bucket": "storage/buckets", "legacy-project": "core/projects",
             "legacy-analysis": "core/analyses"}
    UPDATES = {"legacy-node-a": {"hidden": True, "external_name": "ext-a"},  # 094
               "legacy_example_realm": {"description": "updated", "display_name": "Example 2"}}  # 031
    UPLOAD = UPLOAD
    UPLOADS = {"319": [("keep.txt", "text/plain", b"keep this!\n")]}

    def build(self, key: str) -> None:
        made = self.made
        if key in NODES:
            self._create(key, "core/nodes", self.body(name=key))
        elif key == "legacy_example_realm":
            self._create(key, "auth/realms", self.body(name=key, display_name="Example"))
        elif key == "legacy-robot":
            self._create(key, "auth/robots", self.body(name=key, realm_id=self.ids_of("master")))
            self.robot_secret = made[key]["secret"]
        elif key.startswith("legacy-project"):
            self._create(key, "core/projects", self.body(name=key))
        elif key == "project-node":
            self._create(key, "core/project-nodes", self.body(
                project_id=made["legacy-project"]["id"], node_id=made["legacy-node-a"]["id"]))
        elif key == "legacy-analysis":
            self._create(key, "core/analyses", self.body(project_id=made["legacy-project"]["id"],
                                                         name=key))
        elif key == "analysis-node":
            self._create(key, "core/analysis-nodes", self.body(
                analysis_id=made["legacy-analysis"]["id"], node_id=made["legacy-node-a"]["id"]))
        elif key == "legacy-bucket":
            self._create(key, "storage/buckets", self.body(name=key))
        elif key == "legacy-bucket-2":  # bucket names are not unique (135): the second one
            record = self._create(key, "storage/buckets", self.body(name="legacy-bucket"))
            recorded = next(f for f in LEGACY_RECORDINGS.files if f.startswith("135"))
            second = LEGACY_RECORDINGS.load(recorded)["response"]["body"]["id"]
            self.ids[second] = record["id"]
        elif key == "hello.txt":
            self._upload(key, "legacy-bucket", UPLOAD)
        elif key == "deleted-file:keep.txt":  # 336: the file of 319 was deleted before
            (uploaded,) = self.recorded_body("319")["data"]
            resp = self.client.delete(f"storage/bucket-files/{self.ids[uploaded['id']]}")
            assert resp.status_code == 202, resp.text
        elif key == "rec-analysis-buckets":  # 323-330, 340: two analyses' CODE buckets, one file
            project = self._create("rec-project", "core/projects", self.body(name="rec-project"))
            for link in self.recorded_body("325")["data"]:
                analysis = self._create(link["analysis_id"], "core/analyses",
                                        self.body(project_id=project["id"]))
                self.ids[link["analysis_id"]] = analysis["id"]
                bucket = self._create(link["id"], "core/analysis-buckets", self.body(
                    type=link["type"], analysis_id=analysis["id"]))
                self.ids[link["id"]] = bucket["id"]
            for file in self.recorded_body("330")["data"]:
                made = self._create(file["id"], "core/analysis-bucket-files", self.body(
                    name=file["name"], bucket_id=self.ids[file["bucket_id"]], external_id=file["external_id"]))
                self.ids[file["id"]] = made["id"]
        else:  # pragma: no cover - a typo in SETUP
            raise KeyError(key)

    @staticmethod
    def recorded_body(number: str) -> Any:
        return LEGACY_RECORDINGS.load(LEGACY_RECORDINGS.numbers[number])["response"]["body"]

    def ids_of(self, name: str) -> str:
        return self.ids[self.recorded[name]]

    def bearer(self, number: str, recorded: str) -> str:
        kind = OTHER_JWT.get(number)
        if kind == "robot":
            robot = self.made["legacy-robot"]
            grant = self.client.post("auth/token", json={
                "grant_type": "robot_credentials", "id": robot["id"], "secret": self.robot_secret})
            assert grant.status_code == 200, grant.text
            return f"Bearer {grant.json()['access_token']}"
        if kind == "tampered":  # a well-formed JWT whose signature does not match
            head, payload, signature = self.token.split(".")
            return f"Bearer {head}.{payload}.{signature[::-1]}"
        if recorded == "Bearer <access_token>":
            return f"Bearer {self.token}"
        return recorded  # "Bearer not-a-jwt" (019, 048)

    def json_body(self, number: str, body: dict) -> dict:
        if number == "011":  # the access token of the first refresh, after the replay
            return {**body, "token": self._refresh_chain()[0]}
        if number in REFRESH:
            kind = REFRESH[number]
            value = self._refresh_chain()[1] if kind == "after-replay" else \
                self.refresh_token(used=kind == "used")
            return {**body, "refresh_token": value}
        if body.get("secret") == "<secret>":  # 040 the robot's secret, 042 (and 007) a wrong one
            return {**body, "secret": self.robot_secret if number == "040" else "wrong-secret"}
        return super().json_body(number, body)

    def _refresh_chain(self) -> tuple[str, str]:
        """Refresh once, replay the used refresh token (400): the first refresh's access token
        and refresh token, which authup beta.24 leaves valid (010-012)."""
        used = self.refresh_token(used=False)
        first = self.client.post("auth/token", json={"grant_type": "refresh_token",
                                                      "refresh_token": used})
        replay = self.client.post("auth/token", json={"grant_type": "refresh_token",
                                                       "refresh_token": used})
        assert (first.status_code, replay.status_code) == (200, 400), (first.text, replay.text)
        return first.json()["access_token"], first.json()["refresh_token"]


LEGACY_RECORDINGS = Recordings((LEGACY_EXAMPLES, LEGACY_ADDITIONS), LEGACY_ERA, LegacyWorld, SETUP,
                               ARTIFACTS, RECORDED_EMPTY, minimum=149 + 40)


def test_every_legacy_recording_is_replayed():
    LEGACY_RECORDINGS.check_complete()


@pytest.mark.parametrize("name", LEGACY_RECORDINGS.files)
def test_recorded_legacy_exchange(name: str):
    LEGACY_RECORDINGS.replay(name)
