"""Key hygiene: find secrets or raw identifiers anywhere under some paths (privacy.md "Key hygiene").

`find_strings(paths, needles)` walks files and directories and reports every place a needle
occurs: in the raw bytes of any file (logs, compiled SQL, JSON reports, SQLite, WAL files), and,
for DuckDB databases, inside every text column, table/column name and view definition (DuckDB
compresses strings on disk, so a byte grep alone could miss a stored value).

Findings name the needle by its label, never by its value, so a report of a leak does not leak.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

CHUNK = 1 << 20
DUCKDB_MAGIC = b"DUCK"  # bytes 8..12 of a DuckDB database file


@dataclass(frozen=True)
class Finding:
    path: str
    where: str  # "bytes", or "schema.table.column" / "schema.table (name)" inside a database
    needle: str  # the label of the needle, never its value
    count: int = 1


def _labelled(needles: Mapping[str, str] | Iterable[str]) -> dict[str, bytes]:
    items = (
        needles.items()
        if isinstance(needles, Mapping)
        else ((f"needle[{i}]", n) for i, n in enumerate(needles))
    )
    labelled = {label: str(value).encode("utf-8") for label, value in items if str(value)}
    return labelled


def _files(paths: Iterable[Path | str]) -> Iterable[Path]:
    for path in map(Path, paths):
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _scan_bytes(path: Path, needles: dict[str, bytes]) -> list[Finding]:
    longest = max(len(n) for n in needles.values())
    counts = dict.fromkeys(needles, 0)
    tail = b""
    try:
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                window = tail + chunk
                for label, needle in needles.items():
                    # count occurrences that end inside the new chunk (the overlap was seen before)
                    start = window.find(needle)
                    while start != -1:
                        if start + len(needle) > len(tail):
                            counts[label] += 1
                        start = window.find(needle, start + 1)
                tail = window[-(longest - 1) :] if longest > 1 else b""
    except OSError:
        return []
    return [Finding(str(path), "bytes", label, n) for label, n in counts.items() if n]


def _is_duckdb(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(12)[8:12] == DUCKDB_MAGIC
    except OSError:
        return False


def _scan_duckdb(path: Path, needles: dict[str, bytes]) -> list[Finding]:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error:  # locked by a writer: scan a copy
            copy = Path(tmp) / path.name
            shutil.copyfile(path, copy)
            con = duckdb.connect(str(copy), read_only=True)
        with con:
            return _scan_connection(con, str(path), needles)


def _scan_connection(con: duckdb.DuckDBPyConnection, path: str, needles: dict[str, bytes]) -> list[Finding]:
    findings = []
    columns = con.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() ORDER BY ALL"
    ).fetchall()
    views = con.execute(
        "SELECT schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal"
    ).fetchall()
    texts = {(s, t, c) for s, t, c, d in columns if str(d).upper().startswith("VARCHAR")}
    for label, raw in needles.items():
        needle = raw.decode("utf-8")
        for schema, table, column, _ in columns:
            if needle in table or needle in column:
                findings.append(Finding(path, f"{schema}.{table} (name)", label))
        for schema, view, sql in views:
            if sql and needle in sql:
                findings.append(Finding(path, f"{schema}.{view} (view sql)", label))
        for schema, table, column in sorted(texts):
            ident = ".".join('"' + x.replace('"', '""') + '"' for x in (schema, table))
            col = '"' + column.replace('"', '""') + '"'
            n = con.execute(f"SELECT count(*) FROM {ident} WHERE contains({col}, ?)", [needle]).fetchone()[0]
            if n:
                findings.append(Finding(path, f"{schema}.{table}.{column}", label, n))
    return findings


def find_strings(paths: Iterable[Path | str], needles: Mapping[str, str] | Iterable[str]) -> list[Finding]:
    """Every occurrence of any needle under paths (files, directories, DuckDB databases)."""
    labelled = _labelled(needles)
    if not labelled:
        return []
    findings: list[Finding] = []
    for path in _files(paths):
        findings += _scan_bytes(path, labelled)
        if _is_duckdb(path):
            findings += _scan_duckdb(path, labelled)
    return findings
