"""The GX suites in expectations/: in step with canonical.py, loadable as GX 1.x objects, runnable by GX."""

from __future__ import annotations

import json

import pandas as pd
from great_expectations.core import ExpectationSuite

from harmony_pipeline import canonical
from harmony_pipeline.quality import gx_run
from harmony_pipeline.quality.frames import canonical_frame
from harmony_pipeline.quality.suites import build_entity_suite, load_entity_suite, suite_path


def test_stored_suites_match_canonical():
    for name in canonical.ENTITIES:
        stored = json.loads(suite_path(name).read_text())
        assert stored == build_entity_suite(name), (
            f"regenerate: python -m harmony_pipeline.quality.suites ({name})"
        )


def test_suites_load_as_gx_objects_with_rule_names():
    for name in canonical.ENTITIES:
        suite = load_entity_suite(name)
        assert isinstance(suite, ExpectationSuite) and suite.name == f"harmony.{name}"
        for exp in suite.expectations:
            assert exp.configuration.meta["rule"] and exp.configuration.meta["reason"]
    labs = load_entity_suite("lab_result")
    ranges = [e for e in labs.expectations if e.configuration.type == "expect_column_values_to_be_between"]
    assert len(ranges) == len(canonical.LABS)


def test_gx_finds_failing_rows_and_builds_data_docs(tmp_path):
    frame = canonical_frame(
        pd.DataFrame({"source_id": ["s"] * 3, "delivery_id": ["d"] * 3, "file_name": ["f"] * 3,
                      "row_number": [1, 2, 3], "patient_key": ["a", "b", "c"], "person_key": ["a", "b", "c"],
                      "sex": ["F", "Q", None], "provider_kind": ["trial"] * 3, "birth_year": [1950, 1960, 1970]}),
        "patient",
    )  # fmt: skip
    results, index = gx_run.validate_with_docs(
        {"patient": (frame, [load_entity_suite("patient")])}, tmp_path, "t"
    )
    failed = {o.meta["rule"]: o.unexpected_index for o in results["patient"] if not o.success}
    assert failed == {"allowed_codes": [1], "required": [2]}
    assert index.exists() and "harmony.patient" in "".join(p.read_text() for p in tmp_path.rglob("*.html"))
