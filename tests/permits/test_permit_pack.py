"""permits.toml: it loads, every rule names its source, dated rules apply by the case's date,
and a broken copy is refused with the file and key."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from jurisdictions.test_pack import broken_copy, problems_of
from kosh.jurisdictions import PACKS_ROOT, load_pack

D = dt.date


@pytest.fixture(scope="module")
def rules():
    return load_pack("kz").permits


def test_channels_and_categories(rules):
    assert {c.code for c in rules.channel} == {
        "employer_quota", "household_worker", "intra_corporate_transfer", "business_immigrant",
        "independent_employment", "eaeu_contract"}
    assert [c.code for c in rules.channel if not c.needs_permit] == ["eaeu_contract"]
    assert {c.code for c in rules.category} == {"category_1", "category_2", "category_3", "category_4", "seasonal"}
    assert rules.category_for("category_1").max_extensions == "unlimited"
    assert rules.category_for("category_2").max_extensions == 3
    assert rules.channel_for("intra_corporate_transfer").max_extensions == 1


def test_values_not_found_are_left_unset_and_said_so(rules):
    for code in ("category_4", "seasonal"):
        category = rules.category_for(code)
        assert category.terms_months == () and category.max_extensions is None
        assert category.note is not None and "not found" in category.note
    assert rules.local_content_for("seasonal") is None


def test_every_rule_has_a_source():
    data = tomllib.loads((PACKS_ROOT / "kz" / "permits.toml").read_text(encoding="utf-8"))
    rules = [item for key in ("channel", "category", "local_content", "vacancy_posting", "household_prepayment",
                              "replacement_duty") for item in data[key]]
    rules += [data["extension_window"], data["fee_deadline"]]
    assert all(data[key] for key in ("channel", "category", "local_content"))
    assert all(rule["source"]["text"].strip() for rule in rules)


@pytest.mark.parametrize("day, mci", [
    (D(2025, 6, 15), 2), (D(2025, 12, 31), 2), (D(2026, 1, 1), 4), (D(2026, 3, 1), 4), (D(2018, 1, 1), 2)])
def test_household_prepayment_by_date(rules, day, mci):
    assert rules.household_prepayment_on(day).mci_per_month == mci


def test_household_prepayment_before_2018_is_not_configured(rules):
    assert rules.household_prepayment_on(D(2017, 12, 31)) is None


def test_fixed_figures(rules):
    assert (rules.extension_window.earliest_days, rules.extension_window.latest_days) == (60, 30)
    assert rules.fee_deadline.working_days == 10
    assert {s.min_percent for s in rules.local_content} == {70, 90}
    assert rules.vacancy_posting_on(D(2025, 9, 1)).wait_days == 15
    assert rules.vacancy_posting_on(D(2025, 8, 31)) is None


def test_a_pack_without_permits_toml_has_no_permit_rules(tmp_path):
    folder = broken_copy(tmp_path, "permits.toml", "[fee_deadline]", "[fee_deadline]")
    (folder / "permits.toml").unlink()
    from kosh.jurisdictions import load_pack_from_dir

    assert load_pack_from_dir(folder).permits.channel == ()


@pytest.mark.parametrize("old, new, problem", [
    ("valid_from = 2026-01-01\nmci_per_month = 4", "valid_from = 2025-12-01\nmci_per_month = 4",
     "kz/permits.toml: two household_prepayment rules are in force on the same day (2025-12-01)"),
    ("earliest_days = 60", "earliest_days = 20", "kz/permits.toml: extension_window: latest_days must be ≤"),
    ('categories = ["category_3", "category_4"]', 'categories = ["category_3", "category_5"]',
     "kz/permits.toml: local_content names an unknown category 'category_5'"),
    ('code = "eaeu_contract"\nneeds_permit = false', 'code = "eaeu_contract"\nneeds_permit = "no"',
     "kz/permits.toml: channel[5].needs_permit:"),
])
def test_a_broken_permits_file_names_the_problem(tmp_path, old, new, problem):
    problems = problems_of(broken_copy(tmp_path, "permits.toml", old, new))
    assert any(problem in p for p in problems), problems
