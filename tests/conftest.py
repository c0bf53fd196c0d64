"""Shared fixtures: an isolated HARMONY_HOME and Dagster instance per test session piece.

The end-to-end cohort is synthesised and run through Dagster once per session and shared by the
end-to-end, privacy-scan and UI tests, so the suite stays within CI's time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

TEST_KEY = "test-only-pseudonym-key-7f3a9c2e5b"
E2E_PATIENTS = 400
E2E_SEED = 11


def use_home(home: Path, dagster_home: Path) -> None:
    os.environ["HARMONY_HOME"] = str(home)
    os.environ["HARMONY_CONTRACTS_DIR"] = str(home / "contracts")
    os.environ["HARMONY_PSEUDONYM_KEY"] = TEST_KEY
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    os.environ.pop("HARMONY_DEMO", None)


@pytest.fixture
def harmony_home(tmp_path, monkeypatch) -> Path:
    """A fresh, empty home for one test (environment restored afterwards)."""
    for name in ("HARMONY_HOME", "HARMONY_CONTRACTS_DIR", "HARMONY_PSEUDONYM_KEY", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    home, dagster_home = tmp_path / "home", tmp_path / "dagster"
    dagster_home.mkdir()
    monkeypatch.setenv("HARMONY_HOME", str(home))
    monkeypatch.setenv("HARMONY_CONTRACTS_DIR", str(home / "contracts"))
    monkeypatch.setenv("HARMONY_PSEUDONYM_KEY", TEST_KEY)
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    monkeypatch.delenv("HARMONY_DEMO", raising=False)
    return home


@contextmanager
def pipeline_home(root: Path) -> Iterator[tuple[Path, Path]]:
    """A home and a Dagster instance under root, the environment set for them while inside; afterwards
    it is restored, so later tests never inherit this home by accident."""
    saved = dict(os.environ)
    home, dagster_home = root / "home", root / "dagster"
    dagster_home.mkdir()
    use_home(home, dagster_home)
    try:
        yield home, dagster_home
    finally:
        os.environ.clear()
        os.environ.update(saved)


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
