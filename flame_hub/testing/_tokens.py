"""Access and refresh tokens of the fake authup: issue, verify, rotate, revoke.

Tokens are JWT-shaped (HS256 with a per-hub secret and key id ``kid``, as authup's carry one) so
that clients which peek at ``exp`` work, but the fake only trusts its own table.
:meth:`TokenTable.refusal` tells why a bearer is not active, the way authup's verifier does
(hub-spec README "Invalid tokens"; additions 277-283, 289-290, 294-295). Refresh tokens are
single-use and rotate; presenting a used one revokes the whole session, its access tokens
included (examples 096, 097). The legacy era (authup beta.24) refuses a replay without revoking
anything (legacy README, 010–012).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field

from ..auth import jwt_header


@dataclass
class Actor:
    """Who a token speaks for."""

    kind: str  # "user" | "client" | "robot"
    id: str
    name: str
    realm_id: str
    realm_name: str


@dataclass
class Session:
    id: str
    actor: Actor
    user_agent: str = ""
    remote_address: str = "127.0.0.1"
    revoked: bool = False


@dataclass
class Token:
    value: str
    kind: str  # "access_token" | "refresh_token"
    session: Session
    iat: int
    exp: float
    jti: str
    used: bool = False
    claims: dict = field(default_factory=dict)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenTable:
    """Every token issued by one fake Hub, with its session."""

    def __init__(self, *, access_ttl: float, refresh_ttl: float = 259200, issuer: str = ""):
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.issuer = issuer
        self._secret = secrets.token_bytes(32)
        self.kid = str(uuid.uuid4())
        self._tokens: dict[str, Token] = {}

    def _encode(self, claims: dict) -> str:
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": self.kid}).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"

    def _issue(self, session: Session, kind: str, ttl: float) -> Token:
        now = time.time()
        actor = session.actor
        jti = str(uuid.uuid4())
        claims = {
            "kind": kind, "jti": jti, "iss": self.issuer, "sub": actor.id,
            "sub_kind": actor.kind, "realm_id": actor.realm_id, "realm_name": actor.realm_name,
            "session_id": session.id, "scope": "global", "iat": int(now), "exp": int(now + ttl),
        }
        token = Token(self._encode(claims), kind, session, int(now), now + ttl, jti,
                      claims=claims)
        self._tokens[token.value] = token
        return token

    def grant(self, actor: Actor, *, refresh: bool, user_agent: str = "",
              session: Session | None = None) -> tuple[Token, Token | None]:
        """Issue an access token (and a refresh token) in a new or the given session."""
        session = session or Session(str(uuid.uuid4()), actor, user_agent=user_agent)
        access = self._issue(session, "access_token", self.access_ttl)
        return access, (self._issue(session, "refresh_token", self.refresh_ttl) if refresh else None)

    def active(self, value: str, kind: str = "access_token") -> Token | None:
        """The token if it is known, of ``kind``, unexpired and its session not revoked."""
        token = self._tokens.get(value)
        if token is None or token.kind != kind or token.session.revoked:
            return None
        if time.time() >= token.exp:
            return None
        return token

    def known(self, value: str) -> Token | None:
        return self._tokens.get(value)

    def refusal(self, value: str) -> str:
        """Why a bearer that is not an active access token is refused: ``"expired"`` (one of
        ours, past its ``exp``), ``"revoked"`` (ours, its session revoked or not an access
        token), ``"payload"`` (our key id, but not a token we issued: a tampered signature or
        payload), ``"kid"`` (a JWT with another or no key id: someone else's) or ``"invalid"``
        (not a JWT at all)."""
        token = self._tokens.get(value)
        if token is not None:
            if token.kind == "access_token" and not token.session.revoked and time.time() >= token.exp:
                return "expired"
            return "revoked"
        header = jwt_header(value)
        if header is None:
            return "invalid"
        return "payload" if header.get("kid") == self.kid else "kid"

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far expired (``hub.expire_tokens()``)."""
        now = time.time()
        for token in self._tokens.values():
            if token.kind == "access_token":
                token.exp = min(token.exp, now - 1)

    def revoke(self, session: Session) -> None:
        session.revoked = True

    def revoke_actor(self, actor_id: str) -> None:
        """Revoke every session of a user or client (it was deleted)."""
        for token in self._tokens.values():
            if token.session.actor.id == actor_id:
                token.session.revoked = True
