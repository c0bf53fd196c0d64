"""Dagster asset `publish/published_release`: the gated `release.*` schema becomes the analyst file."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from harmony_pipeline.publish.release import publish_release
from harmony_pipeline.settings import Settings, get_settings
from harmony_pipeline.warehouse import connect_warehouse

LEDGER_TABLE = "ops.delivery_ledger"  # written by ingest (docs/architecture.md)


def included_deliveries(settings: Settings) -> list[dict]:
    """Every delivery recorded in the warehouse ledger (none when ingest has not written one)."""
    if not settings.warehouse.is_file():
        return []  # publish_release then says there is no warehouse
    with connect_warehouse(settings, read_only=True) as con:
        exists = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ops' AND table_name = 'delivery_ledger'"
        ).fetchone()[0]
        if not exists:
            return []
        frame = con.execute(f"SELECT * FROM {LEDGER_TABLE}").fetchdf()
    frame = frame.sort_values(list(frame.columns)).astype(str)
    return frame.to_dict(orient="records")


@asset(
    key=AssetKey(["publish", "published_release"]),
    group_name="publish",
    deps=[AssetKey(["privacy", "release_candidate"])],
    pool="harmony_warehouse",
    description="Copies the anonymised release.* schema into published/marts.duckdb (atomic rename) and "
    "keeps the last releases in published/releases/ so analyses can pin one.",
)
def published_release(context: AssetExecutionContext) -> MaterializeResult:
    settings = get_settings()
    info = publish_release(settings, included_deliveries(settings))
    context.log.info(f"published release {info.release_id} to {info.published_path}")
    return MaterializeResult(
        metadata={
            "release_id": info.release_id,
            "path": MetadataValue.path(str(info.published_path)),
            "pinned_path": MetadataValue.path(str(info.path)),
            "code_version": info.code_version,
            "deliveries": len(info.deliveries),
            "row_counts": MetadataValue.json(info.row_counts),
            "total_rows": sum(info.row_counts.values()),
            "removed_by_retention": MetadataValue.json(info.removed),
        }
    )


assets = [published_release]
