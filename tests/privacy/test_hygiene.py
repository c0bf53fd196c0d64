"""The key-hygiene scanner finds a secret in logs, SQLite and (compressed) DuckDB files."""

from __future__ import annotations

import sqlite3

import duckdb

from harmony_pipeline.privacy.hygiene import CHUNK, find_strings

SECRET = "k3y-7f3a9c2e5b-never-store-me"
NAME = "Jane Q. Doe"


def test_finds_needles_in_files_and_databases_and_reports_labels_only(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "run.log").write_text(f"start\nkey={SECRET}\nend\n")
    (logs / "clean.log").write_text("nothing to see\n")
    # a needle straddling a read boundary is still found
    (logs / "big.txt").write_bytes(b"x" * (CHUNK - 5) + SECRET.encode() + b"y" * 10)
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


def test_thousands_of_needles_in_one_pass(tmp_path):
    # the lead scans for every synthetic patient's identifiers: thousands of needles
    names = {f"name {i}": f"Person{i:05d} Surname{i * 7 % 1000:03d}" for i in range(5000)}
    leaked = ["Person00042 Surname294", "Person04999 Surname993"]
    (tmp_path / "log.txt").write_text("ok\n" * 1000 + f"oops {leaked[0]}\n")
    with duckdb.connect(str(tmp_path / "published.duckdb")) as con:
        con.execute("CREATE SCHEMA release")
        con.execute(
            "CREATE TABLE release.t AS SELECT i, 'AML ' || i AS label, "
            "CASE WHEN i = 77 THEN ? ELSE 'fine' END AS note FROM range(50000) t(i)",
            [f"seen {leaked[1]} today"],
        )
    findings = find_strings([tmp_path], names)
    found = {(f.path.split("/")[-1], f.where, f.needle, f.count) for f in findings}
    assert ("log.txt", "bytes", "name 42", 1) in found
    assert ("published.duckdb", "release.t.note", "name 4999", 1) in found
    assert {f.needle for f in findings} == {"name 42", "name 4999"}  # none of the 4998 others


def test_whole_words_ignores_digits_inside_longer_tokens(tmp_path):
    (tmp_path / "keys.txt").write_text("patient_key=3f1000ab9c postcode 1000 here\n")
    assert [f.count for f in find_strings([tmp_path], {"postcode": "1000"})] == [2]
    assert [f.count for f in find_strings([tmp_path], {"postcode": "1000"}, whole_words=True)] == [1]
