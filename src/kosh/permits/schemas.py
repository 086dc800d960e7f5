"""What an employer sends: its registered details and an application for named foreign workers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, field_validator

from kosh.people.schemas import Country, DocumentNumber, IdentityFields, RequiredName, Strict
from kosh.platform.words import N_, field_labels

field_labels({
    "channel": N_("Channel"), "occupation": N_("Occupation (ISCO-08 code)"), "vacancy_code": N_("Vacancy code"),
    "vacancy_posted_on": N_("Vacancy posted on"), "certificate": N_("Qualification certificate number"),
    "term_months": N_("Term (months)"), "starts_on": N_("Start date"), "staff_total": N_("Staff after hiring"),
    "staff_citizens": N_("Citizens on the staff"), "first_start": N_("First day of the first such worker"),
    "workers": N_("Workers"), "work_region": N_("Region of work"), "employer_name": N_("Employer's name"),
    "sector": N_("Sector"), "step": N_("Step"), "reason_code": N_("Reason"), "note": N_("Note"),
    "paid_on": N_("Paid on"), "months": N_("Months"),
})

CHANNELS = ("employer_quota", "household_worker", "intra_corporate_transfer", "business_immigrant",
            "independent_employment", "eaeu_contract")
Channel = Literal["employer_quota", "household_worker", "intra_corporate_transfer", "business_immigrant",
                  "independent_employment", "eaeu_contract"]
QuotaCategory = Literal["", "1", "2", "3", "4", "seasonal"]
Sector = Literal["construction", "agriculture", "trade", "oil_gas", "household", "manufacturing", "services",
                 "other"]
SECTORS: dict[str, str] = {
    "construction": N_("construction"), "agriculture": N_("agriculture"), "trade": N_("trade"),
    "oil_gas": N_("oil and gas"), "household": N_("household"), "manufacturing": N_("manufacturing"),
    "services": N_("services"), "other": N_("other"),
}
CHANNEL_WORDS: dict[str, str] = {
    "employer_quota": N_("employer's permit within the quota"),
    "household_worker": N_("household worker's permit"),
    "intra_corporate_transfer": N_("intra-corporate transfer"),
    "business_immigrant": N_("business immigrant"),
    "independent_employment": N_("independent employment (qualification certificate)"),
    "eaeu_contract": N_("EAEU citizen's employment contract"),
}
RegionCode = Annotated[str, Field(pattern=r"^\d{2}$", description="2-digit KATO region code")]


class EmployerIn(Strict):
    employer_name: RequiredName
    region: RegionCode
    sector: Sector = "other"


class WorkerIn(IdentityFields):
    """A named foreign worker and the region of the permit they will work in."""

    document_number: DocumentNumber
    issuing_state: Country
    work_region: RegionCode


class ApplicationIn(Strict):
    channel: Channel
    category: QuotaCategory = ""
    occupation: Annotated[str, Field(pattern=r"^\d{4}$", description="ISCO-08 / NKZ unit group, 4 digits")]
    vacancy_code: Annotated[str, Field(max_length=40)] = ""
    vacancy_posted_on: dt.date | None = None
    certificate: Annotated[str, Field(max_length=40)] = ""
    term_months: Annotated[int, Field(ge=1, le=60)]
    starts_on: dt.date
    staff_total: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    staff_citizens: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    first_start: dt.date | None = None
    workers: list[WorkerIn] = Field(min_length=1, max_length=200)

    @field_validator("vacancy_posted_on", "first_start", mode="before")
    @classmethod
    def _blank(cls, v: object) -> object:
        return None if v == "" else v

    @field_validator("vacancy_code", "certificate")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()


class StepIn(Strict):
    step: Literal["approve", "return", "refuse", "pay_fee", "issue", "extend", "suspend", "restore", "revoke",
                  "request_extension"]
    reason_code: Annotated[str, Field(max_length=30)] = ""
    note: Annotated[str, Field(max_length=500)] = ""
    paid_on: dt.date | None = None
    months: Annotated[int | None, Field(ge=1, le=36)] = None
