"""A small two-file test source (contract written here) and helpers to land deliveries."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from harmony_pipeline.contracts import parse_contract
from harmony_pipeline.settings import get_settings

CONTRACT = {
    "source_id": "test_aml",
    "provider_kind": "registry",
    "diseases": ["AML"],
    "country": "BE",
    "missing_values": ["", "NA"],  # (omitting it trips a contracts bug: default is a tuple)
    "files": {
        "clinical": {"pattern": "clinical*.csv", "format": "csv", "patient_id": "pid"},
    },
    "entities": {
        "patient": [{"from": "clinical", "fields": {"sex": {"column": "sex", "map": {"m": "M", "f": "F"}},
                                                    "birth_year": "birth_year"}}],
        "diagnosis": [{"from": "clinical", "fields": {"diagnosis_date": "dx_date"}}],
        "lab_result": [{"from": "clinical", "wide": {"key": "lab", "value": "value",
                                                      "columns": {"hb": {"label": "hb", "unit": "g/dL"}}},
                        "fields": {"measured_date": "dx_date"}}],
        "follow_up": [{"from": "clinical", "fields": {"last_contact_date": "last_contact",
                                                      "vital_status": {"column": "status",
                                                                       "map": {"alive": "alive", "dead": "dead"}}}}],
    },
}  # fmt: skip

HEADER = "pid,sex,birth_year,dx_date,hb,last_contact,status"


def clean_line(i: int) -> str:
    return f"P{i:04d},{'mf'[i % 2]},{1950 + i % 30},2020-01-{1 + i % 28:02d},{9 + i % 5}.5,2022-06-01,alive"


def clinical_csv(n: int = 20, bad: dict[int, str] | None = None) -> str:
    lines = [HEADER] + [(bad or {}).get(i, clean_line(i)) for i in range(n)]
    return "\n".join(lines) + "\n"


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


def write_contract(home: Path, data: dict) -> None:
    (home / "contracts").mkdir(parents=True, exist_ok=True)
    (home / "contracts" / f"{data['source_id']}.yml").write_text(yaml.safe_dump(data))
