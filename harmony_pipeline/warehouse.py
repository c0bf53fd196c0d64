"""Opening the warehouse: one writer per DuckDB file, so a lock held for a moment by another process
(an analyst's ad-hoc session, a report) is waited out instead of failing the run."""

from __future__ import annotations

import time

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
