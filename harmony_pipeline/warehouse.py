"""Opening the warehouse: one writer per DuckDB file, so a lock held for a moment by another process
(an analyst's ad-hoc session, a report) is waited out instead of failing the run. And compacting it
once incremental builds have left enough deleted rows."""

from __future__ import annotations

import time
from dataclasses import dataclass

import duckdb

from harmony_pipeline.settings import Settings, get_settings

LOCK_MESSAGE = "Could not set lock on file"


def connect_warehouse(
    settings: Settings | None = None, read_only: bool = False, attempts: int = 6, wait_seconds: float = 2.0
) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse, retried with growing waits while another process holds its lock."""
    settings = settings or get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    for attempt in range(attempts):
        try:
            return duckdb.connect(
                str(settings.warehouse), read_only=read_only, config=settings.duckdb_config()
            )
        except duckdb.IOException as exc:
            if LOCK_MESSAGE not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(wait_seconds * (attempt + 1))
    raise AssertionError("unreachable")


# Incremental builds delete the rebuilt persons' rows and nothing vacuums them (Settings.duckdb_config):
# the deleted rows stay in their row groups, and the file grows. Once the persons rebuilt since the last
# compaction reach COMPACT_AFTER of all persons, one checkpoint with vacuum rewrites those row groups.
# Measured at 1M patients, four deliveries of four sources (52% of the persons): 0.45 GB more file per
# build and no slower builds; one compaction after the four took 28 to 30 s, where a vacuum after each build
# took 10.7 to 21.9 s.
COMPACT_AFTER = 0.5
COMPACTION_STATE = "ops.compaction_state"


@dataclass(frozen=True)
class Compaction:
    rebuilt_persons: int  # since the last compaction, this build's included
    persons: int
    seconds: float | None  # None: not due, nothing done


def compact_if_due(settings: Settings, full_refresh: bool) -> Compaction:
    """Count the persons the last dbt build rebuilt (a full refresh recreates every table: none left
    deleted) and compact the warehouse when they reach COMPACT_AFTER of all persons."""
    with connect_warehouse(settings) as con:
        _create_state(con)
        rebuilt = 0
        if not full_refresh:
            rebuilt = con.execute(f"SELECT rebuilt_persons FROM {COMPACTION_STATE}").fetchone()[0]
            rebuilt += rebuilt_by_last_build(con)
        persons = _count(con, "intermediate.int_person", "count(*)")
        if persons > 0 and rebuilt >= COMPACT_AFTER * persons:
            return Compaction(rebuilt, persons, compact(con))
        con.execute(f"UPDATE {COMPACTION_STATE} SET rebuilt_persons = ?", [rebuilt])
        return Compaction(rebuilt, persons, None)


def compact(con) -> float:
    """One checkpoint with vacuum, which rewrites the row groups deletes have thinned, and the count
    started again; returns its seconds."""
    _create_state(con)
    con.execute("RESET max_vacuum_tasks")  # to DuckDB's default, not the connection's 0
    # the update is also what makes the checkpoint happen (DuckDB skips one with nothing to write)
    con.execute(f"UPDATE {COMPACTION_STATE} SET rebuilt_persons = 0")
    started = time.monotonic()
    con.execute("CHECKPOINT")
    return time.monotonic() - started


def rebuilt_by_last_build(con) -> int:
    """The persons the last incremental dbt build rebuilt (their rows deleted and inserted again)."""
    return _count(con, "intermediate.int_changed_links", "count(DISTINCT person_key)")


def _create_state(con) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {COMPACTION_STATE.split('.')[0]}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {COMPACTION_STATE} AS SELECT 0::BIGINT AS rebuilt_persons")


def _count(con, table: str, aggregate: str) -> int:
    schema, name = table.split(".")
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchone()[0]
    return con.execute(f"SELECT {aggregate} FROM {table}").fetchone()[0] if exists else 0
