"""The time every record and decision is stamped with: now, time-zone aware, in UTC."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local_today(zone: dt.tzinfo) -> dt.date:
    """Today where the installation's country is (its pack's time zone). Read through this module
    (`clock.local_today`), so that a test pinning `clock.utcnow` pins every page's day too."""
    return utcnow().astimezone(zone).date()
