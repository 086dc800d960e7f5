"""How permits answer other capabilities' events: a permit's workers follow a person through a
merge and back through its undo, and go when the person is forgotten."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kosh.permits import service
from kosh.platform.context import Context
from kosh.platform.events import PersonsForgotten, PersonsMerged, PersonsUnmerged, on


@on(PersonsMerged)
def move_permit_workers(session: Session, ctx: Context, event: PersonsMerged) -> None:
    event.moved["work_permit_workers"] = service.move_workers(session, event.merged_id, event.kept_id)


@on(PersonsUnmerged)
def restore_permit_workers(session: Session, ctx: Context, event: PersonsUnmerged) -> None:
    service.restore_workers(session, event.moved.get("work_permit_workers", []), event.merged_id)


@on(PersonsForgotten)
def forget_permit_workers(session: Session, ctx: Context, event: PersonsForgotten) -> None:
    service.forget_workers(session, list(event.person_ids))
