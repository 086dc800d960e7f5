"""In-transaction domain events: how one capability's change reaches the others without an
upward or sideways import.

A writer raises an event with `publish(session, ctx, event)`; every handler subscribed to its type
runs at once, in the writer's session and transaction, in the order the capabilities are listed in
`CAPABILITIES`. So a handler's rows commit or roll back with the write that caused them: nothing
is lost between two transactions and nobody sees half of a change. A handler may publish further
events (a link that merges two persons raises `PersonsMerged` inside `PersonsCreated`).

Handlers live in each capability's `handlers` module and register themselves with `@on(Event)`.
The modules are imported by name on first use (as a plugin list, the way web frameworks list
their installed apps), so the platform imports no capability and no handler can be forgotten by an
entry point that did not wire it.

A small dispatcher written here rather than a library: blinker or pyee dispatch in-process too, but
neither runs handlers in a caller's database transaction nor orders them by capability, and both
would need the same wrapper.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from kosh.platform import capabilities

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kosh.platform.context import Context

CAPABILITIES = capabilities.CAPABILITIES  # whose `handlers` modules are loaded, in the order they run


class Event:
    """Base of every domain event: a fact about the registry, named in the past tense."""


@dataclass(frozen=True)
class PersonsCreated(Event):
    """Persons were created by a write and their first records are stored (raised by people for a
    person recorded on its own, by stay for the persons its crossings and notifications created).
    `defer_refresh`: a bulk import refreshes stay status later, in one pass.
    `merges`: handlers that merged any of them into an older person add how many."""

    person_ids: tuple[str, ...]
    defer_refresh: bool = False
    merges: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class PersonsMerged(Event):
    """`merged_id` now stands for `kept_id` (identity raises it after people moved the identity).
    Each capability holding rows of a person moves its own and adds their ids to `moved`, which
    identity keeps so the merge can be undone exactly."""

    kept_id: str
    merged_id: str
    moved: dict[str, list[int]]
    defer_refresh: bool = False


@dataclass(frozen=True)
class PersonsUnmerged(Event):
    """A merge was undone: the rows listed in `moved` (as recorded at the merge) go back to
    `merged_id`, which stands for itself again."""

    kept_id: str
    merged_id: str
    moved: dict[str, list[int]]


@dataclass(frozen=True)
class PersonsForgotten(Event):
    """These persons' records reached the end of their retention term and are being erased;
    each capability deletes what it holds about them (raised by the retention run)."""

    person_ids: tuple[str, ...]


@dataclass(frozen=True)
class WorkAuthorisationChanged(Event):
    """The days a work permit (or a registered EAEU employment contract) authorises its workers'
    stay changed: it was issued, extended, suspended, restored, revoked or expired. `periods`
    holds, per worker, every span the authorisation covers now (start, end inclusive); a worker
    with none listed in `person_ids` has lost it. Stay keeps them as the lawful basis of stay
    (`kind`: what it is, for the person's page)."""

    reference: str
    kind: str  # work_permit | eaeu_contract
    region: str  # KATO code of the region recorded with the basis
    person_ids: tuple[str, ...]
    periods: tuple[tuple[str, dt.date, dt.date], ...]


E = TypeVar("E", bound=Event)
Handler = Callable[["Session", "Context", Any], None]

_handlers: dict[type[Event], list[tuple[int, Handler]]] = defaultdict(list)
_loaded = False


def on(event_type: type[E]) -> Callable[[Callable[[Session, Context, E], None]], Callable[[Session, Context, E], None]]:
    """Subscribe the decorated function to `event_type`; it runs in the publisher's transaction."""

    def register(handler: Callable[[Session, Context, E], None]) -> Callable[[Session, Context, E], None]:
        capability = handler.__module__.split(".")[1] if handler.__module__.startswith("kosh.") else ""
        rank = CAPABILITIES.index(capability) if capability in CAPABILITIES else len(CAPABILITIES)
        if all(h is not handler for _, h in _handlers[event_type]):
            _handlers[event_type].append((rank, handler))
            _handlers[event_type].sort(key=lambda item: item[0])
        return handler

    return register


def _load() -> None:
    global _loaded
    if _loaded:
        return
    capabilities.modules("handlers")
    _loaded = True


def handlers_of(event_type: type[Event]) -> list[Handler]:
    """The handlers `publish` would run for this type, in order (for tests and the README)."""
    _load()
    return [h for _, h in _handlers.get(event_type, [])]


def publish(session: Session, ctx: Context, event: E) -> E:
    """Run every handler of the event's type now, in this session; a handler's error propagates
    and so rolls the whole write back. Returns the event (handlers may have filled its fields)."""
    for handler in handlers_of(type(event)):
        handler(session, ctx, event)
    return event
