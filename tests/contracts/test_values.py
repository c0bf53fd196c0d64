"""Value typing helpers of the contracts reader (contracts/values.py)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from harmony_pipeline.contracts.values import apply_map

SEX = {"male": "M", "m": "M", "female": "F", "1": "M", "2": "F"}


@pytest.mark.parametrize(
    "values",
    [
        pd.Series([" Male", "female ", None, "FEMALE", "unknown", "Male"], dtype="string"),
        pd.Series([" Male", "female ", None, "FEMALE", "unknown", "Male"], dtype=pd.StringDtype("pyarrow")),
        pd.Series(
            pa.array([" Male", "female ", None, "FEMALE", "unknown", "Male"]).to_pandas(), dtype=object
        ),
    ],
)
def test_apply_map_maps_labels_whatever_their_case_and_blanks_and_passes_the_rest_verbatim(values):
    mapped = apply_map(values.set_axis([10, 11, 12, 13, 14, 15]), SEX)
    assert mapped.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert mapped.dtype == "string"
    assert mapped.tolist() == ["M", "F", pd.NA, "F", "unknown", "M"]


def test_apply_map_reads_numbers_and_flags_as_their_text():
    # Excel and JSON deliver codes as numbers: 1.0 is the label "1", and a flag True is "1" as well
    mixed = pd.Series([1, 2.0, True, "2", None, 3.5], dtype=object)
    assert apply_map(mixed, SEX).tolist() == ["M", "F", "M", "F", pd.NA, "3.5"]
    assert apply_map(pd.Series([2.0, float("nan"), 1.0]), SEX).tolist() == ["F", pd.NA, "M"]
