"""Pages of the akimat's queue and the ministry's quotas: decisions on applications, the permit's
life, quotas set, moved and used."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
