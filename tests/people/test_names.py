from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kosh.jurisdictions import passport_romanisation
from kosh.people.names import (
    GENERIC_CYRILLIC,
    ROMANIZATION_TABLES,
    detect_script,
    language_for_citizenship,
    metaphone_keys,
    name_tokens,
    normalize_name,
    romanize,
    search_key,
)

# ---------------------------------------------------------------------------
# normalize_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  ИВАНOВ,  Пётр  «Ильич» ", "иванов петр ильич"),  # Latin O inside a Cyrillic word
        ("Пeтpoв", "петров"),  # Latin e, p, o
        ("Nurlаn", "nurlan"),  # Cyrillic а inside a Latin word
        ("И\u0306ордан", "йордан"),  # decomposed й
        ("ФЁДОРОВ", "федоров"),
        ("O‘ktam   Xoʻjayev", "o'ktam xo'jayev"),
        ("Ivanova-Petrova", "ivanova-petrova"),
        ("Анна–Мария", "анна-мария"),
        ("İlyas", "ilyas"),
        ("Smith, John (Jr.)", "smith john jr"),
        ("Straße", "strasse"),
        ("- Ali -", "ali"),
        ("", ""),
    ],
)
def test_normalize_name(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


def test_a_genuinely_mixed_word_is_left_alone() -> None:
    # N and ұ exist in one script only: no repair can tell which was meant.
    assert normalize_name("Nұрлан") == "nұрлан"


@given(st.text())
def test_normalize_name_is_idempotent(text: str) -> None:
    once = normalize_name(text)
    assert normalize_name(once) == once


# ---------------------------------------------------------------------------
# detect_script


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("Иванов Пётр", "cyrillic"),
        ("Қасымов Нұрлан", "cyrillic"),
        ("Ivanov Petr", "latin"),
        ("Oʻktam", "latin"),  # ʻ is a modifier, not a script
        ("Šuhrat Qasımov", "latin"),
        ("Иванoв", "mixed"),
        ("Ivanov Иван", "mixed"),
        ("李小龙", "other"),
        ("123 -", "other"),
        ("", "other"),
    ],
)
def test_detect_script(text: str, script: str) -> None:
    assert detect_script(text) == script


# ---------------------------------------------------------------------------
# romanize: tables letter by letter (each letter after "б", so word-initial rules stay out)

RU_ICAO = (
    "а a|б b|в v|г g|д d|е e|ё e|ж zh|з z|и i|й i|к k|л l|м m|н n|о o|п p|р r|с s|т t|у u|ф f|"
    "х kh|ц ts|ч ch|ш sh|щ shch|ъ ie|ы y|ь |э e|ю iu|я ia|ґ g|є ie|і i|ї i|ў u"
)
KK_2021 = (
    "а a|ә ä|б b|в v|г g|ғ ğ|д d|е e|ё io|ж j|з z|и i|й i|к k|қ q|л l|м m|н n|ң ñ|о o|ө ö|п p|"
    "р r|с s|т t|у u|ұ ū|ү ü|ф f|х h|һ h|ц ts|ч ch|ш ş|щ şş|ъ |ы y|і ı|ь |э e|ю iu|я ia"
)
UZ_LATIN = (
    "а a|б b|в v|г g|д d|е e|ё yo|ж j|з z|и i|й y|к k|л l|м m|н n|о o|п p|р r|с s|т t|у u|ф f|"
    "х x|ц ts|ч ch|ш sh|ъ ʼ|ь |э e|ю yu|я ya|ў oʻ|қ q|ғ gʻ|ҳ h"
)
KY_PASSPORT = (
    "а a|б b|в v|г g|д d|е e|ё yo|ж j|з z|и i|й y|к k|л l|м m|н n|ң ng|о o|ө o|п p|р r|с s|т t|"
    "у u|ү u|ф f|х kh|ц ts|ч ch|ш sh|щ shch|ъ |ы y|ь |э e|ю yu|я ya"
)
TG_PASSPORT = (
    "а a|б b|в v|г g|ғ gh|д d|е e|ё yo|ж zh|з z|и i|ӣ i|й y|к k|қ q|л l|м m|н n|о o|п p|р r|"
    "с s|т t|у u|ӯ u|ф f|х kh|ҳ h|ч ch|ҷ j|ш sh|ъ |э e|ю yu|я ya"
)
RU_BGN = (
    "а a|б b|в v|г g|д d|е e|ё yo|ж zh|з z|и i|й y|к k|л l|м m|н n|о o|п p|р r|с s|т t|у u|ф f|"
    "х kh|ц ts|ч ch|ш sh|щ shch|ъ |ы y|ь |э e|ю yu|я ya"
)
ALPHABETS = {"ru": RU_ICAO, "ru-bgn": RU_BGN, "kk": KK_2021, "uz": UZ_LATIN, "ky": KY_PASSPORT, "tg": TG_PASSPORT}
ALPHABET_SIZES = {"ru": 33 + 5, "ru-bgn": 33, "kk": 42, "uz": 35, "ky": 36, "tg": 35}
LETTER_CASES = [
    (language, *pair.split(" ")) for language, spec in ALPHABETS.items() for pair in spec.split("|")
]


@pytest.mark.parametrize(("language", "cyrillic", "latin"), LETTER_CASES)
def test_each_letter_romanizes_as_its_table_says(language: str, cyrillic: str, latin: str) -> None:
    assert romanize("б" + cyrillic, language) == "b" + latin


@pytest.mark.parametrize("language", sorted(ALPHABETS))
def test_tables_cover_the_whole_alphabet_and_nothing_else(language: str) -> None:
    letters = {pair.split(" ")[0] for pair in ALPHABETS[language].split("|")}
    assert len(letters) == ALPHABET_SIZES[language]
    assert set(ROMANIZATION_TABLES[language]) == letters
    assert letters <= set(GENERIC_CYRILLIC)  # the search-key table is a superset


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Шухрат", "ru", "Shukhrat"),
        ("ШУХРАТ", "ru", "SHUKHRAT"),
        ("Юсупов Якуб", "ru", "Iusupov Iakub"),
        ("Пётр Подъячев", "ru", "Petr Podieiachev"),
        ("Қасымов Нұрлан", "ru", "Kasymov Nurlan"),  # Kazakh letters as Russian passports write them
        ("Раҳимов Ҷамшед", "ru", "Rakhimov Dzhamshed"),
        ("Абдуллаев Юсупов Якуб", "ru-bgn", "Abdullayev Yusupov Yakub"),
        ("Пётр Подъячев Ерлан", "ru-bgn", "Pyotr Podyachev Yerlan"),
        ("Подъезжаев", "ru-bgn", "Podyezzhayev"),  # е after a sign and after a vowel: ye
        ("Қасымов Нұрлан", "ru-bgn", "Kasymov Nurlan"),
        ("Қасымов Нұрлан", "kk", "Qasymov Nūrlan"),
        ("Иіс Әлия", "kk", "İıs Äliia"),
        ("ИІС", "kk", "İIS"),  # Turkic casing: и → İ, і → I
        ("Ержан Ёсеф", "kk", "Erjan İosef"),
        ("Елена Раев", "uz", "Yelena Rayev"),  # Е at word start and after a vowel
        ("Шухрат Ўктам Ғайрат Ҳасан Хасанов", "uz", "Shuxrat Oʻktam Gʻayrat Hasan Xasanov"),
        ("ЎКТАМ", "uz", "OʻKTAM"),
        ("Жапаров Айбек Өмүрбек Төрөбаев Маңкелди", "ky", "Japarov Aybek Omurbek Torobayev Mangkeldi"),
        ("Ерлан", "ky", "Yerlan"),
        ("Раҳимов Ҷамшед Ғафуров Қодирӣ Рӯзиев", "tg", "Rahimov Jamshed Ghafurov Qodiri Ruziyev"),
        ("Хуршед", "tg", "Khurshed"),
    ],
)
def test_romanize_names(text: str, language: str, expected: str) -> None:
    assert romanize(text, language) == expected


def test_letters_outside_a_table_fall_back_to_the_generic_table() -> None:
    assert romanize("Щукин", "uz") == "Shchukin"  # щ is not Uzbek
    assert romanize("Ҳасан", "kk") == "Hasan"  # ҳ is Tajik/Uzbek, not Kazakh


def test_romanize_without_language_uses_anyascii() -> None:
    assert romanize("Қасымов Нұрлан") == "Qasymov Nurlan"
    assert romanize("Раҳимов Ҷамшед") == "Rahimov Jamshed"
    assert romanize("Ђорђе") == "Djordje"


def test_latin_input_is_returned_unchanged_apart_from_normalisation() -> None:
    assert romanize("  Šuhrat   Oʻktam ", "uz") == "Šuhrat Oʻktam"
    assert romanize("Anna-Maria O'Neil", "ru") == "Anna-Maria O'Neil"
    assert romanize("Пeтpoв", "ru") == "Petrov"  # homoglyphs repaired before transliteration


def test_romanize_rejects_an_unknown_language() -> None:
    with pytest.raises(ValueError, match="^no romanization table for language 'de'$"):
        romanize("Иван", "de")


@pytest.mark.parametrize(
    ("alpha3", "language"),
    [("RUS", "ru"), ("BLR", "ru"), ("UKR", "ru"), ("KAZ", "kk"), ("UZB", "uz"), ("KGZ", "ky"), ("TJK", "tg"),
     ("kaz", "kk"), ("DEU", None), ("XXA", None), (None, None)],
)
def test_language_for_citizenship(alpha3: str | None, language: str | None) -> None:
    assert language_for_citizenship(alpha3) == language


def test_every_romanisation_the_pack_names_has_a_table() -> None:
    # which table a citizenship's passports use is jurisdiction data (the pack's names.toml)
    assert passport_romanisation()
    assert set(passport_romanisation().values()) <= set(ROMANIZATION_TABLES)


CYRILLIC_LETTERS = [chr(c) for c in range(0x0400, 0x0500) if unicodedata.category(chr(c)).startswith("L")]


def is_latin_output(char: str) -> bool:
    return char.isascii() or unicodedata.name(char, "").startswith("LATIN") or char in "ʻʼ"


@given(
    st.text(alphabet=st.sampled_from(CYRILLIC_LETTERS + [" "]), min_size=1),
    st.sampled_from([None, "ru", "kk", "uz", "ky", "tg"]),
)
def test_romanize_output_of_cyrillic_is_ascii_or_latin(text: str, language: str | None) -> None:
    out = romanize(text, language)
    assert all(is_latin_output(c) for c in out), out
    assert detect_script(out) in ("latin", "other")


# ---------------------------------------------------------------------------
# search keys

FAMILIES = [
    ["Абдуллаев", "Abdullayev", "Abdullaev", "Abdulaev", "Abdulloev"],
    ["Қасымов Нұрлан", "Kasymov Nurlan", "Qasymov Nurlan", "Kassymov Nurlan", "Qasimov Nurlan", "Nurlan Kasymov"],
    ["Юсупов", "Yusupov", "Iusupov", "Jusupov"],
    ["Якубов", "Yakubov", "Iakubov", "Yoqubov", "Equbov", "Ёқубов"],
    ["Шухрат", "Shukhrat", "Shuxrat", "Šuhrat"],
    ["Хасанов", "Khasanov", "Xasanov", "Hasanov"],
    ["Раҳимов Ҷамшед", "Rahimov Jamshed", "Rakhimov Dzhamshed", "Jamshed Rakhimov"],
    # more spellings of the kind identity-resolution.md describes
    ["Ўктам", "Oʻktam", "O'ktam", "Uktam"],
    ["Хўжаев", "Xoʻjayev", "Khodzhaev", "Khujaev", "Hojaev"],
    ["Ерлан", "Yerlan", "Erlan"],
    ["Ильяс", "Ilyas", "Ilias", "Il'yas"],
    ["Юрий", "Yuriy", "Iurii", "Yuri"],
    ["Мухаммад", "Muhammad", "Mukhammad", "Mohammed", "Muxammad"],
    ["Олжас", "Olzhas", "Oljas"],
    ["Ғафуров", "Gafurov", "Ghafurov", "Gʻofurov"],
    ["Жеңіс", "Zhenis", "Jeñis", "Zhengis"],
    ["Пётр", "Petr", "Pyotr"],
    ["Ivanova-Petrova", "Иванова Петрова"],
]


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f[0])
def test_spelling_variants_share_one_key(family: list[str]) -> None:
    keys = {search_key(name) for name in family}
    assert len(keys) == 1, {name: search_key(name) for name in family}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Иванов", "Петров"),
        ("Aliyev", "Alimov"),
        ("Karimov", "Kamilov"),
        ("Yusupov", "Yakubov"),
        ("Nurlan", "Nurbek"),
        ("Rahimov", "Karimov"),
        ("Usmanov", "Ismailov"),
        ("Абдуллаев", "Абдуллаева"),
        ("Иванов Иван", "Иванов Петр"),
    ],
)
def test_different_names_keep_different_keys(a: str, b: str) -> None:
    assert search_key(a) != search_key(b)


def test_search_key_documented_examples() -> None:
    assert search_key("Қасымов Нұрлан") == "kasamav narlan"
    assert search_key("Шухрат") == "šahrat"
    assert search_key("Раҳимов Ҷамшед") == "jmšad rahamav"
    assert search_key("") == ""


def test_name_tokens_keep_written_order_and_split_hyphens() -> None:
    assert name_tokens("Nurlan Kasymov") == ["narlan", "kasamav"]
    assert name_tokens("Ivanova-Petrova Anna") == ["ivanava", "patrava", "ana"]
    assert name_tokens("  ,  ") == []


REALISTIC_CYRILLIC_NAMES = [
    "Абдуллаев Шухрат", "Қасымов Нұрлан", "Юсупов Ерлан", "Якубов Ёдгор", "Раҳимов Ҷамшед",
    "Хасанов Ўктам", "Жапаров Айбек", "Ғафуров Қодир", "Иванова Елена", "Өмірбек Ұлан",
    "Тошматов Ильяс", "Эргашев Юрий", "Мухаммадиев Ғайрат", "Жеңісбек Әлия",
]


@pytest.mark.parametrize("language", [None, "ru", "ru-bgn", "kk", "uz", "ky", "tg"])
@pytest.mark.parametrize("name", REALISTIC_CYRILLIC_NAMES)
def test_every_passport_romanisation_keeps_the_key(name: str, language: str | None) -> None:
    assert search_key(romanize(name, language)) == search_key(name)


LATIN_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüšžčşçğñı", min_size=1, max_size=10)
CYRILLIC_WORDS = st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһіўҳҷӣӯ", min_size=1, max_size=10)


@given(st.lists(st.one_of(LATIN_WORDS, CYRILLIC_WORDS), min_size=1, max_size=4).flatmap(
    lambda words: st.tuples(st.just(words), st.permutations(words))
))
def test_search_key_ignores_word_order_and_case(pair: tuple[list[str], list[str]]) -> None:
    words, shuffled = pair
    key = search_key(" ".join(words))
    assert search_key(" ".join(shuffled)) == key
    assert search_key(" ".join(shuffled).upper()) == key
    assert search_key(" ".join(w.title() for w in words)) == key
    assert sorted(name_tokens(" ".join(words))) == key.split()


# ---------------------------------------------------------------------------
# phonetic keys (Double Metaphone)

METAPHONE_FAMILIES = {
    "APTLF": ["Абдуллаев", "Abdullayev", "Abdullaev", "Abdulaev", "Abdulloev"],
    "AKPF": ["Якубов", "Yakubov", "Iakubov", "Yoqubov", "Equbov", "Ёқубов"],
    "KSMF": ["Қасымов", "Kasymov", "Qasymov", "Kassymov", "Qasimov"],
}


@pytest.mark.parametrize("code", METAPHONE_FAMILIES)
def test_a_family_shares_one_metaphone_code_in_any_script(code: str) -> None:
    for name in METAPHONE_FAMILIES[code]:
        assert code in metaphone_keys(name)[0], name


def test_metaphone_keys_per_word_and_nothing_for_no_letters() -> None:
    assert metaphone_keys("Қасымов Нұрлан") == [("KSMF",), ("NRLN",)]
    assert metaphone_keys("Ivanova-Petrova") == [("AFNF",), ("PTRF",)]
    assert metaphone_keys("") == [] and metaphone_keys("12 34") == []
    assert metaphone_keys("Шухрат") == metaphone_keys("Shukhrat") != metaphone_keys("Shuxrat")  # x read as ks


@given(st.text(alphabet=st.sampled_from(list("абвгдеёжзийклмнопрстуфхцчшщыэюяәғқңөұүһіўҳҷӣӯ -")), max_size=30))
def test_metaphone_codes_are_upper_case_latin(text: str) -> None:
    # Double Metaphone writes 'th' as the digit 0 (theta): Cyrillic тх romanises to 'tkh'.
    for codes in metaphone_keys(text):
        assert codes and all(c and set(c) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0") for c in codes)
