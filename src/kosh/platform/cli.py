"""Commands of the platform: set up a home, the schema, user accounts, the audit trail; and the
console helpers every capability's commands share. Heavy modules are imported inside each command,
so `kosh --help` and `kosh stay calc` start without loading the web app or the database layer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from kosh.platform.errors import KoshError

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.progress import Progress
    from sqlalchemy.orm import Session

    from kosh.platform.audit import VerifyResult
    from kosh.platform.config import Settings
    from kosh.platform.context import Context
    from kosh.platform.security import Principal

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)

console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print the reason on stderr and leave with `code` (2: the input was refused)."""
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def open_ctx(create_keys: bool = False) -> Context:
    """The configured home's context (schema upgraded, keys checked), or a clear error."""
    from kosh.platform.context import open_context

    try:
        return open_context(create_keys=create_keys)
    except KoshError as exc:
        fail(str(exc))


def progress_bar() -> Progress:
    from rich import progress as p

    return p.Progress(p.TextColumn("[bold]{task.description}"), p.BarColumn(), p.MofNCompleteColumn(),
                      p.TimeElapsedColumn(), p.TimeRemainingColumn(), console=console, transient=False)


def parse_day(value: str | None) -> dt.date | None:
    """An optional YYYY-MM-DD option, or a clear error."""
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        fail(f"'{value}' is not a date (YYYY-MM-DD)")


def init() -> None:
    """Create ./.kosh (or KOSH_HOME) with an owner-only key file, and the database schema."""
    from kosh.platform.config import get_settings
    from kosh.platform.crypto import write_key_file
    from kosh.platform.files import private_dir

    settings = get_settings()
    private_dir(settings.home)
    created = write_key_file(settings.resolved_key_file)
    console.print(f"key file {settings.resolved_key_file}: {'created (mode 600)' if created else 'kept'}")
    open_ctx()
    console.print(f"database ready: {settings.resolved_database_url.split('@')[-1]}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the database schema to the newest revision."""
    from kosh.platform import db

    ctx = open_ctx()
    console.print(f"schema at revision {db.current_revision(ctx.engine)}")


@users_app.command("add")
def users_add(username: str, role: str = typer.Option(..., help="admin, officer, host, analyst or auditor"),
              password: str | None = typer.Option(None, help="prompted when omitted"),
              regions: str = typer.Option("", help="comma-separated KATO prefixes (officers)"),
              host_party: str | None = typer.Option(None, help="IIN or BIN a host submits as"),
              name: str = typer.Option("", help="display name")) -> None:
    """Add a user account."""
    from kosh.platform import auth

    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    ctx = open_ctx()
    try:
        with ctx.transaction() as s:
            user = auth.create_user(s, ctx, username=username, password=password, role=role,
                                    regions=regions.split(","), host_party=host_party, display_name=name)
    except KoshError as exc:
        fail(str(exc))
    console.print(f"user {user.username} ({user.role}) created")


def _account_change(action: Callable[[Session, Context, Principal], str]) -> None:
    """Run one account change as the operator (system principal) and print what it did."""
    from kosh.platform.security import system_principal

    ctx = open_ctx()
    try:
        with ctx.transaction() as s:
            message = action(s, ctx, system_principal("account administration"))
    except KoshError as exc:
        fail(str(exc))
    console.print(message)


@users_app.command("list")
def users_list() -> None:
    """List the accounts: role, regions, active, valid API tokens."""
    from kosh.platform import auth
    from kosh.platform.security import system_principal

    ctx = open_ctx()
    with ctx.transaction() as s:
        rows = auth.list_users(s, ctx, system_principal("account administration"))
        table = Table("user", "role", "regions", "active", "valid tokens")
        for r in rows:
            table.add_row(r.user.username, r.user.role, ",".join(r.user.regions or []) or "—",
                          "yes" if r.user.active else "no", str(r.active_tokens))
    console.print(table)


@users_app.command("deactivate")
def users_deactivate(username: str) -> None:
    """Deactivate an account: its sessions end and its API tokens are revoked, at once."""
    from kosh.platform import auth

    _account_change(lambda s, ctx, actor: f"user {auth.set_active(s, ctx, actor, username, False).username} "
                                          "deactivated; sessions ended and tokens revoked")


@users_app.command("activate")
def users_activate(username: str) -> None:
    """Reactivate an account (its old tokens stay revoked)."""
    from kosh.platform import auth

    _account_change(lambda s, ctx, actor: f"user {auth.set_active(s, ctx, actor, username, True).username} "
                                          "can sign in again")


@users_app.command("tokens")
def users_tokens(username: str) -> None:
    """List a user's API tokens (id, name, issued, expires, state)."""
    from kosh.platform import auth
    from kosh.platform.clock import utcnow
    from kosh.platform.security import system_principal

    ctx = open_ctx()
    try:
        with ctx.transaction() as s:
            tokens = auth.tokens_of(s, ctx, system_principal("account administration"), username)
    except KoshError as exc:
        fail(str(exc))
    table = Table("id", "name", "issued", "expires", "state")
    for t in tokens:
        expired = t.expires_at is not None and auth.aware(t.expires_at) < utcnow()
        table.add_row(str(t.id), t.name, t.created_at.date().isoformat(),
                      t.expires_at.date().isoformat() if t.expires_at else "never",
                      "revoked" if t.revoked else "expired" if expired else "valid")
    console.print(table)


@users_app.command("revoke-token")
def users_revoke_token(token_id: int) -> None:
    """Revoke one API token by its id (see `kosh users tokens NAME`)."""
    from kosh.platform import auth

    _account_change(lambda s, ctx, actor: f"token {auth.revoke_token(s, ctx, actor, token_id).id} revoked")


@users_app.command("revoke-tokens")
def users_revoke_tokens(username: str) -> None:
    """Revoke every API token of a user."""
    from kosh.platform import auth

    _account_change(lambda s, ctx, actor: f"{auth.revoke_user_tokens(s, ctx, actor, username)} token(s) of "
                                          f"{username} revoked")


def _checkpoint_file(given: Path | None, settings: Settings) -> Path:
    if given is not None and not given.is_file():
        fail(f"no checkpoint file at {given}")
    return given or settings.resolved_audit_checkpoint_file


def _report_broken(result: VerifyResult) -> NoReturn:
    from rich.markup import escape

    at = f" at record {result.first_broken_seq}" if result.first_broken_seq is not None else ""
    err.print(f"[bold red]audit chain broken[/]{at}: {escape(result.reason)} "
              f"({result.checked} records verified before it)")
    raise typer.Exit(1)


@audit_app.command("verify")
def audit_verify(checkpoints: Path | None = typer.Option(
        None, "--checkpoints", help="a checkpoint file to check against (a witness's copy); "
                                    "default KOSH_HOME/audit-checkpoints.jsonl")) -> None:
    """Check the whole audit chain, its head and every signed checkpoint; exits 1 and names the first problem."""
    from kosh.platform import audit

    ctx = open_ctx()
    path = _checkpoint_file(checkpoints, ctx.settings)
    with ctx.transaction() as s:
        result = audit.verify(s, ctx.keyring, checkpoints=path)
    if not result.ok:
        _report_broken(result)
    console.print(f"audit chain intact: {result.checked} records verified, "
                  f"{result.checkpoints} signed checkpoint(s) of {path} hold")


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the chain's head and append it to KOSH_HOME/audit-checkpoints.jsonl (and stdout, syslog); for cron."""
    from kosh.platform import audit

    ctx = open_ctx()
    path = ctx.settings.resolved_audit_checkpoint_file
    try:
        with ctx.transaction() as s:
            cp = audit.write_checkpoint(s, ctx.keyring, path)
    except KoshError as exc:
        fail(str(exc), code=1)
    assert cp is not None  # always written unless only_if_moved
    typer.echo(cp.to_json())  # not through Rich: a witness reads the line whole
    audit.publish(cp, syslog=ctx.settings.audit_checkpoint_syslog)
    err.print(f"checkpoint at record {cp.seq} appended to {path} "
              f"(public key: {audit.checkpoint_public_key_path(path)})")


@audit_app.command("seal")
def audit_seal() -> None:
    """Tag a head last moved before head tags existed, once the chain and checkpoints verify."""
    from kosh.platform import audit

    ctx = open_ctx()
    with ctx.transaction() as s:
        result = audit.seal(s, ctx.keyring, checkpoints=ctx.settings.resolved_audit_checkpoint_file)
    if not result.ok:
        _report_broken(result)
    console.print(f"audit head carries a valid tag: {result.checked} records verified")


