"""De-facto anonymisation of record-level marts (privacy.md promises 1, 3 and 4; issue 7).

For each published patient-level mart:

1. Quasi-identifiers (QIs) are declared per mart (`MART_CONFIGS`; default age, sex, country,
   diagnosis year, disease subtype). Each has a generalisation hierarchy (`HIERARCHIES`), level 0
   being the value as delivered (ages top-coded at 90):
     age      exact -> 5-year band -> 10-year band -> 20-year band -> suppressed
     year     exact -> 5-year period -> 10-year period -> suppressed
     country  ISO code -> UN M49 region -> suppressed
     sex      exact -> suppressed
     subtype  exact -> disease
2. The least generalisation is searched over the lattice of levels (as ARX does): the node with
   the smallest information loss (per QI, the share of its log-cardinality a level removes;
   weighted, age counts double) whose records in equivalence classes smaller than k fit the
   suppression budget (default 5% of records); those records are then suppressed (removed). k is
   `settings.min_cell` (11), so the maximum prosecutor risk is <= 1/11. Classes count distinct
   persons (a patient delivered by two sources is one person). The search runs on the distinct
   QI combinations with their counts, so it is cheap however many rows the mart has.
   Published QI columns keep their names and become text ("60-79", "2015-2019", "*").
3. Direct lineage keys (person_hash, patient_key, person_id, ...) and calendar dates (shifted
   but still quasi-identifying, and finer than the generalised diagnosis year) are dropped; a
   release-local row id (a salted permutation, unlinkable across releases) is added.
4. Perturbation: declared continuous quasi-identifying columns that stay published (height,
   weight, BMI, ages at later events) get additive uniform noise in [-a, +a] (amplitude per column
   in `DEFAULT_NOISE`, documented in the report). The noise of a person is derived from the secret
   person pseudonym, so it is stable across releases (averaging releases does not remove it) and
   unpredictable to analysts. Clinical measurements used by risk scores are never perturbed:
   risk scores are computed before, on full-fidelity data inside the secure zone, and a config
   naming such a column is refused (`PROTECTED_CLINICAL`).
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harmony_pipeline.canonical import LABS
from harmony_pipeline.privacy.pseudonym import TOP_CODE_AGE, top_code_age

SUPPRESSED = "*"
DEFAULT_K = 11
DEFAULT_SUPPRESSION_BUDGET = 0.05

# ---------------------------------------------------------------------------------------------
# Generalisation hierarchies
# ---------------------------------------------------------------------------------------------

# UN M49 geoscheme sub-regions (https://unstats.un.org/unsd/methodology/m49/), ISO 3166-1 alpha-2.
M49_REGIONS: dict[str, tuple[str, ...]] = {
    "Northern Europe": ("DK", "EE", "FI", "FO", "GB", "IE", "IM", "IS", "LT", "LV", "NO", "SE"),
    "Western Europe": ("AT", "BE", "CH", "DE", "FR", "LI", "LU", "MC", "NL"),
    "Southern Europe": ("AD", "AL", "BA", "ES", "GI", "GR", "HR", "IT", "ME", "MK", "MT", "PT", "RS", "SI", "SM", "VA", "XK"),
    "Eastern Europe": ("BG", "BY", "CZ", "HU", "MD", "PL", "RO", "RU", "SK", "UA"),
    "Western Asia": ("AE", "AM", "AZ", "CY", "GE", "IL", "IQ", "JO", "KW", "LB", "QA", "SA", "TR"),
    "Northern America": ("CA", "US"),
    "Latin America and the Caribbean": ("AR", "BR", "CL", "CO", "CU", "MX", "PE", "UY", "VE"),
    "Eastern Asia": ("CN", "HK", "JP", "KR", "TW"),
    "Australia and New Zealand": ("AU", "NZ"),
}  # fmt: skip
COUNTRY_TO_REGION = {country: region for region, countries in M49_REGIONS.items() for country in countries}
OTHER_REGION = "Other"


def _map_distinct(values: pd.Series, fn: Callable[[object], object]) -> pd.Series:
    """Apply fn once per distinct value (vectorised for a million rows); missing stays missing."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([fn(u) for u in uniques] + [pd.NA], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype="string")


def _age_label(age: float, level: int) -> str:
    age = int(age)
    if age >= TOP_CODE_AGE:
        return f"{TOP_CODE_AGE}+" if level < 3 else "80+"
    width = {0: 1, 1: 5, 2: 10, 3: 20}[level]
    if level == 3 and age >= 80:
        return "80+"
    low = age // width * width
    return str(low) if width == 1 else f"{low}-{low + width - 1}"


def generalise_age(values: pd.Series, level: int, context: pd.DataFrame | None = None) -> pd.Series:
    """Age in years (floored, top-coded at 90): exact, 5-, 10-, 20-year bands, suppressed."""
    if level >= 4:
        return pd.Series(SUPPRESSED, index=values.index, dtype="string")
    ages = np.floor(top_code_age(values).astype("float64"))
    return _map_distinct(ages.where(ages >= 0), lambda a: _age_label(a, level))


def _year_label(year: float, level: int) -> str:
    year = int(year)
    width = {0: 1, 1: 5, 2: 10}[level]
    low = year // width * width
    return str(low) if width == 1 else f"{low}-{low + width - 1}"


def generalise_year(values: pd.Series, level: int, context: pd.DataFrame | None = None) -> pd.Series:
    """Calendar year: exact, 5-year period, 10-year period, suppressed."""
    if level >= 3:
        return pd.Series(SUPPRESSED, index=values.index, dtype="string")
    years = pd.to_numeric(values, errors="coerce")
    return _map_distinct(years, lambda y: _year_label(y, level))


def generalise_country(values: pd.Series, level: int, context: pd.DataFrame | None = None) -> pd.Series:
    """ISO 3166-1 alpha-2 country: exact, UN M49 region, suppressed."""
    if level >= 2:
        return pd.Series(SUPPRESSED, index=values.index, dtype="string")
    if level == 0:
        return _map_distinct(values, lambda c: str(c).strip().upper())
    return _map_distinct(values, lambda c: COUNTRY_TO_REGION.get(str(c).strip().upper(), OTHER_REGION))


def generalise_sex(values: pd.Series, level: int, context: pd.DataFrame | None = None) -> pd.Series:
    """Sex: exact, suppressed."""
    if level >= 1:
        return pd.Series(SUPPRESSED, index=values.index, dtype="string")
    return values.astype("string")


def generalise_subtype(values: pd.Series, level: int, context: pd.DataFrame | None = None) -> pd.Series:
    """Disease subtype: exact, the disease (the row's `disease` column, else the mart's disease)."""
    if level == 0:
        return values.astype("string")
    if context is not None and "disease" in context.columns:
        return context["disease"].astype("string").reindex(values.index)
    disease = context.attrs.get("disease") if context is not None else None
    return pd.Series(disease or SUPPRESSED, index=values.index, dtype="string")


@dataclass(frozen=True)
class Hierarchy:
    name: str
    levels: tuple[str, ...]  # level names, index = level
    generalise: Callable[[pd.Series, int, pd.DataFrame | None], pd.Series]

    @property
    def max_level(self) -> int:
        return len(self.levels) - 1


HIERARCHIES: dict[str, Hierarchy] = {
    "age": Hierarchy("age", ("exact", "5-year band", "10-year band", "20-year band", "suppressed"), generalise_age),
    "year": Hierarchy("year", ("exact", "5-year period", "10-year period", "suppressed"), generalise_year),
    "country": Hierarchy("country", ("exact", "region", "suppressed"), generalise_country),
    "sex": Hierarchy("sex", ("exact", "suppressed"), generalise_sex),
    "subtype": Hierarchy("subtype", ("exact", "disease"), generalise_subtype),
}  # fmt: skip

# ---------------------------------------------------------------------------------------------
# Declarative per-mart configuration
# ---------------------------------------------------------------------------------------------

# issue 7 default quasi-identifiers: age band, sex, country, diagnosis year, disease subtype
DEFAULT_QUASI_IDENTIFIERS: tuple[tuple[str, str], ...] = (
    ("age_at_diagnosis", "age"),
    ("sex", "sex"),
    ("country", "country"),
    ("diagnosis_year", "year"),
    ("disease_subtype", "subtype"),
)

# Age enters every risk score and survival model, so the search keeps it finer at twice the cost;
# every other QI weighs 1.
DEFAULT_QI_WEIGHTS: dict[str, float] = {"age_at_diagnosis": 2.0}

# Lineage keys that link a published row back to the warehouse or a source: never published.
LINEAGE_KEYS = (
    "person_hash", "person_key", "patient_key", "person_id", "patient_id", "source_patient_id",
    "delivery_id", "file_name", "row_number",
)  # fmt: skip
ROW_ID = "row_id"

# Continuous quasi-identifiers that stay published get noise of this amplitude (+-, in their unit).
DEFAULT_NOISE: dict[str, float] = {"height_cm": 2.0, "weight_kg": 2.0, "bmi": 1.0}
AGE_NOISE_YEARS = 2.0  # other ages (at transplant, at relapse, ...) would undo the age band

# Clinical measurements that feed risk scores (ELN, IPSS-R, ISS/R-ISS, IPI, CLL-IPI, ...): no noise.
PROTECTED_CLINICAL = tuple(sorted(LABS)) + (
    "ecog",
    "stage",
    "karyotype",
    "blast",
    "risk",
    "score",
    "ipi",
    "iss",
)


def is_protected_clinical(column: str) -> bool:
    tokens = set(re.split(r"[^a-z0-9]+", column.lower()))
    return column.lower() in LABS or any(
        p in tokens or column.lower().startswith(p) for p in PROTECTED_CLINICAL
    )


@dataclass(frozen=True)
class MartConfig:
    quasi_identifiers: tuple[tuple[str, str], ...] = DEFAULT_QUASI_IDENTIFIERS
    disease: str | None = None  # what `disease_subtype` generalises to when there is no disease column
    suppression_budget: float = DEFAULT_SUPPRESSION_BUDGET
    noise: Mapping[str, float] | None = None  # column -> amplitude; None = the defaults present
    # relative importance of keeping a QI fine in the search (ARX's attribute weights)
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_QI_WEIGHTS))
    keep_dates: bool = False

    def validate(self) -> None:
        for column, hierarchy in self.quasi_identifiers:
            if hierarchy not in HIERARCHIES:
                raise ValueError(f"quasi-identifier {column!r}: unknown hierarchy {hierarchy!r}")
        qi_columns = {c for c, _ in self.quasi_identifiers}
        for column in self.noise or {}:
            if column in qi_columns:
                raise ValueError(
                    f"noise on {column!r} refused: it is a quasi-identifier, generalised instead"
                )
            if is_protected_clinical(column):
                raise ValueError(
                    f"noise on {column!r} refused: clinical measurements used by risk scores are never perturbed"
                )
        if not 0 <= self.suppression_budget < 1:
            raise ValueError(f"suppression budget {self.suppression_budget} must be in [0, 1)")


MART_CONFIGS: dict[str, MartConfig] = {
    "mart_aml": MartConfig(disease="AML"),
    "mart_apl": MartConfig(disease="APL"),
    "mart_all": MartConfig(disease="ALL"),
    "mart_cll": MartConfig(disease="CLL"),
    "mart_mds": MartConfig(disease="MDS"),
    "mart_mm": MartConfig(disease="MM"),
    "mart_nhl": MartConfig(disease="NHL"),
    "mart_paediatric": MartConfig(disease="paediatric"),
}


def is_record_level(columns: list[str]) -> bool:
    """A mart with a person key is patient-level; everything else is an aggregate."""
    return any(c in columns for c in ("person_hash", "person_key", "patient_key", "person_id"))


def config_for(table: str) -> MartConfig:
    return MART_CONFIGS.get(table, MartConfig())


# ---------------------------------------------------------------------------------------------
# Risk measures and the lattice search
# ---------------------------------------------------------------------------------------------


def class_sizes(frame: pd.DataFrame, qi_columns: list[str], person: pd.Series | None = None) -> pd.Series:
    """Size of each record's equivalence class (records sharing all QI values; NULL is a value).

    With `person`, the number of distinct persons in the class: a patient delivered by two sources
    has two rows in a mart, and two rows of one person protect nobody.
    """
    if person is not None:
        keyed = frame[qi_columns].assign(_person=person.to_numpy())
        if not qi_columns:
            return pd.Series(keyed["_person"].nunique(), index=frame.index, dtype="int64")
        grouped = keyed.groupby(qi_columns, dropna=False, sort=False)["_person"]
        return grouped.transform("nunique").astype("int64")
    if not qi_columns:
        return pd.Series(len(frame), index=frame.index, dtype="int64")
    return (
        frame.groupby(qi_columns, dropna=False, sort=False)[qi_columns[0]].transform("size").astype("int64")
    )


@dataclass(frozen=True)
class RiskProfile:
    records: int
    classes: int
    k: int | None  # smallest class; None for an empty table
    max_risk: float  # prosecutor risk of the most exposed record = 1/k
    avg_risk: float  # mean over records of 1/class size = classes/records
    records_at_risk: int  # records whose risk exceeds the threshold 1/min_k

    def as_dict(self) -> dict:
        return {
            "records": self.records,
            "equivalence_classes": self.classes,
            "k": self.k,
            "max_prosecutor_risk": round(self.max_risk, 6),
            "avg_prosecutor_risk": round(self.avg_risk, 6),
            "records_at_risk": self.records_at_risk,
        }


def risk_profile(frame: pd.DataFrame, qi_columns: list[str], min_k: int = DEFAULT_K) -> RiskProfile:
    if frame.empty:
        return RiskProfile(0, 0, None, 0.0, 0.0, 0)
    sizes = class_sizes(frame, qi_columns)
    k = int(sizes.min())
    return RiskProfile(
        records=len(frame),
        classes=int((1.0 / sizes).sum().round()),
        k=k,
        max_risk=1.0 / k,
        avg_risk=float((1.0 / sizes).mean()),
        records_at_risk=int((sizes < min_k).sum()),
    )


def generalise(
    frame: pd.DataFrame, quasi_identifiers: list[tuple[str, str]], levels: Mapping[str, int]
) -> pd.DataFrame:
    """A copy of frame with every QI column replaced by its generalisation at levels[column]."""
    out = frame.copy()
    for column, hierarchy in quasi_identifiers:
        out[column] = HIERARCHIES[hierarchy].generalise(frame[column], levels.get(column, 0), frame)
    return out


@dataclass(frozen=True)
class Node:
    levels: dict[str, int]
    loss: float  # mean information loss over the QIs (0 = as delivered, 1 = all suppressed)
    at_risk: int  # records in classes smaller than k at this node (to be suppressed)
    k: int | None  # smallest class before suppression


# Up to this many possible keys per lattice node, the classes are counted with one bin per possible key
# (a bincount over 4M bins is cheaper than hashing the keys); the classes are the same either way.
DIRECT_BINCOUNT_SPAN = 1 << 22


def evaluate_lattice(
    frame: pd.DataFrame,
    quasi_identifiers: list[tuple[str, str]],
    k: int,
    weights: Mapping[str, float] | None = None,
) -> tuple[list[Node], int]:
    """Every node of the generalisation lattice with the records it leaves below k.

    Works on the distinct QI combinations weighted by their counts: each node is a mixed-radix
    key over per-level integer codes, one hash factorize and one bincount.
    """
    columns = [c for c, _ in quasi_identifiers]
    context_columns = ["disease"] if "disease" in frame.columns and "disease" not in columns else []
    if columns + context_columns:
        distinct = (
            frame[columns + context_columns]
            .groupby(columns + context_columns, dropna=False, sort=True)
            .size()
        ).reset_index(name="_weight")
    else:  # no quasi-identifier: the whole table is one class
        distinct = pd.DataFrame({"_weight": [len(frame)] if len(frame) else []})
    distinct.attrs = frame.attrs
    counts = distinct["_weight"].to_numpy(dtype=np.int64)
    total = int(counts.sum())
    codes: dict[str, list[tuple[np.ndarray, int]]] = {}
    level_loss: dict[str, list[float]] = {}
    for column, hierarchy in quasi_identifiers:
        h = HIERARCHIES[hierarchy]
        per_level = []
        for level in range(h.max_level + 1):
            values = h.generalise(distinct[column], level, distinct)
            level_codes, uniques = pd.factorize(values, use_na_sentinel=False)
            per_level.append((level_codes.astype(np.int64), max(len(uniques), 1)))
        codes[column] = per_level
        # Information loss of a level: share of the QI's information (log of its number of distinct
        # values) that the level removes; 0 as delivered, 1 when suppressed. Data-driven, so a 5-year
        # period over 30 years costs less than suppressing sex.
        distinct_at_0 = per_level[0][1]
        # A constant column loses nothing by generalisation.
        level_loss[column] = [
            1.0 - np.log(n) / np.log(distinct_at_0) if distinct_at_0 > 1 else 0.0 for _, n in per_level
        ]
    qi_weights = [float((weights or {}).get(c, 1.0)) for c in columns]
    nodes = []
    ranges = [range(HIERARCHIES[h].max_level + 1) for _, h in quasi_identifiers]
    for combo in itertools.product(*ranges):
        key = np.zeros(len(distinct), dtype=np.int64)
        span = 1
        for (column, _), level in zip(quasi_identifiers, combo, strict=True):
            level_codes, cardinality = codes[column][level]
            if span * cardinality >= 2**62:  # re-code before the mixed-radix key could overflow
                key, uniques = pd.factorize(key)
                span = len(uniques)
            key = key * cardinality + level_codes
            span *= cardinality
        if span > DIRECT_BINCOUNT_SPAN:  # too many possible keys for one bin each: dense codes first
            key = pd.factorize(key)[0]  # hash-based dense codes: O(rows), no sort
        sizes = np.bincount(key, weights=counts)[key] if len(key) else np.array([])
        at_risk = int(counts[sizes < k].sum()) if len(key) else 0
        losses = [level_loss[c][lvl] for (c, _), lvl in zip(quasi_identifiers, combo, strict=True)]
        loss = float(np.average(losses, weights=qi_weights)) if losses else 0.0
        levels = {c: lvl for (c, _), lvl in zip(quasi_identifiers, combo, strict=True)}
        nodes.append(Node(levels, loss, at_risk, int(sizes.min()) if len(sizes) else None))
    return nodes, total


def search_generalisation(
    frame: pd.DataFrame,
    quasi_identifiers: list[tuple[str, str]],
    k: int,
    budget: float,
    weights: Mapping[str, float] | None = None,
) -> tuple[Node, bool]:
    """The least generalisation reaching k with at most budget*records suppressed.

    Least = smallest information loss (weighted mean over QIs of the log-cardinality lost), then fewest
    suppressed records, then lowest levels in QI order (deterministic). Returns (node, within_budget); when no node
    fits (fewer than k records in all), the most general node is returned and everything in a
    class below k is suppressed.
    """
    nodes, total = evaluate_lattice(frame, quasi_identifiers, k, weights)
    allowed = int(np.floor(budget * total + 1e-9))
    feasible = [n for n in nodes if n.at_risk <= allowed]
    if feasible:
        best = min(feasible, key=lambda n: (n.loss, n.at_risk, tuple(n.levels.values())))
        return best, True
    return max(nodes, key=lambda n: (n.loss, -n.at_risk)), False


# ---------------------------------------------------------------------------------------------
# Perturbation, lineage removal, release-local ids
# ---------------------------------------------------------------------------------------------


def _hash_key(label: str) -> str:
    """A 16-character siphash key for pandas.util.hash_pandas_object, derived from a label."""
    return hashlib.sha256(label.encode()).hexdigest()[:16]


def uniform_noise(person: pd.Series, column: str, amplitude: float) -> pd.Series:
    """Noise in [-amplitude, +amplitude], a function of the (secret) person pseudonym and column."""
    hashed = pd.util.hash_pandas_object(
        person.astype("string").fillna(""), index=False, hash_key=_hash_key(f"noise\x1f{column}")
    )
    unit = hashed.to_numpy(dtype=np.uint64).astype(np.float64) / 2.0**64  # [0, 1)
    return pd.Series((2.0 * unit - 1.0) * amplitude, index=person.index)


def noise_plan(frame: pd.DataFrame, config: MartConfig) -> dict[str, float]:
    """Columns to perturb and their amplitude: configured, else the defaults present."""
    if config.noise is not None:
        return {c: a for c, a in config.noise.items() if c in frame.columns}
    qi_columns = {c for c, _ in config.quasi_identifiers}
    plan = {c: a for c, a in DEFAULT_NOISE.items() if c in frame.columns}
    for column in frame.columns:
        if (
            column.startswith("age_")
            and column not in qi_columns
            and pd.api.types.is_numeric_dtype(frame[column])
            and not is_protected_clinical(column)
        ):
            plan[column] = AGE_NOISE_YEARS
    return plan


def perturbed(values: pd.Series, column: str, amplitude: float, person: pd.Series) -> pd.Series:
    """One column with its noise added, clipped and rounded to the precision of the noise."""
    values = pd.to_numeric(values, errors="coerce").astype("float64")
    if column.startswith("age_"):
        values = top_code_age(values)
    noisy = (values + uniform_noise(person, column, amplitude)).clip(lower=0)
    if column.startswith("age_"):
        noisy = noisy.clip(upper=TOP_CODE_AGE)
    # round to the precision of the noise so the digits beyond it carry no information
    return noisy.round(0 if amplitude >= 1 else 1)


def perturb(frame: pd.DataFrame, plan: Mapping[str, float], person: pd.Series) -> pd.DataFrame:
    out = frame.copy()
    for column, amplitude in plan.items():
        out[column] = perturbed(out[column], column, amplitude, person)
    return out


def release_row_ids(frame: pd.DataFrame) -> np.ndarray:
    """A permutation 1..n keyed by a salt taken from the whole input.

    The same input gives the same ids (deterministic); a changed input reshuffles them all, so
    ids cannot link rows across releases, and the order carries nothing of the source order.
    """
    try:
        row_hashes = pd.util.hash_pandas_object(frame, index=False)
    except TypeError:  # unhashable cells (DuckDB LIST/STRUCT columns arrive as arrays/dicts)
        frame = frame.astype(str)
        row_hashes = pd.util.hash_pandas_object(frame, index=False)
    salt = hashlib.sha256(np.sort(row_hashes.to_numpy(dtype=np.uint64)).tobytes()).hexdigest()[:16]
    keyed = pd.util.hash_pandas_object(frame, index=False, hash_key=salt).to_numpy(dtype=np.uint64)
    order = np.argsort(keyed, kind="stable")
    ids = np.empty(len(frame), dtype=np.int64)
    ids[order] = np.arange(1, len(frame) + 1)
    return ids


# ---------------------------------------------------------------------------------------------
# One mart
# ---------------------------------------------------------------------------------------------


def _holds_dates(values: pd.Series, rows: np.ndarray | None = None) -> bool:
    """Object columns of datetime.date values (pandas keeps those as object), judged on the first
    value present (among `rows`, a boolean mask, when given)."""
    if values.dtype != object:
        return False
    present = values.notna().to_numpy()
    if rows is not None:
        present &= rows
    first = np.flatnonzero(present)[:1]
    return len(first) > 0 and isinstance(values.iloc[first[0]], datetime.date)


@dataclass
class AnonymisedMart:
    table: str
    frame: pd.DataFrame
    report: dict = field(default_factory=dict)


def anonymise_mart(
    table: str,
    frame: pd.DataFrame,
    config: MartConfig | None = None,
    k: int = DEFAULT_K,
) -> AnonymisedMart:
    """Generalise, suppress, perturb and strip one patient-level mart; report what was done."""
    config = config or config_for(table)
    config.validate()
    qis = [(c, h) for c, h in config.quasi_identifiers if c in frame.columns]
    missing = [c for c, _ in config.quasi_identifiers if c not in frame.columns]
    qi_columns = [c for c, _ in qis]
    # a fresh RangeIndex without copying the rows when the frame has one already
    work = (
        frame.copy(deep=False)
        if frame.index.equals(pd.RangeIndex(len(frame)))
        else frame.reset_index(drop=True)
    )
    work.attrs = {"disease": config.disease}
    person_column = next((c for c in ("person_hash", "person_key", "patient_key") if c in work.columns), None)
    person = work[person_column] if person_column else pd.Series(work.index.astype(str), index=work.index)

    before = risk_profile(work, qi_columns, k)
    # search on one row per (person, QI values), so a person's second source row adds no protection;
    # the search reads the QIs and the disease (what a subtype generalises to) only
    context = ["disease"] if "disease" in work.columns and "disease" not in qi_columns else []
    distinct_people = work[qi_columns + context].assign(_person=person.to_numpy())
    distinct_people = distinct_people.drop_duplicates([*qi_columns, "_person"])
    distinct_people.attrs = work.attrs
    node, within_budget = search_generalisation(
        distinct_people, qis, k, config.suppression_budget, config.weights
    )
    # the released values of the columns that change: generalised QIs, then perturbed columns
    changed = {c: HIERARCHIES[h].generalise(work[c], node.levels.get(c, 0), work) for c, h in qis}
    keep = class_sizes(pd.DataFrame(changed), qi_columns, person) >= k
    suppressed = int((~keep).sum())
    noise = noise_plan(work, config)
    for column, amplitude in noise.items():
        changed[column] = perturbed(changed.get(column, work[column]), column, amplitude, person)
    ids = release_row_ids(work)
    kept = np.flatnonzero(keep.to_numpy())
    # released rows in row-id order; ids are renumbered 1..n after suppression, so gaps in the ids do
    # not reveal which rows were removed
    order = kept[np.argsort(ids[kept], kind="stable")]

    dropped = [c for c in work.columns if c in LINEAGE_KEYS]
    if not config.keep_dates:
        # judged on the released rows (the first of them holding a value), in their original order
        dropped += [
            c
            for c in work.columns
            if pd.api.types.is_datetime64_any_dtype(work[c]) or _holds_dates(work[c], keep.to_numpy())
        ]
    columns = [c for c in work.columns if c not in dropped and c != ROW_ID]
    released = work.iloc[order, [work.columns.get_loc(c) for c in columns if c not in changed]]
    released.index = pd.RangeIndex(len(released))
    for column in columns:
        if column in changed:
            released[column] = changed[column].array.take(order)
    released.insert(0, ROW_ID, np.arange(1, len(order) + 1, dtype=np.int64))
    released = released[[ROW_ID, *columns]]
    after = risk_profile(released, qi_columns, k)

    report = {
        "kind": "record-level",
        "quasi_identifiers": qi_columns,
        "missing_quasi_identifiers": missing,
        "generalisation": {
            c: {"hierarchy": h, "level": node.levels[c], "name": HIERARCHIES[h].levels[node.levels[c]]}
            for c, h in qis
        },
        "rows_in": len(work),
        "rows_out": len(released),
        "suppressed_records": suppressed,
        "suppressed_share": round(suppressed / len(work), 6) if len(work) else 0.0,
        "suppression_budget": config.suppression_budget,
        "qi_weights": {c: float(config.weights.get(c, 1.0)) for c in qi_columns},
        "within_budget": within_budget,
        "k_required": k,
        "k": after.k,
        "max_prosecutor_risk": round(after.max_risk, 6),
        "avg_prosecutor_risk": round(after.avg_risk, 6),
        "records_at_risk": after.records_at_risk,
        "before": before.as_dict(),
        "perturbed_columns": {c: {"noise": "uniform", "amplitude": a} for c, a in noise.items()},
        "dropped_columns": dropped,
        "row_id": ROW_ID,
    }
    return AnonymisedMart(table, released, report)
