"""Dagster asset `privacy/release_candidate` and its blocking privacy checks.

The asset anonymises every table of warehouse schema `marts` (record-level marts: generalisation,
suppression, perturbation, lineage removal; aggregates: small-cell suppression and Kaplan-Meier
truncation) into schema `release` (same table names, one transaction) and writes the anonymisation
report. A mart unchanged since its released table was built keeps that table (release_state.py). The checks re-query `release` independently
and are blocking: a failed check stops the run before publish, so the previous release stays.
"""

import json
from collections.abc import Sequence

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)

from harmony_pipeline.privacy.anonymise import DEFAULT_SUPPRESSION_BUDGET, anonymise_mart, is_record_level
from harmony_pipeline.privacy.gates import (
    GateResult,
    evaluate_gates,
    identifier_gate,
    k_anonymity_gate,
    quote_ident,
    small_cell_gate,
    tables_in,
)
from harmony_pipeline.privacy.release_state import (
    anonymiser_version,
    load_state,
    save_state,
    table_fingerprints,
)
from harmony_pipeline.privacy.report import build_report, report_path, write_report
from harmony_pipeline.privacy.small_cells import protect_aggregate
from harmony_pipeline.settings import Settings, get_settings
from harmony_pipeline.warehouse import connect_warehouse

RELEASE_CANDIDATE_KEY = AssetKey(["privacy", "release_candidate"])
MARTS_SCHEMA = "marts"
RELEASE_SCHEMA = "release"
POOL = "harmony_warehouse"


def _anonymise(table: str, frame, k: int) -> tuple:
    if is_record_level(list(frame.columns)):
        result = anonymise_mart(table, frame, k=k)
        return result.frame, result.report
    return protect_aggregate(table, frame, k)


def _release_objects(con) -> dict[str, str]:
    """Every table and view in schema release: name -> 'table' or 'view'."""
    rows = con.execute(
        "SELECT table_name, 'table' FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = ? UNION ALL SELECT view_name, 'view' FROM duckdb_views() "
        "WHERE database_name = current_database() AND schema_name = ?",
        [RELEASE_SCHEMA, RELEASE_SCHEMA],
    ).fetchall()
    return dict(rows)


def build_release_candidate(settings: Settings) -> dict:
    """Anonymise marts.* into release.*, evaluate the gates, write the report; returns the report.

    A mart whose fingerprint, and the anonymiser, are those its released table was built from keeps
    that table (anonymisation is deterministic, so re-running it would give the same rows); every
    other mart is read and anonymised. All of release.* and its state change in one transaction.
    The gates always check every released table.
    """
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    k = settings.min_cell
    version = anonymiser_version(k)
    marts_report: dict[str, dict] = {}
    reused, anonymised = [], []
    with connect_warehouse(settings) as con:
        marts = tables_in(con, MARTS_SCHEMA)
        mart_fingerprints = table_fingerprints(con, MARTS_SCHEMA)
        released_fingerprints = table_fingerprints(con, RELEASE_SCHEMA)
        previous = load_state(con)
        state: dict[str, dict] = {}
        con.execute("BEGIN")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {RELEASE_SCHEMA}")
        existing = _release_objects(con)
        for name, kind in existing.items():
            if kind == "view" or name not in marts:
                con.execute(f"DROP {kind.upper()} {RELEASE_SCHEMA}.{quote_ident(name)}")
        for table in marts:
            recorded = previous.get(table)
            if (
                recorded is not None
                and table in mart_fingerprints
                and recorded["mart"] == mart_fingerprints[table]
                and recorded["version"] == version
                and existing.get(table) == "table"
                and recorded["release"] == released_fingerprints.get(table)
            ):
                state[table] = recorded
                marts_report[table] = recorded["report"]
                reused.append(table)
                continue
            frame = con.execute(f"SELECT * FROM {MARTS_SCHEMA}.{quote_ident(table)}").fetchdf()
            released, table_report = _anonymise(table, frame, k)
            con.register("released_frame", released)
            con.execute(
                f"CREATE OR REPLACE TABLE {RELEASE_SCHEMA}.{quote_ident(table)} AS SELECT * FROM released_frame"
            )
            con.unregister("released_frame")
            # as stored in the state, so a reused report is identical to a fresh one
            marts_report[table] = json.loads(json.dumps(table_report, default=str))
            anonymised.append(table)
            state[table] = {
                "mart": mart_fingerprints.get(table),
                "version": version,
                "report": marts_report[table],
            }
        for table, fingerprint in table_fingerprints(con, RELEASE_SCHEMA, tables=anonymised).items():
            state[table]["release"] = fingerprint
        save_state(con, state)
        con.execute("COMMIT")
        gates = evaluate_gates(con, RELEASE_SCHEMA, k)
    report = build_report(
        marts_report,
        {name: gate.as_dict() for name, gate in gates.items()},
        {
            "k": k,
            "min_cell": k,
            "max_prosecutor_risk": round(1 / k, 6),
            "suppression_budget_default": DEFAULT_SUPPRESSION_BUDGET,
            "km_min_at_risk": k,
        },
    )
    # outside the digested body: how the release was reached does not change what it is
    report["build"] = {"anonymised": anonymised, "reused": reused}
    write_report(report, report_path(settings))
    return report


def _check_result(gate: GateResult) -> AssetCheckResult:
    return AssetCheckResult(
        passed=gate.passed,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "failures": MetadataValue.json(gate.failures),
            "details": MetadataValue.json(gate.details),
        },
        description=None if gate.passed else f"{gate.name} failed on {sorted(gate.failures)}",
    )


def _run_gate(gate) -> AssetCheckResult:
    settings = get_settings()
    with connect_warehouse(settings, read_only=True) as con:
        return _check_result(gate(con, settings))


def build_privacy_assets(mart_asset_keys: Sequence[AssetKey]) -> tuple[list, list]:
    """The release_candidate asset (downstream of the given dbt mart keys) and its blocking checks."""

    @asset(
        key=RELEASE_CANDIDATE_KEY,
        group_name="privacy",
        deps=list(mart_asset_keys),
        pool=POOL,
        description="Anonymised copy of every mart (k-anonymity k>=11, small cells, KM truncation) in "
        "warehouse schema `release`, plus published/anonymisation_report.json.",
    )
    def release_candidate(context: AssetExecutionContext) -> MaterializeResult:
        settings = get_settings()
        report = build_release_candidate(settings)
        for name, gate in report["gates"].items():
            if not gate["passed"]:
                context.log.error(f"privacy gate {name} failed: {gate['failures']}")
        record_level = {t: m for t, m in report["marts"].items() if m.get("kind") == "record-level"}
        return MaterializeResult(
            metadata={
                "candidate_id": report["candidate_id"],
                "passed": report["passed"],
                "tables": len(report["marts"]),
                "record_level_tables": len(record_level),
                "min_k": min((m["k"] for m in record_level.values() if m["k"] is not None), default=None),
                "suppressed_records": sum(m["suppressed_records"] for m in record_level.values()),
                "anonymised_tables": MetadataValue.json(report["build"]["anonymised"]),
                "reused_tables": MetadataValue.json(report["build"]["reused"]),
                "report": MetadataValue.path(str(report_path(settings))),
            }
        )

    @asset_check(
        asset=RELEASE_CANDIDATE_KEY,
        name="k_anonymity",
        blocking=True,
        pool=POOL,
        description="Every record-level release table: no equivalence class below k (11).",
    )
    def k_anonymity_check() -> AssetCheckResult:
        return _run_gate(lambda con, s: k_anonymity_gate(con, RELEASE_SCHEMA, s.min_cell))

    @asset_check(
        asset=RELEASE_CANDIDATE_KEY,
        name="small_cells",
        blocking=True,
        pool=POOL,
        description="Every aggregate release table: no count 0<n<11, no KM time point with <11 at risk.",
    )
    def small_cells_check() -> AssetCheckResult:
        return _run_gate(lambda con, s: small_cell_gate(con, RELEASE_SCHEMA, s.min_cell))

    @asset_check(
        asset=RELEASE_CANDIDATE_KEY,
        name="no_identifiers",
        blocking=True,
        pool=POOL,
        description="No column named like a direct identifier or lineage key; no text value shaped "
        "like a date, postcode or e-mail address.",
    )
    def no_identifiers_check() -> AssetCheckResult:
        return _run_gate(lambda con, s: identifier_gate(con, RELEASE_SCHEMA))

    return [release_candidate], [k_anonymity_check, small_cells_check, no_identifiers_check]
