"""A small test source: its contract (written here), clean and bad CSV lines."""

from __future__ import annotations

from pathlib import Path

import yaml

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


def write_contract(home: Path, data: dict) -> None:
    (home / "contracts").mkdir(parents=True, exist_ok=True)
    (home / "contracts" / f"{data['source_id']}.yml").write_text(yaml.safe_dump(data))
