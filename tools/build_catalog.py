"""Build ``flame_hub/_catalog.json`` from the recorded resource catalog.

The Hub facts (paths, operations, allow-lists, bodies, record keys) come from
``tests/hub-recordings/0.14.0/resources.json`` (the repository's copy of
``../shared/hub-spec/resources.json``, refreshed by ``tools/sync_recordings.py``), which was probed
from real Hubs. This script keeps the
parts the library needs and drops probe notes, so the package carries the facts without the
research notes. Run it again when the reference catalog changes::

    python tools/build_catalog.py [path/to/resources.json]

``tests/test_registry.py`` checks that the committed file matches a fresh build.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT / "tests" / "hub-recordings" / "0.14.0" / "resources.json"
# The recorded ``meta.schema`` of every 0.14 list: the index facts authup enforces on sorts
# (``sorts.indexed``) are only there. Looked up beside the source file.
LIST_SCHEMAS = "list-schemas.json"
TARGET = ROOT / "flame_hub" / "_catalog.json"
# flame-hub-client 1.1.0's public surface, dumped from the PyPI release by tools/dump_surface.py.
SURFACE_110 = ROOT / "tests" / "data" / "surface-1.1.0.json"

KEEP_OPERATION = (
    "supported", "method", "path", "status", "envelope", "requires", "duplicate_status",
    "unknown_id_status",
)
KEEP_LIST = (
    "filters", "sorts", "default_sort", "relations", "relation_schemas", "relation_filters",
    "fields_default", "fields_hidden", "fields_allowed_raw", "max_limit", "schema_name", "strict",
    "required_filters", "meta_keys", "meta_keys_with_page", "meta_keys_without_page",
    "fields_param_honoured", "indexes", "sorts_indexed", "schema",
)
KEEP_RECORD_KEY = ("type", "format", "enum", "nullable", "hidden")
KEEP_RESPONSE = ("status", "envelope", "keys", "content_type", "when")


def _pick(src: dict, keys: tuple[str, ...]) -> dict:
    return {k: src[k] for k in keys if k in src}


# Facts the probe catalog lacks, read off the recorded exchanges (numbers = hub-spec/examples).
# They drive the fake Hub's validation and record defaults; the client may use them too.
#
# Body rules: every 0.14 ``name`` body key needs >= 3 characters (018 realm, 029 node, 085 bucket:
# "Too small: expected string to have >=3 characters"); authup lowercases realm and user names and
# allows only [a-z0-9-_.] in realm names (018; resources.json notes); registry-project external
# names match ^[a-z0-9-_]*$ (notes); a user e-mail must look like one (notes); a node's public key
# is stored hex-encoded ("cat-public-key" reads back as "6361742d...", notes).
NAME_RULE = {"minLength": 3}
BODY_RULES = {
    "realms": {"name": {"pattern": "^[a-z0-9-_.]+$", "lowercase": True,
                        "patternMessage": "Only the characters [a-z0-9-_.]+ are allowed."}},
    "users": {"name": {"lowercase": True}, "email": {"format": "email"}},
    "registry-projects": {"externalName": {"pattern": "^[a-z0-9-_]*$"}},
    "nodes": {"publicKey": {"storedAs": "hex"}},
    # additions 217-218: an accountSecret of 1 or 2 characters is refused (min_length 3); the
    # account name follows the same rule (issue 11)
    "registries": {"accountName": {"minLength": 3}, "accountSecret": {"minLength": 3}},
}
# Unique key groups beyond the name (additions 215: the same host, 216: the same name -> 409).
UNIQUE = {("registries", "0.14.0"): [["name"], ["host"]]}
# Keys an update must carry although they do not change (legacy additions 333: a body with only
# ``external_name`` -> 400 naming registry_id, name, type; 334: the full body -> 202).
UPDATE_REQUIRED = {("registry-projects", "0.8.5"): ["registry_id", "name", "type"]}
# The second validation stage of a create (additions 201-213, legacy 301-313): the branches of
# ``create_body.one_of`` as rules. ``protocols``: the discriminator values a branch is chosen for
# (0.8.5 validates only the chosen branch); ``protocol_message``: the issue a branch adds when
# the discriminator does not fit (0.14 tries every branch: 202 "The protocol should be LDAP.").
# ``answer_drops_null``: keys a record answer of that branch leaves out while null (207-210:
# oauth2/oidc answers have no ``preset``; 211-212 ldap answers show ``preset: null``).
ONE_OF = {
    ("identity-providers", "0.14.0"): {"discriminator": "protocol", "select": "first_valid", "branches": [
        {"protocols": ["ldap"], "protocol_message": "The protocol should be LDAP.",
         "required": ["url", "user", "password"]},
        {"protocols": ["oauth2", "oidc"], "required": ["clientId", "tokenUrl", "authorizeUrl"],
         "answer_drops_null": ["preset"]},
        {"protocols": ["oauth2"], "required": ["preset", "clientId"]},
    ]},
    ("identity-providers", "0.8.5"): {"discriminator": "protocol", "select": "by_discriminator", "branches": [
        {"protocols": ["oauth2", "oidc"], "required": ["client_id", "token_url", "authorize_url"]},
        {"protocols": ["ldap"], "required": ["url", "user", "password"]},
    ]},
}
# The legacy era (hub-spec-legacy/0.8.5 examples): names need >= 3 characters as well (052 node
# "x", 114 analysis "x", 136 bucket "", 028 realm ""); authup beta.24 realm names must match
# ^[a-zA-Z0-9_]{3,128}$ (029 refuses hyphens; "" breaks two rules: 028 has two children).
LEGACY_BODY_RULES = {
    "realms": {"name": {"pattern": "^[a-zA-Z0-9_]{3,128}$"}},
}
# Record keys the probe catalog lacks, seen in the recorded answers: the LDAP bind user of an
# identity provider (additions 211-212; 0.8.5 also url and password, legacy additions 311-312).
EXTRA_RECORD_KEYS = {
    ("identity-providers", "0.14.0"): {"user": {"type": "string", "nullable": True}},
    ("identity-providers", "0.8.5"): {k: {"type": "string", "nullable": True}
                                      for k in ("url", "user", "password")},
}
# Relations a create answer embeds that the probe catalog does not list (legacy 037: the new
# robot with its ``realm``; its delete answer 043 has none). The recorded ones are embedded by
# delete answers too (legacy README: project-nodes, analysis-nodes, analyses, bucket-files).
CREATE_ANSWER_EMBEDS = {("robots", "0.8.5"): ["realm"]}
# Legacy relations whose schema is not their name (resources.json 0.8.5 notes: "bucket_id here is
# the ANALYSIS bucket id and external_id the storage bucket-file id").
LEGACY_RELATION_SCHEMAS = {"analysis-bucket-files": {"bucket": "analysisBucket"}}
# Legacy record values taken from the token's subject (resources.json 0.8.5 buckets notes:
# "actor_id/actor_type are set from the token"; 134). On 0.14 they stay null (084).
LEGACY_RECORD_DEFAULTS = {
    "buckets": {"actor_id": {"actor": "id"}, "actor_type": {"actor": "kind"}},
    # a registry project created through the API has no realm (legacy additions 332)
    "registry-projects": {"realm_id": None},
}
# Record values the server sets when a create body leaves them out (both eras), where they are not the
# plain type default (booleans false, counters 0, everything else null). From the recorded create
# answers (030 node, 061 project-node, 066 analysis-node) and seeded records (019 user, 023 client).
# ``{"from": key}`` copies another key of the same record.
RECORD_DEFAULTS = {
    "nodes": {"type": "default"},
    "project-nodes": {"approvalStatus": "approved"},
    "analysis-nodes": {"approvalStatus": "approved"},
    "users": {"active": True, "displayName": {"from": "name"}},
    "clients": {"active": True, "authMethod": "secret", "tokenBindingMethod": "none",
                "displayName": {"from": "name"}},
    "identity-providers": {"enabled": True},
    "role-permissions": {"realmScope": "any"},
    "user-permissions": {"realmScope": "any"},
    "client-permissions": {"realmScope": "any"},
    "analysis-node-logs": {"channel": "http", "service": "hub-server-core"},
    "policies": {"decisionStrategy": "unanimous"},
    # a robot made by a user does not belong to it: user_id stays null; robots start active
    # (legacy 037, 038)
    "robots": {"userId": None, "active": True},
}
# Operations authup answers without a token: realms (008; legacy 017), and on authup beta.62 the
# users list (additions 296; legacy 018 answers 401).
PUBLIC_OPERATIONS = {("realms", "0.14.0"): ["list", "get"], ("users", "0.14.0"): ["list"],
                     ("realms", "0.8.5"): ["list", "get"]}
# Creates without a name that get a generated one (resources.json notes; on 0.8.5 an analysis
# without a name keeps ``name: null``, legacy additions 323).
GENERATED_NAMES = {("projects", "0.14.0"), ("analyses", "0.14.0")}
# Record keys the Hub recalculates after a write (debounced), so a create or update answer shows
# them as they were before (additions 229: executionProgress null; 249: the image flag still true
# after masterImageId is set to null, 251: still false after it is restored).
RECALCULATED = {("analyses", "0.14.0"): ["executionProgress", "configurationImageValid"]}
CURRENT = "0.14.0"

# --- flame-hub-client 1.1.0's create_/update_ signatures (from SURFACE_110) -----------------------
# Its arguments in order, with the defaults it sends: the helpers take the same arguments, and a
# create sends the same defaults. A 1.1.0 argument named other than the body key it fills:
UPSTREAM_RENAMES = {"node_type": "type", "bucket_type": "type", "registry_project_type": "type",
                    "is_entrypoint": "root"}
# What 1.1.0 sends for an argument left at its default where that is not the default itself
# (its CreateAnalysis turns None into an empty list).
UPSTREAM_SENT = {("create_analysis", "image_command_arguments"): []}
# Helpers of resources 1.1.0 no longer has, in the argument order older releases used (0.2.x
# create_robot(name, realm_id, secret, display_name)); left-out arguments are not sent.
UPSTREAM_EXTRA = {
    "create_robot": [["name", "positional", "<required>"], ["realm_id", "positional", "<required>"],
                     ["secret", "positional", "<UNSET>"], ["display_name", "positional", "<UNSET>"]],
}

# --- Python names and model facts (flame_hub.models, the helpers, the CLI) -----------------------
# Derived by rule: "analysis-bucket-files" -> attribute "analysis_bucket_files", singular
# "analysis_bucket_file", model "AnalysisBucketFile"; a field's enum "<Model><Field>" ("NodeType",
# "ProjectNodeApprovalStatus"). The tables below are what no rule derives; build_python() writes
# the result, derived and hand-kept alike, into each resource's ``python`` block.
IRREGULAR_SINGULARS = {"analyses": "analysis", "registries": "registry", "policies": "policy"}
# Enums shared by several fields, by snake_case field name (flame-hub-client 1.1.0's names).
SHARED_ENUMS = {
    "build_status": "ProcessStatus",
    "distribution_status": "ProcessStatus",
    "execution_status": "ProcessStatus",
    "level": "LogLevel",
    "channel": "LogChannel",
    "realm_scope": "RealmScope",
}
_REALM = {"model": "Realm"}
PYTHON = {
    # flame-hub-client 1.x calls both log records ``Log``: a shared base model of that name
    "analysis-logs": {"model_base": "Log"},
    "analysis-node-logs": {"model_base": "Log"},
    # relations that hold a list of records (every other relation holds one record)
    "policies": {"to_many": ["children"]},
    # ``command_arguments``: array fields whose items are command-line arguments, ``{"value",
    # "position"}`` dicts (flame_hub.types.MasterImageCommandArgument). ``compat_fields``: fields
    # of 1.1.0's models that no recorded Hub era sends, kept so that scripts reading them get None
    # (``type``: a JSON type, ``model``: a record model; ``aliases``: other wire keys the field is
    # read from: 1.1.0 names the Hub's ``buildNodesValid`` ``distribution_nodes_valid``).
    "analyses": {
        "command_arguments": ["image_command_arguments"],
        "compat_fields": {"registry": {"model": "Registry"},
                          "distribution_nodes_valid": {"type": "boolean",
                                                       "aliases": ["buildNodesValid", "build_nodes_valid"]}},
    },
    # ``command_helpers``: 1.1.0's helpers for the resource's command route, one per command,
    # instead of the generated ``send_<x>_command``
    "master-images": {"command_arguments": ["command_arguments"],
                      "command_helpers": ["sync_master_images", "build_master_image"]},
    "clients": {"compat_fields": {"backchannel_logout_uri": {"type": "string"}}},
    "role-permissions": {"compat_fields": {"role_realm": _REALM, "permission_realm": _REALM}},
    "user-permissions": {"compat_fields": {"user_realm": _REALM, "permission_realm": _REALM}},
    "user-roles": {"compat_fields": {"user_realm": _REALM, "role_realm": _REALM}},
    "permissions": {"compat_fields": {"realm": _REALM}},
    # models of special routes: built from the recorded answer keys (``response_models``) or
    # body keys (``request_models``) of the route, by route name
    "nodes": {"response_models": {"client_credentials": "ClientCredentials",
                                  "registry_credentials": "NodeRegistryCredentials"},
              "request_models": {"update_client_credentials": "UpdateClientCredentials"}},
}

# What the catalog keeps of each era's description: versions, key case, gateway prefixes and the
# body of a 404 for a route that does not exist ("" = an empty body, legacy 016 and 097).
KEEP_ERA = ("hub", "authup", "key_case", "gateway_prefixes", "route_missing_404_body")


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _body(spec: dict | None, rules: dict | None = None) -> dict:
    """Keep the validation facts of a body spec; ``rules`` (per key) add the supplements above."""
    out = {}
    for k, v in (spec or {}).items():
        out[k] = _pick(v, ("type", "format", "enum", "minLength"))
        if rules is not None:
            out[k].update({**(NAME_RULE if k == "name" else {}), **rules.get(k, {})})
    return out


def _one_of(recorded: list | None, rules: dict | None) -> dict | None:
    """The create's second validation stage: ``rules`` (:data:`ONE_OF`) with each branch's key
    specs (``required``/``optional`` as :func:`_body` keeps them) from the recorded branches."""
    if not rules:
        return None
    specs: dict = {}
    for branch in recorded or ():
        for part in ("required", "optional"):
            specs.update(_body(branch.get(part)))
    branches = []
    for branch in rules["branches"]:
        known = {k for b in recorded or () for k in (b.get("optional") or {})
                 if set(branch["required"]) <= set(b.get("required") or {}) | set(b.get("optional") or {})}
        optional = sorted(known - set(branch["required"]))
        branches.append({**branch,
                         "required": {k: specs.get(k, {"type": "string"}) for k in branch["required"]},
                         "optional": {k: specs.get(k, {"type": "string"}) for k in optional}})
    return {**rules, "branches": branches}


def _list_query(lq: dict, resource: str, era_name: str) -> dict:
    out = _pick(lq, KEEP_LIST)
    renamed = LEGACY_RELATION_SCHEMAS.get(resource) if era_name != CURRENT else None
    if renamed and "relation_schemas" not in out:
        out["relation_schemas"] = {r: renamed.get(r, r) for r in out.get("relations", [])}
    return out


def build_era(era: dict, resource: str = "", era_name: str = "") -> dict:
    if not era.get("available"):
        return {"available": False}
    rules = (BODY_RULES if era_name == CURRENT else LEGACY_BODY_RULES).get(resource, {})
    defaults = RECORD_DEFAULTS.get(resource, {})
    if era_name != CURRENT:  # the legacy era spells the same keys in snake_case
        defaults = {_snake(k): {"from": _snake(v["from"])} if isinstance(v, dict) else v
                    for k, v in defaults.items()}
        defaults.update(LEGACY_RECORD_DEFAULTS.get(resource, {}))
    record = era.get("record", {})
    create = era.get("create_body") or {}
    update = era.get("update_body") or {}
    out = {
        "available": True,
        "path": era["path"],
        "operations": {
            name: {**_pick(op, KEEP_OPERATION),
                   **({"public": True} if name in PUBLIC_OPERATIONS.get((resource, era_name), ()) else {})}
            for name, op in era.get("operations", {}).items()
        },
        "list_query": _list_query(era.get("list_query") or {}, resource, era_name),
        "create": {
            "required": _body(create.get("required"), rules),
            "optional": _body(create.get("optional"), rules),
            "one_of": _one_of(create.get("one_of"), ONE_OF.get((resource, era_name))),
            **({"generates_name": True} if (resource, era_name) in GENERATED_NAMES else {}),
        },
        "update": _body(update.get("accepted"), rules),
        **({"update_required": UPDATE_REQUIRED[resource, era_name]}
           if (resource, era_name) in UPDATE_REQUIRED else {}),
        **({"unique": UNIQUE[resource, era_name]} if (resource, era_name) in UNIQUE else {}),
        "record": {
            "keys": {
                k: {**_pick(v, KEEP_RECORD_KEY), **({"default": defaults[k]} if k in defaults else {})}
                for k, v in {**record.get("keys", {}), **EXTRA_RECORD_KEYS.get((resource, era_name), {})}.items()
            },
            "hidden_fields": record.get("hidden_fields", []),
            "write_answer_only_keys": record.get("write_answer_only_keys", []),
            "create_answer_embeds": record.get("create_answer_embeds", [])
            + CREATE_ANSWER_EMBEDS.get((resource, era_name), []),
            "delete_answer_embeds": record.get("create_answer_embeds", []),
            **({"recalculated": RECALCULATED[resource, era_name]} if (resource, era_name) in RECALCULATED else {}),
        },
        "special_routes": [
            {
                "name": r["name"],
                "method": r["method"],
                "path": r["path"],
                "body": r.get("body"),
                "responses": [_pick(x, KEEP_RESPONSE) for x in r.get("responses", [])],
            }
            for r in era.get("special_routes", [])
            if not r.get("absent")
        ],
    }
    return out


def build_upstream(surface: Path) -> dict:
    """1.1.0's create_/update_ arguments: ``method -> [[name, kind, default, body key, sent]]``
    (kind "positional"/"keyword"; default "<required>", "<UNSET>" or the value; ``sent`` is what
    1.1.0 sends when the argument is left out, "<UNSET>" for nothing), and the fields of its
    Create/Update models (``model -> [field, ...]``)."""
    dump = json.loads(surface.read_text())["modules"]
    methods: dict[str, list] = {}
    clients = [e for e in dump["flame_hub"].values() if e["kind"] == "class" and "methods" in e]
    for entry in clients:
        for name, params in entry["methods"].items():
            if name.startswith(("create_", "update_")):
                methods[name] = params
    methods.update(UPSTREAM_EXTRA)
    out = {}
    for name, params in sorted(methods.items()):
        rows = []
        first = 1 if name.startswith("update_") else 0  # the id of the record an update changes
        for arg, kind, default in params[first:]:
            if kind not in ("positional", "keyword") or default == "<optional>":
                continue  # auth=
            sent = UPSTREAM_SENT.get((name, arg), default if default != "<required>" else "<UNSET>")
            rows.append([arg, kind, default, UPSTREAM_RENAMES.get(arg, arg), sent])
        out[name] = rows
    models = {name: sorted(e["fields"]) for name, e in dump["flame_hub.models"].items()
              if e["kind"] == "model" and name.startswith(("Create", "Update"))}
    return {"source": "flame-hub-client 1.1.0 (tests/data/surface-1.1.0.json)", "methods": out,
            "request_models": models}


def _pascal(snake: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in snake.split("_"))


def _field_groups(era: dict):
    """Every key spec of an era's record, create (with its ``one_of`` branches) and update."""
    create = era.get("create_body") or {}
    yield era.get("record", {}).get("keys", {})
    for part in ("required", "optional"):
        yield create.get(part) or {}
    for branch in create.get("one_of") or ():
        for part in ("required", "optional"):
            yield branch.get(part) or {}
    yield (era.get("update_body") or {}).get("accepted") or {}


def build_python(name: str, resource: dict) -> dict:
    """The resource's Python facts: its names (:data:`IRREGULAR_SINGULARS`), the enum class of each
    enum field (:data:`SHARED_ENUMS`, else ``<Model><Field>``) and of each enum key of a special
    route's body, and the hand-kept facts of :data:`PYTHON`."""
    attr = name.replace("-", "_")
    head, _, last = attr.rpartition("_")
    tail = IRREGULAR_SINGULARS.get(last, last[:-1] if last.endswith("s") else last)
    singular = f"{head}_{tail}" if head else tail
    model = _pascal(singular)
    eras = [e for e in resource["eras"].values() if e.get("available")]
    enums: dict[str, str] = {}
    for era in eras:
        for group in _field_groups(era):
            for key, spec in group.items():
                snake = _snake(key)
                if spec.get("enum") or snake in SHARED_ENUMS:
                    enums.setdefault(snake, SHARED_ENUMS.get(snake) or model + _pascal(snake))
    route_enums: dict[str, dict[str, str]] = {}
    for era in eras:
        for route in era.get("special_routes", []):
            body = route.get("body")
            for key, spec in (body.items() if isinstance(body, dict) and not route.get("absent") else ()):
                if isinstance(spec, dict) and spec.get("enum"):
                    route_enums.setdefault(route["name"], {})[key] = model + _pascal(_snake(key))
    out = {"attr": attr, "singular": singular, "model": model, "enums": enums}
    if route_enums:
        out["route_enums"] = route_enums
    return {**out, **PYTHON.get(name, {})}


def _index_facts(schema: dict | None) -> dict:
    """``indexes`` and ``sorts_indexed`` of a recorded 0.14 ``meta.schema`` (authup only)."""
    if not schema or not schema.get("indexes"):
        return {}
    return {"indexes": schema["indexes"], "sorts_indexed": bool(schema["sorts"].get("indexed"))}


def build(source: Path) -> dict:
    data = json.loads(source.read_text())
    schemas_file = source.parent / LIST_SCHEMAS
    schemas = json.loads(schemas_file.read_text()) if schemas_file.exists() else {}
    for name, r in data["resources"].items():
        era = r["eras"].get("0.14.0") or {}
        schema = schemas.get(f"{r['service']}/{name}", {}).get("schema")
        facts = _index_facts(schema)
        if era.get("list_query") and facts:
            era["list_query"].update(facts)
        if era.get("list_query") and schema:
            # the recorded meta.schema itself: lists answer it verbatim, records a part of it
            era["list_query"]["schema"] = schema
    return {
        "format": "flame-hub-client-catalog/1",
        "source": "shared/hub-spec/resources.json (" + data["format"] + ")",
        "eras": {
            name: _pick(e, KEEP_ERA)
            for name, e in data["eras"].items()
        },
        "resources": {
            name: {
                "service": r["service"],
                "name_key": r.get("name_key"),
                "python": build_python(name, r),
                "eras": {era: build_era(e, name, era) for era, e in r["eras"].items()},
            }
            for name, r in data["resources"].items()
        },
        "upstream": build_upstream(SURFACE_110),
    }


def render(source: Path) -> str:
    return json.dumps(build(source), indent=1, sort_keys=False) + "\n"


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE
    TARGET.write_text(render(src))
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)")
