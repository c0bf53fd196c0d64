"""The quality gate: one delivery's canonical rows in, passing rows and quarantine records out.

Rules, all evaluated set-based in DuckDB (the caller's connection, or a private in-memory one):
1. typing: a value that cannot be cast to its canonical type (rule `type`);
2. exact duplicate rows within the delivery: later copies (rule `duplicate_row`);
3. the GX suites of `expectations/` (canonical per entity plus the source's own), compiled to SQL
   (quality.sql_rules) or, for expectation types the compiler does not know, run by GX itself;
4. dates in the future (beyond today + the date-shift window) or before 1900, and cross-row rules per
   patient: death / last contact / treatment before diagnosis.
Each entity's rows are copied once into a typed temporary table; every rule judged on a row alone
(typing, dates, the suites' row expectations) is evaluated in one scan of it, uniqueness and duplicates
by a hash aggregate that leaves only the repeated keys to an exact window.
A row failing any rule is quarantined with one record per failure; every other row passes.

A batch failure rejects the whole delivery (BatchRejected naming file and cause): a missing canonical
column, an aggregate expectation failing, or a file whose failing share exceeds
settings.quarantine_batch_threshold (only judged on files with at least MIN_ROWS_FOR_BATCH_SHARE rows:
a share over a handful of rows says nothing about the batch).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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
    """What the gate decided. The passing rows stay in the gate's DuckDB connection (no pandas round
    trip): `write_passed` inserts them into a table of that connection; `passed` reads them as canonical
    DataFrames on demand. `close()` drops the gate's temporary tables."""

    quarantined: pd.DataFrame  # frames.QUARANTINE_COLUMNS, one record per failing rule of a row
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_quarantined: dict[str, int] = field(default_factory=dict)
    rows_passed: dict[str, int] = field(default_factory=dict)  # per canonical entity of the read
    con: object = field(default=None, repr=False)  # the connection holding the gate's tables
    owns_con: bool = field(default=False, repr=False)
    _passed: dict[str, pd.DataFrame] | None = field(default=None, repr=False)

    @property
    def pass_rate(self) -> float:
        read = sum(self.rows_read.values())
        return 1.0 if read == 0 else 1 - sum(self.rows_quarantined.values()) / read

    def passed_sql(self, entity: str) -> str:
        """SELECT of an entity's passing rows (canonical columns) over the gate's tables, in the order of
        the delivered files: the rows of one source row (one patient, mostly) sit together, so DuckDB's
        dictionary compression works on the pseudonyms (at 1M patients raw.mutation is 10x smaller and
        written faster than in mapping order, where every row group holds every patient)."""
        cols = ", ".join(sql_rules.q(f.name) for f in canonical.table_columns(entity))
        return (
            f"SELECT {cols} FROM {sql_rules.typed_table(entity)} WHERE _row_id NOT IN "
            f"(SELECT _row_id FROM {VIOLATIONS} WHERE entity = '{entity}') ORDER BY file_name, row_number, _row_id"
        )

    def write_passed(self, con, entity: str, target: str) -> None:
        """INSERT the passing rows of one entity into `target` (a table with the canonical columns)."""
        if con is not self.con:
            raise ValueError("write_passed needs the connection the gate ran on (apply_gate(con=...))")
        cols = ", ".join(sql_rules.q(f.name) for f in canonical.table_columns(entity))
        con.execute(f"INSERT INTO {target} ({cols}) {self.passed_sql(entity)}")

    @property
    def passed(self) -> dict[str, pd.DataFrame]:
        if self._passed is None:
            self._passed = {
                name: canonical_frame(self.con.execute(self.passed_sql(name)).df(), name)
                for name in self.rows_passed
            }
        return self._passed

    def close(self) -> None:
        if self.con is None:
            return
        if self.owns_con:
            self.con.close()
        else:
            _drop_tables(self.con)
        self.con = None


VIOLATIONS = "gate_violations"  # (entity, _row_id, field, rule, value, reason): one row per failure
DUPLICATES = "gate_duplicates"  # (entity, _row_id) of later copies of an exact duplicate row
RAW = "_raw_"  # prefix of a delivered value kept next to its typed column (see _stage)


def _unique_view(entity: str) -> str:
    """The typed rows without the later copies of exact duplicates (what the suites judge)."""
    return f"gate_unique_{entity}"


def _drop_tables(con) -> None:
    for name in canonical.ENTITIES:
        con.execute(f"DROP VIEW IF EXISTS {_unique_view(name)}")
        con.execute(f"DROP TABLE IF EXISTS {sql_rules.typed_table(name)}")
    con.execute(f"DROP TABLE IF EXISTS {DUPLICATES}")
    con.execute(f"DROP TABLE IF EXISTS {VIOLATIONS}")


def _input_frame(frame: pd.DataFrame, entity: str) -> pd.DataFrame:
    """The delivered columns plus _row_id; object columns of typed fields as text (cast in SQL).

    Typed columns (float64, Int64, datetime64, pandas strings) go to DuckDB as they are: it scans them
    natively, so there is no per-value Python work here.
    """
    out = {"_row_id": np.arange(len(frame), dtype=np.int64)}
    for f in canonical.table_columns(entity):
        col = frame[f.name]
        if col.dtype == object:
            if f.dtype != "VARCHAR":
                col = col.astype("string")  # python dates, numbers or text: one text column, cast in SQL
            else:
                col = col.where(col.notna(), None)
        out[f.name] = col.array  # the array, not the Series: no index alignment, no copy
    return pd.DataFrame(out, copy=False)


def _stage(con, frame: pd.DataFrame, entity: str) -> list[str]:
    """Copy one entity's rows into its typed table in a single scan; returns the fields that were
    delivered as another type (kept as RAW + name for the type rule and the quarantine record)."""
    con.register("gate_input", _input_frame(frame, entity))
    try:
        types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE gate_input)").fetchall())
        cols, raw = ["_row_id"], []
        for f in canonical.table_columns(entity):
            col, given = sql_rules.q(f.name), types[f.name]
            if given == f.dtype:
                cols.append(col)
                continue
            cols.append(f"TRY_CAST({col} AS {f.dtype}) AS {col}")
            # a timestamp always has a date (read_delivery's dates are datetime64): nothing to keep
            if f.dtype != "VARCHAR" and not (f.dtype == "DATE" and given.startswith("TIMESTAMP")):
                cols.append(f"{col} AS {sql_rules.q(RAW + f.name)}")
                raw.append(f.name)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {sql_rules.typed_table(entity)} AS SELECT {', '.join(cols)} "
            "FROM gate_input"
        )
    finally:
        con.unregister("gate_input")
    return raw


def _files(frame: pd.DataFrame | None) -> str:
    if frame is None or "file_name" not in frame.columns or frame.empty:
        return "(delivery)"
    return ", ".join(sorted(frame["file_name"].dropna().astype(str).unique())) or "(delivery)"


def _record_sql(entity: str, raw: list[str]) -> str:
    """The row as JSON (lineage excluded): the typed value, else the value as delivered."""
    parts = []
    for f in canonical.ENTITIES[entity].fields:
        value = f"CAST(t.{sql_rules.q(f.name)} AS VARCHAR)"
        if f.name in raw:
            value = f"coalesce({value}, CAST(t.{sql_rules.q(RAW + f.name)} AS VARCHAR))"
        parts.append(f"{sql_rules.q(f.name)} := {value}")
    return f"CAST(to_json(struct_pack({', '.join(parts)})) AS VARCHAR)"


def _gx_violations(con, entity: str, expectations: list, suite_name: str) -> pd.DataFrame:
    """Run expectations the SQL compiler does not translate through GX; failing rows as violations."""
    from great_expectations.core import ExpectationSuite

    typed = con.execute(f"SELECT * FROM {_unique_view(entity)} ORDER BY _row_id").df()
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
    con=None,
    consume: bool = False,
) -> GateResult:
    """Gate one delivery read (contracts.DeliveryRead: entities, rejects).

    engine='duckdb' runs compiled expectations in DuckDB (fast); engine='gx' runs every expectation
    through Great Expectations (slow; used to prove both engines agree).
    con: a DuckDB connection to gate in (ingest passes the warehouse's, so the passing rows go into
    raw.* without leaving DuckDB); by default a private in-memory one. Close the result when done.
    consume: take each entity's frame out of read.entities once DuckDB holds its rows, so a large
    delivery is not held twice (ingest does; read.entities is left empty).
    """
    settings = settings or get_settings()
    today = today or date.today()
    source_id = getattr(contract, "source_id", None)
    cutoff = today + timedelta(days=settings.date_shift_days)
    owns = con is None
    if owns:
        con = duckdb.connect(config=settings.duckdb_config())
    try:
        result = _gate(con, read, source_id, settings, cutoff, engine, suites_dir, consume)
    except BaseException:
        if owns:
            con.close()
        else:
            _drop_tables(con)
        raise
    result.con, result.owns_con = con, owns
    return result


def _gate(con, read, source_id, settings, cutoff, engine, suites_dir, consume) -> GateResult:
    entities = read.entities if read.entities is not None else {}
    unknown = sorted(set(entities) - set(canonical.ENTITIES))
    if unknown:
        raise BatchRejected(source_id, "(delivery)", f"unknown entities {unknown}")
    raw: dict[str, list[str]] = {}
    delivered: dict[str, int] = {}  # rows of each entity the read holds
    for name in canonical.ENTITIES:
        frame = entities.get(name)
        cols = [f.name for f in canonical.table_columns(name)]
        if frame is None:
            frame = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        else:
            delivered[name] = len(frame)
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise BatchRejected(source_id, _files(frame), f"{name}: missing column(s) {', '.join(missing)}")
        raw[name] = _stage(con, frame, name)
        if consume:
            entities.pop(name, None)
        del frame

    # exact duplicates first: the suites judge only the first copy of a row
    duplicates = " UNION ALL ".join(sql_rules.duplicate_row_sql(name) for name in canonical.ENTITIES)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {VIOLATIONS} AS {duplicates}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {DUPLICATES} AS SELECT entity, _row_id FROM {VIOLATIONS}")
    for name in canonical.ENTITIES:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {_unique_view(name)} AS SELECT * FROM {sql_rules.typed_table(name)} "
            f"WHERE _row_id NOT IN (SELECT _row_id FROM {DUPLICATES} WHERE entity = '{name}')"
        )

    queries = []
    for name in canonical.ENTITIES:
        if not delivered.get(name):
            continue
        # typing (a value delivered as text that is no value of its type) and implausible dates
        dtypes = {f.name: f.dtype for f in canonical.table_columns(name)}
        row_rules = [
            sql_rules.RowRule(field_name, "type", sql_rules.q(RAW + field_name),
                              f"{field_name} is not a valid {dtypes[field_name]}",
                              f"{sql_rules.q(RAW + field_name)} IS NOT NULL AND {sql_rules.q(field_name)} IS NULL")
            for field_name in raw[name]
        ]  # fmt: skip
        row_rules += sql_rules.date_rules(name, cutoff)
        # the GX suites: row rules join the scan above (first copies only), uniqueness is its own query,
        # anything the compiler does not translate runs in GX itself
        for suite in suites_for(name, source_id, suites_dir):
            via_gx = []
            for exp in suite.expectations:
                cfg = exp.configuration
                if cfg.type == TYPE_LIST and engine == "duckdb":
                    continue  # typing is checked row by row above
                rule = sql = None
                if engine == "duckdb":
                    kwargs, meta = dict(cfg.kwargs), dict(cfg.meta or {})
                    try:
                        rule = sql_rules.row_rule(cfg.type, kwargs, meta)
                        if rule is None:
                            sql = sql_rules.compile_expectation(
                                name, cfg.type, kwargs, meta, _unique_view(name)
                            )
                    except ValueError:
                        rule = sql = None
                if rule is not None:
                    row_rules.append(replace(rule, where=f"NOT _dup AND ({rule.where})"))
                elif sql is not None:
                    queries.append(sql)
                else:
                    via_gx.append(exp)
            if via_gx:
                found = _gx_violations(con, name, via_gx, suite.name)
                if found.empty:
                    continue
                con.register("gx_found", found)
                con.execute(
                    f"INSERT INTO {VIOLATIONS} SELECT entity, _row_id, field, rule, value, reason FROM gx_found"
                )
                con.unregister("gx_found")
        marked = (
            f"(SELECT *, _row_id IN (SELECT _row_id FROM {DUPLICATES} WHERE entity = '{name}') AS _dup "
            f"FROM {sql_rules.typed_table(name)})"
        )
        queries.append(sql_rules.row_rules_sql(name, row_rules, marked))
    # rules across rows and entities of a patient
    queries += sql_rules.cross_row_sql(cutoff)
    con.execute(f"INSERT INTO {VIOLATIONS} " + " UNION ALL ".join(queries))

    rejects = _reader_rejects(read, source_id)
    file_rows = getattr(read, "rows_read", None) or {}
    _check_batch_share(con, rejects, source_id, settings.quarantine_batch_threshold, file_rows)

    failing = dict(
        con.execute(f"SELECT entity, count(DISTINCT _row_id) FROM {VIOLATIONS} GROUP BY entity").fetchall()
    )
    parts, rows_read, rows_quarantined, rows_passed = [], {}, {}, {}
    for name in canonical.ENTITIES:
        if name not in delivered:
            continue
        if failing.get(name):
            parts.append(
                con.execute(
                    f"SELECT t.source_id, t.delivery_id, t.file_name, t.row_number, v.entity, v.field, v.rule, "
                    f"v.value, v.reason, {_record_sql(name, raw[name])} AS record "
                    f"FROM {VIOLATIONS} v JOIN {sql_rules.typed_table(name)} t USING (_row_id) "
                    f"WHERE v.entity = '{name}' "
                    "ORDER BY t.file_name, t.row_number, v._row_id, v.rule, v.field, v.value, v.reason"
                ).df()
            )
        rows_read[name] = delivered[name]
        rows_quarantined[name] = int(failing.get(name, 0))
        rows_passed[name] = rows_read[name] - rows_quarantined[name]
    for name, count in _count_rejects(rejects).items():
        rows_read[name] = rows_read.get(name, 0) + count
        rows_quarantined[name] = rows_quarantined.get(name, 0) + count
    parts.append(rejects)
    quarantined = pd.concat([p for p in parts if not p.empty] or [empty_quarantine()], ignore_index=True)
    quarantined = quarantined[QUARANTINE_COLUMNS]
    quarantined["row_number"] = quarantined["row_number"].astype("Int64")
    return GateResult(quarantined, rows_read, rows_quarantined, rows_passed)


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
        f"SELECT max(row_number) FROM {sql_rules.typed_table(n)} WHERE file_name = $f"
        for n in canonical.ENTITIES
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
        f"SELECT '{name}' AS entity, i.file_name, i._row_id IN "
        f"(SELECT _row_id FROM {VIOLATIONS} WHERE entity = '{name}') AS failed FROM {sql_rules.typed_table(name)} i"
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
                f"SELECT rule, count(DISTINCT _row_id) AS n FROM {VIOLATIONS} WHERE entity = ? AND _row_id IN "
                f"(SELECT _row_id FROM {sql_rules.typed_table(row.entity)} WHERE file_name = ?) "
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
