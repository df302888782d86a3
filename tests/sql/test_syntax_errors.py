"""SQL errors in the user's terms: line, column, caret and what was expected; every unknown
name gets the closest catalog match; what cannot work here is refused before any request."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

import runs_pandas as rp
from runs_pandas.magic import parse_line
from runs_pandas.sandbox import Sandbox


def _error(sql: str, session: rp.Session, kind: type[Exception] = rp.QueryError) -> str:
    with pytest.raises(kind) as info:
        rp.query(sql, session=session)
    return str(info.value)


def _no_internals(message: str) -> None:
    for word in ("<class", "sqlglot", "<Token", "Required keyword", "BitwiseLeftShift", "Mul'"):
        assert word not in message, message


def test_a_syntax_error_has_line_column_caret_and_what_was_expected(session: rp.Session) -> None:
    with pytest.raises(rp.QueryError) as info:
        rp.query("SELECT status * FROM airplane.runs.runs", session=session)
    message = str(info.value)
    _no_internals(message)
    assert info.value.line == 1 and info.value.col == 17
    assert "line 1, column 17: expected a value after '*', found 'FROM'" in message
    assert message.splitlines()[1:] == ["  SELECT status * FROM airplane.runs.runs", "                  ^^^^"]


def test_a_syntax_error_on_a_later_line_points_there(session: rp.Session) -> None:
    sql = "SELECT status\nFROM airplane.runs.runs\nWHERE (status = 'Failed'"
    message = _error(sql, session)
    _no_internals(message)
    assert "line 3" in message and "expected ')'" in message and "end of the query" in message
    source, caret = message.splitlines()[1:3]
    assert source.strip() == "WHERE (status = 'Failed'"
    assert caret.index("^") == source.index("'Failed'")


def test_a_misspelt_keyword_is_named(session: rp.Session) -> None:
    message = _error("SELECT * FRM airplane.runs.runs", session)
    _no_internals(message)
    assert "misspelt FROM" in message


def test_an_unclosed_string_points_at_its_quote(session: rp.Session) -> None:
    message = _error("SELECT 1\nFROM airplane.runs.runs WHERE status = 'Failed", session)
    assert "line 2" in message and "string (') is not closed" in message
    assert message.splitlines()[-1].index("^") == message.splitlines()[-2].index("'")


def test_the_jupysql_shift_habit_points_to_the_cell_magic(session: rp.Session) -> None:
    message = _error("failed << SELECT * FROM airplane.runs.runs", session)
    _no_internals(message)
    assert "%%runsql failed <<" in message


def test_a_line_magic_with_shift_gets_the_same_hint(session: rp.Session) -> None:
    options, sql = parse_line("failed << SELECT * FROM airplane.runs.runs", None)
    with pytest.raises(rp.QueryError, match="%%runsql failed <<"):
        rp.query(sql, session=session)


@pytest.mark.parametrize(
    ("sql", "closest"),
    [
        ("SELECT * FROM airplan.runs.runs", "airplane.runs.runs"),
        ("SELECT * FROM airplane.run.runs", "airplane.runs.runs"),
        ("SELECT * FROM azure.container_registy.runs", "azure.container_registry.runs"),
        ("SHOW SERVICES IN airplan", "airplane"),
        ("SHOW RESOURCES IN airplane.run", "airplane.runs"),
        ("SHOW METHODS IN airplane.runs.run", "airplane.runs.runs"),
        ("EXEC airplane.runs.runs.cancelRn @runID='x'", "cancelRun"),
        ("EXEC airplane.runs.runs.cancelRun @runId2='x'", "@runID"),
    ],
)
def test_every_misspelt_name_gets_the_closest_match(
    sql: str, closest: str, session: rp.Session, sandbox: Sandbox
) -> None:
    before = len(sandbox.requests)
    message = _error(sql, session)
    assert f"did you mean {closest!r}" in message or f"did you mean {closest}" in message, message
    assert "does not exist" not in message
    assert len(sandbox.requests) == before  # refused before any request


def test_an_unknown_column_gets_the_closest(session: rp.Session) -> None:
    message = _error("SELECT stauts FROM airplane.runs.runs LIMIT 1", session)
    assert "unknown column 'stauts' (did you mean 'status'?)" in message


def test_an_unknown_magic_option_gets_the_closest() -> None:
    with pytest.raises(UsageError, match=r"did you mean --sandbox\?"):
        parse_line("--sandbx", "SELECT 1")


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE VIEW failed AS SELECT * FROM airplane.runs.runs WHERE status = 'Failed'",
        "CREATE OR REPLACE TEMP VIEW failed AS SELECT * FROM airplane.runs.runs",
        "CREATE TABLE t AS SELECT * FROM airplane.runs.runs",
        "INSERT INTO t SELECT * FROM airplane.runs.runs",
    ],
)
def test_create_view_is_refused_before_any_request(sql: str, session: rp.Session, sandbox: Sandbox) -> None:
    before = len(sandbox.requests)
    message = _error(sql, session)
    assert "not supported" in message and "Nothing was sent" in message and "WITH" in message
    assert message.startswith("CREATE VIEW") == ("VIEW" in sql)
    assert len(sandbox.requests) == before


def test_a_clause_cut_short_says_what_it_needs(session: rp.Session) -> None:
    message = _error("SELECT id FROM airplane.runs.runs WHERE", session)
    _no_internals(message)
    assert "expected a condition after WHERE, found the end of the query" in message
