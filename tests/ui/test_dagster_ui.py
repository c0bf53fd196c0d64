"""The real Dagster UI over our definitions: `dagster dev` (webserver + daemon), its GraphQL API, and
headless Chromium looking at the asset graph (screenshot kept in test-artifacts/)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from harmony_pipeline.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
DAGSTER = Path(sys.executable).parent / "dagster"  # the virtualenv's own executable
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"{url}/graphql", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        payload = json.load(response)
    assert "errors" not in payload, payload
    return payload["data"]


@pytest.fixture(scope="module")
def dagster_ui(pipeline_run, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("ui") / "dagster-dev.log"
    env = dict(pipeline_run["env"])
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(DAGSTER), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                data = graphql(url, "{ repositoriesOrError { __typename } }")
                if data["repositoriesOrError"]["__typename"] == "RepositoryConnection":
                    break
            except OSError:
                pass
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "dagster dev did not come up:\n" + log.read_text()[-3000:]
            time.sleep(2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def expected_asset_keys() -> set[str]:
    from harmony_pipeline.definitions import defs

    return {key.to_user_string() for key in defs.resolve_all_asset_keys()}


def test_graphql_lists_every_asset(dagster_ui):
    data = graphql(dagster_ui, "{ assetNodes { assetKey { path } groupName } }")
    listed = {"/".join(node["assetKey"]["path"]) for node in data["assetNodes"]}
    assert expected_asset_keys() <= listed
    groups = {node["groupName"] for node in data["assetNodes"]}
    assert {"landing", "quality", "omop", "outcomes", "marts", "privacy", "publish"} <= groups


def test_run_launched_through_graphql_completes(dagster_ui):
    repos = graphql(
        dagster_ui,
        "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }",
    )["repositoriesOrError"]["nodes"]
    selector = {"repositoryName": repos[0]["name"], "repositoryLocationName": repos[0]["location"]["name"]}
    launched = graphql(
        dagster_ui,
        """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
             __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }""",
        {"p": {"selector": {**selector, "jobName": "publish"}, "runConfigData": {}}},
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + 300
    status = None
    while time.monotonic() < deadline:
        status = graphql(
            dagster_ui,
            "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }",
            {"id": run_id},
        )["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(3)
    assert status == "SUCCESS"
    # the launched run executed its steps in its own process, as `harmony run` and the bench do (why:
    # definitions.py)
    events = graphql(
        dagster_ui,
        """query($id: ID!) { logsForRun(runId: $id) { ... on EventConnection {
             events { __typename ... on MessageEvent { message } } } } }""",
        {"id": run_id},
    )["logsForRun"]["events"]
    engine = [e["message"] for e in events if e["__typename"] == "EngineEvent"]
    assert any(message.startswith("Executing steps in process") for message in engine), engine
    assert not any("multiprocess" in message for message in engine), engine


def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1600,1000",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def open_page(driver, url: str, wanted: list[str]) -> None:
    """Load a UI page, dismiss the first-visit dialog, wait until every wanted text is shown."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 120).until(lambda d: all(name in d.page_source for name in wanted))
    for button in driver.find_elements(By.XPATH, "//button[normalize-space()='Skip']"):
        button.click()


@pytest.mark.browser
def test_asset_graph_in_headless_chromium(dagster_ui):
    location = "harmony_pipeline.definitions"
    driver = chromium()
    try:
        # the global lineage shows the stages as groups, in order
        open_page(driver, f"{dagster_ui}/asset-groups", ["landing", "omop", "outcomes", "marts", "privacy"])
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "dagster_lineage_groups.png"))
        # a group's graph shows its assets and their neighbours
        wanted = ["release_candidate", "published_release", "mart_aml"]
        open_page(driver, f"{dagster_ui}/locations/{location}/asset-groups/privacy", wanted)
        shot = ARTIFACTS / "dagster_asset_graph.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        open_page(driver, f"{dagster_ui}/locations/{location}/asset-groups/landing", ["raw_deliveries"])
    finally:
        driver.quit()
