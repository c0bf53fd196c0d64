"""Publishing: the anonymised `release.*` schema of the warehouse becomes a read-only analyst file.

Layout under `$HARMONY_HOME/published/`:

    marts.duckdb                    the current release (what `harmony query` opens by default)
    releases/<release_id>.duckdb    the last N releases, so an analysis can pin one
    releases/<release_id>.anonymisation_report.json   the privacy report that release was gated on

Atomicity: a release is built in a hidden temporary file next to its final place, closed
(DuckDB checkpoints and removes its WAL on close), fsynced, then renamed into place. A rename is atomic
on POSIX, so a reader opening `marts.duckdb` gets either the previous file or the new one, never a
half-written one; readers that already hold the old file open keep reading it (its inode lives on).
Nothing ever writes a published file after its rename, so read-only readers never meet a lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from harmony_pipeline import __version__
from harmony_pipeline.privacy.report import git_commit
from harmony_pipeline.settings import Settings

RELEASE_SCHEMA = "release"  # written by the privacy stage (docs/architecture.md)
RELEASE_TABLE = "release"  # the metadata table inside every published file
DEFAULT_KEEP = 5
KEEP_ENV = "HARMONY_RELEASES_KEEP"
REPORT_NAME = "anonymisation_report.json"
# e.g. 20260101T120000.123Z-1a2b3c4d: UTC time to the millisecond (sortable), then a content digest.
RELEASE_ID_PATTERN = re.compile(r"^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}$")


class PublishError(RuntimeError):
    pass


@dataclass(frozen=True)
class ReleaseInfo:
    release_id: str
    published_at: str  # UTC, ISO 8601
    code_version: str
    path: Path  # releases/<release_id>.duckdb (pinnable)
    published_path: Path  # marts.duckdb (the current release)
    row_counts: dict[str, int]
    deliveries: list[dict]
    anonymisation_report: Path
    removed: list[str] = field(default_factory=list)  # release ids dropped by retention


def releases_dir(settings: Settings) -> Path:
    return settings.published_dir / "releases"


def release_path(settings: Settings, release_id: str) -> Path:
    return releases_dir(settings) / f"{release_id}.duckdb"


def list_releases(settings: Settings) -> list[str]:
    """Retained release ids, oldest first (ids sort by time)."""
    folder = releases_dir(settings)
    if not folder.is_dir():
        return []
    ids = [p.name.removesuffix(".duckdb") for p in folder.glob("*.duckdb")]
    return sorted(i for i in ids if RELEASE_ID_PATTERN.match(i))


def keep_count() -> int:
    value = int(os.environ.get(KEEP_ENV, DEFAULT_KEEP))
    if value < 1:
        raise PublishError(f"{KEEP_ENV} must be at least 1, got {value}")
    return value


def code_version() -> str:
    """Package version plus the git commit (and '-dirty'), when the code runs from a checkout."""
    commit = git_commit()
    return f"{__version__}+{commit}" if commit else __version__


@contextmanager
def publish_lock(settings: Settings) -> Iterator[None]:
    """One publisher at a time per home, across processes (a second one waits)."""
    settings.published_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.published_dir / ".publish.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _release_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh' AND schema_name = ? "
        "UNION SELECT view_name FROM duckdb_views() WHERE database_name = 'wh' AND schema_name = ? "
        "ORDER BY 1",
        [RELEASE_SCHEMA, RELEASE_SCHEMA],
    ).fetchall()
    return [r[0] for r in rows]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _check_report(report: Path) -> str:
    """The anonymisation report must exist and must not declare a failed gate; returns its sha256."""
    if not report.is_file():
        raise PublishError(
            f"no anonymisation report at {report}: the privacy stage has not gated this release, "
            "so it is not published (privacy.md promise 6)"
        )
    content = report.read_bytes()
    try:
        parsed = json.loads(content)
    except json.JSONDecodeError as exc:
        raise PublishError(f"anonymisation report {report} is not valid JSON: {exc}") from exc
    if isinstance(parsed, dict):
        for flag in ("passed", "gate_passed", "publishable"):
            if parsed.get(flag) is False:
                raise PublishError(f"anonymisation report {report} says {flag}=false: release not published")
    return hashlib.sha256(content).hexdigest()


def _new_release_id(settings: Settings, now: datetime, digest: str) -> tuple[str, datetime]:
    """Time to the millisecond, then a content digest; always sorts after every retained release."""
    existing = list_releases(settings)
    if existing:
        newest = datetime.strptime(existing[-1][:19], "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC)
        if now <= newest + timedelta(milliseconds=1):  # same millisecond, or a clock that went back
            now = newest + timedelta(milliseconds=1)
    stamp = now.strftime("%Y%m%dT%H%M%S.") + f"{now.microsecond // 1000:03d}Z"
    return f"{stamp}-{digest[:8]}", now


def publish_release(
    settings: Settings, deliveries: list[dict], keep: int | None = None, warehouse: Path | None = None
) -> ReleaseInfo:
    """Copy every table of the warehouse's `release` schema into a new published release file.

    `deliveries` are the deliveries the release includes (e.g. rows of ops.delivery_ledger); they are
    stored as JSON in the release table. Keeps the newest `keep` releases (default 5, env
    HARMONY_RELEASES_KEEP). Raises PublishError when there is nothing to publish or no passing
    anonymisation report.
    """
    keep = keep or keep_count()
    warehouse = warehouse or settings.warehouse
    if not warehouse.is_file():
        raise PublishError(f"no warehouse at {warehouse}: nothing to publish")
    report = settings.published_dir / REPORT_NAME
    deliveries_json = json.dumps(deliveries, sort_keys=True, default=str)
    version = code_version()

    with publish_lock(settings):
        report_sha = _check_report(report)
        folder = releases_dir(settings)
        folder.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        staging = folder / f".staging-{os.getpid()}-{now.strftime('%Y%m%dT%H%M%S%f')}.duckdb"
        try:
            row_counts = _build_release_file(staging, warehouse)
            digest = hashlib.sha256(
                json.dumps([row_counts, deliveries_json, version, report_sha], sort_keys=True).encode()
            ).hexdigest()
            release_id, now = _new_release_id(settings, now, digest)
            report_copy = folder / f"{release_id}.{REPORT_NAME}"
            shutil.copyfile(report, report_copy)
            _write_release_table(
                staging, release_id, now, version, deliveries_json, row_counts, report_copy, report_sha
            )
            _fsync(staging)
            final = release_path(settings, release_id)
            os.replace(staging, final)

            # The current release: a hard link to the pinned file (same bytes, no copy), renamed over
            # marts.duckdb so readers see the old or the new file, never a mix.
            current_tmp = settings.published_dir / f".marts-{release_id}.duckdb.tmp"
            if current_tmp.exists():
                current_tmp.unlink()
            try:
                os.link(final, current_tmp)
            except OSError:  # a file system without hard links
                shutil.copyfile(final, current_tmp)
                _fsync(current_tmp)
            os.replace(current_tmp, settings.published)
            _fsync(settings.published_dir)
        finally:
            for leftover in (staging, Path(str(staging) + ".wal")):
                if leftover.exists():
                    leftover.unlink()
        removed = _apply_retention(settings, keep)

    return ReleaseInfo(
        release_id=release_id,
        published_at=now.isoformat().replace("+00:00", "Z"),
        code_version=version,
        path=release_path(settings, release_id),
        published_path=settings.published,
        row_counts=row_counts,
        deliveries=json.loads(deliveries_json),
        anonymisation_report=report_copy,
        removed=removed,
    )


def _build_release_file(staging: Path, warehouse: Path) -> dict[str, int]:
    row_counts: dict[str, int] = {}
    with duckdb.connect(str(staging)) as con:
        con.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)")
        tables = _release_tables(con)
        if not tables:
            raise PublishError(
                f"the warehouse has no tables in schema {RELEASE_SCHEMA!r}: nothing to publish"
            )
        if RELEASE_TABLE in tables:
            raise PublishError(f"schema {RELEASE_SCHEMA!r} may not hold a table named {RELEASE_TABLE!r}")
        for table in tables:
            con.execute(
                f"CREATE TABLE main.{_quote(table)} AS SELECT * FROM wh.{RELEASE_SCHEMA}.{_quote(table)}"
            )
            row_counts[table] = con.execute(f"SELECT count(*) FROM main.{_quote(table)}").fetchone()[0]
        con.execute("DETACH wh")
    return row_counts


def _write_release_table(
    staging: Path,
    release_id: str,
    now: datetime,
    version: str,
    deliveries_json: str,
    row_counts: dict[str, int],
    report_copy: Path,
    report_sha: str,
) -> None:
    with duckdb.connect(str(staging)) as con:
        con.execute(
            f"""CREATE TABLE {RELEASE_TABLE} (
                release_id VARCHAR NOT NULL,
                published_at TIMESTAMP NOT NULL,  -- UTC
                code_version VARCHAR NOT NULL,
                deliveries VARCHAR NOT NULL,  -- JSON list of the deliveries included
                row_counts VARCHAR NOT NULL,  -- JSON object: table -> rows
                anonymisation_report VARCHAR NOT NULL,  -- path of the report this release was gated on
                anonymisation_report_sha256 VARCHAR NOT NULL
            )"""
        )
        con.execute(
            f"INSERT INTO {RELEASE_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                release_id,
                now.replace(tzinfo=None),
                version,
                deliveries_json,
                json.dumps(row_counts, sort_keys=True),
                str(report_copy),
                report_sha,
            ],
        )
        con.execute("CHECKPOINT")


def _apply_retention(settings: Settings, keep: int) -> list[str]:
    ids = list_releases(settings)
    removed = ids[:-keep] if len(ids) > keep else []
    for release_id in removed:
        # Readers holding an old release open keep reading it: unlinking does not free an open inode.
        release_path(settings, release_id).unlink(missing_ok=True)
        (releases_dir(settings) / f"{release_id}.{REPORT_NAME}").unlink(missing_ok=True)
    return removed


def resolve_release(settings: Settings, release: str | None) -> Path:
    """The file of a retained release id, or the current release for None/'latest'.

    Only ids of retained releases are accepted, never a path, so nothing but a published release
    can be opened through this function.
    """
    if release in (None, "", "latest", "current"):
        if not settings.published.is_file():
            raise PublishError(f"no published release at {settings.published}: run the pipeline first")
        return settings.published
    if not RELEASE_ID_PATTERN.match(release):
        raise PublishError(
            f"{release!r} is not a release id (like 20260101T120000.000Z-1a2b3c4d); "
            "list retained releases with `SELECT * FROM release` or in published/releases/"
        )
    path = release_path(settings, release)
    if not path.is_file():
        retained = ", ".join(list_releases(settings)) or "none"
        raise PublishError(f"release {release} is not retained (retained: {retained})")
    return path
