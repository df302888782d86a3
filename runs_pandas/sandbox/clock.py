"""The sandbox clock: moving time forward so runs in progress finish and new runs arrive.

Deterministic: where a run in progress ends, and how, is drawn from a generator seeded by
the sandbox seed and the run, so it does not depend on how the time was moved (one step of
an hour or six of ten minutes); new runs are drawn from a generator seeded by the interval,
at each provider's own average rate (its runs over the 30 days before the anchor).
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

from .acr_generate import _Generator
from .acr_run import IN_PROGRESS, AcrRun
from .acr_scopes import REGISTRIES
from .airplane_data import FINISHED, SECOND_US, AirplaneRun, _outputs, _run, _status
from .airplane_tasks import TASKS
from .databricks_data import DAY_MS, TERMINAL_STATES, _duration_ms, _outcome, _Run, _run_json
from .timefmt import TICKS_PER_SECOND, airplane_time, arm_time, parse_iso

if TYPE_CHECKING:
    from .acr_data import AcrStore
    from .airplane_api import AirplaneApi
    from .databricks_api import DatabricksApi

SECOND = TICKS_PER_SECOND
MONTH = 30 * 86_400  # seconds the generated history spans


def arrivals(rng: random.Random, per_second: float, seconds: float) -> int:
    """How many runs arrive in `seconds` at `per_second` (Poisson, drawn from `rng`)."""
    mean, count, total = per_second * seconds, 0, 0.0
    if mean <= 0:
        return 0
    while True:  # exponential gaps: exact and deterministic for any mean
        total += rng.expovariate(1.0)
        if total > mean:
            return count
        count += 1


# -- ACR -------------------------------------------------------------------------------


def advance_acr(store: AcrStore, seed: int, old: int, new: int) -> None:
    """ACR registries from `old` to `new` (ticks): runs in progress move on, new ones arrive."""
    for registry in REGISTRIES:
        built = store.runs(registry)
        with store.write_lock:
            for run in built.runs:
                if run.fields["status"] in IN_PROGRESS:
                    _acr_progress(run, seed, new)
            count = store._counts[registry.name]
            rng = random.Random(f"acr-clock:{seed}:{registry.name}:{old}:{new}")
            generator = _Generator(registry, 0, seed, new)
            generator.rng = rng
            creates = sorted(old + 1 + rng.randrange(new - old) for _ in range(arrivals(rng, count / MONTH, (new - old) / SECOND)))
            fresh: list[AcrRun] = []
            for create in creates:
                plan = generator._new_plan(create)
                generator._decide(plan, generator._pick_status(plan))
                fresh.append(generator._render(built.next_number, plan))
                built.next_number += 1
            fresh.reverse()  # newest first, as the list is kept
            built.by_id.update({run.run_id.lower(): run for run in fresh})
            built.runs = fresh + built.runs
    store.now = new


def _acr_progress(run: AcrRun, seed: int, now: int) -> None:
    """A queued or running ACR run as it is at `now`: started, or finished."""
    obj = run.obj()
    props = obj["properties"]
    rng = random.Random(f"acr-clock:{seed}:{props['runId']}")
    created = parse_iso(props["createTime"])
    start = parse_iso(props["startTime"]) if props.get("startTime") else created + int((2 + rng.random() * 20) * SECOND)
    finish = start + int(rng.uniform(60, 900) * SECOND)
    final = "Failed" if rng.random() < 0.1 else "Succeeded"
    if now < start:
        return
    props["startTime"] = arm_time(start)
    if now < finish:
        if props["status"] == "Running":
            return
        props["status"], stamp = "Running", start
    else:
        props["status"], stamp = final, finish
        props["finishTime"] = arm_time(finish)
        if final == "Failed":
            props["runErrorMessage"] = "failed during run, err: exit status 1"
    props["lastUpdatedTime"] = obj["systemData"]["lastModifiedAt"] = arm_time(stamp)
    run.replace(obj)


# -- Airplane --------------------------------------------------------------------------


def advance_airplane(api: AirplaneApi, seed: int, old: int, new: int) -> None:
    """Airplane runs from `old` to `new` (microseconds)."""
    runs = api.runs()
    tasks = {task.task_id: task for task in TASKS}
    with api._lock:
        for run in runs:
            if run.obj["status"] not in FINISHED:
                _airplane_progress(run, tasks[run.obj["taskID"]], seed, new)
        rng = random.Random(f"airplane-clock:{seed}:{old}:{new}")
        weights = [task.weight for task in TASKS]
        used = set(api._by_id)
        fresh: list[AirplaneRun] = []
        for _ in range(arrivals(rng, api._total / MONTH, (new - old) / SECOND_US)):
            task = rng.choices(TASKS, weights)[0]
            created = old + 1 + rng.randrange(new - old)
            run = _run(rng, task, created, _status(rng, task), new, used)
            if run.updated > new:  # not over yet: what it looks like now
                active = run.obj["activeAt"]
                run.obj = {**run.obj, "status": "Active" if active else "Queued", "succeededAt": None,
                           "failedAt": None, "cancelledAt": None, "cancelledBy": None}
                run.updated, run.outputs = created, {}
                _airplane_progress(run, task, seed, new)
            fresh.append(run)
        fresh.sort(key=lambda r: r.obj["createdAt"], reverse=True)
        api._by_id.update({run.obj["id"]: run for run in fresh})
        api._runs = fresh + runs
        api._now_us = new


def _airplane_progress(run: AirplaneRun, task: Any, seed: int, now: int) -> None:
    obj = run.obj
    rng = random.Random(f"airplane-clock:{seed}:{obj['id']}")
    created = int(parse_iso(obj["createdAt"]) // 10)
    active = int(parse_iso(obj["activeAt"]) // 10) if obj["activeAt"] else created + rng.randrange(200_000, 20 * SECOND_US)
    end = active + int(math.exp(rng.gauss(math.log(task.median_seconds), 0.5)) * SECOND_US)
    final = "Failed" if rng.random() < task.failure_rate else "Succeeded"
    if now < active:
        return
    changed = {"activeAt": airplane_time(active), "status": "Active"}
    when = active
    if now >= end:
        changed.update({"status": final, f"{final[0].lower()}{final[1:]}At": airplane_time(end)})
        when = end
        run.outputs = _outputs(rng, task, final, dict(obj["paramValues"]), obj["id"])
    if changed["status"] == obj["status"]:
        return
    run.obj = {**obj, **changed}
    run.updated = max(run.updated, when)


# -- Databricks ------------------------------------------------------------------------


def advance_databricks(api: DatabricksApi, seed: int, old: int, new: int) -> None:
    """Databricks clean rooms from `old` to `new` (milliseconds)."""
    from ._http import json_bytes

    api.warm()
    for name, built in api._built.items():
        room = built.room
        with api._lock:
            for run in built.runs:
                _databricks_progress(run, room, seed, new)
            rng = random.Random(f"databricks-clock:{seed}:{name}:{old}:{new}")
            weights = [notebook.weight for notebook in room.notebooks]
            job_run_id = max((_job_run_id(r) for r in built.runs), default=10**14)
            fresh: list[dict[str, Any]] = []
            for _ in range(arrivals(rng, api._counts[name] / MONTH, (new - old) / 1000)):
                plan = _Run(rng.choices(room.notebooks, weights)[0], old + 1 + rng.randrange(new - old))
                plan.life, plan.result = _outcome(rng, plan.notebook)
                ends = plan.start + _duration_ms(random.Random(f"{seed}:{plan.start}"), plan.notebook, plan)
                if ends > new:
                    plan.life, plan.result = "RUNNING", None
                same = [r for r in built.runs if r["notebook_name"] == plan.notebook.name]
                versions = [(same[0]["notebook_updated_at"], same[0]["notebook_etag"])] if same else [(old, "0" * 32)]
                job_ids = {nb.name: int(_job_id(built.runs, nb.name, rng)) for nb in room.notebooks}
                job_run_id += rng.randrange(1_000, 90_000)
                fresh.append(_run_json(rng, room, plan, versions, job_ids, job_run_id))
            fresh.sort(key=lambda r: r["start_time"], reverse=True)
            built.runs = fresh + built.runs
            built.encoded = [json_bytes(run) for run in built.runs]
    api._now_ms = new


def _databricks_progress(run: dict[str, Any], room: Any, seed: int, now: int) -> None:
    state = run["notebook_job_run_state"]
    if state["life_cycle_state"] in (*TERMINAL_STATES, "RUN_LIFE_CYCLE_STATE_UNSPECIFIED"):
        return  # over, or stuck for good (as runs of that state are)
    rng = random.Random(f"databricks-clock:{seed}:{room.name}:{run['start_time']}")
    notebook = next(nb for nb in room.notebooks if nb.name == run["notebook_name"])
    plan = _Run(notebook, int(run["start_time"]))
    plan.life, plan.result = _outcome(rng, notebook)
    duration = _duration_ms(rng, notebook, plan)
    if now >= plan.start + duration:
        run["notebook_job_run_state"] = {"life_cycle_state": plan.life, "result_state": plan.result}
        run["run_duration"] = duration
    elif state["life_cycle_state"] != "RUNNING" and now >= plan.start + DAY_MS // 1440:
        run["notebook_job_run_state"] = {"life_cycle_state": "RUNNING"}


def _job_run_id(run: dict[str, Any]) -> int:
    info = run.get("collaborator_job_run_info") or {}
    return int(info.get("collaborator_job_run_id") or 0)


def _job_id(runs: list[dict[str, Any]], notebook: str, rng: random.Random) -> int:
    for run in runs:
        info = run.get("collaborator_job_run_info") or {}
        if run["notebook_name"] == notebook and info.get("collaborator_job_id"):
            return int(info["collaborator_job_id"])
    return rng.randrange(10**14, 10**15)


# -- retention -------------------------------------------------------------------------


def forget(acr: AcrStore, databricks: DatabricksApi, airplane: AirplaneApi, before: int) -> None:
    """Drop runs created before `before` (ticks) from every API: the providers' limited history."""
    for registry in REGISTRIES:
        built = acr.runs(registry)
        with acr.write_lock:
            kept = [run for run in built.runs if run.fields["createTime"] >= before]
            built.by_id = {run.run_id.lower(): run for run in kept}
            built.runs = kept
    listed = airplane.runs()
    with airplane._lock:
        runs = [run for run in listed if parse_iso(run.obj["createdAt"]) >= before]
        airplane._by_id = {run.obj["id"]: run for run in runs}
        airplane._runs = runs
    with databricks._lock:
        for room in databricks._built.values():
            keep = [i for i, run in enumerate(room.runs) if int(run["start_time"]) * 10_000 >= before]
            room.runs = [room.runs[i] for i in keep]
            room.encoded = [room.encoded[i] for i in keep]
