"""Builders of valid input rows for tests; each test overrides only what it is about."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from kosh.platform.identifiers import bin as bin_rules
from kosh.platform.identifiers import iin

_seq = itertools.count(1)
HOST_IIN = iin.make(dt.date(1980, 3, 4), "M", 17) or iin.make(dt.date(1980, 3, 4), "M", 18)
HOST_BIN = next(b for s in range(1, 50) if (b := bin_rules.make(2015, 6, "4", "0", s)))


def border_event(**over: Any) -> dict[str, Any]:
    n = next(_seq)
    row = {"source_event_id": f"T-{n:06d}", "direction": "entry", "occurred_at": "2026-03-02T09:00:00+05:00",
           "checkpoint": "ZHIBEK-ZHOLY", "document_type": "P", "document_number": "FA1234567",
           "issuing_state": "UZB", "nationality": "UZB", "surname": "ABDULLAYEV", "given_names": "SHUKHRAT",
           "sex": "M", "birth_date": "1990-05-17"}
    row.update(over)
    return row


def notification(**over: Any) -> dict[str, Any]:
    n = next(_seq)
    row = {"source_event_id": f"N-{n:06d}", "host_kind": "individual", "host_id": HOST_IIN, "host_name": "Иванов Пётр",
           "surname": "Абдуллаев", "given_names": "Шухрат", "patronymic": "Бахтиёрович", "sex": "M",
           "birth_date": "1990-05-17", "citizenship": "UZB", "document_number": "FA1234567", "issuing_state": "UZB",
           "kato": "751710000", "address": "Алматы, ул. Абая 10, кв. 5", "arrival_date": "2026-03-02",
           "submitted_at": "2026-03-03T10:00:00+05:00"}
    row.update(over)
    return row
