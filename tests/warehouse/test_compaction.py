"""Deleted rows and their compaction: the pipeline's DuckDB connections never vacuum at a checkpoint
(an incremental build's deletes would otherwise be rewritten by whichever step next writes the
warehouse), and the warehouse is compacted once the persons rebuilt since the last compaction reach
half of all persons (warehouse.compact_if_due)."""

from __future__ import annotations

from harmony_pipeline.settings import get_settings
from harmony_pipeline.warehouse import COMPACT_AFTER, COMPACTION_STATE, compact_if_due, connect_warehouse

PERSONS = 1000
ROWS = 1_000_000  # several DuckDB row groups (122,880 rows each)


def row_groups(con) -> int:
    return con.execute(
        "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('intermediate.facts') WHERE column_id = 0"
    ).fetchone()[0]


def rebuild(settings, first: int, last: int) -> None:
    """What an incremental build of persons first..last-1 leaves: its changed links, and their rows
    (row i is person i % PERSONS) deleted from every row group of a large table, and checkpointed."""
    with connect_warehouse(settings) as con:
        con.execute(
            "CREATE OR REPLACE TABLE intermediate.int_changed_links AS "
            "SELECT 'p' || i AS person_key FROM range(?, ?) AS r(i)",
            [first, last],
        )
        con.execute("DELETE FROM intermediate.facts WHERE i % ? BETWEEN ? AND ?", [PERSONS, first, last - 1])
        con.execute("CHECKPOINT")


def test_deleted_rows_wait_for_the_compaction_which_comes_after_half_the_persons(harmony_home):
    settings = get_settings()
    with connect_warehouse(settings) as con:
        con.execute("CREATE SCHEMA intermediate")
        con.execute(
            "CREATE TABLE intermediate.int_person AS SELECT 'p' || i AS person_key FROM range(?) r(i)",
            [PERSONS],
        )
        con.execute(
            "CREATE TABLE intermediate.facts AS SELECT i, md5(i::varchar) AS v FROM range(?) r(i)", [ROWS]
        )
        full = row_groups(con)
    assert compact_if_due(settings, full_refresh=True).rebuilt_persons == 0

    rebuild(settings, 0, 400)
    first = compact_if_due(settings, full_refresh=False)
    assert (first.rebuilt_persons, first.persons, first.seconds) == (400, PERSONS, None)
    with connect_warehouse(settings) as con:
        # a write and a checkpoint in a pipeline connection leave the deleted rows where they are
        con.execute("CREATE TABLE main.other AS SELECT 1 AS x")
        con.execute("CHECKPOINT")
        assert row_groups(con) == full

    rebuild(settings, 400, 500)
    due = compact_if_due(settings, full_refresh=False)
    assert due.rebuilt_persons == 500 >= COMPACT_AFTER * PERSONS and due.seconds is not None
    with connect_warehouse(settings, read_only=True) as con:
        # half the rows are gone, and their row groups merged
        assert row_groups(con) < full * 0.75
        assert con.execute(f"SELECT rebuilt_persons FROM {COMPACTION_STATE}").fetchone()[0] == 0

    rebuild(settings, 500, 800)
    assert compact_if_due(settings, full_refresh=False).rebuilt_persons == 300
    # a full refresh recreates every table: nothing deleted is left to count
    assert compact_if_due(settings, full_refresh=True).rebuilt_persons == 0
