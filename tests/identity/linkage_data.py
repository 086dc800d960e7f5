"""Small record sets with known truth for the linkage tests: families of one person's records
as different sources write them, and strangers who share a common name."""

from __future__ import annotations

import polars as pl

COLUMNS = ("record_id", "source", "surname", "given_names", "patronymic", "sex", "birth_date", "citizenship",
           "document_number")

# (person, source, surname, given names, patronymic, sex, birth date, citizenship, document)
RECORDS = [
    ("p1", "border", "ABDULLAYEV", "SHUKHRAT", "", "M", "1990-05-17", "UZB", "FA1234567"),
    ("p1", "notification", "Абдуллаев", "Шухрат", "Алишерович", "M", "1990-05-17", "UZB", "FA1234567"),
    ("p1", "border", "ABDULLAEV", "SHUXRAT", "", "M", "1990-05-17", "UZB", "FA1234576"),
    ("p1", "permit", "SHUKHRAT", "ABDULLAYEV", "", "M", "1990-05-17", "UZB", "FA1234567"),
    ("p2", "border", "QASYMOV", "NURLAN", "", "M", "1985-03-15", "KAZ", "N09876543"),
    ("p2", "notification", "Қасымов", "Нұрлан", "", "M", "1985-03-15", "KAZ", "N09876543"),
    ("p2", "border", "KASYMOV", "NURLAN", "", "M", "1985-15-03", "KAZ", "N09876543"),
    ("p3", "border", "YOQUBOV", "JAMSHID", "", "M", "1979-11-02", "UZB", "AB7654321"),
    ("p3", "notification", "Ёқубов", "Жамшид", "", "M", "1979-11-02", "UZB", "AB7654321"),
    ("p4", "border", "RAHIMOV", "JAMSHED", "", "M", "1992-07-30", "TJK", "400123456"),
    ("p4", "notification", "Раҳимов", "Ҷамшед", "", "M", "1992-07-30", "TJK", "400123456"),
    ("p4", "border", "RAKHIMOV", "DZHAMSHED", "", "M", "1992-07-30", "TJK", "400123465"),
    ("p5", "border", "IVANOVA", "MARIYA", "", "F", "2001-01-09", "RUS", "751234567"),
    ("p5", "notification", "Иванова", "Мария", "Петровна", "F", "2001-01-09", "RUS", "751234567"),
    # strangers: the same common names, other birth dates and passports
    ("p6", "border", "ABDULLAYEV", "SHUKHRAT", "", "M", "1972-09-03", "UZB", "FB5550001"),
    ("p7", "border", "KASYMOV", "NURLAN", "", "M", "1999-06-21", "KAZ", "N01112223"),
    ("p8", "border", "IVANOVA", "MARIYA", "", "F", "1964-12-12", "RUS", "759998887"),
    ("p9", "border", "USMONOV", "BOBUR", "", "M", "1990-05-17", "UZB", "FA7777777"),
]


def records() -> pl.DataFrame:
    """The link input columns plus `person_key` (truth); record ids r01, r02, …"""
    rows = [dict(zip(("person_key", *COLUMNS[1:]), r, strict=True), record_id=f"r{i + 1:02d}")
            for i, r in enumerate(RECORDS)]
    return pl.DataFrame(rows).select(*COLUMNS, "person_key")


def true_groups(df: pl.DataFrame) -> set[frozenset[str]]:
    return {frozenset(g) for g in df.group_by("person_key").agg("record_id")["record_id"].to_list()}


def groups(clusters: pl.DataFrame) -> set[frozenset[str]]:
    return {frozenset(g) for g in clusters.group_by("person_id").agg("record_id")["record_id"].to_list()}
