"""The one Dagster Definitions object: what the UI, `harmony run` and the tests all load."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from harmony_pipeline import orchestration
from harmony_pipeline.ingest import assets as ingest_assets
from harmony_pipeline.privacy.assets import build_privacy_assets
from harmony_pipeline.publish import assets as publish_assets
from harmony_pipeline.transform.assets import harmony_dbt_assets, mart_asset_keys
from harmony_pipeline.transform.project import dbt_resource
from harmony_pipeline.transform.reports import assets as report_assets

privacy_assets, privacy_checks = build_privacy_assets(mart_asset_keys())

defs = Definitions(
    assets=[
        *ingest_assets.assets,
        harmony_dbt_assets,
        *report_assets,
        *privacy_assets,
        *publish_assets.assets,
    ],
    asset_checks=[*ingest_assets.asset_checks, *privacy_checks],
    jobs=orchestration.jobs,
    schedules=orchestration.schedules,
    sensors=orchestration.sensors,
    resources={"dbt": dbt_resource()},
    # Every run's steps in the run's own process, as `harmony run` and the bench execute them. Dagster's
    # default (a process per step) imports Dagster, these definitions and the dbt manifest again for each
    # of a run's 11 steps: one 10k-patient delivery took 125 s so and 53 s in one process (`dagster job
    # execute`, loading included). The steps gain nothing from processes of their own: every writer waits
    # for the one warehouse slot.
    executor=in_process_executor,
)
