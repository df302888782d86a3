"""The statement's first word: the shortcut that skips T-SQL's tokenizer gives its answer."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot.dialects.tsql import TSQL

from runs_pandas.sql import read as read_module

WORDS = ("SELECT", "WITH", "EXEC", "EXECUTE", "SHOW", "DESCRIBE", "DESC", "EXPLAIN")


def _tokenized(text: str) -> str:
    """What `_first_word` answered before the shortcut: the first T-SQL token."""
    try:
        tokens = sqlglot.tokenize(text, read="tsql")
    except sqlglot.errors.TokenError:
        return text.split(None, 1)[0].upper()
    return tokens[0].text.upper() if tokens else ""


@pytest.mark.parametrize("word", WORDS)
@pytest.mark.parametrize("blank", [" ", "\t", "\n", "\r\n", "  \n "])
@pytest.mark.parametrize("rest", ["* FROM t", "1", "RESOURCES", "'unterminated", "[x] = 1", "AS x"])
def test_shortcut_matches_the_tokenizer(word: str, blank: str, rest: str) -> None:
    for spelt in (word, word.lower(), word.title()):
        text = f"{spelt}{blank}{rest}"
        assert read_module._STATEMENT_WORD.match(text)
        assert read_module._first_word(text) == _tokenized(text)


def test_no_tokenizer_keyword_runs_past_a_statement_word() -> None:
    """The shortcut holds only while no T-SQL keyword (such as `GROUP BY`) starts with a
    statement word and goes on past it; a sqlglot upgrade that adds one fails here."""
    for key in TSQL.tokenizer_class.KEYWORDS:
        upper = key.upper()
        for word in WORDS:
            if upper.startswith(word) and len(upper) > len(word):
                assert upper[len(word)].isalnum() or upper[len(word)] == "_", key


@pytest.mark.parametrize("text", ["-- note\nSELECT 1", "/* c */ SELECT 1", "(SELECT 1)", "SELECT*FROM t", "SELECT"])
def test_other_texts_still_go_through_the_tokenizer(text: str) -> None:
    assert read_module._STATEMENT_WORD.match(text) is None
    assert read_module._first_word(text) == _tokenized(text)


def test_a_select_does_not_load_the_tsql_dialect() -> None:
    """The point of the shortcut: a SELECT's first query loads only the DuckDB dialect."""
    import subprocess
    import sys

    code = (
        "import sys; from runs_pandas.sql.read import _first_word; _first_word('SELECT 1');"
        "print('sqlglot.dialects.tsql' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
