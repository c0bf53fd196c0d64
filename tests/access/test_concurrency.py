"""Publishing in a loop while analyst processes query continuously: no lock errors, consistent answers."""

import json
import subprocess
import sys
import time

from gateway_fixtures import publish

from harmony_pipeline.access import audit
from harmony_pipeline.publish import list_releases
from harmony_pipeline.settings import PROJECT_ROOT

WINDOW_SECONDS = 8
ANALYSTS = 3

# One analyst process: query the current release for a bounded time; every answer must come from one
# release (the release table and the mart rows agree on the generation and on the row count).
ANALYST = """
import json, sys, time
from harmony_pipeline.access import query
deadline = time.monotonic() + float(sys.argv[1])
stats = {"queries": 0, "errors": [], "inconsistent": [], "releases": []}
sql = '''SELECT r.release_id, r.deliveries, r.row_counts, m.g0, m.g1, m.n
         FROM release r, (SELECT min(generation) AS g0, max(generation) AS g1, count(*) AS n FROM mart_aml) m'''
while time.monotonic() < deadline:
    try:
        row = query("demo-analyst", sql, interface="python").iloc[0]
    except Exception as exc:
        stats["errors"].append(f"{type(exc).__name__}: {exc}")
        continue
    stats["queries"] += 1
    generation = json.loads(row.deliveries)[0]["delivery_id"]
    expected_rows = json.loads(row.row_counts)["mart_aml"]
    if not (row.g0 == row.g1 and f"d{row.g0}" == generation and row.n == expected_rows == 20 + row.g0):
        stats["inconsistent"].append(str(row.to_dict()))
    if row.release_id not in stats["releases"]:
        stats["releases"].append(row.release_id)
print(json.dumps(stats))
"""


def test_publishing_while_analysts_query(settings, capsys):
    publish(settings, generation=1, aml_rows=21)
    env = {"PATH": "/usr/bin:/bin", "HARMONY_HOME": str(settings.home), "PYTHONPATH": str(PROJECT_ROOT)}
    analysts = [
        subprocess.Popen(
            [sys.executable, "-c", ANALYST, str(WINDOW_SECONDS)],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(ANALYSTS)
    ]
    # The pipeline side: rebuild the warehouse's release schema and publish, again and again.
    published = [list_releases(settings)[0]]
    generation = 1
    deadline = time.monotonic() + WINDOW_SECONDS + 2  # covers the analysts' start-up too
    while time.monotonic() < deadline:
        generation += 1
        published.append(publish(settings, generation=generation, aml_rows=20 + generation).release_id)
    outputs = [json.loads(a.communicate(timeout=120)[0]) for a in analysts]
    assert [a.returncode for a in analysts] == [0] * ANALYSTS

    queries = sum(o["queries"] for o in outputs)
    seen = {r for o in outputs for r in o["releases"]}
    errors = [e for o in outputs for e in o["errors"]]
    inconsistent = [i for o in outputs for i in o["inconsistent"]]
    with capsys.disabled():
        print(
            f"\nconcurrency: {len(published)} releases published, {ANALYSTS} analysts, {queries} queries "
            f"({[o['queries'] for o in outputs]}), {len(seen)} distinct releases answered from, "
            f"{len(errors)} errors, {len(inconsistent)} inconsistent answers"
        )
    assert errors == [] and inconsistent == []
    assert all(o["queries"] > 0 for o in outputs)
    assert len(published) >= 5 and len(seen) >= 2
    assert seen <= set(published)
    assert len(list_releases(settings)) == 5  # retention held throughout
    # every query left exactly one record, and the chain written by 3 processes is intact
    result = audit.verify(settings)
    assert result.ok, result.problems
    assert result.records == queries
