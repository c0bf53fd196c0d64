"""The gate's rules as DuckDB SQL: GX expectations compiled to row predicates, plus cross-row rules.

Why compile: GX's pandas engine costs about 2 s per expectation per 2 million rows (measured with GX
1.24), so a 40-expectation suite would be far slower than loading the rows. The expectation types the
generated suites use translate to one predicate each with the same semantics as GX (nulls are skipped
by map expectations, `ignore_row_if` honoured); tests/quality check the two engines agree row by row.
Anything else is run by GX itself (quality.gx_run).

Every query yields (entity, _row_id, field, rule, value, reason) over the gate's typed tables
(`typed_table(entity)`, one per entity, temporary in the gate's DuckDB connection).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from harmony_pipeline import canonical

# A clean date is never before this; older dates are typing errors (DQD plausibleStartBeforeEndDate spirit)
EARLIEST_PLAUSIBLE_DATE = "1900-01-01"

_CONDITION = re.compile(r'^\s*(\w+)\s*==\s*(?:"([^"]*)"|(-?[0-9]+))\s*$')  # col=="text" or col==number


def typed_table(entity: str) -> str:
    """The gate's temporary table of one entity's rows, typed to canonical types (quality.gate)."""
    return f"gate_typed_{entity}"


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int | float):
        return repr(float(value))
    return "'" + str(value).replace("'", "''") + "'"


def _row_condition(kwargs: dict) -> str | None:
    """`lab=="hb"` (GX pandas parser) -> SQL; None when there is none; ValueError when untranslatable."""
    cond = kwargs.get("row_condition")
    if not cond:
        return None
    if isinstance(cond, dict):
        cond = cond.get("pass_through_filter")
    match = _CONDITION.match(str(cond or ""))
    if not match:
        raise ValueError(f"row_condition {cond!r} has no SQL translation")
    if match.group(3) is not None:
        return f"{q(match.group(1))} = {int(match.group(3))}"
    return f"{q(match.group(1))} = {lit(match.group(2))}"


def _select(entity: str, field: str, rule: str, value_sql: str, reason: str, where: str, table: str) -> str:
    return (
        f"SELECT '{entity}' AS entity, _row_id, {lit(field)} AS field, {lit(rule)} AS rule, "
        f"CAST({value_sql} AS VARCHAR) AS value, {lit(reason)} AS reason FROM {table} WHERE {where}"
    )


def _pair_value(kwargs: dict) -> str:
    """SQL text showing both values of a column pair, e.g. lab=hb, unit=mg/L."""
    a, b = kwargs["column_A"], kwargs["column_B"]
    return (
        f"{lit(a + '=')} || coalesce(CAST({q(a)} AS VARCHAR), 'NULL') || "
        f"{lit(', ' + b + '=')} || coalesce(CAST({q(b)} AS VARCHAR), 'NULL')"
    )


@dataclass(frozen=True)
class RowRule:
    """A rule judged on each row alone: the rows where `where` holds fail it (SQL over a typed table)."""

    field: str
    rule: str
    value_sql: str  # the offending value shown in the quarantine record
    reason: str
    where: str

    def select(self, entity: str, table: str) -> str:
        return _select(entity, self.field, self.rule, self.value_sql, self.reason, self.where, table)


def row_rule(exp_type: str, kwargs: dict, meta: dict) -> RowRule | None:
    """One expectation as a row predicate, or None when it is no row rule (uniqueness, or a type the
    compiler does not know). ValueError when its row_condition has no SQL translation."""
    rule = meta.get("rule") or exp_type
    reason = meta.get("reason") or exp_type
    cond = _row_condition(kwargs)
    guard = f"({cond}) AND " if cond else ""
    col = kwargs.get("column")
    if exp_type == "expect_column_values_to_not_be_null":
        return RowRule(col, rule, q(col), reason, f"{guard}{q(col)} IS NULL")
    if exp_type == "expect_column_values_to_be_null":
        return RowRule(col, rule, q(col), reason, f"{guard}{q(col)} IS NOT NULL")
    if exp_type == "expect_column_values_to_be_in_set":
        values = ", ".join(lit(v) for v in kwargs["value_set"])
        return RowRule(
            col, rule, q(col), reason, f"{guard}{q(col)} IS NOT NULL AND {q(col)} NOT IN ({values})"
        )
    if exp_type == "expect_column_values_to_match_regex":
        # GX (pandas) matches with re.search, as DuckDB's regexp_matches: anchors in the pattern decide
        where = f"{guard}{q(col)} IS NOT NULL AND NOT regexp_matches(CAST({q(col)} AS VARCHAR), {lit(kwargs['regex'])})"
        return RowRule(col, rule, q(col), reason, where)
    if exp_type == "expect_column_values_to_be_between":
        checks = []
        if kwargs.get("min_value") is not None:
            op = "<=" if kwargs.get("strict_min") else "<"
            checks.append(f"{q(col)} {op} {lit(kwargs['min_value'])}")
        if kwargs.get("max_value") is not None:
            op = ">=" if kwargs.get("strict_max") else ">"
            checks.append(f"{q(col)} {op} {lit(kwargs['max_value'])}")
        return RowRule(
            col, rule, q(col), reason, f"{guard}{q(col)} IS NOT NULL AND ({' OR '.join(checks) or 'false'})"
        )
    if exp_type == "expect_column_pair_values_to_be_in_set":
        a, b = q(kwargs["column_A"]), q(kwargs["column_B"])
        pairs = ", ".join(lit(f"{x}\x1f{y}") for x, y in kwargs["value_pairs_set"])
        # GX default ignore_row_if='both_values_are_missing'
        where = f"{guard}NOT ({a} IS NULL AND {b} IS NULL) AND coalesce({a} || chr(31) || {b}, '') NOT IN ({pairs})"
        return RowRule(kwargs["column_B"], rule, _pair_value(kwargs), reason, where)
    if exp_type == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = q(kwargs["column_A"]), q(kwargs["column_B"])
        op = ">=" if kwargs.get("or_equal") else ">"
        ignore = kwargs.get("ignore_row_if", "both_values_are_missing")
        missing = (
            f"{a} IS NULL OR {b} IS NULL"
            if ignore == "either_value_is_missing"
            else f"{a} IS NULL AND {b} IS NULL"
        )
        where = f"{guard}NOT ({missing}) AND NOT coalesce({a} {op} {b}, false)"
        return RowRule(kwargs["column_A"], rule, _pair_value(kwargs), reason, where)
    return None


def compile_expectation(entity: str, exp_type: str, kwargs: dict, meta: dict, table: str) -> str | None:
    """SQL selecting the rows that violate one expectation, or None if this type is not compiled.

    Batch-level type checks compile to None here: typing is checked row by row (TRY_CAST) by the gate.
    """
    found = row_rule(exp_type, kwargs, meta)
    if found is not None:
        return found.select(entity, table)
    if exp_type == "expect_compound_columns_to_be_unique":
        rule = meta.get("rule") or exp_type
        reason = meta.get("reason") or exp_type
        cond = _row_condition(kwargs)
        columns = kwargs["column_list"]
        shown = " || ', ' || ".join(f"coalesce(CAST({q(c)} AS VARCHAR), 'NULL')" for c in columns)
        # GX default ignore_row_if='all_values_are_missing'; NULLs compare equal, as pandas duplicated()
        where = " AND ".join(
            [*([f"({cond})"] if cond else []), f"NOT ({' AND '.join(f'{q(c)} IS NULL' for c in columns)})"]
        )
        repeated = _repeated(table, columns, where, "count(*) OVER (PARTITION BY {keys})", "_n")
        return _select(entity, ",".join(columns), rule, shown, reason, "_n > 1", repeated)
    return None


def _repeated(table: str, keys: list[str], where: str, window: str, name: str) -> str:
    """The rows of `table` (filtered by `where`) whose `keys` occur more than once, with the window
    `window` (over each group of equal keys, NULLs equal) as column `name`.

    Set-based in two steps: a hash aggregate finds the few key hashes seen twice, then the exact window
    runs over those rows only (a window over every row sorts them all; equal keys have equal hashes,
    so every group that repeats is whole among the candidates).
    """
    cols = ", ".join(q(c) for c in keys)
    candidates = f"SELECT hash({cols}) AS _h FROM {table} WHERE {where} GROUP BY _h HAVING count(*) > 1"
    return (
        f"(SELECT *, {window.format(keys=cols)} AS {name} FROM {table} "
        f"WHERE {where} AND hash({cols}) IN ({candidates}))"
    )


def row_rules_sql(entity: str, rules: list[RowRule], table: str) -> str:
    """All row rules of one entity in one scan: rows failing any rule, one result row per failure."""
    if not rules:
        return f"SELECT '{entity}' AS entity, _row_id, NULL::VARCHAR AS field, NULL::VARCHAR AS rule, NULL::VARCHAR AS value, NULL::VARCHAR AS reason FROM {table} WHERE false"
    failures = ", ".join(
        f"CASE WHEN {r.where} THEN {{'field': {lit(r.field)}, 'rule': {lit(r.rule)}, "
        f"'value': CAST({r.value_sql} AS VARCHAR), 'reason': {lit(r.reason)}}} END"
        for r in rules
    )
    anywhere = " OR ".join(f"({r.where})" for r in rules)
    # the CASE list is only built for the rare failing rows; OR stops at the first rule a row fails
    return (
        f"SELECT '{entity}' AS entity, _row_id, f.field, f.rule, f.value, f.reason FROM "
        f"(SELECT _row_id, unnest([{failures}]) AS f FROM {table} WHERE {anywhere}) WHERE f IS NOT NULL"
    )


def duplicate_row_sql(entity: str) -> str:
    """Exact duplicates of a row (every field and the patient equal) within the delivery: later copies."""
    fields = ["delivery_id", "patient_key", *canonical.ENTITIES[entity].field_names]
    window = "row_number() OVER (PARTITION BY {keys} ORDER BY file_name, row_number, _row_id)"
    repeated = _repeated(typed_table(entity), fields, "true", window, "_copy")
    return _select(
        entity, "*", "duplicate_row", "'copy of an earlier row'",
        "the same row was delivered more than once", "_copy > 1", repeated,
    )  # fmt: skip


def date_rules(entity: str, future_cutoff: date) -> list[RowRule]:
    """Dates in the future or before 1900, per DATE field of an entity.

    future_cutoff = today + the date-shift window: a shifted date may lie up to that many days ahead.
    """
    cutoff = f"DATE '{future_cutoff.isoformat()}'"
    earliest = f"DATE '{EARLIEST_PLAUSIBLE_DATE}'"
    rules = []
    for f in canonical.ENTITIES[entity].fields:
        if f.dtype != "DATE":
            continue
        col = q(f.name)
        rules.append(
            RowRule(
                f.name, "future_date", col,
                f"{f.name} lies in the future (after {future_cutoff.isoformat()}, today plus the date-shift window)",
                f"{col} > {cutoff}",
            )
        )  # fmt: skip
        rules.append(RowRule(f.name, "implausible_date", col, f"{f.name} is before {EARLIEST_PLAUSIBLE_DATE}",
                             f"{col} < {earliest}"))  # fmt: skip
    return rules


def cross_row_sql(future_cutoff: date) -> list[str]:
    """Rules over several rows or entities of one patient in the delivery (GX cannot say these per row)."""
    cutoff = f"DATE '{future_cutoff.isoformat()}'"
    earliest = f"DATE '{EARLIEST_PLAUSIBLE_DATE}'"
    # the anchor: the patient's first plausible diagnosis date in this delivery
    first_dx = (
        f"SELECT patient_key, min(diagnosis_date) AS first_dx FROM {typed_table('diagnosis')} "
        f"WHERE diagnosis_date BETWEEN {earliest} AND {cutoff} GROUP BY patient_key"
    )
    rules = []
    for entity, col, rule, what in (
        ("follow_up", "death_date", "death_before_diagnosis", "death"),
        ("follow_up", "last_contact_date", "last_contact_before_diagnosis", "last contact"),
        ("treatment", "start_date", "treatment_before_diagnosis", "treatment start"),
    ):
        table = (
            f"(SELECT t.*, d.first_dx FROM {typed_table(entity)} t JOIN ({first_dx}) d USING (patient_key))"
        )
        rules.append(
            f"SELECT '{entity}' AS entity, _row_id, '{col}' AS field, '{rule}' AS rule, "
            f"CAST({q(col)} AS VARCHAR) AS value, "
            f"'{what} date ' || CAST({q(col)} AS VARCHAR) || ' is before the diagnosis date ' "
            f"|| CAST(first_dx AS VARCHAR) AS reason FROM {table} WHERE {q(col)} < first_dx"
        )
    return rules
