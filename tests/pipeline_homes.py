"""Isolated homes for tests that run the pipeline: a HARMONY_HOME, a Dagster instance and the test key.

A module of its own (not conftest): test modules import it by name, and several folders have a conftest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TEST_KEY = "test-only-pseudonym-key-7f3a9c2e5b"


def home_variables(home: Path, dagster_home: Path) -> dict[str, str]:
    """The environment of a test home (and HARMONY_DEMO must be unset: no demo key fallback)."""
    return {
        "HARMONY_HOME": str(home),
        "HARMONY_CONTRACTS_DIR": str(home / "contracts"),
        "HARMONY_PSEUDONYM_KEY": TEST_KEY,
        "DAGSTER_HOME": str(dagster_home),
    }


def use_home(home: Path, dagster_home: Path) -> None:
    os.environ.update(home_variables(home, dagster_home))
    os.environ.pop("HARMONY_DEMO", None)


@contextmanager
def environment(values: dict[str, str] | None = None) -> Iterator[None]:
    """The process environment with `values` set while inside; afterwards exactly as it was, so later
    tests never inherit a home by accident."""
    saved = dict(os.environ)
    os.environ.update(values or {})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def pipeline_home(root: Path) -> Iterator[tuple[Path, Path]]:
    """A home and a Dagster instance under root, the environment set for them while inside."""
    home, dagster_home = root / "home", root / "dagster"
    dagster_home.mkdir()
    with environment():
        use_home(home, dagster_home)
        yield home, dagster_home
