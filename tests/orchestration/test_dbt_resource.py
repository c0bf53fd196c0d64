"""The dbt resource skips what dagster-dbt does before each dbt command that the pipeline does not use
(harmony_pipeline.transform.project.HarmonyDbtCliResource), and dbt still runs as before."""

from __future__ import annotations

import re
import subprocess

from packaging import version

from harmony_pipeline.transform.project import dbt_resource


def test_the_version_is_that_of_the_dbt_executable_it_runs():
    dbt = dbt_resource()
    shown = subprocess.run([dbt.dbt_executable, "--version"], capture_output=True, text=True, check=True)
    core = re.search(r"(\d+\.\d+\.\d+)", shown.stdout).group(1)
    assert dbt._cli_version == version.parse(core)


def test_a_dbt_command_runs_without_an_adapter_in_this_process(harmony_home, tmp_path):
    # an overridden name dagster-dbt no longer calls would leave an adapter here (and its 1.5 s)
    invocation = dbt_resource().cli(["parse", "--quiet"], target_path=tmp_path).wait()
    assert invocation.is_successful()
    assert invocation.adapter is None
    assert (tmp_path / "manifest.json").exists()
