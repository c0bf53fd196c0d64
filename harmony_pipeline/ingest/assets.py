"""Dagster: the raw load per source partition, and its blocking quality checks.

`raw_deliveries` (key landing/raw_deliveries) loads the new deliveries of one source per partition.
Blocking checks: `gx_suites` re-runs the GX suites with Great Expectations on the raw rows that source's
latest ingest loaded (and writes Data Docs to $HARMONY_HOME/reports/gx_docs/), and `ledger_invariant`
proves nothing was lost. Partitions: one per source contract, added by sync_source_partitions.
"""

from datetime import UTC, datetime

import pandas as pd
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    BackfillPolicy,
    DynamicPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)

from harmony_pipeline import canonical, settings
from harmony_pipeline.ingest.load import (
    LEDGER,
    ingest_sources,
    ledger_violations,
    one_checkpoint,
    prepare_warehouse,
)
from harmony_pipeline.quality import gx_run
from harmony_pipeline.quality.frames import canonical_frame
from harmony_pipeline.quality.suites import suites_for
from harmony_pipeline.warehouse import connect_warehouse

source_partitions = DynamicPartitionsDefinition(name="source")
# Rows per entity the GX check re-validates. GX's cost is mostly per expectation (about 20 ms each, 278
# at 100k patients), so 5,000 rows cost little more than 500; 20,000 added about 3 s to every run.
GX_SAMPLE_ROWS = 5_000


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
    return connect_warehouse(settings.get_settings())


@asset(
    key=["landing", "raw_deliveries"],
    group_name="landing",
    partitions_def=source_partitions,
    # a full refresh is one run over every source partition, with what is downstream built once
    backfill_policy=BackfillPolicy.single_run(),
    pool="harmony_warehouse",
    # nothing new landed: no materialisation, so nothing downstream is rebuilt (incremental runs)
    output_required=False,
    description="New deliveries of each selected source read through its contract, gated by the GX suites "
    "and loaded into raw.<entity>; failing rows go to quarantine.<entity>; every delivery in "
    "ops.delivery_ledger. One bad delivery never stops the others. When no selected source has a new "
    "delivery, nothing is materialised and nothing downstream runs.",
)
def raw_deliveries(context: AssetExecutionContext):
    from harmony_pipeline.contracts import load_contracts

    harmony = settings.get_settings()
    contracts = load_contracts(harmony)
    unknown = sorted(set(context.partition_keys) - set(contracts))
    if unknown:
        raise ValueError(f"no contract for source(s) {unknown} (known: {sorted(contracts)})")
    key = settings.pseudonym_key(harmony)
    context.log.info(f"ingesting {', '.join(context.partition_keys)}")
    con = _connect()
    try:
        with one_checkpoint(con) as timing:
            selected = [contracts[source_id] for source_id in context.partition_keys]
            summaries = ingest_sources(con, selected, harmony, key)
    finally:
        con.close()
    metadata = ingest_metadata(context, summaries, checkpoint_seconds=timing["checkpoint"])
    if not any(summary.with_status("loaded") for summary in summaries):
        context.log.info("no new delivery loaded: raw tables unchanged, downstream assets not rebuilt")
        return
    yield MaterializeResult(metadata=metadata)


def ingest_metadata(context: AssetExecutionContext, summaries, checkpoint_seconds: float = 0.0) -> dict:
    """What the UI shows for a raw load: per source deliveries, rows, pass rate, quarantine reasons."""
    per_source, reasons, errors = [], [], []
    loaded_by_entity: dict[str, int] = {}
    quarantined_by_entity: dict[str, int] = {}
    seconds = {"read": 0.0, "quality": 0.0, "load": checkpoint_seconds}  # writing to disk is loading
    for summary in summaries:
        for outcome in summary.deliveries:
            if outcome.status in ("rejected", "pending"):
                context.log.warning(
                    f"delivery {summary.source_id}/{outcome.delivery_id}: {outcome.status}: {outcome.error}"
                )
            if outcome.status == "rejected":
                errors.append(f"- {summary.source_id}/{outcome.delivery_id}: {outcome.error}")
        loaded, quarantined = summary.total("rows_loaded"), summary.total("rows_quarantined")
        for entity, n in loaded.items():
            loaded_by_entity[entity] = loaded_by_entity.get(entity, 0) + n
        for entity, n in quarantined.items():
            quarantined_by_entity[entity] = quarantined_by_entity.get(entity, 0) + n
        per_source.append(
            {
                "source": summary.source_id,
                "loaded": ", ".join(summary.with_status("loaded")) or "-",
                "skipped": len(summary.with_status("skipped")),
                "rejected": len(summary.with_status("rejected")),
                "rows loaded": sum(loaded.values()),
                "rows quarantined": sum(quarantined.values()),
                "pass rate": None if summary.pass_rate is None else round(summary.pass_rate, 4),
            }
        )
        if summary.quarantine_reasons is not None:
            reasons.append(summary.quarantine_reasons.assign(source=summary.source_id))
        for stage, value in summary.seconds.items():
            seconds[stage] += value
    table = pd.DataFrame(per_source)
    loaded_total = int(table["rows loaded"].sum()) if len(table) else 0
    quarantined_total = int(table["rows quarantined"].sum()) if len(table) else 0
    read_total = loaded_total + quarantined_total
    metadata = {
        "sources": MetadataValue.md(table.to_markdown(index=False) if len(table) else "none"),
        "rows_loaded": MetadataValue.json(dict(sorted(loaded_by_entity.items()))),
        "rows_quarantined": MetadataValue.json(dict(sorted(quarantined_by_entity.items()))),
        "rows_loaded_total": loaded_total,
        "rows_quarantined_total": quarantined_total,
        "read_seconds": round(seconds["read"], 3),
        "quality_seconds": round(seconds["quality"], 3),
        "load_seconds": round(seconds["load"], 3),
    }
    if read_total:
        metadata["pass_rate"] = MetadataValue.float(round(loaded_total / read_total, 6))
    if reasons:
        top = pd.concat(reasons).sort_values("records", ascending=False).head(25)
        metadata["quarantine_reasons"] = MetadataValue.md(
            top[["source", "entity", "rule", "reason", "records"]].to_markdown(index=False)
        )
    if errors:
        metadata["rejected_errors"] = MetadataValue.md("\n".join(errors))
    return metadata


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
    sources = list(context.partition_keys)
    con = _connect()
    try:
        prepare_warehouse(con)
        batches = {source_id: _latest_batch(con, source_id) for source_id in sources}
        pairs = [[s, d] for s, deliveries in batches.items() for d in deliveries]
        frames = {}
        for entity in canonical.ENTITIES:
            # The gate already judged every row (these suites compiled to DuckDB SQL); this independent
            # Great Expectations run re-validates a fixed, repeatable sample so it stays cheap at scale.
            # the sample is drawn over row ids, and only the sampled rows are fetched whole (2x faster at 1M)
            frame = con.execute(
                f'SELECT * FROM raw."{entity}" WHERE rowid IN (SELECT rowid FROM (SELECT rowid FROM raw."{entity}" '
                "SEMI JOIN (SELECT p[1] AS source_id, p[2] AS delivery_id FROM (SELECT unnest(?) AS p)) "
                f"USING (source_id, delivery_id)) USING SAMPLE reservoir({GX_SAMPLE_ROWS} ROWS) REPEATABLE (42)) "
                "ORDER BY source_id, delivery_id, file_name, row_number",
                [pairs],
            ).df()
            if frame.empty:
                continue
            frame = canonical_frame(frame, entity)
            # the canonical suite over all sources at once; a source's own suite over its rows only
            frames[entity] = (frame, suites_for(entity, None))
            for source_id in sources:
                own = suites_for(entity, source_id)[1:]
                rows = frame[frame["source_id"] == source_id]
                if own and not rows.empty:
                    frames[f"{entity}.{source_id}"] = (rows.reset_index(drop=True), own)
    finally:
        con.close()
    docs_dir = harmony.reports / "gx_docs"
    run_name = f"raw.{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"
    outcomes, index = gx_run.validate_with_docs(frames, docs_dir, run_name) if frames else ({}, None)
    failed = [
        f"{entity}: {o.meta.get('rule')} ({o.expectation_type} {o.kwargs.get('column', '')}): "
        f"{len(o.unexpected_index) or o.observed}"
        for entity, results in outcomes.items()
        for o in results
        if not o.success
    ]
    metadata = {
        "deliveries": MetadataValue.json(batches),
        "expectations_evaluated": sum(len(r) for r in outcomes.values()),
        "expectations_failed": len(failed),
        "sample_rows_per_entity": GX_SAMPLE_ROWS,
        "failures": MetadataValue.md("\n".join(f"- {f}" for f in failed) or "none"),
    }
    if index is not None:
        metadata["data_docs"] = MetadataValue.url(index.as_uri())
        metadata["data_docs_path"] = MetadataValue.path(str(index))
    return AssetCheckResult(passed=not failed, severity=AssetCheckSeverity.ERROR, metadata=metadata)


@asset_check(
    asset=raw_deliveries,
    name="ledger_invariant",
    blocking=True,
    partitions_def=source_partitions,
    description="For every loaded delivery and entity: rows_read = rows_loaded + rows_quarantined, "
    "and raw.* / quarantine.* hold exactly those rows.",
)
def ledger_invariant_check(context: AssetCheckExecutionContext) -> AssetCheckResult:
    con = _connect()
    try:
        broken = ledger_violations(con, list(context.partition_keys))  # one scan for all the sources
        deliveries = con.execute(
            f"SELECT count(DISTINCT (source_id, delivery_id)) FROM {LEDGER} WHERE list_contains(?, source_id)",
            [list(context.partition_keys)],
        ).fetchone()[0]
    finally:
        con.close()
    metadata = {"deliveries_in_ledger": int(deliveries), "violations": len(broken)}
    if not broken.empty:
        metadata["violations_preview"] = MetadataValue.md(broken.head(20).to_markdown(index=False))
    return AssetCheckResult(passed=broken.empty, severity=AssetCheckSeverity.ERROR, metadata=metadata)


assets = [raw_deliveries]
asset_checks = [gx_suites_check, ledger_invariant_check]
