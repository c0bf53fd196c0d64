"""`harmony prepare`, `harmony run` and `harmony demo`: the pipeline in process, through the same
Dagster definitions the UI loads, on the current HARMONY_HOME."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import duckdb

from harmony_pipeline.settings import PROJECT_ROOT, Settings, get_settings
from harmony_pipeline.warehouse import connect_warehouse

DEMO_PATIENTS = 2000
DEMO_SEED = 20261125


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME defaults to .dagster in the project, with the project's instance settings."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


def open_instance():
    """The Dagster instance in DAGSTER_HOME, opened from its directory (not a process-global one)."""
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    return DagsterInstance.from_ref(InstanceRef.from_dir(str(ensure_dagster_home())))


def progress(message: str) -> None:
    print(f"[harmony {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_pipeline(settings: Settings | None = None) -> bool:
    """Materialise every asset: every source's new deliveries, then OMOP, marts, privacy, publish.

    Returns True when every step succeeded. One run of the full_refresh job covers all sources.
    """
    from harmony_pipeline.transform.project import ensure_dbt_manifest

    ensure_dbt_manifest()  # before the definitions load: they are built from the manifest
    from harmony_pipeline.definitions import defs
    from harmony_pipeline.orchestration import all_sources_tags, full_refresh_job, sync_partitions

    settings = settings or get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    instance = open_instance()
    partitions = sync_partitions(instance, settings)
    progress(f"run: {len(partitions)} sources, home {settings.home}")
    job = defs.resolve_job_def(full_refresh_job.name)
    started = time.monotonic()
    result = job.execute_in_process(
        instance=instance, tags=all_sources_tags(partitions), raise_on_error=False
    )
    for event in result.all_events:
        if event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            progress(f"{event.step_key}: {event.event_type_value.split('_')[1].lower()}")
    progress(f"run {'succeeded' if result.success else 'FAILED'} in {time.monotonic() - started:.1f}s")
    return result.success


def summary(settings: Settings) -> str:
    """Rows per OMOP table, quarantine per source, marts and where they are, how to go on."""
    lines = []
    with connect_warehouse(settings, read_only=True) as con:
        omop = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'omop' ORDER BY 1"
        ).fetchall()
        lines.append("OMOP CDM v5.4 tables (rows):")
        for (table,) in omop:
            n = con.execute(f'SELECT count(*) FROM omop."{table}"').fetchone()[0]
            if n:
                lines.append(f"  {table:<28} {n:>10,}")
        lines.append("Deliveries (rows read / loaded / quarantined):")
        for row in con.execute(
            "SELECT source_id, sum(rows_read), sum(rows_loaded), sum(rows_quarantined), "
            "string_agg(DISTINCT status, ',') FROM ops.delivery_ledger GROUP BY 1 ORDER BY 1"
        ).fetchall():
            lines.append(f"  {row[0]:<28} {row[1]:>10,} {row[2]:>10,} {row[3]:>8,}  {row[4]}")
    lines.append(f"Warehouse (data engineers): {settings.warehouse}")
    if settings.published.exists():
        with duckdb.connect(str(settings.published), read_only=True) as con:
            marts = con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_name <> 'release' ORDER BY 1"
            ).fetchall()
            lines.append(f"Published marts (analysts): {settings.published}")
            for (table,) in marts:
                n = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                lines.append(f"  {table:<28} {n:>10,}")
    lines += [
        "Open the Dagster UI:   make ui   (http://127.0.0.1:3000)",
        'Query as an analyst:   .venv/bin/harmony query --user demo-analyst --project demo "SELECT ..."',
    ]
    return "\n".join(lines)


def cmd_prepare(args) -> int:
    from harmony_pipeline.transform.project import prepare_dbt_manifest

    ensure_dagster_home()
    progress(f"dbt manifest ready: {prepare_dbt_manifest()}")
    return 0


def cmd_run(args) -> int:
    settings = get_settings()
    ok = run_pipeline(settings)
    if settings.warehouse.exists():
        print(summary(settings))
    return 0 if ok else 1


def cmd_demo(args) -> int:
    from harmony_pipeline.synth import synthesise

    os.environ["HARMONY_DEMO"] = "1"
    settings = get_settings()
    if not any(settings.landing.glob("*/*")):
        progress(f"synthesising a demo cohort of {args.patients} patients into {settings.landing}")
        synthesise(settings.home, patients=args.patients, seed=DEMO_SEED)
    ok = run_pipeline(settings)
    print(summary(settings))
    return 0 if ok else 1


def register(subparsers) -> None:
    p = subparsers.add_parser("prepare", help="prepare dbt (parse the project into a manifest)")
    p.set_defaults(func=cmd_prepare)
    p = subparsers.add_parser("run", help="materialise every asset for the current HARMONY_HOME")
    p.set_defaults(func=cmd_run)
    p = subparsers.add_parser("demo", help="synthesise a demo cohort if none is landed, run, publish")
    p.add_argument("--patients", type=int, default=DEMO_PATIENTS)
    p.set_defaults(func=cmd_demo)
