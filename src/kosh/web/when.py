"""Moments (an audit record's time, an import's start) written for the reader: in the
jurisdiction's time zone and the interface language's format."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from babel import Locale
from babel.dates import format_datetime

from kosh.platform.context import Context


def moment_writer(ctx: Context, lang: str) -> Callable[[dt.datetime | None], str]:
    zone, locale = ctx.pack.zone, Locale.parse(lang)

    def when(value: dt.datetime | None) -> str:
        if value is None:
            return "—"
        if value.tzinfo is None:  # SQLite gives back naive datetimes; they were stored in UTC
            value = value.replace(tzinfo=dt.UTC)
        return format_datetime(value, format="medium", tzinfo=zone, locale=locale)

    return when
