"""A small hand-written canonical warehouse for the OMOP tests.

Rows are written in the canonical long format (raw.<entity> created with canonical.create_table_sql),
covering: one person delivered by two sources (same person_key, two patient_keys), an unmapped
diagnosis code and an unknown drug (must stay with concept 0), a lab delivered in a non-canonical unit
(g/L, harmonised to g/dL), mutations with VAF and a FLT3-ITD ratio, FISH, stage and ECOG (modifiers of
the diagnosis), responses that open remission/relapse episodes, two lines of therapy, a transplant
and a death.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
from dbt_runner import run_dbt

from harmony_pipeline import canonical

D = dt.date

# person A: trial_aml (patient a1) and registry_aml (patient a2) share person_key PK_A
# person B: trial_aml only, unmapped diagnosis code, unknown drug
# person C: registry_mm, multiple myeloma, transplant, death
# person D: only a mutation row (its patient row was quarantined): no year of birth, kept out of OMOP
PK_A, PK_B, PK_C, PK_D = ("pk-" + letter * 61 for letter in "abcd")


def _lineage(source: str, patient: str, person: str, row: int) -> dict:
    return {
        "source_id": source,
        "delivery_id": f"{source}-d1",
        "file_name": f"{source}.csv",
        "row_number": row,
        "patient_key": patient,
        "person_key": person,
    }


def canonical_rows() -> dict[str, list[dict]]:
    a_trial = ("trial_aml", "a1", PK_A)
    a_reg = ("registry_aml", "a2", PK_A)
    b = ("trial_aml", "b1", PK_B)
    c = ("registry_mm", "c1", PK_C)
    d = ("trial_aml", "d1", PK_D)

    def row(who, n, **fields):
        return _lineage(*who, n) | fields

    return {
        "patient": [
            row(a_trial, 1, sex="F", birth_date=D(1960, 3, 4), birth_year=1960, age_at_diagnosis=58.0,
                country="DE", provider_kind="trial", index_date=D(2018, 5, 2)),
            row(a_reg, 1, sex="U", birth_date=None, birth_year=1960, age_at_diagnosis=58.0,
                country="DE", provider_kind="registry", index_date=None),
            row(b, 2, sex="M", birth_date=D(1971, 7, 1), birth_year=1971, age_at_diagnosis=47.0,
                country="FR", provider_kind="trial", index_date=D(2019, 1, 10)),
            row(c, 1, sex="M", birth_date=None, birth_year=None, age_at_diagnosis=66.0,
                country="NL", provider_kind="registry", index_date=None),
        ],
        "diagnosis": [
            row(a_trial, 1, disease="AML", subtype=None, diagnosis_date=D(2018, 4, 30), code_system="ICD10",
                code="C92.0", source_value="AML"),
            row(a_reg, 1, disease="AML", subtype=None, diagnosis_date=D(2018, 4, 30), code_system="ICDO3",
                code="9861/3", source_value="acute myeloid leukaemia"),
            row(b, 2, disease="AML", subtype=None, diagnosis_date=D(2019, 1, 5), code_system="LOCAL",
                code="ZZ-UNKNOWN", source_value="strange leukaemia"),
            row(c, 1, disease="MM", subtype=None, diagnosis_date=D(2017, 9, 1), code_system="ICD10",
                code="C90.0", source_value="myeloma"),
        ],
        "lab_result": [
            row(a_trial, 1, lab="hb", value=95.0, unit="g/L", measured_date=D(2018, 4, 30),
                source_value="95", source_unit="g/L"),
            row(a_trial, 1, lab="plt", value=42.0, unit="10^9/L", measured_date=D(2018, 4, 30),
                source_value="42", source_unit="10^9/L"),
            row(a_trial, 1, lab="bm_blasts", value=35.0, unit="%", measured_date=None,
                source_value="35", source_unit="%"),
            row(a_trial, 1, lab="mrd", value=0.01, unit="%", measured_date=D(2018, 7, 1),
                source_value="0.01", source_unit="%"),
            row(c, 1, lab="b2m", value=6.1, unit="mg/L", measured_date=D(2017, 9, 1),
                source_value="6.1", source_unit="mg/L"),
            row(c, 1, lab="albumin", value=3.1, unit="g/dL", measured_date=D(2017, 9, 1),
                source_value="3.1", source_unit="g/dL"),
        ],
        "cytogenetics": [
            row(a_trial, 1, method="karyotype", karyotype="46,XX,t(8;21)(q22;q22)[20]", abnormality=None,
                result=None, category="favourable", test_date=D(2018, 5, 1), source_value=None),
            row(a_trial, 1, method="karyotype", karyotype=None, abnormality="t(8;21)", result="present",
                category=None, test_date=D(2018, 5, 1), source_value="t(8;21)"),
            row(c, 1, method="fish", karyotype=None, abnormality="del(17p)", result="absent",
                category=None, test_date=D(2017, 9, 2), source_value="del17p neg"),
        ],
        "mutation": [
            row(a_trial, 1, gene="FLT3", status="mutated", variant="ITD", vaf=0.31, allelic_ratio=0.45,
                test_date=D(2018, 5, 1)),
            row(a_reg, 1, gene="FLT3", status="mutated", variant="ITD", vaf=0.31, allelic_ratio=0.45,
                test_date=D(2018, 5, 1)),
            row(a_trial, 1, gene="NPM1", status="wildtype", variant=None, vaf=None, allelic_ratio=None,
                test_date=D(2018, 5, 1)),
            row(d, 3, gene="TP53", status="mutated", variant="R248Q", vaf=0.4, allelic_ratio=None,
                test_date=D(2020, 1, 1)),
        ],
        "treatment": [
            row(a_trial, 1, line=1, regimen="7+3", drug="cytarabine", treatment_class="chemo",
                start_date=D(2018, 5, 3), end_date=D(2018, 5, 10)),
            row(a_trial, 1, line=1, regimen="7+3", drug="daunorubicin", treatment_class="chemo",
                start_date=D(2018, 5, 3), end_date=D(2018, 5, 5)),
            row(a_trial, 1, line=2, regimen="FLAG-Ida", drug="fludarabine", treatment_class="chemo",
                start_date=D(2019, 2, 1), end_date=None),
            row(b, 2, line=1, regimen="experimental", drug="wonderzumab", treatment_class="antibody",
                start_date=D(2019, 1, 12), end_date=D(2019, 2, 12)),
            row(c, 1, line=1, regimen="VRd", drug="lenalidomide", treatment_class="imid",
                start_date=D(2017, 9, 10), end_date=D(2018, 1, 10)),
            # a regimen delivered without its drugs: one exposure per ingredient (lenalidomide, dexamethasone)
            row(c, 2, line=2, regimen="Rd", drug=None, treatment_class=None,
                start_date=D(2018, 6, 1), end_date=D(2018, 12, 1)),
        ],
        "response": [
            row(a_trial, 1, response="CR", assessment_date=D(2018, 6, 15), line=1, criteria="ELN2022"),
            row(a_trial, 1, response="CR", assessment_date=D(2018, 9, 15), line=1, criteria="ELN2022"),
            row(a_trial, 1, response="relapse", assessment_date=D(2019, 1, 20), line=1, criteria="ELN2022"),
            row(c, 1, response="VGPR", assessment_date=D(2018, 1, 15), line=1, criteria="IMWG"),
        ],
        "transplant": [
            row(c, 1, transplant_date=D(2018, 2, 20), transplant_type="autologous", donor_type="self"),
        ],
        "staging": [
            row(c, 1, system="ecog", value="1", assessment_date=D(2017, 9, 1)),
            row(a_trial, 1, system="ecog", value="2", assessment_date=None),
        ],
        "follow_up": [
            row(a_trial, 1, last_contact_date=D(2019, 6, 1), vital_status="alive", death_date=None,
                death_cause=None),
            row(c, 1, last_contact_date=D(2019, 3, 1), vital_status="dead", death_date=D(2019, 3, 1),
                death_cause="progression"),
        ],
    }  # fmt: skip


def build_raw_warehouse(path: Path, reverse: bool = False) -> None:
    """Create raw.<entity> for every canonical entity and load the hand-written rows.

    reverse=True loads every table's rows in the opposite order (ids must not depend on it)."""
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        rows = canonical_rows()
        for entity in canonical.ENTITIES:
            con.execute(canonical.create_table_sql("raw", entity))
            if rows.get(entity):
                columns = [f.name for f in canonical.table_columns(entity)]
                records = rows[entity][::-1] if reverse else rows[entity]
                frame = pd.DataFrame(records, columns=columns)  # noqa: F841 (read by DuckDB)
                con.execute(f'INSERT INTO raw."{entity}" SELECT {", ".join(columns)} FROM frame')
    finally:
        con.close()


SELECTION = ["path:seeds", "staging", "changes", "ids", "intermediate", "omop", "dq"]


def build(tmp: Path, reverse: bool = False) -> Path:
    warehouse = tmp / "warehouse.duckdb"
    build_raw_warehouse(warehouse, reverse=reverse)
    assert run_dbt(warehouse, tmp, "build", "--select", *SELECTION).returncode == 0, "dbt build failed"
    return warehouse
