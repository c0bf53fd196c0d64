"""The nightly schedule and the new-delivery sensor, evaluated with Dagster's test APIs."""

from __future__ import annotations

import datetime as dt
import time

import duckdb
from dagster import DagsterInstance, build_schedule_context, build_sensor_context

from harmony_pipeline.contracts import load_contracts
from harmony_pipeline.orchestration import (
    new_delivery_sensor,
    nightly_full_refresh,
    record_failure,
    source_partitions,
)
from harmony_pipeline.runner import open_instance
from harmony_pipeline.settings import get_settings


def land(home, source_id: str, delivery_id: str, content: str = "a;b\n1;2\n"):
    folder = home / "landing" / source_id / delivery_id
    folder.mkdir(parents=True)
    (folder / "export.csv").write_text(content)
    return folder


def test_sensor_requests_a_run_for_a_new_delivery_and_none_for_an_unchanged_one(harmony_home):
    source_id = sorted(load_contracts(get_settings()))[0]
    instance = DagsterInstance.ephemeral()

    land(harmony_home, source_id, "2026-01-01_d01")
    first = new_delivery_sensor(build_sensor_context(instance=instance))
    assert [r.partition_key for r in first.run_requests] == [source_id]
    assert first.run_requests[0].tags["harmony/deliveries"] == "2026-01-01_d01"

    unchanged = new_delivery_sensor(build_sensor_context(instance=instance, cursor=first.cursor))
    assert unchanged.run_requests == []

    land(harmony_home, source_id, "2026-02-01_d02")
    second = new_delivery_sensor(build_sensor_context(instance=instance, cursor=unchanged.cursor))
    assert [r.partition_key for r in second.run_requests] == [source_id]
    assert second.run_requests[0].tags["harmony/deliveries"] == "2026-02-01_d02"


def test_sensor_notices_a_delivery_rewritten_in_place(harmony_home):
    source_id = sorted(load_contracts(get_settings()))[0]
    instance = DagsterInstance.ephemeral()
    folder = land(harmony_home, source_id, "2026-01-01_d01")
    first = new_delivery_sensor(build_sensor_context(instance=instance))
    time.sleep(0.01)
    (folder / "export.csv").write_text("a;b\n1;2\n3;4\n")
    again = new_delivery_sensor(build_sensor_context(instance=instance, cursor=first.cursor))
    assert [r.partition_key for r in again.run_requests] == [source_id]


def test_sensor_adds_a_partition_per_contract(harmony_home):
    instance = DagsterInstance.ephemeral()
    result = new_delivery_sensor(build_sensor_context(instance=instance))
    added = {key for request in result.dynamic_partitions_requests for key in request.partition_keys}
    assert added == set(load_contracts(get_settings()))
    assert all(r.partitions_def_name == source_partitions.name for r in result.dynamic_partitions_requests)


def test_nightly_schedule_covers_every_source_in_one_run(harmony_home):
    when = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)
    instance = open_instance()  # a schedule context needs an instance with a ref (a DAGSTER_HOME)
    context = build_schedule_context(instance=instance, scheduled_execution_time=when)
    request = nightly_full_refresh(context)
    partitions = instance.get_dynamic_partitions(source_partitions.name)
    assert set(partitions) == set(load_contracts(get_settings()))
    assert request.tags["dagster/asset_partition_range_start"] == partitions[0]
    assert request.tags["dagster/asset_partition_range_end"] == partitions[-1]
    assert nightly_full_refresh.cron_schedule == "0 2 * * *"
    assert nightly_full_refresh.execution_timezone == "Europe/Brussels"


def test_run_failures_are_recorded(harmony_home):
    record_failure("run-1", "full_refresh", "aml_sg", "boom: lock held")
    with duckdb.connect(str(get_settings().warehouse), read_only=True) as con:
        rows = con.execute("SELECT run_id, job_name, partition, message FROM ops.run_failures").fetchall()
    assert rows == [("run-1", "full_refresh", "aml_sg", "boom: lock held")]
