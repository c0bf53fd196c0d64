"""Unit conversions of lab values to the canonical units of canonical.LABS.

Factor f means: canonical value = source value x f. Unit spellings are compared after `unit_key`
(case-folded, spaces removed, micro sign and "mc" read as "u").
"""

from __future__ import annotations

from harmony_pipeline.canonical import LABS

# 10^9/L and the other spellings of "per nanolitre" used by laboratories (1 G/L = 1/nL = 10^3/uL).
_PER_NL = {"10^9/l": 1.0, "x10^9/l": 1.0, "/nl": 1.0, "10^3/ul": 1.0, "x10^3/ul": 1.0,
           "10^3/mm3": 1.0, "k/ul": 1.0, "gpt/l": 1.0, "/ul": 0.001, "/mm3": 0.001}  # fmt: skip
_PERCENT = {"%": 1.0, "percent": 1.0, "fraction": 100.0}

CONVERSIONS: dict[str, dict[str, float]] = {
    # Haemoglobin: 1 mmol/L (monomer, 16.114 kDa) = 1.6114 g/dL; the clinical factor 1.611 is used in
    # Dutch/Belgian laboratories (e.g. NHG/NVKC conversion tables).
    "hb": {"g/dl": 1.0, "g/l": 0.1, "mmol/l": 1.611},
    "plt": {**_PER_NL, "g/l": 1.0},
    "anc": {**_PER_NL, "g/l": 1.0},
    "wbc": {**_PER_NL, "g/l": 1.0},
    "bm_blasts": _PERCENT,
    "pb_blasts": _PERCENT,
    "mrd": _PERCENT,
    "ighv_identity": _PERCENT,
    # beta-2 microglobulin: 1 mg/dL = 10 mg/L; 1 ug/mL = 1 mg/L.
    "b2m": {"mg/l": 1.0, "mg/dl": 10.0, "ug/ml": 1.0},
    "albumin": {"g/dl": 1.0, "g/l": 0.1},
    "m_protein": {"g/dl": 1.0, "g/l": 0.1},
    # LDH: 1 ukat/L = 60 U/L (1 U = 1 umol/min = 1/60 ukat).
    "ldh": {"u/l": 1.0, "iu/l": 1.0, "ukat/l": 60.0},
    "ldh_uln": {"u/l": 1.0, "iu/l": 1.0, "ukat/l": 60.0},
    # Creatinine: molar mass 113.12 g/mol, so 1 mg/dL = 88.42 umol/L.
    "creatinine": {"mg/dl": 1.0, "umol/l": 1 / 88.42},
    # Calcium: atomic mass 40.08 g/mol, so 1 mmol/L = 4.008 mg/dL.
    "calcium": {"mg/dl": 1.0, "mmol/l": 4.008},
}


def unit_key(unit: str) -> str:
    key = str(unit).strip().casefold().replace(" ", "").replace("µ", "u").replace("μ", "u")
    return key.replace("mcmol", "umol").replace("mcg", "ug").replace("×", "x").replace("e9/l", "^9/l")


def canonical_unit(lab: str) -> str | None:
    return LABS[lab][0] if lab in LABS else None


def factor(lab: str, unit: str) -> float | None:
    """Factor from `unit` to the lab's canonical unit, or None when the unit is not known for the lab."""
    table = CONVERSIONS.get(lab, {})
    key = unit_key(unit)
    if key in table:
        return table[key]
    if lab in LABS and key == unit_key(LABS[lab][0]):
        return 1.0
    return None
