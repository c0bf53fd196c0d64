"""A warehouse lock held for a moment by another process is waited out, not a failed run."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pytest

from harmony_pipeline.settings import get_settings
from harmony_pipeline.warehouse import connect_warehouse

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def hold_lock(path, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_held_lock_is_waited_out(harmony_home):
    settings = get_settings()
    settings.home.mkdir(parents=True)
    holder = hold_lock(settings.warehouse, 3)
    started = time.monotonic()
    with connect_warehouse(settings, wait_seconds=1.0) as con:
        assert con.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
    assert time.monotonic() - started >= 1.0  # it did wait for the other process
    holder.wait(timeout=30)


def test_a_lock_that_is_not_released_still_fails_clearly(harmony_home):
    settings = get_settings()
    settings.home.mkdir(parents=True)
    holder = hold_lock(settings.warehouse, 10)
    try:
        with pytest.raises(duckdb.IOException, match="lock"):
            connect_warehouse(settings, attempts=2, wait_seconds=0.2)
    finally:
        holder.kill()
        holder.wait(timeout=30)
