"""The stay engine: pure rules on border crossings, permits and host notifications.

No I/O and no ORM: callers pass the jurisdiction's rule objects (`pack.stay_rules`). Nothing
here knows a country; limits, windows, deadlines and the working calendar come from the pack.

Counting conventions (all days are calendar days, dates handled as ordinals):
- a day of presence is any day from entry to exit, both included; a same-day exit and
  re-entry counts that day once;
- days covered by a visa or TRP are lawful and never count against visa-free limits;
- the rule version applied to a stay is the one in force on the day of its entry;
- per-entry limits run from the crossing: day k of a stay is lawful only if k ≤ the limit
  (or a permit covers it); window limits hold on every day of presence (count of non-permit
  presence days in the window ending that day ≤ the maximum) — the same as checking "from
  the day of entry and from the day of exit" and every day between;
- a missing exit (two entries in a row) assumes presence until the next entry; an exit with
  no entry adds no days — so recording an extra exit can only lower the days counted;
- overstays and missed notifications are reported within the pack's `lookback_days` ending
  on the assessment date (plus planned days in the calculator).
Status precedence: overstay > no_lawful_basis > notification_overdue > lawful.

Host notifications (`[host_notification]` of the pack): the receiving party notifies within the
pack's working days of each entry (the entry day not counted; one obligation per entry day, for
stays entered under a basis the rule applies to). A notification counts for a stay when the
arrival it reports is a day of that stay and it was submitted by the assessment date; the
earliest such submission is the day the stay was notified. Every day of the stay after the due
day, up to and including the day it was notified, is a day without the notification the law
asks for; such days form one violation per stay:
- `notification_missed`: nothing was submitted by the assessment date — from the day after
  the due day to the stay's last day (the assessment date when still present);
- `notification_late`: submitted after the due day — from the day after the due day to the day
  submitted (or the stay's last day, if the person had left before it was submitted).
A stay that ends on or before its due day has no such violation. The calculator tracks none.
Both carry the due day (and `filed`, the day submitted, for a late one).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from kosh.jurisdictions.schema import StayRule, StayRules, WorkingCalendar
from kosh.platform.words import N_, Msg, Named

__all__ = [
    "CALCULATOR_LATEST",
    "Crossing",
    "Deadline",
    "Finding",
    "NotAForeigner",
    "NotificationRecord",
    "PermitPeriod",
    "Stay",
    "StayAssessment",
    "StayRule",
    "StayRules",
    "VIOLATION_KINDS",
    "Violation",
    "WorkingCalendar",
    "add_working_days",
    "assess",
    "notification_reason",
    "calculate_trips",
    "rule_code",
    "rule_text",
    "stays_from_crossings",
]

Direction = Literal["entry", "exit"]
PermitKind = Literal["trp", "visa"]
Status = Literal["lawful", "notification_overdue", "overstay", "no_lawful_basis", "not_in_country"]
ViolationKind = Literal["per_entry", "window", "permit_required", "permit_expired", "no_basis",
                        "notification_missed", "notification_late"]
VIOLATION_KINDS: tuple[str, ...] = get_args(ViolationKind)
FindingCode = Literal["exit_without_entry", "entry_without_exit", "overlapping_stays"]

# The last day the calculator takes: windows, permits and working-day deadlines run on from the days
# it is given, and must stay inside the calendar (which ends on 9999-12-31).
CALCULATOR_LATEST = dt.date(2099, 12, 31)
EARLIEST = dt.date(2000, 1, 1)  # the first day Kosh accepts: no record or question before it


def outside_accepted(day: dt.date) -> Msg | None:
    """Why a day cannot be asked about (windows and working-day deadlines run on from it and must
    stay inside the calendar), or None when it can."""
    if EARLIEST <= day <= CALCULATOR_LATEST:
        return None
    return Msg(N_("%(day)s is outside the dates Kosh accepts (%(first)s to %(last)s)"), day=day, first=EARLIEST,
               last=CALCULATOR_LATEST)

_OVERSTAY_KINDS = frozenset({"per_entry", "window", "permit_required", "permit_expired"})


class NotAForeigner(ValueError):
    """The person is a citizen of the jurisdiction: stay limits do not apply to them."""


# --- value objects -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Crossing:
    direction: Direction
    on: dt.date
    ref: str | None = None

    def __post_init__(self) -> None:
        if self.direction not in ("entry", "exit"):
            raise ValueError(f"direction must be 'entry' or 'exit' (got {self.direction!r})")


@dataclass(frozen=True, slots=True)
class Stay:
    """One presence in the country. `exit` None: still in the country when it is the last stay;
    on an earlier stay, the exit was never recorded and presence is assumed until the day
    before the next entry. `entry` None: an exit with no recorded entry; the stay cannot be
    dated, so it adds no days (a Finding flags it). Both choices make a missing record never
    lower the days counted: adding a recorded exit can only shorten presence."""

    entry: dt.date | None
    exit: dt.date | None


@dataclass(frozen=True, slots=True)
class PermitPeriod:
    kind: PermitKind
    start: dt.date
    end: dt.date  # inclusive

    def __post_init__(self) -> None:
        if self.kind not in ("trp", "visa"):
            raise ValueError(f"permit kind must be 'trp' or 'visa' (got {self.kind!r})")
        if self.end < self.start:
            raise ValueError(f"permit ends ({self.end}) before it starts ({self.start})")


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """A host notification: the arrival it reports and the day it was submitted."""

    arrival: dt.date
    submitted: dt.date


@dataclass(frozen=True, slots=True)
class Finding:
    """A data-quality problem in the crossings or trips; the assessment still goes on."""

    code: FindingCode
    on: dt.date
    message: str


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: Literal["host_notification"]
    due: dt.date
    met: bool | None  # None: not yet due and nothing submitted, or not tracked (calculator)
    entry: dt.date
    submitted: dt.date | None = None
    overdue: bool = False  # past due and nothing submitted by the assessment date


@dataclass(frozen=True, slots=True)
class Violation:
    """A run of unlawful presence days inside one stay: past a limit or a permit, or (the
    notification kinds) past the host notification's due day without it."""

    kind: ViolationKind
    start: dt.date
    end: dt.date
    stay_entry: dt.date | None
    due: dt.date | None = None  # notification kinds: the day the notification was due
    filed: dt.date | None = None  # notification_late: the day it was submitted

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True, slots=True)
class StayAssessment:
    """Where a person stands on `on`.

    days_used        non-permit presence days in the window of `window_days` ending on `on`
    days_left        visa-free days still available counted against that window and the
                     per-entry limit (never more than window_max_days - days_used); None when
                     the rule sets no numeric limit (visa_required, or none in the source).
                     A floor: old days leave the window, so see last_lawful_day
    last_lawful_day  in the country: last day continuous presence since current_entry stays
                     lawful (visa-free limits and permits; earlier than `on` when overstaying);
                     outside: last day of a continuous stay entered on `on`+1. None when no
                     day is lawful (e.g. visa required and no visa) or nothing limits the stay
    overstay_days    unlawful presence days (past a limit or a permit's end) within the
                     pack's lookback window ending on `on`, plus planned days (calculator)
    no_basis_days    presence days with no visa or TRP where one is required, same scope
    """

    citizenship: str
    on: dt.date
    status: Status
    in_country: bool
    current_entry: dt.date | None
    days_used: int
    days_left: int | None
    window_days: int
    window_max_days: int | None
    last_lawful_day: dt.date | None
    overstay_days: int
    no_basis_days: int
    rule: StayRule
    reasons: tuple[str, ...]
    deadlines: tuple[Deadline, ...]
    findings: tuple[Finding, ...]
    violations: tuple[Violation, ...]
    stays: tuple[Stay, ...]
    # In the country and lawful on `on`: the violation that continuous presence would begin
    # (its kind and first day; `end` is that day too), None when none would.
    next_violation: Violation | None = None


def rule_code(rule: StayRule) -> str:
    """A stable name for the rule version applied, e.g. 'uzbekistan@2023-01-27'."""
    return f"{rule.group}@{rule.valid_from.isoformat() if rule.valid_from else 'start'}"


def rule_text(rule: StayRule) -> Msg:
    """The rule version in words, in the reader's language: 'Uzbekistan: 30 days per entry, 90 days
    in any 180 (bilateral agreement, from 27 Jan 2023)'. The group and the legal basis are named
    as the pack names them in each language; the limits are catalog messages."""
    if rule.basis == "visa_required":
        limits: list[Msg] = [Msg(N_("stay only on a visa or TRP"))]
    else:
        limits = []
        if rule.per_entry_days is not None:
            limits.append(Msg(N_("%(n)s days per entry"), n=rule.per_entry_days))
        if rule.window_days is not None:
            limits.append(Msg(N_("%(max)s days in any %(window)s"), max=rule.window_max_days, window=rule.window_days))
        if rule.permit_required_after_days is not None:
            limits.append(Msg(N_("TRP required after %(n)s days from the crossing"),
                              n=rule.permit_required_after_days))
        if not limits:
            limits = [Msg(N_("visa-free; no stay limit given by the source"))]
    since = (Msg(N_("from %(day)s"), day=rule.valid_from) if rule.valid_from
             else Msg(N_("start date not recorded")))
    period: Msg = (Msg(N_("%(since)s, until %(day)s"), since=since, day=rule.valid_to) if rule.valid_to else since)
    return Msg(N_("%(group)s: %(limits)s (%(basis)s, %(period)s)"), group=Named(rule.group, dict(rule.group_names)),
               limits=limits, basis=Named(rule.legal_basis, dict(rule.legal_basis_names)), period=period)


# --- calendar ----------------------------------------------------------------------------------


def add_working_days(start: dt.date, n: int, calendar: WorkingCalendar) -> dt.date:
    """The day `n` working days after `start` (start itself not counted)."""
    return calendar.add_working_days(start, n)


# --- crossings to stays ------------------------------------------------------------------------


def stays_from_crossings(crossings: Iterable[Crossing]) -> tuple[list[Stay], list[Finding]]:
    """Pair entries and exits into stays, whatever the input order.

    Crossings are taken by date; on one date, an exit is taken first when the person is in the
    country and an entry first when outside (a same-day exit and re-entry, or a day trip), and
    crossings of one direction by their ref — so the result depends only on the set of crossings.
    """
    by_day: dict[dt.date, tuple[list[Crossing], list[Crossing]]] = {}
    for crossing in crossings:
        entries, exits = by_day.setdefault(crossing.on, ([], []))
        (entries if crossing.direction == "entry" else exits).append(crossing)
    stays: list[Stay] = []
    findings: list[Finding] = []
    entry: dt.date | None = None
    for day in sorted(by_day):
        entries, exits = by_day[day]
        entries.sort(key=_ref_key, reverse=True)  # reversed: pop() takes the smallest ref
        exits.sort(key=_ref_key, reverse=True)
        while entries or exits:
            if entry is not None:
                if exits:
                    exits.pop()
                    stays.append(Stay(entry, day))
                    entry = None
                else:
                    entries.pop()
                    findings.append(Finding(
                        "entry_without_exit", entry,
                        Reason(N_("entry on %(entry)s has no exit before the next entry on %(next)s; presence is "
                                  "assumed until that entry"), entry=entry, next=day)))
                    stays.append(Stay(entry, None))
                    entry = day
            elif entries:
                entries.pop()
                entry = day
            else:
                exits.pop()
                findings.append(Finding(
                    "exit_without_entry", day,
                    Reason(N_("exit on %(day)s has no recorded entry; the stay cannot be dated and adds no days"),
                           day=day)))
                stays.append(Stay(None, day))
    if entry is not None:
        stays.append(Stay(entry, None))
    return stays, findings


def _ref_key(crossing: Crossing) -> str:
    return crossing.ref or ""


# --- engine internals --------------------------------------------------------------------------


class _Span:
    """A stay, or the part of it under one rule version, as ordinals. `entry` is where that
    version's per-entry term counts from; `stay_start` the day the stay itself was entered."""

    __slots__ = ("start", "end", "entry", "rule", "open", "stay_start")

    def __init__(self, start: int, end: int, entry: int | None, rule: StayRule, open_: bool,
                 stay_start: int | None = None) -> None:
        self.start = start
        self.end = end
        self.entry = entry
        self.rule = rule
        self.open = open_
        self.stay_start = start if stay_start is None else stay_start


def _segments(code: str, start: int, end: int, open_: bool, rules: StayRules, *,
              entry: int | None = None, stay_start: int | None = None) -> list[_Span]:
    """A stay (or its part from `start`) cut where a rule version takes effect during it: from
    that day the new version governs, its per-entry term counted from the day it took effect
    (transition "applies_to_present"), unless the new version leaves present stays under the old
    one. The first part counts from `entry` (default `start`); all belong to the stay entered on
    `stay_start` (default `start`)."""
    stay_start = start if stay_start is None else stay_start
    rule = rules.rule_for_ordinal(code, start)
    out: list[_Span] = []
    seg_start, count_from = start, start if entry is None else entry
    # A citizenship's version changes within its group, or when it joins or leaves a group.
    for day in rules.changes(code, start, end):
        following = rules.rule_for_ordinal(code, day)
        if following == rule:
            continue
        if following.transition == "new_entries_only":
            break
        out.append(_Span(seg_start, day - 1, count_from, rule, False, stay_start))
        seg_start = count_from = day
        rule = following
    out.append(_Span(seg_start, end, count_from, rule, open_, stay_start))
    return out


def _merge(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint, non-adjacent union of inclusive intervals."""
    out: list[list[int]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1] + 1:
            if b > out[-1][1]:
                out[-1][1] = b
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _subtract(a: int, b: int, cover: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Parts of [a, b] not in `cover` (merged)."""
    out: list[tuple[int, int]] = []
    cur = a
    for c, d in cover:
        if d < cur:
            continue
        if c > b:
            break
        if c > cur:
            out.append((cur, c - 1))
        cur = d + 1
        if cur > b:
            return out
    if cur <= b:
        out.append((cur, b))
    return out


def _overlaps(a: int, b: int, cover: list[tuple[int, int]]) -> bool:
    return a <= b and any(c <= b and a <= d for c, d in cover)


class _Days:
    """A set of days as merged intervals with prefix sums: count(lo, hi) in O(log n)."""

    __slots__ = ("starts", "ends", "before")

    def __init__(self, intervals: list[tuple[int, int]]) -> None:
        self.starts = [a for a, _ in intervals]
        self.ends = [b for _, b in intervals]
        self.before: list[int] = []
        total = 0
        for a, b in intervals:
            self.before.append(total)
            total += b - a + 1

    def upto(self, x: int) -> int:
        i = bisect_right(self.starts, x) - 1
        if i < 0:
            return 0
        end = self.ends[i]
        return self.before[i] + (x if x < end else end) - self.starts[i] + 1

    def count(self, lo: int, hi: int) -> int:
        return self.upto(hi) - self.upto(lo - 1) if hi >= lo else 0


def _counted_days(spans: Sequence[_Span], cover: list[tuple[int, int]]) -> _Days:
    presence = _merge((s.start, s.end) for s in spans)
    if cover:
        presence = [part for a, b in presence for part in _subtract(a, b, cover)]
    return _Days(presence)


def _violations(
    spans: Sequence[_Span], cover: list[tuple[int, int]], days: _Days
) -> list[tuple[ViolationKind, int, int, _Span]]:
    """Runs of unlawful days (kind, first, last, span) in each span."""
    out: list[tuple[ViolationKind, int, int, _Span]] = []
    kind: ViolationKind | None
    for span in spans:
        rule = span.rule
        pieces = _subtract(span.start, span.end, cover) if cover else [(span.start, span.end)]
        if rule.basis == "visa_required":
            for a, b in pieces:
                expired = bool(cover) and _overlaps(span.stay_start, a - 1, cover)
                out.append(("permit_expired" if expired else "no_basis", a, b, span))
            continue
        limit = rule.entry_limit_days
        windowed = rule.window_limited
        if limit is None and not windowed:
            continue
        if limit is not None:
            by_permit = rule.permit_required_after_days == limit and (
                rule.per_entry_days is None or rule.per_entry_days > limit)
            limit_kind: ViolationKind = "permit_required" if by_permit else "per_entry"
        for a, b in pieces:
            first, kind = b + 1, None
            if limit is not None and span.entry is not None and span.entry + limit <= b:
                first, kind = max(a, span.entry + limit), limit_kind
            if windowed:
                w, m = rule.window_days, rule.window_max_days
                assert w is not None and m is not None
                hi = first - 1
                # Inside a piece every day is counted, so the window count never decreases.
                if hi >= a and days.count(hi - w + 1, hi) > m:
                    lo = a
                    while lo < hi:
                        mid = (lo + hi) // 2
                        if days.count(mid - w + 1, mid) > m:
                            hi = mid
                        else:
                            lo = mid + 1
                    first, kind = lo, "window"
            if first <= b:
                assert kind is not None  # `first` moves only together with a kind
                out.append((kind, first, b, span))
    return out


def _reach(rule: StayRule) -> int:
    """Days of continuous presence (past any permit) within which this version's limits bite."""
    if rule.basis == "visa_required":
        return 0
    return (rule.entry_limit_days or 0) + ((rule.window_max_days or 0) + 1 if rule.window_limited else 0)


def _joined(runs: list[tuple[ViolationKind, int, int, _Span]]) -> list[tuple[ViolationKind, int, int, _Span]]:
    """Runs of one stay that meet end to end (its parts under successive rule versions) as one
    run, of the kind of its first day, in order."""
    out: list[tuple[ViolationKind, int, int, _Span]] = []
    for kind, a, b, span in sorted(runs, key=lambda r: (r[1], r[2])):
        if out and out[-1][3].stay_start == span.stay_start and out[-1][2] + 1 == a:
            first_kind, first, _, first_span = out[-1]
            out[-1] = (first_kind, first, b, first_span)
        else:
            out.append((kind, a, b, span))
    return out


def _check_citizenship(citizenship: str, rules: StayRules) -> str:
    code = citizenship.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValueError(Msg(N_("%(value)s is not a known country code"), value=citizenship))
    if rules.own_citizenship is not None and code == rules.own_citizenship:
        raise NotAForeigner(Msg(N_("Citizens of this country are not foreigners here: stay limits do not apply.")))
    return code


def _d(ordinal: int) -> dt.date:
    return dt.date.fromordinal(ordinal)


# --- assessment --------------------------------------------------------------------------------


def assess(
    citizenship: str,
    crossings: Iterable[Crossing],
    permits: Iterable[PermitPeriod],
    notifications: Iterable[NotificationRecord],
    on: dt.date,
    rules: StayRules,
    *,
    explain: bool = True,
    whole_history: bool = False,
) -> StayAssessment:
    """A person's stay status on `on` from their recorded crossings, permits and notifications.

    Crossings after `on` are ignored (the assessment is as of `on`). Raises NotAForeigner for
    the jurisdiction's own citizens. `explain=False` leaves `reasons` empty (the stored status
    needs no sentences, and writing them is a third of the engine's time). `whole_history=True`
    lists the violations of every stay, not only those reaching into the look-back (the registry
    records them all; retention removes the records they come from).
    """
    code = _check_citizenship(citizenship, rules)
    if on > CALCULATOR_LATEST:
        raise ValueError(outside_accepted(on))
    on_ord = on.toordinal()
    stays, findings = stays_from_crossings(c for c in crossings if c.on <= on)
    spans: list[_Span] = []
    last = len(stays) - 1
    for i, stay in enumerate(stays):
        if stay.entry is None:
            continue  # an undatable stay adds no days
        e = stay.entry.toordinal()
        if stay.exit is not None:
            end, open_ = stay.exit.toordinal(), False
        elif i == last:
            end, open_ = on_ord, True
        else:
            # Exit never recorded: the next stay always starts with the entry that revealed it.
            following = stays[i + 1].entry
            assert following is not None
            end, open_ = max(e, following.toordinal() - 1), False
        spans.extend(_segments(code, e, end, open_, rules))
    return _evaluate(code, spans, list(permits), list(notifications), on, rules,
                     stays=stays, findings=findings, track_notifications=True, explain=explain,
                     whole_history=whole_history)


def calculate_trips(
    citizenship: str,
    trips: Sequence[tuple[dt.date, dt.date | None]],
    on: dt.date,
    rules: StayRules,
    permits: Iterable[PermitPeriod] = (),
) -> StayAssessment:
    """The public short-stay calculator.

    `trips` are (entry, exit) pairs, past or planned. An open-ended trip (exit None) means
    "in the country since entry and still here on `on`"; it must start on or before `on`.
    Trips after `on` are planned presence. The answer means:
    - days_used / days_left: presence in the window ending on `on` (planned trips excluded);
    - status / overstay_days / violations: past days in the lookback window ending on `on`
      AND every planned day — "overstay" can mean a planned trip would break a limit
      (its reasons say "planned");
    - last_lawful_day: if present on `on`, the last lawful day of staying on continuously
      (ignoring the planned exit); if outside, of a continuous stay entered on `on`+1;
    - deadlines: when the host must notify for each entry (met is None: not tracked here).
    Overlapping trips are merged, with an 'overlapping_stays' finding.
    """
    code = _check_citizenship(citizenship, rules)
    if on > CALCULATOR_LATEST:
        raise ValueError(outside_accepted(on))
    on_ord = on.toordinal()
    items: list[tuple[int, int, bool]] = []
    for number, (entry, exit_) in enumerate(trips, start=1):
        if max(entry, exit_ or entry) > CALCULATOR_LATEST:
            raise ValueError(Msg(N_("Trip %(n)s: %(reason)s"), n=number,
                                 reason=outside_accepted(max(entry, exit_ or entry))))
        if exit_ is None:
            if entry > on:
                raise ValueError(Msg(N_("Trip %(n)s: a trip without an exit date must start on or before %(day)s."),
                                     n=number, day=on))
            items.append((entry.toordinal(), on_ord, True))
        else:
            if exit_ < entry:
                raise ValueError(Msg(N_("Trip %(n)s: %(reason)s"), n=number, reason=Msg(
                    N_("The trip ends (%(end)s) before it starts (%(start)s)."), end=exit_, start=entry)))
            items.append((entry.toordinal(), exit_.toordinal(), False))
    if sum(1 for item in items if item[2]) > 1:
        raise ValueError(Msg(N_("Only one trip (the current one) may be without an exit date.")))
    items.sort()
    merged: list[list[int | bool]] = []
    findings: list[Finding] = []
    for start, end, open_ in items:
        if merged and start < merged[-1][1]:  # sharing more than a same-day exit/re-entry
            findings.append(Finding(
                "overlapping_stays", _d(start),
                Reason(N_("the trip entering %(entry)s overlaps the trip entering %(other)s; counted as one stay"),
                       entry=_d(start), other=_d(int(merged[-1][0])))))
            # The later end wins; on the same day, "still here" wins over a trip leaving that day.
            if end > merged[-1][1] or (end == merged[-1][1] and open_):
                merged[-1][1], merged[-1][2] = end, open_
            continue
        merged.append([start, end, open_])
    spans = [seg for s, e, o in merged for seg in _segments(code, int(s), int(e), bool(o), rules)]
    stays = [Stay(_d(int(s)), None if o else _d(int(e))) for s, e, o in merged]
    return _evaluate(code, spans, list(permits), [], on, rules,
                     stays=stays, findings=findings, track_notifications=False)


def _evaluate(
    citizenship: str,
    spans: list[_Span],
    permits: list[PermitPeriod],
    notifications: list[NotificationRecord],
    on: dt.date,
    rules: StayRules,
    *,
    stays: list[Stay],
    findings: list[Finding],
    track_notifications: bool,
    explain: bool = True,
    whole_history: bool = False,
) -> StayAssessment:
    on_ord = on.toordinal()
    cover = _merge((p.start.toordinal(), p.end.toordinal()) for p in permits)

    # A stay continues past `on` if any of its parts (rule versions) does.
    continues = {span.stay_start for span in spans if span.open or span.end > on_ord}
    current: _Span | None = None
    for span in spans:
        if span.start <= on_ord <= span.end and span.stay_start in continues:
            current = span
    in_country = current is not None
    planned = any(span.end > on_ord for span in spans)

    # The stay whose continuation decides last_lawful_day: the current one, or one entered on+1.
    if current is not None:
        start, rule, entry, stay_start = current.start, current.rule, current.entry, current.stay_start
    else:
        start = on_ord + 1
        rule = rules.rule_for_ordinal(citizenship, start)
        entry = stay_start = start
    limit = rule.entry_limit_days
    horizon_base = max(on_ord, start, cover[-1][1] if cover else on_ord)
    # Continuous presence past the last permit breaks a limit within a version's reach; versions
    # that take effect later (within ten years) may set one where today's sets none.
    changes = rules.changes(citizenship, start, horizon_base + 3660)
    ahead = [rule, *(rules.rule_for_ordinal(citizenship, d) for d in changes)]
    reach = max(_reach(r) for r in ahead)
    horizon: int | None = None
    if reach or any(r.basis == "visa_required" for r in ahead):
        horizon = max([horizon_base, *changes]) + reach + 1

    base = [s for s in spans if s is not current and s.start <= on_ord]
    if horizon is not None:
        # The current part goes on counting from where it counts.
        grown = _segments(citizenship, start, horizon, True, rules, entry=entry, stay_start=stay_start)
        sim_spans = [*base, *grown]
    else:
        clipped = ([_Span(current.start, on_ord, current.entry, current.rule, True, current.stay_start)]
                   if current else [])
        sim_spans = [*base, *clipped]
    sim_days = _counted_days(sim_spans, cover)
    sim_runs = _violations(sim_spans, cover, sim_days)

    last_lawful: int | None = None
    next_violation: Violation | None = None
    if horizon is not None:
        first_run = min(((a, k) for k, a, _, s in sim_runs if s.stay_start == stay_start), default=None)
        first_bad = first_run[0] if first_run is not None else None
        if first_bad is not None and first_bad > stay_start:
            last_lawful = first_bad - 1
        if first_run is not None and current is not None and first_run[0] > on_ord:
            next_violation = Violation(first_run[1], _d(first_run[0]), _d(first_run[0]), _d(stay_start))

    if planned:
        runs = _violations(spans, cover, _counted_days(spans, cover))
    else:
        # Nothing after `on` is real: the simulation's runs up to `on` are the real ones.
        runs = [(k, a, min(b, on_ord), s) for k, a, b, s in sim_runs if a <= on_ord]

    lookback_start = on_ord - rules.lookback_days + 1
    # One run per stay and kind of unlawfulness, whole: the parts of a stay under successive
    # rule versions meet end to end, and a run's length is never cut by the look-back (which only
    # bounds how far back past violations are listed).
    # What makes the asked day itself unlawful, before runs are joined: the day's own kind.
    day_kinds = [(k, sp) for k, a, b, sp in runs if a <= on_ord <= b]
    runs = _joined(runs)
    listed_from = 0 if whole_history else lookback_start  # the first day a listed violation may reach
    in_scope = [r for r in runs if r[2] >= listed_from]
    # Present on `on` includes the day of an exit: that day counts, and may be unlawful. With a
    # same-day exit and re-entry, the day belongs to the stay entered on it.
    here = max((sp for sp in spans if sp.start <= on_ord <= sp.end), key=lambda sp: sp.stay_start, default=None)
    kinds_here = {k for k, sp in day_kinds if here is not None and sp.stay_start == here.stay_start}
    # Unlawful presence today counts from the first day of the earliest run reaching `on`, of
    # whatever kind it began (a same-day exit and re-entry does not end it either).
    unlawful_for = max((on_ord - a + 1 for _, a, b, _ in runs if a <= on_ord <= b), default=0)
    overstay_days = unlawful_for if kinds_here & _OVERSTAY_KINDS else 0
    no_basis_days = unlawful_for if not overstay_days and "no_basis" in kinds_here else 0
    window_days = rule.window_days or rules.lookback_days
    days_used = sim_days.count(on_ord - window_days + 1, on_ord)
    days_left: int | None = None
    if rule.basis != "visa_required" and (limit is not None or rule.window_max_days is not None):
        remaining = []
        if rule.window_max_days is not None:
            remaining.append(rule.window_max_days - days_used)
        if limit is not None:
            used_in_entry = on_ord - entry + 1 if current is not None and entry is not None else 0
            remaining.append(limit - used_in_entry)
        days_left = max(0, min(remaining))

    deadlines, notes = _deadlines(spans, notifications, on_ord, lookback_start, here, rules,
                                  track_notifications, listed_from)

    # The status says where the person stands on the asked day; past violations are listed, not judged.
    status: Status
    if here is None:
        status = "not_in_country"
    elif overstay_days:
        status = "overstay"
    elif no_basis_days:
        status = "no_lawful_basis"
    elif any(d.overdue and d.entry.toordinal() == here.stay_start for d in deadlines):
        status = "notification_overdue"
    else:
        status = "lawful"

    violations = tuple(sorted(
        [*(Violation(k, _d(a), _d(b), _d(s.stay_start)) for k, a, b, s in in_scope),
         *(Violation(k, _d(a), _d(b), _d(e), _d(due), None if f is None else _d(f)) for k, a, b, e, due, f in notes)],
        key=lambda v: (v.start, v.end)))
    reasons = _reasons(in_scope, notes, deadlines, rule, on, on_ord, current is not None,
                       current.stay_start if current is not None else entry, days_used,
                       days_left, window_days, last_lawful, cover, status) if explain else []
    return StayAssessment(
        citizenship=citizenship,
        on=on,
        status=status,
        in_country=in_country,
        current_entry=_d(current.stay_start) if current is not None else None,
        days_used=days_used,
        days_left=days_left,
        window_days=window_days,
        window_max_days=rule.window_max_days,
        last_lawful_day=_d(last_lawful) if last_lawful is not None else None,
        overstay_days=overstay_days,
        no_basis_days=no_basis_days,
        rule=rule,
        reasons=tuple(reasons),
        deadlines=tuple(deadlines),
        findings=tuple(findings),
        violations=violations,
        stays=tuple(stays),
        next_violation=next_violation,
    )


# (kind, first day, last day, stay entry, due day, day submitted) as ordinals
_NotificationRun = tuple[ViolationKind, int, int, int, int, int | None]


def _deadlines(
    spans: list[_Span],
    notifications: list[NotificationRecord],
    on_ord: int,
    lookback_start: int,
    here: _Span | None,
    rules: StayRules,
    track: bool,
    listed_from: int,
) -> tuple[list[Deadline], list[_NotificationRun]]:
    """The host-notification deadline of each stay entered within the look-back (and of the stay
    the asked day belongs to); when tracked, also each stay's notification missed or late, as a run
    (the model in the module docstring), for the runs reaching `listed_from`."""
    rule_n = rules.host_notification
    out: list[Deadline] = []
    runs: list[_NotificationRun] = []
    stay_ends: dict[int, int] = {}
    for span in spans:
        stay_ends[span.stay_start] = max(span.end, stay_ends.get(span.stay_start, span.end))
    current_stay = here.stay_start if here is not None else None  # the stay the asked day belongs to
    notes: list[tuple[int, int]] | None = None
    run_done: set[int] = set()  # two entries on one day are one arrival: one run
    for span in spans:
        if span.start != span.stay_start:
            continue  # one deadline per stay: its entry, not a rule version taking effect
        if span.rule.basis not in rule_n.applies_to:
            continue
        stay_start = span.stay_start
        stay_end = stay_ends[stay_start]
        if stay_start == current_stay:
            stay_end = max(stay_end, on_ord)
        listed = stay_start >= lookback_start or stay_start == current_stay
        run_wanted = track and stay_end >= listed_from and stay_start not in run_done
        if not listed and not run_wanted:
            continue
        entry = _d(stay_start)
        due_day = rules.calendar.add_working_days(entry, rule_n.working_days)
        if not track:
            out.append(Deadline("host_notification", due_day, None, entry))
            continue
        if notes is None:
            notes = [(n.arrival.toordinal(), n.submitted.toordinal()) for n in notifications]
        filed = min((sub for arrival, sub in notes if stay_start <= arrival <= stay_end and sub <= on_ord),
                    default=None)
        due = due_day.toordinal()
        if listed:
            if filed is not None:
                out.append(Deadline("host_notification", due_day, filed <= due, entry, _d(filed)))
            elif on_ord > due:
                out.append(Deadline("host_notification", due_day, False, entry, None, overdue=True))
            else:
                out.append(Deadline("host_notification", due_day, None, entry))
        if run_wanted:
            run_done.add(stay_start)
            if stay_end <= due:
                continue  # left by the due day: nothing owed
            if filed is None:
                runs.append(("notification_missed", due + 1, stay_end, stay_start, due, None))
            elif filed > due and min(filed, stay_end) >= listed_from:
                runs.append(("notification_late", due + 1, min(filed, stay_end), stay_start, due, filed))
    return out, runs


class Reason(Msg):
    """One line of why a status is what it is (a `Msg`: English text, msgid and parameters)."""


PER_ENTRY = N_("stay entered %(entry)s: %(limit)s days per entry ended on %(ended)s; "
               "%(n)s day(s) (%(first)s – %(last)s) past the limit")
PERMIT_REQUIRED = N_("stay entered %(entry)s: a TRP was needed after %(limit)s days from the crossing; "
                     "%(n)s day(s) (%(first)s – %(last)s) without one")
WINDOW = N_("stay entered %(entry)s: %(max)s days in any %(window)s reached on %(ended)s; "
            "%(n)s day(s) (%(first)s – %(last)s) in excess")
PERMIT_EXPIRED = N_("stay entered %(entry)s: visa or TRP ended on %(ended)s; "
                    "%(n)s day(s) (%(first)s – %(last)s) without one")
NO_BASIS = N_("stay entered %(entry)s: no visa or TRP for %(n)s day(s) (%(first)s – %(last)s), "
              "and %(group)s rules give no visa-free stay")
PLANNED = N_("planned: %(reason)s")
NOTIFICATION_OVERDUE = N_("host notification for the entry on %(entry)s was due on %(due)s; "
                          "none submitted by %(on)s")
NOTIFICATION_MISSED = N_("stay entered %(entry)s: the host notification was due on %(due)s and none was "
                         "submitted; %(n)s day(s) (%(first)s – %(last)s) without it")
NOTIFICATION_LATE = N_("stay entered %(entry)s: the host notification was due on %(due)s and submitted on "
                       "%(filed)s; %(n)s day(s) (%(first)s – %(last)s) late")
PERMIT_COVERS = N_("a visa or TRP covers %(on)s: its days do not count against visa-free limits")
IN_COUNTRY_SINCE = N_("in the country since %(entry)s (day %(day)s)")
DAYS_USED_OF = N_("%(used)s of %(max)s days used in the %(window)s days ending %(on)s; %(left)s left")
DAYS_USED = N_("%(used)s days used in the %(window)s days ending %(on)s; %(left)s left")
DAYS_PRESENT_OVER_LIMIT = N_("%(used)s days present in the %(window)s days ending %(on)s; the limit is %(max)s")
COVERED_UNTIL = N_("a visa or TRP covers the stay until %(until)s")
LAWFUL_UNTIL = N_("continuous presence lawful until %(until)s")
LAWFUL_UNTIL_IF_ENTERING = N_("continuous presence lawful until %(until)s if entering on %(entering)s")
_RUN_MESSAGES = {"per_entry": PER_ENTRY, "permit_required": PERMIT_REQUIRED, "window": WINDOW,
                 "permit_expired": PERMIT_EXPIRED}


def notification_reason(v: Violation) -> Reason | None:
    """The sentence for a host notification missed or late (None for the other kinds)."""
    if v.kind not in ("notification_missed", "notification_late") or v.due is None:
        return None
    common = {"entry": v.stay_entry, "due": v.due, "n": v.days, "first": v.start, "last": v.end}
    if v.kind == "notification_late":
        return Reason(NOTIFICATION_LATE, **common, filed=v.filed)
    return Reason(NOTIFICATION_MISSED, **common)


def _reasons(
    runs: list[tuple[ViolationKind, int, int, _Span]],
    notes: list[_NotificationRun],
    deadlines: list[Deadline],
    rule: StayRule,
    on: dt.date,
    on_ord: int,
    in_country: bool,
    entry: int | None,
    days_used: int,
    days_left: int | None,
    window_days: int,
    last_lawful: int | None,
    cover: list[tuple[int, int]],
    status: Status,
) -> list[Reason]:
    reasons: list[Reason] = []
    for kind, first, last, span in sorted(runs, key=lambda r: (r[1], r[2])):
        r = span.rule
        common = {"entry": _d(span.stay_start), "n": last - first + 1,
                  "first": _d(first), "last": _d(last)}
        if kind in _RUN_MESSAGES:
            reason = Reason(_RUN_MESSAGES[kind], **common, ended=_d(first - 1), limit=r.entry_limit_days,
                            max=r.window_max_days, window=r.window_days)
        else:
            reason = Reason(NO_BASIS, **common, group=r.group_name)
        reasons.append(Reason(PLANNED, reason=reason) if first > on_ord else reason)
    for kind, first, last, entry_, due, filed in sorted(notes, key=lambda r: (r[1], r[2])):
        said = notification_reason(Violation(kind, _d(first), _d(last), _d(entry_), _d(due),
                                             None if filed is None else _d(filed)))
        assert said is not None
        reasons.append(said)
    missed = {entry_ for kind, _, _, entry_, _, _ in notes if kind == "notification_missed"}
    for d in deadlines:
        if d.overdue and d.entry.toordinal() not in missed:  # else said with its violation above
            reasons.append(Reason(NOTIFICATION_OVERDUE, entry=d.entry, due=d.due, on=on))
    if any(c <= on_ord <= d for c, d in cover):
        reasons.append(Reason(PERMIT_COVERS, on=on))
    if in_country and entry is not None:
        reasons.append(Reason(IN_COUNTRY_SINCE, entry=_d(entry), day=on_ord - entry + 1))
    covering = [d for c, d in cover if c <= on_ord <= d]
    if days_left is None and covering:
        reasons.append(Reason(COVERED_UNTIL, until=_d(covering[0])))
    if days_left is not None:
        if rule.window_max_days is not None and days_used > rule.window_max_days:
            reasons.append(Reason(DAYS_PRESENT_OVER_LIMIT, used=days_used, window=window_days, on=on,
                                  max=rule.window_max_days))
        elif rule.window_max_days is not None:
            reasons.append(Reason(DAYS_USED_OF, used=days_used, max=rule.window_max_days, window=window_days,
                                  on=on, left=days_left))
        else:
            reasons.append(Reason(DAYS_USED, used=days_used, window=window_days, on=on, left=days_left))
    if status == "lawful" and last_lawful is not None:
        if in_country:
            reasons.append(Reason(LAWFUL_UNTIL, until=_d(last_lawful)))
        else:
            reasons.append(Reason(LAWFUL_UNTIL_IF_ENTERING, until=_d(last_lawful), entering=_d(on_ord + 1)))
    return reasons
