"""One stored ACR run: ready-to-send JSON bytes plus the fields ``$filter`` sees.

A run's state is one tuple swapped atomically on change (cancel/update), so page
serving never locks and never sees a half-updated run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ._http import json_bytes
from .timefmt import parse_iso

TERMINAL = ("Succeeded", "Failed", "Canceled", "Error", "Timeout")
IN_PROGRESS = ("Queued", "Started", "Running")


class AcrRun:
    """One run as serialised JSON and its ``RunFilter`` values."""

    __slots__ = ("_state",)

    def __init__(self, data: bytes, fields: dict[str, Any]) -> None:
        self._state = (data, fields)

    @property
    def data(self) -> bytes:
        """The ``Run`` resource as JSON bytes."""
        return self._state[0]

    @property
    def fields(self) -> dict[str, Any]:
        """The ``RunFilter`` view (times as ticks)."""
        return self._state[1]

    @property
    def run_id(self) -> str:
        """The run id (``properties.runId``)."""
        return str(self._state[1]["runId"])

    def obj(self) -> dict[str, Any]:
        """A fresh, freely modifiable copy of the ``Run`` object."""
        value: dict[str, Any] = json.loads(self._state[0])
        return value

    def replace(self, obj: dict[str, Any]) -> None:
        """Store a changed version of the run."""
        self._state = (json_bytes(obj), filter_fields(obj))


@dataclass
class RegistryRuns:
    """All runs of one registry, newest first, with a lower-cased id index."""

    runs: list[AcrRun]
    by_id: dict[str, AcrRun]
    next_number: int = 0  # the number of the next run id (runs arriving as the clock moves)


def filter_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """The ``RunFilter`` view of a ``Run`` object."""
    props = obj["properties"]
    create, finish = props.get("createTime"), props.get("finishTime")
    images = props.get("outputImages") or []
    return {
        "runId": props.get("runId"),
        "runType": props.get("runType"),
        "status": props.get("status"),
        "createTime": parse_iso(create) if create else None,
        "finishTime": parse_iso(finish) if finish else None,
        "isArchiveEnabled": bool(props.get("isArchiveEnabled", False)),
        "taskName": props.get("task"),
        "agentPoolName": props.get("agentPoolName"),
        "outputImageManifests": ",".join(
            f"{image['repository']}:{image['tag']}@{image['digest']}" for image in images
        ),
    }
