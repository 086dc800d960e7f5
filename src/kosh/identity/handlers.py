"""How identity answers other capabilities' events: a newly created person is linked to the
registry at once (if the model is certain it is someone recorded before, it joins that older
person; an uncertain pair waits in the review queue)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kosh.identity import registry, service
from kosh.platform.context import Context
from kosh.platform.events import PersonsCreated, PersonsForgotten, on


@on(PersonsCreated)
def link_created_persons(session: Session, ctx: Context, event: PersonsCreated) -> None:
    outcome = registry.link_new(session, ctx, list(event.person_ids), defer_refresh=event.defer_refresh)
    event.merges.append(outcome.merges)


@on(PersonsForgotten)
def forget_identity_of_persons(session: Session, ctx: Context, event: PersonsForgotten) -> None:
    service.forget_persons(session, list(event.person_ids))
