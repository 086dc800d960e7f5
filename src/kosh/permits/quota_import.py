"""A year's quota from a CSV file (columns year, region, category, allowed): every row checked
before anything is stored, and stored all or nothing — one `ledger.set_quota` per row inside the
caller's single transaction, so a file with one bad row leaves every cell as it was.

    rows, rejects = parse(ctx, data)          # pure: no database
    if not rejects:
        rejects = store(session, ctx, principal, rows, reason)   # the caller rolls back on any
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kosh.permits import ledger
from kosh.platform.context import Context
from kosh.platform.errors import ValidationFailed
from kosh.platform.security import Principal
from kosh.platform.words import N_, Msg

COLUMNS = ("year", "region", "category", "allowed")
MAX_ROWS = 5000  # 20 regions × 6 categories × a few years is far below; a bigger file is a mistake
MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class QuotaRow:
    row: int  # the line of the file (the header is line 1), as a spreadsheet numbers it
    year: int
    region: str
    category: str
    allowed: int


@dataclass(frozen=True)
class Reject:
    row: int  # 0: the file as a whole
    reason: str  # a Msg: said in the reader's language


def _whole(text: str) -> int | None:
    value = text.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


def parse(ctx: Context, data: bytes) -> tuple[list[QuotaRow], list[Reject]]:
    """The file's rows and, for every bad row, its line and why (empty when all are good)."""
    if len(data) > MAX_BYTES:
        return [], [Reject(0, Msg(N_("The file is larger than %(max)s KB."), max=str(MAX_BYTES // 1024)))]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [Reject(0, Msg(N_("The file is not UTF-8 text. Save it from the spreadsheet as CSV UTF-8.")))]
    lines = list(csv.reader(io.StringIO(text)))
    header = [h.strip().lower() for h in lines[0]] if lines else []
    if sorted(header) != sorted(COLUMNS):
        return [], [Reject(1, Msg(N_("The first line must name the columns %(columns)s."),
                                  columns=", ".join(COLUMNS)))]
    at = {name: header.index(name) for name in COLUMNS}
    body = [(n, cells) for n, cells in enumerate(lines[1:], start=2) if any(c.strip() for c in cells)]
    if not body:
        return [], [Reject(0, Msg(N_("The file has no rows under its header.")))]
    if len(body) > MAX_ROWS:
        return [], [Reject(0, Msg(N_("The file has more than %(max)s rows."), max=str(MAX_ROWS)))]
    rows: list[QuotaRow] = []
    rejects: list[Reject] = []
    seen: dict[tuple[int, str, str], int] = {}
    for n, cells in body:
        if len(cells) != len(COLUMNS):
            rejects.append(Reject(n, Msg(N_("The row has %(found)s columns, not %(expected)s."),
                                         found=str(len(cells)), expected=str(len(COLUMNS)))))
            continue
        year, region = _whole(cells[at["year"]]), cells[at["region"]].strip()
        category, allowed = cells[at["category"]].strip().lower(), _whole(cells[at["allowed"]])
        problems: list[str] = []
        if year is None or not 2000 <= year <= 2200:
            problems.append(Msg(N_("Enter a year between 2000 and 2200")))
        if not (region.isascii() and region.isdigit() and len(region) == 2
                and ctx.pack.region_for_kato(region.ljust(9, "0")) is not None):
            problems.append(Msg(N_("%(code)s is not a region code"), code=region))
        if category not in ledger.CATEGORIES:
            problems.append(Msg(N_("%(category)s is not a work-permit category"), category=category))
        if allowed is None or allowed > ledger.MAX_PLACES:
            problems.append(Msg(N_("Enter a whole number from %(low)s to %(high)s"), low="0",
                                high=str(ledger.MAX_PLACES)))
        if problems:
            rejects.extend(Reject(n, p) for p in problems)
            continue
        assert year is not None and allowed is not None
        key = (year, region, category)
        if key in seen:
            rejects.append(Reject(n, Msg(N_("The same year, region and category are on line %(row)s too."),
                                         row=str(seen[key]))))
            continue
        seen[key] = n
        rows.append(QuotaRow(n, year, region, category, allowed))
    return rows, rejects


def store(session: Session, ctx: Context, principal: Principal, rows: Sequence[QuotaRow],
          reason: str = "") -> list[Reject]:
    """Set every row's cell; the rows the ledger refuses (a quota below the places already
    reserved and used). The caller rolls the transaction back when any is refused."""
    rejects: list[Reject] = []
    for r in rows:
        try:
            ledger.set_quota(session, ctx, principal, year=r.year, region=r.region, category=r.category,
                             allowed=r.allowed, reason=reason)
        except ValidationFailed as exc:
            rejects.extend(Reject(r.row, e.message) for e in exc.errors)
    return rejects


__all__ = ["COLUMNS", "QuotaRow", "Reject", "parse", "store"]
