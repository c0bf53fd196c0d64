"""Key hygiene: find secrets or raw identifiers anywhere under some paths (privacy.md "Key hygiene").

`find_strings(paths, needles)` walks files and directories and reports every place a needle
occurs: in the raw bytes of any file (logs, compiled SQL, JSON reports, SQLite, WAL files), and,
for DuckDB databases, inside every text column, table/column name and view definition (DuckDB
compresses strings on disk, so a byte grep alone could miss a stored value).

It scales to thousands of needles (every synthetic patient's name, postcode and record number):
files are searched with one trie-shaped regular expression (one pass per file, no backtracking
over alternatives), DuckDB text columns by the same expression over their distinct values.

Findings name the needle by its label, never by its value, so a report of a leak does not leak.
"""

from __future__ import annotations

import bisect
import itertools
import re
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

CHUNK = 1 << 22
DUCKDB_MAGIC = b"DUCK"  # bytes 8..12 of a DuckDB database file


@dataclass(frozen=True)
class Finding:
    path: str
    where: str  # "bytes", or "schema.table.column" / "schema.table (name)" inside a database
    needle: str  # the label of the needle, never its value
    count: int = 1


def _labelled(needles: Mapping[str, str] | Iterable[str]) -> dict[bytes, list[str]]:
    """Needle value (UTF-8) -> its labels (several labels may share one value)."""
    items = (
        needles.items()
        if isinstance(needles, Mapping)
        else ((f"needle[{i}]", n) for i, n in enumerate(needles))
    )
    by_value: dict[bytes, list[str]] = defaultdict(list)
    for label, value in items:
        if value is not None and str(value):
            by_value[str(value).encode("utf-8")].append(label)
    return dict(by_value)


def _trie_pattern(values: Iterable[bytes], whole_words: bool = False) -> re.Pattern[bytes]:
    """One regex matching any of the values, shaped as a prefix trie so matching is one pass.

    whole_words: a match must not touch a letter or digit on either side."""
    trie: dict = {}
    for value in values:
        node = trie
        for byte in value:
            node = node.setdefault(byte, {})
        node[None] = True

    def build(node: dict) -> bytes:
        ends = None in node
        branches = [
            re.escape(bytes([b])) + build(child)
            for b, child in sorted((k, v) for k, v in node.items() if k is not None)
        ]
        if not branches:
            return b""
        body = branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"
        return b"(?:" + body + b")?" if ends else body

    body = build(trie)
    return re.compile(rb"(?<![0-9A-Za-z])" + body + rb"(?![0-9A-Za-z])" if whole_words else body)


def _files(paths: Iterable[Path | str]) -> Iterable[Path]:
    for path in map(Path, paths):
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _scan_bytes(
    path: Path, pattern: re.Pattern[bytes], longest: int, labels: dict[bytes, list[str]]
) -> list[Finding]:
    counts: Counter[bytes] = Counter()
    tail = b""
    try:
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                window = tail + chunk
                for match in pattern.finditer(window):
                    if match.end() > len(tail):  # matches wholly inside the overlap were counted before
                        counts[match.group()] += 1
                tail = window[-(longest - 1) :] if longest > 1 else b""
    except OSError:
        return []
    return [
        Finding(str(path), "bytes", label, n)
        for value, n in sorted(counts.items())
        for label in labels[value]
    ]


def _is_duckdb(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(12)[8:12] == DUCKDB_MAGIC
    except OSError:
        return False


def _ident(*parts: str) -> str:
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


def _scan_duckdb(path: Path, pattern: re.Pattern[bytes], labels: dict[bytes, list[str]]) -> list[Finding]:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error:  # locked by a writer: scan a copy
            copy = Path(tmp) / path.name
            shutil.copyfile(path, copy)
            con = duckdb.connect(str(copy), read_only=True)
        with con:
            return _scan_connection(con, str(path), pattern, labels)


def _scan_connection(
    con: duckdb.DuckDBPyConnection, path: str, pattern: re.Pattern[bytes], labels: dict[bytes, list[str]]
) -> list[Finding]:
    findings = []
    catalog = con.execute("SELECT current_database()").fetchone()[0]
    columns = con.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() ORDER BY ALL"
    ).fetchall()
    views = con.execute(
        "SELECT schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal"
    ).fetchall()

    def labels_in(text: str) -> set[str]:
        return {label for m in pattern.finditer(text.encode("utf-8")) for label in labels[m.group()]}

    for schema, table, column, _ in columns:
        for label in sorted(labels_in(table) | labels_in(column)):
            findings.append(Finding(path, f"{schema}.{table}.{column} (name)", label))
    for schema, view, sql in views:
        for label in sorted(labels_in(sql or "")):
            findings.append(Finding(path, f"{schema}.{view} (view sql)", label))

    for schema, table, column, data_type in columns:
        if not str(data_type).upper().startswith("VARCHAR"):
            continue
        # distinct values with their row counts, scanned in one pass as one newline-joined text
        rows = con.execute(
            f"SELECT {_ident(column)}, count(*) FROM {_ident(catalog, schema, table)} "
            f"WHERE {_ident(column)} IS NOT NULL GROUP BY 1"
        ).fetchall()
        if not rows:
            continue
        encoded = [value.encode("utf-8") for value, _ in rows]
        starts = list(itertools.accumulate((len(v) + 1 for v in encoded[:-1]), initial=0))
        hits: Counter[bytes] = Counter()
        for match in pattern.finditer(b"\n".join(encoded)):
            hits[match.group()] += rows[bisect.bisect_right(starts, match.start()) - 1][1]
        for value, n in sorted(hits.items()):
            for label in labels[value]:
                findings.append(Finding(path, f"{schema}.{table}.{column}", label, n))
    return findings


def find_strings(
    paths: Iterable[Path | str], needles: Mapping[str, str] | Iterable[str], whole_words: bool = False
) -> list[Finding]:
    """Every occurrence of any needle under paths (files, directories, DuckDB databases).

    Use whole_words=True for short needles (postcodes, record numbers) that could occur by chance
    inside longer tokens (a hex pseudonym, a number)."""
    labels = _labelled(needles)
    if not labels:
        return []
    pattern = _trie_pattern(labels, whole_words)
    longest = max(len(v) for v in labels)
    findings: list[Finding] = []
    for path in _files(paths):
        findings += _scan_bytes(path, pattern, longest, labels)
        if _is_duckdb(path):
            findings += _scan_duckdb(path, pattern, labels)
    return findings
