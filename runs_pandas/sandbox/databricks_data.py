"""Generated Databricks clean-room notebook task runs (``CleanRoomNotebookTaskRun``).

Two clean rooms, several notebooks each (``attribution_multi_touch`` is the flaky one,
failing about 40 % of the time). Some int64 fields arrive as decimal strings, as the
real API may send them, and runs from other workspaces carry only the workspace id.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from ._http import json_bytes
from .ids import hex_digits

DEPLOYMENT = "dbc-sandbox"
MINUTE_MS = 60_000
DAY_MS = 86_400_000
TERMINAL_STATES = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")
# Result states that only a SKIPPED run can have, and the rarer TERMINATED outcomes.
_SKIP_RESULTS = (
    "EXCLUDED",
    "DISABLED",
    "MAXIMUM_CONCURRENT_RUNS_REACHED",
    "UPSTREAM_CANCELED",
    "UPSTREAM_EVICTED",
    "UPSTREAM_FAILED",
)
_REQUIRED_OUTCOMES = (
    [
        ("TERMINATED", r)
        for r in (
            "FAILED",
            "TIMEDOUT",
            "CANCELED",
            "SUCCESS_WITH_FAILURES",
            "EVICTED",
            "RUN_RESULT_STATE_UNSPECIFIED",
        )
    ]
    + [("SKIPPED", r) for r in _SKIP_RESULTS]
    + [("INTERNAL_ERROR", "FAILED")]
)


@dataclass(frozen=True)
class Notebook:
    """A notebook asset in a clean room and how its runs behave."""

    name: str
    weight: float
    median_seconds: float
    failure_rate: float
    shared_output: bool = False


@dataclass(frozen=True)
class CleanRoom:
    """A clean room, its notebooks, collaborators and the caller's own alias."""

    name: str
    share: float
    notebooks: tuple[Notebook, ...]
    own_alias: str
    own_workspace_id: int
    other_workspace_ids: tuple[int, ...]
    forced_states: tuple[str, ...]  # non-terminal life-cycle states of the newest runs

    def scope(self) -> dict[str, str]:
        """The request scope that addresses this clean room."""
        return {"deployment_name": DEPLOYMENT, "clean_room_name": self.name}


CLEAN_ROOMS: tuple[CleanRoom, ...] = (
    CleanRoom(
        "retail_insights",
        0.55,
        (
            Notebook("customer_overlap", 4, 180, 0.05, shared_output=True),
            Notebook("basket_affinity", 3, 600, 0.06),
            Notebook("loyalty_lift", 2, 900, 0.05),
            Notebook("store_traffic_forecast", 1.5, 1500, 0.08),
        ),
        "retailer",
        4_218_836_905_117_204,
        (7_730_195_548_812_091, 2_945_601_377_480_522),
        ("PENDING", "QUEUED", "RUNNING", "RUN_LIFE_CYCLE_STATE_UNSPECIFIED"),
    ),
    CleanRoom(
        "ad_measurement",
        0.45,
        (
            Notebook("reach_frequency", 4, 240, 0.04, shared_output=True),
            Notebook("conversion_lift", 3, 720, 0.06),
            Notebook("attribution_multi_touch", 2, 1200, 0.40),
            Notebook("audience_overlap", 2, 150, 0.03),
        ),
        "publisher",
        4_218_836_905_117_204,
        (5_316_042_879_003_118,),
        ("BLOCKED", "WAITING_FOR_RETRY", "TERMINATING", "RUNNING"),
    ),
)


@dataclass
class _Run:
    notebook: Notebook
    start: int  # epoch ms
    life: str = "TERMINATED"
    result: str | None = "SUCCESS"


class CleanRoomRuns:
    """One clean room's runs, newest first, each pre-serialised to JSON bytes."""

    def __init__(self, room: CleanRoom, runs: list[dict[str, Any]]) -> None:
        self.room = room
        self.runs = runs
        self.encoded = [json_bytes(run) for run in runs]


def generate(room: CleanRoom, count: int, seed: int, now_ms: int) -> CleanRoomRuns:
    """``count`` runs of a clean room over the 30 days before ``now_ms``."""
    rng = random.Random(f"databricks:{seed}:{room.name}")
    forced = room.forced_states[:count]
    weights = [notebook.weight for notebook in room.notebooks]
    plans = [
        _Run(
            rng.choices(room.notebooks, weights)[0],
            now_ms - 30 * DAY_MS + rng.randrange(30 * DAY_MS - 75 * MINUTE_MS),
        )
        for _ in range(count - len(forced))
    ]
    plans.sort(key=lambda plan: plan.start)
    for plan in plans:
        plan.life, plan.result = _outcome(rng, plan.notebook)
    _ensure_outcomes(rng, plans, now_ms)
    for age, state in enumerate(forced):
        notebook = rng.choices(room.notebooks, weights)[0]
        start = now_ms - (len(forced) - age) * 2 * MINUTE_MS - rng.randrange(MINUTE_MS)
        if state == "RUN_LIFE_CYCLE_STATE_UNSPECIFIED":
            start = now_ms - 3 * DAY_MS - rng.randrange(DAY_MS)
        plans.append(_Run(notebook, start, state, None))
    plans.sort(key=lambda plan: plan.start)
    versions = _notebook_versions(rng, room, now_ms)
    job_ids = {nb.name: rng.randrange(10**14, 10**15) for nb in room.notebooks}
    job_run_id = rng.randrange(10**14, 5 * 10**14)
    runs: list[dict[str, Any]] = []
    for plan in plans:
        job_run_id += rng.randrange(1_000, 90_000)
        runs.append(_run_json(rng, room, plan, versions[plan.notebook.name], job_ids, job_run_id))
    runs.reverse()
    return CleanRoomRuns(room, runs)


def _outcome(rng: random.Random, notebook: Notebook) -> tuple[str, str | None]:
    roll = rng.random()
    if roll < 0.015:
        return "SKIPPED", rng.choice(_SKIP_RESULTS)
    if roll < 0.02:
        return "INTERNAL_ERROR", "FAILED"
    roll = rng.random()
    if roll < notebook.failure_rate:
        return "TERMINATED", "TIMEDOUT" if rng.random() < 0.15 else "FAILED"
    roll -= notebook.failure_rate
    for result, share in (("CANCELED", 0.02), ("SUCCESS_WITH_FAILURES", 0.01), ("EVICTED", 0.003)):
        if roll < share:
            return "TERMINATED", result
        roll -= share
    return "TERMINATED", "SUCCESS"


def _ensure_outcomes(rng: random.Random, plans: list[_Run], now_ms: int) -> None:
    """Give every (life-cycle, result) pair at least one run when there are enough runs."""
    if len(plans) < 2 * len(_REQUIRED_OUTCOMES):
        return
    seen = {(plan.life, plan.result) for plan in plans}
    for outcome in _REQUIRED_OUTCOMES:
        if outcome not in seen:
            candidates = [p for p in plans if p.result == "SUCCESS" and p.start < now_ms - DAY_MS]
            if candidates:
                chosen = rng.choice(candidates)
                chosen.life, chosen.result = outcome


def _notebook_versions(
    rng: random.Random, room: CleanRoom, now_ms: int
) -> dict[str, list[tuple[int, str]]]:
    """Per notebook, (updated_at ms, etag) versions sorted oldest first."""
    versions: dict[str, list[tuple[int, str]]] = {}
    for notebook in room.notebooks:
        times = [now_ms - 30 * DAY_MS - rng.randrange(1, 60) * DAY_MS]
        times += [now_ms - rng.randrange(30 * DAY_MS) for _ in range(rng.randint(1, 4))]
        versions[notebook.name] = [(t, hex_digits(rng, 32)) for t in sorted(times)]
    return versions


def _run_json(
    rng: random.Random,
    room: CleanRoom,
    plan: _Run,
    versions: list[tuple[int, str]],
    job_ids: dict[str, int],
    job_run_id: int,
) -> dict[str, Any]:
    notebook = plan.notebook
    updated_at, etag = max((v for v in versions if v[0] <= plan.start), default=versions[0])
    run: dict[str, Any] = {
        "notebook_name": notebook.name,
        "notebook_etag": etag,
        "notebook_updated_at": updated_at,
    }
    state: dict[str, str] = {"life_cycle_state": plan.life}
    if plan.result is not None:
        state["result_state"] = plan.result
    run["notebook_job_run_state"] = state
    run["start_time"] = plan.start
    if plan.life in TERMINAL_STATES:
        duration = _duration_ms(rng, notebook, plan)
        run["run_duration"] = str(duration) if rng.random() < 0.2 else duration
        if plan.result in ("SUCCESS", "SUCCESS_WITH_FAILURES"):
            expires = plan.start + duration + 7 * DAY_MS
            suffix = hex_digits(rng, 12)
            run["output_schema_name"] = f"{notebook.name}_output_{suffix}"
            run["output_schema_expiration_time"] = expires
            if notebook.shared_output:
                run["shared_output_schema_name"] = f"shared_{notebook.name}_{suffix}"
                run["shared_output_schema_expiration_time"] = expires
    if rng.random() < 0.65:  # triggered from the caller's own workspace: full details
        run["collaborator_job_run_info"] = {
            "collaborator_alias": room.own_alias,
            "collaborator_job_id": str(job_ids[notebook.name]),
            "collaborator_job_run_id": str(job_run_id),
            "collaborator_task_run_id": str(job_run_id + rng.randrange(1, 400)),
            "collaborator_workspace_id": str(room.own_workspace_id),
        }
    else:  # another collaborator's workspace: LIST only reveals the workspace id
        run["collaborator_job_run_info"] = {
            "collaborator_workspace_id": str(rng.choice(room.other_workspace_ids))
        }
    return run


def _duration_ms(rng: random.Random, notebook: Notebook, plan: _Run) -> int:
    if plan.life == "SKIPPED":
        return rng.randrange(0, 1_500)
    seconds = math.exp(rng.gauss(math.log(notebook.median_seconds), 0.45))
    if plan.result == "TIMEDOUT":
        seconds = 3600 + rng.random() * 5
    elif plan.result in ("FAILED", "CANCELED", "EVICTED"):
        seconds *= rng.uniform(0.1, 0.9)
    return int(seconds * 1000)


def room_counts(total: int) -> dict[str, int]:
    """How many of ``total`` runs each clean room holds (sums to ``total``)."""
    first = round(total * CLEAN_ROOMS[0].share)
    return {CLEAN_ROOMS[0].name: first, CLEAN_ROOMS[1].name: total - first}
