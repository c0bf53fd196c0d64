"""Derive the OMOP facts the project needs from the reference folder into committed seeds.

Run once when the reference material or the mappings below change (the outputs are committed, so
tests and the pipeline never need the reference folder):

    .venv/bin/python scripts/derive_omop_facts.py [--shared ../shared]

Sources (cited per output):
- ../shared/vocabulary/concepts_verified.csv  (631 verified OMOP concept ids; README: blanks stay blank)
- ../shared/vocabulary/vocab_version_conflicts.tsv
- ../shared/omop/OMOP_CDMv5.4_Field_Level.csv (the CDM v5.4 specification: tables, fields, types, keys)
- ../shared/omop/dqd/*.csv                     (DataQualityDashboard 2.8.4 checks and thresholds)
- harmony_pipeline/canonical.py                (our canonical codes, units and plausible lab ranges)

Writes dbt_project/seeds/*.csv and dbt_project/models/omop/_omop__models.yml (contracts).
Never guesses a concept id: every target is an id of the verified file, 0, or a local id > 2e9 that
is listed, with its meaning, in seeds/vocab_concept_local.csv.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from harmony_pipeline import canonical  # noqa: E402

SEEDS = ROOT / "dbt_project" / "seeds"
OMOP_MODELS = ROOT / "dbt_project" / "models" / "omop"

LOCAL_BASE = 2_000_000_000  # OMOP convention: site-local concepts live above 2 billion
LOCAL_VOCAB = "HARMONY"
VALID_START, VALID_END = "1970-01-01", "2099-12-31"

# DataQualityDashboard's executeDqChecks() excludes the vocabulary tables by default
# (tablesToExclude = CONCEPT, VOCABULARY, CONCEPT_ANCESTOR, CONCEPT_RELATIONSHIP, CONCEPT_CLASS,
# CONCEPT_SYNONYM, RELATIONSHIP, DOMAIN); we do the same.
DQD_EXCLUDED_TABLES = {
    "concept", "vocabulary", "concept_ancestor", "concept_relationship", "concept_class",
    "concept_synonym", "relationship", "domain",
}  # fmt: skip

SQL_KEYWORDS = {"offset"}  # CDM field names that are reserved words in DuckDB (note_nlp.offset)

# --------------------------------------------------------------------------------------------
# Local concepts: (offset above 2e9, name, domain, class, code, meaning). Offsets are fixed here so
# adding a concept never renumbers the others.
# --------------------------------------------------------------------------------------------
LOCAL_CONCEPTS: list[tuple[int, str, str, str, str, str]] = [
    # labs the verified subset lacks (vocabulary README, "Known gaps")
    (1, "Blasts/100 cells in Bone marrow", "Measurement", "Lab Test", "bm_blasts",
     "Bone-marrow blast percentage; no verified LOINC concept (README known gap)"),
    (2, "Beta-2-microglobulin [Mass/volume] in Serum", "Measurement", "Lab Test", "b2m",
     "Serum beta-2 microglobulin as a numeric value (README known gap)"),
    (3, "M-protein [Mass/volume] in Serum", "Measurement", "Lab Test", "m_protein",
     "Serum monoclonal protein (README known gap)"),
    (4, "Lactate dehydrogenase upper limit of normal", "Measurement", "Lab Test", "ldh_uln",
     "The laboratory's LDH upper limit of normal, needed for LDH ratios (IPI, R-ISS)"),
    (5, "Minimal residual disease [Percent] in Bone marrow", "Measurement", "Lab Test", "mrd",
     "Numeric MRD level; the verified MRD concept 3965536 is a narrative result"),
    (6, "IGHV gene percent identity to germline", "Measurement", "Lab Test", "ighv_identity",
     "IGHV somatic hypermutation status as % identity to germline (CLL-IPI)"),
    (7, "Karyotype [ISCN]", "Measurement", "Lab Test", "karyotype",
     "Conventional karyotype as an ISCN string in value_source_value"),
    (8, "FLT3-ITD allelic ratio", "Measurement", "Lab Test", "flt3_itd_ratio",
     "FLT3-ITD allelic ratio (ELN 2017); FLT3 tests are a README known gap"),
    # observations
    (20, "Stem cell donor type", "Observation", "Clinical Observation", "donor_type",
     "Donor type of a haematopoietic stem-cell transplant, as delivered"),
    (21, "Cytogenetic risk category as delivered", "Observation", "Clinical Observation",
     "cytogenetic_category", "A precomputed cytogenetic category delivered by the source"),
    # procedures
    (30, "Allogeneic haematopoietic stem cell transplantation", "Procedure", "Procedure",
     "allogeneic", "Allogeneic HSCT (README known gap); standard target is 4120445"),
    (31, "Autologous haematopoietic stem cell transplantation", "Procedure", "Procedure",
     "autologous", "Autologous HSCT as delivered; standard target is 46271079"),
]  # fmt: skip

# Cytogenetic abnormalities (canonical spelling, description). Offsets 100+.
CYTOGENETICS = [
    ("t(8;21)", "t(8;21)(q22;q22.1) RUNX1::RUNX1T1"),
    ("inv(16)", "inv(16)(p13.1q22) CBFB::MYH11"),
    ("t(16;16)", "t(16;16)(p13.1;q22) CBFB::MYH11"),
    ("t(15;17)", "t(15;17)(q24.1;q21.2) PML::RARA"),
    ("t(9;11)", "t(9;11)(p21.3;q23.3) MLLT3::KMT2A"),
    ("t(6;9)", "t(6;9)(p23;q34.1) DEK::NUP214"),
    ("t(v;11q23.3)", "KMT2A rearrangement t(v;11q23.3)"),
    ("t(9;22)", "t(9;22)(q34.1;q11.2) BCR::ABL1"),
    ("t(8;16)", "t(8;16)(p11.2;p13.3) KAT6A::CREBBP"),
    ("inv(3)", "inv(3)(q21.3q26.2) GATA2, MECOM"),
    ("t(3;3)", "t(3;3)(q21.3;q26.2) GATA2, MECOM"),
    ("t(3q26.2;v)", "MECOM rearrangement t(3q26.2;v)"),
    ("-5", "Monosomy 5"),
    ("del(5q)", "Deletion 5q"),
    ("-7", "Monosomy 7"),
    ("del(7q)", "Deletion 7q"),
    ("-17", "Monosomy 17"),
    ("del(17p)", "Deletion 17p"),
    ("abn(17p)", "Abnormality of 17p"),
    ("complex", "Complex karyotype (>= 3 unrelated abnormalities)"),
    ("monosomal", "Monosomal karyotype"),
    ("normal", "Normal karyotype"),
    ("+8", "Trisomy 8"),
    ("+19", "Trisomy 19"),
    ("i(17q)", "Isochromosome 17q"),
    ("-y", "Loss of chromosome Y"),
    ("del(11q)", "Deletion 11q"),
    ("del(12p)", "Deletion 12p"),
    ("del(20q)", "Deletion 20q"),
    ("t(4;14)", "t(4;14)(p16;q32) FGFR3/NSD2::IGH"),
    ("t(14;16)", "t(14;16)(q32;q23) IGH::MAF"),
    ("t(11;14)", "t(11;14)(q13;q32) CCND1::IGH"),
    ("gain(1q)", "Gain of 1q"),
    ("amp(1q)", "Amplification of 1q"),
    ("del(13q)", "Deletion 13q"),
    ("+12", "Trisomy 12"),
    ("del(1p)", "Deletion 1p"),
    ("hyperdiploid", "Hyperdiploid karyotype"),
    ("hypodiploid", "Hypodiploid karyotype"),
    ("t(12;21)", "t(12;21)(p13.2;q22.1) ETV6::RUNX1"),
    ("t(1;19)", "t(1;19)(q23;p13.3) TCF3::PBX1"),
    ("t(14;18)", "t(14;18)(q32;q21) IGH::BCL2"),
    ("myc rearranged", "MYC rearrangement"),
    ("igh rearranged", "IGH rearrangement"),
]

# Genes tested (HGNC symbols; ELN 2022, IPSS-M, CLL-IPI inputs). Offsets 200+.
GENES = [
    "NPM1", "FLT3", "CEBPA", "KIT", "TP53", "ASXL1", "BCOR", "BCORL1", "EZH2", "RUNX1", "SF3B1",
    "SRSF2", "STAG2", "U2AF1", "ZRSR2", "DNMT3A", "IDH1", "IDH2", "TET2", "NRAS", "KRAS", "KMT2A",
    "ETV6", "CBL", "ETNK1", "GATA2", "GNB1", "NF1", "PHF6", "PPM1D", "PRPF8", "PTPN11", "SETBP1",
    "WT1", "JAK2", "CALR", "MPL", "IGHV", "NOTCH1", "MYD88", "BRAF", "SF3B1", "ATM", "BIRC3",
]  # fmt: skip

# Staging / performance facts the subset lacks. (system, value or '' for the system itself, name)
# Offsets 300+. Ann Arbor maps to the verified Cancer Modifier stages, ECOG to 4309681.
STAGING_LOCAL = [
    ("binet", "A", "Binet stage A"),
    ("binet", "B", "Binet stage B"),
    ("binet", "C", "Binet stage C"),
    ("rai", "0", "Rai stage 0"),
    ("rai", "I", "Rai stage I"),
    ("rai", "II", "Rai stage II"),
    ("rai", "III", "Rai stage III"),
    ("rai", "IV", "Rai stage IV"),
    ("extranodal_sites", "", "Number of extranodal sites involved"),
    ("nodal_areas", "", "Number of nodal areas involved"),
    ("extranodal_site", "", "Extranodal site involved"),
    ("b_symptoms", "", "B symptoms"),
    ("cns_involvement", "", "Central nervous system involvement"),
]

# Response assessments and disease events (canonical.RESPONSES). Offsets 400+.
RESPONSE_NAMES = {
    "sCR": "Stringent complete response (IMWG)",
    "CR": "Complete remission",
    "CRh": "Complete remission with partial haematological recovery",
    "CRi": "Complete remission with incomplete haematological recovery",
    "MLFS": "Morphologic leukaemia-free state",
    "VGPR": "Very good partial response (IMWG)",
    "PR": "Partial response",
    "MR": "Minimal response",
    "SD": "Stable disease",
    "PD": "Progressive disease",
    "NR": "No response",
    "refractory": "Refractory disease",
    "relapse": "Relapse",
    "progression": "Disease progression",
    "aml_transformation": "Transformation to acute myeloid leukaemia",
}

# --------------------------------------------------------------------------------------------
# Maps onto verified ids. Keys are our canonical codes; values are ids of concepts_verified.csv.
# --------------------------------------------------------------------------------------------
SEX = {"M": 8507, "F": 8532}  # Gender MALE / FEMALE

# Disease (and disease|subtype) -> standard SNOMED condition. CLL uses 138379 and DLBCL 432574: the
# vocabulary README says 4082311 and 44808122 are non-standard in recent releases.
DISEASE = {
    "AML": 140352, "APL": 4002497, "ALL": 134305, "CLL": 138379, "MDS": 138994,
    "NHL": 4038838, "MM": 437233,
    "ALL|B-ALL": 4173963, "ALL|T-ALL": 4082462, "ALL|PH+ ALL": 4138008,
    "NHL|DLBCL": 432574, "NHL|FL": 4147411, "NHL|MCL": 40481901, "NHL|MZL": 40490918,
    "NHL|BL": 4041800, "NHL|PTCL": 434881, "NHL|WM": 4098597, "NHL|PMBCL": 40481522,
    "MM|SMOLDERING": 4184985, "MM|PCL": 133154, "MDS|MDS-EB": 138994, "CLL|SLL": 138379,
}  # fmt: skip

# ICD-10 (WHO) codes -> standard condition; source concept where the verified file has the code.
ICD10 = {
    "C92.0": 140352, "C92.00": 140352, "C92.4": 135768, "C92.5": 4003187, "C93.0": 4082485,
    "C94.0": 138099, "C94.2": 4079686, "C92.1": 134603, "C93.1": 4133599,
    "C91.0": 134305, "C91.1": 138379, "C91.3": 4173974, "C91.6": 4079683, "C91.4": 4038845,
    "C92.01": 135762, "C92.A": 36715587,
    "C90.0": 437233, "C90.1": 133154, "C90.2": 4094548, "C90.3": 4145040,
    "C83.3": 432574, "C82": 4147411, "C82.9": 4147411, "C83.1": 40481901, "C83.7": 4041800,
    "C88.0": 4098597, "C85.9": 4038838, "C84.4": 434881, "D46": 138994, "D46.9": 138994,
}  # fmt: skip
ICD10_SOURCE_CONCEPT = {"C91.3": 45542661, "C91.6": 45581254}  # ICD10 concepts in the verified file

# ICD-O-3 morphology (as delivered, e.g. 9861/3) -> standard condition.
ICDO3 = {
    "9861/3": 140352, "9896/3": 140352, "9871/3": 3654662, "9866/3": 4002497, "9867/3": 4003187,
    "9891/3": 135768, "9840/3": 138099, "9910/3": 4079686, "9872/3": 4233531, "9873/3": 4230253,
    "9874/3": 4234749, "9895/3": 40483761, "9920/3": 36717461, "9877/3": 35622003,
    "9811/3": 4173963, "9837/3": 4082462, "9835/3": 134305, "9812/3": 37109936,
    "9823/3": 138379, "9833/3": 4173974, "9940/3": 4038845,
    "9980/3": 138994, "9983/3": 138994, "9985/3": 138994, "9989/3": 138994,
    "9732/3": 437233, "9733/3": 133154, "9731/3": 4216139, "9734/3": 4094548,
    "9680/3": 432574, "9690/3": 4147411, "9691/3": 4147411, "9695/3": 4147411, "9698/3": 4147411,
    "9673/3": 40481901, "9699/3": 40490918, "9687/3": 4041800, "9761/3": 4098597, "9591/3": 4038838,
    "9702/3": 434881, "9705/3": 4184976, "9679/3": 40481522,
}  # fmt: skip

# Labs -> (standard LOINC concept or local code). Canonical units are canonical.LABS.
LAB = {
    "hb": 3000963, "plt": 3007461, "anc": 3017732, "wbc": 3010813, "pb_blasts": 3025159,
    "albumin": 3024561, "ldh": 3016436, "creatinine": 3016723, "calcium": 3006906,
}  # fmt: skip

# Unit strings as delivered -> UCUM concept (verified UCUM ids).
UNITS = {
    "g/dL": 8713, "g/L": 8636, "mg/dL": 8840, "mg/L": 8751, "10^9/L": 9444, "10*9/L": 9444,
    "10^3/uL": 8848, "10*3/uL": 8848, "/uL": 8647, "%": 8554, "U/L": 8645, "[U]/L": 8645,
    "IU/L": 8923, "mmol/L": 8753, "umol/L": 8749, "ratio": 8523, "{ratio}": 8523,
}  # fmt: skip

# Harmonisation to the canonical unit: (lab, from unit, factor). value_canonical = value * factor.
UNIT_CONVERSIONS = [
    ("hb", "g/L", 0.1), ("hb", "mmol/L", 1.611), ("albumin", "g/L", 0.1),
    ("m_protein", "g/L", 0.1), ("b2m", "mg/dL", 10.0), ("b2m", "nmol/L", 0.01182),
    ("creatinine", "umol/L", 1 / 88.42), ("calcium", "mmol/L", 4.008),
    ("plt", "10^3/uL", 1.0), ("anc", "10^3/uL", 1.0), ("wbc", "10^3/uL", 1.0),
    ("plt", "/uL", 0.001), ("anc", "/uL", 0.001), ("wbc", "/uL", 0.001),
    ("ldh", "IU/L", 1.0), ("ldh_uln", "IU/L", 1.0),
]  # fmt: skip
# Sources: hb g/L->g/dL /10; hb mmol/L (Fe4) x1.611 g/dL; creatinine 1 mg/dL = 88.42 umol/L;
# calcium 1 mmol/L = 4.008 mg/dL; B2M molar mass 11.8 kDa -> 1 nmol/L = 0.0118 mg/L.

# Measurement values (verified SNOMED "Meas Value" concepts).
VALUES = {"present": 4181412, "absent": 4132135, "mutated": 4126681, "wildtype": 9190}

# Stages: Ann Arbor I-IV -> Cancer Modifier Stage 1-4; ECOG -> general performance status.
ANN_ARBOR = {"I": 1635838, "II": 1635131, "III": 1634191, "IV": 1633987}
ECOG_CONCEPT = 4309681

# Drugs (lower-case ingredient, aliases) -> verified RxNorm ingredient id, matched by the verified
# concept name; aliases are common trial spellings.
DRUG_ALIASES = {
    "atra": "tretinoin", "all-trans retinoic acid": "tretinoin", "ato": "arsenic trioxide",
    "6-mercaptopurine": "mercaptopurine", "6-thioguanine": "thioguanine", "ara-c": "cytarabine",
    "dexamethason": "dexamethasone", "atg": "lymphocyte immune globulin, anti-thymocyte globulin",
    "cpx-351": "cytarabine liposome / daunorubicin liposomal injection",
    "calaspargase": None, "leucovorin": "leucovorin",
}  # fmt: skip
DRUG_ID_RANGE = ("1311078", "794044")  # first and last drug row of the verified file (rows 441-524)

# Regimens (lower-case) -> verified HemOnc regimen ids (by name) plus aliases.
REGIMEN_ALIASES = {
    "7+3": "7 plus 3d (standard-dose)", "7+3+midostaurin": "7 plus 3d and midostaurin",
    "da": "cytarabine and daunorubicin", "ia": "cytarabine and idarubicin",
    "cpx-351": "cpx-351 monotherapy", "aza-ven": "azacitidine and venetoclax",
    "aza+ven": "azacitidine and venetoclax", "dec-ven": "decitabine and venetoclax",
    "azacitidine": "azacitidine monotherapy", "decitabine": "decitabine monotherapy",
    "ato+atra": "arsenic trioxide and atra", "atra+ato": "arsenic trioxide and atra",
    "aida": "atra and idarubicin", "vrd": "rvd", "dara-rd": "dara-rd", "drd": "dara-rd",
    "vmp": "vmp", "vtd": "vtd", "krd": "krd", "rd": "rd", "pd": "pd", "br": "br", "fcr": "fcr",
    "r-chop": "r-chop", "abvd": "abvd", "r-cvp": "r-cvp", "hyper-cvad": "hyper-cvad",
    "flag": "flag", "flag-ida": "flag-ida", "clag": "clag", "hidac": "hidac", "beam": "beam",
    "ven-o": "venetoclax and obinutuzumab", "i+v": "ibrutinib and venetoclax",
    "mel200": "melphalan, then auto hsct", "bu-flu": "busulfan and fludarabine",
}  # fmt: skip
REGIMEN_ID_RANGE = ("35803434", "35803612")

TRANSPLANT = {"allogeneic": 4120445, "autologous": 46271079}

# Other spellings of cytogenetic abnormalities seen in deliveries -> our canonical spelling.
CYTO_ALIASES = {"+1q": "gain(1q)", "1q+": "gain(1q)", "1q gain": "gain(1q)", "17p-": "del(17p)",
                "del17p": "del(17p)", "13q-": "del(13q)", "11q-": "del(11q)", "trisomy 12": "+12",
                "monosomy 7": "-7", "5q-": "del(5q)", "7q-": "del(7q)", "20q-": "del(20q)"}  # fmt: skip

# The ingredients of regimens that sources deliver without their drugs (a clinical fact of the
# regimen, e.g. 7+3 = 7 days cytarabine + 3 days daunorubicin; see HemOnc.org). Each ingredient maps
# to a verified RxNorm ingredient by name, else concept 0. ESA (epoetin or darbepoetin) is ambiguous
# and stays unexpanded.
REGIMEN_INGREDIENTS = {
    "7+3": ["cytarabine", "daunorubicin"],
    "7+3+midostaurin": ["cytarabine", "daunorubicin", "midostaurin"],
    "7+3+placebo": ["cytarabine", "daunorubicin"],
    "da": ["cytarabine", "daunorubicin"], "ia": ["cytarabine", "idarubicin"],
    "hidac": ["cytarabine"], "flag-ida": ["fludarabine", "cytarabine", "filgrastim", "idarubicin"],
    "flag": ["fludarabine", "cytarabine", "filgrastim"], "clag": ["cladribine", "cytarabine", "filgrastim"],
    "aida": ["tretinoin", "idarubicin"], "atra+ato": ["tretinoin", "arsenic trioxide"],
    "ato+atra": ["tretinoin", "arsenic trioxide"],
    "aza-ven": ["azacitidine", "venetoclax"], "aza+ven": ["azacitidine", "venetoclax"],
    "dec-ven": ["decitabine", "venetoclax"],
    "br": ["bendamustine", "rituximab"], "fcr": ["fludarabine", "cyclophosphamide", "rituximab"],
    "venetoclax+obinutuzumab": ["venetoclax", "obinutuzumab"], "ven-o": ["venetoclax", "obinutuzumab"],
    "venetoclax+rituximab": ["venetoclax", "rituximab"], "i+v": ["ibrutinib", "venetoclax"],
    "r-chop": ["rituximab", "cyclophosphamide", "doxorubicin", "vincristine", "prednisone"],
    "r-cvp": ["rituximab", "cyclophosphamide", "vincristine", "prednisone"],
    "abvd": ["doxorubicin", "bleomycin", "vinblastine", "dacarbazine"],
    "beam": ["carmustine", "etoposide", "cytarabine", "melphalan"],
    "vrd": ["bortezomib", "lenalidomide", "dexamethasone"], "rvd": ["bortezomib", "lenalidomide", "dexamethasone"],
    "dara-vrd": ["daratumumab", "bortezomib", "lenalidomide", "dexamethasone"],
    "dara-rd": ["daratumumab", "lenalidomide", "dexamethasone"], "drd": ["daratumumab", "lenalidomide", "dexamethasone"],
    "dara-pd": ["daratumumab", "pomalidomide", "dexamethasone"],
    "krd": ["carfilzomib", "lenalidomide", "dexamethasone"], "rd": ["lenalidomide", "dexamethasone"],
    "pd": ["pomalidomide", "dexamethasone"], "vcd": ["bortezomib", "cyclophosphamide", "dexamethasone"],
    "vmp": ["bortezomib", "melphalan", "prednisone"], "vtd": ["bortezomib", "thalidomide", "dexamethasone"],
    "mel200": ["melphalan"], "bu-flu": ["busulfan", "fludarabine"],
}  # fmt: skip


def read_verified(shared: Path) -> pd.DataFrame:
    verified = pd.read_csv(shared / "vocabulary" / "concepts_verified.csv", dtype=str, keep_default_na=False)
    conflicts = pd.read_csv(
        shared / "vocabulary" / "vocab_version_conflicts.tsv",
        sep="\t",
        header=None,
        dtype=str,
        usecols=[0],
        names=["concept_id"],
    )
    verified["vocab_version_conflict"] = verified.concept_id.isin(conflicts.concept_id)
    return verified


def local_concepts() -> pd.DataFrame:
    rows = [
        (LOCAL_BASE + off, name, dom, LOCAL_VOCAB, cls, code, meaning)
        for off, name, dom, cls, code, meaning in LOCAL_CONCEPTS
    ]
    for i, (code, desc) in enumerate(CYTOGENETICS):
        rows.append(
            (LOCAL_BASE + 100 + i, f"Cytogenetic abnormality {desc}", "Measurement", LOCAL_VOCAB,
             "Lab Test", code, f"Presence of {desc} by karyotype, FISH or molecular test")
        )  # fmt: skip
    for i, gene in enumerate(dict.fromkeys(GENES)):
        rows.append(
            (LOCAL_BASE + 200 + i, f"{gene} gene mutation analysis", "Measurement", LOCAL_VOCAB,
             "Lab Test", gene, f"{gene} tested: mutated or wild type; VAF in value_as_number")
        )  # fmt: skip
    for i, (system, value, name) in enumerate(STAGING_LOCAL):
        code = f"{system}:{value}" if value else system
        rows.append(
            (LOCAL_BASE + 300 + i, name, "Measurement", LOCAL_VOCAB, "Staging/Grading", code,
             f"{name} as delivered in canonical staging.{system}")
        )  # fmt: skip
    for i, (code, name) in enumerate(RESPONSE_NAMES.items()):
        rows.append(
            (LOCAL_BASE + 400 + i, f"Response assessment: {name}", "Measurement", LOCAL_VOCAB,
             "Clinical Observation", code, f"Disease response or event '{code}' (canonical.RESPONSES)")
        )  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=["concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_class_id",
                 "concept_code", "meaning"],
    )  # fmt: skip


def name_index(verified: pd.DataFrame, first_id: str, last_id: str) -> dict[str, int]:
    """Lower-case concept name -> id over one contiguous block of the verified file."""
    ids = verified.concept_id.tolist()
    block = verified.iloc[ids.index(first_id) : ids.index(last_id) + 1]
    return {name.lower(): int(cid) for cid, name in zip(block.concept_id, block.concept_name, strict=True)}


def source_to_concept_map(verified: pd.DataFrame, local: pd.DataFrame) -> pd.DataFrame:
    known = {int(c): v for c, v in zip(verified.concept_id, verified.vocabulary_id, strict=True)}
    local_by_code = {(r.domain_id, r.concept_code): r.concept_id for r in local.itertuples()}
    rows: list[tuple] = []

    def add(vocab: str, code: str, description: str, target: int, source: int = 0) -> None:
        assert target == 0 or target in known, f"{code}: {target} not a verified id"
        assert source == 0 or source in known or source > LOCAL_BASE, source
        target_vocab = (known.get(target) or "None") if target else "None"
        rows.append((code, source, vocab, description, target, target_vocab))

    for code, cid in SEX.items():
        add("HARMONY_SEX", code, {"M": "male", "F": "female"}[code], cid)
    add("HARMONY_SEX", "U", "unknown", 0)
    for code, cid in DISEASE.items():
        add("HARMONY_DISEASE", code, code.replace("|", " "), cid)
    for code, cid in ICD10.items():
        add("ICD10", code, f"ICD-10 {code}", cid, ICD10_SOURCE_CONCEPT.get(code, 0))
    for code, cid in ICDO3.items():
        add("ICDO3", code, f"ICD-O-3 morphology {code}", cid)
    for lab, (unit, _, _) in canonical.LABS.items():
        local_id = local_by_code.get(("Measurement", lab), 0)
        add("HARMONY_LAB", lab, f"{lab} in {unit}", LAB.get(lab, 0), 0 if lab in LAB else local_id)
    for code, cid in UNITS.items():
        add("HARMONY_UNIT", code, f"unit {code}", cid)
    for code, cid in VALUES.items():
        add("HARMONY_VALUE", code, code, cid)
    for code, _ in CYTOGENETICS:
        add("HARMONY_CYTO", code, code, 0, local_by_code[("Measurement", code)])
    for alias, code in CYTO_ALIASES.items():
        add("HARMONY_CYTO", alias, f"{alias} = {code}", 0, local_by_code[("Measurement", code)])
    add("HARMONY_CYTO", "karyotype", "karyotype", 0, local_by_code[("Measurement", "karyotype")])
    for gene in dict.fromkeys(GENES):
        add("HARMONY_GENE", gene, gene, 0, local_by_code[("Measurement", gene)])
    add("HARMONY_GENE", "FLT3-ITD ratio", "FLT3-ITD allelic ratio", 0,
        local_by_code[("Measurement", "flt3_itd_ratio")])  # fmt: skip
    add("HARMONY_STAGE", "ecog", "ECOG performance status", ECOG_CONCEPT)
    for value, cid in ANN_ARBOR.items():
        add("HARMONY_STAGE", f"ann_arbor:{value}", f"Ann Arbor stage {value}", cid)
    for system, value, name in STAGING_LOCAL:
        code = f"{system}:{value}" if value else system
        add("HARMONY_STAGE", code, name, 0, local_by_code[("Measurement", code)])
    for code, name in RESPONSE_NAMES.items():
        add("HARMONY_RESPONSE", code, name, 0, local_by_code[("Measurement", code)])
    drugs = name_index(verified, *DRUG_ID_RANGE)
    for name, cid in sorted(drugs.items()):
        add("HARMONY_DRUG", name, name, cid)
    for alias, name in DRUG_ALIASES.items():
        if name and name in drugs and alias not in drugs:
            add("HARMONY_DRUG", alias, f"{alias} = {name}", drugs[name])
    regimens = name_index(verified, *REGIMEN_ID_RANGE)
    for name, cid in sorted(regimens.items()):
        add("HARMONY_REGIMEN", name, name, cid)
    for alias, name in REGIMEN_ALIASES.items():
        if alias not in regimens:
            add("HARMONY_REGIMEN", alias, f"{alias} = {name}", regimens[name])
    for code, cid in TRANSPLANT.items():
        add("HARMONY_TRANSPLANT", code, f"{code} HSCT", cid, local_by_code[("Procedure", code)])
    add("HARMONY_OBS", "donor_type", "donor type", 0, local_by_code[("Observation", "donor_type")])
    add("HARMONY_OBS", "cytogenetic_category", "cytogenetic category", 0,
        local_by_code[("Observation", "cytogenetic_category")])  # fmt: skip

    stcm = pd.DataFrame(
        rows,
        columns=["source_code", "source_concept_id", "source_vocabulary_id",
                 "source_code_description", "target_concept_id", "target_vocabulary_id"],
    )  # fmt: skip
    stcm["valid_start_date"], stcm["valid_end_date"], stcm["invalid_reason"] = VALID_START, VALID_END, ""
    assert not stcm.duplicated(["source_vocabulary_id", "source_code"]).any()
    return stcm


def regimen_ingredients(verified: pd.DataFrame) -> pd.DataFrame:
    drugs = name_index(verified, *DRUG_ID_RANGE)
    rows = [
        (regimen, ingredient, drugs.get(ingredient, 0))
        for regimen, ingredients in REGIMEN_INGREDIENTS.items()
        for ingredient in ingredients
    ]
    # a single-drug regimen named by its ingredient (e.g. 'gilteritinib') is that ingredient
    rows += [(name, name, cid) for name, cid in sorted(drugs.items()) if name not in REGIMEN_INGREDIENTS]
    return pd.DataFrame(rows, columns=["regimen", "ingredient", "ingredient_concept_id"])


def cdm_spec(shared: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    spec = pd.read_csv(shared / "omop" / "OMOP_CDMv5.4_Field_Level.csv", dtype=str, keep_default_na=False)
    spec["ordinal"] = spec.groupby("cdmTableName").cumcount() + 1
    dqd = pd.read_csv(
        shared / "omop" / "dqd" / "OMOP_CDMv5.4_Field_Level.csv", dtype=str, keep_default_na=False
    )
    dqd["table_name"] = dqd.cdmTableName.str.lower()
    dqd["field_name"] = dqd.cdmFieldName.str.lower().str.strip('"')
    spec["table_name"] = spec.cdmTableName.str.lower()
    spec["field_name"] = spec.cdmFieldName.str.lower().str.strip('"')  # note_nlp."offset" is quoted
    merged = spec.merge(dqd, on=["table_name", "field_name"], how="left", suffixes=("", "_dqd"))

    def yes(col: str) -> pd.Series:
        return merged[col].fillna("").eq("Yes")

    def na(col: str) -> pd.Series:
        return merged[col].fillna("").replace("NA", "").str.lower()

    field_spec = pd.DataFrame(
        {
            "table_name": merged.table_name,
            "field_name": merged.field_name,
            "ordinal": merged.ordinal,
            "is_required": yes("isRequired"),
            "cdm_datatype": merged.cdmDatatype.str.strip(),
            "duckdb_type": merged.cdmDatatype.map(duckdb_type),
            "is_primary_key": yes("isPrimaryKey"),
            "is_foreign_key": yes("isForeignKey"),
            "fk_table": na("fkTableName"),
            "fk_field": na("fkFieldName"),
            "fk_domain": merged.fkDomain.fillna("").replace("NA", ""),
            "is_standard_valid_concept": yes("isStandardValidConcept"),
            "source_value_completeness": yes("sourceValueCompleteness"),
            "standard_concept_field": merged.standardConceptFieldName.fillna("").str.lower(),
            "plausible_value_low": merged.plausibleValueLow.fillna("").map(dqd_literal),
            "plausible_value_high": merged.plausibleValueHigh.fillna("").map(dqd_literal),
            "plausible_after_birth": yes("plausibleAfterBirth"),
            "plausible_before_death": yes("plausibleBeforeDeath"),
            "plausible_start_before_end": yes("plausibleStartBeforeEnd"),
            "start_before_end_field": merged.plausibleStartBeforeEndFieldName.fillna("").str.lower(),
        }
    )
    for check in ["isRequired", "isPrimaryKey", "isForeignKey", "fkDomain", "isStandardValidConcept",
                  "sourceValueCompleteness", "plausibleValueLow", "plausibleValueHigh",
                  "plausibleAfterBirth", "plausibleBeforeDeath", "plausibleStartBeforeEnd"]:  # fmt: skip
        threshold = merged[f"{check}Threshold"].fillna("").replace("", "0").astype(float)
        field_spec[f"{snake(check)}_threshold"] = threshold
    field_spec["dqd_excluded"] = field_spec.table_name.isin(DQD_EXCLUDED_TABLES)

    tables = pd.read_csv(
        shared / "omop" / "dqd" / "OMOP_CDMv5.4_Table_Level.csv", dtype=str, keep_default_na=False
    )
    table_spec = pd.DataFrame(
        {
            "table_name": tables.cdmTableName.str.lower(),
            "is_required": tables.isRequired.eq("Yes"),
            "measure_person_completeness": tables.measurePersonCompleteness.eq("Yes"),
            "measure_person_completeness_threshold": tables.measurePersonCompletenessThreshold.replace(
                "", "0"
            ).astype(float),
        }
    )
    # Tables of the specification the DQD table file does not list (e.g. cohort) still exist.
    missing = sorted(set(field_spec.table_name) - set(table_spec.table_name))
    table_spec = pd.concat(
        [table_spec, pd.DataFrame({"table_name": missing, "is_required": False,
                                   "measure_person_completeness": False,
                                   "measure_person_completeness_threshold": 0.0})],
        ignore_index=True,
    )  # fmt: skip
    table_spec = table_spec[table_spec.table_name.isin(set(field_spec.table_name))]
    table_spec["dqd_excluded"] = table_spec.table_name.isin(DQD_EXCLUDED_TABLES)
    return field_spec, table_spec.sort_values("table_name")


def snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def duckdb_type(cdm_type: str) -> str:
    """CDM spec type -> DuckDB type. float is DOUBLE: the DDL's NUMERIC is DECIMAL(18,3) in DuckDB,
    which would round VAFs and small lab values."""
    t = cdm_type.strip().lower()
    if t == "integer":
        return "integer"
    if t == "float":
        return "double"
    if t == "date":
        return "date"
    if t == "datetime":
        return "timestamp"
    if t.startswith("varchar"):
        return "varchar"
    raise ValueError(cdm_type)


def dqd_literal(value: str) -> str:
    """DQD thresholds are SQL Server snippets; keep them as SQL for DuckDB."""
    v = value.strip()
    if not v:
        return ""
    if v.startswith("'") and len(v) == 10:  # '19500101'
        return f"date '{v[1:5]}-{v[5:7]}-{v[7:9]}'"
    if v == "DATEADD(dd,1,GETDATE())":
        return "current_date + 1"
    if v == "YEAR(GETDATE())+1":
        return "year(current_date) + 1"
    float(v)
    return v


def check_descriptions(shared: Path) -> pd.DataFrame:
    checks = pd.read_csv(shared / "omop" / "dqd" / "OMOP_CDMv5.4_Check_Descriptions.csv", dtype=str)
    return checks[["checkLevel", "checkName", "kahnContext", "kahnCategory", "kahnSubcategory", "severity"]].rename(
        columns={"checkLevel": "check_level", "checkName": "check_name", "kahnContext": "kahn_context",
                 "kahnCategory": "kahn_category", "kahnSubcategory": "kahn_subcategory"}
    )  # fmt: skip


def concept_checks(shared: Path, stcm: pd.DataFrame, local: pd.DataFrame) -> pd.DataFrame:
    """plausibleValueLow/High and plausibleUnitConceptIds for our measurement concepts.

    Units: DQD concept-level list where it has the concept, else our canonical unit. Ranges:
    canonical.LABS (DQD has none for these concepts). Threshold 5%: DQD's concept-level default."""
    dqd = pd.read_csv(
        shared / "omop" / "dqd" / "OMOP_CDMv5.4_Concept_Level.csv", dtype=str, keep_default_na=False
    )
    dqd_units = {
        int(r.conceptId): r.plausibleUnitConceptIds.replace("\n", "").replace(" ", "")
        for r in dqd.itertuples()
        if r.cdmTableName == "MEASUREMENT" and r.plausibleUnitConceptIds
    }
    labs = stcm[stcm.source_vocabulary_id == "HARMONY_LAB"]
    rows = []
    for lab in labs.itertuples():
        unit, low, high = canonical.LABS[lab.source_code]
        concept = lab.target_concept_id or lab.source_concept_id
        unit_id = UNITS[unit]
        units = dqd_units.get(concept, str(unit_id))
        if str(unit_id) not in units.split(","):
            units = f"{units},{unit_id}"
        rows.append((concept, lab.source_code, unit_id, low, high, units, 5.0))
    return pd.DataFrame(
        rows,
        columns=["concept_id", "lab", "unit_concept_id", "plausible_value_low", "plausible_value_high",
                 "plausible_unit_concept_ids", "threshold_pct"],
    )  # fmt: skip


def vocabulary_tables(verified: pd.DataFrame, local: pd.DataFrame, stcm: pd.DataFrame, field_spec) -> dict:
    """vocabulary, domain and concept_class rows; their *_concept_id are local metadata concepts."""
    vocabs = sorted(
        (set(verified.vocabulary_id) | set(local.vocabulary_id) | set(stcm.source_vocabulary_id)
         | set(stcm.target_vocabulary_id) | {"None", "Vocabulary", "Domain", "Concept Class"}) - {""}
    )  # fmt: skip
    domains = sorted(
        (set(verified.domain_id) | set(local.domain_id) | set(field_spec.fk_domain) | {"Metadata"}) - {""}
    )
    classes = sorted(
        (
            set(verified.concept_class_id)
            | set(local.concept_class_id)
            | {"Vocabulary", "Domain", "Concept Class"}
        )
        - {""}
    )
    meta = []
    out = {}
    for kind, names, base, class_id in [
        ("vocabulary", vocabs, 1000, "Vocabulary"),
        ("domain", domains, 1200, "Domain"),
        ("concept_class", classes, 1400, "Concept Class"),
    ]:
        rows = []
        for i, name in enumerate(names):
            cid = LOCAL_BASE + base + i
            meta.append((cid, f"{kind} {name}", "Metadata", class_id, class_id, name,
                         f"Local metadata concept for the {kind} '{name}' (its OMOP id is not in the verified subset)"))  # fmt: skip
            rows.append((name, name, cid))
        out[kind] = pd.DataFrame(rows, columns=[f"{kind}_id", f"{kind}_name", f"{kind}_concept_id"])
    out["vocabulary"]["vocabulary_reference"] = out["vocabulary"].vocabulary_id.map(
        lambda v: (
            "HARMONY local mapping (scripts/derive_omop_facts.py)"
            if v.startswith("HARMONY")
            else "OHDSI Athena"
        )
    )
    out["vocabulary"]["vocabulary_version"] = out["vocabulary"].vocabulary_id.map(
        lambda v: "v1" if v.startswith("HARMONY") else "verified subset (../shared/vocabulary)"
    )
    out["meta"] = pd.DataFrame(
        meta,
        columns=["concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_class_id", "concept_code",
                 "meaning"],
    )  # fmt: skip
    return out


# dbt data tests on keys only where the DQD checks do not look: the vocabulary (DQD excludes it), i.e.
# concept_id unique and not null. Elsewhere a duplicated or missing key and a person_id that is not a
# person are fatal DQD checks (isPrimaryKey, isRequired, isForeignKey in ops.dq_results), and the test
# assert_no_fatal_dq_failures blocks the marts when one fails: dbt tests of the same keys computed them
# twice (the unique test of measurement_id alone took 1.6 s of every build at 1M patients).
KEY_TESTED = {"concept"}


def data_tests(table: str, field) -> list[str]:
    """dbt data tests on keys the DQD checks leave out: concept_id unique and not null."""
    if table in KEY_TESTED and field.is_primary_key:
        return ["unique", "not_null"]
    return []


def write_models_yml(field_spec: pd.DataFrame) -> None:
    """One model per CDM table with its columns, types and an enforced contract."""
    lines = [
        "# Generated by scripts/derive_omop_facts.py from the CDM v5.4 field-level specification",
        "# (../shared/omop/OMOP_CDMv5.4_Field_Level.csv). Do not edit by hand.",
        "version: 2",
        "models:",
    ]
    for table, fields in field_spec.groupby("table_name", sort=True):
        lines += [
            f"  - name: {table}",
            f"    description: OMOP CDM v5.4 table {table}.",
            "    config:",
            "      contract: {enforced: true}",
            "    columns:",
        ]
        for f in fields.sort_values("ordinal").itertuples():
            lines.append(f"      - name: {f.field_name}")
            lines.append(f"        data_type: {f.duckdb_type}")
            if f.field_name in SQL_KEYWORDS:
                lines.append("        quote: true")
            tests = data_tests(table, f)
            if tests:
                lines.append("        data_tests:")
                lines += [f"          - {t}" for t in tests]
    (OMOP_MODELS / "_omop__models.yml").write_text("\n".join(lines) + "\n")


def write(df: pd.DataFrame, name: str) -> None:
    df.to_csv(SEEDS / f"{name}.csv", index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    shared = parser.parse_args().shared
    SEEDS.mkdir(parents=True, exist_ok=True)
    OMOP_MODELS.mkdir(parents=True, exist_ok=True)

    verified = read_verified(shared)
    local = local_concepts()
    stcm = source_to_concept_map(verified, local)
    field_spec, table_spec = cdm_spec(shared)
    vocab = vocabulary_tables(verified, local, stcm, field_spec)
    local_all = pd.concat([local, vocab["meta"]], ignore_index=True).sort_values("concept_id")
    assert local_all.concept_id.is_unique and (local_all.concept_id > LOCAL_BASE).all()

    write(verified, "vocab_concept_verified")
    write(local_all, "vocab_concept_local")
    write(stcm, "vocab_source_to_concept_map")
    write(vocab["vocabulary"], "vocab_vocabulary")
    write(vocab["domain"], "vocab_domain")
    write(vocab["concept_class"], "vocab_concept_class")
    write(pd.DataFrame(UNIT_CONVERSIONS, columns=["lab", "from_unit", "factor"]), "vocab_unit_conversion")
    lab_units = [(lab, unit, UNITS[unit]) for lab, (unit, _, _) in canonical.LABS.items()]
    write(pd.DataFrame(lab_units, columns=["lab", "canonical_unit", "unit_concept_id"]), "vocab_lab_unit")
    write(regimen_ingredients(verified), "vocab_regimen_ingredient")
    write(field_spec, "cdm_field_spec")
    write(table_spec, "cdm_table_spec")
    write(check_descriptions(shared), "dqd_check_descriptions")
    write(concept_checks(shared, stcm, local), "dqd_concept_checks")
    write_models_yml(field_spec)
    print(f"verified {len(verified)}, local {len(local_all)}, stcm {len(stcm)}, fields {len(field_spec)}")


if __name__ == "__main__":
    main()
