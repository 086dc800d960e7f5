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
    from kosh.stay.rules import StayAssessment

stay_app = typer.Typer(help="Stay status and the short-stay calculator.", no_args_is_help=True)


@stay_app.command("calc")
def stay_calc(citizenship: str = typer.Option(..., help="ISO 3166-1 alpha-3, e.g. UZB"),
              trip: list[str] = typer.Option(...,
                                             help="ENTRY:EXIT dates (YYYY-MM-DD); ENTRY: when still in the country"),
              on: str | None = typer.Option(None, help="the date to count on (default today)"),
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
    try:
        body = CalculatorIn.model_validate({"citizenship": citizenship, "trips": trips, **({"on": on} if on else {})})
    except ValidationError as exc:
        fail("; ".join(f"{e.field}: {e.message}" for e in field_errors(exc)))
    day = body.on or dt.date.today()
    try:
        result = rules.calculate_trips(body.citizenship, [(t.start, t.end) for t in body.trips], day,
                                       load_pack(get_settings().jurisdiction).stay_rules)
    except ValueError as exc:
        fail(str(exc))
    _print_assessment(result, day, body.citizenship, as_json)


# What --json prints, in this order: the API's answer without current_entry.
_JSON_FIELDS = ("on", "citizenship", "status", "days_used", "days_left", "last_lawful_day", "overstay_days",
                "in_country", "rule", "reasons", "deadlines", "violations")


def _assessment_dict(result: StayAssessment, day: dt.date, citizenship: str) -> dict[str, object]:
    from kosh.stay.schemas import assessment_out

    out = assessment_out(result, day, citizenship).model_dump(mode="json")
    # days_left stays null where no window limits the stay (the API answers 0 there).
    return {k: out[k] for k in _JSON_FIELDS} | {"days_left": result.days_left}


def _print_assessment(result: StayAssessment, day: dt.date, citizenship: str, as_json: bool) -> None:
    data = _assessment_dict(result, day, citizenship)
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        return
    table = Table(show_header=False)
    for key in ("on", "citizenship", "status", "days_used", "days_left", "last_lawful_day", "overstay_days"):
        table.add_row(key.replace("_", " "), str(data[key]))
    table.add_row("rule", result.rule.text)
    console.print(table)
    for r in result.reasons:
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


