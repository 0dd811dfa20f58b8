"""Quick start: the original flame-hub-client README flow, end to end.

Log in as admin, find the master realm with a filter, create a node, hide it, read it back,
read an id that does not exist, delete the node and read it again.

With no Hub configured this starts the embedded fake Hub (``flame_hub.testing.FakeHub``).
To run it against a real Hub, set either

- ``FLAME_HUB_URL`` — the gateway base, e.g. ``http://localhost:3000/`` (services under
  ``auth/``, ``core/``, ``storage/``), or
- ``FLAME_HUB_AUTH_URL``, ``FLAME_HUB_CORE_URL`` and ``FLAME_HUB_STORAGE_URL``,

and optionally ``FLAME_HUB_USERNAME`` / ``FLAME_HUB_PASSWORD`` (default admin / start123) — the
variables :class:`flame_hub.Hub` reads by itself. The node gets a fresh name on every run, so
repeated runs work.

    python examples/quickstart.py
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid

import flame_hub

_URL_VARS = ("FLAME_HUB_URL", "FLAME_HUB_AUTH_URL", "FLAME_HUB_CORE_URL", "FLAME_HUB_STORAGE_URL")
_CREDENTIAL_VARS = ("FLAME_HUB_USERNAME", "FLAME_HUB_PASSWORD", "FLAME_HUB_CLIENT_ID", "FLAME_HUB_TOKEN")


def open_hub(stack: contextlib.ExitStack) -> flame_hub.Hub:
    """The Hub the environment names (``flame_hub.Hub()`` reads it), or an embedded fake Hub."""
    # the Hub's default admin unless the environment names other credentials
    login = {} if any(os.environ.get(v) for v in _CREDENTIAL_VARS) else {
        "username": "admin", "password": "start123"}
    if any(os.environ.get(v) for v in _URL_VARS):
        try:
            hub = stack.enter_context(flame_hub.Hub(**login))
        except ValueError as error:  # e.g. only some of the per-service URLs are set
            sys.exit(f"quickstart: {error}")
        print(f"Hub: {hub.url or hub.core.base_url} (from {hub.config.sources['urls']})")
        return hub
    from flame_hub.testing import FakeHub

    fake = stack.enter_context(FakeHub())
    print(f"Hub: embedded FakeHub at {fake.url}")
    return stack.enter_context(flame_hub.Hub(fake.url, **login))


def main() -> None:
    with contextlib.ExitStack() as stack:
        hub = open_hub(stack)
        auth_client, core_client = hub.auth, hub.core

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
