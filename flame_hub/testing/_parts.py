"""The common base of the fake Hub's behaviour mixins: state access and record shortcuts.

:class:`~._behaviour.Behaviour` is assembled from mixins (special routes, authup's endpoints, the
analysis state machine); each of them reads the hub's state through the shortcuts here, so every
mixin type-checks on its own. Methods that one mixin calls on another are declared at the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ..resources import Resource, get_resource
from ._wire import not_found

if TYPE_CHECKING:  # pragma: no cover
    from ._core import Ctx, HubCore
    from ._progress import Progression
    from ._store import Store
    from ._tokens import Actor


class BehaviourParts:
    """State and shortcuts shared by the mixins of :class:`~._behaviour.Behaviour`."""

    core: HubCore
    #: the worker's, broker's and nodes' pending work (:mod:`._progress`)
    progression: Progression
    #: the Hub's ``SKIP_ANALYSIS_APPROVAL`` (on in both recorded deployments, 240)
    skip_analysis_approval: bool

    @property
    def store(self) -> Store:
        return self.core.store

    def w(self, attr: str) -> str:
        """Wire spelling of a snake_case name on the served era."""
        return self.core.w(attr)

    def vals(self, **attrs: Any) -> dict:
        """Wire-keyed values from snake_case names."""
        return {self.w(k): v for k, v in attrs.items()}

    def insert(self, name: str, values: dict, actor: Actor | None = None) -> dict:
        """Store a record built from wire-keyed values plus defaults (no validation, no effects)."""
        res = get_resource(name)
        record = self.core.new_record(res, values, actor)
        return self.store.insert(res.name, record)

    def body(self, ctx: Ctx) -> dict:
        """The request's JSON (or form) object; ``{}`` for anything else."""
        body = ctx.body
        if body is None and ctx.req.content_type == "application/x-www-form-urlencoded":
            body = dict(parse_qsl(ctx.req.body.decode("utf-8", "replace"), keep_blank_values=True))
        return body if isinstance(body, dict) else {}

    def find(self, ctx: Ctx, name: str | None = None, arg: str = "id") -> dict:
        """The record the route's ``{arg}`` names (of ``name``, else the route's resource), or 404."""
        res = get_resource(name) if name else ctx.res
        record = self.store.get(res.name, ctx.args.get(arg))
        if record is None:
            raise not_found(self.core.singular(res))
        return record

    def set_attr(self, record: dict, attr: str, value: Any) -> None:
        """Change a field, touching ``updated_at`` when the value changes."""
        key = self.w(attr)
        if key in record and record[key] != value:
            record[key] = value
            record[self.w("updated_at")] = self.core.now()

    def realm(self, name: str = "master") -> dict | None:
        return self.store.find("realms", "name", name)

    def master_realm(self) -> dict:
        """The seeded ``master`` realm (authup refuses to delete it)."""
        realm = self.realm()
        assert realm is not None, "the seeded master realm is gone"
        return realm

    if TYPE_CHECKING:  # defined by Behaviour and its mixins
        def remove(self, res: Resource, record: dict, ctx: Ctx | None = None) -> None: ...
        def recount(self, *_: Any) -> None: ...
        def run_analysis_command(self, ctx: Ctx, analysis: dict, command: str) -> None: ...
        def queue_upload_records(self, files: list[dict]) -> None: ...
        def queue_master_image_build(self, image: dict) -> None: ...
        def queue_master_image_sync(self) -> None: ...
