"""Profiling delivered files for `harmony contract draft`: format, delimiter, encoding, decimal mark,
missing tokens, column types and value lists, and guesses of canonical mappings and identifiers."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harmony_pipeline.contracts.model import FileSpec
from harmony_pipeline.contracts.readers import read_file
from harmony_pipeline.contracts.values import as_text, to_date, to_double

EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".tab": "tsv", ".xlsx": "excel", ".xlsm": "excel",
              ".json": "json", ".parquet": "parquet", ".pq": "parquet", ".xpt": "sas", ".sas7bdat": "sas"}  # fmt: skip
MISSING_CANDIDATES = (
    "",
    "NA",
    "N/A",
    "NULL",
    "null",
    "NaN",
    ".",
    "-",
    "-99",
    "-999",
    "-9",
    "?",
    "nd",
    "n.d.",
    "unknown",
)
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%Y%m%d", "%d-%m-%Y", "%Y/%m/%d", "%d.%m.%y")
SAMPLE_ROWS = 20000  # profiling looks at the first rows of big files

# Gene symbols most often reported in myeloid/lymphoid panels (ELN 2022, IPSS-M, iwCLL 2018).
GENES = {
    "ASXL1", "BCOR", "BCORL1", "CALR", "CBL", "CEBPA", "DNMT3A", "ETV6", "EZH2", "FLT3", "GATA2", "IDH1",
    "IDH2", "JAK2", "KIT", "KMT2A", "KRAS", "MPL", "NF1", "NOTCH1", "NPM1", "NRAS", "PHF6", "PTPN11", "RUNX1",
    "SETBP1", "SF3B1", "SRSF2", "STAG2", "TET2", "TP53", "U2AF1", "WT1", "ZRSR2", "BCL2", "MYC", "BRAF",
    "MYD88", "ATM", "BIRC3", "IGHV", "CREBBP", "EP300", "KMT2D", "CARD11", "IKZF1", "CDKN2A", "PAX5",
}  # fmt: skip

# column-name patterns -> what the column probably is (checked in order; names are case-folded)
NAME_GUESSES: list[tuple[str, str]] = [
    (
        r"^(e-?mail|mail)$|phone|telefon|t[ée]l[ée]phone|address|adresse|anschrift|street|strasse|rue",
        "identifier",
    ),
    (r"post(al)?_?code|^zip|^plz|code_postal|postcode", "identifier"),
    (
        r"^(last_?|first_?|sur|given_?|fore|family_?)?name$|^nom$|^pr[ée]nom$|^vorname$|^nachname$|^naam$",
        "identifier",
    ),
    (
        r"mrn|record_?n|hospital_?(id|no|number)|^ipp$|^nip$|krankenhaus|ssn|insurance|versicherten",
        "identifier",
    ),
    (r"initial", "linkage.initials"),
    (r"birth|^dob$|geburts|naissance|geboorte", "linkage.birth_date"),
    (
        r"^(pat(ient)?|subject|subj|case|usubjid|record)_?(id|no|nr|number)?$|^id_?pat(ient)?$|^id$",
        "patient_id",
    ),
    (r"^(sex|gender|geschlecht|sexe|geslacht)$", "patient.sex"),
    (r"^age|alter|[âa]ge_?(au_)?diag", "patient.age_at_diagnosis"),
    (r"rand(omi[sz]ation)?_?(date|dt|datum)|index_?date|registr", "patient.index_date"),
    (r"diag.*(date|dt|datum)|date_?diag|erstdiagnose|(date|dt|datum).*diag", "diagnosis.diagnosis_date"),
    (r"subtype|who|fab|oms|subtyp", "diagnosis.subtype"),
    (r"icd|icdo|morpholog", "diagnosis.code"),
    (r"karyo|caryo|cytogen|iscn", "cytogenetics.karyotype"),
    (r"^(hb|hgb|haemoglobin|hemoglobin|h[äa]moglobin|hemoglobine)", "lab.hb"),
    (r"^(plt|platelets?|thrombo|plaquettes|plaq)", "lab.plt"),
    (r"^(anc|neut|pnn|neutro)", "lab.anc"),
    (r"^(wbc|leuko|leuco|gb$|white)", "lab.wbc"),
    (r"(bm|mo|km)_?blast|blast.*(bm|mo|marrow|moelle|knochenmark)|^blasts?$", "lab.bm_blasts"),
    (r"(pb|sp)_?blast|blast.*(pb|blood|sang)", "lab.pb_blasts"),
    (r"b2m|beta_?2", "lab.b2m"),
    (r"^alb", "lab.albumin"),
    (r"^ldh", "lab.ldh"),
    (r"creat|kreat", "lab.creatinine"),
    (r"^(ca|calc|calcium|kalzium)$", "lab.calcium"),
    (r"mrd", "lab.mrd"),
    (r"ecog|who_?ps|^ps$", "staging.ecog"),
    (r"ann_?arbor", "staging.ann_arbor"),
    (r"binet", "staging.binet"),
    (r"^rai", "staging.rai"),
    (
        r"^(os|surv|overall_?surv|survie|sg)(_?(time|months|mois|years|yrs|days|jours|monate))?$|os_?(time|months|yrs|years|days)",
        "follow_up.time",
    ),
    (
        r"os_?(status|stat|event|cens)|^(dead|death|deces|d[ée]c[èe]s|vital|status|tod|verstorben)$",
        "follow_up.vital_status",
    ),
    (r"transpl|hsct|sct|greffe|allo", "transplant"),
    (r"gene|^symbol$|^hugo", "mutation.gene"),
    (r"vaf|allele_?freq", "mutation.vaf"),
    (r"protein|hgvs_?p|aa_?change|p_?dot", "mutation.variant"),
    (r"comment|remark|note|bemerk|commentaire|free_?text", "ignore"),
]
SEX_LABELS = {"m": "M", "male": "M", "man": "M", "h": "M", "homme": "M", "männlich": "M", "maennlich": "M",
              "masculin": "M", "1": "M", "f": "F", "female": "F", "woman": "F", "w": "F", "weiblich": "F",
              "femme": "F", "féminin": "F", "feminin": "F", "v": "F", "vrouw": "F", "2": "F"}  # fmt: skip
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)
_PHONE = re.compile(r"^\+?[\d\s()-]{8,}$")


@dataclass
class ColumnProfile:
    name: str
    kind: str  # integer | number | date | flag | text | empty
    non_missing: int
    distinct: int
    date_format: str | None = None
    values: dict[str, int] = field(default_factory=dict)  # value -> count, for short value lists
    guess: str | None = None
    identifier_reason: str | None = None


@dataclass
class FileProfile:
    path: Path
    spec: FileSpec
    rows: int
    columns: list[ColumnProfile]


def sniff_spec(path: Path, file_id: str) -> FileSpec:
    """A FileSpec for reading `path` for profiling: format, encoding, delimiter, decimal, missing tokens."""
    fmt = EXTENSIONS.get(path.suffix.lower(), "csv")
    kwargs: dict = {"id": file_id, "pattern": path.name, "format": fmt, "patient_id": "",
                    "missing_values": MISSING_CANDIDATES}  # fmt: skip
    if fmt in ("csv", "tsv", "json"):
        head = path.read_bytes()[: 1 << 20]
        encoding = "utf-8"
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # a cut multi-byte character at the end of the sample is still UTF-8
            encoding = "utf-8" if exc.start > len(head) - 4 else "latin-1"
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            encoding = "utf-16"
        kwargs["encoding"] = encoding
        text = head.decode(encoding, errors="replace")
        if fmt == "json":
            kwargs["records"] = _guess_records(text)
        else:
            if fmt == "tsv":
                kwargs["delimiter"] = "\t"
            else:
                try:
                    kwargs["delimiter"] = csv.Sniffer().sniff(text[:20000], delimiters=",;\t|").delimiter
                except csv.Error:
                    kwargs["delimiter"] = ","
            numbers_comma = len(re.findall(r"(?:^|[\t;|])-?\d+,\d+(?=[\t;|]|$)", text, re.M))
            numbers_dot = len(re.findall(r"(?:^|[\t;,|])-?\d+\.\d+(?=[\t;,|]|$)", text, re.M))
            if kwargs.get("delimiter") != "," and numbers_comma > numbers_dot:
                kwargs["decimal"] = ","
    return FileSpec(**kwargs)


def _guess_records(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return "[]"
    if isinstance(data, list):
        return "[]"
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, list):
                return f"{key}[]"
    return "[]"


def profile_file(path: Path, file_id: str, source_id: str = "draft") -> FileProfile:
    spec = sniff_spec(path, file_id)
    raw = read_file(spec, path, source_id)
    frame = raw.frame.head(SAMPLE_ROWS)
    original = read_file(FileSpec(**{**spec.__dict__, "missing_values": ()}), path, source_id).frame.head(
        SAMPLE_ROWS
    )
    used_tokens = sorted(
        {
            t
            for t in MISSING_CANDIDATES
            for c in original.columns
            if t and (as_text(original[c]).str.strip() == t).any()
        }
    )
    spec = FileSpec(**{**spec.__dict__, "missing_values": ("", *used_tokens)})
    columns = [_profile_column(name, frame[name], spec) for name in frame.columns]
    return FileProfile(path, spec, len(raw.frame), columns)


def _profile_column(name: str, col: pd.Series, spec: FileSpec) -> ColumnProfile:
    present = col.dropna()
    text = as_text(present).str.strip()
    distinct = int(text.nunique())
    profile = ColumnProfile(name, "empty", int(len(present)), distinct)
    if len(present):
        numbers, bad = to_double(present, spec.decimal)
        if not bad.any():
            whole = bool((numbers % 1 == 0).all())
            profile.kind = "flag" if set(text.unique()) <= {"0", "1"} else ("integer" if whole else "number")
        else:
            for fmt in DATE_FORMATS:
                _, bad_date = to_date(present, fmt)
                if bad_date.sum() <= max(1, 0.05 * len(present)):  # tolerate a defect or two
                    profile.kind, profile.date_format = "date", fmt
                    break
            else:
                profile.kind = "text"
    if 0 < distinct <= 20:
        profile.values = {str(k): int(v) for k, v in text.value_counts().sort_index().items()}
    profile.guess = guess_role(name, profile)
    if profile.kind == "text":
        sample = text.head(500)
        if sample.str.match(_EMAIL).mean() > 0.5:
            profile.identifier_reason = "values look like e-mail addresses"
        elif sample.str.match(_PHONE).mean() > 0.5:
            profile.identifier_reason = "values look like phone numbers"
    if profile.guess == "identifier":
        profile.identifier_reason = profile.identifier_reason or "name suggests a direct identifier"
    if profile.guess and profile.guess.startswith("linkage."):
        profile.identifier_reason = "identifier used for cross-source linkage, then dropped"
    return profile


def guess_role(name: str, profile: ColumnProfile) -> str | None:
    key = name.strip().casefold().replace(" ", "_").replace("-", "_")
    upper = name.strip().upper()
    base = re.sub(r"(_?(MUT|MUTATION|STATUS|FLAG))$", "", upper)
    if base in GENES and profile.kind in ("flag", "integer", "text"):
        return "mutation.wide"
    for pattern, role in NAME_GUESSES:
        if re.search(pattern, key):
            return role
    return None
