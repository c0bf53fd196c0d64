"""Great Expectations 1.x suites: built from canonical.py, stored as JSON in `expectations/`, loaded back.

The JSON files are the versioned rules a data steward reads and reviews. `build_entity_suite` derives
them from the canonical schema (types, required fields, closed code lists, ranges per canonical unit,
uniqueness of the natural key within a delivery); `write_entity_suites()` regenerates the files and a
test keeps the files and canonical.py in step. Source-specific rules live in
`expectations/sources/<source_id>.json`; each expectation there names its entity in `meta.entity`.

Every expectation carries `meta.rule` (the quarantine rule name) and `meta.reason` (readable text).
"""

from __future__ import annotations

import json
from pathlib import Path

from great_expectations.core import ExpectationSuite

from harmony_pipeline import canonical
from harmony_pipeline.quality import code_lists
from harmony_pipeline.settings import EXPECTATIONS_DIR

# pandas dtypes a column has after quality.frames.canonical_frame (what GX's type check observes)
# (GX 1.24 names a nullable Int64 column "Int64Dtype" and judges an object column by its values: "str")
PANDAS_TYPES: dict[str, list[str]] = {
    "VARCHAR": ["str", "object"],
    "DOUBLE": ["float64"],
    "BIGINT": ["Int64Dtype", "int64"],
    "DATE": ["datetime64[us]"],
}


def _expectation(kind: str, rule: str, reason: str, **kwargs) -> dict:
    return {"type": kind, "kwargs": kwargs, "meta": {"rule": rule, "reason": reason}}


def build_entity_suite(entity_name: str) -> dict:
    """The suite of one canonical entity as a JSON-ready dict (GX 1.x ExpectationSuite layout)."""
    entity = canonical.ENTITIES[entity_name]
    expectations: list[dict] = []
    for f in canonical.table_columns(entity_name):
        expectations.append(
            _expectation(
                "expect_column_values_to_be_in_type_list",
                "type",
                f"{f.name} must be of type {f.dtype}",
                column=f.name,
                type_list=PANDAS_TYPES[f.dtype],
            )
        )
        if f.required:
            expectations.append(
                _expectation(
                    "expect_column_values_to_not_be_null",
                    "required",
                    f"{f.name} is required but missing",
                    column=f.name,
                )
            )
        if f.allowed:
            expectations.append(
                _expectation(
                    "expect_column_values_to_be_in_set",
                    "allowed_codes",
                    f"{f.name} is not one of the canonical codes {', '.join(f.allowed)}",
                    column=f.name,
                    value_set=list(f.allowed),
                )
            )
        if f.low is not None or f.high is not None:
            expectations.append(
                _expectation(
                    "expect_column_values_to_be_between",
                    "range",
                    f"{f.name} outside the plausible range {f.low}..{f.high}",
                    column=f.name,
                    min_value=f.low,
                    max_value=f.high,
                )
            )
    expectations += _code_list_expectations(entity_name)
    if entity_name == "lab_result":
        # each lab in its canonical unit and plausible range (canonical.LABS, DQD-style plausibleValueLow/High)
        expectations.append(
            _expectation(
                "expect_column_pair_values_to_be_in_set",
                "unit",
                "unit is not the canonical unit of this lab",
                column_A="lab",
                column_B="unit",
                value_pairs_set=[[lab, unit] for lab, (unit, _, _) in canonical.LABS.items()],
            )
        )
        for lab, (unit, low, high) in canonical.LABS.items():
            expectations.append(
                _expectation(
                    "expect_column_values_to_be_between",
                    "range",
                    f"{lab} outside the plausible range {low:g}..{high:g} {unit}",
                    column="value",
                    min_value=low,
                    max_value=high,
                    row_condition=f'lab=="{lab}"',
                    condition_parser="pandas",
                )
            )
    if entity_name == "treatment":
        expectations.append(
            _expectation(
                "expect_column_pair_values_a_to_be_greater_than_b",
                "end_before_start",
                "treatment ends before it starts",
                column_A="end_date",
                column_B="start_date",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
        )
    if entity_name == "follow_up":
        expectations.append(
            _expectation(
                "expect_column_values_to_be_null",
                "death_date_alive",
                "death_date given for a patient recorded alive",
                column="death_date",
                row_condition='vital_status=="alive"',
                condition_parser="pandas",
            )
        )
    if entity.natural_key:
        # unique within one delivery: a corrected re-delivery legitimately repeats a fact
        keys = ["delivery_id", *entity.natural_key]
        expectations.append(
            _expectation(
                "expect_compound_columns_to_be_unique",
                "unique_key",
                f"more than one row for the natural key ({', '.join(entity.natural_key)})",
                column_list=keys,
            )
        )
    return {
        "name": f"harmony.{entity_name}",
        "expectations": expectations,
        "meta": {"entity": entity_name, "generated_from": "harmony_pipeline/canonical.py"},
    }


def _code_list_expectations(entity_name: str) -> list[dict]:
    """Closed lists and formats of codes canonical.py leaves open (quality.code_lists)."""
    out = []
    if entity_name == "patient":
        out.append(
            _expectation(
                "expect_column_values_to_be_in_set", "allowed_codes",
                "country is not an ISO 3166-1 alpha-2 country code",
                column="country", value_set=list(code_lists.ISO_3166_ALPHA2),
            )
        )  # fmt: skip
    if entity_name == "follow_up":
        out.append(
            _expectation(
                "expect_column_values_to_be_in_set", "allowed_codes",
                f"death_cause is not one of the canonical causes {', '.join(code_lists.DEATH_CAUSES)}",
                column="death_cause", value_set=list(code_lists.DEATH_CAUSES),
            )
        )  # fmt: skip
    if entity_name == "transplant":
        out.append(
            _expectation(
                "expect_column_values_to_be_in_set", "allowed_codes",
                f"donor_type is not one of the canonical donor types {', '.join(code_lists.DONOR_TYPES)}",
                column="donor_type", value_set=list(code_lists.DONOR_TYPES),
            )
        )  # fmt: skip
    if entity_name == "staging":
        for system, values in code_lists.STAGING_VALUES.items():
            out.append(
                _expectation(
                    "expect_column_values_to_be_in_set", "allowed_codes",
                    f"{system} value is not one of {', '.join(values)}",
                    column="value", value_set=list(values),
                    row_condition=f'system=="{system}"', condition_parser="pandas",
                )
            )  # fmt: skip
        for system in code_lists.STAGING_COUNTS:
            out.append(
                _expectation(
                    "expect_column_values_to_match_regex", "range",
                    f"{system} value is not a whole number of sites from 0 to 30",
                    column="value", regex=code_lists.COUNT_PATTERN,
                    row_condition=f'system=="{system}"', condition_parser="pandas",
                )
            )  # fmt: skip
    if entity_name == "diagnosis":
        for system, pattern in code_lists.DIAGNOSIS_CODE_PATTERNS.items():
            out.append(
                _expectation(
                    "expect_column_values_to_match_regex", "allowed_codes",
                    f"code is not a haematological malignancy code of {system}",
                    column="code", regex=pattern,
                    row_condition=f'code_system=="{system}"', condition_parser="pandas",
                )
            )  # fmt: skip
    return out


def suite_path(entity_name: str, directory: Path = EXPECTATIONS_DIR) -> Path:
    return directory / f"{entity_name}.json"


def source_suite_path(source_id: str, directory: Path = EXPECTATIONS_DIR) -> Path:
    return directory / "sources" / f"{source_id}.json"


def write_entity_suites(directory: Path = EXPECTATIONS_DIR) -> list[Path]:
    """Regenerate the entity suites from canonical.py (run after changing canonical.py)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in canonical.ENTITIES:
        path = suite_path(name, directory)
        path.write_text(json.dumps(build_entity_suite(name), indent=2) + "\n")
        paths.append(path)
    return paths


def _suite_from_dict(data: dict) -> ExpectationSuite:
    return ExpectationSuite(name=data["name"], expectations=data["expectations"], meta=data.get("meta", {}))


def load_entity_suite(entity_name: str, directory: Path = EXPECTATIONS_DIR) -> ExpectationSuite:
    return _suite_from_dict(json.loads(suite_path(entity_name, directory).read_text()))


def load_source_suites(source_id: str, directory: Path = EXPECTATIONS_DIR) -> dict[str, ExpectationSuite]:
    """Source-specific suites of one source, split per entity (empty when the source has none)."""
    path = source_suite_path(source_id, directory)
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    per_entity: dict[str, list[dict]] = {}
    for exp in data["expectations"]:
        per_entity.setdefault(exp["meta"]["entity"], []).append(exp)
    return {
        entity: _suite_from_dict({"name": f"{data['name']}.{entity}", "expectations": exps})
        for entity, exps in per_entity.items()
    }


def suites_for(entity_name: str, source_id: str | None, directory: Path = EXPECTATIONS_DIR) -> list:
    """The suites that apply to one entity of one source: the canonical one, then the source's own."""
    suites = [load_entity_suite(entity_name, directory)]
    if source_id:
        extra = load_source_suites(source_id, directory).get(entity_name)
        if extra is not None:
            suites.append(extra)
    return suites


if __name__ == "__main__":
    for p in write_entity_suites():
        print(p)
