"""The permit reminders are pure: properties over any day and permit, with the kz pack's rules
(extension window 60 to 30 days before expiry, category 4 replaced within 6–12 months)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kosh.jurisdictions import load_pack
from kosh.permits.reminders import EXTENSION_NOTICE_DAYS, KINDS, reminders
from kosh.platform.i18n import say


@dataclass(frozen=True)
class Facts:
    reference: str = "WP-TEST-0001"
    channel: str = "employer_quota"
    category: str = "3"
    state: str = "issued"
    applied_on: dt.date | None = dt.date(2026, 1, 10)
    decide_by: dt.date | None = None
    fee_due_on: dt.date | None = None
    valid_from: dt.date | None = dt.date(2026, 2, 1)
    valid_to: dt.date | None = dt.date(2027, 1, 31)
    extensions: int = 0


RULES = load_pack("kz").permits
days = st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2029, 12, 31))
offsets = st.integers(min_value=-120, max_value=120)


@given(valid_to=days, offset=offsets, state=st.sampled_from(["issued", "extended"]))
def test_the_extension_reminder_appears_exactly_within_the_window(valid_to, offset, state):
    today = valid_to + dt.timedelta(days=offset)
    permit = Facts(state=state, valid_from=valid_to - dt.timedelta(days=364), valid_to=valid_to)
    found = [r for r in reminders([permit], RULES, today) if r.kind == "extension_window"]
    first, last = valid_to - dt.timedelta(days=60), valid_to - dt.timedelta(days=30)
    assert bool(found) == (first <= today <= last)
    if found:
        assert found[0].due == last and not found[0].late
        assert found[0].message.params["last"] == last
    opens = [r for r in reminders([permit], RULES, today) if r.kind == "extension_opens"]
    assert bool(opens) == (first - dt.timedelta(days=EXTENSION_NOTICE_DAYS) <= today < first)
    assert not (found and opens)


@given(valid_to=days, offset=st.integers(min_value=-60, max_value=-30))
def test_no_extension_reminder_once_asked_or_when_no_extension_is_left(valid_to, offset):
    today = valid_to + dt.timedelta(days=offset)
    permit = Facts(valid_to=valid_to, valid_from=valid_to - dt.timedelta(days=364))
    assert [r.kind for r in reminders([permit], RULES, today)] == ["extension_window"]
    assert reminders([permit], RULES, today, extension_requested={permit.reference}) == []
    assert reminders([replace(permit, extensions=3)], RULES, today) == []  # category 3: at most 3 extensions
    assert [r.kind for r in reminders([replace(permit, category="1", extensions=9)], RULES, today)] == [
        "extension_window"]  # category 1: without limit
    assert reminders([replace(permit, channel="eaeu_contract", category="")], RULES, today) == []


@given(today=days, state=st.sampled_from(["draft", "returned", "refused", "revoked", "expired", "fee_paid"]))
def test_a_permit_with_nothing_due_has_no_reminder(today, state):
    permit = Facts(state=state, decide_by=dt.date(2026, 3, 16), fee_due_on=dt.date(2026, 3, 30),
                   valid_to=today + dt.timedelta(days=45))
    assert reminders([permit], RULES, today) == []


@given(today=days, due=days)
def test_decision_and_fee_are_late_exactly_after_their_day(today, due):
    checked = Facts(reference="WP-A", state="checked", decide_by=due, valid_from=None, valid_to=None)
    approved = Facts(reference="WP-B", state="approved", fee_due_on=due, valid_from=None, valid_to=None)
    found = reminders([checked, approved], RULES, today)
    assert [(r.kind, r.reference, r.due) for r in found] == [("decision_due", "WP-A", due), ("fee_due", "WP-B", due)]
    assert all(r.late == (today > due) for r in found)


@given(valid_from=days, today=days)
def test_category_4_is_replaced_within_the_packs_months(valid_from, today):
    from dateutil.relativedelta import relativedelta

    permit = Facts(category="4", valid_from=valid_from, valid_to=valid_from + dt.timedelta(days=180),
                   applied_on=valid_from)
    duty = [r for r in reminders([permit], RULES, today) if r.kind == "replacement_duty"]
    assert [r.due for r in duty] == [valid_from + relativedelta(months=12)]
    assert duty[0].message.params["earliest"] == valid_from + relativedelta(months=6)
    assert duty[0].late == (today > duty[0].due)
    assert all(r.kind != "replacement_duty" for r in reminders([replace(permit, category="3")], RULES, today))


@given(valid_from=st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2027, 12, 31)),
       months_paid=st.integers(min_value=0, max_value=11), offset=offsets)
def test_the_household_prepayment_is_due_the_day_before_its_month(valid_from, months_paid, offset):
    from dateutil.relativedelta import relativedelta

    from kosh.permits.rules import household_months

    valid_to = valid_from + relativedelta(months=12) - dt.timedelta(days=1)
    month = household_months(valid_from, valid_to)[months_paid]
    today = month.start + dt.timedelta(days=offset)
    permit = Facts(channel="household_worker", category="household", valid_from=valid_from, valid_to=valid_to,
                   state="suspended" if today >= month.start else "issued")
    found = [r for r in reminders([permit], RULES, today, next_payments={permit.reference: (month.key, 15_728)})
             if r.kind == "household_payment"]
    assert len(found) == 1 and found[0].due == month.start - dt.timedelta(days=1)
    assert found[0].late == (today >= month.start)
    assert "15728" in found[0].message


def test_reminders_are_soonest_first_and_said_in_the_readers_language():
    today = dt.date(2026, 3, 2)
    permits = [Facts(reference="WP-LATE", state="submitted", decide_by=dt.date(2026, 2, 27), valid_to=None),
               Facts(reference="WP-FEE", state="approved", fee_due_on=dt.date(2026, 3, 12), valid_to=None),
               Facts(reference="WP-EXT", valid_to=today + dt.timedelta(days=45))]
    found = reminders(permits, RULES, today)
    assert [(r.reference, r.kind, r.late) for r in found] == [
        ("WP-LATE", "decision_due", True), ("WP-FEE", "fee_due", False), ("WP-EXT", "extension_window", False)]
    assert {r.kind for r in found} <= set(KINDS)
    russian = say(found[1].message, "ru")
    assert "WP-FEE" in russian and russian != str(found[1].message)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_heading(kind):
    from kosh.permits.reminders import KIND_WORDS

    assert KIND_WORDS[kind]
