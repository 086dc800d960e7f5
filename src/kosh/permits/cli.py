"""Commands of work permits: the daily job, quotas, permits and the offline check of a permit's code."""

from __future__ import annotations

import typer

permits_app = typer.Typer(help="Work permits, employers and quotas.", no_args_is_help=True)
