"""Credentials from each provider's usual places, and the headers that carry them.

A secret lives in a `pydantic.SecretStr`, so no repr, log line or error shows it, and it is
only put on a request to the origin it was issued for.
"""

from __future__ import annotations

import configparser
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from runs_pandas.catalog import CredentialSource, Provider
from runs_pandas.errors import AuthError


class Credentials:
    """Resolves and holds each provider's secret; `headers()` adds them to a request."""

    def __init__(self, secrets: Mapping[str, str] | None = None) -> None:
        self._given = {name: SecretStr(value) for name, value in (secrets or {}).items()}
        self._resolved: dict[str, SecretStr] = {}
        self._azure: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Credentials(providers={sorted(set(self._given) | set(self._resolved))})"

    def headers(self, provider: Provider) -> dict[str, str]:
        """The auth headers for `provider` (secret included): only for its own origin."""
        secret = self._secret(provider)
        auth = provider.auth
        value = f"{auth.scheme} {secret.get_secret_value()}" if auth.scheme else secret.get_secret_value()
        headers = {auth.header: value}
        for header, env in auth.extra_headers.items():
            if os.environ.get(env):
                headers[header] = os.environ[env]
        return headers

    def _secret(self, provider: Provider) -> SecretStr:
        with self._lock:
            if provider.name in self._given:
                return self._given[provider.name]
            if provider.name in self._resolved:
                return self._resolved[provider.name]
            for source in provider.auth.sources:
                if source.type == "azure_identity":
                    token = self._azure_token(provider, source)
                    if token:
                        return SecretStr(token)  # not kept: azure-identity refreshes it
                    continue
                found = _from_source(source)
                if found:
                    self._resolved[provider.name] = SecretStr(found)
                    return self._resolved[provider.name]
            raise AuthError(_missing_message(provider))

    def _azure_token(self, provider: Provider, source: CredentialSource) -> str | None:
        """A current token from DefaultAzureCredential, for the endpoint in use.

        The credential object is kept (it caches and refreshes tokens), the token is not:
        a notebook open for hours keeps working. A sovereign cloud's endpoint
        (RUNS_PANDAS_AZURE_ENDPOINT) asks for a token for that cloud.
        """
        if self._azure is None:
            try:
                from azure.identity import DefaultAzureCredential  # type: ignore[import-not-found]
            except ImportError:
                return None
            self._azure = DefaultAzureCredential()
        endpoint = os.environ.get(provider.endpoint_env)
        scope = f"{endpoint.rstrip('/')}/.default" if endpoint else source.scope
        try:
            return str(self._azure.get_token(scope or "https://management.azure.com/.default").token)
        except Exception as exc:  # noqa: BLE001  azure-identity has its own error tree
            raise AuthError(f"azure-identity could not get a token for {scope}: {exc}") from None


def same_origin(a: str, b: str) -> bool:
    """True when two URLs share scheme, host and port: where a secret may go."""
    ua, ub = httpx.URL(a), httpx.URL(b)
    return (ua.scheme, ua.host, ua.port) == (ub.scheme, ub.host, ub.port)


def _from_source(source: CredentialSource) -> str | None:
    if source.type == "env":
        return os.environ.get(source.env or "") or None
    if source.type == "databrickscfg":
        return _databrickscfg_token()
    return None


def _databrickscfg_token() -> str | None:
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


def _missing_message(provider: Provider) -> str:
    places = []
    for source in provider.auth.sources:
        if source.type == "env":
            places.append(f"the environment variable {source.env}")
        elif source.type == "databrickscfg":
            places.append("a token in ~/.databrickscfg (profile DATABRICKS_CONFIG_PROFILE or DEFAULT)")
        elif source.type == "azure_identity":
            places.append("azure-identity's DefaultAzureCredential (pip install 'runs_pandas[azure]')")
    return (
        f"no credentials for {provider.name}: set {' or '.join(places)}; "
        f"or use the offline sandbox (Session(sandbox=True) or RUNS_PANDAS_SANDBOX=1)"
    )
