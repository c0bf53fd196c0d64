"""The defect manifest matches the files cell by cell, and every source parses with its built-in contract."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmony_pipeline.contracts import load_contracts, read_delivery
from harmony_pipeline.settings import get_settings
from harmony_pipeline.synth import SOURCE_IDS, SOURCES, sources
from harmony_pipeline.synth.defects import canonical_range
from harmony_pipeline.synth.generate import DeliveryContext

FINAL = pd.Timestamp("2025-12-31")
DAY0 = pd.Timestamp("1970-01-01")


def _columns(home: Path, source_id: str, file_name: str) -> tuple[dict, dict]:
    """The generator's own column descriptions for a file (units, code lists, roles) and its options."""
    source = next(s for s in SOURCES if s.source_id == source_id)
    truth = pd.read_parquet(home / "truth" / "patients" / f"{source_id}.parquet").head(5)
    for col in truth.columns:
        if truth[col].dtype == object and truth[col].map(lambda v: hasattr(v, "year")).any():
            truth[col] = (pd.to_datetime(truth[col]) - DAY0).dt.days.astype(float)
    stamp = file_name.rsplit("_", 1)[-1].split(".")[0]
    outs = sources.RENDERERS[source.render](truth, DeliveryContext("2025-12-31_d01", stamp, 0.0))
    out = next(o for o in outs if o.name == file_name)
    return {c.name: c for c in out.columns}, out.options


def _rows(path: Path, options: dict) -> tuple[list[str], list]:
    """Header and data rows as delivered (text cells; malformed CSV lines kept as lists of another length)."""
    if path.suffix in (".csv", ".tsv", ".txt"):
        text = path.read_bytes().decode(options["encoding"])
        rows = list(csv.reader(io.StringIO(text), delimiter=options["delimiter"]))
        return rows[0], rows[1:]
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        return list(frame.columns), frame.astype(object).where(frame.notna(), None).values.tolist()
    if path.suffix == ".xlsx":
        frame = pd.read_excel(path, dtype=object)
        return list(frame.columns), frame.where(frame.notna(), None).values.tolist()
    records = json.loads(path.read_text())["patients"]
    return ["*"], [[r] for r in records]


def _cell(header, row, field):
    if header == ["*"]:
        node = row[0]
        for part in field.split("."):
            if isinstance(node, list):
                node = node[int(part)] if int(part) < len(node) else None
            elif node is not None:
                node = node.get(part)
        return node
    return row[header.index(field)]


def _missing(value, options) -> bool:
    return (
        value is None
        or (isinstance(value, float) and np.isnan(value))
        or value in ("", options.get("na", ""))
    )


def _number(value, options) -> float:
    return (
        float(str(value).replace(options.get("decimal", "."), "."))
        if isinstance(value, str)
        else float(value)
    )


def _day(value, col, header, row, options) -> pd.Timestamp:
    """A date cell (or an offset from its anchor) as a timestamp."""
    if col.kind == "offset":
        anchor = _day(_cell(header, row, col.anchor), type(col)(col.anchor, "date"), header, row, options)
        return anchor + pd.Timedelta(days=round(_number(value, options) * col.unit_days))
    if isinstance(value, str):
        return pd.to_datetime(
            value, format=options.get("date_format", "%Y-%m-%d") if header != ["*"] else "%Y-%m-%d"
        )
    return pd.Timestamp(value)


def _diag_day(columns, header, row, options):
    col = next(c for c in columns.values() if c.role == "diag")
    return _day(_cell(header, row, col.name), col, header, row, options)


def test_every_listed_defect_is_really_in_the_file(network):
    home, summary = network
    manifest = pd.read_csv(home / "truth" / "defects.csv", keep_default_na=False)
    assert summary["defects"] == len(manifest) > 50
    kinds = set(manifest["defect_kind"])
    assert kinds == {
        "out_of_range", "impossible_value", "wrong_unit", "unknown_code", "date_order", "future_date",
        "missing_required", "duplicate_row", "malformed_line",
    }  # fmt: skip
    for (source_id, delivery_id, file_name), defects in manifest.groupby(
        ["source_id", "delivery_id", "file"]
    ):
        columns, options = _columns(home, source_id, file_name)
        header, rows = _rows(home / "landing" / source_id / delivery_id / file_name, options)
        for _, d in defects.iterrows():
            row = rows[d["row"] - 1]
            where = (file_name, d["row"], d["field"], d["defect_kind"])
            if d["defect_kind"] == "malformed_line":
                assert len(row) != len(header), where
                continue
            if d["defect_kind"] == "duplicate_row":
                assert row == rows[d["row"] - 2], where
                continue
            col = columns[d["field"]]
            value = _cell(header, row, d["field"])
            kind = d["defect_kind"]
            if kind == "missing_required":
                assert col.required and _missing(value, options), where
            elif kind == "unknown_code":
                assert not _missing(value, options) and str(value) not in col.codes, where
            elif kind in ("out_of_range", "impossible_value", "wrong_unit"):
                low, high = canonical_range(col)
                canonical = _number(value, options) * col.factor
                assert canonical < low or canonical > high, (where, value)
            elif kind == "future_date":
                assert _day(value, col, header, row, options) > FINAL, (where, value)
            elif kind == "date_order":
                assert col.role in ("death", "last")
                assert _day(value, col, header, row, options) < _diag_day(columns, header, row, options), (
                    where
                )


def test_rows_without_defects_are_clean(network):
    home, _ = network
    manifest = pd.read_csv(home / "truth" / "defects.csv", keep_default_na=False)
    for source_id in ("de_aml_sg", "cll_initiative", "mds_registry_fr", "lymphoma_sa", "paed_leukaemia"):
        folder = next((home / "landing" / source_id).iterdir())
        for path in sorted(folder.iterdir()):
            columns, options = _columns(home, source_id, path.name)
            header, rows = _rows(path, options)
            flagged = set(manifest.loc[manifest["file"] == path.name, "row"])
            for number, row in enumerate(rows, start=1):
                if number in flagged:
                    continue
                assert len(row) == len(header)
                for name, value in zip(header, row, strict=True):
                    col = columns[name]
                    if col.kind == "num" and canonical_range(col) and not _missing(value, options):
                        low, high = canonical_range(col)
                        assert low <= _number(value, options) * col.factor <= high, (
                            path.name,
                            number,
                            name,
                            value,
                        )
                    if col.kind == "code" and not _missing(value, options):
                        assert value in col.codes, (path.name, number, name, value)
                    if col.required:
                        assert not _missing(value, options), (path.name, number, name)


@pytest.mark.parametrize("source_id", SOURCE_IDS)
def test_every_source_parses_with_its_contract(network, source_id, monkeypatch):
    home, _ = network
    monkeypatch.setenv("HARMONY_HOME", str(home))
    settings = get_settings()
    contract = load_contracts(settings)[source_id]
    manifest = pd.read_csv(home / "truth" / "defects.csv", keep_default_na=False)
    manifest = manifest[manifest["source_id"] == source_id]
    risk = pd.read_csv(home / "truth" / "risk_groups.csv")
    expected_patients = (risk["source_id"] == source_id).sum()
    for delivery in sorted((home / "landing" / source_id).iterdir()):
        read = read_delivery(contract, delivery, b"synth-test-key" * 3, settings)
        patients = read.entities["patient"]
        # every patient arrives (a patient row lost to a malformed line or a duplicate is a recorded defect)
        lost = manifest["defect_kind"].eq("malformed_line").sum()
        assert expected_patients - lost <= patients["patient_key"].nunique() <= expected_patients
        assert len(read.entities["diagnosis"]) > 0 and len(read.entities["follow_up"]) > 0
        bad = read.rejects[read.rejects["rule"] == "malformed_line"]
        listed = manifest[manifest["defect_kind"] == "malformed_line"]
        assert sorted(zip(bad["file_name"], bad["row_number"], strict=True)) == sorted(
            zip(listed["file"], listed["row"], strict=True)
        )
        # no clean row is rejected by the reader: every reject is a listed defect
        flagged = set(zip(manifest["file"], manifest["row"], strict=True))
        assert set(zip(read.rejects["file_name"], read.rejects["row_number"], strict=True)) <= flagged
