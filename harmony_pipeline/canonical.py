"""The canonical long format: the one schema every source contract maps into.

Every stage meets here. Contracts produce these entities, the quality gate checks them, the raw
schema of the warehouse stores them (one table per entity, all sources together) and dbt staging
reads them. Each row is one fact about one patient and carries its lineage (LINEAGE_COLUMNS).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DISEASES = ("AML", "APL", "ALL", "CLL", "MDS", "NHL", "MM")
PROVIDER_KINDS = ("trial", "registry", "hospital", "study_group")


@dataclass(frozen=True)
class Field:
    name: str
    dtype: str  # DuckDB type: VARCHAR, DOUBLE, BIGINT, DATE
    required: bool = False
    allowed: tuple[str, ...] | None = None  # closed code list, canonical spelling
    low: float | None = None  # plausible range (inclusive), canonical unit
    high: float | None = None
    description: str = ""


@dataclass(frozen=True)
class Entity:
    name: str
    description: str
    fields: tuple[Field, ...]
    # fields that identify one fact of a patient; duplicates on them are duplicate rows
    natural_key: tuple[str, ...] = field(default=())

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def get(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


# Added by ingest to every canonical row, before anything reaches the warehouse.
# patient_key: HMAC pseudonym of (source_id, source patient id); person_key: HMAC pseudonym of the
# identifiers sources share (birth date, sex, initials), so one person seen by two sources links.
LINEAGE_COLUMNS: tuple[Field, ...] = (
    Field("source_id", "VARCHAR", required=True),
    Field("delivery_id", "VARCHAR", required=True),
    Field("file_name", "VARCHAR", required=True),
    Field("row_number", "BIGINT", required=True, description="1-based data row in the file"),
    Field("patient_key", "VARCHAR", required=True),
    Field("person_key", "VARCHAR", required=True),
)

# Canonical labs, their canonical unit and plausible range (DQD-style plausibleValueLow/High).
LABS: dict[str, tuple[str, float, float]] = {
    "hb": ("g/dL", 2.0, 25.0),
    "plt": ("10^9/L", 0.0, 3000.0),
    "anc": ("10^9/L", 0.0, 200.0),
    "wbc": ("10^9/L", 0.0, 1500.0),
    "bm_blasts": ("%", 0.0, 100.0),
    "pb_blasts": ("%", 0.0, 100.0),
    "b2m": ("mg/L", 0.0, 100.0),
    "albumin": ("g/dL", 0.5, 7.0),
    "ldh": ("U/L", 10.0, 20000.0),
    "ldh_uln": ("U/L", 100.0, 1000.0),
    "creatinine": ("mg/dL", 0.1, 20.0),
    "calcium": ("mg/dL", 4.0, 20.0),
    "m_protein": ("g/dL", 0.0, 15.0),
    "mrd": ("%", 0.0, 100.0),
    "ighv_identity": ("%", 80.0, 100.0),
}

RESPONSES = (
    "sCR", "CR", "CRh", "CRi", "MLFS", "VGPR", "PR", "MR", "SD", "PD", "NR",
    "refractory", "relapse", "progression", "aml_transformation",
)  # fmt: skip

STAGING_SYSTEMS = (
    "ecog", "ann_arbor", "binet", "rai", "extranodal_sites", "nodal_areas", "extranodal_site",
    "b_symptoms", "cns_involvement",
)  # fmt: skip

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "patient",
            "One row per patient per delivery: demographics.",
            (
                Field("sex", "VARCHAR", required=True, allowed=("M", "F", "U")),
                Field("birth_date", "DATE", description="shifted; NULL when the source gives age only"),
                Field("birth_year", "BIGINT", low=1900, high=2030),
                Field("age_at_diagnosis", "DOUBLE", low=0, high=110, description="years"),
                Field("country", "VARCHAR", description="ISO 3166-1 alpha-2"),
                Field("provider_kind", "VARCHAR", required=True, allowed=PROVIDER_KINDS),
                Field("index_date", "DATE", description="registration/randomisation (trials)"),
            ),
            natural_key=("patient_key",),
        ),
        Entity(
            "diagnosis",
            "The haematological malignancy a patient is registered with.",
            (
                Field("disease", "VARCHAR", required=True, allowed=DISEASES),
                Field("subtype", "VARCHAR", description="e.g. B-ALL, T-ALL, DLBCL, FL, MDS-EB"),
                Field("diagnosis_date", "DATE", required=True),
                Field("code_system", "VARCHAR", allowed=("ICD10", "ICDO3", "LOCAL")),
                Field("code", "VARCHAR", description="source code as delivered (e.g. C92.0, 9861/3)"),
                Field("source_value", "VARCHAR"),
            ),
            natural_key=("patient_key", "disease"),
        ),
        Entity(
            "lab_result",
            "One numeric laboratory value in its canonical unit.",
            (
                Field("lab", "VARCHAR", required=True, allowed=tuple(LABS)),
                Field("value", "DOUBLE", required=True),
                Field("unit", "VARCHAR", required=True),
                Field("measured_date", "DATE"),
                Field("source_value", "VARCHAR"),
                Field("source_unit", "VARCHAR"),
            ),
            natural_key=("patient_key", "lab", "measured_date"),
        ),
        Entity(
            "cytogenetics",
            "A karyotype string or one cytogenetic/FISH abnormality (present or absent).",
            (
                Field("method", "VARCHAR", required=True, allowed=("karyotype", "fish", "molecular")),
                Field("karyotype", "VARCHAR", description="ISCN string, method=karyotype"),
                Field("abnormality", "VARCHAR", description="canonical, e.g. t(8;21), del(17p)"),
                Field("result", "VARCHAR", allowed=("present", "absent")),
                Field("category", "VARCHAR", description="precomputed category if delivered"),
                Field("test_date", "DATE"),
                Field("source_value", "VARCHAR"),
            ),
            natural_key=("patient_key", "method", "abnormality", "karyotype"),
        ),
        Entity(
            "mutation",
            "One gene tested: mutated or wild type, with VAF and variant when given.",
            (
                Field("gene", "VARCHAR", required=True, description="HGNC symbol; IGHV for CLL"),
                Field("status", "VARCHAR", required=True, allowed=("mutated", "wildtype")),
                Field("variant", "VARCHAR", description="protein change, ITD, TKD, PTD, bZIP"),
                Field("vaf", "DOUBLE", low=0, high=1),
                Field("allelic_ratio", "DOUBLE", low=0, high=100, description="FLT3-ITD ratio"),
                Field("test_date", "DATE"),
            ),
            natural_key=("patient_key", "gene", "variant"),
        ),
        Entity(
            "treatment",
            "One drug of one line of therapy.",
            (
                Field("line", "BIGINT", required=True, low=1, high=20),
                Field("regimen", "VARCHAR"),
                Field("drug", "VARCHAR", description="ingredient, lower case"),
                Field("treatment_class", "VARCHAR"),
                Field("start_date", "DATE", required=True),
                Field("end_date", "DATE"),
            ),
            natural_key=("patient_key", "line", "drug"),
        ),
        Entity(
            "response",
            "A response assessment or disease event (relapse, progression, transformation).",
            (
                Field("response", "VARCHAR", required=True, allowed=RESPONSES),
                Field("assessment_date", "DATE", required=True),
                Field("line", "BIGINT", low=1, high=20),
                Field("criteria", "VARCHAR", description="ELN2022, IMWG, Lugano, iwCLL2018"),
            ),
            natural_key=("patient_key", "response", "assessment_date"),
        ),
        Entity(
            "transplant",
            "A haematopoietic stem-cell transplant.",
            (
                Field("transplant_date", "DATE", required=True),
                Field("transplant_type", "VARCHAR", required=True, allowed=("allogeneic", "autologous")),
                Field("donor_type", "VARCHAR"),
            ),
            natural_key=("patient_key", "transplant_date"),
        ),
        Entity(
            "staging",
            "Stage, performance status and disease-extent facts.",
            (
                Field("system", "VARCHAR", required=True, allowed=STAGING_SYSTEMS),
                Field("value", "VARCHAR", required=True),
                Field("assessment_date", "DATE"),
            ),
            natural_key=("patient_key", "system", "value", "assessment_date"),
        ),
        Entity(
            "follow_up",
            "Vital status at last contact.",
            (
                Field("last_contact_date", "DATE", required=True),
                Field("vital_status", "VARCHAR", required=True, allowed=("alive", "dead")),
                Field("death_date", "DATE"),
                Field("death_cause", "VARCHAR"),
            ),
            natural_key=("patient_key",),
        ),
    )
}


def table_columns(entity: str) -> list[Field]:
    """Columns of raw.<entity> and quarantine-free staging: lineage first, then the entity's fields."""
    return list(LINEAGE_COLUMNS) + list(ENTITIES[entity].fields)


def create_table_sql(schema: str, entity: str) -> str:
    cols = ", ".join(f'"{f.name}" {f.dtype}' for f in table_columns(entity))
    return f'CREATE TABLE IF NOT EXISTS {schema}."{entity}" ({cols})'
