"""The audited query gateway: named users query one published release in a locked-down DuckDB session.

Session design (privacy.md, "DuckDB has no users or grants"): an in-memory DuckDB database ATTACHes
the release file READ_ONLY and exposes only the tables the user's role and project allow, as views
(nothing is copied). Then external access is switched off, no directory is allowed and the
configuration is locked, so ATTACH, COPY, file readers and SET fail inside DuckDB even if a statement
got past the static check in `sqlcheck` (which refuses them first, with a clear message, and also
refuses direct references to the attached catalog). Analysts never open the warehouse; the
published file is never written after its rename, so queries and a running pipeline never block
each other.

Every attempt (allowed, refused or failed) leaves exactly one audit record; if the record cannot be
written, the result is not returned (fail closed).
"""

from __future__ import annotations

import getpass
import os
import socket
from pathlib import Path

import duckdb
import pandas as pd

from harmony_pipeline.access import audit, sqlcheck
from harmony_pipeline.access.policy import Policy, PolicyError, Project, User, load_policy
from harmony_pipeline.publish.release import RELEASE_TABLE, PublishError, resolve_release
from harmony_pipeline.settings import Settings, get_settings

RELEASE_CATALOG = "harmony_release"
METADATA_TABLES = frozenset({RELEASE_TABLE})  # release metadata: no patient rows


class AccessRefused(PermissionError):
    """The attempt is not allowed by the access policy or the gateway's rules (audited)."""


class QueryError(RuntimeError):
    """The query is allowed but failed (bad SQL, unknown column, ...) (audited)."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class AuditedConnection:
    """A read-only, locked-down session on one published release for one user and project.

    `execute(sql)` returns a pandas DataFrame (small cells of count columns suppressed) and writes one
    audit record; refused statements raise AccessRefused, failing ones QueryError.
    """

    def __init__(self, settings: Settings, user: User, project: Project, release_file: Path, interface: str):
        self.settings = settings
        self.user = user.user_id
        self.role = user.role
        self.project = project.project_id
        self.interface = interface
        self.release_file = release_file
        self._con: duckdb.DuckDBPyConnection | None = None
        con = duckdb.connect(
            ":memory:",
            config={
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                "threads": 2,
            },
        )
        try:
            con.execute(f"ATTACH {_sql_string(str(release_file))} AS {RELEASE_CATALOG} (READ_ONLY)")
            tables = {
                r[0].lower()
                for r in con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [RELEASE_CATALOG]
                ).fetchall()
            }
            self.release_id = con.execute(
                f"SELECT max(release_id) FROM {RELEASE_CATALOG}.main.{RELEASE_TABLE}"
            ).fetchone()[0]
            marts = tables - METADATA_TABLES
            if user.role == "data_steward":
                # DESIGN.md roles: a data steward reads reports and the audit log, never patient rows.
                self.exposed = set(METADATA_TABLES)
                self.hidden_reason = "data stewards may not read patient rows of marts"
            else:
                # Analysts and data engineers alike: an engineer gets no way around publishing here.
                self.exposed = {t for t in marts if project.allows(t)} | METADATA_TABLES
                self.hidden_reason = f"not allowed for project {project.project_id!r}"
            self.hidden = tables - self.exposed
            # Tables without a per-person key are aggregates (e.g. survival tables): their count columns
            # get the small-cell check even when a query only selects from them.
            keyed = {
                r[0].lower()
                for r in con.execute(
                    "SELECT DISTINCT table_name FROM duckdb_columns() WHERE database_name = ? "
                    "AND lower(column_name) IN ('person_id', 'person_key', 'patient_key', 'patient_id')",
                    [RELEASE_CATALOG],
                ).fetchall()
            }
            self.aggregate_tables = (self.exposed - METADATA_TABLES) - keyed
            for table in sorted(self.exposed):
                con.execute(
                    f"CREATE VIEW main.{_quote(table)} AS SELECT * FROM {RELEASE_CATALOG}.main.{_quote(table)}"
                )
            # No spilling to disk: otherwise DuckDB allows its temp directory (./.tmp) for file access.
            con.execute("SET temp_directory = ''")
            con.execute("SET allowed_directories = []")
            con.execute("SET allowed_paths = []")
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
        except Exception:
            con.close()
            raise
        self._con = con

    # -- audit -----------------------------------------------------------------------------------------
    def _audit(self, sql: str | None, outcome: str, **fields) -> dict:
        return audit.append(
            self.settings,
            base_entry(self.user, self.role, self.project, self.interface, sql, self.release_id)
            | {"outcome": outcome}
            | fields,
        )

    # -- queries ---------------------------------------------------------------------------------------
    def execute(self, sql: str) -> pd.DataFrame:
        if self._con is None:
            raise QueryError("the connection is closed")
        objects = sqlcheck.referenced_tables(sql)
        try:
            checked = sqlcheck.check(sql, self.exposed, self.hidden, self.hidden_reason)
        except sqlcheck.Refused as exc:
            self._audit(sql, "refused", reason=str(exc), objects=objects, rows=0)
            raise AccessRefused(str(exc)) from None
        except sqlcheck.Invalid as exc:
            self._audit(sql, "error", reason=str(exc), objects=objects, rows=0)
            raise QueryError(str(exc)) from None
        try:
            frame = self._con.execute(sql).fetchdf()
        except duckdb.PermissionException as exc:  # the second wall held
            reason = str(exc).splitlines()[0]
            self._audit(sql, "refused", reason=reason, objects=checked.tables, rows=0)
            raise AccessRefused(reason) from None
        except duckdb.Error as exc:
            reason = str(exc).splitlines()[0]
            self._audit(sql, "error", reason=reason, objects=checked.tables, rows=0)
            raise QueryError(reason) from None
        if set(checked.tables) & self.aggregate_tables:
            checked.aggregates = True
        frame, suppressed = suppress_small_cells(frame, checked, self.settings.min_cell)
        self._audit(sql, "allowed", objects=checked.tables, rows=len(frame), suppressed_cells=suppressed)
        return frame

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> AuditedConnection:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def suppress_small_cells(
    frame: pd.DataFrame, checked: sqlcheck.Checked, min_cell: int
) -> tuple[pd.DataFrame, int]:
    """Blank count cells with 0 < n < min_cell (privacy.md promise 5); returns the frame and cells blanked."""
    suppressed = 0
    for column in frame.columns:
        if not sqlcheck.is_count_column(str(column), checked):
            continue
        if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(frame[column]):
            continue
        small = (frame[column] > 0) & (frame[column] < min_cell)
        if small.any():
            suppressed += int(small.sum())
            kind = "Int64" if pd.api.types.is_integer_dtype(frame[column]) else "Float64"
            frame[column] = frame[column].astype(kind).mask(small)
    return frame, suppressed


def base_entry(user, role, project, interface, sql, release) -> dict:
    return {
        "user": user,
        "role": role,
        "project": project,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "os_user": _os_user(),
        "interface": interface,
        "sql": sql,
        "release": release,
    }


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def _resolve(
    settings: Settings, user: str, project: str | None, release: str | None
) -> tuple[User, Project, Path]:
    """Who, for which project, on which release file; AccessRefused when the policy says no."""
    try:
        policy: Policy = load_policy(settings)
    except PolicyError as exc:
        raise AccessRefused(f"access policy unusable: {exc}") from None
    account = policy.users.get(user)
    if account is None:
        raise AccessRefused(f"unknown user {user!r}: not in the access policy {policy.path}")
    if project is None:
        if len(account.projects) != 1:
            raise AccessRefused(
                f"user {user!r} must name a project (--project): member of {', '.join(account.projects) or 'none'}"
            )
        project = account.projects[0]
    if project not in policy.projects:
        raise AccessRefused(f"unknown project {project!r}")
    if project not in account.projects:
        raise AccessRefused(f"user {user!r} is not a member of project {project!r}")
    try:
        release_file = resolve_release(settings, release)
    except PublishError as exc:
        raise AccessRefused(str(exc)) from None
    return account, policy.projects[project], release_file


def _open(settings, user, project, release, interface) -> AuditedConnection:
    account, chosen, release_file = _resolve(settings, user, project, release)
    try:
        return AuditedConnection(settings, account, chosen, release_file, interface)
    except duckdb.Error as exc:  # e.g. a pinned release removed by retention a moment ago
        raise QueryError(f"cannot open release {release_file.name}: {str(exc).splitlines()[0]}") from None


def _audit_failed_open(settings, user, project, release, interface, sql, exc: Exception) -> None:
    outcome = "refused" if isinstance(exc, AccessRefused) else "error"
    entry = base_entry(user, _role_of(settings, user), project, interface, sql, release)
    objects = sqlcheck.referenced_tables(sql) if sql else []
    audit.append(settings, entry | {"outcome": outcome, "reason": str(exc), "objects": objects, "rows": 0})


def _role_of(settings: Settings, user: str) -> str | None:
    try:
        account = load_policy(settings).users.get(user)
    except PolicyError:
        return None
    return account.role if account else None


def connect(
    user: str,
    project: str | None = None,
    release: str | None = None,
    *,
    settings: Settings | None = None,
    interface: str = "python",
) -> AuditedConnection:
    """Open an audited, read-only session for a named user and project (notebooks: interface python).

    A refused connection is itself an audited attempt (one record, no SQL) and raises AccessRefused.
    """
    settings = settings or get_settings()
    try:
        return _open(settings, user, project, release, interface)
    except (AccessRefused, QueryError) as exc:
        _audit_failed_open(settings, user, project, release, interface, None, exc)
        raise


def query(
    user: str,
    sql: str,
    project: str | None = None,
    release: str | None = None,
    *,
    settings: Settings | None = None,
    interface: str = "cli",
) -> pd.DataFrame:
    """One query in its own session: exactly one audit record whatever happens (the CLI's path)."""
    settings = settings or get_settings()
    try:
        session = _open(settings, user, project, release, interface)
    except (AccessRefused, QueryError) as exc:
        _audit_failed_open(settings, user, project, release, interface, sql, exc)
        raise
    with session:
        return session.execute(sql)
