"""`harmony report`: data quality per source from the warehouse (rows, quarantined by rule, pass rate)."""

from __future__ import annotations

import argparse

import duckdb
import pandas as pd

from harmony_pipeline import canonical
from harmony_pipeline.quality.frames import UNASSIGNED
from harmony_pipeline.settings import get_settings


def quality_report(con) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per source: deliveries, rejected, rows read/loaded/quarantined, pass rate; per source and rule)."""
    from harmony_pipeline.ingest.load import LEDGER

    tables = {
        f"{schema}.{name}"
        for schema, name in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
    }
    if LEDGER not in tables:
        return pd.DataFrame(), pd.DataFrame()
    per_source = con.execute(
        f"""
        SELECT source_id,
               count(DISTINCT delivery_id) FILTER (WHERE status = 'loaded') AS deliveries_loaded,
               count(DISTINCT delivery_id) FILTER (WHERE status = 'rejected') AS deliveries_rejected,
               CAST(coalesce(sum(rows_read), 0) AS BIGINT) AS rows_read,
               CAST(coalesce(sum(rows_loaded), 0) AS BIGINT) AS rows_loaded,
               CAST(coalesce(sum(rows_quarantined), 0) AS BIGINT) AS rows_quarantined,
               round(sum(rows_loaded) / nullif(sum(rows_read), 0), 4) AS pass_rate
        FROM {LEDGER} GROUP BY source_id ORDER BY source_id
        """
    ).df()
    union = " UNION ALL ".join(
        f'SELECT source_id, entity, rule, delivery_id, file_name, row_number FROM quarantine."{t}"'
        for t in (*canonical.ENTITIES, UNASSIGNED)
        if f"quarantine.{t}" in tables
    )
    if not union:
        return per_source, pd.DataFrame()
    by_rule = con.execute(
        f"SELECT source_id, entity, rule, count(*) AS records, "
        f"count(DISTINCT (delivery_id, file_name, row_number)) AS source_rows "
        f"FROM ({union}) GROUP BY ALL ORDER BY source_id, records DESC, entity, rule"
    ).df()
    return per_source, by_rule


def run(args) -> int:
    settings = get_settings()
    if not settings.warehouse.exists():
        print(f"no warehouse at {settings.warehouse}: run `harmony run` first")
        return 1
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        per_source, by_rule = quality_report(con)
    finally:
        con.close()
    if per_source.empty:
        print("no deliveries in the ledger yet")
        return 0
    print("Quality per source (ops.delivery_ledger)")
    print(per_source.to_string(index=False))
    print("\nQuarantined by rule (quarantine.*)")
    print(by_rule.to_string(index=False) if not by_rule.empty else "nothing quarantined")
    rejected = per_source["deliveries_rejected"].sum()
    if rejected:
        print(f"\n{rejected} deliveries rejected: see ops.delivery_ledger.error")
    docs = settings.reports / "gx_docs"
    if docs.exists():
        print(f"\nGreat Expectations Data Docs: {docs}/<source_id>/index.html")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="data quality per source: rows, quarantined by rule, pass rate"
    )
    parser.set_defaults(func=run)
