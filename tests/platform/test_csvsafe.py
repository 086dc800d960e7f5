"""Cells of the CSV files Kosh writes never start a spreadsheet formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from kosh.platform import csvsafe

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
# Text that often starts with a dangerous character, and any text at all.
cells = st.one_of(st.text(), st.builds(lambda c, rest: c + rest, st.sampled_from(DANGEROUS), st.text()))


@given(cells)
def test_a_cell_never_starts_with_a_formula_character(value):
    safe = csvsafe.safe_cell(value)
    assert not safe.startswith(DANGEROUS)
    if value.startswith(DANGEROUS):
        assert safe == "'" + value
    else:
        assert safe == value  # safe values are written as they are


@given(st.lists(st.tuples(cells, cells), max_size=8))
def test_rows_written_read_back_as_safe_cells(rows):
    buf = io.StringIO(newline="")
    csvsafe.write_rows(buf, ["a", "b"], [{"a": a, "b": b} for a, b in rows])
    read = list(csv.reader(io.StringIO(buf.getvalue(), newline="")))
    assert read[0] == ["a", "b"]
    assert read[1:] == [[csvsafe.safe_cell(a), csvsafe.safe_cell(b)] for a, b in rows]
    assert not [c for row in read for c in row if c.startswith(DANGEROUS)]


@given(st.lists(st.tuples(cells, st.integers(-10, 10)), min_size=1, max_size=8))
def test_frames_written_read_back_as_safe_cells_and_numbers_stay_numbers(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("csv") / "out.csv"
    csvsafe.write_frame(pl.DataFrame({"text": [t for t, _ in rows], "n": [n for _, n in rows]}), path)
    with path.open(newline="", encoding="utf8") as fh:
        read = list(csv.reader(fh))
    assert [r[0] for r in read[1:]] == [csvsafe.safe_cell(t) for t, _ in rows]
    assert [int(r[1]) for r in read[1:]] == [n for _, n in rows]
    assert not [r[0] for r in read[1:] if r[0].startswith(DANGEROUS)]


def test_values_that_are_not_text_are_left_alone():
    assert csvsafe.safe_cell(-5) == -5 and csvsafe.safe_cell(None) is None
