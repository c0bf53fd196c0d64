"""Pseudonyms, date shifts, age top-coding and `harmony pseudonym` (issue 7, privacy.md promises 2-3)."""

from __future__ import annotations

import argparse
import hashlib
import hmac

import numpy as np
import pandas as pd
import pytest

from harmony_pipeline.privacy import cli as privacy_cli
from harmony_pipeline.privacy.pseudonym import (
    PATIENT_DOMAIN,
    PERSON_DOMAIN,
    date_shift_days,
    patient_key,
    pseudonym,
    pseudonymise,
    pseudonyms,
    top_code_age,
)

KEY = b"unit-test-key-0123456789abcdef"


def test_same_person_same_offset_across_tables_never_zero_within_window():
    persons = pd.Series([f"person-{i}" for i in range(3000)])
    diagnosis_table = persons.sample(frac=1.0, random_state=1).reset_index(drop=True)
    lab_table = (
        pd.concat([persons, persons.iloc[::3]]).sample(frac=1.0, random_state=2).reset_index(drop=True)
    )
    shift_diag = pd.Series(date_shift_days(KEY, diagnosis_table, 180).to_numpy(), index=diagnosis_table)
    shift_lab = date_shift_days(KEY, lab_table, 180)
    # the same person gets the same offset in the other table, whatever its order and repeats
    assert (shift_lab.to_numpy() == shift_diag.loc[lab_table].to_numpy()).all()
    assert (shift_diag != 0).all()
    assert shift_diag.abs().max() <= 180 and shift_diag.abs().min() >= 1
    # both directions and most of the window are used (not a constant or a tiny range)
    assert (shift_diag > 0).mean() == pytest.approx(0.5, abs=0.05)
    assert shift_diag.nunique() > 300


def test_date_shift_preserves_intervals_and_depends_on_the_key():
    persons = pd.Series(["a", "a", "b", "b"])
    dates = pd.to_datetime(pd.Series(["2020-01-01", "2020-03-15", "2019-05-05", "2021-05-05"]))
    shifted = dates + pd.to_timedelta(date_shift_days(KEY, persons, 180), unit="D")
    assert (shifted[1] - shifted[0]) == (dates[1] - dates[0])
    assert (shifted[3] - shifted[2]) == (dates[3] - dates[2])
    many = pd.Series([f"p{i}" for i in range(200)])
    assert (date_shift_days(KEY, many, 180) != date_shift_days(b"another key", many, 180)).mean() > 0.9
    assert (date_shift_days(KEY, many, 180) == date_shift_days(KEY, many, 180)).all()


def test_two_sources_copies_of_one_patient_become_one_person():
    # The same patient delivered by a trial and a registry: different source ids, shared identifiers.
    trial = pd.DataFrame(
        {"source_id": ["TRIAL"], "id": ["T-001"], "birth": ["1961-04-12"], "sex": ["F"], "ini": ["AB"]}
    )
    registry = pd.DataFrame(
        {"source_id": ["REG"], "id": ["8812"], "birth": ["1961-04-12"], "sex": ["F"], "ini": ["AB"]}
    )
    other = pd.DataFrame(
        {"source_id": ["REG"], "id": ["8813"], "birth": ["1961-04-12"], "sex": ["M"], "ini": ["AB"]}
    )
    frames = [trial, registry, other]
    person = [pseudonymise(KEY, PERSON_DOMAIN, f["birth"], f["sex"], f["ini"]).iloc[0] for f in frames]
    patient = [pseudonymise(KEY, PATIENT_DOMAIN, f["source_id"], f["id"]).iloc[0] for f in frames]
    assert person[0] == person[1] != person[2]
    assert len(set(patient)) == 3
    # domain separation: the same parts under another domain give another pseudonym
    assert pseudonym(KEY, PERSON_DOMAIN, "x") != pseudonym(KEY, PATIENT_DOMAIN, "x")
    assert all(len(p) == 64 and KEY.decode() not in p for p in person + patient)


def test_patient_key_matches_the_vectorised_pseudonyms():
    sources, ids = pd.Series(["S1", "S1", "S2"]), pd.Series(["1", "2", "1"])
    vectorised = pseudonymise(KEY, PATIENT_DOMAIN, sources, ids).tolist()
    assert vectorised == [patient_key(KEY, s, i) for s, i in zip(sources, ids, strict=True)]
    assert len(set(vectorised)) == 3


@pytest.mark.parametrize("key", [b"k", KEY, bytes(range(64)), bytes(range(200))])
def test_pseudonyms_are_the_standard_hmac_sha256_for_keys_shorter_equal_and_longer_than_a_block(key):
    # the batch keeps SHA-256's keyed inner and outer states; a key over 64 bytes is hashed first (RFC 2104)
    messages = ["A-001", "", "Zoë\x1f1951-02-03", "x" * 300]
    expected = [hmac.new(key, f"patient\x1f{m}".encode(), hashlib.sha256).hexdigest() for m in messages]
    assert list(pseudonyms(key, PATIENT_DOMAIN, messages)) == expected
    assert pseudonym(key, PATIENT_DOMAIN, "A-001") == expected[0]
    digest = hmac.new(key, b"date-shift\x1fA-001", hashlib.sha256).digest()
    magnitude = int.from_bytes(digest[:8], "big") % 180 + 1
    assert date_shift_days(key, pd.Series(["A-001"]), 180).iloc[0] == (
        magnitude if digest[8] & 1 else -magnitude
    )


def test_top_code_age():
    ages = pd.Series([0.0, 45.5, 89.9, 90.0, 97.0, 104.0, np.nan])
    coded = top_code_age(ages)
    assert coded.iloc[:3].tolist() == [0.0, 45.5, 89.9]
    assert coded.iloc[3:6].tolist() == [90.0, 90.0, 90.0]
    assert np.isnan(coded.iloc[6])


def _run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="harmony")
    privacy_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_harmony_pseudonym_prints_the_patient_key(harmony_home, monkeypatch, capsys):
    monkeypatch.setenv("HARMONY_PSEUDONYM_KEY", "cli-test-key")
    assert _run_cli(["pseudonym", "--source", "TRIAL", "--id", "T-001"]) == 0
    out = capsys.readouterr().out.strip()
    assert (
        out
        == pseudonymise(b"cli-test-key", PATIENT_DOMAIN, pd.Series(["TRIAL"]), pd.Series(["T-001"])).iloc[0]
    )
    assert "cli-test-key" not in out


def test_harmony_pseudonym_without_key_outside_demo_is_a_clear_error(harmony_home, monkeypatch, capsys):
    monkeypatch.delenv("HARMONY_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("HARMONY_DEMO", raising=False)
    assert _run_cli(["pseudonym", "--source", "TRIAL", "--id", "T-001"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "HARMONY_PSEUDONYM_KEY is not set" in captured.err
