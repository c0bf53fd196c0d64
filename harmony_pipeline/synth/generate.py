"""`synthesise()`: ten sources, K dated deliveries each, ground truth and the defect manifest.

Per source: draw its true patients (cohort.py), then for each delivery observe them at the delivery's
data cut-off (events after it are not yet known), render the source's files (sources.py), inject
defects (defects.py) and write (writers.py). One source at a time, so peak memory stays bounded.
Randomness comes from numpy generators seeded with (seed, source index): the same seed gives the
same bytes.
"""

from __future__ import annotations

import json
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from harmony_pipeline.synth import cohort, defects, risk, sources, writers

DATE_COLUMNS = (
    "birth_date", "diag_date", "index_date", "line1_start", "line1_end", "response1_date", "relapse_date",
    "line2_start", "response2_date", "transplant_date", "death_date", "last_contact",
)  # fmt: skip
# An event date after the cut-off is not yet known, nor is what hangs on it.
EVENT_DEPENDENTS = {
    "line1_start": ("line1_regimen", "line1_end", "response1", "response1_date", "response_criteria"),
    "line1_end": (),
    "response1_date": ("response1", "response_criteria"),
    "relapse_date": ("relapse_kind",),
    "line2_start": ("line2_regimen", "response2", "response2_date"),
    "response2_date": ("response2",),
    "transplant_date": ("transplant_type", "donor_type"),
    "death_date": ("death_cause",),
}
RISK_COLUMNS = (
    "eln2022", "eln2017", "sanz", "ipss_r", "ipss_r_score", "ipss_ra_score", "ipss_m", "ipss_m_score", "iss",
    "r_iss", "r2_iss", "cll_ipi", "ipi", "nccn_ipi", "flipi", "nci_risk",
)  # fmt: skip
REGISTRY_REPEAT_SHARE = 0.6  # share of transplanted patients of other sources the registry reports too
TRIAL_HR_MIDOSTAURIN = 0.78  # RATIFY (Stone, NEJM 2017) hazard ratio for death
PREFIX = {
    "de_aml_sg": "AMLSG-", "aml_flt3_trial": "301-", "nl_be_hemato": "HOV-", "cll_initiative": "CLL",
    "mm_trials_network": "MMN-", "mds_registry_fr": "SMD", "lymphoma_sa": "LY", "paed_leukaemia": "P",
    "adult_all": "GA", "transplant_registry": "EBMT",
}  # fmt: skip


@dataclass(frozen=True)
class DeliveryContext:
    delivery_id: str
    stamp: str
    cutoff: float


def allocate(total: int, shares: list[float]) -> list[int]:
    """Split total by shares with the largest-remainder method (counts sum to total)."""
    raw = np.asarray(shares, dtype=float) / sum(shares) * total
    counts = np.floor(raw).astype(int)
    remainder = total - counts.sum()
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:remainder]] += 1
    return counts.tolist()


def cutoffs(deliveries: int) -> list[float]:
    """Data cut-offs spread over the accrual period, the last one at the final cut-off."""
    span = cohort.FINAL_CUTOFF - cohort.DIAG_START
    return [float(np.floor(cohort.DIAG_START + span * k / deliveries)) for k in range(1, deliveries + 1)]


def day_text(day: float, fmt: str = "%Y-%m-%d") -> str:
    return pd.Timestamp(cohort.DAY0 + np.timedelta64(int(day), "D")).strftime(fmt)


def _draw_source(source: sources.Source, n: int, rng: np.random.Generator, person_start: int) -> pd.DataFrame:
    counts = allocate(n, [p[1] for p in source.parts])
    frame = cohort.generate(
        rng, [(p[0], c, p[2]) for p, c in zip(source.parts, counts, strict=True)], source.countries
    )
    if source.source_id == "aml_flt3_trial":
        frame["arm"] = np.where(rng.random(len(frame)) < 0.5, "midostaurin", "placebo").astype(object)
        frame["hazard"] = np.where(
            frame["arm"] == "midostaurin", frame["hazard"] * TRIAL_HR_MIDOSTAURIN, frame["hazard"]
        )
    frame = pd.concat([frame, cohort.clinical_course(rng, frame)], axis=1)
    if source.source_id == "aml_flt3_trial":  # randomised shortly before the start of induction
        start = frame["line1_start"].to_numpy(float)
        diag = frame["diag_date"].to_numpy(float)
        frame["index_date"] = np.where(np.isnan(start), diag + 1, np.maximum(diag, start - 2))
    else:
        frame["index_date"] = np.nan
    frame["person_num"] = np.arange(person_start, person_start + len(frame), dtype=np.int64)
    return frame


def _force_transplant(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Registry-only patients all have a transplant, between diagnosis and last contact."""
    diag = frame["diag_date"].to_numpy(float)
    end = frame["last_contact"].to_numpy(float)
    keep = (end - diag) > 60
    frame = frame[keep].reset_index(drop=True)
    diag, end = diag[keep], end[keep]
    missing = frame["transplant_date"].isna().to_numpy()
    tx = np.floor(diag + (end - diag) * rng.uniform(0.15, 0.6, len(frame)))
    relapse = frame["relapse_date"].to_numpy(float)
    frame["transplant_date"] = np.where(missing, tx, frame["transplant_date"])
    auto = frame["disease"].isin(["MM", "NHL"]).to_numpy()
    ttype = np.where(auto, "autologous", "allogeneic").astype(object)
    frame["transplant_type"] = np.where(missing, ttype, frame["transplant_type"])
    donor = np.asarray(cohort.DONORS, dtype=object)[rng.integers(0, 4, len(frame))]
    frame["donor_type"] = np.where(missing, np.where(auto, None, donor), frame["donor_type"])
    # a relapse before this salvage transplant is fine; keep dates ordered after diagnosis
    frame["relapse_date"] = np.where(relapse <= diag, np.nan, relapse)
    return frame


def observe(t: pd.DataFrame, cutoff: float) -> pd.DataFrame:
    """The patients as known at a data cut-off: later events are not yet known."""
    if cutoff >= cohort.FINAL_CUTOFF:
        return t
    t = t.copy()
    for column, dependents in EVENT_DEPENDENTS.items():
        later = t[column].to_numpy(float) > cutoff
        if not later.any():
            continue
        t.loc[later, column] = np.nan
        for dep in dependents:
            t.loc[later, dep] = np.nan if t[dep].dtype.kind == "f" else None
    t["vital_status"] = np.where(t["death_date"].notna(), "dead", "alive").astype(object)
    t["last_contact"] = np.minimum(t["last_contact"].to_numpy(float), cutoff)
    return t


def _write(out: sources.OutFile, path: Path, malformed_rows: list[int], rng: np.random.Generator) -> None:
    if out.fmt == "csv":
        o = out.options
        lines = writers.delimited_lines(
            out.frame, out.columns, o["delimiter"], o["decimal"], o["date_format"], o["na"]
        )
        for i, row in enumerate(malformed_rows):
            lines[row - 1] = defects.malform(lines[row - 1], o["delimiter"], i % 2)
        header = o["delimiter"].join(c.name for c in out.columns)
        writers.write_delimited(path, header, lines, o["encoding"])
    elif out.fmt == "xlsx":
        writers.write_xlsx(path, out.frame, out.columns, out.options["sheet"])
    elif out.fmt == "json":
        writers.write_json(path, out.options["header"], writers.json_records(out.frame, out.columns))
    elif out.fmt == "parquet":
        writers.write_parquet(path, out.frame, out.columns)
    else:
        raise ValueError(out.fmt)


def _truth_table(t: pd.DataFrame, source_id: str) -> pa.Table:
    t = t.drop(columns=["hazard"], errors="ignore").copy()
    t.insert(0, "source_id", source_id)
    arrays, names = [], []
    for col in t.columns:
        values = t[col].to_numpy()
        if col in DATE_COLUMNS:
            arrays.append(writers.date_array(values.astype(float)))
        elif values.dtype == object:
            arrays.append(
                pa.array([None if v is None or v != v else str(v) for v in values], type=pa.string())
            )
        else:
            arrays.append(pa.array(values, from_pandas=True))
        names.append(col)
    return pa.Table.from_arrays(arrays, names=names)


def computable_groups(t: pd.DataFrame, source_id: str) -> pd.DataFrame:
    """The true groups as a calculator can decide them from what the source delivers.

    A rule needing an input the source does not deliver (sources.UNDELIVERED) keeps its true group only
    where every value that input could take gives the same group (risk.decided); elsewhere the group is
    not computable (None), as the marts must say too (never a guess).
    """
    undelivered = sources.UNDELIVERED.get(source_id)
    if not undelivered:
        return t
    t = t.copy()
    if undelivered == sources.NOTHING_DELIVERED:
        for col in RISK_COLUMNS:
            if col in t:
                t[col] = np.nan if t[col].dtype.kind == "f" else None
        return t
    for disease, inputs in undelivered.items():
        rows = (t["disease"] == disease).to_numpy()
        if not rows.any():
            continue
        if disease != "AML" or not set(inputs) <= {"eln_genes", "tp53_vaf"}:
            raise NotImplementedError(f"{source_id}: undelivered {disease} inputs {inputs}")
        part = t[rows]
        genes = {g: part[f"G_{g}"].to_numpy(float) for g in cohort.GENES}
        vaf = part["tp53_vaf"].to_numpy(float)
        gene_options = [genes]
        if "eln_genes" in inputs:  # none of the myelodysplasia genes mutated, or one (ASXL1: 2017 and 2022)
            none = {**genes, **{g: np.zeros(len(part)) for g in risk.ELN_ADVERSE_GENES_2022}}
            gene_options = [none, {**none, "ASXL1": np.ones(len(part))}]
        vaf_options = [np.full(len(part), 0.05), np.full(len(part), 0.5)] if "tp53_vaf" in inputs else [vaf]
        cyto, ratio = part["cyto"].to_numpy(object), part["flt3_itd_ratio"].to_numpy(float)
        t.loc[rows, "eln2022"] = risk.decided(
            [risk.eln_2022(cyto, g, v) for g in gene_options for v in vaf_options]
        )
        t.loc[rows, "eln2017"] = risk.decided([risk.eln_2017(cyto, g, ratio) for g in gene_options])
    return t


def _risk_frame(t: pd.DataFrame, source_id: str) -> pd.DataFrame:
    t = computable_groups(t, source_id)
    out = pd.DataFrame({"source_id": source_id, "source_patient_id": t["source_patient_id"], "person_id": t["person_id"],
                        "disease": t["disease"], "subtype": t["subtype"]})  # fmt: skip
    for col in RISK_COLUMNS:
        out[col] = t[col] if col in t else None
    out["os_days"] = (t["last_contact"] - t["diag_date"]).astype("int64")
    out["os_event"] = (t["vital_status"] == "dead").astype("int64")
    return out


DEFECT_PATIENT_COLUMNS = ["source_id", "delivery_id", "file", "row", "source_patient_id", "defect_kind"]


def _defect_patients(
    out: sources.OutFile, rows: list[tuple], source_id: str, delivery_id: str
) -> pd.DataFrame:
    """The source patient of every injected defect (the row's id cell: defects never touch ids), so tests
    can set apart the patients without injected defects."""
    id_column = next(c.name for c in out.columns if c.kind == "id")
    numbers = np.asarray([r for r, _, _ in rows], dtype=np.int64)
    ids = out.frame[id_column].to_numpy(object)[numbers - 1] if len(numbers) else np.array([], dtype=object)
    return pd.DataFrame(
        {"source_id": source_id, "delivery_id": delivery_id, "file": out.name, "row": numbers,
         "source_patient_id": ids, "defect_kind": [k for _, _, k in rows]},
        columns=DEFECT_PATIENT_COLUMNS,
    )  # fmt: skip


def synthesise(
    home: Path, patients: int, seed: int, deliveries: int = 1, defect_rate: float = 0.02, progress=None
) -> dict:
    """Write $HOME/landing/<source>/<delivery>/ and $HOME/truth/; return a summary of what was written."""
    if patients < len(sources.SOURCES):
        raise ValueError(f"--patients must be at least {len(sources.SOURCES)} (one per source)")
    if deliveries < 1:
        raise ValueError("--deliveries must be at least 1")
    home = Path(home)
    landing, truth = home / "landing", home / "truth"
    for source in sources.SOURCES:
        shutil.rmtree(landing / source.source_id, ignore_errors=True)
    shutil.rmtree(truth, ignore_errors=True)
    (truth / "patients").mkdir(parents=True)
    say = progress or (lambda message: None)

    counts = allocate(patients, [s.share for s in sources.SOURCES])
    cuts = cutoffs(deliveries)
    manifest: list[tuple] = []
    defect_patients: list[pd.DataFrame] = []
    delivery_rows: list[dict] = []
    risk_frames: list[pd.DataFrame] = []
    linkage_pool: list[pd.DataFrame] = []
    person_start = 1
    summary_sources = {}
    for index, (source, n) in enumerate(zip(sources.SOURCES, counts, strict=True)):
        rng = np.random.default_rng([seed, index])
        t = _draw_source(source, n, rng, person_start)
        person_start += len(t)
        if source.source_id == "transplant_registry":
            t = _force_transplant(t, rng)
            repeats = pd.concat(linkage_pool, ignore_index=True) if linkage_pool else t.iloc[:0]
            repeats = repeats[rng.random(len(repeats)) < REGISTRY_REPEAT_SHARE]
            t = pd.concat([t, repeats], ignore_index=True)
            entry = t["transplant_date"].to_numpy(float)
        else:
            entry = t["diag_date"].to_numpy(float)
        order = np.lexsort((t["person_num"].to_numpy(), entry))
        t = t.iloc[order].reset_index(drop=True)
        entry = entry[order]
        number = np.arange(1, len(t) + 1)
        t["source_patient_id"] = PREFIX[source.source_id] + pd.Series(number).astype(str).str.zfill(7)
        t["person_id"] = "H" + pd.Series(t["person_num"]).astype(str).str.zfill(8)
        t["mrn"] = np.where(rng.random(len(t)) < 0.5, "KH", "MR") + pd.Series(
            rng.integers(1_000_000, 9_999_999, len(t))
        ).astype(str)
        t["site"] = "S" + pd.Series(rng.integers(1, 60, len(t))).astype(str).str.zfill(3)
        if source.source_id not in ("aml_flt3_trial", "transplant_registry"):  # the trial has no birth dates
            linkage_pool.append(t[t["transplant_date"].notna()].copy())

        written_rows = 0
        previous = -np.inf
        for k, cutoff in enumerate(cuts, start=1):
            new = (entry <= cutoff) & (entry > previous)
            alive_then = t["death_date"].isna() | (t["death_date"] > previous)
            update = (
                (entry <= previous) & alive_then.to_numpy() & (t["last_contact"].to_numpy(float) > previous)
            )
            chosen = t[new | update]
            previous_cut = previous
            previous = cutoff
            if chosen.empty:
                continue
            ctx = DeliveryContext(f"{day_text(cutoff)}_d{k:02d}", day_text(cutoff, "%Y%m%d"), cutoff)
            observed = observe(chosen.reset_index(drop=True), cutoff)
            folder = landing / source.source_id / ctx.delivery_id
            folder.mkdir(parents=True, exist_ok=True)
            for file_index, out in enumerate(sources.RENDERERS[source.render](observed, ctx)):
                drng = np.random.default_rng([seed, index, k, file_index, 7])
                out, rows, bad_lines = defects.inject(drng, out, defect_rate)
                defect_patients.append(_defect_patients(out, rows, source.source_id, ctx.delivery_id))
                _write(out, folder / out.name, bad_lines, drng)
                manifest += [(source.source_id, ctx.delivery_id, out.name, r, f, kind) for r, f, kind in rows]
                delivery_rows.append({
                    "source_id": source.source_id, "delivery_id": ctx.delivery_id, "cutoff": day_text(cutoff),
                    "previous_cutoff": day_text(previous_cut) if np.isfinite(previous_cut) else "",
                    "file": out.name, "rows": len(out.frame), "new_patients": int(new.sum()),
                    "updated_patients": int(update.sum()), "defects": len(rows),
                })  # fmt: skip
                written_rows += len(out.frame)
        pq.write_table(_truth_table(t, source.source_id), truth / "patients" / f"{source.source_id}.parquet")
        risk_frames.append(_risk_frame(t, source.source_id))
        summary_sources[source.source_id] = {"patients": len(t), "rows_written": written_rows}
        say(f"{source.source_id}: {len(t)} patients, {written_rows} rows")
        del t

    with warnings.catch_warnings():  # risk columns a source does not have are all-NA by design
        warnings.simplefilter("ignore", FutureWarning)
        risk = pd.concat(risk_frames, ignore_index=True)
    pacsv.write_csv(pa.Table.from_pandas(risk, preserve_index=False), truth / "risk_groups.csv")
    persons = risk[["person_id", "source_id", "source_patient_id"]]
    repeated = persons[persons["person_id"].duplicated(keep=False)].sort_values(["person_id", "source_id"])
    repeated.to_csv(truth / "repeat_persons.csv", index=False, lineterminator="\n")
    pd.DataFrame(
        manifest, columns=["source_id", "delivery_id", "file", "row", "field", "defect_kind"]
    ).to_csv(truth / "defects.csv", index=False, lineterminator="\n")
    pd.DataFrame(delivery_rows).to_csv(truth / "deliveries.csv", index=False, lineterminator="\n")
    pd.concat(defect_patients, ignore_index=True).to_csv(
        truth / "defect_patients.csv", index=False, lineterminator="\n"
    )
    summary = {
        "seed": seed, "patients_requested": patients, "deliveries": deliveries, "defect_rate": defect_rate,
        "persons": int(persons["person_id"].nunique()), "source_patients": len(persons),
        "repeat_persons": int(repeated["person_id"].nunique()), "defects": len(manifest),
        "deliveries_written": len({(r["source_id"], r["delivery_id"]) for r in delivery_rows}),
        "sources": summary_sources,
    }  # fmt: skip
    (truth / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary
