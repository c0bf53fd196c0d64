"""The source-contract model: YAML -> validated dataclasses (the language is docs/contracts.md).

Validation is strict (unknown keys are errors) so a typo in a contract fails at load time with the file
and the key path, not as silently missing data later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harmony_pipeline import canonical

FORMATS = ("csv", "tsv", "excel", "json", "parquet", "sas")
OFFSET_UNITS = {"days": 1.0, "weeks": 7.0, "months": 30.4375, "years": 365.25}  # mean Gregorian month/year
ENTITY_ANCHORS = ("diagnosis", "index_date")
LINKAGE_PARTS = ("birth_date", "sex", "initials")
DEFAULT_MISSING = ("", "NA", "N/A", "NULL", "null", "NaN")
# patient and diagnosis first: other entities may anchor times on them
ENTITY_ORDER = ("patient", "diagnosis") + tuple(
    e for e in canonical.ENTITIES if e not in ("patient", "diagnosis")
)
_SOURCE_ID = re.compile(r"^[a-z0-9_]+$")


class ContractError(ValueError):
    """A contract file that is not valid; the message names the file and the key."""


def normalise_label(value: Any) -> str:
    """The text a label or a cell is compared as: stripped, case-folded, integral numbers without .0."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().casefold()


@dataclass(frozen=True)
class Condition:
    column: str
    op: str  # in | not_in | present
    values: tuple[str, ...] = ()  # normalised labels
    present: bool = True


@dataclass(frozen=True)
class Anchor:
    entity: str | None = None  # diagnosis | index_date
    column: str | None = None
    format: str | None = None


@dataclass(frozen=True)
class FieldSpec:
    column: str | None = None
    const: Any = None
    has_const: bool = False
    value_map: dict[str, str] | None = None  # normalised label -> canonical code
    format: str | None = None
    origin: str | None = None
    factor: float | None = None
    unit: str | None = None
    unit_column: str | None = None
    offset: str | None = None
    offset_unit: str = "days"
    anchor: Anchor | None = None
    when: Condition | None = None

    def columns(self) -> list[str]:
        """Source columns this spec reads."""
        cols = [self.column, self.unit_column, self.offset]
        if self.anchor and self.anchor.column:
            cols.append(self.anchor.column)
        if self.when:
            cols.append(self.when.column)
        return [c for c in cols if c]


@dataclass(frozen=True)
class WideColumn:
    column: str
    label: str
    spec: FieldSpec  # cell spec merged with the column's own options; column = the source column


@dataclass(frozen=True)
class WideSpec:
    key: str
    value: str
    columns: tuple[WideColumn, ...]


@dataclass(frozen=True)
class Check:
    """A source column a mapping relies on without mapping it (e.g. in a condition): a present value that
    is not a number in [low, high] (whole when `whole`) rejects the rows the mapping makes from its row."""

    column: str
    low: float
    high: float
    whole: bool = False


@dataclass(frozen=True)
class Mapping:
    entity: str
    from_file: str
    join: tuple[str, ...] = ()
    where: tuple[Condition, ...] = ()  # all must hold
    skip_if_missing: tuple[str, ...] = ()
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    wide: WideSpec | None = None
    panel: tuple[str, ...] = ()  # mutation, one row per variant: genes tested for every patient
    checks: tuple[Check, ...] = ()

    def columns(self) -> list[str]:
        cols = [c for spec in self.fields.values() for c in spec.columns()]
        cols += [c.column for c in self.where]
        cols += [c.column for c in self.checks]
        if self.wide:
            cols += [c for w in self.wide.columns for c in w.spec.columns()]
        return list(dict.fromkeys(cols))


@dataclass(frozen=True)
class FileSpec:
    id: str
    pattern: str
    format: str
    patient_id: str
    required: bool = True
    identifiers: tuple[str, ...] = ()
    linkage: dict[str, FieldSpec] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    missing_values: tuple[str, ...] = DEFAULT_MISSING
    date_format: str = "%Y-%m-%d"
    decimal: str = "."
    delimiter: str = ","
    encoding: str = "utf-8"
    quotechar: str = '"'
    header: bool = True
    names: tuple[str, ...] = ()
    skip_rows: int = 0
    sheet: str | int | None = None
    records: str | None = None
    parent_fields: tuple[str, ...] = ()

    def linkage_columns(self) -> list[str]:
        return list(dict.fromkeys(c for spec in self.linkage.values() for c in spec.columns()))


@dataclass(frozen=True)
class Contract:
    source_id: str
    name: str
    provider_kind: str
    diseases: tuple[str, ...]
    country: str | None
    files: dict[str, FileSpec]
    entities: dict[str, tuple[Mapping, ...]]
    path: Path | None = None

    def mappings(self) -> list[Mapping]:
        """All mappings in processing order (patient, diagnosis, then the rest)."""
        return [m for e in ENTITY_ORDER for m in self.entities.get(e, ())]

    def used_columns(self, file_id: str) -> list[str]:
        """Columns of one file that the contract reads (other files' mappings may join it)."""
        spec = self.files[file_id]
        cols = [spec.patient_id, *spec.linkage_columns()]
        for m in self.mappings():
            if m.from_file == file_id:
                cols += m.columns()
        return list(dict.fromkeys(cols))


# ---------------------------------------------------------------------------------------------- parsing


class _Reader:
    """Walks the YAML with a key path, so every error names the file and where in it."""

    def __init__(self, path: Path | str):
        self.path = path

    def fail(self, where: str, message: str) -> ContractError:
        return ContractError(f"{self.path}: {where}: {message}")

    def mapping(self, value: Any, where: str, allowed: set[str], required: set[str] = frozenset()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a mapping, got {type(value).__name__}")
        unknown = sorted(set(map(str, value)) - allowed)
        if unknown:
            raise self.fail(where, f"unknown key(s) {unknown}; allowed: {sorted(allowed)}")
        missing = sorted(required - set(value))
        if missing:
            raise self.fail(where, f"missing required key(s) {missing}")
        return value

    def string(self, value: Any, where: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(where, f"expected text, got {value!r}")
        return str(value)

    def strings(self, value: Any, where: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, (str, int, float)):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list, got {type(value).__name__}")
        return tuple(self.string(v, f"{where}[{i}]") for i, v in enumerate(value))

    def condition(self, value: Any, where: str) -> Condition:
        data = self.mapping(value, where, {"column", "in", "not_in", "present"}, {"column"})
        ops = [k for k in ("in", "not_in", "present") if k in data]
        if len(ops) != 1:
            raise self.fail(where, "a condition needs exactly one of in, not_in, present")
        column = self.string(data["column"], f"{where}.column")
        if ops[0] == "present":
            return Condition(column, "present", present=bool(data["present"]))
        values = tuple(normalise_label(v) for v in self.strings(data[ops[0]], f"{where}.{ops[0]}"))
        return Condition(column, ops[0], values)

    def anchor(self, value: Any, where: str) -> Anchor:
        if isinstance(value, str):
            return Anchor(entity=value) if value in ENTITY_ANCHORS else Anchor(column=value)
        data = self.mapping(value, where, {"column", "format"}, {"column"})
        fmt = data.get("format")
        return Anchor(column=self.string(data["column"], f"{where}.column"), format=fmt and str(fmt))

    def field_spec(self, value: Any, where: str, target: canonical.Field | None) -> FieldSpec:
        if isinstance(value, str):
            return FieldSpec(column=value)
        allowed = {
            "column", "const", "map", "format", "origin", "factor", "unit", "unit_column",
            "offset", "offset_unit", "anchor", "when", "label",
        }  # fmt: skip
        data = self.mapping(value, where, allowed)
        sources = [k for k in ("column", "const", "offset") if k in data]
        if len(sources) != 1 and where.split(".")[-1] != "cell":
            raise self.fail(where, "a field needs exactly one of column, const, offset")
        value_map = None
        if "map" in data:
            raw = self.mapping(data["map"], f"{where}.map", {str(k) for k in data["map"] or {}})
            value_map = {normalise_label(k): self.string(v, f"{where}.map.{k}") for k, v in raw.items()}
            if target is not None and target.allowed:
                bad = sorted({v for v in value_map.values() if v not in target.allowed})
                if bad:
                    raise self.fail(
                        f"{where}.map",
                        f"maps to {bad}, not canonical codes of {target.name}: {target.allowed}",
                    )
        offset_unit = str(data.get("offset_unit", "days"))
        if offset_unit not in OFFSET_UNITS:
            raise self.fail(f"{where}.offset_unit", f"{offset_unit!r} is not one of {list(OFFSET_UNITS)}")
        if "offset" in data and "anchor" not in data:
            raise self.fail(where, "offset needs an anchor (diagnosis, index_date or a date column)")
        if target is not None and ("offset" in data or "format" in data or "origin" in data):
            if target.dtype != "DATE":
                raise self.fail(
                    where, f"offset/format/origin apply to dates; {target.name} is {target.dtype}"
                )
        factor = data.get("factor")
        if factor is not None and (isinstance(factor, bool) or not isinstance(factor, (int, float))):
            raise self.fail(f"{where}.factor", f"expected a number, got {factor!r}")
        const = data.get("const")
        return FieldSpec(
            column=data.get("column") and self.string(data["column"], f"{where}.column"),
            const=const,
            has_const="const" in data,
            value_map=value_map,
            format=data.get("format") and str(data["format"]),
            origin=data.get("origin") and str(data["origin"]),
            factor=None if factor is None else float(factor),
            unit=data.get("unit") and str(data["unit"]),
            unit_column=data.get("unit_column") and str(data["unit_column"]),
            offset=data.get("offset") and self.string(data["offset"], f"{where}.offset"),
            offset_unit=offset_unit,
            anchor=self.anchor(data["anchor"], f"{where}.anchor") if "anchor" in data else None,
            when=self.condition(data["when"], f"{where}.when") if "when" in data else None,
        )

    def wide(self, value: Any, where: str, entity: canonical.Entity) -> WideSpec:
        data = self.mapping(value, where, {"key", "value", "columns", "cell"}, {"key", "value", "columns"})
        key, val = str(data["key"]), str(data["value"])
        for name, f in (("key", key), ("value", val)):
            if f not in entity.field_names:
                raise self.fail(
                    f"{where}.{name}", f"{f!r} is not a field of {entity.name}: {entity.field_names}"
                )
        key_field, value_field = entity.get(key), entity.get(val)
        cell = data.get("cell") or {}
        self.mapping(cell, f"{where}.cell", {"map", "format", "origin", "factor", "unit", "unit_column"})
        columns = data["columns"]
        if isinstance(columns, list):
            columns = {str(c): str(c) for c in columns}
        self.mapping(columns, f"{where}.columns", {str(k) for k in columns or {}})
        if not columns:
            raise self.fail(f"{where}.columns", "lists no column")
        out = []
        for column, item in columns.items():
            item_where = f"{where}.columns.{column}"
            options = dict(cell)
            if isinstance(item, dict):
                self.mapping(
                    item, item_where, {"label", "map", "format", "origin", "factor", "unit"}, {"label"}
                )
                label = self.string(item["label"], f"{item_where}.label")
                options.update({k: v for k, v in item.items() if k != "label"})
            else:
                label = self.string(item, item_where)
            if key_field.allowed and label not in key_field.allowed:
                raise self.fail(item_where, f"label {label!r} is not a canonical {key}: {key_field.allowed}")
            spec = self.field_spec({**options, "column": str(column)}, item_where, value_field)
            out.append(WideColumn(str(column), label, spec))
        return WideSpec(key, val, tuple(out))

    def file_spec(self, file_id: str, value: Any, defaults: dict) -> FileSpec:
        where = f"files.{file_id}"
        allowed = {
            "pattern", "format", "required", "patient_id", "identifiers", "linkage", "ignore",
            "missing_values", "date_format", "decimal", "delimiter", "encoding", "quotechar", "header",
            "names", "skip_rows", "sheet", "records", "parent_fields",
        }  # fmt: skip
        data = self.mapping(value, where, allowed, {"pattern", "format", "patient_id"})
        fmt = str(data["format"])
        if fmt not in FORMATS:
            raise self.fail(f"{where}.format", f"{fmt!r} is not one of {list(FORMATS)}")
        linkage_raw = self.mapping(data.get("linkage") or {}, f"{where}.linkage", set(LINKAGE_PARTS))
        linkage = {
            part: self.field_spec(spec, f"{where}.linkage.{part}", canonical.ENTITIES["patient"].get(part))
            if part != "initials"
            else self.field_spec(spec, f"{where}.linkage.{part}", None)
            for part, spec in linkage_raw.items()
        }
        header = data.get("header", True)
        names = self.strings(data.get("names"), f"{where}.names")
        if header is False and not names:
            raise self.fail(where, "header: false needs names")
        if fmt == "json" and data.get("records") is None:
            raise self.fail(where, "format json needs records (e.g. patients[] or patients[].labs[])")
        delimiter = "\t" if fmt == "tsv" else str(data.get("delimiter", ","))
        if len(delimiter) != 1 or len(str(data.get("quotechar", '"'))) != 1:
            raise self.fail(where, "delimiter and quotechar must be single characters")
        missing = data.get("missing_values", defaults.get("missing_values", list(DEFAULT_MISSING)))
        sheet = data.get("sheet")
        return FileSpec(
            id=file_id,
            pattern=self.string(data["pattern"], f"{where}.pattern"),
            format=fmt,
            patient_id=self.string(data["patient_id"], f"{where}.patient_id"),
            required=bool(data.get("required", True)),
            identifiers=self.strings(data.get("identifiers"), f"{where}.identifiers"),
            linkage=linkage,
            ignore=self.strings(data.get("ignore"), f"{where}.ignore"),
            missing_values=self.strings(missing, f"{where}.missing_values"),
            date_format=str(data.get("date_format", defaults.get("date_format", "%Y-%m-%d"))),
            decimal=str(data.get("decimal", defaults.get("decimal", "."))),
            delimiter=delimiter,
            encoding=str(data.get("encoding", "utf-8")),
            quotechar=str(data.get("quotechar", '"')),
            header=bool(header),
            names=names,
            skip_rows=int(data.get("skip_rows", 0)),
            sheet=sheet if isinstance(sheet, int) or sheet is None else str(sheet),
            records=data.get("records") and str(data["records"]),
            parent_fields=self.strings(data.get("parent_fields"), f"{where}.parent_fields"),
        )

    def conditions(self, value: Any, where: str) -> tuple[Condition, ...]:
        """One condition, or a list of conditions that must all hold."""
        if isinstance(value, list):
            if not value:
                raise self.fail(where, "an empty list of conditions")
            return tuple(self.condition(v, f"{where}[{i}]") for i, v in enumerate(value))
        return (self.condition(value, where),)

    def checks(self, value: Any, where: str) -> tuple[Check, ...]:
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.fail(where, "expected a list of checks ({column: X, range: [low, high]})")
        out = []
        for i, item in enumerate(value):
            at = f"{where}[{i}]"
            data = self.mapping(item, at, {"column", "range", "whole"}, {"column", "range"})
            bounds = data["range"]
            if (
                not isinstance(bounds, list)
                or len(bounds) != 2
                or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
                or bounds[0] > bounds[1]
            ):
                raise self.fail(
                    f"{at}.range", f"expected [low, high] numbers with low <= high, got {bounds!r}"
                )
            out.append(
                Check(self.string(data["column"], f"{at}.column"), float(bounds[0]), float(bounds[1]),
                      bool(data.get("whole", False)))
            )  # fmt: skip
        return tuple(out)

    def panel(self, value: Any, where: str, entity: canonical.Entity, data: dict) -> tuple[str, ...]:
        """A gene panel: only on a mutation mapping that makes one row per reported variant."""
        if entity.name != "mutation":
            raise self.fail(where, "panel applies to mutation mappings only")
        if "wide" in data:
            raise self.fail(where, "panel applies to one-row-per-variant mappings, not to wide ones")
        fields = data.get("fields") or {}
        if "gene" not in fields:
            raise self.fail(where, "a mapping with a panel must map gene")
        genes = self.strings(value, where)
        if not genes:
            raise self.fail(where, "lists no gene")
        return tuple(dict.fromkeys(genes))

    def entity_mapping(self, entity: canonical.Entity, value: Any, where: str, files: dict) -> Mapping:
        allowed = {"from", "join", "where", "skip_if_missing", "fields", "wide", "panel", "check"}
        data = self.mapping(value, where, allowed, {"from"})
        from_file = str(data["from"])
        join = self.strings(data.get("join"), f"{where}.join")
        for f in (from_file, *join):
            if f not in files:
                raise self.fail(where, f"file {f!r} is not declared under files: {list(files)}")
        fields_raw = self.mapping(data.get("fields") or {}, f"{where}.fields", set(entity.field_names))
        fields = {
            name: self.field_spec(spec, f"{where}.fields.{name}", entity.get(name))
            for name, spec in fields_raw.items()
        }
        wide = self.wide(data["wide"], f"{where}.wide", entity) if "wide" in data else None
        if wide and (wide.key in fields or wide.value in fields):
            raise self.fail(where, f"{wide.key}/{wide.value} come from wide; do not map them in fields too")
        skip = self.strings(data.get("skip_if_missing"), f"{where}.skip_if_missing")
        for name in skip:
            if name not in entity.field_names:
                raise self.fail(f"{where}.skip_if_missing", f"{name!r} is not a field of {entity.name}")
        for name, spec in fields.items():
            if spec.anchor and spec.anchor.entity:
                order = ENTITY_ORDER.index
                source = "patient" if spec.anchor.entity == "index_date" else "diagnosis"
                if order(source) >= order(entity.name):
                    raise self.fail(
                        f"{where}.fields.{name}.anchor", f"{entity.name} cannot anchor on {source}"
                    )
        if not fields and not wide:
            raise self.fail(where, "a mapping needs fields or wide")
        where_cond = self.conditions(data["where"], f"{where}.where") if "where" in data else ()
        panel = self.panel(data["panel"], f"{where}.panel", entity, data) if "panel" in data else ()
        checks = self.checks(data["check"], f"{where}.check") if "check" in data else ()
        return Mapping(entity.name, from_file, join, where_cond, skip, fields, wide, panel, checks)


def parse_contract(data: Any, path: Path | str = "<contract>") -> Contract:
    """Validate one contract's YAML data; raises ContractError naming the file and the key."""
    r = _Reader(path)
    top = {
        "source_id", "name", "provider_kind", "diseases", "country", "missing_values", "date_format",
        "decimal", "files", "entities",
    }  # fmt: skip
    data = r.mapping(data, "top level", top, {"source_id", "provider_kind", "diseases", "files", "entities"})
    source_id = r.string(data["source_id"], "source_id")
    if not _SOURCE_ID.match(source_id):
        raise r.fail("source_id", f"{source_id!r} must match [a-z0-9_]+")
    kind = str(data["provider_kind"])
    if kind not in canonical.PROVIDER_KINDS:
        raise r.fail("provider_kind", f"{kind!r} is not one of {list(canonical.PROVIDER_KINDS)}")
    diseases = r.strings(data["diseases"], "diseases")
    bad = [d for d in diseases if d not in canonical.DISEASES]
    if bad or not diseases:
        raise r.fail("diseases", f"{bad or 'empty'}: diseases come from {list(canonical.DISEASES)}")
    defaults = {k: data[k] for k in ("missing_values", "date_format", "decimal") if k in data}
    files_raw = r.mapping(data["files"], "files", {str(k) for k in data["files"] or {}})
    if not files_raw:
        raise r.fail("files", "declares no file")
    files = {str(fid): r.file_spec(str(fid), spec, defaults) for fid, spec in files_raw.items()}
    entities_raw = r.mapping(data["entities"], "entities", set(canonical.ENTITIES))
    entities = {}
    for name, mappings in entities_raw.items():
        if isinstance(mappings, dict):
            mappings = [mappings]
        if not isinstance(mappings, list) or not mappings:
            raise r.fail(f"entities.{name}", "expected a list of mappings")
        entity = canonical.ENTITIES[name]
        entities[name] = tuple(
            r.entity_mapping(entity, m, f"entities.{name}[{i}]", files) for i, m in enumerate(mappings)
        )
    country = data.get("country")
    return Contract(
        source_id=source_id,
        name=str(data.get("name", source_id)),
        provider_kind=kind,
        diseases=diseases,
        country=None if country is None else str(country),
        files=files,
        entities=entities,
        path=Path(path) if not isinstance(path, Path) else path,
    )


def load_contract(path: Path) -> Contract:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise ContractError(f"{path}: cannot be read: {exc}") from exc
    return parse_contract(data, path)


def load_contracts(settings) -> dict[str, Contract]:
    """Every contract of settings.contract_dirs(), in order: a later directory's source_id wins."""
    contracts: dict[str, Contract] = {}
    for directory in settings.contract_dirs():
        directory = Path(directory)
        if not directory.is_dir():
            continue
        seen: dict[str, Path] = {}
        for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
            contract = load_contract(path)
            if contract.source_id in seen:
                raise ContractError(
                    f"{path}: source_id {contract.source_id!r} is also declared in {seen[contract.source_id]}"
                )
            seen[contract.source_id] = path
            contracts[contract.source_id] = contract
    return dict(sorted(contracts.items()))
