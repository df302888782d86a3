"""Generation of one registry's ACR runs, written straight to ARM JSON bytes.

Each registry draws from its own ``random.Random`` (seeded by sandbox seed and registry
name), so registries can be generated lazily in any order with identical results.
Runs are rendered with string templates rather than dicts + ``json.dumps``: that is
several times faster, which keeps 100,000 runs within about two seconds. Every
templated value is an id, a number or a constant known to need no JSON escaping; free
text goes through ``json.dumps``.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass

from .acr_run import TERMINAL, AcrRun, RegistryRuns
from .acr_scopes import AcrRegistry, AcrTask
from .ids import base36_fast, guid, hex_digits
from .timefmt import TICKS_PER_SECOND, arm_time

RUN_TYPE = "Microsoft.ContainerRegistry/registries/runs"
SECOND = TICKS_PER_SECOND
HOUR = 3600 * SECOND
DAY = 86_400 * SECOND

# Recurring failures: the same failure with different ids, hashes, numbers and times each
# time ({run}, {hex12}, {sha}, {n}, {time}, {guid} are filled per run), so that
# df.runs.failures() has something to group. Kept at four and three entries: the choice
# among them draws from the run generator, the filling from a generator of its own.
FAILURE_TEMPLATES = (
    "failed during run, err: exit status 1",
    "failed to run step ID: build: container {hex12} exited with code {n} at {time}",
    ("failed to run step ID: push: failed to push {login}/{repository}:{run}: received "
    "unexpected HTTP status: 500 Internal Server Error (correlation id {guid})"),
    "failed to run step ID: test: exit status 2; see /workspace/{run}/reports/junit-{n}.xml",
)
ERROR_TEMPLATES = (
    "failed to schedule the run: no agent available in pool (request {guid})",
    ("failed to download source context https://{login}/v2/source/blobs/sha256:{sha}: "
    "context deadline exceeded"),
    "failed to login to source registry: unauthorized: authentication required",
)
_BASE_IMAGES = (
    ("mcr.microsoft.com", "dotnet/aspnet", "8.0"),
    ("registry.hub.docker.com", "library/node", "20-alpine"),
    ("registry.hub.docker.com", "library/python", "3.12-slim"),
    ("mcr.microsoft.com", "windows/servercore", "ltsc2022"),
)
_QUICK_SETTINGS = (
    ',"platform":{"os":"Linux","architecture":"amd64"},"agentConfiguration":{"cpu":2}'
    ',"sourceRegistryAuth":"None"'
)


@dataclass
class _Plan:
    """The decisions for one run before it is rendered."""

    create: int
    task: AcrTask | None  # None for QuickBuild/QuickRun (az acr build / az acr run)
    run_type: str
    trigger: str | None  # "source" | "image" | "timer" | None
    status: str = "Succeeded"
    start: int | None = None
    finish: int | None = None


def generate_registry(registry: AcrRegistry, count: int, seed: int, now: int) -> RegistryRuns:
    """``count`` runs of ``registry`` over the 30 days before ``now`` (ticks), newest first."""
    return _Generator(registry, count, seed, now).build()


def _task_settings(task: AcrTask) -> str:
    """The JSON of the per-task constant properties (platform, agent, auth, registries)."""
    platform = {"os": task.os, "architecture": task.architecture}
    if task.variant:
        platform["variant"] = task.variant
    text = (
        f',"platform":{json.dumps(platform, separators=(",", ":"))}'
        f',"agentConfiguration":{{"cpu":{task.cpu}}},"sourceRegistryAuth":"Default"'
    )
    if task.custom_registries:
        text += (
            f',"customRegistries":{json.dumps(list(task.custom_registries), separators=(",", ":"))}'
        )
    return text


class _Generator:
    """Plans creation times and outcomes, then renders each run."""

    def __init__(self, registry: AcrRegistry, count: int, seed: int, now: int) -> None:
        self.registry = registry
        self.count = count
        self.now = now
        self.rng = random.Random(f"acr:{seed}:{registry.name}")
        self.ids = random.Random(f"acr-ids:{seed}:{registry.name}")  # fills error templates
        self.settings = {task.name: _task_settings(task) for task in registry.tasks}

    def build(self) -> RegistryRuns:
        plans = self._plan()
        counter = 36**3 + self.rng.randrange(36**3)
        runs = [self._render(counter + index, plan) for index, plan in enumerate(plans)]
        runs.reverse()
        return RegistryRuns(runs, {run.run_id.lower(): run for run in runs}, counter + len(plans))

    # -- planning -----------------------------------------------------------------------

    def _plan(self) -> list[_Plan]:
        """All runs oldest first: natural ones over 30 days, then the three in progress."""
        rng, now = self.rng, self.now
        forced = ("Running", "Started", "Queued")[: self.count]
        hours = 30 * 24
        first = now - 10 * 60 * SECOND - hours * HOUR
        weights = []
        for slot in range(hours):  # more runs on weekday working hours
            seconds = (first + slot * HOUR) // SECOND
            hour, weekday = (seconds // 3600) % 24, (seconds // 86_400 + 3) % 7
            weights.append((1.0 if 7 <= hour < 19 else 0.35) * (0.45 if weekday >= 5 else 1.0))
        slots = rng.choices(range(hours), weights, k=self.count - len(forced))
        plans = [self._new_plan(first + slot * HOUR + int(rng.random() * HOUR)) for slot in slots]
        plans.sort(key=lambda plan: plan.create)
        for plan in plans:
            self._decide(plan, self._pick_status(plan))
        self._ensure_terminal_variety(plans)
        ages = {"Running": 8 * 60, "Started": 75, "Queued": 12}
        for status in forced:
            plan = self._new_plan(now - ages[status] * SECOND - rng.randrange(SECOND), manual=True)
            self._decide(plan, status)
            plans.append(plan)
        return plans

    def _new_plan(self, create: int, manual: bool = False) -> _Plan:
        """A run of a random task (or a quick run); ``manual`` runs have no timer trigger."""
        rng = self.rng
        if rng.random() < 0.15:
            return _Plan(create, None, rng.choice(("QuickBuild", "QuickRun")), None)
        tasks = self.registry.tasks
        task = rng.choices(tasks, weights=[t.weight for t in tasks])[0]
        trigger: str | None = rng.choice(task.triggers)
        if trigger == "timer" and manual:
            trigger = None  # started by hand (az acr task run), so no trigger
        elif trigger == "timer":  # timer runs are created a few seconds after the hour
            create = create - create % HOUR + rng.randrange(1, 9) * SECOND
        return _Plan(create, task, "AutoBuild" if task.kind == "build" else "AutoRun", trigger)

    def _pick_status(self, plan: _Plan) -> str:
        failure = plan.task.failure_rate if plan.task else 0.08
        roll = self.rng.random()
        for status, share in (
            ("Failed", failure),
            ("Canceled", 0.03),
            ("Error", 0.015),
            ("Timeout", 0.01),
        ):
            if roll < share:
                return status
            roll -= share
        return "Succeeded"

    def _duration(self, plan: _Plan) -> int:
        """Ticks of work: log-normal around the task median, 30 s to 40 min, some long tail."""
        rng = self.rng
        median, spread = (plan.task.median_seconds, plan.task.spread) if plan.task else (150, 0.6)
        if plan.task and plan.create >= self.now - int(plan.task.slowdown_days * DAY):
            median *= plan.task.slowdown_factor
        seconds = min(max(math.exp(rng.gauss(math.log(median), spread)), 30.0), 2400.0)
        if rng.random() < 0.03:
            seconds *= rng.uniform(2.0, 4.0)
        limit = plan.task.timeout_seconds if plan.task else 3600
        return int(min(seconds, limit * 0.95) * SECOND) + rng.randrange(SECOND)

    def _decide(self, plan: _Plan, status: str) -> None:
        """Set status, start and finish consistently with ``status`` and the anchor time."""
        rng, now = self.rng, self.now
        start = plan.create + int((1 + rng.expovariate(1 / 4)) * SECOND)
        if status == "Queued":
            plan.status, plan.start, plan.finish = status, None, None
            return
        if status in ("Started", "Running"):
            plan.status, plan.start, plan.finish = status, min(start, now - 3 * SECOND), None
            return
        duration = self._duration(plan)
        if status == "Timeout":
            duration = (plan.task.timeout_seconds if plan.task else 3600) * SECOND
            duration += rng.randrange(5 * SECOND)
        elif status == "Failed":
            duration = int(duration * rng.uniform(0.15, 1.0))
        elif status == "Canceled":
            duration = int(duration * rng.uniform(0.05, 0.8))
        elif status == "Error":
            duration = rng.randrange(2 * SECOND, 40 * SECOND)
        if start + duration > now:  # still going at the anchor time
            plan.status, plan.start, plan.finish = "Running", start, None
            return
        plan.status, plan.start, plan.finish = status, start, start + duration
        if status == "Error" and rng.random() < 0.5:
            plan.start = None  # never got an agent

    def _ensure_terminal_variety(self, plans: list[_Plan]) -> None:
        """Give every terminal status at least one run (when there are enough runs)."""
        if len(plans) < 8:
            return
        old_enough = [p for p in plans if p.create < self.now - DAY]  # finish stays < now
        for status in TERMINAL[1:]:
            if not any(p.status == status for p in plans):
                candidates = [p for p in old_enough if p.status == "Succeeded"]
                if candidates:
                    self._decide(self.rng.choice(candidates), status)

    # -- rendering ----------------------------------------------------------------------

    def _render(self, number: int, plan: _Plan) -> AcrRun:
        registry, rng, task = self.registry, self.rng, plan.task
        run_id = registry.run_prefix + base36_fast(number)
        created = arm_time(plan.create)
        updated = arm_time((plan.finish or plan.start or plan.create) + rng.randrange(SECOND // 2))
        out = [
            (
                f'{{"id":"{registry.arm_id}/runs/{run_id}","name":"{run_id}","type":"{RUN_TYPE}"'
                f',"systemData":{self._system_data(task, created, updated)}'
                f',"properties":{{"runId":"{run_id}","status":"{plan.status}"'
                f',"lastUpdatedTime":"{updated}","runType":"{plan.run_type}"'
            )
        ]
        if task and task.agent_pool:
            out.append(f',"agentPoolName":"{task.agent_pool}"')
        out.append(f',"createTime":"{created}"')
        if plan.start is not None:
            out.append(f',"startTime":"{arm_time(plan.start)}"')
        if plan.finish is not None:
            out.append(f',"finishTime":"{arm_time(plan.finish)}"')
        images, manifests = self._output_images(plan, run_id)
        out.append(images)
        if task:
            out.append(f',"task":"{task.name}"')
        out.append(self._trigger(plan))
        out.append(self.settings[task.name] if task else _QUICK_SETTINGS)
        out.append(self._error_message(plan, run_id))
        if task and task.archives_logs and plan.finish is not None:
            out.append(
                f',"logArtifact":{{"registry":"{registry.name}","repository":"acr/tasks"'
                f',"tag":"{task.name}-{run_id}-log","digest":"sha256:{hex_digits(rng, 64)}"}}'
            )
        archived = rng.random() < 0.1
        flag = "true" if archived else "false"
        out.append(f',"provisioningState":"Succeeded","isArchiveEnabled":{flag}}}}}')
        fields = {
            "runId": run_id,
            "runType": plan.run_type,
            "status": plan.status,
            "createTime": plan.create,
            "finishTime": plan.finish,
            "isArchiveEnabled": archived,
            "taskName": task.name if task else None,
            "agentPoolName": task.agent_pool if task else None,
            "outputImageManifests": manifests,
        }
        return AcrRun("".join(out).encode(), fields)

    def _output_images(self, plan: _Plan, run_id: str) -> tuple[str, str]:
        """The ``outputImages`` JSON fragment and the matching manifest list for ``$filter``."""
        if plan.status != "Succeeded" or plan.run_type not in ("AutoBuild", "QuickBuild"):
            return "", ""
        rng = self.rng
        repository = plan.task.repository if plan.task else "scratch/" + rng.choice(("api", "web"))
        tags = (run_id, "latest") if rng.random() < 0.3 else (run_id,)
        digests = ["sha256:" + hex_digits(rng, 64) for _ in tags]
        items = ",".join(
            f'{{"registry":"{self.registry.login_server}","repository":"{repository}"'
            f',"tag":"{tag}","digest":"{digest}"}}'
            for tag, digest in zip(tags, digests)
        )
        manifests = ",".join(f"{repository}:{tag}@{digest}" for tag, digest in zip(tags, digests))
        return f',"outputImages":[{items}]', manifests

    def _trigger(self, plan: _Plan) -> str:
        """The source / image-update / timer trigger fragment (Quick runs have none)."""
        rng, task = self.rng, plan.task
        if plan.trigger == "source" and task:
            if rng.random() < 0.3:
                event, pull = "pullrequest", str(rng.randint(100, 4000))
                branch = (
                    f"feature/{rng.choice(('auth', 'cache', 'ui', 'perf'))}-{rng.randint(1, 99)}"
                )
            else:
                event, pull, branch = "commit", "", "main"
            return (
                f',"sourceTrigger":{{"id":"{guid(rng)}","eventType":"{event}"'
                f',"commitId":"{hex_digits(rng, 40)}","pullRequestId":"{pull}"'
                f',"repositoryUrl":"{task.git_url}","branchName":"{branch}"'
                f',"providerType":"{task.provider}"}}'
            )
        if plan.trigger == "image":
            host, repository, tag = rng.choice(_BASE_IMAGES)
            stamp = arm_time(plan.create - rng.randrange(60 * SECOND))
            return (
                f',"imageUpdateTrigger":{{"id":"{guid(rng)}","timestamp":"{stamp}"'
                f',"images":[{{"registry":"{host}","repository":"{repository}","tag":"{tag}"'
                f',"digest":"sha256:{hex_digits(rng, 64)}"}}]}}'
            )
        if plan.trigger == "timer":
            name = "t1" if rng.random() < 0.5 else "nightly"
            occurrence = arm_time(plan.create - plan.create % HOUR)
            return (
                f',"timerTrigger":{{"timerTriggerName":"{name}"'
                f',"scheduleOccurrence":"{occurrence}"}}'
            )
        return ""

    def _error_message(self, plan: _Plan, run_id: str) -> str:
        if plan.status == "Failed":
            return f',"runErrorMessage":{self._fill(self.rng.choice(FAILURE_TEMPLATES), plan, run_id)}'
        if plan.status == "Error":
            return f',"runErrorMessage":{self._fill(self.rng.choice(ERROR_TEMPLATES), plan, run_id)}'
        if plan.status == "Timeout":
            limit = plan.task.timeout_seconds if plan.task else 3600
            return f',"runErrorMessage":"run exceeded the timeout of {limit} seconds"'
        return ""

    def _fill(self, template: str, plan: _Plan, run_id: str) -> str:
        """A template with this run's ids, as a JSON string."""
        ids, task = self.ids, plan.task
        message = template.format(
            run=run_id,
            hex12=hex_digits(ids, 12),
            sha=hex_digits(ids, 64),
            n=ids.choice((1, 2, 125, 137, 139)) if "code" in template else ids.randint(1, 999),
            time=arm_time((plan.finish or plan.create) - ids.randrange(60 * SECOND))[:19] + "Z",
            guid=guid(ids),
            login=self.registry.login_server,
            repository=task.repository if task and task.repository else "scratch/build",
        )
        return json.dumps(message)

    def _system_data(self, task: AcrTask | None, created: str, updated: str) -> str:
        """ARM ``systemData``: the registry's trigger identity for task runs, else a person."""
        if task:
            who, kind = self.registry.trigger_app_id, "Application"
        elif self.rng.random() < 0.2:
            who, kind = guid(self.rng), "ManagedIdentity"
        else:
            who, kind = self.rng.choice(self.registry.users), "User"
        return (
            f'{{"createdBy":"{who}","createdByType":"{kind}","createdAt":"{created}"'
            f',"lastModifiedBy":"{who}","lastModifiedByType":"{kind}"'
            f',"lastModifiedAt":"{updated}"}}'
        )
