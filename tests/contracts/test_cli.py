"""`harmony contract draft` and `check` on a hand-made MDS research export, onboarded by a contract only."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import KEY

from harmony_pipeline.contracts import cli, load_contracts, parse_contract, read_delivery
from harmony_pipeline.settings import get_settings

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "contracts" / "mds_cohort.yml"
GENES = ["TP53", "ASXL1", "SF3B1", "RUNX1", "EZH2"]
KARYOTYPES = [
    ("46,XY[20]", "Good"), ("46,XX,del(5)(q13q33)[20]", "Good"), ("45,XY,-7[15]/46,XY[5]", "Poor"),
    ("47,XX,+8[12]/46,XX[8]", "Intermediate"), ("45,X,-Y[20]", "Very Good"),
    ("43,XY,-5,-7,del(17p),-18,+mar[20]", "Very Poor"), ("NA", "NA"),
]  # fmt: skip
SUBTYPES = ["MDS-SLD", "MDS-MLD", "MDS-RS-SLD", "MDS-EB1", "MDS-EB2", "MDS-del5q"]


def mds_export(n: int = 40) -> pd.DataFrame:
    """A deterministic cohort in the style of a published MDS export (arithmetic, no randomness)."""
    rows = []
    for i in range(n):
        karyotype, category = KARYOTYPES[i % len(KARYOTYPES)]
        rows.append({
            "PATIENT_ID": f"MDS{i + 1:03d}",
            "CENTER": ["Pavia", "Milano", "Roma"][i % 3],
            "SEX": "M" if i % 5 < 3 else "F",
            "AGE": 55 + (i * 7) % 35,
            "YEAR_DX": 2005 + i % 12,
            "WHO_2016": SUBTYPES[i % len(SUBTYPES)],
            "HB": "NA" if i % 13 == 4 else f"{7.5 + (i * 0.37) % 6:.1f}",
            "PLT": 20 + (i * 41) % 400,
            "ANC": f"{0.3 + (i * 0.29) % 4:.2f}",
            "BM_BLAST": (i * 3) % 18,
            "CYTO_KARYOTYPE": karyotype,
            "CYTO_IPSSR": category,
            "OS_YEARS": f"{0.2 + (i * 0.61) % 9:.2f}",
            "OS_STATUS": int(i % 3 != 0),
            "AMLT_YEARS": f"{0.1 + (i * 0.43) % 5:.2f}",
            "AMLT_STATUS": int(i % 4 == 1),
            **{g: ("NA" if (i + k) % 11 == 0 else int((i * (k + 2)) % 7 == 0)) for k, g in enumerate(GENES)},
        })  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture
def export(tmp_path, home) -> tuple[Path, pd.DataFrame]:
    frame = mds_export()
    path = tmp_path / "landing" / "mds_cohort_study" / "2024-01" / "mds_cohort_v3.tsv"
    path.parent.mkdir(parents=True)
    frame.to_csv(path, sep="\t", index=False)
    return path, frame


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="harmony")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_draft_profiles_the_export_and_writes_a_valid_contract(export, tmp_path, capsys):
    path, frame = export
    out = tmp_path / "draft.yml"
    assert (
        run("contract", "draft", str(path), "--source-id", "mds_new", "--disease", "MDS", "-o", str(out)) == 0
    )
    text = out.read_text()
    data = yaml.safe_load(text)
    contract = parse_contract(data, out)  # the draft is a loadable contract
    spec = contract.files["mds_cohort_v"]
    assert spec.format == "tsv" and spec.patient_id == "PATIENT_ID" and "NA" in spec.missing_values
    assert "#   AGE: integer, 40 present" in text and "-> patient.age_at_diagnosis" in text
    assert "#   OS_YEARS: number" in text and "#   TP53: flag" in text
    assert "#   CYTO_KARYOTYPE: text" in text and "-> cytogenetics.karyotype" in text
    wide = contract.entities["mutation"][0].wide
    assert sorted(w.label for w in wide.columns) == sorted(GENES)
    assert {w.label for w in contract.entities["lab_result"][0].wide.columns} == {
        "hb",
        "plt",
        "anc",
        "bm_blasts",
    }
    follow = contract.entities["follow_up"][0].fields
    assert (
        follow["last_contact_date"].offset == "OS_YEARS"
        and follow["last_contact_date"].offset_unit == "years"
    )
    assert data["entities"]["patient"][0]["fields"]["sex"]["map"] == {"F": "F", "M": "M"}
    # counts in the value lists come from the file
    assert f"values: F={int((frame['SEX'] == 'F').sum())}, M={int((frame['SEX'] == 'M').sum())}" in text


def test_draft_flags_suspected_identifiers(tmp_path, home):
    path = tmp_path / "export.csv"
    path.write_text(
        "pat_id;Name;Vorname;Geburtsdatum;Geschlecht;PLZ;email;Hb\n"
        "1;Meier;Hans;01.02.1950;m;80331;h.meier@example.org;12,5\n"
        "2;Kurz;Eva;03.04.1960;w;10115;eva.k@example.org;11,0\n"
    )
    text = cli.draft_contract([path], "site_x", ["AML"])
    contract = parse_contract(yaml.safe_load(text), "draft")
    spec = contract.files["export"]
    assert spec.delimiter == ";" and spec.decimal == "," and spec.patient_id == "pat_id"
    assert set(spec.identifiers) == {"Name", "Vorname", "PLZ", "email"}
    assert (
        spec.linkage["birth_date"].column == "Geburtsdatum"
        and spec.linkage["birth_date"].format == "%d.%m.%Y"
    )
    assert spec.linkage["sex"].value_map == {"m": "M", "w": "F"}
    assert "[IDENTIFIER: values look like e-mail addresses]" in text


def test_check_accepts_the_handwritten_contract(export, capsys):
    path, _ = export
    assert run("contract", "check", str(FIXTURE), str(path)) == 0
    out = capsys.readouterr().out
    assert "OK: 0 error(s)" in out
    assert "column coverage: 21/21 columns mapped, declared or ignored (100%)" in out
    assert "mutation.status: 100.0% of" in out


def test_export_onboarded_with_a_contract_only(export, home, monkeypatch, tmp_path):
    path, frame = export
    monkeypatch.setattr("harmony_pipeline.settings.BUILTIN_CONTRACTS_DIR", tmp_path / "no-builtins")
    (home / "contracts").mkdir(parents=True)
    shutil.copy(FIXTURE, home / "contracts" / "mds_cohort.yml")
    contract = load_contracts(get_settings())["mds_cohort_study"]
    read = read_delivery(contract, path.parent, KEY)
    assert read.rejects.empty and read.warnings == []
    e = read.entities
    assert len(e["patient"]) == 40 and e["patient"]["patient_key"].is_unique
    assert list(e["patient"]["age_at_diagnosis"]) == frame["AGE"].astype(float).tolist()
    assert set(e["diagnosis"]["disease"]) == {"MDS"}
    # overall survival: death or last contact exactly OS_YEARS x 365.25 days after diagnosis
    f = e["follow_up"].merge(e["diagnosis"][["patient_key", "diagnosis_date"]], on="patient_key")
    days = (f["last_contact_date"] - f["diagnosis_date"]).dt.days
    assert days.tolist() == (frame["OS_YEARS"].astype(float) * 365.25).round().astype(int).tolist()
    assert (f["vital_status"] == "dead").tolist() == (frame["OS_STATUS"] == 1).tolist()
    assert f["death_date"].notna().tolist() == (frame["OS_STATUS"] == 1).tolist()
    assert len(e["response"]) == int((frame["AMLT_STATUS"] == 1).sum())
    # one mutation row per gene and patient with a 0/1 flag; NA flags make no row
    flags = frame[GENES].melt(value_name="flag")
    flags = flags[flags["flag"] != "NA"]
    assert len(e["mutation"]) == len(flags)
    assert int((e["mutation"]["status"] == "mutated").sum()) == int((flags["flag"] == 1).sum())
    cyto = e["cytogenetics"]
    assert len(cyto) == int((frame["CYTO_KARYOTYPE"] != "NA").sum())
    assert set(cyto["category"]) == {"good", "poor", "intermediate", "very good", "very poor"}
    assert "45,XY,-7[15]/46,XY[5]" in set(cyto["karyotype"])
    hb = e["lab_result"][e["lab_result"]["lab"] == "hb"]
    assert len(hb) == int((frame["HB"] != "NA").sum()) and set(hb["unit"]) == {"g/dL"}


def test_check_reports_a_broken_contract_clearly(export, tmp_path, capsys):
    path, _ = export
    data = yaml.safe_load(FIXTURE.read_text())
    data["entities"]["patient"][0]["fields"]["age_at_diagnosis"] = "AGE_YEARS"  # renamed column
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(data, sort_keys=False))
    assert run("contract", "check", str(broken), str(path)) == 1
    out = capsys.readouterr().out
    assert "ERROR   mds_cohort_v3.tsv: column(s) used by the contract are missing: ['AGE_YEARS']" in out
    assert "WARNING mds_cohort_v3.tsv: unknown column(s), not read: ['AGE']" in out

    data = yaml.safe_load(FIXTURE.read_text())
    data["entities"]["cytogenetics"][0]["fields"]["category"]["map"].pop("Poor")
    data["entities"]["lab_result"][0]["wide"]["columns"]["HB"] = {"label": "hb", "unit": "g/L"}  # it is g/dL
    data["entities"]["lab_result"][0]["wide"]["columns"]["PLT"] = {"label": "plt", "unit": "cells"}
    data["entities"]["diagnosis"][0]["fields"]["diagnosis_date"] = {"column": "YEAR_DX", "format": "%d.%m.%Y"}
    broken.write_text(yaml.safe_dump(data, sort_keys=False))
    assert run("contract", "check", str(broken), str(path)) == 1
    out = capsys.readouterr().out
    n_poor = sum(1 for i in range(40) if KARYOTYPES[i % len(KARYOTYPES)][1] == "Poor")
    assert f"cytogenetics.category (column CYTO_IPSSR): unmapped value(s) 'Poor' x{n_poor}" in out
    assert "lab plt: unit(s) 'cells' x40 cannot be converted to 10^9/L" in out
    assert "lab hb: " in out and "outside 2.0-25.0 g/dL after conversion" in out
    assert "diagnosis.diagnosis_date: 40 value(s) fail type_date" in out
    assert "FAILED:" in out

    broken.write_text(FIXTURE.read_text().replace("provider_kind: study_group", "provider_kind: cro"))
    assert run("contract", "check", str(broken), str(path)) == 2
    assert "provider_kind: 'cro' is not one of" in capsys.readouterr().out


def test_check_names_files_that_match_no_pattern(export, tmp_path, capsys):
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    assert run("contract", "check", str(FIXTURE), str(other)) == 1
    assert "other.csv: matches no file pattern of the contract (mds_cohort*.tsv)" in capsys.readouterr().out
