"""The calculator's input shape guards its engine: whatever `CalculatorIn` accepts, the engine
answers (no date overflow, no second open trip, no open trip after the day assessed), and what it
refuses is named by field."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from kosh.jurisdictions import load_pack
from kosh.stay import rules
from kosh.stay.schemas import CalculatorIn

PACK = load_pack("kz")
NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
CONTEXT = {"pack": PACK, "now": NOW, "today": NOW.date(), "zone": PACK.zone}
# Dates across the whole calendar, with weight near its ends and near today.
DAYS = st.one_of(st.dates(), st.dates(dt.date(9999, 1, 1)), st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)),
                 st.dates(dt.date(2099, 1, 1), dt.date(2100, 12, 31)))
TRIPS = st.lists(st.tuples(DAYS, st.one_of(st.none(), DAYS)), min_size=1, max_size=6)
PERMITS = st.lists(st.tuples(st.sampled_from(["visa", "trp", "work_permit"]), DAYS, DAYS), max_size=6)


@settings(max_examples=300, deadline=None)
@given(TRIPS, st.one_of(st.none(), DAYS), st.sampled_from(["UZB", "RUS", "USA", "CHN", "KAZ"]), PERMITS)
def test_whatever_the_shape_accepts_the_engine_answers(trips, on, citizenship, permits):
    data = {"citizenship": citizenship, "trips": [{"start": s.isoformat(), **({"end": e.isoformat()} if e else {})}
                                                  for s, e in trips], **({"on": on.isoformat()} if on else {}),
            "permits": [{"kind": k, "start": s.isoformat(), "end": e.isoformat()} for k, s, e in permits]}
    try:
        body = CalculatorIn.model_validate(data, context=CONTEXT)
    except ValidationError as exc:
        for error in exc.errors():
            assert error["loc"] and error["loc"][0] in ("citizenship", "trips", "on", "permits"), error
        return
    day = body.on or NOW.date()
    result = rules.calculate_trips(body.citizenship, [(t.start, t.end) for t in body.trips], day, PACK.stay_rules,
                                   body.periods())
    assert result.status in ("lawful", "notification_overdue", "overstay", "no_lawful_basis", "not_in_country")


def test_the_engine_itself_refuses_days_past_its_last_with_the_trip_named():
    late = rules.CALCULATOR_LATEST + dt.timedelta(days=1)
    outside = r"is outside the dates Kosh accepts \(2000-01-01 to 2099-12-31\)$"
    with pytest.raises(ValueError, match=r"^Trip 2: 2100-01-01 " + outside):
        rules.calculate_trips("UZB", [(dt.date(2026, 1, 1), dt.date(2026, 1, 5)), (dt.date(2099, 1, 1), late)],
                              dt.date(2026, 3, 1), PACK.stay_rules)
    with pytest.raises(ValueError, match=r"^9999-12-31 " + outside):
        rules.calculate_trips("UZB", [(dt.date(2026, 1, 1), None)], dt.date.max, PACK.stay_rules)
