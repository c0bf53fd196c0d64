"""`harmony report` on a warehouse loaded by the real ingest."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "ingest"))
from small_source import CONTRACT, clinical_csv  # noqa: E402  (the ingest tests' small source)

from harmony_pipeline.cli import main  # noqa: E402
from harmony_pipeline.contracts import parse_contract  # noqa: E402
from harmony_pipeline.ingest import ingest_source  # noqa: E402
from harmony_pipeline.settings import get_settings  # noqa: E402


def test_report_prints_rows_rules_and_pass_rate(harmony_home, capsys):
    settings = get_settings()
    folder = settings.landing / "test_aml" / "2024-01"
    folder.mkdir(parents=True)
    (folder / "clinical.csv").write_text(clinical_csv(20, {3: "P0003,x,1950,2020-01-01,99,2022-01-01,alive"}))
    empty = settings.landing / "test_aml" / "2024-02"
    empty.mkdir()
    (empty / "clinical.csv").write_text("")
    con = duckdb.connect(str(settings.warehouse))
    ingest_source(con, parse_contract(CONTRACT), settings, b"k")
    con.close()
    assert main(["report"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.strip().startswith("test_aml") and "0." in x)
    # 80 rows read (4 entities x 20), 2 quarantined (sex 'x', hb 99): pass rate 78/80
    assert line.split()[1:7] == ["1", "1", "80", "78", "2", "0.975"]
    assert "allowed_codes" in out and "range" in out and "rejected" in out
