"""The append-only, hash-chained audit log of every gateway attempt.

`$HARMONY_HOME/audit/audit.jsonl` holds one JSON record per line. Each record carries a sequence
number, the previous record's hash and its own hash (SHA-256 over the record's canonical JSON without
the `hash` field), so editing, removing or reordering a record breaks the chain. `audit/HEAD` holds the
sequence number and hash of the last record, so cutting records off the end (truncation) is detected
too. Writers take an exclusive file lock (`audit/.lock`), so concurrent processes append one whole
record at a time, in order.

Fail closed: a writer that finds the log and its head out of step refuses to append (and the gateway
then refuses the query), so a tampered log stops access until a data steward looks at it.

What this does not stop: someone with write access to the directory who rewrites the whole chain and
the head consistently. That needs the head anchored elsewhere (e.g. copied to the steward's system).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from harmony_pipeline.settings import Settings

LOG_NAME = "audit.jsonl"
HEAD_NAME = "HEAD"
LOCK_NAME = ".lock"
GENESIS = "0" * 64
OUTCOMES = ("allowed", "refused", "error")


class AuditError(RuntimeError):
    """The audit log cannot be appended to safely (it does not match its head)."""


def log_path(settings: Settings) -> Path:
    return settings.audit_dir / LOG_NAME


def head_path(settings: Settings) -> Path:
    return settings.audit_dir / HEAD_NAME


def record_hash(record: dict) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@contextmanager
def _locked(settings: Settings) -> Iterator[None]:
    settings.audit_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.audit_dir / LOCK_NAME, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_head(settings: Settings) -> dict | None:
    path = head_path(settings)
    if not path.exists():
        return None
    return json.loads(path.read_text())


def _write_head(settings: Settings, seq: int, digest: str) -> None:
    path = head_path(settings)
    tmp = path.with_name(f".{HEAD_NAME}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"seq": seq, "hash": digest}) + "\n")
    os.replace(tmp, path)


def _last_line(path: Path) -> str | None:
    """The last line of a file, read from the end (the log can be long)."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        chunk = 65536
        while True:
            start = max(0, size - chunk)
            f.seek(start)
            data = f.read(size - start)
            body = data[:-1] if data.endswith(b"\n") else data
            cut = body.rfind(b"\n")
            if cut >= 0 or start == 0:
                return body[cut + 1 :].decode("utf-8")
            chunk *= 4


def append(settings: Settings, entry: dict) -> dict:
    """Append one record (the entry plus time, seq, prev_hash, hash); returns the stored record."""
    with _locked(settings):
        head = _read_head(settings)
        last_text = _last_line(log_path(settings))
        if head is None and last_text is None:
            prev_seq, prev_hash = 0, GENESIS
        elif head is None:
            raise AuditError(f"audit head {head_path(settings)} is missing but the log has records")
        elif last_text is None:
            raise AuditError(
                f"audit log {log_path(settings)} is empty but its head says {head['seq']} records"
            )
        else:
            try:
                last = json.loads(last_text)
            except json.JSONDecodeError as exc:
                raise AuditError(f"the last audit record is not valid JSON: {exc}") from exc
            in_step = last.get("seq") == head["seq"] and last.get("hash") == head["hash"]
            # A writer that died between appending and updating the head left exactly one valid record.
            one_ahead = (
                last.get("seq") == head["seq"] + 1
                and last.get("prev_hash") == head["hash"]
                and record_hash(last) == last.get("hash")
            )
            if not (in_step or one_ahead):
                raise AuditError("the audit log does not match its head: run `harmony audit verify`")
            prev_seq, prev_hash = last["seq"], last["hash"]
        record = {"time": utc_now(), **entry, "seq": prev_seq + 1, "prev_hash": prev_hash}
        record["hash"] = record_hash(record)
        line = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str) + "\n"
        fd = os.open(log_path(settings), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        _write_head(settings, record["seq"], record["hash"])
        return record


def read_records(settings: Settings) -> list[dict]:
    path = log_path(settings)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class VerifyResult:
    records: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(settings: Settings) -> VerifyResult:
    """Walk the whole chain; every edited, removed, reordered or truncated record is a problem."""
    result = VerifyResult()
    with _locked(settings):  # a consistent view: no writer is half-way through
        path = log_path(settings)
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        head = _read_head(settings)
    prev_hash, last_seq = GENESIS, 0
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            result.problems.append(f"line {number}: not a JSON record")
            continue
        result.records += 1
        seq = record.get("seq")
        if seq != last_seq + 1:
            result.problems.append(
                f"line {number}: sequence {seq} follows {last_seq} (record removed or reordered)"
            )
        if record.get("prev_hash") != prev_hash:
            result.problems.append(f"line {number} (seq {seq}): previous-hash link broken")
        if record_hash(record) != record.get("hash"):
            result.problems.append(f"line {number} (seq {seq}): content does not match its hash (edited)")
        prev_hash = record.get("hash")
        last_seq = seq if isinstance(seq, int) else last_seq + 1
    if head is None:
        if lines:
            result.problems.append("head file missing while the log has records")
    elif head.get("seq") != last_seq or head.get("hash") != (prev_hash if lines else None):
        result.problems.append(
            f"head says {head.get('seq')} records ending in {str(head.get('hash'))[:12]}, the log ends at "
            f"{last_seq} (records cut off the end, or the head was edited)"
        )
    return result


def select(records: list[dict], user: str | None = None, since: datetime | None = None) -> list[dict]:
    chosen = []
    for record in records:
        if user and record.get("user") != user:
            continue
        if since and datetime.fromisoformat(record["time"].replace("Z", "+00:00")) < since:
            continue
        chosen.append(record)
    return chosen
