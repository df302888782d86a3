#!/usr/bin/env python
"""runs_pandas benchmarks: times and ratios against plain-Python baselines, side by side.

    python benchmarks/run.py               # quick: few repeats, about 2-3 minutes
    python benchmarks/run.py --full        # more repeats
    python benchmarks/run.py --write       # also rewrite docs/performance.md
    python benchmarks/run.py --only conversion,e2e --repeats 5

Every contender of a benchmark runs in this process, interleaved repeat by repeat (A, B, C,
A, B, C, ...) after a `gc.collect()`, and the median is reported. Ratios, not absolute times,
are the result. The sandbox serving the fake APIs runs in a subprocess, so its CPU does not
share this process's GIL. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import inspect
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
try:  # a scratch copy on PYTHONPATH, or the installed package; else this checkout
    import runs_pandas  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(ROOT))

import httpx
import pandas as pd

import runs_pandas as rp
from runs_pandas import engine, frames
from runs_pandas.catalog import FieldType, catalog
from runs_pandas.http.paging import rows_of

ACR = "azure.container_registry.runs"
AIRPLANE = "airplane.runs.runs"
API_VERSION = "2019-06-01-preview"
NOW = "2026-11-23T00:00:00"  # the sandbox's anchor: the same data on every run
ACR_RUNS = 100_000
LATENCY = 0.05
SDK_SECONDS_IN_SPECS = 58.0  # tests/data/specs/README.md: Azure SDK 14.0.0, 100k runs, 1,000 pages
HEAVY = ("duckdb", "pyarrow", "ipywidgets", "matplotlib", "IPython", "sqlglot", "tqdm", "tenacity")
MUST_NOT_IMPORT = ("duckdb", "ipywidgets", "matplotlib")


# -- results ----------------------------------------------------------------------------------


@dataclass
class Row:
    """One contender's times in one benchmark."""

    bench: str
    name: str
    seconds: list[float]
    baseline: str | None = None  # the contender this one is compared with
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass
class Target:
    """A design target: `value` compared with `limit` (`<=` or `>=`)."""

    bench: str
    what: str
    value: float
    op: str
    limit: float
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.value <= self.limit if self.op == "<=" else self.value >= self.limit


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    def find(self, bench: str, name: str) -> Row:
        return next(r for r in self.rows if r.bench == bench and r.name == name)

    def ratio(self, bench: str, name: str, other: str) -> float:
        return self.find(bench, name).median / self.find(bench, other).median


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def interleaved(
    contenders: Sequence[tuple[str, Callable[[], Any]]],
    repeats: int,
    check: Callable[[str, Any], None] | None = None,
) -> dict[str, list[float]]:
    """Each contender once per round, round after round; seconds per contender."""
    times: dict[str, list[float]] = {name: [] for name, _ in contenders}
    for round_ in range(repeats):
        for name, fn in contenders:
            gc.collect()
            started = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - started
            if check is not None and round_ == 0:
                check(name, result)
            del result
            times[name].append(elapsed)
            log(f"  {name}: {elapsed:.3f} s")
    return times


# -- the sandbox in a subprocess --------------------------------------------------------------


class SandboxProcess:
    """`python -m runs_pandas.sandbox` on a free port; its first stdout line says where."""

    def __init__(self, *args: str) -> None:
        command = [sys.executable, "-m", "runs_pandas.sandbox", "--port", "0", "--now", NOW, *args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line:
            self.process.kill()
            raise RuntimeError(f"the sandbox did not start: {' '.join(command)}")
        self.info = json.loads(line)

    def session(self, **settings: Any) -> rp.Session:
        """A plain session pointed at this sandbox, as a user would build one."""
        endpoints = _by_provider(self.info["endpoints"])
        secrets = _by_provider(self.info["tokens"])
        return rp.Session(
            endpoints=endpoints, secrets=secrets, settings=rp.Settings(**settings) if settings else None
        )

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _by_provider(values: dict[str, str]) -> dict[str, str]:
    names = list(catalog().providers)
    return {next((n for n in names if n.startswith(k)), k): v for k, v in values.items()}


def acr_scopes(info: dict[str, Any]) -> list[dict[str, str]]:
    """The four generated registries (the last scope is the official example's, 1 run)."""
    return [s for s in info["scopes"]["azure"] if s["registryName"] != "myRegistry"]


def acr_url(endpoint: str, scope: dict[str, str]) -> str:
    return (
        f"{endpoint}/subscriptions/{scope['subscriptionId']}/resourceGroups/"
        f"{scope['resourceGroupName']}/providers/Microsoft.ContainerRegistry/registries/"
        f"{scope['registryName']}/runs?api-version={API_VERSION}"
    )


def raw_pages(info: dict[str, Any]) -> list[tuple[dict[str, str], bytes]]:
    """Every page body of the four registries, as bytes, with its scope (one walk)."""
    headers = {"Authorization": f"Bearer {info['tokens']['azure']}"}
    pages = []
    with httpx.Client(trust_env=False, timeout=60) as client:
        for scope in acr_scopes(info):
            url: str | None = acr_url(info["endpoints"]["azure"], scope)
            while url:
                response = client.get(url, headers=headers)
                response.raise_for_status()
                pages.append((scope, response.content))
                url = json.loads(response.content).get("nextLink")
    return pages


def datetime_columns(prefix_lifted: str = "properties.") -> list[str]:
    """ACR's date-time fields as json_normalize names them (`properties.createTime`)."""
    resource = catalog().resource(ACR)
    top = {"id", "name", "type", "systemData"}
    names = []

    def walk(fields: Any, path: str) -> None:
        for f in fields:
            if f.type is FieldType.DATETIME:
                names.append(path + f.name)
            elif f.type is FieldType.OBJECT:
                walk(f.children, path + f.name + ".")

    for f in resource.fields:
        prefix = "" if f.name in top else prefix_lifted
        walk([f], prefix)
    return names


def to_datetimes(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    for column in columns:
        if column in frame.columns:
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


# -- 1. conversion ----------------------------------------------------------------------------


def bench_conversion(report: Report, pages: list[tuple[dict[str, str], bytes]], repeats: int) -> None:
    log("1. conversion: page bytes of 100k ACR runs -> DataFrame")
    resource = catalog().resource(ACR)
    method = resource.method("Runs_List")
    dates = datetime_columns()

    lift_in_arrow = "lift" in inspect.signature(frames.to_table).parameters
    frees_in_pause = "rows = []" in inspect.getsource(engine.fetch)
    report.facts.append(
        f"conversion `ours` mirrors the engine: lift done {'by Arrow in to_table' if lift_in_arrow else 'per row by frames.lift'}; "
        f"parsed rows freed {'inside' if frees_in_pause else 'after'} the GC pause"
    )

    from runs_pandas.http import client as http_client

    parse = getattr(http_client, "_parse_json", json.loads)  # the parser the Sender uses
    report.facts.append(f"conversion `ours` parses pages with {parse.__module__}.{parse.__name__}")

    def ours() -> pd.DataFrame:
        # what engine.fetch (the Sender parses pages) and engine._table do, in the same order
        # and with the same GC pause
        with engine._quiet_gc():
            rows: list[dict[str, Any]] = []
            scope: dict[str, list[Any]] = {}
            for page_scope, body in pages:
                batch = rows_of(parse(body), method.rows)
                if not lift_in_arrow:
                    batch = frames.lift(batch, "properties")
                rows.extend(batch)
                for name, value in page_scope.items():
                    scope.setdefault(name, []).extend([value] * len(batch))
            if lift_in_arrow:
                table = frames.to_table(rows, resource.fields, scope, lift="properties")
            else:
                table = frames.to_table(rows, resource.fields, scope)
            if frees_in_pause:
                rows = []
        del rows
        return frames.to_frame(table)

    def json_normalize_pages() -> pd.DataFrame:
        bodies = [json.loads(body) for _, body in pages]
        frame = pd.json_normalize(bodies, record_path="value")
        return to_datetimes(frame, dates)

    def json_normalize_rows() -> pd.DataFrame:
        rows = [row for _, body in pages for row in json.loads(body)["value"]]
        return to_datetimes(pd.json_normalize(rows), dates)

    def check(name: str, frame: pd.DataFrame) -> None:
        assert len(frame) == ACR_RUNS, (name, len(frame))
        created = "createTime" if "createTime" in frame.columns else "properties.createTime"
        assert str(frame[created].dtype).startswith("datetime64"), (name, frame[created].dtype)
        report.facts.append(f"conversion `{name}`: {frame.shape[0]:,} rows x {frame.shape[1]} columns")

    times = interleaved(
        [("ours", ours), ("json_normalize(pages)", json_normalize_pages), ("json_normalize(rows)", json_normalize_rows)],
        repeats,
        check,
    )
    base = "json_normalize(pages, record_path=\"value\") + to_datetime (baseline)"
    fast = "json_normalize(rows) + to_datetime (pandas' simple path)"
    mine = "ours: loads + lift + to_table + to_frame"
    report.rows += [
        Row("conversion", base, times["json_normalize(pages)"]),
        Row("conversion", fast, times["json_normalize(rows)"], base,
            "the same rows gathered first: json_normalize skips its record_path machinery"),
        Row("conversion", mine, times["ours"], base),
    ]
    report.targets.append(
        Target("conversion", "speed-up over json_normalize(pages, record_path) + to_datetime",
               1 / report.ratio("conversion", mine, base), ">=", 5.0)
    )
    report.targets.append(
        Target("conversion", "speed-up over json_normalize(rows) + to_datetime (stricter)",
               1 / report.ratio("conversion", mine, fast), ">=", 5.0)
    )


# -- 2. end to end ----------------------------------------------------------------------------


def bare_fetch(info: dict[str, Any], threads: int = 1) -> list[dict[str, Any]]:
    """(a): one httpx.Client, follow nextLink, json.loads each body, collect the rows."""
    headers = {"Authorization": f"Bearer {info['tokens']['azure']}"}
    endpoint = info["endpoints"]["azure"]
    with httpx.Client(trust_env=False, timeout=60) as client:

        def walk(url: str | None) -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = []
            while url:
                body = json.loads(client.get(url, headers=headers).content)
                rows.extend(body["value"])
                url = body.get("nextLink")
            return rows

        urls = [acr_url(endpoint, scope) for scope in acr_scopes(info)]
        if threads == 1:
            parts = [walk(url) for url in urls]
        else:
            with ThreadPoolExecutor(threads) as pool:
                parts = list(pool.map(walk, urls))
    return [row for part in parts for row in part]


def bench_end_to_end(report: Report, sandbox: SandboxProcess, repeats: int) -> None:
    log("2. end to end: 100k ACR runs, 4 registries in 3 resource groups, 1,000 pages")
    info = sandbox.info
    scopes = acr_scopes(info)
    dates = datetime_columns()
    frame_of_scopes = pd.DataFrame(scopes)

    def a_sequential() -> list[dict[str, Any]]:
        return bare_fetch(info)

    def a_threads() -> list[dict[str, Any]]:
        return bare_fetch(info, threads=len(scopes))

    def b_sequential() -> pd.DataFrame:
        return to_datetimes(pd.json_normalize(bare_fetch(info)), dates)

    def ours_fetch() -> pd.DataFrame:
        return frame_of_scopes.runs.fetch(ACR, session=sandbox.session())

    def ours_fetch_sequential() -> pd.DataFrame:
        return frame_of_scopes.runs.fetch(ACR, session=sandbox.session(concurrency=1))

    groups: dict[tuple[str, str], list[str]] = {}
    for scope in scopes:
        groups.setdefault((scope["subscriptionId"], scope["resourceGroupName"]), []).append(scope["registryName"])
    selects = [
        f"SELECT * FROM {ACR} WHERE subscriptionId = '{sub}' AND resourceGroupName = '{group}' "
        f"AND registryName IN ({', '.join(repr(r) for r in registries)})"
        for (sub, group), registries in groups.items()
    ]

    def ours_sql_each() -> pd.DataFrame:
        session = sandbox.session()
        return pd.concat([rp.query(sql, session=session) for sql in selects], ignore_index=True)

    def check(name: str, result: Any) -> None:
        assert len(result) == ACR_RUNS, (name, len(result))
        if isinstance(result, pd.DataFrame):
            report.facts.append(f"end to end `{name}`: {result.shape[0]:,} rows x {result.shape[1]} columns")
            meta = result.attrs.get("runs_pandas")
            if meta:
                report.facts.append(f"end to end `{name}`: {meta['requests']} requests")

    contenders = [
        ("a_seq", a_sequential),
        ("ours_fetch", ours_fetch),
        ("a_threads", a_threads),
        ("ours_fetch_seq", ours_fetch_sequential),
        ("b_seq", b_sequential),
        ("ours_sql_each", ours_sql_each),
    ]
    times = interleaved(contenders, repeats, check)
    a, a4, b = (
        "(a) bare httpx + json.loads, sequential (baseline)",
        "(a') bare httpx + json.loads, 4 threads",
        "(b) httpx + json + json_normalize + to_datetime, sequential",
    )
    ours, ours1, ours_sql = (
        "ours: df.runs.fetch, 4 scopes concurrently (default)",
        "ours: df.runs.fetch, Settings(concurrency=1)",
        "ours: rp.query per (subscription, group) x3 + pd.concat",
    )
    report.rows += [
        Row("end to end", a, times["a_seq"]),
        Row("end to end", a4, times["a_threads"], a),
        Row("end to end", b, times["b_seq"], a),
        Row("end to end", ours, times["ours_fetch"], a),
        Row("end to end", ours1, times["ours_fetch_seq"], a),
        Row("end to end", ours_sql, times["ours_sql_each"], a),
    ]
    report.targets += [
        Target("end to end", "ours (concurrent) / (a') bare httpx, same 4 threads", report.ratio("end to end", ours, a4), "<=", 1.5),
        Target("end to end", "ours (concurrency=1) / (a) bare httpx, sequential", report.ratio("end to end", ours1, a), "<=", 1.5),
        Target("end to end", "ours (concurrent) / (a) bare httpx, sequential", report.ratio("end to end", ours, a), "<=", 1.5, "aim: <= 1"),
        Target("end to end", "speed-up of ours (concurrency=1) over (b), both sequential", report.ratio("end to end", b, ours1), ">=", 3.0),
        Target("end to end", "speed-up of ours (concurrent) over (b) sequential", report.ratio("end to end", b, ours), ">=", 3.0),
    ]


def bench_sdk(report: Report, sandbox: SandboxProcess, sdk_python: str | None, repeats: int) -> None:
    ours1 = "ours: df.runs.fetch, Settings(concurrency=1)"
    ours = "ours: df.runs.fetch, 4 scopes concurrently (default)"
    have_ours = any(r.name == ours1 for r in report.rows)
    if not sdk_python or not Path(sdk_python).exists():
        report.facts.append(
            f"Azure SDK not re-measured (no --sdk-python); specs/README.md measured about {SDK_SECONDS_IN_SPECS:.0f} s"
        )
        if have_ours:
            report.targets.append(
                Target("azure sdk", "speed-up of ours (concurrency=1) over the SDK's 58 s from specs (not re-measured)",
                       SDK_SECONDS_IN_SPECS / report.find("end to end", ours1).median, ">=", 15.0)
            )
        return
    log("5. Azure SDK (azure-mgmt-containerregistry 14.0.0) in its own venv: 100k runs -> DataFrame")
    args = {
        "endpoint": sandbox.info["endpoints"]["azure"],
        "token": sandbox.info["tokens"]["azure"],
        "scopes": acr_scopes(sandbox.info),
        "repeats": repeats,
    }
    script = Path(__file__).with_name("azure_sdk.py")
    done = subprocess.run(
        [sdk_python, str(script), json.dumps(args)], capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        report.facts.append(f"Azure SDK run failed: {done.stderr.strip().splitlines()[-1:]}")
        return
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rows"] == ACR_RUNS, result
    versions = ", ".join(f"{k} {v}" for k, v in result["versions"].items())
    report.rows.append(
        Row("end to end", "Azure SDK runs.list + as_dict + json_normalize, sequential", result["seconds"],
            "(a) bare httpx + json.loads, sequential (baseline)", f"separate process and venv ({versions})")
    )
    log(f"  sdk: {result['seconds']}")
    if have_ours:
        sdk = statistics.median(result["seconds"])
        report.targets.append(
            Target("azure sdk", "speed-up of ours (concurrency=1) over the Azure SDK, both sequential",
                   sdk / report.find("end to end", ours1).median, ">=", 15.0)
        )
        report.targets.append(
            Target("azure sdk", "speed-up of ours (concurrent, default) over the Azure SDK",
                   sdk / report.find("end to end", ours).median, ">=", 15.0)
        )


# -- 3. fan-out -------------------------------------------------------------------------------


def bench_fan_out(report: Report, repeats: int) -> None:
    log(f"3. fan-out: 20 Airplane scopes (5 tasks x 4 `since`) with {LATENCY * 1000:.0f} ms per page")
    with SandboxProcess("--acr-runs", "0", "--latency", str(LATENCY)) as sandbox:
        tasks = [t["taskID"] for t in sandbox.info["scopes"]["airplane"]]
        now = dt.datetime.fromisoformat(NOW).replace(tzinfo=dt.UTC)
        since = [(now - dt.timedelta(days=d)).isoformat() for d in (1, 2, 3, 5)]
        session = sandbox.session()
        sql = f"SELECT * FROM {AIRPLANE} WHERE taskID IN :tasks AND since IN :since"
        # warm-up (the sandbox generates data in the background) and the pages of each scope
        counts = rp.query(
            f"SELECT taskID, since, count(*) AS n FROM {AIRPLANE} WHERE taskID IN :tasks AND since IN :since GROUP BY ALL",
            {"tasks": tasks, "since": since},
            session=session,
        )
        assert len(counts) == 20 and (counts["n"] > 0).all(), counts
        size = 50  # Airplane's default page size; a short page ends the series
        counts["pages"] = counts["n"] // size + 1
        longest = counts.sort_values(["pages", "n"]).iloc[-1]
        one = {
            "tasks": [longest["taskID"]],
            "since": [s for s in since if pd.Timestamp(s) == pd.Timestamp(longest["since"])],
        }
        all_ = {"tasks": tasks, "since": since}
        report.facts.append(
            f"fan-out: 20 scopes of {counts['n'].min()}-{counts['n'].max()} runs, "
            f"{counts['pages'].min()}-{counts['pages'].max()} pages each "
            f"({counts['pages'].sum()} requests); the single scope is the longest one "
            f"({longest['n']} runs, {longest['pages']} pages)"
        )

        def check(name: str, frame: pd.DataFrame) -> None:
            meta = frame.attrs["runs_pandas"]
            report.facts.append(f"fan-out `{name}`: {len(frame)} rows, {meta['requests']} requests")

        endpoint = sandbox.info["endpoints"]["airplane"]
        headers = {"X-Airplane-API-Key": sandbox.info["tokens"]["airplane"]}
        pairs = [(t, s) for t in tasks for s in since]
        client = httpx.Client(trust_env=False, timeout=60, limits=httpx.Limits(max_connections=64))

        def bare_series(pair: tuple[str, str]) -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = []
            page = 0
            while True:
                params = {"taskID": pair[0], "since": pair[1], "page": page}
                runs = json.loads(client.get(f"{endpoint}/runs/list", params=params, headers=headers).content)["runs"]
                rows += runs
                page += 1
                if len(runs) < size:
                    return rows

        def bare_twenty() -> list[dict[str, Any]]:
            with ThreadPoolExecutor(len(pairs)) as pool:
                return [row for part in pool.map(bare_series, pairs) for row in part]

        bare_one_pair = (one["tasks"][0], one["since"][0])
        times = interleaved(
            [
                ("one", lambda: rp.query(sql, one, session=session)),
                ("twenty", lambda: rp.query(sql, all_, session=session)),
                ("bare one", lambda: bare_series(bare_one_pair)),
                ("bare twenty", bare_twenty),
            ],
            repeats,
            lambda name, result: check(name, result) if isinstance(result, pd.DataFrame) else None,
        )
        client.close()
    one_name = "ours: one scope (the longest of the 20) (baseline)"
    bare_one = "bare httpx + json.loads: that one scope"
    report.rows += [
        Row("fan-out", one_name, times["one"]),
        Row("fan-out", "ours: 20 scopes in one query (concurrent)", times["twenty"], one_name),
        Row("fan-out", bare_one, times["bare one"], note="the floor set by the sandbox and the network"),
        Row("fan-out", "bare httpx + json.loads: the 20 scopes, 20 threads", times["bare twenty"], bare_one),
    ]
    report.targets.append(
        Target("fan-out", "20 scopes / one scope, 50 ms per page", report.ratio("fan-out", "ours: 20 scopes in one query (concurrent)", one_name), "<=", 1.5)
    )


# -- 4. import --------------------------------------------------------------------------------


_IMPORT = """
import json, sys, time
t = time.perf_counter()
import {module}
t = time.perf_counter() - t
print(json.dumps({{"seconds": t, "modules": [m for m in {heavy!r} if m in sys.modules]}}))
"""


def bench_import(report: Report, repeats: int) -> None:
    log("4. import in a fresh interpreter")
    seen: dict[str, list[str]] = {}
    inner: dict[str, list[float]] = {}

    def spawn(module: str | None) -> Callable[[], None]:
        code = "pass" if module is None else _IMPORT.format(module=module, heavy=HEAVY)

        def run() -> None:
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            if module is not None:
                result = json.loads(done.stdout)
                seen[module] = result["modules"]
                inner.setdefault(module, []).append(result["seconds"])

        return run

    times = interleaved(
        [("python", spawn(None)), ("pandas", spawn("pandas")), ("runs_pandas", spawn("runs_pandas"))],
        repeats,
    )
    base = "`python -c 'import pandas'` (baseline)"
    report.rows += [
        Row("import", "`python -c pass`", times["python"], base),
        Row("import", base, times["pandas"], note=f"in-process import: {statistics.median(inner['pandas']):.3f} s"),
        Row("import", "`python -c 'import runs_pandas'`", times["runs_pandas"], base,
            f"in-process import: {statistics.median(inner['runs_pandas']):.3f} s"),
    ]
    bad = [m for m in MUST_NOT_IMPORT if m in seen["runs_pandas"]]
    report.facts.append(f"`import pandas` alone loads: {', '.join(seen['pandas']) or 'none of ' + ', '.join(HEAVY)}")
    report.facts.append(f"`import runs_pandas` loads: {', '.join(seen['runs_pandas']) or 'none of ' + ', '.join(HEAVY)}")
    report.targets.append(
        Target("import", f"modules among {', '.join(MUST_NOT_IMPORT)} loaded by `import runs_pandas`", len(bad), "<=", 0,
               ", ".join(bad) or "none")
    )
    extra = (report.find("import", "`python -c 'import runs_pandas'`").median
             - report.find("import", base).median)
    report.facts.append(f"`import runs_pandas` costs {extra * 1000:.0f} ms on top of `import pandas`")


# -- output -----------------------------------------------------------------------------------


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def _cores() -> int:
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
    cores = _cores()
    versions = []
    for name in ("runs_pandas", "pandas", "pyarrow", "numpy", "duckdb", "httpx", "sqlglot"):
        try:
            versions.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    return [
        f"Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"Machine: {cores} cores ({model or platform.machine()}), {platform.system()} {platform.release()}",
        f"Python {platform.python_version()} ({platform.python_implementation()})",
        "Libraries: " + ", ".join(versions),
        f"Package benchmarked: {Path(rp.__file__).parent}",
    ]


def markdown(report: Report, args: argparse.Namespace) -> str:
    out = [
        "| benchmark | contender | median s | min s | n | x baseline | x baseline (mins) | note |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in report.rows:
        if row.baseline is None:
            ratio = ratio_min = "1.00 (baseline)"
        else:
            base = report.find(row.bench, row.baseline)
            ratio = f"{row.median / base.median:.2f}"
            ratio_min = f"{min(row.seconds) / min(base.seconds):.2f}"
        out.append(
            f"| {row.bench} | {row.name} | {row.median:.3f} | {min(row.seconds):.3f} | {len(row.seconds)} "
            f"| {ratio} | {ratio_min} | {row.note} |"
        )
    out += ["", "| benchmark | target | measured | wanted | result |", "|---|---|---:|---:|---|"]
    for t in report.targets:
        unit = "x"
        value = f"{t.value:.0f}" if t.bench == "import" else f"{t.value:.2f}{unit}"
        limit = f"{t.limit:.0f}" if t.bench == "import" else f"{t.limit:g}{unit}"
        verdict = "PASS" if t.passed else "MISS"
        out.append(f"| {t.bench} | {t.what} | {value} | {t.op} {limit} | {verdict}{' (' + t.note + ')' if t.note else ''} |")
    return "\n".join(out)


DOC_HEAD = """# Performance

Measured by `benchmarks/run.py` (how to run it: `benchmarks/README.md` in the repository);
this page is rewritten by `python benchmarks/run.py --write`. **The ratios are the result**,
not the absolute times: every contender of a benchmark runs in the same process,
interleaved round by round, and the median is shown. "x baseline" is the contender's
median time divided by the baseline's median in the same benchmark (below 1 is faster);
"x baseline (mins)" divides the fastest rounds, which other load on the machine disturbs
least. The targets are the design's ("Performance" in the design notes).
"""

DOC_METHOD = """## What is measured

1. **Conversion**: the raw bodies of the 1,000 pages (100 runs each) of 100,000 ACR runs,
   fetched once from the sandbox, to the final DataFrame. *Ours* is what the engine does:
   `json.loads` each page, `frames.lift(rows, "properties")`, `frames.to_table(rows, fields, scope)`
   with the cyclic GC paused as `engine.fetch` pauses it, then `frames.to_frame(table)`.
   *Baseline*: `json.loads` each page, `pandas.json_normalize(pages, record_path="value")`
   (columns `properties.x`), `pandas.to_datetime(..., utc=True, format="ISO8601")` on the
   7 date-time columns. A stricter second baseline gathers the rows first and calls
   `json_normalize(rows)`, which takes pandas' much faster path without `record_path`.
2. **End to end**: 100,000 ACR runs of 4 registries (in 3 resource groups of 2
   subscriptions) from a sandbox subprocess: 1,000 pages and 1,000 requests for every
   contender. *Ours* is the path a user takes for scopes spread over several resource
   groups: `pd.DataFrame(scopes).runs.fetch("azure.container_registry.runs", session=Session(endpoints=..., secrets=...))`
   (its core is `engine.fetch_frame`), which fetches the 4 registries concurrently with the
   default settings; it also runs with `Settings(concurrency=1)`, and as one
   `rp.query("SELECT * ... WHERE subscriptionId = .. AND resourceGroupName = .. AND registryName IN (..)")`
   per (subscription, group), joined with `pd.concat`. (a) is a bare fetch: one
   `httpx.Client`, follow `nextLink`, `json.loads` each body, collect the rows, nothing
   else; (a') the same with one thread per registry (ours' concurrency); (b) is (a)
   followed by `json_normalize(rows)` and `to_datetime`, written by hand. The sandbox
   generates its data in a background thread, so one walk of all pages comes before timing.
3. **Fan-out**: the sandbox answers each page after 50 ms. One query over 20 Airplane scopes
   (`taskID IN (5 tasks) AND since IN (4 times)`, one or two pages each) against the same
   query for the one scope of those 20 with the most pages. The same two fetches written
   with bare httpx (20 threads) show the floor the sandbox and the network set.
4. **Import**: a fresh `python -c "import runs_pandas"` against `python -c "import pandas"`
   (wall time of the subprocess), and which heavy modules each loads.
5. **Azure SDK**, when a venv with `azure-mgmt-containerregistry==14.0.0` is given
   (`--sdk-python`): `client.runs.list()` per registry, `as_dict()` per run,
   `json_normalize`, `to_datetime`, against the same sandbox, in its own process,
   sequentially, once.
"""


def write_doc(report: Report, table: str, args: argparse.Namespace) -> None:
    lines = [DOC_HEAD, "## Results", "", table, "", "## Facts seen in this run", ""]
    lines += [f"- {fact}" for fact in report.facts]
    lines += ["", "## Machine", ""]
    lines += [f"- {line}" for line in machine()]
    lines += [f"- Command: `python benchmarks/run.py {' '.join(sys.argv[1:])}`", "", DOC_METHOD]
    path = ROOT / "docs" / "performance.md"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if "\n## Spark\n" in old:  # benchmarks/spark.py's section is kept as it was
        lines += ["", "## Spark" + old.split("\n## Spark", 1)[1].rstrip()]
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    log(f"wrote {path}")


# -- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    speed = parser.add_mutually_exclusive_group()
    speed.add_argument("--quick", action="store_true", help="few repeats (the default)")
    speed.add_argument("--full", action="store_true", help="more repeats")
    parser.add_argument("--repeats", type=int, help="repeats for every benchmark (overrides)")
    parser.add_argument("--only", default="conversion,e2e,fanout,import,sdk", help="comma-separated subset")
    parser.add_argument("--write", action="store_true", help="rewrite docs/performance.md")
    parser.add_argument(
        "--sdk-python",
        default=os.environ.get("RUNS_PANDAS_BENCH_SDK_PYTHON", "/tmp/sdkvenv/bin/python"),
        help="python of a venv with azure-mgmt-containerregistry==14.0.0 (skipped if missing)",
    )
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    full = args.full
    reps = {
        "conversion": 5 if full else 3,
        "e2e": 5 if full else 3,
        "fanout": 15 if full else 9,
        "import": 9 if full else 5,
        "sdk": 3 if full else 1,
    }
    if args.repeats:
        reps = dict.fromkeys(reps, args.repeats)
    started = time.perf_counter()
    report = Report()
    load_before = _load()
    if only & {"conversion", "e2e", "sdk"}:
        log(f"starting the sandbox with {ACR_RUNS:,} ACR runs")
        with SandboxProcess("--acr-runs", str(ACR_RUNS)) as sandbox:
            warm = time.perf_counter()
            pages = raw_pages(sandbox.info)  # the warm-up walk, and the conversion's input
            log(f"  warm-up walk: {len(pages)} pages in {time.perf_counter() - warm:.1f} s")
            assert sum(len(json.loads(b)["value"]) for _, b in pages) == ACR_RUNS
            if "conversion" in only:
                bench_conversion(report, pages, reps["conversion"])
            del pages
            if "e2e" in only:
                bench_end_to_end(report, sandbox, reps["e2e"])
            if "sdk" in only:
                bench_sdk(report, sandbox, args.sdk_python, reps["sdk"])
    if "fanout" in only:
        bench_fan_out(report, reps["fanout"])
    if "import" in only:
        bench_import(report, reps["import"])
    report.facts.append(
        f"load average (1 min) before / after the run: {load_before} / {_load()} on {_cores()} cores "
        "(other processes share this machine; the interleaved rounds keep the ratios fair, "
        "the absolute times move with the load)"
    )
    table = markdown(report, args)
    print(table)
    print()
    for fact in report.facts:
        print(f"- {fact}")
    for line in machine():
        print(f"- {line}")
    log(f"total {time.perf_counter() - started:.0f} s")
    if args.write:
        write_doc(report, table, args)
    return 0 if all(t.passed for t in report.targets) else 1


if __name__ == "__main__":
    sys.exit(main())
