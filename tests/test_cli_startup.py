"""The command line starts light: the root command and the calculator load no database, web,
data-frame or linkage library (each command imports what it needs when it runs). Checked in a
fresh interpreter, on the modules loaded — never on timings."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# What neither `kosh --help` nor `kosh stay calc` needs.
HEAVY = ("sqlalchemy", "psycopg", "alembic", "fastapi", "starlette", "uvicorn", "jinja2", "babel", "polars",
         "pyarrow", "duckdb", "splink", "pyspark", "kosh.web", "kosh.platform.db", "kosh.stay.service",
         "kosh.people.service", "kosh.identity.linking", "kosh.flows.intake")

_CALC = """
import json, sys
from typer.testing import CliRunner
from kosh.cli import app
r = CliRunner().invoke(app, ["stay", "calc", "--citizenship", "UZB", "--trip", "2026-01-01:2026-02-15",
                             "--on", "2026-03-01", "--json"])
assert r.exit_code == 0, r.output
print(json.dumps(sorted(sys.modules)))
"""

_ROOT = """
import json, sys
import kosh.cli
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(script: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if n in modules or any(m.startswith(n + ".") for m in modules))


@pytest.mark.parametrize("script", [_CALC, _ROOT], ids=["stay calc", "import kosh.cli"])
def test_light_commands_load_no_heavy_library(script):
    assert _loaded(_modules_after(script), HEAVY) == []


def test_root_command_loads_no_capability_code():
    # `kosh --help` builds the command tree only: settings, the jurisdiction pack and its
    # country tables load when a command runs.
    assert _loaded(_modules_after(_ROOT), ("pydantic_settings", "holidays", "pycountry", "kosh.jurisdictions",
                                            "kosh.platform.config", "kosh.stay.rules", "kosh.stay.schemas")) == []
