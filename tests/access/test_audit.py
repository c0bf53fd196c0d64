"""The audit log: one record per attempt, a hash chain that catches edits, removals, reordering, truncation."""

import json
import subprocess
import sys

import pytest

from harmony_pipeline.access import AccessRefused, AuditError, QueryError, audit, query
from harmony_pipeline.settings import PROJECT_ROOT


@pytest.fixture
def logged(settings, release):
    """Six attempts: allowed, refused and failed, from three users."""
    query("demo-analyst", "SELECT count(*) AS n FROM mart_aml")
    query("demo-analyst", "SELECT sex, count(*) AS n FROM mart_aml GROUP BY 1")
    with pytest.raises(AccessRefused):
        query("aml-analyst", "SELECT * FROM mart_mm")
    with pytest.raises(AccessRefused):
        query("demo-steward", "SELECT * FROM mart_aml")
    with pytest.raises(QueryError):
        query("demo-analyst", "SELECT missing FROM mart_aml")
    query("demo-engineer", "SELECT release_id FROM release")
    return settings


def lines(settings):
    return audit.log_path(settings).read_text().splitlines(keepends=True)


def write(settings, new_lines):
    audit.log_path(settings).write_text("".join(new_lines))


def test_one_record_per_attempt_with_every_field(logged):
    records = audit.read_records(logged)
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert [r["outcome"] for r in records] == ["allowed", "allowed", "refused", "refused", "error", "allowed"]
    assert [r["user"] for r in records] == ["demo-analyst"] * 2 + ["aml-analyst", "demo-steward"] + [
        "demo-analyst",
        "demo-engineer",
    ]
    fields = {
        "time",
        "user",
        "role",
        "project",
        "host",
        "pid",
        "os_user",
        "interface",
        "sql",
        "objects",
        "release",
        "rows",
        "outcome",
        "seq",
        "prev_hash",
        "hash",
    }
    for record in records:
        assert fields <= set(record)
    assert [r["rows"] for r in records] == [1, 2, 0, 0, 0, 1]
    assert records[2]["objects"] == ["mart_mm"] and "not allowed" in records[2]["reason"]
    assert audit.verify(logged).ok and audit.verify(logged).records == 6


def _edit(log):
    record = json.loads(log[1])
    record["rows"] = 999  # hide how much was read
    log[1] = json.dumps(record, sort_keys=True) + "\n"
    return log


def _edit_and_rehash(log):
    record = json.loads(log[2])
    record["user"] = "someone-else"
    record["hash"] = audit.record_hash(record)  # a careful forger recomputes this record's hash...
    log[2] = json.dumps(record, sort_keys=True) + "\n"
    return log  # ...but the next record still points at the old one


def _delete_middle(log):
    return log[:2] + log[3:]


def _reorder(log):
    log[2], log[3] = log[3], log[2]
    return log


def _truncate_last(log):
    return log[:-1]


def _truncate_all(log):
    return []


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (_edit, "edited"),
        (_edit_and_rehash, "previous-hash link broken"),
        (_delete_middle, "record removed or reordered"),
        (_reorder, "record removed or reordered"),
        (_truncate_last, "cut off the end"),
        (_truncate_all, "cut off the end"),
    ],
)
def test_tampering_is_detected(logged, tamper, problem):
    write(logged, tamper(lines(logged)))
    result = audit.verify(logged)
    assert not result.ok
    assert any(problem in p for p in result.problems), result.problems
    # the command line says so with a non-zero exit
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from harmony_pipeline.access.cli import *; "
            "import argparse; p = argparse.ArgumentParser(); register(p.add_subparsers()); "
            "a = p.parse_args(['audit', 'verify']); sys.exit(a.func(a))",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HARMONY_HOME": str(logged.home), "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert run.returncode == 1, run.stderr
    assert "FAILED verification" in run.stderr and problem in run.stderr


def test_removed_head_file_is_detected(logged):
    audit.head_path(logged).unlink()
    assert any("head file missing" in p for p in audit.verify(logged).problems)
    with pytest.raises(AuditError, match="head"):
        query("demo-analyst", "SELECT 1 AS one")


def test_truncated_log_stops_access_until_looked_at(logged):
    write(logged, _truncate_last(lines(logged)))
    with pytest.raises(AuditError, match="does not match its head"):
        query("demo-analyst", "SELECT count(*) AS n FROM mart_aml")  # fail closed: no result without a record
    assert len(audit.read_records(logged)) == 5


def test_a_writer_that_died_before_updating_the_head_is_recovered(logged):
    head_before = audit.head_path(logged).read_text()
    query("demo-analyst", "SELECT 1 AS one")
    audit.head_path(logged).write_text(head_before)  # as if the process died right after appending
    assert not audit.verify(logged).ok
    query("demo-analyst", "SELECT 2 AS two")  # the next writer rolls the head forward
    result = audit.verify(logged)
    assert result.ok and result.records == 8


WRITER = """
import sys
from harmony_pipeline.access import audit
from harmony_pipeline.settings import get_settings
settings = get_settings()
for i in range(int(sys.argv[1])):
    audit.append(settings, {"user": sys.argv[2], "outcome": "allowed", "sql": f"SELECT {i}"})
"""


def test_concurrent_writers_keep_one_intact_chain(settings):
    env = {"PATH": "/usr/bin:/bin", "HARMONY_HOME": str(settings.home), "PYTHONPATH": str(PROJECT_ROOT)}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, "40", f"writer-{n}"], env=env, cwd=PROJECT_ROOT)
        for n in range(4)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0, 0]
    records = audit.read_records(settings)
    assert [r["seq"] for r in records] == list(range(1, 161))
    for n in range(4):  # each writer's records are all there, in its own order
        mine = [r["sql"] for r in records if r["user"] == f"writer-{n}"]
        assert mine == [f"SELECT {i}" for i in range(40)]
    assert audit.verify(settings).ok
