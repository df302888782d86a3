"""Fixed costs: one small query on a 0 ms server, the first query of a fresh process, the import.

- fixed cost: `rp.query("SELECT * ...")` of the official example registry (1 run, one page of
  ~1 KB) against the page server, warm, many interleaved rounds, next to the same page fetched
  by a bare `httpx.Client.get` + `orjson.loads`;
- cold: in a fresh process that has imported runs_pandas, the first `Session(...)` + such
  query minus the median of the next three (each with a new session too);
- import: in a fresh process, `import runs_pandas` after `import pandas` (both timed), and
  which heavy modules it loads.

Before the fresh processes, the benchmarked package's bytecode is compiled once, as `pip
install` does: with `PYTHONDONTWRITEBYTECODE` set (as in this sandbox) a checkout would
otherwise compile every module of runs_pandas from source in every process, a cost no
installed copy has (about 170 ms of the first query here).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import PageServer, Report, Row, Target, interleaved, log, run_child

ACR = "azure.container_registry.runs"
HEAVY = ("duckdb", "pyarrow.json", "pyarrow.dataset", "httpx", "ipywidgets", "matplotlib", "sqlglot",
         "IPython", "pydantic", "tenacity", "orjson", "numpy", "pyarrow")
SQL = f"SELECT * FROM {ACR} WHERE subscriptionId = :s AND resourceGroupName = :g AND registryName = :r"


def _example(info: dict[str, Any]) -> dict[str, str]:
    scope: dict[str, str] = info["scopes"]["azure"][-1]  # the official example's registry, 1 run
    return scope


def _params(scope: dict[str, str]) -> dict[str, str]:
    return {"s": scope["subscriptionId"], "g": scope["resourceGroupName"], "r": scope["registryName"]}


def bench_fixed(report: Report, server: PageServer, rounds: int) -> None:
    import httpx
    import orjson

    import runs_pandas as rp

    info = server.info
    scope = _example(info)
    params = _params(scope)
    session = server.session()
    url = (f"{info['endpoints']['azure']}/subscriptions/{scope['subscriptionId']}/resourceGroups/"
           f"{scope['resourceGroupName']}/providers/Microsoft.ContainerRegistry/registries/{scope['registryName']}"
           "/runs?api-version=2019-06-01-preview")
    headers = {"Authorization": f"Bearer {info['tokens']['azure']}"}
    client = httpx.Client(trust_env=False)
    log(f"fixed cost: one 1-run page, {rounds} rounds")
    times = interleaved(
        [("ours", lambda: rp.query(SQL, params, session=session)),
         ("bare", lambda: orjson.loads(client.get(url, headers=headers).content)["value"])],
        rounds,
    )
    client.close()
    report.rows += [Row("fixed", "ours: rp.query, 1 run", times["ours"]), Row("fixed", "bare: httpx get + orjson", times["bare"])]
    ours, bare = (statistics.median(times[n]) * 1000 for n in ("ours", "bare"))
    report.targets.append(Target("fixed cost of a query (0 ms server, 1 run)", ours, "<=", 15, "ms", f"bare fetch of the same page: {bare:.1f} ms"))


# the children run as `python -c`, so nothing but what they time is imported before
COLD = """
import json, statistics, sys, time
import runs_pandas as rp
info = json.loads(sys.argv[1])
seconds = []
for _ in range(4):
    started = time.perf_counter()
    session = rp.Session(endpoints=info["endpoints"], secrets=info["tokens"])
    rp.query({sql!r}, {params!r}, session=session)
    seconds.append(time.perf_counter() - started)
print(json.dumps({{"first": seconds[0], "warm": statistics.median(seconds[1:]),
                  "modules": [m for m in {heavy!r} if m in sys.modules]}}))
"""
IMPORT = """
import time
started = time.perf_counter()
import pandas
middle = time.perf_counter()
import runs_pandas
done = time.perf_counter()
import json, sys
print(json.dumps({{"pandas": middle - started, "runs_pandas": done - middle,
                  "modules": [m for m in {heavy!r} if m in sys.modules]}}))
"""


def first_query_imports(code: str, info: dict[str, Any], top: int = 8) -> list[tuple[str, float]]:
    """The packages the first query imports, by cumulative import time (`-X importtime`)."""
    import subprocess

    from harness import child_env

    marker = "import runs_pandas as rp"
    code = code.replace(marker, marker + "\nimport sys; print('--first--', file=sys.stderr)")
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", code, json.dumps(info)],
                         capture_output=True, text=True, env=child_env(), timeout=600).stderr
    costs: dict[str, float] = {}
    for line in err.split("--first--", 1)[-1].splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[0].startswith("import time:") and parts[1].strip().isdigit():
            name = parts[2].strip().split(".")[0]  # each module's own time, summed by package
            costs[name] = costs.get(name, 0.0) + int(parts[0].split(":")[1]) / 1000
    return sorted(costs.items(), key=lambda kv: -kv[1])[:top]


def compile_package() -> str:
    """Write the benchmarked package's `__pycache__` (what an install has); says where."""
    import compileall

    import runs_pandas

    folder = str(Path(runs_pandas.__file__).resolve().parent)
    compileall.compile_dir(folder, quiet=1)
    return folder


def bench_cold_and_import(report: Report, server: PageServer, rounds: int) -> None:
    log(f"cold start and import: {rounds} fresh processes each")
    folder = compile_package()
    cold_code = COLD.format(sql=SQL, params=_params(_example(server.info)), heavy=HEAVY)
    import_code = IMPORT.format(heavy=HEAVY)
    cold, imports = [], []
    for _ in range(rounds):
        cold.append(run_child(["-c", cold_code, json.dumps(server.info)]))
        imports.append(run_child(["-c", import_code]))
    first = statistics.median(c["first"] for c in cold) * 1000
    warm = statistics.median(c["warm"] for c in cold) * 1000
    extra = [(c["first"] - c["warm"]) * 1000 for c in cold]
    report.targets.append(Target(
        "first query in a fresh process over a warm one", statistics.median(extra), "<=", 120, "ms",
        f"first {first:.0f} ms, warm {warm:.0f} ms; spread {min(extra):.0f}-{max(extra):.0f} ms over {rounds} processes",
    ))
    pandas_ms = [i["pandas"] * 1000 for i in imports]
    ours_ms = [i["runs_pandas"] * 1000 for i in imports]
    report.targets.append(Target(
        "`import runs_pandas` over `import pandas`", statistics.median(ours_ms), "<=", 60, "ms",
        f"`import pandas` itself {statistics.median(pandas_ms):.0f} ms; spread {min(ours_ms):.0f}-{max(ours_ms):.0f} ms over {rounds} processes",
    ))
    report.facts.append(f"fresh processes read compiled bytecode of {folder}, as an installed copy does")
    report.facts.append(f"after `import runs_pandas`, loaded: {', '.join(imports[0]['modules'])}")
    report.facts.append("what the first query imports (`python -X importtime`, ms of the modules' own time by package, one process): "
                        + ", ".join(f"{name} {ms:.0f}" for name, ms in first_query_imports(cold_code, server.info)))
    report.facts.append(f"after the first query, loaded: {', '.join(cold[0]['modules'])}")

