"""Builds the small canonical warehouse once per session and runs the real dbt build into it."""

from __future__ import annotations

from pathlib import Path

import pytest
from omop_warehouse import build


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("omop_a"))


@pytest.fixture(scope="session")
def warehouse_reversed(tmp_path_factory) -> Path:
    """The same canonical rows loaded in reverse order, built separately."""
    return build(tmp_path_factory.mktemp("omop_b"), reverse=True)
