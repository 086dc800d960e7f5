"""CSV files Kosh writes are safe to open in a spreadsheet (OWASP "CSV injection").

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by
spreadsheet programs as a formula; a single quote before it makes it plain text again.
Values typed as numbers are written as numbers (they cannot hold a formula).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import polars as pl

DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value a CSV cell may hold: text starting with a formula character gets a leading quote."""
    if isinstance(value, str) and value.startswith(DANGEROUS_STARTS):
        return "'" + value
    return value


def safe_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: safe_cell(v) for k, v in row.items()}


def safe_frame(df: pl.DataFrame) -> pl.DataFrame:
    """Every text column of a frame made safe (numbers, dates and flags are left as they are)."""
    text = [c for c, t in df.schema.items() if t == pl.String]
    return df.with_columns(
        pl.when(pl.any_horizontal(pl.col(c).str.starts_with(s) for s in DANGEROUS_STARTS))
        .then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c) for c in text)


def write_frame(df: pl.DataFrame, path: Path | str, **kwargs: Any) -> None:
    """`DataFrame.write_csv` with every text cell made safe."""
    safe_frame(df).write_csv(path, **kwargs)


def write_rows(fh: IO[str], fieldnames: list[str], rows: Iterable[Mapping[str, Any]], *, header: bool = True) -> None:
    """`csv.DictWriter` rows with every text cell made safe."""
    writer = csv.DictWriter(fh, fieldnames=fieldnames)
    if header:
        writer.writeheader()
    writer.writerows(safe_row(r) for r in rows)
