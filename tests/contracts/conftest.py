"""Fixtures for the contract tests: an isolated home, the pseudonym key, and a contract writer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harmony_pipeline.contracts import parse_contract
from harmony_pipeline.settings import get_settings

KEY = b"contracts-test-key-4b1d"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("HARMONY_HOME", str(home))
    monkeypatch.setenv("HARMONY_CONTRACTS_DIR", str(home / "contracts"))
    monkeypatch.setenv("HARMONY_PSEUDONYM_KEY", KEY.decode())
    return home


@pytest.fixture
def settings(home):
    return get_settings()


def make_contract(files: dict, entities: dict, **top):
    """A contract from Python dicts, validated exactly as a YAML file would be."""
    data = {"source_id": "src_a", "provider_kind": "hospital", "diseases": ["AML"], "files": files,
            "entities": entities, **top}  # fmt: skip
    return parse_contract(yaml.safe_load(yaml.safe_dump(data, sort_keys=False)), "test.yml")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path
