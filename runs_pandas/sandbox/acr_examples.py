"""The official swagger examples for ACR Runs, loaded from the packaged copies in ``examples/``.

The example scope (subscription 4385cf00-..., myResourceGroup, myRegistry) answers with
these bodies verbatim, so clients can be checked against Microsoft's own payloads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLES_DIR = Path(__file__).with_name("examples")
EXAMPLE_FILES = (
    "RunsList.json",
    "RunsGet.json",
    "RunsUpdate.json",
    "RunsGetLogSasUrl.json",
    "RunsCancel.json",
)


def _load(name: str) -> dict[str, Any]:
    with (EXAMPLES_DIR / name).open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


EXAMPLES: dict[str, dict[str, Any]] = {name: _load(name) for name in EXAMPLE_FILES}


def example_body(name: str, status: str = "200") -> Any:
    """The response body of an example file for a status code (None when it has none)."""
    return EXAMPLES[name]["responses"][status].get("body")


EXAMPLE_RUN_ID: str = EXAMPLES["RunsGet.json"]["parameters"]["runId"]
