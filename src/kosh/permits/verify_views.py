"""The public permit check: a permit's signed code (from its QR) verified offline against the
published key, and its state looked up online."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
