"""Survival and co-mutation statistics for the aggregate marts, and Kaplan-Meier plots.

The statistics come from well-kept libraries, not from hand-written formulas: lifelines for
Kaplan-Meier estimates (Greenwood variance, log(-log) 95% confidence interval), median survival with its
interval and the log-rank test; scipy for Fisher's exact test; statsmodels for Benjamini-Hochberg q-values.

The dbt Python models in dbt_project/models/marts/aggregates/ call these functions on the patient-level
marts; `write_km_plots` is called by the pipeline (a Dagster asset) after the marts are built.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

# For every disease mart: the risk classifications (label, group column) and the endpoints
# (name, time column in months, event column) its Kaplan-Meier mart is built on.
KM_SPECS: dict[str, dict] = {
    "aml": {
        "groups": [("ELN 2022", "eln2022_group"), ("ELN 2017", "eln2017_group")],
        "endpoints": [("OS", "os_months", "os_event"), ("EFS", "efs_months", "efs_event")],
    },
    "apl": {
        "groups": [("Sanz", "sanz_group")],
        "endpoints": [("OS", "os_months", "os_event"), ("EFS", "efs_months", "efs_event")],
    },
    "all": {
        "groups": [("NCI", "nci_group")],
        "endpoints": [("OS", "os_months", "os_event"), ("EFS", "efs_months", "efs_event")],
    },
    "cll": {
        "groups": [("CLL-IPI", "cll_ipi_group")],
        "endpoints": [("OS", "os_months", "os_event"), ("PFS", "pfs_months", "pfs_event")],
    },
    "mds": {
        "groups": [
            ("IPSS-R", "ipssr_group"),
            ("IPSS-RA", "ipssra_group"),
            ("IPSS-M", "ipssm_group"),
            ("IPSS", "ipss_group"),
        ],
        "endpoints": [("OS", "os_months", "os_event"), ("LFS", "lfs_months", "lfs_event")],
    },
    "mm": {
        "groups": [("ISS", "iss_stage"), ("R-ISS", "riss_stage"), ("R2-ISS", "r2iss_stage")],
        "endpoints": [("OS", "os_months", "os_event"), ("PFS", "pfs_months", "pfs_event")],
    },
    "nhl": {
        "groups": [("IPI", "ipi_group"), ("NCCN-IPI", "nccn_ipi_group"), ("FLIPI", "flipi_group")],
        "endpoints": [("OS", "os_months", "os_event"), ("PFS", "pfs_months", "pfs_event")],
    },
}

KM_COLUMNS = {
    "endpoint": "string",
    "classification": "string",
    "risk_group": "string",
    "time_months": "float64",
    "n_at_risk": "Int64",
    "n_events": "Int64",
    "n_censored": "Int64",
    "survival": "float64",
    "ci_lower": "float64",
    "ci_upper": "float64",
    "n_patients": "Int64",
    "n_events_total": "Int64",
    "median_months": "float64",
    "median_ci_lower": "float64",
    "median_ci_upper": "float64",
    "survival_60m": "float64",
    "logrank_p": "float64",
}


def _finite(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _nan_if_none(value: float | None) -> float:
    return np.nan if value is None else value


def _fit(time: pd.Series, event: pd.Series, label: str):
    from lifelines import KaplanMeierFitter

    kmf = KaplanMeierFitter()
    kmf.fit(time.to_numpy(dtype=float), event_observed=event.to_numpy(dtype=int), label=label)
    return kmf


def _median_ci(kmf) -> tuple[float | None, float | None]:
    from lifelines.utils import median_survival_times

    ci = median_survival_times(kmf.confidence_interval_)
    return _finite(ci.iloc[0, 0]), _finite(ci.iloc[0, 1])


def logrank_p(time: pd.Series, event: pd.Series, group: pd.Series) -> float | None:
    """Log-rank p across all groups (None with fewer than two groups)."""
    from lifelines.statistics import multivariate_logrank_test

    if group.nunique() < 2:
        return None
    return float(
        multivariate_logrank_test(time.to_numpy(float), group.to_numpy(), event.to_numpy(int)).p_value
    )


def km_table(frame: pd.DataFrame, time_col: str, event_col: str, group_col: str) -> pd.DataFrame:
    """Kaplan-Meier estimate per group: one row per distinct time (time 0 included), with the group's
    size, events, median survival and its 95% interval, survival at 60 months (None when follow-up is
    shorter) and the log-rank p across groups (the same on every row of one classification)."""
    data = frame[[time_col, event_col, group_col]].dropna()
    data = data[data[time_col] >= 0]
    rows = []
    p_value = logrank_p(data[time_col], data[event_col], data[group_col]) if len(data) else None
    for group, part in sorted(data.groupby(group_col), key=lambda item: str(item[0])):
        kmf = _fit(part[time_col], part[event_col], str(group))
        table = kmf.event_table  # one row per distinct time, time 0 included, as the estimate below
        ci = kmf.confidence_interval_.to_numpy(dtype=float)
        median_low, median_high = _median_ci(kmf)
        follow_up = float(part[time_col].max())
        at_60 = float(kmf.predict(60.0)) if follow_up >= 60 else None
        rows.append(
            pd.DataFrame(
                {
                    "risk_group": str(group),
                    "time_months": table.index.to_numpy(dtype=float),
                    "n_at_risk": table["at_risk"].to_numpy(dtype=int),
                    "n_events": table["observed"].to_numpy(dtype=int),
                    "n_censored": table["censored"].to_numpy(dtype=int),
                    "survival": kmf.survival_function_.iloc[:, 0].to_numpy(dtype=float),
                    "ci_lower": np.where(np.isfinite(ci[:, 0]), ci[:, 0], np.nan),
                    "ci_upper": np.where(np.isfinite(ci[:, 1]), ci[:, 1], np.nan),
                    "n_patients": len(part),
                    "n_events_total": int(part[event_col].sum()),
                    # constants of the group (None as NaN, so every part has float columns)
                    "median_months": _nan_if_none(_finite(kmf.median_survival_time_)),
                    "median_ci_lower": _nan_if_none(median_low),
                    "median_ci_upper": _nan_if_none(median_high),
                    "survival_60m": _nan_if_none(at_60),
                    "logrank_p": _nan_if_none(p_value),
                }
            )
        )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


MM_PFS_COLUMNS = ("riss_stage", "first_line_class", "pfs_months", "pfs_event")
ALL_AGE_COLUMNS = ("age_at_diagnosis", "is_b_all", "wbc", "achieved_cr", "early_death_30d")
ALL_AGE_COLUMNS += ("os_months", "os_event", "efs_months", "efs_event")


def km_columns(disease: str) -> tuple[str, ...]:
    spec = KM_SPECS[disease]
    return tuple(
        dict.fromkeys([*(c for e in spec["endpoints"] for c in e[1:]), *(g for _, g in spec["groups"])])
    )


def index_records(mart, columns: tuple[str, ...]) -> pd.DataFrame:
    """The index records of a mart relation (DuckDB, as dbt python models get it) with only `columns`:
    selected in the database, so a million-row mart never comes into pandas whole."""
    projection = ", ".join(f'"{c}"' for c in (*columns, "is_index_record"))
    # in a fixed row order: floating-point sums depend on it, and a table's row order is not fixed
    return mart.filter("is_index_record").project(projection).order(projection).df()


def changed_diseases(changed, is_incremental: bool, diseases: list[str] | None = None) -> list[str] | None:
    """The diseases (of `diseases`) an aggregate model computes in this build: all of them when it is built
    from scratch, else only those with a changed patient (`changed`: the int_changed_diseases relation,
    a handful of rows). The rows of the others are kept as they are (macros/marts_incremental.sql).
    `diseases` None: every disease (None when built from scratch)."""
    if not is_incremental:
        return diseases
    names = sorted(row[0] for row in changed.fetchall())
    return names if diseases is None else [d for d in diseases if d in names]


def per_disease(changed, is_incremental: bool, disease: str, mart, columns: tuple[str, ...], compute):
    """An aggregate model of one disease: `compute` on the index records of `mart` (only `columns`) when
    the disease has a changed patient or the model is built from scratch; otherwise `compute` on an empty
    mart (no rows, the right columns), without reading the mart, and the build keeps the previous rows."""
    if changed_diseases(changed, is_incremental, [disease]):
        return compute(index_records(mart, columns))
    return compute(pd.DataFrame(columns=[*columns, "is_index_record"]))


def one_record_per_person(mart: pd.DataFrame) -> pd.DataFrame:
    """The mart's index records (outcomes.patient_disease.is_index_record): a person reported by two
    sources is counted once in survival statistics."""
    if "is_index_record" not in mart.columns:
        return mart
    return mart[mart["is_index_record"].fillna(False).astype(bool)]


def _typed(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    frame = frame.reindex(columns=list(columns))
    return frame.astype(columns)


def km_for_mart(mart: pd.DataFrame, disease: str) -> pd.DataFrame:
    """The Kaplan-Meier mart of one disease: every endpoint x classification of KM_SPECS[disease]."""
    spec = KM_SPECS[disease]
    mart = one_record_per_person(mart)
    parts = []
    for endpoint, time_col, event_col in spec["endpoints"]:
        for label, group_col in spec["groups"]:
            table = km_table(mart, time_col, event_col, group_col)
            if len(table):
                table.insert(0, "classification", label)
                table.insert(0, "endpoint", endpoint)
                parts.append(table)
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return _typed(frame, KM_COLUMNS)


SUMMARY_COLUMNS = {
    "n_patients": "Int64",
    "n_events": "Int64",
    "median_months": "float64",
    "median_ci_lower": "float64",
    "median_ci_upper": "float64",
    "survival_36m": "float64",
    "survival_60m": "float64",
}


def survival_summary(time: pd.Series, event: pd.Series) -> dict:
    """Size, events, median with 95% CI and survival at 3 and 5 years of one group."""
    keep = time.notna() & event.notna() & (time >= 0)
    time, event = time[keep], event[keep]
    if not len(time):
        return {"n_patients": 0, "n_events": 0}
    kmf = _fit(time, event, "group")
    low, high = _median_ci(kmf)
    follow_up = float(time.max())
    return {
        "n_patients": len(time),
        "n_events": int(event.sum()),
        "median_months": _finite(kmf.median_survival_time_),
        "median_ci_lower": low,
        "median_ci_upper": high,
        "survival_36m": float(kmf.predict(36.0)) if follow_up >= 36 else None,
        "survival_60m": float(kmf.predict(60.0)) if follow_up >= 60 else None,
    }


def mm_pfs_by_treatment(mart: pd.DataFrame) -> pd.DataFrame:
    """PFS by first-line treatment class within each R-ISS stage: one row per (stage, class) with size,
    events, median PFS and 95% CI, 3- and 5-year PFS, and the log-rank p across classes within the stage."""
    columns = {"riss_stage": "string", "treatment_class": "string", **SUMMARY_COLUMNS, "logrank_p": "float64"}
    data = one_record_per_person(mart).dropna(
        subset=["riss_stage", "first_line_class", "pfs_months", "pfs_event"]
    )
    rows = []
    for stage, within in sorted(data.groupby("riss_stage"), key=lambda item: str(item[0])):
        p_value = logrank_p(within["pfs_months"], within["pfs_event"], within["first_line_class"])
        for treatment_class, part in sorted(
            within.groupby("first_line_class"), key=lambda item: str(item[0])
        ):
            summary = survival_summary(part["pfs_months"], part["pfs_event"])
            rows.append(
                {"riss_stage": stage, "treatment_class": treatment_class, **summary, "logrank_p": p_value}
            )
    return _typed(pd.DataFrame(rows), columns)


def all_paediatric_vs_adult(mart: pd.DataFrame) -> pd.DataFrame:
    """Paediatric (< 18 years) and adult ALL compared on the variables both kinds of sources deliver:
    one row per age group with size, age, B-lineage share, WBC, CR rate, early death, OS and EFS
    (median, 95% CI, 5-year) and the log-rank p of OS and EFS between the two groups."""
    columns = {
        "age_group": "string",
        "n_patients": "Int64",
        "median_age": "float64",
        "share_b_lineage": "float64",
        "median_wbc": "float64",
        "cr_rate": "float64",
        "early_death_30d_rate": "float64",
    }
    for endpoint in ("os", "efs"):
        columns |= {f"{endpoint}_{k}": v for k, v in SUMMARY_COLUMNS.items() if k != "n_patients"}
        columns[f"{endpoint}_logrank_p"] = "float64"
    data = one_record_per_person(mart).dropna(subset=["age_at_diagnosis"]).copy()
    data["age_group"] = np.where(data["age_at_diagnosis"] < 18, "paediatric", "adult")
    p_values = {}
    for endpoint in ("os", "efs"):
        known = data.dropna(subset=[f"{endpoint}_months", f"{endpoint}_event"])
        p_values[endpoint] = logrank_p(
            known[f"{endpoint}_months"], known[f"{endpoint}_event"], known["age_group"]
        )
    rows = []
    for group in ("paediatric", "adult"):
        part = data[data["age_group"] == group]
        if not len(part):
            continue
        row = {
            "age_group": group,
            "n_patients": len(part),
            "median_age": float(part["age_at_diagnosis"].median()),
            "share_b_lineage": _mean_bool(part["is_b_all"]),
            "median_wbc": _finite(part["wbc"].median()) if part["wbc"].notna().any() else None,
            "cr_rate": _mean_bool(part["achieved_cr"]),
            "early_death_30d_rate": _mean_bool(part["early_death_30d"]),
        }
        for endpoint in ("os", "efs"):
            summary = survival_summary(part[f"{endpoint}_months"], part[f"{endpoint}_event"])
            summary.pop("n_patients")
            row |= {f"{endpoint}_{k}": v for k, v in summary.items()}
            row[f"{endpoint}_logrank_p"] = p_values[endpoint]
        rows.append(row)
    return _typed(pd.DataFrame(rows), columns)


def _mean_bool(values: pd.Series) -> float | None:
    values = values.dropna()
    return float(values.astype(bool).mean()) if len(values) else None


COMUTATION_COLUMNS = {
    "disease": "string",
    "gene_a": "string",
    "gene_b": "string",
    "n_tested_both": "Int64",
    "n_both_mutated": "Int64",
    "n_a_only": "Int64",
    "n_b_only": "Int64",
    "n_neither": "Int64",
    "odds_ratio": "float64",
    "log2_odds_ratio": "float64",
    "fisher_p": "float64",
    "q_value": "float64",
}


def comutation_status(mutations) -> pd.DataFrame:
    """One row per (disease, patient, gene) with whether any test found the gene mutated, from the
    comutation_input relation (DuckDB). Aggregated in the database and handed over compactly (patients
    as integer codes, disease and gene as categories): at a million patients the input has 8M rows."""
    # each patient numbered once, over the distinct patients (a rank over all 8M rows sorted every row:
    # 1M patients, 2.4 s instead of 4.1 s)
    status = mutations.query(
        "mutations",
        """
        with status as (
            select disease, patient, gene, bool_or(mutated) as mutated
            from mutations
            where disease is not null and patient is not null and gene is not null and mutated is not null
            group by all
        ),

        patients as (
            select disease, patient, row_number() over (partition by disease order by patient)::integer as code
            from (select distinct disease, patient from status)
        )

        select status.disease, patients.code as patient, status.gene, status.mutated
        from status
        inner join patients using (disease, patient)
        """,
    ).to_arrow_table()
    for name in ("disease", "gene"):
        index = status.schema.get_field_index(name)
        status = status.set_column(index, name, status.column(name).dictionary_encode())
    frame = status.to_pandas()
    # categories sorted, not in row order: the order of the gene pairs (and so their floats) must not vary
    for name in ("disease", "gene"):
        frame[name] = frame[name].cat.reorder_categories(sorted(frame[name].cat.categories))
    return frame


def comutation(mutations: pd.DataFrame) -> pd.DataFrame:
    """Gene-gene co-mutation per disease from (disease, patient, gene, mutated) rows.

    For every pair of genes mutated in at least one patient, the 2x2 table over the patients tested for
    both genes, the odds ratio (Haldane-Anscombe: 0.5 added to every cell, so it stays finite), Fisher's
    exact two-sided p and the Benjamini-Hochberg q-value over all pairs of that disease.
    """
    from scipy.stats import fisher_exact
    from statsmodels.stats.multitest import multipletests

    rows = []
    data = mutations.dropna(subset=["disease", "patient", "gene", "mutated"])
    for disease, part in sorted(data.groupby("disease", observed=True), key=lambda item: str(item[0])):
        # patients x genes: tested (a row) and mutated (a row says mutated), set straight from the codes
        # (no pivot); genes in sorted order (categories of comutation_status are sorted)
        patient = pd.factorize(part["patient"])[0]
        gene, genes = pd.factorize(part["gene"], sort=True)
        genes = [str(g) for g in genes]
        tested = np.zeros((patient.max() + 1, len(genes)))
        mutated = np.zeros_like(tested)
        tested[patient, gene] = 1.0
        hit = part["mutated"].to_numpy(dtype=bool)
        mutated[patient[hit], gene[hit]] = 1.0
        # pair counts by matrix products: patients x genes -> genes x genes (floating point, so BLAS does
        # them: exact, as every sum is an integer far below 2**53)
        both_tested = (tested.T @ tested).astype(np.int64)
        both_mutated = (mutated.T @ mutated).astype(np.int64)
        a_mut_tested = (mutated.T @ tested).astype(np.int64)  # [i, j]: i mutated and j tested
        n_mutated = np.diag(both_mutated)
        disease_rows = []
        for i, j in itertools.combinations(range(len(genes)), 2):
            if n_mutated[i] == 0 or n_mutated[j] == 0 or both_tested[i, j] == 0:
                continue
            n11 = int(both_mutated[i, j])
            n10 = int(a_mut_tested[i, j]) - n11
            n01 = int(a_mut_tested[j, i]) - n11
            n00 = int(both_tested[i, j]) - n11 - n10 - n01
            odds = (n11 + 0.5) * (n00 + 0.5) / ((n10 + 0.5) * (n01 + 0.5))
            p_value = float(fisher_exact([[n11, n10], [n01, n00]]).pvalue)
            a, b = sorted((str(genes[i]), str(genes[j])))
            disease_rows.append(
                {
                    "disease": disease,
                    "gene_a": a,
                    "gene_b": b,
                    "n_tested_both": int(both_tested[i, j]),
                    "n_both_mutated": n11,
                    "n_a_only": n10 if a == genes[i] else n01,
                    "n_b_only": n01 if a == genes[i] else n10,
                    "n_neither": n00,
                    "odds_ratio": odds,
                    "log2_odds_ratio": float(np.log2(odds)),
                    "fisher_p": p_value,
                }
            )
        if disease_rows:
            q_values = multipletests([r["fisher_p"] for r in disease_rows], method="fdr_bh")[1]
            for row, q in zip(disease_rows, q_values, strict=True):
                row["q_value"] = float(q)
            rows.extend(disease_rows)
    frame = pd.DataFrame(rows)
    if len(frame):
        frame = frame.sort_values(["disease", "gene_a", "gene_b"], ignore_index=True)
    return _typed(frame, COMUTATION_COLUMNS)


PLOT_RESOLUTION_MONTHS = 0.25


def write_km_plots(
    warehouse: str | Path, out_dir: str | Path | None = None, diseases: list[str] | None = None
) -> list[Path]:
    """Kaplan-Meier plots (PNG), one per disease x classification x endpoint, drawn from the km_* marts
    (the estimates analysts get, not a second fit). Written to `out_dir` (default
    $HARMONY_HOME/reports/km/); returns the paths. `diseases`: only those (default all)."""
    import duckdb
    import matplotlib

    from harmony_pipeline.settings import get_settings

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if out_dir is None:
        out_dir = get_settings().reports / "km"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    with duckdb.connect(str(warehouse), read_only=True, config=get_settings().duckdb_config()) as con:
        existing = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
        }
        for disease, spec in KM_SPECS.items():
            if f"km_{disease}" not in existing or (diseases is not None and disease not in diseases):
                continue
            km = con.execute(f"select * from marts.km_{disease} order by all").df()
            for endpoint, _, _ in spec["endpoints"]:
                for label, _ in spec["groups"]:
                    curves = km[(km["endpoint"] == endpoint) & (km["classification"] == label)]
                    if curves.empty:
                        continue
                    fig, ax = plt.subplots(figsize=(7, 4.5))
                    fig.subplots_adjust(left=0.1, right=0.97, top=0.92, bottom=0.12)  # fixed: no layout pass
                    for group, curve in curves.groupby("risk_group", sort=True):
                        # a 7-inch plot cannot show steps closer than a pixel: keep the last estimate
                        # of each PLOT_RESOLUTION_MONTHS (thousands of steps at a million patients)
                        bucket = np.floor(curve["time_months"].to_numpy() / PLOT_RESOLUTION_MONTHS)
                        curve = curve[np.r_[bucket[1:] != bucket[:-1], True]]
                        # the estimate is 1 until the first time; steps change after each time
                        times = np.r_[0.0, curve["time_months"].to_numpy()]
                        line = ax.step(
                            times,
                            np.r_[1.0, curve["survival"].to_numpy()],
                            where="post",
                            label=f"{group} (n={curve['n_patients'].iloc[0]})",
                        )[0]
                        ax.fill_between(
                            times,
                            np.r_[1.0, curve["ci_lower"].to_numpy(dtype=float)],
                            np.r_[1.0, curve["ci_upper"].to_numpy(dtype=float)],
                            step="post",
                            alpha=0.2,
                            color=line.get_color(),
                        )
                    title = f"{disease.upper()} {endpoint} by {label}"
                    p_value = curves["logrank_p"].iloc[0]
                    if pd.notna(p_value):
                        title += " (log-rank p<0.001)" if p_value < 0.001 else f" (log-rank p={p_value:.2g})"
                    ax.set_title(title)
                    ax.set_xlabel("months")
                    ax.set_ylabel(f"{endpoint} probability")
                    ax.set_ylim(0, 1.02)
                    ax.legend(fontsize="small")
                    slug = label.lower().replace(" ", "").replace("-", "")
                    path = out_dir / f"km_{disease}_{endpoint.lower()}_{slug}.png"
                    fig.savefig(path, dpi=100, metadata={"Software": None})
                    plt.close(fig)
                    paths.append(path)
    return paths
