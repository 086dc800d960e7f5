"""Commands of the stay registry: the short-stay calculator and a person's stay status."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from kosh.platform.cli import console, fail, open_ctx, parse_day
from kosh.platform.errors import KoshError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kosh.platform.words import Msg
    from kosh.stay.rules import StayAssessment

stay_app = typer.Typer(help="Stay status and the short-stay calculator.", no_args_is_help=True)


@stay_app.command("calc")
def stay_calc(citizenship: str = typer.Option(..., help="ISO 3166-1 alpha-3, e.g. UZB"),
              trip: list[str] = typer.Option(...,
                                             help="ENTRY:EXIT dates (YYYY-MM-DD); ENTRY: when still in the country"),
              on: str | None = typer.Option(None, help="the date to count on (default today)"),
              permit: list[str] = typer.Option([], help="KIND:START:END of a visa, TRP or work permit held "
                                                        "(KIND visa, trp or work_permit; repeatable); its days "
                                                        "do not count"),
              as_json: bool = typer.Option(False, "--json", help="print a JSON object")) -> None:
    """Days used, days left and the last lawful day under the short-stay rules."""
    from pydantic import ValidationError

    from kosh.jurisdictions import load_pack
    from kosh.platform.config import get_settings
    from kosh.platform.validation import field_errors
    from kosh.stay import rules
    from kosh.stay.schemas import CalculatorIn

    trips = []
    for t in trip:
        start, sep, end = t.partition(":")
        if not sep:
            fail(f"trip '{t}' must be ENTRY:EXIT or ENTRY: (still in the country)")
        trips.append({"start": start, **({"end": end} if end else {})})
    permits = []
    for p in permit:
        parts = p.split(":")
        if len(parts) != 3:
            fail(f"permit '{p}' must be KIND:START:END, e.g. work_permit:2026-01-01:2026-12-31")
        permits.append(dict(zip(("kind", "start", "end"), parts, strict=True)))
    try:
        body = CalculatorIn.model_validate({"citizenship": citizenship, "trips": trips, "permits": permits,
                                            **({"on": on} if on else {})})
    except ValidationError as exc:
        fail("; ".join(f"{e.field}: {e.message}" for e in field_errors(exc)))
    day = body.on or dt.date.today()
    try:
        result = rules.calculate_trips(body.citizenship, [(t.start, t.end) for t in body.trips], day,
                                       load_pack(get_settings().jurisdiction).stay_rules, body.periods())
    except ValueError as exc:
        fail(str(exc))
    _print_assessment(result, day, body.citizenship, as_json, body.permit_notes())


# What --json prints, in this order: the API's answer without current_entry.
_JSON_FIELDS = ("on", "citizenship", "status", "days_used", "days_left", "last_lawful_day", "overstay_days",
                "in_country", "rule", "reasons", "deadlines", "violations")


def _assessment_dict(result: StayAssessment, day: dt.date, citizenship: str,
                     notes: Sequence[Msg] = ()) -> dict[str, object]:
    from kosh.stay.schemas import assessment_out

    out = assessment_out(result, day, citizenship, None, notes).model_dump(mode="json")
    # days_left stays null where no window limits the stay (the API answers 0 there).
    return {k: out[k] for k in _JSON_FIELDS} | {"days_left": result.days_left}


def _print_assessment(result: StayAssessment, day: dt.date, citizenship: str, as_json: bool,
                      notes: Sequence[Msg] = ()) -> None:
    data = _assessment_dict(result, day, citizenship, notes)
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        return
    table = Table(show_header=False)
    for key in ("on", "citizenship", "status", "days_used", "days_left", "last_lawful_day", "overstay_days"):
        table.add_row(key.replace("_", " "), str(data[key]))
    table.add_row("rule", result.rule.text)
    console.print(table)
    for r in (*notes, *result.reasons):
        console.print(f"• {r}")


@stay_app.command("status")
def stay_status(person_id: str, on: str | None = typer.Option(None, help="date (default today)"),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """A registered person's stay status (audited as a read by the operator)."""
    from kosh.platform.security import system_principal
    from kosh.stay import service

    ctx = open_ctx()
    day = parse_day(on)
    try:
        with ctx.transaction() as s:
            citizenship, result, day = service.stay_status(s, ctx, system_principal("kosh stay status"), person_id, day)
    except KoshError as exc:
        fail(str(exc))
    _print_assessment(result, day, citizenship, as_json)




@stay_app.command("violations")
def stay_violations(first: str = typer.Option(..., "--from", help="first day of the period (YYYY-MM-DD)"),
                    last: str = typer.Option(..., "--to", help="last day of the period (YYYY-MM-DD)"),
                    kind: list[str] = typer.Option([], help="a kind to list (repeat); all when none"),
                    region: str | None = typer.Option(None, help="KATO prefix of a region"),
                    citizenship: str | None = typer.Option(None, help="ISO 3166-1 code or name"),
                    limit: int = typer.Option(500, min=1, max=10_000, help="most rows to print"),
                    as_json: bool = typer.Option(False, "--json", help="print one JSON object per line")) -> None:
    """Violations recorded in a period: overstays and host notifications missed or late (audited)."""
    from kosh.platform.errors import ValidationFailed
    from kosh.platform.security import system_principal
    from kosh.stay import service

    start, end = parse_day(first), parse_day(last)
    assert start is not None and end is not None  # both options are required
    ctx = open_ctx()
    try:
        with ctx.transaction() as s:
            rows, _ = service.list_violations(s, ctx, system_principal("kosh stay violations"), start, end, kind,
                                              region, citizenship, None, limit)
    except ValidationFailed as exc:
        fail("; ".join(f"{e.field}: {e.message}" for e in exc.errors))
    except KoshError as exc:
        fail(str(exc))
    items = [{"person_id": r.violation.person_id, "surname": r.surname, "given_names": r.given_names,
              "citizenship": r.status.citizenship, "region_kato": r.status.region_kato, "kind": r.violation.kind,
              "first_day": r.violation.first_day.isoformat(),
              "last_day": r.last_day.isoformat() if r.last_day else None, "ongoing": r.violation.ongoing,
              "days": r.days, "stay_entry": r.violation.stay_entry.isoformat() if r.violation.stay_entry else None,
              "due": r.violation.due.isoformat() if r.violation.due else None,
              "filed": r.violation.filed.isoformat() if r.violation.filed else None} for r in rows]
    if as_json:
        for item in items:
            sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
        return
    table = Table("person", "name", "citizenship", "kind", "first day", "last day", "days", "due")
    for item in items:
        table.add_row(str(item["person_id"]), f"{item['surname']} {item['given_names']}".strip(),
                      str(item["citizenship"]), str(item["kind"]), str(item["first_day"]),
                      str(item["last_day"] or "ongoing"), str(item["days"]), str(item["due"] or ""))
    console.print(table)
    console.print(f"{len(items)} violation(s) from {start} to {end}")


@stay_app.command("recompute")
def stay_recompute() -> None:
    """Recompute every person's stored stay status and violations (e.g. after an upgrade)."""
    from kosh.stay import service

    ctx = open_ctx()
    done = service.recompute_every_status(ctx)
    console.print(f"{done} person(s) recomputed")
