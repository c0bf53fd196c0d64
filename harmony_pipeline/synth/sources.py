"""The ten synthetic sources: who they are, which patients they hold and how each formats its export.

Each renderer turns the (observed) true patients of one delivery into one or more typed frames
(OutFile) in the source's own vocabulary: column names, languages, code systems, units, missing-value
tokens and date conventions. The defect injector and the writers work on these frames generically,
driven by the column descriptions (Column).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harmony_pipeline.synth import cohort

MONTH_DAYS = 30.4375  # mean Gregorian month, as the contract language counts months
COUNTRY_CODES = ("BE", "DE", "ES", "FR", "GB", "IT", "NL")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # id, ident, text, code, num, date, offset, bool, raw_json
    required: bool = False
    codes: tuple[str, ...] | None = None  # valid labels of a code column
    lab: str | None = None  # canonical lab (canonical.LABS) for its plausible range
    factor: float = 1.0  # source unit -> canonical unit
    low: float | None = None  # plausible range in canonical units (non-lab numbers)
    high: float | None = None
    wrong_unit: float | None = None  # multiplier that turns a value into a plausible wrong unit
    decimals: int = 1
    role: str | None = None  # dates/offsets: birth, diag, index, event, last, death
    anchor: str | None = None  # offsets: the date column they count from
    unit_days: float = 1.0  # offsets: days per unit
    date_format: str | None = None


@dataclass
class OutFile:
    name: str
    fmt: str  # csv, xlsx, json, parquet
    frame: pd.DataFrame
    columns: list[Column]
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Source:
    source_id: str
    name: str
    provider_kind: str
    share: float  # share of all generated persons
    countries: dict[str, float]
    parts: tuple[tuple[str, float, dict], ...]  # (generator, share within source, options)
    render: str  # renderer function name


def lab(name, lab_name, factor=1.0, wrong_unit=None, decimals=1, required=False) -> Column:
    return Column(
        name, "num", lab=lab_name, factor=factor, wrong_unit=wrong_unit, decimals=decimals, required=required
    )


def code(name, codes, required=False) -> Column:
    return Column(name, "code", codes=tuple(codes), required=required)


def date(name, role="event", required=False) -> Column:
    return Column(name, "date", role=role, required=required)


def ident(name) -> Column:
    return Column(name, "ident")


def mapped(values, mapping: dict) -> np.ndarray:
    """Translate canonical labels to the source's labels (None stays None)."""
    return pd.Series(values, dtype=object).map(mapping).to_numpy(object)


def flag(values, yes="1", no="0") -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return np.where(np.isnan(v), None, np.where(v > 0, yes, no)).astype(object)


def num(values) -> np.ndarray:
    return np.asarray(values, dtype=float)


def offset(days, anchor, unit=1.0, decimals=0) -> np.ndarray:
    return np.round((num(days) - num(anchor)) / unit, decimals)


ICD10 = {"AML": "C92.0", "APL": "C92.4", "ALL": "C91.0", "CLL": "C91.1", "MM": "C90.0", "MDS": "D46.9"}
NHL_ICD10 = {"DLBCL": "C83.3", "FL": "C82.9", "MCL": "C83.1", "MZL": "C88.4", "BL": "C83.7", "PTCL": "C84.4"}
NHL_ICDO3 = {
    "DLBCL": "9680/3",
    "FL": "9690/3",
    "MCL": "9673/3",
    "MZL": "9699/3",
    "BL": "9687/3",
    "PTCL": "9702/3",
}
MDS_ICDO3 = {
    "MDS-LB": "9980/3",
    "MDS-IB1": "9983/3",
    "MDS-IB2": "9983/3",
    "MDS-5q": "9986/3",
    "MDS-SF3B1": "9982/3",
}
ELN_GENES = ("TP53", "ASXL1", "BCOR", "EZH2", "RUNX1", "SF3B1", "SRSF2", "STAG2", "U2AF1", "ZRSR2")
IPSSM_GENES = (
    "TP53", "FLT3", "KMT2A_PTD", "SF3B1", "NPM1", "RUNX1", "NRAS", "ETV6", "IDH2", "CBL", "EZH2", "U2AF1",
    "SRSF2", "DNMT3A", "ASXL1", "KRAS", "BCOR", "BCORL1", "CEBPA", "ETNK1", "GATA2", "GNB1", "IDH1", "NF1",
    "PHF6", "PPM1D", "PRPF8", "PTPN11", "SETBP1", "STAG2", "WT1", "TET2", "ZRSR2",
)  # fmt: skip
PROTEIN_CHANGE = {
    "TP53": "p.R273H", "DNMT3A": "p.R882H", "IDH1": "p.R132H", "IDH2": "p.R140Q", "NRAS": "p.G12D",
    "KRAS": "p.G13D", "SRSF2": "p.P95H", "SF3B1": "p.K700E", "U2AF1": "p.S34F", "ASXL1": "p.G646Wfs*12",
    "RUNX1": "p.R201Q", "TET2": "p.Q1034*", "KIT": "p.D816V", "WT1": "p.R462W", "KMT2A_PTD": "PTD",
}  # fmt: skip
ALL_GROUP = {"t(12;21)": "ETV6::RUNX1", "hyperdiploid": "high hyperdiploid", "t(9;22)": "BCR::ABL1",
             "KMT2A-r": "KMT2A-r", "t(1;19)": "TCF3::PBX1", "normal": "B-other"}  # fmt: skip
GOOD = ("CR", "CRi", "CRh", "sCR", "VGPR", "PR")


def _mut_codes(t, genes, yes="1", no="0") -> dict:
    return {g: flag(t[f"G_{g}"], yes, no) for g in genes}


# --- 1. AML study group (Germany): semicolon CSV, decimal comma, latin-1, dd.mm.yyyy ------------------------

DE_RESP = {"CR": "CR", "CRi": "CRi", "CRh": "CRh", "refractory": "refraktär"}
DE_CAUSE = {"disease": "Grunderkrankung", "infection": "Infektion", "treatment-related": "therapieassoziiert",
            "other": "sonstige"}  # fmt: skip
DE_DONOR = {"matched related": "Familienspender", "matched unrelated": "Fremdspender",
            "haploidentical": "haploident", "mismatched unrelated": "Fremdspender mismatch"}  # fmt: skip


def render_de_aml_sg(t: pd.DataFrame, ctx) -> list[OutFile]:
    f = pd.DataFrame(index=t.index)
    cols = [Column("Patienten_ID", "id", required=True)]
    f["Patienten_ID"] = t["source_patient_id"]
    for name, src in (("Nachname", "last_name"), ("Vorname", "first_name"), ("Initialen", "initials"),
                      ("PLZ", "postcode"), ("KH_Nummer", "mrn")):  # fmt: skip
        f[name] = t[src]
        cols.append(ident(name))
    f["Geburtsdatum"] = t["birth_date"]
    f["Geschlecht"] = mapped(t["sex"], {"M": "m", "F": "w"})
    f["Diagnose"] = mapped(
        t["disease"], {"AML": "Akute myeloische Leukämie", "APL": "Akute Promyelozytenleukämie"}
    )
    f["ICD10"] = mapped(t["disease"], ICD10)
    f["Diagnosedatum"] = t["diag_date"]
    cols += [date("Geburtsdatum", "birth", True), code("Geschlecht", ["m", "w"], True),
             code("Diagnose", ["Akute myeloische Leukämie", "Akute Promyelozytenleukämie"]),
             code("ICD10", ["C92.0", "C92.4"], True), date("Diagnosedatum", "diag", True)]  # fmt: skip
    f["Karyotyp"] = t["karyotype"]
    cols.append(Column("Karyotyp", "text"))
    for name, src, col in (
        ("Leukozyten_G_l", "wbc", lab("Leukozyten_G_l", "wbc", wrong_unit=1000)),
        ("Haemoglobin_g_dl", "hb", lab("Haemoglobin_g_dl", "hb", wrong_unit=10)),
        ("Thrombozyten_G_l", "plt", lab("Thrombozyten_G_l", "plt", wrong_unit=1000, decimals=0)),
        ("Neutrophile_G_l", "anc", lab("Neutrophile_G_l", "anc")),
        ("Blasten_KM_Proz", "bm_blasts", lab("Blasten_KM_Proz", "bm_blasts", decimals=0)),
        ("Blasten_PB_Proz", "pb_blasts", lab("Blasten_PB_Proz", "pb_blasts", decimals=0)),
        ("LDH_U_l", "ldh", lab("LDH_U_l", "ldh", decimals=0)),
        ("LDH_ONG_U_l", "ldh_uln", lab("LDH_ONG_U_l", "ldh_uln", decimals=0)),
    ):
        f[name] = num(t[src])
        cols.append(col)
    for name, gene in (
        ("NPM1", "NPM1"),
        ("FLT3_ITD", "FLT3_ITD"),
        ("FLT3_TKD", "FLT3_TKD"),
        ("CEBPA_bZIP", "CEBPA_bZIP"),
    ):
        f[name] = flag(t[f"G_{gene}"], "pos", "neg")
        cols.append(code(name, ["pos", "neg"]))
    f["FLT3_ITD_Ratio"] = num(t["flt3_itd_ratio"])
    cols.append(Column("FLT3_ITD_Ratio", "num", decimals=2, low=0, high=100))
    f["Therapie_1"] = t["line1_regimen"]
    f["Therapiebeginn_1"] = t["line1_start"]
    f["Therapieende_1"] = t["line1_end"]
    f["Ansprechen_1"] = mapped(t["response1"], DE_RESP)
    f["Datum_Ansprechen_1"] = t["response1_date"]
    f["Rezidiv"] = np.where(t["relapse_date"].notna(), "ja", "nein")
    f["Rezidivdatum"] = t["relapse_date"]
    f["Therapie_2"] = t["line2_regimen"]
    f["Therapiebeginn_2"] = t["line2_start"]
    f["SZT"] = np.where(t["transplant_date"].notna(), "ja", "nein")
    f["SZT_Datum"] = t["transplant_date"]
    f["SZT_Art"] = mapped(t["transplant_type"], {"allogeneic": "allogen", "autologous": "autolog"})
    f["Spender"] = mapped(t["donor_type"], DE_DONOR)
    f["Status"] = mapped(t["vital_status"], {"alive": "lebend", "dead": "verstorben"})
    f["Letzter_Kontakt"] = t["last_contact"]
    f["Todesdatum"] = t["death_date"]
    f["Todesursache"] = mapped(t["death_cause"], DE_CAUSE)
    cols += [
        Column("Therapie_1", "text"), date("Therapiebeginn_1"), date("Therapieende_1"),
        code("Ansprechen_1", DE_RESP.values()), date("Datum_Ansprechen_1"), code("Rezidiv", ["ja", "nein"]),
        date("Rezidivdatum"), Column("Therapie_2", "text"), date("Therapiebeginn_2"), code("SZT", ["ja", "nein"]),
        date("SZT_Datum"), code("SZT_Art", ["allogen", "autolog"]), code("Spender", DE_DONOR.values()),
        code("Status", ["lebend", "verstorben"], True), date("Letzter_Kontakt", "last", True),
        date("Todesdatum", "death"), code("Todesursache", DE_CAUSE.values()),
    ]  # fmt: skip
    opts = {"delimiter": ";", "decimal": ",", "encoding": "latin-1", "date_format": "%d.%m.%Y", "na": "n.b."}
    main = OutFile(f"amlsg_export_{ctx.stamp}.csv", "csv", f, cols, opts)

    # one row per mutated gene outside the main columns (NGS panel), VAF in percent
    rows = []
    panel = ["TP53", "RUNX1", "ASXL1", "BCOR", "EZH2", "SF3B1", "SRSF2", "STAG2", "U2AF1", "ZRSR2",
             "DNMT3A", "IDH1", "IDH2", "TET2", "NRAS", "KRAS", "KIT", "WT1", "KMT2A_PTD"]  # fmt: skip
    pid = t["source_patient_id"].to_numpy(object)
    person_num = t["person_num"].to_numpy(np.int64)
    for i, gene in enumerate(panel):
        mask = t[f"G_{gene}"].to_numpy(float) > 0
        if not mask.any():
            continue
        pseudo_vaf = 5 + ((person_num[mask] * 2654435761 + i * 97) % 4500) / 100  # stable, 5-50%
        vaf = np.where(gene == "TP53", t["tp53_vaf"].to_numpy(float)[mask] * 100, pseudo_vaf)
        rows.append(pd.DataFrame({
            "Patienten_ID": pid[mask], "Gen": "KMT2A" if gene == "KMT2A_PTD" else gene, "VAF_Prozent": np.round(vaf, 1),
            "Proteinveraenderung": PROTEIN_CHANGE.get(gene, "p.?"), "Befunddatum": t["diag_date"].to_numpy(float)[mask],
            "_order": np.flatnonzero(mask) * 32 + i,
        }))  # fmt: skip
    ngs = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(
            {
                "Patienten_ID": [],
                "Gen": [],
                "VAF_Prozent": [],
                "Proteinveraenderung": [],
                "Befunddatum": [],
                "_order": [],
            }
        )
    )
    ngs = ngs.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)
    ngs_cols = [Column("Patienten_ID", "id", required=True), code("Gen", panel[:-1] + ["KMT2A"], True),
                Column("VAF_Prozent", "num", factor=0.01, low=0, high=1), Column("Proteinveraenderung", "text"),
                date("Befunddatum")]  # fmt: skip
    return [main, OutFile(f"amlsg_ngs_{ctx.stamp}.csv", "csv", ngs, ngs_cols, opts)]


# --- 2. FLT3 AML trial (pharma): Parquet, days from randomisation -------------------------------------------

TRIAL_RESP = {"CR": "CR", "CRi": "CRi", "CRh": "CRh", "refractory": "RD"}


def render_aml_flt3_trial(t: pd.DataFrame, ctx) -> list[OutFile]:
    f = pd.DataFrame(index=t.index)
    rand = num(t["index_date"])
    f["STUDYID"] = "FLT3-AML-301"
    f["SUBJID"] = t["source_patient_id"]
    f["SITEID"] = t["site"]
    f["INITIALS"] = t["initials"]
    f["SEX"] = t["sex"]
    f["AGE"] = np.floor(num(t["age"]))
    f["COUNTRY"] = t["country"]
    f["RANDDT"] = rand
    f["ARM"] = mapped(t["arm"], {"midostaurin": "MIDOSTAURIN + 7+3", "placebo": "PLACEBO + 7+3"})
    f["DIAGDY"] = offset(t["diag_date"], rand)
    f["KARYO"] = t["karyotype"]
    f["NPM1"] = flag(t["G_NPM1"], "Y", "N")
    f["FLT3ITD"] = flag(t["G_FLT3_ITD"], "Y", "N")
    f["FLT3ITDAR"] = num(t["flt3_itd_ratio"])
    f["FLT3TKD"] = flag(t["G_FLT3_TKD"], "Y", "N")
    f["CEBPA"] = flag(t["G_CEBPA_bZIP"], "Y", "N")
    cols = [Column("STUDYID", "text"), Column("SUBJID", "id", required=True), Column("SITEID", "text"),
            ident("INITIALS"), code("SEX", ["M", "F"], True), Column("AGE", "num", decimals=0, low=0, high=110, required=True),
            code("COUNTRY", COUNTRY_CODES), date("RANDDT", "index", True),
            code("ARM", ["MIDOSTAURIN + 7+3", "PLACEBO + 7+3"], True),
            Column("DIAGDY", "offset", role="diag", anchor="RANDDT", decimals=0, required=True),
            Column("KARYO", "text"), code("NPM1", "YN"), code("FLT3ITD", "YN"),
            Column("FLT3ITDAR", "num", decimals=2, low=0, high=100), code("FLT3TKD", "YN"), code("CEBPA", "YN")]  # fmt: skip
    for gene in ELN_GENES:
        f[gene] = flag(t[f"G_{gene}"], "Y", "N")
        cols.append(code(gene, "YN"))
    f["TP53VAF"] = num(t["tp53_vaf"])
    cols.append(Column("TP53VAF", "num", decimals=3, low=0, high=1))
    for name, src, col in (
        ("WBC", "wbc", lab("WBC", "wbc")), ("HGB", "hb", lab("HGB", "hb", wrong_unit=10)),
        ("PLT", "plt", lab("PLT", "plt", decimals=0, wrong_unit=1000)), ("BMBLAST", "bm_blasts", lab("BMBLAST", "bm_blasts", decimals=0)),
        ("PBBLAST", "pb_blasts", lab("PBBLAST", "pb_blasts", decimals=0)), ("LDH", "ldh", lab("LDH", "ldh", decimals=0)),
        ("LDHULN", "ldh_uln", lab("LDHULN", "ldh_uln", decimals=0)),
    ):  # fmt: skip
        f[name] = num(t[src])
        cols.append(col)

    def dy(name, src, role="event"):
        f[name] = offset(t[src], rand)
        cols.append(Column(name, "offset", role=role, anchor="RANDDT", decimals=0))

    dy("TRTSDY", "line1_start")
    dy("TRTEDY", "line1_end")
    f["BOR"] = mapped(t["response1"], TRIAL_RESP)
    cols.append(code("BOR", TRIAL_RESP.values()))
    dy("BORDY", "response1_date")
    dy("RELDY", "relapse_date")
    f["HSCTFL"] = np.where(t["transplant_date"].notna(), "Y", "N")
    cols.append(code("HSCTFL", "YN"))
    dy("HSCTDY", "transplant_date")
    f["SALVTRT"] = t["line2_regimen"]
    cols.append(Column("SALVTRT", "text"))
    dy("SALVDY", "line2_start")
    f["DTHFL"] = np.where(t["vital_status"] == "dead", "Y", "N")
    cols.append(code("DTHFL", "YN", True))
    dy("DTHDY", "death_date", "death")
    f["DTHCAUS"] = mapped(t["death_cause"], {"disease": "DISEASE PROGRESSION", "infection": "INFECTION",
                                             "treatment-related": "TREATMENT RELATED", "other": "OTHER"})  # fmt: skip
    cols.append(code("DTHCAUS", ["DISEASE PROGRESSION", "INFECTION", "TREATMENT RELATED", "OTHER"]))
    dy("LSTALVDY", "last_contact", "last")
    return [OutFile(f"flt3_trial_{ctx.stamp}.parquet", "parquet", f, cols)]


# --- 3. Dutch-Belgian group (AML and MM): Excel, Hb in mmol/L -------------------------------------------------

NL_RESP = {"CR": "CR", "CRi": "CRi", "CRh": "CRh", "refractory": "refractair", "sCR": "sCR", "VGPR": "VGPR",
           "PR": "PR", "SD": "SD", "PD": "PD"}  # fmt: skip
NL_DIAG = {"AML": "acute myeloïde leukemie", "APL": "acute promyelocytenleukemie", "MM": "multipel myeloom"}


def render_nl_be_hemato(t: pd.DataFrame, ctx) -> list[OutFile]:
    f = pd.DataFrame(index=t.index)
    f["studienummer"] = t["source_patient_id"]
    cols = [Column("studienummer", "id", required=True)]
    for name, src in (("achternaam", "last_name"), ("voornaam", "first_name"), ("initialen", "initials"),
                      ("postcode", "postcode"), ("ziekenhuisnummer", "mrn")):  # fmt: skip
        f[name] = t[src]
        cols.append(ident(name))
    f["geboortedatum"] = t["birth_date"]
    f["geslacht"] = mapped(t["sex"], {"M": "man", "F": "vrouw"})
    f["land"] = t["country"]
    f["diagnose"] = mapped(t["disease"], NL_DIAG)
    f["icd10"] = mapped(t["disease"], ICD10)
    f["diagnosedatum"] = t["diag_date"]
    cols += [date("geboortedatum", "birth", True), code("geslacht", ["man", "vrouw"], True), code("land", ["NL", "BE"]),
             code("diagnose", NL_DIAG.values()), code("icd10", ["C92.0", "C92.4", "C90.0"], True),
             date("diagnosedatum", "diag", True)]  # fmt: skip
    # Hb in mmol/L as Dutch laboratories report it (1 mmol/L = 1.611 g/dL)
    f["Hb_mmol_L"] = np.round(num(t["hb"]) / 1.611, 1)
    cols.append(lab("Hb_mmol_L", "hb", factor=1.611, wrong_unit=10 * 1.611))
    for name, src, col in (
        ("leukocyten_10e9_L", "wbc", lab("leukocyten_10e9_L", "wbc")),
        ("trombocyten_10e9_L", "plt", lab("trombocyten_10e9_L", "plt", decimals=0, wrong_unit=1000)),
        ("beenmerg_blasten_pct", "bm_blasts", lab("beenmerg_blasten_pct", "bm_blasts", decimals=0)),
        ("LDH_U_L", "ldh", lab("LDH_U_L", "ldh", decimals=0)),
        ("LDH_ULN_U_L", "ldh_uln", lab("LDH_ULN_U_L", "ldh_uln", decimals=0)),
    ):
        f[name] = num(t[src])
        cols.append(col)
    f["karyotype"] = t["karyotype"]
    cols.append(Column("karyotype", "text"))
    for gene in ("NPM1", "FLT3_ITD", "CEBPA_bZIP") + ELN_GENES:
        f[gene] = flag(t[f"G_{gene}"], "ja", "nee")
        cols.append(code(gene, ["ja", "nee"]))
    f["FLT3_ITD_ratio"] = num(t["flt3_itd_ratio"])
    f["TP53_VAF"] = num(t["tp53_vaf"])
    cols += [
        Column("FLT3_ITD_ratio", "num", decimals=2, low=0, high=100),
        Column("TP53_VAF", "num", decimals=3, low=0, high=1),
    ]
    # myeloma block (g/L and umol/L, European units)
    f["isotype"] = t["subtype"].where(t["disease"] == "MM")
    f["b2m_mg_L"] = num(t["b2m"])
    f["albumine_g_L"] = num(t["albumin"]) * 10
    f["creatinine_umol_L"] = np.round(num(t["creatinine"]) * 88.42)
    f["calcium_mmol_L"] = np.round(num(t["calcium"]) / 4.008, 2)
    f["M_proteine_g_L"] = num(t["m_protein"]) * 10
    cols += [Column("isotype", "text"), lab("b2m_mg_L", "b2m"),
             lab("albumine_g_L", "albumin", factor=0.1, decimals=0, wrong_unit=0.1),
             lab("creatinine_umol_L", "creatinine", factor=1 / 88.42, decimals=0),
             lab("calcium_mmol_L", "calcium", factor=4.008, decimals=2), lab("M_proteine_g_L", "m_protein", factor=0.1, decimals=0)]  # fmt: skip
    for name, src in (("FISH_del17p", "fish_del17p"), ("FISH_t4_14", "fish_t414"), ("FISH_t14_16", "fish_t1416"),
                      ("FISH_1q_gain", "fish_gain1q")):  # fmt: skip
        f[name] = flag(t[src], "ja", "nee")
        cols.append(code(name, ["ja", "nee"]))
    f["behandeling_1"] = t["line1_regimen"]
    f["start_1"] = t["line1_start"]
    f["einde_1"] = t["line1_end"]
    f["respons_1"] = mapped(t["response1"], NL_RESP)
    f["datum_respons_1"] = t["response1_date"]
    f["datum_relapse_progressie"] = t["relapse_date"]
    f["behandeling_2"] = t["line2_regimen"]
    f["start_2"] = t["line2_start"]
    f["SCT_datum"] = t["transplant_date"]
    f["SCT_type"] = mapped(t["transplant_type"], {"allogeneic": "allo", "autologous": "auto"})
    f["status"] = mapped(t["vital_status"], {"alive": "levend", "dead": "overleden"})
    f["datum_laatste_contact"] = t["last_contact"]
    f["datum_overlijden"] = t["death_date"]
    cols += [Column("behandeling_1", "text"), date("start_1"), date("einde_1"), code("respons_1", NL_RESP.values()),
             date("datum_respons_1"), date("datum_relapse_progressie"), Column("behandeling_2", "text"), date("start_2"),
             date("SCT_datum"), code("SCT_type", ["allo", "auto"]), code("status", ["levend", "overleden"], True),
             date("datum_laatste_contact", "last", True), date("datum_overlijden", "death")]  # fmt: skip
    return [OutFile(f"hovon_export_{ctx.stamp}.xlsx", "xlsx", f, cols, {"sheet": "patienten"})]


# --- 4. CLL research initiative: CSV with IGHV, TP53, FISH, Binet and Rai ----------------------------------------

RAI = {0.0: "0", 1.0: "I", 2.0: "II", 3.0: "III", 4.0: "IV"}
EN_CAUSE = {
    "disease": "disease",
    "infection": "infection",
    "treatment-related": "treatment-related",
    "other": "other",
}


def _common_en(t, f, cols, names: dict[str, str], sex_map: dict, diag_code: str | None = None) -> None:
    for key, name in names.items():
        if key in ("birth_date",):
            f[name] = t[key]
            cols.append(date(name, "birth", True))
        elif key == "sex":
            f[name] = mapped(t["sex"], sex_map)
            cols.append(code(name, sex_map.values(), True))
        elif key == "diag_date":
            f[name] = t[key]
            cols.append(date(name, "diag", True))
        else:
            f[name] = t[key]
            cols.append(ident(name))


def render_cll_initiative(t: pd.DataFrame, ctx) -> list[OutFile]:
    f = pd.DataFrame(index=t.index)
    f["pat_id"] = t["source_patient_id"]
    cols = [Column("pat_id", "id", required=True)]
    _common_en(t, f, cols, {"last_name": "surname", "first_name": "given_name", "initials": "initials",
                            "birth_date": "dob", "sex": "sex", "postcode": "postcode", "mrn": "mrn"},
               {"M": "male", "F": "female"})  # fmt: skip
    f["country"] = t["country"]
    f["diagnosis_date"] = t["diag_date"]
    f["icd10"] = "C91.1"
    f["binet"] = t["binet"]
    f["rai"] = mapped(t["rai"], RAI)
    f["ighv_identity_pct"] = num(t["ighv_identity"])
    f["ighv_status"] = np.where(num(t["ighv_identity"]) >= 98, "unmutated", "mutated")
    f["tp53_mutation"] = flag(t["G_TP53"], "positive", "negative")
    f["tp53_vaf"] = num(t["tp53_vaf"])
    cols += [code("country", COUNTRY_CODES), date("diagnosis_date", "diag", True),
             code("icd10", ["C91.1"], True), code("binet", "ABC"), code("rai", RAI.values()),
             lab("ighv_identity_pct", "ighv_identity"), code("ighv_status", ["mutated", "unmutated"]),
             code("tp53_mutation", ["positive", "negative"]), Column("tp53_vaf", "num", decimals=3, low=0, high=1)]  # fmt: skip
    for name in ("del17p", "del11q", "tri12", "del13q"):
        f[f"fish_{name}"] = flag(t[f"fish_{name}"], "detected", "not detected")
        cols.append(code(f"fish_{name}", ["detected", "not detected"]))
    for name, src, col in (
        ("b2m_mg_l", "b2m", lab("b2m_mg_l", "b2m")), ("wbc_10e9_l", "wbc", lab("wbc_10e9_l", "wbc")),
        ("hb_g_dl", "hb", lab("hb_g_dl", "hb", wrong_unit=10)), ("plt_10e9_l", "plt", lab("plt_10e9_l", "plt", decimals=0, wrong_unit=1000)),
        ("ldh_u_l", "ldh", lab("ldh_u_l", "ldh", decimals=0)), ("ldh_uln_u_l", "ldh_uln", lab("ldh_uln_u_l", "ldh_uln", decimals=0)),
    ):  # fmt: skip
        f[name] = num(t[src])
        cols.append(col)
    _course_en(t, f, cols, {"CR": "CR", "PR": "PR", "SD": "SD", "PD": "PD"})
    opts = {"delimiter": ",", "decimal": ".", "encoding": "utf-8", "date_format": "%Y-%m-%d", "na": "NA"}
    return [OutFile(f"cll_export_{ctx.stamp}.csv", "csv", f, cols, opts)]


def _course_en(t, f, cols, responses: dict, prefix="line") -> None:
    f["line1_regimen"] = t["line1_regimen"]
    f["line1_start"] = t["line1_start"]
    f["line1_end"] = t["line1_end"]
    f["line1_best_response"] = mapped(t["response1"], responses)
    f["line1_response_date"] = t["response1_date"]
    f["progression_date"] = t["relapse_date"]
    f["line2_regimen"] = t["line2_regimen"]
    f["line2_start"] = t["line2_start"]
    f["transplant_date"] = t["transplant_date"]
    f["transplant_type"] = t["transplant_type"]
    f["vital_status"] = t["vital_status"]
    f["last_followup"] = t["last_contact"]
    f["death_date"] = t["death_date"]
    f["death_cause"] = mapped(t["death_cause"], EN_CAUSE)
    cols += [Column("line1_regimen", "text"), date("line1_start"), date("line1_end"),
             code("line1_best_response", responses.values()), date("line1_response_date"), date("progression_date"),
             Column("line2_regimen", "text"), date("line2_start"), date("transplant_date"),
             code("transplant_type", ["allogeneic", "autologous"]), code("vital_status", ["alive", "dead"], True),
             date("last_followup", "last", True), date("death_date", "death"), code("death_cause", EN_CAUSE.values())]  # fmt: skip


# --- 5. Myeloma trials network: nested JSON -----------------------------------------------------------------------


def render_mm_trials_network(t: pd.DataFrame, ctx) -> list[OutFile]:
    f = pd.DataFrame(index=t.index)
    f["subject_id"] = t["source_patient_id"]
    f["site"] = t["site"]
    cols = [Column("subject_id", "id", required=True), Column("site", "text")]
    for name, src in (("patient.name.family", "last_name"), ("patient.name.given", "first_name"),
                      ("patient.initials", "initials"), ("patient.postcode", "postcode"),
                      ("patient.hospital_number", "mrn")):  # fmt: skip
        f[name] = t[src]
        cols.append(ident(name))
    f["patient.birth_date"] = t["birth_date"]
    f["patient.sex"] = mapped(t["sex"], {"M": "male", "F": "female"})
    f["patient.country"] = t["country"]
    f["diagnosis.date"] = t["diag_date"]
    f["diagnosis.icdo3"] = "9732/3"
    f["diagnosis.isotype"] = t["subtype"]
    cols += [date("patient.birth_date", "birth", True), code("patient.sex", ["male", "female"], True),
             code("patient.country", COUNTRY_CODES), date("diagnosis.date", "diag", True),
             code("diagnosis.icdo3", ["9732/3"], True), Column("diagnosis.isotype", "text")]  # fmt: skip
    f["labs.b2m_mg_l"] = num(t["b2m"])
    f["labs.albumin_g_l"] = num(t["albumin"]) * 10
    f["labs.ldh_u_l"] = num(t["ldh"])
    f["labs.ldh_uln_u_l"] = num(t["ldh_uln"])
    f["labs.hb_g_dl"] = num(t["hb"])
    f["labs.plt_10e9_l"] = num(t["plt"])
    f["labs.creatinine_umol_l"] = np.round(num(t["creatinine"]) * 88.42)
    f["labs.calcium_mmol_l"] = np.round(num(t["calcium"]) / 4.008, 2)
    f["labs.m_protein_g_l"] = num(t["m_protein"]) * 10
    cols += [lab("labs.b2m_mg_l", "b2m"), lab("labs.albumin_g_l", "albumin", factor=0.1, decimals=0, wrong_unit=0.1),
             lab("labs.ldh_u_l", "ldh", decimals=0), lab("labs.ldh_uln_u_l", "ldh_uln", decimals=0),
             lab("labs.hb_g_dl", "hb", wrong_unit=10), lab("labs.plt_10e9_l", "plt", decimals=0, wrong_unit=1000),
             lab("labs.creatinine_umol_l", "creatinine", factor=1 / 88.42, decimals=0),
             lab("labs.calcium_mmol_l", "calcium", factor=4.008, decimals=2),
             lab("labs.m_protein_g_l", "m_protein", factor=0.1, decimals=0)]  # fmt: skip
    for name, src in (("del_17p", "fish_del17p"), ("t_4_14", "fish_t414"), ("t_14_16", "fish_t1416"),
                      ("gain_1q", "fish_gain1q"), ("t_11_14", "fish_t1114")):  # fmt: skip
        f[f"fish.{name}"] = num(t[src])
        cols.append(Column(f"fish.{name}", "bool"))
    imwg = {"sCR": "sCR", "CR": "CR", "VGPR": "VGPR", "PR": "PR", "SD": "SD", "PD": "PD"}
    drugs = {
        r: "[" + ",".join(f'{{"drug":"{d}"}}' for d in ds) + "]" for r, ds in cohort.REGIMEN_DRUGS.items()
    }
    line_specs = (
        (0, 1, "line1_regimen", "line1_start", "line1_end", "response1", "response1_date", "relapse_date"),
        (1, 2, "line2_regimen", "line2_start", None, "response2", "response2_date", None),
    )
    for i, number, regimen, start, end, resp, resp_date, prog in line_specs:
        p = f"lines.{i}."
        f[p + "regimen"] = t[regimen]
        f[p + "line"] = np.where(t[regimen].notna(), number, np.nan)
        f[p + "start_date"] = t[start]
        f[p + "end_date"] = t[end] if end else np.nan
        f[p + "best_response"] = mapped(t[resp], imwg)
        f[p + "response_date"] = t[resp_date]
        f[p + "progression_date"] = t[prog] if prog else np.nan
        f[p + "drugs"] = mapped(t[regimen], drugs)
        cols += [Column(p + "regimen", "text"), Column(p + "line", "num", decimals=0, low=1, high=20),
                 date(p + "start_date"), date(p + "end_date"), code(p + "best_response", imwg.values()),
                 date(p + "response_date"), date(p + "progression_date"), Column(p + "drugs", "raw_json")]  # fmt: skip
    f["transplants.0.date"] = t["transplant_date"]
    f["transplants.0.type"] = t["transplant_type"]
    cols += [date("transplants.0.date"), code("transplants.0.type", ["autologous", "allogeneic"])]
    f["follow_up.status"] = t["vital_status"]
    f["follow_up.last_contact"] = t["last_contact"]
    f["follow_up.death_date"] = t["death_date"]
    f["follow_up.cause"] = t["death_cause"]
    cols += [code("follow_up.status", ["alive", "dead"], True), date("follow_up.last_contact", "last", True),
             date("follow_up.death_date", "death"), code("follow_up.cause", EN_CAUSE.values())]  # fmt: skip
    header = {"network": "MM trials network", "cutoff": ctx.delivery_id[:10], "schema_version": "2.1"}
    return [OutFile(f"mm_network_{ctx.stamp}.json", "json", f, cols, {"header": header})]


# --- 6. MDS registry (France): TSV, French labels, ISCN karyotypes, months from diagnosis -------------------------

FR_WHO = {"MDS-LB": "SMD avec faible blastose", "MDS-IB1": "SMD avec excès de blastes 1",
          "MDS-IB2": "SMD avec excès de blastes 2", "MDS-5q": "SMD avec délétion 5q isolée",
          "MDS-SF3B1": "SMD avec mutation SF3B1"}  # fmt: skip
FR_CYTO = {"very_good": "très bon", "good": "bon", "intermediate": "intermédiaire", "poor": "mauvais",
           "very_poor": "très mauvais"}  # fmt: skip
FR_RESP = {"CR": "RC", "PR": "RP", "SD": "stable", "PD": "progression"}
FR_CAUSE = {"disease": "progression de la maladie", "infection": "infection", "treatment-related": "toxicité",
            "other": "autre"}  # fmt: skip


def render_mds_registry_fr(t: pd.DataFrame, ctx) -> list[OutFile]:
    f = pd.DataFrame(index=t.index)
    diag = num(t["diag_date"])
    f["id_patient"] = t["source_patient_id"]
    cols = [Column("id_patient", "id", required=True)]
    for name, src in (("nom", "last_name"), ("prenom", "first_name"), ("initiales", "initials"),
                      ("code_postal", "postcode"), ("ipp", "mrn")):  # fmt: skip
        f[name] = t[src]
        cols.append(ident(name))
    f["date_naissance"] = t["birth_date"]
    f["sexe"] = mapped(t["sex"], {"M": "H", "F": "F"})
    f["date_diag"] = diag
    f["diagnostic_oms"] = mapped(t["subtype"], FR_WHO)
    f["code_icdo3"] = mapped(t["subtype"], MDS_ICDO3)
    f["caryotype"] = t["karyotype"]
    f["categorie_cyto"] = mapped(t["cyto_category"], FR_CYTO)
    cols += [date("date_naissance", "birth", True), code("sexe", ["H", "F"], True), date("date_diag", "diag", True),
             code("diagnostic_oms", FR_WHO.values()), code("code_icdo3", sorted(set(MDS_ICDO3.values())), True),
             Column("caryotype", "text"), code("categorie_cyto", FR_CYTO.values())]  # fmt: skip
    for name, src, col in (
        ("hb_g_dl", "hb", lab("hb_g_dl", "hb", wrong_unit=10)),
        ("plaquettes_g_l", "plt", lab("plaquettes_g_l", "plt", decimals=0, wrong_unit=1000)),
        ("pnn_g_l", "anc", lab("pnn_g_l", "anc", decimals=2)),
        ("globules_blancs_g_l", "wbc", lab("globules_blancs_g_l", "wbc")),
        ("blastes_medullaires_pct", "bm_blasts", lab("blastes_medullaires_pct", "bm_blasts")),
    ):
        f[name] = num(t[src])
        cols.append(col)
    for gene in IPSSM_GENES:
        f[f"mut_{gene}"] = flag(t[f"G_{gene}"])
        cols.append(code(f"mut_{gene}", ["0", "1"]))
    f["tp53_vaf"] = num(t["tp53_vaf"])
    f["tp53_nb_mutations"] = num(t["tp53_count"])
    cols += [
        Column("tp53_vaf", "num", decimals=3, low=0, high=1),
        Column("tp53_nb_mutations", "num", decimals=0, low=0, high=10),
    ]

    def months(name, src, role="event"):
        f[name] = offset(t[src], diag, MONTH_DAYS, 1)
        cols.append(Column(name, "offset", role=role, anchor="date_diag", unit_days=MONTH_DAYS, decimals=1))

    f["traitement_1"] = t["line1_regimen"]
    cols.append(Column("traitement_1", "text"))
    months("debut_traitement_1_mois", "line1_start")
    f["reponse_1"] = mapped(t["response1"], FR_RESP)
    cols.append(code("reponse_1", FR_RESP.values()))
    months("delai_reponse_1_mois", "response1_date")
    f["transformation_lam"] = np.where(t["relapse_date"].notna(), "oui", "non")
    cols.append(code("transformation_lam", ["oui", "non"]))
    months("delai_transformation_mois", "relapse_date")
    f["traitement_2"] = t["line2_regimen"]
    cols.append(Column("traitement_2", "text"))
    months("debut_traitement_2_mois", "line2_start")
    f["allogreffe"] = np.where(t["transplant_date"].notna(), "oui", "non")
    cols.append(code("allogreffe", ["oui", "non"]))
    months("delai_allogreffe_mois", "transplant_date")
    f["deces"] = np.where(t["vital_status"] == "dead", "1", "0")
    cols.append(code("deces", ["0", "1"], True))
    months("suivi_mois", "last_contact", "last")
    f["cause_deces"] = mapped(t["death_cause"], FR_CAUSE)
    cols.append(code("cause_deces", FR_CAUSE.values()))
    opts = {"delimiter": "\t", "decimal": ",", "encoding": "utf-8", "date_format": "%d/%m/%Y", "na": "NR"}
    return [OutFile(f"registre_smd_{ctx.stamp}.tsv", "csv", f, cols, opts)]


# --- 7. Lymphoma study association: IPI/NCCN-IPI inputs, Ann Arbor, ECOG, extranodal sites -----------------------

LUGANO = {"CR": "CMR", "PR": "PMR", "SD": "NMR", "PD": "PMD"}
HISTOLOGY = {"DLBCL": "Diffuse large B-cell lymphoma", "FL": "Follicular lymphoma", "MCL": "Mantle cell lymphoma",
             "MZL": "Marginal zone lymphoma", "BL": "Burkitt lymphoma", "PTCL": "Peripheral T-cell lymphoma, NOS"}  # fmt: skip
ROMAN = {1.0: "I", 2.0: "II", 3.0: "III", 4.0: "IV"}


def render_lymphoma_sa(t: pd.DataFrame, ctx) -> list[OutFile]:
    f = pd.DataFrame(index=t.index)
    f["PATNO"] = t["source_patient_id"]
    f["NAME"] = t["last_name"].str.upper() + ", " + t["first_name"]
    f["INITIALS"] = t["initials"]
    f["DOB"] = t["birth_date"]
    f["SEX"] = t["sex"]
    f["POSTCODE"] = t["postcode"]
    f["MRN"] = t["mrn"]
    f["COUNTRY"] = t["country"]
    f["DIAG_DATE"] = t["diag_date"]
    f["HISTOLOGY"] = mapped(t["subtype"], HISTOLOGY)
    f["ICDO3"] = mapped(t["subtype"], NHL_ICDO3)
    stages = [r + s for r in ROMAN.values() for s in "AB"]
    f["ANN_ARBOR"] = mapped(t["ann_arbor"], ROMAN) + t["b_symptoms"].astype(object)
    cols = [Column("PATNO", "id", required=True), ident("NAME"), ident("INITIALS"), date("DOB", "birth", True),
            code("SEX", ["M", "F"], True), ident("POSTCODE"), ident("MRN"), code("COUNTRY", COUNTRY_CODES),
            date("DIAG_DATE", "diag", True), code("HISTOLOGY", HISTOLOGY.values()),
            code("ICDO3", NHL_ICDO3.values(), True), code("ANN_ARBOR", stages)]  # fmt: skip
    f["ECOG"] = num(t["ecog"])
    f["EN_SITES"] = num(t["extranodal_sites"])
    cols += [
        Column("ECOG", "num", decimals=0, low=0, high=4),
        Column("EN_SITES", "num", decimals=0, low=0, high=20),
    ]
    for name, src in (
        ("EN_BM", "en_bm"),
        ("EN_CNS", "en_cns"),
        ("EN_LIVER_GI", "en_liver_gi"),
        ("EN_LUNG", "en_lung"),
    ):
        f[name] = flag(t[src], "Y", "N")
        cols.append(code(name, "YN"))
    f["NODAL_AREAS"] = num(t["nodal_areas"])
    cols.append(Column("NODAL_AREAS", "num", decimals=0, low=0, high=30))
    for name, src, col in (
        ("LDH", "ldh", lab("LDH", "ldh", decimals=0)), ("LDH_ULN", "ldh_uln", lab("LDH_ULN", "ldh_uln", decimals=0)),
        ("HB", "hb", lab("HB", "hb", wrong_unit=10)), ("B2M", "b2m", lab("B2M", "b2m")),
    ):  # fmt: skip
        f[name] = num(t[src])
        cols.append(col)
    f["REG_1L"] = t["line1_regimen"]
    f["START_1L"] = t["line1_start"]
    f["END_1L"] = t["line1_end"]
    f["RESP_1L"] = mapped(t["response1"], LUGANO)
    f["RESP_DATE_1L"] = t["response1_date"]
    f["PROG_DATE"] = t["relapse_date"]
    f["REG_2L"] = t["line2_regimen"]
    f["START_2L"] = t["line2_start"]
    f["ASCT_DATE"] = t["transplant_date"]
    f["STATUS"] = np.where(t["vital_status"] == "dead", "1", "0")
    f["LAST_FU"] = t["last_contact"]
    f["DEATH_DATE"] = t["death_date"]
    f["DEATH_CAUSE"] = t["death_cause"]
    cols += [Column("REG_1L", "text"), date("START_1L"), date("END_1L"), code("RESP_1L", LUGANO.values()),
             date("RESP_DATE_1L"), date("PROG_DATE"), Column("REG_2L", "text"), date("START_2L"), date("ASCT_DATE"),
             code("STATUS", ["0", "1"], True), date("LAST_FU", "last", True), date("DEATH_DATE", "death"),
             code("DEATH_CAUSE", EN_CAUSE.values())]  # fmt: skip
    opts = {"delimiter": ",", "decimal": ".", "encoding": "utf-8", "date_format": "%d-%b-%Y", "na": "."}
    return [OutFile(f"lysa_extract_{ctx.stamp}.csv", "csv", f, cols, opts)]


# --- 8/9. Paediatric leukaemia group and adult ALL group: one common data set ------------------------------------


def render_leukaemia_common(t: pd.DataFrame, ctx, prefix: str) -> list[OutFile]:
    f = pd.DataFrame(index=t.index)
    f["study_no"] = t["source_patient_id"]
    cols = [Column("study_no", "id", required=True)]
    for name, src in (("last_name", "last_name"), ("first_name", "first_name"), ("initials", "initials")):
        f[name] = t[src]
        cols.append(ident(name))
    f["date_of_birth"] = t["birth_date"]
    f["sex"] = mapped(t["sex"], {"M": "1", "F": "2"})  # 1 = male, 2 = female
    f["postcode"] = t["postcode"]
    f["hospital_no"] = t["mrn"]
    f["country"] = t["country"]
    diagnosis = np.where(t["disease"] == "AML", "AML", t["subtype"]).astype(object)
    f["diagnosis"] = diagnosis
    f["icd10"] = mapped(t["disease"], ICD10)
    f["diagnosis_date"] = t["diag_date"]
    f["age_at_diagnosis"] = num(t["age"])
    cols += [date("date_of_birth", "birth", True), code("sex", ["1", "2"], True), ident("postcode"), ident("hospital_no"),
             code("country", COUNTRY_CODES), code("diagnosis", ["B-ALL", "T-ALL", "AML"], True),
             code("icd10", ["C91.0", "C92.0"], True), date("diagnosis_date", "diag", True),
             Column("age_at_diagnosis", "num", decimals=2, low=0, high=110)]  # fmt: skip
    for name, src, col in (
        ("wbc_10e9_l", "wbc", lab("wbc_10e9_l", "wbc")),
        ("hb_g_l", "hb", lab("hb_g_l", "hb", factor=0.1, decimals=0, wrong_unit=0.1)),
        ("plt_10e9_l", "plt", lab("plt_10e9_l", "plt", decimals=0, wrong_unit=1000)),
        ("bm_blasts_pct", "bm_blasts", lab("bm_blasts_pct", "bm_blasts", decimals=0)),
        ("mrd_eoi_pct", "mrd", lab("mrd_eoi_pct", "mrd", decimals=4)),
    ):
        values = num(t[src]) * (10 if src == "hb" else 1)
        f[name] = values
        cols.append(col)
    f["cns_status"] = t["cns_involvement"]
    f["karyotype"] = t["karyotype"]
    aml = t["disease"].to_numpy(object) == "AML"
    group = mapped(t["cyto"], ALL_GROUP)
    group = np.where(t["subtype"].to_numpy(object) == "T-ALL", "T-ALL", group)
    f["genetic_group"] = np.where(aml, t["cyto"].to_numpy(object), group)
    cols += [
        code("cns_status", ["CNS1", "CNS2", "CNS3"]),
        Column("karyotype", "text"),
        Column("genetic_group", "text"),
    ]
    for name, gene in (
        ("npm1", "NPM1"),
        ("flt3_itd", "FLT3_ITD"),
        ("cebpa_bzip", "CEBPA_bZIP"),
        ("tp53", "TP53"),
    ):
        f[name] = np.where(aml, flag(t[f"G_{gene}"]), None)
        cols.append(code(name, ["0", "1"]))
    f["flt3_itd_ratio"] = np.where(aml, num(t["flt3_itd_ratio"]), np.nan)
    cols.append(Column("flt3_itd_ratio", "num", decimals=2, low=0, high=100))
    f["protocol"] = t["line1_regimen"]
    f["protocol_start"] = t["line1_start"]
    f["induction_response"] = mapped(
        t["response1"], {"CR": "CR", "CRi": "CRi", "CRh": "CRh", "refractory": "no CR"}
    )
    f["response_date"] = t["response1_date"]
    f["relapse_date"] = t["relapse_date"]
    f["second_line"] = t["line2_regimen"]
    f["second_line_start"] = t["line2_start"]
    f["hsct_date"] = t["transplant_date"]
    f["hsct_donor"] = t["donor_type"]
    f["vital_status"] = t["vital_status"]
    f["last_fu_date"] = t["last_contact"]
    f["death_date"] = t["death_date"]
    f["death_cause"] = t["death_cause"]
    cols += [Column("protocol", "text"), date("protocol_start"), code("induction_response", ["CR", "CRi", "CRh", "no CR"]),
             date("response_date"), date("relapse_date"), Column("second_line", "text"), date("second_line_start"),
             date("hsct_date"), code("hsct_donor", cohort.DONORS), code("vital_status", ["alive", "dead"], True),
             date("last_fu_date", "last", True), date("death_date", "death"), code("death_cause", EN_CAUSE.values())]  # fmt: skip
    opts = {"delimiter": ",", "decimal": ".", "encoding": "utf-8", "date_format": "%Y-%m-%d", "na": "-99"}
    return [OutFile(f"{prefix}_cds_{ctx.stamp}.csv", "csv", f, cols, opts)]


def render_paed_leukaemia(t, ctx):
    return render_leukaemia_common(t, ctx, "paed")


def render_adult_all(t, ctx):
    return render_leukaemia_common(t, ctx, "adult_all")


# --- 10. Transplant registry: all diseases, pipe-delimited --------------------------------------------------------

EBMT_DISEASE = {
    "AML": "AML",
    "APL": "AML",
    "ALL": "ALL",
    "MDS": "MDS",
    "CLL": "CLL",
    "NHL": "Lymphoma",
    "MM": "PCD",
}
EBMT_DONOR = {
    "matched related": "MRD",
    "matched unrelated": "MUD",
    "haploidentical": "Haplo",
    "mismatched unrelated": "MMUD",
}


def render_transplant_registry(t: pd.DataFrame, ctx) -> list[OutFile]:
    f = pd.DataFrame(index=t.index)
    f["ebmt_id"] = t["source_patient_id"]
    f["centre_id"] = t["site"]
    f["hospital_no"] = t["mrn"]
    f["initials"] = t["initials"]
    f["birth_date"] = t["birth_date"]
    f["sex"] = t["sex"]
    f["postcode"] = t["postcode"]
    f["main_disease"] = mapped(t["disease"], EBMT_DISEASE)
    icd = mapped(t["disease"], ICD10)
    icd = np.where(t["disease"].to_numpy(object) == "NHL", mapped(t["subtype"], NHL_ICD10), icd)
    f["icd10"] = icd
    f["diagnosis_date"] = t["diag_date"]
    f["hct_date"] = t["transplant_date"]
    f["hct_type"] = mapped(t["transplant_type"], {"allogeneic": "Allo", "autologous": "Auto"})
    f["donor"] = mapped(t["donor_type"], EBMT_DONOR)
    good = np.isin(t["response1"].to_numpy(object), GOOD)
    f["status_at_hct"] = np.where(good, "CR/PR", "active disease")
    f["relapse_date"] = t["relapse_date"]
    f["vital_status"] = t["vital_status"]
    f["last_fu"] = t["last_contact"]
    f["death_date"] = t["death_date"]
    f["death_cause"] = t["death_cause"]
    icd_codes = sorted(set(ICD10.values()) | set(NHL_ICD10.values()))
    cols = [Column("ebmt_id", "id", required=True), Column("centre_id", "text"), ident("hospital_no"), ident("initials"),
            date("birth_date", "birth", True), code("sex", ["M", "F"], True), ident("postcode"),
            code("main_disease", sorted(set(EBMT_DISEASE.values())), True), code("icd10", icd_codes),
            date("diagnosis_date", "diag", True), date("hct_date", "event", True), code("hct_type", ["Allo", "Auto"], True),
            code("donor", EBMT_DONOR.values()), code("status_at_hct", ["CR/PR", "active disease"]),
            date("relapse_date"), code("vital_status", ["alive", "dead"], True), date("last_fu", "last", True),
            date("death_date", "death"), code("death_cause", EN_CAUSE.values())]  # fmt: skip
    opts = {"delimiter": "|", "decimal": ".", "encoding": "utf-8", "date_format": "%Y-%m-%d", "na": ""}
    return [OutFile(f"hct_registry_{ctx.stamp}.txt", "csv", f, cols, opts)]


# --- what each source does not deliver ------------------------------------------------------------------------

# Risk inputs a source does not deliver, per disease (read off the renderers above): the ground truth keeps
# a true group only where it does not depend on them (generate.computable_groups). The paediatric group's
# common data set has NPM1, FLT3-ITD, CEBPA bZIP and a TP53 flag but neither the ELN myelodysplasia genes
# nor the TP53 VAF; the transplant registry has no labs, genetics or staging at all.
NOTHING_DELIVERED = "no risk inputs"
UNDELIVERED: dict[str, dict[str, tuple[str, ...]] | str] = {
    "paed_leukaemia": {"AML": ("eln_genes", "tp53_vaf")},
    "transplant_registry": NOTHING_DELIVERED,
}


# --- the network ---------------------------------------------------------------------------------------------

EU = {"DE": 0.25, "FR": 0.2, "IT": 0.2, "ES": 0.15, "NL": 0.1, "GB": 0.1}
SOURCES: tuple[Source, ...] = (
    Source("de_aml_sg", "AML study group (Germany)", "study_group", 0.13, {"DE": 1.0},
           (("AML", 1.0, {"apl_share": 0.08}),), "render_de_aml_sg"),
    Source("aml_flt3_trial", "FLT3-mutated AML trial (pharma)", "trial", 0.05, EU,
           (("AML", 1.0, {"flt3_trial": True}),), "render_aml_flt3_trial"),
    Source("nl_be_hemato", "Dutch-Belgian haemato-oncology group", "study_group", 0.07, {"NL": 0.65, "BE": 0.35},
           (("AML", 0.55, {"apl_share": 0.05}), ("MM", 0.45, {})), "render_nl_be_hemato"),
    Source("cll_initiative", "CLL research initiative", "study_group", 0.13, {"DE": 0.4, "GB": 0.3, "IT": 0.3},
           (("CLL", 1.0, {}),), "render_cll_initiative"),
    Source("mm_trials_network", "Myeloma trials network", "trial", 0.13, {"IT": 0.4, "ES": 0.4, "GB": 0.2},
           (("MM", 1.0, {}),), "render_mm_trials_network"),
    Source("mds_registry_fr", "MDS registry (France)", "registry", 0.13, {"FR": 1.0},
           (("MDS", 1.0, {}),), "render_mds_registry_fr"),
    Source("lymphoma_sa", "Lymphoma study association", "study_group", 0.15, {"FR": 0.7, "BE": 0.3},
           (("NHL", 1.0, {}),), "render_lymphoma_sa"),
    Source("paed_leukaemia", "Paediatric leukaemia group", "study_group", 0.07, EU,
           (("ALL", 0.8, {"paediatric": True}), ("AML", 0.2, {"paediatric": True})), "render_paed_leukaemia"),
    Source("adult_all", "Adult ALL group", "study_group", 0.06, {"DE": 0.5, "IT": 0.25, "ES": 0.25},
           (("ALL", 1.0, {"paediatric": False}),), "render_adult_all"),
    Source("transplant_registry", "Transplant registry", "registry", 0.08, EU,
           (("AML", 0.4, {}), ("ALL", 0.1, {"paediatric": False}), ("MDS", 0.15, {}), ("MM", 0.2, {}),
            ("NHL", 0.1, {}), ("CLL", 0.05, {})), "render_transplant_registry"),
)  # fmt: skip
SOURCE_IDS = tuple(s.source_id for s in SOURCES)
RENDERERS = {
    "render_de_aml_sg": render_de_aml_sg,
    "render_aml_flt3_trial": render_aml_flt3_trial,
    "render_nl_be_hemato": render_nl_be_hemato,
    "render_cll_initiative": render_cll_initiative,
    "render_mm_trials_network": render_mm_trials_network,
    "render_mds_registry_fr": render_mds_registry_fr,
    "render_lymphoma_sa": render_lymphoma_sa,
    "render_paed_leukaemia": render_paed_leukaemia,
    "render_adult_all": render_adult_all,
    "render_transplant_registry": render_transplant_registry,
}
