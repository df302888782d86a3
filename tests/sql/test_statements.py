"""A session reuses a SELECT as read only for the same text, values, frames and catalog."""

from __future__ import annotations

import pandas as pd

import runs_pandas as rp
from runs_pandas.catalog import Catalog, catalog
from runs_pandas.sql.statements import Statements

SQL = "SELECT * FROM azure.container_registry.runs WHERE registryName = :r"


def test_the_same_select_is_read_once() -> None:
    kept = Statements()
    first = kept.read(SQL, catalog(), {"r": "a"})
    assert kept.read(SQL, catalog(), {"r": "a"}) is first
    assert kept.read(SQL + " ", catalog(), {"r": "a"}) is not first


def test_values_that_compare_equal_but_differ_are_read_again() -> None:
    kept = Statements()
    sql = "SELECT * FROM airplane.runs.runs WHERE n = :n"
    one = kept.read(sql, catalog(), {"n": 1})
    assert kept.read(sql, catalog(), {"n": True}) is not one
    assert kept.read(sql, catalog(), {"n": 1.0}) is not one
    assert kept.read(sql, catalog(), {"n": 2}) is not one
    assert kept.read(sql, catalog(), {"n": 1}) is one


def test_containers_frames_and_a_new_catalog_are_not_reused() -> None:
    kept = Statements()
    sql = "SELECT * FROM azure.container_registry.runs WHERE registryName IN :r"
    assert kept.read(sql, catalog(), {"r": ["a"]}) is not kept.read(sql, catalog(), {"r": ["a"]})
    plain = kept.read("SELECT * FROM owners", catalog(), {}, local=["owners"])
    assert kept.read("SELECT * FROM owners", catalog(), {}, local=["owners"]) is plain
    other = Catalog(list(catalog().providers.values()))
    assert kept.read(SQL, catalog(), {"r": "a"}) is not kept.read(SQL, other, {"r": "a"})


def test_only_selects_are_kept_and_the_oldest_go_first() -> None:
    kept = Statements(size=2)
    assert kept.read("SHOW PROVIDERS", catalog(), {}) is not kept.read("SHOW PROVIDERS", catalog(), {})
    a = kept.read(SQL, catalog(), {"r": "a"})
    kept.read(SQL, catalog(), {"r": "b"})
    kept.read(SQL, catalog(), {"r": "c"})
    assert kept.read(SQL, catalog(), {"r": "a"}) is not a


def test_a_repeated_query_answers_the_same(session: rp.Session) -> None:
    sql = "SELECT id, status FROM airplane.runs.runs WHERE status = :s ORDER BY id"
    first = rp.query(sql, {"s": "Failed"}, session=session)
    again = rp.query(sql, {"s": "Failed"}, session=session)
    other = rp.query(sql, {"s": "Succeeded"}, session=session)
    pd.testing.assert_frame_equal(first, again)
    assert set(other["status"]) == {"Succeeded"} and set(first["status"]) == {"Failed"}
