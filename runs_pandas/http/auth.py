"""Credentials from each provider's usual places, and the `httpx.Auth` flow that sends them.

Where a secret comes from is a small named source (`env`, `databrickscfg`, `azure_identity`)
that the catalog picks by name, tried in its order. A secret is checked when read (surrounding
whitespace stripped; control characters and non-ASCII refused, naming the source and never
the value), kept in a `pydantic.SecretStr`, and put on a request only inside the auth flow,
so no caller's locals, repr, log line or verbose traceback holds it. It goes only to the
origin it was issued for.
"""

from __future__ import annotations

import configparser
import os
import threading
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, overload

import httpx
from pydantic import SecretStr

from runs_pandas.catalog import CredentialSource, Provider
from runs_pandas.errors import AuthError
from runs_pandas.http.azure import _quiet_azure_identity, azure_failure


@dataclass(frozen=True)
class Source:
    """One place a secret may come from: how to read it and how to name it to a user."""

    read: Callable[[Credentials, Provider, CredentialSource], str | None]
    describe: Callable[[CredentialSource], str]
    keep: bool = True  # False for tokens the source refreshes itself (azure-identity)


def _read_env(_: Credentials, __: Provider, source: CredentialSource) -> str | None:
    return os.environ.get(source.env or "") or None


def _read_databrickscfg(_: Credentials, __: Provider, ___: CredentialSource) -> str | None:
    """The token of the profile DATABRICKS_CONFIG_PROFILE (or DEFAULT) in ~/.databrickscfg."""
    path = Path(os.environ.get("DATABRICKS_CONFIG_FILE", "~/.databrickscfg")).expanduser()
    if not path.is_file():
        return None
    parser = configparser.ConfigParser()
    parser.read(path)
    profile = os.environ.get("DATABRICKS_CONFIG_PROFILE", "DEFAULT")
    if profile != "DEFAULT" and not parser.has_section(profile):
        return None
    return parser.get(profile, "token", fallback=None)


def _read_azure_identity(credentials: Credentials, provider: Provider, source: CredentialSource) -> str | None:
    """A current token from the session's TokenCredential (DefaultAzureCredential unless the
    user gave one), for the scope of the ARM endpoint actually used.

    The credential object is kept (it caches and refreshes tokens), the token is not:
    a notebook open for hours keeps working.
    """
    credential = credentials._token_credentials.get(provider.name)
    if credential is None:
        try:
            from azure.identity import DefaultAzureCredential  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            return None
        credential = credentials._token_credentials[provider.name] = DefaultAzureCredential()
    scope = token_scope(credentials.endpoint_of(provider), source.scope)
    with _quiet_azure_identity():
        try:
            return str(credential.get_token(scope).token)
        except Exception as exc:  # noqa: BLE001  azure-identity has its own error tree
            raise azure_failure(credential, scope, exc) from None


def token_scope(endpoint: str | None, default: str | None) -> str:
    """The `.default` scope of the endpoint in use (a sovereign cloud's own), else the catalog's."""
    if endpoint:
        url = httpx.URL(endpoint)
        port = "" if url.port is None else f":{url.port}"
        return f"{url.scheme}://{url.host}{port}/.default"
    return default or "https://management.azure.com/.default"


SOURCES: dict[str, Source] = {
    "env": Source(_read_env, lambda s: f"the environment variable {s.env}"),
    "databrickscfg": Source(
        _read_databrickscfg,
        lambda s: "a token in ~/.databrickscfg (profile DATABRICKS_CONFIG_PROFILE or DEFAULT)",
    ),
    "azure_identity": Source(
        _read_azure_identity,
        lambda s: "azure-identity's DefaultAzureCredential (pip install 'runs_pandas[azure]')",
        keep=False,
    ),
}
GIVEN = "the secrets= given to the Session"


def checked(value: str, where: str) -> SecretStr:
    """The secret with surrounding whitespace stripped; an AuthError naming `where` (never the
    value) when it is empty or holds control characters or non-ASCII, which no header can carry."""
    text = value.strip()
    if not text:
        raise AuthError(f"the credential from {where} is empty")
    bad = next((ch for ch in text if ord(ch) < 32 or ord(ch) == 127 or ord(ch) > 126), None)
    if bad is not None:
        kind = "a control character" if ord(bad) < 32 or ord(bad) == 127 else "a non-ASCII character"
        raise AuthError(
            f"the credential from {where} holds {kind}; a credential is printable ASCII. "
            f"Copy it again from the provider (the value is not shown here)"
        )
    return SecretStr(text)


class Credentials:
    """Resolves and holds each provider's secret; `auth()` is the flow that sends it."""

    def __init__(
        self,
        secrets: Mapping[str, str] | None = None,
        *,
        token_credentials: Mapping[str, Any] | None = None,
        endpoint: Callable[[Provider], str | None] | None = None,
    ) -> None:
        self._given = dict(secrets or {})  # checked when first used: errors belong to a query
        # a user's own TokenCredential per provider (azure-identity's protocol: get_token)
        self._token_credentials: dict[str, Any] = dict(token_credentials or {})
        self._endpoint = endpoint
        self._resolved: dict[str, tuple[SecretStr, str]] = {}
        self._known: set[str] = set()  # every secret handed out, to scrub from error text
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Credentials(providers={sorted(set(self._given) | set(self._resolved))})"

    def endpoint_of(self, provider: Provider) -> str | None:
        """The base URL the session sends `provider`'s requests to, when it replaces the catalog's."""
        if self._endpoint is not None:
            return self._endpoint(provider)
        return os.environ.get(provider.endpoint_env) or None

    def auth(self, provider: Provider) -> SecretAuth:
        """The auth flow for `provider` (resolved now, so a missing secret fails before sending)."""
        secret, _ = self._secret(provider)
        return SecretAuth(provider, secret)

    def source(self, provider: Provider) -> str:
        """Where the provider's secret came from, in words (for errors); never the secret."""
        with self._lock:
            if provider.name in self._given:
                return GIVEN
            if provider.name in self._token_credentials:
                return f"the TokenCredential given to the Session ({type(self._token_credentials[provider.name]).__name__})"
            if provider.name in self._resolved:
                return self._resolved[provider.name][1]
        places = [SOURCES[s.type].describe(s) for s in provider.auth.sources]
        return " or ".join(places)

    @overload
    def scrub(self, text: str) -> str: ...
    @overload
    def scrub(self, text: bytes) -> bytes: ...

    def scrub(self, text: str | bytes) -> str | bytes:
        """`text` with every secret this object has handed out replaced by `***`."""
        with self._lock:
            known = sorted(self._known, key=len, reverse=True)
        for secret in known:
            if isinstance(text, bytes):
                if secret.encode() in text:
                    text = text.replace(secret.encode(), b"***")
            elif secret in text:
                text = text.replace(secret, "***")
        return text

    def _secret(self, provider: Provider) -> tuple[SecretStr, str]:
        with self._lock:
            if provider.name in self._resolved:
                return self._resolved[provider.name]
            if provider.name in self._given:
                found = (checked(self._given[provider.name], GIVEN), GIVEN)
                return self._keep(provider, found, keep=True)
            for source in provider.auth.sources:
                if provider.name in self._token_credentials and source.type != "azure_identity":
                    continue  # the user's own TokenCredential wins over the environment
                piece = SOURCES[source.type]
                value = piece.read(self, provider, source)
                if value:
                    where = piece.describe(source)
                    return self._keep(provider, (checked(value, where), where), keep=piece.keep)
            raise AuthError(_missing_message(provider))

    def _keep(self, provider: Provider, found: tuple[SecretStr, str], *, keep: bool) -> tuple[SecretStr, str]:
        self._known.add(found[0].get_secret_value())
        if keep:
            self._resolved[provider.name] = found
        return found


class SecretAuth(httpx.Auth):
    """Sets the provider's auth header (and its extra headers) on the request being sent.

    The secret is read into the header inside this flow only: no frame of the caller holds
    it, and the repr shows the provider, not the value.
    """

    def __init__(self, provider: Provider, secret: SecretStr) -> None:
        self._provider = provider
        self._secret = secret

    def __repr__(self) -> str:
        return f"SecretAuth({self._provider.name}, header={self._provider.auth.header!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        auth = self._provider.auth
        prefix = f"{auth.scheme} " if auth.scheme else ""
        request.headers[auth.header] = prefix + self._secret.get_secret_value()
        for header, env in auth.extra_headers.items():
            if os.environ.get(env):
                request.headers[header] = checked(os.environ[env], f"the environment variable {env}").get_secret_value()
        yield request


def same_origin(a: str, b: str) -> bool:
    """True when two URLs share scheme, host and port: where a secret may go."""
    return _origin(a) == _origin(b)


@lru_cache(maxsize=256)
def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of `url`; cached, as every page of a series is checked
    against the series' first URL."""
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port


def _missing_message(provider: Provider) -> str:
    places = [SOURCES[source.type].describe(source) for source in provider.auth.sources]
    return (
        f"no credentials for {provider.name}: set {' or '.join(places)}; "
        f"or use the offline sandbox (Session(sandbox=True) or RUNS_PANDAS_SANDBOX=1)"
    )
