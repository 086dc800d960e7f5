"""Retention, pure: when a record is past its term, and which of a person's records are.

A record is kept through `anchor + term` (years and months as calendar steps, a 29 February
anchor ending on 28 February; then days) and is past its term from the day after. Stays are
cut from a person's crossings: an entry opens a stay, the next exit closes it; an exit with no
entry before it is a stay of its own; an entry followed by another entry is a stay with no exit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from dateutil.relativedelta import relativedelta


class Term(Protocol):
    @property
    def years(self) -> int: ...
    @property
    def months(self) -> int: ...
    @property
    def days(self) -> int: ...


def term_end(anchor: dt.date, term: Term) -> dt.date:
    """The last day a record counted from `anchor` is kept."""
    end: dt.date = anchor + relativedelta(years=term.years, months=term.months) + dt.timedelta(days=term.days)
    return end


def past_term(anchor: dt.date, term: Term, on: dt.date) -> bool:
    """Is a record counted from `anchor` past its term on day `on`?"""
    return on > term_end(anchor, term)


def first_kept_anchor(term: Term, on: dt.date) -> dt.date:
    """The earliest anchor whose record is still kept on `on`: records anchored before it are
    past their term (term_end never decreases as the anchor grows), so a query can compare."""
    day: dt.date = on - relativedelta(years=term.years, months=term.months) - dt.timedelta(days=term.days)
    while past_term(day, term, on):
        day += dt.timedelta(days=1)
    while not past_term(day - dt.timedelta(days=1), term, on):
        day -= dt.timedelta(days=1)
    return day


class CrossingRec(NamedTuple):
    id: int
    direction: str  # entry | exit
    on: dt.date


class NotificationRec(NamedTuple):
    id: int
    arrival: dt.date
    expected_departure: dt.date | None


class PermitRec(NamedTuple):
    id: int
    valid_from: dt.date
    valid_to: dt.date


@dataclass(frozen=True)
class Stay:
    crossing_ids: tuple[int, ...]
    entry: dt.date | None
    exit: dt.date | None


def stays_of(crossings: Sequence[CrossingRec]) -> list[Stay]:
    """The stays of one person, from their crossings in time order."""
    out: list[Stay] = []
    open_entry: CrossingRec | None = None
    for c in crossings:
        if c.direction == "entry":
            if open_entry is not None:
                out.append(Stay((open_entry.id,), open_entry.on, None))
            open_entry = c
        elif open_entry is not None:
            out.append(Stay((open_entry.id, c.id), open_entry.on, c.on))
            open_entry = None
        else:
            out.append(Stay((c.id,), None, c.on))
    if open_entry is not None:
        out.append(Stay((open_entry.id,), open_entry.on, None))
    return out


@dataclass(frozen=True)
class StayTerms:
    closed: Term
    without_exit: Term


def stay_anchor(stay: Stay, is_last: bool, authorised_until: dt.date | None) -> tuple[dt.date, bool]:
    """(the day the stay's term counts from, whether it ended with an exit). A stay with no exit
    counts from the end of its authorised stay when known (the person's last stay), else its entry."""
    if stay.exit is not None:
        return stay.exit, True
    assert stay.entry is not None
    if is_last and authorised_until is not None:
        return max(authorised_until, stay.entry), False
    return stay.entry, False


def stay_expired(stay: Stay, is_last: bool, authorised_until: dt.date | None, terms: StayTerms,
                 on: dt.date) -> bool:
    anchor, closed = stay_anchor(stay, is_last, authorised_until)
    return past_term(anchor, terms.closed if closed else terms.without_exit, on)


@dataclass(frozen=True)
class Expired:
    crossings: tuple[int, ...] = ()
    notifications: tuple[int, ...] = ()
    permits: tuple[int, ...] = ()


def expired_records(crossings: Sequence[CrossingRec], notifications: Sequence[NotificationRec],
                    permits: Sequence[PermitRec], authorised_until: dt.date | None, on: dt.date, *,
                    crossing_terms: StayTerms | None, notification_terms: StayTerms | None,
                    permit_term: Term | None) -> Expired:
    """The ids of one person's records past their term on `on` (a kind without terms is kept);
    `crossings` in time order.

    `authorised_until`: the last lawful day of the person's current stay (stored status), if in
    the country. A notification goes with the stay its arrival falls in; one outside every
    recorded stay counts from its arrival or expected departure, whichever is later. A permit is
    past its term only once every stay it overlaps is too (else the status of what is kept would
    change)."""
    stays = stays_of(crossings)
    last = len(stays) - 1
    stay_gone = [crossing_terms is not None and stay_expired(s, i == last, authorised_until, crossing_terms, on)
                 for i, s in enumerate(stays)]
    gone_crossings = tuple(cid for s, gone in zip(stays, stay_gone, strict=True) if gone for cid in s.crossing_ids)

    gone_notes: list[int] = []
    if notification_terms is not None:
        for n in notifications:
            home = _stay_of(stays, n.arrival)
            if home is None:
                anchor = max(n.arrival, n.expected_departure or n.arrival)
                if past_term(anchor, notification_terms.closed, on):
                    gone_notes.append(n.id)
            elif stay_expired(stays[home], home == last, authorised_until, notification_terms, on):
                gone_notes.append(n.id)

    gone_permits: list[int] = []
    if permit_term is not None:
        for p in permits:
            if not past_term(p.valid_to, permit_term, on):
                continue
            covered = [i for i, s in enumerate(stays) if _overlaps(s, p)]
            if all(stay_gone[i] for i in covered):
                gone_permits.append(p.id)
    return Expired(gone_crossings, tuple(gone_notes), tuple(gone_permits))


def _stay_of(stays: Sequence[Stay], day: dt.date) -> int | None:
    """The index of the stay `day` falls in (from its entry to its exit, or open), else None."""
    for i in range(len(stays) - 1, -1, -1):
        s = stays[i]
        start = s.entry or s.exit
        assert start is not None
        if start <= day and (s.exit is None or day <= s.exit):
            return i
        if start <= day:
            return None
    return None


def _overlaps(stay: Stay, permit: PermitRec) -> bool:
    start = stay.entry or stay.exit
    end = stay.exit or dt.date.max
    assert start is not None
    return start <= permit.valid_to and permit.valid_from <= end
