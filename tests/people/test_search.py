"""Person search by date of birth and by part of a document number, on both databases: scoped
to the caller's regions like the name search, audited, and a too-short part refused."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

import factories as f
from kosh.people import service as people
from kosh.people.models import TravelDocumentPart
from kosh.platform.errors import ValidationFailed
from kosh.platform.models import AuditRecord
from kosh.platform.security import Principal, Role, system_principal
from kosh.platform.validation import validate_model
from kosh.stay import service
from kosh.stay.schemas import NotificationIn

ADMIN = system_principal("tests")
ALMATY = Principal("officer.almaty", Role.OFFICER, user_id=10, regions=("75",))
SOUTH = Principal("officer.south", Role.OFFICER, user_id=11, regions=("61", "79"))


@pytest.fixture
def persons(ctx):
    """Three persons notified in Almaty (one with only a year and month of birth), one in the south."""
    rows = {"full": f.notification(document_number="FA1234567", birth_date="1990-05-17"),
            "month": f.notification(document_number="FB7654321", birth_date="1990-05", surname="Каримов",
                                    given_names="Азиз"),
            "other": f.notification(document_number="FC1112223", birth_date="1985-01-01", surname="Юсупов",
                                    given_names="Бахтиёр"),
            "south": f.notification(document_number="FD1234599", birth_date="1990-05-17", surname="Рахимов",
                                    given_names="Олим", kato="611010000")}
    vc = service.validation_context(ctx)
    out = {}
    for key, row in rows.items():
        with ctx.transaction() as s:
            note = validate_model(NotificationIn, row, vc)
            out[key] = service.record_notifications(s, ctx, ADMIN, [note]).person_ids[0]
    return out


def found(ctx, principal, **kw):
    with ctx.transaction() as s:
        page = people.search_persons(s, ctx, principal, **kw)
    return {p.id for p in page.items}, page.total


def test_search_by_date_of_birth_full_or_partial(ctx, persons):
    full, month, other = persons["full"], persons["month"], persons["other"]
    # A full date also finds a person recorded with only its year and month.
    assert found(ctx, ALMATY, birth_date="1990-05-17") == ({full, month}, 2)
    assert found(ctx, ALMATY, birth_date="17.05.1990") == ({full, month}, 2)
    assert found(ctx, ALMATY, birth_date="1990") == ({full, month}, 2)
    assert found(ctx, ALMATY, birth_date="1985-01-01") == ({other}, 1)
    assert found(ctx, ALMATY, birth_date="1990-05-18") == ({month}, 1)
    # With a name too, both must match.
    assert found(ctx, ALMATY, query="Каримов", birth_date="1990-05-17") == ({month}, 1)
    with ctx.transaction() as s:
        with pytest.raises(ValidationFailed) as refused:
            people.search_persons(s, ctx, ALMATY, birth_date="1990-13-01")
    assert [e.field for e in refused.value.errors] == ["birth_date"]


def test_date_of_birth_search_is_scoped_to_the_callers_regions(ctx, persons):
    assert persons["south"] not in found(ctx, ALMATY, birth_date="1990-05-17")[0]
    assert found(ctx, SOUTH, birth_date="1990-05-17") == ({persons["south"]}, 1)
    assert found(ctx, ADMIN, birth_date="1990-05-17")[1] == 3


def test_search_by_part_of_a_document_number(ctx, persons):
    full, south = persons["full"], persons["south"]
    assert found(ctx, ALMATY, document_part="3456") == ({full}, 1)
    assert found(ctx, ALMATY, document_part="fa 1234") == ({full}, 1)  # written as typed: case and spaces
    assert found(ctx, ALMATY, document_part="A1234567") == ({full}, 1)
    assert found(ctx, ALMATY, document_part="7654") == ({persons["month"]}, 1)
    assert found(ctx, ALMATY, document_part="9999") == (set(), 0)
    # FD1234599 (south) holds 1234 too: never found from Almaty, found by the south's officers.
    assert found(ctx, ALMATY, document_part="1234") == ({full}, 1)
    assert found(ctx, SOUTH, document_part="1234") == ({south}, 1)
    assert found(ctx, ADMIN, document_part="1234") == ({full, south}, 2)
    assert found(ctx, ALMATY, document_part="1234", birth_date="1985") == (set(), 0)


def test_a_part_shorter_than_four_characters_is_refused(ctx, persons):
    with ctx.transaction() as s:
        for part in ("123", "A-1", "12 3", "№123"):
            with pytest.raises(ValidationFailed) as refused:
                people.search_persons(s, ctx, ALMATY, document_part=part)
            assert [e.field for e in refused.value.errors] == ["document_part"]
            assert "4" in refused.value.errors[0].message


def test_no_number_is_stored_in_clear_and_searches_are_audited(ctx, persons):
    with ctx.transaction() as s:
        stored = [p for (p,) in s.execute(sa.select(TravelDocumentPart.part_index))]
    # keyed hashes only (hex, so a run of digits may occur in one by chance: compared whole)
    assert stored and all(re.fullmatch(r"[0-9a-f]{32,128}", p) for p in stored)
    assert not {"1234", "FA12", "7654", "FA1234567"} & set(stored)
    found(ctx, ALMATY, document_part="3456", birth_date="1990")
    with ctx.transaction() as s:
        rec = s.execute(sa.select(AuditRecord).where(AuditRecord.action == "search")
                        .order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
    detail = json.loads(rec.detail)
    assert detail["kind"] == "birth_date+document_part" and detail["results"] == [persons["full"]]
    assert "3456" not in rec.detail  # what was searched for is not kept, only its kind


def test_parts_follow_documents_added_to_a_person(ctx):
    from kosh.people.schemas import PersonIn

    body = PersonIn.model_validate({"surname": "Ким", "birth_date": "1979-02-03", "citizenship": "KOR",
                                    "documents": [{"number": "M12345678", "issuing_state": "KOR"},
                                                  {"number": "R98765432", "issuing_state": "KOR"}]})
    with ctx.transaction() as s:
        pid = people.create_person(s, ctx, ADMIN, body)
    assert found(ctx, ADMIN, document_part="8765") == ({pid}, 1)
    assert found(ctx, ADMIN, document_part="2345") == ({pid}, 1)


def test_the_migration_indexes_the_documents_recorded_before_it(ctx, persons):
    from alembic import command

    from kosh.platform import db

    cfg = db.alembic_config(ctx.engine)
    cfg.attributes["keyring"] = ctx.keyring
    with ctx.transaction() as s:
        before = set(s.execute(sa.select(TravelDocumentPart.part_index, TravelDocumentPart.document_id)).all())
    command.downgrade(cfg, "0013")  # the parts table goes
    command.upgrade(cfg, "head")  # and comes back, filled from the encrypted numbers
    with ctx.transaction() as s:
        after = set(s.execute(sa.select(TravelDocumentPart.part_index, TravelDocumentPart.document_id)).all())
    assert after == before and len(after) >= 4 * 21
    assert found(ctx, ALMATY, document_part="3456") == ({persons["full"]}, 1)


def test_results_sort_by_whitelisted_keys_and_filter_by_citizenship(ctx):
    vc = service.validation_context(ctx)
    rows = [("1999-12-31", "UZB", "FE1000001"), ("1970", "KGZ", "FE1000002"), ("1985-02-03", "TJK", "FE1000003")]
    with ctx.transaction() as s:
        ids = {born: service.record_notifications(s, ctx, ADMIN, [validate_model(NotificationIn, f.notification(
            surname="Садыков", birth_date=born, citizenship=cit, issuing_state=cit, document_number=doc), vc)]
        ).person_ids[0] for born, cit, doc in rows}

    def order(**kw):
        with ctx.transaction() as s:
            return [p.id for p in people.search_persons(s, ctx, ALMATY, "Садыков", **kw).items]

    by_birth = [ids[b] for b in sorted(ids)]
    assert order(sort="born") == by_birth and order(sort="-born") == by_birth[::-1]
    assert order(sort="citizenship") == [ids[b] for b, c, _ in sorted(rows, key=lambda r: r[1])]
    assert order(citizenship="Kyrgyzstan") == [ids["1970"]]
    with ctx.transaction() as s:
        for bad in ({"sort": "password"}, {"citizenship": "Atlantis"}):
            with pytest.raises(ValidationFailed) as refused:
                people.search_persons(s, ctx, ALMATY, "Садыков", **bad)
            assert [e.field for e in refused.value.errors] == list(bad)


def test_a_birth_date_recorded_elsewhere_sorts_as_unknown(ctx):
    """A person first recorded in the south, also notified in Almaty: an Almaty officer finds them
    by the Almaty spelling, but their date of birth is the south's to read, and the order must not tell it."""
    vc = service.validation_context(ctx)
    south = f.notification(surname="Нуриев", birth_date="1970-01-01", kato="611010000", document_number="FG1000001")
    local = f.notification(surname="Нуриев", birth_date="1960-01-01", document_number="FG1000002")
    again = f.notification(surname="Нуриев", birth_date="1970-01-01", document_number="FG1000001")
    with ctx.transaction() as s:
        far = service.record_notifications(s, ctx, ADMIN, [validate_model(NotificationIn, south, vc)]).person_ids[0]
        near = service.record_notifications(s, ctx, ADMIN, [validate_model(NotificationIn, local, vc)]).person_ids[0]
        writer = Principal("officer.almaty", Role.OFFICER, regions=("75",))  # no account row: submitted_by stays empty
        service.record_notifications(s, ctx, writer, [validate_model(NotificationIn, again, vc)])
    with ctx.transaction() as s:
        page = people.search_persons(s, ctx, ALMATY, "Нуриев", sort="born")
        admin = people.search_persons(s, ctx, ADMIN, "Нуриев", sort="born")
    assert [p.id for p in admin.items] == [near, far]  # 1960 before 1970
    assert [p.id for p in page.items] == [far, near] and page.items[0].birth_date == ""  # unknown sorts first
    with ctx.transaction() as s:
        reverse = people.search_persons(s, ctx, ALMATY, "Нуриев", sort="-born")
    assert [p.id for p in reverse.items] == [near, far]  # not by the hidden 1970
