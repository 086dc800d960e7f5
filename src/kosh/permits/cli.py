"""Commands of work permits: the daily job, quotas, permits and the offline check of a permit's code.

`kosh permits verify` needs neither the database nor the keys when given the published public key
(`--public-key key.pem`, from `kosh permits public-key` or GET /verify/key.pem): an inspector's
laptop can check a code with no connection. It says nothing of the permit's state today, which
only the registry knows (the /verify page).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.table import Table

from kosh.platform.cli import console, fail, open_ctx, parse_day
from kosh.platform.errors import KoshError, ValidationFailed

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from kosh.permits.ledger import Utilisation
    from kosh.platform.context import Context
    from kosh.platform.security import Principal

permits_app = typer.Typer(help="Work permits, employers and quotas.", no_args_is_help=True)
quota_app = typer.Typer(help="Quotas of foreign workers: set, show and move places.", no_args_is_help=True)
permits_app.add_typer(quota_app, name="quota")


def _refused(exc: KoshError) -> NoReturn:
    if isinstance(exc, ValidationFailed):
        fail("; ".join(f"{e.field}: {e.message}" for e in exc.errors))
    fail(str(exc))


def _operator(purpose: str) -> Principal:
    from kosh.platform.security import system_principal

    return system_principal(purpose)


def _today(ctx: Context) -> dt.date:
    from kosh.platform.clock import local_today

    return local_today(ctx.pack.zone)


def _regions(codes: object) -> str:
    from kosh.platform.words import region_name

    return ", ".join(f"{region_name(c)} ({c})" for c in codes)  # type: ignore[attr-defined]


# -- the signed code --------------------------------------------------------------------------------


def _public_key(path: Path | None) -> Ed25519PublicKey:
    """The key to check against: the PEM file given, else the installation's own key set (no database)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    if path is not None:
        try:
            key = load_pem_public_key(path.read_bytes())
        except (OSError, ValueError) as exc:
            fail(f"{path}: not a readable PEM public key ({exc.__class__.__name__})")
        if not isinstance(key, Ed25519PublicKey):
            fail(f"{path}: not an Ed25519 public key")
        return key
    from kosh.platform.config import get_settings
    from kosh.platform.crypto import load_keyring

    try:
        return load_keyring(get_settings().resolved_key_file).permit_public_key()
    except KoshError as exc:
        fail(str(exc))


@permits_app.command("verify")
def permits_verify(code: str = typer.Argument(..., help="the code from the permit's QR code (KOSHWP1.…)"),
                   public_key: Path | None = typer.Option(None, "--public-key", help="the published key (PEM); "
                                                          "offline, without the database or the keys")) -> None:
    """Check a permit's code offline: signature, holder, employer, regions, term (exit 1: not valid).

    The permit's state today (revoked, suspended) is known only online, on the /verify page."""
    from kosh.permits import signing

    key = _public_key(public_key)
    try:
        payload = signing.decode(code, key)
    except ValidationFailed as exc:
        fail(f"NOT VALID: {exc.errors[0].message}", code=1)
    table = Table(show_header=False)
    table.add_row("reference", payload.reference)
    table.add_row("holder", payload.holder)
    table.add_row("document", f"…{payload.document_tail} ({payload.citizenship})")
    table.add_row("employer", f"{payload.employer} (BIN/IIN …{payload.employer_id_tail})")
    table.add_row("regions", _regions(payload.regions))
    table.add_row("term", f"{payload.valid_from.isoformat()} – {payload.valid_to.isoformat()}")
    table.add_row("issued on", payload.issued_on.isoformat())
    table.add_row("channel", f"{payload.channel}{f', category {payload.category}' if payload.category else ''}")
    table.add_row("key", payload.key_id)
    console.print(table)
    console.print(f"[bold green]OK[/]: signature valid (key {payload.key_id}). The permit's state today is on "
                  "the /verify page of the registry.")


@permits_app.command("public-key")
def permits_public_key() -> None:
    """Print the public key that checks permit codes (PEM), for those who check them offline."""
    from kosh.permits import signing
    from kosh.platform.config import get_settings
    from kosh.platform.crypto import load_keyring

    try:
        keyring = load_keyring(get_settings().resolved_key_file)
    except KoshError as exc:
        fail(str(exc))
    sys.stdout.write(signing.public_key_pem(keyring))


# -- the daily job and the permits ------------------------------------------------------------------


@permits_app.command("check")
def permits_check(file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                            help="an application as JSON (the body of POST /api/v1/permits)"),
                  on: str | None = typer.Option(None, help="the day it would be filed (default today); YYYY-MM-DD"),
                  as_json: bool = typer.Option(False, "--json", help="print a JSON array")) -> None:
    """The checks an application would meet if filed: the same named rules the pages and the API
    run, each passed or failed with its words and its source. Exit code 1 when one fails."""
    import json

    from pydantic import ValidationError

    from kosh.permits import service
    from kosh.permits.rules import Outcome
    from kosh.permits.schemas import ApplicationIn
    from kosh.platform.validation import field_errors

    try:
        data = ApplicationIn.model_validate_json(file.read_bytes())
    except ValidationError as exc:
        _refused(ValidationFailed(field_errors(exc)))
    ctx = open_ctx()
    day = parse_day(on) or _today(ctx)
    try:
        with ctx.transaction() as s:
            checks = service.application_checks(s, ctx, data, day)
    except KoshError as exc:
        _refused(exc)
    if as_json:
        print(json.dumps([{"check": c.check, "outcome": c.outcome.value, "message": str(c.message),
                           "source": c.source.text if c.source else None} for c in checks], ensure_ascii=False))
    else:
        table = Table("check", "outcome", "rule", "source", title=f"{file.name}, filed on {day.isoformat()}")
        for c in checks:
            colour = {Outcome.FAILED: "red", Outcome.PASSED: "green"}.get(c.outcome, "yellow")
            table.add_row(c.check, f"[{colour}]{c.outcome.value}[/]", str(c.message), c.source.text if c.source else "")
        console.print(table)
    if any(c.outcome is Outcome.FAILED for c in checks):
        raise typer.Exit(1)


@permits_app.command("daily")
def permits_daily(on: str | None = typer.Option(None, help="the day to run for (default today); YYYY-MM-DD")) -> None:
    """Run the daily job of work permits (idempotent; for cron where no web process runs it).

    It lapses reservations, expires unpaid approvals and permits past their end, and suspends and
    restores household permits by their payments; a second run on a day changes nothing."""
    from kosh.permits import service

    ctx = open_ctx()
    day = parse_day(on) or _today(ctx)
    try:
        with ctx.transaction() as s:
            report = service.run_daily(s, ctx, _operator("kosh permits daily"), day)
    except KoshError as exc:
        _refused(exc)
    table = Table("on " + day.isoformat(), "permits")
    for name, value in report.__dict__.items():
        table.add_row(name.replace("_", " "), str(value))
    console.print(table)


@permits_app.command("list")
def permits_list(state: list[str] = typer.Option([], help="a state to list (repeat); all when none"),
                 region: str = typer.Option("", help="2-digit KATO code of a region of work"),
                 page: int = typer.Option(1, min=1, help="page of 25, newest first")) -> None:
    """Work permits and applications, newest first (audited as the operator's read)."""
    from kosh.permits import service
    from kosh.permits.rules import PermitState

    unknown = [s for s in state if s not in {p.value for p in PermitState}]
    if unknown:
        fail(f"unknown state {', '.join(unknown)}; one of: {', '.join(p.value for p in PermitState)}")
    ctx = open_ctx()
    try:
        with ctx.transaction() as s:
            found = service.list_permits(s, ctx, _operator("kosh permits list"), states=state, region=region,
                                         page=page)
    except KoshError as exc:
        _refused(exc)
    table = Table(title=f"{found.total} permits, page {found.page} of {found.pages}")
    for name in ("reference", "employer", "channel", "category", "state", "regions", "workers", "valid from",
                 "valid to"):
        table.add_column(name, no_wrap=name in ("reference", "state"))
    for p in found.items:
        table.add_row(p.reference, p.employer_name, p.channel, p.category, p.state,
                      ", ".join(f"{r}: {n}" for r, n in p.regions.items()), str(p.workers_count),
                      p.valid_from.isoformat() if p.valid_from else "", p.valid_to.isoformat() if p.valid_to else "")
    console.print(table)


# -- quotas -----------------------------------------------------------------------------------------


def _utilisation_table(rows: list[Utilisation], title: str) -> Table:
    table = Table("region", "category", "allowed", "reserved", "used", "free", title=title)
    for u in rows:
        table.add_row(f"{u.region_name} ({u.region})", u.category, str(u.allowed), str(u.reserved), str(u.used),
                      str(u.free))
    return table


@quota_app.command("set")
def quota_set(year: int = typer.Argument(..., min=2000, max=2100),
              region: str = typer.Argument(..., help="2-digit KATO code"),
              category: str = typer.Argument(..., help="1, 2, 3, 4, seasonal or household"),
              allowed: int = typer.Argument(..., min=0), reason: str = typer.Option("", help="why (kept)")) -> None:
    """Set the places allowed for a year, region and category (not below those reserved and used)."""
    from kosh.permits import ledger

    ctx = open_ctx()
    try:
        with ctx.transaction() as s:
            cell = ledger.set_quota(s, ctx, _operator("kosh permits quota set"), year=year, region=region,
                                    category=category, allowed=allowed, reason=reason)
    except KoshError as exc:
        _refused(exc)
    console.print(_utilisation_table([cell], f"quota {year}"))


@quota_app.command("show")
def quota_show(year: int = typer.Argument(..., min=2000, max=2100),
               region: list[str] = typer.Option([], help="a region to show (repeat); all when none")) -> None:
    """The quota of a year: allowed, reserved, used and free places per region and category."""
    from kosh.permits import ledger

    ctx = open_ctx()
    try:
        with ctx.transaction() as s:
            rows = ledger.utilisation(s, ctx, _operator("kosh permits quota show"), year=year, regions=region or None)
    except KoshError as exc:
        _refused(exc)
    table = _utilisation_table(rows, f"quota {year}")
    if rows:
        table.add_section()
        table.add_row("total", "", *(str(sum(getattr(u, f) for u in rows))
                                     for f in ("allowed", "reserved", "used", "free")))
    console.print(table)


@quota_app.command("move")
def quota_move(year: int = typer.Argument(..., min=2000, max=2100), category: str = typer.Argument(...),
               from_region: str = typer.Argument(..., metavar="FROM"),
               to_region: str = typer.Argument(..., metavar="TO"),
               places: int = typer.Argument(..., min=1), reason: str = typer.Option(..., help="why (kept)")) -> None:
    """Move unused places of a year and category from one region to another."""
    from kosh.permits import ledger

    ctx = open_ctx()
    operator = _operator("kosh permits quota move")
    try:
        with ctx.transaction() as s:
            ledger.redistribute(s, ctx, operator, year=year, category=category, from_region=from_region,
                                to_region=to_region, places=places, reason=reason)
            rows = ledger.utilisation(s, ctx, operator, year=year, regions=[from_region, to_region])
    except KoshError as exc:
        _refused(exc)
    console.print(_utilisation_table([u for u in rows if u.category == category], f"quota {year}, {category}"))
