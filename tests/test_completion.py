"""Tab completion in %%runsql / %runsql, through IPython's own completer API."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from IPython.core.completer import provisionalcompleter
from IPython.core.interactiveshell import InteractiveShell


@pytest.fixture()
def ip() -> Iterator[InteractiveShell]:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "runs_pandas")
    yield shell
    shell.user_ns.clear()


def complete(ip: InteractiveShell, text: str, after: str | None = None) -> list[str]:
    """What Tab offers with the cursor just after `after` (default: at the end)."""
    offset = len(text) if after is None else text.index(after) + len(after)
    with provisionalcompleter():
        found = list(ip.Completer.completions(text, offset))
    return [c.text for c in found]  # each replaces text[c.start:offset], as a front end does


def test_resource_ids_complete_one_dotted_part_at_a_time(ip: InteractiveShell) -> None:
    assert complete(ip, "%%runsql\nSELECT * FROM az") == ["azure."]
    assert complete(ip, "%%runsql\nSELECT * FROM azure.") == ["azure.container_registry."]
    assert complete(ip, "%%runsql\nSELECT * FROM azure.container_registry.r") == [
        "azure.container_registry.runs"
    ]
    assert "databricks_workspace." in complete(ip, "%%runsql\nSELECT * FROM a JOIN d")


def test_exec_completes_methods_and_their_params(ip: InteractiveShell) -> None:
    assert complete(ip, "%%runsql\nEXEC azure.container_registry.runs.Runs_C") == [
        "azure.container_registry.runs.Runs_Cancel"
    ]
    assert complete(ip, "%%runsql\nEXEC azure.container_registry.runs.Runs_Cancel @ru") == ["@runId"]
    params = complete(ip, "%%runsql\nEXEC airplane.runs.runs.cancelRun @")
    assert "@runID" in params


def test_columns_of_the_resources_in_the_cell_including_dotted_ones(ip: InteractiveShell) -> None:
    text = "%%runsql\nSELECT sta FROM airplane.runs.runs"
    assert complete(ip, text, after="sta") == ["status"]
    text = "%%runsql\nSELECT platform. FROM azure.container_registry.runs"
    assert complete(ip, text, after="platform.") == [
        "platform.architecture", "platform.os", "platform.variant"
    ]
    text = "%%runsql\nSELECT r.sta FROM airplane.runs.runs AS r"
    assert complete(ip, text, after="r.sta") == ["r.status"]


def test_params_after_where(ip: InteractiveShell) -> None:
    text = "%%runsql\nSELECT * FROM azure.container_registry.runs WHERE sub"
    assert complete(ip, text) == ["subscriptionId"]
    text = "%%runsql\nSELECT * FROM azure.container_registry.runs WHERE subscriptionId = 'x' AND resource"
    assert complete(ip, text) == ["resourceGroupName"]


def test_placeholders_come_from_the_namespace(ip: InteractiveShell) -> None:
    ip.user_ns.update(sub="abc", subs=["a", "b"], submit=print)
    text = "%%runsql\nSELECT * FROM azure.container_registry.runs WHERE subscriptionId = :su"
    assert complete(ip, text) == [":sub", ":subs"]  # a function is no value


def test_notebook_frames_are_tables_and_their_columns_complete(ip: InteractiveShell) -> None:
    ip.user_ns["owners"] = pd.DataFrame({"taskID": ["t"], "owner": ["me"]})
    assert complete(ip, "%%runsql\nSELECT * FROM airplane.runs.runs r JOIN ow") == ["owners"]
    text = "%%runsql\nSELECT * FROM airplane.runs.runs r JOIN owners o ON o.ow"
    assert complete(ip, text) == ["o.owner"]


def test_magic_options_on_the_magic_line(ip: InteractiveShell) -> None:
    assert complete(ip, "%%runsql --sa") == ["--sandbox", "--save"]
    assert "--dry-run" in complete(ip, "%%runsql --")
    assert complete(ip, "%runsql --lim") == ["--limit"]
    assert complete(ip, "%%runsql --watch-") == ["--watch-max"]
    assert complete(ip, "df = %runsql SELECT * FROM airp") == ["airplane."]


def test_ordinary_python_cells_are_left_to_ipython(ip: InteractiveShell) -> None:
    ip.user_ns["owners_frame"] = 1
    assert "owners_frame" in complete(ip, "x = owners_f")
