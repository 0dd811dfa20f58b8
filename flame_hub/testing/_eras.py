"""What the fake Hub does differently per recorded era, beyond the wire dialect and the catalog.

The wire conventions (key case, envelopes, filter grammar, error shapes) come from
:mod:`flame_hub.dialects`; resource facts (routes, bodies, record keys, allow-lists) from the
catalog's era. What is left — the fresh state of a new Hub, authup's token endpoint and the
answers to bad tokens — is one :class:`FakeEra` per recorded era, chosen once by the catalog era.
Numbers are recordings: plain ones ``tests/hub-recordings/0.14.0/examples``, "legacy" ones
``tests/hub-recordings/0.8.5/examples``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..resources import CURRENT_ERA, LEGACY_ERA


@dataclass(frozen=True)
class FakeEra:
    """Fake-only facts of one era (see the module docstring)."""

    #: access-token lifetime in seconds unless ``FakeHub(token_ttl=...)`` says otherwise
    #: (001: 900; legacy 002: 3600)
    access_ttl: float = 900
    #: keys authup's ``GET /`` adds to ``{version, timestamp}`` (legacy 001; the token ages
    #: follow the hub's token lifetimes)
    auth_root: tuple[str, ...] = ()
    #: services whose ``GET /`` reports a version (legacy 131: storage has none)
    versioned_roots: tuple[str, ...] = ("auth", "core", "storage")
    #: authup's built-in roles (legacy 045: only ``admin``)
    roles: tuple[str, ...] = ("admin", "realm_admin")
    #: authup has the built-in ``system``/``account-console`` clients (legacy 008, 044: none)
    builtin_clients: bool = True
    #: robots that exist on a new Hub (legacy 036: authup's ``system`` and the Hub's ``registry``)
    robots: tuple[str, ...] = ()
    #: the token answer carries ``refresh_token_expires_in`` (001; legacy 002 has none)
    refresh_token_expires_in: bool = True
    #: a replayed refresh token revokes its session (097) instead of only being refused (legacy 010-012)
    replay_revokes: bool = True
    #: introspection lists permissions as full records with the legacy claim set (legacy 015)
    legacy_introspection: bool = False
    #: creating an analysis provisions its authup client and its CODE/RESULT/TEMP buckets
    #: (legacy 113, 120: neither)
    analysis_provisioning: bool = True
    #: content type of ``GET /bucket-files/{id}/stream``; None: by the file name's extension,
    #: else ``application/octet-stream`` (additions 271-274: the part's type is not stored;
    #: legacy 143: ``application/gzip`` whatever the file is)
    file_stream_type: str | None = None
    #: deleting a bucket that still holds files is refused with 500 ``BucketNotEmpty`` and
    #: nothing is deleted (legacy additions 320-322: the object store refuses first)
    bucket_delete_needs_empty: bool = False
    #: a create/update answer embeds the relations whose foreign key the body set (additions
    #: 228, 240, 251; legacy additions 334: an update that sends ``registry_id`` embeds nothing)
    answer_embeds_sent_relations: bool = True


ERAS = {
    CURRENT_ERA: FakeEra(),
    LEGACY_ERA: FakeEra(
        access_ttl=3600,
        auth_root=("tokenMaxAgeAccessToken", "tokenMaxAgeRefreshToken", "redis", "vault"),
        versioned_roots=("auth", "core"),
        roles=("admin",),
        builtin_clients=False,
        robots=("system", "registry"),
        refresh_token_expires_in=False,
        replay_revokes=False,
        legacy_introspection=True,
        analysis_provisioning=False,
        file_stream_type="application/gzip",
        bucket_delete_needs_empty=True,
        answer_embeds_sent_relations=False,
    ),
}
