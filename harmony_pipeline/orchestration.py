"""Jobs, the nightly schedule, the new-delivery sensor and the run-failure sensor.

A warehouse has one writer at a time (pool harmony_warehouse, size 1), so runs queue rather than
collide. Ingest is partitioned by source; everything below it is one set-based dbt build.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime

from dagster import (
    AssetKey,
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    define_asset_job,
    run_failure_sensor,
    schedule,
    sensor,
)

# The run tags Dagster itself sets for a single-run backfill over a partition range.
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from harmony_pipeline.contracts import load_contracts
from harmony_pipeline.ingest.assets import source_partitions, sync_source_partitions
from harmony_pipeline.settings import get_settings
from harmony_pipeline.warehouse import connect_warehouse

RAW = AssetSelection.assets(AssetKey(["landing", "raw_deliveries"]))
PUBLISH = AssetSelection.groups("privacy", "publish")

# A run of full_refresh covers the source partitions it is given (one, or the range of all of
# them) plus everything downstream once: ingest is a single-run backfill over its partitions.
full_refresh_job = define_asset_job(
    "full_refresh",
    selection=AssetSelection.all(),
    partitions_def=source_partitions,
    description="Load new deliveries of the selected sources (all: launch over every partition), "
    "then rebuild OMOP, outcomes, marts and publish once.",
)
ingest_source_job = define_asset_job(
    "ingest_source",
    selection=RAW,
    partitions_def=source_partitions,
    description="Load new deliveries of one source through its contract and quality gate, nothing else.",
)
rebuild_job = define_asset_job(
    "rebuild",
    selection=RAW.downstream() - RAW,
    description="Rebuild everything below ingest from the raw tables as they are: a dbt full refresh (the id "
    "registries keep every id), then reports, anonymisation and publish. Other runs rebuild only the persons "
    "a new delivery touches, and run a full refresh by themselves after the dbt project changed.",
)
publish_job = define_asset_job(
    "publish",
    selection=PUBLISH,
    description="Anonymise the current marts and publish a release if every privacy gate passes.",
)
jobs = [full_refresh_job, ingest_source_job, rebuild_job, publish_job]


def all_sources_tags(source_ids: list[str]) -> dict[str, str]:
    """Run tags that make one run cover every source partition (dynamic partitions keep insertion order)."""
    return {
        ASSET_PARTITION_RANGE_START_TAG: source_ids[0],
        ASSET_PARTITION_RANGE_END_TAG: source_ids[-1],
    }


def sync_partitions(instance, settings=None) -> list[str]:
    """Every contract's partition (added where missing), in the instance's order."""
    sync_source_partitions(instance, settings)
    return list(instance.get_dynamic_partitions(source_partitions.name))


def nightly_cron() -> tuple[str, str]:
    return (
        os.environ.get("HARMONY_NIGHTLY_CRON", "0 2 * * *"),
        os.environ.get("HARMONY_NIGHTLY_TIMEZONE", "Europe/Brussels"),
    )


_cron, _timezone = nightly_cron()


@schedule(
    cron_schedule=_cron,
    execution_timezone=_timezone,
    job=full_refresh_job,
    name="nightly_full_refresh",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Full refresh every night (HARMONY_NIGHTLY_CRON, HARMONY_NIGHTLY_TIMEZONE; "
    "default 02:00 Europe/Brussels): every source, then OMOP, marts and publish, in one run.",
)
def nightly_full_refresh(context: ScheduleEvaluationContext):
    partitions = sync_partitions(context.instance, get_settings())
    tick = context.scheduled_execution_time.strftime("%Y%m%dT%H%M")
    return RunRequest(run_key=f"nightly-{tick}", tags=all_sources_tags(partitions))


def delivery_fingerprints(settings, source_ids) -> dict[str, list[str]]:
    """Delivery folders per source, each fingerprinted by its files' names, sizes and mtimes."""
    found: dict[str, list[str]] = {}
    for source_id in sorted(source_ids):
        root = settings.landing / source_id
        if not root.is_dir():
            continue
        entries = []
        for delivery in sorted(p for p in root.iterdir() if p.is_dir()):
            stats = sorted((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in delivery.iterdir())
            digest = hashlib.sha256(json.dumps(stats).encode()).hexdigest()[:16]
            entries.append(f"{delivery.name}:{digest}")
        found[source_id] = entries
    return found


@sensor(
    name="new_delivery_sensor",
    job=full_refresh_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description="Refreshes a source (and everything downstream) when a new or changed delivery folder "
    "appears in its landing zone; an unchanged landing zone requests nothing.",
)
def new_delivery_sensor(context: SensorEvaluationContext):
    settings = get_settings()
    contracts = load_contracts(settings)
    seen = json.loads(context.cursor) if context.cursor else {}
    current = delivery_fingerprints(settings, contracts)
    known = set(context.instance.get_dynamic_partitions(source_partitions.name))
    missing = sorted(set(contracts) - known)
    requests = []
    for source_id, deliveries in current.items():
        new = sorted(set(deliveries) - set(seen.get(source_id, [])))
        if new:
            requests.append(
                RunRequest(
                    run_key=f"{source_id}:{new[-1]}",
                    partition_key=source_id,
                    tags={"harmony/deliveries": ",".join(d.split(":")[0] for d in new)},
                )
            )
    return SensorResult(
        run_requests=requests,
        cursor=json.dumps(current, sort_keys=True),
        dynamic_partitions_requests=[source_partitions.build_add_request(missing)] if missing else [],
    )


@run_failure_sensor(name="record_run_failures", default_status=DefaultSensorStatus.RUNNING)
def record_run_failures(context: RunFailureSensorContext):
    """Every failed run leaves a row in ops.run_failures for the data engineers."""
    record_failure(
        run_id=context.dagster_run.run_id,
        job_name=context.dagster_run.job_name,
        partition=context.dagster_run.tags.get("dagster/partition"),
        message=context.failure_event.message or "",
    )


def record_failure(run_id: str, job_name: str, partition: str | None, message: str) -> None:
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    with connect_warehouse(settings) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS ops")
        con.execute(
            "CREATE TABLE IF NOT EXISTS ops.run_failures (run_id VARCHAR, job_name VARCHAR, "
            "partition VARCHAR, failed_at TIMESTAMP, message VARCHAR)"
        )
        con.execute(
            "INSERT INTO ops.run_failures VALUES (?, ?, ?, ?, ?)",
            [run_id, job_name, partition, datetime.now(UTC).replace(tzinfo=None), message[:4000]],
        )


schedules = [nightly_full_refresh]
sensors = [new_delivery_sensor, record_run_failures]
