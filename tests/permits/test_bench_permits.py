"""`kosh bench permits` at a tiny size on SQLite: concurrent approvals never overdraw the quota,
the hot cell approves exactly its places, and the ledger agrees with its movements (no timings)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from benchmarks import permits as bp


def test_concurrent_approvals_never_overdraw_a_cell(tmp_path: Path) -> None:
    result = bp.run_on(f"sqlite:///{tmp_path / 'kosh.db'}", tmp_path / "home", approvals=40, clients=8, cells=20)
    hot, spread = result.runs
    assert (hot.attempted, hot.approved, hot.refused, hot.errors) == (40, 30, 10, [])
    assert (spread.attempted, spread.approved, spread.refused, spread.errors) == (40, 40, 0, [])
    assert spread.cells == 20
    assert result.hot_exact and result.integrity_errors == [] and result.overdrawn == []
    assert result.ok


def test_the_report_prints_the_check_and_the_machine() -> None:
    console = Console(record=True, width=200)
    result = bp.run_permits(console, None, approvals=12, clients=4, cells=6)
    text = console.export_text()
    assert result.ok
    assert "cores" in text and "approvals/s" in text and "exactly the places allowed" in text
    assert "overdraw (reserved + used > allowed): none" in text


def test_the_command_runs_on_sqlite_when_no_postgresql_is_named(monkeypatch) -> None:
    from kosh.cli import app

    monkeypatch.setenv("KOSH_DATABASE_URL", "sqlite:///ignored.db")  # only PostgreSQL is used as named
    out = CliRunner().invoke(app, ["bench", "permits", "--approvals", "8"])
    assert out.exit_code == 0, out.output
    assert "SQLite" in out.output and "exactly the places allowed" in out.output
