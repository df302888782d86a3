"""Credentials: each provider's connections, and the `httpx.Auth` flow that sends one.

Where a credential comes from is a small named source (see `sources.py`) that the catalog
picks by name; connections the user binds (`Session(connections=...)`, the connections
file) come first. A request goes out with the one connection bound to its scope (see
`connections.py`). A secret is checked when read, kept out of every repr, and put on a
request only inside the auth flow; it goes only to the origin it was issued for.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Generator, Mapping, Sequence
from functools import lru_cache
from typing import Any, overload

import httpx
from runs_pandas.catalog import Provider
from runs_pandas.errors import AuthError
from runs_pandas.http.connections import Connection, choose, default_scope, request_key
from runs_pandas.http.secrets import checked, static_headers

GIVEN = "the secrets= given to the Session"


class Credentials:
    """Every provider's connections; `auth(provider, request)` is the flow for one request."""

    def __init__(
        self,
        secrets: Mapping[str, str] | None = None,
        *,
        token_credentials: Mapping[str, Any] | None = None,
        endpoint: Callable[[Provider], str | None] | None = None,
        connections: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self._given = dict(secrets or {})  # checked when first used: errors belong to a query
        # a user's own credential object per provider (e.g. an azure-identity TokenCredential)
        self._token_credentials: dict[str, Any] = dict(token_credentials or {})
        self._specs = list(connections)  # bindings from Session(connections=...) and the file
        self._endpoint = endpoint
        self._found: dict[str, list[Connection]] = {}
        self._wire: dict[str, str | None] = {}  # the header that names a request's scope, per provider
        self._known: set[str] = set()  # every secret handed out, to scrub from error text
        self._lock = threading.RLock()
        self.shared: dict[str, Any] = {}  # objects a source keeps for the session (default credentials)

    def __repr__(self) -> str:
        return f"Credentials(providers={sorted(set(self._given) | set(self._found))})"

    def endpoint_of(self, provider: Provider) -> str | None:
        """The base URL the session sends `provider`'s requests to, when it replaces the catalog's."""
        if self._endpoint is not None:
            return self._endpoint(provider)
        return os.environ.get(provider.endpoint_env) or None

    def token_credential(self, provider: Provider) -> Any | None:
        """The credential object the user gave for `provider`, if any."""
        return self._token_credentials.get(provider.name)

    def connections(self, provider: Provider) -> list[Connection]:
        """`provider`'s connections in the order they are preferred, the user's bindings first;
        found once per session."""
        from runs_pandas.http.sources import discover, given

        with self._lock:
            if provider.name not in self._found:
                # bound to a scope first; a secret given for the whole provider serves every
                # other scope, so nothing is looked up in the environment then
                found = [given(self, provider, spec) for spec in self._specs if spec.get("provider") == provider.name]
                if provider.name in self._given:
                    secret = checked(self._given[provider.name], GIVEN)
                    found.append(Connection(provider.name, None, GIVEN, "token",
                                            static_headers(provider, secret), priority=0, anywhere=True))
                else:
                    found += discover(self, provider)
                self._found[provider.name] = sorted(found, key=lambda c: c.priority)  # the user's first
            return list(self._found[provider.name])

    def connection(self, provider: Provider, url: str | None = None, args: Mapping[str, Any] | None = None,
                   headers: Sequence[tuple[str, str]] = ()) -> Connection:
        """The connection for a request of `provider` to `url` with `args`; an AuthError naming
        what was looked for when none is bound to its scope."""
        mine = self.connections(provider)
        if not mine:
            raise AuthError(_missing_message(provider))
        rule = provider.auth.scope
        key = None
        if rule is not None and url is not None:
            if provider.name not in self._wire:
                self._wire[provider.name] = next(
                    (p.wire or p.name for r in provider.resources for m in r.methods for p in m.params
                     if p.name == rule.param and p.location == "header"), None)
            key = request_key(rule, url, args or {}, headers, self._wire[provider.name])
        return choose(provider, mine, key)

    def default_scope(self, provider: Provider) -> str | None:
        """The scope a query of `provider` goes to when it pins none (e.g. the configured host)."""
        return default_scope(provider, self.connections(provider))

    def auth(self, provider: Provider, request: Any = None) -> SecretAuth:
        """The auth flow for one request (a `Request`), chosen now: an unbound scope fails before sending."""
        if request is None:
            found = self.connection(provider)
        else:
            found = self.connection(provider, request.url, request.args, request.headers)
        return SecretAuth(found, self._learn)

    def source(self, provider: Provider, request: Any = None) -> str:
        """Where the credential for `provider` (and `request`) came from, in words; never the secret."""
        try:
            return self.auth(provider, request).connection.source
        except AuthError:
            from runs_pandas.http.sources import describe

            return describe(provider)

    def _learn(self, secret: str) -> None:
        with self._lock:
            self._known.add(secret)

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


class SecretAuth(httpx.Auth):
    """Sets a connection's auth headers on the request being sent.

    The secret is read into the header inside this flow only: no frame of the caller holds
    it, and the repr shows the provider and scope, not the value.
    """

    def __init__(self, connection: Connection, learn: Callable[[str], None]) -> None:
        self.connection = connection
        self._learn = learn

    def __repr__(self) -> str:
        return f"SecretAuth({self.connection.provider}, scope={self.connection.scope!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        for header, value in self.connection.headers().items():
            secret = value.partition(" ")[2] if " " in value else value
            self._learn(secret)  # known before it is sent, so any echo of it is scrubbed
            request.headers[header] = value
        yield request


def same_origin(a: str, b: str) -> bool:
    """True when two URLs share scheme, host and port: where a secret may go."""
    head = _head(a)
    if head and b.startswith(head):  # the same `scheme://netloc/` text: no parse of `b`
        return True
    return _origin(a) == _origin(b)


@lru_cache(maxsize=256)
def _head(url: str) -> str | None:
    """`scheme://netloc/` of an http(s) URL as written (the netloc ends at the first `/`)."""
    scheme, sep, rest = url.partition("://")
    netloc = rest.split("/", 1)[0]
    if not sep or scheme not in ("http", "https") or not netloc or any(c in netloc for c in "?#@\\"):
        return None
    return f"{scheme}://{netloc}/"


@lru_cache(maxsize=256)
def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of `url`; cached, as every page of a series is checked
    against the series' first URL."""
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port


def _missing_message(provider: Provider) -> str:
    from runs_pandas.http.sources import describe

    return (
        f"no credentials for {provider.name}: set {describe(provider)}; "
        f"or use the offline sandbox (Session(sandbox=True) or RUNS_PANDAS_SANDBOX=1)"
    )
