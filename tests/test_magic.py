"""%%runsql and %runsql driven through an in-process IPython shell against the sandbox."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from traitlets import TraitError
from traitlets.config import Config

import runs_pandas as rp
from runs_pandas.sandbox import Sandbox

pytestmark = pytest.mark.integration


@pytest.fixture()
def ip(sandbox: Sandbox) -> Iterator[InteractiveShell]:
    shell = InteractiveShell.instance()
    rp.set_default_session(rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False)))
    shell.run_line_magic("load_ext", "runs_pandas")
    shell.user_ns["sb"] = sandbox
    yield shell
    rp.set_default_session(None)
    shell.user_ns.clear()


def cell(ip: InteractiveShell, line: str, body: str):
    return ip.run_cell_magic("runsql", line, body)


def scope(sandbox: Sandbox) -> dict:
    return sandbox.scopes()["azure"][0]


def test_cell_magic_returns_a_frame_and_name_stores_it(ip: InteractiveShell) -> None:
    frame = cell(ip, "", "SELECT status, count(*) AS n FROM airplane.runs.runs GROUP BY status")
    assert isinstance(frame, pd.DataFrame) and frame["n"].sum() > 0
    assert cell(ip, "counts <<", "SELECT count(*) AS n FROM airplane.runs.runs") is None
    assert int(ip.user_ns["counts"]["n"][0]) == int(frame["n"].sum())


def test_line_magic_assigns(ip: InteractiveShell) -> None:
    ip.run_cell("df = %runsql SELECT id, status FROM airplane.runs.runs LIMIT 3")
    assert list(ip.user_ns["df"].columns) == ["id", "status"] and len(ip.user_ns["df"]) == 3


def test_placeholders_come_from_notebook_variables(ip: InteractiveShell, sandbox: Sandbox) -> None:
    s = scope(sandbox)
    ip.user_ns.update(sub=s["subscriptionId"], rg=s["resourceGroupName"], reg=s["registryName"])
    frame = cell(ip, "", "SELECT DISTINCT registryName FROM azure.container_registry.runs "
                         "WHERE subscriptionId = :sub AND resourceGroupName = :rg AND registryName = :reg")
    assert list(frame["registryName"]) == [s["registryName"]]


def test_errors_are_usage_errors_with_the_query_message(ip: InteractiveShell) -> None:
    with pytest.raises(UsageError, match="subscriptionId") as info:
        cell(ip, "", "SELECT * FROM azure.container_registry.runs WHERE registryName = 'contosobuilds'")
    with pytest.raises(rp.MissingParamError) as direct:
        rp.query("SELECT * FROM azure.container_registry.runs WHERE registryName = 'contosobuilds'")
    assert str(info.value) == str(direct.value)
    with pytest.raises(UsageError, match="placeholder"):
        cell(ip, "", "SELECT * FROM airplane.runs.runs WHERE id = :nope")
    with pytest.raises(UsageError, match="unknown option"):
        cell(ip, "--bogus", "SHOW PROVIDERS")


def test_cell_failure_is_reported_by_run_cell(ip: InteractiveShell) -> None:
    result = ip.run_cell("%%runsql\nSELECT * FROM airplane.runs.runz")
    assert not result.success and isinstance(result.error_in_exec, UsageError)


def test_dry_run_option_sends_nothing(ip: InteractiveShell, sandbox: Sandbox) -> None:
    before = len(sandbox.requests)
    frame = cell(ip, "--dry-run", "SELECT * FROM airplane.runs.runs")
    assert len(sandbox.requests) == before
    assert frame.loc[0, "url"].startswith(sandbox.url) and "tkn_sandbox" not in frame.to_string()


def test_explain_option_shows_pushdown_and_sends_nothing(ip: InteractiveShell, sandbox: Sandbox) -> None:
    before = len(sandbox.requests)
    frame = cell(ip, "--explain", "SELECT * FROM airplane.runs.runs ORDER BY createdAt DESC LIMIT 5")
    assert len(sandbox.requests) == before
    assert frame.loc[0, "limit"] == 5 and frame.loc[0, "expected_pages"] == 1


def test_no_display_and_limit(ip: InteractiveShell) -> None:
    assert cell(ip, "--no-display", "SHOW PROVIDERS") is None
    frame = cell(ip, "--limit 2", "SELECT id FROM airplane.runs.runs")
    data, _ = ip.display_formatter.format(frame)
    assert "showing the first 2" in data["text/html"] and "requests" in data["text/html"]
    assert f"{len(frame):,} rows" in data["text/plain"]


def test_display_says_rows_requests_and_time(ip: InteractiveShell) -> None:
    frame = cell(ip, "", "SELECT id FROM airplane.runs.runs")
    data, _ = ip.display_formatter.format(frame)
    assert f"{len(frame):,} rows" in data["text/html"] and " s" in data["text/html"]
    assert "display truncated" in data["text/html"]
    plain = pd.DataFrame({"a": [1]})
    assert "runs-pandas-footer" not in ip.display_formatter.format(plain)[0]["text/html"]


def test_config_lists_and_sets_settings(ip: InteractiveShell) -> None:
    ip.run_line_magic("config", "RunsSql.display_limit = 7")
    ip.run_line_magic("config", "RunsSql.concurrency = 3")
    assert rp.default_session().settings.display_limit == 7
    assert rp.default_session().settings.concurrency == 3
    magics = ip.magics_manager.registry["RunsSql"]
    assert {"display_limit", "concurrency", "timeout", "retries", "cache_ttl"} <= set(magics.trait_names())


def test_sandbox_option_uses_the_offline_apis(ip: InteractiveShell) -> None:
    frame = cell(ip, "--sandbox", "SELECT count(*) AS n FROM airplane.runs.runs")
    assert int(frame["n"][0]) > 0


def test_form_option_makes_a_field_per_placeholder(ip: InteractiveShell) -> None:
    form = cell(ip, "--form", 'SELECT * FROM airplane.runs.runs WHERE "limit" = :n AND taskID = :task')
    assert set(form.fields) == {"n", "task"}


def test_derived_frames_do_not_carry_the_query_footer(ip: InteractiveShell) -> None:
    frame = cell(ip, "", "SELECT id, status FROM airplane.runs.runs")
    derived = frame.groupby("status").size().to_frame("n")
    assert "requests" not in ip.display_formatter.format(derived)[0]["text/html"]
    assert "requests" in ip.display_formatter.format(frame)[0]["text/html"]


def test_config_survives_a_new_default_session(ip: InteractiveShell, sandbox: Sandbox) -> None:
    ip.run_line_magic("config", "RunsSql.display_limit = 9")
    rp.set_default_session(rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False)))
    cell(ip, "", "SHOW PROVIDERS")
    assert rp.default_session().settings.display_limit == 9


def test_a_timeline_figure_shows_as_a_picture(ip: InteractiveShell) -> None:
    frame = cell(ip, "", "SELECT * FROM airplane.runs.runs")
    figure = frame.runs.timeline()
    assert "image/png" in ip.display_formatter.format(figure)[0]


def test_every_setting_is_a_trait_with_its_type_default_and_help(ip: InteractiveShell) -> None:
    traits = ip.magics_manager.registry["RunsSql"].traits(config=True)
    for name, field in rp.Settings.model_fields.items():
        assert name in traits, f"Settings.{name} is not %config RunsSql.{name}"
        assert traits[name].default_value == field.default
        assert traits[name].help == field.description


def test_an_invalid_setting_is_refused_at_once_and_the_next_query_works(
    ip: InteractiveShell, caplog: pytest.LogCaptureFixture
) -> None:
    ip.run_line_magic("config", "RunsSql.concurrency = 3")
    ip.run_line_magic("config", "RunsSql.concurrency = 0")  # %config shows the TraitError as an error line
    refused = r"RunsSql.concurrency = 0 is refused: .*greater than or equal to 1.*previous value stays"
    assert any(re.search(refused, r.getMessage()) for r in caplog.records), caplog.text
    magics = ip.magics_manager.registry["RunsSql"]
    assert magics.concurrency == 3
    with pytest.raises(TraitError, match=refused):
        magics.concurrency = 0
    assert magics.concurrency == 3
    frame = cell(ip, "", "SELECT count(*) AS n FROM airplane.runs.runs")
    assert int(frame["n"][0]) > 0
    assert rp.default_session().settings.concurrency == 3


def test_a_wrong_type_is_refused_too(ip: InteractiveShell) -> None:
    magics = ip.magics_manager.registry["RunsSql"]
    with pytest.raises(TraitError):
        magics.timeout = "soon"
    ip.run_line_magic("config", "RunsSql.timeout = -1.0")
    assert ip.magics_manager.registry["RunsSql"].timeout == rp.Settings().timeout


def test_help_lists_every_option(ip: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    assert ip.run_line_magic("runsql", "--help") is None
    text = capsys.readouterr().out
    for option in ("--sandbox", "--dry-run", "--form", "--limit", "--no-display", "--help", "name"):
        assert option in text
    assert cell(ip, "-h", "SELECT * FROM nowhere.at.all") is None  # help runs nothing


def test_line_options_before_the_sql_keep_working(ip: InteractiveShell) -> None:
    frame = ip.run_line_magic("runsql", "--limit 3 --sandbox SELECT id FROM airplane.runs.runs")
    assert frame.attrs["runs_pandas"]["display_limit"] == 3
    with pytest.raises(UsageError, match="--limit"):
        ip.run_line_magic("runsql", "--limit x SELECT 1")


def _fresh_shell(config: Config) -> InteractiveShell:
    """A shell of its own (not the shared instance), with the extension loaded under `config`."""
    from runs_pandas.magic import load_ipython_extension

    shell = InteractiveShell(config=config)
    load_ipython_extension(shell)
    return shell


def test_loading_the_magic_keeps_the_settings_of_the_session_in_use(sandbox: Sandbox) -> None:
    rp.set_default_session(rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False, concurrency=5)))
    try:
        shell = _fresh_shell(Config())
        frame = shell.run_cell_magic("runsql", "", "SELECT count(*) AS n FROM airplane.runs.runs")
        assert int(frame["n"][0]) > 0
        settings = rp.default_session().settings
        assert (settings.concurrency, settings.progress) == (5, False)
        shell.run_line_magic("config", "RunsSql.concurrency = 32")  # the trait's default, chosen
        shell.run_cell_magic("runsql", "", "SHOW PROVIDERS")
        assert rp.default_session().settings.concurrency == 32
    finally:
        rp.set_default_session(None)


def test_settings_from_an_ipython_config_file_apply_at_load(sandbox: Sandbox) -> None:
    config = Config()
    config.RunsSql.concurrency = 4
    rp.set_default_session(rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False)))
    try:
        _fresh_shell(config)
        assert rp.default_session().settings.concurrency == 4
    finally:
        rp.set_default_session(None)
