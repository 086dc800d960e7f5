"""The capabilities installed in this product, by package name, in the order their event handlers
run. The platform reaches them only by name (`importlib`), as web frameworks list their installed
apps: it never imports a capability, and a new capability joins by being listed here."""

from __future__ import annotations

import importlib
from types import ModuleType

CAPABILITIES: tuple[str, ...] = ("people", "identity", "stay", "permits", "wages")


def modules(name: str) -> list[ModuleType]:
    """Each capability's module `name` (e.g. "models", "handlers"), for those that have one."""
    found = []
    for capability in CAPABILITIES:
        try:
            found.append(importlib.import_module(f"kosh.{capability}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"kosh.{capability}.{name}":
                raise
    return found
