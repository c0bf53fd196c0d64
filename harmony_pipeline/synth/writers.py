"""Deterministic, vectorised file writers: delimited text, Excel (xlsx), JSON and Parquet.

Columns arrive typed (see sources.Column): text as object arrays (None = missing), numbers as floats
(NaN = missing) and dates as float days since 1970-01-01. Formatting is done with pyarrow compute
kernels so a million rows take seconds. Same input -> same bytes: no timestamps, fixed zip dates.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

CHUNK_ROWS = 200_000
EXCEL_EPOCH_OFFSET = 25569  # Excel serial of 1970-01-01 (serials count from 1899-12-30)


def date_array(days: np.ndarray) -> pa.Array:
    missing = np.isnan(days)
    return pa.array(np.where(missing, 0, days).astype(np.int32), type=pa.date32(), mask=missing)


def number_text(values: np.ndarray, decimals: int, decimal_mark: str = ".") -> pa.Array:
    missing = np.isnan(values)
    if decimals == 0:
        arr = pa.array(np.where(missing, 0, np.round(values)).astype(np.int64), mask=missing)
    else:
        arr = pa.array(np.round(np.where(missing, 0, values), decimals), mask=missing)
    text = pc.cast(arr, pa.string())
    return pc.replace_substring(text, ".", decimal_mark) if decimal_mark != "." else text


def column_text(frame: pd.DataFrame, columns, decimal_mark: str, date_format: str) -> list[pa.Array]:
    """Each column as a pyarrow string array (nulls where missing)."""
    out = []
    for col in columns:
        values = frame[col.name].to_numpy()
        if col.kind in ("date",):
            out.append(pc.strftime(date_array(values.astype(float)), format=col.date_format or date_format))
        elif col.kind in ("num", "offset", "flag"):
            out.append(number_text(values.astype(float), col.decimals, decimal_mark))
        else:
            out.append(pa.array(values, type=pa.string(), from_pandas=True))
    return out


def _quote_if_needed(arr: pa.Array, delimiter: str) -> pa.Array:
    needs = pc.or_(pc.match_substring(arr, delimiter), pc.match_substring(arr, '"'))
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, arr)


def delimited_lines(frame, columns, delimiter, decimal_mark, date_format, na_token) -> list[str]:
    """Data lines (without header) of a delimited file, unquoted unless a value needs quotes."""
    texts = column_text(frame, columns, decimal_mark, date_format)
    texts = [pc.fill_null(_quote_if_needed(t, delimiter), na_token) for t in texts]
    return pc.binary_join_element_wise(*texts, delimiter).to_pylist()


def write_delimited(path: Path, header_line: str, lines: list[str], encoding: str) -> None:
    with open(path, "wb") as f:
        f.write((header_line + "\n").encode(encoding))
        for start in range(0, len(lines), CHUNK_ROWS):  # encode in chunks: bounded memory
            chunk = lines[start : start + CHUNK_ROWS]
            f.write(("\n".join(chunk) + "\n").encode(encoding))


# --- Excel ------------------------------------------------------------------------------------------------

_XLSX_STATIC = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
        'Target="styles.xml"/></Relationships>'
    ),
    # style 0: general; style 1: built-in date format 14 (so readers return dates)
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}


def _col_letter(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def _xml_escape(arr: pa.Array) -> pa.Array:
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        arr = pc.replace_substring(arr, a, b)
    return arr


def write_xlsx(path: Path, frame: pd.DataFrame, columns, sheet: str) -> None:
    """A minimal, valid single-sheet workbook: inline strings, numbers, styled date serials."""
    n = len(frame)
    row_numbers = pc.cast(pa.array(np.arange(2, n + 2)), pa.string())
    cells = []
    header_cells = []
    for i, col in enumerate(columns):
        ref = _col_letter(i)
        header_cells.append(f'<c r="{ref}1" t="inlineStr"><is><t>{col.name}</t></is></c>')
        values = frame[col.name].to_numpy()
        if col.kind == "date":
            v = values.astype(float) + EXCEL_EPOCH_OFFSET
            text, style, typ = number_text(v, 0), ' s="1"', ""
        elif col.kind in ("num", "offset", "flag"):
            text, style, typ = number_text(values.astype(float), col.decimals), "", ""
        else:
            text = _xml_escape(pa.array(values, type=pa.string(), from_pandas=True))
            style, typ = "", ' t="inlineStr"'
        if typ:
            text = pc.binary_join_element_wise("<is><t>", text, "</t></is>", "")
        else:
            text = pc.binary_join_element_wise("<v>", text, "</v>", "")
        cell = pc.binary_join_element_wise(f'<c r="{ref}', row_numbers, f'"{style}{typ}>', text, "</c>", "")
        cells.append(pc.fill_null(cell, ""))
    rows = pc.binary_join_element_wise('<row r="', row_numbers, '">', *cells, "</row>", "")
    sheet_xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        f'<row r="1">{"".join(header_cells)}</row>' + "".join(rows.to_pylist()) + "</sheetData></worksheet>"
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    parts = dict(_XLSX_STATIC)
    parts["xl/workbook.xml"] = workbook
    parts["xl/worksheets/sheet1.xml"] = sheet_xml
    with zipfile.ZipFile(path, "w") as z:
        for name in sorted(parts):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, parts[name], compresslevel=1)


# --- JSON -------------------------------------------------------------------------------------------------


def _json_values(frame: pd.DataFrame, col) -> pa.Array:
    values = frame[col.name].to_numpy()
    if col.kind == "date":
        text = pc.strftime(date_array(values.astype(float)), format="%Y-%m-%d")
        return pc.binary_join_element_wise('"', text, '"', "")
    if col.kind == "bool":
        v = values.astype(float)
        return pa.array(np.where(v > 0, "true", "false"), mask=np.isnan(v))
    if col.kind in ("num", "offset", "flag"):
        return number_text(values.astype(float), col.decimals)
    if col.kind == "raw_json":
        return pa.array(values, type=pa.string(), from_pandas=True)
    text = pa.array(values, type=pa.string(), from_pandas=True)
    text = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
    return pc.binary_join_element_wise('"', text, '"', "")


def json_records(frame: pd.DataFrame, columns) -> list[str]:
    """One JSON object per row. Column names 'a.b' nest objects; 'a.N.b' make array a of objects
    (an element is left out when its first field is missing)."""
    tree: dict = {}
    for col in columns:
        parts = col.name.split(".")
        node = tree
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = col

    def build(node: dict) -> pa.Array:
        pieces = []
        for key, child in node.items():
            if isinstance(child, dict) and all(k.isdigit() for k in child):
                elements = [build(child[k]) for k in sorted(child, key=int)]
                firsts = [_first_column(child[k]) for k in sorted(child, key=int)]
                # an element whose first field is missing is left out; elements end with "," then the
                # trailing comma is trimmed (join's null_handling=skip misbehaves with one argument)
                elements = [
                    pc.if_else(
                        pc.is_null(pa.array(frame[f.name].to_numpy(), from_pandas=True)),
                        "",
                        pc.binary_join_element_wise(e, ",", ""),
                    )
                    for e, f in zip(elements, firsts, strict=True)
                ]
                joined = elements[0] if len(elements) == 1 else pc.binary_join_element_wise(*elements, "")
                inner = pc.utf8_rtrim(joined, characters=",")
                value = pc.binary_join_element_wise("[", inner, "]", "")
            elif isinstance(child, dict):
                value = build(child)
            else:
                value = pc.fill_null(_json_values(frame, child), "null")
            pieces.append(pc.binary_join_element_wise(f'"{key}":', value, ""))
        return pc.binary_join_element_wise("{", pc.binary_join_element_wise(*pieces, ","), "}", "")

    return build(tree).to_pylist()


def _first_column(node: dict):
    first = next(iter(node.values()))
    return _first_column(first) if isinstance(first, dict) else first


def write_json(path: Path, header: dict, records: list[str]) -> None:
    import json

    head = json.dumps(header, sort_keys=True, ensure_ascii=False)
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"export": ' + head + ',\n"patients": [\n')
        f.write(",\n".join(records))
        f.write("\n]}\n")


# --- Parquet ----------------------------------------------------------------------------------------------


def write_parquet(path: Path, frame: pd.DataFrame, columns) -> None:
    arrays = []
    for col in columns:
        values = frame[col.name].to_numpy()
        if col.kind == "date":
            arrays.append(date_array(values.astype(float)))
        elif col.kind in ("num", "offset", "flag"):
            v = values.astype(float)
            if col.decimals == 0:
                arrays.append(
                    pa.array(np.where(np.isnan(v), 0, np.round(v)).astype(np.int32), mask=np.isnan(v))
                )
            else:
                arrays.append(pa.array(np.round(v, col.decimals), from_pandas=True))
        else:
            arrays.append(pa.array(values, type=pa.string(), from_pandas=True))
    table = pa.Table.from_arrays(arrays, names=[c.name for c in columns])
    pq.write_table(table, path, compression="snappy", row_group_size=CHUNK_ROWS)
