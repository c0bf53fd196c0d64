"""The Excel reader (calamine) gives the values pandas + openpyxl give, on awkward workbooks too."""

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

from harmony_pipeline.contracts.readers import DeliveryError, _read_excel
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


def kind(value) -> type:
    """A value's type, a pandas Timestamp/Timedelta counted as the datetime/timedelta it subclasses."""
    for base in (dt.datetime, dt.timedelta):
        if isinstance(value, base):
            return base
    return type(value)


def same(ours: pd.DataFrame, openpyxl_frame: pd.DataFrame) -> bool:
    """Equal frames with values of the same kind (an int is no float, a date no text)."""
    return (
        list(ours.columns) == list(openpyxl_frame.columns)
        and ours.equals(openpyxl_frame)
        and all(ours[c].map(kind).tolist() == openpyxl_frame[c].map(kind).tolist() for c in ours.columns)
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


def fail(cause: str) -> DeliveryError:
    return DeliveryError("src", "book.xlsx", cause)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("make", [awkward, synthetic, mac_epoch, written_by_pandas])
def test_excel_reads_what_pandas_and_openpyxl_read(tmp_path, make):
    path = tmp_path / "book.xlsx"
    make(path)
    compared = 0
    for sheet in [*openpyxl.load_workbook(path, read_only=True).sheetnames, 0]:
        for options in OPTIONS:
            try:
                expected = pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl", **options)
            except Exception:
                continue  # options this sheet cannot take (a header row past its end)
            header = options["names"] is None
            spec = SimpleNamespace(
                sheet=sheet,
                header=header,
                skip_rows=options["header"] if header else options["skiprows"],
                names=options["names"] or (),
            )
            # names as every reader gives them; the one difference: a duration cell's text is pandas'
            # ("1 days 06:00:00", not "1 day, 6:00:00"), calamine giving a Timedelta
            expected.columns = [
                str(pd.Timedelta(c) if kind(c) is dt.timedelta else c).strip() for c in expected.columns
            ]
            ours = _read_excel(spec, path, fail).frame
            assert same(ours, expected.reset_index(drop=True)), f"{sheet} {options}\n{ours}\n{expected}"
            compared += 1
    assert compared >= 3
