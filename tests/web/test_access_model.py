"""A write never widens what its author can read (security findings 1 and 2), records are read
in their own region, border crossings come from the feed, permits from the issuing region, and
break-glass access is purposeful, time-limited and listed for the auditor. Both databases."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

import factories as f
from kosh.identity.models import PersonMerge
from kosh.people.models import Person, TravelDocument
from kosh.platform import auth
from kosh.platform.errors import Forbidden
from kosh.platform.models import AuditRecord, BreakGlassGrant
from kosh.stay.models import HostNotification, StayStatus
from web.conftest import PASSWORD, token_for

TURKISTAN_KATO = "611010000"
TURKISTAN_ADDRESS = "Туркестан, ул. Тауке хана 5"
TURKISTAN_HOST = "Сейтказиев Болат"
REAL_PASSPORT = "FA7700123"


@pytest.fixture
def turkistan_person(client, users) -> str:
    """A person who entered at a Turkistan checkpoint and is registered in Turkistan by a host."""
    admin = token_for(client, "admin")
    r = client.post("/api/v1/border-events", json=f.border_event(
        document_number=REAL_PASSPORT, surname="KHOLMATOV", given_names="ZAFARJON", birth_date="1987-11-23",
        occurred_at="2026-03-02T09:00:00+05:00"), headers=token_for(client, "border"))
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/notifications", json=f.notification(
        document_number=REAL_PASSPORT, surname="Холматов", given_names="Зафаржон", patronymic="Одилович",
        birth_date="1987-11-23", kato=TURKISTAN_KATO, address=TURKISTAN_ADDRESS, host_name=TURKISTAN_HOST,
        arrival_date="2026-03-02"), headers=admin)
    assert r.status_code == 201, r.text
    return r.json()["person_ids"][0]


def _status_region(ctx, pid: str) -> str:
    with ctx.transaction() as s:
        return s.execute(sa.select(StayStatus.region_kato).where(StayStatus.person_id == pid)).scalar_one()


def _everything(client, h, pid: str) -> str:
    """Every reply an officer can get about a person, as one text to search for leaks."""
    return " ".join(client.get(path, headers=h).text for path in (
        f"/api/v1/persons/{pid}", f"/api/v1/persons/{pid}/stay", f"/persons/{pid}"))


def test_officer_notification_for_a_person_of_another_region_opens_nothing(client, users, ctx, turkistan_person):
    """Finding 1: as officer.almaty, a notification with the document number of a person
    registered in Turkistan and an Almaty KATO code."""
    almaty = token_for(client, "almaty")
    assert client.get(f"/api/v1/persons/{turkistan_person}", headers=almaty).status_code == 404
    r = client.post("/api/v1/notifications", json=f.notification(
        document_number=REAL_PASSPORT, surname="Холматов", given_names="Зафар", birth_date="1987-11-23",
        kato="751710000", address="Алматы, ул. Абая 1"), headers=almaty)
    assert r.status_code == 201, r.text
    assert r.json()["person_ids"] == []  # the reply names no one the officer could not see before
    # The person stays registered in Turkistan: an officer's entry is not the host's legal event.
    assert _status_region(ctx, turkistan_person) == TURKISTAN_KATO
    south = token_for(client, "south")
    assert client.get(f"/api/v1/persons/{turkistan_person}", headers=south).status_code == 200
    listed = client.get("/api/v1/stay/overdue-notifications", params={"on": "2026-03-01"}, headers=south)
    assert listed.status_code == 200
    # The Almaty officer now reads only what Almaty recorded: no Turkistan spelling, address or host.
    seen = _everything(client, almaty, turkistan_person)
    for secret in (TURKISTAN_ADDRESS, TURKISTAN_HOST, "Одилович", "KHOLMATOV", "ZAFARJON"):
        assert secret not in seen
    person = client.get(f"/api/v1/persons/{turkistan_person}", headers=almaty).json()
    assert person["spellings"] == ["Холматов Зафар Бахтиёрович"]  # what Almaty recorded, and only that
    assert person["region_kato"] == ""  # registered elsewhere: not said
    # ... and Turkistan's officers do not read Almaty's record.
    assert "Абая 1" not in _everything(client, south, turkistan_person)


def test_officers_record_only_in_their_own_regions(client, users, ctx, turkistan_person):
    almaty = token_for(client, "almaty")
    r = client.post("/api/v1/notifications", json=f.notification(kato=TURKISTAN_KATO), headers=almaty)
    assert r.status_code == 403 and r.json()["detail"] == "Turkistan Region is outside your regions (Almaty)."
    r = client.post("/api/v1/border-events", json=f.border_event(), headers=almaty)
    assert r.status_code == 403 and "record border crossings" in r.json()["detail"]
    permit = {"source_event_id": "P-1", "document_number": REAL_PASSPORT, "issuing_state": "UZB", "kind": "trp",
              "valid_from": "2026-03-10", "valid_to": "2026-12-31", "kato": "751710000"}
    # A holder in other regions looks exactly like no holder.
    r = client.post("/api/v1/residence-permits", json=permit, headers=almaty)
    unknown = client.post("/api/v1/residence-permits", json=permit | {"source_event_id": "P-2",
                                                                      "document_number": "ZZ0000001"}, headers=almaty)
    assert r.status_code == unknown.status_code == 404
    assert r.json()["detail"].replace(REAL_PASSPORT, "X") == unknown.json()["detail"].replace("ZZ0000001", "X")
    south = token_for(client, "south")
    r = client.post("/api/v1/residence-permits", json=permit, headers=south)
    assert r.status_code == 403  # issued in Almaty's region: not south's to record
    r = client.post("/api/v1/residence-permits", json=permit | {"kato": TURKISTAN_KATO}, headers=south)
    assert r.status_code == 201 and r.json()["person_ids"] == [turkistan_person]
    with ctx.transaction() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(HostNotification)).scalar_one() == 1


def test_a_machine_link_opens_nothing_and_moves_no_one(client, users, ctx, turkistan_person):
    """Finding 2: name, birth date, sex and citizenship of a person with a rare name and a
    made-up passport: the record is linked to the real person automatically."""
    # In a registry of millions a rare name scores past the link weight; here, with one person,
    # the same pair scores about +3.8 (different passports): lower the weight to link it.
    ctx.settings.identity_link_weight = 2.0
    almaty = token_for(client, "almaty")
    r = client.post("/api/v1/notifications", json=f.notification(
        document_number="XX0000999", surname="KHOLMATOV", given_names="ZAFARJON", patronymic="",
        birth_date="1987-11-23", kato="751710000", address="Алматы, ул. Абая 1"), headers=almaty)
    assert r.status_code == 201, r.text
    (created,) = r.json()["person_ids"]
    with ctx.transaction() as s:
        merge = s.execute(sa.select(PersonMerge)).scalar_one()  # the machine linked the two
        assert (merge.kept_id, merge.merged_id) == (turkistan_person, created)
    assert created != turkistan_person
    assert _status_region(ctx, turkistan_person) == TURKISTAN_KATO  # moved to no one
    seen = _everything(client, almaty, created)
    assert REAL_PASSPORT not in seen and TURKISTAN_ADDRESS not in seen and TURKISTAN_HOST not in seen
    assert "XX0000999" in client.get(f"/api/v1/persons/{created}", headers=almaty).text  # what it recorded
    # The made-up number is not shown to Turkistan's officers as their person's document.
    assert "XX0000999" not in _everything(client, token_for(client, "south"), turkistan_person)
    # The admin sees both documents on the one person.
    numbers = {d["number"] for d in client.get(f"/api/v1/persons/{turkistan_person}",
                                                headers=token_for(client, "admin")).json()["documents"]}
    assert numbers == {REAL_PASSPORT, "XX0000999"}


def test_a_hosts_notification_moves_the_person_but_opens_only_its_own_record(client, users, ctx, turkistan_person):
    host = token_for(client, "host")
    r = client.post("/api/v1/notifications", json=f.notification(
        document_number=REAL_PASSPORT, kato="751710000", address="Алматы, ул. Абая 7", arrival_date="2026-03-20",
        submitted_at="2026-03-20T12:00:00+05:00"), headers=host)
    assert r.status_code == 201 and r.json()["person_ids"] == []  # hosts read no person
    assert _status_region(ctx, turkistan_person) == "751710000"  # the legal event moved the person
    almaty = token_for(client, "almaty")
    page = client.get(f"/persons/{turkistan_person}", headers=almaty)
    assert page.status_code == 200 and "Абая 7" in page.text
    assert TURKISTAN_ADDRESS not in page.text and "ZHIBEK-ZHOLY" not in page.text
    assert 'id="hidden-records"' in page.text  # the crossing and the Turkistan notification are counted
    status = client.get(f"/api/v1/persons/{turkistan_person}/stay", params={"on": "2026-04-01"}, headers=almaty)
    assert status.json()["current_entry"] == "2026-03-02"  # the status counts every record
    # Turkistan keeps reading its own records, not Almaty's.
    south_page = client.get(f"/persons/{turkistan_person}", headers=token_for(client, "south")).text
    assert TURKISTAN_ADDRESS in south_page and "Абая 7" not in south_page


def test_search_finds_only_by_what_was_recorded_in_the_callers_regions(client, users, ctx, turkistan_person):
    almaty = token_for(client, "almaty")
    client.post("/api/v1/notifications", json=f.notification(
        document_number=REAL_PASSPORT, surname="Холматов", given_names="Зафар", kato="751710000"), headers=almaty)
    search = client.post("/api/v1/persons/search", json={"q": "Одилович"}, headers=almaty)
    assert search.status_code == 200 and search.json()["total"] == 0  # a Turkistan-only spelling finds no one
    found = client.post("/api/v1/persons/search", json={"q": "Зафар"}, headers=almaty).json()
    assert [p["id"] for p in found["items"]] == [turkistan_person]
    # The result shows the name Almaty recorded, not the first record's (made at a Turkistan checkpoint).
    assert "KHOLMATOV" not in str(found) and "ZAFARJON" not in str(found)
    assert found["items"][0]["surname"].startswith("Холматов Зафар")


def test_a_person_form_for_a_document_held_elsewhere_is_refused(client, users, ctx, turkistan_person):
    almaty = token_for(client, "almaty")
    body = {"surname": "KHOLMATOV", "given_names": "Z", "birth_date": "1987-11-23", "citizenship": "UZB",
            "documents": [{"number": REAL_PASSPORT, "issuing_state": "UZB"}]}
    r = client.post("/api/v1/persons", json=body, headers=almaty)
    assert r.status_code == 409 and turkistan_person not in r.text
    with ctx.transaction() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(Person)).scalar_one() == 1
    r = client.post("/api/v1/persons", json=body | {"region": TURKISTAN_KATO}, headers=almaty)
    assert r.status_code == 403


def test_the_border_feed_writes_crossings_and_reads_nothing(client, users, ctx, turkistan_person):
    border = token_for(client, "border")
    r = client.post("/api/v1/border-events", json=f.border_event(document_number=REAL_PASSPORT, direction="exit",
                                                                 occurred_at="2026-04-02T09:00:00+05:00"),
                    headers=border)
    assert r.status_code == 201 and r.json() == {"accepted": 1, "duplicates": 0, "person_ids": []}
    for path in (f"/api/v1/persons/{turkistan_person}", f"/api/v1/persons/{turkistan_person}/stay",
                 "/api/v1/stay/overstays"):
        assert client.get(path, headers=border).status_code == 403
    assert client.post("/api/v1/persons/search", json={"q": "KHOLMATOV"}, headers=border).status_code == 403
    assert client.post("/api/v1/notifications", json=f.notification(), headers=border).status_code == 403


def test_break_glass_is_purposeful_time_limited_and_listed_for_the_auditor(client, users, ctx, turkistan_person):
    with ctx.transaction() as s:
        auth.create_user(s, ctx, username="auditor", password=PASSWORD, role="auditor")
    almaty = token_for(client, "almaty")
    r = client.post("/api/v1/break-glass", json={"issuing_state": "UZB", "document_number": REAL_PASSPORT,
                                                  "purpose": "short"}, headers=almaty)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "purpose"
    r = client.post("/api/v1/break-glass", json={"issuing_state": "UZB", "document_number": "ZZ9999999",
                                                  "purpose": "court order 2-114/2026, trafficking case"},
                    headers=almaty)
    assert r.status_code == 404
    r = client.post("/api/v1/break-glass", json={"issuing_state": "UZB", "document_number": REAL_PASSPORT,
                                                  "purpose": "court order 2-114/2026, trafficking case", "hours": 4},
                    headers=almaty)
    assert r.status_code == 201, r.text
    grant = r.json()
    assert grant["person_id"] == turkistan_person
    seen = _everything(client, almaty, turkistan_person)
    assert TURKISTAN_ADDRESS in seen and REAL_PASSPORT in seen and "Одилович" in seen
    with ctx.transaction() as s:
        last = s.execute(sa.select(AuditRecord).where(AuditRecord.action == "break_glass")).scalar_one()
        assert "trafficking case" in last.detail and last.actor == "almaty"
    auditor = token_for(client, "auditor")
    listed = client.get("/api/v1/break-glass", headers=auditor).json()
    assert [(g["id"], g["username"], g["purpose"]) for g in listed] == \
        [(grant["id"], "almaty", "court order 2-114/2026, trafficking case")]
    assert client.get("/api/v1/break-glass", headers=token_for(client, "south")).json() == []
    assert client.post("/api/v1/break-glass", json={"person_id": turkistan_person, "purpose": "x" * 20},
                       headers=token_for(client, "host")).status_code == 403
    # Once expired, the person is out of reach again.
    with ctx.transaction() as s:
        s.execute(sa.update(BreakGlassGrant).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))
    assert client.get(f"/api/v1/persons/{turkistan_person}", headers=almaty).status_code == 404
    # Ended early by its holder: the same.
    r = client.post("/api/v1/break-glass", json={"person_id": turkistan_person, "purpose": "case 77/2026 follow-up"},
                    headers=almaty)
    assert client.get(f"/api/v1/persons/{turkistan_person}", headers=almaty).status_code == 200
    assert client.post(f"/api/v1/break-glass/{r.json()['id']}/end", headers=almaty).status_code == 200
    assert client.get(f"/api/v1/persons/{turkistan_person}", headers=almaty).status_code == 404


def test_undoing_a_merge_needs_both_persons_in_the_officers_regions(client, users, ctx, turkistan_person):
    admin = token_for(client, "admin")
    r = client.post("/api/v1/notifications", json=f.notification(document_number="FB5550001", surname="Other",
                                                                 given_names="Person", birth_date="1970-01-01",
                                                                 kato="751710000"), headers=admin)
    almaty_person = r.json()["person_ids"][0]
    with ctx.transaction() as s:
        kept_first = s.get(Person, turkistan_person).created_at <= s.get(Person, almaty_person).created_at
    assert kept_first
    merge = client.post(f"/api/v1/persons/{almaty_person}/merge", json={"other": turkistan_person, "reason": "test"},
                        headers=admin).json()
    # The kept person is Almaty's now; the one merged into it was registered in Turkistan.
    with ctx.transaction() as s:
        s.execute(sa.update(Person).where(Person.id == turkistan_person).values(region_kato="751710000"))
        s.execute(sa.update(Person).where(Person.id == almaty_person).values(region_kato=TURKISTAN_KATO))
    r = client.post(f"/api/v1/merges/{merge['id']}/undo", json={"reason": "not him"},
                    headers=token_for(client, "almaty"))
    assert r.status_code == 404
    with ctx.transaction() as s:
        assert s.get(PersonMerge, merge["id"]).undone_at is None
        assert s.execute(sa.select(sa.func.count()).select_from(TravelDocument)
                         .where(TravelDocument.person_id == turkistan_person)).scalar_one() == 2


def test_an_officers_import_rejects_rows_outside_their_regions(ctx, tmp_path):
    import csv

    from kosh.flows import intake
    from kosh.platform.security import Principal, Role

    rows = [f.notification(document_number="FA5000001"), f.notification(document_number="FA5000002",
                                                                          kato=TURKISTAN_KATO)]
    path = tmp_path / "notes.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    almaty = Principal("almaty", Role.OFFICER, user_id=None, regions=("75",))
    report = intake.import_file(ctx, almaty, path, "notifications", rejects_dir=tmp_path / "rejects")
    assert (report.accepted, report.rejected) == (1, 1)
    rejects = (tmp_path / "rejects").glob("*")
    text = "".join(p.read_text(encoding="utf-8") for p in rejects)
    # the row, its field and why, the regions by their names
    assert "kato,Settlement: Turkistan Region is outside your regions (Almaty)." in text
    with ctx.transaction() as s:
        assert s.execute(sa.select(HostNotification.kato)).scalars().all() == ["751710000"]
    border = Principal("feed", Role.BORDER, user_id=None)
    with pytest.raises(Forbidden, match=r"^The role border may not submit arrival notifications\.$"):
        intake.import_file(ctx, border, path, "notifications", rejects_dir=tmp_path / "r2")


def test_a_hosts_list_names_no_person_and_refuses_an_offset_past_any_page(client, users, ctx, turkistan_person):
    host = token_for(client, "host")
    client.post("/api/v1/notifications", json=f.notification(document_number=REAL_PASSPORT), headers=host)
    mine = client.get("/api/v1/notifications/mine", headers=host).json()
    assert mine and all(n["person_id"] is None for n in mine)  # hosts read no person
    r = client.get("/api/v1/notifications/mine", params={"offset": 2**63}, headers=host)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


def test_the_notification_form_confirms_without_naming_a_person_of_another_region(client, users, ctx,
                                                                                   turkistan_person):
    almaty = token_for(client, "almaty")
    form = {k: v for k, v in f.notification(document_number=REAL_PASSPORT).items()
            if k not in ("source_event_id", "submitted_at", "patronymic")}
    r = client.post("/notifications/new", data=form, headers=almaty, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/notifications/recorded?ref=kosh-")
    reference = r.headers["location"].split("ref=")[1]
    page = client.get(r.headers["location"], headers=almaty)
    assert page.status_code == 200 and reference in page.text and turkistan_person not in page.text
    # Reloading the confirmation stores nothing more.
    client.get(r.headers["location"], headers=almaty)
    with ctx.transaction() as s:
        assert s.execute(sa.select(HostNotification.source_event_id)
                         .where(HostNotification.kato == "751710000")).scalars().all() == [reference]
