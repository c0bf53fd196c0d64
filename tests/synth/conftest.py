"""One small synthetic network per test session (real files in a temporary HARMONY home)."""

from __future__ import annotations

import pytest

from harmony_pipeline.synth import synthesise

PATIENTS = 1500
SEED = 11


@pytest.fixture(scope="session")
def network(tmp_path_factory):
    home = tmp_path_factory.mktemp("synth_home")
    summary = synthesise(home, PATIENTS, SEED, deliveries=1, defect_rate=0.03)
    return home, summary


@pytest.fixture(scope="session")
def staggered(tmp_path_factory):
    home = tmp_path_factory.mktemp("synth_deliveries")
    summary = synthesise(home, 800, SEED, deliveries=3, defect_rate=0.0)
    return home, summary
