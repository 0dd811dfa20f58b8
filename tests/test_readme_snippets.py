"""The three code snippets of the original flame-hub-client README (0.1.0), verbatim.

They are the compatibility contract: a script written for the original client must run
unchanged. Only two things are substituted, because they name a particular deployment: the
gateway ``http://localhost:3000/`` (-> the test Hub) and, in the third snippet, the master realm
id the README copied from its own output (-> this Hub's master realm id).
"""

from __future__ import annotations

import contextlib
import io
import json
import uuid

import pytest

README_GATEWAY = "http://localhost:3000/"
README_REALM_ID = "2fdb6035-87d1-4abb-a4b1-941be2d06137"

SNIPPET_1 = '''\
import flame_hub

auth = flame_hub.auth.PasswordAuth(username="admin", password="start123", base_url="http://localhost:3000/auth/")
auth_client = flame_hub.AuthClient(base_url="http://localhost:3000/auth/", auth=auth)
'''

SNIPPET_2 = '''\
import flame_hub

auth = flame_hub.auth.PasswordAuth(username="admin", password="start123", base_url="http://localhost:3000/auth/")
auth_client = flame_hub.AuthClient(base_url="http://localhost:3000/auth/", auth=auth)

# To get the master realm, you could call auth_client.get_realms() and hope that it's among the first
# 50 realms. But you could use auth_client.find_realms() instead and include specific search criteria.
master_realms = auth_client.find_realms(filter={"name": "master"})

# This check should pass since there's always a single master realm.
assert len(master_realms) == 1

master_realm = master_realms.pop()
print(master_realm.id)
# => 2fdb6035-87d1-4abb-a4b1-941be2d06137
'''

SNIPPET_3 = '''\
import flame_hub

auth = flame_hub.auth.PasswordAuth(username="admin", password="start123", base_url="http://localhost:3000/auth/")
core_client = flame_hub.CoreClient(base_url="http://localhost:3000/core/", auth=auth)

# This is the ID from the previous snippet.
master_realm_id = "2fdb6035-87d1-4abb-a4b1-941be2d06137"

# Now we're going to create a Node. This function requires a name and the ID of the realm to assign the node to.
my_node = core_client.create_node(name="my-node", realm_id=master_realm_id)

# The resulting objects are Pydantic models, so we can use them as we please.
print(my_node.model_dump_json(indent=2))
# => {
# =>   "external_name": null,
# =>   "hidden": false,
# =>   "name": "my-node",
# =>   "realm_id": "2fdb6035-87d1-4abb-a4b1-941be2d06137",
# =>   "registry_id": null,
# =>   "type": "default",
# =>   "id": "15b00353-f5b3-47a1-91a5-6df225cd00cc",
# =>   "public_key": null,
# =>   "online": false,
# =>   "registry_project_id": null,
# =>   "robot_id": "cb8a7277-4a7e-4b07-8e88-2d2017c3ec8c",
# =>   "created_at": "2025-02-27T14:09:48.034000Z",
# =>   "updated_at": "2025-02-27T14:09:48.034000Z"
# => }

# Maybe making the Node public wasn't such a good idea, so let's update it by hiding it.
core_client.update_node(my_node, hidden=True)

# Retrieving the Node by its ID should now show that it's hidden.
print(core_client.get_node(my_node.id).hidden)
# => True

# Attempting to fetch a Node that doesn't exist will simply return None.
print(core_client.get_node("497dcba3-ecbf-4587-a2dd-5eb0665e6880"))
# => None

# That was fun! Let's delete the Node.
core_client.delete_node(my_node)

# ...and just to make sure that it's gone!
print(core_client.get_node(my_node.id))
# => None
'''


def _run(snippet: str, hub_env, realm_id: str | None = None) -> tuple[dict, str]:
    gateway = hub_env.auth_url[: -len("auth/")]
    assert hub_env.core_url == gateway + "core/"  # the snippets assume one gateway
    code = snippet.replace(README_GATEWAY, gateway)
    assert code != snippet
    if realm_id is not None:
        assert README_REALM_ID in code
        code = code.replace(f'"{README_REALM_ID}"', f'"{realm_id}"', 1)
    namespace: dict = {"__name__": "__readme__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<README snippet>", "exec"), namespace)  # noqa: S102 - the point of the test
    for name in ("auth_client", "core_client"):
        client = namespace.get(name)
        if client is not None:
            client.close()
    return namespace, out.getvalue()


def test_snippet_1_builds_an_auth_client(hub_env):
    import flame_hub

    ns, printed = _run(SNIPPET_1, hub_env)
    assert isinstance(ns["auth_client"], flame_hub.AuthClient)
    assert isinstance(ns["auth"], flame_hub.auth.PasswordAuth)
    assert printed == ""


def test_snippet_2_finds_the_master_realm(hub_env, auth_client):
    ns, printed = _run(SNIPPET_2, hub_env)
    master = auth_client.get_realm_by_name("master")
    assert printed == f"{master.id}\n"
    assert ns["master_realm"].name == "master"


def test_snippet_3_node_lifecycle(hub_env, auth_client, core_client):
    master = auth_client.find_realms(filter={"name": "master"})[0]
    for stale in core_client.find_nodes(filter={"name": "my-node"}):  # a rerun on an external Hub
        core_client.delete_node(stale)
    ns, printed = _run(SNIPPET_3, hub_env, realm_id=str(master.id))
    decoder = json.JSONDecoder()
    node_json, end = decoder.raw_decode(printed)
    assert node_json["name"] == "my-node" and node_json["realm_id"] == str(master.id)
    assert node_json["hidden"] is False and node_json["type"] == "default"
    for key in ("external_name", "registry_id", "id", "public_key", "online", "registry_project_id",
                "created_at", "updated_at"):
        assert key in node_json  # the README's snake_case dump
    uuid.UUID(node_json["id"])
    assert printed[end:].split() == ["True", "None", "None"]
    assert core_client.get_node(ns["my_node"].id) is None


@pytest.mark.parametrize("snippet", [SNIPPET_1, SNIPPET_2, SNIPPET_3])
def test_snippets_are_the_original_text(snippet):
    """Guard against "fixing" a snippet: each still uses the README's gateway and API."""
    assert 'flame_hub.auth.PasswordAuth(username="admin", password="start123", base_url="http://localhost:3000/auth/")' in snippet
    assert snippet.startswith("import flame_hub\n")
