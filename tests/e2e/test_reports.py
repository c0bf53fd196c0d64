"""The report assets of an end-to-end run: the dbt docs site (rebuilt only when the dbt project
changed) and the Kaplan-Meier plots drawn from the km_* marts."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest
from pipeline_homes import environment

from harmony_pipeline.survival import write_km_plots
from harmony_pipeline.transform.project import MANIFEST
from harmony_pipeline.transform.reports import generate_dbt_docs, write_changed_km_plots

pytestmark = pytest.mark.slow


def in_run_environment(run, action):
    with environment(run["env"]):
        return action()


def test_dbt_docs_describe_the_warehouse_and_are_rebuilt_only_when_the_project_changes(
    pipeline_run, tmp_path
):
    docs = pipeline_run["settings"].reports / "dbt_docs"
    catalog = docs / "catalog.json"
    assert (docs / "index.html").exists()
    assert '"model.harmony.person"' in catalog.read_text()
    assert (docs / "manifest.sha256").read_text() == hashlib.sha256(MANIFEST.read_bytes()).hexdigest()

    built = catalog.stat().st_mtime_ns
    assert in_run_environment(pipeline_run, lambda: generate_dbt_docs(docs)) is False
    assert catalog.stat().st_mtime_ns == built

    # a site built from another version of the project is rebuilt
    stale = tmp_path / "dbt_docs"
    shutil.copytree(docs, stale)
    (stale / "manifest.sha256").write_text("a manifest of an older project")
    (stale / "catalog.json").unlink()
    assert in_run_environment(pipeline_run, lambda: generate_dbt_docs(stale)) is True
    assert '"model.harmony.person"' in (stale / "catalog.json").read_text()


def test_one_km_plot_per_curve_set_of_the_km_marts(pipeline_run):
    settings = pipeline_run["settings"]
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name LIKE 'km_%'"
            ).fetchall()
        ]
        curve_sets = sum(
            con.execute(f"SELECT count(DISTINCT (endpoint, classification)) FROM marts.{t}").fetchone()[0]
            for t in tables
        )
    plots = sorted(Path(settings.reports / "km").glob("km_*.png"))
    assert curve_sets > 0
    assert len(plots) == curve_sets
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in plots)


def test_km_plots_are_redrawn_only_for_changed_km_marts_and_equal_a_full_drawing(pipeline_run, tmp_path):
    run_settings = pipeline_run["settings"]
    settings = dataclasses.replace(run_settings, home=tmp_path / "home")
    settings.home.mkdir()
    shutil.copyfile(run_settings.warehouse, settings.warehouse)  # this test changes a km mart
    shutil.copytree(run_settings.reports / "km", settings.reports / "km")
    drawn = sorted(p.name for p in (run_settings.reports / "km").glob("km_*.png"))

    plots, redrawn = in_run_environment(pipeline_run, lambda: write_changed_km_plots(settings))
    assert redrawn == [] and sorted(p.name for p in plots) == drawn  # the run drew them all already

    disease = drawn[0].split("_")[1]
    before = {p.name: p.read_bytes() for p in plots}
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute(f"UPDATE marts.km_{disease} SET survival = survival * 0.9")
    plots, redrawn = in_run_environment(pipeline_run, lambda: write_changed_km_plots(settings))
    assert redrawn == [disease] and sorted(p.name for p in plots) == drawn
    changed = {p.name for p in plots if p.read_bytes() != before[p.name]}
    assert changed and all(name.startswith(f"km_{disease}_") for name in changed)

    # the same plots as drawing every one of them from this warehouse
    scratch = tmp_path / "scratch"
    in_run_environment(pipeline_run, lambda: write_km_plots(settings.warehouse, scratch))
    assert all((scratch / p.name).read_bytes() == p.read_bytes() for p in plots)
