"""dbt on DuckDB as Dagster assets: staging -> intermediate -> omop -> outcomes -> marts.

Every dbt model is an asset keyed [schema, model]; every dbt test is an asset check. A failing
test skips the models below it (dbt build semantics), so a fatal data-quality failure blocks the marts.

Builds are incremental: a new delivery rebuilds only the persons it touches (dbt_project/macros/
incremental.sql). The rebuild job, and any build after the dbt project changed, is a full refresh.
"""

import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey, RetryRequested
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from harmony_pipeline.orchestration import rebuild_job
from harmony_pipeline.settings import DBT_PROJECT_DIR, PROJECT_ROOT, get_settings
from harmony_pipeline.transform.project import MANIFEST
from harmony_pipeline.warehouse import compact_if_due, connect_warehouse

RAW_ASSET_KEY = AssetKey(["landing", "raw_deliveries"])

# dbt folder -> Dagster asset group (the lineage graph reads landing -> ... -> publish)
GROUP_BY_FOLDER = {
    "staging": "omop",
    "intermediate": "omop",
    "omop": "omop",
    "dq": "omop",
    "outcomes": "outcomes",
    "marts": "marts",
}

# What a build makes of the raw rows besides the rows themselves: the dbt project and the Python its
# models import. When any of it changed since the last build, incremental models would keep rows made
# by the old code, so the build is a full refresh.
# The modules are those the dbt Python models import (a test checks the list against their imports).
PROJECT_INPUTS = [DBT_PROJECT_DIR / name for name in ("dbt_project.yml", "models", "macros", "seeds")]
PROJECT_INPUTS += [PROJECT_ROOT / "harmony_pipeline" / name for name in ("karyotype.py", "survival.py")]
PROJECT_STATE = "ops.dbt_project_state"  # the digest of PROJECT_INPUTS at the last successful build


class HarmonyDbtTranslator(DagsterDbtTranslator):
    def __init__(self):
        # every raw.<entity> source maps to the one ingest asset
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return RAW_ASSET_KEY  # every raw.<entity> table is written by the one ingest asset
        schema = dbt_resource_props.get("config", {}).get("schema") or "vocab"
        return AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "omop"
        folder = dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else ""
        return GROUP_BY_FOLDER.get(folder, "omop")


def dbt_environment(settings) -> None:
    # dbt runs as a subprocess and reads the warehouse path from its profile (profiles.yml).
    os.environ["HARMONY_WAREHOUSE"] = str(settings.warehouse)
    os.environ["HARMONY_HOME"] = str(settings.home)
    settings.export_duckdb_environment()


@dbt_assets(
    manifest=MANIFEST,
    dagster_dbt_translator=HarmonyDbtTranslator(),
    pool="harmony_warehouse",
    name="harmony_dbt",
)
def harmony_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource):
    settings = get_settings()
    dbt_environment(settings)
    digest = project_digest()
    args = build_args(context.job_name, built_digest(settings), digest, static_nodes(MANIFEST))
    context.log.info(f"dbt {' '.join(args)}")
    # one target dir per home, so two homes (tests, sites) never share compiled output
    target = settings.home / "dbt_target"
    invocation = dbt.cli(args, context=context, target_path=target, raise_on_error=False)
    yield from invocation.stream()
    if not invocation.is_successful():
        if is_lock_error(invocation.get_error()):
            # another process held the DuckDB file for a moment: try the whole build again
            raise RetryRequested(max_retries=3, seconds_to_wait=10)
        raise invocation.get_error() or RuntimeError("dbt build failed")
    if context.selected_asset_keys == context.assets_def.keys:  # a subset leaves the rest as it was
        record_digest(settings, digest)
    # a subset counts the changed links too: too early a compaction costs time, never rows
    compaction = compact_if_due(settings, full_refresh="--full-refresh" in args)
    if compaction.seconds is not None:
        context.log.info(
            f"compacted the warehouse in {compaction.seconds:.1f} s: {compaction.rebuilt_persons} persons "
            f"rebuilt since the last compaction, of {compaction.persons}"
        )


def build_args(job_name: str, built: str | None, current: str, static: list[str]) -> list[str]:
    """`dbt build` without the unit tests (they run in `make test`), a full refresh for the rebuild job
    and after the project changed (or before it was ever built), else incremental: then without the
    `static` nodes either, which no raw row feeds, so only a change of the project changes them."""
    exclude = ["resource_type:unit_test"]
    if job_name == rebuild_job.name or built != current:
        # one model at a time (profiles.yml): its large queries already use both cores, and a second
        # running beside them competes for memory (1M patients: 202 s with 1 thread, 212 s with 2)
        options = ["--full-refresh"]
    else:
        # two threads overlap an incremental build's many small nodes, which one at a time leave a core
        # idle (1M patients, one source's delivery replayed three times each: 56.4 s with 1 thread, 53.4 s
        # with 2)
        options = ["--threads", "2"]
        exclude += static
    # one space-separated value: dagster-dbt reads a single value after --exclude (and dbt splits it)
    return ["build", *options, "--exclude", " ".join(exclude)]


def static_nodes(manifest_path) -> list[str]:
    """Selectors of the seeds and models no raw source feeds (vocabulary tables, the CDM tables no
    source delivers): their tests go with them when they are excluded."""
    manifest = json.loads(manifest_path.read_text())
    fed, todo = set(), list(manifest["sources"])
    while todo:
        for child in manifest["child_map"].get(todo.pop(), []):
            if child not in fed:
                fed.add(child)
                todo.append(child)
    return sorted(
        "fqn:" + ".".join(node["fqn"])
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed") and unique_id not in fed
    )


def project_digest() -> str:
    digest = hashlib.sha256()
    for root in PROJECT_INPUTS:
        for path in sorted(p for p in ([root] if root.is_file() else root.rglob("*")) if p.is_file()):
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def built_digest(settings) -> str | None:
    if not settings.warehouse.exists():
        return None
    with connect_warehouse(settings, read_only=True) as con:
        schema, table = PROJECT_STATE.split(".")
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchone()[0]
        return con.execute(f"SELECT digest FROM {PROJECT_STATE}").fetchone()[0] if exists else None


def record_digest(settings, digest: str) -> None:
    with connect_warehouse(settings) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {PROJECT_STATE.split('.')[0]}")
        con.execute(f"CREATE OR REPLACE TABLE {PROJECT_STATE} AS SELECT ? AS digest", [digest])


def is_lock_error(error: Exception | None) -> bool:
    return error is not None and "Could not set lock on file" in str(error)


def mart_asset_keys() -> list[AssetKey]:
    """Asset keys of every dbt model in the marts folder (what the privacy stage anonymises)."""
    return sorted(
        (key for key in harmony_dbt_assets.keys if key.path[0] == "marts"),
        key=lambda k: k.to_user_string(),
    )
