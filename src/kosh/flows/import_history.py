"""Past import batches, newest first, as their importers see them (`kosh.flows.intake` makes them).

Scope: an admin sees every batch; anyone else who may import sees the batches they started
themselves. A batch records no region (one file may hold rows of many), so scoping by region is
not possible; by importer is also what the progress page and the rejects file already follow
(`intake.batch_for`): the rejects file holds document numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from kosh.platform.context import Context
from kosh.platform.security import Permission, Principal, Role
from kosh.platform.words import N_
from kosh.stay.models import ImportBatch

PAGE_SIZE = 25
# A batch's status in words.
STATUS_WORDS = {"running": N_("In progress"), "done": N_("Finished"), "failed": N_("Stopped on an error")}


@dataclass(frozen=True)
class HistoryPage:
    batches: list[ImportBatch]
    total: int
    offset: int
    limit: int
    everyone: bool  # an admin's view of every importer's batches


def history(ctx: Context, principal: Principal, *, offset: int = 0, limit: int | None = None) -> HistoryPage:
    principal.require(Permission.IMPORT)
    limit = limit or PAGE_SIZE
    everyone = principal.role == Role.ADMIN
    where = [] if everyone else [ImportBatch.started_by == principal.username]
    with ctx.transaction() as s:
        total = s.execute(select(func.count()).select_from(ImportBatch).where(*where)).scalar_one()
        batches = list(s.execute(select(ImportBatch).where(*where)
                                 .order_by(ImportBatch.started_at.desc(), ImportBatch.id.desc())
                                 .offset(offset).limit(limit)).scalars())
        s.expunge_all()
    return HistoryPage(batches, total, offset, limit, everyone)
