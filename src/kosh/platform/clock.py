"""The time every record and decision is stamped with: now, time-zone aware, in UTC."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
