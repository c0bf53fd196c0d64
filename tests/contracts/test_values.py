"""Value typing helpers of the contracts reader (contracts/values.py)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from harmony_pipeline.contracts.values import apply_map, to_date, to_double

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


def test_to_double_types_each_row_and_flags_the_untypable_ones():
    text = pd.Series([" 1,5", "1,5", "1.5", None, "x", "2"], index=[5, 4, 3, 2, 1, 0], dtype="string")
    number, bad = to_double(text, decimal=",")
    # a dot is no decimal mark in a decimal-comma file: "1.5" is a reject, not 1.5 (nor 15)
    assert number.index.tolist() == [5, 4, 3, 2, 1, 0]
    assert number.iloc[[0, 1, 5]].tolist() == [1.5, 1.5, 2.0]
    assert number.iloc[[2, 3, 4]].isna().all()
    assert bad.tolist() == [False, False, True, False, True, False]


def test_to_date_parses_text_and_keeps_date_objects():
    values = pd.Series(["2020-02-01", dt.date(2019, 5, 6), " 2020-02-01 ", "2020-02-30", None], dtype=object)
    dates, bad = to_date(values, "%Y-%m-%d")
    assert dates.iloc[[0, 1, 2]].tolist() == [pd.Timestamp("2020-02-01"), pd.Timestamp("2019-05-06"),
                                               pd.Timestamp("2020-02-01")]  # fmt: skip
    assert dates.iloc[[3, 4]].isna().all()
    assert bad.tolist() == [False, False, False, True, False]


def test_a_list_or_object_where_a_value_belongs_is_untypable_not_a_crash():
    # a JSON field holding a list is no value of any type: a reject of that row, not a failed delivery
    delivered = pd.Series([[1, 2], "2", {"a": 1}, None], dtype=object)
    number, bad = to_double(delivered)
    assert bad.tolist() == [True, False, True, False]
    assert number.iloc[1] == 2.0
    assert apply_map(delivered, SEX).tolist() == ["[1, 2]", "F", "{'a': 1}", pd.NA]
    dates, bad = to_date(delivered, "%Y-%m-%d")
    assert bad.tolist() == [True, True, True, False]
