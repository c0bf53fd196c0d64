"""The key-hygiene scanner finds a secret in logs, SQLite and (compressed) DuckDB files."""

from __future__ import annotations

import sqlite3

import duckdb

from harmony_pipeline.privacy.hygiene import find_strings

SECRET = "k3y-7f3a9c2e5b-never-store-me"
NAME = "Jane Q. Doe"


def test_finds_needles_in_files_and_databases_and_reports_labels_only(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "run.log").write_text(f"start\nkey={SECRET}\nend\n")
    (logs / "clean.log").write_text("nothing to see\n")
    # a needle straddling the 1 MiB read boundary is still found
    (logs / "big.txt").write_bytes(b"x" * ((1 << 20) - 5) + SECRET.encode() + b"y" * 10)
    with sqlite3.connect(tmp_path / "events.db") as lite:
        lite.execute("CREATE TABLE events (body TEXT)")
        lite.execute("INSERT INTO events VALUES (?)", (f"patient {NAME} arrived",))
    # many repeats of one value: DuckDB dictionary-compresses it, so a byte grep alone is not enough
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute(
            "CREATE TABLE raw.patient AS SELECT i AS id, ? AS note FROM range(200000) t(i)", [f"name {NAME}"]
        )
        con.execute("CREATE VIEW raw.v AS SELECT 1 AS x")

    findings = find_strings([tmp_path], {"pseudonym key": SECRET, "patient name": NAME})
    where = {(f.path.split("/")[-1], f.where, f.needle) for f in findings}
    assert ("run.log", "bytes", "pseudonym key") in where
    assert ("big.txt", "bytes", "pseudonym key") in where
    assert ("events.db", "bytes", "patient name") in where
    assert ("warehouse.duckdb", "raw.patient.note", "patient name") in where
    duck = next(f for f in findings if f.where == "raw.patient.note")
    assert duck.count == 200000
    assert not any("clean.log" in f.path for f in findings)
    assert all(SECRET not in repr(f) and NAME not in repr(f) for f in findings)  # a leak report does not leak


def test_nothing_found_when_clean(tmp_path):
    (tmp_path / "a.txt").write_text("harmless")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("CREATE TABLE t AS SELECT 'harmless' AS s")
    assert find_strings([tmp_path, tmp_path / "missing"], [SECRET]) == []
    assert find_strings([tmp_path], []) == []
