"""Generated Airplane runs (``GetRunResponse``) and their outputs.

All timestamps use Airplane's PostgreSQL text style (``2022-01-11 22:32:45.601486+00``);
fields that do not apply (e.g. ``succeededAt`` of a failed run) are ``null``.
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from ._http import json_bytes
from .airplane_tasks import GROUPS, TASKS, TEAM_ID, USERS, AirplaneTask
from .ids import random36
from .timefmt import airplane_time

SECOND_US = 1_000_000
DAY_US = 86_400 * SECOND_US
FINISHED = ("Succeeded", "Failed", "Cancelled")


class AirplaneRun:
    """One run: the response object, its last-update time and outputs, with cached JSON."""

    __slots__ = ("_cache", "obj", "outputs", "updated")

    def __init__(self, obj: dict[str, Any], updated: int, outputs: dict[str, str]) -> None:
        self.obj = obj
        self.updated = updated  # microseconds, for since/until
        self.outputs = outputs
        self._cache: tuple[dict[str, Any], bytes] | None = None

    def json(self) -> bytes:
        """The run serialised once per version."""
        obj, cache = self.obj, self._cache
        if cache is not None and cache[0] is obj:
            return cache[1]
        data = json_bytes(obj)
        self._cache = (obj, data)
        return data


def generate(count: int, seed: int, now_us: int) -> list[AirplaneRun]:
    """``count`` runs across all tasks, newest first."""
    rng = random.Random(f"airplane:{seed}")
    weights = [task.weight for task in TASKS]
    forced = ("Active", "Queued", "NotStarted")[:count]
    plans: list[tuple[int, AirplaneTask, str | None]] = []
    for _ in range(count - len(forced)):
        task = rng.choices(TASKS, weights)[0]
        created = now_us - 30 * DAY_US + rng.randrange(30 * DAY_US - 3 * 3600 * SECOND_US)
        if task.slug == "nightly_report":  # scheduled at 02:00 UTC
            created = (
                created - created % DAY_US + 2 * 3600 * SECOND_US + rng.randrange(600 * SECOND_US)
            )
        plans.append((created, task, None))
    for age, status in zip((240, 25, 40), forced):
        plans.append(
            (
                now_us - age * SECOND_US - rng.randrange(SECOND_US),
                rng.choices(TASKS, weights)[0],
                status,
            )
        )
    plans.sort(key=lambda plan: plan[0])
    statuses = [status or _status(rng, task) for _, task, status in plans]
    _ensure_statuses(rng, statuses)
    used: set[str] = set()
    runs = [
        _run(rng, task, created, status, now_us, used)
        for (created, task, _), status in zip(plans, statuses)
    ]
    runs.reverse()
    return runs


def _status(rng: random.Random, task: AirplaneTask) -> str:
    roll = rng.random()
    if roll < task.failure_rate:
        return "Failed"
    return "Cancelled" if roll < task.failure_rate + 0.03 else "Succeeded"


def _ensure_statuses(rng: random.Random, statuses: list[str]) -> None:
    """Every finished status appears at least once when there are enough runs."""
    if len(statuses) < 10:
        return
    for wanted in ("Failed", "Cancelled"):
        if wanted not in statuses:
            candidates = [i for i, s in enumerate(statuses[:-3]) if s == "Succeeded"]
            statuses[rng.choice(candidates)] = wanted


def _run(
    rng: random.Random, task: AirplaneTask, created: int, status: str, now_us: int, used: set[str]
) -> AirplaneRun:
    day = airplane_time(created)[:10].replace("-", "")
    run_id = f"run{day}z{random36(rng, rng.choice((7, 9, 11)))}"
    while run_id in used:
        run_id = f"run{day}z{random36(rng, 11)}"
    used.add(run_id)
    creator = rng.choice(USERS)
    active = None if status == "NotStarted" else created + rng.randrange(200_000, 20 * SECOND_US)
    if status == "Queued":
        active = None
    times: dict[str, int | None] = {"succeededAt": None, "failedAt": None, "cancelledAt": None}
    cancelled_by = None
    if status in FINISHED:
        duration = math.exp(rng.gauss(math.log(task.median_seconds), 0.5)) * SECOND_US
        if status == "Failed" and rng.random() < 0.15:
            duration = task.timeout * SECOND_US  # timed out
        elif status != "Succeeded":
            duration *= rng.uniform(0.05, 0.9)
        if status == "Cancelled" and rng.random() < 0.25:
            active = None  # cancelled while still queued
        end = (active or created) + int(duration)
        times[f"{status[0].lower()}{status[1:]}At"] = end
        cancelled_by = rng.choice(USERS) if status == "Cancelled" else None
    updated = max(t for t in (created, active, *times.values()) if t is not None)
    values = _param_values(rng, task, created)
    private = rng.random() < task.private_rate
    obj: dict[str, Any] = {
        "id": run_id,
        "taskID": task.task_id,
        "teamID": TEAM_ID,
        "sessionID": f"ses{day}z{random36(rng, 9)}" if rng.random() < task.session_rate else None,
        "createdAt": airplane_time(created),
        "createdBy": creator,
        "activeAt": _time(active),
        "succeededAt": _time(times["succeededAt"]),
        "failedAt": _time(times["failedAt"]),
        "cancelledAt": _time(times["cancelledAt"]),
        "cancelledBy": cancelled_by,
        "status": status,
        "runtime": task.runtime,
        "isPrivate": private,
        "paramValues": values,
        "params": list(task.params),
        "permissions": _permissions(creator) if private else [],
        "constraints": {"labels": [{"key": k, "value": v} for k, v in task.labels]},
        "resources": dict(task.resources),
        "timeout": task.timeout,
        "zoneID": task.zone_id,
    }
    return AirplaneRun(obj, updated, _outputs(rng, task, status, values, run_id))


def _time(micros: int | None) -> str | None:
    return None if micros is None else airplane_time(micros)


def _permissions(creator: str) -> list[dict[str, str]]:
    return [
        {"action": "runs.get", "roleID": "run_viewer", "subUserID": creator},
        {"action": "runs.cancel", "roleID": "task_admin", "subGroupID": GROUPS[0]},
        {"action": "tasks.execute", "roleID": "task_executer", "subGroupID": GROUPS[1]},
    ]


def _date(micros: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)).strftime("%Y-%m-%d")


def _param_values(rng: random.Random, task: AirplaneTask, created: int) -> dict[str, str]:
    """Parameter values as strings, keyed by slug (optional ones sometimes left out)."""
    if task.slug == "deploy_service":
        values = {
            "service": rng.choice(["api", "web", "worker", "billing"]),
            "version": f"v1.{rng.randint(30, 60)}.{rng.randint(0, 9)}",
            "environment": rng.choice(["staging", "staging", "production"]),
            "dry_run": "true" if rng.random() < 0.15 else "false",
        }
        if rng.random() < 0.4:
            values["notes"] = rng.choice(
                ["Hotfix for checkout latency", "Weekly release", "Roll forward after revert"]
            )
        return values
    if task.slug == "rotate_keys":
        values = {
            "key_name": rng.choice(["STRIPE_API_KEY", "SENDGRID_KEY", "DATADOG_API_KEY"]),
            "grace_hours": str(rng.choice([1, 12, 24, 48])),
            "notify": "true" if rng.random() < 0.8 else "false",
        }
        if rng.random() < 0.3:
            values["rotate_after"] = _date(created) + "T00:00:00Z"
        return values
    if task.slug == "backfill_orders":
        end = created - rng.randrange(1, 5) * DAY_US
        return {
            "start_date": _date(end - rng.randrange(1, 30) * DAY_US),
            "end_date": _date(end),
            "batch_size": str(rng.choice([1000, 5000, 10000])),
            "regions": json.dumps(rng.sample(["us", "eu", "apac"], rng.randint(1, 3))),
            "query": "SELECT * FROM orders WHERE created_at::date BETWEEN :start AND :end",
        }
    if task.slug == "nightly_report":
        values = {
            "report_date": _date(created - DAY_US),
            "recipients": "ops@example.com\nfinance@example.com",
            "threshold": rng.choice(["0.95", "0.9", "0.975"]),
        }
        if rng.random() < 0.1:
            values["attachment"] = f"upl{_date(created).replace('-', '')}z{random36(rng, 9)}"
        if rng.random() < 0.1:
            values["extra"] = json.dumps({"quarter_end": rng.random() < 0.5})
        return values
    values = {
        "namespace": rng.choice(["payments", "search", "checkout", "default"]),
        "selector": json.dumps({"app": rng.choice(["api", "indexer", "cart"])}),
    }
    if rng.random() < 0.5:
        values["strategy"] = json.dumps({"max_unavailable": rng.randint(1, 3), "drain": True})
    if rng.random() < 0.5:
        values["reason"] = rng.choice(["OOMKilled loop", "stale config", "memory leak"])
    return values


# Recurring failures with per-run ids, numbers, addresses and paths (filled from a
# generator seeded by the run id, so the choice among four draws as it always did).
ERROR_TEMPLATES = (
    "run {run}: process exited with status 1",
    'Post "https://hooks.example.com/v1/jobs/{n}": context deadline exceeded',
    "dial tcp 10.{a}.{b}.{c}:5432: connect: connection refused",
    "open /var/airplane/{hex}/credentials.json: permission denied",
)


def _outputs(
    rng: random.Random, task: AirplaneTask, status: str, values: dict[str, str], run_id: str
) -> dict[str, str]:
    """The run's outputs (``GetOutputsResponse.output`` is a string map)."""
    if status == "Failed":
        ids = random.Random(f"airplane-ids:{run_id}")
        template = rng.choice(ERROR_TEMPLATES)
        return {
            "error": template.format(
                run=run_id,
                n=ids.randint(1000, 99999),
                a=ids.randint(0, 255),
                b=ids.randint(0, 255),
                c=ids.randint(1, 254),
                hex=random36(ids, 12),
            )
        }
    if status != "Succeeded":
        return {}
    if task.slug == "deploy_service":
        return {
            "deployed_version": values["version"],
            "environment": values["environment"],
            "pods_updated": str(rng.randint(2, 24)),
        }
    if task.slug == "rotate_keys":
        return {"key_name": values["key_name"], "new_key_version": str(rng.randint(2, 40))}
    if task.slug == "backfill_orders":
        return {
            "rows_written": str(rng.randint(1_000, 2_000_000)),
            "batches": str(rng.randint(1, 400)),
        }
    if task.slug == "nightly_report":
        return {
            "report_url": f"https://reports.example.com/daily/{values['report_date']}",
            "kpis_below_threshold": str(rng.randint(0, 5)),
        }
    return {"pods_restarted": str(rng.randint(1, 12)), "namespace": values["namespace"]}
