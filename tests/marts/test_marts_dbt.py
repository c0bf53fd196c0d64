"""Real dbt build of staging, outcomes and marts on hand-written canonical rows in a temporary DuckDB.

Every expected value below is worked out by hand from clinical_rules.md (the published rules) and the
dates written here; nothing is copied from the output of the code under test.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from dbt_runner import BUILD_MARTS, run_dbt

from harmony_pipeline import canonical

MONTH = 30.4375  # days per month used by the endpoints


class Rows:
    """Collects canonical rows per entity with their lineage columns filled in."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {name: [] for name in canonical.ENTITIES}

    def add(self, entity: str, pid: str, source: str = "src_a", delivery: str = "d1", **values) -> None:
        table = self.rows[entity]
        row = {
            "source_id": source,
            "delivery_id": delivery,
            "file_name": f"{entity}.csv",
            "row_number": len(table) + 1,
            "patient_key": f"{source}:{pid}",
            "person_key": f"person:{pid}",
        }
        row.update(values)
        table.append(row)

    def patient(self, pid, disease, diagnosis, age, sex="M", kind="registry", index_date=None, subtype=None,
                source="src_a"):  # fmt: skip
        self.add("patient", pid, source, sex=sex, age_at_diagnosis=age, country="DE", provider_kind=kind,
                 index_date=index_date)  # fmt: skip
        self.add("diagnosis", pid, source, disease=disease, diagnosis_date=diagnosis, subtype=subtype)

    def labs(self, pid, when, **labs):
        for lab, value in labs.items():
            self.add("lab_result", pid, lab=lab, value=value, unit=canonical.LABS[lab][0], measured_date=when)

    def genes(self, pid, mutated=(), wildtype=(), **variants):
        for gene in mutated:
            self.add("mutation", pid, gene=gene, status="mutated")
        for gene in wildtype:
            self.add("mutation", pid, gene=gene, status="wildtype")

    def fish(self, pid, **results):
        for abnormality, present in results.items():
            self.add("cytogenetics", pid, method="fish", abnormality=abnormality,
                     result="present" if present else "absent")  # fmt: skip

    def follow_up(self, pid, last, dead=None):
        self.add(
            "follow_up",
            pid,
            last_contact_date=last,
            vital_status="dead" if dead else "alive",
            death_date=dead,
        )

    def write(self, path: Path) -> None:
        con = duckdb.connect(str(path))
        con.execute("create schema raw")
        for entity in canonical.ENTITIES:
            con.execute(canonical.create_table_sql("raw", entity))
            columns = [f.name for f in canonical.table_columns(entity)]
            for row in self.rows[entity]:
                values = [row.get(c) for c in columns]
                con.execute(f'insert into raw."{entity}" values ({", ".join("?" for _ in columns)})', values)
        con.close()


IPSSM_PANEL = (
    "TP53", "FLT3", "KMT2A", "SF3B1", "NPM1", "RUNX1", "NRAS", "ETV6", "IDH2", "CBL", "EZH2", "U2AF1", "SRSF2",
    "DNMT3A", "ASXL1", "KRAS", "BCOR", "BCORL1", "CEBPA", "ETNK1", "GATA2", "GNB1", "IDH1", "NF1", "PHF6",
    "PPM1D", "PRPF8", "PTPN11", "SETBP1", "STAG2", "WT1",
)  # fmt: skip
ELN_GENES = ("TP53", "ASXL1", "BCOR", "EZH2", "RUNX1", "SF3B1", "SRSF2", "STAG2", "U2AF1", "ZRSR2", "CEBPA")


def cohort() -> Rows:
    r = Rows()
    d = date
    # --- MDS -------------------------------------------------------------------------------------------
    # mds1: good karyotype (1) + blasts 3 (1) + Hb 9 (1) + PLT 80 (0.5) + ANC 1.0 (0) = 3.5 Intermediate;
    # IPSS-RA at 72.0: 3.5 + 2 * (0.05 - 0.0175) = 3.565 Intermediate. Full gene panel: SF3B1 mutated.
    r.patient("mds1", "MDS", d(2020, 1, 1), 72.0)
    r.labs("mds1", d(2020, 1, 2), hb=9.0, plt=80.0, anc=1.0, bm_blasts=3.0)
    r.add("cytogenetics", "mds1", method="karyotype", karyotype="46,XY,del(5)(q13q33)[20]")
    r.genes("mds1", mutated=["SF3B1"], wildtype=[g for g in IPSSM_PANEL if g != "SF3B1"])
    r.add("response", "mds1", response="aml_transformation", assessment_date=d(2021, 1, 1))
    r.follow_up("mds1", d(2022, 1, 1), dead=d(2022, 1, 1))
    # mds2: -7 alone (poor, 3) + blasts 12 (3) + Hb 7.5 (1.5) + PLT 30 (1) + ANC 0.5 (0.5) = 9 Very High;
    # no genes tested: IPSS-M best < mean < worst.
    r.patient("mds2", "MDS", d(2020, 6, 1), 65.0, sex="F")
    r.labs("mds2", d(2020, 6, 1), hb=7.5, plt=30.0, anc=0.5, bm_blasts=12.0)
    r.add("cytogenetics", "mds2", method="karyotype", karyotype="45,XX,-7[20]")
    r.follow_up("mds2", d(2021, 6, 1))
    # mds3: no karyotype and no category: IPSS-R not computable
    r.patient("mds3", "MDS", d(2020, 6, 1), 80.0)
    r.labs("mds3", None, hb=11.0, plt=150.0, anc=2.0, bm_blasts=1.0)
    r.follow_up("mds3", d(2021, 6, 1))
    # --- AML -------------------------------------------------------------------------------------------
    # aml1 (trial): NPM1 mutated, FLT3 tested without ITD, normal karyotype, ELN genes wild type ->
    # Favorable (2022 and 2017). Origin = index_date 2021-02-01. CR 2021-03-15, relapse 2021-09-01,
    # death 2022-02-01: OS 365 d (event), EFS 212 d (relapse), RFS/CIR 170 d (relapse).
    r.patient("aml1", "AML", d(2021, 1, 20), 55.0, kind="trial", index_date=d(2021, 2, 1))
    r.add("cytogenetics", "aml1", method="karyotype", karyotype="46,XX[20]")
    r.genes("aml1", mutated=["NPM1"], wildtype=["FLT3", *ELN_GENES])
    r.add("treatment", "aml1", line=1, regimen="7+3", drug="cytarabine", treatment_class="chemotherapy",
          start_date=d(2021, 2, 3))  # fmt: skip
    r.add("response", "aml1", response="CR", assessment_date=d(2021, 3, 15), line=1)
    r.add("response", "aml1", response="relapse", assessment_date=d(2021, 9, 1))
    r.follow_up("aml1", d(2022, 2, 1), dead=d(2022, 2, 1))
    # aml2 (registry): complex monosomal karyotype -> Adverse; treatment 2021-01-05, refractory
    # 2021-02-10, alive 2022-01-01: EFS event at day 1 (default convention), OS 365 d censored.
    r.patient("aml2", "AML", d(2021, 1, 1), 70.0)
    r.add("cytogenetics", "aml2", method="karyotype", karyotype="44,XY,-5,-7,del(17)(p11)[20]")
    r.add("treatment", "aml2", line=1, regimen="aza-ven", drug="azacitidine", treatment_class="HMA",
          start_date=d(2021, 1, 5))  # fmt: skip
    r.add("response", "aml2", response="refractory", assessment_date=d(2021, 2, 10), line=1)
    r.follow_up("aml2", d(2022, 1, 1))
    # aml3: died 20 days after the start of therapy without remission: early death, EFS event at death
    r.patient("aml3", "AML", d(2021, 1, 1), 80.0)
    r.add("treatment", "aml3", line=1, regimen="7+3", drug="cytarabine", treatment_class="chemotherapy",
          start_date=d(2021, 1, 10))  # fmt: skip
    r.follow_up("aml3", d(2021, 1, 30), dead=d(2021, 1, 30))
    # --- APL: WBC 12 > 10 -> Sanz High ---------------------------------------------------------------
    r.patient("apl1", "APL", d(2021, 5, 1), 40.0)
    r.labs("apl1", d(2021, 5, 1), wbc=12.0, plt=30.0)
    r.follow_up("apl1", d(2022, 5, 1))
    # --- MM --------------------------------------------------------------------------------------------
    # mm1: B2M 6 -> ISS III; LDH 300 / ULN 250 high; t(4;14) -> R-ISS III;
    # R2-ISS 1.5 + t(4;14) 1 + LDH 1 + 1q 0.5 = 4 -> IV. Line 1 2020-03-01 (class PI+IMiD), progression
    # 2021-01-01 (PFS 306 d), line 2 2021-03-01 (TTNT 365 d).
    r.patient("mm1", "MM", d(2020, 2, 1), 66.0)
    r.labs("mm1", d(2020, 2, 1), b2m=6.0, albumin=3.0, ldh=300.0, ldh_uln=250.0)
    r.fish("mm1", **{"t(4;14)": True, "del(17p)": False, "t(14;16)": False, "gain(1q)": True})
    for drug, cls in (("bortezomib", "PI"), ("lenalidomide", "IMiD")):
        r.add(
            "treatment",
            "mm1",
            line=1,
            regimen="VRd",
            drug=drug,
            treatment_class=cls,
            start_date=d(2020, 3, 1),
        )
    r.add("treatment", "mm1", line=2, regimen="Dara", drug="daratumumab", treatment_class="anti-CD38",
          start_date=d(2021, 3, 1))  # fmt: skip
    r.add("response", "mm1", response="VGPR", assessment_date=d(2020, 7, 1), line=1)
    r.add("response", "mm1", response="progression", assessment_date=d(2021, 1, 1), line=1)
    r.follow_up("mm1", d(2022, 3, 1))
    # mm2: ISS I, FISH all negative, LDH normal -> R-ISS I, R2-ISS 0 -> I
    r.patient("mm2", "MM", d(2020, 2, 1), 60.0, sex="F")
    r.labs("mm2", d(2020, 2, 1), b2m=2.0, albumin=4.0, ldh=200.0, ldh_uln=250.0)
    r.fish("mm2", **{"del(17p)": False, "t(4;14)": False, "t(14;16)": False, "gain(1q)": False})
    r.follow_up("mm2", d(2022, 3, 1))
    # mm3: ISS I, no FISH: R-ISS not computable
    r.patient("mm3", "MM", d(2020, 2, 1), 60.0)
    r.labs("mm3", d(2020, 2, 1), b2m=2.0, albumin=4.0, ldh=200.0, ldh_uln=250.0)
    r.follow_up("mm3", d(2022, 3, 1))
    # --- CLL: IGHV unmutated 2 + B2M 4 (2) + Binet B (1) + age 70 (1) = 6 -> High ------------------------
    r.patient("cll1", "CLL", d(2019, 1, 1), 70.0)
    r.labs("cll1", d(2019, 1, 1), b2m=4.0)
    r.genes("cll1", wildtype=["IGHV", "TP53"])
    r.fish("cll1", **{"del(17p)": False})
    r.add("staging", "cll1", system="binet", value="B", assessment_date=d(2019, 1, 1))
    r.follow_up("cll1", d(2022, 1, 1))
    # the same person reported again by a second registry, diagnosed later there: not the index record
    r.patient("cll1", "CLL", d(2019, 3, 1), 70.0, source="src_b")
    r.add("follow_up", "cll1", "src_b", last_contact_date=d(2021, 1, 1), vital_status="alive")
    # --- NHL ------------------------------------------------------------------------------------------
    # nhl1 DLBCL: age 65, LDH ratio 2, ECOG 2, stage IV, 2 extranodal sites incl. bone marrow ->
    # IPI 5 High; NCCN-IPI 2 + 1 + 1 + 1 + 1 = 6 High.
    r.patient("nhl1", "NHL", d(2020, 1, 1), 65.0, subtype="DLBCL")
    r.labs("nhl1", d(2020, 1, 1), ldh=500.0, ldh_uln=250.0)
    for system, value in (("ecog", "2"), ("ann_arbor", "IVB"), ("extranodal_sites", "2"),
                          ("extranodal_site", "bone marrow"), ("extranodal_site", "skin")):  # fmt: skip
        r.add("staging", "nhl1", system=system, value=value, assessment_date=d(2020, 1, 1))
    r.follow_up("nhl1", d(2021, 1, 1), dead=d(2021, 1, 1))
    # nhl2 FL: age 55, stage IIIA, Hb 11, LDH normal, 6 nodal areas -> FLIPI 3 High
    r.patient("nhl2", "NHL", d(2020, 1, 1), 55.0, subtype="FL")
    r.labs("nhl2", d(2020, 1, 1), hb=11.0, ldh=200.0, ldh_uln=250.0)
    for system, value in (("ann_arbor", "IIIA"), ("nodal_areas", "6")):
        r.add("staging", "nhl2", system=system, value=value, assessment_date=d(2020, 1, 1))
    r.follow_up("nhl2", d(2022, 1, 1))
    # --- ALL: a child (NCI Standard) and an adult (not classified by NCI) ------------------------------
    r.patient("all1", "ALL", d(2020, 1, 1), 5.0, subtype="B-ALL")
    r.labs("all1", d(2020, 1, 1), wbc=20.0)
    r.add("response", "all1", response="CR", assessment_date=d(2020, 2, 15))
    r.add("treatment", "all1", line=1, regimen="AIEOP-BFM", drug="vincristine", treatment_class="chemotherapy",
          start_date=d(2020, 1, 3))  # fmt: skip
    r.follow_up("all1", d(2023, 1, 1))
    r.patient("all2", "ALL", d(2020, 1, 1), 30.0, subtype="B-ALL")
    r.labs("all2", d(2020, 1, 1), wbc=20.0)
    r.follow_up("all2", d(2021, 1, 1), dead=d(2021, 1, 1))
    # a re-delivery of all2's demographics: the latest delivery wins, the mart keeps one row
    r.add(
        "patient",
        "all2",
        delivery="d2",
        sex="M",
        age_at_diagnosis=30.0,
        country="NL",
        provider_kind="registry",
    )
    return r


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("marts")
    path = work / "warehouse.duckdb"
    cohort().write(path)
    result = run_dbt(path, work, *BUILD_MARTS)
    assert result.returncode == 0, result.stdout[-4000:]
    return path


def one(warehouse: Path, sql: str):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


def mart_row(warehouse: Path, mart: str, pid: str, columns: str) -> tuple:
    """The src_a mart row found through its person_hash (computed by staging from the person_key)."""
    return one(
        warehouse,
        f"select {columns} from marts.{mart} where source_id = 'src_a' and person_hash = "
        f"(select any_value(person_hash) from staging.stg_patient where person_key = 'person:{pid}')",
    )


def test_mds_risk_groups(warehouse):
    row = mart_row(
        warehouse, "mart_mds", "mds1", "ipssr_score, ipssr_group, ipssra_score, ipssra_group, ipss_group"
    )
    assert row == (3.5, "Intermediate", 3.565, "Intermediate", "Int-1")
    assert mart_row(warehouse, "mart_mds", "mds2", "ipssr_score, ipssr_group") == (9.0, "Very High")
    assert mart_row(warehouse, "mart_mds", "mds3", "ipssr_score, ipssr_group, ipssm_group") == (
        None,
        None,
        None,
    )


def test_ipssm_scenarios(warehouse):
    # every gene tested: the three scenarios agree; none tested: best <= mean <= worst, and they differ
    best, mean, worst = mart_row(
        warehouse, "mart_mds", "mds1", "ipssm_score_best, ipssm_score, ipssm_score_worst"
    )
    assert best == mean == worst
    best, mean, worst = mart_row(
        warehouse, "mart_mds", "mds2", "ipssm_score_best, ipssm_score, ipssm_score_worst"
    )
    assert best < mean < worst


def test_aml_eln_groups(warehouse):
    assert mart_row(warehouse, "mart_aml", "aml1", "eln2022_group, eln2017_group") == (
        "Favorable",
        "Favorable",
    )
    assert mart_row(warehouse, "mart_aml", "aml2", "eln2022_group, monosomal_karyotype") == ("Adverse", True)
    # no karyotype, no genes: not computable
    assert mart_row(warehouse, "mart_aml", "aml3", "eln2022_group, eln2017_group") == (None, None)


def test_aml_endpoints(warehouse):
    os_m, os_e, efs_m, efs_e, rfs_m, rfs_e, cir_m, cir_e, kind = mart_row(
        warehouse, "mart_aml", "aml1",
        "os_months, os_event, efs_months, efs_event, rfs_months, rfs_event, cir_months, cir_event, os_origin_kind",
    )  # fmt: skip
    assert kind == "index_date"
    assert (os_m, os_e) == (pytest.approx(365 / MONTH), 1)
    assert (efs_m, efs_e) == (pytest.approx(212 / MONTH), 1)
    assert (rfs_m, rfs_e, cir_m, cir_e) == (pytest.approx(170 / MONTH), 1, pytest.approx(170 / MONTH), 1)
    # refractory: EFS event at day 1 (ELN 2022 default); OS from diagnosis (registry), censored
    row = mart_row(
        warehouse, "mart_aml", "aml2", "efs_months, efs_event, os_months, os_event, os_origin_kind"
    )
    assert row == (pytest.approx(1 / MONTH), 1, pytest.approx(365 / MONTH), 0, "diagnosis_date")
    row = mart_row(warehouse, "mart_aml", "aml3", "early_death_30d, efs_months, efs_event, achieved_cr")
    assert row == (True, pytest.approx(20 / MONTH), 1, False)


def test_efs_refractory_convention_is_a_parameter(warehouse, tmp_path):
    # same cohort, refractory event at the assessment that showed it (2021-02-10: 36 days after start)
    work = tmp_path
    result = run_dbt(
        warehouse,
        work,
        "run",
        "--select",
        "endpoints",
        "--full-refresh",
        "--vars",
        "{efs_refractory_event: assessment}",
    )
    assert result.returncode == 0, result.stdout[-3000:]
    row = one(
        warehouse,
        "select efs_months, efs_event, efs_refractory_convention from outcomes.endpoints "
        "where patient_key = 'src_a:aml2'",
    )
    assert row == (pytest.approx(36 / MONTH), 1, "assessment")
    result = run_dbt(warehouse, work, "run", "--select", "endpoints", "--full-refresh")
    assert result.returncode == 0, result.stdout[-3000:]


def test_apl_mm_cll_nhl_all_groups(warehouse):
    assert mart_row(warehouse, "mart_apl", "apl1", "sanz_group") == ("High",)
    assert mart_row(warehouse, "mart_mm", "mm1", "iss_stage, riss_stage, r2iss_score, r2iss_stage") == (
        "III", "III", 4.0, "IV",
    )  # fmt: skip
    assert mart_row(warehouse, "mart_mm", "mm2", "iss_stage, riss_stage, r2iss_stage") == ("I", "I", "I")
    assert mart_row(warehouse, "mart_mm", "mm3", "iss_stage, riss_stage, r2iss_stage") == ("I", None, None)
    assert mart_row(warehouse, "mart_cll", "cll1", "cll_ipi_score, cll_ipi_group") == (6, "High")
    assert mart_row(warehouse, "mart_nhl", "nhl1", "ipi_score, ipi_group, nccn_ipi_score, nccn_ipi_group") == (
        5, "High", 6, "High",
    )  # fmt: skip
    assert mart_row(warehouse, "mart_nhl", "nhl2", "flipi_score, flipi_group, ipi_group") == (3, "High", None)
    assert mart_row(warehouse, "mart_all", "all1", "nci_group, is_paediatric") == ("Standard", True)
    assert mart_row(warehouse, "mart_all", "all2", "nci_group, is_paediatric") == (None, False)


def test_mm_endpoints_and_treatment(warehouse):
    row = mart_row(
        warehouse, "mart_mm", "mm1",
        "pfs_months, pfs_event, ttnt_months, ttnt_event, n_treatment_lines, first_line_class, best_response_line1",
    )  # fmt: skip
    assert row == (pytest.approx(306 / MONTH), 1, pytest.approx(365 / MONTH), 1, 2, "IMiD+PI", "VGPR")


def test_mds_leukaemia_free_survival(warehouse):
    assert mart_row(warehouse, "mart_mds", "mds1", "lfs_months, lfs_event, os_months, os_event") == (
        pytest.approx(366 / MONTH), 1, pytest.approx(731 / MONTH), 1,
    )  # fmt: skip


def test_marts_have_one_row_per_patient_and_the_quasi_identifiers(warehouse):
    assert one(warehouse, "select count(*), count(distinct person_hash) from marts.mart_all") == (2, 2)
    assert mart_row(warehouse, "mart_all", "all2", "country") == ("NL",)  # latest delivery
    assert one(warehouse, "select count(*) from marts.mart_paediatric") == (1,)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for mart in ("aml", "apl", "all", "cll", "mds", "mm", "nhl", "paediatric"):
            columns = {r[0]: r[1] for r in con.execute(
                "select column_name, data_type from information_schema.columns "
                f"where table_schema = 'marts' and table_name = 'mart_{mart}'"
            ).fetchall()}  # fmt: skip
            for name in ("person_hash", "source_id", "age_at_diagnosis", "sex", "country", "diagnosis_year",
                         "disease_subtype", "os_months", "os_event"):  # fmt: skip
                assert name in columns, (mart, name)
            assert columns["age_at_diagnosis"] == "DOUBLE"
            assert "patient_key" not in columns and "person_key" not in columns
    finally:
        con.close()


def test_a_person_reported_by_two_sources_is_counted_once(warehouse):
    rows = (
        duckdb.connect(str(warehouse), read_only=True)
        .execute("select source_id, is_index_record, cll_ipi_group from marts.mart_cll order by source_id")
        .fetchall()
    )
    # src_b has no risk inputs for the person: its record stays undecided, never copied from src_a
    assert rows == [("src_a", True, "High"), ("src_b", False, None)]
    assert one(warehouse, "select max(n_patients) from marts.km_cll where endpoint = 'OS'") == (1,)


def test_aggregate_marts(warehouse):
    # Kaplan-Meier: MDS IPSS-R has two groups with patients, so a log-rank p exists
    groups, p_value = one(
        warehouse,
        "select count(distinct risk_group), max(logrank_p) from marts.km_mds "
        "where endpoint = 'OS' and classification = 'IPSS-R'",
    )
    assert groups == 2 and 0 <= p_value <= 1
    # the survival curve starts at 1 and never rises
    rows = (
        duckdb.connect(str(warehouse), read_only=True)
        .execute(
            "select survival from marts.km_mm where endpoint = 'OS' and classification = 'ISS' order by risk_group, time_months"
        )
        .fetchall()
    )
    assert rows and all(0 <= r[0] <= 1 for r in rows)
    assert one(warehouse, "select count(*) from marts.all_paediatric_vs_adult") == (2,)
    assert one(warehouse, "select n_patients, cr_rate from marts.all_paediatric_vs_adult where age_group = 'paediatric'") == (
        1, 1.0,
    )  # fmt: skip
    assert one(warehouse, "select riss_stage, treatment_class, n_patients, n_events from marts.mm_pfs_by_treatment") == (
        "III", "IMiD+PI", 1, 1,
    )  # fmt: skip
    # co-mutation: MDS has one mutated gene only, so no pair; the table exists with its columns
    assert one(warehouse, "select count(*) from marts.comutation where disease = 'MDS'") == (0,)


def test_km_plots_are_written(warehouse, tmp_path):
    from harmony_pipeline.survival import write_km_plots

    paths = write_km_plots(warehouse, tmp_path / "km")
    assert paths and all(p.exists() and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
    assert tmp_path / "km" / "km_mds_os_ipssr.png" in paths
