"""End to end per provider: ACR 100k runs, Databricks and Airplane 20k, against hand-written code.

All pages come from the page server (pre-serialised, another process). ACR's 100,000 runs
are its virtual registry `allruns` (the sandbox's four registries' 1,000 pages in one series),
so one `SELECT *` reads them all, as the issue's measurement did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from contenders import PROVIDERS, Hand, databricks_sdk, datetime_fields
from harness import PageServer, Report, Row, Target, interleaved, log

import runs_pandas as rp


def _where(key: str, info: dict[str, Any]) -> tuple[str, dict[str, Any], list[dict[str, str]]]:
    """The WHERE clause, its params and the scopes that select every run of the provider."""
    if key == "acr":
        scope = info["acr_all"]
        return ("WHERE subscriptionId = :s AND resourceGroupName = :g AND registryName = :r",
                {"s": scope["subscriptionId"], "g": scope["resourceGroupName"], "r": scope["registryName"]}, [scope])
    if key == "databricks":
        scopes = info["scopes"]["databricks"]
        return ("WHERE deployment_name = :d AND clean_room_name IN :rooms",
                {"d": scopes[0]["deployment_name"], "rooms": [s["clean_room_name"] for s in scopes]}, scopes)
    return "", {}, [{}]


def bench_provider(report: Report, server: PageServer, key: str, rows: int, rounds: int) -> None:
    """Every contender for one provider, interleaved; rows, ratios and targets into `report`."""
    provider = PROVIDERS[key]
    info = server.info
    where, params, scopes = _where(key, info)
    session = server.session()
    hand = Hand(provider, info, scopes)
    dates = datetime_fields(provider.resource)
    resource = provider.resource
    group_by = "notebook_job_run_state.result_state" if key == "databricks" else "status"
    fetch_scopes = pd.DataFrame([s for s in scopes if s]) if key != "airplane" else None

    contenders: list[tuple[str, Callable[[], Any]]] = [
        ("bare", hand.bare),
        ("ours: SELECT *", lambda: rp.query(f"SELECT * FROM {resource} {where}", params, session=session)),
        ("arrow", hand.arrow),
        ("ours: GROUP BY", lambda: rp.query(
            f"SELECT {group_by}, count(*) AS runs FROM {resource} {where} GROUP BY {group_by}", params, session=session)),
        ("normalize", lambda: hand.normalize(dates)),
    ]
    if fetch_scopes is not None:
        contenders.append(("ours: df.runs.fetch", lambda: fetch_scopes.runs.fetch(resource, session=session)))
    sdk = databricks_sdk(info, scopes) if key == "databricks" else None
    if sdk is not None:
        contenders.append(("databricks-sdk", sdk))
    refused: dict[str, str] = {}

    def guarded(name: str, fn: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            if name in refused:
                return None
            try:
                return fn()
            except Exception as error:  # a hand-written path the data refuses: reported, not timed
                refused[name] = f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"
                return None
        return run

    contenders = [(n, guarded(n, f) if n == "arrow" else f) for n, f in contenders]

    def check(name: str, result: Any) -> None:
        if result is None:
            return
        count = int(result["runs"].sum()) if name == "ours: GROUP BY" else len(result)
        assert count == rows, (key, name, count, rows)
        if isinstance(result, pd.DataFrame) and name.startswith("ours"):
            report.facts.append(f"{key} `{name}`: {result.shape[0]:,} rows x {result.shape[1]} columns")

    log(f"{key}: {rows:,} runs, {len(contenders)} contenders, {rounds} rounds")
    server.stats(reset=True)
    times = interleaved(contenders, rounds, check, between=lambda: server.stats(reset=True))
    stats = server.stats()
    report.facts.append(
        f"{key}: {stats['hits']} timed requests, {stats['misses']} not pre-serialised "
        "(must be 0: the server only wrote prepared bytes while timed)"
    )
    hand.close()
    bench = f"{key} {rows // 1000}k"
    for name, seconds in times.items():
        if name in refused:
            report.facts.append(f"{key} `{name}` refused by the data: {refused[name]}")
            continue
        report.rows.append(Row(bench, name, seconds))
    _ratios(report, key, bench, rows, set(times) - set(refused))


def _ratios(report: Report, key: str, bench: str, rows: int, names: set[str]) -> None:
    ratio = lambda a, b: report.ratio(bench, a, b)  # noqa: E731
    lines = [f"| {bench}: contender | median s | spread s | x bare | per row µs |", "|---|---:|---:|---:|---:|"]
    for row in (r for r in report.rows if r.bench == bench):
        lines.append(
            f"| {row.name} | {row.median:.3f} | {row.spread} | {ratio(row.name, 'bare'):.2f} "
            f"| {row.median / rows * 1e6:.1f} |"
        )
    report.tables[bench] = lines
    select = "ours: SELECT *"
    if key == "acr":
        report.targets += [
            Target("ACR 100k `SELECT *` / fair bare fetch", ratio(select, "bare"), "<=", 1.5),
            Target("ACR 100k GROUP BY / fair bare fetch", ratio("ours: GROUP BY", "bare"), "<=", 1.0),
            Target("ACR 100k `df.runs.fetch` / fair bare fetch", ratio("ours: df.runs.fetch", "bare"), "<=", 1.2),
        ]
        if "arrow" in names:
            report.facts.append(f"acr: hand-written httpx bytes + one pyarrow.json read / `rp.query`: {ratio('arrow', select):.2f}")
    else:
        name = "Databricks" if key == "databricks" else "Airplane"
        report.targets += [
            Target(f"{name} 20k `SELECT *` / fair bare fetch", ratio(select, "bare"), "<=", 1.5),
            Target(f"{name} 20k `SELECT *` / hand-written json_normalize (faster: < 1)", ratio(select, "normalize"), "<", 1.0),
        ]
    report.facts.append(f"{key}: ours `SELECT *` costs {report.median(bench, select) / rows * 1e6:.1f} µs per row")


def per_row_targets(report: Report) -> None:
    """Per-row cost of each provider's `SELECT *` against ACR's."""
    costs = {}
    for row in report.rows:
        if row.name == "ours: SELECT *":
            rows = int(row.bench.split()[1].rstrip("k")) * 1000
            costs[row.bench.split()[0]] = row.median / rows * 1e6
    if not costs:
        return
    lines = ["| provider | ours µs per row | x ACR |", "|---|---:|---:|"]
    for key, cost in costs.items():
        lines.append(f"| {key} | {cost:.1f} | {cost / costs['acr']:.2f} |" if "acr" in costs else f"| {key} | {cost:.1f} | |")
    report.tables["per row"] = lines
    if "acr" in costs:
        for key in ("databricks", "airplane"):
            if key in costs:
                report.targets.append(Target(f"{key} per-row cost / ACR's", costs[key] / costs["acr"], "<=", 1.5))
