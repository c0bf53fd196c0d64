"""The audited gateway: what each role may read, every refusal, the locked session, small-cell checks."""

import argparse
import json
import os
import socket
from datetime import UTC, datetime, timedelta

import duckdb
import pandas as pd
import pytest
from gateway_fixtures import publish

from harmony_pipeline.access import AccessRefused, QueryError, audit, cli, connect, query


def records(settings):
    return audit.read_records(settings)


def refusal_cases(settings):
    warehouse = settings.warehouse
    return [
        ("INSERT INTO mart_aml VALUES (99, 'F', 'adverse', 1)", "writes are not allowed"),
        ("UPDATE mart_aml SET sex = 'M'", "writes are not allowed"),
        ("DELETE FROM mart_aml", "writes are not allowed"),
        ("CREATE TABLE copy_of AS SELECT * FROM mart_aml", "creating objects is not allowed"),
        ("CREATE MACRO leak(x) AS x", "not allowed"),
        ("DROP VIEW mart_aml", "dropping objects is not allowed"),
        ("ALTER VIEW mart_aml RENAME TO other", "altering objects is not allowed"),
        (f"ATTACH '{warehouse}' AS wh (READ_ONLY)", "ATTACH is not allowed"),
        ("DETACH harmony_release", "DETACH is not allowed"),
        ("COPY mart_aml TO '/tmp/harmony_leak.csv'", "COPY is not allowed"),
        ("COPY mart_aml FROM '/etc/hostname'", "COPY is not allowed"),
        ("EXPORT DATABASE '/tmp/harmony_leak'", "EXPORT is not allowed"),
        ("SET enable_external_access = true", "changing settings is not allowed"),
        ("RESET lock_configuration", "changing settings is not allowed"),
        ("SET VARIABLE leak = 1", "changing settings is not allowed"),
        ("PRAGMA enable_profiling", "PRAGMA is not allowed"),
        ("LOAD httpfs", "extensions is not allowed"),
        ("INSTALL httpfs", "extensions is not allowed"),
        ("CALL pragma_version()", "only SELECT queries are allowed"),
        ("SELECT * FROM read_csv('/etc/passwd')", "reading files is not allowed"),
        ("SELECT * FROM read_parquet('/tmp/x.parquet')", "reading files is not allowed"),
        ("SELECT * FROM read_text('/etc/hostname')", "reading files is not allowed"),
        ("SELECT * FROM glob('/tmp/*')", "reading files is not allowed"),
        (f"SELECT * FROM '{warehouse}'", "reading files is not allowed"),
        ("SELECT * FROM query_table('harmony_release.main.mart_mm')", "table functions other than"),
        ("SELECT * FROM duckdb_tables()", "table functions other than"),
        ("SELECT * FROM harmony_release.main.mart_mm", "only the tables of the release are visible"),
        ("SELECT * FROM harmony_release.mart_aml", "only the tables of the release are visible"),
        ("SELECT * FROM release.mart_aml", "only the tables of the release are visible"),
        ("SELECT * FROM mart_mm", "not allowed for project 'aml-outcomes'"),
        ("SELECT * FROM mart_aml JOIN mart_mm USING (person_id)", "not allowed for project"),
        ("SELECT (SELECT count(*) FROM mart_mm) AS n", "not allowed for project"),
        ("WITH x AS (SELECT * FROM mart_mm) SELECT * FROM x", "not allowed for project"),
        ("SELECT * FROM no_such_mart", "no such table"),
        ("SELECT 1; SELECT 2", "exactly one statement"),
        ("SHOW ALL TABLES", "SHOW is not available"),
        ("   ", "empty query"),
    ]


def test_every_forbidden_statement_is_refused_and_audited_once(settings, release):
    with connect("aml-analyst", "aml-outcomes") as session:
        for number, (sql, message) in enumerate(refusal_cases(settings), start=1):
            with pytest.raises(AccessRefused, match=message):
                session.execute(sql)
            log = records(settings)
            assert len(log) == number, sql
            assert log[-1]["outcome"] == "refused" and log[-1]["sql"] == sql
            assert log[-1]["user"] == "aml-analyst" and log[-1]["rows"] == 0
            assert message.split("'")[0] in log[-1]["reason"]
        # still a working session afterwards, and nothing was written anywhere
        assert session.execute("SELECT count(*) AS n FROM mart_aml")["n"].tolist() == [40]
    assert not os.path.exists("/tmp/harmony_leak.csv") and not os.path.exists("/tmp/harmony_leak")


def test_the_session_itself_is_locked_down(settings, release):
    """Second wall: even a statement that got past the static check fails inside DuckDB."""
    session = connect("demo-analyst", "demo")
    con = session._con  # the raw DuckDB session, bypassing the gateway's own check
    locked = dict(
        con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN "
            "('enable_external_access', 'lock_configuration', 'allowed_directories')"
        ).fetchall()
    )
    assert locked == {
        "enable_external_access": "false",
        "lock_configuration": "true",
        "allowed_directories": "[]",
    }
    # DuckDB itself allows the attached release file (and its WAL names); nothing else
    allowed_paths = con.execute(
        "SELECT value FROM duckdb_settings() WHERE name = 'allowed_paths'"
    ).fetchone()[0]
    paths = [p.strip() for p in allowed_paths.strip("[]").split(",")]
    assert str(release.published_path) in paths
    assert all(p.startswith(str(release.published_path)) for p in paths), paths
    for sql in (
        f"ATTACH '{settings.warehouse}' AS wh (READ_ONLY)",
        "SELECT * FROM read_csv('/etc/passwd')",
        "COPY (SELECT 1) TO '/tmp/harmony_leak.csv'",
    ):
        with pytest.raises(duckdb.PermissionException):
            con.execute(sql)
    with pytest.raises(duckdb.InvalidInputException, match="locked"):
        con.execute("SET enable_external_access = true")
    with pytest.raises(duckdb.Error, match="read-only"):
        con.execute("INSERT INTO harmony_release.main.mart_aml SELECT * FROM harmony_release.main.mart_aml")
    session.close()


def test_connection_refusals_are_audited(settings, release):
    cases = [
        (dict(user="mallory", project="demo"), "unknown user 'mallory'", None),
        (dict(user="demo-analyst", project="no-such-project"), "unknown project", "analyst"),
        (dict(user="aml-analyst", project="demo"), "not a member of project 'demo'", "analyst"),
        (
            dict(user="demo-analyst", project="demo", release="20200101T000000.000Z-00000000"),
            "not retained",
            "analyst",
        ),
        (
            dict(user="demo-engineer", project="demo", release=str(settings.warehouse)),
            "not a release id",
            "data_engineer",
        ),
        (
            dict(user="demo-engineer", project="demo", release="../warehouse"),
            "not a release id",
            "data_engineer",
        ),
    ]
    for number, (kwargs, message, role) in enumerate(cases, start=1):
        with pytest.raises(AccessRefused, match=message):
            connect(**kwargs)
        log = records(settings)
        assert len(log) == number
        assert (
            log[-1]["outcome"] == "refused" and log[-1]["user"] == kwargs["user"] and log[-1]["role"] == role
        )
        assert log[-1]["interface"] == "python" and log[-1]["sql"] is None
    # through the one-shot path the SQL of the refused attempt is kept
    with pytest.raises(AccessRefused, match="unknown user"):
        query("mallory", "SELECT * FROM mart_aml")
    assert records(settings)[-1]["sql"] == "SELECT * FROM mart_aml"
    assert records(settings)[-1]["objects"] == ["mart_aml"]


def test_no_published_release_is_refused(settings):
    with pytest.raises(AccessRefused, match="no published release"):
        query("demo-analyst", "SELECT 1")
    assert [r["outcome"] for r in records(settings)] == ["refused"]


def test_steward_reads_release_metadata_but_no_patient_rows(settings, release):
    with connect("demo-steward") as session:
        meta = session.execute("SELECT release_id, row_counts FROM release")
        assert meta["release_id"].tolist() == [release.release_id]
        for sql in ("SELECT * FROM mart_aml", "SELECT count(*) FROM mart_mm", "DESCRIBE mart_aml"):
            with pytest.raises(AccessRefused, match="data stewards may not read patient rows"):
                session.execute(sql)
    assert [r["outcome"] for r in records(settings)] == ["allowed", "refused", "refused", "refused"]
    assert {r["role"] for r in records(settings)} == {"data_steward"}


def test_engineer_gets_no_more_than_an_analyst(settings, release):
    with connect("demo-engineer", "demo") as session:
        frame = session.execute("SELECT eln_2022_risk, count(*) AS n FROM mart_aml GROUP BY 1 ORDER BY 1")
        assert frame["n"].isna().tolist() == [True, False]  # the 5 'adverse' patients are suppressed
        with pytest.raises(AccessRefused, match="ATTACH"):
            session.execute(f"ATTACH '{settings.warehouse}' AS wh")


def test_allowed_query_returns_data_and_a_complete_record(settings, release):
    started = datetime.now(UTC)
    with connect("demo-analyst", "demo") as session:
        frame = session.execute("SELECT iss_stage, count(*) AS n FROM mart_mm GROUP BY 1 ORDER BY 1")
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        expected = con.execute(
            "SELECT iss_stage, count(*) FROM release.mart_mm GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert list(frame.itertuples(index=False, name=None)) == expected
    (record,) = records(settings)
    assert record["user"] == "demo-analyst" and record["role"] == "analyst" and record["project"] == "demo"
    assert (
        record["interface"] == "python"
        and record["pid"] == os.getpid()
        and record["host"] == socket.gethostname()
    )
    assert record["release"] == release.release_id and record["objects"] == ["mart_mm"]
    assert record["rows"] == 3 and record["outcome"] == "allowed" and record["suppressed_cells"] == 0
    assert record["sql"].startswith("SELECT iss_stage")
    when = datetime.fromisoformat(record["time"].replace("Z", "+00:00"))
    assert record["time"].endswith("Z") and started - timedelta(seconds=1) <= when <= datetime.now(UTC)


def test_query_error_is_audited(settings, release):
    with pytest.raises(QueryError, match="no_such_column"):
        query("demo-analyst", "SELECT no_such_column FROM mart_aml", interface="python")
    with pytest.raises(QueryError, match="syntax error"):
        query("demo-analyst", "SELEC 1")
    assert [r["outcome"] for r in records(settings)] == ["error", "error"]


def test_pinned_release_answers_from_that_release(settings, release):
    newer = publish(settings, generation=2)
    old = query("demo-analyst", "SELECT DISTINCT generation FROM mart_aml", release=release.release_id)
    new = query("demo-analyst", "SELECT DISTINCT generation FROM mart_aml")
    assert old["generation"].tolist() == [1] and new["generation"].tolist() == [2]
    assert [r["release"] for r in records(settings)] == [release.release_id, newer.release_id]


@pytest.mark.parametrize(
    ("sql", "column", "expected"),
    [
        # 5 adverse (suppressed), 35 favourable (kept)
        ("SELECT eln_2022_risk, count(*) AS n FROM mart_aml GROUP BY 1 ORDER BY 1", "n", [None, 35]),
        ("SELECT count(*) FROM mart_aml WHERE person_id < 3", "count_star()", [None]),
        ("SELECT count(*) AS n FROM mart_aml WHERE person_id < 0", "n", [0]),  # zero is not a small cell
        ("SELECT count(*) AS n FROM mart_aml WHERE person_id < 11", "n", [11]),  # 11 is the minimum kept
        ("SELECT count(*) AS n FROM mart_aml WHERE person_id < 10", "n", [None]),
        (
            "SELECT * FROM (SELECT sex, count(*) AS c FROM mart_aml WHERE person_id < 12 GROUP BY sex) ORDER BY sex",
            "c",
            [None, None],
        ),
        (
            "SELECT sum(CASE WHEN eln_2022_risk = 'adverse' THEN 1 ELSE 0 END) AS adverse FROM mart_aml",
            "adverse",
            [None],
        ),
        (
            "SELECT person_id, count(*) OVER () AS total FROM mart_aml WHERE person_id < 4 ORDER BY 1",
            "total",
            [None] * 4,
        ),
        ("SELECT month, n_events FROM km_aml ORDER BY month", "n_events", [0, None, 11]),  # aggregate table
        (
            "SELECT person_id FROM mart_aml WHERE person_id < 3 ORDER BY 1",
            "person_id",
            [0, 1, 2],
        ),  # not a count
    ],
)
def test_small_cells_are_suppressed(settings, release, sql, column, expected):
    frame = query("demo-analyst", sql)
    values = [None if pd.isna(v) else int(v) for v in frame[column]]
    assert values == expected
    assert records(settings)[-1]["suppressed_cells"] == expected.count(None)


def test_policy_file_is_overridable(settings, release, tmp_path, monkeypatch):
    custom = tmp_path / "policy.yml"
    custom.write_text(
        "projects:\n  mm: {marts: [mart_mm]}\n  aml: {marts: [mart_aml]}\n"
        "users:\n  alice: {role: analyst, projects: [mm, aml]}\n"
    )
    monkeypatch.setenv("HARMONY_ACCESS_POLICY", str(custom))
    assert query("alice", "SELECT count(*) AS n FROM mart_mm", project="mm")["n"].tolist() == [36]
    with pytest.raises(AccessRefused, match="must name a project"):
        query("alice", "SELECT 1")
    with pytest.raises(AccessRefused, match="unknown user 'demo-analyst'"):
        query("demo-analyst", "SELECT 1")
    monkeypatch.delenv("HARMONY_ACCESS_POLICY")
    site = settings.home / "access" / "policy.yml"
    site.parent.mkdir(parents=True)
    site.write_text("projects:\n  p: {marts: ['*']}\nusers:\n  bob: {role: analyst, projects: [p]}\n")
    assert query("bob", "SELECT count(*) AS n FROM mart_aml")["n"].tolist() == [40]
    site.write_text("users:\n  bob: {role: superuser}\n")
    with pytest.raises(AccessRefused, match="role 'superuser'"):
        query("bob", "SELECT 1")


def run_cli(*argv):
    parser = argparse.ArgumentParser(prog="harmony")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_query_formats_exit_codes_and_audit_listing(settings, release, capsys):
    assert (
        run_cli("query", "--user", "demo-analyst", "--format", "json", "SELECT count(*) AS n FROM mart_mm")
        == 0
    )
    assert json.loads(capsys.readouterr().out) == [{"n": 36}]
    assert (
        run_cli(
            "query",
            "--user",
            "demo-analyst",
            "--format",
            "csv",
            "SELECT sex, count(*) AS n FROM mart_aml GROUP BY 1 ORDER BY 1",
        )
        == 0
    )
    assert capsys.readouterr().out.splitlines() == ["sex,n", "F,20", "M,20"]
    assert (
        run_cli("query", "--user", "aml-analyst", "--project", "aml-outcomes", "SELECT * FROM mart_mm")
        == cli.EXIT_REFUSED
    )
    assert "refused: mart_mm: not allowed" in capsys.readouterr().err
    assert run_cli("query", "--user", "demo-analyst", "SELECT nope FROM mart_aml") == cli.EXIT_ERROR
    assert {r["interface"] for r in records(settings)} == {"cli"}

    capsys.readouterr()
    assert run_cli("audit", "--user", "aml-analyst", "--format", "json") == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["user"], r["outcome"]) for r in listed] == [("aml-analyst", "refused")]
    assert run_cli("audit", "--since", "2999-01-01") == 0
    assert capsys.readouterr().out.strip() == "(0 records)"
    assert run_cli("audit") == 0
    assert capsys.readouterr().out.strip().endswith("(4 records)")
    assert run_cli("audit", "verify") == 0
    assert "4 records" in capsys.readouterr().out
