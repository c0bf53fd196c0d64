"""harmony synth: determinism, clinical realism, survival separation, repeat patients, deliveries."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from harmony_pipeline.synth import SOURCE_IDS, cohort, synthesise
from harmony_pipeline.synth.risk import ipss_r_group, ipss_r_score, iss, r_iss

COUNTRIES = {"DE": 1.0}


def _hashes(home):
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    synthesise(a, 400, 5, deliveries=2)
    synthesise(b, 400, 5, deliveries=2)
    synthesise(c, 400, 6, deliveries=2)
    ha, hb, hc = _hashes(a), _hashes(b), _hashes(c)
    assert ha == hb
    formats = {p.rsplit(".", 1)[-1] for p in ha}
    assert {"csv", "tsv", "txt", "json", "parquet", "xlsx"} <= formats  # every writer is deterministic
    assert ha.keys() == hc.keys() and ha != hc


def test_every_source_delivers_files_and_truth(network):
    home, summary = network
    for source_id in SOURCE_IDS:
        deliveries = list((home / "landing" / source_id).iterdir())
        assert len(deliveries) == 1 and deliveries[0].name == "2025-12-31_d01"
        assert any(deliveries[0].iterdir())
        assert (home / "truth" / "patients" / f"{source_id}.parquet").exists()
    risk = pd.read_csv(home / "truth" / "risk_groups.csv")
    assert set(risk["source_id"]) == set(SOURCE_IDS)
    assert risk.groupby("source_id")["source_patient_id"].apply(lambda s: s.is_unique).all()
    assert summary["persons"] == risk["person_id"].nunique()


def test_identifiers_and_conventions_in_files(network):
    home, _ = network
    landing = home / "landing"
    de = next((landing / "de_aml_sg").glob("*/amlsg_export_*.csv")).read_bytes()
    text = de.decode("latin-1")
    header = text.splitlines()[0].split(";")
    assert {"Nachname", "Vorname", "Geburtsdatum", "PLZ", "KH_Nummer"} <= set(header)
    with pytest.raises(UnicodeDecodeError):  # really latin-1 (umlauts), not UTF-8
        de.decode("utf-8")
    first = text.splitlines()[1].split(";")
    assert pd.to_datetime(first[header.index("Diagnosedatum")], format="%d.%m.%Y") is not pd.NaT
    mds = next((landing / "mds_registry_fr").glob("*/*.tsv")).read_text(encoding="utf-8")
    assert "\t" in mds and "SMD avec" in mds and "\tNR\t" in mds
    nl = pd.read_excel(next((landing / "nl_be_hemato").glob("*/*.xlsx")))
    hb = pd.to_numeric(nl["Hb_mmol_L"], errors="coerce").dropna()
    assert 4.5 < hb.median() < 7.5  # mmol/L, not g/dL
    trial = pd.read_parquet(next((landing / "aml_flt3_trial").glob("*/*.parquet")))
    assert (
        "DTHDY" in trial and "Geburtsdatum" not in trial and (trial["FLT3ITD"].isin(["Y", "N"])).mean() > 0.9
    )


def test_disease_mix_ages_and_mutation_frequencies():
    rng = np.random.default_rng(1)
    aml = cohort.aml(rng, 20000, COUNTRIES)
    assert 66 <= aml["age"].median() <= 70  # AML median age near 68
    assert 0.25 <= aml["G_NPM1"].mean() <= 0.35  # NPM1 about 30%
    assert 0.20 <= aml["G_FLT3_ITD"].mean() <= 0.30  # FLT3-ITD about 25%
    assert (aml.loc[aml["G_NPM1"] > 0, "cyto"] == "normal").mean() > 0.7  # NPM1 mostly normal karyotype
    paed = cohort.all_(rng, 20000, COUNTRIES, paediatric=True)
    counts, edges = np.histogram(paed["age"], bins=np.arange(0, 20))
    assert 2 <= edges[counts.argmax()] <= 5  # paediatric ALL peaks at 2-5 years
    assert paed["age"].max() < 19
    mm = cohort.mm(rng, 20000, COUNTRIES)
    assert (mm["r_iss"] == "II").mean() > 0.5 and 0.05 < (mm["r_iss"] == "III").mean() < 0.2
    cll = cohort.cll(rng, 20000, COUNTRIES)
    assert 0.40 <= (cll["ighv_identity"] >= 98).mean() <= 0.50 and (cll["sex"] == "M").mean() > 0.55


def _km_median(time, event):
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter().fit(time, event).median_survival_time_


def _km_at(time, event, t):
    from lifelines import KaplanMeierFitter

    return float(KaplanMeierFitter().fit(time, event).survival_function_at_times(t).iloc[0])


def test_survival_reproduces_ipss_r_medians_and_r_iss_five_year_os():
    rng = np.random.default_rng(7)
    mds = cohort.mds(rng, 30000, COUNTRIES)
    mds = pd.concat([mds, cohort.clinical_course(rng, mds)], axis=1)
    years = (mds["last_contact"] - mds["diag_date"]) / cohort.YEAR
    dead = mds["vital_status"] == "dead"
    published = {"Very Low": 8.8, "Low": 5.3, "Intermediate": 3.0, "High": 1.6, "Very High": 0.8}
    medians = {g: _km_median(years[mds["ipss_r"] == g], dead[mds["ipss_r"] == g]) for g in published}
    for group, median in published.items():
        assert abs(medians[group] - median) / median < 0.2, (group, medians[group])
    mm = cohort.mm(rng, 20000, COUNTRIES)
    mm = pd.concat([mm, cohort.clinical_course(rng, mm)], axis=1)
    years = (mm["last_contact"] - mm["diag_date"]) / cohort.YEAR
    dead = mm["vital_status"] == "dead"
    for group, os5 in {"I": 0.82, "II": 0.62, "III": 0.40}.items():
        observed = _km_at(years[mm["r_iss"] == group], dead[mm["r_iss"] == group], 5.0)
        assert abs(observed - os5) / os5 < 0.2, (group, observed)


def test_true_risk_groups_follow_the_rules_at_boundaries():
    # IPSS-R: good cytogenetics (1) + blasts 2% (0) + Hb 10 (0) + PLT 100 (0) + ANC 0.8 (0) = 1.0 Very Low
    # and good (1) + blasts 5% (2) + Hb 7.9 (1.5) + PLT 49 (1) + ANC 0.7 (0.5) = 6.0, the top of High
    score = ipss_r_score(np.array([1.0, 1.0]), np.array([2.0, 5.0]), np.array([10.0, 7.9]),
                         np.array([100.0, 49.0]), np.array([0.8, 0.7]))  # fmt: skip
    assert score.tolist() == [1.0, 6.0]
    assert ipss_r_group(score).tolist() == ["Very Low", "High"]
    stage = iss(np.array([3.49, 3.5, 5.5]), np.array([3.5, 4.0, 4.0]))
    assert stage.tolist() == ["I", "II", "III"]
    no = np.array([False, False, False])
    assert r_iss(stage, no, no, no, np.array([False, True, True])).tolist() == ["I", "II", "III"]


def test_treatment_course_is_consistent_in_time(network):
    home, _ = network
    t = pd.concat([pd.read_parquet(p) for p in sorted((home / "truth" / "patients").glob("*.parquet"))])
    diag, last = t["diag_date"], t["last_contact"]
    assert (t["birth_date"] < diag).all() and (diag <= last).all()
    for col in (
        "line1_start",
        "response1_date",
        "relapse_date",
        "line2_start",
        "transplant_date",
        "death_date",
    ):
        known = t[col].notna()
        assert (t.loc[known, col] >= diag[known]).all(), col
        assert (t.loc[known, col] <= last[known]).all(), col
    both = t["relapse_date"].notna() & t["response1_date"].notna()
    assert (t.loc[both, "relapse_date"] > t.loc[both, "response1_date"]).all()
    assert ((t["vital_status"] == "dead") == t["death_date"].notna()).all()
    assert (
        t.loc[t["death_date"].notna(), "death_date"] == t.loc[t["death_date"].notna(), "last_contact"]
    ).all()


def test_repeat_patients_share_linkage_identifiers(network):
    home, summary = network
    repeats = pd.read_csv(home / "truth" / "repeat_persons.csv")
    assert summary["repeat_persons"] > 20
    assert set(repeats.loc[repeats["source_id"] == "transplant_registry", "person_id"]) == set(
        repeats["person_id"]
    )
    t = pd.concat([pd.read_parquet(p) for p in sorted((home / "truth" / "patients").glob("*.parquet"))])
    linked = t[t["person_id"].isin(repeats["person_id"])]
    per_person = linked.groupby("person_id")[
        ["birth_date", "sex", "initials", "diag_date", "death_date"]
    ].nunique(dropna=False)
    assert (per_person == 1).all().all()
    # and they really appear so in the registry file next to the other source's file
    registry = pd.read_csv(
        next((home / "landing" / "transplant_registry").glob("*/*.txt")),
        sep="|",
        dtype=str,
        on_bad_lines="skip",
    )
    cll = pd.read_csv(
        next((home / "landing" / "cll_initiative").glob("*/*.csv")),
        dtype=str,
        keep_default_na=False,
        on_bad_lines="skip",
    )
    keys = registry[["birth_date", "sex", "initials"]].assign(
        sex=registry["sex"].map({"M": "male", "F": "female"})
    )
    matched = cll.merge(keys, left_on=["dob", "sex", "initials"], right_on=["birth_date", "sex", "initials"])
    expected = repeats[repeats["source_id"] == "cll_initiative"]
    assert len(matched) >= len(expected) * 0.9


def test_deliveries_over_time_bring_new_patients_and_follow_up(staggered):
    home, _ = staggered
    log = pd.read_csv(home / "truth" / "deliveries.csv")
    for source_id, rows in log.groupby("source_id"):
        ids = sorted(rows["delivery_id"].unique())
        assert ids == sorted(ids, key=lambda d: d[:10]) and len(ids) == 3, source_id
    cll = sorted((home / "landing" / "cll_initiative").iterdir())
    frames = [pd.read_csv(next(d.glob("*.csv")), dtype=str, keep_default_na=False) for d in cll]
    first, second = frames[0], frames[1]
    cutoff_1 = cll[0].name[:10]
    assert (pd.to_datetime(first["diagnosis_date"]) <= cutoff_1).all()
    assert (pd.to_datetime(first["last_followup"]) <= cutoff_1).all()  # nothing after the cut-off is known
    again = second[second["pat_id"].isin(first["pat_id"])]
    assert len(again) > 0 and (second["pat_id"].isin(first["pat_id"]) == False).any()  # noqa: E712
    merged = again.merge(first, on="pat_id", suffixes=("_2", "_1"))
    assert (pd.to_datetime(merged["last_followup_2"]) > pd.to_datetime(merged["last_followup_1"])).all()
    assert (merged["dob_2"] == merged["dob_1"]).all()
