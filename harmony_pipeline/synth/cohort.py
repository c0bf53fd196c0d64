"""True patients: demographics, labs, genetics, risk groups and a clinical course, per disease.

Everything is vectorised numpy over all patients of one disease. Dates are float days since
1970-01-01 (NaN = no such event) until the source renderers format them. Frequencies and
distributions are rounded figures from published cohorts (cited inline); survival is drawn from
exponential hazards per true risk group so that overall survival by group reproduces the published
separation in /work/shared/reference/clinical_rules.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmony_pipeline.synth import names, risk

DAY0 = np.datetime64("1970-01-01", "D")
DIAG_START = float((np.datetime64("2008-01-01") - DAY0).astype(int))
DIAG_END = float((np.datetime64("2024-12-31") - DAY0).astype(int))
FINAL_CUTOFF = float((np.datetime64("2025-12-31") - DAY0).astype(int))
YEAR = 365.25
LOSS_TO_FOLLOW_UP_PER_YEAR = 0.03

GENES = (
    "NPM1", "FLT3_ITD", "FLT3_TKD", "FLT3", "CEBPA_bZIP", "CEBPA", "TP53", "RUNX1", "ASXL1", "BCOR", "BCORL1",
    "EZH2", "SF3B1", "SRSF2", "STAG2", "U2AF1", "ZRSR2", "DNMT3A", "IDH1", "IDH2", "TET2", "NRAS", "KRAS",
    "KIT", "WT1", "KMT2A_PTD", "ETV6", "CBL", "ETNK1", "GATA2", "GNB1", "NF1", "PHF6", "PPM1D", "PRPF8",
    "PTPN11", "SETBP1",
)  # fmt: skip

# Adult AML mutation frequencies (Papaemmanuil, NEJM 2016; ELN 2022): NPM1 ~30% and FLT3-ITD ~25% are
# drawn conditionally below; these are the rest.
AML_GENE_FREQ = {
    "CEBPA_bZIP": 0.04, "RUNX1": 0.09, "ASXL1": 0.10, "BCOR": 0.04, "BCORL1": 0.02, "EZH2": 0.04,
    "SF3B1": 0.04, "SRSF2": 0.10, "STAG2": 0.06, "U2AF1": 0.04, "ZRSR2": 0.02, "DNMT3A": 0.25,
    "IDH1": 0.08, "IDH2": 0.12, "TET2": 0.15, "NRAS": 0.12, "KRAS": 0.04, "KIT": 0.04, "WT1": 0.06,
    "KMT2A_PTD": 0.05, "FLT3_TKD": 0.07, "ETV6": 0.02, "CBL": 0.03, "ETNK1": 0.01, "GATA2": 0.03,
    "GNB1": 0.01, "NF1": 0.03, "PHF6": 0.03, "PPM1D": 0.02, "PRPF8": 0.01, "PTPN11": 0.04, "SETBP1": 0.02,
}  # fmt: skip
# MDS (Bernard, NEJM Evidence 2022, IPSS-M cohort).
MDS_GENE_FREQ = {
    "SF3B1": 0.22, "SRSF2": 0.15, "ASXL1": 0.23, "DNMT3A": 0.15, "TET2": 0.26, "RUNX1": 0.11, "U2AF1": 0.08,
    "EZH2": 0.06, "NRAS": 0.04, "KRAS": 0.03, "CBL": 0.05, "IDH2": 0.04, "IDH1": 0.03, "ETV6": 0.02,
    "NPM1": 0.01, "FLT3": 0.01, "KMT2A_PTD": 0.025, "BCOR": 0.05, "BCORL1": 0.02, "STAG2": 0.07,
    "CEBPA": 0.01, "ETNK1": 0.01, "GATA2": 0.01, "GNB1": 0.01, "NF1": 0.02, "PHF6": 0.02, "PPM1D": 0.03,
    "PRPF8": 0.02, "PTPN11": 0.01, "SETBP1": 0.02, "WT1": 0.01, "ZRSR2": 0.04,
}  # fmt: skip

# AML cytogenetics (Grimwade, Blood 2010): (label, ISCN template, probability).
AML_CYTO = (
    ("normal", "46,{xy}", 0.47),
    ("t(8;21)", "46,{xy},t(8;21)(q22;q22.1)", 0.06),
    ("inv(16)", "46,{xy},inv(16)(p13.1q22)", 0.05),
    ("t(9;11)", "46,{xy},t(9;11)(p21.3;q23.3)", 0.02),
    ("t(6;9)", "46,{xy},t(6;9)(p23;q34.1)", 0.01),
    ("KMT2A-r", "46,{xy},t(11;19)(q23.3;p13.1)", 0.02),
    ("t(9;22)", "46,{xy},t(9;22)(q34.1;q11.2)", 0.01),
    ("inv(3)", "46,{xy},inv(3)(q21.3q26.2)", 0.015),
    ("del(5q)", "46,{xy},del(5)(q14q34)", 0.02),
    ("-7", "45,{xy},-7", 0.04),
    ("abn(17p)", "46,{xy},del(17)(p12)", 0.015),
    ("complex", "44,{xy},del(5)(q14q34),-7,+8,-17,-18", 0.11),
    ("+8", "47,{xy},+8", 0.05),
    ("other", "46,{xy},del(9)(q13q22)", 0.11),
)
# Paediatric AML: more core-binding-factor and KMT2A (Creutzig, Blood 2012).
PAED_AML_WEIGHTS = {"normal": 0.25, "t(8;21)": 0.13, "inv(16)": 0.08, "t(9;11)": 0.10, "KMT2A-r": 0.10,
                    "complex": 0.05, "-7": 0.03, "other": 0.26}  # fmt: skip

# MDS karyotypes by IPSS-R category (Schanz, JCO 2012):
# (category, male ISCN, female ISCN, del5q, del7/-7, complex, probability).
MDS_CYTO = (
    ("very_good", "45,X,-Y", "46,XX,del(11)(q14q23)", 0, 0, 0, 0.04),
    ("good", "46,XY", "46,XX", 0, 0, 0, 0.58),
    ("good", "46,XY,del(5)(q13q33)", "46,XX,del(5)(q13q33)", 1, 0, 0, 0.07),
    ("good", "46,XY,del(20)(q11.2q13.3)", "46,XX,del(20)(q11.2q13.3)", 0, 0, 0, 0.04),
    ("good", "46,XY,del(12)(p12)", "46,XX,del(12)(p12)", 0, 0, 0, 0.01),
    ("good", "47,XY,del(5)(q13q33),+8", "47,XX,del(5)(q13q33),+8", 1, 0, 0, 0.02),
    ("intermediate", "47,XY,+8", "47,XX,+8", 0, 0, 0, 0.06),
    ("intermediate", "46,XY,del(7)(q22q36)", "46,XX,del(7)(q22q36)", 0, 1, 0, 0.02),
    ("intermediate", "47,XY,+19", "47,XX,+19", 0, 0, 0, 0.01),
    ("intermediate", "46,XY,i(17)(q10)", "46,XX,i(17)(q10)", 0, 0, 0, 0.01),
    ("intermediate", "47,XY,+8,del(20)(q11.2q13.3)", "47,XX,+8,del(20)(q11.2q13.3)", 0, 0, 0, 0.03),
    ("poor", "45,XY,-7", "45,XX,-7", 0, 1, 0, 0.02),
    ("poor", "46,XY,inv(3)(q21.3q26.2)", "46,XX,inv(3)(q21.3q26.2)", 0, 0, 0, 0.01),
    ("poor", "46,XY,-7,+8", "46,XX,-7,+8", 0, 1, 0, 0.01),
    ("poor", "46,XY,del(5)(q13q33),-7,+8", "46,XX,del(5)(q13q33),-7,+8", 1, 1, 1, 0.01),
    ("very_poor", "44,XY,del(5)(q13q33),-7,+8,-17,-18", "44,XX,del(5)(q13q33),-7,+8,-17,-18", 1, 1, 1, 0.06),
)

# B-ALL / T-ALL karyotypes: (label, ISCN template, paediatric weight, adult weight).
ALL_CYTO = (
    ("t(12;21)", "46,{xy},t(12;21)(p13.2;q22.1)", 0.25, 0.02),
    ("hyperdiploid", "55,{xy},+4,+6,+10,+14,+17,+18,+21,+21,+X", 0.25, 0.07),
    ("t(9;22)", "46,{xy},t(9;22)(q34.1;q11.2)", 0.03, 0.25),
    ("KMT2A-r", "46,{xy},t(4;11)(q21.3;q23.3)", 0.03, 0.08),
    ("t(1;19)", "46,{xy},t(1;19)(q23;p13.3)", 0.05, 0.04),
    ("normal", "46,{xy}", 0.39, 0.54),
)

# Regimens per disease and line, with their drugs (ingredients, lower case).
REGIMEN_DRUGS = {
    "7+3": ("cytarabine", "daunorubicin"),
    "7+3+midostaurin": ("cytarabine", "daunorubicin", "midostaurin"),
    "7+3+placebo": ("cytarabine", "daunorubicin"),
    "aza-ven": ("azacitidine", "venetoclax"),
    "FLAG-Ida": ("fludarabine", "cytarabine", "idarubicin"),
    "gilteritinib": ("gilteritinib",),
    "HiDAC": ("cytarabine",),
    "ATRA+ATO": ("tretinoin", "arsenic trioxide"),
    "AIDA": ("tretinoin", "idarubicin"),
    "BFM": ("prednisone", "vincristine", "daunorubicin", "asparaginase", "methotrexate"),
    "GMALL": ("dexamethasone", "vincristine", "daunorubicin", "asparaginase", "cyclophosphamide"),
    "imatinib+chemo": ("imatinib", "vincristine", "dexamethasone"),
    "blinatumomab": ("blinatumomab",),
    "inotuzumab": ("inotuzumab ozogamicin",),
    "FCR": ("fludarabine", "cyclophosphamide", "rituximab"),
    "BR": ("bendamustine", "rituximab"),
    "ibrutinib": ("ibrutinib",),
    "venetoclax+obinutuzumab": ("venetoclax", "obinutuzumab"),
    "acalabrutinib": ("acalabrutinib",),
    "venetoclax+rituximab": ("venetoclax", "rituximab"),
    "ESA": ("epoetin alfa",),
    "luspatercept": ("luspatercept",),
    "azacitidine": ("azacitidine",),
    "decitabine": ("decitabine",),
    "VRd": ("bortezomib", "lenalidomide", "dexamethasone"),
    "Dara-VRd": ("daratumumab", "bortezomib", "lenalidomide", "dexamethasone"),
    "VCd": ("bortezomib", "cyclophosphamide", "dexamethasone"),
    "Rd": ("lenalidomide", "dexamethasone"),
    "Dara-Pd": ("daratumumab", "pomalidomide", "dexamethasone"),
    "KRd": ("carfilzomib", "lenalidomide", "dexamethasone"),
    "R-CHOP": ("rituximab", "cyclophosphamide", "doxorubicin", "vincristine", "prednisone"),
    "Pola-R-CHP": ("polatuzumab vedotin", "rituximab", "cyclophosphamide", "doxorubicin", "prednisone"),
    "R-CVP": ("rituximab", "cyclophosphamide", "vincristine", "prednisone"),
    "R-DHAP": ("rituximab", "dexamethasone", "cytarabine", "cisplatin"),
    "CAR-T": ("axicabtagene ciloleucel",),
}

# 5-year overall survival per risk group (exponential hazard = -ln(S5)/5) or median OS in years.
# IPSS-R medians (Greenberg 2012) and R-ISS 5-year OS (Palumbo 2015) from clinical_rules.md; the
# others are rounded published figures (ELN 2022 validation cohorts; CLL-IPI 2016; IPI 1993; Sanz 2000).
MEDIAN_OS_YEARS = {
    "MDS": {"Very Low": 8.8, "Low": 5.3, "Intermediate": 3.0, "High": 1.6, "Very High": 0.8},
    "AML": {"Favorable": 8.0, "Intermediate": 1.6, "Adverse": 0.8},
}
FIVE_YEAR_OS = {
    "MM": {"I": 0.82, "II": 0.62, "III": 0.40},
    "CLL": {"Low": 0.93, "Intermediate": 0.79, "High": 0.63, "Very High": 0.23},
    "NHL": {"Low": 0.73, "Low-Intermediate": 0.51, "High-Intermediate": 0.43, "High": 0.26},
    "APL": {"Low": 0.90, "Intermediate": 0.85, "High": 0.75},
}


def _choice(rng: np.random.Generator, n: int, labels, probs) -> np.ndarray:
    probs = np.asarray(probs, dtype=float)
    idx = np.searchsorted(np.cumsum(probs / probs.sum()), rng.random(n), side="right")
    return np.asarray(labels, dtype=object)[np.minimum(idx, len(probs) - 1)]


def _lognormal(rng, n, median, sigma) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(n))


def _r1(x) -> np.ndarray:
    return np.round(x, 1)


class Builder:
    """Collects the true columns of one disease group."""

    def __init__(self, rng: np.random.Generator, n: int, disease: str, country_weights: dict[str, float]):
        self.rng, self.n, self.disease = rng, n, disease
        self.cols: dict[str, np.ndarray] = {"disease": np.full(n, disease, dtype=object)}
        self.country_weights = country_weights

    def __setitem__(self, key, value):
        self.cols[key] = value

    def __getitem__(self, key):
        return self.cols[key]

    def demographics(self, age: np.ndarray, male_share: float) -> None:
        rng, n = self.rng, self.n
        self["age"] = np.round(age, 2)
        self["sex"] = np.where(rng.random(n) < male_share, "M", "F").astype(object)
        self["diag_date"] = np.floor(DIAG_START + rng.random(n) * (DIAG_END - DIAG_START))
        self["birth_date"] = np.floor(self["diag_date"] - age * YEAR)
        countries = _choice(rng, n, list(self.country_weights), list(self.country_weights.values()))
        self["country"] = countries
        first, last = names.draw_names(rng, countries, self["sex"])
        self["first_name"], self["last_name"] = first, last
        self["initials"] = names.initials(first, last)
        self["postcode"] = names.postcodes(rng, countries)

    def age_from_dates(self) -> np.ndarray:
        """Age at diagnosis as a source delivering dates shows it: whole days / 365.25. Rules with age
        cut-offs (CLL-IPI > 65, IPI > 60) are decided on this, not on the unrounded draw."""
        return (self["diag_date"] - self["birth_date"]) / YEAR

    def genes(self, freq: dict[str, float], tested: bool = True) -> None:
        for gene in GENES:
            if not tested:
                self[f"G_{gene}"] = np.full(self.n, np.nan)
            else:
                p = freq.get(gene, 0.0)
                self[f"G_{gene}"] = (self.rng.random(self.n) < p).astype(float)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.cols)


def _no_genes(b: Builder) -> None:
    b.genes({}, tested=False)
    b["tp53_vaf"] = np.full(b.n, np.nan)
    b["tp53_count"] = np.full(b.n, np.nan)
    b["flt3_itd_ratio"] = np.full(b.n, np.nan)


def _tp53(b: Builder, extra_risk: np.ndarray) -> None:
    """TP53: VAF and hit count for mutated patients (complex karyotypes are enriched)."""
    rng, n = b.rng, b.n
    mutated = (b["G_TP53"] > 0) | (rng.random(n) < extra_risk)
    b["G_TP53"] = mutated.astype(float)
    vaf = np.clip(rng.beta(2.2, 2.8, n) + np.where(extra_risk > 0.2, 0.2, 0), 0.02, 0.98)
    b["tp53_vaf"] = np.where(mutated, np.round(vaf, 3), np.nan)
    b["tp53_count"] = np.where(mutated, np.where(rng.random(n) < 0.3, 2.0, 1.0), 0.0)


def _aml_genetics(b: Builder, cyto_weights: dict[str, float] | None = None, flt3_trial: bool = False) -> None:
    rng, n = b.rng, b.n
    labels = [c[0] for c in AML_CYTO]
    weights = [cyto_weights.get(c[0], 0.0) if cyto_weights else c[2] for c in AML_CYTO]
    cyto = _choice(rng, n, labels, weights)
    b["cyto"] = cyto
    templates = dict((c[0], c[1]) for c in AML_CYTO)
    b["karyotype"] = _iscn(cyto, b["sex"], templates)
    b.genes(AML_GENE_FREQ)
    normal = cyto == "normal"
    cbf_or_adverse = np.isin(cyto, ["t(8;21)", "inv(16)", "complex", "-7", "inv(3)", "abn(17p)", "t(9;22)"])
    # NPM1 lives mostly in normal karyotypes; FLT3-ITD is enriched with NPM1 (Papaemmanuil 2016).
    p_npm1 = np.select([normal, cbf_or_adverse], [0.55, 0.02], 0.14)
    npm1 = rng.random(n) < p_npm1
    p_itd = np.where(npm1, 0.40, 0.17)
    itd = rng.random(n) < p_itd
    if flt3_trial:  # the trial enrols FLT3-mutated patients only: ITD ~75%, TKD ~25% (RATIFY)
        itd = rng.random(n) < 0.75
        b["G_FLT3_TKD"] = (~itd).astype(float)
    b["G_NPM1"] = npm1.astype(float)
    b["G_FLT3_ITD"] = itd.astype(float)
    b["G_FLT3"] = ((b["G_FLT3_ITD"] + b["G_FLT3_TKD"]) > 0).astype(float)
    b["G_CEBPA_bZIP"] = np.where(normal & ~npm1, b["G_CEBPA_bZIP"] * 3, 0.0).clip(0, 1)
    b["G_CEBPA"] = b["G_CEBPA_bZIP"]
    b["G_KIT"] = np.where(
        np.isin(cyto, ["t(8;21)", "inv(16)"]), (rng.random(n) < 0.3), b["G_KIT"] > 0
    ).astype(float)
    b["flt3_itd_ratio"] = np.where(itd, np.round(np.clip(_lognormal(rng, n, 0.5, 0.8), 0.01, 20), 2), np.nan)
    _tp53(b, np.select([cyto == "complex", cyto == "abn(17p)"], [0.6, 0.5], 0.02))


def _aml_labs(b: Builder) -> None:
    rng, n = b.rng, b.n
    b["wbc"] = _r1(np.clip(_lognormal(rng, n, 12, 1.2), 0.3, 400))
    b["hb"] = _r1(np.clip(rng.normal(9.0, 1.6, n), 4.0, 15.5))
    b["plt"] = np.round(np.clip(_lognormal(rng, n, 55, 0.8), 3, 900))
    b["anc"] = _r1(np.clip(_lognormal(rng, n, 1.0, 1.0), 0.0, 40))
    b["bm_blasts"] = np.round(np.clip(rng.normal(55, 20, n), 20, 98))
    b["pb_blasts"] = np.round(np.clip(b["bm_blasts"] * rng.uniform(0.2, 0.9, n), 0, 98))
    b["ldh_uln"] = np.full(n, 250.0)
    b["ldh"] = np.round(np.clip(_lognormal(rng, n, 380, 0.6), 90, 8000))


def _iscn(labels: np.ndarray, sex: np.ndarray, templates: dict[str, str]) -> np.ndarray:
    out = np.empty(len(labels), dtype=object)
    for label, template in templates.items():
        for s, xy in (("M", "XY"), ("F", "XX")):
            mask = (labels == label) & (sex == s)
            out[mask] = template.format(xy=xy)
    return out


def _risk_hazard(
    b: Builder, groups: np.ndarray, five_year: dict | None = None, median: dict | None = None
) -> None:
    if five_year:
        table = {k: -np.log(v) / 5 for k, v in five_year.items()}
    else:
        table = {k: np.log(2) / v for k, v in median.items()}
    b["hazard"] = (
        np.array([table[g] for g in groups]) if b.n < 64 else pd.Series(groups).map(table).to_numpy(float)
    )


def aml(rng, n, countries, paediatric=False, flt3_trial=False, apl_share=0.0) -> pd.DataFrame:
    b = Builder(rng, n, "AML", countries)
    if paediatric:
        age = np.where(rng.random(n) < 0.15, rng.uniform(0.05, 1.0, n), rng.uniform(0.1, 18.99, n))
    elif flt3_trial:
        age = np.clip(rng.normal(48, 9, n), 18.0, 59.99)  # RATIFY enrolled 18-59
    else:
        age = np.clip(rng.normal(68, 13, n), 18.0, 95.0)  # median near 68 (Juliusson, Blood 2009)
    b.demographics(age, 0.55)
    b["subtype"] = np.full(n, "AML", dtype=object)
    _aml_genetics(b, PAED_AML_WEIGHTS if paediatric else None, flt3_trial=flt3_trial)
    _aml_labs(b)
    genes = {g: b[f"G_{g}"] for g in GENES}
    b["eln2022"] = risk.eln_2022(b["cyto"], genes, b["tp53_vaf"])
    b["eln2017"] = risk.eln_2017(b["cyto"], genes, b["flt3_itd_ratio"])
    median = dict(MEDIAN_OS_YEARS["AML"])
    _risk_hazard(b, b["eln2022"], median=median)
    # older patients fare worse (Juliusson 2009): hazard x 1.03 per year over 60, better for children
    b["hazard"] = b["hazard"] * np.exp(0.03 * (np.clip(age, 0, 95) - 60))
    frame = b.frame()
    if apl_share > 0:
        apl_rows = rng.random(n) < apl_share
        frame = _make_apl(rng, frame, apl_rows)
    return frame


def _make_apl(rng, frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """APL: t(15;17), younger, Sanz risk from WBC and platelets (Sanz, Blood 2000)."""
    k = int(rows.sum())
    frame.loc[rows, "disease"] = "APL"
    frame.loc[rows, "subtype"] = "APL"
    frame.loc[rows, "cyto"] = "t(15;17)"
    sex = frame.loc[rows, "sex"].to_numpy()
    frame.loc[rows, "karyotype"] = np.where(
        sex == "M", "46,XY,t(15;17)(q24.1;q21.2)", "46,XX,t(15;17)(q24.1;q21.2)"
    )
    frame.loc[rows, "wbc"] = _r1(np.clip(_lognormal(rng, k, 3.5, 1.2), 0.3, 200))
    frame.loc[rows, "plt"] = np.round(np.clip(_lognormal(rng, k, 30, 0.7), 3, 400))
    for col in ("G_NPM1", "G_CEBPA_bZIP", "G_CEBPA", "G_RUNX1", "G_ASXL1", "G_TP53"):
        frame.loc[rows, col] = 0.0
    frame.loc[rows, ["tp53_vaf", "eln2022", "eln2017"]] = np.nan
    frame.loc[rows, "tp53_count"] = 0.0
    sanz = risk.sanz(frame.loc[rows, "wbc"].to_numpy(float), frame.loc[rows, "plt"].to_numpy(float))
    frame["sanz"] = None
    frame.loc[rows, "sanz"] = sanz
    table = {g: -np.log(s) / 5 for g, s in FIVE_YEAR_OS["APL"].items()}
    frame.loc[rows, "hazard"] = pd.Series(sanz).map(table).to_numpy(float)
    return frame


def mds(rng, n, countries) -> pd.DataFrame:
    b = Builder(rng, n, "MDS", countries)
    b.demographics(np.clip(rng.normal(73, 9, n), 20.0, 95.0), 0.6)  # median 71-74 (Greenberg 2012)
    idx = np.searchsorted(np.cumsum([c[6] for c in MDS_CYTO]), rng.random(n) * sum(c[6] for c in MDS_CYTO))
    idx = np.minimum(idx, len(MDS_CYTO) - 1)
    table = np.array(MDS_CYTO, dtype=object)
    b["cyto_category"] = table[idx, 0]
    b["karyotype"] = np.where(b["sex"] == "M", table[idx, 1], table[idx, 2])
    del5q, del7, complex_ = (table[idx, 3] == 1), (table[idx, 4] == 1), (table[idx, 5] == 1)
    b["cyto"] = np.select([complex_, del7, del5q], ["complex", "-7", "del(5q)"], "other").astype(object)
    b.genes(MDS_GENE_FREQ)
    _tp53(b, np.where(complex_, 0.55, 0.0))
    b["flt3_itd_ratio"] = np.full(n, np.nan)
    # Blasts and cytopenias (Greenberg 2012 cohort): most patients below 5% marrow blasts.
    blast_band = _choice(rng, n, [0, 1, 2, 3], [0.42, 0.25, 0.20, 0.13])
    low = np.array([0.0, 2.5, 5.0, 10.5])[blast_band.astype(int)]
    high = np.array([2.0, 4.9, 10.0, 19.0])[blast_band.astype(int)]
    b["bm_blasts"] = _r1(rng.uniform(low, high))
    b["hb"] = _r1(np.clip(rng.normal(9.9, 1.9, n), 4.5, 16.0))
    b["plt"] = np.round(np.clip(_lognormal(rng, n, 120, 0.9), 5, 900))
    b["anc"] = _r1(np.clip(_lognormal(rng, n, 1.9, 0.8), 0.05, 15))
    b["wbc"] = _r1(np.clip(b["anc"] / rng.uniform(0.35, 0.65, n), 0.5, 60))
    points = pd.Series(b["cyto_category"]).map(risk.IPSSR_CYTO_POINTS).to_numpy(float)
    b["ipss_r_score"] = risk.ipss_r_score(points, b["bm_blasts"], b["hb"], b["plt"], b["anc"])
    b["ipss_r"] = risk.ipss_r_group(b["ipss_r_score"])
    b["ipss_ra_score"] = risk.ipss_ra_score(b["ipss_r_score"], b["age"])
    genes = {g: b[f"G_{g}"] for g in GENES}
    b["ipss_m_score"] = risk.ipss_m_score(
        b["hb"],
        b["plt"],
        b["bm_blasts"],
        points,
        genes,
        b["tp53_vaf"],
        b["tp53_count"],
        del5q,
        del7,
        complex_,
    )
    b["ipss_m"] = risk.ipss_m_group(b["ipss_m_score"])
    b["subtype"] = np.select(
        [b["bm_blasts"] >= 10, b["bm_blasts"] >= 5, del5q & ~del7 & ~complex_, b["G_SF3B1"] > 0],
        ["MDS-IB2", "MDS-IB1", "MDS-5q", "MDS-SF3B1"],
        "MDS-LB",
    ).astype(object)  # WHO 2022 names
    _risk_hazard(b, b["ipss_r"], median=MEDIAN_OS_YEARS["MDS"])
    return b.frame()


def mm(rng, n, countries) -> pd.DataFrame:
    b = Builder(rng, n, "MM", countries)
    b.demographics(np.clip(rng.normal(67, 10, n), 30.0, 95.0), 0.56)
    _no_genes(b)
    b["subtype"] = _choice(rng, n, ["IgG kappa", "IgG lambda", "IgA kappa", "IgA lambda", "light chain"],
                           [0.35, 0.2, 0.13, 0.09, 0.23])  # fmt: skip
    # ISS/R-ISS distribution close to Palumbo 2015 (R-ISS I ~28%, II ~62%, III ~10%).
    b["b2m"] = _r1(np.clip(_lognormal(rng, n, 3.7, 0.55), 0.8, 40))
    b["albumin"] = _r1(np.clip(rng.normal(3.6, 0.55, n), 1.5, 5.4))
    b["ldh_uln"] = np.full(n, 250.0)
    ldh_high = rng.random(n) < 0.12
    b["ldh"] = np.where(ldh_high, np.round(rng.uniform(260, 900, n)), np.round(rng.uniform(110, 245, n)))
    for name, p in (("del17p", 0.09), ("t414", 0.12), ("t1416", 0.03), ("gain1q", 0.35), ("t1114", 0.18)):
        b[f"fish_{name}"] = (rng.random(n) < p).astype(float)
    b["hb"] = _r1(np.clip(rng.normal(10.8, 1.9, n), 4.5, 17))
    b["plt"] = np.round(np.clip(_lognormal(rng, n, 210, 0.4), 15, 800))
    b["creatinine"] = np.round(np.clip(_lognormal(rng, n, 1.0, 0.45), 0.4, 12), 2)
    b["calcium"] = _r1(np.clip(rng.normal(9.6, 0.9, n), 6.5, 15))
    b["m_protein"] = _r1(
        np.where(b["subtype"] == "light chain", 0.0, np.clip(rng.gamma(2.5, 1.3, n), 0.2, 12))
    )
    b["bm_blasts"] = np.full(n, np.nan)
    iss = risk.iss(b["b2m"], b["albumin"])
    b["iss"] = iss
    fish = [b["fish_del17p"] > 0, b["fish_t414"] > 0, b["fish_t1416"] > 0]
    b["r_iss"] = risk.r_iss(iss, *fish, ldh_high)
    b["r2_iss"] = risk.r2_iss(iss, fish[0], ldh_high, fish[1], b["fish_gain1q"] > 0)
    _risk_hazard(b, b["r_iss"], five_year=FIVE_YEAR_OS["MM"])
    return b.frame()


def cll(rng, n, countries) -> pd.DataFrame:
    b = Builder(rng, n, "CLL", countries)
    age = np.clip(rng.normal(70, 10, n), 30.0, 95.0)  # median ~70 (SEER)
    b.demographics(age, 0.62)
    _no_genes(b)
    b["subtype"] = np.full(n, "CLL", dtype=object)
    # IGHV unmutated in ~45% (CLL-IPI cohort): identity >= 98%.
    unmut = rng.random(n) < 0.45
    b["ighv_identity"] = _r1(np.where(unmut, rng.uniform(98.0, 100.0, n), rng.uniform(85.0, 97.9, n)))
    for name, p in (("del17p", 0.07), ("del11q", 0.15), ("tri12", 0.15), ("del13q", 0.55)):
        b[f"fish_{name}"] = (rng.random(n) < p).astype(float)
    b["G_TP53"] = np.where((b["fish_del17p"] > 0) & (rng.random(n) < 0.7), 1.0, (rng.random(n) < 0.04) * 1.0)
    b["tp53_vaf"] = np.where(b["G_TP53"] > 0, np.round(rng.uniform(0.05, 0.9, n), 3), np.nan)
    b["binet"] = _choice(rng, n, ["A", "B", "C"], [0.65, 0.22, 0.13])
    rai_by_binet = {"A": ([0, 1, 2], [0.6, 0.3, 0.1]), "B": ([1, 2], [0.5, 0.5]), "C": ([3, 4], [0.5, 0.5])}
    rai = np.zeros(n)
    for stage, (values, probs) in rai_by_binet.items():
        mask = b["binet"] == stage
        rai[mask] = _choice(rng, int(mask.sum()), values, probs).astype(float)
    b["rai"] = rai
    b["b2m"] = _r1(np.clip(_lognormal(rng, n, 2.8, 0.45), 0.8, 25))
    b["wbc"] = _r1(np.clip(_lognormal(rng, n, 35, 0.7), 6, 600))
    b["hb"] = _r1(
        np.where(b["binet"] == "C", rng.uniform(7, 9.9, n), np.clip(rng.normal(13, 1.4, n), 10, 17.5))
    )
    b["plt"] = np.round(
        np.where(b["binet"] == "C", rng.uniform(20, 99, n), np.clip(_lognormal(rng, n, 190, 0.3), 100, 600))
    )
    b["ldh_uln"] = np.full(n, 250.0)
    b["ldh"] = np.round(np.clip(_lognormal(rng, n, 210, 0.3), 100, 1500))
    tp53_abn = (b["fish_del17p"] > 0) | (b["G_TP53"] > 0)
    b["cll_ipi"] = risk.cll_ipi(tp53_abn, b["ighv_identity"], b["b2m"], b["binet"], b.age_from_dates())
    _risk_hazard(b, b["cll_ipi"], five_year=FIVE_YEAR_OS["CLL"])
    return b.frame()


def nhl(rng, n, countries) -> pd.DataFrame:
    b = Builder(rng, n, "NHL", countries)
    subtype = _choice(
        rng, n, ["DLBCL", "FL", "MCL", "MZL", "BL", "PTCL"], [0.45, 0.25, 0.07, 0.10, 0.03, 0.10]
    )
    age = np.clip(np.where(subtype == "BL", rng.normal(40, 15, n), rng.normal(65, 13, n)), 18.0, 95.0)
    b.demographics(age, 0.55)
    b["subtype"] = subtype
    _no_genes(b)
    b["ann_arbor"] = _choice(rng, n, [1, 2, 3, 4], [0.18, 0.27, 0.20, 0.35]).astype(float)
    b["ecog"] = _choice(rng, n, [0, 1, 2, 3, 4], [0.40, 0.35, 0.13, 0.09, 0.03]).astype(float)
    advanced = b["ann_arbor"] >= 3
    sites = np.where(
        advanced, _choice(rng, n, [0, 1, 2, 3], [0.35, 0.35, 0.2, 0.1]), _choice(rng, n, [0, 1], [0.8, 0.2])
    )
    b["extranodal_sites"] = sites.astype(float)
    # which of the NCCN-IPI major sites are involved (bone marrow, CNS, liver/GI, lung)
    for site, p in (("bm", 0.35), ("cns", 0.05), ("liver_gi", 0.3), ("lung", 0.15)):
        b[f"en_{site}"] = ((sites > 0) & (rng.random(n) < p)).astype(float)
    b["nodal_areas"] = np.where(advanced, rng.integers(3, 10, n), rng.integers(1, 4, n)).astype(float)
    b["b_symptoms"] = np.where(rng.random(n) < np.where(advanced, 0.45, 0.15), "B", "A").astype(object)
    b["ldh_uln"] = np.full(n, 250.0)
    b["ldh"] = np.round(np.clip(_lognormal(rng, n, 240, 0.5), 100, 5000))
    b["hb"] = _r1(np.clip(rng.normal(12.6, 1.8, n), 6, 17.5))
    b["wbc"] = _r1(np.clip(_lognormal(rng, n, 7, 0.4), 1.5, 60))
    b["plt"] = np.round(np.clip(_lognormal(rng, n, 240, 0.35), 30, 900))
    b["b2m"] = _r1(np.clip(_lognormal(rng, n, 2.4, 0.45), 0.8, 20))
    ratio = b["ldh"] / b["ldh_uln"]
    major = (b["en_bm"] + b["en_cns"] + b["en_liver_gi"] + b["en_lung"]) > 0
    seen_age = b.age_from_dates()
    b["ipi"] = risk.ipi(seen_age, ratio, b["ecog"], b["ann_arbor"], sites)
    b["nccn_ipi"] = np.where(
        subtype == "DLBCL", risk.nccn_ipi(seen_age, ratio, b["ecog"], b["ann_arbor"], major), None
    )
    b["flipi"] = np.where(
        subtype == "FL", risk.flipi(seen_age, b["ann_arbor"], b["hb"], ratio, b["nodal_areas"]), None
    )
    _risk_hazard(b, b["ipi"], five_year=FIVE_YEAR_OS["NHL"])
    b["hazard"] = np.where(subtype == "FL", b["hazard"] * 0.4, b["hazard"])  # indolent course
    return b.frame()


def all_(rng, n, countries, paediatric: bool) -> pd.DataFrame:
    b = Builder(rng, n, "ALL", countries)
    if paediatric:  # incidence peaks at 2-5 years (Pui, Lancet 2008)
        age = np.where(rng.random(n) < 0.6, rng.gamma(4.0, 0.9, n), rng.uniform(0.05, 18.99, n))
        age = np.clip(age, 0.05, 18.99)
        t_share = 0.15
    else:
        age = np.clip(rng.normal(42, 17, n), 18.0, 85.0)
        t_share = 0.25
    b.demographics(age, 0.56)
    _no_genes(b)
    b["subtype"] = np.where(rng.random(n) < t_share, "T-ALL", "B-ALL").astype(object)
    col = 2 if paediatric else 3
    labels = [c[0] for c in ALL_CYTO]
    cyto = _choice(rng, n, labels, [c[col] for c in ALL_CYTO])
    infant = age < 1
    cyto = np.where(infant & (rng.random(n) < 0.75), "KMT2A-r", cyto)
    cyto = np.where(b["subtype"] == "T-ALL", "normal", cyto).astype(object)
    b["cyto"] = cyto
    b["karyotype"] = _iscn(cyto, b["sex"], {c[0]: c[1] for c in ALL_CYTO})
    t_all = b["subtype"] == "T-ALL"
    b["wbc"] = _r1(np.clip(_lognormal(rng, n, np.where(t_all, 60, 12), 1.2), 0.5, 900))
    b["hb"] = _r1(np.clip(rng.normal(8.2, 2.0, n), 3.5, 15))
    b["plt"] = np.round(np.clip(_lognormal(rng, n, 50, 0.9), 3, 700))
    b["bm_blasts"] = np.round(np.clip(rng.normal(82, 12, n), 25, 99))
    b["cns_involvement"] = np.where(
        rng.random(n) < 0.05, "CNS3", np.where(rng.random(n) < 0.2, "CNS2", "CNS1")
    ).astype(object)
    # end-of-induction MRD (%): ~60% below 0.01% in children, fewer in adults
    b["mrd"] = np.round(np.clip(_lognormal(rng, n, 0.004 if paediatric else 0.03, 2.2), 0.0005, 60), 4)
    b["nci_risk"] = risk.nci_risk(age, b["wbc"], b["subtype"])
    if paediatric:
        s5 = np.select([infant, t_all, b["nci_risk"] == "Standard"], [0.55, 0.85, 0.94], 0.86)
    else:
        s5 = np.where(cyto == "t(9;22)", 0.35, np.where(age > 55, 0.25, 0.50))
    b["hazard"] = -np.log(s5) / 5
    return b.frame()


# --- clinical course -------------------------------------------------------------------------------------

FIRST_LINE = {
    "AML": (["7+3", "aza-ven"], None),
    "APL": (["ATRA+ATO", "AIDA"], [0.7, 0.3]),
    "MDS": (["ESA", "luspatercept", "azacitidine"], None),
    "MM": (["VRd", "Dara-VRd", "VCd", "Rd"], [0.35, 0.3, 0.15, 0.2]),
    "CLL": (["FCR", "BR", "ibrutinib", "venetoclax+obinutuzumab"], [0.15, 0.15, 0.4, 0.3]),
    "NHL": (["R-CHOP", "Pola-R-CHP", "BR", "R-CVP"], [0.55, 0.15, 0.2, 0.1]),
    "ALL": (["BFM", "GMALL", "imatinib+chemo"], None),
}
SECOND_LINE = {
    "AML": ["FLAG-Ida", "HiDAC", "aza-ven", "gilteritinib"],
    "APL": ["ATRA+ATO"],
    "MDS": ["azacitidine", "decitabine"],
    "MM": ["Dara-Pd", "KRd"],
    "CLL": ["acalabrutinib", "venetoclax+rituximab"],
    "NHL": ["R-DHAP", "CAR-T"],
    "ALL": ["blinatumomab", "inotuzumab"],
}
LINE_DAYS = {"AML": 150, "APL": 240, "MDS": 180, "MM": 300, "CLL": 360, "NHL": 126, "ALL": 720}
GOOD_RESPONSE = {"AML": ["CR", "CRi", "CRh"], "APL": ["CR"], "ALL": ["CR"], "MDS": ["CR", "PR"],
                 "MM": ["sCR", "CR", "VGPR", "PR"], "CLL": ["CR", "PR"], "NHL": ["CR", "PR"]}  # fmt: skip
POOR_RESPONSE = {"AML": ["refractory"], "APL": ["refractory"], "ALL": ["refractory"], "MDS": ["SD", "PD"],
                 "MM": ["SD", "PD"], "CLL": ["SD", "PD"], "NHL": ["SD", "PD"]}  # fmt: skip
EVENT_KIND = {"AML": "relapse", "APL": "relapse", "ALL": "relapse", "MDS": "aml_transformation",
              "MM": "progression", "CLL": "progression", "NHL": "progression"}  # fmt: skip
CRITERIA = {"AML": "ELN2022", "APL": "ELN2022", "ALL": "NCCN", "MDS": "IWG2006", "MM": "IMWG",
            "CLL": "iwCLL2018", "NHL": "Lugano"}  # fmt: skip
TRANSPLANT_P = {"AML": ("allogeneic", 0.35), "ALL": ("allogeneic", 0.3), "MDS": ("allogeneic", 0.2),
                "MM": ("autologous", 0.6), "NHL": ("autologous", 0.1), "CLL": ("allogeneic", 0.02),
                "APL": ("allogeneic", 0.02)}  # fmt: skip
DONORS = ["matched related", "matched unrelated", "haploidentical", "mismatched unrelated"]


def clinical_course(rng: np.random.Generator, frame: pd.DataFrame) -> pd.DataFrame:
    """Survival, lines of therapy, responses, relapse and transplant, consistent in time."""
    n = len(frame)
    diag = frame["diag_date"].to_numpy(float)
    disease = frame["disease"].to_numpy(object)
    age = frame["age"].to_numpy(float)
    t_death = diag + rng.exponential(1.0, n) / frame["hazard"].to_numpy(float) * YEAR
    lost = diag + rng.exponential(1.0 / LOSS_TO_FOLLOW_UP_PER_YEAR, n) * YEAR
    censor = np.minimum(lost, FINAL_CUTOFF)
    dead = t_death <= censor
    t_death = np.maximum(np.floor(t_death), diag + 1)
    end = np.where(dead, t_death, np.floor(censor))
    out = pd.DataFrame(index=frame.index)
    out["death_date"] = np.where(dead, t_death, np.nan)
    out["last_contact"] = end
    out["vital_status"] = np.where(dead, "dead", "alive").astype(object)

    # first line: soon after diagnosis (CLL: often after a watch-and-wait period)
    delay = np.where(disease == "CLL", np.where(rng.random(n) < 0.4, rng.uniform(7, 60, n), rng.uniform(60, 2000, n)),
                     rng.uniform(2, 40, n))  # fmt: skip
    start1 = np.floor(diag + delay)
    treated = start1 < end
    regimen1 = np.empty(n, dtype=object)
    regimen2 = np.empty(n, dtype=object)
    response1 = np.empty(n, dtype=object)
    response2 = np.empty(n, dtype=object)
    event_kind = np.empty(n, dtype=object)
    criteria = np.empty(n, dtype=object)
    p_good = np.empty(n)
    for d in np.unique(disease):
        m = disease == d
        k = int(m.sum())
        labels, probs = FIRST_LINE[d]
        regimen1[m] = _choice(rng, k, labels, probs or [1] * len(labels))
        regimen2[m] = _choice(rng, k, SECOND_LINE[d], [1] * len(SECOND_LINE[d]))
        good, poor = GOOD_RESPONSE[d], POOR_RESPONSE[d]
        response1[m] = np.where(
            rng.random(k) < 0.5,
            _choice(rng, k, good, [1] * len(good)),
            _choice(rng, k, poor, [1] * len(poor)),
        )
        response2[m] = _choice(rng, k, good + poor, [1] * (len(good) + len(poor)))
        event_kind[m] = EVENT_KIND[d]
        criteria[m] = CRITERIA[d]
    hazard = frame["hazard"].to_numpy(float)
    # responses are likelier the lower the hazard
    p_good = np.clip(0.95 - 0.35 * hazard, 0.15, 0.95)
    is_good = rng.random(n) < p_good
    for d in np.unique(disease):
        m = disease == d
        good, poor = GOOD_RESPONSE[d], POOR_RESPONSE[d]
        response1[m & is_good] = _choice(rng, int((m & is_good).sum()), good, [3] + [1] * (len(good) - 1))
        response1[m & ~is_good] = _choice(rng, int((m & ~is_good).sum()), poor, [1] * len(poor))
    # older AML patients get low-intensity therapy; Ph+ ALL gets a TKI; adult ALL a GMALL protocol
    regimen1 = np.where(
        (disease == "AML") & (age >= 70), "aza-ven", np.where(disease == "AML", "7+3", regimen1)
    )
    if "cyto" in frame:
        cyto = frame["cyto"].to_numpy(object)
        all_regimen = np.where(cyto == "t(9;22)", "imatinib+chemo", np.where(age < 18, "BFM", "GMALL"))
        regimen1 = np.where(disease == "ALL", all_regimen, regimen1)
    if "arm" in frame:
        arm = frame["arm"].to_numpy(object)
        regimen1 = np.where(
            arm == "midostaurin", "7+3+midostaurin", np.where(arm == "placebo", "7+3+placebo", regimen1)
        )
    line_days = pd.Series(disease).map(LINE_DAYS).to_numpy(float)
    end1 = np.minimum(np.floor(start1 + line_days * rng.uniform(0.6, 1.2, n)), end)
    resp1_date = np.floor(start1 + rng.uniform(28, 120, n))
    has_resp1 = treated & (resp1_date < end)
    responded = has_resp1 & is_good
    # relapse/progression: most deaths after a response follow one; fewer among survivors
    p_rel = np.where(dead, 0.7, 0.2)
    rel_date = np.floor(resp1_date + 30 + rng.random(n) * (end - resp1_date - 60))
    relapsed = responded & (rng.random(n) < p_rel) & (rel_date > resp1_date + 29) & (rel_date < end)
    start2 = np.floor(rel_date + rng.uniform(7, 45, n))
    line2 = relapsed & (start2 < end)
    resp2_date = np.floor(start2 + rng.uniform(28, 100, n))
    has_resp2 = line2 & (resp2_date < end)
    # transplant: in first response, for eligible ages
    ttype = np.empty(n, dtype=object)
    p_tx = np.zeros(n)
    for d, (kind, p) in TRANSPLANT_P.items():
        ttype[disease == d] = kind
        p_tx[disease == d] = p
    p_tx = np.where(age < 70, p_tx, 0.0)
    tx_date = np.floor(resp1_date + rng.uniform(30, 120, n))
    transplanted = responded & (rng.random(n) < p_tx) & (tx_date < end) & (~relapsed | (tx_date < rel_date))
    donor = np.where(ttype == "allogeneic", _choice(rng, n, DONORS, [0.3, 0.4, 0.2, 0.1]), None)

    def when(mask, values):
        return np.where(mask, values, np.nan)

    def label(mask, values):
        return np.where(mask, values, None).astype(object)

    out["line1_regimen"] = label(treated, regimen1)
    out["line1_start"] = when(treated, start1)
    out["line1_end"] = when(treated, end1)
    out["response1"] = label(has_resp1, response1)
    out["response1_date"] = when(has_resp1, resp1_date)
    out["response_criteria"] = label(has_resp1, criteria)
    out["relapse_date"] = when(relapsed, rel_date)
    out["relapse_kind"] = label(relapsed, event_kind)
    out["line2_regimen"] = label(line2, regimen2)
    out["line2_start"] = when(line2, start2)
    out["response2"] = label(has_resp2, response2)
    out["response2_date"] = when(has_resp2, resp2_date)
    out["transplant_date"] = when(transplanted, tx_date)
    out["transplant_type"] = label(transplanted, ttype)
    out["donor_type"] = label(transplanted, donor)
    cause = _choice(rng, n, ["disease", "infection", "treatment-related", "other"], [0.6, 0.2, 0.1, 0.1])
    out["death_cause"] = label(dead, np.where(relapsed, "disease", cause))
    return out


def generate(
    rng: np.random.Generator, parts: list[tuple[str, int, dict]], countries: dict[str, float]
) -> pd.DataFrame:
    """Patients of one source: parts are (kind, n, options) with kind in the generators below."""
    frames = []
    for kind, n, options in parts:
        if n <= 0:
            continue
        frame = GENERATORS[kind](rng, n, countries, **options)
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return frame


GENERATORS = {"AML": aml, "MDS": mds, "MM": mm, "CLL": cll, "NHL": nhl, "ALL": all_}
