"""What the linkage model compares of a record: name forms, birth-date parts, keys for blocking.

A record is the identity part of anything that reaches Kosh (a border event, a host
notification, a permit, a row of a file given to `kosh identity link`). `features(...)` turns it
into flat columns that both evaluators of the model read: Splink's SQL (batch: `link`,
`rebuild`) and `model.Model.score` (one record at ingest). Keeping them flat text columns
(no arrays) keeps the SQL the same on DuckDB and Spark.

Per name part (surname `sn`, given names `gn`, patronymic `pn`):
  sn      native script, normalised (case, ё/е, homoglyphs, NFC)
  sn_r1   Russian ICAO 9303 romanisation, letters only, upper case
  sn_r2   Russian BGN/PCGN romanisation (Abdullayev, Yusupov)
  sn_r3   the romanisation of the citizenship's own passports (kk, uz, ky, tg), else generic
  sn_sk   folded skeleton key of each word (`names.name_tokens`)
  sn_mp   Double Metaphone primary codes of the words; sn_mp2 the alternates
Birth date: dob (full ISO date only), dob_y, dob_m, dob_d (parts that are known).
Blocking keys (one column per rule; equal keys = a candidate pair): bk_sy (surname skeleton +
birth year), bk_md (surname metaphone + birth date), bk_gd (given-name skeleton + birth date),
bk_nm (both name skeletons in either order + birth year), bk_nd (the same + day and month: a
typo in the year), doc (document number), bk_ds (the document's characters sorted + the
surname's first letter: two digits transposed, whatever the birth date).
"""

from __future__ import annotations

import re
from functools import lru_cache

from anyascii import anyascii

from kosh.people import names
from kosh.people.mrz import normalize_document_number

NAME_PARTS = ("sn", "gn", "pn")
NAME_COLUMNS = tuple(f"{p}{s}" for p in NAME_PARTS for s in ("", "_r1", "_r2", "_r3", "_sk", "_mp", "_mp2"))
BLOCKING_COLUMNS = ("bk_sy", "bk_md", "bk_gd", "bk_nm", "bk_nd", "doc", "bk_ds")
COLUMNS = (*NAME_COLUMNS, "dob", "dob_y", "dob_m", "dob_d", "sex", "cit", "doc", "bk_sy", "bk_md", "bk_gd", "bk_nm",
           "bk_nd", "bk_ds")
_NOT_LETTERS = re.compile(r"[^A-Z ]+")
_SPACES = re.compile(r"\s+")
_FULL_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?")


def _latin(text: str) -> str:
    """Upper-case Latin letters and single spaces only: romanisations compare in this form."""
    return _SPACES.sub(" ", _NOT_LETTERS.sub(" ", anyascii(text).upper())).strip()


@lru_cache(maxsize=262144)
def name_forms(text: str, language: str | None) -> tuple[str | None, ...]:
    """(native, r1, r2, r3, skeleton, metaphone, metaphone alternates) of one name part;
    all None when the part has no letters."""
    native = names.normalize_name(text) if text else ""
    skeleton = " ".join(names.name_tokens(text)) if native else ""
    if not skeleton:
        return (None,) * 7
    r1 = _latin(names.romanize(text, "ru"))
    r2 = _latin(names.romanize(text, "ru-bgn"))
    r3 = _latin(names.romanize(text, language if language else None))
    codes = names.metaphone_keys(text)
    mp = " ".join(c[0] for c in codes) or None
    mp2 = " ".join(c[-1] for c in codes) or None
    return native, r1 or None, r2 or None, r3 or None, skeleton, mp, mp2


def _date_parts(birth_date: str) -> tuple[str | None, str | None, str | None, str | None]:
    full = _FULL_DATE.match(birth_date)
    if full:
        return birth_date, full.group(1), full.group(2), full.group(3)
    part = _PARTIAL_DATE.match(birth_date)
    if part and part.group(1) != "0000":
        return None, part.group(1), part.group(2), None
    return None, None, None, None


def _key(*parts: str | None) -> str | None:
    present = [p for p in parts if p is not None]
    return "|".join(present) if len(present) == len(parts) else None


def features(surname: str | None, given_names: str | None, patronymic: str | None, sex: str | None,
             birth_date: str | None, citizenship: str | None, document_number: str | None) -> dict[str, str | None]:
    """The model's columns for one record; missing values are None."""
    cit = (citizenship or "").strip().upper() or None
    language = names.language_for_citizenship(cit)
    out: dict[str, str | None] = {}
    for part, text in zip(NAME_PARTS, (surname, given_names, patronymic), strict=True):
        for suffix, value in zip(("", "_r1", "_r2", "_r3", "_sk", "_mp", "_mp2"),
                                 name_forms((text or "").strip(), language), strict=True):
            out[part + suffix] = value
    dob, year, month, day = _date_parts((birth_date or "").strip())
    out.update(dob=dob, dob_y=year, dob_m=month, dob_d=day)
    s = (sex or "").strip().upper()
    out["sex"] = s if s in ("M", "F") else None
    out["cit"] = cit
    out["doc"] = normalize_document_number(document_number or "") or None
    out["bk_sy"] = _key(out["sn_sk"], year)
    out["bk_md"] = _key(out["sn_mp"], dob)
    out["bk_gd"] = _key(out["gn_sk"], dob)
    pair = sorted(p for p in (out["sn_sk"], out["gn_sk"]) if p)
    out["bk_nm"] = _key("~".join(pair), year) if len(pair) == 2 else None
    out["bk_nd"] = _key("~".join(pair), month, day) if len(pair) == 2 else None
    doc = out["doc"]
    out["bk_ds"] = _key("".join(sorted(doc)), out["sn_sk"][0]) if doc and len(doc) >= 6 and out["sn_sk"] else None
    return out


def blocking_keys(row: dict[str, str | None]) -> list[str]:
    """The keys a record is found under: two records are compared when they share one. The
    same rules as the model's Splink blocking rules (`l.bk_sy = r.bk_sy` …), as strings."""
    return [f"{col}:{row[col]}" for col in BLOCKING_COLUMNS if row.get(col) is not None]
