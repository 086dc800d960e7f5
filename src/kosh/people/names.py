"""Personal names across Cyrillic and Latin scripts: normalisation, romanisation, search keys.

Everything language-specific is a table at the top of this module; the code
below only walks the tables. Which table a citizenship's passports use is
jurisdiction data (the pack's names.toml).

normalize_name(s)
    NFC; Latin/Cyrillic look-alike letters repaired inside a word that is
    otherwise of one script ('Иванoв' with a Latin 'o' → 'иванов'); casefold;
    ё → е; apostrophe variants → "'" and dash variants → '-'; other
    punctuation and symbols removed; whitespace collapsed.

romanize(s, language)
    The Latin form a passport of that language writes: 'ru' ICAO 9303
    (7th ed.), 'ru-bgn' Russian by BGN/PCGN without diacritics (Abdullayev,
    Yusupov: visas and most foreign records), 'kk' Kazakh Latin alphabet of 2021, 'uz' Uzbek Latin, 'ky'
    Kyrgyz and 'tg' Tajik in their passport (BGN/PCGN-derived) style. A letter
    missing from a language's table falls back to the generic table (for 'ru':
    to the Russian base letter first, as Russian passports write Қ as K), then
    to anyascii. language=None romanises with anyascii. Case is kept; Latin
    text passes through.

search_key(s) / name_tokens(s)
    A folded skeleton per word, so that spellings of one name in different
    scripts and schemes share a key. Each word is romanised with the generic
    table, then folded:
      1. letters with diacritics: š ş → sh, č ç → ch, ž → zh, ğ → g, ñ ŋ → n,
         ı → i, ə → a; other marks are dropped (ä → a, ū → u); apostrophes,
         ʻ and ʼ are dropped;
      2. consonant classes: kh x h → h; q k → k; dzh dj zh j → j; sh → š;
         ch → č; gh g → g; ng → n; w v → v (shch → š č);
      3. vowels a e i o u y are vowel-likes;
      4. the first sound keeps a class of its own: a word-initial glide (y or
         i before a vowel, j, or e — Я/Iа/Ya, Ю/Iu/Yu, Е/Ye/E, Ж/Dzh/J) is 'j'
         and swallows the vowels after it, because Latin J writes both Й and
         Ж/Дж; another initial a/o/u (Ә, Ө, Ү, Ұ, Ў, Uzbek O for Russian A)
         is 'a'; initial i or y before a consonant is 'i'; a consonant keeps
         its class;
      5. every later run of vowel-likes becomes one 'a';
      6. repeated sounds collapse (ll → l, ss → s).
    Words are keyed separately and sorted, so surname/given-name order does
    not matter. Consequences to know: x is read as kh (Uzbek), not ks; a lone
    Latin c keeps a class of its own (it is ts, k or dzh depending on the
    language); Russian Г for Arabic H (Гасан/Hasan) is not bridged.

metaphone_keys(s)
    Double Metaphone codes per word (the `doublemetaphone` package), read from the generic
    romanisation: a phonetic key beside the skeleton, for blocking and comparing pairs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from anyascii import anyascii
from doublemetaphone import doublemetaphone

from kosh.jurisdictions import passport_romanisation

# ---------------------------------------------------------------------------
# Romanisation tables: lowercase Cyrillic letter → lowercase Latin.

ICAO_9303: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e",
    "ж": "zh", "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
    "ъ": "ie", "ы": "y", "ь": "", "э": "e", "ю": "iu", "я": "ia",
    # Belarusian and Ukrainian letters of the same ICAO table
    "ґ": "g", "є": "ie", "і": "i", "ї": "i", "ў": "u",
}

# Russian passports write Central Asian letters as the nearest Russian letter.
RUSSIAN_BASE_LETTERS: dict[str, str] = {
    "ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у", "ү": "у",
    "һ": "х", "ҳ": "х", "ҷ": "дж", "ӣ": "и", "ӯ": "у",
}

KAZAKH_LATIN_2021: dict[str, str] = {
    "а": "a", "ә": "ä", "б": "b", "в": "v", "г": "g", "ғ": "ğ", "д": "d",
    "е": "e", "ё": "io", "ж": "j", "з": "z", "и": "i", "й": "i", "к": "k",
    "қ": "q", "л": "l", "м": "m", "н": "n", "ң": "ñ", "о": "o", "ө": "ö",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ұ": "ū", "ү": "ü",
    "ф": "f", "х": "h", "һ": "h", "ц": "ts", "ч": "ch", "ш": "ş", "щ": "şş",
    "ъ": "", "ы": "y", "і": "ı", "ь": "", "э": "e", "ю": "iu", "я": "ia",
}

UZBEK_LATIN: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo",
    "ж": "j", "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "x", "ц": "ts", "ч": "ch", "ш": "sh", "ъ": "ʼ", "ь": "",
    "э": "e", "ю": "yu", "я": "ya", "ў": "oʻ", "қ": "q", "ғ": "gʻ", "ҳ": "h",
}

KYRGYZ_PASSPORT: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo",
    "ж": "j", "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m",
    "н": "n", "ң": "ng", "о": "o", "ө": "o", "п": "p", "р": "r", "с": "s",
    "т": "t", "у": "u", "ү": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch",
    "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
}

TAJIK_PASSPORT: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ғ": "gh", "д": "d", "е": "e",
    "ё": "yo", "ж": "zh", "з": "z", "и": "i", "ӣ": "i", "й": "y", "к": "k",
    "қ": "q", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ӯ": "u", "ф": "f", "х": "kh", "ҳ": "h",
    "ч": "ch", "ҷ": "j", "ш": "sh", "ъ": "", "э": "e", "ю": "yu", "я": "ya",
}

# Superset of all the letters above (and Serbian/Macedonian ones), for search keys.
GENERIC_CYRILLIC: dict[str, str] = {
    "а": "a", "ә": "a", "б": "b", "в": "v", "г": "g", "ғ": "gh", "ґ": "g",
    "ѓ": "g", "д": "d", "ђ": "dj", "е": "e", "ё": "yo", "є": "ye", "ж": "zh",
    "җ": "j", "з": "z", "ѕ": "dz", "и": "i", "ӣ": "i", "і": "i", "ї": "yi",
    "й": "y", "ј": "j", "к": "k", "қ": "q", "ќ": "k", "л": "l", "љ": "lj",
    "м": "m", "н": "n", "ң": "ng", "њ": "nj", "о": "o", "ө": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "ћ": "ch", "у": "u", "ұ": "u", "ү": "u",
    "ў": "u", "ӯ": "u", "ф": "f", "х": "kh", "ҳ": "h", "һ": "h", "ц": "ts",
    "ч": "ch", "ҷ": "j", "џ": "dzh", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
    "ь": "", "э": "e", "ю": "yu", "я": "ya",
}

# Russian by BGN/PCGN without its diacritics and sign marks, as visas, older passports and most
# non-Russian records write Russian names (Abdullayev, Yusupov, Pyotr): е is 'ye' at the start
# of a word and after a vowel or sign (see YE_AFTER_VOWEL_LANGUAGES).
RUSSIAN_BGN: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo",
    "ж": "zh", "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
    "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}

ROMANIZATION_TABLES: dict[str, dict[str, str]] = {
    "ru": ICAO_9303,
    "ru-bgn": RUSSIAN_BGN,
    "kk": KAZAKH_LATIN_2021,
    "uz": UZBEK_LATIN,
    "ky": KYRGYZ_PASSPORT,
    "tg": TAJIK_PASSPORT,
}

# Е is written 'ye' at the start of a word and after a vowel or a hard/soft sign.
YE_AFTER_VOWEL_LANGUAGES: frozenset[str] = frozenset({"ru-bgn", "uz", "ky", "tg"})
CYRILLIC_VOWELS_AND_SIGNS: frozenset[str] = frozenset("аеёиоуыэюяәөүұіӣӯўъь")

# Kazakh 2021 uses Turkish-style dotted/dotless I: upper case of i is İ, of ı is I.
TURKIC_CASING_LANGUAGES: frozenset[str] = frozenset({"kk"})

# Which table a citizenship's passports use is jurisdiction data: the pack's names.toml
# (`language_for_citizenship` below).

# ---------------------------------------------------------------------------
# Look-alike letters (Latin → Cyrillic); the reverse table is derived.

LATIN_TO_CYRILLIC_HOMOGLYPHS: dict[str, str] = {
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "I": "І", "J": "Ј",
    "K": "К", "M": "М", "O": "О", "P": "Р", "S": "Ѕ", "T": "Т", "X": "Х",
    "Y": "У", "Ë": "Ё", "Ə": "Ә",
    "a": "а", "c": "с", "e": "е", "h": "һ", "i": "і", "j": "ј", "k": "к",
    "o": "о", "p": "р", "s": "ѕ", "x": "х", "y": "у", "ë": "ё", "ə": "ә",
}
CYRILLIC_TO_LATIN_HOMOGLYPHS: dict[str, str] = {cyr: lat for lat, cyr in LATIN_TO_CYRILLIC_HOMOGLYPHS.items()}

APOSTROPHES = "'’ʼʻ‘`´′"
DASHES = "‐‑‒–—―"

# ---------------------------------------------------------------------------
# Search-key folding tables.

LATIN_DIACRITIC_FOLDS: dict[str, str] = {
    "š": "sh", "ş": "sh", "ș": "sh", "č": "ch", "ç": "ch", "ž": "zh", "ǰ": "j",
    "ğ": "g", "ñ": "n", "ŋ": "n", "ı": "i", "ə": "a", "ß": "ss", "æ": "ae",
    "ø": "o", "œ": "oe", "đ": "dj", "ł": "l", "þ": "th",
}

# Longest first; each sequence becomes one or more sound classes.
SOUND_CLASSES: dict[str, tuple[str, ...]] = {
    "shch": ("š", "č"),
    "dzh": ("j",), "dj": ("j",), "zh": ("j",), "j": ("j",),
    "kh": ("h",), "x": ("h",), "h": ("h",),
    "sh": ("š",), "ch": ("č",),
    "gh": ("g",), "g": ("g",),
    "ng": ("n",),
    "q": ("k",), "k": ("k",),
    "w": ("v",), "v": ("v",),
}
VOWEL_LIKES = frozenset("aeiouy")
_VOWEL = "V"  # internal marker of a vowel run; written as 'a'
INITIAL_VOWEL_CLASSES: dict[str, str] = {"a": "a", "o": "a", "u": "a", "i": "i", "y": "i"}
GLIDE_CLASS = "j"
_SOUND_PATTERN = re.compile(
    "|".join(sorted((re.escape(k) for k in SOUND_CLASSES), key=len, reverse=True)) + "|[a-z]"
)


# ---------------------------------------------------------------------------
# Scripts and homoglyphs


def _script_of(char: str) -> str | None:
    """'latin', 'cyrillic', 'other' for a letter; None for non-letters and modifier marks."""
    if not char.isalpha() or unicodedata.category(char) == "Lm":
        return None
    name = unicodedata.name(char, "")
    if name.startswith("LATIN"):
        return "latin"
    if name.startswith("CYRILLIC"):
        return "cyrillic"
    return "other"


def detect_script(s: str) -> str:
    """'cyrillic', 'latin', 'mixed' (more than one script) or 'other' (no letters, or another script)."""
    scripts = {_script_of(c) for c in str(s)} - {None}
    if len(scripts) > 1:
        return "mixed"
    if scripts == {"cyrillic"}:
        return "cyrillic"
    if scripts == {"latin"}:
        return "latin"
    return "other"


def _repair_word(word: str) -> str:
    latin = [c for c in word if _script_of(c) == "latin"]
    cyrillic = [c for c in word if _script_of(c) == "cyrillic"]
    if not latin or not cyrillic:
        return word
    latin_only = sum(c not in LATIN_TO_CYRILLIC_HOMOGLYPHS for c in latin)
    cyrillic_only = sum(c not in CYRILLIC_TO_LATIN_HOMOGLYPHS for c in cyrillic)
    if cyrillic_only and not latin_only:
        to_cyrillic = True
    elif latin_only and not cyrillic_only:
        to_cyrillic = False
    elif not latin_only and not cyrillic_only and len(latin) != len(cyrillic):
        to_cyrillic = len(cyrillic) > len(latin)
    else:
        return word  # letters only one script has on both sides: a genuinely mixed word
    table = LATIN_TO_CYRILLIC_HOMOGLYPHS if to_cyrillic else CYRILLIC_TO_LATIN_HOMOGLYPHS
    return "".join(table.get(c, c) for c in word)


def repair_homoglyphs(s: str) -> str:
    """Turn look-alike letters of the other script into the script the word is written in."""
    return re.sub(r"[^\W\d_]+", lambda m: _repair_word(m.group(0)), s)


# ---------------------------------------------------------------------------
# Normalisation


def _collapse_spaces(s: str) -> str:
    return " ".join(s.split())


def normalize_name(s: str) -> str:
    """A comparable form of a name: see the module docstring."""
    text = repair_homoglyphs(unicodedata.normalize("NFC", str(s)))
    text = text.replace("İ", "i")  # casefold would leave a combining dot above
    text = unicodedata.normalize("NFC", text.casefold()).replace("ё", "е")
    out = []
    for char in text:
        if char in APOSTROPHES:
            out.append("'")
        elif char in DASHES or char == "-":
            out.append("-")
        elif unicodedata.category(char)[0] in "PSZC":
            out.append(" ")
        else:
            out.append(char)
    words = (w.strip("-'") for w in "".join(out).split())
    return " ".join(w for w in words if w)


# ---------------------------------------------------------------------------
# Romanisation


def language_for_citizenship(alpha3: str | None) -> str | None:
    """The romanisation a passport of this country uses (the jurisdiction pack's names.toml), or
    None (anyascii)."""
    return passport_romanisation().get((alpha3 or "").upper())


def _upper(latin: str, turkic: bool) -> str:
    if turkic:
        return "".join("İ" if c == "i" else c.upper() for c in latin)
    return latin.upper()


def _lookup(lower: str, language: str | None) -> str | None:
    """Lowercase Latin for one lowercase Cyrillic letter, following the fallback chain."""
    if language is None:
        return None
    table = ROMANIZATION_TABLES[language]
    if lower in table:
        return table[lower]
    if language in ("ru", "ru-bgn") and lower in RUSSIAN_BASE_LETTERS:
        return "".join(table[c] for c in RUSSIAN_BASE_LETTERS[lower])
    return GENERIC_CYRILLIC.get(lower)


def _romanize_word(
    word: str, language: str | None, table_lookup: Callable[[str, str | None], str | None]
) -> str:
    all_caps = sum(c.isupper() for c in word) > 1 and not any(c.islower() for c in word)
    turkic = language in TURKIC_CASING_LANGUAGES
    out: list[str] = []
    previous = ""
    for char in word:
        script = _script_of(char)
        lower = char.lower()
        if script == "latin" or script is None:
            out.append(char)
        else:
            latin = table_lookup(lower, language) if script == "cyrillic" else None
            if latin is None:
                latin = anyascii(char)
            elif lower == "е" and language in YE_AFTER_VOWEL_LANGUAGES and (
                previous == "" or previous in CYRILLIC_VOWELS_AND_SIGNS
            ):
                latin = "ye"
            if char != lower and latin and latin == latin.lower():
                latin = _upper(latin, turkic) if all_caps else _upper(latin[0], turkic) + latin[1:]
            out.append(latin)
        previous = lower
    return "".join(out)


def romanize(s: str, language: str | None = None) -> str:
    """Latin form of a (Cyrillic) name as passports of `language` write it; see the module docstring."""
    if language is not None and language not in ROMANIZATION_TABLES:
        raise ValueError(f"no romanization table for language '{language}'")
    text = _collapse_spaces(repair_homoglyphs(unicodedata.normalize("NFC", str(s))))
    return re.sub(r"[^\W\d_]+", lambda m: _romanize_word(m.group(0), language, _lookup), text)


def _generic_lookup(lower: str, _language: str | None) -> str | None:
    return GENERIC_CYRILLIC.get(lower)


# ---------------------------------------------------------------------------
# Search keys


def _fold_word(word: str) -> str:
    """The skeleton of one romanised word (lowercase Latin in, key out)."""
    text = "".join(LATIN_DIACRITIC_FOLDS.get(c, c) for c in word.lower())
    text = "".join(c for c in unicodedata.normalize("NFD", text) if "a" <= c <= "z")
    sounds: list[str] = []
    for match in _SOUND_PATTERN.finditer(text):
        piece = match.group(0)
        if piece in SOUND_CLASSES:
            sounds.extend(SOUND_CLASSES[piece])
        else:
            sounds.append(piece)
    if not sounds:
        return ""

    first, rest = sounds[0], sounds[1:]
    glide = first in ("e", "j") or (first in ("y", "i") and bool(rest) and rest[0] in VOWEL_LIKES)
    if glide:
        # The glide and the vowels after it are one sound: Ya, Ia, Ja, E, Ye, Yo all start alike.
        while rest and rest[0] in VOWEL_LIKES:
            rest = rest[1:]
        head = GLIDE_CLASS.upper()
    elif first in INITIAL_VOWEL_CLASSES:
        head = INITIAL_VOWEL_CLASSES[first].upper()
    else:
        head = first

    # Upper-case heads keep an initial vowel class apart from the vowel runs while collapsing.
    folded = [head]
    for sound in rest:
        sound = _VOWEL if sound in VOWEL_LIKES else sound
        if sound != folded[-1]:
            folded.append(sound)
    return "".join("a" if s == _VOWEL else s.lower() for s in folded)


def name_tokens(s: str) -> list[str]:
    """The key of each word of a name, in the order written (hyphenated parts are words)."""
    return list(_name_tokens(s))


def _name_tokens(s: str) -> tuple[str, ...]:
    keys = []
    for raw in re.split(r"[\s\-]+", s):
        key = _word_key(raw) if raw else ""
        if key:
            keys.append(key)
    return tuple(keys)


@lru_cache(maxsize=131072)
def _word_key(raw: str) -> str:
    # Whole names are mostly unique but their words recur endlessly: cache per word.
    key = ""
    for word in re.split(r"[\s\-]+", normalize_name(raw)):
        key += _fold_word(_romanize_word(word, None, _generic_lookup)) if word else ""
    return key


def search_key(s: str) -> str:
    """One key for a full name, the same across scripts, schemes and word order."""
    return " ".join(sorted(name_tokens(s)))



# ---------------------------------------------------------------------------
# Phonetic keys


@lru_cache(maxsize=131072)
def _word_metaphones(word: str) -> tuple[str, ...]:
    latin = anyascii(_romanize_word(word, None, _generic_lookup))
    latin = re.sub(r"[^A-Za-z]", "", latin)
    if not latin:
        return ()
    primary, secondary = doublemetaphone(latin)
    return tuple(dict.fromkeys(code for code in (primary, secondary) if code))


def metaphone_keys(s: str) -> list[tuple[str, ...]]:
    """Double Metaphone codes of each word of a name (primary, then the secondary when it
    differs), read from the generic romanisation, so that any script gives the same codes:
    Abdullayev / Абдуллаев / Abdulloev → APTLF; Yoqubov / Yakubov / Iakubov / Ёқубов → AKPF.
    A second key beside `search_key` for blocking and comparison; note that it reads Uzbek x
    as ks (Shuxrat XKSRT, Shukhrat XKRT), which `search_key` bridges."""
    return [codes for word in re.split(r"[\s\-]+", normalize_name(s)) if word
            for codes in [_word_metaphones(word)] if codes]
