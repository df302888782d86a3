"""The official Azure SDK listing ACR runs into a flat DataFrame (run in its own venv).

`benchmarks/run.py --sdk-python PY` runs this file with an interpreter that has
`azure-mgmt-containerregistry==14.0.0` (the last release with runs operations), `azure-core`
and `pandas`; it never imports runs_pandas. It reads one JSON argument
`{"endpoint", "token", "scopes": [{subscriptionId, resourceGroupName, registryName}], "repeats"}`
and prints one JSON line `{"seconds": [...], "rows": N, "columns": M, "versions": {...}}`.

What a user would write: one management client per subscription, `client.runs.list()` per
registry (the SDK follows `nextLink`), `Model.as_dict()` for each run, then
`pandas.json_normalize` and `to_datetime` on the date-time columns. The sandbox is plain
http, so each call passes `enforce_https=False`; the credential hands out a fixed token.
"""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import version


class StaticToken:
    """A TokenCredential that always returns the sandbox's bearer token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: object) -> object:
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, int(time.time()) + 3600)


def listing(endpoint: str, token: str, scopes: list[dict[str, str]]) -> object:
    import pandas as pd
    from azure.mgmt.containerregistry import ContainerRegistryManagementClient

    credential = StaticToken(token)
    clients: dict[str, ContainerRegistryManagementClient] = {}
    rows: list[dict[str, object]] = []
    for scope in scopes:
        sub = scope["subscriptionId"]
        if sub not in clients:
            clients[sub] = ContainerRegistryManagementClient(
                credential, sub, base_url=endpoint, api_version="2019-06-01-preview"
            )
        pages = clients[sub].runs.list(
            scope["resourceGroupName"], scope["registryName"], enforce_https=False
        )
        for run in pages:
            row = run.as_dict()
            row.update(scope)
            rows.append(row)
    frame = pd.json_normalize(rows)
    for column in frame.columns:
        leaf = column.rsplit(".", 1)[-1]
        if leaf.endswith(("_time", "_at")) or leaf == "timestamp":
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


def main() -> int:
    args = json.loads(sys.argv[1])
    seconds = []
    frame = None
    for _ in range(int(args.get("repeats", 1))):
        started = time.perf_counter()
        frame = listing(args["endpoint"], args["token"], args["scopes"])
        seconds.append(time.perf_counter() - started)
    versions = {
        name: version(name) for name in ("azure-mgmt-containerregistry", "azure-core", "pandas")
    }
    shape = getattr(frame, "shape", (0, 0))
    print(json.dumps({"seconds": seconds, "rows": shape[0], "columns": shape[1], "versions": versions}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
