"""The documentation site builds with `mkdocs build --strict`, and its generated pages match
the catalog: every field of `DESCRIBE`, every method, every README configuration variable."""

from __future__ import annotations

import html
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import runs_pandas as rp
from runs_pandas.catalog import catalog

pytestmark = pytest.mark.docs

ROOT = Path(__file__).resolve().parents[2]
HOOK = ROOT / "docs" / "_hooks" / "catalog_pages.py"
RESOURCES = sorted(catalog().resources)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import importlib.util

    missing = [
        module
        for module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")
        if importlib.util.find_spec(module) is None
    ]
    assert not missing, f"the docs extra is not installed ({missing}): pip install -e '.[docs]'"
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(ROOT / "mkdocs.yml"),
            "-d",
            str(out),
        ],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,  # the example notebooks are executed during the build
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    assert "WARNING" not in done.stderr, done.stderr
    return out


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("catalog_pages", HOOK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def page(site: Path, name: str) -> str:
    path = site / name / "index.html" if name else site / "index.html"
    assert path.is_file(), f"no page {path.relative_to(site)}"
    return path.read_text(encoding="utf-8")


def test_build_is_strict_and_complete(site: Path) -> None:
    for name in (
        "",
        "getting-started",
        "sql",
        "credentials",
        "magic",
        "accessor",
        "forms",
        "cli",
        "errors",
        "sandbox",
        "performance",
        "resources",
        "api",
        "api/session",
        "api/errors",
        "api/sandbox",
        "api/accessor",
        "troubleshooting",
        "notebooks",
    ):
        text = page(site, name)
        assert "<!-- generated:" not in text, f"{name or 'index'}: a marker was not replaced"


@pytest.mark.parametrize("resource_id", RESOURCES)
def test_resource_page_lists_every_field_and_method(site: Path, resource_id: str) -> None:
    text = page(site, f"resources/{resource_id}")
    fields = rp.query(f"DESCRIBE {resource_id}")["field"].tolist()
    assert fields
    missing = [f for f in fields if f"<td><code>{html.escape(f)}</code></td>" not in text]
    assert not missing, f"fields not in the page's fields table: {missing}"
    methods = rp.query(f"SHOW METHODS IN {resource_id}")["method"].tolist()
    for method in methods:
        assert f'id="{method.lower()}"' in text, f"no section for method {method}"
        assert f"<code>{method}</code>" in text, f"method {method} not in the methods table"
    resource = catalog().resource(resource_id)
    if resource.runs is not None:
        for state in resource.runs.states:
            assert f"<code>{html.escape(state)}</code>" in text, f"state {state} not in the page"


def test_resources_are_in_the_index_and_the_nav(site: Path) -> None:
    index = page(site, "resources")
    home = page(site, "")
    for resource_id in RESOURCES:
        assert f'href="{resource_id}/"' in index
        assert f"resources/{resource_id}/" in home  # the navigation lists every resource page


def test_credentials_page_names_every_readme_variable(site: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names = re.findall(r"^\|\s*`([A-Z][A-Z0-9_]+)(?:=[^`]*)?`", section, flags=re.MULTILINE)
    assert len(names) >= 8, f"could not read the README's configuration table: {names}"
    text = html.unescape(page(site, "credentials"))
    missing = [name for name in names if name not in text]
    assert not missing, f"README variables missing from credentials.md: {missing}"


def test_settings_tables_list_every_setting(site: Path) -> None:
    from runs_pandas.magic import RunsSql

    magic = html.unescape(page(site, "magic"))
    for name in rp.Settings.model_fields:
        assert f"<code>{name}</code>" in magic, f"Settings.{name} not on the magic page"
    for name in RunsSql.class_traits(config=True):
        assert f"RunsSql.{name}" in magic, f"%config RunsSql.{name} not on the magic page"


@pytest.mark.parametrize("resource_id", RESOURCES)
def test_resource_examples_work_on_the_sandbox(
    hook: ModuleType, session: rp.Session, resource_id: str
) -> None:
    resource = catalog().resource(resource_id)
    counts = rp.query(hook.example_sql(resource), session=session)
    assert len(counts) > 0 and int(counts["runs"].sum()) > 0
    runs = rp.query(hook.example_select_all(resource), session=session)
    assert len(runs) == int(counts["runs"].sum())
    assert len(runs.runs.normalize()) == len(runs)
    assert int(runs.runs.summary()["runs"].sum()) == len(runs)


def test_every_example_notebook_is_a_page_with_its_outputs(site: Path) -> None:
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    index = page(site, "notebooks")
    for path in notebooks:
        assert f'href="{path.stem}/"' in index, f"{path.name} not in the notebooks index"
        text = page(site, f"notebooks/{path.stem}")
        assert f"notebooks/{path.name}" in text
    quickstart = page(site, "notebooks/01-quickstart")
    assert "runs-pandas-footer" in quickstart and "<table" in quickstart  # executed: the results are there
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', page(site, "notebooks/05-cross-provider"))
    assert images, "the cross-provider notebook's timeline is not on its page"
    for src in images:
        assert (site / "notebooks" / "05-cross-provider" / src).resolve().is_file(), src
    assert "Error displaying widget" not in page(site, "notebooks/07-forms")


def test_pictures_of_each_plot_are_drawn_at_build_time(site: Path) -> None:
    accessor = page(site, "accessor")
    for name in ("timeline", "plot-duration", "plot-failure-rate", "plot-status"):
        assert f"images/generated/{name}.png" in accessor, f"no picture {name} on the accessor page"
        picture = site / "images" / "generated" / f"{name}.png"
        assert picture.is_file() and picture.read_bytes().startswith(b"\x89PNG")
        assert picture.stat().st_size > 5_000, f"{name}.png is too small to be a chart"
    magic = page(site, "magic")
    assert magic.count("runs-pandas-footer") >= 1 and "Saved queries" in magic and "--watch" in magic
    for shot in ("progress", "completion", "watch"):
        assert f"images/{shot}.png" in magic, f"no {shot} screenshot on the magic page"
    assert "images/form.png" in page(site, "forms")
    for shot in ("progress", "completion", "watch", "form"):
        assert (site / "images" / f"{shot}.png").read_bytes().startswith(b"\x89PNG")


def test_troubleshooting_shows_real_messages(site: Path) -> None:
    text = html.unescape(page(site, "troubleshooting"))
    for expected in (
        "AuthError: no credentials for airplane",
        "UnauthorizedError: airplane listRuns: HTTP 401",
        "HTTP 429",
        "page cap",
        "RequestBudgetError",
        "store_lock_timeout",
        "SqlSyntaxError: SQL syntax error at line 1, column",  # a QueryError with a caret
        "did you mean 'airplane.runs.runs'",
        "MissingParamError",
    ):
        assert expected in text, f"troubleshooting page lacks {expected!r}"
    assert "an-old-key" not in text  # the refused secret is in no message


def test_the_accessor_is_in_the_api_pages(site: Path) -> None:
    text = page(site, "api/accessor")
    for method in ("normalize", "summary", "timeline", "plot", "fetch", "exec", "flatten", "explode"):
        assert f'id="runs_pandas.accessor.RunsAccessor.{method}"' in text, f"df.runs.{method} not documented"
