"""`kosh identity link`: its input reader refuses what it cannot link on, and the CSV files it
writes are safe to open in a spreadsheet."""

from __future__ import annotations

import csv

import polars as pl
import pytest
from typer.testing import CliRunner

from kosh.cli import app
from kosh.identity import linking


def test_rejects_file_of_identity_link_neutralises_formulas(tmp_path):
    records = tmp_path / "records.csv"
    pl.DataFrame({"record_id": ["=1+2", "@cmd", "-x", "", "ok"], "surname": [None, None, None, None, None]}) \
        .write_csv(records)
    r = CliRunner().invoke(app, ["identity", "link", str(records), "--out", str(tmp_path / "clusters.csv")])
    assert r.exit_code != 0 and "no record to link" in r.output
    with (tmp_path / "clusters.rejects.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [row["record_id"] for row in rows] == ["'=1+2", "'@cmd", "'-x", "", "ok"]


def test_records_with_objects_or_lists_are_refused(tmp_path):
    path = tmp_path / "records.parquet"
    pl.DataFrame({"record_id": ["1"], "surname": [{"latin": "ABDULLAYEV"}]}).write_parquet(path)
    with pytest.raises(linking.InputError, match="surname hold objects or lists"):
        linking.read_records(path)
