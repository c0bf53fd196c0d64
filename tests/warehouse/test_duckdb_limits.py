"""Every DuckDB the pipeline opens is capped: the warehouse connection in Python and dbt's own, so a
million-patient run fits a modest machine and spills to disk instead of taking 80% of RAM. Both keep
the buffers they free in a block pool of the cap's size (no page faults to take them again)."""

from __future__ import annotations

import subprocess

import pytest

from harmony_pipeline.settings import MEMORY_LIMIT_ENV, THREADS_ENV, get_settings
from harmony_pipeline.transform.project import dbt_resource
from harmony_pipeline.warehouse import connect_warehouse


def gib(text: str) -> float:
    """DuckDB reports memory_limit as e.g. '1.3 GiB' or '953.6 MiB'."""
    number, unit = text.split()
    return float(number) / (1024 if unit == "MiB" else 1)


def test_warehouse_connections_follow_the_configured_cap(harmony_home, monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1GB")
    monkeypatch.setenv(THREADS_ENV, "1")
    settings = get_settings()
    with connect_warehouse(settings) as con:
        limit, pool, threads = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('block_allocator_memory'), "
            "current_setting('threads')"
        ).fetchone()
    assert 0.85 < gib(limit) < 1.0  # 1 GB = 0.93 GiB
    assert gib(pool) == pytest.approx(gib(limit), abs=0.1)  # DuckDB shows both rounded
    assert threads == 1


def test_a_cap_given_as_a_share_of_memory_sizes_the_pool(harmony_home, monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "25%")
    with connect_warehouse(get_settings()) as con:
        limit, pool = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('block_allocator_memory')"
        ).fetchone()
    assert gib(limit) > 0.5 and gib(pool) == pytest.approx(gib(limit), abs=0.1)


def test_dbt_runs_under_the_same_cap(harmony_home, monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "700MB")
    settings = get_settings()
    settings.home.mkdir(parents=True)
    monkeypatch.setenv("HARMONY_WAREHOUSE", str(settings.warehouse))
    settings.export_duckdb_environment()
    dbt = dbt_resource()
    shown = subprocess.run(
        [
            dbt.dbt_executable,
            "show",
            "--inline",
            "select current_setting('memory_limit') as memory_limit, "
            "current_setting('block_allocator_memory') as block_pool",
            "--project-dir",
            dbt.project_dir,
            "--profiles-dir",
            dbt.profiles_dir,
            "--target-path",
            str(settings.home / "dbt_target"),
            "--output",
            "json",
            "--log-format",
            "text",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "MiB" in shown.stdout
    value = shown.stdout.split('"memory_limit": "')[1].split('"')[0]
    assert 600 < gib(value) * 1024 < 700  # 700 MB = 667.5 MiB: dbt did not fall back to 80% of RAM
    pool = shown.stdout.split('"block_pool": "')[1].split('"')[0]
    assert gib(pool) == pytest.approx(gib(value), abs=0.1)  # not the profile's default of 3GB
