"""Files that cannot be read raise DeliveryError naming source, file and cause; odd but valid files read."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import KEY, make_contract, write

from harmony_pipeline.contracts import DeliveryError, read_delivery


def contract(**file_spec):
    spec = {"pattern": "*.csv", "format": "csv", "patient_id": "pid", **file_spec}
    return make_contract(
        {"f": spec},
        {"patient": [{"from": "f", "fields": {"sex": "sex"}}],
         "diagnosis": [{"from": "f", "fields": {"diagnosis_date": "dx"}}]},
    )  # fmt: skip


GOOD = "pid,sex,dx,comment\nP1,M,2020-01-01,a\nP2,F,2020-02-01,b\nP3,F,2020-03-01,c\nP4,M,2020-04-01,d\n"


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        (b"", "empty file"),
        (b"\n\n  \n", "empty file"),
        (b"pid,sex,dx\n", "no data rows"),
        (b'pid,sex,dx\nP1,M,2020-01-01\nP2,"F,2020-02-01\nP3,F,2020-03-01\n', "unbalanced quote"),
        ("pid,sex,dx\nP1,Männlich,2020-01-01\n".encode("latin-1"), "wrong encoding"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "binary file"),
        (b"pid;sex;dx\nP1;M;2020-01-01\n", "missing column(s) ['pid', 'sex', 'dx']"),
        (b"pid,sex\nP1,M\n", "missing column(s) ['dx']"),
        (b"pid,sex,dx\nP1,M\nP2,F\nP3,M,2020-01-01\n", "2 of 3 lines malformed"),
        (b"pid,sex,pid\nP1,M,P1\n", "duplicate column names ['pid']"),
    ],
)
def test_unreadable_files_raise_delivery_error(tmp_path, home, settings, content, cause):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "export.csv").write_bytes(content)
    with pytest.raises(DeliveryError) as err:
        read_delivery(contract(), tmp_path / "d", KEY, settings)
    message = str(err.value)
    assert message.startswith("source src_a: file export.csv: ") and cause in message, message
    assert err.value.source_id == "src_a" and err.value.file == "export.csv"


def test_missing_required_file_and_missing_folder(tmp_path, home, settings):
    (tmp_path / "d").mkdir()
    write(tmp_path / "d" / "notes.txt", "x")
    with pytest.raises(DeliveryError, match=r"required file 'f' \(\*\.csv\) is missing"):
        read_delivery(contract(), tmp_path / "d", KEY, settings)
    with pytest.raises(DeliveryError, match="delivery folder does not exist"):
        read_delivery(contract(), tmp_path / "nope", KEY, settings)


def test_optional_file_may_be_absent(tmp_path, home, settings):
    write(tmp_path / "d" / "a.csv", GOOD)
    c = make_contract(
        {"f": {"pattern": "a.csv", "format": "csv", "patient_id": "pid"},
         "g": {"pattern": "ngs*.csv", "format": "csv", "patient_id": "pid", "required": False}},
        {"patient": [{"from": "f", "fields": {"sex": "sex"}}],
         "mutation": [{"from": "g", "fields": {"gene": "gene", "status": {"const": "mutated"}}}]},
    )  # fmt: skip
    read = read_delivery(c, tmp_path / "d", KEY, settings)
    assert len(read.entities["patient"]) == 4 and read.entities["mutation"].empty


def test_extra_columns_are_reported_not_output(tmp_path, home, settings):
    write(tmp_path / "d" / "a.csv", GOOD.replace("comment", "surname"))
    read = read_delivery(contract(), tmp_path / "d", KEY, settings)
    assert read.warnings == ["a.csv: column(s) not in the contract, not read: ['surname']"]
    assert len(read.entities["patient"]) == 4


def test_utf8_bom_crlf_and_quoted_newlines_read(tmp_path, home, settings):
    text = '\ufeffpid,sex,dx,comment\r\nP1,M,2020-01-01,"two\r\nlines, quoted"\r\nP2,F,2020-02-01,x\r\n'
    write(tmp_path / "d" / "a.csv", text)
    read = read_delivery(contract(ignore=["comment"]), tmp_path / "d", KEY, settings)
    assert list(read.entities["patient"]["row_number"]) == [1, 2]
    assert list(read.entities["patient"]["sex"]) == ["M", "F"]


def test_a_one_megabyte_field_is_read(tmp_path, home, settings):
    big = "x" * (1 << 20)
    write(tmp_path / "d" / "a.csv", f"pid,sex,dx,comment\nP1,M,2020-01-01,{big}\nP2,F,2020-02-01,short\n")
    read = read_delivery(contract(ignore=["comment"]), tmp_path / "d", KEY, settings)
    assert list(read.entities["patient"]["sex"]) == ["M", "F"]


def test_header_false_with_names_and_tsv(tmp_path, home, settings):
    write(tmp_path / "d" / "a.csv", "P1\tM\t2020-01-01\nP2\tF\t2020-02-01\n")
    c = contract(header=False, names=["pid", "sex", "dx"], delimiter="\t")
    read = read_delivery(c, tmp_path / "d", KEY, settings)
    assert list(read.entities["patient"]["sex"]) == ["M", "F"] and read.rejects.empty


def test_quotechar_option(tmp_path, home, settings):
    write(tmp_path / "d" / "a.csv", "pid,sex,dx\n'P,1',M,2020-01-01\n")
    read = read_delivery(contract(quotechar="'"), tmp_path / "d", KEY, settings)
    assert len(read.entities["patient"]) == 1 and read.rejects.empty


def test_excel_with_several_sheets_needs_a_sheet(tmp_path, home, settings):
    path = tmp_path / "d" / "book.xlsx"
    path.parent.mkdir()
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"pid": ["P1"], "sex": ["M"], "dx": ["2020-01-01"]}).to_excel(
            xl, sheet_name="A", index=False
        )
        pd.DataFrame({"x": [1]}).to_excel(xl, sheet_name="B", index=False)
    c = contract(pattern="*.xlsx", format="excel")
    with pytest.raises(DeliveryError, match=r"file book\.xlsx: workbook has several sheets \['A', 'B'\]"):
        read_delivery(c, path.parent, KEY, settings)
    with pytest.raises(DeliveryError, match=r"no sheet 'C'"):
        read_delivery(contract(pattern="*.xlsx", format="excel", sheet="C"), path.parent, KEY, settings)
    read = read_delivery(contract(pattern="*.xlsx", format="excel", sheet=0), path.parent, KEY, settings)
    assert list(read.entities["patient"]["sex"]) == ["M"]


@pytest.mark.parametrize(
    ("fmt", "name", "content"),
    [("excel", "a.xlsx", b"pid,sex\nP1,M\n"), ("parquet", "a.parquet", b"not parquet"),
     ("json", "a.json", b"{not json"), ("sas", "a.xpt", b"garbage" * 20)],
)  # fmt: skip
def test_corrupt_typed_files_raise(tmp_path, home, settings, fmt, name, content):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / name).write_bytes(content)
    extra = {"records": "[]"} if fmt == "json" else {}
    with pytest.raises(DeliveryError, match=rf"source src_a: file {name}: "):
        read_delivery(contract(pattern=name, format=fmt, **extra), tmp_path / "d", KEY, settings)
