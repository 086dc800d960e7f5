"""A small, highly compressed file cannot exhaust the server's memory: rows are read in chunks.

Measured on the development machine (peak resident memory of the importing process, 1 M
identical border events in a 29 KB Parquet file, stopped after the first chunk): the reader
that built every row as a dict peaked at 1,572 MB; the chunked reader at about 230 MB, of
which about 160 MB is the interpreter with Kosh's libraries loaded.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import polars as pl

import factories as f

PEAK_LIMIT_MB = 600
ROWS = 1_000_000

CHILD = """
import sys
from pathlib import Path
from kosh.platform import db
from kosh.platform.config import Settings
from kosh.platform.context import Context
from kosh.platform.crypto import Keyring
from kosh.platform.security import system_principal
from kosh.flows import intake

class SimulatedCrash(RuntimeError):
    pass


def crash_after_first_chunk(done, total):
    crash_after_first_chunk.calls += 1
    if crash_after_first_chunk.calls >= 1 and done < total:
        raise SimulatedCrash(f"stopped after one chunk, {done} of {total} rows")


crash_after_first_chunk.calls = -1  # the first call reports the starting point

database, home, path = sys.argv[1:4]
ctx = Context(Settings(home=home), db.make_engine(f"sqlite:///{database}"), Keyring.generate())
try:
    intake.import_file(ctx, system_principal("memory test"), Path(path), "border_events", chunk_rows=1000,
                       progress=crash_after_first_chunk)
except SimulatedCrash:
    print("stopped after one chunk")
# The peak of this process's own memory since exec (VmHWM). Not the rusage the parent can get:
# a vfork()ed child counts the parent's resident memory until exec, and pytest's grows with the run.
print(next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")).strip())
"""


def test_a_million_compressed_rows_are_imported_in_bounded_memory(tmp_path, sqlite_template):
    row = f.border_event(source_event_id="SAME-1")
    path = tmp_path / "feed.parquet"
    pl.select([pl.repeat(v, ROWS, eager=True).alias(k) for k, v in row.items()]).write_parquet(path, compression="zstd")
    assert path.stat().st_size < 200_000  # the upload limit counts these bytes, not the rows
    database = tmp_path / "kosh.db"
    shutil.copy(sqlite_template, database)
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(database), str(tmp_path / "home"), str(path)],
                                 stdout=stdout, stderr=stderr)
        child.wait()
    assert child.returncode == 0, err.read_text()
    printed = out.read_text()
    assert "stopped after one chunk" in printed
    peak_mb = int(printed.split("VmHWM:")[1].split()[0]) / 1024  # kB
    assert peak_mb < PEAK_LIMIT_MB, f"the import peaked at {peak_mb:.0f} MB"
