"""ingest stage: landing discovery, delivery hashing, gate, load into raw/quarantine, the ledger."""

from harmony_pipeline.ingest.load import (
    LEDGER,
    DeliveryOutcome,
    IngestSummary,
    content_hash,
    delivery_dirs,
    in_progress,
    ingest_source,
    ingest_sources,
    ledger_violations,
    new_deliveries,
    one_checkpoint,
    prepare_warehouse,
)

__all__ = [
    "LEDGER",
    "DeliveryOutcome",
    "IngestSummary",
    "content_hash",
    "delivery_dirs",
    "in_progress",
    "ingest_source",
    "ingest_sources",
    "ledger_violations",
    "new_deliveries",
    "one_checkpoint",
    "prepare_warehouse",
]
