"""Authentication flows for the Hub's services (``httpx.Auth`` subclasses).

Each flow works with sync **and** async httpx clients: :meth:`sync_auth_flow` and
:meth:`async_auth_flow` are thin shells over one sans-IO token state machine
(:meth:`_TokenAuth._acquire`, a generator that yields token requests and receives answers).

Token lifecycle (recordings ``tests/hub-recordings/0.14.0/examples`` 001–006, 096/097; its README,
"Refresh tokens are single-use"):

- the first request obtains a token (password / client / robot grant) — lazily;
- ``margin`` seconds before expiry the token is refreshed with the ``refresh_token`` grant;
- refresh is single-flight across threads and asyncio tasks and always presents the newest
  refresh token: authup's refresh tokens are single-use, and replaying one revokes the session;
- when the refresh fails, the flow falls back to a fresh primary grant;
- a 401 from an API triggers one re-authentication and one retry of the request (only when the
  request body can be sent again) — and so do the Hub's other refusals of a token: Hub 0.14's
  core and storage answer an expired or invalid bearer with **500** ``internal_error`` and
  authup's message ("The JWT has expired.", hub-spec additions 294/295), authup and Hub 0.8.5
  with 400 ``invalid_token`` (:func:`~flame_hub._responses.is_token_refusal`). Such a refusal
  comes from the Hub's authentication step, before any handler or the rate limiter ran (the
  recorded 500s carry no rate-limit headers), so the retry is safe for a POST too;
- a bearer that is not a well-formed JWT is refused before anything is sent
  (:func:`check_bearer`): the Hub accepts a bearer under 16 characters as its own service
  account (a Hub security bug, additions 276/280).

Secrets and tokens never appear in ``repr()``, logs or exception messages.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import math
import re
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import anyio
import httpx

from ._drive import adrive, drive
from ._flow import CallFlow, SendStep, Step, acarry_out, carry_out, default_ssl_context, warn_client_wins
from ._httpx2 import AuthBase, client_settings, is_httpx2_client
from ._responses import (
    TOKEN_REFUSAL_STATUSES,
    error_from_response,
    is_token_refusal,
    suggest_base_url,
)
from .errors import AuthenticationError, HubAPIError, HubError, MalformedToken, redact_url

__all__ = ["DEFAULT_AUTH_URL", "PasswordAuth", "ClientAuth", "RobotAuth", "StaticAuth", "check_bearer"]

#: The public Hub's auth service (authup).
DEFAULT_AUTH_URL = "https://auth.privateaim.dev/"
#: connect 5 s, everything else 30 s (the same defaults as the API sessions)
_TOKEN_TIMEOUT = httpx.Timeout(30.0, connect=5.0)

log = logging.getLogger("flame_hub.auth")
#: the flow of token requests: no retries (see _TokenAuth._token_flow), any status is an answer
_TOKEN_CALLS = CallFlow(0, None, None)
_ANY_STATUS = range(100, 600)


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
#: authup introspects tokens of 16 to 2048 characters; anything else makes it describe the
#: *introspecting service* instead, so the Hub serves the request as core's own service account
#: (hub-spec additions 276, 280, 291)
_BEARER_LENGTH = range(16, 2049)


def jwt_header(token: str) -> dict[str, Any] | None:
    """The decoded header of a JWT-shaped string — three dot-separated base64url segments whose
    first one decodes to a JSON object — else ``None``. Nothing is verified."""
    parts = token.split(".")
    if len(parts) != 3 or not all(_BASE64URL.fullmatch(p) for p in parts):
        return None
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except ValueError:
        return None
    return header if isinstance(header, dict) else None


def check_bearer(token: str) -> str:
    """``token`` if it is a well-formed JWT — three base64url segments, a header that is a JSON
    object naming its ``alg``, 16 to 2048 characters — else :class:`~flame_hub.errors.MalformedToken`
    (a ``ValueError``, and the ``HubAPIError`` authup would answer).

    The Hub must never see anything else as a bearer: a malformed one it does not always refuse
    (a bearer under 16 characters is served as the Hub's own service account, additions 276/280).
    The message never shows the token."""
    header = jwt_header(token) if len(token) in _BEARER_LENGTH else None
    if header is None or "alg" not in header:
        hint = " (without the 'Bearer ' prefix)" if token.lower().startswith("bearer ") else ""
        message = (
            f"The JWT is invalid: the bearer token ({len(token)} characters) is not a well-formed JWT{hint}: "
            "expected three base64url segments separated by dots, 16 to 2048 characters, such as the "
            "access_token that the auth service's POST /token answers with. It was not sent: the Hub "
            "treats some malformed bearers as its own service account")
        raise MalformedToken(message, status_code=400, code="invalid_token",
                             payload={"statusCode": 400, "code": "invalid_token", "message": message})
    return token


def _replayable(request: httpx.Request) -> bool:
    """Whether the request body can be sent a second time (bytes in memory, or no body)."""
    return isinstance(request.stream, httpx.ByteStream) or hasattr(request, "_content")


def _refused(response: httpx.Response) -> bool:
    """The API refused the request's token: a 401 or one of the Hub's other token refusals."""
    return response.status_code == 401 or is_token_refusal(response)


@dataclass(frozen=True)
class _Token:
    """An access token and when to stop using it (all times from the auth's monotonic clock)."""

    access_token: str
    refresh_at: float
    refresh_token: str | None
    refresh_expires_at: float | None


@dataclass(frozen=True)
class _Grant:
    """A token request the state machine wants sent: ``POST <auth>/token`` with this JSON body."""

    kind: Literal["primary", "refresh"]
    body: dict[str, str]


class StaticAuth(AuthBase):
    """A fixed bearer token: sets ``Authorization: Bearer <token>`` and never refreshes."""

    def __init__(self, token: str | None = None, *, access_token: str | None = None) -> None:
        value = token if token is not None else access_token
        if not isinstance(value, str) or not value.strip():
            raise ValueError("StaticAuth needs a non-empty token string")
        self._token = value.strip()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Set the bearer header and send the request once — unless the token is not a
        well-formed JWT: then :class:`~flame_hub.errors.MalformedToken` and nothing is sent
        (checked here rather than when the object is made, as flame-hub-client 1.1.0 scripts
        build a placeholder ``StaticAuth`` that each call overrides)."""
        request.headers["Authorization"] = f"Bearer {check_bearer(self._token)}"
        yield request

    def __repr__(self) -> str:
        return "StaticAuth(token='***')"


class _TokenAuth(AuthBase):
    """Shared machinery of the flows that obtain tokens from authup's ``POST /token``."""

    _grant_name = "token"

    def __init__(
        self,
        base_url: str | None = None,
        client: httpx.Client | None = None,
        *,
        async_client: httpx.AsyncClient | None = None,
        margin: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        #: timeout of the token clients this flow creates itself
        self._token_timeout = _TOKEN_TIMEOUT
        if is_httpx2_client(client):
            # a flame-hub-client 1.1.0 script's token client: token requests go to its base URL
            # with its timeout, as in 1.1.0 (through an httpx client: see flame_hub._httpx2)
            given_url, _, self._token_timeout = client_settings(client)
            if given_url:
                if base_url is not None and _with_slash(str(base_url).strip()) != _with_slash(given_url):
                    warn_client_wins(base_url, None, None, None)
                base_url = given_url
            client = None
        if client is not None and not isinstance(client, httpx.Client):
            raise ValueError("client must be an httpx.Client (pass an httpx.AsyncClient as async_client=)")
        if async_client is not None and not isinstance(async_client, httpx.AsyncClient):
            raise ValueError("async_client must be an httpx.AsyncClient")
        if not isinstance(margin, (int, float)) or margin < 0 or not math.isfinite(margin):
            raise ValueError(f"margin must be a finite number of seconds >= 0, not {margin!r}")
        if base_url is not None and not str(base_url).strip():
            raise ValueError("base_url must not be empty")
        self._base_url = None if base_url is None else _with_slash(str(base_url).strip())
        self._client = client
        self._async_client = async_client
        self._margin = float(margin)
        self._clock = clock
        self._state: _Token | None = None
        # One lock for threads and tasks alike: threads block on it, tasks poll it without
        # blocking the event loop. It is never held across the yield of the API request.
        self._lock = threading.Lock()
        self._own_client: httpx.Client | None = None
        self._borrowed_async: httpx.AsyncClient | None = None

    # ------------------------------------------------------------------ sans-IO core
    def _grant_body(self) -> dict[str, str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _grant_error(self, response: httpx.Response) -> HubAPIError:
        """The exception for a failed primary grant: :class:`AuthenticationError` for a refused
        login (400/401), a :class:`NotFound` that shows the auth service's URL shape for a 404
        (the token endpoint is not where ``base_url`` points), else the status's class."""
        error = error_from_response(response)
        if error.status_code in (400, 401):
            return _login_refused(error, f"{self._login_name()} could not log in: {error.message}", self._login_hint())
        if error.status_code == 404 and error.url:
            return error.with_hint(
                f"no auth service answers at {redact_url(error.url.rpartition('/')[0])}/: the base_url of "
                f"{type(self).__name__} must be the auth service's base URL, e.g. "
                f"{suggest_base_url(error.url, 'auth')} behind the Hub's gateway")
        return error

    def _login_name(self) -> str:
        """Who tried to log in, for messages (never the secret)."""
        return "this auth flow"

    def _login_hint(self) -> str | None:
        """What to check when the login is refused."""
        return None

    def _fresh_token(self, stale: str | None) -> str | None:
        """The current token if it can be used now and is not the one known to be rejected."""
        state = self._state
        if state is not None and state.access_token != stale and self._clock() < state.refresh_at:
            return state.access_token
        return None

    def _store(self, response: httpx.Response, sent_at: float) -> str:
        try:
            data = response.json()
        except ValueError:
            data = None
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            self._state = None
            raise HubError(f"the token endpoint answered {response.status_code} without an access_token")
        expires_in = data.get("expires_in")
        if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool) and expires_in >= 0:
            # refresh `margin` seconds early, but never earlier than half the token's lifetime
            # (expires_in 0: use it for this request, renew before the next one)
            refresh_at = sent_at + expires_in - min(self._margin, expires_in / 2)
        else:
            refresh_at = math.inf  # lifetime unknown: rely on the 401 path
        refresh_token = data.get("refresh_token")
        refresh_in = data.get("refresh_token_expires_in")
        self._state = _Token(
            access_token=token,
            refresh_at=refresh_at,
            refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
            refresh_expires_at=sent_at + refresh_in
            if isinstance(refresh_in, (int, float)) and not isinstance(refresh_in, bool)
            else None,
        )
        return token

    def _acquire(self, stale: str | None) -> Generator[_Grant, httpx.Response, str]:
        """Return a usable access token, yielding the token requests needed to get one.

        Runs with the lock held. ``stale`` is a token the API just rejected (401): it is
        replaced even if our clock says it is still valid.
        """
        token = self._fresh_token(stale)
        if token is not None:
            return token  # another thread/task renewed it while we waited for the lock
        state = self._state
        now = self._clock()
        if state is not None and state.refresh_token and (
            state.refresh_expires_at is None or now < state.refresh_expires_at
        ):
            response = yield _Grant("refresh", {"grant_type": "refresh_token", "refresh_token": state.refresh_token})
            if response.status_code == 200:
                return self._store(response, now)
            # expired, revoked or already used: the refresh token is dead either way
            log.info("token refresh failed with %s; obtaining a new token with the %s grant",
                     response.status_code, self._grant_name)
        self._state = None
        now = self._clock()
        response = yield _Grant("primary", self._grant_body())
        if response.status_code != 200:
            raise self._grant_error(response)
        return self._store(response, now)

    # ------------------------------------------------------------------ I/O shells
    def _token_request(self, client: httpx.Client | httpx.AsyncClient, grant: _Grant) -> httpx.Request:
        """``POST <auth>/token`` for ``grant``, built by the client that will send it."""
        if self._base_url is not None:
            url = self._base_url + "token"
        elif str(client.base_url):
            url = "token"  # relative to the given client's base URL
        else:
            url = DEFAULT_AUTH_URL + "token"
        return client.build_request("POST", url, json=grant.body, headers={"Accept": "application/json"})

    def _sync_http(self) -> httpx.Client:
        if self._client is not None:
            return self._client
        if self._own_client is None:
            transport = getattr(self._async_client, "_transport", None)
            if not isinstance(transport, httpx.BaseTransport):
                transport = None
            self._own_client = httpx.Client(
                timeout=self._token_timeout, transport=transport,
                verify=default_ssl_context() if transport is None else True)
        return self._own_client

    @staticmethod
    def _token_flow(request: httpx.Request) -> Generator[Step, Any, httpx.Response]:
        """A token request goes through the same call flow as every API request (the token
        client's timeouts, the same connection errors); any status is an answer for
        :meth:`_acquire` to read. It is never retried (a ``POST``: the API request that needed
        the token is, when it is idempotent) and not paced (the pacer counts the API service's
        budget, not authup's)."""
        return _TOKEN_CALLS.flow("POST", _ANY_STATUS, 0, lambda: SendStep(request, None, False))

    def _send_sync(self, grant: _Grant) -> httpx.Response:
        client = self._sync_http()
        request = self._token_request(client, grant)
        return drive(self._token_flow(request), functools.partial(carry_out, client, time.sleep))

    async def _send_async(self, client: httpx.AsyncClient, grant: _Grant) -> httpx.Response:
        request = self._token_request(client, grant)
        return await adrive(self._token_flow(request), functools.partial(acarry_out, client, anyio.sleep))

    def _sync_token(self, stale: str | None = None) -> str:
        token = self._fresh_token(stale)
        if token is not None:
            return token
        with self._lock:
            return drive(self._acquire(stale), self._send_sync)

    async def _run_async(self, client: httpx.AsyncClient, stale: str | None) -> str:
        return await adrive(self._acquire(stale), functools.partial(self._send_async, client))

    async def _async_token(self, stale: str | None = None) -> str:
        token = self._fresh_token(stale)
        if token is not None:
            return token
        delay = 0.001
        while not self._lock.acquire(blocking=False):
            await anyio.sleep(delay)
            delay = min(delay * 2, 0.02)
        try:
            token = self._fresh_token(stale)
            if token is not None:
                return token  # another task renewed it while we waited: no client, no request
            client = self._async_client or self._borrowed_async_client()
            if client is not None:
                return await self._run_async(client, stale)
            # A private client per acquisition: tokens are rare, and a pooled connection must
            # not outlive the event loop it was opened in (asyncio.run() twice, pytest-anyio).
            given = self._client
            async with httpx.AsyncClient(
                base_url=given.base_url if given is not None else "",
                timeout=given.timeout if given is not None else self._token_timeout,
                verify=default_ssl_context(),
            ) as own:
                return await self._run_async(own, stale)
        finally:
            self._lock.release()

    def _borrowed_async_client(self) -> httpx.AsyncClient | None:
        """An AsyncClient over the given sync client's transport when it also speaks async
        (``httpx.MockTransport``, ``FakeHub().transport()``), else ``None``."""
        if self._borrowed_async is None and self._client is not None:
            transport = getattr(self._client, "_transport", None)
            if isinstance(transport, httpx.AsyncBaseTransport):
                self._borrowed_async = httpx.AsyncClient(
                    transport=transport, base_url=self._client.base_url, timeout=self._client.timeout
                )
        return self._borrowed_async

    # ------------------------------------------------------------------ httpx.Auth
    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Authenticate ``request``; when the Hub refuses the token (a 401, or its 500/400 token
        answers: :func:`~flame_hub._responses.is_token_refusal`), re-authenticate once and send it
        once more."""
        token = self._sync_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code in TOKEN_REFUSAL_STATUSES:
            response.read()  # a small error body: is it about the token?
        if _refused(response) and _replayable(request):
            request.headers["Authorization"] = f"Bearer {self._sync_token(stale=token)}"
            yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The asyncio/trio twin of :meth:`sync_auth_flow` (same state machine)."""
        token = await self._async_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code in TOKEN_REFUSAL_STATUSES:
            await response.aread()
        if _refused(response) and _replayable(request):
            request.headers["Authorization"] = f"Bearer {await self._async_token(stale=token)}"
            yield request

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("use sync_auth_flow or async_auth_flow")  # pragma: no cover

    # ------------------------------------------------------------------ public helpers
    def invalidate(self) -> None:
        """Forget the current token; the next request obtains a new one."""
        with self._lock:
            self._state = None

    def close(self) -> None:
        """Close the HTTP client this flow created for token requests (never a given one)."""
        if self._own_client is not None:
            self._own_client.close()
            self._own_client = None

    async def aclose(self) -> None:
        """Async twin of :meth:`close`."""
        self.close()
        if self._borrowed_async is not None:
            await self._borrowed_async.aclose()
            self._borrowed_async = None

    def _repr_fields(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        fields = {**self._repr_fields(), "base_url": self._base_url}
        inner = ", ".join(f"{k}={v!r}" for k, v in fields.items() if v is not None)
        return f"{type(self).__name__}({inner})"


class _SecretAuth(_TokenAuth):
    """A grant that presents an identity and a secret (user name/password, client or robot
    id/secret). The identity is a public attribute; the secret is kept out of ``repr()``."""

    #: (identity argument, secret argument) names: the identity is stored under its name
    _arg_names: ClassVar[tuple[str, str]]
    #: (identity key, secret key) in the grant body
    _body_keys: ClassVar[tuple[str, str]]
    _identity_hint: ClassVar[str] = "a non-empty string"
    #: what the identity is, in messages ("user 'admin' could not log in")
    _who: ClassVar[str]

    def __init__(self, identity: str, secret: str, base_url: str | None, client: httpx.Client | None,
                 **kwargs: Any) -> None:
        identity_name, secret_name = self._arg_names
        if not isinstance(identity, str) or not identity:
            raise ValueError(f"{identity_name} must be {self._identity_hint}")
        if not isinstance(secret, str) or not secret:
            raise ValueError(f"{secret_name} must be a non-empty string")
        super().__init__(base_url, client, **kwargs)
        setattr(self, identity_name, identity)
        self._secret = secret

    def _identity(self) -> str:
        return getattr(self, self._arg_names[0])

    def _login_name(self) -> str:
        return f"{self._who} {self._identity()!r}"

    def _login_hint(self) -> str:
        return f"check the {' and '.join(self._arg_names)} given to {type(self).__name__}"

    def _grant_body(self) -> dict[str, str]:
        identity_key, secret_key = self._body_keys
        return {"grant_type": self._grant_name, identity_key: self._identity(), secret_key: self._secret}

    def _repr_fields(self) -> dict[str, Any]:
        return {self._arg_names[0]: self._identity()}


class PasswordAuth(_SecretAuth):
    """User name and password (``password`` grant), refreshed with the ``refresh_token`` grant.

    ``base_url`` is the auth service's base (default ``https://auth.privateaim.dev/``); token
    requests go through ``client`` (an ``httpx.Client``) or an internal one, and through
    ``async_client`` (an ``httpx.AsyncClient``) when used by async clients. As in
    flame-hub-client 1.1.0, ``client`` may also be an ``httpx2.Client``: token requests then go
    to its base URL with its timeout (this flow's own httpx client sends them).
    """

    _grant_name = "password"
    _arg_names = _body_keys = ("username", "password")
    _who = "user"
    username: str

    def __init__(
        self,
        username: str,
        password: str,
        base_url: str | None = None,
        client: httpx.Client | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(username, password, base_url, client, **kwargs)


class ClientAuth(_SecretAuth):
    """An authup client's id and secret (``client_credentials`` grant) — e.g. a node's client."""

    _grant_name = "client_credentials"
    _arg_names = _body_keys = ("client_id", "client_secret")
    _who = "client"
    client_id: str

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        base_url: str | None = None,
        client: httpx.Client | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(client_id, client_secret, base_url, client, **kwargs)


class RobotAuth(_SecretAuth):
    """A robot's id and secret (``robot_credentials`` grant) — authup before 1.0 only.

    Current authup has no robots; there the token endpoint rejects the grant and this flow
    raises :class:`~flame_hub.errors.BadRequest` telling you to use :class:`ClientAuth`.
    """

    _grant_name = "robot_credentials"
    _arg_names = ("robot_id", "robot_secret")
    _who = "robot"
    _body_keys = ("id", "secret")
    _identity_hint = "a non-empty string or UUID"
    robot_id: str

    def __init__(
        self,
        robot_id: str,
        robot_secret: str,
        base_url: str | None = None,
        client: httpx.Client | None = None,
        **kwargs: Any,
    ) -> None:
        robot_id = str(robot_id) if robot_id is not None and not isinstance(robot_id, str) else robot_id  # a UUID
        super().__init__(robot_id, robot_secret, base_url, client, **kwargs)

    def _grant_error(self, response: httpx.Response) -> HubAPIError:
        error = super()._grant_error(response)
        payload = error.payload if isinstance(error.payload, dict) else {}
        if response.status_code == 400 and (
            payload.get("code") == "unsupported_token_grant_type" or payload.get("error") == "unsupported_grant_type"
        ):
            # authup >= 1.0 (Hub >= 0.3 clients): robots are gone (hub-spec example 004)
            return _login_refused(
                error,
                "The auth server does not support the robot_credentials grant (authup 1.0 has no robots). "
                "Use flame_hub.auth.ClientAuth(client_id=..., client_secret=...) with the node's client instead.",
                None)
        return error


def _login_refused(error: HubAPIError, message: str, hint: str | None) -> AuthenticationError:
    """``error`` (a refused token request) as an :class:`AuthenticationError` with this message."""
    return AuthenticationError(message, status_code=error.status_code, code=error.code, issues=error.issues,
                               method=error.method, url=error.url, body=error.body, payload=error.payload,
                               response=error.response, hint=hint)
