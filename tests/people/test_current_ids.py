"""A merged person's id leads to the person it went into, through every level of merging —
whichever ids of a chain are asked for together."""

from __future__ import annotations

import itertools

from kosh.people import service
from kosh.people.models import Person


def _chain(ctx, ids: list[str]) -> None:  # noqa: ANN001 — the test context
    """Persons ids[0] → ids[1] → … → ids[-1] (each merged into the next)."""
    with ctx.transaction() as s:
        for pid in ids:
            s.add(Person(id=pid, surname="Chain", citizenship="UZB"))
        s.flush()
        for pid, into in itertools.pairwise(ids):
            s.get(Person, pid).merged_into = into


def test_every_id_of_a_chain_leads_to_its_end_whichever_are_asked(ctx):
    ids = ["p-a", "p-b", "p-c", "p-d"]
    _chain(ctx, ids)
    with ctx.transaction() as s:
        for size in range(1, len(ids) + 1):
            for asked in itertools.permutations(ids, size):
                assert service.current_ids(s, list(asked)) == {pid: "p-d" for pid in asked}


def test_an_unmerged_or_unknown_id_stands_for_itself(ctx):
    _chain(ctx, ["q-a", "q-b"])
    with ctx.transaction() as s:
        assert service.current_ids(s, ["q-b", "nobody", "q-a"]) == {"q-b": "q-b", "nobody": "nobody", "q-a": "q-b"}
