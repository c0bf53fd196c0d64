"""Issue 6, measured against the synthetic ground truth through the real stages (synth -> contracts +
quality gate + ingest -> dbt staging, outcomes, marts):

- every risk group of every defect-free patient in the marts equals the generator's true group, NULL
  (not computable from what the source delivers) on both sides included;
- IPSS-R median OS and R-ISS 5-year OS from the marts' Kaplan-Meier tables are within 20% of the
  published values.

Seed 7 also covers the myeloma network delivery once reported rejected at that seed: every delivery
must load. `pytest -s` prints the figures; bench/risk_truth.py measures larger cohorts.
"""

from __future__ import annotations

import pandas as pd
import pytest
from truth_agreement import agreement, build_cohort, survival_separation

KEY = "marts-truth-test-key"
SEED = 7
PATIENTS = 1500
# MDS and MM sources only: 60k persons give ~300 IPSS-R Very High and ~700 R-ISS III patients (at 20k the
# smallest group, ~90 patients, can miss by 40% on sampling noise alone: bench/risk_truth.py --seed 3)
SURVIVAL_PATIENTS = 60000
SURVIVAL_SOURCES = ["mds_registry_fr", "mm_trials_network", "nl_be_hemato"]


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _build(tmp_path_factory, monkeypatch_module, name, patients, sources=None):
    work = tmp_path_factory.mktemp(name)
    home = work / "home"
    monkeypatch_module.setenv("HARMONY_HOME", str(home))
    monkeypatch_module.setenv("HARMONY_PSEUDONYM_KEY", KEY)
    monkeypatch_module.delenv("HARMONY_CONTRACTS_DIR", raising=False)
    warehouse, truth = build_cohort(home, work, patients, SEED, KEY, sources)
    return home, warehouse, truth


@pytest.fixture(scope="module")
def network(tmp_path_factory, monkeypatch_module):
    return _build(tmp_path_factory, monkeypatch_module, "truth", PATIENTS)


def no_major_site_reported(home, truth: pd.DataFrame) -> pd.Index:
    """patient_keys of lymphoma_sa patients with extranodal disease but none of the four NCCN-IPI major
    sites (EN_BM, EN_CNS, EN_LIVER_GI, EN_LUNG all 'N'). The contract cannot yet say "none involved":
    the source suite expectations/sources/lymphoma_sa.json (quality stage) quarantines any other site
    value, so the marts cannot decide NCCN-IPI for them (docs in lymphoma_sa.yml)."""
    patients = pd.read_parquet(home / "truth" / "patients" / "lymphoma_sa.parquet")
    sites = patients[["en_bm", "en_cns", "en_liver_gi", "en_lung"]].sum(axis=1)
    gap = patients.loc[(patients["extranodal_sites"] > 0) & (sites == 0), "source_patient_id"]
    mine = truth[(truth["source_id"] == "lymphoma_sa") & truth["source_patient_id"].isin(gap)]
    return pd.Index(mine["patient_key"])


def test_every_risk_group_equals_the_truth(network):
    home, warehouse, truth = network
    report = agreement(warehouse, truth)
    print("\n" + report.drop(columns="examples").to_string(index=False))
    assert truth["has_defect"].any() and (~truth["has_defect"]).sum() > 0.9 * len(truth)
    # every classification has defect-free patients the sources deliver the inputs for
    assert (report["truth_decided"] > 0).all(), report
    exact = report[report["classification"] != "nccn_ipi"]
    assert (exact["disagree"] == 0).all(), exact[exact["disagree"] > 0].to_dict("records")
    # most groups are computable (FLIPI is for FL only, NCI risk for B-ALL aged 1-18, and the transplant
    # registry delivers no risk inputs)
    assert exact["truth_decided"].sum() / exact["patients"].sum() > 0.7


def test_nccn_ipi_equals_the_truth_also_without_a_major_site(network):
    home, warehouse, truth = network
    import duckdb

    clean = truth[~truth["has_defect"] & (truth["disease"] == "NHL")]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        mine = con.execute("select patient_key, nccn_ipi_group as marts from outcomes.risk_nhl").df()
    both = clean.merge(mine, on="patient_key", how="left")
    differ = both["nccn_ipi"].fillna("-") != both["marts"].fillna("-")
    gap = both["patient_key"].isin(no_major_site_reported(home, truth))
    print(f"\nNCCN-IPI: {differ.sum()} of {both['nccn_ipi'].notna().sum()} true groups differ")
    # every group equals the truth, including patients with no major extranodal site involved
    assert not differ.any(), both[differ].head()
    assert gap.any()  # such patients are in the cohort and decided
    assert (both["marts"].notna() & both["nccn_ipi"].notna()).sum() > 10


def test_ipss_r_and_r_iss_separate_survival_as_published(tmp_path_factory, monkeypatch_module):
    _, warehouse, _ = _build(
        tmp_path_factory, monkeypatch_module, "survival", SURVIVAL_PATIENTS, SURVIVAL_SOURCES
    )
    separation = survival_separation(warehouse)
    print("\n" + separation.to_string(index=False))
    # Greenberg 2012 medians and Palumbo 2015 5-year OS, each group within 20% of the published value
    assert separation["within_20pct"].all(), separation[~separation["within_20pct"]].to_dict("records")
    assert (separation["patients"] >= 100).all()
