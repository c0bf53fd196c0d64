"""Readers: one delivered file -> a DataFrame of its columns, with data row numbers and malformed lines.

Text formats are read as text (typing happens in the mapping, so a bad value becomes a reject naming its
field); typed formats (Excel, Parquet, SAS, JSON) keep their native values. Every reader strips
surrounding blanks and turns the missing-value tokens into NA. A file that cannot be read at all raises
DeliveryError naming source, file and cause.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from harmony_pipeline.contracts.model import FileSpec

_SNIFF_BYTES = 64 * 1024
_MAX_BLOCK = 1 << 30  # a block must hold the largest field; one block up to 1 GiB


class DeliveryError(Exception):
    """A delivery (or one of its files) that cannot be read at all."""

    def __init__(self, source_id: str, file: str, cause: str):
        self.source_id, self.file, self.cause = source_id, file, cause
        super().__init__(f"source {source_id}: file {file}: {cause}")


@dataclass
class RawFile:
    path: Path
    frame: pd.DataFrame  # columns as delivered; index 0..n-1
    row_numbers: np.ndarray  # 1-based data row of each frame row in the file
    malformed: pd.DataFrame  # row_number, value (the line), reason


def read_file(spec: FileSpec, path: Path, source_id: str, documents: dict | None = None) -> RawFile:
    """documents: JSON documents already parsed, by path and encoding (the file specs of a delivery
    that take records from one document share it, so it is parsed once); filled as they are parsed."""

    def fail(cause: str) -> DeliveryError:
        return DeliveryError(source_id, path.name, cause)

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise fail(f"cannot be read: {exc}") from exc
    if size == 0:
        raise fail("empty file (0 bytes)")
    if spec.format in ("csv", "tsv"):
        raw = _read_csv(spec, path, size, fail)
    elif spec.format == "excel":
        raw = _read_excel(spec, path, fail)
    elif spec.format == "json":
        raw = _read_json(spec, path, fail, {} if documents is None else documents)
    elif spec.format == "parquet":
        raw = _read_typed(lambda: pd.read_parquet(path), path, fail)
    else:
        raw = _read_typed(lambda: _read_sas(spec, path), path, fail)
    if raw.frame.empty and raw.malformed.empty:
        raise fail("no data rows (header only or empty)")
    raw.frame = _clean(raw.frame, spec.missing_values)
    return raw


def _no_malformed() -> pd.DataFrame:
    return pd.DataFrame({"row_number": pd.Series(dtype="int64"), "value": pd.Series(dtype="string"),
                         "reason": pd.Series(dtype="string")})  # fmt: skip


def _check_columns(columns: list, fail) -> list[str]:
    names = [str(c).strip() for c in columns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise fail(f"duplicate column names {duplicates}")
    return names


def _read_csv(spec: FileSpec, path: Path, size: int, fail) -> RawFile:
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
    wide_encoding = spec.encoding.lower().replace("-", "").startswith(("utf16", "utf32"))
    if b"\x00" in head and not wide_encoding:
        raise fail("binary file, not delimited text (NUL bytes); check the file and the contract's format")
    try:
        text_head = head.decode(spec.encoding, errors="replace")
    except LookupError as exc:
        raise fail(f"unknown encoding {spec.encoding!r}") from exc
    if not text_head.strip():
        raise fail("empty file (blank)")
    delimiter = "\t" if spec.format == "tsv" else spec.delimiter
    if spec.header:
        lines = csv.reader(
            io.StringIO(text_head.lstrip("\ufeff")), delimiter=delimiter, quotechar=spec.quotechar
        )
        try:
            for _ in range(spec.skip_rows):
                next(lines)
            header = next(lines)
        except (StopIteration, csv.Error) as exc:
            raise fail(f"no header line: {exc}") from exc
        names = _check_columns(header, fail)
        skip = spec.skip_rows + 1
    else:
        names, skip = list(spec.names), spec.skip_rows
    malformed: list[tuple[int, str, str]] = []

    def on_invalid(row) -> str:
        reason = f"malformed line: {row.actual_columns} fields, expected {row.expected_columns}"
        malformed.append((row.number - skip, row.text, reason))
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                use_threads=False,  # single-threaded keeps row numbers in invalid_row_handler
                block_size=int(min(max(size + 1, 1 << 20), _MAX_BLOCK)),
                skip_rows=skip,
                column_names=names,
                encoding=spec.encoding,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char=spec.quotechar,
                newlines_in_values=True,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                null_values=[],
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError) as exc:
        message = str(exc)
        if "UTF8" in message or "decode" in message.lower():
            raise fail(f"wrong encoding: not valid {spec.encoding} ({message.splitlines()[0]})") from exc
        if "Empty CSV" in message:
            raise fail("no data rows (header only or empty)") from exc
        raise fail(f"cannot be parsed as {spec.format}: {message.splitlines()[0]}") from exc
    for number, text, _ in malformed:
        if "\n" in text and text.count(spec.quotechar) % 2 == 1:
            raise fail(
                f"unbalanced quote ({spec.quotechar}) in data row {number}: the rest of the file is one field"
            )
    total = table.num_rows + len(malformed)
    if total == 0:
        raise fail("no data rows (header only)")
    if len(malformed) * 2 > total:
        raise fail(
            f"{len(malformed)} of {total} lines malformed (wrong delimiter {delimiter!r}?); "
            f"first: data row {malformed[0][0]}: {malformed[0][2]}"
        )
    bad_rows = np.array([m[0] for m in malformed], dtype=np.int64)
    all_rows = np.arange(1, total + 1, dtype=np.int64)
    row_numbers = all_rows[~np.isin(all_rows, bad_rows)] if len(bad_rows) else all_rows
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    bad = pd.DataFrame(malformed, columns=["row_number", "value", "reason"]) if malformed else _no_malformed()
    return RawFile(path, frame, row_numbers, bad.astype({"row_number": "int64"}))


def _read_typed(read, path: Path, fail) -> RawFile:
    try:
        frame = read()
    except Exception as exc:  # any reader failure is a whole-file failure
        raise fail(
            f"cannot be read: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        ) from exc
    frame.columns = _check_columns(list(frame.columns), fail)
    frame = frame.reset_index(drop=True)
    return RawFile(path, frame, np.arange(1, len(frame) + 1, dtype=np.int64), _no_malformed())


def _read_excel(spec: FileSpec, path: Path, fail) -> RawFile:
    """A sheet through calamine (a Rust reader of .xlsx, .xls, .xlsb and .ods): 2.5x faster than our
    own one-pass XML reader and 6x faster than openpyxl on the 1M bench's 12 MB workbook, with the same
    values as pandas + openpyxl (tests/contracts/test_excel.py)."""
    try:
        book = pd.ExcelFile(path, engine="calamine")
    except Exception as exc:
        raise fail(f"not a readable Excel workbook: {type(exc).__name__}: {exc}") from exc
    with book:
        sheets, sheet = book.sheet_names, spec.sheet
        if sheet is None:
            if len(sheets) > 1:
                raise fail(f"workbook has several sheets {sheets}; name one with sheet:")
            sheet = 0
        elif isinstance(sheet, str) and sheet not in sheets:
            raise fail(f"no sheet {sheet!r}; sheets: {sheets}")
        elif isinstance(sheet, int) and not 0 <= sheet < len(sheets):
            raise fail(f"no sheet number {sheet}; sheets: {sheets}")
        options = {
            "header": spec.skip_rows if spec.header else None,
            "names": list(spec.names) if not spec.header else None,
            "skiprows": None if spec.header else spec.skip_rows,
        }
        return _read_typed(lambda: book.parse(sheet, dtype=object, **options), path, fail)


def _records_path(records: str) -> list[tuple[str, bool]]:
    """'patients[].labs[]' -> [('patients', True), ('labs', True)]; '[]' -> [('', True)]."""
    out = []
    for part in records.split("."):
        is_list = part.endswith("[]")
        out.append((part[:-2] if is_list else part, is_list))
    return out


def _read_json(spec: FileSpec, path: Path, fail, documents: dict) -> RawFile:
    try:
        parsed = (path, spec.encoding)
        if parsed not in documents:
            documents[parsed] = json.loads(path.read_text(encoding=spec.encoding))
        data = documents[parsed]
    except UnicodeDecodeError as exc:
        raise fail(f"wrong encoding: not valid {spec.encoding}") from exc
    except (ValueError, OSError) as exc:
        raise fail(f"not valid JSON: {exc}") from exc
    steps = _records_path(spec.records or "[]")
    node, i = data, 0
    # walk down to the first list: those are the top-level records
    while i < len(steps):
        key, is_list = steps[i]
        if key:
            if not isinstance(node, dict) or key not in node:
                raise fail(f"records path {spec.records!r}: no key {key!r}")
            node = node[key]
        i += 1
        if is_list:
            break
    if not isinstance(node, list):
        raise fail(f"records path {spec.records!r} does not lead to a list")
    nested = [key for key, _ in steps[i:]]
    if not nested:
        return _read_typed(lambda: _normalize(node), path, fail)
    meta = list(dict.fromkeys([spec.patient_id, *spec.parent_fields]))

    def flatten() -> pd.DataFrame:
        # a parent without children has no records, not an error (copied: the document is shared)
        kept = [r if nested[0] in r else {**r, nested[0]: []} for r in node if isinstance(r, dict)]
        return _normalize(kept, nested, meta)

    return _read_typed(flatten, path, fail)


def _normalize(records: list, path: list[str] | None = None, meta: list[str] | None = None) -> pd.DataFrame:
    """pd.json_normalize(records), or with record_path=path, meta=meta, errors="ignore"."""
    fast = _flat_records(records, path, meta)
    if fast is not None:
        return fast
    if not path:
        return pd.json_normalize(records)
    return pd.json_normalize(records, record_path=path, meta=meta, errors="ignore")


class _Unusual(Exception):
    """A JSON shape the flattener leaves to pandas.json_normalize."""


def _flat_records(records: list, path: list[str] | None = None, meta: list[str] | None = None):
    """pd.json_normalize(records) -- or (records, record_path=path, meta=meta, errors="ignore") -- for
    the plain shapes of a delivery (records are dicts, every path leads to a list of dicts), or None for
    anything else. Same columns, order and values; without json_normalize's deep copy of every record
    (half of a large JSON delivery's read time)."""
    if not records:
        return pd.DataFrame()
    try:
        if not path:
            if not all(isinstance(r, dict) for r in records):
                raise _Unusual
            return pd.DataFrame([_flat(r) for r in records])
        rows: list[dict] = []
        lengths: list[int] = []
        metas: dict[str, list] = {m: [] for m in meta}
        _extract(records, path, meta, {}, 0, rows, lengths, metas)
        result = pd.DataFrame(rows)
        for name, values in metas.items():
            if name in result:
                raise _Unusual  # pandas: conflicting metadata name
            array = np.array(values, dtype=object)
            if array.ndim > 1:
                array = np.empty((len(values),), dtype=object)
                for i, value in enumerate(values):
                    array[i] = value
            result[name] = array.repeat(lengths)
        return result
    except _Unusual:
        return None


def _extract(data, path, meta, seen, level, rows, lengths, metas) -> None:
    """json_normalize's _recursive_extract, for dict records and list paths."""
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise _Unusual
    for obj in data:
        if not isinstance(obj, dict) or path[0] not in obj:
            raise _Unusual
        if level == 0:  # a meta field names a key of the top-level record (missing: NaN)
            seen = {m: obj[m] if m in obj else np.nan for m in meta}
        if len(path) > 1:
            _extract(obj[path[0]], path[1:], meta, seen, level + 1, rows, lengths, metas)
            continue
        found = obj[path[0]]
        if found is None or (isinstance(found, float) and np.isnan(found)):
            found = []
        if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
            raise _Unusual
        rows.extend(_flat(r, nested_keys_plain=True) for r in found)
        lengths.append(len(found))
        for m in meta:
            metas[m].append(seen[m])


def _flat(record: dict, nested_keys_plain: bool = False) -> dict:
    """A record with nested objects flattened to 'a.b' keys: its plain values first, then each nested
    object's in order (pandas' order). nested_keys_plain: a nested key holding '.' is left to pandas
    (json_normalize's record path renames such keys its own way)."""
    out = {k: v for k, v in record.items() if not isinstance(v, dict)}
    for key, value in record.items():
        if isinstance(value, dict):
            _flat_into(value, key, out, nested_keys_plain)
    return out


def _flat_into(node: dict, prefix: str, out: dict, nested_keys_plain: bool) -> None:
    for key, value in node.items():
        if nested_keys_plain and "." in key:
            raise _Unusual
        name = f"{prefix}.{key}"
        if isinstance(value, dict):
            _flat_into(value, name, out, nested_keys_plain)
        else:
            out[name] = value


def _read_sas(spec: FileSpec, path: Path) -> pd.DataFrame:
    import pyreadstat

    encoding = None if spec.encoding.lower() in ("utf-8", "utf8") else spec.encoding
    if path.suffix.lower() == ".sas7bdat":
        frame, _ = pyreadstat.read_sas7bdat(str(path), encoding=encoding)
    else:
        frame, _ = pyreadstat.read_xport(str(path), encoding=encoding)
    return frame


def _clean(frame: pd.DataFrame, missing_values: tuple[str, ...]) -> pd.DataFrame:
    """Strip text and turn missing tokens into NA; typed columns keep their dtype."""
    tokens = list(missing_values)
    numeric_tokens = pd.to_numeric(pd.Series(tokens, dtype=object), errors="coerce").dropna().tolist()
    out = {}
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
            arr = pc.utf8_trim_whitespace(pa.array(col.array))
            arr = pc.if_else(pc.is_in(arr, value_set=pa.array(tokens, type=arr.type)), None, arr)
            out[name] = pd.Series(pd.arrays.ArrowStringArray(arr), index=frame.index)
        elif col.dtype == object and pd.api.types.infer_dtype(col, skipna=True) == "string":
            # text only (JSON, Excel): pandas strings, so the mapping types it without a per-value pass
            text = col.astype("string").str.strip()
            out[name] = text.mask(text.isin(tokens))
        elif col.dtype == object:
            is_str = col.map(type).eq(str)
            col = col.copy()
            if is_str.any():
                col[is_str] = col[is_str].str.strip()
            is_token = (is_str & col.isin(tokens)) | (~is_str & col.isin(numeric_tokens))
            out[name] = col.mask(is_token | col.isna(), None)
        elif pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col) and numeric_tokens:
            out[name] = col.mask(col.isin(numeric_tokens))
        else:
            out[name] = col
    return pd.DataFrame(out, index=frame.index)
