"""Small-cell and complementary suppression, Kaplan-Meier truncation (privacy.md promise 5)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from harmony_pipeline.privacy.small_cells import (
    layout_of,
    protect_aggregate,
    small_cell_violations,
    suppress_small_cells,
)


def lone_suppressions(table: pd.DataFrame, dimensions: list[str], count: str) -> int:
    """Margin groups (rows differing in one dimension) with exactly one hidden cell: recoverable."""
    lonely = 0
    for d in dimensions:
        others = [x for x in dimensions if x != d]
        groups = table.groupby(others, dropna=False) if others else [(None, table)]
        for _, group in groups:
            if len(group) > 1 and group[count].isna().sum() == 1:
                lonely += 1
    return lonely


def test_primary_and_complementary_suppression_on_a_two_way_table():
    table = pd.DataFrame(
        {
            "disease": ["AML"] * 3 + ["CLL"] * 3,
            "sex": ["M", "F", "U"] * 2,
            "n_patients": [100, 5, 40, 200, 300, 0],
            "pct_alive": [0.5, 0.4, 0.3, 0.6, 0.7, 0.0],
        }
    )
    out, report = suppress_small_cells(table)
    assert layout_of(table).counts == ["n_patients"] and layout_of(table).dimensions == ["disease", "sex"]
    cell = out.set_index(["disease", "sex"])["n_patients"]
    assert pd.isna(cell["AML", "F"])  # primary
    assert report["primary_suppressed_cells"] == 1 and report["secondary_suppressed_cells"] >= 2
    # the AML row total (345) and the F column total (305) no longer reveal the hidden 5
    assert lone_suppressions(out, ["disease", "sex"], "n_patients") == 0
    assert small_cell_violations("summary", out) == {}
    # a percentage computed over a hidden cell is hidden too; zeros and large cells stay
    assert out["pct_alive"][out["n_patients"].isna()].isna().all()
    assert cell["AML", "M"] == 100 and cell["CLL", "M"] == 200


def test_one_dimension_table_gets_a_complement():
    table = pd.DataFrame({"gene": ["NPM1", "FLT3", "TP53", "RUNX1"], "n": [120, 80, 7, 30]})
    out, report = suppress_small_cells(table)
    hidden = out.set_index("gene")["n"].isna()
    assert hidden["TP53"] and hidden.sum() == 2 and hidden["RUNX1"]  # the smallest other cell
    assert report["secondary_suppressed_cells"] == 1


counts = st.sampled_from([0, 1, 3, 7, 10, 11, 12, 25, 60, 400])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.data())
def test_no_small_cell_and_no_lone_suppression_in_random_tables(a, b, c, data):
    cells = list(
        itertools.product(
            [f"a{i}" for i in range(a)], [f"b{i}" for i in range(b)], [f"c{i}" for i in range(c)]
        )
    )
    values = data.draw(st.lists(counts, min_size=len(cells), max_size=len(cells)))
    table = pd.DataFrame(cells, columns=["x", "y", "z"])
    table["n"] = values
    out, _ = suppress_small_cells(table)
    published = out["n"].dropna()
    assert not ((published > 0) & (published < 11)).any()
    assert lone_suppressions(out, ["x", "y", "z"], "n") == 0
    # nothing but counts was changed, and no published count was altered
    merged = out.merge(table, on=["x", "y", "z"], suffixes=("", "_orig"))
    kept = merged["n"].notna()
    assert (merged.loc[kept, "n"] == merged.loc[kept, "n_orig"]).all()
    assert len(out) == len(table)


def test_kaplan_meier_tables_are_truncated_below_eleven_at_risk():
    km = pd.DataFrame(
        {
            "endpoint": ["OS"] * 6 + ["EFS"] * 3,
            "time": [0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 0.0, 3.0, 6.0],
            "at_risk": [40, 25, 14, 11, 10, 11, 9, 6, 2],
            "events": [2, 3, 1, 2, 1, 0, 1, 1, 1],
            "survival": [0.95, 0.84, 0.78, 0.64, 0.57, 0.57, 0.9, 0.75, 0.5],
        }
    )
    assert small_cell_violations("km_aml", km) == {"at_risk": 4}
    out, report = protect_aggregate("km_aml", km)
    assert out["endpoint"].unique().tolist() == ["OS"]  # EFS never had 11 at risk
    # OS kept up to time 9; from the first time point below 11 on, everything goes (even 11 at 15)
    assert out["time"].tolist() == [0.0, 3.0, 6.0, 9.0]
    assert (out["at_risk"] >= 11).all() and small_cell_violations("km_aml", out) == {}
    assert report["truncated_rows"] == 5 and report["strata_removed"] == 1
    # events per time point are kept as in any published survival curve
    assert out["events"].tolist() == [2, 3, 1, 2]


def test_deterministic_whatever_the_input_order():
    rng = np.random.default_rng(2)
    table = pd.DataFrame(
        [(d, s, y) for d in ["AML", "ALL", "MM"] for s in ["M", "F"] for y in range(2015, 2020)],
        columns=["disease", "sex", "diagnosis_year"],
    )
    table["n_patients"] = rng.choice([2, 5, 12, 40, 90], len(table))
    first, _ = suppress_small_cells(table)
    second, _ = suppress_small_cells(table.sample(frac=1.0, random_state=3))
    pd.testing.assert_frame_equal(first, second)
    assert "diagnosis_year" in layout_of(table).dimensions


def test_linked_counts_in_one_row_get_a_complement():
    # a 2x2 co-mutation row: n_tested_both = n_both_mutated + n_a_only + n_b_only + n_neither
    row = pd.DataFrame(
        {
            "disease": ["AML", "AML"],
            "gene_a": ["NPM1", "NPM1"],
            "gene_b": ["FLT3", "DNMT3A"],
            "n_tested_both": [60, 80],
            "n_both_mutated": [4, 30],
            "n_a_only": [20, 20],
            "n_b_only": [16, 15],
            "n_neither": [20, 15],
            "odds_ratio": [0.8, 1.2],
        }
    )
    out, report = suppress_small_cells(row)
    flt3 = out[out["gene_b"] == "FLT3"].iloc[0]
    assert pd.isna(flt3["n_both_mutated"]) and pd.isna(flt3["n_b_only"])  # 4 and its complement 16
    assert flt3["n_tested_both"] == 60 and flt3["n_a_only"] == 20 and pd.isna(flt3["odds_ratio"])
    for _, r in out.iterrows():  # no row has a single hidden count (it would be its sum's remainder)
        assert r[["n_tested_both", "n_both_mutated", "n_a_only", "n_b_only", "n_neither"]].isna().sum() != 1
    assert small_cell_violations("comutation", out) == {}
    assert lone_suppressions(out, ["disease", "gene_a", "gene_b"], "n_b_only") == 0


def test_km_marts_shape_with_n_at_risk_and_stratum_summaries():
    # the shape of the km_<disease> marts: strata, time_months, n_at_risk, per-stratum summaries
    km = pd.DataFrame(
        {
            "endpoint": ["OS"] * 4 + ["OS"] * 2,
            "classification": ["ELN 2022"] * 6,
            "risk_group": ["Adverse"] * 4 + ["Intermediate"] * 2,
            "time_months": [0.0, 0.5, 3.2, 7.9, 0.0, 1.0],
            "n_at_risk": [56, 40, 12, 9, 6, 5],
            "n_events": [0, 16, 28, 3, 0, 1],
            "n_censored": [0, 0, 0, 0, 0, 0],
            "survival": [1.0, 0.71, 0.21, 0.16, 1.0, 0.8],
            "n_patients": [56, 56, 56, 56, 6, 6],
            "median_months": [1.9, 1.9, 1.9, 1.9, 4.0, 4.0],
        }
    )
    assert small_cell_violations("km_aml", km) == {"n_at_risk": 3}
    out, report = protect_aggregate("km_aml", km)
    assert report["kind"] == "kaplan-meier" and report["at_risk_column"] == "n_at_risk"
    assert report["strata"] == ["endpoint", "classification", "risk_group"]
    assert out["risk_group"].unique().tolist() == ["Adverse"] and out["time_months"].tolist() == [
        0.0,
        0.5,
        3.2,
    ]
    assert out["survival"].notna().all()  # the curve itself is kept, not blanked
