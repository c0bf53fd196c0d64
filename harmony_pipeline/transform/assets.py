"""dbt on DuckDB as Dagster assets: staging -> intermediate -> omop -> outcomes -> marts.

Every dbt model is an asset keyed [schema, model]; every dbt test is an asset check. A failing
test skips the models below it (dbt build semantics), so a fatal data-quality failure blocks the marts.
"""

import os
from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey, RetryRequested
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from harmony_pipeline.settings import get_settings
from harmony_pipeline.transform.project import MANIFEST

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
    # one target dir per home, so two homes (tests, sites) never share compiled output
    target = settings.home / "dbt_target"
    invocation = dbt.cli(["build"], context=context, target_path=target, raise_on_error=False)
    yield from invocation.stream()
    if not invocation.is_successful():
        if is_lock_error(invocation.get_error()):
            # another process held the DuckDB file for a moment: try the whole build again
            raise RetryRequested(max_retries=3, seconds_to_wait=10)
        raise invocation.get_error() or RuntimeError("dbt build failed")


def is_lock_error(error: Exception | None) -> bool:
    return error is not None and "Could not set lock on file" in str(error)


def mart_asset_keys() -> list[AssetKey]:
    """Asset keys of every dbt model in the marts folder (what the privacy stage anonymises)."""
    return sorted(
        (key for key in harmony_dbt_assets.keys if key.path[0] == "marts"),
        key=lambda k: k.to_user_string(),
    )
