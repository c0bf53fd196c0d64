"""Generalisation, suppression, perturbation and the linkage attack (issue 7, privacy.md promise 4)."""

from __future__ import annotations

import datetime
import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmony_pipeline.privacy.anonymise import (
    DEFAULT_QUASI_IDENTIFIERS,
    HIERARCHIES,
    MartConfig,
    anonymise_mart,
    class_sizes,
    generalise,
    risk_profile,
)

QIS = list(DEFAULT_QUASI_IDENTIFIERS)
QI_COLUMNS = [c for c, _ in QIS]
MAX_LEVELS = [HIERARCHIES[h].max_level for _, h in QIS]


def synthetic_mart(n: int, seed: int) -> pd.DataFrame:
    """A patient-level mart with realistic, skewed quasi-identifiers (ages cluster 55-80)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "person_hash": [f"{seed}-{i:07d}" for i in range(n)],
            "source_id": rng.choice(["TRIAL_A", "REG_B", "HOSP_C"], n),
            "age_at_diagnosis": np.clip(rng.normal(66, 13, n), 18, 101).round(1),
            "sex": rng.choice(["M", "F"], n, p=[0.56, 0.44]),
            "country": rng.choice(
                ["DE", "FR", "IT", "NL", "ES", "SE", "PL", "GB"],
                n,
                p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05, 0.05],
            ),
            "diagnosis_year": rng.integers(2000, 2024, n),
            "disease_subtype": rng.choice(
                ["NPM1", "CBF", "MR", "TP53", "other"], n, p=[0.3, 0.15, 0.25, 0.1, 0.2]
            ),
            "diagnosis_date": pd.Timestamp("2005-01-01")
            + pd.to_timedelta(rng.integers(0, 6000, n), unit="D"),
            "wbc": rng.lognormal(2.5, 1.0, n).round(2),
            "age_at_transplant": np.clip(rng.normal(55, 10, n), 18, 75).round(1),
            "os_months": rng.exponential(30, n).round(1),
        }
    )


# --- hierarchies ------------------------------------------------------------------------------


def test_hierarchies_generalise_as_documented():
    ages = pd.Series([47.6, 90.0, 96.0, 3.0, np.nan])
    assert HIERARCHIES["age"].generalise(ages, 0, None).tolist()[:4] == ["47", "90+", "90+", "3"]
    assert HIERARCHIES["age"].generalise(ages, 1, None).tolist()[:4] == ["45-49", "90+", "90+", "0-4"]
    assert HIERARCHIES["age"].generalise(ages, 2, None).tolist()[:4] == ["40-49", "90+", "90+", "0-9"]
    assert HIERARCHIES["age"].generalise(ages, 3, None).tolist()[:4] == ["40-59", "80+", "80+", "0-19"]
    assert HIERARCHIES["age"].generalise(ages, 4, None).unique().tolist() == ["*"]
    assert pd.isna(HIERARCHIES["age"].generalise(ages, 1, None).iloc[4])
    years = pd.Series([2017, 2020, 2009])
    assert HIERARCHIES["year"].generalise(years, 1, None).tolist() == ["2015-2019", "2020-2024", "2005-2009"]
    assert HIERARCHIES["year"].generalise(years, 2, None).tolist() == ["2010-2019", "2020-2029", "2000-2009"]
    countries = pd.Series(["de", "SE", "PL", "ES", "ZZ"])
    assert HIERARCHIES["country"].generalise(countries, 1, None).tolist() == [
        "Western Europe", "Northern Europe", "Eastern Europe", "Southern Europe", "Other",
    ]  # fmt: skip
    frame = pd.DataFrame({"disease_subtype": ["NPM1", "B-ALL"], "disease": ["AML", "ALL"]})
    assert HIERARCHIES["subtype"].generalise(frame["disease_subtype"], 1, frame).tolist() == ["AML", "ALL"]


# --- property tests -------------------------------------------------------------------------

qi_rows = st.fixed_dictionaries(
    {
        "age_at_diagnosis": st.integers(0, 100),
        "sex": st.sampled_from(["M", "F"]),
        "country": st.sampled_from(["DE", "FR", "NL", "PL", "SE"]),
        "diagnosis_year": st.integers(1995, 2024),
        "disease_subtype": st.sampled_from(["a", "b", "c"]),
    }
)
frames = st.lists(qi_rows, min_size=1, max_size=150).map(pd.DataFrame)
levels = st.tuples(*(st.integers(0, m) for m in MAX_LEVELS))
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(frames, levels, levels)
def test_generalising_never_lowers_k(frame, low, step):
    lower = dict(zip(QI_COLUMNS, low, strict=True))
    higher = {c: min(lower[c] + s, m) for (c, s, m) in zip(QI_COLUMNS, step, MAX_LEVELS, strict=True)}
    k_low = risk_profile(generalise(frame, QIS, lower), QI_COLUMNS).k
    k_high = risk_profile(generalise(frame, QIS, higher), QI_COLUMNS).k
    assert k_high >= k_low


@PROPERTY
@given(frames, levels, st.integers(1, 15))
def test_suppression_never_raises_risk(frame, node, threshold):
    generalised = generalise(frame, QIS, dict(zip(QI_COLUMNS, node, strict=True)))
    before = risk_profile(generalised, QI_COLUMNS)
    kept = generalised[class_sizes(generalised, QI_COLUMNS) >= threshold]
    after = risk_profile(kept, QI_COLUMNS)
    if not kept.empty:
        assert after.max_risk <= before.max_risk
        assert after.avg_risk <= before.avg_risk + 1e-12
        assert after.max_risk <= 1 / threshold


@PROPERTY
@given(frames, levels)
def test_max_risk_is_one_over_k(frame, node):
    generalised = generalise(frame, QIS, dict(zip(QI_COLUMNS, node, strict=True)))
    profile = risk_profile(generalised, QI_COLUMNS)
    # independent count: size of each distinct QI combination, NULLs as values
    sizes = generalised[QI_COLUMNS].astype(str).value_counts()
    assert profile.k == sizes.min()
    assert profile.max_risk == pytest.approx(1 / profile.k)
    assert profile.max_risk == pytest.approx(1 / sizes.min())
    assert profile.avg_risk == pytest.approx(len(sizes) / len(generalised))


@PROPERTY
@given(st.lists(qi_rows, min_size=0, max_size=300).map(lambda rows: pd.DataFrame(rows, columns=QI_COLUMNS)))
def test_anonymised_release_always_meets_k_or_is_empty(frame):
    frame["person_hash"] = [f"p{i}" for i in range(len(frame))]
    result = anonymise_mart("mart_aml", frame, MartConfig(disease="AML"))
    released = result.frame
    if released.empty:
        assert result.report["k"] is None
    else:
        assert released[QI_COLUMNS].astype(str).value_counts().min() >= 11
        assert result.report["max_prosecutor_risk"] <= 1 / 11 + 1e-9
    if result.report["within_budget"]:
        assert result.report["suppressed_records"] <= 0.05 * len(frame)


# --- the anonymiser on a realistic mart ---------------------------------------------------------


def test_least_generalisation_within_budget_and_what_is_dropped():
    mart = synthetic_mart(4000, seed=3)
    result = anonymise_mart("mart_aml", mart)
    report, released = result.report, result.frame
    assert report["k"] >= 11 and report["records_at_risk"] == 0
    assert report["before"]["k"] < 11  # the raw mart was not anonymous
    assert report["suppressed_share"] <= 0.05 and len(released) == 4000 - report["suppressed_records"]
    # least: making any generalised QI one level finer would exceed the suppression budget
    chosen = {c: g["level"] for c, g in report["generalisation"].items()}
    for column in QI_COLUMNS:
        if chosen[column] > 0:
            finer = dict(chosen, **{column: chosen[column] - 1})
            sizes = class_sizes(generalise(mart, QIS, finer), QI_COLUMNS)
            assert (sizes < 11).sum() > 0.05 * len(mart), f"{column} could stay finer"
    assert "person_hash" not in released.columns and "diagnosis_date" not in released.columns
    assert set(report["dropped_columns"]) == {"person_hash", "diagnosis_date"}
    assert released["row_id"].tolist() == list(range(1, len(released) + 1))  # sorted, no gaps
    # clinical values are untouched (no noise) on the rows that stay
    merged = released.merge(mart[["wbc", "os_months"]], on=["wbc", "os_months"], how="left", indicator=True)
    assert (merged["_merge"] == "both").all()


def test_perturbation_is_bounded_deterministic_and_refused_on_risk_score_inputs():
    mart = synthetic_mart(2000, seed=5)
    first = anonymise_mart("mart_aml", mart)
    second = anonymise_mart("mart_aml", mart.sample(frac=1.0, random_state=9))
    assert first.report["perturbed_columns"] == {"age_at_transplant": {"noise": "uniform", "amplitude": 2.0}}
    pd.testing.assert_frame_equal(first.frame, second.frame)  # input order does not matter
    original = mart.set_index("person_hash")["age_at_transplant"]
    # map released rows back via the untouched clinical column to measure the noise
    back = first.frame.merge(
        mart[["wbc", "os_months", "age_at_transplant"]], on=["wbc", "os_months"], suffixes=("", "_true")
    )
    noise = back["age_at_transplant"] - back["age_at_transplant_true"]
    assert noise.abs().max() <= 2.5  # amplitude 2 plus rounding to whole years
    assert (noise != 0).mean() > 0.5 and original.notna().all()
    with pytest.raises(ValueError, match="risk scores"):
        MartConfig(noise={"wbc": 1.0}).validate()
    with pytest.raises(ValueError, match="quasi-identifier"):
        MartConfig(noise={"age_at_diagnosis": 1.0}).validate()


def test_row_ids_are_a_fresh_permutation_per_input():
    mart = synthetic_mart(1500, seed=8)
    a = anonymise_mart("mart_aml", mart).frame
    b = anonymise_mart("mart_aml", mart.iloc[1:]).frame  # one patient fewer: a new release
    assert a["row_id"].is_unique and a["row_id"].min() == 1
    joined = a.merge(b, on=["wbc", "os_months"], suffixes=("_a", "_b"))
    # ids do not carry over between releases, so rows cannot be linked by id
    assert (joined["row_id_a"] == joined["row_id_b"]).mean() < 0.05


def test_tiny_mart_is_suppressed_entirely():
    mart = synthetic_mart(8, seed=1)
    result = anonymise_mart("mart_apl", mart)
    assert result.frame.empty and result.report["within_budget"] is False and result.report["k"] is None


# --- linkage attack ---------------------------------------------------------------------------


def test_linkage_attack_unique_match_share_at_most_one_over_k():
    mart = synthetic_mart(6000, seed=21)
    result = anonymise_mart("mart_aml", mart)
    released = result.frame
    levels = {c: g["level"] for c, g in result.report["generalisation"].items()}
    # the attacker knows the exact quasi-identifiers of 500 participants (ground truth)
    known = mart.sample(500, random_state=4)[QI_COLUMNS].reset_index(drop=True)
    known["who"] = range(len(known))
    exact_matches = known.merge(mart[QI_COLUMNS], on=QI_COLUMNS).groupby("who").size()
    assert (exact_matches == 1).mean() > 0.5  # without anonymisation most participants are unique

    attacker = generalise(known, QIS, levels)  # generalised as the release is
    matches = attacker.merge(released[QI_COLUMNS], on=QI_COLUMNS, how="left", indicator=True)
    per_person = (
        matches[matches["_merge"] == "both"].groupby("who").size().reindex(known["who"], fill_value=0)
    )
    unique_share = (per_person == 1).mean()
    assert unique_share <= 1 / 11
    assert per_person[per_person > 0].min() >= 11


def test_a_person_delivered_by_two_sources_counts_once():
    # 10 persons each delivered twice (20 rows) share one QI combination: 20 rows but only 10 people
    twice = pd.DataFrame(
        {"person_hash": [f"dup{i}" for i in range(10)] * 2, "source_id": ["A"] * 10 + ["B"] * 10}
    )
    once = pd.DataFrame({"person_hash": [f"one{i}" for i in range(300)], "source_id": "A"})
    mart = pd.concat([twice.assign(sex="F"), once.assign(sex="M")], ignore_index=True)
    mart = mart.assign(age_at_diagnosis=60.0, country="DE", diagnosis_year=2015, disease_subtype="NPM1")
    result = anonymise_mart("mart_aml", mart)
    assert result.report["generalisation"]["sex"]["level"] == 0
    assert result.report["suppressed_records"] == 20 and (result.frame["sex"] == "M").all()
    sizes = class_sizes(mart, ["sex"], mart["person_hash"])
    assert sizes[mart["sex"] == "F"].unique().tolist() == [10]
    assert class_sizes(mart, ["sex"])[mart["sex"] == "F"].unique().tolist() == [20]


def test_age_weight_keeps_age_banded_where_equal_weights_would_drop_it():
    # a small single-country mart, as a 2000-patient demo gives: age and year cannot both stay
    rng = np.random.default_rng(0)
    n = 240
    mart = pd.DataFrame(
        {
            "person_hash": np.arange(n),  # the dbt marts carry person_hash as BIGINT
            "age_at_diagnosis": rng.normal(66, 13, n).round(1),
            "sex": rng.choice(["M", "F"], n),
            "country": "DE",
            "diagnosis_year": rng.integers(2007, 2025, n),
            "disease_subtype": "AML",
        }
    )
    weighted = anonymise_mart("mart_aml", mart).report
    equal = anonymise_mart("mart_aml", mart, MartConfig(disease="AML", weights={})).report
    assert (
        weighted["qi_weights"]["age_at_diagnosis"] == 2.0 and equal["qi_weights"]["age_at_diagnosis"] == 1.0
    )
    assert weighted["generalisation"]["age_at_diagnosis"]["name"] == "20-year band"
    assert equal["generalisation"]["age_at_diagnosis"]["name"] == "suppressed"
    for report in (weighted, equal):
        assert report["k"] >= 11 and report["suppressed_share"] <= 0.05
        # constant columns cost nothing, so they stay as delivered
        assert report["generalisation"]["country"]["level"] == 0
        assert report["generalisation"]["disease_subtype"]["level"] == 0


def test_released_rows_are_those_of_the_reference_implementation():
    """The output of anonymise_mart is pinned: a digest of the released frame (values, dtypes, column
    order) and the report, as the implementation of commit 8f19da8 produced them. A faster
    implementation must release exactly the same rows (released ids and noise stay stable)."""
    frame = synthetic_mart(3000, seed=3)
    frame["visit_day"] = [
        datetime.date(2010, 1, 1) + datetime.timedelta(days=i % 900) if i % 7 else None for i in range(3000)
    ]
    frame["patient_key"] = frame["person_hash"] + "-k"
    frame.loc[frame.index[:40], "person_hash"] = frame["person_hash"].iloc[40:80].to_numpy()  # two sources
    frame.index = frame.index[::-1] + 100  # not a RangeIndex
    result = anonymise_mart("mart_aml", frame, k=11)
    digest = hashlib.sha256(
        json.dumps(
            [list(result.frame.columns), [str(d) for d in result.frame.dtypes], result.report],
            sort_keys=True,
            default=str,
        ).encode()
    )
    digest.update(pd.util.hash_pandas_object(result.frame, index=True).to_numpy().tobytes())
    assert result.report["dropped_columns"] == ["person_hash", "patient_key", "diagnosis_date", "visit_day"]
    assert digest.hexdigest() == "8f36946e7b08e735d08ef2d6698b67ea31effe8c76243542695630cfaf779c4a"
