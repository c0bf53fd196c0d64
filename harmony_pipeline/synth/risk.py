"""A small, vectorised reference implementation of the published risk rules, for the ground truth.

The synthetic generator computes each patient's true risk groups from the true inputs with these
functions; the marts compute them independently in dbt, and end-to-end tests compare the two.
Rules and cut-offs: /work/shared/reference/clinical_rules.md (cited per function). Inputs are numpy
arrays aligned per patient (NaN = missing); outputs are object arrays of labels (None = not computable),
spelled as the marts spell them (issue 6: 'Very Low', 'Low', 'Intermediate', 'High', 'Very High'; ELN
'Favorable' / 'Intermediate' / 'Adverse'; IPI 'Low-Intermediate'; NCI 'Standard' / 'High').
"""

from __future__ import annotations

import numpy as np


def _labels(conditions: list[np.ndarray], labels: list[str], default: str | None = None) -> np.ndarray:
    return np.select(conditions, np.array(labels, dtype=object), default=default).astype(object)


def decided(groups: list[np.ndarray]) -> np.ndarray:
    """The group every completion of inputs a source does not deliver agrees on; None where they differ.

    Each element of `groups` is the classification computed with one possible value of the undelivered
    inputs: a group is computable from what was delivered exactly when all completions give the same one.
    """
    first = np.asarray(groups[0], dtype=object)
    same = np.ones(len(first), dtype=bool)
    for other in groups[1:]:
        same &= np.asarray(other, dtype=object) == first
    return np.where(same, first, None).astype(object)


# --- MDS ------------------------------------------------------------------------------------------------

# IPSS-R cytogenetic points per Schanz category (Greenberg, Blood 2012).
IPSSR_CYTO_POINTS = {"very_good": 0, "good": 1, "intermediate": 2, "poor": 3, "very_poor": 4}


def ipss_r_score(cyto_points, bm_blasts, hb, plt, anc) -> np.ndarray:
    """IPSS-R total score (Greenberg 2012); NaN when an input is missing."""
    blasts = np.select([bm_blasts <= 2, bm_blasts < 5, bm_blasts <= 10], [0.0, 1.0, 2.0], 3.0)
    hb_pts = np.select([hb >= 10, hb >= 8], [0.0, 1.0], 1.5)
    plt_pts = np.select([plt >= 100, plt >= 50], [0.0, 0.5], 1.0)
    anc_pts = np.where(anc >= 0.8, 0.0, 0.5)
    score = cyto_points + blasts + hb_pts + plt_pts + anc_pts
    missing = np.isnan(cyto_points) | np.isnan(bm_blasts) | np.isnan(hb) | np.isnan(plt) | np.isnan(anc)
    return np.where(missing, np.nan, score)


def ipss_r_group(score) -> np.ndarray:
    return _labels(
        [score <= 1.5, score <= 3, score <= 4.5, score <= 6, score > 6],
        ["Very Low", "Low", "Intermediate", "High", "Very High"],
    )


def ipss_ra_score(score, age) -> np.ndarray:
    """Age-adjusted IPSS-RA: score + (age - 70) * (0.05 - score * 0.005), rounded to 4 decimals."""
    return np.round(score + (np.round(age, 1) - 70) * (0.05 - score * 0.005), 4)


# IPSS-M (Bernard, NEJM Evidence 2022): covariate -> (beta, mean).
IPSSM_BETAS = {
    "HB1": (-0.171, 9.87),
    "PLT100": (-0.222, 1.41),
    "BLAST5": (0.352, 0.922),
    "CYTOVEC": (0.287, 1.39),
    "TP53multi": (1.18, 0.071),
    "FLT3": (0.798, 0.0108),
    "KMT2A_PTD": (0.798, 0.0247),
    "SF3B1_5q": (0.504, 0.0166),
    "NPM1": (0.430, 0.0112),
    "RUNX1": (0.423, 0.126),
    "NRAS": (0.417, 0.0362),
    "ETV6": (0.391, 0.0216),
    "IDH2": (0.379, 0.0429),
    "CBL": (0.295, 0.0473),
    "EZH2": (0.270, 0.0588),
    "U2AF1": (0.247, 0.0866),
    "SRSF2": (0.239, 0.158),
    "DNMT3A": (0.221, 0.161),
    "ASXL1": (0.213, 0.252),
    "KRAS": (0.202, 0.0271),
    "SF3B1_alpha": (-0.0794, 0.186),
    "nRes2": (0.231, 0.388),
}
IPSSM_RESIDUAL_GENES = (
    "BCOR", "BCORL1", "CEBPA", "ETNK1", "GATA2", "GNB1", "IDH1", "NF1", "PHF6", "PPM1D", "PRPF8",
    "PTPN11", "SETBP1", "STAG2", "WT1",
)  # fmt: skip


def ipss_m_score(
    hb, plt, bm_blasts, cyto_points, genes: dict[str, np.ndarray], tp53_vaf, tp53_count, del5q, del7, complex_
) -> np.ndarray:
    """IPSS-M score with complete inputs (the generator never leaves a true input missing)."""
    g = {k: np.asarray(v, dtype=float) for k, v in genes.items()}
    sf3b1 = g["SF3B1"] > 0
    sf3b1_5q = sf3b1 & del5q & ~del7 & ~complex_
    sf3b1_alpha = (
        sf3b1
        & ~sf3b1_5q
        & ~((g["SRSF2"] + g["STAG2"] + g["BCOR"] + g["BCORL1"] + g["RUNX1"] + g["NRAS"]) > 0)
    )
    tp53multi = (tp53_count >= 2) | ((tp53_count >= 1) & (np.nan_to_num(tp53_vaf) > 0.55))
    x = {
        "HB1": np.clip(hb, 4, 20),
        "PLT100": np.minimum(plt, 250) / 100,
        "BLAST5": np.minimum(bm_blasts, 20) / 5,
        "CYTOVEC": cyto_points,
        "TP53multi": tp53multi.astype(float),
        "FLT3": g["FLT3"],
        "KMT2A_PTD": g["KMT2A_PTD"],
        "SF3B1_5q": sf3b1_5q.astype(float),
        "SF3B1_alpha": sf3b1_alpha.astype(float),
        "nRes2": np.minimum(sum(g[name] for name in IPSSM_RESIDUAL_GENES), 2),
    }
    for name in (
        "NPM1",
        "RUNX1",
        "NRAS",
        "ETV6",
        "IDH2",
        "CBL",
        "EZH2",
        "U2AF1",
        "SRSF2",
        "DNMT3A",
        "ASXL1",
        "KRAS",
    ):
        x[name] = g[name]
    total = sum(beta * (x[k] - mean) for k, (beta, mean) in IPSSM_BETAS.items())
    return np.round(total / np.log(2), 2)


def ipss_m_group(score) -> np.ndarray:
    return _labels(
        [score <= -1.5, score <= -0.5, score <= 0, score <= 0.5, score <= 1.5, score > 1.5],
        ["Very Low", "Low", "Moderate Low", "Moderate High", "High", "Very High"],
    )


# --- AML -----------------------------------------------------------------------------------------------

ELN_ADVERSE_GENES_2022 = ("ASXL1", "BCOR", "EZH2", "RUNX1", "SF3B1", "SRSF2", "STAG2", "U2AF1", "ZRSR2")
# Cytogenetic lesions (the generator's abnormality labels) that are adverse in ELN 2022 / 2017.
ELN_ADVERSE_CYTO_2022 = (
    "t(6;9)",
    "KMT2A-r",
    "t(9;22)",
    "t(8;16)",
    "inv(3)",
    "MECOM-r",
    "del(5q)",
    "-7",
    "abn(17p)",
    "complex",
)
ELN_ADVERSE_CYTO_2017 = ("t(6;9)", "KMT2A-r", "t(9;22)", "inv(3)", "del(5q)", "-7", "abn(17p)", "complex")


def eln_2022(cyto, genes: dict[str, np.ndarray], tp53_vaf) -> np.ndarray:
    """ELN 2022 genetic risk (Dohner, Blood 2022). cyto: one abnormality label per patient."""
    cbf = np.isin(cyto, ["t(8;21)", "inv(16)"])
    t911 = cyto == "t(9;11)"
    adverse_cyto = np.isin(cyto, ELN_ADVERSE_CYTO_2022)
    adverse_gene = np.zeros(len(cyto), dtype=bool)
    for name in ELN_ADVERSE_GENES_2022:
        adverse_gene |= genes[name] > 0
    tp53 = (genes["TP53"] > 0) & (np.nan_to_num(tp53_vaf) >= 0.10)
    npm1 = genes["NPM1"] > 0
    itd = genes["FLT3_ITD"] > 0
    fav_molecular = (npm1 & ~itd) | (genes["CEBPA_bZIP"] > 0)
    # NPM1 (with or without ITD) is a favourable/intermediate subtype: myelodysplasia genes do not count.
    adverse = adverse_cyto | tp53 | (adverse_gene & ~npm1 & ~(genes["CEBPA_bZIP"] > 0))
    return _labels(
        [cbf, t911 & ~tp53, adverse, fav_molecular],
        ["Favorable", "Intermediate", "Adverse", "Favorable"],
        default="Intermediate",
    )


def eln_2017(cyto, genes: dict[str, np.ndarray], itd_ratio) -> np.ndarray:
    """ELN 2017 (Dohner, Blood 2017): ITD allelic ratio counts, only RUNX1/ASXL1 as adverse genes."""
    cbf = np.isin(cyto, ["t(8;21)", "inv(16)"])
    t911 = cyto == "t(9;11)"
    npm1 = genes["NPM1"] > 0
    itd = genes["FLT3_ITD"] > 0
    itd_high = itd & (np.nan_to_num(itd_ratio) >= 0.5)
    itd_low_or_none = ~itd | ~itd_high
    favourable = (npm1 & itd_low_or_none) | (genes["CEBPA_bZIP"] > 0)
    # RUNX1 / ASXL1 are not adverse next to a favorable subtype (table 5 footnote), TP53 always is
    adverse = (
        np.isin(cyto, ELN_ADVERSE_CYTO_2017)
        | (genes["TP53"] > 0)
        | (~npm1 & itd_high)
        | (((genes["RUNX1"] > 0) | (genes["ASXL1"] > 0)) & ~favourable)
    )
    return _labels(
        [cbf, t911, adverse, favourable],
        ["Favorable", "Intermediate", "Adverse", "Favorable"],
        "Intermediate",
    )


def sanz(wbc, plt) -> np.ndarray:
    """APL Sanz score (Blood 2000)."""
    return _labels(
        [np.isnan(wbc) | np.isnan(plt), wbc > 10, plt > 40, plt <= 40], [None, "High", "Low", "Intermediate"]
    )


# --- Myeloma -------------------------------------------------------------------------------------------


def iss(b2m, albumin) -> np.ndarray:
    """ISS (Greipp 2005)."""
    return _labels(
        [np.isnan(b2m), b2m >= 5.5, np.isnan(albumin), (b2m < 3.5) & (albumin >= 3.5)],
        [None, "III", None, "I"],
        "II",
    )


def r_iss(iss_stage, del17p, t414, t1416, ldh_high) -> np.ndarray:
    """R-ISS (Palumbo 2015). Inputs are booleans (no missing values in the truth)."""
    high_fish = del17p | t414 | t1416
    return _labels(
        [(iss_stage == "I") & ~high_fish & ~ldh_high, (iss_stage == "III") & (high_fish | ldh_high)],
        ["I", "III"],
        "II",
    )


def r2_iss(iss_stage, del17p, ldh_high, t414, gain1q) -> np.ndarray:
    """R2-ISS (D'Agostino 2022)."""
    score = (
        np.where(iss_stage == "II", 1.0, 0.0)
        + np.where(iss_stage == "III", 1.5, 0.0)
        + del17p * 1.0
        + ldh_high * 1.0
        + t414 * 1.0
        + gain1q * 0.5
    )
    return _labels([score == 0, score <= 1, score <= 2.5], ["I", "II", "III"], "IV")


# --- CLL -----------------------------------------------------------------------------------------------


def cll_ipi(tp53_abnormal, ighv_identity, b2m, binet, age) -> np.ndarray:
    """CLL-IPI (Lancet Oncol 2016); IGHV unmutated = identity >= 98%."""
    score = (
        tp53_abnormal * 4
        + (ighv_identity >= 98) * 2
        + (b2m > 3.5) * 2
        + np.isin(binet, ["B", "C"]) * 1
        + (age > 65) * 1
    )
    return _labels([score <= 1, score <= 3, score <= 6], ["Low", "Intermediate", "High"], "Very High")


# --- Lymphoma ------------------------------------------------------------------------------------------


def ipi(age, ldh_ratio, ecog, stage, extranodal_sites) -> np.ndarray:
    score = (
        (age > 60) * 1 + (ldh_ratio > 1) * 1 + (ecog >= 2) * 1 + (stage >= 3) * 1 + (extranodal_sites > 1) * 1
    )
    return _labels(
        [score <= 1, score == 2, score == 3], ["Low", "Low-Intermediate", "High-Intermediate"], "High"
    )


def nccn_ipi(age, ldh_ratio, ecog, stage, major_extranodal) -> np.ndarray:
    score = (
        np.select([age <= 40, age <= 60, age <= 75], [0, 1, 2], 3)
        + np.select([ldh_ratio <= 1, ldh_ratio <= 3], [0, 1], 2)
        + (stage >= 3) * 1
        + major_extranodal * 1
        + (ecog >= 2) * 1
    )
    return _labels(
        [score <= 1, score <= 3, score <= 5], ["Low", "Low-Intermediate", "High-Intermediate"], "High"
    )


def flipi(age, stage, hb, ldh_ratio, nodal_areas) -> np.ndarray:
    score = (age > 60) * 1 + (stage >= 3) * 1 + (hb < 12) * 1 + (ldh_ratio > 1) * 1 + (nodal_areas > 4) * 1
    return _labels([score <= 1, score == 2], ["Low", "Intermediate"], "High")


# --- ALL -----------------------------------------------------------------------------------------------


def nci_risk(age, wbc, subtype) -> np.ndarray:
    """NCI/Rome risk: B-ALL aged 1-18 only; Standard = age 1-9.99 and WBC < 50, else High."""
    eligible = (subtype == "B-ALL") & (age >= 1) & (age < 19)
    return _labels([~eligible, (age < 10) & (wbc < 50)], [None, "Standard"], "High")
