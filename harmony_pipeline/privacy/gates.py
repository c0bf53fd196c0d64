"""The privacy gates a release must pass before publish (privacy.md "How it is tested": gates).

Each gate is a query over the release schema, written independently of the code that produced
it, so a bug in the anonymiser shows up here instead of being reproduced:

- k-anonymity: no equivalence class over a record-level table's quasi-identifiers smaller than k;
- small cells: no aggregate count 0 < n < min_cell, no Kaplan-Meier time point with fewer at risk;
- forbidden columns: no column named like a direct identifier or a lineage key;
- identifier values: no text value shaped like a date (of birth), a postcode or an e-mail address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb

from harmony_pipeline.privacy.anonymise import LINEAGE_KEYS, ROW_ID, config_for, is_record_level
from harmony_pipeline.privacy.small_cells import small_cell_violations

# Column names of direct identifiers (privacy.md promise 1) and of lineage keys.
FORBIDDEN_COLUMN_PATTERNS = (
    r"^(patient_|person_|full_|first_|last_|given_|family_|maiden_|middle_|sur|fore)?names?$",
    r"initials",
    r"birth|(^|_)dob($|_)",
    r"post_?code|postal|(^|_)zip(_?code)?($|_)",
    r"address|street|(^|_)city($|_)",
    r"phone|e_?mail|(^|_)fax($|_)",
    r"(^|_)mrn($|_)|record_?(number|no|nr|id)|hospital_?(number|no|id)|nhs_?(number|no)|(^|_)ssn($|_)",
    r"insurance_?(number|no|id)|social_?security|passport",
    r"^(" + "|".join(LINEAGE_KEYS) + r")$",
)
_FORBIDDEN = re.compile("|".join(f"(?:{p})" for p in FORBIDDEN_COLUMN_PATTERNS), re.IGNORECASE)

# RE2 patterns (DuckDB regexp_matches) for identifier-shaped text values.
IDENTIFIER_VALUE_PATTERNS = {
    "date": r"\b(1[89]|20)\d\d-[01]?\d-[0-3]?\d\b|\b[0-3]?\d[./][01]?\d[./](1[89]|20)?\d\d\b",
    # UK (SW1A 1AA), Dutch (1234 AB), whole-value 5-digit (DE, FR, IT, ES), prefixed (D-12345) codes
    # and whole-value 4-digit ones (BE, CH, AT) outside 1900-2099, which a published year may be
    "postcode": r"\b[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}\b|^[1-9][0-9]{3} ?[A-Z]{2}$|^[0-9]{5}$"
    r"|^[A-Z]{1,2}-[0-9]{4,5}$|^(1[0-8][0-9]{2}|2[1-9][0-9]{2}|[3-9][0-9]{3})$",
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
}


def forbidden_columns(columns: list[str]) -> list[str]:
    return [c for c in columns if _FORBIDDEN.search(c)]


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def tables_in(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name",
        [schema],
    ).fetchall()
    return [r[0] for r in rows]


def schema_columns(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, list[tuple[str, str]]]:
    """Table -> its (column, type) in order, for every table of a schema, in one catalog query (a query
    per table costs ~4 ms, and the gates ask for every table)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? ORDER BY table_name, ordinal_position",
        [schema],
    ).fetchall():
        found.setdefault(table, []).append((column, data_type))
    return found


def record_level_tables(
    con: duckdb.DuckDBPyConnection, schema: str, source_schema: str = "marts"
) -> list[str]:
    """Release tables that hold one row per patient: their mart has a person key, or they carry row_id."""
    columns, source = schema_columns(con, schema), schema_columns(con, source_schema)
    found = []
    for table in tables_in(con, schema):
        names = [c for c, _ in columns.get(table, [])]
        mart_names = [c for c, _ in source.get(table, [])]
        if ROW_ID in names or is_record_level(mart_names) or is_record_level(names):
            found.append(table)
    return found


@dataclass
class GateResult:
    name: str
    passed: bool
    failures: dict[str, object] = field(default_factory=dict)  # table -> what failed
    details: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"passed": self.passed, "failures": self.failures, "details": self.details}


def k_anonymity_gate(con: duckdb.DuckDBPyConnection, schema: str, k: int) -> GateResult:
    details, failures = {}, {}
    columns = schema_columns(con, schema)
    for table in record_level_tables(con, schema):
        names = [c for c, _ in columns[table]]
        qis = [c for c, _ in config_for(table).quasi_identifiers if c in names]
        group = ", ".join(quote_ident(c) for c in qis) if qis else "()"
        smallest, below = con.execute(
            f"SELECT min(n), count(*) FILTER (WHERE n < ?) FROM "
            f"(SELECT count(*) AS n FROM {quote_ident(schema)}.{quote_ident(table)} GROUP BY {group})",
            [k],
        ).fetchone()
        details[table] = {"quasi_identifiers": qis, "k": smallest, "classes_below_k": below}
        if below:
            failures[table] = details[table]
    return GateResult("k_anonymity", not failures, failures, details)


def small_cell_gate(con: duckdb.DuckDBPyConnection, schema: str, min_cell: int) -> GateResult:
    record_level = set(record_level_tables(con, schema))
    details, failures = {}, {}
    for table in tables_in(con, schema):
        if table in record_level:
            continue
        frame = con.execute(f"SELECT * FROM {quote_ident(schema)}.{quote_ident(table)}").fetchdf()
        violations = small_cell_violations(table, frame, min_cell)
        details[table] = violations
        if violations:
            failures[table] = violations
    return GateResult("small_cells", not failures, failures, details)


def identifier_gate(con: duckdb.DuckDBPyConnection, schema: str) -> GateResult:
    """Forbidden column names in every table, identifier-shaped values in every text column."""
    failures: dict[str, object] = {}
    scanned = 0
    columns_by_table = schema_columns(con, schema)
    for table in tables_in(con, schema):
        columns = columns_by_table.get(table, [])
        found: dict[str, object] = {}
        bad_names = forbidden_columns([c for c, _ in columns])
        if bad_names:
            found["forbidden_columns"] = bad_names
        text = [c for c, t in columns if t.upper().startswith("VARCHAR") or t.upper() == "TEXT"]
        if text:
            # each pattern runs once per distinct value of a column (released text columns hold few
            # distinct labels), weighted by how many rows hold it: the same counts as per row
            distinct = " UNION ALL ".join(
                f"SELECT {i} AS position, {quote_ident(c)} AS value, count(*) AS n "
                f"FROM {quote_ident(schema)}.{quote_ident(table)} GROUP BY ALL"
                for i, c in enumerate(text)
            )
            sums = ", ".join(
                "coalesce(sum(n) FILTER (WHERE regexp_matches(value, ?)), 0)"
                for _ in IDENTIFIER_VALUE_PATTERNS
            )
            rows = con.execute(
                f"SELECT position, {sums} FROM ({distinct}) GROUP BY position ORDER BY position",
                list(IDENTIFIER_VALUE_PATTERNS.values()),
            ).fetchall()
            for position, *hits in rows:
                for kind, n in zip(IDENTIFIER_VALUE_PATTERNS, hits, strict=True):
                    if n:
                        found.setdefault("identifier_values", {}).setdefault(text[position], {})[kind] = int(
                            n
                        )
            scanned += len(text)
        if found:
            failures[table] = found
    return GateResult("no_identifiers", not failures, failures, {"text_columns_scanned": scanned})


def evaluate_gates(con: duckdb.DuckDBPyConnection, schema: str, min_cell: int) -> dict[str, GateResult]:
    return {
        "k_anonymity": k_anonymity_gate(con, schema, min_cell),
        "small_cells": small_cell_gate(con, schema, min_cell),
        "no_identifiers": identifier_gate(con, schema),
    }
