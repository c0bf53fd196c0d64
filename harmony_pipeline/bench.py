"""`harmony bench`: the whole pipeline end to end through Dagster, timed per stage, against a floor.

For each N it synthesises (or reuses) a cohort in its own home under bench/, runs every asset through
the same Dagster definitions as `harmony run`, and reads the stage times from Dagster's step events and
dbt's run results. The floor is DuckDB alone reading every landing file and writing a table of as many
rows as the OMOP output: the pipeline / floor ratio says what our work costs above raw I/O.
Results go to bench/results.json and a readable table.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd

from harmony_pipeline import canonical
from harmony_pipeline.settings import PROJECT_ROOT, get_settings
from harmony_pipeline.warehouse import compact, connect_warehouse, rebuilt_by_last_build

BENCH_DIR_ENV = "HARMONY_BENCH_DIR"  # where cohorts and results go (default bench/ in the project)
STAGES = ("synth", "landing", "quality", "omop", "outcomes", "marts", "privacy", "publish")
STEP_STAGE = {
    "landing__raw_deliveries": "landing",
    "landing__raw_deliveries_gx_suites": "quality",
    "landing__raw_deliveries_ledger_invariant": "quality",
    "reports__omop_quality": "omop",  # the DQ checks run in dbt; this step summarises them and builds dbt docs
    "reports__marts_overview": "marts",
    "harmony_dbt": "dbt",
}
JSON_MAX_BYTES = (1 << 32) - 1  # DuckDB takes at most a 32-bit size
# The last delivery of each of these sources arrives after the full run, one at a time, each timed as an
# incremental run: a typical delivery (lymphoma_sa: 7.3% of the raw rows when it lands at 1M, the upper
# median of the ten sources' last deliveries) and the largest one (mds_registry_fr: 14%, and its gene
# panels make it a fifth of the measurement rows).
INCREMENTAL_SOURCES = ("lymphoma_sa", "mds_registry_fr")
# what a run leaves in a bench home; removed before each run (the cohort itself is kept for --reuse)
RUN_OUTPUTS = ("warehouse.duckdb", "warehouse.duckdb.wal", "warehouse.duckdb.tmp", "published", "dbt_target")
RUN_OUTPUTS += ("audit", "reports", "held_back")


def bench_dir() -> Path:
    return Path(os.environ.get(BENCH_DIR_ENV, PROJECT_ROOT / "bench"))


def tree_rss_bytes(root: int) -> int:
    """Resident memory of a process and all its descendants now (dbt runs as a child), from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) "
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * page
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


class PeakMemory:
    """Samples the whole process tree's resident memory in the background; the peak of the sum is what
    the machine had to hold at once (ru_maxrss gives only one process at a time)."""

    def __init__(self, interval: float = 0.2):
        self.interval, self.peak = interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_bytes(os.getpid()))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak / (1 << 20)


def dbt_stage_seconds(target: Path) -> dict[str, float]:
    """Seconds per stage from dbt's run results, each node placed by its folder in the manifest."""
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    stages: dict[str, float] = {}
    for result in json.loads((target / "run_results.json").read_text())["results"]:
        node = nodes.get(result["unique_id"], {})
        folder = node.get("fqn", ["", "omop"])[1] if len(node.get("fqn", [])) > 2 else "omop"
        stage = folder if folder in ("outcomes", "marts") else "omop"
        stages[stage] = stages.get(stage, 0.0) + float(result.get("execution_time") or 0.0)
    return stages


def step_seconds(result) -> dict[str, float]:
    """Wall seconds per successful Dagster step, as Dagster measured them."""
    return {
        event.step_key: event.event_specific_data.duration_ms / 1000
        for event in result.all_events
        if event.event_type_value == "STEP_SUCCESS"
    }


def incremental_run(defs, instance, source: str, held_back: Path) -> dict:
    """Land one held-back delivery and refresh only its source (and what is downstream)."""
    from harmony_pipeline.orchestration import full_refresh_job
    from harmony_pipeline.runner import progress

    settings = get_settings()
    held_back.rename(settings.landing / source / held_back.name)
    progress(f"incremental delivery {source}/{held_back.name}")
    started = time.monotonic()
    with PeakMemory() as memory:
        result = defs.resolve_job_def(full_refresh_job.name).execute_in_process(
            instance=instance, partition_key=source, raise_on_error=False
        )
    seconds = time.monotonic() - started
    if not result.success:
        raise RuntimeError(f"the incremental run of {source} failed")
    with connect_warehouse(settings, read_only=True) as con:
        share, rebuilt = raw_row_share(con, source, held_back.name), rebuilt_by_last_build(con)
    return {
        "source": source,
        "delivery": held_back.name,
        "seconds": round(seconds, 2),
        "share_of_raw_rows": share,
        "rebuilt_persons": rebuilt,
        "peak_memory_mb": round(memory.peak_mb, 1),
        "step_seconds": {step: round(seconds, 2) for step, seconds in step_seconds(result).items()},
    }


def launch_seconds() -> float:
    """What a run launched from the UI, the sensor or the schedule pays before its first step, which this
    bench's runs (in the bench's process) do not: a fresh process loading the definitions and resolving
    the job. Its steps then run in that process (definitions.py), as here."""
    started = time.monotonic()
    load = "from harmony_pipeline.definitions import defs; defs.resolve_job_def('full_refresh')"
    subprocess.run([sys.executable, "-c", load], check=True)
    return time.monotonic() - started


def raw_row_share(con, source: str, delivery: str) -> float:
    """The delivery's raw rows over all raw rows: what it asks of a run before any fixed cost."""
    union = " UNION ALL ".join(
        f'SELECT source_id, delivery_id FROM raw."{entity}"' for entity in canonical.ENTITIES
    )
    mine, total = con.execute(
        f"SELECT count(*) FILTER (source_id = ? AND delivery_id = ?), count(*) FROM ({union})",
        [source, delivery],
    ).fetchone()
    return round(mine / total, 4)


def landing_files(landing: Path) -> list[Path]:
    return sorted(p for p in landing.rglob("*") if p.is_file())


def csv_relation(file: Path, encoding: str) -> str:
    return f"read_csv('{file}', all_varchar=true, header=true, ignore_errors=true, encoding='{encoding}')"


def floor_seconds(landing: Path, output_rows: int, workdir: Path) -> dict:
    """DuckDB alone: read every landing file once, write a table of `output_rows` rows."""
    path = workdir / "floor.duckdb"
    path.unlink(missing_ok=True)
    started = time.monotonic()
    rows_read, pandas_seconds = 0, 0.0
    # DuckDB's own defaults (80% of RAM): parsing the myeloma network's one JSON document needs ~8 GB at 1M
    with duckdb.connect(str(path)) as con:
        for i, file in enumerate(landing_files(landing)):
            suffix = file.suffix.lower()
            if suffix in (".csv", ".tsv", ".txt"):
                # sources differ in encoding (the German study group exports latin-1)
                try:
                    con.execute(f"CREATE TABLE f{i} AS SELECT * FROM {csv_relation(file, 'utf-8')}")
                except duckdb.InvalidInputException:
                    con.execute(f"CREATE TABLE f{i} AS SELECT * FROM {csv_relation(file, 'latin-1')}")
            elif suffix == ".parquet":
                con.execute(f"CREATE TABLE f{i} AS SELECT * FROM read_parquet('{file}')")
            elif suffix == ".json":
                # a whole export can be one JSON document (the myeloma network nests every patient)
                relation = f"read_json('{file}', maximum_object_size={JSON_MAX_BYTES})"
                con.execute(f"CREATE TABLE f{i} AS SELECT * FROM {relation}")
            else:  # Excel and SAS transport have no DuckDB reader without an extension download
                read_started = time.monotonic()
                # the fastest reader we have, the pipeline's own (calamine): a slower one would flatter
                # the ratio
                excel = suffix in (".xlsx", ".xls")
                frame = pd.read_excel(file, engine="calamine") if excel else pd.read_sas(file)
                pandas_seconds += time.monotonic() - read_started
                con.register("frame", frame)
                con.execute(f"CREATE TABLE f{i} AS SELECT * FROM frame")
                con.unregister("frame")
            rows_read += con.execute(f"SELECT count(*) FROM f{i}").fetchall()[0][0]
        con.execute(
            "CREATE TABLE floor_output AS SELECT i AS id, hash(i) AS value, "
            f"DATE '2000-01-01' + CAST(i % 9000 AS INTEGER) AS day FROM range({output_rows}) t(i)"
        )
    seconds = time.monotonic() - started
    path.unlink(missing_ok=True)
    return {
        "seconds": seconds,
        "pandas_seconds": pandas_seconds,
        "rows_read": rows_read,
        "rows_written": output_rows,
    }


def omop_rows(settings) -> int:
    with connect_warehouse(settings, read_only=True) as con:
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'omop'"
        ).fetchall()
        return sum(con.execute(f'SELECT count(*) FROM omop."{t}"').fetchone()[0] for (t,) in tables)


def bench_one(patients: int, seed: int, reuse: bool) -> dict:
    from harmony_pipeline.transform.project import ensure_dbt_manifest

    ensure_dbt_manifest()  # before the definitions load: they are built from the manifest
    from harmony_pipeline.definitions import defs
    from harmony_pipeline.orchestration import all_sources_tags, full_refresh_job, sync_partitions
    from harmony_pipeline.runner import open_instance, progress
    from harmony_pipeline.synth import synthesise
    from harmony_pipeline.transform.assets import RAW_ASSET_KEY

    home = bench_dir() / f"home-{patients}"
    os.environ["HARMONY_HOME"] = str(home)
    os.environ["HARMONY_CONTRACTS_DIR"] = str(home / "contracts")
    settings = get_settings()
    stages = dict.fromkeys((*STAGES, "dbt"), 0.0)
    if not (reuse and (home / "landing").is_dir()):
        shutil.rmtree(home, ignore_errors=True)
        progress(f"bench {patients:,}: synthesising")
        started = time.monotonic()
        synthesise(home, patients=patients, seed=seed, deliveries=2)
        stages["synth"] = time.monotonic() - started
    # a delivery held back by an interrupted run goes back where it came from: a cohort never loses one
    for leftover in sorted((home / "held_back").glob("*/*")):
        leftover.rename(settings.landing / leftover.parent.name / leftover.name)
    for stale in RUN_OUTPUTS:
        target = home / stale
        shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(missing_ok=True)
    # hold some sources' last deliveries back: they land after the full run, as incremental deliveries
    held_back = {}
    for source in INCREMENTAL_SOURCES:
        latest = sorted((settings.landing / source).iterdir())[-1]
        held_back[source] = home / "held_back" / source / latest.name
        held_back[source].parent.mkdir(parents=True)
        latest.rename(held_back[source])

    instance = open_instance()
    partitions = sync_partitions(instance, settings)
    progress(f"bench {patients:,}: running the pipeline through Dagster")
    started = time.monotonic()
    with PeakMemory() as full_memory:
        result = defs.resolve_job_def(full_refresh_job.name).execute_in_process(
            instance=instance, tags=all_sources_tags(partitions), raise_on_error=False
        )
    pipeline_seconds = time.monotonic() - started
    steps = step_seconds(result)
    for step, seconds in steps.items():
        stages[STEP_STAGE.get(step, step.split("__")[0])] += seconds
    # the ingest step reports how its time splits between reading/loading and the quality gate
    record = instance.fetch_materializations(RAW_ASSET_KEY, limit=1).records[0]
    gate_seconds = float(record.asset_materialization.metadata["quality_seconds"].value)
    stages["landing"] -= gate_seconds
    stages["quality"] += gate_seconds
    # dbt is one step: split it by the folders of the nodes it ran; its start-up counts to omop
    dbt_stages = dbt_stage_seconds(home / "dbt_target")
    for stage, seconds in dbt_stages.items():
        stages[stage] += seconds
    stages["omop"] += steps.get("harmony_dbt", 0.0) - sum(dbt_stages.values())
    incremental = [
        incremental_run(defs, instance, source, held_back[source]) for source in INCREMENTAL_SOURCES
    ]
    # The rows the incremental builds deleted wait for a compaction (warehouse.compact_if_due), which runs
    # once the rebuilt persons reach half of all persons: these deliveries (22% of them) never trigger it.
    # It is measured here, after them, and each delivery is charged its share by rebuilt persons.
    progress(f"bench {patients:,}: compacting after the incremental deliveries")
    with PeakMemory() as compaction_memory, connect_warehouse(settings) as con:
        compaction_seconds = compact(con)
    rebuilt = sum(run["rebuilt_persons"] for run in incremental)
    for run in incremental:
        run["compaction_seconds"] = round(compaction_seconds * run["rebuilt_persons"] / max(rebuilt, 1), 2)
        run["over_full"] = round((run["seconds"] + run["compaction_seconds"]) / pipeline_seconds, 3)
    rows = omop_rows(settings)
    launch = launch_seconds()
    progress(f"bench {patients:,}: floor (DuckDB alone)")
    floor = floor_seconds(settings.landing, rows, home)
    return {
        "patients": patients,
        "success": result.success,
        "pipeline_seconds": round(pipeline_seconds, 2),
        "stage_seconds": {k: round(stages[k], 2) for k in STAGES},
        "incremental": incremental,
        "compaction": {
            "seconds": round(compaction_seconds, 2),
            "peak_memory_mb": round(compaction_memory.peak_mb, 1),
        },
        "omop_rows": rows,
        "omop_rows_per_second": round(rows / pipeline_seconds, 1) if pipeline_seconds else None,
        "peak_memory_mb": round(full_memory.peak_mb, 1),
        "floor_seconds": round(floor["seconds"], 2),
        "floor_pandas_read_seconds": round(floor["pandas_seconds"], 2),
        "floor_rows_read": floor["rows_read"],
        "pipeline_over_floor": round(pipeline_seconds / floor["seconds"], 2) if floor["seconds"] else None,
        "launch_seconds": round(launch, 2),
    }


def render(results: list[dict]) -> str:
    header = f"{'patients':>10} {'total s':>8} " + " ".join(f"{s:>9}" for s in STAGES)
    header += f" {'OMOP rows':>10} {'rows/s':>9} {'peak MB':>8} {'floor s':>8} {'ratio':>6}"
    lines = [header]
    for r in results:
        stage = " ".join(f"{r['stage_seconds'][s]:>9.1f}" for s in STAGES)
        lines.append(
            f"{r['patients']:>10,} {r['pipeline_seconds']:>8.1f} {stage} {r['omop_rows']:>10,} "
            f"{r['omop_rows_per_second'] or 0:>9,.0f} {r['peak_memory_mb']:>8.0f} {r['floor_seconds']:>8.1f} "
            f"{r['pipeline_over_floor'] or 0:>6.1f}"
        )
        for run in r["incremental"]:
            lines.append(
                f"{'':>10} incremental delivery {run['source']}/{run['delivery']} "
                f"({run['share_of_raw_rows']:.1%} of raw rows): {run['seconds']:.1f} s "
                f"+ {run['compaction_seconds']:.1f} s of compaction, {run['over_full']:.2f} of the full run, "
                f"peak {run['peak_memory_mb']:,.0f} MB"
            )
        lines.append(
            f"{'':>10} compaction after them: {r['compaction']['seconds']:.1f} s, "
            f"peak {r['compaction']['peak_memory_mb']:,.0f} MB"
        )
        if "launch_seconds" in r:
            lines.append(
                f"{'':>10} a run launched from the UI, the sensor or the schedule first loads the "
                f"definitions in a process of its own: {r['launch_seconds']:.1f} s more than each run above"
            )
    return "\n".join(lines)


def peak_memory_mb(result: dict) -> float:
    """The highest peak of the full run, the incremental runs and the compaction."""
    runs = [result, *result["incremental"], result["compaction"]]
    return max(run["peak_memory_mb"] for run in runs)


def targets(results: list[dict]) -> list[str]:
    """The issue's targets, each with the measured figure; a size not run here is said so."""
    by_size = {r["patients"]: r for r in results}
    small, large = by_size.get(100_000), by_size.get(1_000_000)
    lines = []

    def check(label: str, value: float | None, limit: float, unit: str) -> None:
        if value is None:
            lines.append(f"  {label}: not measured")
        else:
            verdict = "met" if value <= limit else "MISSED"
            lines.append(f"  {label}: {value:,.2f}{unit} (target <= {limit:,}{unit}) {verdict}")

    check("100k end to end", small and small["pipeline_seconds"], 180, " s")
    check("1M end to end", large and large["pipeline_seconds"], 1200, " s")
    check("1M peak memory", large and peak_memory_mb(large), 6144, " MB")
    check("1M pipeline / floor", large and large["pipeline_over_floor"], 5, "x")
    if large and "floor_pandas_read_seconds" in large:  # the floor's own share that is not DuckDB
        lines.append(
            f"    (floor {large['floor_seconds']:,.1f} s, of which {large['floor_pandas_read_seconds']:,.1f} s "
            "reading Excel/SAS with pandas: DuckDB has no reader for them without an extension download)"
        )
    growth = large and small and large["pipeline_seconds"] / small["pipeline_seconds"]
    check("1M time / 100k time", growth or None, 12, "x")
    for r in results:
        for run in r["incremental"]:
            label = (
                f"{r['patients']:,} incremental {run['source']} ({run['share_of_raw_rows']:.1%} of raw rows), "
                "with its share of the compaction / full"
            )
            check(label, run["over_full"], 0.15, "")
    return ["Targets:", *lines]


def cmd_bench(args) -> int:
    os.environ.setdefault("HARMONY_DEMO", "1")
    bench_dir().mkdir(parents=True, exist_ok=True)
    results = [bench_one(n, args.seed, args.reuse) for n in sorted(args.patients or [10_000])]
    # sizes run earlier on this machine stay in the report (1M takes long), the latest run of each size wins
    path = bench_dir() / "results.json"
    earlier = json.loads(path.read_text())["results"] if path.exists() else []
    earlier = [r for r in earlier if "compaction" in r]  # results of an older format are not comparable
    run_now = {r["patients"] for r in results}
    merged = sorted(
        [r for r in earlier if r["patients"] not in run_now] + results, key=lambda r: r["patients"]
    )
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "results": merged,
        "targets": targets(merged),
    }
    path.write_text(json.dumps(report, indent=2))
    print(render(merged))
    print("\n".join(report["targets"]))
    print(f"written {path}")
    return 0 if all(r["success"] for r in results) else 1


def register(subparsers) -> None:
    p = subparsers.add_parser("bench", help="benchmark the whole pipeline per stage against a DuckDB floor")
    p.add_argument("--patients", type=int, action="append", help="cohort size (repeatable)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--reuse", action="store_true", help="reuse a cohort already synthesised in bench/")
    p.set_defaults(func=cmd_bench)
