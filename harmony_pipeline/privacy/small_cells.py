"""Small-cell suppression for aggregate marts (privacy.md promise 5; issue 7).

Aggregate marts are long tables: dimension columns (text, and integers that are not counts, e.g.
a year), count columns (integers named like n, patients, events, *_count, n_*) and measures (other
numbers: percentages, medians, survival). Rules:

- Primary suppression: a count with 0 < n < min_cell (11) becomes NULL. Zero is published: it
  reveals nobody.
- Complementary (secondary) suppression: a suppressed cell could be recovered from a total as
  the margin minus the published cells. So in every margin group (the rows that differ in one
  dimension only, i.e. share all other dimensions) a count column must hold either no suppressed
  cell or at least two; when it holds exactly one, the smallest other cell of the group (zeros
  included) is suppressed too, and this repeats until nothing changes (the classic hypercube
  heuristic of tau-ARGUS / sdcTable, simplified to one dimension at a time).
- Within a row, counts are often linked by a sum (a 2x2 co-mutation table), so a row with exactly
  one hidden count gets its smallest other count hidden too.
- Measures of a row with a suppressed count (a percentage, a median over the cell) are NULLed,
  since they are computed from the hidden count.
- Kaplan-Meier tables (any table with a number-at-risk column: at_risk, n_at_risk, as the km_*
  marts have) are truncated instead: per
  stratum, the first time point with fewer than min_cell at risk and all later ones are dropped,
  so no published time point has fewer than 11 at risk (a stratum that starts below 11 vanishes).
  Events and censorings per time point stay, as in any published survival curve; they are
  recoverable from consecutive at-risk numbers anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_MIN_CELL = 11

COUNT_NAME = re.compile(
    r"^(n|count|counts|patients|persons|people|cases|records|events|deaths|censored|at_risk"
    r"|n_.+|.+_n|.+_count|.+_counts|.+_patients|.+_persons|.+_cases|.+_events|.+_deaths|.+_censored)$"
)
TIME_NAME = re.compile(r"^(time|timeline|t|months|days|years)(_.+)?$|^.+_(months|days|years)$")
MAX_ROUNDS = 1000  # complementary suppression adds at least one cell per round; tables are finite


@dataclass(frozen=True)
class Layout:
    dimensions: list[str]
    counts: list[str]
    measures: list[str]


def _is_integer(values: pd.Series) -> bool:
    if pd.api.types.is_integer_dtype(values):
        return True
    if pd.api.types.is_float_dtype(values):  # DuckDB HUGEINT / nullable ints can arrive as float
        present = values.dropna()
        return (
            not present.empty
            and bool(np.all(np.mod(present, 1) == 0))
            and COUNT_NAME.match(values.name or "")
        )
    return False


def layout_of(frame: pd.DataFrame) -> Layout:
    """Dimensions, counts and measures of an aggregate table, from column names and types."""
    dimensions, counts, measures = [], [], []
    for column in frame.columns:
        values = frame[column]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if not numeric:
            dimensions.append(column)
        elif COUNT_NAME.match(column) and _is_integer(values):
            counts.append(column)
        elif pd.api.types.is_integer_dtype(values):
            dimensions.append(column)  # e.g. diagnosis_year, line of therapy
        else:
            measures.append(column)
    return Layout(dimensions, counts, measures)


AT_RISK_NAME = re.compile(r"(^|_)at_risk$")


def at_risk_column(columns: list[str]) -> str | None:
    """The number-at-risk column of a Kaplan-Meier table (at_risk, n_at_risk, ...), if any."""
    return next((c for c in columns if AT_RISK_NAME.search(c)), None)


def is_km_table(table: str, columns: list[str]) -> bool:
    """A survival curve table: it has a number-at-risk column (km_* marts have n_at_risk)."""
    return at_risk_column(columns) is not None


def time_column(columns: list[str]) -> str | None:
    return next((c for c in columns if TIME_NAME.match(c)), None)


def _group_ids(frame: pd.DataFrame, by: list[str]) -> np.ndarray:
    if not by:
        return np.zeros(len(frame), dtype=np.int64)
    return frame.groupby(by, dropna=False, sort=False).ngroup().to_numpy()


def _complement_within_rows(
    counts: list[str], values: dict[str, pd.Series], mask: dict[str, np.ndarray]
) -> bool:
    """Counts of one row are often linked (n_tested = n_both + n_a_only + n_b_only + n_neither):
    a row with exactly one hidden count among several gets its smallest other count hidden too."""
    if len(counts) < 2:
        return False
    matrix = np.column_stack([values[c].to_numpy(dtype="float64", na_value=np.nan) for c in counts])
    hidden = np.column_stack([mask[c] for c in counts])
    candidates = np.where(hidden | np.isnan(matrix), np.inf, matrix)
    lonely = (hidden.sum(axis=1) == 1) & np.isfinite(candidates).any(axis=1)
    if not lonely.any():
        return False
    choice = np.argmin(candidates, axis=1)
    for row in np.flatnonzero(lonely):
        mask[counts[choice[row]]][row] = True
    return True


def suppress_small_cells(frame: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL) -> tuple[pd.DataFrame, dict]:
    """Primary and complementary suppression of the count cells of one aggregate table."""
    layout = layout_of(frame)
    # a deterministic order whatever order the table arrived in
    out = frame.sort_values(layout.dimensions + layout.counts, kind="stable", na_position="last")
    out = out.reset_index(drop=True)
    values = {c: pd.to_numeric(out[c], errors="coerce") for c in layout.counts}
    mask = {c: ((v > 0) & (v < min_cell)).fillna(False).to_numpy() for c, v in values.items()}
    primary = sum(int(m.sum()) for m in mask.values())

    margins = [(d, _group_ids(out, [x for x in layout.dimensions if x != d])) for d in layout.dimensions]
    for _ in range(MAX_ROUNDS):
        changed = _complement_within_rows(layout.counts, values, mask)
        for column in layout.counts:
            v = values[column].to_numpy(dtype="float64", na_value=np.nan)
            for _dimension, groups in margins:
                m = mask[column]
                suppressed_in_group = np.bincount(groups, weights=m.astype(float))
                lonely = suppressed_in_group[groups] == 1
                candidate = lonely & ~m & ~np.isnan(v)
                if not candidate.any():
                    continue
                # the smallest cell hides least; a zero is a valid complement too (the attacker
                # cannot tell a hidden 0 from a hidden 1..10)
                rank = v
                choice = pd.DataFrame(
                    {"g": groups[candidate], "rank": rank[candidate]}, index=np.flatnonzero(candidate)
                )
                chosen = (
                    choice.sort_values(["g", "rank"], kind="stable").groupby("g").head(1).index.to_numpy()
                )
                mask[column][chosen] = True
                changed = True
        if not changed:
            break
    secondary = sum(int(m.sum()) for m in mask.values()) - primary

    any_suppressed = np.zeros(len(out), dtype=bool)
    for column in layout.counts:
        out[column] = values[column].astype("Int64").mask(mask[column])
        any_suppressed |= mask[column]
    for column in layout.measures:
        out[column] = out[column].mask(any_suppressed)
    report = {
        "kind": "aggregate",
        "dimensions": layout.dimensions,
        "count_columns": layout.counts,
        "measure_columns": layout.measures,
        "rows": len(out),
        "primary_suppressed_cells": primary,
        "secondary_suppressed_cells": secondary,
        "min_cell": min_cell,
    }
    return out, report


def truncate_km(
    frame: pd.DataFrame, min_at_risk: int = DEFAULT_MIN_CELL, at_risk: str | None = None
) -> tuple[pd.DataFrame, dict]:
    """Drop, per stratum, every time point from the first with fewer than min_at_risk at risk on."""
    at_risk = at_risk or at_risk_column(list(frame.columns))
    time = time_column(list(frame.columns))
    layout = layout_of(frame.drop(columns=[at_risk, time] if time else [at_risk]))
    strata = [c for c in layout.dimensions if c != time]
    order = strata + ([time] if time else [])
    out = frame.sort_values(order, kind="stable", na_position="last").reset_index(drop=True)
    below = (pd.to_numeric(out[at_risk], errors="coerce").fillna(0) < min_at_risk).astype(int)
    groups = _group_ids(out, strata)
    # at risk never rises with time, but guard anyway: once below, everything later goes
    dropped_from_here = below.groupby(groups).cummax().astype(bool)
    kept = out[~dropped_from_here.to_numpy()].reset_index(drop=True)
    report = {
        "kind": "kaplan-meier",
        "time_column": time,
        "strata": strata,
        "rows_in": len(out),
        "rows": len(kept),
        "truncated_rows": int(dropped_from_here.sum()),
        "strata_removed": int(
            len(np.unique(groups)) - (len(np.unique(groups[~dropped_from_here.to_numpy()])))
        ),
        "at_risk_column": at_risk,
        "min_at_risk": min_at_risk,
    }
    return kept, report


def protect_aggregate(
    table: str, frame: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL
) -> tuple[pd.DataFrame, dict]:
    """Small-cell protection of one aggregate mart: KM truncation or cell suppression."""
    if is_km_table(table, list(frame.columns)):
        return truncate_km(frame, min_cell)
    return suppress_small_cells(frame, min_cell)


def small_cell_violations(
    table: str, frame: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL
) -> dict[str, int]:
    """Cells a published aggregate must not hold, per column (empty when clean).

    KM tables: time points with fewer than min_cell at risk. Others: counts with 0 < n < min_cell.
    """
    column = at_risk_column(list(frame.columns))
    if column is not None:
        at_risk = pd.to_numeric(frame[column], errors="coerce")
        bad = int((at_risk.notna() & (at_risk < min_cell)).sum())
        return {column: bad} if bad else {}
    violations = {}
    for column in layout_of(frame).counts:
        v = pd.to_numeric(frame[column], errors="coerce")
        bad = int(((v > 0) & (v < min_cell)).sum())
        if bad:
            violations[column] = bad
    return violations
