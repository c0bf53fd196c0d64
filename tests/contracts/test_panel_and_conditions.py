"""Contract constructs for what a file does not say outright: a gene panel (unlisted genes are wild type),
conditions that must all hold (`where` as a list), and checks on columns read only in conditions."""

from __future__ import annotations

import pytest
from conftest import KEY, make_contract, write

from harmony_pipeline.contracts import ContractError, read_delivery

CLINICAL = (
    "pid;birth;sex;diag;tp53;tp53_hits\nP1;01.02.1950;M;03.04.2020;1;2\nP2;05.06.1960;F;07.08.2021;1;1\n"
)
CLINICAL += "P3;09.10.1970;F;11.12.2022;0;0\nP4;01.01.1980;M;02.02.2023;0;x\n"
# P1: TP53 and ASXL1 mutated; P2: TP53 only; P3: nothing mutated (not in the file); P4: a gene off the panel
NGS = "pid;gene;vaf\nP1;TP53;40\nP1;ASXL1;12\nP2;TP53;55\nP4;FOO1;30\n"
PANEL = ["TP53", "ASXL1", "RUNX1"]


def panel_contract(panel=PANEL, ngs_required=False):
    files = {
        "clinical": {"pattern": "clin*.csv", "format": "csv", "delimiter": ";", "patient_id": "pid",
                     "date_format": "%d.%m.%Y", "ignore": ["tp53", "tp53_hits"]},
        "ngs": {"pattern": "ngs*.csv", "format": "csv", "delimiter": ";", "patient_id": "pid",
                "required": ngs_required},
    }  # fmt: skip
    entities = {
        "patient": [{"from": "clinical", "fields": {"sex": "sex", "birth_date": "birth"}}],
        "diagnosis": [{"from": "clinical", "fields": {"diagnosis_date": "diag"}}],
        "mutation": [{"from": "ngs", "panel": panel, "fields": {
            "gene": "gene", "status": {"const": "mutated"}, "vaf": {"column": "vaf", "factor": 0.01}}}],
    }  # fmt: skip
    return make_contract(files, entities)


def statuses(read) -> dict[tuple[str, str], str]:
    """(patient row of the clinical file, gene) -> status, via patient_key."""
    patients = read.entities["patient"].set_index("patient_key")["row_number"]
    m = read.entities["mutation"]
    return {
        (int(patients[k]), g): s for k, g, s in zip(m["patient_key"], m["gene"], m["status"], strict=True)
    }


def test_genes_of_the_panel_not_listed_are_wild_type(tmp_path, home, settings):
    delivery = tmp_path / "d1"
    write(delivery / "clin_1.csv", CLINICAL)
    write(delivery / "ngs_1.csv", NGS)
    read = read_delivery(panel_contract(), delivery, KEY, settings)
    got = statuses(read)
    assert got[(1, "TP53")] == got[(1, "ASXL1")] == "mutated" and got[(1, "RUNX1")] == "wildtype"
    assert got[(2, "TP53")] == "mutated" and got[(2, "ASXL1")] == got[(2, "RUNX1")] == "wildtype"
    # a patient with no variant at all: the whole panel tested wild type
    assert [got.get((3, g)) for g in PANEL] == ["wildtype"] * 3
    # a patient listed with a gene off the panel: the listing is not read as the panel's result
    assert [got.get((4, g)) for g in PANEL] == [None] * 3 and got[(4, "FOO1")] == "mutated"
    m = read.entities["mutation"]
    implied = m[m["status"] == "wildtype"]
    # lineage: the patient's row of the first file holding them (the clinical file); no VAF is invented
    assert set(implied["file_name"]) == {"clin_1.csv"} and implied["vaf"].isna().all()
    assert len(m) == 4 + 1 + 2 + 3


def test_no_variant_file_no_panel(tmp_path, home, settings):
    """Without the (optional) variant file the delivery says nothing about the genes."""
    delivery = tmp_path / "d1"
    write(delivery / "clin_1.csv", CLINICAL)
    read = read_delivery(panel_contract(), delivery, KEY, settings)
    assert read.entities["mutation"].empty


def test_a_malformed_variant_line_keeps_its_patient_out_of_the_panel(tmp_path, home, settings):
    delivery = tmp_path / "d1"
    write(delivery / "clin_1.csv", CLINICAL)
    write(delivery / "ngs_1.csv", NGS + "P3;RUNX1;20;EXTRA\n")  # the line that held P3's RUNX1 is lost
    read = read_delivery(panel_contract(), delivery, KEY, settings)
    assert (read.rejects["rule"] == "malformed_line").sum() == 1
    got = statuses(read)
    assert [got.get((3, g)) for g in PANEL] == [None] * 3  # not 'wildtype': RUNX1 may be mutated
    assert got[(2, "RUNX1")] == "wildtype"


def test_panel_is_validated():
    with pytest.raises(ContractError, match="lists no gene"):
        panel_contract(panel=[])
    files = {"f": {"pattern": "*.csv", "format": "csv", "patient_id": "pid"}}
    with pytest.raises(ContractError, match="mutation mappings only"):
        make_contract(
            files, {"staging": [{"from": "f", "panel": ["X"], "fields": {"system": "s", "value": "v"}}]}
        )
    wide = {"key": "gene", "value": "status", "columns": {"a": "A"}}
    with pytest.raises(ContractError, match="not to wide ones"):
        make_contract(files, {"mutation": [{"from": "f", "panel": ["A"], "wide": wide}]})


def hits_contract():
    files = {"clinical": {"pattern": "clin*.csv", "format": "csv", "delimiter": ";", "patient_id": "pid",
                          "date_format": "%d.%m.%Y"}}  # fmt: skip
    first = {"gene": {"const": "TP53"}, "status": {"column": "tp53", "map": {"1": "mutated", "0": "wildtype"}},
             "variant": {"const": "hit1", "when": {"column": "tp53", "in": ["1"]}}}  # fmt: skip
    second = {"gene": {"const": "TP53"}, "status": {"const": "mutated"}, "variant": {"const": "hit2"}}
    entities = {
        "patient": [{"from": "clinical", "fields": {"sex": "sex", "birth_date": "birth"}}],
        "mutation": [
            {"from": "clinical", "check": {"column": "tp53_hits", "range": [0, 10], "whole": True}, "fields": first},
            {"from": "clinical", "where": [{"column": "tp53", "in": ["1"]}, {"column": "tp53_hits", "in": ["2", "3"]}],
             "fields": second},
        ],
    }  # fmt: skip
    return make_contract(files, entities)


def test_where_list_needs_every_condition_and_check_rejects_bad_counts(tmp_path, home, settings):
    delivery = tmp_path / "d1"
    write(delivery / "clin_1.csv", CLINICAL)
    read = read_delivery(hits_contract(), delivery, KEY, settings)
    got = read.entities["mutation"].merge(
        read.entities["patient"][["patient_key", "row_number"]], on="patient_key"
    )
    variants = got.groupby("row_number_y")["variant"].apply(lambda v: sorted(v.fillna("-")))
    # P1 two hits; P2 one (the count condition fails); P3 wild type (the TP53 condition fails)
    assert variants.to_dict() == {1: ["hit1", "hit2"], 2: ["hit1"], 3: ["-"]}
    # P4's count "x" is no number from 0 to 10: its TP53 row is a reject naming the column, not a silent gap
    bad = read.rejects[read.rejects["rule"] == "check"]
    assert bad[["row_number", "field", "value"]].values.tolist() == [[4, "tp53_hits", "x"]]


def test_check_is_validated():
    files = {"f": {"pattern": "*.csv", "format": "csv", "patient_id": "pid"}}
    mapping = {"from": "f", "fields": {"gene": "g", "status": "s"}}
    with pytest.raises(ContractError, match="low <= high"):
        make_contract(files, {"mutation": [{**mapping, "check": {"column": "n", "range": [5, 1]}}]})
    with pytest.raises(ContractError, match="empty list of conditions"):
        make_contract(files, {"mutation": [{**mapping, "where": []}]})
