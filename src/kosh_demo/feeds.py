"""Write the demo country's feeds as CSV, JSON Lines or Parquet files."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl

from kosh_demo.generator import COLUMNS, DemoCountry

FEEDS = ("border_events", "notifications", "residence_permits", "truth")
_EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}


def frame(country: DemoCountry, feed: str) -> pl.DataFrame:
    """One feed as a DataFrame with the exact column order; every column text except the truth flag."""
    columns = COLUMNS[feed]
    rows = getattr(country, feed)
    schema = {c: (pl.Boolean if c == "expected_reject" else pl.String) for c in columns}
    # Column-wise construction: much faster than from a list of dicts on large sizes.
    return pl.DataFrame({c: [r[c] for r in rows] for c in columns}, schema=schema)


def write_frame(df: pl.DataFrame, path: Path, fmt: Literal["csv", "jsonl", "parquet"]) -> Path:
    """One feed file in a format the importer reads."""
    if fmt == "csv":
        df.write_csv(path)
    elif fmt == "jsonl":
        df.write_ndjson(path)
    elif fmt == "parquet":
        df.write_parquet(path)
    else:
        raise ValueError(f"fmt must be one of {', '.join(_EXTENSIONS)}, got {fmt!r}")
    return path


def write_feeds(country: DemoCountry, directory: Path,
                fmt: Literal["csv", "jsonl", "parquet"] = "csv") -> dict[str, Path]:
    """Write border_events, notifications, residence_permits and truth into `directory`."""
    if fmt not in _EXTENSIONS:
        raise ValueError(f"fmt must be one of {', '.join(_EXTENSIONS)}, got {fmt!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for feed in FEEDS:
        paths[feed] = write_frame(frame(country, feed), directory / f"{feed}.{_EXTENSIONS[fmt]}", fmt)
    return paths
