"""Connections: one credential each, bound to the scope it was issued for.

A connection serves one scope of one provider (a workspace host, a tenant and the
subscriptions it serves, a team), or every scope when it is unscoped (a secret given to
the session for the whole provider). Each request is matched to exactly one connection by
the catalog's `auth.scope`; a credential never goes to a scope it was not bound to.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import httpx

from runs_pandas.catalog import AuthScope, Provider
from runs_pandas.errors import AuthError

Headers = Callable[[], Mapping[str, str]]


@dataclass(frozen=True)
class Connection:
    """One credential and the scope it serves; `headers()` gives a request's fresh auth headers.

    `serves`: for a scope that serves a list of values (a tenant's subscriptions), those
    values; empty means every value no other connection serves.
    """

    provider: str
    scope: str | None
    source: str  # where the credential came from, in words
    method: str  # how it authenticates: "token", "oauth-m2m", "EnvironmentCredential", ...
    headers: Headers = field(repr=False, compare=False)
    serves: tuple[str, ...] = ()
    priority: int = 1  # 0 for connections the user gave: they win over discovered ones
    anywhere: bool = False  # a secret given for the whole provider (secrets=, the sandbox)
    default: bool = False  # its scope is where a query that pins none goes (the configured host)

    def row(self, kind: str) -> dict[str, str]:
        """This connection for SHOW CONNECTIONS: never a secret."""
        return {
            "provider": self.provider,
            "scope_kind": kind,
            "scope": self.scope or "(any)",
            "serves": ", ".join(self.serves),
            "source": self.source,
            "method": self.method,
        }


def normal_scope(rule: AuthScope | None, value: str) -> str:
    """A scope value as connections are matched: an origin for workspace hosts."""
    if rule is not None and rule.by == "origin":
        return origin_text(value)
    return value.strip()


@lru_cache(maxsize=1024)
def origin_text(url: str) -> str:
    """`https://host[:port]` of a URL or bare host, lower-cased, as connections are keyed."""
    text = url.strip()
    parsed = httpx.URL(text if "://" in text else f"https://{text}")
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host.lower()}{port}"


def request_key(rule: AuthScope, url: str, args: Mapping[str, object], headers: Sequence[tuple[str, str]],
                wire: str | None) -> str | None:
    """The scope a request belongs to: its origin, or the value of the scope param."""
    if rule.by == "origin":
        return origin_text(url)
    value = args.get(rule.param)
    if value is None and wire is not None:
        value = next((v for k, v in headers if k.lower() == wire.lower()), None)
    return None if value is None else str(value)


def choose(provider: Provider, connections: Sequence[Connection], key: str | None) -> Connection:
    """The one connection for a request of `provider` in scope `key`; an AuthError otherwise."""
    rule = provider.auth.scope
    mine = sorted((c for c in connections if c.provider == provider.name), key=lambda c: c.priority)
    if rule is None or not mine:
        if mine:
            return mine[0]
        raise AuthError(f"no credentials for {provider.name}")
    anywhere = [c for c in mine if c.anywhere]
    if rule.by == "served":
        if key is not None:
            serving = [c for c in mine if key.lower() in {v.lower() for v in c.serves}]  # ids in any case
            if serving:
                return serving[0]
        default = [c for c in mine if not c.serves]
        if default:
            return default[0]
        raise AuthError(_unbound(provider, rule, key, mine))
    if key is None:
        if anywhere or mine and not rule.required:
            return (anywhere or mine)[0]
        raise AuthError(_unbound(provider, rule, key, mine))
    serving = [c for c in mine if c.anywhere or c.scope is not None and normal_scope(rule, c.scope) == key]
    loose = [c for c in mine if c.scope is None] if rule.by == "value" else []
    found = serving or loose  # `mine` is in preference order: a given secret before a discovered one
    if found:
        return found[0]
    raise AuthError(_unbound(provider, rule, key, mine))


def default_scope(provider: Provider, connections: Sequence[Connection]) -> str | None:
    """The scope a query goes to when it does not pin the scope param: the provider's own
    default (the SDK's configured host, AIRPLANE_TEAM_ID's team), else the first bound one."""
    rule = provider.auth.scope
    if rule is None or rule.by == "served":
        return None
    if rule.setting and os.environ.get(rule.setting, "").strip():
        return normal_scope(rule, os.environ[rule.setting])
    mine = [c for c in connections if c.provider == provider.name and c.scope]
    mine.sort(key=lambda c: (not c.default, c.priority))
    return mine[0].scope if mine else None


def _unbound(provider: Provider, rule: AuthScope, key: str | None, mine: Sequence[Connection]) -> str:
    """Which scopes have a credential, and how to bind one for the scope asked."""
    have = "; ".join(f"{c.scope or 'any ' + rule.name} ({c.source})" for c in mine) or "none"
    if key is None:
        setting = f"set {rule.setting}, " if rule.setting else ""
        return (
            f"{provider.name} needs a {rule.name} with its credential, and none was chosen: "
            f"{setting}pin {rule.param} in the query, or bind the credential to a {rule.name} "
            f"(see docs/credentials.md). Configured: {have}"
        )
    return (
        f"no {provider.name} credential is bound to the {rule.name} {key} (a credential goes only "
        f"to the {rule.name} it is configured for). Configured: {have}. Bind one to {key} "
        f"(see SHOW CONNECTIONS and docs/credentials.md)"
    )
