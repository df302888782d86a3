"""What the driver hands the executors: the scope columns of a Spark frame, the base URLs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runs_pandas.catalog import catalog
from runs_pandas.errors import ParamError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from runs_pandas.session import Session


def param_names(resource_id: str) -> set[str]:
    """The params of the resource's SELECT methods: the columns a scopes frame may have."""
    return {p.name for m in catalog().resource(resource_id).methods_for("select") for p in m.params}


def scope_names(scopes: DataFrame, resource_id: str) -> list[str]:
    """The columns of `scopes` named like the resource's params, in the frame's order."""
    params = param_names(resource_id)
    names = [name for name in scopes.columns if name in params]
    if not names:
        raise ParamError(
            f"{resource_id}: the scopes frame has none of its params as columns "
            f"(columns: {', '.join(scopes.columns) or 'none'}; params: {', '.join(sorted(params))})"
        )
    return names


def task_endpoints(session: Session, resource_id: str) -> tuple[tuple[str, str], ...]:
    """The provider's base URL the session uses (not a secret), for the executors' sessions."""
    provider = catalog().provider_of(catalog().resource(resource_id))
    endpoint = session.endpoint(provider)
    return ((provider.name, endpoint),) if endpoint else ()
