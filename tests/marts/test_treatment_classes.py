"""Treatment classes (seeds/treatment_classes.csv, derived in stg_treatment) through the real dbt build:

- on hand-written rows: every regimen the synthetic generator delivers has a class; spellings match
  whatever their case, accents and separators; the class a delivery states wins; an unknown regimen
  stays NULL (not guessed from its drug) and the warn test counts it; a drug classifies only a row
  that names no regimen; a line with an unclassified row has no class;
- on a 10k synthetic cohort through contracts, quality gate and ingest: first_line_class is filled in
  every disease mart and marts.mm_pfs_by_treatment compares several classes within each R-ISS stage.

Expected classes are read from the guidelines the seed cites (ELN 2022, EHA-ESMO 2021, ESMO), not from
the output of the code under test.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dbt_runner import BUILD_MARTS, run_dbt
from test_marts_dbt import Rows
from truth_agreement import build_cohort

from harmony_pipeline.synth.cohort import FIRST_LINE, REGIMEN_DRUGS, SECOND_LINE

START = date(2021, 1, 1)
# (regimen, drug, stated class) -> expected class; each case is its own patient's line 1
CASES = {
    "aml": (("7+3", None, None), "intensive chemotherapy"),  # ELN 2022: intensive induction
    "aml_ven": (("aza-ven", None, None), "HMA + venetoclax"),  # ELN 2022: non-intensive
    "aml_flt3": (("7+3+midostaurin", None, None), "intensive chemotherapy + FLT3 inhibitor"),
    "mm_triplet": (("VRd", None, None), "PI + IMiD"),  # EHA-ESMO 2021
    "mm_quad": (("Dara-VRd", None, None), "anti-CD38 + PI + IMiD"),
    "mm_doublet": (("Rd", None, None), "IMiD-based"),
    "nhl": (("R-CHOP", None, None), "anthracycline-based chemoimmunotherapy"),  # ESMO DLBCL
    "all_ph": (("imatinib+chemo", None, None), "TKI + chemotherapy"),  # ESMO ALL
    "cll": (("venetoclax+obinutuzumab", None, None), "venetoclax + anti-CD20"),  # ESMO CLL
    "aml_go": (("7+3+GO", None, None), "intensive chemotherapy + gemtuzumab ozogamicin"),  # ELN 2022
    "aml_ldac_ven": (("LDAC + venetoclax", None, None), "LDAC + venetoclax"),  # ELN 2022: non-intensive
    "hodgkin": (("ABVD", None, None), "anthracycline-based chemotherapy"),  # ESMO Hodgkin lymphoma 2018
    "mm_bispecific": ((None, "teclistamab", None), "bispecific T-cell engager"),  # MajesTEC-1
    # real-world spellings: case, spaces, other separators, accents
    "spelled_ven": (("AZA / VEN", None, None), "HMA + venetoclax"),
    "spelled_chop": ((" r chop ", None, None), "anthracycline-based chemoimmunotherapy"),
    "spelled_accent": (("Décitabine", None, None), "HMA"),
    # the class the delivery states wins over the derived one
    "stated": (("VRd", "bortezomib", "proteasome inhibitor (stated)"), "proteasome inhibitor (stated)"),
    # no regimen: the drug, when it is a whole treatment on its own
    "drug_only": ((None, "ibrutinib", None), "BTK inhibitor"),
    # unknown regimen: NULL, even though its drug alone would have a class
    "unknown": (("experimental", "azacitidine", None), None),
}


def synthetic_regimens() -> set[str]:
    firsts = {r for labels, _ in FIRST_LINE.values() for r in labels}
    return set(REGIMEN_DRUGS) | firsts | {r for labels in SECOND_LINE.values() for r in labels}


def rows() -> Rows:
    r = Rows()
    for pid, ((regimen, drug, stated), _) in CASES.items():
        r.patient(pid, "MM", START, 60.0)
        r.add("treatment", pid, line=1, regimen=regimen, drug=drug, treatment_class=stated, start_date=START)
    # every regimen the generator delivers, one line each, regimen only (as the contracts map them)
    r.patient("synthetic", "AML", START, 60.0)
    for line, regimen in enumerate(sorted(synthetic_regimens()), start=1):
        r.add("treatment", "synthetic", line=line, regimen=regimen, start_date=START)
    # a line delivered drug by drug without its regimen: azacitidine has a class, venetoclax alone none
    r.patient("partial", "AML", START, 75.0)
    for drug in ("azacitidine", "venetoclax"):
        r.add("treatment", "partial", line=1, regimen=None, drug=drug, start_date=START)
    return r


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("treatment_classes")
    path = work / "warehouse.duckdb"
    rows().write(path)
    result = run_dbt(path, work, *BUILD_MARTS)
    assert result.returncode == 0, result.stdout[-4000:]
    return path, work


def query(warehouse: Path, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def test_every_synthetic_regimen_has_a_class(built):
    warehouse, _ = built
    classes = dict(
        query(
            warehouse,
            "select regimen, treatment_class from staging.stg_treatment where person_key = ?",
            ["person:synthetic"],
        )
    )
    assert set(classes) == synthetic_regimens()
    assert {r: c for r, c in classes.items() if c is None} == {}


def test_classes_of_guideline_regimens_spellings_stated_and_unknown(built):
    warehouse, _ = built
    got = dict(
        query(
            warehouse,
            "select split_part(patient_key, ':', 2), first_line_class from outcomes.treatment_lines "
            "where patient_key <> 'src_a:synthetic' and patient_key <> 'src_a:partial'",
        )
    )
    assert got == {pid: expected for pid, (_, expected) in CASES.items()}


def test_a_line_with_an_unclassified_drug_has_no_class(built):
    warehouse, _ = built
    stg = dict(
        query(
            warehouse,
            "select drug, treatment_class from staging.stg_treatment where person_key = ?",
            ["person:partial"],
        )
    )
    assert stg == {"azacitidine": "HMA", "venetoclax": None}
    assert query(
        warehouse, "select first_line_class from outcomes.treatment_lines where patient_key = 'src_a:partial'"
    ) == [(None,)]


def test_unclassified_rows_are_counted_by_a_warning(built):
    _, work = built
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    (test,) = [r for r in results if r["unique_id"].startswith("test.harmony.stg_treatment_unclassified")]
    # 'experimental' and the venetoclax row of the drug-by-drug line
    assert (test["status"], test["failures"]) == ("warn", 2)


# --- a 10k synthetic cohort through contracts, quality gate and ingest ----------------------------------

KEY = "treatment-class-test-key"
SEED = 3
PATIENTS = 10_000
MARTS = ("mart_aml", "mart_apl", "mart_all", "mart_cll", "mart_mds", "mart_mm", "mart_nhl", "mart_paediatric")


@pytest.fixture(scope="module")
def cohort_warehouse(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("treatment_classes_10k")
    home = work / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HARMONY_HOME", str(home))
        mp.setenv("HARMONY_PSEUDONYM_KEY", KEY)
        mp.delenv("HARMONY_CONTRACTS_DIR", raising=False)
        mp.delenv("HARMONY_DEMO", raising=False)
        warehouse, _ = build_cohort(home, work, PATIENTS, SEED, KEY)
    return warehouse


def test_first_line_class_is_filled_in_every_disease_mart(cohort_warehouse):
    for mart in MARTS:
        treated, classified, classes = query(
            cohort_warehouse,
            f"select count(first_line_regimen), count(first_line_class), count(distinct first_line_class) "
            f"from marts.{mart}",
        )[0]
        assert treated > 0, mart
        # every synthetic regimen is in the seed: every treated patient has a first-line class
        assert classified == treated, mart
        assert classes >= 2, mart


def test_mm_pfs_compares_several_classes_within_each_riss_stage(cohort_warehouse):
    per_stage = dict(
        query(
            cohort_warehouse,
            "select riss_stage, count(distinct treatment_class) from marts.mm_pfs_by_treatment "
            "where n_patients > 0 group by riss_stage",
        )
    )
    # the generator's four first-line myeloma regimens are four classes (EHA-ESMO 2021)
    assert per_stage == {"I": 4, "II": 4, "III": 4}
    classes = {
        c
        for (c,) in query(cohort_warehouse, "select distinct treatment_class from marts.mm_pfs_by_treatment")
    }
    assert classes == {"PI + IMiD", "anti-CD38 + PI + IMiD", "PI-based", "IMiD-based"}
