"""Accuracy of identity decisions against known truth (the demo country writes its truth file).

Truth is per record: which true person (`person_key`) each border event or notification is
about. Kosh splits a true person when records reach it under different documents (a renewed or
second passport); the review queue should propose exactly those split pairs. Pairwise
precision and recall are counted over pairs of stored persons.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import select

from kosh.core.context import Context
from kosh.identity.models import IdentityCandidate
from kosh.stay.models import BorderEvent, HostNotification


@dataclass(frozen=True)
class PairScores:
    true_pairs: int
    proposed: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.proposed if self.proposed else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def true_pairs(ctx: Context, truth_csv: Path) -> tuple[set[tuple[str, str]], int]:
    """Pairs of stored persons that are one true person, and how many stored persons hold
    records of more than one true person (wrongly joined: exact identity should never do it)."""
    truth = pl.read_csv(truth_csv, infer_schema=False)
    with ctx.transaction() as s:
        where = {"border_events": {e: p for e, p in s.execute(select(BorderEvent.source_event_id,
                                                                    BorderEvent.person_id))},
                 "notifications": {e: p for e, p in s.execute(select(HostNotification.source_event_id,
                                                                    HostNotification.person_id))}}
    keys_of: dict[str, set[str]] = {}
    for source, event_id, key in truth.select("source", "source_event_id", "person_key").iter_rows():
        pid = where.get(source, {}).get(event_id)
        if pid:
            keys_of.setdefault(pid, set()).add(key)
    persons_of: dict[str, set[str]] = {}
    for pid, keys in keys_of.items():
        for key in keys:
            persons_of.setdefault(key, set()).add(pid)
    pairs = {pair for pids in persons_of.values() for pair in itertools.combinations(sorted(pids), 2)}
    return pairs, sum(1 for keys in keys_of.values() if len(keys) > 1)


def score_queue(ctx: Context, truth: set[tuple[str, str]]) -> PairScores:
    """The review queue (every candidate, whatever its status) against the true pairs."""
    with ctx.transaction() as s:
        proposed = {tuple(sorted((a, b))) for a, b in s.execute(select(IdentityCandidate.person_a,
                                                                       IdentityCandidate.person_b))}
    return PairScores(len(truth), len(proposed), len(proposed & truth))
