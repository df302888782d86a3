"""No secret in any error, DEBUG log line, repr, verbose traceback, df.attrs, dry run, CLI or
magic output; secrets are checked when read and scrubbed from what servers echo."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

import pytest
from servers import SECRETS, Answer, Seen, serving, session_for

import runs_pandas as rp
from runs_pandas import cli
from runs_pandas.catalog import catalog

AIR = "SELECT id FROM airplane.runs.runs"
KEY = "tkn_ENV_SECRET_42"


def echoing(seen: Seen, index: int) -> Answer:
    """A server that echoes the key it got in its error body, as some do."""
    key = seen.headers.get("X-Airplane-API-Key", "")
    return Answer(401, {"error": f"invalid API key {key!r} for team"})


def clean(text: str, *secrets: str) -> None:
    for secret in (*SECRETS.values(), KEY, *secrets):
        assert secret not in text


@pytest.fixture(autouse=True)
def team(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRPLANE_TEAM_ID", "team_secrets")  # an Airplane key goes with its team


@pytest.fixture()
def env_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("RUNS_PANDAS_SANDBOX", raising=False)
    monkeypatch.setenv("AIRPLANE_API_KEY", KEY)
    yield


@pytest.mark.parametrize("raw", [f"{KEY}\n", f"  {KEY}\r\n", f"\t{KEY} "])
def test_surrounding_whitespace_is_stripped_before_sending(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRPLANE_API_KEY", raw)
    with serving(lambda s, i: Answer(200, {"runs": []})) as server:
        rp.query(AIR, session=rp.Session(endpoints={"airplane": server.url}, settings=rp.Settings(progress=False)))
    assert server.seen[0].headers["X-Airplane-API-Key"] == KEY


@pytest.mark.parametrize("bad", [f"{KEY[:5]}\r\n{KEY[5:]}", f"{KEY}\x1bx", f"{KEY}é", f"{KEY[:3]}\u00a0{KEY[3:]}"])
def test_control_or_non_ascii_characters_are_an_auth_error_naming_the_source(
    bad: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRPLANE_API_KEY", bad)
    with serving(lambda s, i: Answer(200, {"runs": []})) as server:
        session = rp.Session(endpoints={"airplane": server.url}, settings=rp.Settings(progress=False))
        with pytest.raises(rp.AuthError, match="environment variable AIRPLANE_API_KEY") as info:
            rp.query(AIR, session=session)
    clean(str(info.value), bad, bad.strip())
    assert server.seen == []  # refused before any request


def test_a_secret_echoed_by_the_server_is_scrubbed(env_key: None) -> None:
    with serving(echoing) as server:
        session = rp.Session(endpoints={"airplane": server.url}, settings=rp.Settings(progress=False))
        with pytest.raises(rp.AuthError) as info:
            rp.query(AIR, session=session)
    assert "***" in str(info.value) and "environment variable AIRPLANE_API_KEY" in str(info.value)
    clean(str(info.value))
    clean(info.value.api_message)


def test_no_secret_in_debug_logs_of_httpx_and_httpcore(
    env_key: None, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRPLANE_API_KEY", f"{KEY}\r\n")  # once put verbatim into a header error
    with caplog.at_level(logging.DEBUG):
        with serving(echoing) as server:
            session = rp.Session(endpoints={"airplane": server.url}, settings=rp.Settings(progress=False))
            with pytest.raises(rp.AuthError):
                rp.query(AIR, session=session)
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "httpcore" in logged  # the DEBUG lines were captured
    clean(logged)


def test_no_secret_in_a_verbose_traceback(env_key: None) -> None:
    """What `%xmode Verbose` prints: every frame's locals, for the whole chain."""
    from IPython.core.ultratb import VerboseTB

    with serving(echoing) as server:
        session = rp.Session(endpoints={"airplane": server.url}, settings=rp.Settings(progress=False))
        try:
            rp.query(AIR, session=session)
        except rp.AuthError:
            text = VerboseTB(theme_name="nocolor").text(*sys.exc_info())
        else:
            raise AssertionError("no error")
    assert "session" in text  # locals are shown
    clean(text)


def test_no_secret_in_reprs_attrs_or_dry_runs() -> None:
    with serving(lambda s, i: Answer(200, {"runs": [{"id": "run_1"}]})) as server:
        session = session_for(server.url)
        frame = rp.query(AIR, session=session)
        dry = rp.query(AIR, session=session, dry_run=True)
        auth = session.credentials.auth(catalog().providers["airplane"])
    clean(repr(session) + repr(session.credentials) + repr(auth) + repr(session.sender()))
    clean(repr(frame.attrs) + dry.to_string() + repr(dry.to_dict()))


def test_no_secret_in_cli_output(env_key: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(echoing) as server:
        monkeypatch.setenv("RUNS_PANDAS_AIRPLANE_ENDPOINT", server.url)
        code = cli.main([AIR])
    out, err = capsys.readouterr()
    assert code != 0 and "AIRPLANE_API_KEY" in out + err
    clean(out + err)


def test_no_secret_in_magic_output(env_key: None, capsys: pytest.CaptureFixture[str]) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    with serving(echoing) as server:
        rp.set_default_session(rp.Session(endpoints={"airplane": server.url}, settings=rp.Settings(progress=False)))
        try:
            shell.run_line_magic("load_ext", "runs_pandas")
            result = shell.run_cell(f"%%runsql\n{AIR}")
        finally:
            rp.set_default_session(None)
    out, err = capsys.readouterr()
    assert not result.success and "AIRPLANE_API_KEY" in out + err
    clean(out + err)
