"""Fixtures: the small test source's contract, landing deliveries, a warehouse connection."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from small_source import CONTRACT

from harmony_pipeline.contracts import parse_contract
from harmony_pipeline.settings import get_settings


@pytest.fixture
def contract():
    return parse_contract(CONTRACT)


@pytest.fixture
def land(harmony_home):
    """land(delivery_id, {file name: text or bytes}) -> the delivery folder."""

    def _land(delivery_id: str, files: dict, source_id: str = "test_aml") -> Path:
        folder = get_settings().landing / source_id / delivery_id
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            path = folder / name
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return folder

    return _land


@pytest.fixture
def warehouse(harmony_home):
    get_settings().home.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(get_settings().warehouse))
    yield con
    con.close()
