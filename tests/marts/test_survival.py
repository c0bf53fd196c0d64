"""Survival and co-mutation statistics against values worked out by hand."""

import pandas as pd
import pytest

from harmony_pipeline.survival import all_paediatric_vs_adult, comutation, km_table


def test_kaplan_meier_matches_the_product_limit_by_hand():
    # group A: times 1 (event), 2 (censored), 3 (event), 4 (event):
    # S(1) = 3/4, S(3) = 3/4 * 1/2 = 3/8, S(4) = 0; median = 3 (first time S <= 0.5)
    frame = pd.DataFrame(
        {
            "t": [1, 2, 3, 4, 1, 5, 6, 7],
            "e": [1, 0, 1, 1, 0, 0, 1, 0],
            "g": ["A", "A", "A", "A", "B", "B", "B", "B"],
        }
    )
    table = km_table(frame, "t", "e", "g")
    a = table[table["risk_group"] == "A"].set_index("time_months")
    assert a.loc[0.0, "survival"] == 1.0 and a.loc[0.0, "n_at_risk"] == 4
    assert a.loc[1.0, "survival"] == pytest.approx(0.75)
    assert a.loc[3.0, "survival"] == pytest.approx(0.375)
    assert a.loc[3.0, "n_at_risk"] == 2 and a.loc[2.0, "n_censored"] == 1
    assert a.loc[4.0, "survival"] == pytest.approx(0.0)
    assert a["median_months"].iloc[0] == 3.0
    assert a["n_patients"].iloc[0] == 4 and a["n_events_total"].iloc[0] == 3
    assert (a["ci_lower"].dropna() <= a.loc[a["ci_lower"].notna(), "survival"]).all()
    # one log-rank p for the classification, on every row
    assert table["logrank_p"].nunique() == 1 and 0 < table["logrank_p"].iloc[0] < 1


def test_comutation_counts_odds_ratio_and_q_value():
    # 10 patients tested for X, Y, Z: X and Y together in 4, X alone in 1, Y alone in 1, neither in 4
    rows = []
    for i in range(10):
        x = i < 5
        y = i < 4 or i == 5
        z = i == 9
        rows += [("AML", f"p{i}", "X", x), ("AML", f"p{i}", "Y", y), ("AML", f"p{i}", "Z", z)]
    rows.append(("AML", "p10", "X", True))  # tested for X only: not in the pair's table
    frame = comutation(pd.DataFrame(rows, columns=["disease", "patient", "gene", "mutated"]))
    xy = frame[(frame.gene_a == "X") & (frame.gene_b == "Y")].iloc[0]
    assert (xy.n_tested_both, xy.n_both_mutated, xy.n_a_only, xy.n_b_only, xy.n_neither) == (10, 4, 1, 1, 4)
    assert xy.odds_ratio == pytest.approx(4.5 * 4.5 / (1.5 * 1.5))
    # Fisher exact two-sided p for [[4, 1], [1, 4]] = 0.2063 (hypergeometric, by hand: 2 * (25 + 1) / 252)
    assert xy.fisher_p == pytest.approx(52 / 252)
    assert len(frame) == 3  # XY, XZ, YZ
    assert (frame.q_value >= frame.fisher_p).all() and (frame.q_value <= 1).all()
    # XZ and YZ are [[0, 5], [1, 4]]: p = 1; Benjamini-Hochberg on (0.206, 1, 1): q(XY) = 0.206 * 3 / 1
    assert xy.q_value == pytest.approx(3 * 52 / 252)
    assert frame[frame.gene_b == "Z"].fisher_p.tolist() == pytest.approx([1.0, 1.0])


def test_paediatric_vs_adult_split_at_18():
    mart = pd.DataFrame(
        {
            "age_at_diagnosis": [17.9, 18.0, 40.0],
            "is_b_all": [True, True, False],
            "wbc": [10.0, 20.0, 30.0],
            "achieved_cr": [True, False, True],
            "early_death_30d": [False, True, None],
            "os_months": [10.0, 1.0, 20.0],
            "os_event": [0, 1, 1],
            "efs_months": [10.0, 0.03, 5.0],
            "efs_event": [0, 1, 1],
        }
    )
    out = all_paediatric_vs_adult(mart).set_index("age_group")
    assert out.loc["paediatric", "n_patients"] == 1 and out.loc["adult", "n_patients"] == 2
    assert out.loc["adult", "share_b_lineage"] == 0.5 and out.loc["adult", "median_wbc"] == 25.0
    assert out.loc["adult", "early_death_30d_rate"] == 1.0  # unknown is left out, not counted as no
    assert out.loc["adult", "os_n_events"] == 2
