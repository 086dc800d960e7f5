"""Jurisdiction packs: a country's rules as validated data, read from `jurisdictions/<code>/*.toml`.

    pack = load_pack("kz")
    pack.stay_rules.rule_for("UZB", date(2026, 1, 5)).text

A pack that does not validate raises PackError naming the file, the dotted key path and the
problem, one line per problem, e.g.
"kz/stay.toml: group[2].version[0].window_max_days: must be ≤ window_days (got 200 > 180)".
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from functools import cache
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kosh.jurisdictions.schema import (
    MAX_ORD,
    MIN_ORD,
    WEEKDAY_INDEX,
    CalendarFile,
    Checkpoint,
    CheckpointsFile,
    CitizenshipGroup,
    HostNotificationRule,
    JurisdictionPack,
    NamesFile,
    PackFile,
    PermitsFile,
    PublicFile,
    Region,
    RegionsFile,
    RetentionFile,
    RetentionPolicy,
    RetentionRule,
    SettlementsFile,
    SourceRef,
    StayFile,
    StayRule,
    StayRules,
    StayRuleVersion,
    WagesFile,
    WorkingCalendar,
)

__all__ = [
    "DEFAULT_PACK",
    "PACKS_ROOT",
    "Checkpoint",
    "CitizenshipGroup",
    "JurisdictionPack",
    "PackError",
    "Region",
    "RetentionPolicy",
    "RetentionRule",
    "SourceRef",
    "StayRule",
    "StayRuleVersion",
    "StayRules",
    "WorkingCalendar",
    "field_path",
    "interface_locales",
    "load_pack",
    "load_pack_from_dir",
    "passport_romanisation",
    "public_locales",
]

PACKS_ROOT = Path(__file__).resolve().parent
DEFAULT_PACK = "kz"

_M = TypeVar("_M", bound=BaseModel)


class PackError(ValueError):
    """A jurisdiction pack failed validation; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def load_pack(code: str = DEFAULT_PACK) -> JurisdictionPack:
    """The pack shipped in `jurisdictions/<code>/`, loaded once per process."""
    return _load_shipped_pack(code)


@cache
def _load_shipped_pack(code: str) -> JurisdictionPack:
    return load_pack_from_dir(_shipped_folder(code))


def _shipped_folder(code: str) -> Path:
    if not re.fullmatch(r"[a-z]{2,8}", code):
        raise PackError([f"{code!r}: a pack code is 2–8 lower-case letters"])
    folder = PACKS_ROOT / code
    if not folder.is_dir():
        raise PackError([f"{code}: no such jurisdiction pack"])
    return folder


def _read_one(code: str, filename: str, model: type[_M], optional: bool = False) -> _M:
    """One file of a shipped pack, validated on its own (without loading the whole pack)."""
    loader = _Loader(_shipped_folder(code))
    result = loader.read(filename, model, optional=optional)
    if loader.problems or result is None:
        raise PackError(loader.problems)
    return result


def interface_locales(code: str = DEFAULT_PACK) -> tuple[str, ...]:
    """The interface languages the pack's pack.toml declares, in menu order (reads that file
    only, once per process)."""
    return _interface_locales(code)


@cache
def _interface_locales(code: str) -> tuple[str, ...]:
    return _read_one(code, "pack.toml", PackFile).locales


def public_locales(code: str = DEFAULT_PACK) -> tuple[str, ...]:
    """The languages of the public pages (pack.toml `public_locales`, else its `locales`), in
    menu order (reads that file only, once per process)."""
    return _public_locales(code)


@cache
def _public_locales(code: str) -> tuple[str, ...]:
    meta = _read_one(code, "pack.toml", PackFile)
    return meta.public_locales or meta.locales


def passport_romanisation(code: str = DEFAULT_PACK) -> Mapping[str, str]:
    """Citizenship (alpha-3) → the romanisation its passports write names in, from names.toml
    (reads that file only, once per process; empty when the pack has none)."""
    return _passport_romanisation(code)


@cache
def _passport_romanisation(code: str) -> Mapping[str, str]:
    return MappingProxyType(dict(_read_one(code, "names.toml", NamesFile, optional=True).passport_romanisation))


def load_pack_from_dir(path: str | Path) -> JurisdictionPack:
    """Read and validate the pack in `path` (pack.toml, regions.toml, checkpoints.toml,
    calendar.toml, stay.toml, and retention.toml, names.toml, settlements.toml, public.toml,
    permits.toml and wages.toml when present); every problem found is reported in one PackError."""
    folder = Path(path)
    loader = _Loader(folder)
    meta = loader.read("pack.toml", PackFile)
    regions = loader.read("regions.toml", RegionsFile)
    checkpoints = loader.read("checkpoints.toml", CheckpointsFile, optional=True)
    calendar = loader.read("calendar.toml", CalendarFile)
    stay = loader.read("stay.toml", StayFile)
    retention = loader.read("retention.toml", RetentionFile, optional=True)
    names = loader.read("names.toml", NamesFile, optional=True)
    settlements = loader.read("settlements.toml", SettlementsFile, optional=True)
    public = loader.read("public.toml", PublicFile, optional=True)
    permits = loader.read("permits.toml", PermitsFile, optional=True)
    wages = loader.read("wages.toml", WagesFile, optional=True)
    if meta is not None and meta.code != folder.name:
        loader.problem("pack.toml", "code", f"must match the folder name {folder.name!r} (got {meta.code!r})")
    if meta is not None and not meta.locales:
        loader.problem("pack.toml", "locales", "must list at least one locale")
    if meta is not None and meta.public_locales and meta.default_locale not in meta.public_locales:
        loader.problem("pack.toml", "public_locales", f"must hold default_locale {meta.default_locale!r}")
    if public is not None and meta is not None:
        _check_public(loader, public, meta)
    if regions is not None:
        _check_regions(loader, regions, meta)
    if regions is not None and checkpoints is not None:
        _check_checkpoints(loader, regions, checkpoints, meta)
    if regions is not None and settlements is not None:
        _check_settlements(loader, regions, settlements, meta)
    if calendar is not None:
        _check_calendar(loader, calendar)
    if stay is not None:
        _check_stay(loader, stay, meta)
    if retention is not None:
        _check_retention(loader, retention)
    if loader.problems:
        raise PackError(loader.problems)
    # all read without problems
    assert meta and regions and calendar and stay and retention and names and public and permits and wages
    working_calendar = WorkingCalendar.from_provider(
        calendar.holidays_provider,
        weekend=[WEEKDAY_INDEX[d] for d in calendar.weekend],
        extra_days_off=[o.date for o in calendar.extra_days_off],
        extra_working_days=[o.date for o in calendar.extra_working_days],
    )
    notification = stay.host_notification
    applies_to = notification.applies_to if notification.applies_to is not None else tuple(stay.bases)
    stay_rules = StayRules(
        [group.expanded(stay.lists, stay.transition.rule if stay.transition else None) for group in stay.group],
        HostNotificationRule(
            working_days=notification.working_days,
            applies_to=frozenset(applies_to),
            source=notification.source,
            note=notification.note,
        ),
        working_calendar,
        own_citizenship=meta.citizenship,
        lookback_days=stay.lookback_days,
        bases=stay.bases,
    )
    return JurisdictionPack(
        code=meta.code,
        name=meta.name,
        citizenship=meta.citizenship,
        default_locale=meta.default_locale,
        locales=meta.locales,
        currency=meta.currency,
        timezone=meta.timezone,
        mci=meta.fine_unit.by_year() if meta.fine_unit else {},
        regions=regions.region,
        checkpoints=checkpoints.checkpoint if checkpoints else (),
        calendar=working_calendar,
        stay_rules=stay_rules,
        retention=RetentionPolicy(retention.rule),
        fine_unit=meta.fine_unit,
        passport_romanisation=dict(names.passport_romanisation),
        public_locales=meta.public_locales or meta.locales,
        penalties=public.penalty,
        contacts=public.contact,
        settlements=settlements.settlement if settlements else (),
        permits=permits,
        wages=wages,
    )


class _Loader:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[str] = []

    def label(self, filename: str) -> str:
        return f"{self.folder.name}/{filename}"

    def problem(self, filename: str, path: str, message: str) -> None:
        where = f"{self.label(filename)}: {path}: " if path else f"{self.label(filename)}: "
        self.problems.append(where + message)

    def read(self, filename: str, model: type[_M], optional: bool = False) -> _M | None:
        file = self.folder / filename
        if not file.is_file():
            if optional:
                return model.model_validate({})
            self.problem(filename, "", "file missing")
            return None
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            self.problem(filename, "", f"not valid TOML: {exc}")
            return None
        try:
            return model.model_validate(_tuples(data))
        except ValidationError as exc:
            for error in exc.errors():
                self.problem(filename, field_path(error["loc"]), _describe(error))
            return None


def _tuples(value: Any) -> Any:
    """TOML arrays as tuples: the models are strict (no silent coercion) and frozen."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def field_path(loc: Iterable[int | str], prefix: str = "", *, digits_as_index: bool = False) -> str:
    """A Pydantic error location as a field path after `prefix`, e.g. `group[2].version[0].window_max_days`:
    indexes in brackets, names joined by dots (also the platform's, for API and import errors).
    `digits_as_index`: a name made of digits is written as an index too (the HTTP layer's way)."""
    out = prefix
    for part in loc:
        if isinstance(part, int) or (digits_as_index and part.isdigit()):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _describe(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key (not allowed here)"
    if kind == "missing":
        return "required key missing"
    if kind == "pack":
        return str(error["msg"])
    value = error.get("input")
    shown = f" (got {value!r})" if isinstance(value, (str, int, float, bool)) or value is None else ""
    return f"{error['msg'][0].lower()}{error['msg'][1:]}{shown}"


def _check_public(loader: _Loader, public: PublicFile, meta: PackFile) -> None:
    """Every text of the public page is given in every public language."""
    languages = meta.public_locales or meta.locales
    texts = [(f"penalty[{i}].law", p.law) for i, p in enumerate(public.penalty)]
    texts += [(f"contact[{i}].names", c.names) for i, c in enumerate(public.contact)]
    for path, given in texts:
        for locale in languages:
            if locale not in given:
                loader.problem("public.toml", path, f"no text in {locale!r}, a public language of the pack "
                                                    "(pack.toml public_locales)")


def _check_regions(loader: _Loader, regions: RegionsFile, meta: PackFile | None) -> None:
    if not regions.region:
        loader.problem("regions.toml", "region", "must list at least one region")
    seen_kato: dict[str, int] = {}
    seen_iso: dict[str, int] = {}
    for i, region in enumerate(regions.region):
        for locale in meta.locales if meta is not None else ():
            if locale not in region.names:
                loader.problem("regions.toml", f"region[{i}].names",
                               f"no name in {locale!r}, an interface language of the pack (pack.toml locales)")
        if region.kato in seen_kato:
            loader.problem("regions.toml", f"region[{i}].kato",
                           f"{region.kato!r} already used by region[{seen_kato[region.kato]}]")
        if region.iso in seen_iso:
            loader.problem("regions.toml", f"region[{i}].iso",
                           f"{region.iso!r} already used by region[{seen_iso[region.iso]}]")
        seen_kato.setdefault(region.kato, i)
        seen_iso.setdefault(region.iso, i)


def _check_checkpoints(
    loader: _Loader, regions: RegionsFile, checkpoints: CheckpointsFile, meta: PackFile | None
) -> None:
    prefixes = {r.kato for r in regions.region}
    seen: dict[str, int] = {}
    for i, point in enumerate(checkpoints.checkpoint):
        if point.code in seen:
            loader.problem("checkpoints.toml", f"checkpoint[{i}].code",
                           f"{point.code!r} already used by checkpoint[{seen[point.code]}]")
        seen.setdefault(point.code, i)
        if point.kato[:2] not in prefixes:
            loader.problem("checkpoints.toml", f"checkpoint[{i}].kato",
                           f"no region with KATO prefix {point.kato[:2]!r} in regions.toml")
        if meta is not None and point.neighbour == meta.citizenship:
            loader.problem("checkpoints.toml", f"checkpoint[{i}].neighbour",
                           f"is the pack's own country {meta.citizenship!r}")


def _check_settlements(loader: _Loader, regions: RegionsFile, settlements: SettlementsFile,
                       meta: PackFile | None) -> None:
    prefixes = {r.kato for r in regions.region}
    seen: dict[str, int] = {}
    for i, place in enumerate(settlements.settlement):
        if place.kato in seen:
            loader.problem("settlements.toml", f"settlement[{i}].kato",
                           f"{place.kato!r} already used by settlement[{seen[place.kato]}]")
        seen.setdefault(place.kato, i)
        if place.kato[:2] not in prefixes:
            loader.problem("settlements.toml", f"settlement[{i}].kato",
                           f"{place.kato!r}: its first two digits name no region of regions.toml")
        for locale in meta.locales if meta is not None else ():
            if locale not in place.names:
                loader.problem("settlements.toml", f"settlement[{i}].names",
                               f"no name in {locale!r}, an interface language of the pack (pack.toml locales)")


def _check_calendar(loader: _Loader, calendar: CalendarFile) -> None:
    if calendar.holidays_provider is not None:
        # The registry's codes (aliases included): holidays.list_supported_countries() imports every country.
        from holidays.registry import EntityLoader

        if calendar.holidays_provider not in set(EntityLoader.get_country_codes()):
            loader.problem("calendar.toml", "holidays_provider",
                           f"unknown python-holidays country {calendar.holidays_provider!r}")
    off = {o.date: i for i, o in enumerate(calendar.extra_days_off)}
    for i, override in enumerate(calendar.extra_working_days):
        if override.date in off:
            loader.problem("calendar.toml", f"extra_working_days[{i}].date",
                           f"{override.date} is also extra_days_off[{off[override.date]}]")
    if len(set(calendar.weekend)) != len(calendar.weekend):
        loader.problem("calendar.toml", "weekend", "a day is listed twice")


def _check_stay(loader: _Loader, stay: StayFile, meta: PackFile | None) -> None:
    declared = ", ".join(stay.bases) or "none"
    if not stay.bases:
        loader.problem("stay.toml", "bases", "must declare at least one basis")
    for i, basis in enumerate(stay.host_notification.applies_to or ()):
        if basis not in stay.bases:
            loader.problem("stay.toml", f"host_notification.applies_to[{i}]",
                           f"unknown basis {basis!r} (declared in [bases]: {declared})")
    used_lists = {name for group in stay.group for version in group.version for name in version.lists}
    for name in stay.lists:
        if name not in used_lists:
            loader.problem("stay.toml", f"lists.{name}", "no rule version refers to this list")
    if not stay.group:
        loader.problem("stay.toml", "group", "must list at least one group")
        return
    defaults = [i for i, g in enumerate(stay.group) if g.default]
    if len(defaults) != 1:
        loader.problem("stay.toml", "group",
                       f"exactly one group must have default = true (found {len(defaults)})")
    codes: dict[str, int] = {}
    # member -> list of (from, to, path) to find a citizenship listed twice for the same dates
    claims: dict[str, list[tuple[int, int, str]]] = {}
    for gi, group in enumerate(stay.group):
        if group.code in codes:
            loader.problem("stay.toml", f"group[{gi}].code",
                           f"{group.code!r} already used by group[{codes[group.code]}]")
        codes.setdefault(group.code, gi)
        if not group.version:
            loader.problem("stay.toml", f"group[{gi}].version", "must list at least one version")
            continue
        previous_to: int | None = None
        for vi, version in enumerate(group.version):
            path = f"group[{gi}].version[{vi}]"
            start = version.valid_from.toordinal() if version.valid_from else MIN_ORD
            end = version.valid_to.toordinal() if version.valid_to else MAX_ORD
            if previous_to is not None and start <= previous_to:
                loader.problem("stay.toml", f"{path}.valid_from",
                               f"versions must follow each other without overlap; starts on or before "
                               f"the end of version[{vi - 1}]")
            previous_to = end
            if version.basis not in stay.bases:
                loader.problem("stay.toml", f"{path}.basis",
                               f"unknown basis {version.basis!r} (declared in [bases]: {declared})")
            if group.default and version.members:
                loader.problem("stay.toml", f"{path}.members", "the default group lists no members")
            if group.default and version.lists:
                loader.problem("stay.toml", f"{path}.lists", "the default group lists no members")
            # (where, code, how the message names it): list members first, as expanded
            entries: list[tuple[str, str, str]] = []
            for li, name in enumerate(version.lists):
                if name not in stay.lists:
                    loader.problem("stay.toml", f"{path}.lists[{li}]",
                                   f"unknown list {name!r} (declared in [lists]: {', '.join(stay.lists) or 'none'})")
                    continue
                entries += [(f"{path}.lists[{li}]", code, f"{code!r} (list {name!r})") for code in stay.lists[name]]
            entries += [(f"{path}.members[{mi}]", code, repr(code)) for mi, code in enumerate(version.members)]
            in_version: dict[str, str] = {}
            for where, code, named in entries:
                if code in in_version:
                    loader.problem("stay.toml", where, f"{named} is already a member through {in_version[code]}")
                    continue
                in_version[code] = where
                if meta is not None and code == meta.citizenship:
                    loader.problem("stay.toml", where,
                                   f"{named} is the pack's own citizenship: its citizens are not foreigners")
                for other_from, other_to, other_path in claims.get(code, []):
                    if start <= other_to and other_from <= end:
                        loader.problem("stay.toml", where,
                                       f"{named} is also listed in {other_path} for overlapping dates")
                claims.setdefault(code, []).append((start, end, path))
        if group.default:
            _check_default_covers_all_dates(loader, gi, group)


def _check_default_covers_all_dates(loader: _Loader, gi: int, group: CitizenshipGroup) -> None:
    versions = group.version
    gaps = versions[0].valid_from is not None or versions[-1].valid_to is not None or any(
        a.valid_to is None or b.valid_from is None or b.valid_from.toordinal() != a.valid_to.toordinal() + 1
        for a, b in pairwise(versions)
    )
    if gaps:
        loader.problem("stay.toml", f"group[{gi}].version",
                       "the default group must cover every date: first version without valid_from, "
                       "last without valid_to, no gaps")


def _check_retention(loader: _Loader, retention: RetentionFile) -> None:
    seen: dict[str, int] = {}
    for i, rule in enumerate(retention.rule):
        if rule.what in seen:
            loader.problem("retention.toml", f"rule[{i}].what",
                           f"{rule.what!r} already has a rule: rule[{seen[rule.what]}]")
        seen.setdefault(rule.what, i)
