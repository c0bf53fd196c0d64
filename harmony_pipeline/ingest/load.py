"""Landing discovery, delivery hashing, gate and load into raw.*, quarantine.* and ops.delivery_ledger.

A delivery is a folder `landing/<source_id>/<delivery_id>/` holding its files. Its content hash is
sha256 over the sorted relative file names and their bytes, so the same files delivered again (in any
folder) are recognised and never loaded twice.

Files still arriving: a sender marks a delivery in progress with a file named `.partial` in the folder
(removed when the upload is complete); files ending in .partial/.part/.tmp/.crdownload are uploads in
flight too. Such a delivery is left for the next run. Optionally (settle_seconds > 0) a delivery whose
newest file is younger than that is also left, for senders that cannot write a marker.

Per delivery everything is written in one transaction: raw rows, quarantine records and the ledger
rows (one per entity; rows_read = rows_loaded + rows_quarantined). A delivery that cannot be read or
that the gate rejects as a batch gets one ledger row with status 'rejected' and the error; the other
deliveries and sources go on.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from harmony_pipeline import canonical
from harmony_pipeline.contracts.delivery import read_delivery_result
from harmony_pipeline.quality.frames import QUARANTINE_COLUMNS, UNASSIGNED, quarantine_table_sql
from harmony_pipeline.quality.gate import BatchRejected, apply_gate
from harmony_pipeline.settings import Settings

log = logging.getLogger(__name__)

PARTIAL_MARKER = ".partial"
IN_FLIGHT_SUFFIXES = (".partial", ".part", ".tmp", ".crdownload")
LEDGER = "ops.delivery_ledger"
QUARANTINE_TABLES = (*canonical.ENTITIES, UNASSIGNED)

LEDGER_SQL = f"""CREATE TABLE IF NOT EXISTS {LEDGER} (
    source_id VARCHAR, delivery_id VARCHAR, content_hash VARCHAR, entity VARCHAR,
    rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT,
    status VARCHAR, error VARCHAR, loaded_at TIMESTAMP)"""


@dataclass
class DeliveryOutcome:
    delivery_id: str
    status: str  # loaded | rejected | skipped (hash already in the ledger) | pending (still arriving)
    content_hash: str | None = None
    error: str | None = None
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_loaded: dict[str, int] = field(default_factory=dict)
    rows_quarantined: dict[str, int] = field(default_factory=dict)


@dataclass
class IngestSummary:
    source_id: str
    deliveries: list[DeliveryOutcome] = field(default_factory=list)
    quarantine_reasons: pd.DataFrame | None = None  # entity, rule, reason, rows of this run
    seconds: dict[str, float] = field(default_factory=lambda: {"read": 0.0, "quality": 0.0, "load": 0.0})

    def with_status(self, status: str) -> list[str]:
        return [d.delivery_id for d in self.deliveries if d.status == status]

    def total(self, attr: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for d in self.deliveries:
            for entity, n in getattr(d, attr).items():
                out[entity] = out.get(entity, 0) + n
        return dict(sorted(out.items()))

    @property
    def pass_rate(self) -> float | None:
        read = sum(self.total("rows_read").values())
        return None if read == 0 else sum(self.total("rows_loaded").values()) / read


def prepare_warehouse(con) -> None:
    """Schemas raw, quarantine and ops with every table ingest writes (idempotent)."""
    for schema in ("raw", "quarantine", "ops"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for entity in canonical.ENTITIES:
        con.execute(canonical.create_table_sql("raw", entity))
    for table in QUARANTINE_TABLES:
        con.execute(quarantine_table_sql("quarantine", table))
    con.execute(LEDGER_SQL)


# The WAL a raw load may grow before DuckDB checkpoints (default 16 MB): a whole 100k-patient load
# (about 460 MB of WAL) checkpoints once; at 1M patients it still checkpoints every gigabyte, because
# committed rows wait in memory until their checkpoint (measured: +0.4 GB peak with no limit at all).
DEFERRED_CHECKPOINT = "1GB"


@contextmanager
def one_checkpoint(con) -> Iterator[dict[str, float]]:
    """Checkpoint once after loading many deliveries, not at every commit that outgrows 16 MB of WAL.

    Each checkpoint rewrites the partly filled last row groups of every table written since the last
    one, so twenty small checkpoints cost about twice one large one (measured at 100k patients). The
    yielded dict receives the final checkpoint's seconds (part of the load).
    """
    limit = con.execute("SELECT current_setting('checkpoint_threshold')").fetchall()[0][0]
    con.execute(f"SET checkpoint_threshold = '{DEFERRED_CHECKPOINT}'")
    timing = {"checkpoint": 0.0}
    try:
        yield timing
    finally:
        con.execute(f"SET checkpoint_threshold = '{limit}'")
    # (after a failure the caller closes the connection, and closing checkpoints)
    started = time.monotonic()
    con.execute("CHECKPOINT")
    timing["checkpoint"] = time.monotonic() - started


def delivery_dirs(settings: Settings, source_id: str) -> list[Path]:
    root = settings.landing / source_id
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _files(delivery_dir: Path) -> list[Path]:
    return sorted(p for p in delivery_dir.rglob("*") if p.is_file())


def in_progress(delivery_dir: Path, settle_seconds: float = 0.0, now: float | None = None) -> str | None:
    """Why a delivery is still arriving, or None when it is complete."""
    files = _files(delivery_dir)
    if (delivery_dir / PARTIAL_MARKER).exists():
        return f"marker {PARTIAL_MARKER} present"
    in_flight = [p.name for p in files if p.name.endswith(IN_FLIGHT_SUFFIXES)]
    if in_flight:
        return f"upload in flight: {', '.join(in_flight)}"
    if settle_seconds > 0 and files:
        age = (now or time.time()) - max(p.stat().st_mtime for p in files)
        if age < settle_seconds:
            return f"last file written {age:.1f}s ago (< {settle_seconds}s)"
    return None


def content_hash(delivery_dir: Path) -> str:
    """sha256 over the sorted relative file names and bytes of a delivery."""
    digest = hashlib.sha256()
    for path in _files(delivery_dir):
        digest.update(path.relative_to(delivery_dir).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def _known_hashes(con, source_id: str, retry_rejected: bool) -> set[str]:
    statuses = ["loaded"] if retry_rejected else ["loaded", "rejected"]
    rows = con.execute(
        f"SELECT DISTINCT content_hash FROM {LEDGER} WHERE source_id = ? AND list_contains(?, status)",
        [source_id, statuses],
    ).fetchall()
    return {r[0] for r in rows}


def new_deliveries(con, settings: Settings, source_id: str) -> list[Path]:
    """Complete deliveries of a source whose content is not in the ledger yet (for sensors)."""
    prepare_warehouse(con)
    known = _known_hashes(con, source_id, retry_rejected=False)
    return [
        d
        for d in delivery_dirs(settings, source_id)
        if in_progress(d) is None and content_hash(d) not in known
    ]


def _ledger_rows(con, rows: list[tuple]) -> None:
    con.executemany(f"INSERT INTO {LEDGER} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _load(con, source_id, delivery_id, digest, gate, loaded_at) -> DeliveryOutcome:
    outcome = DeliveryOutcome(delivery_id, "loaded", digest)
    ledger = []
    for entity in sorted(gate.rows_read):
        read, quarantined = gate.rows_read[entity], gate.rows_quarantined.get(entity, 0)
        loaded = gate.rows_passed.get(entity, 0)
        if read == 0:
            continue
        if read != loaded + quarantined:  # the gate's own bookkeeping; never load on a mismatch
            raise RuntimeError(f"{entity}: {read} rows read but {loaded} passed + {quarantined} quarantined")
        outcome.rows_read[entity], outcome.rows_loaded[entity] = read, loaded
        outcome.rows_quarantined[entity] = quarantined
        ledger.append(
            (source_id, delivery_id, digest, entity, read, loaded, quarantined, "loaded", None, loaded_at)
        )
    if not ledger:
        ledger.append((source_id, delivery_id, digest, None, 0, 0, 0, "loaded", "no rows", loaded_at))
    con.execute("BEGIN TRANSACTION")
    try:
        for entity, n in gate.rows_passed.items():
            if n:  # straight from the gate's tables in this connection: the rows never leave DuckDB
                gate.write_passed(con, entity, f'raw."{entity}"')
        if not gate.quarantined.empty:
            con.register("quarantined_rows", gate.quarantined)
            cols = ", ".join(f'"{c}"' for c in QUARANTINE_COLUMNS)
            for entity in sorted(gate.quarantined["entity"].unique()):
                con.execute(
                    f'INSERT INTO quarantine."{entity}" ({cols}) SELECT {cols} FROM quarantined_rows WHERE entity = ?',
                    [entity],
                )
            con.unregister("quarantined_rows")
        _ledger_rows(con, ledger)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return outcome


def ingest_source(
    con,
    contract,
    settings: Settings,
    key: bytes,
    *,
    settle_seconds: float = 0.0,
    retry_rejected: bool = False,
    today: date | None = None,
) -> IngestSummary:
    """Load every new delivery of one source; see the module docstring for the rules."""
    options = {"settle_seconds": settle_seconds, "retry_rejected": retry_rejected, "today": today}
    return ingest_sources(con, [contract], settings, key, **options)[0]


@dataclass
class _Queued:
    """A new, complete delivery waiting to be read, gated and loaded; `slot` is its place in
    summary.deliveries (outcomes stay in delivery order)."""

    summary: IngestSummary
    contract: object
    delivery_dir: Path
    digest: str
    slot: int


def ingest_sources(
    con,
    contracts: list,
    settings: Settings,
    key: bytes,
    *,
    settle_seconds: float = 0.0,
    retry_rejected: bool = False,
    today: date | None = None,
) -> list[IngestSummary]:
    """Load every new delivery of each source in turn (module docstring); one summary per source.

    Deliveries are gated and loaded one at a time in source and delivery order, while the next one is
    read ahead in a worker process (_read_ahead).
    """
    prepare_warehouse(con)
    loaded_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    summaries, queue = [], []
    for contract in contracts:
        summary = IngestSummary(contract.source_id)
        summaries.append(summary)
        known = _known_hashes(con, contract.source_id, retry_rejected)
        for delivery_dir in delivery_dirs(settings, contract.source_id):
            waiting = in_progress(delivery_dir, settle_seconds)
            if waiting:
                summary.deliveries.append(DeliveryOutcome(delivery_dir.name, "pending", error=waiting))
                continue
            digest = content_hash(delivery_dir)
            if digest in known:
                summary.deliveries.append(DeliveryOutcome(delivery_dir.name, "skipped", digest))
                continue
            known.add(digest)  # the same content twice in one run (a duplicate delivery) loads once
            queue.append(_Queued(summary, contract, delivery_dir, digest, len(summary.deliveries)))
            summary.deliveries.append(DeliveryOutcome(delivery_dir.name, "queued", digest))
    reasons: dict[str, list[pd.DataFrame]] = {s.source_id: [] for s in summaries}
    for job, (read, error, read_seconds) in _read_ahead(queue, key, settings):
        summary, source_id, delivery_id = job.summary, job.contract.source_id, job.delivery_dir.name
        summary.seconds["read"] += read_seconds
        if error is None:
            try:
                started = time.monotonic()
                # gated in the warehouse connection (temporary tables), so the load is one INSERT per entity
                gate = apply_gate(read, job.contract, settings=settings, today=today, con=con, consume=True)
                summary.seconds["quality"] += time.monotonic() - started
            except BatchRejected as exc:
                error = str(exc)
            except Exception as exc:  # a bad file must not stop the other deliveries; keep the cause
                log.exception("delivery %s/%s failed", source_id, delivery_id)
                error = f"source {source_id}: delivery {delivery_id}: unexpected {type(exc).__name__}: {exc}"
        del read  # its frames went to DuckDB entity by entity (consume); the rejects are in the gate
        if error is not None:
            _ledger_rows(
                con, [(source_id, delivery_id, job.digest, None, 0, 0, 0, "rejected", error, loaded_at)]
            )
            summary.deliveries[job.slot] = DeliveryOutcome(delivery_id, "rejected", job.digest, error)
            continue
        started = time.monotonic()
        try:
            summary.deliveries[job.slot] = _load(con, source_id, delivery_id, job.digest, gate, loaded_at)
        finally:
            gate.close()
        summary.seconds["load"] += time.monotonic() - started
        if not gate.quarantined.empty:
            reasons[source_id].append(gate.quarantined[["entity", "rule", "reason"]])
    for summary in summaries:
        if reasons[summary.source_id]:
            summary.quarantine_reasons = (
                pd.concat(reasons[summary.source_id])
                .groupby(["entity", "rule", "reason"])
                .size()
                .rename("records")
                .reset_index()
            ).sort_values(["records", "entity", "rule"], ascending=[False, True, True], ignore_index=True)
    return summaries


def _read_ahead(queue: list[_Queued], key: bytes, settings: Settings) -> Iterator[tuple[_Queued, tuple]]:
    """The queued deliveries with their reads, in order; the next delivery is read in a worker process
    while the caller gates and loads the current one.

    Reading is single-threaded Python (pandas mapping) and the gate and load run in DuckDB's threads, so
    on two cores the two overlap (1M patients: reading about 100 s of one core, gate and load 90 s of the
    other, 149 s in all). One delivery is read ahead at most, which bounds the extra memory to one
    delivery's frames (a second reader took that ingest to 121 s but its peak from 4.5 to 6.4 GB). Read
    seconds are the time the caller waited for a read. A single delivery is read here (no process start-up to pay).
    """
    if len(queue) < 2:
        for job in queue:
            yield job, read_delivery_result(job.contract, job.delivery_dir, key, settings)
        return
    # spawn, not fork: the caller may be a threaded process (Dagster), and forking threads is unsafe
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(read_delivery_result, queue[0].contract, queue[0].delivery_dir, key, settings)]
        for i, job in enumerate(queue):
            if i + 1 < len(queue):  # queued behind the current read: the worker starts it when that ends
                following = queue[i + 1]
                futures.append(
                    pool.submit(
                        read_delivery_result, following.contract, following.delivery_dir, key, settings
                    )
                )
            started = time.monotonic()
            read, error, _ = futures[i].result()
            futures[i] = None  # the frames are the caller's now: hold no second reference
            yield job, (read, error, time.monotonic() - started)


def ledger_violations(con, source_id: str | list[str] | None = None) -> pd.DataFrame:
    """Ledger rows that break 'nothing lost': rows_read = rows_loaded + rows_quarantined, and the loaded
    and quarantined counts equal what raw.* and quarantine.* hold for that delivery and entity.

    Quarantine rows are counted once per failing row (a row failing two rules has two records).
    source_id: one source or several (each table is scanned once for all of them), default all.
    """
    prepare_warehouse(con)
    sources = [source_id] if isinstance(source_id, str) else source_id
    # a list of literals, so DuckDB prunes row groups by their min/max source_id
    listed = ", ".join("'" + s.replace("'", "''") + "'" for s in sources or []) or "NULL"
    only = f"WHERE source_id IN ({listed})" if sources is not None else ""
    raw = " UNION ALL ".join(
        f"SELECT source_id, delivery_id, '{e}' AS entity, count(*) AS n FROM raw.\"{e}\" {only} GROUP BY ALL"
        for e in canonical.ENTITIES
    )
    quarantine = " UNION ALL ".join(
        f"SELECT source_id, delivery_id, entity, count(*) AS n FROM (SELECT DISTINCT source_id, delivery_id, "
        f'entity, file_name, row_number, record FROM quarantine."{t}" {only}) GROUP BY ALL'
        for t in QUARANTINE_TABLES
    )
    where = f"AND l.source_id IN ({listed})" if sources is not None else ""
    return con.execute(
        f"""
        SELECT l.source_id, l.delivery_id, l.entity, l.rows_read, l.rows_loaded, l.rows_quarantined,
               coalesce(r.n, 0) AS raw_rows, coalesce(q.n, 0) AS quarantine_rows
        FROM {LEDGER} l
        LEFT JOIN ({raw}) r USING (source_id, delivery_id, entity)
        LEFT JOIN ({quarantine}) q USING (source_id, delivery_id, entity)
        WHERE l.status = 'loaded' AND l.entity IS NOT NULL {where}
          AND (l.rows_read <> l.rows_loaded + l.rows_quarantined
               OR l.rows_loaded <> coalesce(r.n, 0) OR l.rows_quarantined <> coalesce(q.n, 0))
        ORDER BY ALL
        """
    ).df()
