"""ISCN karyotype parser: abnormalities, complexity and the cytogenetic risk categories.

Turns strings such as ``46,XY,del(5)(q13q33)[20]`` or ``45,XX,-7,t(3;3)(q21;q26)[15]/46,XX[5]`` into
the list of clonal abnormalities, their counts (complex, monosomal) and:

- the IPSS-R cytogenetic category and points (Schanz et al., JCO 2012; Greenberg et al., Blood 2012),
- the IPSS 1997 karyotype group (Greenberg et al., Blood 1997),
- the karyotype flags the ELN 2017/2022 genetic risk needs (Dohner et al., Blood 2017 and 2022).

Rules of counting (Schanz 2012): every distinct abnormality of every abnormal clone counts once, an
abnormality shared by related clones (``idem``/``sl``/``sdl``) counts once; constitutional changes
(suffix ``c``) and normal clones do not count. Monosomal karyotype after Breems et al., JCO 2008: two or
more autosomal monosomies, or one autosomal monosomy with at least one structural abnormality.

A string that cannot be read returns ``parsed=False`` and every category None: the marts then report
the category as not computable rather than guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

IPSSR_POINTS = {"very good": 0, "good": 1, "intermediate": 2, "poor": 3, "very poor": 4}

_CLONE_COUNT = re.compile(r"\[(?:cp)?(\d+)\]\s*$")
_NUMBER = re.compile(r"^(\d{2,3})(?:~(\d{2,3}))?(?:<\dn>)?$")
_SEX = re.compile(r"^[XY]{1,4}c?$|^X$")
_NUMERIC_ABN = re.compile(r"^([+-])(\d{1,2}|X|Y)(c?)$")
_MARKER = re.compile(r"^\+(\d*)mar(\d*)$|^\+?mar\d*$")
# structural: del(5)(q13q33), t(3;3)(q21;q26), inv(16)(p13.1q22), i(17)(q10), del(5q), add(17)(p11)...
_STRUCTURAL = re.compile(
    r"^([+]?)(del|dup|t|inv|ins|i|idic|dic|der|add|r|hsr|trp|qdp|tas|rob|fra)\(([^)]*)\)(?:\(([^)]*)\))?(c?)$"
)


@dataclass
class Karyotype:
    """The reading of one ISCN string."""

    text: str
    parsed: bool
    normal: bool = False
    abnormalities: list[str] = field(default_factory=list)  # canonical, sorted, distinct
    n_abnormalities: int = 0
    n_autosomal_monosomies: int = 0
    n_structural: int = 0
    n_trisomies: int = 0
    complex: bool = False  # >= 3 abnormalities (IPSS-R, IPSS)
    monosomal: bool = False
    ipssr_category: str | None = None
    ipssr_points: int | None = None
    ipss_karyotype: str | None = None  # good / intermediate / poor (IPSS 1997)
    # ELN flags
    t_8_21: bool = False
    inv16: bool = False
    t_15_17: bool = False
    t_9_11: bool = False
    t_6_9: bool = False
    kmt2a_rearranged: bool = False  # t(v;11q23.3) other than t(9;11)
    t_9_22: bool = False
    t_8_16: bool = False
    inv3_t33: bool = False
    mecom_rearranged: bool = False  # t(3q26.2;v) other than inv(3)/t(3;3)
    minus5_del5q: bool = False
    minus7: bool = False
    del7q: bool = False
    abn17p: bool = False
    eln_complex: bool = False  # >= 3 unrelated, not hyperdiploid with >= 3 trisomies only

    def as_row(self) -> dict:
        row = asdict(self)
        row["abnormalities"] = ";".join(self.abnormalities)
        return row


def _split_clones(text: str) -> list[tuple[list[str], int | None]]:
    clones = []
    for raw in text.split("/"):
        raw = raw.strip()
        match = _CLONE_COUNT.search(raw)
        cells = int(match.group(1)) if match else None
        body = _CLONE_COUNT.sub("", raw).strip().rstrip(",")
        clones.append(([p.strip() for p in body.split(",") if p.strip()], cells))
    return clones


def _arms(breakpoints: str | None) -> list[str]:
    """Arms named in a breakpoint group: 'q21;q26' -> ['q', 'q'], 'p13.1q22' -> ['p', 'q']."""
    if not breakpoints:
        return []
    return [bp.strip()[:1] for bp in breakpoints.split(";") if bp.strip()]


def _bands(breakpoints: str | None) -> list[str]:
    if not breakpoints:
        return []
    return [bp.strip() for bp in breakpoints.split(";")]


def _canonical_structural(kind: str, chroms: str, breaks: str | None) -> str:
    """Canonical short form: del(5)(q13q33) -> del(5q); i(17)(q10) -> i(17q); t(3;3)(q21;q26) kept."""
    if kind in ("del", "add", "dup", "i") and ";" not in chroms:
        if re.fullmatch(r"\d{1,2}|X|Y", chroms) and breaks:
            return f"{kind}({chroms}{breaks.strip()[:1]})"
        return f"{kind}({chroms})"
    return f"{kind}({chroms})" + (f"({breaks})" if breaks else "")


def parse_karyotype(text: str | None) -> Karyotype:
    """Parse one ISCN string; never raises."""
    if text is None or not str(text).strip():
        return Karyotype(text=text or "", parsed=False)
    text = str(text).strip().replace(" ", "")
    abnormalities: dict[str, str] = {}  # canonical -> kind: 'mono', 'tri', 'sex_loss', 'structural', 'marker'
    any_clone = False
    previous: list[str] = []
    stemline: list[str] = []
    try:
        for parts, _cells in _split_clones(text):
            if not parts:
                continue
            if not _NUMBER.match(parts[0]):
                return Karyotype(text=text, parsed=False)
            any_clone = True
            rest = parts[1:]
            # related clones inherit the abnormalities of the stemline (sl/idem) or previous clone (sdl)
            clone_abn: list[str] = []
            for item in rest:
                if item in ("idem", "sl"):
                    clone_abn.extend(stemline)
                    continue
                if re.fullmatch(r"sdl\d*", item):
                    clone_abn.extend(previous)
                    continue
                if _SEX.match(item) and item == rest[0]:
                    continue  # sex chromosome complement
                clone_abn.append(item)
            for item in clone_abn:
                canon, kind = _classify(item)
                if canon is None:
                    return Karyotype(text=text, parsed=False)
                if kind == "constitutional":
                    continue
                abnormalities.setdefault(canon, kind)
            if not stemline and clone_abn:
                stemline = clone_abn
            previous = clone_abn
    except (ValueError, IndexError):
        return Karyotype(text=text, parsed=False)
    if not any_clone:
        return Karyotype(text=text, parsed=False)
    return _categorise(text, abnormalities)


def _classify(item: str) -> tuple[str | None, str]:
    """Canonical name and kind of one abnormality token, or (None, '') when unreadable."""
    item = item.strip()
    if item.endswith("c") and not item.endswith(")c") and _NUMERIC_ABN.match(item):
        return item, "constitutional"
    if item.endswith(")c"):
        return item, "constitutional"
    m = _NUMERIC_ABN.match(item)
    if m:
        sign, chrom, constitutional = m.groups()
        if constitutional:
            return item, "constitutional"
        if chrom in ("X", "Y"):
            return f"{sign}{chrom}", "sex_loss" if sign == "-" else "sex_gain"
        return f"{sign}{int(chrom)}", "mono" if sign == "-" else "tri"
    if _MARKER.match(item):
        return item.lstrip("+"), "marker"
    if item in ("dmin", "+dmin") or re.fullmatch(r"\+?\d*dmin", item):
        return "dmin", "structural"
    m = _STRUCTURAL.match(item)
    if m:
        _plus, kind, chroms, breaks, constitutional = m.groups()
        if constitutional:
            return item, "constitutional"
        # short forms such as del(5q), del(20q), i(17q): arm inside the first brackets
        short = re.fullmatch(r"(\d{1,2}|X|Y)([pq])", chroms)
        if short and not breaks:
            return f"{kind}({short.group(1)}{short.group(2)})", "structural"
        return _canonical_structural(kind, chroms, breaks), "structural"
    return None, ""


def _has(abn: Iterable[str], pattern: str) -> bool:
    return any(re.fullmatch(pattern, a) for a in abn)


def _categorise(text: str, abnormalities: dict[str, str]) -> Karyotype:
    names = sorted(abnormalities)
    n = len(names)
    kinds = abnormalities
    k = Karyotype(text=text, parsed=True, abnormalities=names, n_abnormalities=n, normal=n == 0)
    k.n_autosomal_monosomies = sum(1 for a in names if kinds[a] == "mono")
    k.n_structural = sum(1 for a in names if kinds[a] in ("structural", "marker"))
    k.n_trisomies = sum(1 for a in names if kinds[a] in ("tri", "sex_gain"))
    k.complex = n >= 3
    # Breems 2008: >= 2 autosomal monosomies, or 1 autosomal monosomy plus >= 1 structural abnormality
    k.monosomal = k.n_autosomal_monosomies >= 2 or (k.n_autosomal_monosomies == 1 and k.n_structural >= 1)

    def involves(chrom_arm: str) -> bool:
        """A translocation/insertion/inversion with a breakpoint on e.g. '3q' or '11q23'."""
        for a in names:
            m = re.fullmatch(r"(t|ins|inv|der|dic)\(([^)]*)\)(?:\(([^)]*)\))?", a)
            if not m:
                continue
            chroms = m.group(2).split(";")
            bands = _bands(m.group(3))
            if m.group(1) == "inv" and bands and len(chroms) == 1:
                # inv(3)(q21q26): both breakpoints on one chromosome
                parts = re.findall(r"[pq][\d.]*", bands[0])
                bands = parts
                chroms = chroms * len(parts)
            for chrom, band in zip(chroms, bands, strict=False):
                if (chrom + band).startswith(chrom_arm):
                    return True
        return False

    # ELN flags (Dohner 2022, table 4)
    k.t_8_21 = _has(names, r"t\(8;21\).*")
    k.inv16 = _has(names, r"inv\(16\).*|t\(16;16\).*")
    k.t_15_17 = _has(names, r"t\(15;17\).*")
    k.t_9_11 = _has(names, r"t\(9;11\).*")
    k.t_6_9 = _has(names, r"t\(6;9\).*")
    k.t_9_22 = _has(names, r"t\(9;22\).*")
    k.t_8_16 = _has(names, r"t\(8;16\).*")
    k.inv3_t33 = _has(names, r"inv\(3\).*|t\(3;3\).*")
    k.kmt2a_rearranged = involves("11q23") and not k.t_9_11
    k.mecom_rearranged = involves("3q26") and not k.inv3_t33
    k.minus5_del5q = "-5" in kinds or _has(names, r"del\(5q\)")
    k.minus7 = "-7" in kinds
    k.del7q = _has(names, r"del\(7q\)")
    k.abn17p = "-17" in kinds or _has(names, r"(del|add)\(17p\)|i\(17q\)")
    hyperdiploid_trisomies_only = k.n_trisomies >= 3 and k.n_structural == 0 and k.n_autosomal_monosomies == 0
    k.eln_complex = n >= 3 and not hyperdiploid_trisomies_only

    # IPSS-R cytogenetic category (Schanz 2012, table 3)
    chr7 = k.minus7 or k.del7q
    chr3q = k.inv3_t33 or _has(names, r"del\(3q\)") or involves("3q")
    if n == 0:
        cat = "good"
    elif n == 1:
        a = names[0]
        if a in ("-Y", "del(11q)"):
            cat = "very good"
        elif a in ("del(5q)", "del(12p)", "del(20q)"):
            cat = "good"
        elif a == "-7" or chr3q:
            cat = "poor"
        else:  # del(7q), +8, +19, i(17q), any other single
            cat = "intermediate"
    elif n == 2:
        if chr7:
            cat = "poor"
        elif "del(5q)" in names:
            cat = "good"
        else:
            cat = "intermediate"
    elif n == 3:
        cat = "poor"
    else:
        cat = "very poor"
    k.ipssr_category = cat
    k.ipssr_points = IPSSR_POINTS[cat]

    # IPSS 1997: good = normal, -Y, del(5q), del(20q) alone; poor = complex (>= 3) or chromosome 7
    if n == 0 or (n == 1 and names[0] in ("-Y", "del(5q)", "del(20q)")):
        k.ipss_karyotype = "good"
    elif n >= 3 or chr7 or _has(names, r".*\(7[pq]?\).*|[+-]7"):
        k.ipss_karyotype = "poor"
    else:
        k.ipss_karyotype = "intermediate"
    return k


def parse_many(texts: Iterable[str | None]) -> list[dict]:
    """Rows for a DataFrame: one per distinct input string (parse each distinct string once)."""
    return [parse_karyotype(t).as_row() for t in dict.fromkeys(texts)]
