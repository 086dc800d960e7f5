"""The kz pack loads and answers; a broken copy fails with the file, key path and problem."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from kosh.jurisdictions import (
    PACKS_ROOT,
    PackError,
    interface_locales,
    load_pack,
    load_pack_from_dir,
    passport_romanisation,
)
from kosh.jurisdictions.schema import WorkingCalendar

D = dt.date


@pytest.fixture(scope="module")
def kz():
    return load_pack("kz")


def broken_copy(tmp_path: Path, filename: str, old: str, new: str) -> Path:
    """A copy of the kz pack in tmp_path/kz with one text replacement in one file."""
    folder = tmp_path / "kz"
    shutil.copytree(PACKS_ROOT / "kz", folder)
    file = folder / filename
    text = file.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {filename}: {old!r}"
    file.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(PackError) as info:
        load_pack_from_dir(folder)
    return info.value.problems


# --- the kz pack -------------------------------------------------------------------------------


def test_kz_pack_meta(kz):
    assert kz.code == "kz"
    assert kz.name == "Kazakhstan"
    assert kz.citizenship == "KAZ"
    assert kz.currency == "KZT"
    assert kz.default_locale in kz.locales
    assert kz.notification_deadline_working_days == 3


def test_load_pack_is_cached(kz):
    assert load_pack("kz") is kz
    assert load_pack() is kz


def test_mci_by_year(kz):
    assert kz.mci_value(2017) == 2269
    assert kz.mci_value(2024) == 3692
    assert kz.mci_value(2026) == 4325
    assert kz.mci_value(2025) is None  # not in the domain sources: unknown, not guessed


def test_regions_and_kato_lookup(kz):
    assert len(kz.regions) == 20
    almaty = kz.region_for_kato("751700000")
    assert almaty is not None and almaty.iso == "KZ-75" and almaty.en == "Almaty"
    assert almaty.names == {"en": "Almaty", "ru": "Алматы", "kk": "Алматы"}
    assert kz.region_for_kato("621039202").en == "Ulytau Region"
    assert kz.region_for_kato("991000000") is None


def test_region_for_kato_rejects_malformed_codes(kz):
    with pytest.raises(ValueError, match="9 digits"):
        kz.region_for_kato("75")


def test_checkpoints(kz):
    khorgos = kz.checkpoint("KHORGOS")
    assert khorgos is not None
    assert khorgos.neighbour == "CHN" and khorgos.kind == "road"
    assert kz.region_for_kato(khorgos.kato).en == "Jetisu Region"
    assert kz.checkpoint("NOWHERE") is None
    # every checkpoint sits in a known region (checked at load time)
    assert all(kz.region_for_kato(c.kato) is not None for c in kz.checkpoints)


def test_stay_rule_versions_by_entry_date(kz):
    rules = kz.stay_rules
    uzb_new = rules.rule_for("UZB", D(2023, 1, 27))
    assert (uzb_new.per_entry_days, uzb_new.window_days, uzb_new.window_max_days) == (30, 180, 90)
    assert uzb_new.text == "Uzbekistan: 30 days per entry, 90 days in any 180 (bilateral agreement, from 2023-01-27)"
    uzb_old = rules.rule_for("UZB", D(2023, 1, 26))
    assert uzb_old.group == "uzbekistan" and uzb_old.per_entry_days is None
    assert "5 days" in (uzb_old.note or "")
    assert rules.rule_for("CHN", D(2022, 7, 7)).basis == "visa_required"
    assert rules.rule_for("CHN", D(2023, 11, 9)).window_max_days == 42
    assert rules.rule_for("CHN", D(2023, 11, 10)).per_entry_days == 30
    assert rules.rule_for("IND", D(2026, 1, 1)).per_entry_days == 14
    eaeu = rules.rule_for("KGZ", D(2026, 1, 1))
    assert eaeu.basis == "eaeu" and eaeu.permit_required_after_days == 90
    assert rules.rule_for("TJK", D(2026, 1, 1)).per_entry_days == 30
    assert rules.rule_for("AFG", D(2026, 1, 1)).basis == "visa_required"
    every_rule = rules.all_rules()
    assert all(r.source.text for r in every_rule)


def test_unilateral_list_conflict_is_noted(kz):
    before = kz.stay_rules.rule_for("DEU", D(2022, 6, 1))
    after = kz.stay_rules.rule_for("DEU", D(2023, 1, 27))
    assert before.window_days is None and before.per_entry_days == 30
    assert "11 Jan 2020" in (before.note or "")
    assert after.window_max_days == 90


def test_host_notification_rule(kz):
    rule = kz.stay_rules.host_notification
    assert rule.working_days == 3
    assert rule.applies_to == {"visa_free", "eaeu", "visa_required"}
    assert "148" in rule.source.text


def test_calendar_uses_provider_and_overrides(kz):
    assert isinstance(kz.calendar, WorkingCalendar)
    assert not kz.calendar.is_working_day(D(2026, 3, 23))  # Nauryz
    assert kz.calendar.is_working_day(D(2024, 5, 4))  # Saturday worked by decree
    assert not kz.calendar.is_working_day(D(2024, 5, 8))  # the day off it paid for
    assert kz.stay_rules.calendar is kz.calendar


# --- broken packs ------------------------------------------------------------------------------


def test_window_max_over_window_names_file_and_key(tmp_path):
    folder = broken_copy(tmp_path, "stay.toml",
                         'per_entry_days = 30\nwindow_days = 180\nwindow_max_days = 90\nmembers = ["UZB"]',
                         'per_entry_days = 30\nwindow_days = 180\nwindow_max_days = 200\nmembers = ["UZB"]')
    assert problems_of(folder) == [
        "kz/stay.toml: group[1].version[1].window_max_days: must be ≤ window_days (got 200 > 180)"
    ]


def test_message_of_pack_error_is_the_problem_lines(tmp_path):
    folder = broken_copy(tmp_path, "pack.toml", 'currency = "KZT"', 'currency = "KZX"')
    with pytest.raises(PackError, match=r"^kz/pack.toml: currency: unknown ISO 4217 currency code 'KZX'$"):
        load_pack_from_dir(folder)


def test_unknown_key_is_refused(tmp_path):
    folder = broken_copy(tmp_path, "regions.toml", 'centre = "Semey"', 'centre = "Semey"\ncapital = "Semey"')
    assert problems_of(folder) == ["kz/regions.toml: region[0].capital: unknown key (not allowed here)"]


def test_missing_key_is_refused(tmp_path):
    folder = broken_copy(tmp_path, "checkpoints.toml", 'kind = "road"\n', "", )
    assert problems_of(folder) == ["kz/checkpoints.toml: checkpoint[0].kind: required key missing"]


def test_string_where_number_expected_is_refused(tmp_path):
    folder = broken_copy(tmp_path, "stay.toml", "working_days = 3", 'working_days = "3"')
    [problem] = problems_of(folder)
    assert problem.startswith("kz/stay.toml: host_notification.working_days: input should be a valid integer")


def test_unknown_country_code_in_members(tmp_path):
    folder = broken_copy(tmp_path, "stay.toml", '"GEO", "MDA"', '"GEO", "XYZ"')
    assert problems_of(folder) == [
        "kz/stay.toml: group[3].version[0].members: unknown ISO 3166-1 alpha-3 code 'XYZ'"
    ]


def test_citizenship_in_two_groups_at_once(tmp_path):
    folder = broken_copy(tmp_path, "stay.toml", 'members = ["TJK"]', 'members = ["TJK", "KGZ"]')
    assert problems_of(folder) == [
        "kz/stay.toml: group[5].version[0].members[1]: 'KGZ' is also listed in group[0].version[0] "
        "for overlapping dates"
    ]


def test_own_citizens_cannot_be_members(tmp_path):
    folder = broken_copy(tmp_path, "stay.toml", 'members = ["TJK"]', 'members = ["KAZ"]')
    assert problems_of(folder) == [
        "kz/stay.toml: group[5].version[0].members[0]: 'KAZ' is the pack's own citizenship: "
        "its citizens are not foreigners"
    ]


def test_version_dates_must_not_go_backwards(tmp_path):
    folder = broken_copy(tmp_path, "stay.toml", "valid_from = 2023-11-10", "valid_from = 2023-11-01")
    assert problems_of(folder) == [
        "kz/stay.toml: group[8].version[1].valid_from: versions must follow each other without overlap; "
        "starts on or before the end of version[0]",
        "kz/stay.toml: group[8].version[1].members[0]: 'CHN' is also listed in group[8].version[0] "
        "for overlapping dates",
    ]


def test_valid_to_before_valid_from(tmp_path):
    folder = broken_copy(tmp_path, "stay.toml", "valid_to = 2023-11-09", "valid_to = 2021-01-01")
    problems = problems_of(folder)
    assert problems == ["kz/stay.toml: group[8].version[0].valid_to: must be ≥ valid_from "
                        "(got 2021-01-01 < 2022-07-08)"]


def test_visa_required_with_limits_is_refused(tmp_path):
    folder = broken_copy(tmp_path, "stay.toml", 'legal_basis = "no visa waiver"',
                         'legal_basis = "no visa waiver"\nper_entry_days = 30')
    assert problems_of(folder) == [
        "kz/stay.toml: group[9].version[0]: a visa_required version carries no visa-free limits"
    ]


def test_exactly_one_default_group(tmp_path):
    folder = broken_copy(tmp_path, "stay.toml", "default = true", "default = false")
    assert problems_of(folder) == ["kz/stay.toml: group: exactly one group must have default = true (found 0)"]


def test_checkpoint_outside_known_regions(tmp_path):
    folder = broken_copy(tmp_path, "checkpoints.toml", 'kato = "614000000"', 'kato = "994000000"')
    assert problems_of(folder) == [
        "kz/checkpoints.toml: checkpoint[0].kato: no region with KATO prefix '99' in regions.toml"
    ]


def test_bad_kato_pattern(tmp_path):
    folder = broken_copy(tmp_path, "regions.toml", 'kato = "10"', 'kato = "1"')
    [first, *_] = problems_of(folder)
    assert first.startswith("kz/regions.toml: region[0].kato: string should match pattern")


def test_calendar_unknown_provider_and_conflicting_override(tmp_path):
    folder = broken_copy(tmp_path, "calendar.toml", 'holidays_provider = "KZ"', 'holidays_provider = "QQ"')
    text = (folder / "calendar.toml").read_text(encoding="utf-8")
    text = text.replace("extra_days_off = []", 'extra_days_off = [{ date = 2024-05-04, source = { text = "x" } }]')
    (folder / "calendar.toml").write_text(text, encoding="utf-8")
    assert problems_of(folder) == [
        "kz/calendar.toml: holidays_provider: unknown python-holidays country 'QQ'",
        "kz/calendar.toml: extra_working_days[1].date: 2024-05-04 is also extra_days_off[0]",
    ]


def test_invalid_toml_names_the_file(tmp_path):
    folder = broken_copy(tmp_path, "pack.toml", 'name = "Kazakhstan"', "name = Kazakhstan")
    [problem] = problems_of(folder)
    assert problem.startswith("kz/pack.toml: not valid TOML:")


def test_missing_file_and_code_mismatch(tmp_path):
    folder = broken_copy(tmp_path, "pack.toml", 'code = "kz"', 'code = "kg"')
    (folder / "stay.toml").unlink()
    assert problems_of(folder) == [
        "kz/stay.toml: file missing",
        "kz/pack.toml: code: must match the folder name 'kz' (got 'kg')",
    ]


def test_problems_in_several_files_are_all_reported(tmp_path):
    folder = broken_copy(tmp_path, "pack.toml", 'currency = "KZT"', 'currency = "kzt"')
    text = (folder / "regions.toml").read_text(encoding="utf-8").replace('iso = "KZ-11"', 'iso = "KZ-10"')
    (folder / "regions.toml").write_text(text, encoding="utf-8")
    problems = problems_of(folder)
    assert "kz/pack.toml: currency: unknown ISO 4217 currency code 'kzt'" in problems
    assert "kz/regions.toml: region[1].iso: 'KZ-10' already used by region[0]" in problems


def test_unknown_pack_code():
    with pytest.raises(PackError, match="no such jurisdiction pack"):
        load_pack("zz")
    with pytest.raises(PackError, match="2–8 lower-case letters"):
        load_pack("../kz")


def test_a_valid_copy_loads(tmp_path):
    folder = broken_copy(tmp_path, "pack.toml", 'name = "Kazakhstan"', 'name = "Kazakhstan (copy)"')
    pack = load_pack_from_dir(folder)
    assert pack.name == "Kazakhstan (copy)"
    assert pack.stay_rules.rule_for("UZB", D(2026, 1, 5)).per_entry_days == 30


def test_time_zone_is_data_and_checked(kz, tmp_path):
    assert kz.timezone == "Asia/Almaty" and kz.zone.utcoffset(dt.datetime(2026, 6, 1)) == dt.timedelta(hours=5)
    folder = broken_copy(tmp_path, "pack.toml", 'timezone = "Asia/Almaty"', 'timezone = "Asia/Nowhere"')
    assert any("pack.toml" in p and "timezone" in p and "Asia/Nowhere" in p for p in problems_of(folder))


# --- retention.toml ----------------------------------------------------------------------------


def test_kz_retention_rules(kz):
    rules = kz.retention
    crossings = rules.rule("border_events")
    assert (crossings.term.years, crossings.term_without_exit.years, crossings.action) == (3, 5, "delete")
    assert crossings.policy_default and "2017/2226" in crossings.source.text
    assert rules.rule("audit_log").action == "keep" and rules.rule("audit_log").term is None
    assert rules.rule("web_sessions").term.days == 0
    assert all(r.source.text and r.source.date for r in rules.rules)
    # every source the pack cites is excerpted in the repository
    excerpts = (PACKS_ROOT.parents[2] / "docs" / "sources" / "retention.md").read_text(encoding="utf-8")
    assert "Article 34" in excerpts and "Article 12" in excerpts


def test_retention_anchor_must_fit_the_kind(tmp_path):
    folder = broken_copy(tmp_path, "retention.toml", 'what = "residence_permits"\ncounted_from = "permit_end"',
                         'what = "residence_permits"\ncounted_from = "stay_end"')
    assert problems_of(folder) == [
        "kz/retention.toml: rule[2].counted_from: must be 'permit_end' for residence_permits (got 'stay_end')"
    ]


def test_retention_unknown_kind_and_key(tmp_path):
    folder = broken_copy(tmp_path, "retention.toml", 'what = "login_attempts"', 'what = "phone_calls"')
    text = (folder / "retention.toml").read_text(encoding="utf-8").replace("term = { days = 90 }\naction",
                                                                            "term = { weeks = 2 }\naction", 1)
    (folder / "retention.toml").write_text(text, encoding="utf-8")
    problems = problems_of(folder)
    assert problems[0].startswith("kz/retention.toml: rule[7].term.weeks: unknown key")
    assert problems[1].startswith("kz/retention.toml: rule[9].what: input should be 'border_events'")


def test_retention_action_and_duplicate_kind(tmp_path):
    folder = broken_copy(tmp_path, "retention.toml",
                         'what = "api_tokens"\ncounted_from = "expiry"\nterm = { days = 0 }\naction = "delete"',
                         'what = "web_sessions"\ncounted_from = "expiry"\nterm = { days = 0 }\naction = "anonymise"')
    assert problems_of(folder) == [
        "kz/retention.toml: rule[10].action: must be 'delete' for web_sessions (got 'anonymise')",
    ]
    fixed = (folder / "retention.toml").read_text(encoding="utf-8").replace('action = "anonymise"', 'action = "delete"')
    (folder / "retention.toml").write_text(fixed, encoding="utf-8")
    assert problems_of(folder) == ["kz/retention.toml: rule[10].what: 'web_sessions' already has a rule: rule[8]"]


def test_retention_kept_kind_has_no_term_and_a_pack_may_have_no_rules(tmp_path):
    folder = broken_copy(tmp_path, "retention.toml", 'counted_from = "record"\naction = "keep"',
                         'counted_from = "record"\naction = "keep"\nterm = { years = 1 }')
    assert problems_of(folder) == ["kz/retention.toml: rule[6]: a kept kind has no term"]
    (folder / "retention.toml").unlink()
    assert load_pack_from_dir(folder).retention.rules == ()


# --- generic schema: declared bases, names by locale, member lists, fine unit ------------------


def test_bases_are_declared_by_the_pack(kz):
    assert set(kz.stay_rules.bases) == {"visa_free", "eaeu", "visa_required"}
    assert {r.basis for r in kz.stay_rules.all_rules()} <= set(kz.stay_rules.bases)


def test_unknown_basis_names_file_and_field(tmp_path):
    folder = broken_copy(tmp_path, "stay.toml", 'basis = "eaeu"\nlegal_basis', 'basis = "eu"\nlegal_basis')
    assert problems_of(folder) == [
        "kz/stay.toml: group[0].version[0].basis: unknown basis 'eu' "
        "(declared in [bases]: visa_free, eaeu, visa_required)"
    ]


def test_host_notification_applies_only_to_declared_bases(tmp_path):
    folder = broken_copy(tmp_path, "stay.toml", 'applies_to = ["visa_free", "eaeu", "visa_required"]',
                         'applies_to = ["visa_free", "eaeu", "transit"]')
    assert problems_of(folder) == [
        "kz/stay.toml: host_notification.applies_to[2]: unknown basis 'transit' "
        "(declared in [bases]: visa_free, eaeu, visa_required)"
    ]


def test_host_notification_applies_to_every_basis_when_unset(tmp_path):
    folder = broken_copy(tmp_path, "stay.toml", 'applies_to = ["visa_free", "eaeu", "visa_required"]\n', "")
    rule = load_pack_from_dir(folder).stay_rules.host_notification
    assert rule.applies_to == {"visa_free", "eaeu", "visa_required"}


def test_region_names_by_locale(kz):
    almaty = kz.region_for_kato("751700000")
    assert {locale: almaty.name(locale) for locale in kz.locales} == almaty.names
    assert almaty.name("de") == almaty.name("en")  # a locale without a name falls back to English
    assert len({hash(r) for r in kz.regions}) == len(kz.regions)


def test_region_without_a_name_in_an_interface_language(tmp_path):
    folder = broken_copy(tmp_path, "regions.toml", ', kk = "Абай облысы" }', " }")
    assert problems_of(folder) == [
        "kz/regions.toml: region[0].names: no name in 'kk', an interface language of the pack (pack.toml locales)"
    ]


def test_region_name_with_a_bad_locale_code(tmp_path):
    folder = broken_copy(tmp_path, "regions.toml", 'kk = "Абай облысы"', 'KK = "Абай облысы"')
    problems = problems_of(folder)
    assert problems[0] == "kz/regions.toml: region[0].names: a locale is 2–3 lower-case letters (got 'KK')"


def test_member_lists_are_expanded_into_each_version(kz):
    before = kz.stay_rules.rule_for("DEU", D(2022, 6, 1))
    after = kz.stay_rules.rule_for("DEU", D(2023, 1, 27))
    group = next(g for g in kz.stay_rules.groups if g.code == before.group)
    assert before.group == after.group == "unilateral_visa_free"
    assert [len(v.members) for v in group.version] == [42, 42]
    assert group.version[0].members == group.version[1].members
    assert group.version[0].members[:3] == ("AUS", "AUT", "BEL")


def test_unknown_list_names_file_and_field(tmp_path):
    folder = broken_copy(tmp_path, "stay.toml", 'lists = ["unilateral_2016"]', 'lists = ["unilateral_2061"]')
    assert problems_of(folder) == [
        "kz/stay.toml: group[2].version[0].lists[0]: unknown list 'unilateral_2061' "
        "(declared in [lists]: unilateral_2016)"
    ]


def test_list_members_are_checked_like_members(tmp_path):
    folder = broken_copy(tmp_path, "stay.toml", '"AUS", "AUT", "BEL", "BGR"', '"AUS", "AUT", "BEL", "XYZ"')
    assert problems_of(folder) == ["kz/stay.toml: lists.unilateral_2016[3]: unknown ISO 3166-1 alpha-3 code 'XYZ'"]
    folder = broken_copy(tmp_path / "2", "stay.toml", '"AUS", "AUT", "BEL", "BGR"', '"AUS", "AUT", "BEL", "KGZ"')
    problems = problems_of(folder)
    assert problems[0] == ("kz/stay.toml: group[2].version[0].lists[0]: 'KGZ' (list 'unilateral_2016') is also "
                           "listed in group[0].version[0] for overlapping dates")


def test_a_member_also_in_a_named_list_is_refused(tmp_path):
    folder = broken_copy(tmp_path, "stay.toml", 'lists = ["unilateral_2016"]',
                         'lists = ["unilateral_2016"]\nmembers = ["DEU"]')
    assert problems_of(folder) == [
        "kz/stay.toml: group[2].version[0].members[0]: 'DEU' is already a member through "
        "group[2].version[0].lists[0]"
    ]


def test_a_list_no_version_uses_is_refused(tmp_path):
    folder = broken_copy(tmp_path, "stay.toml", "[lists]\n", '[lists]\nspare = ["FRA"]\n')
    assert problems_of(folder) == ["kz/stay.toml: lists.spare: no rule version refers to this list"]


def test_fine_unit_is_declared_by_the_pack(kz, tmp_path):
    assert kz.fine_unit is not None and (kz.fine_unit.code, kz.fine_unit.currency) == ("MCI", "KZT")
    assert kz.mci == {2017: 2269, 2024: 3692, 2026: 4325}
    folder = broken_copy(tmp_path, "pack.toml", "{ year = 2024, amount = 3692 }", "{ year = 2017, amount = 3692 }")
    assert problems_of(folder) == ["kz/pack.toml: fine_unit.values: a year is listed twice"]


def test_interface_locales_read_from_pack_toml_alone(kz):
    assert interface_locales("kz") == kz.locales == ("en", "ru", "kk")
    assert interface_locales() is interface_locales("kz")  # read once


def test_passport_romanisation_is_pack_data(kz):
    assert passport_romanisation("kz") == kz.passport_romanisation
    assert kz.passport_romanisation["UZB"] == "uz" and "DEU" not in kz.passport_romanisation


# --- sources -----------------------------------------------------------------------------------

REPO_ROOT = PACKS_ROOT.parents[2]
# A relative file path in a pack's text (comments included), e.g. docs/sources/retention.md;
# web addresses are not matched (a path inside one is preceded by '/', '.' or ':').
LOCAL_PATH = re.compile(r"(?<![\w.:/-])[\w-]+(?:/[\w.-]+)+\.[a-z]{2,4}\b")


def _documents_and_urls(value: object) -> tuple[list[str], list[str]]:
    documents: list[str] = []
    urls: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "document":
                documents.append(item)
            elif key == "url":
                urls.append(item)
            else:
                d, u = _documents_and_urls(item)
                documents += d
                urls += u
    elif isinstance(value, list):
        for item in value:
            d, u = _documents_and_urls(item)
            documents += d
            urls += u
    return documents, urls


@pytest.mark.parametrize("pack_file", sorted(PACKS_ROOT.glob("*/*.toml")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_source_a_pack_cites_is_a_url_or_a_file_of_the_repository(pack_file: Path):
    text = pack_file.read_text(encoding="utf-8")
    documents, urls = _documents_and_urls(tomllib.loads(text))
    cited = set(documents) | set(LOCAL_PATH.findall(text))
    missing = sorted(path for path in cited if not (REPO_ROOT / path).is_file())
    assert missing == [], f"{pack_file.name} cites files that are not in the repository"
    assert all(url.startswith(("https://", "http://")) for url in urls)


def test_the_kz_pack_cites_its_domain_notes_from_the_repository():
    texts = [f.read_text(encoding="utf-8") for f in (PACKS_ROOT / "kz").glob("*.toml")]
    cited = {path for text in texts for path in LOCAL_PATH.findall(text)}
    assert {"docs/sources/kazakhstan-rules.md", "docs/sources/retention.md"} <= cited
    notes = (REPO_ROOT / "docs" / "sources" / "kazakhstan-rules.md").read_text(encoding="utf-8")
    assert "4,325 KZT" in notes and "## 1. Stay and registration" in notes and "**KATO**" in notes


def test_the_pack_imports_no_platform_or_capability():
    # jurisdictions is data, the lowest layer: the platform and the capabilities read it, not back
    code = ("import sys, kosh.jurisdictions; "
            "print(sorted(m for m in sys.modules if m.startswith('kosh.') and not m.startswith('kosh.jurisdictions')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
