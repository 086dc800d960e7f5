"""Behaviour of the synthetic demo country: determinism, realism targets, defects, feeds."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from kosh.platform.identifiers import bin as bin_rules
from kosh.platform.identifiers import iin
from kosh_demo import generate, summary, write_feeds
from kosh_demo import names as nm
from kosh_demo.generator import (
    CHECKPOINTS,
    CITIZENSHIP_MIX,
    COLUMNS,
    DEFECT_RATES,
    REGIONS,
    STAY_RULES,
    WINDOW_DAYS,
    DemoCountry,
)

TODAY = date(2026, 11, 20)
CYRILLIC = re.compile(r"[\u0400-\u04FF]")


@pytest.fixture(scope="module")
def country() -> DemoCountry:
    return generate(seed=7, size="small", today=TODAY)


@pytest.fixture(scope="module")
def truth(country: DemoCountry) -> dict[str, dict]:
    return {t["source_event_id"]: t for t in country.truth}


def _valid(rows: list[dict], truth: dict[str, dict]) -> list[dict]:
    return [r for r in rows if not truth[r["source_event_id"]]["expected_reject"]]


def _defects(t: dict) -> set[str]:
    return set(filter(None, str(t["defects"]).split(";")))


# ---- determinism ---------------------------------------------------------------------------


def test_same_seed_gives_identical_output(country: DemoCountry) -> None:
    again = generate(seed=7, size="small", today=TODAY)
    assert again == country


def test_different_seed_gives_different_output(country: DemoCountry) -> None:
    other = generate(seed=8, size="small", today=TODAY)
    assert other.border_events != country.border_events
    assert other.persons != country.persons


def test_default_today_puts_nothing_in_the_future() -> None:
    c = generate(seed=3)
    today = date.today().isoformat()
    assert all(r["occurred_at"][:10] < today for r in c.border_events)
    assert all(r["submitted_at"][:10] < today for r in c.notifications)


def test_unknown_size_is_refused() -> None:
    with pytest.raises(ValueError):
        generate(size="huge")


# ---- identifiers and reference data --------------------------------------------------------


def test_every_non_reject_host_id_is_a_valid_iin_or_bin(country: DemoCountry, truth: dict) -> None:
    for row in _valid(country.notifications, truth):
        if row["host_kind"] == "individual":
            iin.validate(row["host_id"])
        else:
            bin_rules.validate(row["host_id"])
    for host in country.hosts:
        (iin if host["host_kind"] == "individual" else bin_rules).validate(host["host_id"])


def test_host_ids_are_unique_and_cover_the_notifications(country: DemoCountry, truth: dict) -> None:
    ids = [h["host_id"] for h in country.hosts]
    assert len(ids) == len(set(ids))
    assert {r["host_id"] for r in _valid(country.notifications, truth)} <= set(ids)


def test_every_kato_region_exists(country: DemoCountry) -> None:
    for row in country.notifications + country.residence_permits:
        assert re.fullmatch(r"\d{9}", row["kato"])
        assert row["kato"][:2] in REGIONS


def test_every_checkpoint_exists_and_fits_the_nationality(country: DemoCountry) -> None:
    # Land crossings only towards the neighbour a traveller of that citizenship comes through.
    routes = {"UZB": {"UZB"}, "TJK": {"UZB"}, "KGZ": {"KGZ"}, "CHN": {"CHN"}, "RUS": {"RUS"}, "TKM": {"TKM"}}
    citizenship = {p["person_key"]: p["citizenship"] for p in country.persons}
    person_of = {t["source_event_id"]: t["person_key"] for t in country.truth}
    for row in country.border_events:
        cp = CHECKPOINTS[row["checkpoint"]]
        if cp["kind"] != "air":
            assert cp["neighbour"] in routes.get(citizenship[person_of[row["source_event_id"]]], set())


def test_document_numbers_have_national_shapes_and_one_holder(country: DemoCountry, truth: dict) -> None:
    shapes = {
        "UZB": r"(FA|FB|AA|AB|AC|AD)\d{7}", "KGZ": r"(AC|AN|ID)\d{7}", "RUS": r"7\d{8}",
        "TJK": r"4\d{8}", "CHN": r"E\d{8}|EA\d{7}", "AZE": r"C\d{8}", "TUR": r"U\d{8}",
    }
    holder: dict[str, str] = {}
    for row in _valid(country.border_events, truth):
        pattern = shapes.get(row["issuing_state"])
        if pattern:
            assert re.fullmatch(pattern, row["document_number"]), row
        key = truth[row["source_event_id"]]["person_key"]
        assert holder.setdefault(row["document_number"], key) == key


# ---- population mix ------------------------------------------------------------------------


def test_citizenship_shares_follow_the_target_mix() -> None:
    # Two independent seeds pooled; persons are drawn i.i.d., so a 5-sigma binomial bound holds.
    persons = [p for seed in (21, 22) for p in generate(seed=seed, size="small", today=TODAY).persons]
    n = len(persons)
    counts = Counter(p["citizenship"] for p in persons)
    for code, share in CITIZENSHIP_MIX.items():
        sigma = math.sqrt(share * (1 - share) / n)
        assert abs(counts[code] / n - share) <= 5 * sigma + 0.002, (code, counts[code] / n, share)
    assert counts.most_common(1)[0][0] == "UZB"


def test_most_persons_are_working_age_men(country: DemoCountry) -> None:
    persons = country.persons
    ages = [(TODAY - date.fromisoformat(p["birth_date"])).days / 365.25 for p in persons]
    assert sum(p["sex"] == "M" for p in persons) / len(persons) > 0.7
    assert sum(18 <= a < 56 for a in ages) / len(ages) > 0.85
    assert min(ages) >= 18
    labour = [a for a, p in zip(ages, persons, strict=True) if p["profile"] == "seasonal"]
    assert 0.3 < sum(25 <= a < 36 for a in labour) / len(labour)  # a peak at 25–35


def test_uzbek_entries_peak_from_spring_to_autumn(country: DemoCountry, truth: dict) -> None:
    days = Counter((TODAY - timedelta(days=d)).month for d in range(1, WINDOW_DAYS + 1))
    entries = Counter(int(r["occurred_at"][5:7]) for r in _valid(country.border_events, truth)
                      if r["direction"] == "entry" and r["nationality"] == "UZB")
    season = sum(entries[m] for m in range(3, 12)) / sum(days[m] for m in range(3, 12))
    winter = sum(entries[m] for m in (12, 1, 2)) / sum(days[m] for m in (12, 1, 2))
    assert season > 2 * winter


# ---- defects -------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "today"), [(7, TODAY), (3, date(2026, 1, 15)), (11, date(2025, 7, 1))])
def test_each_defect_kind_occurs_in_small(seed: int, today: date) -> None:
    c = generate(seed=seed, size="small", today=today)
    found = summary(c)["defects"]
    for kind in DEFECT_RATES:
        assert found.get(kind, 0) >= 1, kind


def test_current_statuses_are_meaningful(country: DemoCountry) -> None:
    s = summary(country)
    assert 0 < s["in_country_now"] < s["persons"]
    assert s["defects"]["overstay_now"] >= 1
    assert s["defects"]["notification_overdue_now"] >= 1


def test_rejected_rows_are_really_invalid(country: DemoCountry, truth: dict) -> None:
    seen = Counter()
    for row in country.border_events + country.notifications:
        t = truth[row["source_event_id"]]
        if not t["expected_reject"]:
            continue
        kinds = _defects(t)
        seen.update(kinds)
        if "reject_bad_iin" in kinds:
            assert not iin.is_valid(row["host_id"])
        if "reject_unknown_country" in kinds:
            assert row["nationality"] == "XYZ"
        if "reject_impossible_date" in kinds:
            with pytest.raises(ValueError):
                date.fromisoformat(row["arrival_date"])
        if "reject_future_birth_date" in kinds:
            assert date.fromisoformat(row["birth_date"]) > TODAY
    assert set(seen) == {"reject_bad_iin", "reject_unknown_country", "reject_impossible_date",
                         "reject_future_birth_date"}


def test_exits_never_precede_the_first_entry_except_the_feed_gap(country: DemoCountry, truth: dict) -> None:
    events = defaultdict(list)
    for row in _valid(country.border_events, truth):
        t = truth[row["source_event_id"]]
        events[t["person_key"]].append((row["occurred_at"], row["direction"], _defects(t)))
    gaps = 0
    for evs in events.values():
        evs.sort()
        for i, (_, direction, defects) in enumerate(evs):
            if "exit_without_entry" in defects:
                gaps += 1
                assert i == 0 and direction == "exit"
            elif i == 0:
                assert direction == "entry"
            else:
                assert direction != evs[i - 1][1]  # entries and exits alternate
    assert gaps >= 1


def test_stays_without_an_overstay_label_keep_the_per_entry_limit(country: DemoCountry, truth: dict) -> None:
    permitted = {r["document_number"] for r in country.residence_permits}
    open_entry: dict[str, tuple[date, set[str], int]] = {}
    checked = 0
    for row in _valid(country.border_events, truth):
        t = truth[row["source_event_id"]]
        visa_free, limit, _ = STAY_RULES[row["nationality"]]
        if not visa_free or row["document_number"] in permitted:
            continue
        day = date.fromisoformat(row["occurred_at"][:10])
        if row["direction"] == "entry":
            open_entry[t["person_key"]] = (day, _defects(t), limit)
        elif t["person_key"] in open_entry:
            entered, defects, _ = open_entry.pop(t["person_key"])
            if "overstay_per_entry" not in defects:
                assert (day - entered).days + 1 <= limit
                checked += 1
    for entered, defects, limit in open_entry.values():  # still in the country today
        if "overstay_now" not in defects:
            assert (TODAY - entered).days + 1 <= limit
    assert checked > 100


def test_late_and_on_time_notifications(country: DemoCountry, truth: dict) -> None:
    for row in _valid(country.notifications, truth):
        delay = (date.fromisoformat(row["submitted_at"][:10]) - date.fromisoformat(row["arrival_date"])).days
        if "late_notification" in _defects(truth[row["source_event_id"]]):
            assert delay >= 14  # past 3 working days whatever the holidays
        else:
            assert 0 <= delay <= 2


def test_duplicates_repeat_the_same_stay(country: DemoCountry, truth: dict) -> None:
    by_stay = defaultdict(list)
    for row in _valid(country.notifications, truth):
        by_stay[(row["document_number"], row["arrival_date"])].append(row)
    for rows in by_stay.values():
        for row in rows:
            kinds = _defects(truth[row["source_event_id"]])
            if "duplicate_other_host" in kinds:
                assert len({r["host_id"] for r in rows}) >= 2
            if "duplicate_notification" in kinds:
                assert len(rows) >= 2


def test_two_passport_persons_use_both(country: DemoCountry, truth: dict) -> None:
    docs = defaultdict(set)
    for row in _valid(country.border_events, truth):
        docs[truth[row["source_event_id"]]["person_key"]].add((row["document_number"], row["issuing_state"]))
    states = {frozenset(s for _, s in d) for d in docs.values() if len(d) == 2}
    assert frozenset({"KGZ", "RUS"}) in states
    assert any(len(s) == 1 for s in states)  # a renewal keeps the state


# ---- names ---------------------------------------------------------------------------------


def test_passport_names_are_mrz_latin_and_notifications_mostly_cyrillic(country: DemoCountry, truth: dict) -> None:
    for row in _valid(country.border_events, truth):
        assert re.fullmatch(r"[A-Z][A-Z '\-]*", row["surname"]), row["surname"]
    uzb = [r for r in _valid(country.notifications, truth) if r["citizenship"] == "UZB"]
    assert sum(bool(CYRILLIC.search(r["surname"])) for r in uzb) / len(uzb) > 0.6


@pytest.mark.parametrize(("native", "scheme", "passport"), [
    ("Абдуллаев Шуҳрат", "uz_kh", "ABDULLAYEV SHUKHRAT"),
    ("Холматов", "uz", "XOLMATOV"),
    ("Холматов", "uz_kh", "KHOLMATOV"),
    ("Тўхтаев", "uz", "TOXTAYEV"),
    ("Абдыкадыров", "kg", "ABDYKADYROV"),
    ("Кубанычбек уулу", "kg", "KUBANYCHBEK UULU"),
    ("Раҳимов Ҷамшед", "tj_ru", "RAKHIMOV DZHAMSHED"),
    ("Раҳимов Ҷамшед", "tj_new", "RAHIMOV JAMSHED"),
    ("Иванов Сергей Юрий", "icao", "IVANOV SERGEI IURII"),
])
def test_passport_romanisation(native: str, scheme: str, passport: str) -> None:
    assert nm.passport_form(native, scheme) == passport


def test_patronymics() -> None:
    assert nm.patronymic("Бахтиёр", "M") == "Бахтиёрович"
    assert nm.patronymic("Сергей", "F") == "Сергеевна"
    assert nm.patronymic("Юрий", "M") == "Юрьевич"
    assert nm.patronymic("Илья", "F") == "Ильинична"


def test_name_tables_are_large_enough() -> None:
    for code, nat in nm.NATIONALITIES.items():
        big = code in ("UZB", "KGZ", "TJK", "RUS", "CHN", "AZE", "TUR")
        assert len(nat.surnames) >= (20 if big else 10), code
        assert len(nat.male) >= (15 if big else 7) and len(nat.female) >= 5, code


# ---- truth and feeds -----------------------------------------------------------------------


def test_truth_covers_every_row_once(country: DemoCountry) -> None:
    rows = {("border_events", r["source_event_id"]) for r in country.border_events}
    rows |= {("notifications", r["source_event_id"]) for r in country.notifications}
    rows |= {("residence_permits", r["source_event_id"]) for r in country.residence_permits}
    keys = [(t["source"], t["source_event_id"]) for t in country.truth]
    assert len(keys) == len(set(keys)) == len(rows)
    assert set(keys) == rows
    persons = {p["person_key"] for p in country.persons}
    assert {t["person_key"] for t in country.truth} <= persons


def test_rows_have_the_import_columns(country: DemoCountry) -> None:
    for feed in ("border_events", "notifications", "residence_permits", "truth"):
        for row in getattr(country, feed):
            assert tuple(row) == COLUMNS[feed]
    assert all(isinstance(v, str) for r in country.notifications for v in r.values())


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_write_feeds_round_trips(country: DemoCountry, tmp_path: Path, fmt: str) -> None:
    paths = write_feeds(country, tmp_path, fmt)  # type: ignore[arg-type]  # one of the three, parametrised
    assert set(paths) == {"border_events", "notifications", "residence_permits", "truth"}
    read = {"csv": lambda p: pl.read_csv(p, infer_schema=False), "jsonl": pl.read_ndjson,
            "parquet": pl.read_parquet}[fmt]
    for feed, path in paths.items():
        df = read(path)
        assert df.height == len(getattr(country, feed))
        assert tuple(df.columns) == COLUMNS[feed]
