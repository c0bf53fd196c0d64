"""Static checks of analyst SQL, on DuckDB's own parse tree (json_serialize_sql).

DuckDB has no users or grants, so the gateway decides what a statement may touch before running it:
exactly one SELECT; every table it names is one the session exposes (or a CTE of the query itself);
no table function but a few pure generators (so no read_csv/glob/query_table/duckdb_tables). The
DuckDB settings (external access off, configuration locked) are the second wall behind this one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import duckdb

# Pure generators: they read nothing.
SAFE_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
FILE_FUNCTION = re.compile(r"^(read_|glob$|parquet_|sniff_csv$|iceberg|delta_scan$|sqlite_|postgres_|mysql_)")
COUNT_FUNCTIONS = frozenset({"count", "count_star", "count_if", "countif", "approx_count_distinct"})
# Result columns named like a count of people/events (only checked when the query aggregates).
COUNT_NAME = re.compile(
    r"(^|[^a-z])(n|count|counts|cnt|num|number|freq|frequency|patients|persons|subjects|events|at_risk)"
    r"([^a-z]|$)"
)
STATEMENT_REFUSALS = {
    "INSERT": "writes are not allowed: the release is read-only",
    "UPDATE": "writes are not allowed: the release is read-only",
    "DELETE": "writes are not allowed: the release is read-only",
    "MERGE_INTO": "writes are not allowed: the release is read-only",
    "CREATE": "creating objects is not allowed: the release is read-only",
    "CREATE_FUNC": "creating functions or macros is not allowed",
    "DROP": "dropping objects is not allowed: the release is read-only",
    "ALTER": "altering objects is not allowed: the release is read-only",
    "ATTACH": "ATTACH is not allowed: a session sees only its published release",
    "DETACH": "DETACH is not allowed: a session sees only its published release",
    "COPY": "COPY is not allowed: results leave the gateway only as query results",
    "COPY_DATABASE": "COPY is not allowed: results leave the gateway only as query results",
    "EXPORT": "EXPORT is not allowed: results leave the gateway only as query results",
    "SET": "changing settings is not allowed: the session configuration is locked",
    "VARIABLE_SET": "changing settings is not allowed: the session configuration is locked",
    "PRAGMA": "PRAGMA is not allowed: the session configuration is locked",
    "LOAD": "installing or loading extensions is not allowed",
    "EXTENSION": "installing or loading extensions is not allowed",
}


class Refused(Exception):
    """The statement is not allowed (a policy decision, not an error in the SQL)."""


class Invalid(Exception):
    """The statement is not valid SQL."""


@dataclass
class Checked:
    tables: list[str]  # exposed tables the query reads, lower case, sorted
    aggregates: bool  # GROUP BY, an aggregate or a windowed aggregate anywhere
    count_columns: set[str] = field(default_factory=set)  # output names of count expressions


_AGGREGATES: frozenset[str] | None = None


def aggregate_functions() -> frozenset[str]:
    global _AGGREGATES
    if _AGGREGATES is None:
        with duckdb.connect() as con:
            rows = con.execute(
                "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'aggregate'"
            ).fetchall()
        _AGGREGATES = frozenset(r[0] for r in rows)
    return _AGGREGATES


def referenced_tables(sql: str) -> list[str]:
    """Tables a statement names, as written (for the audit record, even of a refused statement)."""
    try:
        tree = _parse_tree(sql)
    except (Refused, Invalid):
        return []
    names = set()
    for node in _walk(tree):
        if node.get("type") == "BASE_TABLE":
            names.add(
                ".".join(p for p in (node["catalog_name"], node["schema_name"], node["table_name"]) if p)
            )
    return sorted(names)


def _parse_tree(sql: str) -> dict:
    with duckdb.connect() as con:
        serialised = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0]
    tree = json.loads(serialised)
    if tree.get("error"):
        message = tree.get("error_message", "")
        if "Only SELECT" in message:
            raise Refused("only SELECT queries are allowed")
        raise Invalid(message)
    return tree


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _function_names(expression) -> set[str]:
    return {
        n["function_name"].lower()
        for n in _walk(expression)
        if n.get("class") in ("FUNCTION", "WINDOW", "AGGREGATE") and "function_name" in n
    }


def _is_counting(expression: dict) -> bool:
    """count(...), or sum(1) / sum(CASE ... THEN 1 ELSE 0 END): the usual ways to count rows."""
    for node in _walk(expression):
        name = str(node.get("function_name", "")).lower()
        if name in COUNT_FUNCTIONS:
            return True
        if name == "sum" and node.get("arguments"):
            argument = node["arguments"][0].get("expression", {})
            if argument.get("class") == "CONSTANT":
                return True
            if argument.get("class") == "CASE":
                branches = [c["then_expr"] for c in argument.get("case_checks", [])] + [
                    argument.get("else_expr")
                ]
                if all(b and b.get("class") == "CONSTANT" for b in branches):
                    return True
    return False


def check(sql: str, exposed: set[str], hidden: set[str], hidden_reason: str) -> Checked:
    """Refuse anything but one SELECT over `exposed` tables; `hidden` tables exist but are not allowed."""
    if not sql or not sql.strip():
        raise Refused("empty query")
    with duckdb.connect() as con:
        try:
            statements = con.extract_statements(sql)
        except duckdb.Error as exc:
            raise Invalid(str(exc).splitlines()[0]) from exc
    if len(statements) != 1:
        raise Refused(f"exactly one statement per query is allowed, got {len(statements)}")
    kind = statements[0].type.name
    if kind != "SELECT":
        raise Refused(STATEMENT_REFUSALS.get(kind, f"only SELECT queries are allowed, not {kind}"))
    tree = _parse_tree(sql)

    cte_names = {
        entry["key"].lower() for node in _walk(tree) if "cte_map" in node for entry in node["cte_map"]["map"]
    }
    tables: set[str] = set()
    aggregates = False
    count_columns: set[str] = set()
    aggregate_names = aggregate_functions()
    for node in _walk(tree):
        kind = node.get("type")
        if kind == "BASE_TABLE":
            catalog, schema, name = (
                node["catalog_name"].lower(),
                node["schema_name"].lower(),
                node["table_name"],
            )
            written = ".".join(p for p in (catalog, schema, name) if p)
            if catalog not in ("", "memory") or schema not in ("", "main"):
                raise Refused(
                    f"{written}: only the tables of the release are visible; other catalogs/schemas are not"
                )
            lowered = name.lower()
            if not catalog and not schema and lowered in cte_names:
                continue
            if lowered in exposed:
                tables.add(lowered)
            elif lowered in hidden:
                raise Refused(f"{name}: {hidden_reason}")
            elif re.search(r"[/\\.]", name):
                raise Refused(f"{name}: reading files is not allowed")
            else:
                raise Refused(
                    f"{name}: no such table in this release (visible: {', '.join(sorted(exposed))})"
                )
        elif kind == "TABLE_FUNCTION":
            function = node.get("function", {})
            fname = str(function.get("function_name", "")).lower()
            if fname in SAFE_TABLE_FUNCTIONS and not function.get("schema") and not function.get("catalog"):
                continue
            if FILE_FUNCTION.match(fname):
                raise Refused(f"{fname}(): reading files is not allowed")
            raise Refused(
                f"{fname}(): table functions other than {', '.join(sorted(SAFE_TABLE_FUNCTIONS))} are not allowed"
            )
        elif kind == "SHOW_REF" and node.get("query") is None:
            raise Refused("SHOW is not available; use DESCRIBE <table> or SELECT * FROM release")
        elif kind == "SELECT_NODE":
            if node.get("group_expressions") or node.get("group_sets"):
                aggregates = True
            for expression in node.get("select_list", []):
                if _function_names(expression) & aggregate_names:
                    aggregates = True
                if _is_counting(expression) and expression.get("alias"):
                    count_columns.add(expression["alias"].lower())
            if node.get("having"):
                aggregates = True
    return Checked(tables=sorted(tables), aggregates=aggregates, count_columns=count_columns)


def is_count_column(name: str, checked: Checked) -> bool:
    lowered = name.lower()
    return lowered in checked.count_columns or (checked.aggregates and bool(COUNT_NAME.search(lowered)))
