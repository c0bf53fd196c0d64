"""Two warehouses compared table by table: what an incremental build must share with a full refresh.

A module of its own (not a test module): tests in several folders import it by name.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# ops: the data-quality tables (dq_results and its per-person partials, mapping_coverage,
# omop_excluded_records) besides the id registries and fingerprints
COMPARED_SCHEMAS = ("omop", "outcomes", "marts", "ops")
# and the fingerprints, incremental by source (the rest of intermediate is rebuilt alike by both builds)
COMPARED_TABLES = ("intermediate.int_person_fingerprint",)
# but not the storage's bookkeeping: the persons rebuilt since the last compaction (warehouse.compact_if_due)
NOT_COMPARED = ("ops.compaction_state",)


def tables(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return [
            name
            for (name,) in con.execute(
                "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables "
                f"WHERE (table_schema IN {COMPARED_SCHEMAS} OR name IN {COMPARED_TABLES}) "
                f"AND name NOT IN {NOT_COMPARED} ORDER BY ALL"
            ).fetchall()
        ]


def differences(a: Path, b: Path) -> dict[str, tuple[int, int]]:
    """Per table, rows only in a and rows only in b (EXCEPT ALL both ways); tables that agree are left out."""
    assert tables(a) == tables(b)
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        found = {}
        for table in tables(a):
            only_a, only_b = (
                con.execute(
                    f"SELECT count(*) FROM (FROM {x}.{table} EXCEPT ALL FROM {y}.{table})"
                ).fetchone()[0]
                for x, y in (("a", "b"), ("b", "a"))
            )
            if only_a or only_b:
                found[table] = (only_a, only_b)
        return found
