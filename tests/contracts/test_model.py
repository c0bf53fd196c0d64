"""The contract language: the documented example parses, errors name file and key, site overrides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from harmony_pipeline.contracts import ContractError, load_contracts, parse_contract
from harmony_pipeline.settings import PROJECT_ROOT, get_settings

DOC = PROJECT_ROOT / "docs" / "contracts.md"


def doc_example() -> dict:
    text = DOC.read_text()
    return yaml.safe_load(re.search(r"```yaml\n(source_id.*?)```", text, re.S).group(1))


def test_documented_example_is_a_valid_contract():
    contract = parse_contract(doc_example(), "docs/contracts.md")
    assert contract.source_id == "mds_registry_fr"
    assert set(contract.files) == {"clinical", "ngs"}
    assert contract.files["clinical"].delimiter == ";" and contract.files["clinical"].decimal == ","
    assert contract.files["clinical"].missing_values == ("", "NA", ".", "-99")
    labs = contract.entities["lab_result"][0].wide
    assert [(w.column, w.label, w.spec.unit) for w in labs.columns][0] == ("hb", "hb", "mmol/L")
    death = contract.entities["follow_up"][0].fields["death_date"]
    assert death.offset == "sg_mois" and death.offset_unit == "months" and death.anchor.entity == "diagnosis"
    assert death.when.values == ("1",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(provider_kind="pharma"), r"provider_kind: 'pharma' is not one of"),
        (lambda d: d.update(diseases=["CML"]), r"diseases:"),
        (lambda d: d["files"]["clinical"].update(format="xml"), r"files\.clinical\.format: 'xml'"),
        (
            lambda d: d["files"]["clinical"].update(delimter=";"),
            r"files\.clinical: unknown key\(s\) \['delimter'\]",
        ),
        (
            lambda d: d["entities"]["patient"][0]["fields"].update(gender="sexe"),
            r"entities\.patient\[0\]\.fields: unknown key",
        ),
        (lambda d: d["entities"]["patient"][0].update({"from": "labs"}), r"file 'labs' is not declared"),
        (
            lambda d: d["entities"]["follow_up"][0]["fields"]["vital_status"]["map"].update({"2": "lost"}),
            r"vital_status\.map: maps to \['lost'\], not canonical codes",
        ),
        (
            lambda d: d["entities"]["follow_up"][0]["fields"]["last_contact_date"].update(
                offset_unit="hours"
            ),
            r"offset_unit: 'hours' is not one of",
        ),
        (
            lambda d: d["entities"]["lab_result"][0]["wide"]["columns"].update(ferritin="ferritin"),
            r"label 'ferritin' is not a canonical lab",
        ),
        (
            lambda d: d["entities"]["patient"][0]["fields"].update(
                index_date={"offset": "x", "anchor": "diagnosis"}
            ),
            r"patient cannot anchor on diagnosis",
        ),
        (lambda d: d.pop("files"), r"missing required key\(s\) \['files'\]"),
    ],
)
def test_invalid_contracts_name_file_and_key(change, message):
    data = doc_example()
    change(data)
    with pytest.raises(ContractError, match=message) as err:
        parse_contract(data, "site/mds.yml")
    assert str(err.value).startswith("site/mds.yml: ")


def _write(directory: Path, name: str, data: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(yaml.safe_dump(data, allow_unicode=True))


def test_site_contract_overrides_builtin_and_adds_sources(home, monkeypatch, tmp_path):
    builtin = tmp_path / "builtin"
    monkeypatch.setattr("harmony_pipeline.settings.BUILTIN_CONTRACTS_DIR", builtin)
    base = doc_example()
    _write(builtin, "mds.yml", base)
    _write(builtin, "other.yml", {**base, "source_id": "other_src"})
    _write(home / "contracts", "mds_site.yml", {**base, "name": "site version"})
    _write(home / "contracts", "new.yaml", {**base, "source_id": "new_src"})
    contracts = load_contracts(get_settings())
    assert list(contracts) == ["mds_registry_fr", "new_src", "other_src"]
    assert contracts["mds_registry_fr"].name == "site version"


def test_broken_yaml_and_duplicate_source_ids_are_errors(home, monkeypatch, tmp_path):
    monkeypatch.setattr("harmony_pipeline.settings.BUILTIN_CONTRACTS_DIR", tmp_path / "none")
    site = home / "contracts"
    site.mkdir(parents=True)
    (site / "bad.yml").write_text("source_id: [unclosed\n")
    with pytest.raises(ContractError, match=r"bad\.yml: not valid YAML"):
        load_contracts(get_settings())
    (site / "bad.yml").unlink()
    _write(site, "a.yml", doc_example())
    _write(site, "b.yml", doc_example())
    with pytest.raises(
        ContractError, match=r"b\.yml: source_id 'mds_registry_fr' is also declared in .*a\.yml"
    ):
        load_contracts(get_settings())
