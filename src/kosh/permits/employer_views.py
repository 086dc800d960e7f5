"""Pages of the employer's workspace: its details, applications for named workers with their
checks, its permits and reminders."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
