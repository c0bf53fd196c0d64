"""`harmony contract draft` and `harmony contract check`: onboarding a source without writing code."""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import secrets
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd
import yaml

from harmony_pipeline import canonical
from harmony_pipeline.contracts.delivery import read_delivery
from harmony_pipeline.contracts.model import DEFAULT_MISSING, Contract, ContractError, load_contract
from harmony_pipeline.contracts.profile import SEX_LABELS, FileProfile, profile_file
from harmony_pipeline.contracts.readers import DeliveryError, read_file
from harmony_pipeline.contracts.values import as_text, normalised

OUT_OF_RANGE_WARN = 0.05  # share of lab values outside the plausible range that suggests a wrong unit


def register(subparsers) -> None:
    parser = subparsers.add_parser("contract", help="draft and check source contracts")
    sub = parser.add_subparsers(dest="contract_command", required=True)
    draft = sub.add_parser("draft", help="profile files and write a starting contract")
    draft.add_argument("files", nargs="+", type=Path)
    draft.add_argument("--source-id", default=None)
    draft.add_argument("--disease", action="append", choices=canonical.DISEASES, help="repeat for several")
    draft.add_argument("-o", "--output", type=Path, default=None, help="write here instead of stdout")
    draft.set_defaults(func=cmd_draft)
    check = sub.add_parser("check", help="check a contract against files before loading them")
    check.add_argument("contract", type=Path)
    check.add_argument("files", nargs="+", type=Path)
    check.set_defaults(func=cmd_check)


# ------------------------------------------------------------------------------------------- draft


def _file_id(path: Path, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", re.sub(r"\d+", "", path.stem.lower())).strip("_") or "file"
    name, i = base, 2
    while name in taken:
        name, i = f"{base}_{i}", i + 1
    taken.add(name)
    return name


def _offset_unit(name: str) -> str:
    key = name.casefold()
    if re.search(r"year|yrs|jahr|ans|_y$|jaar", key):
        return "years"
    if re.search(r"day|jour|tage|_d$|dagen", key):
        return "days"
    return "months"


def draft_contract(paths: list[Path], source_id: str | None = None, diseases: list[str] | None = None) -> str:
    """A starting contract (YAML text) for the files, with the profile of every column as comments."""
    taken: set[str] = set()
    profiles = [profile_file(p, _file_id(p, taken)) for p in paths]
    source_id = (
        source_id or re.sub(r"[^a-z0-9_]+", "_", paths[0].parent.name.lower()).strip("_") or "new_source"
    )
    diseases = diseases or _guess_diseases(paths)
    files: dict = {}
    entities: dict[str, list] = {}
    todo: list[str] = []
    for prof in profiles:
        files[prof.spec.id] = _draft_file(prof, todo)
        for entity, mapping in _draft_mappings(prof, todo).items():
            entities.setdefault(entity, []).append(mapping)
    contract = {
        "source_id": source_id,
        "name": source_id,
        "provider_kind": "study_group",
        "diseases": diseases,
        "files": files,
        "entities": entities,
    }
    lines = [
        f"# Draft contract for {source_id}, written by `harmony contract draft` from {len(paths)} file(s).",
        "# Complete it (provider_kind, value maps, units, anchors), then run `harmony contract check`.",
        "# Language: docs/contracts.md",
        "#",
    ]
    for prof in profiles:
        lines.append(f"# {prof.path.name}: {prof.rows} rows, format {prof.spec.format}")
        for c in prof.columns:
            note = f"#   {c.name}: {c.kind}"
            note += f" ({c.date_format})" if c.date_format else ""
            note += f", {c.non_missing} present, {c.distinct} distinct"
            if c.values:
                shown = ", ".join(f"{k}={v}" for k, v in list(c.values.items())[:12])
                note += f", values: {shown}"
            if c.guess:
                note += f" -> {c.guess}"
            if c.identifier_reason:
                note += f" [IDENTIFIER: {c.identifier_reason}]"
            lines.append(note)
    lines += [f"# TODO: {t}" for t in todo] + [""]
    body = yaml.safe_dump(contract, sort_keys=False, allow_unicode=True, width=110)
    return "\n".join(lines) + body


def _guess_diseases(paths: list[Path]) -> list[str]:
    text = " ".join(p.name.upper() for p in paths)
    found = [d for d in canonical.DISEASES if re.search(rf"(^|[^A-Z]){d}([^A-Z]|$)", text)]
    return found or ["AML"]


def _draft_file(prof: FileProfile, todo: list[str]) -> dict:
    spec = prof.spec
    out: dict = {"pattern": re.sub(r"\d+", "*", prof.path.name), "format": spec.format}
    if spec.format == "csv" and spec.delimiter != ",":
        out["delimiter"] = spec.delimiter
    if spec.decimal != ".":
        out["decimal"] = spec.decimal
    if spec.encoding != "utf-8" and spec.format in ("csv", "tsv", "json"):
        out["encoding"] = spec.encoding
    if spec.records:
        out["records"] = spec.records
    if tuple(spec.missing_values) != DEFAULT_MISSING:
        out["missing_values"] = list(spec.missing_values)
    by_guess = {c.guess: c for c in reversed(prof.columns) if c.guess}
    pid = by_guess.get("patient_id") or prof.columns[0]
    if "patient_id" not in by_guess:
        todo.append(f"{prof.path.name}: patient_id guessed as the first column {pid.name!r}")
    out["patient_id"] = pid.name
    dates = [c for c in prof.columns if c.kind == "date"]
    if dates:
        formats = Counter(c.date_format for c in dates)
        out["date_format"] = formats.most_common(1)[0][0]
    identifiers = [c.name for c in prof.columns if c.guess == "identifier" or
                   (c.identifier_reason and not (c.guess or "").startswith("linkage."))]  # fmt: skip
    if identifiers:
        out["identifiers"] = identifiers
    linkage = {}
    if "linkage.birth_date" in by_guess:
        c = by_guess["linkage.birth_date"]
        linkage["birth_date"] = {"column": c.name, **({"format": c.date_format} if c.date_format else {})}
    if "patient.sex" in by_guess:
        linkage["sex"] = _sex_spec(by_guess["patient.sex"])
    if "linkage.initials" in by_guess:
        linkage["initials"] = {"column": by_guess["linkage.initials"].name}
    if linkage and "birth_date" in linkage:
        out["linkage"] = linkage
    ignore = [c.name for c in prof.columns if c.guess == "ignore"]
    if ignore:
        out["ignore"] = ignore
    return out


def _sex_spec(col) -> dict:
    value_map = {k: SEX_LABELS[k.casefold()] for k in col.values if k.casefold() in SEX_LABELS}
    return {"column": col.name, **({"map": value_map} if value_map else {})}


def _draft_mappings(prof: FileProfile, todo: list[str]) -> dict[str, dict]:
    fid = prof.spec.id
    cols = {c.guess: c for c in reversed(prof.columns) if c.guess}
    out: dict[str, dict] = {}
    patient = {}
    if "patient.sex" in cols:
        patient["sex"] = _sex_spec(cols["patient.sex"])
    if "linkage.birth_date" in cols:
        patient["birth_date"] = cols["linkage.birth_date"].name
    if "patient.age_at_diagnosis" in cols:
        patient["age_at_diagnosis"] = cols["patient.age_at_diagnosis"].name
    if "patient.index_date" in cols:
        patient["index_date"] = cols["patient.index_date"].name
    if patient:
        out["patient"] = {"from": fid, "fields": patient}
    diag_date = cols.get("diagnosis.diagnosis_date")
    diagnosis = {}
    if diag_date:
        diagnosis["diagnosis_date"] = diag_date.name
    if "diagnosis.subtype" in cols:
        sub = cols["diagnosis.subtype"]
        diagnosis["subtype"] = {
            "column": sub.name,
            **({"map": {k: k for k in sub.values}} if sub.values else {}),
        }
        diagnosis["source_value"] = sub.name
        todo.append(f"{prof.path.name}: map the subtype labels of {sub.name!r} to canonical subtypes")
    if "diagnosis.code" in cols:
        diagnosis["code"] = cols["diagnosis.code"].name
    if diagnosis:
        out["diagnosis"] = {"from": fid, "fields": diagnosis}
        if not diag_date:
            todo.append(f"{prof.path.name}: diagnosis_date is required; no date column was recognised")
    labs = {c.name: c.guess.split(".", 1)[1] for c in prof.columns
            if c.guess and c.guess.startswith("lab.") and c.kind in ("integer", "number")}  # fmt: skip
    if labs:
        out["lab_result"] = {"from": fid, "wide": {"key": "lab", "value": "value", "columns": labs}}
        if diag_date:
            out["lab_result"]["fields"] = {"measured_date": diag_date.name}
        todo.append(
            f"{prof.path.name}: give each lab column its unit ({{label: hb, unit: mmol/L}}) if not canonical"
        )
    if "cytogenetics.karyotype" in cols:
        kar = cols["cytogenetics.karyotype"]
        out["cytogenetics"] = {
            "from": fid,
            "skip_if_missing": ["karyotype"],
            "fields": {"method": {"const": "karyotype"}, "karyotype": kar.name},
        }
    genes = [c for c in prof.columns if c.guess == "mutation.wide"]
    if genes:
        gene_cols = {c.name: re.sub(r"(_?(MUT|MUTATION|STATUS|FLAG))$", "", c.name.upper()) for c in genes}
        flags = sorted({v for c in genes for v in c.values})
        cell_map = {
            v: "mutated" if v in ("1", "yes", "ja", "oui", "mut", "mutated") else "wildtype" for v in flags
        }
        out["mutation"] = {
            "from": fid,
            "wide": {"key": "gene", "value": "status", "columns": gene_cols, "cell": {"map": cell_map}},
        }
    elif "mutation.gene" in cols:
        fields: dict = {"gene": cols["mutation.gene"].name, "status": {"const": "mutated"}}
        if "mutation.variant" in cols:
            fields["variant"] = cols["mutation.variant"].name
        if "mutation.vaf" in cols:
            fields["vaf"] = {"column": cols["mutation.vaf"].name}
            todo.append(
                f"{prof.path.name}: VAF is a fraction 0-1; add factor: 0.01 if it is given in percent"
            )
        out["mutation"] = {"from": fid, "fields": fields}
    if "follow_up.time" in cols and "follow_up.vital_status" in cols:
        time, status = cols["follow_up.time"], cols["follow_up.vital_status"]
        unit = _offset_unit(time.name)
        anchor = "diagnosis" if diag_date else "index_date"
        status_map = (
            {"0": "alive", "1": "dead"} if set(status.values) <= {"0", "1"} else {k: k for k in status.values}
        )
        dead = [k for k, v in status_map.items() if v == "dead"] or ["1"]
        offset = {"offset": time.name, "offset_unit": unit, "anchor": anchor}
        out["follow_up"] = {
            "from": fid,
            "fields": {
                "last_contact_date": dict(offset),
                "vital_status": {"column": status.name, "map": status_map},
                "death_date": {**offset, "when": {"column": status.name, "in": dead}},
            },
        }
        todo.append(f"{prof.path.name}: check that {time.name!r} is in {unit} since {anchor}")
    if "staging.ecog" in cols:
        out["staging"] = {
            "from": fid,
            "skip_if_missing": ["value"],
            "fields": {"system": {"const": "ecog"}, "value": cols["staging.ecog"].name},
        }
    return out


def cmd_draft(args) -> int:
    try:
        text = draft_contract(list(args.files), args.source_id, args.disease)
    except (DeliveryError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(text)
    return 0


# ------------------------------------------------------------------------------------------- check


@dataclasses.dataclass
class CheckReport:
    errors: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    info: list[str] = dataclasses.field(default_factory=list)

    def render(self) -> str:
        lines = [f"ERROR   {e}" for e in self.errors] + [f"WARNING {w}" for w in self.warnings]
        lines += [f"        {i}" for i in self.info]
        verdict = f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        return "\n".join(lines + [("FAILED: " if self.errors else "OK: ") + verdict])


def check_contract(contract: Contract, paths: list[Path]) -> CheckReport:
    """Read the files with the contract (nothing is written anywhere) and report every problem found."""
    report = CheckReport()
    assigned: dict[str, list[Path]] = {}
    for path in paths:
        ids = [fid for fid, spec in contract.files.items() if fnmatch.fnmatch(path.name, spec.pattern)]
        if not ids:
            report.errors.append(f"{path.name}: matches no file pattern of the contract "
                                 f"({', '.join(s.pattern for s in contract.files.values())})")  # fmt: skip
            continue
        assigned.setdefault(ids[0], []).append(path)
    files = {}
    for fid, spec in contract.files.items():
        if fid not in assigned:
            report.warnings.append(f"file {fid!r} ({spec.pattern}): no file given, not checked")
        files[fid] = dataclasses.replace(spec, required=False)
    contract = dataclasses.replace(contract, files=files)
    # columns: all problems at once (read_delivery stops at the first)
    total_cols = covered_cols = 0
    frames: dict[str, list[pd.DataFrame]] = {}
    for fid, fpaths in assigned.items():
        spec = contract.files[fid]
        used = contract.used_columns(fid)
        own = [spec.patient_id, *spec.linkage_columns()]
        own += [c for m in contract.mappings() if m.from_file == fid and not m.join for c in m.columns()]
        referenced = {c.split(".", 1)[-1] for m in contract.mappings() for c in m.columns()}
        for path in fpaths:
            try:
                raw = read_file(spec, path, contract.source_id)
            except DeliveryError as exc:
                report.errors.append(str(exc))
                continue
            columns = list(raw.frame.columns)
            frames.setdefault(fid, []).append(raw.frame)
            missing = [c for c in dict.fromkeys(own) if c not in columns]
            if missing:
                report.errors.append(f"{path.name}: column(s) used by the contract are missing: {missing}")
            declared = set(used) | set(spec.identifiers) | set(spec.ignore) | referenced
            unknown = [c for c in columns if c not in declared]
            if unknown:
                report.warnings.append(f"{path.name}: unknown column(s), not read: {unknown}")
            total_cols += len(columns)
            covered_cols += len(columns) - len(unknown)
            if len(raw.malformed):
                report.warnings.append(f"{path.name}: {len(raw.malformed)} malformed line(s) (rejects)")
    if report.errors:
        return report
    with tempfile.TemporaryDirectory(prefix="harmony-check-") as tmp:
        delivery = Path(tmp) / "check"
        delivery.mkdir()
        for fpaths in assigned.values():
            for p in fpaths:
                (delivery / p.name).symlink_to(p.resolve())
        try:
            # a throw-away key: check never shows pseudonyms, and the network key is not needed
            read = read_delivery(contract, delivery, secrets.token_bytes(32))
        except DeliveryError as exc:
            report.errors.append(str(exc))
            return report
    _report_rejects(read.rejects, report)
    mapped = _report_maps(contract, frames, report)
    _report_values(read.entities, report, mapped)
    _report_units(read.entities.get("lab_result"), report)
    if total_cols:
        report.info.append(f"column coverage: {covered_cols}/{total_cols} columns mapped, declared or ignored "
                           f"({100 * covered_cols / total_cols:.0f}%)")  # fmt: skip
    for name, frame in read.entities.items():
        if len(frame):
            report.info.append(f"{name}: {len(frame)} rows")
    return report


def _report_rejects(rejects: pd.DataFrame, report: CheckReport) -> None:
    if rejects.empty:
        return
    groups = rejects.groupby(["file_name", "entity", "field", "rule"], sort=True)
    for (file_name, entity, field_name, rule), rows in groups:
        examples = ", ".join(repr(v) for v in rows["value"].dropna().unique()[:3])
        report.errors.append(
            f"{file_name}: {entity}.{field_name}: {len(rows)} value(s) fail {rule} (rows "
            f"{', '.join(map(str, rows['row_number'].head(5)))}{'...' if len(rows) > 5 else ''}); e.g. {examples}"
        )


def _report_maps(contract: Contract, frames: dict[str, list[pd.DataFrame]], report: CheckReport) -> set[str]:
    """Labels in the files that a value map does not cover, with counts; returns the fields reported."""
    reported: set[str] = set()
    for m in contract.mappings():
        specs = [(f"{m.entity}.{name}", spec) for name, spec in m.fields.items()]
        if m.wide:
            specs += [(f"{m.entity}.{m.wide.value}", w.spec) for w in m.wide.columns]
        for label, spec in specs:
            if not spec.value_map or not spec.column:
                continue
            cells = [f[spec.column] for f in frames.get(m.from_file, []) if spec.column in f.columns]
            if not cells:
                continue
            values = pd.concat(cells, ignore_index=True).dropna()
            if spec.when is not None:
                continue  # conditional fields: their rows are checked on the mapped output
            keys = normalised(values)
            unmapped = as_text(values)[~keys.isin(list(spec.value_map))]
            if len(unmapped):
                counts = unmapped.value_counts()
                listed = ", ".join(f"{v!r} x{n}" for v, n in counts.head(10).items())
                report.errors.append(f"{label} (column {spec.column}): unmapped value(s) {listed}; "
                                     f"add them to the map")  # fmt: skip
                reported.add(label)
    return reported


def _report_values(entities: dict[str, pd.DataFrame], report: CheckReport, reported: set[str]) -> None:
    """Values outside a closed code list (unmapped labels): they would be quarantined."""
    for name, frame in entities.items():
        if frame.empty:
            continue
        for f in canonical.ENTITIES[name].fields:
            if not f.allowed or f"{name}.{f.name}" in reported:
                continue
            present = frame[f.name].dropna()
            if present.empty:
                continue
            outside = present[~present.isin(f.allowed)]
            coverage = 100 * (1 - len(outside) / len(present))
            report.info.append(
                f"{name}.{f.name}: {coverage:.1f}% of {len(present)} values map to canonical codes"
            )
            if len(outside):
                counts = outside.value_counts()
                listed = ", ".join(f"{v!r} x{n}" for v, n in counts.head(10).items())
                report.errors.append(
                    f"{name}.{f.name}: unmapped value(s) {listed} (allowed: {', '.join(f.allowed)})"
                )


def _report_units(labs: pd.DataFrame | None, report: CheckReport) -> None:
    if labs is None or labs.empty:
        return
    for lab, rows in labs.groupby("lab", sort=True):
        if lab not in canonical.LABS:
            continue
        unit, low, high = canonical.LABS[lab]
        wrong = rows[rows["unit"] != unit]
        if len(wrong):
            units_seen = ", ".join(f"{u!r} x{n}" for u, n in wrong["source_unit"].value_counts().items())
            report.errors.append(f"lab {lab}: unit(s) {units_seen} cannot be converted to {unit}")
        values = rows.loc[rows["unit"] == unit, "value"].dropna()
        if len(values):
            share = float(((values < low) | (values > high)).mean())
            if share > OUT_OF_RANGE_WARN:
                report.warnings.append(
                    f"lab {lab}: {100 * share:.0f}% of values outside {low}-{high} {unit} after conversion; "
                    f"median {values.median():g}: is the unit right?"
                )


def cmd_check(args) -> int:
    try:
        contract = load_contract(args.contract)
    except ContractError as exc:
        print(f"ERROR   contract: {exc}")
        print("FAILED: the contract is not valid")
        return 2
    report = check_contract(contract, list(args.files))
    print(report.render())
    return 1 if report.errors else 0
