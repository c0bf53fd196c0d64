"""Dagster: the raw load per source partition, and its blocking quality checks.

`raw_deliveries` (key landing/raw_deliveries) loads the new deliveries of one source per partition.
Blocking checks: `gx_suites` re-runs the GX suites with Great Expectations on the raw rows that source's
latest ingest loaded (and writes Data Docs to $HARMONY_HOME/reports/gx_docs/), and `ledger_invariant`
proves nothing was lost. Partitions: one per source contract, added by sync_source_partitions.
"""

from datetime import UTC, datetime

import duckdb
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    DynamicPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)

from harmony_pipeline import canonical, settings
from harmony_pipeline.ingest.load import LEDGER, ingest_source, ledger_violations, prepare_warehouse
from harmony_pipeline.quality import gx_run
from harmony_pipeline.quality.frames import canonical_frame
from harmony_pipeline.quality.suites import suites_for

source_partitions = DynamicPartitionsDefinition(name="source")


def sync_source_partitions(instance, harmony_settings=None) -> list[str]:
    """Add a partition for every contract source_id not yet known; returns the ones added."""
    from harmony_pipeline.contracts import load_contracts

    harmony_settings = harmony_settings or settings.get_settings()
    wanted = sorted(load_contracts(harmony_settings))
    existing = set(instance.get_dynamic_partitions(source_partitions.name))
    missing = [s for s in wanted if s not in existing]
    if missing:
        instance.add_dynamic_partitions(source_partitions.name, missing)
    return missing


def _connect():
    harmony = settings.get_settings()
    harmony.home.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(harmony.warehouse))


@asset(
    key=["landing", "raw_deliveries"],
    group_name="landing",
    partitions_def=source_partitions,
    pool="harmony_warehouse",
    description="New deliveries of one source read through its contract, gated by the GX suites and "
    "loaded into raw.<entity>; failing rows go to quarantine.<entity>; every delivery in ops.delivery_ledger.",
)
def raw_deliveries(context: AssetExecutionContext) -> MaterializeResult:
    from harmony_pipeline.contracts import load_contracts

    harmony = settings.get_settings()
    source_id = context.partition_key
    contracts = load_contracts(harmony)
    if source_id not in contracts:
        raise ValueError(f"no contract for source {source_id!r} (known: {sorted(contracts)})")
    con = _connect()
    try:
        summary = ingest_source(con, contracts[source_id], harmony, settings.pseudonym_key(harmony))
    finally:
        con.close()
    for outcome in summary.deliveries:
        if outcome.status in ("rejected", "pending"):
            context.log.warning(
                f"delivery {source_id}/{outcome.delivery_id}: {outcome.status}: {outcome.error}"
            )
    loaded, quarantined = summary.total("rows_loaded"), summary.total("rows_quarantined")
    metadata = {
        "deliveries_loaded": MetadataValue.json(summary.with_status("loaded")),
        "deliveries_rejected": MetadataValue.json(summary.with_status("rejected")),
        "deliveries_skipped": MetadataValue.json(summary.with_status("skipped")),
        "deliveries_pending": MetadataValue.json(summary.with_status("pending")),
        "rows_loaded": MetadataValue.json(loaded),
        "rows_quarantined": MetadataValue.json(quarantined),
        "rows_loaded_total": sum(loaded.values()),
        "rows_quarantined_total": sum(quarantined.values()),
    }
    if summary.pass_rate is not None:
        metadata["pass_rate"] = MetadataValue.float(round(summary.pass_rate, 6))
    if summary.quarantine_reasons is not None:
        metadata["quarantine_reasons"] = MetadataValue.md(
            summary.quarantine_reasons.head(20).to_markdown(index=False)
        )
    errors = [f"- {d.delivery_id}: {d.error}" for d in summary.deliveries if d.status == "rejected"]
    if errors:
        metadata["rejected_errors"] = MetadataValue.md("\n".join(errors))
    return MaterializeResult(metadata=metadata)


def _latest_batch(con, source_id: str) -> list[str]:
    """Deliveries the source's most recent ingest loaded (what the check re-validates)."""
    rows = con.execute(
        f"SELECT DISTINCT delivery_id FROM {LEDGER} WHERE source_id = ? AND status = 'loaded' AND loaded_at = "
        f"(SELECT max(loaded_at) FROM {LEDGER} WHERE source_id = ? AND status = 'loaded') ORDER BY 1",
        [source_id, source_id],
    ).fetchall()
    return [r[0] for r in rows]


@asset_check(
    asset=raw_deliveries,
    name="gx_suites",
    blocking=True,
    partitions_def=source_partitions,
    description="Great Expectations suites (expectations/*.json) re-run on the raw rows of the source's "
    "latest loaded deliveries; Data Docs in $HARMONY_HOME/reports/gx_docs/.",
)
def gx_suites_check(context: AssetCheckExecutionContext) -> AssetCheckResult:
    harmony = settings.get_settings()
    source_id = context.partition_key
    con = _connect()
    try:
        prepare_warehouse(con)
        deliveries = _latest_batch(con, source_id)
        frames = {}
        for entity in canonical.ENTITIES:
            frame = con.execute(
                f'SELECT * FROM raw."{entity}" WHERE source_id = ? AND list_contains(?, delivery_id) '
                "ORDER BY delivery_id, file_name, row_number",
                [source_id, deliveries],
            ).df()
            if not frame.empty:
                frames[entity] = (canonical_frame(frame, entity), suites_for(entity, source_id))
    finally:
        con.close()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    docs_dir = harmony.reports / "gx_docs" / source_id
    outcomes, index = gx_run.validate_with_docs(frames, docs_dir, f"{source_id}.{stamp}")
    failed = [
        f"{entity}: {o.meta.get('rule')} ({o.expectation_type} {o.kwargs.get('column', '')}): "
        f"{len(o.unexpected_index) or o.observed}"
        for entity, results in outcomes.items()
        for o in results
        if not o.success
    ]
    evaluated = sum(len(r) for r in outcomes.values())
    return AssetCheckResult(
        passed=not failed,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "deliveries": MetadataValue.json(deliveries),
            "expectations_evaluated": evaluated,
            "expectations_failed": len(failed),
            "failures": MetadataValue.md("\n".join(f"- {f}" for f in failed) or "none"),
            "data_docs": MetadataValue.url(index.as_uri()),
            "data_docs_path": MetadataValue.path(str(index)),
        },
    )


@asset_check(
    asset=raw_deliveries,
    name="ledger_invariant",
    blocking=True,
    partitions_def=source_partitions,
    description="For every loaded delivery and entity: rows_read = rows_loaded + rows_quarantined, "
    "and raw.* / quarantine.* hold exactly those rows.",
)
def ledger_invariant_check(context: AssetCheckExecutionContext) -> AssetCheckResult:
    source_id = context.partition_key
    con = _connect()
    try:
        broken = ledger_violations(con, source_id)
        deliveries = con.execute(
            f"SELECT count(DISTINCT delivery_id) FROM {LEDGER} WHERE source_id = ?", [source_id]
        ).fetchone()[0]
    finally:
        con.close()
    metadata = {"deliveries_in_ledger": int(deliveries), "violations": len(broken)}
    if not broken.empty:
        metadata["violations_preview"] = MetadataValue.md(broken.head(20).to_markdown(index=False))
    return AssetCheckResult(passed=broken.empty, severity=AssetCheckSeverity.ERROR, metadata=metadata)


assets = [raw_deliveries]
asset_checks = [gx_suites_check, ledger_invariant_check]
