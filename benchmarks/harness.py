"""What every benchmark shares: results, interleaved rounds, the page server, child processes.

Contenders of one benchmark run in one process, interleaved round by round (A, B, C, A, B,
C, ...) after a `gc.collect()`, one untimed warm-up round first; medians are reported and
the spread (min-max) next to them, because the machine is small and shared.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if not os.environ.get("PYTHONPATH"):  # this checkout, not whatever is installed
    sys.path.insert(0, str(ROOT))
NOW = "2026-11-23T00:00:00"  # the sandbox's anchor: the same data on every run


def child_env() -> dict[str, str]:
    """The environment of a child process: it imports the same package as this one."""
    env = dict(os.environ)
    env.setdefault("PYTHONPATH", str(ROOT))
    return env


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- results ----------------------------------------------------------------------------------


@dataclass
class Row:
    """One contender's times in one benchmark (seconds per round)."""

    bench: str
    name: str
    seconds: list[float]
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def spread(self) -> str:
        return f"{min(self.seconds):.3f}-{max(self.seconds):.3f}"


@dataclass
class Target:
    """A target of the issue: `value` against `limit` (`<=` or `>=`), in `unit`."""

    what: str
    value: float | None
    op: str
    limit: float
    unit: str = "x"
    note: str = ""

    @property
    def met(self) -> bool:
        if self.value is None:
            return False
        if self.op == "<":
            return self.value < self.limit
        return self.value <= self.limit if self.op == "<=" else self.value >= self.limit

    def shown(self, value: float | None) -> str:
        if value is None:
            return "n/a"
        return f"{value:.2f}x" if self.unit == "x" else f"{value:.0f} {self.unit}"


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    tables: dict[str, list[str]] = field(default_factory=dict)  # section -> markdown lines
    facts: list[str] = field(default_factory=list)

    def find(self, bench: str, name: str) -> Row:
        return next(r for r in self.rows if r.bench == bench and r.name == name)

    def median(self, bench: str, name: str) -> float:
        return self.find(bench, name).median

    def ratio(self, bench: str, name: str, other: str) -> float:
        return self.median(bench, name) / self.median(bench, other)


def interleaved(
    contenders: Sequence[tuple[str, Callable[[], Any]]],
    rounds: int,
    check: Callable[[str, Any], None] | None = None,
    between: Callable[[], None] | None = None,
) -> dict[str, list[float]]:
    """One untimed warm-up round (passed to `check`), then `rounds` timed ones; seconds."""
    times: dict[str, list[float]] = {name: [] for name, _ in contenders}
    for round_ in range(rounds + 1):
        for name, fn in contenders:
            gc.collect()
            started = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - started
            if round_ == 0:
                if check is not None:
                    check(name, result)
            else:
                times[name].append(elapsed)
            del result
            log(f"  {'warm-up' if round_ == 0 else f'round {round_}'} {name}: {elapsed:.3f} s")
        if round_ == 0 and between is not None:
            between()
    return times


# -- servers in their own processes -----------------------------------------------------------


class _Process:
    """A child that prints one JSON line saying where it listens, then serves until killed."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=child_env())
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line:
            self.process.kill()
            raise RuntimeError(f"did not start: {' '.join(command)}")
        self.info: dict[str, Any] = json.loads(line)

    def session(self, **settings: Any) -> Any:
        """A plain session pointed at this server, as a user would build one."""
        import runs_pandas as rp

        return rp.Session(
            endpoints=self.info["endpoints"], secrets=self.info["tokens"],
            settings=rp.Settings(**settings) if settings else None,
        )

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def __enter__(self) -> _Process:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SandboxProcess(_Process):
    """`python -m runs_pandas.sandbox` on a free port (used by spark.py and the fan-out)."""

    def __init__(self, *args: str) -> None:
        super().__init__([sys.executable, "-m", "runs_pandas.sandbox", "--port", "0", "--now", NOW, *args])


class PageServer(_Process):
    """`benchmarks/pageserver.py`: pre-serialised pages, nothing done per request."""

    def __init__(self, *args: str) -> None:
        super().__init__([sys.executable, str(HERE / "pageserver.py"), "--now", NOW, *args])

    def stats(self, reset: bool = False) -> dict[str, int]:
        import httpx

        path = "/__bench/reset" if reset else "/__bench/stats"
        result: dict[str, int] = httpx.get(self.info["url"] + path, trust_env=False).json()
        return result


def acr_scopes(info: dict[str, Any]) -> list[dict[str, str]]:
    """The four generated registries (the last scope is the official example's, 1 run)."""
    return [s for s in info["scopes"]["azure"] if s["registryName"] != "myRegistry"]


def run_child(args: list[str], timeout: float = 1800) -> dict[str, Any]:
    """Run `python ARGS` in a fresh process; its last stdout line is JSON."""
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, env=child_env())
    if done.returncode != 0:
        raise RuntimeError(f"child {args[0][:80]} failed: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- sizes ------------------------------------------------------------------------------------


def deep_size(value: Any, seen: set[int]) -> int:
    """Bytes of a Python value and everything it holds, each object counted once."""
    if id(value) in seen:
        return 0
    seen.add(id(value))
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        size += sum(deep_size(v, seen) for v in value)
    elif hasattr(value, "nbytes") and not isinstance(value, (int, float, str, bytes)):
        size += int(value.nbytes)  # numpy arrays held in a cell
    return size


def frame_bytes(frame: Any) -> int:
    """A DataFrame's real size: pandas' deep count, plus what list and dict cells hold."""
    total = int(frame.index.memory_usage(deep=True))
    seen: set[int] = set()
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object:
            total += int(column.values.nbytes) + sum(deep_size(v, seen) for v in column.values)
        else:
            total += int(column.memory_usage(deep=True, index=False))
    return total


# -- the machine ------------------------------------------------------------------------------


def load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def machine() -> list[str]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for name in ("runs_pandas", "pandas", "pyarrow", "numpy", "duckdb", "httpx", "orjson", "sqlglot", "databricks-sdk"):
        try:
            versions.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    import runs_pandas

    return [
        f"Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"Machine: {cores()} cores ({model or platform.machine()}), {platform.system()} {platform.release()}",
        f"Python {platform.python_version()} ({platform.python_implementation()})",
        "Libraries: " + ", ".join(versions),
        f"Package benchmarked: {Path(runs_pandas.__file__).parent}",
    ]
