"""Quick start: the original flame-hub-client README flow, end to end.

Log in as admin, find the master realm with a filter, create a node, hide it, read it back,
read an id that does not exist, delete the node and read it again.

With no Hub configured this starts the embedded fake Hub (``flame_hub.testing.FakeHub``).
To run it against a real Hub, set either

- ``FLAME_HUB_URL`` — the gateway base, e.g. ``http://localhost:3000/`` (services under
  ``auth/``, ``core/``, ``storage/``), or
- ``FLAME_HUB_AUTH_URL``, ``FLAME_HUB_CORE_URL`` and ``FLAME_HUB_STORAGE_URL``,

and optionally ``FLAME_HUB_ADMIN_USERNAME`` / ``FLAME_HUB_ADMIN_PASSWORD`` (default
admin / start123). The node gets a fresh name on every run, so repeated runs work.

    python examples/quickstart.py
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid

import flame_hub


def hub_urls(stack: contextlib.ExitStack) -> tuple[str, str, str]:
    """(auth, core, storage) base URLs: from the environment, or an embedded fake Hub."""
    per_service = [os.environ.get(f"FLAME_HUB_{s}_URL") for s in ("AUTH", "CORE", "STORAGE")]
    if all(per_service):
        print(f"Hub: {per_service[1]} (from FLAME_HUB_*_URL)")
        return per_service[0], per_service[1], per_service[2]  # type: ignore[return-value]
    if any(per_service):
        sys.exit("set all three of FLAME_HUB_AUTH_URL, FLAME_HUB_CORE_URL, FLAME_HUB_STORAGE_URL")
    gateway = os.environ.get("FLAME_HUB_URL")
    if gateway:
        gateway = gateway.rstrip("/") + "/"
        print(f"Hub: {gateway} (from FLAME_HUB_URL)")
        return gateway + "auth/", gateway + "core/", gateway + "storage/"
    from flame_hub.testing import FakeHub

    hub = stack.enter_context(FakeHub())
    print(f"Hub: embedded FakeHub at {hub.url}")
    return hub.auth_url, hub.core_url, hub.storage_url


def main() -> None:
    with contextlib.ExitStack() as stack:
        auth_url, core_url, _storage_url = hub_urls(stack)
        auth = flame_hub.auth.PasswordAuth(
            username=os.environ.get("FLAME_HUB_ADMIN_USERNAME", "admin"),
            password=os.environ.get("FLAME_HUB_ADMIN_PASSWORD", "start123"),
            base_url=auth_url,
        )
        auth_client = stack.enter_context(flame_hub.AuthClient(base_url=auth_url, auth=auth))
        core_client = stack.enter_context(flame_hub.CoreClient(base_url=core_url, auth=auth))

        # find the master realm with a filter
        master_realms = auth_client.find_realms(filter={"name": "master"})
        assert len(master_realms) == 1, master_realms
        master_realm = master_realms.pop()
        print(f"master realm: {master_realm.name} {master_realm.id}")

        # create a node in it (a fresh name per run)
        my_node = core_client.create_node(name=f"quickstart-{uuid.uuid4().hex[:12]}",
                                          realm_id=master_realm)
        print(f"created node: {my_node.name} {my_node.id} hidden={my_node.hidden}")

        # hide it, then read it back
        updated = core_client.update_node(my_node, hidden=True)
        print(f"updated node: hidden={updated.hidden}")
        print(f"read back: hidden={core_client.get_node(my_node.id).hidden}")

        # an id that does not exist reads as None
        print(f"unknown id: {core_client.get_node(uuid.uuid4())}")

        # delete it; reading it again gives None
        core_client.delete_node(my_node)
        print(f"deleted node: {my_node.id}")
        print(f"read after delete: {core_client.get_node(my_node.id)}")


if __name__ == "__main__":
    main()
