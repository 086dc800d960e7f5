"""HTTP API of work permits, employers and quotas under /api/v1 (routes only; the use cases are in
service.py and ledger.py)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["permits"])
