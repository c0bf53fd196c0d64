"""The dbt resource skips what dagster-dbt does before each dbt command that the pipeline does not use
(harmony_pipeline.transform.project.HarmonyDbtCliResource), and dbt still runs as before."""

from __future__ import annotations

import re
import subprocess

import dagster_dbt.core.resource
from packaging import version

from harmony_pipeline.transform.project import dbt_resource


def test_the_version_is_that_of_the_dbt_executable_it_runs():
    dbt = dbt_resource()
    shown = subprocess.run([dbt.dbt_executable, "--version"], capture_output=True, text=True, check=True)
    core = re.search(r"(\d+\.\d+\.\d+)", shown.stdout).group(1)
    assert dbt._cli_version == version.parse(core)


def test_a_dbt_command_runs_without_an_adapter_or_a_version_subprocess(harmony_home, tmp_path, monkeypatch):
    # an overridden name dagster-dbt no longer calls would bring either back (and its seconds)
    def no_version_subprocess(*args, **kwargs):
        raise AssertionError(f"dagster-dbt asked dbt its version: {args}")

    monkeypatch.setattr(dagster_dbt.core.resource, "check_output", no_version_subprocess)
    invocation = dbt_resource().cli(["parse", "--quiet"], target_path=tmp_path).wait()
    assert invocation.is_successful()
    assert invocation.adapter is None
    assert (tmp_path / "manifest.json").exists()
