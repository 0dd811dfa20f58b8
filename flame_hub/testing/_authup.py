"""The fake authup's own routes: service roots, ``POST /token`` and token introspection, and the
answers to bearer tokens that are not active (per era: :mod:`._eras`, ``Dialect.legacy_errors``)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..auth import jwt_header
from . import _seed
from ._tokens import Actor, Token
from ._parts import BehaviourParts
from ._wire import FakeError, FakeResponse, oauth2_error

if TYPE_CHECKING:  # pragma: no cover
    from ._core import Ctx


class AuthupRoutes(BehaviourParts):
    """Mixin of :class:`._behaviour.Behaviour`: service roots and authup's token endpoints."""

    def root(self, ctx: Ctx) -> FakeResponse:
        """``GET /`` of a service: ``{"version", "timestamp"}`` (025, 081; legacy 001, 046, 131:
        authup adds its token ages and backends, storage has no version)."""
        era = self.core.fake_era
        answer: dict = {}
        if ctx.service in era.versioned_roots:
            answer["version"] = self.core.authup_version if ctx.service == "auth" else self.core.version
        answer["timestamp"] = int(time.time() * 1000)
        if ctx.service == "auth":
            extra = {"tokenMaxAgeAccessToken": int(self.core.tokens.access_ttl),
                     "tokenMaxAgeRefreshToken": int(self.core.tokens.refresh_ttl),
                     "redis": True, "vault": False}
            answer.update({k: extra[k] for k in era.auth_root})
        return FakeResponse.json(200, answer)

    def token(self, ctx: Ctx) -> FakeResponse:
        """``POST /token``: password, client_credentials and refresh_token grants (001–006,
        096, 097); JSON or form bodies."""
        body = self.body(ctx)
        grant = body.get("grant_type")
        if grant is None and "username" in body:
            grant = "password"  # authup guesses the grant from the fields (legacy 004)
        if grant == "password":
            actor = self._check_password(body)
            access, refresh = self.core.tokens.grant(actor, refresh=True,
                                                     user_agent=ctx.req.header("user-agent"))
        elif grant == "client_credentials":
            actor = self._check_client(body)
            access, refresh = self.core.tokens.grant(actor, refresh=False,
                                                     user_agent=ctx.req.header("user-agent"))
        elif grant == "robot_credentials" and self.core.auth_dialect.robots:
            actor = self._check_robot(body)  # legacy 040: no refresh token
            access, refresh = self.core.tokens.grant(actor, refresh=False,
                                                     user_agent=ctx.req.header("user-agent"))
        elif grant == "refresh_token":
            access, refresh = self._refresh(body.get("refresh_token"))
        elif grant is None:
            raise oauth2_error("OAuth2RequestError", _INVALID_REQUEST, "invalid_request",
                               "invalid_request", "Check that all parameters have been provided correctly")
        else:
            raise oauth2_error("OAuth2GrantTypeError",
                               "The authorization grant type is not supported by the authorization server",
                               "unsupported_token_grant_type", "unsupported_grant_type",
                               "Check that all required parameters have been provided")  # 004
        return FakeResponse.json(200, self._token_answer(access, refresh))

    def _token_answer(self, access: Token, refresh: Token | None) -> dict:
        answer: dict = {"access_token": access.value, "expires_in": int(self.core.tokens.access_ttl),
                        "token_type": "Bearer", "scope": "global"}
        if refresh is not None:
            answer["refresh_token"] = refresh.value
            if self.core.fake_era.refresh_token_expires_in:  # not on authup beta.24 (legacy 002)
                answer["refresh_token_expires_in"] = int(self.core.tokens.refresh_ttl)
        return answer

    def _check_password(self, body: dict) -> Actor:
        realm = self.realm(body.get("realm_name") or "master") if not body.get("realm_id") else \
            self.store.get("realms", body.get("realm_id"))
        username = str(body.get("username") or "").lower()
        user = next((u for u in self.store.iter("users") if u.get("name") == username
                     and realm is not None and u.get(self.w("realm_id")) == realm["id"]), None)
        if user is None or realm is None or not user.get("active", True) or \
                self.store.passwords.get(user["id"]) != body.get("password"):
            raise FakeError(400, "invalid_credentials", "The user credentials are invalid.",
                            name="EntityCredentialsInvalidError")  # 003
        return Actor("user", user["id"], user["name"], realm["id"], realm["name"])

    def _check_client(self, body: dict) -> Actor:
        key, secret = body.get("client_id"), body.get("client_secret")
        client = self.store.get("clients", key) or self.store.find("clients", "name", key)
        if client is None or not client.get("active", True) or not secret or client.get("secret") != secret:
            if self.core.auth_dialect.legacy_errors:  # authup beta.24 (legacy additions 314, 315)
                raise FakeError(400, "invalid_credentials", "The user credentials are invalid.")
            # beta.62: an unknown client and a wrong secret alike (additions 284, 285)
            raise oauth2_error("OAuth2ClientError", "Client authentication failed", "invalid_client",
                               "invalid_client", status=401)
        realm = self.store.get("realms", client.get(self.w("realm_id"))) or self.master_realm()
        return Actor("client", client["id"], client["name"], realm["id"], realm["name"])

    def _check_robot(self, body: dict) -> Actor:
        """``robot_credentials``: a robot's id and secret (legacy 040; 007, 042 refused)."""
        robot = self.store.get("robots", body.get("id"))
        if robot is None or not robot.get("active", True) or not body.get("secret") \
                or robot.get("secret") != body.get("secret"):
            raise FakeError(400, "invalid_credentials", "The robot credentials are invalid.")
        realm = self.store.get("realms", robot.get(self.w("realm_id"))) or self.master_realm()
        return Actor("robot", robot["id"], robot["name"], realm["id"], realm["name"])

    def _refresh(self, value: Any) -> tuple[Token, Token | None]:
        legacy = self.core.auth_dialect.legacy_errors
        if not value:
            if legacy:  # legacy 013
                raise FakeError(400, "invalid_token", "The token is not defined.",
                                extra={"hint": "Check that all parameters have been provided correctly"})
            raise oauth2_error("OAuth2RequestError", _INVALID_REQUEST, "invalid_request",
                               "invalid_request", "Check that all parameters have been provided correctly")
        tokens = self.core.tokens
        token = tokens.known(str(value))
        if token is None:  # checked before anything else
            if legacy:  # legacy 014; a JWT of someone else: "malformed" (050)
                raise self._legacy_token_error(str(value))
            raise _jwt_error(400, tokens.refusal(str(value)))  # additions 286, 287
        if token.kind != "refresh_token" and not legacy:
            raise oauth2_error("OAuth2GrantError", "unexpected token kind", "invalid_grant",
                               "invalid_grant")  # an access token (additions 288)
        if token.kind != "refresh_token" or token.session.revoked or time.time() >= token.exp:
            raise oauth2_error("OAuth2GrantError", "The refresh token is invalid or expired.",
                               "invalid_grant", "invalid_grant")
        if token.used:
            if not self.core.fake_era.replay_revokes:  # refused, nothing revoked (legacy 010-012)
                raise FakeError(400, "inactive_token", "The  token is not active.")
            tokens.revoke(token.session)
            raise oauth2_error("OAuth2GrantError", "refresh token replay detected; session revoked",
                               "invalid_grant", "invalid_grant")  # 097
        token.used = True
        return tokens.grant(token.session.actor, refresh=True, session=token.session)

    def bad_token(self, service: str, value: str) -> FakeError | None:
        """The answer to a bearer that is not an active access token, or None where the service
        ignores it and answers as for a caller without a token.

        Hub 0.14 (hub-spec README "Invalid tokens"): core and storage ask authup to introspect
        the bearer, and their error sanitizer turns authup's refusal into **500**
        ``internal_error`` with authup's message and no rate-limit headers — for a tampered,
        foreign or non-JWT bearer (additions 277-283, 289, 290; 027) and for an expired one
        (294, 295). authup itself answers 400 ``invalid_token`` (009) but ignores an expired
        bearer (296). A bearer under 16 characters is *accepted* by the real Hub as core's own
        service account (276, 280): a security bug, not modelled — the fake refuses it like any
        other non-JWT. Not recorded, answered the same way: a revoked session's token ("The JWT
        is invalid.").

        Hub 0.8.5: see :meth:`_legacy_token_error`; an expired or revoked token (not recorded)
        gets 401, so clients re-authenticate."""
        refusal = self.core.tokens.refusal(value)
        if not self.core.dialect_of(service).legacy_errors:
            if service != "auth":
                err = _jwt_error(500, refusal)
                err.rate_limited = False
                return err
            return None if refusal == "expired" else _jwt_error(400, refusal)
        if refusal in ("expired", "revoked"):
            if service == "auth":
                return FakeError(401, "token_expired", "The JWT is expired.", name="JWTError",
                                 instanceof=[*_JWT_ERROR])
            return self.core._unauthorized(service)
        err = self._legacy_token_error(value)
        if service != "auth" and err.message != _MALFORMED:
            # a non-JWT on a fresh core/storage: authup's introspection validation error passed
            # through (legacy README; the later "200 as admin" is a server bug, not modelled)
            return FakeError(400, "undefined", "One or many attributes may be invalid.")
        err.rate_limited = service == "auth"  # core's token check runs before its limiter (049)
        return err

    @staticmethod
    def _legacy_token_error(value: str) -> FakeError:
        """authup beta.24's 400 for a token it cannot use: a JWT it did not sign (049, 050) or
        something that is not a JWT at all (014, 019)."""
        if jwt_header(value) is not None:
            return FakeError(400, "invalid_token", _MALFORMED)
        return FakeError(400, "invalid_token", "The token format is not valid.")

    def introspect(self, ctx: Ctx) -> FakeResponse:
        """``POST /token/introspect``: the claims of an active token with the permissions of its
        subject (007), or ``{"active": false}``."""
        body = self.body(ctx)
        value = body.get("token")
        if not isinstance(value, str) or not 16 <= len(value) <= 2048:
            # a body token that fails validation (16-2048 characters) is dropped and the bearer of
            # the request is introspected instead (additions 291)
            _, _, value = ctx.req.header("authorization").partition(" ")
        tokens = self.core.tokens
        token = tokens.active(str(value).strip()) or tokens.active(str(value).strip(), "refresh_token")
        if token is None:
            return FakeResponse.json(200, {"active": False})
        actor = token.session.actor
        if self.core.fake_era.legacy_introspection:
            return FakeResponse.json(200, self._legacy_introspection(token))
        claims = token.claims
        answer: dict = {
            "active": True,
            "permissions": [{"name": n, "client_id": None, "realm_id": None}
                            for n in self._permission_names(actor)],
            "session_id": token.session.id, "user_agent": token.session.user_agent,
            "remote_address": token.session.remote_address, "scope": "global", "sub": actor.id,
            "sub_kind": actor.kind, "realm_id": actor.realm_id, "realm_name": actor.realm_name,
            "amr": ["pwd"] if actor.kind == "user" else ["secret"],
            "acr": "urn:authup:pwd" if actor.kind == "user" else "urn:authup:secret",
            "kind": token.kind, "exp": int(token.exp), "iss": claims.get("iss") or "",
            "realm_access": {"roles": []}, "global_access": {"roles": self._role_names(actor)},
            "jti": token.jti, "iat": token.iat,
        }
        if actor.kind == "user":
            user = self.store.get("users", actor.id) or {}
            answer.update({
                "name": user.get("name"), "family_name": user.get(self.w("last_name")),
                "given_name": user.get(self.w("first_name")), "nickname": user.get(self.w("display_name")),
                "preferred_username": user.get(self.w("display_name")),
                "updated_at": _epoch(user.get(self.w("updated_at"))), "email": user.get("email"),
                "email_verified": True})
        else:
            answer["name"] = actor.name
        return FakeResponse.json(200, answer)

    def _legacy_introspection(self, token: Token) -> dict:
        """authup beta.24's answer (legacy 011, 015): full permission records, no session keys."""
        actor = token.session.actor
        names = set(self._permission_names(actor))
        answer: dict = {
            "active": True,
            "permissions": [p for p in self.store.iter("permissions") if p["name"] in names],
            "kind": token.kind, "jti": token.jti, "iss": token.claims.get("iss") or "",
            "sub": actor.id, "sub_kind": actor.kind, "remote_address": token.session.remote_address,
            "realm_id": actor.realm_id, "realm_name": actor.realm_name, "exp": int(token.exp),
            "scope": "global", "iat": token.iat, "name": actor.name,
        }
        if actor.kind == "user":
            user = self.store.get("users", actor.id) or {}
            stamp = _epoch(user.get(self.w("updated_at")))
            answer.update({
                "family_name": user.get(self.w("last_name")), "given_name": user.get(self.w("first_name")),
                "nickname": user.get(self.w("display_name")),
                "preferred_username": user.get(self.w("display_name")),
                "updated_at": stamp * 1000 if stamp is not None else None,  # milliseconds (015)
                "email": user.get("email"), "email_verified": True})
        return answer

    def _role_names(self, actor: Actor) -> list[str]:
        if actor.kind != "user":
            return []
        names = []
        for link in self.store.iter("user-roles"):
            if link.get(self.w("user_id")) == actor.id:
                role = self.store.get("roles", link.get(self.w("role_id")))
                if role:
                    names.append(role["name"])
        return names

    def _permission_names(self, actor: Actor) -> list[str]:
        """The admin user and the system client hold every permission (007); others what their
        user-/client-/role-permissions grant."""
        if (actor.kind == "user" and actor.name == _seed.ADMIN_USERNAME) or \
                (actor.kind in ("client", "robot") and actor.name == _seed.SYSTEM_CLIENT):
            return [p["name"] for p in self.store.iter("permissions")]
        ids: list[Any] = []
        own = {"user": "user-permissions", "client": "client-permissions",
               "robot": "robot-permissions"}.get(actor.kind)
        key = self.w(f"{actor.kind}_id")
        if own and own in self.store.tables:
            ids += [r.get(self.w("permission_id")) for r in self.store.iter(own) if r.get(key) == actor.id]
        roles = {link.get(self.w("role_id")) for link in self.store.iter("user-roles")
                 if actor.kind == "user" and link.get(self.w("user_id")) == actor.id}
        ids += [r.get(self.w("permission_id")) for r in self.store.iter("role-permissions")
                if r.get(self.w("role_id")) in roles]
        seen = dict.fromkeys(i for i in ids if i)
        return [p["name"] for p in (self.store.get("permissions", i) for i in seen) if p]


_JWT_ERROR = ("@ebec/core/BaseError", "@authup/errors/AuthupError", "@authup/specs/JWTError")
_MALFORMED = "The token payload is malformed."
#: authup's message per :meth:`TokenTable.refusal` (additions 277-283, 286-287, 289-290, 294-295)
_JWT_MESSAGES = {
    "expired": "The JWT has expired.",
    "payload": "The token payload is invalid.",
    "kid": "The token header property kid is invalid.",
    "invalid": "The JWT is invalid.",
    "revoked": "The JWT is invalid.",
}


def _jwt_error(status: int, refusal: str) -> FakeError:
    """authup's JWTError for a refused token: 400 ``invalid_token`` from authup, 500
    ``internal_error`` once core or storage's error sanitizer has passed it on."""
    message = _JWT_MESSAGES[refusal]
    if status == 500:
        return FakeError(500, "internal_error", message)
    return FakeError(status, "invalid_token", message, name="JWTError", instanceof=[*_JWT_ERROR])


_INVALID_REQUEST = ("The request is missing a required parameter, includes an unsupported parameter "
                    "value, repeats a parameter, or is otherwise malformed.")  # 006


def _epoch(stamp: Any) -> int | None:
    if not isinstance(stamp, str):
        return None
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
