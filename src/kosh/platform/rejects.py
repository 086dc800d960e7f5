"""The rejects file of a file read in bulk (a feed import, records to link): one CSV row per input
row refused, with its row number and reason. It holds what the input held (names, document
numbers), so it is written owner-only, and safe to open in a spreadsheet (`csvsafe`).

Each reader keeps its own columns and messages; only the file is written here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kosh.platform.csvsafe import write_rows
from kosh.platform.files import open_private


def write_rejects(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]], *,
                  append: bool = False) -> None:
    """Write (or with `append`, add) rejected rows; the header goes at the top of a new file."""
    new = not append or not path.exists()
    with open_private(path, "a" if append else "w", newline="", encoding="utf8") as fh:
        write_rows(fh, list(columns), rows, header=new)


def trim_rejects(path: Path, columns: Sequence[str], upto_row: int) -> None:
    """Keep the rejects of the rows up to `upto_row` only (a resumed import reads the rest again)."""
    if not path.exists():
        return
    with path.open(newline="", encoding="utf8") as fh:
        kept = [r for r in csv.DictReader(fh) if int(r["row"]) <= upto_row]
    write_rejects(path, columns, kept)
