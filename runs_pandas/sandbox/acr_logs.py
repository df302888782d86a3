"""The fake blob storage that ACR's log SAS links point at: a run's raw text log.

Served on a loopback origin of its own (another port than the ARM fake), as the real
``*.blob.core.windows.net`` is another host than ``management.azure.com``. It records the
headers of every request so tests can check that no ARM credential was ever sent to it.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Mapping

from ._http import Request, Response
from .acr_data import AcrStore
from .acr_scopes import REGISTRIES
from .timefmt import TICKS_PER_SECOND, arm_time, parse_iso

_PATH = re.compile(r"^/(?P<registry>[^/]+)/(?P<run>[^/]+)/rawtext\.log$")
_BY_NAME = {registry.name.lower(): registry for registry in REGISTRIES}


class BlobLogs:
    """The ``/runlogs`` container: ``/runlogs/{registry}/{runId}/rawtext.log?<SAS>``."""

    prefix = "/runlogs"

    def __init__(self, store: AcrStore) -> None:
        self._store = store
        self.received: list[tuple[str, dict[str, str]]] = []  # (target, headers) of each request
        self._lock = threading.Lock()

    def fault(self, status: int) -> Response:
        """Blob storage's XML error shape."""
        return _blob_error(status, "ServerBusy", "The sandbox injected a failure.")

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.received.append((request.target, dict(request.headers)))
        if request.method != "GET":
            return _blob_error(405, "UnsupportedHttpVerb", "Only GET is served.")
        if request.query.get("sig") is None or request.query.get("sp") != "r":
            return _blob_error(403, "AuthenticationFailed", "A read SAS signature is required.")
        match = _PATH.match(request.path)
        registry = _BY_NAME.get(match["registry"].lower()) if match else None
        run = self._store.runs(registry).by_id.get(match["run"].lower()) if match and registry else None
        if run is None:
            return _blob_error(404, "BlobNotFound", "The specified blob does not exist.")
        return Response(200, render_log(run.obj()["properties"]).encode(), content_type="text/plain; charset=utf-8")


def render_log(props: Mapping[str, object]) -> str:
    """A realistic ACR run log for a run's properties (deterministic per run id)."""
    run_id = str(props.get("runId"))
    rng = random.Random(f"acr-log:{run_id}")
    start = parse_iso(str(props.get("startTime") or props.get("createTime")))
    lines = []

    def at(offset: float, text: str) -> None:
        lines.append(f"{arm_time(start + int(offset * TICKS_PER_SECOND))[:19].replace('T', ' ')} {text}")

    at(0, f"Using acb_vol_{rng.getrandbits(64):016x} as the home volume")
    at(0.4, "Setting up Docker configuration...")
    at(1.1, "Successfully set up Docker configuration")
    at(1.2, "Logging in to registry: " + str(props.get("task") or "quick run"))
    clock = 2.0
    for step in ("build", "push") if props.get("runType") in ("AutoBuild", "QuickBuild") else ("run",):
        at(clock, f"Executing step ID: {step}. Timeout(sec): 3600, Working directory: ''")
        clock += rng.uniform(3, 60)
        at(clock, f"Step ID: {step} marked as successful (elapsed time in seconds: {clock:.6f})")
    status = props.get("status")
    if props.get("runErrorMessage"):
        at(clock + 1, f"error: {props['runErrorMessage']}")
        at(clock + 1, f"Run ID: {run_id} failed after {int(clock)}s. Error: {props['runErrorMessage']}")
    elif status == "Succeeded":
        at(clock + 1, f"Run ID: {run_id} was successful after {int(clock)}s")
    else:
        at(clock + 1, f"Run ID: {run_id} is {str(status).lower()}")
    return "\n".join(lines) + "\n"


def _blob_error(status: int, code: str, message: str) -> Response:
    body = f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(status, body.encode(), content_type="application/xml")
