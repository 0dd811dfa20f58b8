"""Where the Hub is and who logs in: explicit arguments, then the environment, then ``.env``,
then the public Hub.

Variables (one set, read by :class:`flame_hub.Hub`, the command line, and the clients when they
get no ``base_url``):

``FLAME_HUB_URL``
    the gateway base, e.g. ``http://localhost:3000/`` (services under ``auth/``, ``core/``,
    ``storage/``);
``FLAME_HUB_AUTH_URL``, ``FLAME_HUB_CORE_URL``, ``FLAME_HUB_STORAGE_URL``
    one service's base URL (each wins over the gateway for its service);
``FLAME_HUB_USERNAME`` / ``FLAME_HUB_PASSWORD``
    the ``password`` grant;
``FLAME_HUB_CLIENT_ID`` / ``FLAME_HUB_CLIENT_SECRET``
    the ``client_credentials`` grant (e.g. a node's client);
``FLAME_HUB_TOKEN``
    a bearer token used as it is.

Precedence works per group — the URLs are one group, the credentials another: when any argument
of a group is given, the environment's values of that group are not used at all (so ``url=``
never mixes with a ``FLAME_HUB_STORAGE_URL`` left in the shell). Otherwise a variable in the
environment wins over the same variable in ``.env`` (python-dotenv's rule). A ``.env`` file is
read only when asked (``Hub(dotenv=True)``, ``Hub.from_env()``, the command line).

Secrets (passwords, client secrets, tokens) never appear in ``repr()``, logs or error messages:
errors name the variable, never its value.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

__all__ = ["ENV_VARS", "PUBLIC_HUB", "SERVICES", "HubConfig", "resolve", "read_dotenv",
           "client_defaults", "gateway_urls"]

SERVICES = ("auth", "core", "storage")

#: The public Hub (privateaim.dev): separate hosts, not one gateway.
PUBLIC_HUB = {
    "auth": "https://auth.privateaim.dev/",
    "core": "https://core.privateaim.dev/",
    "storage": "https://storage.privateaim.dev/",
}

#: argument name -> environment variable
ENV_VARS = {
    "url": "FLAME_HUB_URL",
    "auth_url": "FLAME_HUB_AUTH_URL",
    "core_url": "FLAME_HUB_CORE_URL",
    "storage_url": "FLAME_HUB_STORAGE_URL",
    "username": "FLAME_HUB_USERNAME",
    "password": "FLAME_HUB_PASSWORD",
    "client_id": "FLAME_HUB_CLIENT_ID",
    "client_secret": "FLAME_HUB_CLIENT_SECRET",
    "token": "FLAME_HUB_TOKEN",
}
_URL_KEYS = ("url", "auth_url", "core_url", "storage_url")
_CREDENTIAL_KEYS = ("username", "password", "client_id", "client_secret", "token")
_SECRET_KEYS = frozenset({"password", "client_secret", "token"})

log = logging.getLogger("flame_hub.config")
_fallback_logged = threading.Event()


def _slash(url: str) -> str:
    url = url.strip()
    return url if url.endswith("/") else url + "/"


def gateway_urls(url: str) -> dict[str, str]:
    """``http://host/`` -> ``{"auth": "http://host/auth/", "core": ..., "storage": ...}``."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("the Hub URL must be a non-empty string, e.g. 'http://localhost:3000/'")
    base = _slash(url)
    return {service: f"{base}{service}/" for service in SERVICES}


def read_dotenv(path: str | os.PathLike[str] | bool = True) -> dict[str, str]:
    """The ``FLAME_HUB_*`` values of a ``.env`` file (``True``: ``.env`` found from the current
    directory upwards; no file there is no error). Needs python-dotenv."""
    try:
        import dotenv
    except ImportError:
        raise ImportError("reading a .env file needs python-dotenv: pip install python-dotenv "
                          "(or pip install 'flame-hub-client[cli]')") from None
    if path is True:
        found = dotenv.find_dotenv(usecwd=True)
        if not found:
            return {}
        path = found
    file = Path(path)  # type: ignore[arg-type]
    if not file.is_file():
        raise FileNotFoundError(f"no .env file at {file}")
    values = dotenv.dotenv_values(file)
    return {k: v for k, v in values.items() if k.startswith("FLAME_HUB_") and v}


def _environment(environ: Mapping[str, str] | None, dotenv: str | os.PathLike[str] | bool
                 ) -> tuple[dict[str, str], dict[str, str]]:
    """(values by argument name, where each came from) of the environment over ``.env``."""
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    layers: list[tuple[str, Mapping[str, str]]] = []
    if dotenv:
        layers.append((".env", read_dotenv(dotenv)))
    layers.append(("environment", os.environ if environ is None else environ))
    for source, layer in layers:
        for key, var in ENV_VARS.items():
            value = layer.get(var)
            if value is not None and value.strip():
                values[key], sources[key] = value.strip(), f"{var} ({source})"
    return values, sources


@dataclass(frozen=True, repr=False)
class HubConfig:
    """Resolved settings: the three service URLs and the credentials (secrets kept out of repr)."""

    urls: dict[str, str]
    #: the gateway base when the URLs come from one (``None`` for per-service URLs)
    url: str | None = None
    credentials: dict[str, str] = field(default_factory=dict)
    #: where each setting came from ("argument", "FLAME_HUB_URL (environment)", "public Hub", ...)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def is_public(self) -> bool:
        """True when nothing configured a Hub and the public one is used."""
        return self.sources.get("urls") == "public Hub"

    def make_auth(self, *, client: httpx.Client | None = None,
                  async_client: httpx.AsyncClient | None = None) -> httpx.Auth | None:
        """The auth flow the credentials describe (``None``: no credentials, anonymous)."""
        from . import auth

        creds = self.credentials
        http: dict[str, Any] = {"client": client} if client is not None else {}
        if async_client is not None:
            http["async_client"] = async_client
        if "token" in creds:
            return auth.StaticAuth(creds["token"])
        if "client_id" in creds:
            return auth.ClientAuth(creds["client_id"], creds["client_secret"], base_url=self.urls["auth"], **http)
        if "username" in creds:
            return auth.PasswordAuth(creds["username"], creds["password"], base_url=self.urls["auth"], **http)
        return None

    def __repr__(self) -> str:
        shown = {k: ("***" if k in _SECRET_KEYS else v) for k, v in self.credentials.items()}
        where = f"url={self.url!r}" if self.url else f"urls={self.urls!r}"
        return f"HubConfig({where}, credentials={shown!r})"


def _check_credentials(creds: dict[str, str], where: str) -> dict[str, str]:
    """One complete kind of credentials, or a ValueError naming what is missing or mixed."""
    kinds = [kind for kind, keys in (("token", ("token",)), ("client", ("client_id", "client_secret")),
                                     ("password", ("username", "password")))
             if any(k in creds for k in keys)]
    if len(kinds) > 1:
        raise ValueError(f"{where}: give one kind of credentials (username/password, client_id/"
                         f"client_secret or token), not {' and '.join(kinds)}")
    for first, second in (("username", "password"), ("client_id", "client_secret")):
        if (first in creds) != (second in creds):
            missing = second if first in creds else first
            raise ValueError(f"{where}: {missing} is missing ({missing}= or {ENV_VARS[missing]})")
    return creds


def resolve(explicit: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None,
            dotenv: str | os.PathLike[str] | bool = False, services: tuple[str, ...] = SERVICES,
            credentials: bool = True) -> HubConfig:
    """The configuration from explicit arguments (``None`` = not given), then the environment
    (then ``.env`` when ``dotenv`` is set), then the public Hub; see the module docstring.

    ``services`` are the ones that need a URL: a client of one service needs only its own.
    ``credentials=False`` skips the credentials (the caller has its own auth).
    """
    given = {k: v for k, v in (explicit or {}).items() if v is not None}
    unknown = set(given) - set(ENV_VARS)
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    env, env_sources = _environment(environ, dotenv)
    sources: dict[str, str] = {}

    def pick(keys: tuple[str, ...]) -> tuple[dict[str, str], str]:
        """One group: the arguments if any of them is given, else the environment's values."""
        if any(k in given for k in keys):
            return {k: str(given[k]) for k in keys if k in given}, "arguments"
        found = {k: env[k] for k in keys if k in env}
        return found, ", ".join(env_sources[k] for k in found)

    url_values, url_source = pick(_URL_KEYS)
    gateway = url_values.get("url")
    urls: dict[str, str] = {}
    if url_values:
        base = gateway_urls(gateway) if gateway else {}
        for service in SERVICES:
            own = url_values.get(f"{service}_url")
            if own is not None:
                urls[service] = _slash(own)
            elif service in base:
                urls[service] = base[service]
        missing = [s for s in services if s not in urls]
        if missing:
            raise ValueError(f"no URL for the {', '.join(missing)} service (from {url_source}): give the "
                             f"gateway URL (url= or FLAME_HUB_URL) or "
                             + ", ".join(f"{s}_url= / {ENV_VARS[s + '_url']}" for s in missing))
        sources["urls"] = url_source
    else:
        urls = dict(PUBLIC_HUB)
        sources["urls"] = "public Hub"
    cred_values, cred_source = pick(_CREDENTIAL_KEYS) if credentials else ({}, "")
    if cred_values:
        _check_credentials(cred_values, f"credentials from {cred_source}")
        sources["credentials"] = cred_source
    return HubConfig(urls=urls, url=_slash(gateway) if gateway else None, credentials=cred_values,
                     sources=sources)


def log_public_fallback(what: str) -> None:
    """Say once per process that the public Hub is used because nothing configured another."""
    if not _fallback_logged.is_set():
        _fallback_logged.set()
        log.warning("%s: no Hub URL given and neither FLAME_HUB_URL nor FLAME_HUB_<SERVICE>_URL is "
                    "set: using the public Hub (https://{auth,core,storage}.privateaim.dev/)", what)


def client_defaults(service: str, *, want_auth: bool) -> tuple[str, httpx.Auth | None]:
    """A client built without ``base_url``: its URL (and, when it got no ``auth`` either, its
    credentials) from the environment, else the public Hub (logged once)."""
    config = resolve(services=(service,), credentials=want_auth)
    if config.is_public:
        log_public_fallback(f"{service} client")
    return config.urls[service], config.make_auth() if want_auth else None
