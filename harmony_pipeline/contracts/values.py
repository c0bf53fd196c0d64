"""Vectorised typing of delivered values: text, numbers with a decimal mark, dates, maps, conditions.

Each typing function returns the typed Series and a boolean mask of values that were present but could
not be typed (the reader turns those into rejects).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from harmony_pipeline.contracts.model import Condition

# pandas dtype of each canonical DuckDB type in the DataFrames read_delivery returns
PANDAS_DTYPES = {"VARCHAR": "string", "DOUBLE": "float64", "BIGINT": "Int64", "DATE": "datetime64[ns]"}


def _text_of(value) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        value = pd.Timestamp(value)
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def as_text(s: pd.Series) -> pd.Series:
    """Values as text; integral numbers without '.0' (so a 0/1 flag read as float matches '1')."""
    if isinstance(s.dtype, pd.StringDtype):
        return s
    if pd.api.types.is_bool_dtype(s):
        return s.astype("Int64").astype("string")
    if pd.api.types.is_numeric_dtype(s):
        f = s.astype("float64")
        out = f.astype("string")
        whole = f.notna() & np.isfinite(f) & (f % 1 == 0)
        out[whole] = f[whole].astype("int64").astype("string")
        return out
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.strftime("%Y-%m-%d").astype("string")
    return s.map(_text_of, na_action="ignore").astype("string")


def normalised(s: pd.Series) -> pd.Series:
    """Text compared by maps and conditions (see model.normalise_label)."""
    return as_text(s).str.strip().str.casefold()


def per_distinct(s: pd.Series, convert) -> pd.Series:
    """convert(the distinct values) taken back to every row: the text work runs once per distinct value
    (a coded column has a handful, and dates and numbers repeat too). A missing value stays missing."""
    try:
        codes, uniques = pd.factorize(s)
    except TypeError:  # unhashable values (a list in a JSON field): converted row by row
        return convert(s)
    converted = convert(pd.Series(uniques))
    return pd.Series(converted.array.take(codes, allow_fill=True), index=s.index)


def apply_map(s: pd.Series, value_map: dict[str, str]) -> pd.Series:
    """Mapped codes; an unmapped label passes through verbatim so the quality gate can quarantine it."""
    return per_distinct(
        s, lambda distinct: normalised(distinct).map(value_map).astype("string").fillna(as_text(distinct))
    )


def to_double(s: pd.Series, decimal: str = ".") -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        out = s.astype("float64")
    else:

        def parse(distinct: pd.Series) -> pd.Series:
            text = as_text(distinct).str.strip()
            if decimal != ".":
                # a dot is then no decimal mark: "1.5" in a decimal-comma file is a reject, not 1.5
                text = text.mask(text.str.contains(".", regex=False), "x").str.replace(
                    decimal, ".", regex=False
                )
            return pd.to_numeric(text, errors="coerce").astype("float64")

        out = per_distinct(s, parse)
    out = out.where(np.isfinite(out))
    return out, s.notna() & out.isna()


def to_bigint(s: pd.Series, decimal: str = ".") -> tuple[pd.Series, pd.Series]:
    number, bad = to_double(s, decimal)
    fractional = number.notna() & (number % 1 != 0)
    return number.where(~fractional).astype("Int64"), bad | fractional


def to_date(s: pd.Series, fmt: str, origin: str | None = None) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        out = out.astype("datetime64[ns]").dt.normalize()
        return out, pd.Series(False, index=s.index)
    if origin is not None:
        days, bad = to_double(s)
        out = pd.Timestamp(origin) + pd.to_timedelta(days.round(), unit="D")
        return out.astype("datetime64[ns]"), bad
    if s.dtype == object:  # Excel/JSON: datetime objects next to text
        is_date = s.map(lambda v: isinstance(v, (dt.date, pd.Timestamp)), na_action="ignore").eq(True)
    else:
        is_date = pd.Series(False, index=s.index)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if is_date.any():
        out[is_date] = pd.to_datetime(s[is_date].astype(object), errors="coerce").dt.normalize()
    rest = s.notna() & ~is_date
    if rest.any():
        out[rest] = per_distinct(
            s[rest],
            lambda distinct: pd.to_datetime(
                as_text(distinct).str.strip().astype(object), format=fmt, errors="coerce"
            ),
        )
    return out, s.notna() & out.isna()


def condition_mask(cond: Condition, frame: pd.DataFrame) -> pd.Series:
    col = frame[cond.column]
    if cond.op == "present":
        return col.notna() if cond.present else col.isna()
    key = normalised(col)
    hit = key.isin(list(cond.values)).fillna(False).astype(bool)
    return hit if cond.op == "in" else (col.notna() & ~hit)


def typed_empty(dtype: str, index: pd.Index) -> pd.Series:
    missing = {"DATE": pd.NaT, "DOUBLE": np.nan}.get(dtype, pd.NA)
    return pd.Series(missing, index=index, dtype=PANDAS_DTYPES[dtype])
