"""Invariants of the committed vocabulary and spec seeds (no reference folder needed)."""

from __future__ import annotations

import csv
from pathlib import Path

from harmony_pipeline import canonical

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
LOCAL_BASE = 2_000_000_000


def rows(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_mapped_id_is_verified_or_local():
    verified = {int(r["concept_id"]) for r in rows("vocab_concept_verified")}
    local = {int(r["concept_id"]) for r in rows("vocab_concept_local")}
    assert len(verified) == 631 and 0 in verified
    assert min(local) > LOCAL_BASE and not verified & local
    for r in rows("vocab_source_to_concept_map"):
        target, source = int(r["target_concept_id"]), int(r["source_concept_id"])
        assert target in verified, r  # targets are never local: local concepts are non-standard
        assert source == 0 or source in verified | local, r
    for r in rows("vocab_regimen_ingredient"):
        assert int(r["ingredient_concept_id"]) in verified | {0}, r


def test_local_concepts_have_a_meaning_and_blank_verified_attributes_stay_blank():
    assert all(r["meaning"].strip() for r in rows("vocab_concept_local"))
    verified = rows("vocab_concept_verified")
    blank = [r for r in verified if not r["domain_id"]]
    assert len(blank) == 153  # README: 153 rows shown only as id + name
    assert all(not r["vocabulary_id"] and not r["standard_concept"] for r in blank)
    # de-standardised ids stay non-standard (README: use 138379 / 432574 instead)
    flags = {r["concept_id"]: r["standard_concept"] for r in verified}
    assert flags["4082311"] == "N" and flags["44808122"] == "N"


def test_every_canonical_code_list_is_in_the_map():
    stcm = {(r["source_vocabulary_id"], r["source_code"]) for r in rows("vocab_source_to_concept_map")}
    assert all(("HARMONY_LAB", lab) in stcm for lab in canonical.LABS)
    assert all(("HARMONY_RESPONSE", code) in stcm for code in canonical.RESPONSES)
    assert all(("HARMONY_DISEASE", disease) in stcm for disease in canonical.DISEASES)
    assert all(("HARMONY_SEX", sex) in stcm for sex in canonical.ENTITIES["patient"].get("sex").allowed)
    transplant_types = canonical.ENTITIES["transplant"].get("transplant_type").allowed
    assert all(("HARMONY_TRANSPLANT", t) in stcm for t in transplant_types)
    units = {r["canonical_unit"] for r in rows("vocab_lab_unit")}
    assert all(("HARMONY_UNIT", unit) in stcm for unit in units)


def test_spec_seed_covers_the_cdm():
    spec = rows("cdm_field_spec")
    tables = {r["table_name"] for r in spec}
    assert len(tables) == 39 and {"person", "measurement", "episode", "episode_event"} <= tables
    person = {r["field_name"]: r for r in spec if r["table_name"] == "person"}
    assert person["person_id"]["is_primary_key"] == "True"
    assert person["year_of_birth"]["is_required"] == "True"
    assert person["gender_concept_id"]["fk_domain"] == "Gender"
    assert {r["duckdb_type"] for r in spec} == {"integer", "varchar", "date", "timestamp", "double"}
