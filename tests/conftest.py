"""Shared fixtures: an isolated HARMONY_HOME and Dagster instance per test session piece.

The end-to-end cohort is synthesised and run through Dagster once per session and shared by the
end-to-end, privacy-scan and UI tests, so the suite stays within CI's time.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pipeline_homes import home_variables, pipeline_home

E2E_PATIENTS = 400
E2E_SEED = 11


@pytest.fixture
def harmony_home(tmp_path, monkeypatch) -> Path:
    """A fresh, empty home for one test; through monkeypatch, so the environment a test changes with
    monkeypatch too is restored in one undo."""
    home, dagster_home = tmp_path / "home", tmp_path / "dagster"
    dagster_home.mkdir()
    for name, value in home_variables(home, dagster_home).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HARMONY_DEMO", raising=False)
    return home


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory):
    """Synthesise a small multi-source cohort and run every asset through Dagster, once."""
    from harmony_pipeline.runner import run_pipeline
    from harmony_pipeline.settings import get_settings
    from harmony_pipeline.synth import synthesise

    with pipeline_home(tmp_path_factory.mktemp("e2e")) as (home, dagster_home):
        synthesise(home, patients=E2E_PATIENTS, seed=E2E_SEED)
        settings = get_settings()
        ok = run_pipeline(settings)
        env = dict(os.environ)
    return {"home": home, "dagster_home": dagster_home, "success": ok, "settings": settings, "env": env}
