"""mkdocs hook: the example notebooks with their outputs, and the pictures, made at build time.

Nothing here is a stored output: every picture and every notebook output comes from running
the code of this checkout against the offline sandbox while the site builds. (The
screenshots of JupyterLab in `docs/images/`, a form, completion, progress and --watch, are
the close-ups `tests/browser/test_live_in_jupyterlab.py` writes to `test-artifacts/docs/`:
copy them there to refresh them.)

- `on_config` lists one nav entry per example notebook under the section that holds
  `notebooks/index.md`.
- `on_files` executes each notebook in `notebooks/` with nbclient (a python3 kernel,
  RUNS_PANDAS_SANDBOX=1, no credentials, proxies that lead nowhere), turns it into a page
  with its outputs and images, and draws the plots of `df.runs.plot()` as PNG files.
- `on_page_markdown` replaces `<!-- picture:NAME -->` with that picture and
  `<!-- rendered:NAME -->` with the HTML the notebook shows for an example result.
"""

from __future__ import annotations

import html
import io
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the hooks' shared nav.py
from nav import under_index  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # build from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

NOTEBOOKS_DIR = ROOT / "notebooks"
PAGES_DIR = "notebooks"
INDEX = f"{PAGES_DIR}/index.md"
PICTURES_DIR = "images/generated"
#: notebooks shown without running them at build time, and why
NOT_EXECUTED = {"10-spark.ipynb": "it starts a local Spark (Java), which a docs build does not need"}
CELL_TIMEOUT = 120
WIDGET = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = (
    "*In Jupyter an interactive widget shows here (a form with a Run button): see "
    "[Forms](../forms.md) for a picture.*"
)


def notebooks() -> list[Path]:
    return sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def title_of(path: Path) -> str:
    """The notebook's first heading, else its file name."""
    import nbformat

    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, flags=re.MULTILINE)
            if match:
                return match.group(1).strip()
    return path.stem


def page_path(path: Path) -> str:
    return f"{PAGES_DIR}/{path.stem}.md"


# -- notebooks ----------------------------------------------------------------------------


def kernel_env() -> dict[str, str]:
    """The environment of the kernels: sandbox on, no credentials, nothing leaves loopback."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from offline import offline_environ
    finally:
        sys.path.remove(str(ROOT / "tests"))
    env = offline_environ()
    env["HTTP_PROXY"] = env["HTTPS_PROXY"] = "http://127.0.0.1:9"
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    return env


@cache
def rendered_notebook(path: Path) -> tuple[str, dict[str, bytes]]:
    """The page of one notebook (markdown with its outputs) and its image files, by uri."""
    import nbclient
    import nbformat
    from nbconvert import MarkdownExporter

    book = nbformat.read(path, as_version=4)
    note = ""
    if path.name in NOT_EXECUTED:
        note = f"!!! note \"Shown without outputs\"\n    This notebook is not run when the site builds: {NOT_EXECUTED[path.name]}.\n\n"
    else:
        client = nbclient.NotebookClient(
            book, kernel_name="python3", timeout=CELL_TIMEOUT, startup_timeout=60,
            resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
        )
        # the kernel's own log lines (ipykernel's transport warning) are not the build's
        client.execute(env=kernel_env(), cwd=str(NOTEBOOKS_DIR), stderr=subprocess.DEVNULL)
        book = without_widgets(book)
    files_dir = f"{path.stem}_files"
    exporter = MarkdownExporter()
    body, resources = exporter.from_notebook_node(book, resources={"output_files_dir": files_dir})
    images = {f"{PAGES_DIR}/{name}": data for name, data in resources.get("outputs", {}).items()}
    header = (
        f"<!-- {path.name}: executed against the offline sandbox when the site was built -->\n"
        f"Source: `notebooks/{path.name}` in the repository. Run it yourself with "
        f"`jupyter lab notebooks/{path.name}` (the sandbox needs no credentials).\n\n"
    )
    title, _, rest = body.partition("\n")  # the source line goes under the notebook's title
    if not title.startswith("# "):
        title, rest = "", body
    return f"{title}\n\n{note}{header}{rest}", images


def without_widgets(book: Any) -> Any:
    """Widget outputs (forms, progress bars) have no static picture: a note instead of a form,
    nothing instead of a finished progress bar."""
    states = book.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    for cell in book.cells:
        kept = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET)
            if view is None:
                kept.append(output)
                continue
            model = states.get(view.get("model_id"), {})
            if _is_progress(model, states):
                continue
            output["data"] = {"text/markdown": WIDGET_NOTE}
            kept.append(output)
        cell["outputs"] = kept
    book.metadata.pop("widgets", None)
    return book


def _is_progress(model: dict[str, Any], states: dict[str, Any]) -> bool:
    """A tqdm bar: an HBox holding a progress widget (or that widget itself)."""
    name = str(model.get("model_name", ""))
    if "Progress" in name:
        return True
    children = model.get("state", {}).get("children", [])
    return any(
        "Progress" in str(states.get(str(child).removeprefix("IPY_MODEL_"), {}).get("model_name", ""))
        for child in children
    )


def index_page() -> str:
    rows = "\n".join(f"| [{title_of(p)}]({p.stem}.md) | `notebooks/{p.name}` |" for p in notebooks())
    return (
        "# Example notebooks\n\n"
        "The notebooks in the repository's `notebooks/` folder, executed against the offline "
        "sandbox when this site was built, with their outputs: tables, pictures and errors "
        "are exactly what the code of this version shows. Interactive widgets (forms) have no "
        "static picture; [Forms](../forms.md) shows one.\n\n"
        "| notebook | file |\n| --- | --- |\n" + rows + "\n"
    )


# -- pictures -----------------------------------------------------------------------------


@cache
def sample_runs() -> Any:
    """Airplane runs of the sandbox: the frame every picture is drawn from."""
    import runs_pandas as rp

    session = rp.Session(sandbox=True, settings=rp.Settings(progress=False))
    return rp.query("SELECT * FROM airplane.runs.runs", session=session)


def png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return buffer.getvalue()


@cache
def pictures() -> dict[str, tuple[bytes, str]]:
    """Each plot of `df.runs.plot()` as PNG bytes, with its alt text, by name."""
    import matplotlib

    matplotlib.use("Agg")
    runs = sample_runs()
    recent = runs.sort_values("createdAt").tail(60)
    return {
        "timeline": (png(recent.runs.timeline(by="taskID")), "the last 60 runs as a timeline, by task"),
        "plot-duration": (png(runs.runs.plot("duration", by="taskID")), "duration per task (box)"),
        "plot-failure-rate": (png(runs.runs.plot("failure_rate", per="day")), "failure rate per day"),
        "plot-status": (png(runs.runs.plot("status", per="day")), "runs per status per day (stacked)"),
    }


@cache
def rendered() -> dict[str, str]:
    """HTML a notebook shows for example results (the magic's renderer), by name."""
    from runs_pandas import render

    runs = sample_runs()
    import runs_pandas as rp

    session = rp.Session(sandbox=True, settings=rp.Settings(progress=False))
    counts = rp.query(
        "SELECT taskID, status, count(*) AS runs FROM airplane.runs.runs GROUP BY ALL ORDER BY runs DESC",
        session=session,
    )
    return {
        "table": render.frame_html(runs, 8) or "",
        "counts": render.frame_html(counts, 6) or "",
        **error_examples(),
    }


@cache
def error_examples() -> dict[str, str]:
    """The messages of common failures, caused for real on a sandbox of the build's own."""
    import runs_pandas as rp
    from runs_pandas.sandbox import Fault, Sandbox

    sandbox = Sandbox(acr_runs=300, databricks_runs=100, airplane_runs=300).start()
    runs = "SELECT id, status FROM airplane.runs.runs"

    def session(**settings: Any) -> rp.Session:
        return rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False, **settings))

    def no_credentials() -> None:
        # a real key of the machine building the docs must not go to the sandbox: hide it
        hidden = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith(("AIRPLANE_", "RUNS_PANDAS_"))}
        try:
            rp.query(runs, session=rp.Session(sandbox=False, endpoints=sandbox.endpoints))
        finally:
            os.environ.update(hidden)

    def throttled() -> None:
        sandbox.inject(Fault(status=429, path_contains="/runs", times=20, retry_after=0.01))
        try:
            rp.query(runs, session=session(retries=1))
        finally:
            sandbox.clear_faults()

    cases = {
        "no-credentials": no_credentials,
        "unauthorized": lambda: rp.query(runs, session=rp.Session(sandbox=sandbox, secrets={"airplane": "an-old-key"})),
        "throttled": throttled,
        "page-cap": lambda: rp.query(runs, session=session(max_pages=1)),
        "budget": lambda: rp.query(runs, session=session(max_requests=1)),
        "syntax": lambda: rp.query("SELECT id status FROM airplane.runs.runs WHERE", session=session()),
        "unknown": lambda: rp.query("SELECT * FROM airplane.runs.run", session=session()),
        "missing": lambda: rp.query("SELECT * FROM azure.container_registry.runs", session=session()),
    }
    out = {}
    try:
        for name, case in cases.items():
            try:
                case()
            except rp.RunsError as exc:
                out[f"error-{name}"] = f"{type(exc).__name__}: {exc}"
            else:
                raise AssertionError(f"the troubleshooting example {name!r} raised no error")
    finally:
        sandbox.stop()
    return {
        name: "<pre><code>" + html.escape(re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)) + "</code></pre>"
        for name, text in out.items()
    }


# -- mkdocs events ------------------------------------------------------------------------


def on_config(config: Any) -> Any:
    """List the notebook pages in the nav, under the section holding the index."""
    entries = [{title_of(p): page_path(p)} for p in notebooks()]
    return under_index(config, INDEX, entries, "Example notebooks")


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    generated: dict[str, str | bytes] = {INDEX: index_page()}
    with ThreadPoolExecutor(max_workers=2) as pool:  # kernels start and wait: two at a time
        done = list(pool.map(rendered_notebook, notebooks()))
    for path, (text, images) in zip(notebooks(), done):
        generated[page_path(path)] = text
        generated.update(images)
    for name, (data, _) in pictures().items():
        generated[f"{PICTURES_DIR}/{name}.png"] = data
    for uri, content in generated.items():
        existing = files.get_file_from_path(uri)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, uri, content=content))
    return files


_MARKER = re.compile(r"<!-- (picture|rendered):([a-z0-9-]+) -->")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    here = PurePosixPath(page.file.src_uri).parent

    def replace(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2)
        if kind == "picture":
            if name not in pictures():
                raise KeyError(f"{page.file.src_uri}: no picture {name!r}; pictures are {sorted(pictures())}")
            target = os.path.relpath(f"{PICTURES_DIR}/{name}.png", here.as_posix() or ".")
            return f"![{pictures()[name][1]}]({target})"
        if name not in rendered():
            raise KeyError(f"{page.file.src_uri}: no rendered output {name!r}; they are {sorted(rendered())}")
        return f'<div class="runs-pandas-output">\n{rendered()[name]}\n</div>'

    return _MARKER.sub(replace, markdown)
