"""Small helpers shared by tests."""

from __future__ import annotations

import sqlalchemy as sa


def count(ctx, model) -> int:
    with ctx.transaction() as s:
        return s.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
