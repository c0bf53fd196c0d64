"""Closed code lists and code formats of canonical fields that canonical.py leaves open.

canonical.Field.allowed closes most code lists; these fields are open there (country, death_cause,
donor_type, staging value, diagnosis code), so a source label the contract passes through verbatim (an unknown
code) would otherwise load. The gate checks them through the entity suites (quality.suites), measured
against the synthetic ground truth in tests/quality/test_ground_truth.py. They belong in canonical.py
and move there when its owner takes them over.
"""

from __future__ import annotations

# ISO 3166-1 alpha-2, the officially assigned codes (ISO 3166 Maintenance Agency, 249 codes);
# user-assigned codes (AA, QM-QZ, XA-XZ, ZZ) are not countries.
ISO_3166_ALPHA2 = tuple(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW
    BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI
    FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN
    IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
    PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE
    YT ZA ZM ZW
    """.split()
)

# The canonical causes of death every built-in contract maps to (contracts/builtin/*.yml).
DEATH_CAUSES = ("disease", "infection", "treatment-related", "other")

# Canonical donor types of an allogeneic transplant, as every built-in contract maps them (autologous: none).
DONOR_TYPES = ("matched related", "matched unrelated", "haploidentical", "mismatched unrelated")

# Closed value lists per staging system (reference/clinical_rules.md: IPI, NCCN-IPI, CLL-IPI, NCI risk).
STAGING_VALUES: dict[str, tuple[str, ...]] = {
    "ecog": ("0", "1", "2", "3", "4", "5"),  # ECOG performance status 0-5 (Oken et al. 1982)
    "ann_arbor": ("I", "II", "III", "IV"),
    "b_symptoms": ("A", "B"),  # Ann Arbor suffix
    "binet": ("A", "B", "C"),
    "rai": ("0", "I", "II", "III", "IV"),
    "cns_involvement": ("CNS1", "CNS2", "CNS3"),
}

# Staging systems whose value is a count of sites: a whole number, at most 30 (a plausibility bound in the
# spirit of the canonical lab ranges; the IPI counts > 1 extranodal site, FLIPI > 4 nodal areas).
STAGING_COUNTS = ("extranodal_sites", "nodal_areas")
COUNT_PATTERN = r"^(?:[0-9]|[12][0-9]|30)$"

# Diagnosis codes must be codes of a haematological malignancy in their code system:
# ICD-10 C81-C96 (malignant neoplasms of lymphoid, haematopoietic and related tissue) and D45-D47
# (polycythaemia vera, myelodysplastic syndromes, other neoplasms of uncertain behaviour of lymphoid and
# haematopoietic tissue), with an optional subcategory (ICD-10-CM letters such as C92.A included);
# ICD-O-3 morphology 9590/0-9992/9, the haematopoietic and lymphoid neoplasms, with behaviour digit.
DIAGNOSIS_CODE_PATTERNS: dict[str, str] = {
    "ICD10": r"^(?:C8[1-9]|C9[0-6]|D4[5-7])(?:\.[0-9A-Z]{1,2})?$",
    "ICDO3": r"^(?:959[0-9]|9[6-8][0-9]{2}|99[0-8][0-9]|999[0-2])/[0-9]$",
}
