"""How stay answers other capabilities' events: its rows follow a person through a merge and
back through its undo, and the status is computed anew for whoever's records changed."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kosh.platform.context import Context
from kosh.platform.events import PersonsForgotten, PersonsMerged, PersonsUnmerged, WorkAuthorisationChanged, on
from kosh.stay import service


@on(PersonsMerged)
def move_stay_records(session: Session, ctx: Context, event: PersonsMerged) -> None:
    event.moved.update(service.move_records(session, event.merged_id, event.kept_id))
    service.recompute_after_identity_change(session, ctx, [event.kept_id], gone=[event.merged_id],
                                            defer=event.defer_refresh)


@on(PersonsUnmerged)
def restore_stay_records(session: Session, ctx: Context, event: PersonsUnmerged) -> None:
    service.restore_records(session, event.moved, event.kept_id, event.merged_id,
                            event.moved.get("travel_documents", []))
    service.recompute_after_identity_change(session, ctx, [event.kept_id, event.merged_id])


@on(PersonsForgotten)
def forget_stay_of_persons(session: Session, ctx: Context, event: PersonsForgotten) -> None:
    service.forget_persons(session, list(event.person_ids))


@on(WorkAuthorisationChanged)
def keep_work_authorisation(session: Session, ctx: Context, event: WorkAuthorisationChanged) -> None:
    """A work permit or an EAEU contract is a lawful basis of stay: its spans are kept as the
    worker's permit periods (replacing those it gave before) and the status computed anew."""
    service.replace_work_basis(session, ctx, event.reference, event.kind, event.region, list(event.person_ids),
                               list(event.periods))
