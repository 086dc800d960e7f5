"""Work-permit imports through the intake flow, on SQLite and PostgreSQL: quotas, household
workers' prepayments and permits of a previous system, from CSV, JSON Lines and Parquet; rejects
with row number and labelled reason (the good rows of the file are kept, as for every kind);
re-importing changes nothing; who may import which kind; a payment file lifts a suspension."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import time

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from kosh.flows import intake
from kosh.permits import ledger, service
from kosh.permits.models import Employer, HouseholdPayment, PermitAction, QuotaCell, WorkPermit
from kosh.platform import auth
from kosh.platform.errors import Forbidden
from kosh.platform.security import Principal, Role, system_principal
from kosh.stay.models import ImportBatch, ResidencePermit

ADMIN = system_principal("permit import tests")
MINISTRY = Principal("ministry", Role.MINISTRY, user_id=1)
AKIMAT = Principal("akimat.almaty", Role.AKIMAT, user_id=2, regions=("75",))
OFFICER = Principal("almaty", Role.OFFICER, user_id=3, regions=("75",))
BIN = "150640000010"  # a valid BIN (check digit) of an organisation
IIN = "900101300017"


def _csv(path, rows: list[dict]) -> object:
    pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}).write_csv(path)
    return path


def _jsonl(path, rows: list[dict]) -> object:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _rejects(report) -> list[dict]:
    with open(report.rejects_path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _count(ctx, model) -> int:
    with ctx.transaction() as s:
        return s.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def _cells(ctx) -> dict[tuple[int, str, str], int]:
    with ctx.transaction() as s:
        return {(c.year, c.region, c.category): c.allowed for c in s.execute(sa.select(QuotaCell)).scalars()}


def _permit_row(n: int, **over) -> dict:
    row = {"employer_bin_or_iin": BIN, "employer_name": "Qurylys LLP", "employer_region": "75",
           "channel": "employer_quota", "category": "3", "occupation": "7112", "reference_external": f"OLD-{n:04d}",
           "issued_on": "2025-02-20", "valid_from": "2025-03-01", "valid_to": "2026-02-28", "state": "issued",
           "surname": f"Karimov{chr(65 + n)}", "given_names": "Aziz", "surname_latin": f"KARIMOV{chr(65 + n)}",
           "given_names_latin": "AZIZ", "sex": "M", "birth_date": f"1990-01-{1 + n:02d}", "citizenship": "UZB",
           "document_number": f"FA{2000000 + n}", "issuing_state": "UZB", "work_region": "75"}
    row.update(over)
    return row


def _household_row(n: int, **over) -> dict:
    return _permit_row(n, employer_bin_or_iin=IIN, employer_name="Aigerim Seitova", channel="household_worker",
                       category="", occupation="9111", valid_from="2025-03-02", valid_to="2026-03-01", **over)


def _permit(ctx, external: str) -> WorkPermit:
    with ctx.transaction() as s:
        row = s.execute(sa.select(WorkPermit).where(
            WorkPermit.reference == service.imported_reference(external))).scalar_one()
        s.expunge(row)
        return row


def _steps(ctx, reference: str) -> list[tuple[str, str, str, dt.date]]:
    with ctx.transaction() as s:
        return [(a.step, a.from_state, a.to_state, a.on) for a in s.execute(
            sa.select(PermitAction).join(WorkPermit, WorkPermit.id == PermitAction.permit_id)
            .where(WorkPermit.reference == reference).order_by(PermitAction.id)).scalars()]


# --- quotas -------------------------------------------------------------------------------------------

def test_quotas_from_csv_set_the_cells_and_a_bad_row_goes_to_the_rejects(ctx, tmp_path):
    rows = [{"year": "2026", "region": "75", "category": "3", "allowed": "120", "reason": "Order 12"},
            {"year": "2026", "region": "99", "category": "3", "allowed": "5", "reason": ""},
            {"year": "2026", "region": "71", "category": "seasonal", "allowed": "40", "reason": ""},
            {"year": "2026", "region": "71", "category": "7", "allowed": "1", "reason": ""}]
    path = _csv(tmp_path / "quotas.csv", rows)
    report = intake.import_file(ctx, MINISTRY, path, "quotas", rejects_dir=tmp_path / "rej", chunk_rows=3)
    # As for every kind, the good rows of the file are kept and only the bad ones rejected.
    assert (report.rows_total, report.accepted, report.rejected) == (4, 2, 2)
    assert _cells(ctx) == {(2026, "75", "3"): 120, (2026, "71", "seasonal"): 40}
    rejects = {int(r["row"]): r for r in _rejects(report)}
    assert set(rejects) == {2, 4}
    assert rejects[2]["field"] == "region" and rejects[2]["reason"] == "Region: 99 is not the code of a known region"
    assert rejects[4]["field"] == "category" and rejects[4]["reason"].startswith("Category: ")
    again = intake.import_file(ctx, MINISTRY, path, "quotas", rejects_dir=tmp_path / "rej")
    assert again.already_imported and again.batch_id == report.batch_id
    assert _cells(ctx) == {(2026, "75", "3"): 120, (2026, "71", "seasonal"): 40}
    with ctx.transaction() as s:
        assert ledger.integrity_errors(s) == []


def test_a_quota_below_the_places_taken_is_refused_by_the_ledger_for_that_row_alone(ctx, tmp_path):
    with ctx.transaction() as s:
        ledger.set_quota(s, ctx, MINISTRY, year=2026, region="75", category="3", allowed=10)
        ledger.reserve(s, ctx, ADMIN, year=2026, category="3", shares={"75": 4}, reference="WP-TEST-0001")
    path = _csv(tmp_path / "quotas.csv", [
        {"year": "2026", "region": "75", "category": "3", "allowed": "3"},
        {"year": "2026", "region": "75", "category": "4", "allowed": "8"}])
    report = intake.import_file(ctx, ADMIN, path, "quotas", rejects_dir=tmp_path / "rej", lang="ru")
    assert (report.accepted, report.rejected) == (1, 1)
    [reject] = _rejects(report)
    assert (reject["row"], reject["field"]) == ("1", "allowed")
    assert "4" in reject["reason"] and not reject["reason"].startswith("Places allowed")  # said in Russian
    assert _cells(ctx) == {(2026, "75", "3"): 10, (2026, "75", "4"): 8}


def test_who_may_import_which_kind(ctx, tmp_path):
    assert {"quotas", "household_payments", "work_permits"} <= set(intake.kinds_for(ADMIN))
    assert intake.kinds_for(MINISTRY) == ["quotas", "household_payments"]
    assert not {"quotas", "household_payments", "work_permits"} & set(intake.kinds_for(OFFICER))
    assert intake.kinds_for(AKIMAT) == []
    path = _csv(tmp_path / "permits.csv", [_permit_row(1)])
    with pytest.raises(Forbidden):
        intake.import_file(ctx, MINISTRY, path, "work_permits")
    quotas = _csv(tmp_path / "quotas.csv", [{"year": "2026", "region": "75", "category": "3", "allowed": "1"}])
    for who in (AKIMAT, OFFICER):
        with pytest.raises(Forbidden):
            intake.import_file(ctx, who, quotas, "quotas")
    assert _count(ctx, ImportBatch) == 0 and _count(ctx, WorkPermit) == 0


# --- permits of a previous system ------------------------------------------------------------------------

def test_permits_from_parquet_are_recorded_in_their_state_outside_the_ledger_and_are_the_lawful_basis(ctx, tmp_path):
    rows = [_permit_row(1), _permit_row(2, state="suspended", state_since="2025-06-10",
                                        reason_code="employer_violation"),
            _permit_row(3, state="expired", valid_from="2024-01-10", valid_to="2024-12-31", issued_on="2024-01-05"),
            _permit_row(4, state="extended", employer_bin_or_iin=IIN, employer_name="Aigerim Seitova",
                        channel="household_worker", category="")]
    columns = list(dict.fromkeys(k for r in rows for k in r))  # a column absent from a row is null there
    dates = ("issued_on", "valid_from", "valid_to", "state_since", "birth_date")
    table = pa.Table.from_pylist([{k: (dt.date.fromisoformat(r[k]) if k in dates else r[k]) if k in r else None
                                   for k in columns} for r in rows])
    path = tmp_path / "permits.parquet"
    pq.write_table(table, path)
    report = intake.import_file(ctx, ADMIN, path, "work_permits", rejects_dir=tmp_path / "rej")
    assert (report.accepted, report.duplicates, report.rejected) == (4, 0, 0)

    issued = _permit(ctx, "OLD-0001")
    assert re.fullmatch(r"WP-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", issued.reference)
    assert (issued.state, issued.category, issued.valid_from, issued.valid_to, issued.term_months) == (
        "issued", "3", dt.date(2025, 3, 1), dt.date(2026, 2, 28), 12)
    assert _steps(ctx, issued.reference) == [("import", "draft", "issued", dt.date(2025, 2, 20))]
    suspended = _permit(ctx, "OLD-0002")
    assert (suspended.state, suspended.reason_code) == ("suspended", "employer_violation")
    assert _steps(ctx, suspended.reference) == [("import", "draft", "issued", dt.date(2025, 2, 20)),
                                                ("suspend", "issued", "suspended", dt.date(2025, 6, 10))]
    expired = _permit(ctx, "OLD-0003")
    assert [s[0] for s in _steps(ctx, expired.reference)] == ["import", "expire"]
    household = _permit(ctx, "OLD-0004")
    assert (household.state, household.category, household.extensions) == ("extended", "household", 1)
    with ctx.transaction() as s:
        # Issued under the previous system's quota: the ledger is not touched.
        assert s.execute(sa.select(sa.func.count()).select_from(QuotaCell)).scalar_one() == 0
        employers = {e.name: e.kind for e in s.execute(sa.select(Employer)).scalars()}
        assert employers == {"Qurylys LLP": "organisation", "Aigerim Seitova": "individual"}
        basis = {(b.source_event_id.split(":")[1], b.valid_from, b.valid_to) for b in s.execute(
            sa.select(ResidencePermit).where(ResidencePermit.purpose == "work_permit")).scalars()}
    assert (issued.reference, dt.date(2025, 3, 1), dt.date(2026, 2, 28)) in basis
    assert (suspended.reference, dt.date(2025, 3, 1), dt.date(2025, 6, 9)) in basis  # until its suspension
    assert (expired.reference, dt.date(2024, 1, 10), dt.date(2024, 12, 31)) in basis

    # The same permits in another file (CSV): recognised by their external reference, nothing changes.
    again = intake.import_file(ctx, ADMIN, _csv(tmp_path / "permits.csv", rows), "work_permits")
    assert (again.accepted, again.duplicates, again.rejected) == (0, 4, 0)
    assert _count(ctx, WorkPermit) == 4 and _count(ctx, PermitAction) == 6


def test_a_bad_permit_row_is_rejected_with_its_row_and_reason_and_the_others_are_kept(ctx, tmp_path):
    rows = [_permit_row(1), _permit_row(2, employer_bin_or_iin="123456789012"),
            _permit_row(3, channel="household_worker", category=""),  # an organisation's BIN: refused by the service
            _permit_row(4, valid_to="2025-01-01"), _permit_row(5)]
    path = _csv(tmp_path / "permits.csv", rows)
    report = intake.import_file(ctx, ADMIN, path, "work_permits", rejects_dir=tmp_path / "rej", chunk_rows=2)
    assert (report.accepted, report.rejected) == (2, 3)
    rejects = {int(r["row"]): r for r in _rejects(report)}
    assert set(rejects) == {2, 3, 4}
    assert rejects[2]["reason"] == "Employer's BIN or IIN: 123456789012 is neither a valid IIN nor a valid BIN"
    assert rejects[2]["source_event_id"] == "OLD-0002"
    assert rejects[3]["field"] == "employer_bin_or_iin" and "individual employer" in rejects[3]["reason"]
    assert rejects[4]["field"] == "valid_to" and rejects[4]["reason"].startswith("Valid until: ")
    with ctx.transaction() as s:
        refs = set(s.execute(sa.select(WorkPermit.reference)).scalars())
        assert refs == {service.imported_reference("OLD-0001"), service.imported_reference("OLD-0005")}
        # the refused row left nothing behind: no permit, no worker, no employer of its own
        assert s.execute(sa.select(sa.func.count()).select_from(Employer)).scalar_one() == 1
    again = intake.import_file(ctx, ADMIN, path, "work_permits", rejects_dir=tmp_path / "rej")
    assert again.already_imported and _count(ctx, WorkPermit) == 2


def test_the_reference_is_derived_from_the_external_one_and_a_clash_takes_the_next(ctx):
    assert service.imported_reference("OLD-1") == service.imported_reference("OLD-1")
    assert service.imported_reference("OLD-1") != service.imported_reference("OLD-1", 1)
    from kosh.permits.schemas import PermitImportIn

    first = PermitImportIn.model_validate(_permit_row(1))
    with ctx.transaction() as s:
        ref = service.import_permit(s, ctx, ADMIN, first)
        # another external reference whose first hash is taken (a clash, forced here)
        s.execute(sa.update(PermitAction).where(PermitAction.step == "import").values(note="SOMEONE-ELSE"))
        again = service.import_permit(s, ctx, ADMIN, first)
    assert ref == service.imported_reference("OLD-0001")
    assert again == service.imported_reference("OLD-0001", 1)
    with pytest.raises(Forbidden), ctx.transaction() as s:
        service.import_permit(s, ctx, MINISTRY, first)


# --- household prepayments -------------------------------------------------------------------------------

def test_a_payment_file_records_prepayments_and_the_daily_job_restores_the_permit(ctx, tmp_path):
    permits = intake.import_file(ctx, ADMIN, _csv(tmp_path / "permits.csv", [_household_row(1), _permit_row(2)]),
                                 "work_permits")
    assert permits.accepted == 2
    home, firm = service.imported_reference("OLD-0001"), service.imported_reference("OLD-0002")
    with ctx.transaction() as s:
        report = service.run_daily(s, ctx, ADMIN, dt.date(2025, 4, 3))  # March and April begun, unpaid
    assert report.suspended_unpaid == 1 and _permit(ctx, "OLD-0001").state == "suspended"

    rows = [{"permit_reference": home, "month": "2025-03", "amount_kzt": "17300", "paid_on": "2025-03-01",
             "payment_ref": "PAY-1"},
            {"permit_reference": "WP-0000-0000", "month": "2025-03", "amount_kzt": "17300", "paid_on": "2025-03-01",
             "payment_ref": "PAY-2"},
            {"permit_reference": home.lower(), "month": "2025-04", "amount_kzt": "17300", "paid_on": "2025-04-04",
             "payment_ref": "PAY-3"},
            {"permit_reference": firm, "month": "2025-04", "amount_kzt": "17300", "paid_on": "2025-04-04",
             "payment_ref": "PAY-4"},
            {"permit_reference": home, "month": "2025-04", "amount_kzt": "17300", "paid_on": "2025-04-04",
             "payment_ref": "PAY-3"}]  # the same payment reported again
    path = _csv(tmp_path / "payments.csv", rows)
    paid = intake.import_file(ctx, MINISTRY, path, "household_payments", rejects_dir=tmp_path / "rej")
    assert (paid.accepted, paid.duplicates, paid.rejected) == (2, 1, 2)
    rejects = {int(r["row"]): r for r in _rejects(paid)}
    assert set(rejects) == {2, 4}
    assert rejects[2]["field"] == "permit_reference" and rejects[2]["source_event_id"] == "PAY-2"
    assert rejects[2]["reason"] == "Permit reference: No household worker's permit WP-0000-0000"
    assert firm in rejects[4]["reason"]
    with ctx.transaction() as s:
        report = service.run_daily(s, ctx, ADMIN, dt.date(2025, 4, 6))
    assert report.restored_paid == 1 and _permit(ctx, "OLD-0001").state == "issued"

    # Re-importing: the same file is known by its digest; the same rows in JSON Lines add nothing.
    assert intake.import_file(ctx, MINISTRY, path, "household_payments").already_imported
    other = intake.import_file(ctx, MINISTRY, _jsonl(tmp_path / "payments.jsonl", rows), "household_payments",
                               rejects_dir=tmp_path / "rej")
    assert (other.accepted, other.duplicates, other.rejected) == (0, 3, 2)
    with ctx.transaction() as s:
        assert sorted(s.execute(sa.select(HouseholdPayment.payment_ref)).scalars()) == ["PAY-1", "PAY-3"]


def test_kosh_import_takes_the_new_kinds(home, tmp_path):
    from typer.testing import CliRunner

    from kosh.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    path = _csv(tmp_path / "quotas.csv", [{"year": "2026", "region": "75", "category": "3", "allowed": "9"}])
    r = runner.invoke(app, ["import", str(path), "--kind", "quotas"])
    assert r.exit_code == 0, r.output
    assert "1 recorded" in " ".join(r.output.split())


# --- the /import page ------------------------------------------------------------------------------------

def test_the_import_page_offers_the_ministry_its_kinds_and_imports_a_quota_file(ctx, tmp_path):
    from kosh.web.app import create_app

    with ctx.transaction() as s:
        auth.create_user(s, ctx, username="minister", password="a long enough password 1", role="ministry")
    ctx.settings.job_poll_seconds = 0.1
    with TestClient(create_app(ctx)) as c:
        r = c.post("/login", data={"username": "minister", "password": "a long enough password 1"},
                   follow_redirects=False)
        assert r.status_code == 303, r.text
        page = c.get("/import").text
        assert re.findall(r'<option value="([a-z_]+)"', page) == ["quotas", "household_payments"]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        content = (tmp_path / "q.csv")
        _csv(content, [{"year": "2026", "region": "75", "category": "3", "allowed": "15"}])
        r = c.post("/import", data={"kind": "quotas", "csrf_token": token},
                   files={"file": ("q.csv", content.read_bytes(), "text/csv")})
        assert r.status_code == 200, r.text
        refused = c.post("/import", data={"kind": "work_permits", "csrf_token": token},
                         files={"file": ("p.csv", content.read_bytes(), "text/csv")},
                         headers={"accept": "application/problem+json"})
        assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
        deadline = time.monotonic() + 60
        while _cells(ctx) != {(2026, "75", "3"): 15}:
            assert time.monotonic() < deadline, "the import did not finish"
            time.sleep(0.05)
