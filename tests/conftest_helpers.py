"""Small helpers shared by tests."""

from __future__ import annotations

import sqlalchemy as sa


def count(ctx, model) -> int:
    with ctx.transaction() as s:
        return s.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


class SimulatedCrash(RuntimeError):
    """Stops an import between chunks, as a killed process would (after the chunk committed)."""


def crash_after_chunks(chunks: int):
    """A progress callback for `intake.import_file` that crashes once `chunks` chunks are stored
    and rows remain (the first call reports the starting point, before any chunk)."""
    calls = [-1]

    def progress(done: int, total: int) -> None:
        calls[0] += 1
        if calls[0] >= chunks and done < total:
            raise SimulatedCrash(f"stopped after {calls[0]} chunk(s), {done} of {total} rows")

    return progress
