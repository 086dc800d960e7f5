"""The officers' lists as CSV files: headers in the reader's language, regions and countries by
name (with their codes beside them, for other systems), every text cell made inert for
spreadsheets (`kosh.platform.csvsafe`)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

from fastapi.responses import Response

from kosh.jurisdictions.schema import JurisdictionPack
from kosh.people.countries import country_name
from kosh.platform.csvsafe import write_rows
from kosh.platform.i18n import gettext_for
from kosh.platform.words import N_
from kosh.stay.service import ListRow

FILE_NAMES = {"overstay": "overstays", "notification": "overdue-notifications"}


def _columns(kind: str) -> list[tuple[str, str]]:
    day = N_("Last lawful day") if kind == "overstay" else N_("Notification due")
    return [("person_id", N_("Person id")), ("surname", N_("Surname")), ("given_names", N_("Given names")),
            ("citizenship", N_("Citizenship code")), ("citizenship_name", N_("Citizenship")),
            ("region_kato", N_("KATO code")), ("region", N_("Region")), ("entered", N_("Entered")),
            ("day", day), ("days", N_("Days over"))]


def _country(code: str, lang: str) -> str:
    try:
        return country_name(code, lang)
    except ValueError:  # a code no table names (kept as recorded)
        return code


def csv_text(rows: Sequence[ListRow], kind: str, lang: str, pack: JurisdictionPack) -> str:
    say = gettext_for(lang)
    columns = _columns(kind)
    headers = [say(label) for _, label in columns]
    out = io.StringIO()
    out.write("\ufeff")  # a byte-order mark: spreadsheet programs then read the file as UTF-8 (Cyrillic names)
    records = []
    for r in rows:
        st = r.status
        region = pack.region_for_kato(st.region_kato) if st.region_kato else None
        day = st.last_lawful_day if kind == "overstay" else st.notification_due
        values = {"person_id": st.person_id, "surname": r.surname, "given_names": r.given_names,
                  "citizenship": st.citizenship, "citizenship_name": _country(st.citizenship, lang),
                  "region_kato": st.region_kato, "region": region.name(lang) if region else "",
                  "entered": st.current_entry.isoformat() if st.current_entry else "",
                  "day": day.isoformat() if day else "", "days": r.days}
        records.append({h: values[key] for h, (key, _) in zip(headers, columns, strict=True)})
    write_rows(out, headers, records)
    return out.getvalue()


def csv_response(rows: Sequence[ListRow], kind: str, on: dt.date, lang: str, pack: JurisdictionPack) -> Response:
    name = f"{FILE_NAMES[kind]}-{on.isoformat()}.csv"
    return Response(csv_text(rows, kind, lang, pack), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
