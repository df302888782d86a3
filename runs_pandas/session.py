"""A session: settings, endpoints, credentials, the HTTP client and a small cache.

`Session(sandbox=True)` (or `RUNS_PANDAS_SANDBOX=1`) points every provider at the built-in
offline sandbox; otherwise each provider's base URL comes from the catalog, or from its
`RUNS_PANDAS_*_ENDPOINT` variable.
"""

from __future__ import annotations

import functools
import os
import ssl
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Self

import httpx
from pydantic import BaseModel, ConfigDict, Field

from runs_pandas.catalog import Provider, catalog
from runs_pandas.http import Credentials, Limits, Sender
from runs_pandas.http.bindings import connections_path, read_connections

if TYPE_CHECKING:
    from runs_pandas.sandbox import Sandbox
    from runs_pandas.sql.run import Database
    from runs_pandas.sql.statements import Statements

_TRUE = ("1", "true", "yes", "on")


class _TLSContext(ssl.SSLContext):
    """httpx's default TLS context (certifi's CAs, hostnames checked) that reads the CA
    bundle on its first TLS connection: reading it costs ~17 ms, which a process that only
    talks plain HTTP (the sandbox, a loopback server) never needs to pay."""

    _loading = threading.Lock()
    _loaded = False

    def _load(self) -> None:
        with self._loading:
            if not self._loaded:
                import certifi

                self.load_verify_locations(cafile=certifi.where())
                self._loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self._load()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self._load()
        return super().wrap_bio(*args, **kwargs)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context per process (what `httpx.create_ssl_context(trust_env=False)`
    makes, tests compare them), so a new session pays for none."""
    context = _TLSContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, check_hostname
    if sys.version_info >= (3, 13):  # as ssl.create_default_context does from 3.13 on
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_STRICT
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog and not sys.flags.ignore_environment:  # as ssl.create_default_context does
        context.keylog_filename = keylog
    return context


class Settings(BaseModel):
    """Knobs with one home; the magic exposes them as `%config RunsSql.<name>`."""

    model_config = ConfigDict(validate_assignment=True)

    concurrency: int = Field(default=32, ge=1, le=256, description="requests in flight at once")
    timeout: float = Field(default=30.0, gt=0, description="seconds one whole response may take (body included)")
    retries: int = Field(default=4, ge=0, le=20, description="extra tries for 429, 502-504, drops")
    retry_budget: float = Field(default=60.0, ge=0, description="seconds all retry waits of one request may take")
    backoff_base: float = Field(default=0.2, ge=0, description="seconds of the first backoff wait (doubled each try)")
    backoff_cap: float = Field(default=30.0, ge=0, description="seconds one backoff wait may take at most")
    max_pages: int = Field(default=10_000, ge=1, description="pages one request series may fetch before it is stopped")
    display_limit: int = Field(default=50, ge=1, description="rows the magic displays")
    cache_ttl: float = Field(default=0.0, ge=0, description="seconds a fetched page series is reused; 0 = off")
    progress: bool = Field(default=True, description="show a progress bar on long fetches")
    arrow_dtypes: bool = Field(
        default=False,
        description=(
            "list columns as pd.ArrowDtype (Arrow-backed: built several times faster, a cell "
            "becomes Python only when read, a missing one is pd.NA) instead of Python lists of dicts"
        ),
    )
    interactive: bool = Field(
        default=False, description="show results as interactive tables (sort, search, pages); needs itables"
    )
    store: str = Field(
        default="", description="path of the run store file; empty: RUNS_PANDAS_STORE or the user data dir"
    )
    store_lock_timeout: float = Field(
        default=10.0, ge=0, description="seconds a sync waits for another process's lock on the store"
    )
    sync_lag: float = Field(
        default=900.0, ge=0,
        description="seconds before a series' cursor (its newest stored run) that a sync looks again, for runs listed late",
    )
    source: Literal["live", "store", "sync"] = Field(
        default="live", description="where a SELECT is answered: live (fetch now), store (no request), sync (sync, then store)"
    )
    max_requests: int = Field(
        default=2000, ge=1, description="requests one query may send (ARM allows a few thousand reads an hour)"
    )
    await_budget: float = Field(
        default=300.0, gt=0, description="seconds an AWAIT may follow a long-running operation"
    )
    poll_interval: float = Field(
        default=1.0, ge=0, description="seconds between AWAIT polls when the server gives no usable Retry-After"
    )
    connections_file: str = Field(
        default="", description="path of the connections file; empty: RUNS_PANDAS_CONNECTIONS or the user config dir"
    )

    def limits(self) -> Limits:
        return Limits(
            retries=self.retries,
            retry_budget=self.retry_budget,
            backoff_base=self.backoff_base,
            backoff_cap=self.backoff_cap,
            timeout=self.timeout,
            max_pages=self.max_pages,
            concurrency=self.concurrency,
        )


class Session:
    """Where queries go and how: endpoints, credentials, settings, client, cache."""

    def __init__(
        self,
        *,
        sandbox: bool | Sandbox | None = None,
        settings: Settings | None = None,
        endpoints: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        client: httpx.Client | None = None,
        credentials: Mapping[str, Any] | None = None,
        connections: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """`credentials`: your own credential object per provider, e.g.
        `{"azure": azure.identity.AzureCliCredential()}` (any azure-identity TokenCredential).
        `connections`: credentials bound to scopes, e.g. `{"provider": "airplane", "scope":
        "team_abc", "secret_env": "KEY_ABC"}`; they come before the connections file's."""
        if sandbox is None:
            sandbox = os.environ.get("RUNS_PANDAS_SANDBOX", "").lower() in _TRUE
        self.settings = settings or Settings()
        self.sandbox: Sandbox | None = None
        given_endpoints = dict(endpoints or {})
        given_secrets = dict(secrets or {})
        if sandbox:
            from runs_pandas.sandbox import Sandbox, shared

            self.sandbox = sandbox if isinstance(sandbox, Sandbox) else shared()
            self.sandbox.start()
            given_endpoints = {**self.sandbox.endpoints, **given_endpoints}
            given_secrets = {**self.sandbox.tokens, **given_secrets}
        self._endpoints = given_endpoints
        bound = [{**spec, "from": spec.get("from") or "Session(connections=...)"} for spec in connections or ()]
        self.connections_file = connections_path(self.settings.connections_file)
        if self.sandbox is None:  # the sandbox never reads a user's files
            bound += read_connections(self.connections_file, set(catalog().providers))
        self.credentials = Credentials(given_secrets, token_credentials=credentials, endpoint=self.endpoint,
                                       connections=bound)
        self._client = client
        self._own_client = client is None
        self._lock = threading.Lock()
        self._cache: dict[Any, tuple[float, Any]] = {}
        self._database: Database | None = None
        self._statements: Statements | None = None

    def __repr__(self) -> str:
        where = "sandbox" if self.sandbox is not None else "cloud"
        return f"Session({where}, settings={self.settings!r})"

    def endpoint(self, provider: Provider) -> str | None:
        """The base URL that replaces the catalog's, when one is set."""
        return self._endpoints.get(provider.name) or os.environ.get(provider.endpoint_env) or None

    @property
    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
                    follow_redirects=False,
                    trust_env=False,
                    verify=_tls_context(),
                )
            return self._client

    @property
    def database(self) -> Database:
        """The DuckDB connection this session's queries share (opened on the first query)."""
        from runs_pandas.sql.run import Database

        with self._lock:
            if self._database is None:
                self._database = Database()
            return self._database

    @property
    def statements(self) -> Statements:
        """The SELECTs this session has read, for the next query with the same text and values."""
        from runs_pandas.sql.statements import Statements

        with self._lock:
            if self._statements is None:
                self._statements = Statements()
            return self._statements

    def sender(self) -> Sender:
        """A sender with the current settings (settings may change between queries)."""
        sender = Sender(self.client, self.credentials, self.settings.limits())
        sender.max_requests = self.settings.max_requests
        return sender

    def cached(self, key: Any) -> Any | None:
        if self.settings.cache_ttl <= 0:
            return None
        with self._lock:
            hit = self._cache.get(key)
            if hit is None or time.monotonic() - hit[0] > self.settings.cache_ttl:
                return None
            return hit[1]

    def remember(self, key: Any, value: Any) -> None:
        if self.settings.cache_ttl > 0:
            with self._lock:
                self._cache[key] = (time.monotonic(), value)

    def forget(self) -> None:
        """Drop cached pages (after an action changed something)."""
        with self._lock:
            self._cache.clear()

    def close(self) -> None:
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None
        if self._database is not None:
            self._database.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_default: Session | None = None
_default_lock = threading.Lock()


def default_session() -> Session:
    """The session used when none is passed; sandboxed when RUNS_PANDAS_SANDBOX=1."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Session()
        return _default


def set_default_session(session: Session | None) -> None:
    """Replace the default session (the magic's `--sandbox` and `%config` use it)."""
    global _default
    with _default_lock:
        _default = session

