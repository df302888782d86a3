"""The azure-identity credential source, its failures in a few lines, and its duplicate
warning kept quiet.

A connection holds a TokenCredential (the user's, or `DefaultAzureCredential`) and asks it
for a token of the ARM endpoint in use, for its tenant when it is bound to one. The
credential object is kept: it caches and refreshes its tokens.

`DefaultAzureCredential` raises an error that lists every credential it tried with a long
reason each, and logs the same text as a warning, so a user sees it twice. runs_pandas
says in a few lines what was tried and what to do, and keeps the full text on the error
(`.detail`, and azure-identity's own exception as `.cause`).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import importlib.util
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from runs_pandas.catalog import CredentialSource, Provider
from runs_pandas.errors import AuthError
from runs_pandas.http.connections import Connection

if TYPE_CHECKING:
    from runs_pandas.http.auth import Credentials

_local = threading.local()
_TRIED = re.compile(r"^\s*(\w+Credential)\s*:", re.MULTILINE)

FIX = (
    "To fix: run `az login` (Azure CLI); or set AZURE_TENANT_ID, AZURE_CLIENT_ID and "
    "AZURE_CLIENT_SECRET for a service principal; or give a token in RUNS_PANDAS_AZURE_TOKEN; "
    "or pass your own credential, Session(credentials={'azure': credential}); "
    "or use the offline sandbox (Session(sandbox=True) or RUNS_PANDAS_SANDBOX=1)."
)


class _WhileAsked(logging.Filter):
    """Drops azure-identity's warnings while runs_pandas is asking it (the error says it all)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_local, "asking", False) or record.levelno >= logging.ERROR


_filter = _WhileAsked()
_installed = False


@contextlib.contextmanager
def _quiet_azure_identity() -> Iterator[None]:
    """While inside, azure-identity's warning copy of a failure is not printed."""
    global _installed
    if not _installed:
        # a logger's filter does not apply to its children's records: each module's own logger
        names = [n for n in list(logging.root.manager.loggerDict) if n.startswith("azure.identity")]
        for name in {"azure.identity", *names}:
            logging.getLogger(name).addFilter(_filter)
        _installed = True
    _local.asking = True
    try:
        yield
    finally:
        _local.asking = False


def azure_failure(credential: Any, scope: str, exc: BaseException) -> AuthError:
    """A short AuthError: which credential(s) were tried for `scope`, and the fix."""
    text = str(exc)
    tried = list(dict.fromkeys(_TRIED.findall(text))) or [type(credential).__name__]
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    if len(tried) == 1 and len(first) > 200:
        first = first[:200] + "..."
    reason = f" ({first})" if len(tried) == 1 else ""
    error = AuthError(
        f"azure-identity could not get a token for {scope}; tried {', '.join(tried)}{reason}.\n{FIX}\n"
        f"(the full reason is on this error's .detail)"
    )
    error.detail = text
    error.cause = exc
    return error


def token_scope(endpoint: str | None, default: str | None) -> str:
    """The `.default` scope of the endpoint in use (a sovereign cloud's own), else the catalog's."""
    if endpoint:
        url = httpx.URL(endpoint)
        port = "" if url.port is None else f":{url.port}"
        return f"{url.scheme}://{url.host}{port}/.default"
    return default or "https://management.azure.com/.default"


def describe(_: CredentialSource) -> str:
    return "azure-identity's DefaultAzureCredential (pip install 'runs_pandas[azure]')"


def _installed_identity() -> bool:
    return importlib.util.find_spec("azure.identity") is not None


def _default_credential(credentials: Credentials) -> Any:
    """The session's one DefaultAzureCredential (any tenant may be asked for), made when first asked."""
    with credentials._lock:
        if "azure_identity" not in credentials.shared:
            from azure.identity import DefaultAzureCredential  # type: ignore[import-not-found,unused-ignore]

            credentials.shared["azure_identity"] = DefaultAzureCredential(additionally_allowed_tenants=["*"])
        return credentials.shared["azure_identity"]


def _headers(credentials: Credentials, provider: Provider, source: CredentialSource,
             credential: Any, tenant: str | None) -> Callable[[], Mapping[str, str]]:
    def headers() -> Mapping[str, str]:
        used = credential if credential is not None else _default_credential(credentials)
        scope = token_scope(credentials.endpoint_of(provider), source.scope)
        extra = {"tenant_id": tenant} if tenant else {}
        with _quiet_azure_identity():
            try:
                token = str(used.get_token(scope, **extra).token)
            except Exception as exc:  # noqa: BLE001  azure-identity has its own error tree
                raise azure_failure(used, scope, exc) from None
        auth = provider.auth
        return {auth.header: f"{auth.scheme} {token}" if auth.scheme else token}

    return headers


def find(credentials: Credentials, provider: Provider, source: CredentialSource) -> list[Connection]:
    """One connection for every subscription no tenant binding serves: the user's credential, or
    DefaultAzureCredential when azure-identity is installed."""
    own = credentials.token_credential(provider)
    if own is None and not _installed_identity():
        return []
    name = type(own).__name__ if own is not None else "DefaultAzureCredential"
    where = f"the credential given to the Session ({name})" if own is not None else "azure-identity's DefaultAzureCredential"
    return [Connection(provider.name, None, where, name, _headers(credentials, provider, source, own, None),
                       priority=0 if own is not None else 1)]


def bind(credentials: Credentials, provider: Provider, source: CredentialSource,
         spec: Mapping[str, Any], where: str) -> Connection:
    """A tenant's connection: its own credential, a service principal of that tenant
    (`client_id` + `client_secret_env`), or the session's credential asked for that tenant."""
    tenant = spec.get("scope")
    credential = spec.get("credential")
    if credential is None and spec.get("client_id"):
        import os

        from azure.identity import ClientSecretCredential

        name = str(spec.get("client_secret_env") or "")
        if not os.environ.get(name):
            raise AuthError(f"{where}: the service principal {spec['client_id']} of tenant {tenant} reads its "
                            f"secret from client_secret_env, and the environment variable {name or '(none named)'} is not set")
        credential = ClientSecretCredential(str(tenant), str(spec["client_id"]), os.environ[name])
    if credential is None:
        credential = credentials.token_credential(provider)
    method = type(credential).__name__ if credential is not None else "DefaultAzureCredential"
    return Connection(provider.name, None if tenant is None else str(tenant), where, method,
                      _headers(credentials, provider, source, credential, None if tenant is None else str(tenant)),
                      tuple(spec.get("serves") or ()), priority=0)
