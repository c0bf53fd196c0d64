"""What the last release was built from, so an incremental run re-anonymises only changed marts.

The anonymisation of a mart is a deterministic function of its rows, its column names and types,
k and the anonymiser code (privacy/anonymise.py, small_cells.py; pandas' row hashing for row ids
and noise). So when all of these equal what the released table was built from, re-anonymising
would give the same table again, and the released table is kept as it is.

`ops.release_state` records per released table: the mart's fingerprint, the anonymiser version,
the released table's own fingerprint (a released table edited or replaced since is rebuilt) and
the table's part of the anonymisation report. It is written in the transaction that writes
`release.*`, so the two never disagree.

A fingerprint is computed in DuckDB without a pandas round trip: the column names and types, the
row count, and the sum and xor of the 64-bit hash of every row (the row as a struct: the table alias
`fingerprint_row` stands for the whole row). Sum and xor do not depend on row
order, and a changed, added or removed row changes the sum unless hash values collide exactly.
"""

import hashlib
import json
from importlib import metadata
from pathlib import Path

import duckdb

STATE_TABLE = "ops.release_state"

# Code whose change may change a released table.
_ANONYMISER_SOURCES = ("anonymise.py", "small_cells.py", "pseudonym.py", "../canonical.py")
# Libraries whose hashing decides row ids and noise (pandas) or the fingerprints (duckdb).
_ANONYMISER_LIBRARIES = ("pandas", "numpy", "duckdb")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def anonymiser_version(k: int) -> str:
    """A digest of everything besides a mart's rows that its released table depends on."""
    digest = hashlib.sha256(f"k={k}".encode())
    here = Path(__file__).parent
    for source in _ANONYMISER_SOURCES:
        digest.update((here / source).read_bytes())
    for library in _ANONYMISER_LIBRARIES:
        digest.update(f"{library}={metadata.version(library)}".encode())
    return digest.hexdigest()


def table_fingerprints(
    con: duckdb.DuckDBPyConnection, schema: str, tables: list[str] | None = None
) -> dict[str, str]:
    """Content fingerprint of every table and view of a schema, or of those of `tables` only."""
    catalog = con.execute("SELECT current_database()").fetchone()[0]
    columns: dict[str, list] = {}
    for table, column, data_type in con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema = ? ORDER BY table_name, ordinal_position",
        [catalog, schema],
    ).fetchall():
        columns.setdefault(table, []).append([column, data_type])
    fingerprints = {}
    for table, described in columns.items():
        if tables is not None and table not in tables:
            continue
        rows, hash_sum, hash_xor = con.execute(
            "SELECT count(*), coalesce(sum(hash(fingerprint_row)::HUGEINT), 0)::VARCHAR, "
            "coalesce(bit_xor(hash(fingerprint_row)), 0) "
            f"FROM {_quote(catalog)}.{_quote(schema)}.{_quote(table)} AS fingerprint_row"
        ).fetchone()
        content = json.dumps([described, rows, hash_sum, str(hash_xor)])
        fingerprints[table] = hashlib.sha256(content.encode()).hexdigest()
    return fingerprints


def load_state(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """table -> its recorded state (empty before the first release)."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'ops' AND table_name = 'release_state'"
    ).fetchone()[0]
    if not exists:
        return {}
    rows = con.execute(
        f"SELECT table_name, mart_fingerprint, anonymiser_version, release_fingerprint, report "
        f"FROM {STATE_TABLE}"
    ).fetchall()
    return {
        table: {"mart": mart, "version": version, "release": release, "report": json.loads(report)}
        for table, mart, version, release, report in rows
    }


def save_state(con: duckdb.DuckDBPyConnection, state: dict[str, dict]) -> None:
    """Replace the recorded state (call inside the transaction that writes release.*)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    con.execute(
        f"CREATE OR REPLACE TABLE {STATE_TABLE} (table_name VARCHAR PRIMARY KEY, mart_fingerprint VARCHAR, "
        "anonymiser_version VARCHAR, release_fingerprint VARCHAR, report VARCHAR)"
    )
    con.executemany(
        f"INSERT INTO {STATE_TABLE} VALUES (?, ?, ?, ?, ?)",
        [
            [table, s["mart"], s["version"], s["release"], json.dumps(s["report"])]
            for table, s in sorted(state.items())
        ],
    )
