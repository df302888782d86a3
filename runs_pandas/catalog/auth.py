"""How a provider authenticates, as catalog data: where its credentials come from, how they
are sent, and the scope each credential belongs to (a workspace host, a tenant, a team)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class CredentialSource(_Model):
    """Where a provider's secret comes from, tried in order (a named source piece)."""

    type: Literal["env", "azure_identity", "databricks_sdk"]
    env: str | None = None  # for type env; for a library's source, the variable of its plain token
    scope: str | None = None  # for azure_identity: the token scope when no endpoint says another


class AuthScope(_Model):
    """What one credential serves, and how a request names it.

    `by`: `origin`, the scope is the request's scheme, host and port (a workspace) and
    `param` names the host param that picks it; `value`, the scope is the value of `param`
    (a team); `served`, a scope serves a list of `param` values (a tenant serves its
    subscriptions). For `origin` and `value` a query that does not pin `param` goes to the
    default connection's scope. `required`: a request must have a scope (the API refuses
    a credential without one).
    """

    name: str  # in the user's words: "workspace", "tenant", "team"
    by: Literal["origin", "value", "served"]
    param: str
    required: bool = False
    setting: str | None = None  # environment variable naming the default scope, for messages


class Auth(_Model):
    """How a provider's secret is sent."""

    header: str = "Authorization"
    scheme: str | None = "Bearer"  # prefix of the header value, or None for the bare secret
    sources: tuple[CredentialSource, ...]
    extra_headers: dict[str, str] = {}  # header -> environment variable
    scope: AuthScope | None = None  # None: one credential serves every request
