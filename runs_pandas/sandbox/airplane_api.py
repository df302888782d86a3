"""Fake Airplane API v0 runs endpoints, mounted under ``/airplane/v0``.

``GET /runs/list`` (page-number paging, no next token), ``GET /runs/get``,
``GET /runs/getOutputs`` and ``POST /runs/cancel`` (from the earlier spec). Errors use
Airplane's ``{"error": "<message>"}`` shape.
"""

from __future__ import annotations

import json
import threading

from ._http import Request, Response, json_response
from .airplane_data import FINISHED, AirplaneRun, generate
from .airplane_tasks import API_USER, TASKS
from .timefmt import airplane_time, parse_iso, wall_ticks

TOKEN = "tkn_sandbox"
MAX_LIMIT = 50
_ROUTES = {
    "/runs/list": "GET",
    "/runs/get": "GET",
    "/runs/getOutputs": "GET",
    "/runs/cancel": "POST",
}
_FAULT_MESSAGES = {
    429: "rate limit exceeded, retry later",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}


def airplane_error(status: int, message: str) -> Response:
    """An Airplane error response."""
    return json_response(status, {"error": message})


class AirplaneApi:
    """The ``/airplane/v0`` provider: run listing, lookup, outputs and cancel."""

    prefix = "/airplane/v0"

    def __init__(self, total_runs: int, seed: int, now_us: int, page_size: int) -> None:
        self._total = total_runs
        self._seed = seed
        self._now_us = now_us
        self._default_limit = max(1, min(MAX_LIMIT, page_size))
        self._runs: list[AirplaneRun] | None = None
        self._by_id: dict[str, AirplaneRun] = {}
        self._lock = threading.Lock()

    def runs(self) -> list[AirplaneRun]:
        """All runs newest first, generated on first use."""
        if self._runs is None:
            with self._lock:
                if self._runs is None:
                    runs = generate(self._total, self._seed, self._now_us)
                    self._by_id = {run.obj["id"]: run for run in runs}
                    self._runs = runs
        return self._runs

    warm = runs

    def fault(self, status: int) -> Response:
        """An injected failure in Airplane's error shape."""
        return airplane_error(status, _FAULT_MESSAGES.get(status, f"sandbox fault {status}"))

    def handle(self, request: Request) -> Response:
        """Authenticate and route."""
        key = request.header("X-Airplane-API-Key")
        if not key:
            return airplane_error(401, "missing API key: set the X-Airplane-API-Key header")
        if key != TOKEN:
            return airplane_error(401, "invalid API key")
        path = request.path.rstrip("/")
        method = _ROUTES.get(path)
        if method is None:
            return airplane_error(404, f"route not found: {request.method} {request.path}")
        if request.method != method:
            return airplane_error(405, f"method {request.method} not allowed on {request.path}")
        self.runs()
        if path == "/runs/list":
            return self._list(request)
        if path == "/runs/cancel":
            return self._cancel(request)
        run_id = request.query.get("id", "")
        if not run_id:
            return airplane_error(400, "id is required")
        run = self._by_id.get(run_id)
        if run is None:
            return airplane_error(404, f"run {run_id} not found")
        if path == "/runs/getOutputs":
            return self._outputs(run)
        return Response(200, run.json())

    def _list(self, request: Request) -> Response:
        query = request.query
        limit = _int_param(query.get("limit"), self._default_limit)
        if limit is None or not 0 <= limit <= MAX_LIMIT:
            return airplane_error(
                400, f"invalid limit {query.get('limit')!r}: accepted values are 0 - {MAX_LIMIT}"
            )
        limit = limit or self._default_limit  # 0 is Go's zero value: use the default
        page = _int_param(query.get("page"), 0)
        if page is None or page < 0:
            return airplane_error(
                400, f"invalid page {query.get('page')!r}: must be a non-negative integer"
            )
        bounds: list[int | None] = []
        for name in ("since", "until"):
            text = query.get(name)
            try:
                bounds.append(parse_iso(text) // 10 if text else None)
            except ValueError:
                return airplane_error(400, f"invalid {name} {text!r}: expected an RFC 3339 time")
        since, until = bounds
        task_ids = self._task_filter(query.get("taskID"), query.get("taskSlug"))
        if isinstance(task_ids, Response):
            return task_ids
        selected = [
            run
            for run in self.runs()
            if (task_ids is None or run.obj["taskID"] in task_ids)
            and (since is None or run.updated >= since)
            and (until is None or run.updated < until)
        ]
        chunk = selected[page * limit : (page + 1) * limit]
        return Response(200, b'{"runs":[' + b",".join(run.json() for run in chunk) + b"]}")

    def _task_filter(self, task_id: str | None, slug: str | None) -> set[str] | None | Response:
        """The task ids to keep (None = all), or 404 for an unknown task."""
        wanted: set[str] | None = None
        if task_id:
            if not any(task.task_id == task_id for task in TASKS):
                return airplane_error(404, f"task {task_id} not found")
            wanted = {task_id}
        if slug:
            found = [task.task_id for task in TASKS if task.slug == slug]
            if not found:
                return airplane_error(404, f"task with slug {slug!r} not found")
            wanted = set(found) if wanted is None else wanted & set(found)
        return wanted

    def _outputs(self, run: AirplaneRun) -> Response:
        status = run.obj["status"]
        if status not in FINISHED:
            return airplane_error(
                400,
                f"run {run.obj['id']} has not finished yet "
                f"(status {status}); outputs are available once it has",
            )
        return json_response(200, {"output": run.outputs})

    def _cancel(self, request: Request) -> Response:
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            return airplane_error(400, "invalid JSON request body")
        run_id = body.get("runID") if isinstance(body, dict) else None
        if not isinstance(run_id, str) or not run_id:
            return airplane_error(400, "runID is required")
        run = self._by_id.get(run_id)
        if run is None:
            return airplane_error(404, f"run {run_id} not found")
        with self._lock:
            obj = run.obj
            if obj["status"] in FINISHED:
                return airplane_error(
                    400, f"run {run_id} has already finished (status {obj['status']})"
                )
            when = max(wall_ticks() // 10, run.updated + 1)
            run.obj = {
                **obj,
                "status": "Cancelled",
                "cancelledAt": airplane_time(when),
                "cancelledBy": API_USER,
            }
            run.updated = when
        # The earlier spec declares `responses: {}`; Airplane's Go handlers answer such
        # endpoints with 200 and an empty JSON object.
        return json_response(200, {})


def _int_param(text: str | None, default: int) -> int | None:
    """An integer query parameter (default when absent or blank), None when malformed."""
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        return None
