"""The fresh state of a new Hub: what authup and the Hub create on their first start.

Values follow the recordings: realm ``master`` (010), user ``admin`` (019, e-mail 007), the
built-in clients (023), the roles ``admin``/``realm_admin`` (024) and the permission names the
admin token carries (007). The master images stand in for what a Hub syncs from GitHub (the
recorded Hub was offline, 073/074), shaped by the catalog's record keys and as the sync stores
them (additions 224-225: ``commandArguments`` is a list of ``{value, position?}`` objects).
"""

from __future__ import annotations

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "start123"
ADMIN_EMAIL = "admin@example.com"
SYSTEM_CLIENT = "system"
SYSTEM_SECRET = "start123"

# authup's own permissions (built in), then the Hub's (created by the Hub at start), 007 order
AUTHUP_PERMISSIONS = (
    "client_create client_delete client_update client_read client_self_manage "
    "client_permission_create client_permission_delete client_permission_read "
    "client_permission_update client_role_create client_role_delete client_role_update "
    "client_role_read client_scope_create client_scope_delete client_scope_read consent_read "
    "consent_delete event_read identity_provider_create identity_provider_delete "
    "identity_provider_update identity_provider_read identity_provider_account_read "
    "identity_provider_account_delete identity_provider_role_create identity_provider_role_delete "
    "identity_provider_role_update identity_provider_role_read key_create key_delete key_update "
    "key_read permission_create permission_delete permission_update permission_read realm_create "
    "realm_delete realm_update realm_read role_create role_delete role_update role_read "
    "role_permission_create role_permission_delete role_permission_read role_permission_update "
    "scope_create scope_delete scope_update scope_read session_read session_delete user_create "
    "user_delete user_update user_read user_self_manage user_authenticator_create "
    "user_authenticator_delete user_authenticator_update user_authenticator_read "
    "user_permission_create user_permission_delete user_permission_read user_permission_update "
    "user_role_create user_role_delete user_role_update user_role_read"
).split()
HUB_PERMISSIONS = (
    "event_create event_delete bucket_create bucket_update bucket_delete log_create log_delete "
    "log_read project_create project_delete project_update project_approve registry_manage "
    "registry_project_manage node_create node_delete node_update analysis_approve analysis_update "
    "analysis_create analysis_execution_start analysis_execution_stop analysis_delete "
    "analysis_result_read analysis_self_message_broker_use analysis_self_storage_use "
    "master_image_manage master_image_group_manage service_manage"
).split()
#: what an analysis client may hold (analyses ``add_client_permission`` refuses others with 403)
ANALYSIS_SELF_PERMISSIONS = ("analysis_self_message_broker_use", "analysis_self_storage_use")

ROLES = ("admin", "realm_admin")

CLIENTS = (
    {"name": SYSTEM_CLIENT, "displayName": "system", "builtIn": True, "secret": SYSTEM_SECRET},
    {"name": "account-console", "displayName": "Account Console", "builtIn": True,
     "authMethod": "none", "redirectUri": "http://localhost:3000/**",
     "postLogoutRedirectUri": "http://localhost:3000/**",
     "grantTypes": "authorization_code refresh_token", "scope": "global openid"},
)

MASTER_IMAGE_GROUPS = (
    {"name": "python", "path": "python", "virtualPath": "python"},
    {"name": "r", "path": "r", "virtualPath": "r"},
)
MASTER_IMAGES = (
    {"name": "base", "path": "python/base", "virtualPath": "python/base",
     "groupVirtualPath": "python", "command": "python", "commandArguments": [{"value": "-u"}]},
    {"name": "slim", "path": "python/slim", "virtualPath": "python/slim",
     "groupVirtualPath": "python", "command": "python", "commandArguments": [{"value": "-u"}]},
    {"name": "base", "path": "r/base", "virtualPath": "r/base",
     "groupVirtualPath": "r", "command": "Rscript", "commandArguments": []},
)

# generated names of projects/analyses created without one ("brisk-basalt-0f776a", notes)
ADJECTIVES = ("brisk", "eager", "calm", "bold", "quiet", "swift", "keen", "merry")
NOUNS = ("basalt", "summit", "river", "meadow", "harbor", "canyon", "forest", "glacier")
