"""Synthetic demo country: persons, their trips and the three import feeds, with the truth.

Deterministic for a seed and `today`: one `random.Random(seed)` stream drives everything,
nothing iterates over sets, and no row is dated on or after `today`.

Feeds (all values strings, dates ISO): border events from the border service, host arrival
notifications, residence permits (TRPs and visas). `truth` names the person behind every row,
marks rows an importer must reject and lists the deliberate defects of each row.
Trip-level defects (overstays, a missing notification) sit on the trip's entry row, or on its
exit row when the entry row is the one the feed lost.
"""

from __future__ import annotations

import bisect
import itertools
import random
import tomllib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Generic, TypedDict, TypeVar

from kosh import jurisdictions
from kosh.platform.identifiers import bin as bin_rules
from kosh.platform.identifiers import iin
from kosh_demo import names as nm

# ========================================================================================
# Rate parameters — every realism knob of the demo lives here.
# ========================================================================================

SIZES: dict[str, int] = {"small": 1_500, "medium": 30_000, "large": 300_000}
WINDOW_DAYS = 425  # ~14 months of history before `today`

# Citizenship of persons, after the 2022 entry figures and the household-permit shares.
CITIZENSHIP_MIX: dict[str, float] = {
    "UZB": 0.55, "KGZ": 0.17, "RUS": 0.10, "TJK": 0.08, "CHN": 0.04, "AZE": 0.017, "TUR": 0.013,
    "IND": 0.012, "TKM": 0.007, "AFG": 0.003, "DEU": 0.004, "KOR": 0.004,
}

# (visa-free, days per entry, days in any 180). TKM and AFG are treated as visa-required
# (assumption); CHN 30/90 follows the 2023 mutual visa exemption.
STAY_RULES: dict[str, tuple[bool, int, int]] = {
    "UZB": (True, 30, 90), "TJK": (True, 30, 90), "KGZ": (True, 90, 90), "RUS": (True, 90, 90),
    "AZE": (True, 30, 90), "TUR": (True, 30, 90), "KOR": (True, 30, 90), "DEU": (True, 30, 90),
    "CHN": (True, 30, 90), "IND": (True, 14, 42), "TKM": (False, 0, 0), "AFG": (False, 0, 0),
}

# Trip patterns per citizenship: seasonal workers re-entering, long EAEU stays, permit
# holders (work/family TRP, work visa, study) and short visits.
PROFILE_MIX: dict[str, dict[str, float]] = {
    "UZB": {"seasonal": 0.66, "work_trp": 0.12, "short": 0.22},
    "KGZ": {"seasonal": 0.55, "work_trp": 0.08, "short": 0.37},
    "TJK": {"seasonal": 0.70, "work_trp": 0.08, "short": 0.22},
    "RUS": {"long": 0.35, "work_trp": 0.25, "short": 0.40},
    "CHN": {"visa_work": 0.55, "short": 0.45},
    "AZE": {"seasonal": 0.40, "work_trp": 0.20, "short": 0.40},
    "TUR": {"seasonal": 0.20, "work_trp": 0.40, "short": 0.40},
    "IND": {"study": 0.50, "visa_work": 0.15, "short": 0.35},
    "TKM": {"study": 0.45, "visa_work": 0.15, "short": 0.40},
    "AFG": {"study": 0.40, "short": 0.60},
    "DEU": {"work_trp": 0.30, "short": 0.70},
    "KOR": {"work_trp": 0.40, "short": 0.60},
}
FAMILY_TRP_SHARE = 0.12  # of work_trp persons, whose TRP is for family reunification
MALE_SHARE: dict[str, float] = {
    "seasonal": 0.90, "long": 0.70, "work_trp": 0.86, "visa_work": 0.92, "study": 0.60, "short": 0.60,
    "family": 0.20,
}
LABOUR_AGE = (31.0, 7.0, 0.8)  # mean, sd, share drawn from the normal (rest uniform 18–55)

# Entries of Central Asian seasonal workers by month; everybody else is nearly flat.
SEASONAL_MONTHS = (0.15, 0.25, 1.0, 1.2, 1.1, 1.0, 0.9, 0.9, 1.0, 1.0, 0.7, 0.15)
FLAT_MONTHS = (0.8, 0.8, 0.9, 1.0, 1.0, 1.1, 1.1, 1.1, 1.0, 1.0, 0.9, 0.9)
WINTER_HOME = 0.85  # chance a seasonal worker waits for March instead of returning in winter

CHECKPOINT_MIX: dict[str, dict[str, float]] = {
    "UZB": {"ZHIBEK-ZHOLY": 0.40, "KAZYGURT": 0.14, "ATAMEKEN": 0.12, "SARYAGASH-RAIL": 0.13,
            "CIT-AIRPORT": 0.06, "ALA-AIRPORT": 0.08, "NQZ-AIRPORT": 0.05, "SCO-AIRPORT": 0.02},
    "TJK": {"ZHIBEK-ZHOLY": 0.30, "SARYAGASH-RAIL": 0.20, "KAZYGURT": 0.05, "CIT-AIRPORT": 0.15,
            "ALA-AIRPORT": 0.20, "NQZ-AIRPORT": 0.10},
    "KGZ": {"KORDAY": 0.55, "AK-ZHOL": 0.15, "KARASU": 0.15, "ALA-AIRPORT": 0.10, "NQZ-AIRPORT": 0.05},
    "CHN": {"KHORGOS": 0.40, "DOSTYK-RAIL": 0.15, "ALA-AIRPORT": 0.30, "NQZ-AIRPORT": 0.15},
    "RUS": {"ZHAISAN": 0.20, "PETROPAVL-RAIL": 0.20, "SYRYM": 0.15, "ALA-AIRPORT": 0.20,
            "NQZ-AIRPORT": 0.20, "SCO-AIRPORT": 0.05},
    "TKM": {"TEMIR-BABA": 0.60, "SCO-AIRPORT": 0.20, "ALA-AIRPORT": 0.20},
    "*": {"ALA-AIRPORT": 0.50, "NQZ-AIRPORT": 0.33, "CIT-AIRPORT": 0.05, "SCO-AIRPORT": 0.12},
}
SAME_EXIT_CHECKPOINT = 0.7

# Region (KATO prefix) where the person lives and works.
REGION_MIX: dict[str, dict[str, float]] = {
    "UZB": {"79": 0.20, "61": 0.15, "75": 0.25, "19": 0.10, "71": 0.12, "23": 0.04, "47": 0.04,
            "31": 0.04, "35": 0.02, "43": 0.02, "15": 0.02},
    "KGZ": {"75": 0.45, "19": 0.20, "31": 0.10, "71": 0.12, "33": 0.05, "79": 0.04, "23": 0.02, "47": 0.02},
    "TJK": {"75": 0.30, "79": 0.15, "61": 0.10, "71": 0.20, "19": 0.10, "23": 0.05, "47": 0.05, "31": 0.05},
    "RUS": {"75": 0.30, "71": 0.25, "59": 0.08, "39": 0.07, "55": 0.05, "63": 0.06, "35": 0.05,
            "27": 0.05, "15": 0.04, "23": 0.05},
    "CHN": {"75": 0.25, "71": 0.15, "23": 0.15, "33": 0.10, "19": 0.08, "15": 0.07, "43": 0.06,
            "47": 0.06, "79": 0.04, "55": 0.04},
    "*": {"75": 0.35, "71": 0.30, "23": 0.12, "47": 0.08, "79": 0.05, "35": 0.05, "15": 0.05},
}

# Share of hosts that are organisations (employer, hotel, university) by trip pattern.
HOST_ORG_SHARE: dict[str, float] = {
    "seasonal": 0.45, "long": 0.35, "work_trp": 0.80, "visa_work": 0.95, "study": 0.90, "short": 0.55,
}
NEW_HOST_CHANCE = {"organisation": 0.12, "individual": 0.35}  # else an existing host in the region
OTHER_HOST_PER_TRIP = 0.15  # a trip hosted by someone else than the person's usual host
ADDRESS_CHANGE = 0.05  # long stays with a second notification after moving
ARRIVAL_NEXT_DAY = 0.2  # arrival at the host the day after the crossing

# How hosts type the name: Russian-style Cyrillic, native script, native Latin, passport Latin.
NAME_STYLE_MIX: dict[str, dict[str, float]] = {
    "UZB": {"ru": 0.70, "native": 0.08, "latin": 0.07, "passport": 0.15},
    "KGZ": {"ru": 0.78, "native": 0.10, "passport": 0.12},
    "TJK": {"ru": 0.75, "native": 0.10, "passport": 0.15},
    "RUS": {"ru": 0.92, "passport": 0.08},
    "CHN": {"ru": 0.50, "latin": 0.40, "native": 0.03, "passport": 0.07},
    "*": {"ru": 0.55, "latin": 0.25, "passport": 0.20},
}
LATIN_FIELDS_FILLED = 0.4
PATRONYMIC_OMITTED = 0.2
UPPERCASE_TYPED = 0.15

# Deliberate defects. Base of each rate in the comment; at least one of each is made.
DEFECT_RATES: dict[str, float] = {
    # persons (visa-free, no permit) whose trips break the stay rules
    "overstay_per_entry": 0.03,  # one stay past the per-entry limit, left since
    "overstay_now": 0.012,  # in the country now, past the per-entry limit
    "overstay_90_180": 0.03,  # visa runs: near-limit stays with 1–3 days outside
    # persons with two or more trips
    "passport_renewal": 0.03,  # a new passport number after renewal
    "dual_nationality": 0.05,  # of Kyrgyz persons: a second, Russian passport
    "exit_without_entry": 0.006,  # the border feed lost the first entry
    # notifications
    "no_notification": 0.04,  # never submitted
    "notification_overdue_now": 0.004,  # in the country ≥ 14 days now, not yet notified
    "late_notification": 0.08,  # submitted 14+ days after arrival (deadline: 3 working days)
    "duplicate_notification": 0.02,  # submitted twice by the same host
    "duplicate_other_host": 0.006,  # the same stay notified by a second host
    "typo_dropped_letter": 0.015,
    "typo_doubled_letter": 0.01,
    "typo_homoglyph": 0.01,  # a Latin look-alike inside a Cyrillic name
    "name_swap": 0.01,  # surname and given name swapped
    "dob_day_month_swap": 0.01,
    # invalid rows an importer must reject, per row of their feed
    "reject_bad_iin": 0.001,  # notification: host IIN with a wrong check digit
    "reject_unknown_country": 0.001,  # border event: nationality 'XYZ'
    "reject_impossible_date": 0.001,  # notification: arrival on 30 February
    "reject_future_birth_date": 0.001,  # notification: birth date after today
}
REJECT_KINDS = ("reject_bad_iin", "reject_unknown_country", "reject_impossible_date", "reject_future_birth_date")

# ========================================================================================
# Output formats
# ========================================================================================

COLUMNS: dict[str, tuple[str, ...]] = {
    "border_events": (
        "source_event_id", "direction", "occurred_at", "checkpoint", "document_type", "document_number",
        "issuing_state", "nationality", "surname", "given_names", "sex", "birth_date", "document_expiry",
    ),
    "notifications": (
        "source_event_id", "host_kind", "host_id", "host_name", "surname", "given_names", "patronymic",
        "surname_latin", "given_names_latin", "sex", "birth_date", "citizenship", "document_number",
        "issuing_state", "kato", "address", "arrival_date", "expected_departure", "submitted_at",
    ),
    "residence_permits": (
        "source_event_id", "document_number", "issuing_state", "kind", "purpose", "valid_from", "valid_to", "kato",
    ),
    "truth": ("source", "source_event_id", "person_key", "expected_reject", "defects"),
    "hosts": ("host_id", "host_kind", "host_name", "kato"),
    "persons": (
        "person_key", "citizenship", "second_citizenship", "sex", "birth_date", "profile", "surname",
        "given_names", "patronymic", "surname_latin", "given_names_latin",
    ),
}


def typed_name(rng: random.Random, name: nm.PersonName, style: str,
               passport: tuple[str, str]) -> tuple[str, str, str]:
    """(surname, given names, patronymic) as a host types them in `style`: the native script,
    the national Latin alphabet, a copy of the passport, or Russian (a Russian form, sometimes
    in capitals); a patronymic with the Cyrillic forms, unless omitted."""
    if style == "native" and name.native:
        s, g = name.native
    elif style == "latin" and name.latin:
        s, g = name.latin
    elif style == "passport":
        s, g = passport
    else:
        s, g = name.ru
        style = "ru"
    patr = name.patronymic if style in ("ru", "native") and rng.random() >= PATRONYMIC_OMITTED else ""
    if style == "ru" and rng.random() < UPPERCASE_TYPED:
        s, g, patr = s.upper(), g.upper(), patr.upper()
    return s, g, patr


class TruthRow(TypedDict):
    source: str  # the feed: border_events, notifications or residence_permits
    source_event_id: str
    person_key: str
    expected_reject: bool
    defects: str  # the deliberate defects, ';'-separated


@dataclass
class DemoCountry:
    seed: int
    size: str
    today: date
    persons: list[dict[str, str]]
    hosts: list[dict[str, str]]
    border_events: list[dict[str, str]]
    notifications: list[dict[str, str]]
    residence_permits: list[dict[str, str]]
    truth: list[TruthRow]


# ========================================================================================
# Reference data
# ========================================================================================

_KZ = Path(jurisdictions.__file__).resolve().parent / "kz"


def _load(name: str) -> dict[str, Any]:
    with open(_KZ / name, "rb") as fh:
        return tomllib.load(fh)


REGIONS: dict[str, dict[str, Any]] = {r["kato"]: r for r in _load("regions.toml")["region"]}
CHECKPOINTS: dict[str, dict[str, str]] = {c["code"]: c for c in _load("checkpoints.toml")["checkpoint"]}

_CENTRE_RU = {
    "Semey": ("Семей", "Семей"), "Kokshetau": ("Кокшетау", "Көкшетау"), "Aktobe": ("Актобе", "Ақтөбе"),
    "Konaev": ("Конаев", "Қонаев"), "Atyrau": ("Атырау", "Атырау"), "Oral": ("Уральск", "Орал"),
    "Taraz": ("Тараз", "Тараз"), "Taldykorgan": ("Талдыкорган", "Талдықорған"),
    "Karaganda": ("Караганда", "Қарағанды"), "Kostanay": ("Костанай", "Қостанай"),
    "Kyzylorda": ("Кызылорда", "Қызылорда"), "Aktau": ("Актау", "Ақтау"), "Pavlodar": ("Павлодар", "Павлодар"),
    "Petropavl": ("Петропавловск", "Петропавл"), "Turkistan": ("Туркестан", "Түркістан"),
    "Zhezkazgan": ("Жезказган", "Жезқазған"), "Oskemen": ("Усть-Каменогорск", "Өскемен"),
    "Astana": ("Астана", "Астана"), "Almaty": ("Алматы", "Алматы"), "Shymkent": ("Шымкент", "Шымкент"),
}
_STREETS = (
    ("Абая", "Абай"), ("Толе би", "Төле би"), ("Сейфуллина", "Сейфуллин"), ("Жибек Жолы", "Жібек жолы"),
    ("Байтурсынова", "Байтұрсынов"), ("Кабанбай батыра", "Қабанбай батыр"), ("Республики", "Республика"),
    ("Мира", "Бейбітшілік"), ("Гагарина", "Гагарин"), ("Момышулы", "Момышұлы"), ("Кунаева", "Қонаев"),
    ("Желтоксан", "Желтоқсан"), ("Райымбека", "Райымбек"), ("Рыскулова", "Рысқұлов"),
    ("Богенбай батыра", "Бөгенбай батыр"), ("Жамбыла", "Жамбыл"), ("Сатпаева", "Сәтбаев"),
    ("Ауэзова", "Әуезов"), ("Абылай хана", "Абылай хан"), ("Валиханова", "Уәлиханов"),
    ("Тауелсиздик", "Тәуелсіздік"), ("Строителей", "Құрылысшылар"), ("Пушкина", "Пушкин"),
)
_VILLAGES = ("Жана-Жол", "Акбулак", "Коктерек", "Енбек", "Береке", "Кайнар", "Караой", "Жетысу", "Узынагаш")
_ORG_FORMS = (("ТОО", 0.78), ("ИП", 0.12), ("АО", 0.05), ("Гостиница", 0.05))
_ORG_FIRST = ("Алатау", "Жетысу", "Нур", "Береке", "Сапа", "Каспий", "Сарыарка", "Орда", "Шанырак", "Дала",
              "Алтын", "Кокжиек", "Самал", "Асыл", "Темир", "Бирлик", "Достар", "Евразия", "Восток", "Тулпар")
_ORG_SECOND = (" Строй", " СтройИнвест", " Сервис", " Агро", " Транс", " Логистик", " Монтаж", " Бетон",
               " Торг", " Текстиль", "-Курылыс", " Мунай Сервис", " Групп", " Пром", " Энерго", " Маркет")
_CHN_ORG = ("Синьцзян", "Хуасинь", "Чжунтай", "Шэньхуа", "Цзиньлун", "Хуатай")
HOMOGLYPHS = {"а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "А": "A", "В": "B",
               "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X"}
_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 9, 9, 9, 9, 8, 8, 7, 6, 5, 4, 3, 2, 1)
_PASSPORT_YEARS = 3652  # ten-year passports for all listed countries (simplification)
# (number, issuing state, expiry, surname, given names): expiry ISO, names in passport Latin
_Passport = tuple[str, str, str, str, str]


# ========================================================================================
# Small helpers
# ========================================================================================


K = TypeVar("K")


class _Weighted(Generic[K]):
    """Draws a key with the given weights from one uniform number (faster than rng.choices)."""

    __slots__ = ("keys", "cum")

    def __init__(self, weights: Mapping[K, float] | Sequence[tuple[K, float]]) -> None:
        items = list(weights.items()) if isinstance(weights, Mapping) else list(weights)
        self.keys = [k for k, _ in items]
        self.cum = list(itertools.accumulate(w for _, w in items))

    def __call__(self, rng: random.Random) -> K:
        return self.keys[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]


class _Host:
    __slots__ = ("host_id", "kind", "name", "kato", "region", "address")
    host_id: str
    kind: str
    name: str
    kato: str
    region: str
    address: str


class _Trip:
    __slots__ = ("e", "x", "declared", "host", "passport", "doc_defect", "defects", "entry", "exit")

    def __init__(self, e: int, x: int, declared: int) -> None:
        self.e, self.x, self.declared = e, x, declared
        self.host: _Host  # set by _Builder._trips before any row of the trip is made
        self.passport = 0
        self.doc_defect = ""  # set when the trip uses a renewed or a second passport
        self.defects: list[str] = []
        self.entry: _Rec | None = None
        self.exit: _Rec | None = None


class _Person:
    __slots__ = ("key", "cit", "profile", "purpose", "sex", "born", "born_iso", "name", "region", "host",
                 "trips", "passports", "permits", "plan", "second_cit", "scheme")
    key: str
    cit: str
    profile: str
    purpose: str
    sex: str
    born: int  # ordinal
    born_iso: str
    name: nm.PersonName
    region: str
    host: _Host
    trips: list[_Trip]
    passports: list[_Passport]
    permits: list[tuple[str, str, int, int]]  # (kind, purpose, valid from, valid to) as ordinals
    plan: set[str]  # the defects planned for this person
    second_cit: str
    scheme: str  # the romanisation of the first passport


class _Rec:
    """A feed row with what the truth needs to know about it."""

    __slots__ = ("row", "person", "defects", "reject", "trip", "day", "sec", "arr", "primary")

    def __init__(self, row: dict[str, str], person: _Person, trip: _Trip | None = None) -> None:
        self.row, self.person, self.trip = row, person, trip
        self.defects: list[str] = []
        self.reject = False
        self.day = self.sec = self.arr = 0
        self.primary = True

    @property
    def stay(self) -> _Trip:
        """The trip of a border or notification row (a permit row has none)."""
        assert self.trip is not None, "a permit row has no trip"
        return self.trip


# ========================================================================================
# Generator
# ========================================================================================


def generate(seed: int = 7, size: str = "small",
             today: date | None = None) -> DemoCountry:
    """Build the demo country for `seed`; identical output for identical (seed, size, today)."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    return _Builder(seed, size, today or date.today()).run()


class _Builder:
    def __init__(self, seed: int, size: str, today: date) -> None:
        self.seed, self.size, self.today = seed, size, today
        self.rng = random.Random(seed)
        self.T = today.toordinal()
        self.W0 = self.T - WINDOW_DAYS
        self._iso: dict[int, str] = {}
        self._month: dict[int, int] = {}
        self._host_pools: dict[tuple[str, str], list[_Host]] = {}
        self._host_ids: set[str] = set()
        self._doc_numbers: set[str] = set()
        self._districts: dict[str, list[str]] = {}
        self.cit_pick = _Weighted(CITIZENSHIP_MIX)
        self.profile_pick = {c: _Weighted(m) for c, m in PROFILE_MIX.items()}
        self.region_pick = {c: _Weighted(m) for c, m in REGION_MIX.items()}
        self.cp_pick = {c: _Weighted(m) for c, m in CHECKPOINT_MIX.items()}
        self.style_pick = {c: _Weighted(m) for c, m in NAME_STYLE_MIX.items()}
        self.hour_pick = _Weighted(list(enumerate(_HOUR_WEIGHTS)))
        self.org_form_pick = _Weighted(_ORG_FORMS)
        self.seasonal_day = self._day_sampler(SEASONAL_MONTHS)
        self.flat_day = self._day_sampler(FLAT_MONTHS)

    # ---- dates -------------------------------------------------------------------------

    def iso(self, ordinal: int) -> str:
        s = self._iso.get(ordinal)
        if s is None:
            s = self._iso[ordinal] = date.fromordinal(ordinal).isoformat()
        return s

    def month(self, ordinal: int) -> int:
        m = self._month.get(ordinal)
        if m is None:
            m = self._month[ordinal] = date.fromordinal(ordinal).month
        return m

    def stamp(self, ordinal: int, sec: int) -> str:
        return f"{self.iso(ordinal)}T{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}+05:00"

    def clock(self) -> int:
        return self.hour_pick(self.rng) * 3600 + self.rng.randrange(3600)

    def _day_sampler(self, month_weights: tuple[float, ...]) -> _Weighted:
        days = range(self.W0, self.T)
        return _Weighted([(d, month_weights[self.month(d) - 1]) for d in days])

    # ---- run ---------------------------------------------------------------------------

    def run(self) -> DemoCountry:
        persons = [self._person(i) for i in range(SIZES[self.size])]
        self._shape_defects(persons)
        for p in persons:
            self._trips(p)
            self._label_overstays(p)
        self._passports(persons)
        gap = self._pick_persons(
            [p for p in persons if p.trips and p.trips[0].x < self.T and not p.permits], "exit_without_entry")
        for p in gap:
            p.plan.add("exit_without_entry")
        borders: list[_Rec] = []
        notes: list[_Rec] = []
        permits: list[_Rec] = []
        for p in persons:
            self._emit(p, borders, notes, permits)
        notes = self._notification_defects(notes)
        borders, notes = self._rejects(borders, notes)
        return self._finish(persons, borders, notes, permits)

    # ---- persons -----------------------------------------------------------------------

    def _person(self, i: int) -> _Person:
        rng = self.rng
        p = _Person()
        p.key = f"P{i + 1:07d}"
        p.cit = cit = self.cit_pick(rng)
        p.profile = self.profile_pick[cit](rng)
        p.purpose = ""
        if p.profile == "work_trp":
            p.purpose = "family" if rng.random() < FAMILY_TRP_SHARE else "work"
        male_share = MALE_SHARE["family" if p.purpose == "family" else p.profile]
        p.sex = "M" if rng.random() < male_share else "F"
        if p.profile == "short":
            age = rng.uniform(20, 68)
        elif p.profile == "study":
            age = rng.uniform(18, 25)
        else:
            mean, sd, share = LABOUR_AGE
            age = min(55.5, max(18.0, rng.gauss(mean, sd))) if rng.random() < share else rng.uniform(18, 55.5)
        born = self.T - int(age * 365.25) - rng.randrange(1, 30)
        p.born = born
        p.born_iso = self.iso(born)
        p.name = nm.NATIONALITIES[cit].draw(rng, p.sex)
        p.region = self.region_pick.get(cit, self.region_pick["*"])(rng)
        p.host = self._host_for(p.region, p.profile, cit)
        p.trips, p.passports, p.permits = [], [], []
        p.plan = set()
        p.second_cit = ""
        return p

    def _pick_persons(self, candidates: list[_Person], kind: str) -> list[_Person]:
        n = min(len(candidates), max(1, round(DEFECT_RATES[kind] * len(candidates))))
        return self.rng.sample(candidates, n) if n else []

    def _shape_defects(self, persons: list[_Person]) -> None:
        # Overstay plans need a visa-free person who holds no permit; one plan each.
        free = [p for p in persons if STAY_RULES[p.cit][0] and p.profile in ("seasonal", "long", "short")]
        self.rng.shuffle(free)
        n = len(free)
        counts = [max(1, round(DEFECT_RATES[k] * n)) for k in ("overstay_per_entry", "overstay_now", "overstay_90_180")]
        start = 0
        for kind, c in zip(("overstay_per_entry", "overstay_now", "overstay_90_180"), counts, strict=True):
            for p in free[start:start + c]:
                p.plan.add(kind)
            start += c

    # ---- hosts -------------------------------------------------------------------------

    def _host_for(self, region: str, profile: str, cit: str, kind: str | None = None,
                  exclude: _Host | None = None) -> _Host:
        rng = self.rng
        if kind is None:
            kind = "organisation" if rng.random() < HOST_ORG_SHARE[profile] else "individual"
        pool = self._host_pools.setdefault((region, kind), [])
        if pool and rng.random() >= NEW_HOST_CHANCE[kind]:
            h = pool[rng.randrange(len(pool))]
            if h is not exclude:
                return h
        h = self._new_host(region, kind, cit)
        pool.append(h)
        return h

    def _new_host(self, region: str, kind: str, cit: str) -> _Host:
        rng = self.rng
        h = _Host()
        h.kind, h.region = kind, region
        while True:
            if kind == "individual":
                sex = "M" if rng.random() < 0.55 else "F"
                born = date.fromordinal(self.T - rng.randint(23 * 365, 75 * 365))
                number = iin.make(born, sex, rng.randrange(10000))
            else:
                form = self.org_form_pick(rng)
                entity = "6" if form == "ИП" else ("5" if cit == "CHN" and rng.random() < 0.3 else "4")
                attribute = "1" if entity != "6" and rng.random() < 0.15 else "0"
                year = rng.randint(1998, self.today.year - 1)
                number = bin_rules.make(year, rng.randint(1, 12), entity, attribute, rng.randrange(100000))
            if number and number not in self._host_ids:
                break
        self._host_ids.add(number)
        h.host_id = number
        if kind == "individual":
            name = nm.KAZAKH_HOSTS.draw(rng, sex)
            h.name = f"{name.ru[0]} {name.ru[1]} {name.patronymic}"
        elif form == "ИП":
            name = nm.KAZAKH_HOSTS.draw(rng, "M" if rng.random() < 0.6 else "F")
            h.name = f"ИП {name.ru[0]} {name.ru[1][0]}.{name.patronymic[0]}."
        else:
            first = rng.choice(_CHN_ORG) if cit == "CHN" and rng.random() < 0.5 else rng.choice(_ORG_FIRST)
            h.name = f"{form} «{first}{rng.choice(_ORG_SECOND)}»"
        h.kato = self._kato(region)
        h.address = self._address(region, kind)
        return h

    def _kato(self, region: str) -> str:
        rng = self.rng
        districts = self._districts.get(region)
        if districts is None:
            # A handful of synthetic districts per region so that hosts cluster.
            districts = self._districts[region] = [f"{d:02d}" for d in rng.sample(range(10, 60), 6)]
        rural = rng.choice(("00", "00", "10", "20", "30", "40"))
        settlement = "000" if rural == "00" else f"{rng.randint(1, 99):03d}"
        return f"{region}{rng.choice(districts)}{rural}{settlement}"

    def _address(self, region: str, kind: str) -> str:
        rng = self.rng
        names = REGIONS[region]["names"]
        ru, kk = _CENTRE_RU.get(REGIONS[region]["centre"], (names["ru"], names["kk"]))
        street_ru, street_kk = rng.choice(_STREETS)
        house = rng.randint(1, 250)
        flat = rng.randint(1, 180) if kind == "individual" and rng.random() < 0.7 else 0
        r = rng.random()
        if region not in ("71", "75", "79") and r < 0.25:
            return f"{REGIONS[region]['names']['ru']}, с. {rng.choice(_VILLAGES)}, ул. {street_ru}, д. {house}"
        if r < 0.45:
            return f"{kk} қ., {street_kk} көшесі, {house}" + (f", {flat}-пәтер" if flat else "")
        if r < 0.55:
            return f"г. {ru}, мкр. {rng.randint(1, 12)}, д. {house}" + (f", кв. {flat}" if flat else "")
        return f"г. {ru}, ул. {street_ru}, д. {house}" + (f", кв. {flat}" if flat else "")

    # ---- trips -------------------------------------------------------------------------

    @staticmethod
    def _present(trips: list[_Trip], e: int, x: int) -> int:
        """Days present in the 180 days ending on x, counting a stay from e to x (both inclusive)."""
        lo = x - 179
        n = x - max(e, lo) + 1
        for t in trips:
            if t.x >= lo:
                n += min(t.x, x) - max(t.e, lo) + 1
        return n

    def _chain(self, p: _Person, start: int, stay: tuple[int, int], gap: tuple[int, int], p_stop: float,
               seasonal: bool, first_stay: int = 0) -> list[_Trip]:
        """Trips that respect the per-entry and 180-day limits with a margin (except first_stay)."""
        rng, T = self.rng, self.T
        visa_free, limit, in180 = STAY_RULES[p.cit]
        if not visa_free:
            limit, in180 = 10**6, 10**6  # a visa covers each trip instead
        cap = in180 - 4
        lo, hi = stay[0], min(stay[1], limit - 2, cap - 1)
        trips: list[_Trip] = []
        e = start
        while e < T:
            if first_stay and not trips:
                length = first_stay
            else:
                length = max(rng.randint(lo, hi), rng.randint(lo, hi))  # leans towards the limit
                over = self._present(trips, e, e + length) - cap
                while over > 0:
                    if length - over >= lo:
                        length -= over
                    else:
                        e += over
                    over = self._present(trips, e, e + length) - cap
                if e >= T:
                    break
            x = e + length
            trips.append(_Trip(e, x, x))
            if x >= T or rng.random() < p_stop:
                break
            e = x + rng.randint(*gap)
            if seasonal and self.month(e) in (12, 1, 2) and rng.random() < WINTER_HOME:
                d = date.fromordinal(e)
                e = date(d.year + (d.month == 12), 3, 1).toordinal() + rng.randint(0, 45)
        return trips

    def _trips(self, p: _Person) -> None:
        rng, T, W0 = self.rng, self.T, self.W0
        visa_free, limit, _ = STAY_RULES[p.cit]
        prof = p.profile
        if "overstay_90_180" in p.plan:
            # Visa runs: stays just under the limit with a day or three outside, no 180-day care.
            n = {14: 7, 30: 5}.get(limit, 3)
            e = rng.randint(W0, max(W0, T - n * (limit + 2) - 5))
            for _ in range(n):
                x = e + rng.randint(limit - 5, limit - 2)
                p.trips.append(_Trip(e, x, x))
                if x >= T:
                    break
                e = x + rng.randint(1, 3)
                if e >= T:
                    break
        elif prof in ("seasonal", "long", "short"):
            if prof == "seasonal":
                args = ((7, 28), (2, 40), 0.12, True) if limit <= 30 else ((20, 85), (5, 60), 0.2, True)
            elif prof == "long":
                args = ((15, 85), (10, 90), 0.35, False)
            else:
                args = ((2, 12), (20, 150), 0.55, False)
            seasonal = args[3]
            first = 0
            if "overstay_per_entry" in p.plan:
                first = limit + rng.randint(4, 40)
                start = rng.randint(W0, T - first - 30)
            else:
                start = (self.seasonal_day if seasonal else self.flat_day)(rng)
            p.trips = self._chain(p, start, *args, first_stay=first)
            if "overstay_now" in p.plan:
                e_last = T - limit - rng.randint(4, 45)
                p.trips = [t for t in p.trips if t.x < e_last - 1]
                p.trips.append(_Trip(e_last, T + 365, e_last + limit - 1 - rng.randint(0, 7)))
            elif first:
                t = p.trips[0]
                t.declared = t.e + limit - 1 - rng.randint(0, 7)
            if not visa_free:
                for t in p.trips:
                    vf = t.e - rng.randint(5, 30)
                    vt = max(t.e + rng.choice((30, 60, 90)), t.x + 2)
                    p.permits.append(("visa", rng.choice(("private", "business", "tourism")), vf, vt))
        elif prof == "work_trp":
            e0 = self.flat_day(rng)
            vf = e0 + rng.randint(7, max(7, min(limit - 5, 60)))
            vt = vf + rng.randint(180, 365)
            cur = e0
            while cur < T:
                end = cur + rng.randint(60, 200)
                if not p.trips:
                    end = max(end, vf + 10)
                if end >= vt - 2:
                    end = max(cur + 3, vt - rng.randint(2, 12))  # leave before the TRP ends
                p.trips.append(_Trip(cur, end, min(end, vt)))
                if end >= T:
                    break
                cur = end + rng.randint(5, 25)
                if cur >= vt - 15:
                    break
            p.permits.append(("trp", p.purpose, vf, vt))
        elif prof == "visa_work":
            e0 = self.flat_day(rng)
            if p.cit == "CHN" and rng.random() < 0.3:
                kind, vf = "trp", e0 + rng.randint(5, 20)  # TRP within the 30 visa-free days
                vt = vf + 365
            else:
                vf, kind = e0 - rng.randint(5, 40), "visa"
                vt = vf + rng.choice((180, 365, 365, 730))
            cur = e0
            while cur < T:
                end = cur + rng.randint(30, 150)
                if kind == "trp" and not p.trips:
                    end = max(end, vf + 10)
                if end > vt - 3:
                    end = vt - rng.randint(3, 15)
                if end <= cur + 1:
                    break
                p.trips.append(_Trip(cur, end, end))
                if end >= T:
                    break
                cur = end + rng.randint(7, 40)
                if cur >= vt - 10:
                    break
            p.permits.append((kind, "work", vf, vt))
        elif prof == "study":
            ref = date.fromordinal(T - 15)
            year = ref.year if ref.month >= 9 else ref.year - 1
            sep1 = date(year, 9, 1).toordinal()
            e0 = sep1 - rng.randint(0, 20)
            vt = date(year + 1, 7, 15).toordinal()
            if visa_free:
                kind, vf = "trp", e0 + rng.randint(3, max(3, min(25, limit - 5)))
            else:
                kind, vf = "visa", e0 - rng.randint(10, 40)
            x1 = date(year, 12, 22).toordinal() + rng.randint(0, 8)
            e2 = date(year + 1, 1, 15).toordinal() + rng.randint(0, 10)
            x2 = date(year + 1, 6, 20).toordinal() + rng.randint(0, 15)
            p.trips.append(_Trip(e0, x1, x1))
            if x1 < T and e2 < T:
                p.trips.append(_Trip(e2, x2, x2))
            p.permits.append((kind, "study", vf, vt))
        # Drop anything that would start before the window or today (defensive).
        p.trips = [t for t in p.trips if W0 <= t.e < T]
        for t in p.trips:
            t.host = p.host if rng.random() >= OTHER_HOST_PER_TRIP else self._host_for(p.region, prof, p.cit)

    def _label_overstays(self, p: _Person) -> None:
        """Mark each trip that breaks the per-entry or the 180-day limit (visa-free, no permit)."""
        visa_free, limit, in180 = STAY_RULES[p.cit]
        if not visa_free or p.permits:
            return
        T = self.T
        for i, t in enumerate(p.trips):
            ongoing = t.x >= T
            end = T if ongoing else t.x
            if end - t.e + 1 > limit:
                t.defects.append("overstay_now" if ongoing else "overstay_per_entry")
            if self._present(p.trips[:i], t.e, end) > in180:
                t.defects.append("overstay_90_180")

    # ---- passports ---------------------------------------------------------------------

    def _doc_number(self, state: str) -> str:
        rng = self.rng
        digits = "0123456789"
        while True:
            if state == "UZB":
                n = rng.choice(("FA", "FB", "AA", "AB", "AC", "AD")) + f"{rng.randrange(10**7):07d}"
            elif state == "KGZ":
                n = ("ID" if rng.random() < 0.2 else rng.choice(("AC", "AN"))) + f"{rng.randrange(10**7):07d}"
            elif state == "RUS":
                n = f"{rng.choice((72, 73, 75, 76, 77))}{rng.randrange(10**7):07d}"  # '75 1234567' stored compact
            elif state == "TJK":
                n = f"4{rng.randrange(10**8):08d}"  # shape assumed: 9 digits from 4
            elif state == "CHN":
                n = f"E{rng.randrange(10**8):08d}" if rng.random() < 0.7 else f"EA{rng.randrange(10**7):07d}"
            elif state == "AZE":
                n = "C" + f"{rng.randrange(10**8):08d}"
            elif state == "TUR":
                n = "U" + f"{rng.randrange(10**8):08d}"
            elif state == "IND":
                n = rng.choice("JKLMNPRSTUVWZ") + f"{rng.randrange(10**7):07d}"
            elif state == "TKM":
                n = "A" + f"{rng.randrange(10**7):07d}"
            elif state == "AFG":
                n = "P" + f"{rng.randrange(10**7):07d}"
            elif state == "DEU":
                chars = "CFGHJKLMNPRTVWXYZ" + digits
                n = rng.choice("CFGHJK") + "".join(rng.choice(chars) for _ in range(8))
            elif state == "KOR":
                n = "M" + f"{rng.randrange(10**8):08d}"
            else:
                n = "X" + f"{rng.randrange(10**8):08d}"
            if n not in self._doc_numbers:
                self._doc_numbers.add(n)
                return n

    def _passport(self, p: _Person, state: str, scheme: str, expiry: int) -> _Passport:
        surname, given = (p.name.passport[scheme] if scheme in p.name.passport
                          else (nm.icao(p.name.ru[0]), nm.icao(p.name.ru[1])))
        return (self._doc_number(state), state, self.iso(expiry), surname, given)

    def _passports(self, persons: list[_Person]) -> None:
        rng, T = self.rng, self.T
        for p in persons:
            scheme = nm.NATIONALITIES[p.cit].scheme(rng)
            p.passports.append(self._passport(p, p.cit, scheme, T + rng.randint(200, 9 * 365)))
            p.scheme = scheme
        multi = [p for p in persons if len(p.trips) >= 2 and not p.permits]
        dual = self._pick_persons([p for p in multi if p.cit == "KGZ"], "dual_nationality")
        for p in dual:
            # Ethnic Kyrgyz with a Russian passport too; the two MRZ names may differ.
            p.second_cit = "RUS"
            p.passports.append(self._passport(p, "RUS", "icao", T + rng.randint(200, 9 * 365)))
            for t in p.trips[1:]:
                t.passport = 1 if rng.random() < 0.5 else 0
            if all(t.passport == 0 for t in p.trips):
                p.trips[-1].passport = 1
            for t in p.trips:
                if t.passport == 1:
                    t.doc_defect = "dual_nationality"
        renew = self._pick_persons([p for p in multi if not p.second_cit], "passport_renewal")
        for p in renew:
            k = rng.randint(1, len(p.trips) - 1)
            old_expiry = p.trips[k].e + rng.randint(0, 150)
            old = p.passports[0]
            p.passports[0] = (old[0], old[1], self.iso(old_expiry), old[3], old[4])
            scheme = p.scheme
            if p.cit == "UZB" and scheme != "uz" and rng.random() < 0.6:
                scheme = "uz"  # renewed Uzbek passports switch to Uzbek Latin (KHOLMATOV → XOLMATOV)
            p.passports.append(self._passport(p, p.cit, scheme, T + rng.randint(6 * 365, 10 * 365)))
            for t in p.trips[k:]:
                t.passport = 1
                t.doc_defect = "passport_renewal"

    # ---- emission ----------------------------------------------------------------------

    def _border(self, p: _Person, t: _Trip, direction: str, day: int, cp: str) -> _Rec:
        pp = p.passports[t.passport]
        sec = self.clock()
        row = {
            "source_event_id": "", "direction": direction, "occurred_at": self.stamp(day, sec), "checkpoint": cp,
            "document_type": "P", "document_number": pp[0], "issuing_state": pp[1], "nationality": pp[1],
            "surname": pp[3], "given_names": pp[4], "sex": p.sex, "birth_date": p.born_iso,
            "document_expiry": pp[2],
        }
        rec = _Rec(row, p, t)
        rec.day, rec.sec = day, sec
        if t.doc_defect:
            rec.defects.append(t.doc_defect)
        return rec

    def _typed_name(self, p: _Person, pp: tuple[str, str, str, str, str]) -> tuple[str, str, str, str, str]:
        rng = self.rng
        style = self.style_pick.get(p.cit, self.style_pick["*"])(rng)
        s, g, patr = typed_name(rng, p.name, style, (pp[3], pp[4]))
        sl, gl = (pp[3], pp[4]) if rng.random() < LATIN_FIELDS_FILLED else ("", "")
        return s, g, patr, sl, gl

    def _notification(self, p: _Person, t: _Trip, host: _Host, arrival: int) -> _Rec | None:
        rng, T = self.rng, self.T
        k = (0, 0, 1, 1, 1, 2)[rng.randrange(6)]  # on time: within two calendar days
        sec = rng.randint(9 * 3600, 21 * 3600)
        if k == 0 and arrival == t.e and t.entry is not None and sec <= t.entry.sec:
            k = 1
        day = arrival + k
        if day >= T:
            return None  # still within the deadline today: not submitted yet
        pp = p.passports[t.passport]
        s, g, patr, sl, gl = self._typed_name(p, pp)
        row = {
            "source_event_id": "", "host_kind": host.kind, "host_id": host.host_id, "host_name": host.name,
            "surname": s, "given_names": g, "patronymic": patr, "surname_latin": sl, "given_names_latin": gl,
            "sex": p.sex, "birth_date": p.born_iso, "citizenship": pp[1], "document_number": pp[0],
            "issuing_state": pp[1], "kato": host.kato, "address": host.address, "arrival_date": self.iso(arrival),
            "expected_departure": self.iso(max(t.declared, arrival + 1)), "submitted_at": self.stamp(day, sec),
        }
        rec = _Rec(row, p, t)
        rec.day, rec.sec, rec.arr = day, sec, arrival
        if t.doc_defect:
            rec.defects.append(t.doc_defect)
        return rec

    def _emit(self, p: _Person, borders: list[_Rec], notes: list[_Rec], permits: list[_Rec]) -> None:
        rng, T = self.rng, self.T
        cps = self.cp_pick.get(p.cit, self.cp_pick["*"])
        gap = "exit_without_entry" in p.plan
        for i, t in enumerate(p.trips):
            cp_in = cps(rng)
            if not (gap and i == 0):
                t.entry = self._border(p, t, "entry", t.e, cp_in)
                borders.append(t.entry)
            if t.x < T:
                cp_out = cp_in if rng.random() < SAME_EXIT_CHECKPOINT else cps(rng)
                t.exit = self._border(p, t, "exit", t.x, cp_out)
                borders.append(t.exit)
            if gap and i == 0:
                assert t.exit is not None, "a gap is planned only on a trip that ended"
                t.exit.defects.append("exit_without_entry")
            carrier = t.entry or t.exit
            assert carrier is not None, "a trip has its entry row, its exit row or both"
            carrier.defects.extend(t.defects)
            end = min(t.x, T - 1)
            arrival = t.e + 1 if rng.random() < ARRIVAL_NEXT_DAY and end > t.e + 1 else t.e
            rec = self._notification(p, t, t.host, arrival)
            if rec is not None:
                notes.append(rec)
            if end - t.e > 40 and rng.random() < ADDRESS_CHANGE:
                # Moved within the stay: the new host notifies again (not a defect).
                moved = t.e + rng.randint(15, end - t.e - 5)
                host = self._host_for(p.region, p.profile, p.cit, exclude=t.host)
                rec = self._notification(p, t, host, moved)
                if rec is not None:
                    rec.primary = False
                    notes.append(rec)
        pp = p.passports[0]
        for kind, purpose, vf, vt in p.permits:
            if vf >= T:
                continue  # not issued yet
            row = {
                "source_event_id": "", "document_number": pp[0], "issuing_state": pp[1], "kind": kind,
                "purpose": purpose, "valid_from": self.iso(vf), "valid_to": self.iso(vt), "kato": p.host.kato,
            }
            rec = _Rec(row, p)
            rec.day = vf
            permits.append(rec)

    # ---- row defects -------------------------------------------------------------------

    def _take(self, pool: list[_Rec], used: set[int], kind: str, base: int,
              ok: Callable[[_Rec], bool]) -> list[_Rec]:
        """The first eligible, still unused rows of the shuffled pool, as many as the rate asks."""
        n = max(1, round(DEFECT_RATES[kind] * base))
        out: list[_Rec] = []
        for rec in pool:
            if len(out) >= n:
                break
            if id(rec) not in used and ok(rec):
                used.add(id(rec))
                out.append(rec)
        return out

    def _notification_defects(self, notes: list[_Rec]) -> list[_Rec]:
        rng, T = self.rng, self.T
        pool = notes[:]
        rng.shuffle(pool)
        used: set[int] = set()
        base = len(notes)
        dropped: set[int] = set()

        by_trip: dict[int, list[_Rec]] = {}
        for rec in notes:
            by_trip.setdefault(id(rec.trip), []).append(rec)

        def drop(rec: _Rec, kind: str) -> None:
            # A missing notification means none for the whole stay, after a move too.
            dropped.update(id(other) for other in by_trip[id(rec.trip)])
            entry = rec.stay.entry
            assert entry is not None, "only trips with an entry row are chosen"
            entry.defects.append(kind)

        overdue = self._take(pool, used, "notification_overdue_now", base,
                             lambda r: r.primary and r.stay.x >= T and r.stay.e <= T - 14 and r.stay.entry is not None)
        for rec in overdue:
            drop(rec, "notification_overdue_now")
        for rec in self._take(pool, used, "no_notification", base,
                              lambda r: r.primary and r.stay.entry is not None and id(r) not in dropped):
            drop(rec, "no_notification")
        kept = [r for r in notes if id(r) not in dropped]
        pool = [r for r in pool if id(r) not in dropped]
        base = len(kept)

        def late_ok(r: _Rec) -> bool:
            return min(r.stay.x, T - 1) - r.arr >= 14

        for rec in self._take(pool, used, "late_notification", base, late_ok):
            rec.day = rec.arr + rng.randint(14, min(60, min(rec.stay.x, T - 1) - rec.arr))
            rec.row["submitted_at"] = self.stamp(rec.day, rec.sec)
            rec.defects.append("late_notification")
        extra: list[_Rec] = []
        for kind in ("duplicate_notification", "duplicate_other_host"):
            for rec in self._take(pool, used, kind, base, lambda r: r.sec < 20 * 3600):
                dup = _Rec(dict(rec.row), rec.person, rec.trip)
                dup.day, dup.arr, dup.primary = rec.day, rec.arr, False
                dup.sec = rec.sec + rng.randint(60 if kind == "duplicate_notification" else 3600, 4 * 3600 - 1)
                dup.row["submitted_at"] = self.stamp(dup.day, dup.sec)
                if kind == "duplicate_other_host":
                    p = rec.person
                    other = rec.stay.host
                    while other.host_id == rec.row["host_id"] or other is rec.stay.host:
                        other = self._host_for(p.region, p.profile, p.cit, exclude=rec.stay.host)
                    dup.row.update(host_kind=other.kind, host_id=other.host_id, host_name=other.name,
                                   kato=other.kato, address=other.address)
                dup.defects.append(kind)
                extra.append(dup)

        def long_enough(r: _Rec) -> bool:
            return len(r.row["surname"]) >= 4

        for rec in self._take(pool, used, "typo_dropped_letter", base, long_enough):
            field = "surname" if rng.random() < 0.7 or len(rec.row["given_names"]) < 4 else "given_names"
            v = rec.row[field]
            i = rng.randint(1, len(v) - 2)
            rec.row[field] = v[:i] + v[i + 1:]
            rec.defects.append("typo_dropped_letter")
        for rec in self._take(pool, used, "typo_doubled_letter", base, long_enough):
            field = "surname" if rng.random() < 0.7 else "given_names"
            v = rec.row[field]
            i = rng.randint(1, len(v) - 1)
            rec.row[field] = v[:i] + v[i] + v[i:]
            rec.defects.append("typo_doubled_letter")
        for rec in self._take(pool, used, "typo_homoglyph", base,
                              lambda r: any(c in HOMOGLYPHS for c in r.row["surname"])):
            v = rec.row["surname"]
            spots = [i for i, c in enumerate(v) if c in HOMOGLYPHS]
            i = spots[rng.randrange(len(spots))]
            rec.row["surname"] = v[:i] + HOMOGLYPHS[v[i]] + v[i + 1:]
            rec.defects.append("typo_homoglyph")
        for rec in self._take(pool, used, "name_swap", base, lambda r: bool(r.row["given_names"])):
            rec.row["surname"], rec.row["given_names"] = rec.row["given_names"], rec.row["surname"]
            rec.defects.append("name_swap")

        def swappable(r: _Rec) -> bool:
            y, m, d = r.row["birth_date"].split("-")
            return int(d) <= 12 and d != m

        for rec in self._take(pool, used, "dob_day_month_swap", base, swappable):
            y, m, d = rec.row["birth_date"].split("-")
            rec.row["birth_date"] = f"{y}-{d}-{m}"
            rec.defects.append("dob_day_month_swap")
        return kept + extra

    def _rejects(self, borders: list[_Rec], notes: list[_Rec]) -> tuple[list[_Rec], list[_Rec]]:
        """Append corrupted copies of real rows; the importer must refuse each one."""
        rng = self.rng
        extra_b: list[_Rec] = []
        extra_n: list[_Rec] = []

        def copy(rec: _Rec, kind: str) -> _Rec:
            c = _Rec(dict(rec.row), rec.person, rec.trip)
            c.day, c.arr, c.reject, c.primary = rec.day, rec.arr, True, False
            c.sec = max(0, rec.sec - rng.randint(60, 1800))  # the refused try came first
            c.defects.append(kind)
            return c

        for rec in self._sample(borders, "reject_unknown_country"):
            c = copy(rec, "reject_unknown_country")
            c.row.update(nationality="XYZ", issuing_state="XYZ")
            c.row["occurred_at"] = self.stamp(c.day, c.sec)
            extra_b.append(c)
        individual = [r for r in notes if r.row["host_kind"] == "individual"]
        for rec in self._sample(individual, "reject_bad_iin", base=len(notes)):
            c = copy(rec, "reject_bad_iin")
            hid = c.row["host_id"]
            c.row["host_id"] = hid[:11] + str((int(hid[11]) + rng.randint(1, 9)) % 10)
            extra_n.append(c)
        for rec in self._sample(notes, "reject_impossible_date"):
            c = copy(rec, "reject_impossible_date")
            c.row["arrival_date"] = f"{c.row['arrival_date'][:4]}-02-30"
            extra_n.append(c)
        for rec in self._sample(notes, "reject_future_birth_date"):
            c = copy(rec, "reject_future_birth_date")
            c.row["birth_date"] = self.iso(self.T + rng.randint(30, 2000))
            extra_n.append(c)
        for c in extra_n:
            c.row["submitted_at"] = self.stamp(c.day, c.sec)
        return borders + extra_b, notes + extra_n

    def _sample(self, recs: list[_Rec], kind: str, base: int | None = None) -> list[_Rec]:
        n = min(len(recs), max(1, round(DEFECT_RATES[kind] * (base if base is not None else len(recs)))))
        return self.rng.sample(recs, n) if n else []

    # ---- finish ------------------------------------------------------------------------

    def _finish(self, persons: list[_Person], borders: list[_Rec], notes: list[_Rec],
                permits: list[_Rec]) -> DemoCountry:
        truth: list[TruthRow] = []

        def number(recs: list[_Rec], source: str, prefix: str, time_field: str, width: int) -> list[dict[str, str]]:
            recs.sort(key=lambda r: r.row[time_field])
            rows = []
            for n, rec in enumerate(recs, 1):
                row = rec.row
                row["source_event_id"] = f"{prefix}-{row[time_field][:4]}-{n:0{width}d}"
                rows.append(row)
                truth.append({"source": source, "source_event_id": row["source_event_id"],
                              "person_key": rec.person.key, "expected_reject": rec.reject,
                              "defects": ";".join(rec.defects)})
            return rows

        border_rows = number(borders, "border_events", "BS", "occurred_at", 7)
        note_rows = number(notes, "notifications", "EQ", "submitted_at", 7)
        permit_rows = number(permits, "residence_permits", "RP", "valid_from", 6)
        person_rows = [{
            "person_key": p.key, "citizenship": p.cit, "second_citizenship": p.second_cit, "sex": p.sex,
            "birth_date": p.born_iso, "profile": p.profile, "surname": p.name.ru[0], "given_names": p.name.ru[1],
            "patronymic": p.name.patronymic, "surname_latin": p.passports[0][3],
            "given_names_latin": p.passports[0][4],
        } for p in persons]
        host_rows = [{"host_id": h.host_id, "host_kind": h.kind, "host_name": h.name, "kato": h.kato}
                     for pool in self._host_pools.values() for h in pool]
        return DemoCountry(self.seed, self.size, self.today, person_rows, host_rows, border_rows, note_rows,
                           permit_rows, truth)


# ========================================================================================
# Summary
# ========================================================================================


def summary(country: DemoCountry) -> dict[str, object]:
    """Counts for printing: persons by citizenship, rows per feed, defects by kind, status now."""
    by_cit = Counter(p["citizenship"] for p in country.persons)
    defects: Counter[str] = Counter()
    for t in country.truth:
        if t["defects"]:
            defects.update(str(t["defects"]).split(";"))
    last: dict[str, str] = {}
    rejected = {t["source_event_id"] for t in country.truth if t["expected_reject"]}
    person_of = {t["source_event_id"]: t["person_key"] for t in country.truth if t["source"] == "border_events"}
    for row in country.border_events:  # chronological, so the last direction wins
        if row["source_event_id"] not in rejected:
            last[person_of[row["source_event_id"]]] = row["direction"]
    return {
        "seed": country.seed,
        "size": country.size,
        "today": country.today.isoformat(),
        "persons": len(country.persons),
        "persons_by_citizenship": dict(by_cit.most_common()),
        "hosts": len(country.hosts),
        "border_events": len(country.border_events),
        "entries": sum(1 for r in country.border_events if r["direction"] == "entry"),
        "exits": sum(1 for r in country.border_events if r["direction"] == "exit"),
        "notifications": len(country.notifications),
        "residence_permits": len(country.residence_permits),
        "in_country_now": sum(1 for d in last.values() if d == "entry"),
        "expected_rejects": len(rejected),
        "defects": dict(sorted(defects.items())),
    }
