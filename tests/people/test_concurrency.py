"""Concurrent writers of one person: every write is stored once, all on the same person, or a
clear Conflict — never a database error. Runs on both databases; PostgreSQL is where writers
really overlap (SQLite takes its write lock at BEGIN)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import httpx
import psycopg
import pytest
import sqlalchemy as sa

import factories as f
from kosh.people import names
from kosh.people import service as people
from kosh.people.models import Person, PersonName, PersonNameToken, TravelDocument
from kosh.people.schemas import PersonIn
from kosh.platform import auth
from kosh.platform.context import Context
from kosh.platform.errors import CONCURRENT_WRITE, database_conflict
from kosh.platform.security import system_principal
from kosh.platform.validation import validate_model
from kosh.stay import service as stay
from kosh.stay.models import HostNotification, StayStatus
from kosh.stay.schemas import NotificationIn

ADMIN = system_principal("tests")
WRITERS = 16


@pytest.fixture
def wide_ctx(ctx: Context) -> Context:
    """`ctx` with a pool as large as the number of writers, so that all of them really overlap."""
    if ctx.engine.dialect.name != "postgresql":
        yield ctx
        return
    with ctx.engine.connect() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
    engine = sa.create_engine(ctx.engine.url, connect_args={"options": f"-csearch_path={schema}"},
                              pool_size=WRITERS, max_overflow=4)
    yield Context(settings=ctx.settings, engine=engine, keyring=ctx.keyring)
    engine.dispose()


def run_together(work: list[Callable[[], object]]) -> tuple[list[object], list[BaseException]]:
    """Start every piece of work at the same moment, each in its own thread; results and errors."""
    barrier = threading.Barrier(len(work))
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one(fn: Callable[[], object]) -> None:
        barrier.wait()
        try:
            out = fn()
        except BaseException as exc:  # every failure is collected and asserted on
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(out)

    threads = [threading.Thread(target=one, args=(fn,)) for fn in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return results, errors


def record_note(ctx: Context, row: dict) -> Callable[[], object]:
    note = validate_model(NotificationIn, row, stay.validation_context(ctx))

    def write() -> object:
        with ctx.transaction() as s:
            return stay.record_notifications(s, ctx, ADMIN, [note])
    return write


def rows(ctx: Context, model: type) -> list:
    with ctx.transaction() as s:
        return list(s.execute(sa.select(model)).scalars())


def assert_one_person_with_everything(ctx: Context, spellings: set[str], accepted: int) -> str:
    """Exactly one person and one document; every accepted notification, each spelling once and
    every search token of them attached to that person."""
    persons, docs = rows(ctx, Person), rows(ctx, TravelDocument)
    assert len(persons) == 1 and len(docs) == 1
    pid = persons[0].id
    assert docs[0].person_id == pid
    notes = rows(ctx, HostNotification)
    assert len(notes) == accepted and {n.person_id for n in notes} == {pid}
    stored = [(n.person_id, n.full_name) for n in rows(ctx, PersonName)]
    assert sorted(stored) == sorted((pid, s) for s in spellings)
    tokens = {(t.person_id, t.token) for t in rows(ctx, PersonNameToken)}
    assert tokens == {(pid, t) for s in spellings for t in names.name_tokens(s) if t}
    assert [s.person_id for s in rows(ctx, StayStatus)] == [pid]
    return pid


def test_writers_of_one_new_person_all_attach_to_it(wide_ctx):
    ctx = wide_ctx
    results, errors = run_together([record_note(ctx, f.notification()) for _ in range(WRITERS)])
    # Not even a Conflict: a writer that finds the document taken meanwhile joins its holder.
    assert errors == []
    assert [r.accepted for r in results] == [1] * WRITERS
    pid = assert_one_person_with_everything(ctx, {"Абдуллаев Шухрат Бахтиёрович"}, accepted=WRITERS)
    assert {p for r in results for p in r.person_ids} == {pid}


def test_writers_of_new_spellings_of_a_known_person(wide_ctx):
    ctx = wide_ctx
    record_note(ctx, f.notification())()
    # Each writer brings the same two new spellings (a different patronymic and Latin form).
    work = [record_note(ctx, f.notification(patronymic="Бахтиярович", surname_latin="ABDULLAYEV",
                                            given_names_latin="SHUHRAT")) for _ in range(WRITERS)]
    results, errors = run_together(work)
    assert errors == []
    assert_one_person_with_everything(
        ctx, {"Абдуллаев Шухрат Бахтиёрович", "Абдуллаев Шухрат Бахтиярович", "ABDULLAYEV SHUHRAT"},
        accepted=WRITERS + 1)


def create_person(ctx: Context, documents: list[str]) -> Callable[[], object]:
    body = PersonIn.model_validate({
        "surname": "Абдуллаев", "given_names": "Шухрат", "patronymic": "Бахтиёрович", "sex": "M",
        "birth_date": "1990-05-17", "citizenship": "UZB",
        "documents": [{"document_type": "P", "issuing_state": "UZB", "number": n} for n in documents]})

    def write() -> object:
        with ctx.transaction() as s:
            return people.create_person(s, ctx, ADMIN, body)
    return write


def test_writers_of_one_new_person_with_two_documents(wide_ctx):
    ctx = wide_ctx
    results, errors = run_together([create_person(ctx, ["FA1234567", "FB7654321"]) for _ in range(WRITERS)])
    assert errors == []
    assert len(set(results)) == 1
    persons, docs = rows(ctx, Person), rows(ctx, TravelDocument)
    assert [p.id for p in persons] == list(set(results))
    assert len(docs) == 2 and {d.person_id for d in docs} == set(results)


# -- through the HTTP API, served by a real server with its own threads ------------------------

PASSWORD = "correct-horse-battery"


@pytest.fixture
def served(wide_ctx):
    """The app served by uvicorn on a free port in a thread, with an admin bearer token."""
    import socket

    import uvicorn

    from kosh.web.app import create_app

    # As many request threads as writers (production runs few per worker, many workers).
    ctx = Context(settings=wide_ctx.settings.model_copy(update={"request_threads": WRITERS}),
                  engine=wide_ctx.engine, keyring=wide_ctx.keyring)
    with ctx.transaction() as s:
        auth.create_user(s, ctx, username="admin", password=PASSWORD, role="admin")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(ctx), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    token = httpx.post(f"{base}/api/v1/auth/tokens", json={"username": "admin", "password": PASSWORD}).json()["token"]
    yield base, {"authorization": f"Bearer {token}"}
    server.should_exit = True
    thread.join(30)
    sock.close()


def post_all(base: str, headers: dict, path: str, bodies: list[dict]) -> list[httpx.Response]:
    """POST every body at the same moment, each on its own connection; a reset connection fails the test."""
    def one(body: dict) -> Callable[[], object]:
        return lambda: httpx.post(f"{base}{path}", json=body, headers=headers, timeout=60)
    responses, errors = run_together([one(b) for b in bodies])
    assert errors == []
    return responses  # type: ignore[return-value]  # each callable above returns a Response


def all_created(responses: list[httpx.Response]) -> list[dict]:
    """Every answer is 201 (not a 500, nor even a 409): the bodies."""
    assert [r.status_code for r in responses] == [201] * len(responses), [r.text for r in responses]
    return [r.json() for r in responses]


def test_api_notifications_of_one_new_person(served, wide_ctx):
    base, headers = served
    responses = post_all(base, headers, "/api/v1/notifications", [f.notification() for _ in range(WRITERS)])
    created = all_created(responses)
    assert all(c["accepted"] == 1 for c in created)
    pid = assert_one_person_with_everything(wide_ctx, {"Абдуллаев Шухрат Бахтиёрович"}, accepted=WRITERS)
    assert {p for c in created for p in c["person_ids"]} == {pid}


def test_api_persons_with_the_same_new_document(served, wide_ctx):
    base, headers = served
    body = {"surname": "Абдуллаев", "given_names": "Шухрат", "patronymic": "Бахтиёрович", "sex": "M",
            "birth_date": "1990-05-17", "citizenship": "UZB",
            "documents": [{"document_type": "P", "issuing_state": "UZB", "number": "FA1234567"}]}
    created = all_created(post_all(base, headers, "/api/v1/persons", [body] * WRITERS))
    persons, docs = rows(wide_ctx, Person), rows(wide_ctx, TravelDocument)
    assert len(persons) == 1 and len(docs) == 1
    assert {c["id"] for c in created} == {persons[0].id}


# -- a write that still loses a race answers 409, never 500 ----------------------------------

@pytest.mark.parametrize("failure", [
    sa.exc.IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate key")),
    sa.exc.OperationalError("INSERT", {}, psycopg.errors.DeadlockDetected("deadlock detected")),
    sa.exc.OperationalError("UPDATE", {}, psycopg.errors.SerializationFailure("could not serialize")),
], ids=["unique", "deadlock", "serialization"])
def test_lost_race_is_a_conflict_problem(sqlite_ctx, monkeypatch, failure):
    from fastapi.testclient import TestClient

    from kosh.web.app import create_app

    def lose(*_args: object, **_kw: object) -> None:
        raise failure

    with sqlite_ctx.transaction() as s:
        auth.create_user(s, sqlite_ctx, username="admin", password=PASSWORD, role="admin")
    with TestClient(create_app(sqlite_ctx)) as client:
        token = client.post("/api/v1/auth/tokens", json={"username": "admin", "password": PASSWORD}).json()["token"]
        monkeypatch.setattr(stay, "record_notifications", lose)
        r = client.post("/api/v1/notifications", json=f.notification(), headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert (body["title"], body["status"]) == ("Conflict", 409)
    assert body["detail"] == CONCURRENT_WRITE and "duplicate" not in r.text and "deadlock" not in r.text


def test_other_database_failures_are_not_conflicts():
    down = sa.exc.OperationalError("SELECT 1", {}, psycopg.errors.AdminShutdown("terminating connection"))
    assert database_conflict(down) is None
    assert database_conflict(ValueError("x")) is None


# -- imports and API writers touching the same persons at once ------------------------------

def _travellers(n: int) -> list[dict]:
    """`n` clearly different persons (names, birth dates and document numbers far apart), so that
    linkage at ingest has nothing to merge and each document stands for its own person."""
    rng = random.Random(7)
    syllables = ["ka", "ri", "mo", "ta", "su", "le", "no", "bi", "zu", "he", "do", "ga", "ve", "pi", "ru", "xo"]
    out, used = [], set()
    while len(out) < n:
        surname = "".join(rng.choice(syllables) for _ in range(4)).upper()
        given = "".join(rng.choice(syllables) for _ in range(3)).upper()
        number = f"N{rng.randrange(10**7, 10**8)}"
        if surname in used or number in used:
            continue
        used |= {surname, number}
        out.append({"surname": surname, "given_names": given, "document_number": number,
                    "birth_date": f"{rng.randrange(1950, 2005)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"})
    return out


def test_imports_and_api_writers_of_the_same_persons(wide_ctx, tmp_path):
    import polars as pl

    from kosh.flows import intake
    from kosh.stay.models import BorderEvent
    from kosh_demo.feeds import write_frame

    ctx = wide_ctx
    people_ = _travellers(30)
    feeds = []
    for k, order in enumerate([people_, people_[::-1], people_[15:] + people_[:15], people_[::2] + people_[1::2]]):
        # Each feed holds every traveller, in its own order: writers meet on the same keys crosswise.
        feed = [f.border_event(source_event_id=f"F{k}-{i:03d}", nationality="UZB", **p,
                               occurred_at=f"2026-02-{1 + k:02d}T08:00:00+05:00") for i, p in enumerate(order)]
        feeds.append(write_frame(pl.DataFrame(feed), tmp_path / f"feed{k}.csv", "csv"))
    imports = [lambda path=path: intake.import_file(ctx, ADMIN, path, "border_events", chunk_rows=100,
                                                     rejects_dir=tmp_path / "rejects") for path in feeds]
    notes = [record_note(ctx, f.notification(citizenship="UZB", patronymic="", **people_[i % 3]))
             for i in range(8)]
    results, errors = run_together(imports + notes)
    assert errors == []
    persons, docs = rows(ctx, Person), rows(ctx, TravelDocument)
    assert len(docs) == len(people_) and len(persons) == len(people_)
    holder = {d.id: d.person_id for d in docs}
    assert {p.id for p in persons} == set(holder.values())
    events = rows(ctx, BorderEvent)
    assert len(events) == 4 * len(people_)
    assert all(holder[e.document_id] == e.person_id for e in events)
    notes_ = rows(ctx, HostNotification)
    assert len(notes_) == 8 and all(holder[n.document_id] == n.person_id for n in notes_)
    spellings = {(n.person_id, n.full_name) for n in rows(ctx, PersonName)}
    tokens = {(t.person_id, t.token) for t in rows(ctx, PersonNameToken)}
    assert tokens == {(pid, t) for pid, full in spellings for t in names.name_tokens(full) if t}
    assert len({pid for pid, _ in spellings}) == len(people_)
    assert sorted(s.person_id for s in rows(ctx, StayStatus)) == sorted(holder.values())
