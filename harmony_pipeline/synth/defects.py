"""Defect injection: a configurable share of rows gets exactly one known defect, recorded at
file / row / field precision in truth/defects.csv.

Value defects change one typed cell (out-of-range and impossible values, wrong units, unknown codes,
impossible date orders, future dates, missing required fields); duplicate rows repeat a row right
after itself; malformed lines (delimited text only) get too many or too few fields when written.
Every injected value is checked to be detectable: outside the plausible range after the column's
unit conversion, outside the column's code list, or in the wrong order in time.
"""

from __future__ import annotations

import numpy as np

from harmony_pipeline.canonical import LABS
from harmony_pipeline.synth.cohort import FINAL_CUTOFF
from harmony_pipeline.synth.sources import OutFile

KINDS = (
    "out_of_range", "impossible_value", "wrong_unit", "unknown_code", "date_order", "future_date",
    "missing_required", "duplicate_row", "malformed_line",
)  # fmt: skip
UNKNOWN_TOKENS = ("XX", "99", "??", "Z99.9", "unclear")
FUTURE_YEARS = (5, 12)  # future dates land 5-12 years after the last data cut-off


def canonical_range(col) -> tuple[float, float] | None:
    if col.lab:
        _, low, high = LABS[col.lab]
        return low, high
    if col.high is not None:
        return col.low if col.low is not None else 0.0, col.high
    return None


def _diag_days(out: OutFile) -> np.ndarray | None:
    """Absolute diagnosis day per row, from a diagnosis date or a diagnosis offset column."""
    by_name = {c.name: c for c in out.columns}
    for col in out.columns:
        if col.role == "diag":
            values = out.frame[col.name].to_numpy(float)
            if col.kind == "date":
                return values
            anchor = out.frame[by_name[col.anchor].name].to_numpy(float)
            return anchor + values * col.unit_days
    return None


def _to_source(col, out: OutFile, day: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """An absolute day back in the column's representation (date or offset from its anchor)."""
    if col.kind == "date":
        return np.floor(day)
    anchor = out.frame[col.anchor].to_numpy(float)[rows]
    return np.round((day - anchor) / col.unit_days, col.decimals)


def inject(rng: np.random.Generator, out: OutFile, rate: float) -> tuple[OutFile, list[tuple], list[int]]:
    """Returns the defective file, manifest rows (row, field, kind) and the rows to write malformed."""
    frame = out.frame.reset_index(drop=True)
    n = len(frame)
    k = int(round(rate * n))
    if k == 0 or n < 2:
        return OutFile(out.name, out.fmt, frame, out.columns, out.options), [], []
    rows = np.sort(rng.choice(n, size=k, replace=False))
    kinds = [kd for kd in KINDS if kd != "malformed_line" or out.fmt == "csv"]
    assigned = np.asarray(kinds, dtype=object)[rng.integers(0, len(kinds), size=k)]
    diag = _diag_days(out)
    records: list[tuple[int, str, str]] = []  # (original row, field, kind)
    duplicates: list[int] = []
    malformed: list[int] = []
    for kind in kinds:
        rows_k = rows[assigned == kind]
        if len(rows_k) == 0:
            continue
        if kind == "duplicate_row":
            duplicates.extend(rows_k.tolist())
            continue
        if kind == "malformed_line":
            malformed.extend(rows_k.tolist())
            continue
        candidates, eligible = [], []
        for col in out.columns:
            ok = _eligible(kind, col, frame, rows_k, diag)
            if ok is not None and ok.any():
                candidates.append(col)
                eligible.append(ok)
        if not candidates:
            continue
        score = rng.random((len(rows_k), len(candidates))) * np.column_stack(eligible)
        choice = score.argmax(axis=1)
        has = score.max(axis=1) > 0
        for j, col in enumerate(candidates):
            sel = rows_k[(choice == j) & has]
            if len(sel) == 0:
                continue
            frame[col.name] = _apply(kind, col, frame, sel, rng, out, diag)
            records.extend((int(r), col.name, kind) for r in sel)

    # duplicates are inserted right after their original row
    order = np.arange(n, dtype=np.int64) * 2
    dup = np.asarray(sorted(duplicates), dtype=np.int64)
    keys = np.concatenate([order, dup * 2 + 1])
    source_rows = np.concatenate([np.arange(n), dup])
    perm = np.argsort(keys, kind="stable")
    final = frame.take(source_rows[perm]).reset_index(drop=True)
    position = np.empty(len(keys), dtype=np.int64)
    position[perm] = np.arange(1, len(keys) + 1)  # 1-based data row of each original/dup entry
    row_of = position[:n]
    manifest = [(int(row_of[r]), field, kind) for r, field, kind in records]
    manifest += [(int(p), "", "duplicate_row") for p in position[n:]]
    manifest += [(int(row_of[r]), "", "malformed_line") for r in malformed]
    manifest.sort()
    bad_lines = sorted(int(row_of[r]) for r in malformed)
    return OutFile(out.name, out.fmt, final, out.columns, out.options), manifest, bad_lines


def _eligible(kind, col, frame, rows, diag) -> np.ndarray | None:
    values = frame[col.name].to_numpy()[rows]
    present = ~_isnull(values)
    if kind in ("out_of_range", "impossible_value"):
        if col.kind != "num" or canonical_range(col) is None:
            return None
        if kind == "impossible_value" and canonical_range(col)[0] < 0:
            return None
        return present
    if kind == "wrong_unit":
        if col.kind != "num" or col.wrong_unit is None:
            return None
        low, high = canonical_range(col)
        # judged on the value as written (rounded to the column's decimals), or a value just outside the
        # range could be written as the boundary itself (albumin 4.8 g/dL as "5" g/L = 0.5 g/dL, in range)
        canon = np.round(values.astype(float) * col.wrong_unit, col.decimals) * col.factor
        return present & ((canon < low) | (canon > high))
    if kind == "unknown_code":
        return present if col.kind == "code" else None
    if kind == "missing_required":
        return present if col.required and col.kind != "id" else None
    if kind == "date_order":
        if col.role not in ("death", "last") or diag is None or col.kind not in ("date", "offset"):
            return None
        return present & ~np.isnan(diag[rows])
    if kind == "future_date":
        if col.role not in ("event", "last", "death") or col.kind not in ("date", "offset"):
            return None
        return present
    return None


def _isnull(values: np.ndarray) -> np.ndarray:
    if values.dtype == object:
        return np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in values], dtype=bool)
    return np.isnan(values.astype(float))


def _apply(kind, col, frame, sel, rng, out, diag) -> np.ndarray:
    values = frame[col.name].to_numpy().copy()
    m = len(sel)
    if kind == "out_of_range":
        low, high = canonical_range(col)
        new = np.ceil(high * rng.uniform(1.5, 4.0, m) / col.factor * 10**col.decimals) / 10**col.decimals
        values[sel] = new
    elif kind == "impossible_value":
        values[sel] = -np.round(np.abs(values[sel].astype(float)) + rng.uniform(1, 10, m), col.decimals)
    elif kind == "wrong_unit":
        values[sel] = np.round(values[sel].astype(float) * col.wrong_unit, col.decimals)
    elif kind == "unknown_code":
        tokens = np.array([t for t in UNKNOWN_TOKENS if t not in (col.codes or ())], dtype=object)
        values = values.astype(object)
        values[sel] = tokens[rng.integers(0, len(tokens), m)]
    elif kind == "missing_required":
        if values.dtype == object:
            values[sel] = None
        else:
            values = values.astype(float)
            values[sel] = np.nan
    elif kind == "date_order":  # death or last contact 30-400 days before diagnosis
        values[sel] = _to_source(col, out, diag[sel] - rng.uniform(30, 400, m), sel)
    elif kind == "future_date":
        day = FINAL_CUTOFF + rng.uniform(*FUTURE_YEARS, m) * 365.25
        values[sel] = _to_source(col, out, day, sel)
    return values


def malform(line: str, delimiter: str, variant: int) -> str:
    """Too many fields (variant 0) or too few (variant 1: the patient id alone)."""
    if variant == 0:
        return f"{line}{delimiter}EXTRA{delimiter}EXTRA"
    return line.split(delimiter, 1)[0]
