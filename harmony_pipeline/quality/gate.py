"""The quality gate: one delivery's canonical rows in, passing rows and quarantine records out.

Rules, in order, all evaluated set-based in an in-memory DuckDB:
1. typing: a value that cannot be cast to its canonical type (rule `type`);
2. exact duplicate rows within the delivery: later copies (rule `duplicate_row`);
3. the GX suites of `expectations/` (canonical per entity plus the source's own), compiled to SQL
   (quality.sql_rules) or, for expectation types the compiler does not know, run by GX itself;
4. cross-row rules per patient: death / last contact / treatment before diagnosis, dates in the future
   (beyond today + the date-shift window) or before 1900.
A row failing any rule is quarantined with one record per failure; every other row passes.

A batch failure rejects the whole delivery (BatchRejected naming file and cause): a missing canonical
column, an aggregate expectation failing, or a file whose failing share exceeds
settings.quarantine_batch_threshold (only judged on files with at least MIN_ROWS_FOR_BATCH_SHARE rows:
a share over a handful of rows says nothing about the batch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from harmony_pipeline import canonical
from harmony_pipeline.quality import gx_run, sql_rules
from harmony_pipeline.quality.frames import QUARANTINE_COLUMNS, UNASSIGNED, canonical_frame, empty_quarantine
from harmony_pipeline.quality.suites import suites_for
from harmony_pipeline.settings import EXPECTATIONS_DIR, Settings, get_settings

MIN_ROWS_FOR_BATCH_SHARE = 10
TYPE_LIST = "expect_column_values_to_be_in_type_list"


class BatchRejected(Exception):
    """A delivery rejected as a whole by the gate (same shape as contracts.DeliveryError)."""

    def __init__(self, source_id: str | None, file: str, cause: str):
        self.source_id, self.file, self.cause = source_id, file, cause
        super().__init__(f"source {source_id}: file {file}: {cause}")


@dataclass
class GateResult:
    passed: dict[str, pd.DataFrame]
    quarantined: pd.DataFrame  # frames.QUARANTINE_COLUMNS, one record per failing rule of a row
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_quarantined: dict[str, int] = field(default_factory=dict)

    @property
    def pass_rate(self) -> float:
        read = sum(self.rows_read.values())
        return 1.0 if read == 0 else 1 - sum(self.rows_quarantined.values()) / read


def _input_frame(frame: pd.DataFrame, entity: str) -> pd.DataFrame:
    """The delivered columns, with object columns as text so DuckDB types them consistently."""
    out = {}
    for f in canonical.table_columns(entity):
        col = frame[f.name]
        if col.dtype == object and f.dtype != "VARCHAR":
            col = col.astype("string")  # python dates, numbers or text: one text column, cast in SQL
        if col.dtype == object or isinstance(col.dtype, pd.StringDtype):
            col = col.astype(object).where(col.notna(), None)
        out[f.name] = col.to_numpy()
    data = pd.DataFrame(out)
    data.insert(0, "_row_id", np.arange(len(data), dtype=np.int64))
    return data


def _files(frame: pd.DataFrame | None) -> str:
    if frame is None or "file_name" not in frame.columns or frame.empty:
        return "(delivery)"
    return ", ".join(sorted(frame["file_name"].dropna().astype(str).unique())) or "(delivery)"


def _record_sql(entity: str) -> str:
    parts = ", ".join(
        f"{sql_rules.q(f.name)} := coalesce(CAST(t.{sql_rules.q(f.name)} AS VARCHAR), CAST(i.{sql_rules.q(f.name)} AS VARCHAR))"
        for f in canonical.ENTITIES[entity].fields
    )
    return f"CAST(to_json(struct_pack({parts})) AS VARCHAR)"


def _gx_violations(con, entity: str, expectations: list, suite_name: str) -> pd.DataFrame:
    """Run expectations the SQL compiler does not translate through GX; failing rows as violations."""
    from great_expectations.core import ExpectationSuite

    typed = con.execute(f"SELECT * FROM u_{entity} ORDER BY _row_id").df()
    frame = canonical_frame(typed, entity)
    frame.index = typed["_row_id"].to_numpy()
    suite = ExpectationSuite(name=suite_name, expectations=expectations)
    rows = []
    for outcome in gx_run.validate_frame(frame, suite):
        if outcome.error:
            raise RuntimeError(
                f"expectation {outcome.expectation_type} on {entity} failed to run: {outcome.error}"
            )
        if outcome.success:
            continue
        kw, meta = outcome.kwargs, outcome.meta
        column = kw.get("column") or kw.get("column_A") or ",".join(kw.get("column_list", []))
        if not outcome.unexpected_index:  # an aggregate expectation: the batch as a whole fails
            raise BatchRejected(
                None, "(delivery)", f"{entity}: {meta.get('reason') or outcome.expectation_type} "
                f"(observed {outcome.observed})"
            )  # fmt: skip
        for idx in outcome.unexpected_index:
            value = frame.at[idx, column] if column in frame.columns else None
            rows.append(
                (entity, int(idx), column, meta.get("rule") or outcome.expectation_type,
                 None if pd.isna(value) else str(value), meta.get("reason") or outcome.expectation_type)
            )  # fmt: skip
    return pd.DataFrame(rows, columns=["entity", "_row_id", "field", "rule", "value", "reason"])


def apply_gate(
    read,
    contract,
    *,
    settings: Settings | None = None,
    today: date | None = None,
    engine: str = "duckdb",
    suites_dir: Path = EXPECTATIONS_DIR,
) -> GateResult:
    """Gate one delivery read (contracts.DeliveryRead: entities, rejects).

    engine='duckdb' runs compiled expectations in DuckDB (fast); engine='gx' runs every expectation
    through Great Expectations (slow; used to prove both engines agree).
    """
    settings = settings or get_settings()
    today = today or date.today()
    source_id = getattr(contract, "source_id", None)
    cutoff = today + timedelta(days=settings.date_shift_days)
    con = duckdb.connect()
    try:
        return _gate(con, read, source_id, settings, cutoff, engine, suites_dir)
    finally:
        con.close()


def _gate(con, read, source_id, settings, cutoff, engine, suites_dir) -> GateResult:
    entities = read.entities or {}
    unknown = sorted(set(entities) - set(canonical.ENTITIES))
    if unknown:
        raise BatchRejected(source_id, "(delivery)", f"unknown entities {unknown}")
    for name in canonical.ENTITIES:
        frame = entities.get(name)
        cols = [f.name for f in canonical.table_columns(name)]
        if frame is None:
            frame = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise BatchRejected(source_id, _files(frame), f"{name}: missing column(s) {', '.join(missing)}")
        con.register(f"in_{name}", _input_frame(frame, name))
        casts = ", ".join(
            f"TRY_CAST({sql_rules.q(f.name)} AS {f.dtype}) AS {sql_rules.q(f.name)}"
            for f in canonical.table_columns(name)
        )
        con.execute(f"CREATE TEMP TABLE t_{name} AS SELECT _row_id, {casts} FROM in_{name}")

    # 1-2: typing and exact duplicates
    checks = []
    for name in canonical.ENTITIES:
        for f in canonical.table_columns(name):
            if f.dtype == "VARCHAR":
                continue
            col = sql_rules.q(f.name)
            checks.append(
                f"SELECT '{name}' AS entity, _row_id, '{f.name}' AS field, 'type' AS rule, "
                f"CAST({col} AS VARCHAR) AS value, '{f.name} is not a valid {f.dtype}' AS reason "
                f"FROM in_{name} WHERE {col} IS NOT NULL AND TRY_CAST({col} AS {f.dtype}) IS NULL"
            )
        checks.append(sql_rules.duplicate_row_sql(name))
    con.execute("CREATE TEMP TABLE v AS " + " UNION ALL ".join(checks))
    for name in canonical.ENTITIES:
        con.execute(
            f"CREATE TEMP VIEW u_{name} AS SELECT * FROM t_{name} "
            f"WHERE _row_id NOT IN (SELECT _row_id FROM v WHERE entity = '{name}' AND rule = 'duplicate_row')"
        )

    # 3: the GX suites
    queries = []
    for name in canonical.ENTITIES:
        if name not in entities or entities[name].empty:
            continue
        for suite in suites_for(name, source_id, suites_dir):
            via_gx = []
            for exp in suite.expectations:
                cfg = exp.configuration
                if cfg.type == TYPE_LIST and engine == "duckdb":
                    continue  # typing is checked row by row above
                sql = None
                if engine == "duckdb":
                    try:
                        sql = sql_rules.compile_expectation(
                            name, cfg.type, dict(cfg.kwargs), dict(cfg.meta or {}), f"u_{name}"
                        )
                    except ValueError:
                        sql = None
                if sql is None:
                    via_gx.append(exp)
                else:
                    queries.append(sql)
            if via_gx:
                found = _gx_violations(con, name, via_gx, suite.name)
                if found.empty:
                    continue
                con.register("gx_found", found)
                con.execute("INSERT INTO v SELECT entity, _row_id, field, rule, value, reason FROM gx_found")
                con.unregister("gx_found")
    # 4: cross-row rules
    queries += sql_rules.cross_row_sql(cutoff)
    con.execute("INSERT INTO v " + " UNION ALL ".join(queries))

    rejects = _reader_rejects(read, source_id)
    file_rows = getattr(read, "rows_read", None) or {}
    _check_batch_share(con, rejects, source_id, settings.quarantine_batch_threshold, file_rows)

    passed, parts, rows_read, rows_quarantined = {}, [], {}, {}
    for name in canonical.ENTITIES:
        if name not in entities:
            continue
        cols = ", ".join(sql_rules.q(f.name) for f in canonical.table_columns(name))
        frame = con.execute(
            f"SELECT {cols} FROM t_{name} WHERE _row_id NOT IN "
            f"(SELECT _row_id FROM v WHERE entity = '{name}') ORDER BY _row_id"
        ).df()
        passed[name] = canonical_frame(frame, name)
        parts.append(
            con.execute(
                f"SELECT i.source_id, i.delivery_id, i.file_name, CAST(i.row_number AS BIGINT) AS row_number, "
                f"v.entity, v.field, v.rule, v.value, v.reason, {_record_sql(name)} AS record "
                f"FROM v JOIN in_{name} i USING (_row_id) JOIN t_{name} t USING (_row_id) "
                f"WHERE v.entity = '{name}' ORDER BY i.file_name, i.row_number, v._row_id, v.rule, v.field"
            ).df()
        )
        failing = con.execute(f"SELECT count(DISTINCT _row_id) FROM v WHERE entity = '{name}'").fetchone()[0]
        rows_read[name] = len(entities[name])
        rows_quarantined[name] = int(failing)
    for name, count in _count_rejects(rejects).items():
        rows_read[name] = rows_read.get(name, 0) + count
        rows_quarantined[name] = rows_quarantined.get(name, 0) + count
    parts.append(rejects)
    quarantined = pd.concat([p for p in parts if not p.empty] or [empty_quarantine()], ignore_index=True)
    quarantined = quarantined[QUARANTINE_COLUMNS]
    quarantined["row_number"] = quarantined["row_number"].astype("Int64")
    return GateResult(passed, quarantined, rows_read, rows_quarantined)


def _reader_rejects(read, source_id) -> pd.DataFrame:
    """The reader's rejects (rows it could not type) in quarantine layout; entity always named."""
    rejects = getattr(read, "rejects", None)
    if rejects is None or len(rejects) == 0:
        return empty_quarantine()
    out = rejects.copy()
    for c in QUARANTINE_COLUMNS:
        if c not in out.columns:
            out[c] = None
    out = out[QUARANTINE_COLUMNS].astype(object).where(out[QUARANTINE_COLUMNS].notna(), None)
    # a malformed line (entity '*') or an unknown entity belongs to no canonical table
    out["entity"] = out["entity"].where(out["entity"].isin(list(canonical.ENTITIES)), UNASSIGNED)
    out["source_id"] = out["source_id"].fillna(source_id)
    out["row_number"] = pd.to_numeric(out["row_number"], errors="coerce").astype("Int64")
    return out.reset_index(drop=True)


def reject_row_keys(rejects: pd.DataFrame) -> pd.DataFrame:
    """One row per rejected canonical row: several failures of one row share file, row and record."""
    return rejects.drop_duplicates(["entity", "file_name", "row_number", "record"])


def _count_rejects(rejects: pd.DataFrame) -> dict[str, int]:
    if rejects.empty:
        return {}
    return reject_row_keys(rejects).groupby("entity").size().astype(int).to_dict()


def _highest_row_number(con, keys: pd.DataFrame, file_name: str) -> int:
    """The last data row of a file seen in any entity or reject (when the read does not say its rows)."""
    union = " UNION ALL ".join(
        f"SELECT max(row_number) FROM in_{n} WHERE file_name = $f" for n in canonical.ENTITIES
    )
    seen = con.execute(f"SELECT max(m) FROM ({union}) AS t(m)", {"f": file_name}).fetchone()[0] or 0
    rejected = keys.loc[keys["file_name"] == file_name, "row_number"].max()
    return int(max(seen, 0 if pd.isna(rejected) else rejected))


def _check_batch_share(
    con, rejects: pd.DataFrame, source_id, threshold: float, file_rows: dict[str, int]
) -> None:
    """Reject the delivery when, in any file, the share of failing rows exceeds the threshold.

    Rows of a canonical entity are judged against that entity's rows from the file. Unassigned rejects
    (malformed lines) belong to no entity, so they are judged against all data rows of their file
    (DeliveryRead.rows_read; without it, the highest row number seen in the file).
    """
    union = " UNION ALL ".join(
        f"SELECT '{name}' AS entity, i.file_name, i._row_id, i._row_id IN "
        f"(SELECT _row_id FROM v WHERE entity = '{name}') AS failed FROM in_{name} i"
        for name in canonical.ENTITIES
    )
    counts = con.execute(
        f"SELECT entity, file_name, count(*) AS n, sum(failed::INT) AS failed FROM ({union}) GROUP BY ALL"
    ).df()
    keys = reject_row_keys(rejects)
    extra = keys.groupby(["entity", "file_name"]).size().rename("rejected").reset_index()
    counts = counts.merge(extra, how="outer", on=["entity", "file_name"]).fillna(0)
    counts["n"] += counts["rejected"]
    counts["failed"] += counts["rejected"]
    for i in counts.index[counts["entity"] == UNASSIGNED]:
        name = counts.at[i, "file_name"]
        rows = file_rows.get(name) or _highest_row_number(con, keys, name)
        counts.at[i, "n"] = max(rows, counts.at[i, "failed"])
    counts = counts.sort_values(["file_name", "entity"])
    for row in counts.itertuples():
        if row.n >= MIN_ROWS_FOR_BATCH_SHARE and row.failed / row.n > threshold:
            top = con.execute(
                f"SELECT rule, count(DISTINCT _row_id) AS n FROM v WHERE entity = ? AND _row_id IN "
                f"(SELECT _row_id FROM in_{row.entity} WHERE file_name = ?) "
                "GROUP BY rule ORDER BY n DESC, rule LIMIT 3",
                [row.entity, row.file_name],
            ).fetchall() if row.entity in canonical.ENTITIES else []  # fmt: skip
            rules = ", ".join(f"{r} ({n})" for r, n in top) or "reader rejects"
            raise BatchRejected(
                source_id,
                str(row.file_name),
                f"{int(row.failed)} of {int(row.n)} {row.entity} rows ({row.failed / row.n:.0%}) fail the "
                f"quality rules, above the batch threshold of {threshold:.0%}; most frequent: {rules}",
            )
