"""A synthetic warehouse built without one source's last delivery, for the incremental-build tests of
tests/omop and tests/marts: the pipeline's own ingest and dbt build, with the delivery held back to land.

A module of its own (not a test module): both folders import it by name.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dbt_runner import run_dbt
from pipeline_homes import pipeline_home

from harmony_pipeline.contracts import load_contracts
from harmony_pipeline.ingest import ingest_sources
from harmony_pipeline.orchestration import full_refresh_job
from harmony_pipeline.settings import get_settings, pseudonym_key
from harmony_pipeline.synth import synthesise
from harmony_pipeline.transform.assets import build_args, project_digest, static_nodes
from harmony_pipeline.transform.project import MANIFEST
from harmony_pipeline.warehouse import connect_warehouse

SOURCE = "mds_registry_fr"  # a registry: many of its patients are also delivered by other sources


def ingest(sources) -> None:
    settings = get_settings()
    contracts = load_contracts(settings)
    with connect_warehouse(settings) as con:
        ingest_sources(con, [contracts[s] for s in sources], settings, pseudonym_key(settings))


@contextmanager
def built_without_last_delivery(root: Path, seed: int) -> Iterator[tuple[Path, Path, Callable[[], None]]]:
    """A home under `root` (environment set, restored afterwards): a synthetic cohort with SOURCE's last
    delivery held back, every other delivery ingested and built. Yields (warehouse, last delivery's
    folder, land) where land() puts the held delivery back and ingests it."""
    with pipeline_home(root) as (home, _):
        synthesise(home, patients=400, seed=seed, deliveries=2)
        last = sorted((home / "landing" / SOURCE).iterdir())[-1]
        held = root / last.name
        last.rename(held)
        ingest(load_contracts(get_settings()))
        warehouse = get_settings().warehouse
        build(warehouse, root, full_refresh=True)  # as the pipeline builds a warehouse never built

        def land() -> None:
            held.rename(last)
            ingest([SOURCE])

        yield warehouse, last, land


def build(warehouse: Path, work: Path, full_refresh: bool = False) -> None:
    """The pipeline's own dbt build (transform.assets.build_args): incremental, or a full refresh."""
    digest = project_digest()
    args = build_args(full_refresh_job.name, None if full_refresh else digest, digest, static_nodes(MANIFEST))
    assert run_dbt(warehouse, work, *args).returncode == 0, f"dbt {' '.join(args)} failed"


def keep(warehouse: Path, name: str) -> Path:
    copy = warehouse.with_name(f"{name}.duckdb")
    shutil.copy(warehouse, copy)
    return copy
