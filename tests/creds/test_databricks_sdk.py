"""databricks-sdk's unified auth against fake workspaces (TLS, loopback): the SDK really gets
its tokens; runs_pandas sends each workspace's credential to that workspace only."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import runs_pandas as rp
from runs_pandas.sandbox import Sandbox
from tests.creds.conftest import trusting
from tests.creds.workspace import FakeWorkspace

RUNS = "SELECT notebook_name FROM databricks_workspace.cleanrooms.task_runs WHERE clean_room_name = 'retail'"
SECRET_A, SECRET_B, PAT_B = "m2m-secret-a-123", "m2m-secret-b-456", "dapi-pat-b-789"


@pytest.fixture()
def workspaces(tls: tuple[Path, Path, Path]) -> Iterator[tuple[FakeWorkspace, FakeWorkspace]]:
    a = FakeWorkspace("a", tls[1:], {"sp-a": SECRET_A}).start()
    b = FakeWorkspace("b", tls[1:], {"sp-b": SECRET_B}, pats=(PAT_B,)).start()
    yield a, b
    a.stop()
    b.stop()


def session(tls: tuple[Path, Path, Path]) -> rp.Session:
    return rp.Session(client=trusting(tls[0]), settings=rp.Settings(progress=False))


def profiles(home: Path, a: FakeWorkspace, b: FakeWorkspace, default: str = "") -> None:
    (home / ".databrickscfg").write_text(
        f"{default}"
        f"[ws-a]\nhost = {a.url}\nclient_id = sp-a\nclient_secret = {SECRET_A}\n\n"
        f"[ws-b]\nhost = {b.url}\ntoken = {PAT_B}\nauth_type = pat\n"
    )


def test_m2m_from_the_environment_alone_and_no_deployment_name(
    isolated: Path, workspaces: tuple[FakeWorkspace, FakeWorkspace], tls: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = workspaces
    monkeypatch.setenv("DATABRICKS_HOST", a.url)
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", "sp-a")
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", SECRET_A)
    frame = rp.query(RUNS, session=session(tls))
    assert list(frame["notebook_name"]) == ["a-nb"]
    assert a.token_asks == [{"client_id": "sp-a", "scope": "all-apis", "grant_type": "client_credentials"}]
    assert a.seen == ["Bearer a-token-1"] and b.seen == []


def test_two_profiles_one_query_each_token_to_its_own_host(
    isolated: Path, workspaces: tuple[FakeWorkspace, FakeWorkspace], tls: tuple[Path, Path, Path]
) -> None:
    a, b = workspaces
    profiles(isolated, a, b)
    frame = rp.query(RUNS + " AND deployment_name IN (:a, :b)", params={"a": a.host, "b": b.host},
                     session=session(tls))
    assert sorted(frame["notebook_name"]) == ["a-nb", "b-nb"]
    assert a.seen == ["Bearer a-token-1"]  # OAuth M2M from profile ws-a, at workspace a only
    assert b.seen == [f"Bearer {PAT_B}"]  # the PAT of profile ws-b, at workspace b only
    assert b.token_asks == []


def test_environment_credentials_stay_with_their_host(
    isolated: Path, workspaces: tuple[FakeWorkspace, FakeWorkspace], tls: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = workspaces
    profiles(isolated, a, b)
    monkeypatch.setenv("DATABRICKS_HOST", a.url)  # the SDK's variables win for their own host...
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-env-token-for-a")
    a.pats.add("dapi-env-token-for-a")
    frame = rp.query(RUNS + " AND deployment_name IN (:a, :b)", params={"a": a.host, "b": b.host},
                     session=session(tls))
    assert sorted(frame["notebook_name"]) == ["a-nb", "b-nb"]
    assert a.seen == ["Bearer dapi-env-token-for-a"] and a.token_asks == []
    assert b.seen == [f"Bearer {PAT_B}"]  # ...and never reach another workspace's profile


def test_the_chosen_profile_is_the_default_workspace(
    isolated: Path, workspaces: tuple[FakeWorkspace, FakeWorkspace], tls: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = workspaces
    profiles(isolated, a, b)
    monkeypatch.setenv("DATABRICKS_CONFIG_PROFILE", "ws-b")
    assert list(rp.query(RUNS, session=session(tls))["notebook_name"]) == ["b-nb"]
    assert a.seen == [] and b.seen == [f"Bearer {PAT_B}"]


def test_a_workspace_without_a_credential_gets_none(
    isolated: Path, workspaces: tuple[FakeWorkspace, FakeWorkspace], tls: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = workspaces
    monkeypatch.setenv("DATABRICKS_HOST", a.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-env-token-for-a")
    with pytest.raises(rp.AuthError) as info:
        rp.query(RUNS + " AND deployment_name = :b", params={"b": b.host}, session=session(tls))
    text = str(info.value)
    assert f"no databricks_workspace credential is bound to the workspace {b.url}" in text
    assert a.url in text and "dapi-env-token-for-a" not in text
    assert a.seen == [] and b.seen == []


def test_an_expired_token_is_refreshed_by_the_sdk(
    isolated: Path, tls: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    a = FakeWorkspace("a", tls[1:], {"sp-a": SECRET_A}, expires_in=1).start()
    try:
        monkeypatch.setenv("DATABRICKS_HOST", a.url)
        monkeypatch.setenv("DATABRICKS_CLIENT_ID", "sp-a")
        monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", SECRET_A)
        s = session(tls)
        rp.query(RUNS, session=s)
        time.sleep(1.2)
        rp.query(RUNS, session=s)
    finally:
        a.stop()
    assert a.seen == ["Bearer a-token-1", "Bearer a-token-2"] and len(a.token_asks) == 2


def test_a_refused_client_secret_is_a_short_error_without_the_secret(
    isolated: Path, workspaces: tuple[FakeWorkspace, FakeWorkspace], tls: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, _ = workspaces
    monkeypatch.setenv("DATABRICKS_HOST", a.url)
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", "sp-a")
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", "wrong-secret-000")
    with pytest.raises(rp.AuthError) as info:
        rp.query(RUNS, session=session(tls))
    text = str(info.value)
    assert text.startswith(f"databricks-sdk could not authenticate to {a.url} with the DATABRICKS_* environment")
    assert "DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET" in text and "databricks auth login" in text
    assert "wrong-secret-000" not in text and len(text) < 900
    assert info.value.detail and a.seen == []


def test_no_credentials_and_no_host_says_what_to_set(isolated: Path, tls: tuple[Path, Path, Path]) -> None:
    with pytest.raises(rp.RunsError) as info:
        rp.query(RUNS, session=session(tls))
    assert "deployment_name" in str(info.value) and "DATABRICKS_HOST" in str(info.value)


def test_the_sandbox_needs_no_credentials_and_no_deployment_name(isolated: Path) -> None:
    with rp.Session(sandbox=True, settings=rp.Settings(progress=False)) as s:
        frame = rp.query("SELECT count(*) AS n FROM databricks_workspace.cleanrooms.task_runs "
                         "WHERE clean_room_name = 'retail_insights'", session=s)
    assert int(frame["n"].iloc[0]) > 0


def test_a_u2m_login_through_the_databricks_cli_profile(
    isolated: Path, workspaces: tuple[FakeWorkspace, FakeWorkspace], tls: tuple[Path, Path, Path]
) -> None:
    """`auth_type = databricks-cli`: the SDK runs `databricks auth token --host ...` (the CLI
    reads its U2M login cache); a fake CLI on PATH stands in for it."""
    a, b = workspaces
    b.pats.add("u2m-token-from-cli")
    (isolated / "bin").mkdir()
    cli = isolated / "bin" / "databricks"
    cli.write_text('#!/bin/sh\necho "$@" >> "$HOME/cli-calls"\n'
                   'echo \'{"access_token": "u2m-token-from-cli", "token_type": "Bearer", '
                   '"expiry": "2099-01-01T00:00:00"}\'\n')
    cli.chmod(0o755)
    (isolated / ".databrickscfg").write_text(f"[ws-b]\nhost = {b.url}\nauth_type = databricks-cli\n")
    frame = rp.query(RUNS + " AND deployment_name = :b", params={"b": b.host}, session=session(tls))
    assert list(frame["notebook_name"]) == ["b-nb"]
    assert b.seen == ["Bearer u2m-token-from-cli"] and a.seen == []
    assert f"--host {b.url}" in (isolated / "cli-calls").read_text()


def test_the_sandbox_through_environment_variables_and_the_sdk(
    isolated: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """docs/sandbox.md's variables: the endpoint replaces the host, and databricks-sdk's PAT serves it."""
    monkeypatch.setenv("RUNS_PANDAS_DATABRICKS_ENDPOINT", sandbox.endpoints["databricks_workspace"])
    monkeypatch.setenv("DATABRICKS_TOKEN", sandbox.tokens["databricks_workspace"])
    with caplog.at_level(logging.WARNING), rp.Session(settings=rp.Settings(progress=False)) as s:
        frame = rp.query("SELECT count(*) AS n FROM databricks_workspace.cleanrooms.task_runs "
                         "WHERE clean_room_name = 'retail_insights'", session=s)
        shown = rp.query("SHOW CONNECTIONS IN databricks_workspace", session=s)
    assert int(frame["n"].iloc[0]) > 0
    assert list(shown["method"]) == ["pat"] and "RUNS_PANDAS_DATABRICKS_ENDPOINT" in shown["source"].iloc[0]
    assert not [r for r in caplog.records if r.name.startswith("databricks")]


def test_a_config_given_to_the_session(
    isolated: Path, workspaces: tuple[FakeWorkspace, FakeWorkspace], tls: tuple[Path, Path, Path]
) -> None:
    from databricks.sdk.core import Config

    a, b = workspaces
    config = Config(host=b.url, client_id="sp-b", client_secret=SECRET_B)
    s = rp.Session(client=trusting(tls[0]), credentials={"databricks_workspace": config},
                   settings=rp.Settings(progress=False))
    assert list(rp.query(RUNS, session=s)["notebook_name"]) == ["b-nb"]
    assert b.seen == ["Bearer b-token-1"] and a.seen == []
