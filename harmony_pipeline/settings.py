"""Runtime paths, secrets and thresholds, read from the environment with safe defaults.

Every runtime path lives under HARMONY_HOME (default `data`), so a test or a second site is
just another home. Settings are read when asked for, never cached at import, so one process
can switch homes (tests do).
"""

from __future__ import annotations

import functools
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import duckdb

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
BUILTIN_CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts" / "builtin"
KEY_ENV = "HARMONY_PSEUDONYM_KEY"
# DuckDB takes 80% of RAM by default; a site machine shares memory with other work, so the pipeline
# caps every DuckDB it opens (dbt's too, through the profile) and spills the rest to disk.
MEMORY_LIMIT_ENV = "HARMONY_DUCKDB_MEMORY_LIMIT"
THREADS_ENV = "HARMONY_DUCKDB_THREADS"
BLOCK_POOL_ENV = "HARMONY_DUCKDB_BLOCK_POOL"  # set for dbt from the memory cap, not by users
DEFAULT_MEMORY_LIMIT = "3GB"


class MissingKeyError(RuntimeError):
    pass


@dataclass(frozen=True)
class Settings:
    home: Path
    contracts_dir: Path
    demo_mode: bool
    min_cell: int = 11  # small-cell threshold and k for k-anonymity (privacy.md promise 4/5)
    date_shift_days: int = 180  # per-patient shift window, +-days, never 0
    quarantine_batch_threshold: float = 0.5  # share of failing rows that rejects a whole delivery

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.home / "published"

    @property
    def published(self) -> Path:
        return self.published_dir / "marts.duckdb"

    @property
    def audit_dir(self) -> Path:
        return self.home / "audit"

    @property
    def truth(self) -> Path:
        return self.home / "truth"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def key_file(self) -> Path:
        return PROJECT_ROOT / ".harmony" / "pseudonym.key"

    def contract_dirs(self) -> list[Path]:
        return [BUILTIN_CONTRACTS_DIR, self.contracts_dir]

    def duckdb_config(self) -> dict[str, str | int]:
        """Memory cap and threads for every DuckDB connection the pipeline opens. Beyond the cap DuckDB
        spills to `<database file>.tmp/` (its default; dbt cannot set another folder once one is in use).
        No vacuum at checkpoints, as in dbt's profile (profiles.yml): otherwise the first checkpoint after
        an incremental build, in whichever step next writes the warehouse, rewrites the row groups dbt
        deleted from (1M patients: 2.5 to 22 s). warehouse.compact_if_due vacuums when it is worth it.
        DuckDB's block pool up to the cap: buffers it frees are kept for reuse instead of being handed back
        to the kernel and faulted in again (1M patients, one source's delivery replayed in dbt: 4.0M page
        faults and 13.5-15.7 s of kernel time without it, 2.4M and 9-10 s with it; 56-62 s against 52-53 s).
        The pool keeps a connection's high-water mark until it closes (README, Benchmark)."""
        memory_limit = os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT)
        return {
            "memory_limit": memory_limit,
            "block_allocator_memory": resolved_memory_limit(memory_limit),
            "threads": int(os.environ.get(THREADS_ENV, os.cpu_count() or 1)),
            "max_vacuum_tasks": 0,
        }

    def export_duckdb_environment(self) -> None:
        """Hand the same limits to dbt, which runs as a subprocess and reads them in profiles.yml."""
        config = self.duckdb_config()
        os.environ[MEMORY_LIMIT_ENV] = str(config["memory_limit"])
        os.environ[BLOCK_POOL_ENV] = str(config["block_allocator_memory"])
        os.environ[THREADS_ENV] = str(config["threads"])


@functools.cache
def resolved_memory_limit(memory_limit: str) -> str:
    """The cap as DuckDB reads it ('3GB', '50%' or 'none' -> e.g. '2.7 GiB'): the block pool takes only
    a size, while the cap may also be a share of RAM."""
    with duckdb.connect(config={"memory_limit": memory_limit}) as con:
        return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def get_settings() -> Settings:
    home = Path(os.environ.get("HARMONY_HOME", "data")).resolve()
    contracts = Path(os.environ.get("HARMONY_CONTRACTS_DIR", str(home / "contracts"))).resolve()
    demo = os.environ.get("HARMONY_DEMO", "0") == "1"
    return Settings(home=home, contracts_dir=contracts, demo_mode=demo)


def pseudonym_key(settings: Settings | None = None) -> bytes:
    """The secret for keyed pseudonyms. Outside demo mode a missing key is an error.

    In demo mode one key is generated once into .harmony/ (mode 0600) and reused.
    """
    settings = settings or get_settings()
    value = os.environ.get(KEY_ENV)
    if value:
        return value.encode()
    if not settings.demo_mode:
        raise MissingKeyError(
            f"{KEY_ENV} is not set. Set it to the network's pseudonym secret, "
            "or run in demo mode (HARMONY_DEMO=1, as `make demo` does) to use a generated local key."
        )
    path = settings.key_file
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
