"""The one-pass xlsx reader gives exactly the frame pandas + openpyxl give, on awkward workbooks too."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from harmony_pipeline.contracts.readers import _FastXlsx
from harmony_pipeline.synth.writers import write_xlsx

OPTIONS = [  # (header, names, skiprows) as _read_excel passes them
    {"header": 0, "names": None, "skiprows": None},
    {"header": 2, "names": None, "skiprows": None},
    {"header": None, "names": ["a", "b", "c"], "skiprows": 1},
]


def awkward(path) -> None:
    """Dates, times, durations, booleans, formulas (no cached value), error text, rich text, blank cells
    and rows, a cell far to the right, number formats, shared strings; several sheets."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    sheet.append(["pid", "sex", "dx", "n", "flag", "note", "t", "pct"])
    sheet.append(["P1", "M", dt.date(2020, 1, 2), 1, True, "  padded ", dt.time(10, 30), 0.5])
    sheet.append(
        ["P2", None, dt.datetime(2021, 5, 6, 7, 8, 9), 2.5, False, "=1+1", dt.timedelta(hours=30), 12]
    )
    sheet.append(["P3", "F", "2020-13-45", -3, None, "#N/A", None, 1e20])
    sheet.append([])
    sheet.append(["P5", "NA", 43831, 123456789012, "TRUE", "", "x", None])
    sheet["F7"] = "=SUM(D2:D4)"
    sheet["B9"] = "lonely"
    sheet["H2"].number_format = "0.00%"
    sheet["C6"].number_format = "dd/mm/yyyy"
    sheet["A12"] = CellRichText([TextBlock(InlineFont(b=True), "rich "), "text"])
    other = book.create_sheet("Other")
    for i in range(5):
        other.append([i, f"s{i}", i * 1.5])
    other["E10"] = "far"
    book.create_sheet("Empty")
    book.save(path)


def same(fast: pd.DataFrame | None, slow: pd.DataFrame) -> bool:
    """Equal frames with values of the same Python types (an int is no float here)."""
    return (
        fast is not None
        and list(fast.columns) == list(slow.columns)
        and fast.equals(slow)
        and all(fast[c].map(type).tolist() == slow[c].map(type).tolist() for c in fast.columns)
    )


def synthetic(path) -> None:
    frame = pd.DataFrame(
        {"pid": ["P1", "P2", None], "dx": [18000.0, np.nan, 19000.0], "hb": [9.5, 10.0, None]}
    )
    columns = [SimpleNamespace(name="pid", kind="text", decimals=0),
               SimpleNamespace(name="dx", kind="date", decimals=0), SimpleNamespace(name="hb", kind="num", decimals=1)]  # fmt: skip
    write_xlsx(path, frame, columns, "patienten")  # inline strings, no <dimension>: what the bench reads


def mac_epoch(path) -> None:
    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904
    book.active.append(["a", "b"])
    book.active.append([dt.date(2000, 1, 1), 3])
    book.save(path)


def written_by_pandas(path) -> None:
    frame = pd.DataFrame({"pid": ["P1", "P2", None], "dx": pd.to_datetime(["2020-01-01", None, "2021-03-04"]),
                          "v": [1.0, np.nan, 3.25], "i": [1, 2, 3], "b": [True, False, True], "s": ["a", "", "NA"]})  # fmt: skip
    with pd.ExcelWriter(path) as xl:
        frame.to_excel(xl, sheet_name="S1", index=False)
        frame.to_excel(xl, sheet_name="S2", index=False, startrow=3, startcol=2)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("make", [awkward, synthetic, mac_epoch, written_by_pandas])
def test_fast_xlsx_reads_what_pandas_reads(tmp_path, make):
    path = tmp_path / "book.xlsx"
    make(path)
    book = _FastXlsx.open(path)
    assert book is not None and book.sheetnames == openpyxl.load_workbook(path, read_only=True).sheetnames
    compared = 0
    for sheet in [*book.sheetnames, 0]:
        for options in OPTIONS:
            try:
                slow = pd.read_excel(path, sheet_name=sheet, dtype=object, **options)
            except Exception:
                slow = None
            fast = book.frame(sheet, **options)
            if slow is None:
                assert fast is None  # pandas fails: the fast reader defers to it, so the error is pandas'
                continue
            assert same(fast, slow), f"{sheet} {options}\n{fast}\n{slow}"
            compared += 1
    book.close()
    assert compared >= 3


def test_not_an_xlsx_is_left_to_openpyxl(tmp_path):
    (tmp_path / "a.xlsx").write_bytes(b"pid,sex\nP1,M\n")
    (tmp_path / "b.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    assert _FastXlsx.open(tmp_path / "a.xlsx") is None and _FastXlsx.open(tmp_path / "b.xls") is None
