"""read_delivery: one landed delivery -> pseudonymised, date-shifted canonical DataFrames plus rejects.

Steps: find and read every file of the contract, key each row by its source patient id, compute the
pseudonyms (patient_key, person_key), map each entity (patient and diagnosis first, because other entities
may anchor times on them), turn untypable values into rejects, then shift every DATE by the person's
offset. Direct identifiers, linkage columns and source patient ids never leave this module. Everything is
column-wise pandas; the only Python loops run over files, mappings, columns and distinct patients.
"""

from __future__ import annotations

import csv
import logging
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harmony_pipeline import canonical
from harmony_pipeline.contracts import units
from harmony_pipeline.contracts.model import (
    ENTITY_ORDER,
    OFFSET_UNITS,
    Contract,
    FieldSpec,
    FileSpec,
    Mapping,
)
from harmony_pipeline.contracts.readers import DeliveryError, RawFile, read_file
from harmony_pipeline.contracts.values import (
    PANDAS_DTYPES,
    apply_map,
    as_text,
    condition_mask,
    to_bigint,
    to_date,
    to_double,
    typed_empty,
)
from harmony_pipeline.privacy.pseudonym import PATIENT_DOMAIN, PERSON_DOMAIN, date_shift_days, pseudonymise

log = logging.getLogger(__name__)

REJECT_COLUMNS = [
    "source_id", "delivery_id", "file_name", "row_number", "entity", "field", "rule", "value", "reason", "record",
]  # fmt: skip
WITHHELD = "<withheld: identifier>"


@dataclass
class DeliveryRead:
    source_id: str
    delivery_id: str
    entities: dict[str, pd.DataFrame]  # every canonical entity; columns canonical.table_columns(entity)
    rejects: pd.DataFrame  # REJECT_COLUMNS
    files: list[str]  # file names read, relative to the delivery folder
    warnings: list[str] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)  # file name -> data rows (malformed included)


@dataclass
class _Table:
    spec: FileSpec
    name: str  # file name relative to the delivery folder
    frame: pd.DataFrame  # delivered columns + _pid, _row
    private: set[str]  # columns that must not appear in a reject record
    malformed_pids: frozenset[str] = frozenset()  # patient ids read from its malformed lines (best effort)


def entity_dtypes(entity: str) -> dict[str, str]:
    """pandas dtype of every column of an entity's DataFrame (row_number, never null, is int64)."""
    dtypes = {f.name: PANDAS_DTYPES[f.dtype] for f in canonical.table_columns(entity)}
    return {**dtypes, "row_number": "int64"}


def empty_entity(entity: str) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in entity_dtypes(entity).items()})


def empty_rejects() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in REJECT_COLUMNS})
    return frame.astype({"row_number": "int64"})


# ------------------------------------------------------------------------------------------- files


def _find_files(contract: Contract, delivery_dir: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    owner: dict[Path, str] = {}
    for file_id, spec in contract.files.items():
        paths = sorted(p for p in delivery_dir.glob(spec.pattern) if p.is_file())
        for p in paths:
            other = contract.files.get(owner.get(p, ""))
            if other and other.format == spec.format == "json" and other.records != spec.records:
                continue  # one JSON document, several record paths (patients[], patients[].labs[])
            if p in owner:
                raise DeliveryError(
                    contract.source_id, p.name, f"matches the patterns of files {owner[p]!r} and {file_id!r}"
                )
            owner[p] = file_id
        if not paths and spec.required:
            raise DeliveryError(
                contract.source_id, spec.pattern, f"required file {file_id!r} ({spec.pattern}) is missing"
            )
        found[file_id] = paths
    return found


def _date_columns(contract: Contract, file_id: str) -> set[str]:
    """Columns of a file that hold calendar dates (kept out of reject records: they are not shifted)."""
    cols: set[str] = set()
    for m in contract.mappings():
        if m.from_file != file_id:
            continue
        entity = canonical.ENTITIES[m.entity]
        specs = list(m.fields.items())
        if m.wide:
            specs += [(m.wide.value, w.spec) for w in m.wide.columns]
        for name, spec in specs:
            if entity.get(name).dtype == "DATE" and spec.column:
                cols.add(spec.column)
            if spec.anchor and spec.anchor.column:
                cols.add(spec.anchor.column)
    return cols


def _referenced(contract: Contract) -> set[str]:
    cols: set[str] = set()
    for m in contract.mappings():
        for c in m.columns():
            cols.add(c)
            cols.add(c.split(".", 1)[-1])
    return cols


def _load_tables(
    contract: Contract, delivery_dir: Path, found: dict[str, list[Path]], rejects: list, warnings: list
) -> tuple[dict[str, list[_Table]], dict[str, int]]:
    tables: dict[str, list[_Table]] = {}
    rows_read: dict[str, int] = {}
    documents: dict = {}  # JSON documents parsed once for every file spec reading records from them
    referenced = _referenced(contract)
    for file_id, paths in found.items():
        spec = contract.files[file_id]
        needed = [spec.patient_id, *spec.linkage_columns()]
        for m in contract.mappings():
            if m.from_file == file_id:
                needed += [] if m.join else m.columns()  # with joins, checked on the joined frame
        private = {spec.patient_id, *spec.identifiers, *spec.linkage_columns(), *spec.ignore}
        private |= _date_columns(contract, file_id)
        for path in paths:
            name = path.relative_to(delivery_dir).as_posix()
            raw: RawFile = read_file(spec, path, contract.source_id, documents)
            columns = list(raw.frame.columns)
            missing = [c for c in dict.fromkeys(needed) if c not in columns]
            if missing:
                raise DeliveryError(
                    contract.source_id, name, f"missing column(s) {missing} (file {file_id!r}); has {columns}"
                )
            absent_ids = [c for c in spec.identifiers if c not in columns]
            if absent_ids:
                warnings.append(f"{name}: declared identifier column(s) {absent_ids} not in the file")
            declared = set(needed) | set(spec.identifiers) | set(spec.ignore) | referenced
            unknown = [c for c in columns if c not in declared]
            if unknown:
                warnings.append(f"{name}: column(s) not in the contract, not read: {unknown}")
            frame = raw.frame
            frame["_row"] = raw.row_numbers
            frame["_pid"] = as_text(frame[spec.patient_id]).str.strip()
            no_id = frame["_pid"].isna() | (frame["_pid"] == "")
            if no_id.any():
                rejects.append(
                    _reject_frame(
                        contract.source_id, name, frame.loc[no_id, "_row"], "*", spec.patient_id,
                        "missing_patient_id", pd.Series(pd.NA, index=frame.index[no_id], dtype="string"),
                        "the row has no source patient id", pd.Series(pd.NA, index=frame.index[no_id], dtype="string"),
                    )
                )  # fmt: skip
                frame = frame[~no_id]
            if not raw.malformed.empty:
                bad = raw.malformed
                rejects.append(
                    _reject_frame(
                        contract.source_id, name, bad["row_number"], "*", "*", "malformed_line",
                        pd.Series(pd.NA, index=bad.index, dtype="string"),
                        bad["reason"] + " (line not copied: it may hold identifiers; see the file)",
                        pd.Series(pd.NA, index=bad.index, dtype="string"),
                    )
                )  # fmt: skip
            rows_read[name] = len(raw.row_numbers) + len(raw.malformed)
            table = _Table(spec, name, frame.reset_index(drop=True), private, _malformed_pids(spec, raw))
            tables.setdefault(file_id, []).append(table)
    return tables, rows_read


def _malformed_pids(spec: FileSpec, raw: RawFile) -> frozenset[str]:
    """The patient id of each malformed line of a delimited file, where the line still has a field at the
    id column's position (a gene panel must not call that patient's genes wild type: the lost line may
    have listed one)."""
    if raw.malformed.empty or spec.format not in ("csv", "tsv") or spec.patient_id not in raw.frame.columns:
        return frozenset()
    position = list(raw.frame.columns).index(spec.patient_id)
    delimiter = "\t" if spec.format == "tsv" else spec.delimiter
    pids = set()
    for text in raw.malformed["value"]:
        fields = next(csv.reader([str(text)], delimiter=delimiter, quotechar=spec.quotechar), [])
        if len(fields) > position and fields[position].strip():
            pids.add(fields[position].strip())
    return frozenset(pids)


# ------------------------------------------------------------------------------------------- keys


def _linkage(contract: Contract, tables: dict[str, list[_Table]]) -> pd.Series:
    """Source patient id -> linkage message 'birth\\x1fsex\\x1finitials' from files declaring linkage."""
    messages = []
    for file_id, spec in contract.files.items():
        if not spec.linkage:
            continue
        for table in tables.get(file_id, []):
            frame = table.frame
            parts, complete = [], pd.Series(True, index=frame.index)
            for part in ("birth_date", "sex", "initials"):
                spec_part = spec.linkage.get(part)
                if spec_part is None:
                    parts.append(pd.Series("", index=frame.index, dtype="string"))
                    continue
                raw = (
                    frame[spec_part.column]
                    if spec_part.column
                    else pd.Series(spec_part.const, index=frame.index)
                )
                if part == "birth_date":
                    value, _ = to_date(raw, spec_part.format or spec.date_format, spec_part.origin)
                    text = value.dt.strftime("%Y-%m-%d").astype("string")
                elif part == "sex":
                    text = apply_map(raw, spec_part.value_map) if spec_part.value_map else as_text(raw)
                    text = text.str.strip().str.upper()
                    text = text.where(text.isin(["M", "F", "U"]))
                else:
                    text = as_text(raw).str.upper().str.replace(r"[\W\d_]+", "", regex=True)
                    text = text.where(text != "")
                complete &= text.notna()
                parts.append(text)
            message = parts[0].str.cat(parts[1:], sep="\x1f")
            linked = pd.DataFrame({"_pid": frame["_pid"], "message": message})[complete.to_numpy()]
            messages.append(linked)
    if not messages:
        return pd.Series(dtype="string")
    all_linked = pd.concat(messages, ignore_index=True).drop_duplicates("_pid", keep="first")
    return all_linked.set_index("_pid")["message"]


class _Keys:
    """patient_key and person_key per source patient id, each hashed once per distinct patient."""

    def __init__(self, contract: Contract, tables: dict[str, list[_Table]], key: bytes):
        pids = [t.frame["_pid"] for ts in tables.values() for t in ts]
        unique = pd.Series(pd.unique(pd.concat(pids, ignore_index=True)) if pids else [], dtype="string")
        prefix = contract.source_id + "\x1f"
        patient = pseudonymise(key, PATIENT_DOMAIN, prefix + unique)  # each distinct message hashed once
        linkage = _linkage(contract, tables)
        message = unique.map(linkage).astype("string")
        fallback = prefix + unique
        person = pseudonymise(key, PERSON_DOMAIN, message.fillna(fallback))
        self.index = pd.Index(unique.to_numpy())
        self.patient = pd.array(patient.to_numpy(), dtype="string")  # typed once per delivery
        self.person = pd.array(person.to_numpy(), dtype="string")
        self.key = key
        self._shift: np.ndarray | None = None

    def of_rows(self, pids: pd.Series, window: int) -> tuple[pd.Series, pd.Series, pd.Series]:
        """patient_key, person_key and date shift (days) of each row's patient (an unknown id gets none,
        as Series.map gives)."""
        if self._shift is None:  # per person, computed once per delivery; the last: an unknown id's
            shift = date_shift_days(self.key, pd.Series(self.person), window).to_numpy(dtype="float64")
            self._shift = np.append(shift, np.nan)
        at = self.index.get_indexer(pids)  # each row's patient's place in the keys; -1: unknown

        def keys(values) -> pd.Series:
            return pd.Series(values.take(at, allow_fill=True), index=pids.index)

        return keys(self.patient), keys(self.person), pd.Series(self._shift[at], index=pids.index)


# ------------------------------------------------------------------------------------------- mapping


@dataclass
class _Problem:
    field: str
    rule: str
    mask: pd.Series
    values: pd.Series  # the delivered values (typed to text only where a reject is written)
    reason: str


class _Mapper:
    def __init__(self, contract: Contract, tables: dict[str, list[_Table]]):
        self.contract = contract
        self.tables = tables
        self.anchors: dict[str, pd.Series] = {}  # diagnosis | index_date -> date per source patient id
        self.rejects: list[pd.DataFrame] = []

    # ---- frames

    def _joined(self, mapping: Mapping, table: _Table) -> pd.DataFrame:
        frame = table.frame
        for file_id in mapping.join:
            parts = [t.frame for t in self.tables.get(file_id, [])]
            spec = self.contract.files[file_id]
            drop = {spec.patient_id, *spec.identifiers, *spec.linkage_columns(), "_row"}
            if parts:
                other = pd.concat(parts, ignore_index=True).drop_duplicates("_pid", keep="first")
                other = other.drop(columns=[c for c in other.columns if c in drop])
            else:
                other = pd.DataFrame({"_pid": pd.Series(dtype="string")})
            other = other.rename(
                columns={c: f"{file_id}.{c}" for c in other.columns if c in frame.columns and c != "_pid"}
            )
            merged = frame.merge(other, on="_pid", how="left", sort=False)
            merged.index = frame.index
            frame = merged
        needed = mapping.columns()
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise DeliveryError(
                self.contract.source_id, table.name,
                f"missing column(s) {missing} used by a {mapping.entity} mapping (joined files: {list(mapping.join)})",
            )  # fmt: skip
        return frame

    # ---- one field

    def _evaluate(
        self, name: str, spec: FieldSpec, frame: pd.DataFrame, target: canonical.Field, file: FileSpec
    ):
        problems: list[_Problem] = []
        index = frame.index
        if spec.has_const:
            const = spec.const
            if isinstance(const, str) or target.dtype == "VARCHAR":  # typed once, not per row
                raw = pd.Series(as_text(pd.Series([const])).iloc[0], index=index, dtype="string")
            else:
                raw = pd.Series(const, index=index, dtype=object if const is None else None)
        elif spec.offset:
            return self._offset(name, spec, frame, target, file)
        else:
            raw = frame[spec.column]
        values = raw
        if spec.value_map:
            values = apply_map(raw, spec.value_map)
        dtype = target.dtype
        if dtype == "VARCHAR":
            out = as_text(values).astype("string")
        elif dtype == "DOUBLE":
            out, bad = to_double(values, file.decimal)
            if spec.factor is not None:
                out = out * spec.factor
            problems.append(_Problem(name, "type_double", bad, raw, "not a number"))
        elif dtype == "BIGINT":
            if spec.factor is not None:
                number, bad = to_double(values, file.decimal)
                number = number * spec.factor
                fractional = number.notna() & (number.round() != number)
                out = number.where(~fractional).astype("Int64")
                bad = bad | fractional
            else:
                out, bad = to_bigint(values, file.decimal)
            problems.append(_Problem(name, "type_bigint", bad, raw, "not a whole number"))
        else:
            fmt = spec.format or file.date_format
            out, bad = to_date(values, fmt, spec.origin)
            problems.append(_Problem(name, "type_date", bad, raw, f"not a date in format {fmt}"))
        if spec.when is not None:
            holds = condition_mask(spec.when, frame)
            out = out.where(holds)
            for p in problems:
                p.mask = p.mask & holds
        return out, problems

    def _offset(
        self, name: str, spec: FieldSpec, frame: pd.DataFrame, target: canonical.Field, file: FileSpec
    ):
        problems: list[_Problem] = []
        raw = frame[spec.offset]
        amount, bad = to_double(raw, file.decimal)
        problems.append(_Problem(name, "offset", bad, raw, f"not a number of {spec.offset_unit}"))
        anchor = spec.anchor
        if anchor.entity:
            anchor_dates = frame["_pid"].map(
                self.anchors.get(anchor.entity, pd.Series(dtype="datetime64[ns]"))
            )
            anchor_dates = anchor_dates.astype("datetime64[ns]")
        else:
            anchor_raw = frame[anchor.column]
            anchor_dates, anchor_bad = to_date(anchor_raw, anchor.format or file.date_format)
            problems.append(
                _Problem(name, "anchor", anchor_bad, anchor_raw, f"anchor {anchor.column} is not a date")
            )
        days = (amount * OFFSET_UNITS[spec.offset_unit]).round()
        out = (anchor_dates + pd.to_timedelta(days, unit="D")).astype("datetime64[ns]")
        if spec.when is not None:
            holds = condition_mask(spec.when, frame)
            out = out.where(holds)
            for p in problems:
                p.mask = p.mask & holds
        return out, problems

    # ---- one block of rows (a mapping, or one column of a wide mapping)

    def _block(
        self, mapping: Mapping, frame: pd.DataFrame, specs: dict[str, FieldSpec], table: _Table, shared=None
    ):
        """shared: fields already typed over a larger frame (name -> (values, problems)), taken for
        this block's rows (typing is row by row, so a value is the same typed once or per block)."""
        entity = canonical.ENTITIES[mapping.entity]
        data: dict[str, pd.Series] = {}
        problems: list[_Problem] = []
        for f in entity.fields:
            if shared and f.name in shared and specs.get(f.name) is mapping.fields.get(f.name):
                values, found = shared[f.name]
                data[f.name] = values.reindex(frame.index)
                problems += found  # masks over the larger frame: _collect_problems takes this block's rows
            elif f.name in specs:
                data[f.name], found = self._evaluate(f.name, specs[f.name], frame, f, table.spec)
                problems += found
            else:
                data[f.name] = typed_empty(f.dtype, frame.index)
        if mapping.entity == "lab_result" and "value" in specs:
            self._lab_units(data, specs, frame)
        block = pd.DataFrame(data, index=frame.index)
        block["_pid"] = frame["_pid"]
        block["_row"] = frame["_row"]
        block["_src"] = frame.index
        return block, problems

    def _lab_units(
        self, data: dict[str, pd.Series], specs: dict[str, FieldSpec], frame: pd.DataFrame
    ) -> None:
        """Convert lab values to the canonical unit; fill unit, source_unit, source_value unless mapped."""
        spec = specs["value"]
        index = frame.index
        if spec.unit_column:
            source_unit = as_text(frame[spec.unit_column]).str.strip()
        else:
            source_unit = pd.Series(spec.unit, index=index, dtype="string")
        lab = data["lab"].astype("string")
        canonical_unit = lab.map({k: v[0] for k, v in canonical.LABS.items()}).astype("string")
        pairs = pd.DataFrame({"lab": lab, "unit": source_unit}).drop_duplicates().dropna()
        factors = {
            (r.lab, r.unit): units.factor(r.lab, r.unit) for r in pairs.itertuples(index=False)
        }  # one lookup per distinct (lab, unit), not per row
        table = pd.Series(factors, dtype="float64")
        if table.empty:
            factor = pd.Series(np.nan, index=index)
        else:
            wanted = pd.MultiIndex.from_arrays([lab.fillna(""), source_unit.fillna("")])
            factor = pd.Series(table.reindex(wanted).to_numpy(), index=index)
        has_unit = source_unit.notna()
        known = has_unit & factor.notna()
        data["value"] = data["value"].where(~known, data["value"] * factor)
        unit = canonical_unit.where(~has_unit | known, source_unit)
        if "unit" not in specs:
            data["unit"] = unit.astype("string")
        if "source_unit" not in specs:
            data["source_unit"] = source_unit.astype("string")
        if "source_value" not in specs and spec.column:
            data["source_value"] = as_text(frame[spec.column]).astype("string")

    # ---- one mapping

    def _checks(self, mapping: Mapping, frame: pd.DataFrame, file: FileSpec) -> list[_Problem]:
        problems = []
        for check in mapping.checks:
            raw = frame[check.column]
            number, not_number = to_double(raw, file.decimal)
            bad = not_number | (number < check.low) | (number > check.high)
            if check.whole:
                bad |= number.notna() & (number.round() != number)
            what = "a whole number" if check.whole else "a number"
            reason = f"not {what} from {check.low:g} to {check.high:g}"
            problems.append(_Problem(check.column, "check", bad.fillna(False).astype(bool), raw, reason))
        return problems

    def map(self, mapping: Mapping) -> list[pd.DataFrame]:
        blocks = []
        listed = []
        for table in self.tables.get(mapping.from_file, []):
            frame = self._joined(mapping, table)
            if mapping.panel:
                listed.append(self._listed_genes(mapping, frame, table))
            for condition in mapping.where:
                frame = frame[condition_mask(condition, frame)]
            shared = None
            if mapping.wide is None:
                parts = [(frame, dict(mapping.fields))]
            else:
                # the mapping's own fields are typed once for all its wide columns (a gene panel has 30),
                # and each wide column's rows carry only the columns its block reads
                entity = canonical.ENTITIES[mapping.entity]
                shared = {
                    name: self._evaluate(name, spec, frame, entity.get(name), table.spec)
                    for name, spec in mapping.fields.items()
                    if name in entity.field_names
                }
                common = ["_pid", "_row", *(c for spec in mapping.fields.values() for c in spec.columns())]
                common += [c.column for c in mapping.checks]
                parts = []
                for w in mapping.wide.columns:
                    columns = list(dict.fromkeys([*common, *w.spec.columns()]))
                    present = frame.loc[frame[w.column].notna(), columns]
                    specs = dict(mapping.fields)
                    specs[mapping.wide.key] = FieldSpec(const=w.label, has_const=True)
                    specs[mapping.wide.value] = w.spec
                    parts.append((present, specs))
            for part, specs in parts:
                block, problems = self._block(mapping, part, specs, table, shared)
                problems += self._checks(mapping, part, table.spec)
                block = self._collect_problems(mapping, block, problems, table, part, specs)
                if mapping.skip_if_missing:
                    block = block[block[list(mapping.skip_if_missing)].notna().any(axis=1)]
                block["_file"] = table.name
                blocks.append(block)
        if mapping.panel and listed:
            blocks.append(self._panel_wildtypes(mapping, pd.concat(listed, ignore_index=True)))
        return blocks

    # ---- a gene panel: genes a one-row-per-variant file does not list are wild type

    def _listed_genes(self, mapping: Mapping, frame: pd.DataFrame, table: _Table) -> pd.DataFrame:
        """(patient, gene) of every row of the variant file, conditions and rejects aside: a listed gene
        is never implied wild type, even when its row is quarantined. A patient with a malformed line is
        listed with gene NULL (what the line held is unknown)."""
        gene, _ = self._evaluate("gene", mapping.fields["gene"], frame, canonical.ENTITIES["mutation"].get("gene"),
                                 table.spec)  # fmt: skip
        lost = pd.Series(sorted(table.malformed_pids), dtype="string")
        return pd.DataFrame(
            {
                "_pid": pd.concat([frame["_pid"].astype("string"), lost], ignore_index=True),
                "gene": pd.concat([gene.str.strip().str.upper(), pd.Series(pd.NA, index=lost.index, dtype="string")],
                                  ignore_index=True),
            }
        )  # fmt: skip

    def _panel_wildtypes(self, mapping: Mapping, listed: pd.DataFrame) -> pd.DataFrame:
        """One wild-type row per patient of the delivery and panel gene the variant file does not list.
        Patients with a listed gene that is missing or off the panel get none: their listing is not read
        as the panel's full result. Lineage: the patient's first row in the first file holding them."""
        panel = pd.Series(mapping.panel, dtype="string")
        on_panel = listed["gene"].isin(panel.str.upper()).fillna(False).astype(bool)
        unsure = set(listed.loc[~on_panel, "_pid"])
        firsts = []
        for file_id in self.contract.files:
            for table in self.tables.get(file_id, []):
                first = table.frame[["_pid", "_row"]].drop_duplicates("_pid")
                firsts.append(first.assign(_file=table.name))
        patients = pd.concat(firsts, ignore_index=True).drop_duplicates("_pid")
        patients = patients[~patients["_pid"].isin(unsure)]
        wanted = patients.merge(pd.DataFrame({"gene": panel, "_key": panel.str.upper()}), how="cross")
        known = listed[on_panel].rename(columns={"gene": "_key"}).drop_duplicates().assign(_listed=True)
        wanted = wanted.merge(known, on=["_pid", "_key"], how="left")
        implied = wanted[wanted["_listed"].isna()].reset_index(drop=True)
        entity = canonical.ENTITIES["mutation"]
        block = pd.DataFrame({f.name: typed_empty(f.dtype, implied.index) for f in entity.fields})
        block["gene"] = implied["gene"].astype("string")
        block["status"] = pd.Series("wildtype", index=implied.index, dtype="string")
        block["_pid"] = implied["_pid"].astype("string")
        block["_row"] = implied["_row"].to_numpy()
        block["_src"] = -1  # never rejected, so never looked up
        block["_file"] = implied["_file"].to_numpy()
        return block

    def _collect_problems(self, mapping, block, problems, table: _Table, frame, specs) -> pd.DataFrame:
        failed = pd.Series(False, index=block.index)
        linkage = set(table.spec.linkage_columns()) | set(table.spec.identifiers)
        for p in problems:
            mask = p.mask.reindex(block.index, fill_value=False).astype(bool)
            if not mask.any():
                continue
            if mapping.skip_if_missing:  # a row of absent data makes no row, so it is no reject either
                skip_fields = list(mapping.skip_if_missing)
                present = block[skip_fields].notna().any(axis=1)
                for q in problems:
                    if q.field in skip_fields:
                        present |= q.mask.reindex(block.index, fill_value=False).astype(bool)
                mask &= present
                if not mask.any():
                    continue
            spec = specs.get(p.field)
            source_col = spec.column or spec.offset if spec else p.field  # a check names its column
            values = as_text(p.values.reindex(block.index)[mask])
            if source_col in linkage:
                values = pd.Series(WITHHELD, index=values.index, dtype="string")
            record = _records(table, block.loc[mask, "_src"])
            self.rejects.append(
                _reject_frame(
                    self.contract.source_id, table.name, block.loc[mask, "_row"], mapping.entity, p.field,
                    p.rule, values, pd.Series(f"{p.field}: {p.reason}", index=values.index, dtype="string"), record,
                )
            )  # fmt: skip
            failed |= mask
        return block[~failed]


def _records(table: _Table, src: pd.Series) -> pd.Series:
    """The source rows as JSON (no identifiers, linkage, patient id, ignored or date columns)."""
    cols = [c for c in table.frame.columns if c not in table.private and not c.startswith("_")]
    rows = table.frame.loc[src.to_numpy(), cols]
    if rows.empty:
        return pd.Series(dtype="string", index=src.index)
    text = rows.to_json(
        orient="records", lines=True, date_format="iso", force_ascii=False, default_handler=str
    )
    return pd.Series(text.strip("\n").split("\n"), index=src.index, dtype="string")


def _reject_frame(
    source_id, file_name, rows, entity, field_name, rule, values, reasons, records
) -> pd.DataFrame:
    n = len(rows)
    return pd.DataFrame(
        {
            "source_id": pd.Series([source_id] * n, dtype="string"),
            "delivery_id": pd.Series([pd.NA] * n, dtype="string"),
            "file_name": pd.Series([file_name] * n, dtype="string"),
            "row_number": np.asarray(rows, dtype="int64"),
            "entity": pd.Series([entity] * n, dtype="string"),
            "field": pd.Series([field_name] * n, dtype="string"),
            "rule": pd.Series([rule] * n, dtype="string"),
            "value": pd.Series(np.asarray(values, dtype=object), dtype="string"),
            "reason": pd.Series(np.asarray(reasons, dtype=object), dtype="string"),
            "record": pd.Series(np.asarray(records, dtype=object), dtype="string"),
        }
    )


# ------------------------------------------------------------------------------------------- main


def read_delivery(contract: Contract, delivery_dir: Path, key: bytes, settings=None) -> DeliveryRead:
    """Read one delivery folder with its contract (see docs/contracts.md)."""
    from harmony_pipeline.settings import get_settings

    settings = settings or get_settings()
    delivery_dir = Path(delivery_dir)
    if not delivery_dir.is_dir():
        raise DeliveryError(contract.source_id, str(delivery_dir), "delivery folder does not exist")
    delivery_id = delivery_dir.name
    rejects: list[pd.DataFrame] = []
    warnings: list[str] = []
    found = _find_files(contract, delivery_dir)
    tables, rows_read = _load_tables(contract, delivery_dir, found, rejects, warnings)
    keys = _Keys(contract, tables, key)
    mapper = _Mapper(contract, tables)
    mapper.rejects = rejects

    entities: dict[str, pd.DataFrame] = {}
    for entity_name in canonical.ENTITIES:
        entities[entity_name] = empty_entity(entity_name)
    internal: dict[str, pd.DataFrame] = {}
    for entity_name in [e for e in ENTITY_ORDER if e in contract.entities]:
        blocks = [b for m in contract.entities[entity_name] for b in mapper.map(m)]
        frame = pd.concat(blocks, ignore_index=True) if blocks else None
        if frame is None or frame.empty:
            continue
        frame = _defaults(contract, entity_name, frame)
        internal[entity_name] = frame
        if entity_name == "patient":
            idx = frame.dropna(subset=["index_date"]).drop_duplicates("_pid")
            mapper.anchors["index_date"] = idx.set_index("_pid")["index_date"]
        if entity_name == "diagnosis":
            mapper.anchors["diagnosis"] = (
                frame.dropna(subset=["diagnosis_date"]).groupby("_pid")["diagnosis_date"].min()
            )

    for entity_name, frame in internal.items():
        entities[entity_name] = _finish(contract, entity_name, frame, delivery_id, keys, key, settings)

    all_rejects = pd.concat(rejects, ignore_index=True) if rejects else empty_rejects()
    all_rejects["delivery_id"] = pd.Series([delivery_id] * len(all_rejects), dtype="string")
    all_rejects = all_rejects.sort_values(["file_name", "row_number", "entity", "field"], kind="stable")
    files = sorted(t.name for ts in tables.values() for t in ts)
    return DeliveryRead(
        contract.source_id,
        delivery_id,
        entities,
        all_rejects.reset_index(drop=True),
        files,
        warnings,
        rows_read,
    )


def read_delivery_result(contract: Contract, delivery_dir: Path, key: bytes, settings) -> tuple:
    """read_delivery with a failure as its message: (read or None, error or None, seconds).

    Ingest runs it in a reader process (ingest.load._read_ahead), so errors travel back as text, an
    unexpected one with its traceback logged; this module imports neither the gate nor Great Expectations,
    which keeps the process quick to start.
    """
    started = time.monotonic()
    try:
        return read_delivery(contract, delivery_dir, key, settings), None, time.monotonic() - started
    except DeliveryError as exc:
        return None, str(exc), time.monotonic() - started
    except Exception as exc:  # a bad file must not stop the other deliveries; keep the cause
        source_id, delivery_id = contract.source_id, Path(delivery_dir).name
        log.error("delivery %s/%s failed:\n%s", source_id, delivery_id, traceback.format_exc())
        error = f"source {source_id}: delivery {delivery_id}: unexpected {type(exc).__name__}: {exc}"
        return None, error, time.monotonic() - started


def _defaults(contract: Contract, entity: str, frame: pd.DataFrame) -> pd.DataFrame:
    mapped = {f for m in contract.entities[entity] for f in m.fields} | {
        x for m in contract.entities[entity] if m.wide for x in (m.wide.key, m.wide.value)
    }
    if entity == "patient":
        if "provider_kind" not in mapped:
            frame["provider_kind"] = pd.Series(contract.provider_kind, index=frame.index, dtype="string")
        if "country" not in mapped and contract.country:
            frame["country"] = pd.Series(contract.country, index=frame.index, dtype="string")
        if "birth_year" not in mapped:
            # from the birth date before shifting: the year is what the source delivered
            frame["birth_year"] = frame["birth_date"].dt.year.astype("Int64")
    if entity == "diagnosis" and "disease" not in mapped and len(contract.diseases) == 1:
        frame["disease"] = pd.Series(contract.diseases[0], index=frame.index, dtype="string")
    return frame


def _finish(contract, entity: str, frame: pd.DataFrame, delivery_id: str, keys: _Keys, key: bytes, settings):
    patient, person, days = keys.of_rows(frame["_pid"], settings.date_shift_days)
    out = pd.DataFrame(
        {
            "source_id": pd.Series(contract.source_id, index=frame.index, dtype="string"),
            "delivery_id": pd.Series(delivery_id, index=frame.index, dtype="string"),
            "file_name": frame["_file"].astype("string"),
            "row_number": frame["_row"].astype("int64"),  # lineage is never null
            "patient_key": patient,
            "person_key": person,
        }
    )
    shift = None
    for f in canonical.ENTITIES[entity].fields:
        column = frame[f.name]
        if f.dtype == "DATE":
            if shift is None:  # whole days (NaN: NaT) cast by numpy: pd.to_timedelta(unit="D") is 28x slower
                shift = days.to_numpy().astype("timedelta64[D]").astype("timedelta64[ns]")
            column = column.astype("datetime64[ns]") + shift
        out[f.name] = column.astype(PANDAS_DTYPES[f.dtype])
    out.index = pd.RangeIndex(len(out))  # as reset_index(drop=True), without copying every column
    return out
