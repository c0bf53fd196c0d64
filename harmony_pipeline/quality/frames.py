"""Canonical pandas dtypes and the quarantine record layout, shared by the gate, ingest and the checks."""

from __future__ import annotations

import pandas as pd

from harmony_pipeline import canonical

QUARANTINE_COLUMNS = [
    "source_id", "delivery_id", "file_name", "row_number", "entity", "field", "rule", "value", "reason",
    "record",
]  # fmt: skip

# entity of a reader reject that belongs to no canonical entity (a ragged line, say)
UNASSIGNED = "unassigned"


def quarantine_table_sql(schema: str, table: str) -> str:
    cols = ", ".join(f'"{c}" BIGINT' if c == "row_number" else f'"{c}" VARCHAR' for c in QUARANTINE_COLUMNS)
    return f'CREATE TABLE IF NOT EXISTS {schema}."{table}" ({cols})'


def empty_quarantine() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in QUARANTINE_COLUMNS})
    frame["row_number"] = frame["row_number"].astype("Int64")
    return frame


def canonical_frame(frame: pd.DataFrame, entity: str) -> pd.DataFrame:
    """Exactly canonical.table_columns(entity), in order, with one pandas dtype per DuckDB type.

    VARCHAR -> object (None for missing), DOUBLE -> float64, BIGINT -> Int64, DATE -> datetime64[us]
    (microseconds, so an absurd year such as 9999 still fits and can be quarantined).
    """
    out = {}
    for f in canonical.table_columns(entity):
        col = frame[f.name] if f.name in frame.columns else pd.Series([None] * len(frame), index=frame.index)
        if f.dtype == "VARCHAR":
            col = col.astype(object).where(col.notna(), None)
        elif f.dtype == "DOUBLE":
            col = pd.to_numeric(col, errors="coerce").astype("float64")
        elif f.dtype == "BIGINT":
            col = pd.to_numeric(col, errors="coerce").astype("Int64")
        else:
            col = pd.to_datetime(col, errors="coerce").astype("datetime64[us]")
        out[f.name] = col
    return pd.DataFrame(out, index=frame.index)
