"""Domain events run their handlers in the writer's transaction: what a handler writes commits
with the write, and a handler's failure rolls the whole write back."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

from kosh.platform import events
from kosh.platform.models import LoginAttempt


@dataclass(frozen=True)
class Noted(events.Event):
    key: str
    seen: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Refused(events.Event):
    key: str


@events.on(Noted)
def _record_it(session, ctx, event: Noted) -> None:  # a test handler
    session.add(LoginAttempt(username=f"handled:{event.key}", success=True))
    event.seen.append("first")


@events.on(Noted)
def _answer(session, ctx, event: Noted) -> None:  # a test handler
    event.seen.append("second")


@events.on(Refused)
def _refuse(session, ctx, event: Refused) -> None:  # a test handler
    session.add(LoginAttempt(username=f"handled:{event.key}", success=True))
    raise RuntimeError("the handler refuses")


def _keys(ctx) -> set[str]:
    with ctx.transaction() as s:
        return set(s.execute(sa.select(LoginAttempt.username)).scalars())


def test_handlers_write_in_the_publishers_transaction_in_order(ctx):
    with ctx.transaction() as s:
        s.add(LoginAttempt(username="write:a", success=True))
        event = events.publish(s, ctx, Noted("a"))
    assert event.seen == ["first", "second"]
    assert _keys(ctx) == {"write:a", "handled:a"}


def test_a_failing_handler_rolls_the_whole_write_back(ctx):
    with pytest.raises(RuntimeError, match="refuses"):
        with ctx.transaction() as s:
            s.add(LoginAttempt(username="write:b", success=True))
            events.publish(s, ctx, Refused("b"))
    assert _keys(ctx) == set()


def test_a_handler_registered_twice_runs_once(ctx):
    events.on(Noted)(_answer)
    with ctx.transaction() as s:
        assert events.publish(s, ctx, Noted("c")).seen == ["first", "second"]


def test_an_event_nobody_handles_changes_nothing(ctx):
    @dataclass(frozen=True)
    class Unheard(events.Event):
        key: str

    with ctx.transaction() as s:
        assert events.publish(s, ctx, Unheard("d")) == Unheard("d")
    assert _keys(ctx) == set()
