"""The named credential sources the catalog picks, and connections the user binds.

Each source piece finds its provider's connections in that provider's usual places
(environment variables, a library's own configuration) and can bind one to a scope the
user names. This module is where the pieces are registered by name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runs_pandas.catalog import CredentialSource, Provider
from runs_pandas.errors import AuthError
from runs_pandas.http.connections import Connection, normal_scope
from runs_pandas.http.secrets import checked, static_headers

if TYPE_CHECKING:
    from runs_pandas.http.auth import Credentials

Find = Callable[["Credentials", Provider, CredentialSource], list[Connection]]
Bind = Callable[["Credentials", Provider, CredentialSource, Mapping[str, Any], str], Connection]
SPEC_KEYS = ("provider", "scope", "serves", "secret", "secret_env", "credential")


@dataclass(frozen=True)
class Source:
    """One place credentials may come from: how to find them, bind one, and name it to a user."""

    find: Find
    describe: Callable[[CredentialSource], str]
    bind: Bind | None = None


def _find_env(credentials: Credentials, provider: Provider, source: CredentialSource) -> list[Connection]:
    value = os.environ.get(source.env or "")
    if not value:
        return []
    where = f"the environment variable {source.env}"
    secret = checked(value, where)
    rule = provider.auth.scope
    scope = None
    if rule is not None and rule.by == "value" and rule.setting and os.environ.get(rule.setting):
        scope = os.environ[rule.setting].strip()
        where += f" ({rule.name} from {rule.setting})"
    return [Connection(provider.name, scope, where, "token", static_headers(provider, secret), default=True)]


def _sources() -> dict[str, Source]:
    from runs_pandas.http import azure, databricks_sdk

    return {
        "env": Source(_find_env, lambda s: f"the environment variable {s.env}"),
        "azure_identity": Source(azure.find, azure.describe, azure.bind),
        "databricks_sdk": Source(databricks_sdk.find, databricks_sdk.describe, databricks_sdk.bind),
    }


def discover(credentials: Credentials, provider: Provider) -> list[Connection]:
    """`provider`'s connections from its sources, in the catalog's order."""
    pieces = _sources()
    found: list[Connection] = []
    for source in provider.auth.sources:
        found += pieces[source.type].find(credentials, provider, source)
    return found


def describe(provider: Provider) -> str:
    """Where `provider`'s credentials are looked for, in words."""
    pieces = _sources()
    return " or ".join(pieces[s.type].describe(s) for s in provider.auth.sources)


def given(credentials: Credentials, provider: Provider, spec: Mapping[str, Any]) -> Connection:
    """A connection the user bound (Session(connections=...) or the connections file).

    `secret` or `secret_env` make a plain key/token connection; anything else goes to the
    provider's source piece that binds (a library credential, a profile, a tenant).
    """
    where = str(spec.get("from") or "Session(connections=...)")
    scope = spec.get("scope")
    rule = provider.auth.scope
    if scope is not None:
        scope = normal_scope(rule, str(scope))
    serves = tuple(str(v) for v in spec.get("serves") or ())
    if spec.get("secret") is not None or spec.get("secret_env"):
        if spec.get("secret") is not None:
            secret = checked(str(spec["secret"]), where)
        else:
            name = str(spec["secret_env"])
            if not os.environ.get(name):
                raise AuthError(f"{where}: the {provider.name} connection for {scope or 'any scope'} reads "
                                f"its secret from the environment variable {name}, which is not set")
            secret = checked(os.environ[name], f"the environment variable {name}")
            where = f"{where}, secret from {name}"
        return Connection(provider.name, scope, where, "token", static_headers(provider, secret), serves, priority=0)
    pieces = _sources()
    for source in provider.auth.sources:
        piece = pieces[source.type]
        if piece.bind is not None:
            return piece.bind(credentials, provider, source, {**spec, "scope": scope, "serves": serves}, where)
    raise AuthError(f"{where}: a {provider.name} connection needs secret or secret_env")
