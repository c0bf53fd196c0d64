"""JSON records flattened without pandas' deep copies: exactly what pd.json_normalize gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmony_pipeline.contracts.readers import _flat_records, _normalize

PATIENTS = [
    {"id": "P1", "site": "S1", "patient": {"name": {"family": "A", "given": "B"}, "sex": "male"}, "age": 61,
     "labs": {"hb": 10.2, "plt": None}, "flags": {}, "lines": [
         {"line": 1, "regimen": "VCd", "drugs": [{"drug": "bortezomib"}], "resp": {"best": "CR", "date": "2020-01-01"}},
         {"line": 2, "regimen": None, "drugs": []}]},
    {"id": "P2", "patient": {"sex": "female", "name": {"family": "C"}}, "lines": None, "extra": [1, 2],
     "labs": {"hb": 9, "ldh": {"value": 200, "uln": 250}}},
    {"site": "S3", "id": "P3", "lines": [], "age": None},
    {"id": "P4", "lines": [{"line": 1, "regimen": "KRd", "drugs": None}], "a.b": 1, "a": {"b": 2}},
]  # fmt: skip


def same(fast: pd.DataFrame, slow: pd.DataFrame) -> bool:
    return list(fast.columns) == list(slow.columns) and fast.dtypes.equals(slow.dtypes) and fast.equals(slow)


@pytest.mark.parametrize("records", [PATIENTS, PATIENTS[:1], [{"x": {"y": {"z": 1}}}, {"x": 2}], []])
def test_flat_records_equal_json_normalize(records):
    fast = _flat_records(records)
    assert fast is not None and same(fast, pd.json_normalize(records))


@pytest.mark.parametrize(
    ("path", "meta"),
    [
        (["lines"], ["id"]),
        (["lines"], ["id", "site"]),
        (["lines", "drugs"], ["id", "site"]),
        (["lines"], ["nope"]),
    ],
)
def test_record_path_with_meta_equals_json_normalize(path, meta):
    kept = [
        r if "lines" in r else {**r, "lines": []}
        for r in PATIENTS
        if not (r is PATIENTS[3] and meta == ["id"])
    ]
    if path == ["lines", "drugs"]:  # every line needs its drugs list on this path
        kept = [
            {**r, "lines": [{**line, "drugs": line.get("drugs", [])} for line in r["lines"] or []]}
            for r in kept
        ]
    slow = pd.json_normalize(kept, record_path=path, meta=meta, errors="ignore")
    fast = _flat_records(kept, path, meta)
    assert fast is not None and same(fast, slow), f"\n{fast}\n{slow}"


def test_unusual_shapes_are_left_to_pandas():
    """Shapes the flattener does not take (pandas either reads them its own way or names the error)."""
    assert _flat_records([{"a": 1}, 5]) is None  # a record that is no object
    assert _flat_records([{"lines": "text"}], ["lines"], ["id"]) is None  # no list of records
    assert _flat_records([{"lines": [{"id": 1}], "id": 2}], ["lines"], ["id"]) is None  # meta name clash
    assert _flat_records([{"lines": [{"x": {"a.b": 1}}]}], ["lines"], []) is None  # a dotted nested key
    conflicting = [{"lines": [{"id": 1}], "id": 2}]
    with pytest.raises(ValueError, match="Conflicting metadata"):
        _normalize(conflicting, ["lines"], ["id"])
    assert same(_normalize([{"x": 1}, {"y": np.nan}]), pd.json_normalize([{"x": 1}, {"y": np.nan}]))
