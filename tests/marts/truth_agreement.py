"""Measuring the marts against the synthetic ground truth (issue 6), shared by the test and the bench script
(bench/risk_truth.py): build a cohort through the real stages, compare every risk group with the truth,
read the survival separation from the marts' Kaplan-Meier tables."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
from dbt_runner import BUILD_MARTS, run_dbt

from harmony_pipeline.privacy.pseudonym import patient_key

# truth column -> (disease, outcomes model, column)
CLASSIFICATIONS = {
    "eln2022": ("AML", "risk_aml", "eln2022_group"),
    "eln2017": ("AML", "risk_aml", "eln2017_group"),
    "sanz": ("APL", "risk_apl", "sanz_group"),
    "ipss_r": ("MDS", "risk_mds", "ipssr_group"),
    "ipss_m": ("MDS", "risk_mds", "ipssm_group"),
    "iss": ("MM", "risk_mm", "iss_stage"),
    "r_iss": ("MM", "risk_mm", "riss_stage"),
    "r2_iss": ("MM", "risk_mm", "r2iss_stage"),
    "cll_ipi": ("CLL", "risk_cll", "cll_ipi_group"),
    "ipi": ("NHL", "risk_nhl", "ipi_group"),
    "nccn_ipi": ("NHL", "risk_nhl", "nccn_ipi_group"),
    "flipi": ("NHL", "risk_nhl", "flipi_group"),
    "nci_risk": ("ALL", "risk_all", "nci_group"),
}
# Published separation (clinical_rules.md): IPSS-R median OS in years (Greenberg 2012), R-ISS 5-year OS
# (Palumbo 2015).
IPSSR_MEDIAN_YEARS = {"Very Low": 8.8, "Low": 5.3, "Intermediate": 3.0, "High": 1.6, "Very High": 0.8}
RISS_FIVE_YEAR_OS = {"I": 0.82, "II": 0.62, "III": 0.40}
TOLERANCE = 0.20
NULL = "<not computable>"


def build_cohort(
    home: Path, work: Path, patients: int, seed: int, key: str, sources: list[str] | None = None
) -> tuple[Path, pd.DataFrame]:
    """synth -> contracts + quality gate + ingest -> dbt build; the truth keyed by patient_key, with
    `has_defect` for patients with an injected defect in any of their rows. HARMONY_HOME, the key and
    the contracts directory must already be set in the environment."""
    from harmony_pipeline.contracts import load_contracts
    from harmony_pipeline.ingest.load import ingest_source
    from harmony_pipeline.settings import get_settings
    from harmony_pipeline.synth import synthesise

    synthesise(home, patients, seed)
    settings = get_settings()
    con = duckdb.connect(str(settings.warehouse))
    try:
        for source_id, contract in load_contracts(settings).items():
            if sources is None or source_id in sources:
                ingest_source(con, contract, settings, key.encode())
        not_loaded = con.execute(
            "select source_id, delivery_id, error from ops.delivery_ledger where status <> 'loaded'"
        ).fetchall()
    finally:
        con.close()
    assert not not_loaded, f"deliveries not loaded: {not_loaded}"
    result = run_dbt(settings.warehouse, work, *BUILD_MARTS)
    assert result.returncode == 0, result.stdout[-4000:]
    truth = pd.read_csv(home / "truth" / "risk_groups.csv", dtype=str)
    if sources is not None:
        truth = truth[truth["source_id"].isin(sources)]
    truth["patient_key"] = [
        patient_key(key.encode(), s, p) for s, p in zip(truth.source_id, truth.source_patient_id, strict=True)
    ]
    defects = pd.read_csv(home / "truth" / "defect_patients.csv", dtype=str)
    flagged = pd.MultiIndex.from_frame(defects[["source_id", "source_patient_id"]])
    truth["has_defect"] = pd.MultiIndex.from_frame(truth[["source_id", "source_patient_id"]]).isin(flagged)
    return settings.warehouse, truth.reset_index(drop=True)


def agreement(warehouse: Path, truth: pd.DataFrame) -> pd.DataFrame:
    """Per classification, over the defect-free patients of its disease: how many the truth and the marts
    decide and how many differ (NULL = not computable on both sides; labels compared exactly)."""
    clean = truth[~truth["has_defect"]]
    rows = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for truth_col, (disease, model, col) in CLASSIFICATIONS.items():
            mine = con.execute(f"select patient_key, {col} as marts from outcomes.{model}").df()
            both = clean[clean["disease"] == disease].merge(mine, on="patient_key", how="left")
            differ = both[truth_col].fillna(NULL) != both["marts"].fillna(NULL)
            examples = both.loc[differ, ["source_id", "source_patient_id", truth_col, "marts"]].head(5)
            rows.append(
                {
                    "classification": truth_col,
                    "patients": len(both),
                    "truth_decided": int(both[truth_col].notna().sum()),
                    "marts_decided": int(both["marts"].notna().sum()),
                    "disagree": int(differ.sum()),
                    "examples": examples.to_dict("records"),
                }
            )
    return pd.DataFrame(rows)


def survival_separation(warehouse: Path) -> pd.DataFrame:
    """IPSS-R median OS and R-ISS 5-year OS per group from marts.km_mds / marts.km_mm (endpoint OS),
    against the published values."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        medians = con.execute(
            "select risk_group, any_value(median_months) / 12, any_value(n_patients) from marts.km_mds "
            "where endpoint = 'OS' and classification = 'IPSS-R' group by risk_group"
        ).fetchall()
        five_year = con.execute(
            "select risk_group, any_value(survival_60m), any_value(n_patients) from marts.km_mm "
            "where endpoint = 'OS' and classification = 'R-ISS' group by risk_group"
        ).fetchall()
    rows = []
    for measure, published, observed in (
        ("IPSS-R median OS (years)", IPSSR_MEDIAN_YEARS, medians),
        ("R-ISS 5-year OS", RISS_FIVE_YEAR_OS, five_year),
    ):
        found = {group: (value, n) for group, value, n in observed}
        for group, expected in published.items():
            value, n = found.get(group, (None, 0))
            relative = None if value is None else abs(value - expected) / expected
            rows.append(
                {
                    "measure": measure,
                    "group": group,
                    "patients": n,
                    "published": expected,
                    "marts": None if value is None else round(value, 3),
                    "relative_error": None if relative is None else round(relative, 3),
                    "within_20pct": relative is not None and relative <= TOLERANCE,
                }
            )
    return pd.DataFrame(rows)
