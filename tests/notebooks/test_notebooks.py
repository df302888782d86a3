"""The example notebooks run top to bottom in a real Jupyter kernel against the offline sandbox.

Each notebook is executed once (cached for the session) with nbclient in a `python3` kernel
that runs this interpreter, with RUNS_PANDAS_SANDBOX=1, no real credentials and proxies that
lead nowhere, so nothing can reach the internet. The notebooks are stored without outputs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest
from offline import offline_environ

pytestmark = pytest.mark.notebook

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
KERNEL = "python3"
CELL_TIMEOUT = 120  # seconds per cell
NOTEBOOK_BUDGET = 60.0  # seconds per notebook (they take ~5 s each on the sandbox)
SLOW_NOTEBOOKS = {"10-spark.ipynb": 180.0}  # starts a JVM and a local Spark (~25 s unloaded)


_executed: dict[str, tuple[Any, float]] = {}


def kernel_env() -> dict[str, str]:
    env = offline_environ()
    # anything that honours proxies and tries the internet fails fast; loopback is exempt
    env["HTTP_PROXY"] = env["HTTPS_PROXY"] = "http://127.0.0.1:9"
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return env


@pytest.fixture(scope="session", autouse=True)
def python3_kernelspec() -> str:
    """nbclient needs a kernelspec named python3; install it into sys.prefix when missing."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:
        subprocess.run(
            [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return KERNEL


def execute(nb: Any, cwd: Path = NOTEBOOKS_DIR) -> Any:
    client = nbclient.NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=CELL_TIMEOUT,
        startup_timeout=60,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute(env=kernel_env(), cwd=str(cwd))
    return nb


def executed(name: str) -> tuple[Any, float]:
    """The notebook after running it (once per test session) and the seconds it took."""
    if name not in _executed:
        nb = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
        started = time.perf_counter()
        execute(nb)
        _executed[name] = (nb, time.perf_counter() - started)
    return _executed[name]


def tagged(nb: Any, tag: str) -> Any:
    cells = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"expected one cell tagged {tag!r}, found {len(cells)}"
    return cells[0]


def outputs_data(cell: Any) -> list[dict[str, Any]]:
    return [o.get("data", {}) for o in cell.get("outputs", []) if "data" in o]


def test_there_are_notebooks() -> None:
    names = [p.name for p in NOTEBOOKS]
    assert len(names) >= 7, names
    assert names[0] == "01-quickstart.ipynb"


def test_kernel_runs_this_interpreter_and_this_checkout() -> None:
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(
        cells=[
            new_code_cell(
                "import os, sys, runs_pandas\n"
                "print(sys.executable)\n"
                "print(os.path.dirname(os.path.dirname(runs_pandas.__file__)))\n"
                "print(os.getcwd())\n"
                "print(os.environ.get('RUNS_PANDAS_SANDBOX'))"
            )
        ],
        metadata={"kernelspec": {"name": KERNEL, "display_name": "Python 3", "language": "python"}},
    )
    execute(nb)
    lines = "".join(o.get("text", "") for o in nb.cells[0].outputs).split()
    assert Path(lines[0]).resolve() == Path(sys.executable).resolve()
    assert Path(lines[1]).resolve() == ROOT
    assert Path(lines[2]).resolve() == NOTEBOOKS_DIR.resolve()
    assert lines[3] == "1"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.get("kernelspec", {}).get("name") == KERNEL
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {cell.get('id')} has stored outputs"
            assert cell.execution_count is None, f"{path.name}: cell {cell.get('id')} has an execution count"
    assert "widgets" not in nb.metadata, f"{path.name} stores widget state"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_tells_a_story_and_sets_up_the_session(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    first, setup = nb.cells[0], nb.cells[1]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "sandbox" in first.source.lower()
    assert setup.cell_type == "code"
    for needle in ("SANDBOX", "rp.Session(sandbox=SANDBOX)", "rp.set_default_session(session)", "%load_ext runs_pandas"):
        assert needle in setup.source, f"{path.name}: the setup cell lacks {needle!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom_on_the_sandbox(path: Path) -> None:
    nb, seconds = executed(path.name)  # a failing cell raises CellExecutionError with its traceback
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"{path.name}: {output.get('ename')}: {output.get('evalue')}"
            if output.output_type == "stream" and output.name == "stderr":
                text = output.text
                assert "Traceback" not in text and "Warning" not in text and "Error" not in text, (
                    f"{path.name}: cell {cell.get('id')} wrote to stderr:\n{text}"
                )
    budget = SLOW_NOTEBOOKS.get(path.name, NOTEBOOK_BUDGET)
    assert seconds < budget, f"{path.name} took {seconds:.1f} s"


def test_quickstart_first_query_shows_a_table() -> None:
    nb, _ = executed("01-quickstart.ipynb")
    cell = tagged(nb, "first-query")
    assert cell.source.startswith("%%runsql")
    html = "".join(d.get("text/html", "") for d in outputs_data(cell))
    assert "<table" in html and "Succeeded" in html and "Failed" in html
    assert "requests" in html  # the footer: rows, requests, seconds


def test_cross_provider_notebook_draws_the_timeline() -> None:
    nb, _ = executed("05-cross-provider.ipynb")
    cell = tagged(nb, "timeline")
    assert any("image/png" in d for d in outputs_data(cell)), "the timeline cell showed no image"


def test_actions_notebook_shows_the_cancellations_in_a_later_select() -> None:
    nb, _ = executed("06-actions.ipynb")
    cell = tagged(nb, "effect")
    html = "".join(d.get("text/html", "") for d in outputs_data(cell))
    assert "<table" in html and "Canceled" in html
    assert "Running" not in html and "Queued" not in html


def test_forms_notebook_shows_the_airplane_form_and_stores_the_result() -> None:
    nb, _ = executed("07-forms.ipynb")
    form = tagged(nb, "airplane-form")
    assert any("application/vnd.jupyter.widget-view+json" in d for d in outputs_data(form))
    last = nb.cells[-1]
    html = "".join(d.get("text/html", "") for d in outputs_data(last))
    assert "<table" in html and "tsk" in html


def test_health_report_notebook_shows_the_report() -> None:
    nb, _ = executed("08-health-report.ipynb")
    cell = tagged(nb, "report")
    html = "".join(d.get("text/html", "") for d in outputs_data(cell))
    assert "Runs health report" in html and "wingtipapps/checkout-worker" in html
    assert "wingtipapps/mobile-backend" in html and "data:image/png;base64," in html


def test_spark_notebook_matches_the_pandas_path_and_reports_the_failed_scopes() -> None:
    nb, _ = executed("10-spark.ipynb")
    equal = "".join(o.get("text", "") for o in tagged(nb, "spark-equal").outputs)
    assert "equal to df.runs.fetch: True" in equal
    errors = "".join(o.get("text", "") for o in tagged(nb, "spark-errors").outputs)
    assert errors.count("decommissioned") == 3 and "404" in errors


def test_history_notebook_syncs_incrementally_and_answers_from_forgotten_days() -> None:
    nb, _ = executed("09-history-and-sync.ipynb")
    text = "".join(o.get("text", "") for o in tagged(nb, "second-sync").outputs)
    first, second = (int(n) for n in re.findall(r"first sync (\d+), second sync (\d+)", text)[0])
    assert second * 10 <= first
    answer = "".join(o.get("text", "") for o in tagged(nb, "history-question").outputs)
    assert int(re.findall(r"no longer list: (\d+)", answer)[0]) > 0
    agree = "".join(o.get("text", "") for o in tagged(nb, "stored-equals-live").outputs)
    assert "equal counts on all of them: True" in agree
