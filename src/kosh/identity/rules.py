"""Pure comparison of two person records: per-field evidence and a match weight.

A transparent scorer in the Fellegi–Sunter shape (a weight per field and level, summed): each
field of the pair gets a level, each level a weight, and the evidence says why in words an
officer can check. The weights are data (`WEIGHTS`); the trained linkage model will supply its
own per level, the evidence format stays.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from kosh.people import names

WEIGHTS: dict[str, dict[str, float]] = {
    "name": {"exact": 6.0, "same_key": 5.0, "partial": 2.0, "different": -4.0},
    "birth_date": {"exact": 5.0, "day_month_swap": 3.0, "one_digit": 2.0, "same_year": 0.0, "different": -5.0,
                   "unknown": 0.0},
    "sex": {"same": 0.5, "different": -3.0, "unknown": 0.0},
    "citizenship": {"same": 1.0, "different": -2.0},
}


@dataclass(frozen=True)
class Profile:
    """What is compared of a person: spellings in any script, birth date (ISO, possibly partial)."""

    person_id: str
    spellings: tuple[str, ...]
    birth_date: str
    sex: str
    citizenship: str


@dataclass(frozen=True)
class Evidence:
    field: str
    level: str
    weight: float
    a: str
    b: str


@dataclass(frozen=True)
class Comparison:
    weight: float
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)


@lru_cache(maxsize=65536)
def _keys(spelling: str) -> tuple[str, str, frozenset[str]]:
    """Normalised form, search key and word keys of one spelling (a scan compares each often)."""
    return names.normalize_name(spelling), names.search_key(spelling), frozenset(names.name_tokens(spelling))


def name_level(a: Iterable[str], b: Iterable[str]) -> tuple[str, str, str]:
    """The best level over every pair of spellings, with the pair that reached it."""
    best = ("different", "", "")
    order = ["different", "partial", "same_key", "exact"]
    for x in a:
        nx, kx, tx = _keys(x)
        for y in b:
            ny, ky, ty = _keys(y)
            if nx == ny:
                level = "exact"
            elif kx == ky:
                level = "same_key"
            else:
                level = "partial" if len(tx & ty) >= 2 or (tx & ty and min(len(tx), len(ty)) == 1) else "different"
            if order.index(level) > order.index(best[0]):
                best = (level, x, y)
    if best[0] == "different":
        a, b = list(a), list(b)
        best = ("different", a[0] if a else "", b[0] if b else "")
    return best


def birth_level(a: str, b: str) -> str:
    """exact, a day↔month swap, one digit off, the same year, different, or unknown (partial)."""
    if len(a) != 10 or len(b) != 10:
        return "same_year" if a[:4] and a[:4] == b[:4] else "unknown" if not a or not b else "different"
    if a == b:
        return "exact"
    ya, ma, da = a.split("-")
    yb, mb, db = b.split("-")
    if ya == yb and ma == db and da == mb:
        return "day_month_swap"
    if sum(x != y for x, y in zip(a.replace("-", ""), b.replace("-", ""))) == 1:
        return "one_digit"
    return "same_year" if ya == yb else "different"


def compare(a: Profile, b: Profile) -> Comparison:
    """Symmetric: compare(a, b) and compare(b, a) give the same weight and levels."""
    level, x, y = name_level(a.spellings, b.spellings)
    items = [Evidence("name", level, WEIGHTS["name"][level], x, y)]
    bl = birth_level(a.birth_date, b.birth_date)
    items.append(Evidence("birth_date", bl, WEIGHTS["birth_date"][bl], a.birth_date, b.birth_date))
    sl = "unknown" if "X" in (a.sex, b.sex) else ("same" if a.sex == b.sex else "different")
    items.append(Evidence("sex", sl, WEIGHTS["sex"][sl], a.sex, b.sex))
    cl = "same" if a.citizenship == b.citizenship else "different"
    items.append(Evidence("citizenship", cl, WEIGHTS["citizenship"][cl], a.citizenship, b.citizenship))
    return Comparison(round(sum(e.weight for e in items), 3), tuple(items))
