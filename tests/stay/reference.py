"""An independent, day-by-day re-computation of the stay rules (issue 10 §1), for the differential test.

Simple and slow on purpose, and sharing no code with the engine (kosh.stay.rules): it reads only the
pack's data — the rule versions' numbers and dates, the lookback, the host-notification rule and the
working calendar — and picks rule versions itself by walking a group's versions. Inputs are duck-typed
(anything with the attributes of Crossing, PermitPeriod, NotificationRecord).

The rules, as written in the spec the engine must meet:
- presence: every day of a stay, entry to exit inclusive; a day of two stays (exit and re-entry the
  same day) is one present day, judged within each stay;
- a day covered by a visa or TRP is lawful and not counted; counted days = present and uncovered;
- the version for day d of a stay entered on E is the one in force on d for the citizenship (else
  the default group's), unless that version is "new_entries_only" and began after E: then the
  version before it governs (and so on back); its per-entry term counts from max(E, valid_from);
- an uncovered day is unlawful: always under "visa_required" (kind "permit_expired" if an earlier
  day of the stay was covered, else "no_basis"); at or past the entry limit min(per_entry_days,
  permit_required_after_days) ("permit_required" when the TRP limit is the smaller, else
  "per_entry"); or with more than window_max_days counted days in the window_days ending on d
  ("window"; the entry limit wins);
- runs: maximal consecutive unlawful days of one stay, of the kind of their first day;
- host notifications (not in the calculator): an arrival is an entry day (two entries on one day are
  one arrival, its stay lasting to the later of their last days) whose version in force that day has a
  basis the pack's host_notification applies to; it is due on the `working_days`-th working day after
  the entry day. A notification is for the arrival when the day it reports is a day of that stay and it
  was submitted by `on`. A day of the stay is without notification when it is after the due day and no
  such notification was submitted before it; those days form the run, "notification_late" when such a
  notification exists, else "notification_missed", carrying the due day;
- violations listed: runs whose last day is within the pack's lookback ending on `on`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

ONE = dt.timedelta(days=1)
# last_lawful_day simulates continued presence this far past the latest of `on`, the end of the last
# permit and the last date a rule version of the citizenship starts or ends. Beyond that point nothing
# changes any more: the entry limit (≤ 90 days in the kz pack) or a window (max + 1 days of continuous
# presence) bites well within 3 years, so a stay still lawful at the horizon is unlimited (None).
HORIZON = dt.timedelta(days=3 * 365 + 1)

VISA_REQUIRED = "visa_required"
OVERSTAY_KINDS = ("per_entry", "window", "permit_required", "permit_expired")


@dataclass(frozen=True)
class Answer:
    in_country: bool
    status: str  # not_in_country | overstay | no_lawful_basis | notification_overdue | lawful
    overstay_days: int
    violations: tuple[tuple[str, dt.date, dt.date, dt.date | None], ...]  # (kind, first, last, due), sorted
    last_lawful_day: dt.date | None
    days_used: int


@dataclass
class _Stay:
    entry: dt.date
    last: dt.date  # last present day (inclusive)
    open: bool = False  # still in the country on `on` (its end is `on`, or later for a simulation)


# --- rule versions ---------------------------------------------------------------------------------


def _in_force(version: Any, day: dt.date) -> bool:
    return ((version.valid_from is None or version.valid_from <= day)
            and (version.valid_to is None or day <= version.valid_to))


def version_on(citizenship: str, day: dt.date, pack_rules: Any) -> Any:
    """The version in force on `day`: the citizenship's own groups first, else the default group."""
    for group in pack_rules.groups:
        for version in group.version:
            if citizenship in version.members and _in_force(version, day):
                return version
    for group in pack_rules.groups:
        if group.default:
            for version in group.version:
                if _in_force(version, day):
                    return version
    raise LookupError(f"no version for {citizenship} on {day}")


def governing(citizenship: str, entry: dt.date, day: dt.date, pack_rules: Any) -> tuple[Any, dt.date]:
    """(version, per-entry counting start) for `day` of a stay entered on `entry`."""
    version = version_on(citizenship, day, pack_rules)
    while (version.valid_from is not None and version.valid_from > entry
           and (getattr(version, "transition", None) or "applies_to_present") == "new_entries_only"):
        version = version_on(citizenship, version.valid_from - ONE, pack_rules)
    start = entry if version.valid_from is None else max(entry, version.valid_from)
    return version, start


def _last_rule_date(citizenship: str, pack_rules: Any) -> dt.date:
    dates = [d for group in pack_rules.groups for v in group.version
             if group.default or citizenship in v.members
             for d in (v.valid_from, v.valid_to) if d is not None]
    return max(dates, default=dt.date(2000, 1, 1))


# --- presence ------------------------------------------------------------------------------------


def _stays_from_crossings(crossings: Iterable[Any], on: dt.date) -> list[_Stay]:
    """Pair crossings day by day: an exit first when inside, an entry first when outside; an exit
    with no entry adds nothing; an entry followed by another entry lasts until the day before it
    (at least its own day); the last open stay runs to `on`. Crossings after `on` are ignored."""
    by_day: dict[dt.date, list[int]] = {}  # day -> [entries, exits]
    for c in crossings:
        if c.on <= on:
            by_day.setdefault(c.on, [0, 0])[0 if c.direction == "entry" else 1] += 1
    stays: list[_Stay] = []
    inside: dt.date | None = None
    for day in sorted(by_day):
        entries, exits = by_day[day]
        while entries or exits:
            if inside is not None and exits:
                exits -= 1
                stays.append(_Stay(inside, day))
                inside = None
            elif inside is not None:
                entries -= 1
                stays.append(_Stay(inside, max(inside, day - ONE)))
                inside = day
            elif entries:
                entries -= 1
                inside = day
            else:
                exits -= 1  # an exit with no entry: no days
    if inside is not None:
        stays.append(_Stay(inside, on, open=True))
    return stays


def _stays_from_trips(trips: Sequence[tuple[dt.date, dt.date | None]], on: dt.date) -> list[_Stay]:
    """Calculator trips as stays: an open trip runs to `on`; a trip that starts before the previous
    one ends (more than a same-day exit and re-entry) is part of it."""
    items = sorted((entry, on if exit_ is None else exit_, exit_ is None) for entry, exit_ in trips)
    stays: list[_Stay] = []
    for entry, last, open_ in items:
        if stays and entry < stays[-1].last:
            prev = stays[-1]
            if last > prev.last:
                prev.last, prev.open = last, open_
            elif last == prev.last:
                prev.open = prev.open or open_
            continue
        stays.append(_Stay(entry, last, open_))
    return stays


def _days(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    d = first
    while d <= last:
        yield d
        d += ONE


# --- the day-by-day walk ---------------------------------------------------------------------------


class _World:
    """Presence and permits; counts counted days in a window with a prefix sum over all days."""

    def __init__(self, stays: list[_Stay], cover: set[dt.date]) -> None:
        self.stays = stays
        self.cover = cover
        present: set[dt.date] = set()
        for stay in stays:
            present.update(_days(stay.entry, stay.last))
        self.first = min(present) if present else dt.date(2000, 1, 1)
        last = max(present) if present else self.first
        self.prefix = [0]  # prefix[i] = counted days in [first, first + i - 1]
        for d in _days(self.first, last):
            self.prefix.append(self.prefix[-1] + (d in present and d not in cover))

    def counted(self, lo: dt.date, hi: dt.date) -> int:
        """Counted days in [lo, hi]."""
        def upto(d: dt.date) -> int:  # counted days in [first, d]
            i = (d - self.first).days + 1
            return self.prefix[max(0, min(i, len(self.prefix) - 1))]
        return upto(hi) - upto(lo - ONE) if hi >= lo else 0

    def walk(self, stay: _Stay, citizenship: str, pack_rules: Any, stop_at_first: bool = False
             ) -> list[tuple[dt.date, str | None]]:
        """(day, unlawful kind or None) for each day of `stay`, in order."""
        out: list[tuple[dt.date, str | None]] = []
        covered_before = False  # per-stay counter: an earlier day of this stay had a permit
        for d in _days(stay.entry, stay.last):
            kind = self._verdict(d, stay.entry, covered_before, citizenship, pack_rules)
            covered_before = covered_before or d in self.cover
            out.append((d, kind))
            if stop_at_first and kind is not None:
                break
        return out

    def _verdict(self, d: dt.date, entry: dt.date, covered_before: bool, citizenship: str,
                 pack_rules: Any) -> str | None:
        if d in self.cover:
            return None
        v, start = governing(citizenship, entry, d, pack_rules)
        if v.basis == VISA_REQUIRED:
            return "permit_expired" if covered_before else "no_basis"
        limits = [x for x in (v.per_entry_days, v.permit_required_after_days) if x is not None]
        if limits:
            limit = min(limits)
            if (d - start).days >= limit:
                by_permit = v.permit_required_after_days == limit and (
                    v.per_entry_days is None or v.per_entry_days > limit)
                return "permit_required" if by_permit else "per_entry"
        w, m = v.window_days, v.window_max_days
        if w is not None and m is not None and m < w and self.counted(d - (w - 1) * ONE, d) > m:
            return "window"
        return None


def _runs(verdicts: list[tuple[dt.date, str | None]]) -> list[tuple[str, dt.date, dt.date]]:
    runs: list[tuple[str, dt.date, dt.date]] = []
    prev: dt.date | None = None
    for d, kind in verdicts:
        if kind is None:
            prev = None
            continue
        if prev is not None and runs and runs[-1][2] == prev:
            runs[-1] = (runs[-1][0], runs[-1][1], d)
        else:
            runs.append((kind, d, d))
        prev = d
    return runs


# --- the answer ----------------------------------------------------------------------------------


def _answer(citizenship: str, stays: list[_Stay], permits: Iterable[Any], notifications: Iterable[Any] | None,
            on: dt.date, pack_rules: Any) -> Answer:
    permits = list(permits)
    cover: set[dt.date] = set()
    for p in permits:
        cover.update(_days(p.start, p.end))
    # In the country: a stay goes on past `on` (an exit on `on` means gone). Of two such calculator
    # trips (an open one and one entered later), the later entry is the current stay, as with crossings.
    current = max((s for s in stays if s.entry <= on and (s.open or s.last > on)), key=lambda s: s.entry, default=None)
    in_country = current is not None

    # Present on `on`: a stay holds that day (the day of an exit counts). With a same-day exit and
    # re-entry two stays hold it: the later entry's verdict is the day's, and an overstay counts
    # from the first day of the earliest unlawful run reaching `on`.
    here = max((s for s in stays if s.entry <= on <= s.last), key=lambda s: s.entry, default=None)
    world = _World(stays, cover)
    runs: list[tuple[str, dt.date, dt.date]] = []
    on_kind: str | None = None
    firsts: list[dt.date] = []
    for stay in stays:
        verdicts = world.walk(stay, citizenship, pack_rules)
        stay_runs = _runs(verdicts)
        runs.extend(stay_runs)
        firsts.extend(a for kind, a, b in stay_runs if a <= on <= b)
        if stay is here:
            on_kind = dict(verdicts)[on]
    on_run_first = min(firsts, default=None)

    listed: list[tuple[str, dt.date, dt.date, dt.date | None]] = [(*r, None) for r in runs]
    if notifications is not None:
        listed.extend(_notification_runs(citizenship, stays, list(notifications), on, pack_rules))
    lookback_start = on - (pack_rules.lookback_days - 1) * ONE
    violations = tuple(sorted((r for r in listed if r[2] >= lookback_start), key=lambda r: (r[1], r[2], r[0])))

    # Status of the asked day only; past violations never make it.
    if here is None:
        status = "not_in_country"
    elif on_kind in OVERSTAY_KINDS:
        status = "overstay"
    elif on_kind == "no_basis":
        status = "no_lawful_basis"
    elif notifications is not None and _notification_overdue(
            citizenship, here, list(notifications), on, pack_rules):
        status = "notification_overdue"
    else:
        status = "lawful"
    overstay_days = (on - on_run_first).days + 1 if status == "overstay" and on_run_first else 0

    # days_used: counted days (real presence only) in the window of the version in force on `on`.
    v_on = version_on(citizenship, on, pack_rules)
    window = v_on.window_days or pack_rules.lookback_days
    real = _World([_Stay(s.entry, min(s.last, on)) for s in stays if s.entry <= on], cover)
    days_used = real.counted(on - (window - 1) * ONE, on)

    # last_lawful_day: literally stay on, day by day, to the horizon. Planned trips after `on` are left out.
    horizon = max([on, _last_rule_date(citizenship, pack_rules), *(p.end for p in permits)]) + HORIZON
    past = [_Stay(s.entry, min(s.last, on)) for s in stays if s.entry <= on and s is not current]
    sim = _Stay(current.entry if current is not None else on + ONE, horizon, open=True)
    verdicts = _World([*past, sim], cover).walk(sim, citizenship, pack_rules, stop_at_first=True)
    first_bad = next((d for d, kind in verdicts if kind is not None), None)
    last_lawful = first_bad - ONE if first_bad is not None and first_bad > sim.entry else None

    return Answer(in_country, status, overstay_days, violations, last_lawful, days_used)


def _due_day(entry: dt.date, pack_rules: Any) -> dt.date:
    due, left = entry, pack_rules.host_notification.working_days
    while left:  # `working_days` working days after the entry, the entry day not counted
        due += ONE
        if pack_rules.calendar.is_working_day(due):
            left -= 1
    return due


def _notification_runs(citizenship: str, stays: list[_Stay], notifications: list[Any], on: dt.date,
                       pack_rules: Any) -> list[tuple[str, dt.date, dt.date, dt.date | None]]:
    last_of: dict[dt.date, dt.date] = {}  # arrival (entry day) -> last day of its stay
    for stay in stays:
        last_of[stay.entry] = max(stay.last, last_of.get(stay.entry, stay.last))
    out: list[tuple[str, dt.date, dt.date, dt.date | None]] = []
    for entry, last in sorted(last_of.items()):
        if version_on(citizenship, entry, pack_rules).basis not in pack_rules.host_notification.applies_to:
            continue
        due = _due_day(entry, pack_rules)
        for_it = [n for n in notifications if entry <= n.arrival <= last and n.submitted <= on]
        kind = "notification_late" if for_it else "notification_missed"
        without = [d for d in _days(due + ONE, last) if not any(n.submitted < d for n in for_it)]
        if without:
            assert (without[-1] - without[0]).days + 1 == len(without)  # once submitted, it stays so
            out.append((kind, without[0], without[-1], due))
    return out


def _notification_overdue(citizenship: str, stay: _Stay, notifications: list[Any], on: dt.date,
                          pack_rules: Any) -> bool:
    rule = pack_rules.host_notification
    if version_on(citizenship, stay.entry, pack_rules).basis not in rule.applies_to:
        return False
    due = _due_day(stay.entry, pack_rules)
    submitted = any(stay.entry <= n.arrival <= on and n.submitted <= on for n in notifications)
    return on > due and not submitted


def reference_assess(citizenship: str, crossings: Iterable[Any], permits: Iterable[Any],
                     notifications: Iterable[Any], on: dt.date, pack_rules: Any) -> Answer:
    return _answer(citizenship, _stays_from_crossings(crossings, on), permits, notifications, on, pack_rules)


def reference_calculate(citizenship: str, trips: Sequence[tuple[dt.date, dt.date | None]], on: dt.date,
                        pack_rules: Any, permits: Iterable[Any] = ()) -> Answer:
    """The calculator: trips past and planned; notifications are not tracked there."""
    return _answer(citizenship, _stays_from_trips(trips, on), permits, None, on, pack_rules)
