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
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import select

from kosh.identity.models import IdentityCandidate
from kosh.platform.context import Context
from kosh.stay.models import BorderEvent, HostNotification

if TYPE_CHECKING:
    from kosh_demo.generator import DemoCountry


def _share(part: int, whole: int) -> float:
    """part / whole, 1.0 when there is nothing to count (no pair proposed is no wrong pair)."""
    return part / whole if whole else 1.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@dataclass(frozen=True)
class PairScores:
    true_pairs: int
    proposed: int
    correct: int

    @property
    def precision(self) -> float:
        return _share(self.correct, self.proposed)

    @property
    def recall(self) -> float:
        return _share(self.correct, self.true_pairs)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)


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


# -- record-level linkage sets with known truth (for `kosh identity link` and its benchmark) --

def demo_records(country: DemoCountry) -> pl.DataFrame:
    """The demo country's border events and notifications as linkage records (the columns of
    `kosh identity link`) plus `person_key`, the true person. Rows an importer must reject are
    left out, and so are exact repeats (a person crossing ten times under one passport is one
    record): what remains are the spellings, documents and defects that make linkage hard."""
    truth = {(t["source"], t["source_event_id"]): t for t in country.truth}
    rows: list[dict[str, str]] = []
    for source, feed, cit_col in (("border_events", country.border_events, "nationality"),
                                  ("notifications", country.notifications, "citizenship")):
        for r in feed:
            t = truth[(source, r["source_event_id"])]
            if t["expected_reject"]:
                continue
            rows.append({"record_id": f"{'B' if source == 'border_events' else 'N'}:{r['source_event_id']}",
                         "source": source, "surname": r["surname"], "given_names": r["given_names"],
                         "patronymic": r.get("patronymic", ""), "sex": r["sex"], "birth_date": r["birth_date"],
                         "citizenship": r[cit_col], "document_number": r["document_number"],
                         "person_key": str(t["person_key"])})
    df = pl.DataFrame(rows, schema={c: pl.String for c in rows[0]})
    identity = ["surname", "given_names", "patronymic", "sex", "birth_date", "citizenship", "document_number",
                "person_key"]
    return df.unique(subset=identity, keep="first", maintain_order=True)


@dataclass(frozen=True)
class LinkScores:
    """Pairwise and cluster-level accuracy of a clustering against the truth."""

    pairwise: PairScores
    clusters_exact: int  # predicted clusters equal to a true cluster
    clusters_true: int
    clusters_predicted: int

    @property
    def cluster_precision(self) -> float:
        return _share(self.clusters_exact, self.clusters_predicted)

    @property
    def cluster_recall(self) -> float:
        return _share(self.clusters_exact, self.clusters_true)

    @property
    def cluster_f1(self) -> float:
        return _f1(self.cluster_precision, self.cluster_recall)


def pairs_within(groups: pl.DataFrame, key: str | list[str]) -> int:
    """Pairs of rows that share `key`."""
    sizes = groups.group_by(key).len()["len"]
    return int((sizes * (sizes - 1) // 2).sum())


def score_clusters(clusters: pl.DataFrame, truth: pl.DataFrame) -> LinkScores:
    """`clusters` (record_id, person_id) against `truth` (record_id, person_key)."""
    df = truth.select("record_id", "person_key").join(clusters.select("record_id", "person_id"), on="record_id")
    true_pairs = pairs_within(df, "person_key")
    predicted = pairs_within(df, "person_id")
    correct = pairs_within(df, ["person_key", "person_id"])
    members_true = df.group_by("person_key").agg(pl.col("record_id").sort().alias("m"))
    members_pred = df.group_by("person_id").agg(pl.col("record_id").sort().alias("m"))
    exact = members_true.join(members_pred, on="m", how="inner").height
    return LinkScores(PairScores(true_pairs, predicted, correct), exact, members_true.height, members_pred.height)
